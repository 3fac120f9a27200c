"""The docstring examples of ember_metrics run and print what they show (``ember.testing.check_docstring_examples``:
``--doctest-modules`` with ``ember`` and ``np`` preloaded), from a scratch directory."""
from ember.testing import check_docstring_examples


def test_docstring_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    assert check_docstring_examples("ember_metrics") > 20
