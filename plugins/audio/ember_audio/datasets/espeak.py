"""A real speech set made offline: spoken digits and command words synthesised with espeak-ng, in Speech
Commands' layout, so :class:`SPEECHCOMMANDS` (and any folder-per-class reader) reads it.

    $ python -m ember_audio.datasets generate espeak_commands      # into $EMBER_HOME/datasets/espeak_commands

Each *speaker* is an espeak-ng voice (an English accent with a voice variant: ``en-gb-scotland+f3``) at a speed
and pitch, drawn deterministically from ``seed``; each says every word once. Clips are 16 kHz mono 16-bit WAV,
1 s long: espeak-ng's 22,050 Hz output trimmed of its silence, resampled (band-limited, by FFT) and placed at
a seeded offset in one second of silence. ``validation_list.txt`` and ``testing_list.txt`` hold out whole
*voices* (accent + variant, at every speed and pitch), so their accuracy measures how a model generalises to
voices it never heard. ``speakers.json`` records every speaker's voice, speed, pitch and subset, and the
espeak-ng version (the same seed and version give the same clips).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

import ember

from ember.plugins.datasets import StandardTransform, dataset_repr

from .._io import load, save
from .speechcommands import HASH_DIVIDER, SPEECHCOMMANDS
from .utils import DatasetNotFoundError, default_root

__all__ = ["EspeakCommands", "EspeakKeywords", "generate_espeak_commands", "WORDS", "FOLDER", "GENERATE_COMMAND", "espeak_available"]

FOLDER = "espeak_commands"
GENERATE_COMMAND = "python -m ember_audio.datasets generate espeak_commands"
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
         "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SAMPLE_RATE = 16000
CLIP_FRAMES = 16000
# espeak-ng's own English voices (not the MBROLA ones, which need the mbrola program and its voice files).
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
           "en-us-nyc")
# Human-sounding variants (the robots, whispers and effects are left out).
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3",
            "adam", "alicia", "andy", "annie", "benjamin", "david", "ed", "edward", "linda", "max", "paul", "rob",
            "robert", "steph", "travis", "victor", "grandpa", "grandma", "shelby", "norbert")
SPEEDS = (110, 220)      # words per minute (espeak-ng's default is 175)
PITCHES = (15, 85)       # 0..99 (default 50)
_SILENCE = 0.02          # a frame is speech above this fraction of the clip's peak
_INSTALL = "install it (Debian/Ubuntu: apt-get install espeak-ng)"


@dataclass(frozen=True)
class Speaker:
    voice: str            # accent + variant: what the splits hold out
    speed: int
    pitch: int
    subset: str

    @property
    def id(self) -> str:
        """Eight hex digits (Speech Commands' speaker ids look the same)."""
        return hashlib.sha1(f"{self.voice}|s{self.speed}|p{self.pitch}".encode()).hexdigest()[:8]


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _installed_variants() -> set[str]:
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    return {line.split()[4].split("/")[-1] for line in out.splitlines()[1:] if len(line.split()) > 4}


def choose_speakers(num_voices: int, per_voice: int, seed: int, held_out: float,
                    variants: tuple[str, ...] = VARIANTS, exclude_voices=()) -> list[Speaker]:
    """``num_voices`` distinct voices (accent + variant), each at ``per_voice`` speeds/pitches, drawn from
    ``seed``; a fraction ``held_out`` of the voices goes to validation and as many to testing. Voices in
    ``exclude_voices`` are never drawn (a pretraining set that keeps another set's voices unheard)."""
    rng = np.random.default_rng(seed)
    excluded = set(exclude_voices)
    pairs = [f"{a}+{v}" for a in ACCENTS for v in variants if f"{a}+{v}" not in excluded]
    if num_voices > len(pairs):
        raise ValueError(f"num_voices={num_voices}: only {len(pairs)} accent+variant voices are available")
    voices = [pairs[i] for i in rng.permutation(len(pairs))[:num_voices]]
    n_held = max(1, round(held_out * num_voices)) if num_voices >= 3 else 0
    subsets = ["validation"] * n_held + ["testing"] * n_held + ["training"] * (num_voices - 2 * n_held)
    speakers = []
    for voice, subset in zip(voices, subsets):
        for _ in range(per_voice):
            speakers.append(Speaker(voice, int(rng.integers(SPEEDS[0], SPEEDS[1] + 1)),
                                    int(rng.integers(PITCHES[0], PITCHES[1] + 1)), subset))
    return speakers


def resample_fft(x: np.ndarray, orig: int, new: int) -> np.ndarray:
    """Band-limited resampling of a 1-D signal by zero-padding or truncating its spectrum (exact for signals
    periodic over the clip; the clips here start and end in silence)."""
    n = len(x)
    m = int(round(n * new / orig))
    if m == n or n == 0:
        return x.astype(np.float32)
    spectrum = np.fft.rfft(x.astype(np.float64))
    keep = min(len(spectrum), m // 2 + 1)
    out = np.zeros(m // 2 + 1, np.complex128)
    out[:keep] = spectrum[:keep]
    return (np.fft.irfft(out, m) * (m / n)).astype(np.float32)


def _synthesise(word: str, speaker: Speaker, workdir: str) -> tuple[np.ndarray, int]:
    path = os.path.join(workdir, f"{speaker.id}-{word}.wav")
    subprocess.run(["espeak-ng", "-v", speaker.voice, "-s", str(speaker.speed), "-p", str(speaker.pitch),
                    "-w", path, word], check=True, capture_output=True)
    waveform, rate = load(path)
    os.unlink(path)
    return waveform.numpy()[0], rate


def make_clip(x: np.ndarray, rate: int, rng) -> np.ndarray:
    """A 1 s 16 kHz clip of speech ``x``: silence trimmed, resampled, placed at a random offset (cropped to
    1 s if longer), peak-normalised to 0.9 with a random gain of up to -6 dB."""
    loud = np.flatnonzero(np.abs(x) > _SILENCE * max(float(np.abs(x).max()), 1e-9))
    x = x[loud[0]: loud[-1] + 1] if loud.size else x
    x = resample_fft(x, rate, SAMPLE_RATE)[:CLIP_FRAMES]
    clip = np.zeros(CLIP_FRAMES, np.float32)
    start = int(rng.integers(0, CLIP_FRAMES - len(x) + 1))
    clip[start: start + len(x)] = x
    peak = float(np.abs(clip).max())
    gain = 0.9 * 10 ** (-rng.uniform(0, 6) / 20) / peak if peak > 0 else 0.0
    return (clip * gain).astype(np.float32)


def _write_speaker(speaker: Speaker, folder: str, workdir: str, seed: int) -> list[str]:
    names = []
    for word in WORDS:
        x, rate = _synthesise(word, speaker, workdir)
        rng = np.random.default_rng([seed, int(speaker.id, 16), WORDS.index(word)])
        name = f"{word}/{speaker.id}{HASH_DIVIDER}0.wav"
        save(os.path.join(folder, name), ember.from_numpy(make_clip(x, rate, rng)[None]), SAMPLE_RATE,
             bits_per_sample=16)
        names.append(name)
    return names


def generate_espeak_commands(root: str | os.PathLike | None = None, num_voices: int = 16, per_voice: int = 2,
                             seed: int = 0, held_out: float = 0.15, force: bool = False,
                             workers: int | None = None, exclude_voices=()) -> str:
    """Synthesise the set into ``root/espeak_commands`` (``root`` defaults to ``$EMBER_HOME/datasets``) and
    return that folder. An existing set is kept unless ``force``; the set is written next to it and renamed
    into place, so a half-written set is never left under the final name.

    The defaults make 16 voices x 2 speeds/pitches x 20 words = 640 clips (about 20 s on two cores).
    ``exclude_voices`` (accent+variant names) are left out of the draw.
    """
    if not espeak_available():
        raise RuntimeError(f"espeak-ng is not installed: {_INSTALL}, then run {GENERATE_COMMAND}")
    root = os.fspath(root) if root is not None else default_root()
    final = os.path.join(root, FOLDER)
    if os.path.isdir(final) and not force:
        return final
    variants = tuple(v for v in VARIANTS if v in _installed_variants())
    speakers = choose_speakers(num_voices, per_voice, seed, held_out, variants, exclude_voices)
    os.makedirs(root, exist_ok=True)
    staging = tempfile.mkdtemp(dir=root, prefix=f".{FOLDER}-")
    try:
        for word in WORDS:
            os.makedirs(os.path.join(staging, word))
        with tempfile.TemporaryDirectory() as work, ThreadPoolExecutor(workers or os.cpu_count() or 2) as pool:
            written = list(pool.map(lambda s: _write_speaker(s, staging, work, seed), speakers))
        for subset in ("validation", "testing"):
            lines = sorted(n for s, names in zip(speakers, written) if s.subset == subset for n in names)
            with open(os.path.join(staging, f"{subset}_list.txt"), "w") as f:
                f.write("".join(line + "\n" for line in lines))
        version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
        manifest = {"seed": seed, "espeak_ng": version, "words": list(WORDS), "sample_rate": SAMPLE_RATE,
                    "clip_frames": CLIP_FRAMES, "speakers": [{"id": s.id, **asdict(s)} for s in speakers]}
        with open(os.path.join(staging, "speakers.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        if os.path.isdir(final):
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


class EspeakCommands(SPEECHCOMMANDS):
    """The espeak-ng speech set (see the module), read as :class:`SPEECHCOMMANDS`: samples are ``(waveform,
    sample_rate, label, speaker_id, utterance_number)``; ``subset`` picks training, validation or testing voices.

    Args:
        root: the folder holding ``espeak_commands`` (default ``$EMBER_HOME/datasets``).
        subset: ``None``, ``"training"``, ``"validation"`` or ``"testing"``.
        download: synthesise the set when it is missing (espeak-ng runs locally: nothing is downloaded).

    A missing set raises :class:`DatasetNotFoundError` with the command that makes it.
    """

    def __init__(self, root: str | os.PathLike | None = None, subset: str | None = None,
                 download: bool = False) -> None:
        root = os.fspath(root) if root is not None else default_root()
        if not os.path.isdir(os.path.join(root, FOLDER)):
            if not download:
                raise DatasetNotFoundError(f"{os.path.join(root, FOLDER)} doesn't exist: make it with "
                                           f"`{GENERATE_COMMAND}` (needs espeak-ng), or pass download=True")
            generate_espeak_commands(root)
        super().__init__(root, url=FOLDER, folder_in_archive="", subset=subset)


class EspeakKeywords:
    """The espeak-ng speech set as a classification dataset: ``(waveform [1, 16000], class index)`` samples, the
    classes the 20 words in sorted order (``classes``, ``class_to_idx``, ``targets``), ``split`` ``"train"``,
    ``"valid"`` or ``"test"`` (the training, validation and testing voices). What ``ember finetune MODEL
    audio:espeak_keywords`` trains on: its test split (voices never heard in training) is the validation data.

    Args:
        root, download: as :class:`EspeakCommands`.
        split: ``"train"``, ``"valid"`` or ``"test"``.
        transform, target_transform: applied to the waveform and to the class index.
    """

    splits = ("train", "valid", "test")
    _SUBSETS = {"train": "training", "valid": "validation", "test": "testing"}

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train", transform=None,
                 target_transform=None, download: bool = False) -> None:
        if split not in self._SUBSETS:
            raise ValueError(f"split must be one of {self.splits}, got {split!r}")
        self.speech = EspeakCommands(root, subset=self._SUBSETS[split], download=download)
        self.root, self.split = self.speech.root, split
        self.transforms = StandardTransform(transform, target_transform)
        self.classes = sorted(WORDS)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.targets = [self.class_to_idx[self.speech.get_metadata(i)[2]] for i in range(len(self.speech))]

    def __getitem__(self, index: int):
        return self.transforms(self.speech[index][0], self.targets[index])

    def __len__(self) -> int:
        return len(self.targets)

    def extra_repr(self) -> str:
        return f"Split: {self.split}"

    def __repr__(self) -> str:
        return dataset_repr(self)
