"""Model outputs shaped like Hugging Face transformers' ``ModelOutput``: read a field by attribute
(``out.last_hidden_state``), by key (``out["logits"]``) or by position (``out[0]``), where fields that
are ``None`` are left out, so ``loss, logits = out[:2]`` code keeps working.
"""
from __future__ import annotations

from collections import OrderedDict

__all__ = ["ModelOutput", "BaseModelOutputWithPooling", "SequenceClassifierOutput"]


class ModelOutput(OrderedDict):
    """An ordered mapping of the non-``None`` fields, also readable as attributes and by position.

    >>> logits = ember.zeros(2, 3)
    >>> out = SequenceClassifierOutput(logits=logits)
    >>> out.logits is out["logits"] is out[0]
    True
    >>> out.loss is None, len(out)
    (True, 1)
    """

    _fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__name__} takes at most {len(self._fields)} positional fields")
        values = dict(zip(self._fields, args))
        for name, value in kwargs.items():
            if name not in self._fields:
                raise TypeError(f"{type(self).__name__} has no field {name!r}; fields: {', '.join(self._fields)}")
            values[name] = value
        super().__init__((f, values[f]) for f in self._fields if values.get(f) is not None)

    def __getattr__(self, name):
        if name in type(self)._fields:
            return self.get(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return self.to_tuple()[key]
        return super().__getitem__(key)

    def to_tuple(self) -> tuple:
        """The non-``None`` fields in order."""
        return tuple(self.values())


class BaseModelOutputWithPooling(ModelOutput):
    """``last_hidden_state`` ``(N, T, hidden)`` and ``pooler_output`` ``(N, hidden)`` (``None`` without a pooler)."""

    _fields = ("last_hidden_state", "pooler_output")


class SequenceClassifierOutput(ModelOutput):
    """``loss`` (only when labels were given) and ``logits`` ``(N, num_labels)``."""

    _fields = ("loss", "logits")
