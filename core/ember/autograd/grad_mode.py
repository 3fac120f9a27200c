"""Thread-local gradient mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``."""
from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _GradState(threading.local):
    # Class attributes are the defaults each new thread sees.
    enabled = True
    inference = False


STATE = _GradState()


def is_grad_enabled() -> bool:
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _DecoratorContextManager:
    """A context manager that also works as a (fresh-instance-per-call) decorator."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self._clone():
                return func(*args, **kwargs)
        return wrapper

    def _clone(self):
        return self.__class__()


class no_grad(_DecoratorContextManager):
    """Disable gradient recording inside the block or decorated function.

    >>> with ember.no_grad():
    ...     y = x * 2          # y.requires_grad is False
    """

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = False
        return self

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False


class enable_grad(_DecoratorContextManager):
    """Enable gradient recording inside a ``no_grad`` block."""

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = True
        return self

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False


class set_grad_enabled(_DecoratorContextManager):
    """Set gradient recording on or off: as a function call, a context manager or a decorator."""

    def __init__(self, mode: bool):
        self._prev = STATE.enabled
        self.mode = bool(mode)
        STATE.enabled = self.mode

    def __call__(self, func):
        # The constructor already switched the mode; a decorator must not, so restore it.
        STATE.enabled = self._prev
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False


class inference_mode(_DecoratorContextManager):
    """Like ``no_grad``; tensors made inside are marked as inference tensors.

    Ember does not restrict inference tensors further (PyTorch forbids using them in
    autograd later); this is documented as a deviation.
    """

    def __init__(self, mode: bool = True):
        self.mode = mode

    def _clone(self):
        return inference_mode(self.mode)

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        if self.mode:
            STATE.enabled = False
            STATE.inference = True
        return self

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self._prev
        return False
