"""Make ``silero_reference.npz``: what the real Silero VAD (``silero-vad`` 6.2.3, its ``silero_vad.onnx`` run
by onnxruntime through the package's ``OnnxWrapper``) outputs on real speech, silence and noise, for
``tests/audio/test_silero_vad.py``.

Re-run (from the repository root; needs espeak-ng, and a venv with torch, onnxruntime, scipy and
``silero-vad==6.2.3``)::

    /work/audioref/bin/python tests/audio/data/make_silero_reference.py

The inputs are stored in the file (int16 at 16 kHz; the tests divide by 32768), so Ember gets exactly the
audio the reference got:

* ``speech_<i>``: sentences spoken by espeak-ng (a few voices, speeds and pitches), resampled from 22050 Hz
  to 16 kHz, with silences before, between and after them;
* ``silence``: zeros; ``noise``: white noise then a quiet hum (seeded);
* ``probs_<name>``: the per-chunk speech probabilities (512-sample chunks, ``reset_states()`` between
  streams, the last chunk zero-padded), ``probs8k_speech_0``: the 8 kHz network on ``speech_0[::2]``
  (256-sample chunks), ``probs_batch``: ``speech_0`` and ``speech_1`` cut to one length, run as a batch;
* ``expected``: JSON of the package's ``get_speech_timestamps`` for several settings and of its
  ``VADIterator``'s events (chunk index -> event) on each speech stream.
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile
import torch
from scipy.signal import resample_poly
from silero_vad import VADIterator, get_speech_timestamps, load_silero_vad

OUT = Path(__file__).with_name("silero_reference.npz")
SR = 16000

# (voice, words per minute, pitch, first sentence, second sentence)
UTTERANCES = [
    ("en-us", 160, 50, "Turn the lights off in the kitchen.", "Then lock the front door."),
    ("en-gb+f3", 140, 70, "The weather will be sunny tomorrow.", "Seven, eight, nine."),
    ("en-us+m3", 190, 35, "Please call me back later today.", "Okay."),
]

# get_speech_timestamps settings compared (besides the defaults).
TIMESTAMP_SETTINGS = {
    "default": {},
    "seconds": {"return_seconds": True, "time_resolution": 2},
    "short_silence": {"min_silence_duration_ms": 40, "speech_pad_ms": 10, "min_speech_duration_ms": 100},
    # a pause longer than min_silence_at_max_speech inside a segment too long: cut there
    "max_speech": {"max_speech_duration_s": 2.5, "min_silence_duration_ms": 600},
    "max_speech_legacy": {"max_speech_duration_s": 2.5, "min_silence_duration_ms": 600,
                          "use_max_poss_sil_at_max_speech": False},
    "max_speech_cut": {"max_speech_duration_s": 0.6},   # no pause to cut at: cut where the limit is reached
    "threshold": {"threshold": 0.3, "neg_threshold": 0.2},
}
ITERATOR_SETTINGS = {
    "default": {},
    "short": {"threshold": 0.4, "min_silence_duration_ms": 50, "speech_pad_ms": 10},
}


def espeak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """One sentence from espeak-ng, as float audio at 16 kHz."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp, "out.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text],
                       check=True)
        audio, rate = soundfile.read(wav, dtype="float64")
    assert rate == 22050, rate
    return resample_poly(audio, 320, 441)   # 22050 * 320 / 441 = 16000


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR))


def to_int16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio * 32767 * 0.8 / max(np.abs(audio).max(), 1e-9)), -32768, 32767).astype(np.int16)


def make_inputs() -> dict:
    rng = np.random.default_rng(0)
    streams = {}
    for i, (voice, speed, pitch, first, second) in enumerate(UTTERANCES):
        audio = np.concatenate([silence(0.3), espeak(first, voice, speed, pitch), silence(0.45),
                                espeak(second, voice, speed, pitch), silence(0.3)])
        streams[f"speech_{i}"] = to_int16(audio)
    streams["silence"] = np.zeros(SR // 2, np.int16)
    hum = 0.02 * np.sin(2 * np.pi * 50 * np.arange(SR // 2) / SR)
    noise = np.concatenate([rng.normal(0, 0.1, SR // 2), hum])
    streams["noise"] = np.round(noise * 32767).astype(np.int16)
    return streams


def as_float(stream: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(stream.astype(np.float32) / 32768)


def chunk_probs(model, audio: torch.Tensor, sr: int) -> np.ndarray:
    """Per-chunk probabilities of one stream, ``audio`` ``[samples]`` or ``[batch, samples]``."""
    n = 512 if sr == 16000 else 256
    audio = audio if audio.dim() == 2 else audio[None]
    model.reset_states()
    pad = (-audio.shape[1]) % n
    audio = torch.nn.functional.pad(audio, (0, pad))
    out = [model(audio[:, i:i + n], sr).numpy() for i in range(0, audio.shape[1], n)]
    return np.concatenate(out, axis=1).astype(np.float32)   # [batch, chunks]


def iterator_events(model, audio: torch.Tensor, **settings) -> list:
    it = VADIterator(model, **settings)
    events = []
    for i in range(0, len(audio) - 511, 512):
        event = it(audio[i:i + 512])
        if event:
            events.append([i // 512, event])
    return events


def main() -> None:
    model = load_silero_vad(onnx=True)
    streams = make_inputs()
    data = dict(streams)
    expected = {"timestamps": {}, "iterator": {}, "iterator_seconds": {}}
    for name, stream in streams.items():
        data[f"probs_{name}"] = chunk_probs(model, as_float(stream), SR)[0]
    data["probs8k_speech_0"] = chunk_probs(model, as_float(streams["speech_0"])[::2].contiguous(), 8000)[0]
    n = min(len(streams["speech_0"]), len(streams["speech_1"]))
    data["probs_batch"] = chunk_probs(model, torch.stack([as_float(streams[f"speech_{i}"][:n]) for i in (0, 1)]), SR)
    for name in (k for k in streams if k.startswith("speech_")):
        audio = as_float(streams[name])
        expected["timestamps"][name] = {key: get_speech_timestamps(audio, model, **kw)
                                        for key, kw in TIMESTAMP_SETTINGS.items()}
        expected["iterator"][name] = {key: iterator_events(model, audio, **kw) for key, kw in ITERATOR_SETTINGS.items()}
        it = VADIterator(model)
        expected["iterator_seconds"][name] = [[i // 512, e] for i in range(0, len(audio) - 511, 512)
                                              if (e := it(audio[i:i + 512], return_seconds=True))]
    expected["settings"] = {"timestamps": TIMESTAMP_SETTINGS, "iterator": ITERATOR_SETTINGS}
    data["expected"] = np.array(json.dumps(expected))
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)")
    for name in streams:
        print(name, len(streams[name]) / SR, "s", "max prob", float(data[f"probs_{name}"].max()))
    print(json.dumps(expected["timestamps"]["speech_0"]))


if __name__ == "__main__":
    main()
