"""Docstring examples as tests: every ``>>>`` example of a package's modules must run and print what it shows.

>>> from ember.testing import check_docstring_examples
>>> check_docstring_examples("ember.plugins.tasks") > 0    # the number of examples run
True

Examples see ``ember`` and ``np`` (NumPy) without importing them, as PyTorch's documentation assumes
``torch``; anything else they use they define. Examples that need the network or files a user has
(``MNIST("data", download=True)``) are marked ``# doctest: +SKIP``. Run it from a scratch directory
(pytest's ``tmp_path``): examples may write files where they say.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil
from typing import Iterable

import numpy as np

__all__ = ["check_docstring_examples", "modules_of"]

_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def modules_of(package: str, exclude: Iterable[str] = ()) -> list[str]:
    """``package`` and all its submodules (imported), except those under a name in ``exclude``."""
    skip = tuple(exclude)

    def kept(name: str) -> bool:
        return not any(name == s or name.startswith(s + ".") for s in skip)
    root = importlib.import_module(package)
    names = [package]
    if hasattr(root, "__path__"):
        names += [m.name for m in pkgutil.walk_packages(root.__path__, package + ".") if kept(m.name)]
    return [n for n in names if kept(n)]


class _Collecting(doctest.DocTestRunner):
    """Records ``file:line`` and what went wrong for each failed example instead of printing a report."""

    def __init__(self):
        super().__init__(optionflags=_FLAGS)
        self.problems: list[str] = []

    def _where(self, test, example) -> str:
        line = (test.lineno or 0) + example.lineno + 1
        return f"{test.filename}:{line}: {example.source.strip()}"

    def report_failure(self, out, test, example, got):
        self.problems.append(f"{self._where(test, example)}\n    expected: {example.want.strip()!r}\n"
                             f"    got:      {got.strip()!r}")

    def report_unexpected_exception(self, out, test, example, exc_info):
        self.problems.append(f"{self._where(test, example)}\n    raised {exc_info[0].__name__}: {exc_info[1]}")


def check_docstring_examples(package: str, *, exclude: Iterable[str] = (), extraglobs: dict | None = None) -> int:
    """Run the docstring examples of ``package`` and its submodules; raise ``AssertionError`` listing each
    failed example (``file:line``, the example, what it printed or raised). Returns how many ran."""
    import ember
    globs = {"ember": ember, "np": np, **(extraglobs or {})}
    finder, runner = doctest.DocTestFinder(), _Collecting()
    for name in modules_of(package, exclude):
        module = importlib.import_module(name)
        for test in finder.find(module, name, extraglobs=globs):
            runner.run(test, out=lambda text: None)
    if runner.problems:
        raise AssertionError(f"{len(runner.problems)} docstring example(s) of {package} failed:\n"
                             + "\n".join(runner.problems))
    return runner.tries
