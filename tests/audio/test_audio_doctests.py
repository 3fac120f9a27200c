"""The docstring examples of ember_audio run and print what they show (``ember.testing.check_docstring_examples``:
``--doctest-modules`` with ``ember`` and ``np`` preloaded), from a scratch directory, offline."""
from ember.testing import check_docstring_examples


def test_docstring_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    assert check_docstring_examples("ember_audio") > 60
