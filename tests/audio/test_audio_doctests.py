"""The docstring examples of ember_audio run and print what they show (``ember.testing.check_docstring_examples``:
``--doctest-modules`` with ``ember``, ``np`` and ``ember_audio`` preloaded), from a scratch directory, offline."""
import ember_audio
from ember.testing import check_docstring_examples


def test_docstring_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    # I/O and dataset examples spell the package's own name, as users write them.
    assert check_docstring_examples("ember_audio", extraglobs={"ember_audio": ember_audio}) > 60
