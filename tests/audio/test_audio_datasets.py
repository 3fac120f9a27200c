"""ember-audio's datasets: SPEECHCOMMANDS and YESNO on their on-disk layouts (torchaudio's items), AudioFolder and
ClipFolder (classes, fixed length, mono, errors), pad_collate, the registry, the espeak-ng speech set (skipped,
with the command to run, where espeak-ng is missing), and ``ember finetune MODEL audiofolder:DIR`` end to end with
a tiny conv model on generated tone clips, then ``ember predict`` on a file.
"""
from __future__ import annotations

import json
import os
import types

import numpy as np
import pytest

import ember
import ember.cli
import ember_audio
from ember import nn
from ember.plugins import RegistrationTable, hookimpl
from ember.utils.data import DataLoader
from ember_audio import datasets
from ember_audio.datasets import (AudioFolder, ClipFolder, DatasetFormatError, DatasetNotFoundError, EspeakCommands,
                                  SPEECHCOMMANDS, YESNO, fix_length, pad_collate, pad_waveforms, read_clip)
from ember_audio.datasets import espeak

needs_espeak = pytest.mark.skipif(not espeak.espeak_available(),
                                  reason=f"espeak-ng is not installed: apt-get install espeak-ng, then "
                                         f"`{espeak.GENERATE_COMMAND}`")


def write_clip(path, frames, rate=16000, channels=1, value=None, seed=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    x = np.full((channels, frames), value, np.float32) if value is not None else \
        rng.uniform(-0.5, 0.5, (channels, frames)).astype(np.float32)
    ember_audio.save(path, ember.from_numpy(x), rate, bits_per_sample=16)
    return path


# ---- SPEECHCOMMANDS ----------------------------------------------------------------------------------------

@pytest.fixture
def speech_root(tmp_path):
    """Speech Commands' layout with 7 clips of 3 words, background noise and both split lists."""
    base = tmp_path / "SpeechCommands" / "speech_commands_v0.02"
    clips = ["yes/aa11_nohash_0.wav", "yes/aa11_nohash_1.wav", "yes/bb22_nohash_0.wav", "no/aa11_nohash_0.wav",
             "no/cc33_nohash_2.wav", "up/bb22_nohash_0.wav", "up/dd44_nohash_0.wav"]
    for i, name in enumerate(clips):
        write_clip(str(base / name), 100 + 10 * i, seed=i)
    write_clip(str(base / "_background_noise_" / "white_noise.wav"), 50)
    write_clip(str(base / "_background_noise_" / "x_nohash_0.wav"), 50)   # a noise clip named like a sample
    (base / "validation_list.txt").write_text("no/cc33_nohash_2.wav\nup/dd44_nohash_0.wav\n")
    (base / "testing_list.txt").write_text("yes/bb22_nohash_0.wav\n")
    (base / "LICENSE").write_text("not a clip")
    return tmp_path, clips


def test_speechcommands_layout_subsets_and_items(speech_root):
    root, clips = speech_root
    counts = {s: len(SPEECHCOMMANDS(root, subset=s)) for s in (None, "training", "validation", "testing")}
    assert counts == {None: 7, "training": 4, "validation": 2, "testing": 1}
    ds = SPEECHCOMMANDS(str(root))
    waveform, rate, label, speaker, number = ds[sorted(clips).index("no/cc33_nohash_2.wav")]
    assert (rate, label, speaker, number) == (16000, "no", "cc33", 2)
    assert waveform.dtype == ember.float32 and waveform.shape == (1, 100 + 10 * clips.index("no/cc33_nohash_2.wav"))
    relpath = ds.get_metadata(0)[0]
    assert relpath == os.path.join("speech_commands_v0.02", "no", "aa11_nohash_0.wav")
    train = SPEECHCOMMANDS(root, subset="training")
    assert sorted(train.get_metadata(i)[2] + "/" + train.get_metadata(i)[3] for i in range(len(train))) == \
        ["no/aa11", "up/bb22", "yes/aa11", "yes/aa11"]
    assert "Subset: training" in repr(train) and "Number of datapoints: 4" in repr(train)


def test_speechcommands_errors(speech_root, tmp_path):
    root, _ = speech_root
    with pytest.raises(RuntimeError, match="speech_commands_v0.01 doesn't exist.*download=True"):
        SPEECHCOMMANDS(root, url="speech_commands_v0.01")
    with pytest.raises(ValueError, match="subset must be one of"):
        SPEECHCOMMANDS(root, subset="train")
    (root / "SpeechCommands" / "speech_commands_v0.02" / "testing_list.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match="testing_list.txt is missing"):
        SPEECHCOMMANDS(root, subset="training")
    write_clip(str(root / "SpeechCommands" / "speech_commands_v0.02" / "go" / "ee55_nohash_0.wav"), 80, rate=8000)
    ds = SPEECHCOMMANDS(root)
    with pytest.raises(DatasetFormatError, match="ee55_nohash_0.wav: sample rate should be 16000 Hz"):
        ds[[ds.get_metadata(i)[2] for i in range(len(ds))].index("go")]


def test_speechcommands_offline_download_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match="EMBER_OFFLINE"):
        SPEECHCOMMANDS(tmp_path, download=True)
    assert not (tmp_path / "SpeechCommands" / "speech_commands_v0.02").exists()   # no empty folder left


def test_download_extracts_an_archive_already_there(speech_root, tmp_path, monkeypatch):
    import tarfile
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    src, _ = speech_root
    root = tmp_path / "fresh"
    os.makedirs(root / "SpeechCommands")
    with tarfile.open(root / "SpeechCommands" / "my_commands.tar.gz", "w:gz") as tar:   # no top folder, as Google's
        base = src / "SpeechCommands" / "speech_commands_v0.02"
        for name in sorted(os.listdir(base)):
            tar.add(base / name, arcname=name)
    ds = SPEECHCOMMANDS(root, url="https://example.invalid/my_commands.tar.gz", download=True, subset="validation")
    assert len(ds) == 2 and ds[0][2] == "no"
    assert sorted(os.listdir(root / "SpeechCommands")) == ["my_commands", "my_commands.tar.gz"]


def test_yesno_items(tmp_path):
    for name in ("0_1_0_0_1_0_1_1", "1_1_1_1_0_0_0_0"):
        write_clip(str(tmp_path / "waves_yesno" / f"{name}.wav"), 120, rate=8000)
    ds = YESNO(tmp_path)
    waveform, rate, labels = ds[0]
    assert len(ds) == 2 and rate == 8000 and labels == [0, 1, 0, 0, 1, 0, 1, 1] and waveform.shape == (1, 120)
    with pytest.raises(RuntimeError, match="waves_yesno doesn't exist"):
        YESNO(tmp_path / "elsewhere")
    write_clip(str(tmp_path / "waves_yesno" / "maybe.wav"), 10, rate=8000)
    with pytest.raises(DatasetFormatError, match="maybe.wav: the name should be the 0/1 words"):
        YESNO(tmp_path)[2]


# ---- AudioFolder / ClipFolder ------------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "clips"
    write_clip(str(root / "dog" / "a.wav"), 300, seed=1)
    write_clip(str(root / "dog" / "more" / "b.flac"), 900, seed=2)
    write_clip(str(root / "cat" / "c.wav"), 500, channels=2, seed=3)
    (root / "cat" / "notes.txt").write_text("not a clip")
    os.makedirs(root / ".cache")                  # hidden: not a class
    return root


def test_audio_folder_classes_samples_and_lengths(folder):
    ds = AudioFolder(folder)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert [os.path.relpath(p, folder) for p, _ in ds.samples] == ["cat/c.wav", "dog/a.wav", "dog/more/b.flac"]
    assert ds.targets == [0, 1, 1] and len(ds) == 3
    assert [tuple(ds[i][0].shape) for i in range(3)] == [(2, 500), (1, 300), (1, 900)]
    fixed = AudioFolder(folder, num_frames=400, mono=True)
    full, _ = AudioFolder(folder)[0]
    x, y = fixed[0]
    assert x.shape == (1, 400) and y == 0
    np.testing.assert_allclose(x.numpy()[0], full.numpy().mean(0)[:400], rtol=1e-6)   # cropped, mixed down
    padded = fixed[1][0].numpy()[0]
    np.testing.assert_array_equal(padded[300:], 0)                                    # padded with zeros
    np.testing.assert_array_equal(padded[:300], AudioFolder(folder)[1][0].numpy()[0])
    tf = AudioFolder(folder, transform=lambda w: w * 2, target_transform=lambda t: t + 10, num_frames=10)
    assert tf[1][1] == 11 and float(tf[1][0].abs().max()) > 0
    assert "Frames: 10" in repr(tf) and "Transform:" in repr(tf)


def test_clip_folder_defaults_and_read_clip(folder):
    ds = ClipFolder(folder)
    assert all(ds[i][0].shape == (1, 16000) for i in range(len(ds)))
    clip = read_clip(folder / "cat" / "c.wav")
    np.testing.assert_array_equal(clip.numpy(), ds[0][0].numpy())


def test_audio_folder_resamples_through_functional(folder, monkeypatch):
    functional = types.SimpleNamespace()
    monkeypatch.setattr("importlib.import_module", lambda name: functional)
    with pytest.raises(DatasetFormatError, match="a.wav: sample rate 16000 Hz, expected 8000 Hz"):
        AudioFolder(folder, sample_rate=8000)[1]
    functional.resample = lambda w, orig, new: w[..., ::orig // new]
    assert AudioFolder(folder, sample_rate=8000)[1][0].shape == (1, 150)


def test_audio_folder_errors(tmp_path, folder):
    with pytest.raises(DatasetNotFoundError, match="nowhere: no such directory"):
        AudioFolder(tmp_path / "nowhere")
    os.makedirs(tmp_path / "flat")
    write_clip(str(tmp_path / "flat" / "a.wav"), 10)
    no_classes = r"Couldn't find any class folder in .*flat \(expected .*flat/<class>/<clip>\.wav\)"
    with pytest.raises(DatasetNotFoundError, match=no_classes):
        AudioFolder(tmp_path / "flat")
    os.makedirs(folder / "bird")
    (folder / "bird" / "readme.md").write_text("no clips yet")
    no_clips = r"Found no valid file for the classes bird\. Supported extensions are: \.wav, .*/<class>/<clip>\.wav"
    with pytest.raises(FileNotFoundError, match=no_clips):
        AudioFolder(folder)
    assert AudioFolder(folder, allow_empty=True).classes == ["bird", "cat", "dog"]
    with pytest.raises(ValueError, match="num_frames must be a positive"):
        AudioFolder(folder, num_frames=0, allow_empty=True)


def test_fix_length():
    x = ember.arange(10.0).reshape(2, 5)
    assert ember.equal(fix_length(x, 5), x)
    assert fix_length(x, 3).tolist() == [[0, 1, 2], [5, 6, 7]]
    assert fix_length(x[:, ::2], 4).tolist() == [[0, 2, 4, 0], [5, 7, 9, 0]]   # a strided view
    assert fix_length(ember.zeros(2, 0), 2).shape == (2, 2)
    with pytest.raises(ValueError):
        fix_length(x, -1)


# ---- batching ----------------------------------------------------------------------------------------------

def test_pad_collate_pads_to_the_longest_and_returns_lengths():
    base = ember.arange(24.0).reshape(2, 12)
    samples = [(base[:, :5], 1, "yes"), (base.t().t()[:, ::3], 0, "no"), (base[:1, :7].expand(2, 7), 2, "up")]
    waveforms, labels, words, lengths = pad_collate(samples)
    assert waveforms.shape == (3, 2, 7) and waveforms.dtype == ember.float32
    assert lengths.tolist() == [5, 4, 7] and lengths.dtype == ember.int64
    assert labels.tolist() == [1, 0, 2] and words == ["yes", "no", "up"]
    assert waveforms[1, 0].tolist() == [0, 3, 6, 9, 0, 0, 0]
    bare, bare_lengths = datasets.PadCollate(padding_value=-1.0)([ember.ones(3), ember.ones(1)])
    assert bare.tolist() == [[1, 1, 1], [1, -1, -1]] and bare_lengths.tolist() == [3, 1]
    with pytest.raises(ValueError, match="same channels"):
        pad_waveforms([ember.zeros(1, 4), ember.zeros(2, 4)])
    with pytest.raises(ValueError, match="empty batch"):
        pad_collate([])


def test_pad_collate_in_a_dataloader(folder):
    loader = DataLoader(AudioFolder(folder, mono=True), batch_size=3, collate_fn=pad_collate)
    waveforms, targets, lengths = next(iter(loader))
    assert waveforms.shape == (3, 1, 900) and targets.tolist() == [0, 1, 1] and lengths.tolist() == [500, 300, 900]


# ---- registry ----------------------------------------------------------------------------------------------

def test_registered_datasets():
    entries = {e.name: e for e in ember.plugins.get_registry("datasets").entries() if e.plugin == "audio"}
    assert set(entries) == {"speechcommands", "yesno", "espeak_commands", "espeak_keywords", "audio_folder",
                            "clip_folder"}
    assert entries["clip_folder"].metadata["data_spec"] == "audiofolder"
    assert entries["clip_folder"].metadata["reader"] is read_clip
    assert {e.metadata["task"] for e in entries.values()} <= set(ember.plugins.TASKS)
    with pytest.raises(DatasetNotFoundError, match=espeak.GENERATE_COMMAND):
        ember.hub.get_dataset("audio:espeak_commands", root="/nonexistent/datasets")


# ---- the espeak-ng speech set ------------------------------------------------------------------------------

def test_speakers_are_deterministic_and_voices_held_out():
    a = espeak.choose_speakers(10, 3, seed=5, held_out=0.2)
    assert a == espeak.choose_speakers(10, 3, seed=5, held_out=0.2) != espeak.choose_speakers(10, 3, 6, 0.2)
    by_subset = {s: {sp.voice for sp in a if sp.subset == s} for s in ("training", "validation", "testing")}
    assert [len(v) for v in by_subset.values()] == [6, 2, 2]
    assert not (by_subset["training"] & by_subset["validation"]) and not (by_subset["training"] & by_subset["testing"])
    assert len({sp.id for sp in a}) == 30
    assert all(espeak.SPEEDS[0] <= sp.speed <= espeak.SPEEDS[1] and espeak.PITCHES[0] <= sp.pitch <= espeak.PITCHES[1]
               for sp in a)


def test_fft_resampling_keeps_a_tone():
    t = np.arange(22050) / 22050
    y = espeak.resample_fft(np.sin(2 * np.pi * 440 * t), 22050, 16000)
    assert len(y) == 16000 and y.dtype == np.float32
    np.testing.assert_allclose(y, np.sin(2 * np.pi * 440 * np.arange(16000) / 16000), atol=1e-6)


@pytest.fixture(scope="module")
def espeak_root(tmp_path_factory):
    """A small generated set (3 voices x 1 speed/pitch x 20 words: one voice per subset)."""
    if not espeak.espeak_available():
        pytest.skip(f"espeak-ng is not installed: apt-get install espeak-ng, then `{espeak.GENERATE_COMMAND}`")
    root = tmp_path_factory.mktemp("espeak")
    espeak.generate_espeak_commands(root, num_voices=3, per_voice=1, seed=1)
    return root


@needs_espeak
def test_generated_set_reads_as_speechcommands(espeak_root):
    folder = str(espeak_root / "espeak_commands")
    assert sorted(n for n in os.listdir(folder) if os.path.isdir(os.path.join(folder, n))) == sorted(espeak.WORDS)
    manifest = json.loads((espeak_root / "espeak_commands" / "speakers.json").read_text())
    subsets = {s["id"]: s["subset"] for s in manifest["speakers"]}
    assert sorted(subsets.values()) == ["testing", "training", "validation"]
    for subset in ("training", "validation", "testing"):
        ds = EspeakCommands(espeak_root, subset=subset)
        assert len(ds) == 20
        speakers = {ds.get_metadata(i)[3] for i in range(len(ds))}
        assert {subsets[s] for s in speakers} == {subset}                     # split by voice
    waveform, rate, label, speaker, number = EspeakCommands(espeak_root, subset="testing")[0]
    assert waveform.shape == (1, 16000) and rate == 16000 and label in espeak.WORDS and number == 0
    assert 0.3 < float(waveform.abs().max()) <= 0.9 + 1e-4                   # speech, peak-normalised
    speech = np.flatnonzero(np.abs(waveform.numpy()[0]) > 0.02)
    assert 1600 < speech[-1] - speech[0] < 16000                              # a word: between 0.1 s and 1 s
    assert AudioFolder(folder).classes == sorted(espeak.WORDS)                # any folder reader reads it too
    before = os.path.getmtime(os.path.join(folder, "speakers.json"))
    assert espeak.generate_espeak_commands(espeak_root, num_voices=3, per_voice=1, seed=1) == folder
    assert os.path.getmtime(os.path.join(folder, "speakers.json")) == before  # an existing set is kept


@needs_espeak
def test_a_speaker_is_synthesised_identically(espeak_root, tmp_path):
    manifest = json.loads((espeak_root / "espeak_commands" / "speakers.json").read_text())
    assert manifest["espeak_ng"].startswith("eSpeak NG")
    first = manifest["speakers"][0]
    speaker = espeak.Speaker(first["voice"], first["speed"], first["pitch"], first["subset"])
    assert speaker.id == first["id"]
    for word in espeak.WORDS:
        os.makedirs(tmp_path / word)
    names = espeak._write_speaker(speaker, str(tmp_path), str(tmp_path), seed=1)
    for name in names:
        assert (tmp_path / name).read_bytes() == (espeak_root / "espeak_commands" / name).read_bytes(), name


@needs_espeak
def test_espeak_keywords_for_classification(espeak_root, tmp_path, tiny_audio_model):
    test = ember.hub.get_dataset("audio:espeak_keywords", root=str(espeak_root), split="test")
    assert test.classes == sorted(espeak.WORDS) and sorted(test.targets) == list(range(20))
    waveform, target = test[3]
    assert waveform.shape == (1, 16000) and test.classes[target] == test.speech.get_metadata(3)[2]
    with pytest.raises(ValueError, match="split must be one of"):
        datasets.EspeakKeywords(espeak_root, split="validation")
    # As fine-tuning DATA: training voices to train, the test split (unheard voices) to validate.
    summary = ember.finetune(tiny_audio_model, "audio:espeak_keywords", data_options={"root": str(espeak_root)},
                             weights=None, epochs=1, batch_size=10, out=str(tmp_path / "kws"), plots=False, quiet=True)
    assert summary["classes"] == sorted(espeak.WORDS)
    assert summary["best"]["val_accuracy"] is not None and (tmp_path / "kws" / "summary.json").exists()


def test_missing_espeak_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(espeak.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install espeak-ng"):
        espeak.generate_espeak_commands(tmp_path)
    from ember_audio.datasets.__main__ import main
    assert main(["generate", "espeak_commands", "--root", str(tmp_path)]) == 1


# ---- ember finetune MODEL audiofolder:DIR ------------------------------------------------------------------

class TinyConv(nn.Module):
    """A 1 s waveform ``[B, 1, 16000]`` -> a learned filter bank -> mean energy per filter -> classes."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(1, 8, 64, stride=32), nn.ReLU(), nn.AdaptiveAvgPool1d(1),
                                      nn.Flatten())
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(self.features(x))


@pytest.fixture
def tiny_audio_model():
    models = RegistrationTable("models", task="audio-classification")
    models.add("tiny_conv", lambda num_classes=3, weights=None: TinyConv(num_classes), head="fc")
    module = types.SimpleNamespace(ember_register_models=hookimpl(lambda registry: registry.add_all(models)))
    ember.plugins.register(module, name="audiotest")
    yield "audiotest:tiny_conv"
    ember.plugins.unregister("audiotest")


TONES = {"high": (3000, 3800), "low": (200, 400), "mid": (1000, 1500)}


def tone_folder(root, per_class=10, seed=0):
    """Clips of a tone per class (frequency drawn from the class's band), of various lengths and levels."""
    rng = np.random.default_rng(seed)
    for label, (lo, hi) in TONES.items():
        for i in range(per_class):
            frames = int(rng.integers(8000, 20000))
            t = np.arange(frames) / 16000
            x = rng.uniform(0.2, 0.8) * np.sin(2 * np.pi * rng.uniform(lo, hi) * t + rng.uniform(0, 6))
            x = x + 0.02 * rng.standard_normal(frames)
            os.makedirs(root / label, exist_ok=True)
            ember_audio.save(root / label / f"{i}.wav", ember.from_numpy(x[None].astype(np.float32)), 16000)
    return root


def test_finetune_audiofolder_end_to_end(tmp_path, tiny_audio_model, capsys):
    data = tone_folder(tmp_path / "tones")
    out = tmp_path / "out"
    argv = ["finetune", tiny_audio_model, f"audiofolder:{data}", "--weights", "none", "--epochs", "6",
            "--batch-size", "8", "--lr", "0.05", "--val-split", "0.3", "--seed", "0", "--no-plots", "--out", str(out),
            "--quiet"]
    assert ember.cli.main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["classes"] == ["high", "low", "mid"]
    assert summary["best"]["val_accuracy"] >= 0.8          # three tone bands apart: easy for a filter bank
    clip = tmp_path / "probe.wav"
    t = np.arange(12000) / 16000
    ember_audio.save(clip, ember.from_numpy((0.5 * np.sin(2 * np.pi * 300 * t))[None].astype(np.float32)), 16000)
    capsys.readouterr()
    assert ember.cli.main(["predict", str(out), str(clip), "--json"]) == 0   # read by ClipFolder's reader
    assert json.loads(capsys.readouterr().out)[0]["label"] == "low"


def test_finetune_audiofolder_errors(tmp_path, tiny_audio_model):
    root = tone_folder(tmp_path / "tones", per_class=2)
    os.makedirs(root / "silence")
    with pytest.raises(FileNotFoundError, match="classes silence"):
        ember.finetune(tiny_audio_model, f"audiofolder:{root}", weights=None, out=str(tmp_path / "o"), quiet=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ember.finetune(tiny_audio_model, f"audiofolder:{tmp_path / 'none'}", weights=None, out=str(tmp_path / "o"),
                       quiet=True)


def test_docstring_examples(tmp_path, monkeypatch):
    from ember.testing import check_docstring_examples
    monkeypatch.chdir(tmp_path)
    assert check_docstring_examples("ember_audio.datasets", extraglobs={"ember_audio": ember_audio}) >= 15
