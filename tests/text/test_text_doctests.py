"""The docstring examples of ember_text run and print what they show (``ember.testing.check_docstring_examples``:
``--doctest-modules`` with ``ember`` and ``np`` preloaded), from a scratch directory, offline: examples that
need a download or a user's files are marked ``# doctest: +SKIP``, and ``EMBER_OFFLINE=1`` makes any that
isn't fail instead of downloading."""
from ember.testing import check_docstring_examples


def test_docstring_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    assert check_docstring_examples("ember_text") > 100
