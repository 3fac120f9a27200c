"""``record_function``: a named range of the user's code in the profile (PyTorch's
``torch.profiler.record_function`` / ``torch.autograd.profiler.record_function``)."""
from __future__ import annotations

import contextlib

from . import _recorder
from ._recorder import USER_ANNOTATION


class record_function(contextlib.ContextDecorator):
    """Label a block of code (``with record_function("name"):``) or every call of a function
    (``@record_function("name")``) in the profile; ranges nest, and a range's self time leaves out the ranges
    and ops inside it. Outside a profile it records nothing and costs one attribute read.

    >>> from ember.profiler import profile, record_function
    >>> @record_function("loss")
    ... def loss(x):
    ...     return (x * x).sum()
    >>> with profile() as prof:
    ...     with record_function("step"):
    ...         _ = loss(ember.ones(4))
    >>> [(e.name, e.cpu_parent.name if e.cpu_parent else None) for e in prof.events() if e.is_user_annotation]
    [('step', None), ('loss', 'step')]
    """

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self._open: list = []   # (recorder, event) of each entry still open: a range may be re-entered

    def __enter__(self) -> record_function:
        rec = _recorder.ACTIVE.recorder
        self._open.append(None if rec is None else (rec, rec.begin(self.name, USER_ANNOTATION, args=self.args)))
        return self

    def __exit__(self, *exc) -> None:
        entry = self._open.pop()
        if entry is not None:
            entry[0].end(entry[1])

    def _recreate_cm(self) -> record_function:
        # As a decorator, each call gets its own range object, so calls on several threads do not share one.
        return record_function(self.name, self.args)
