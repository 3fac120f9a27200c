"""Quantization schemes (``ember.per_tensor_affine``, ...): how a quantized weight's scale and zero point
are laid out, as PyTorch names them. ``ember.ao.quantization`` observers take one as ``qscheme=``."""
from __future__ import annotations

__all__ = ["qscheme", "per_tensor_affine", "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric"]


class qscheme:
    """A quantization scheme, e.g. ``ember.per_channel_symmetric``.

    >>> ember.per_channel_symmetric.is_per_channel, ember.per_tensor_affine
    (True, ember.per_tensor_affine)
    """

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    @property
    def is_per_channel(self) -> bool:
        return self.name.startswith("per_channel")

    @property
    def is_symmetric(self) -> bool:
        return self.name.endswith("symmetric")

    def __repr__(self) -> str:
        return "ember." + self.name

    def __reduce__(self):
        # Pickled by name, so a copy or a loaded module gets the same object back.
        return (_by_name, (self.name,))


per_tensor_affine = qscheme("per_tensor_affine")
per_channel_affine = qscheme("per_channel_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_symmetric = qscheme("per_channel_symmetric")
_ALL = {q.name: q for q in (per_tensor_affine, per_channel_affine, per_tensor_symmetric, per_channel_symmetric)}


def _by_name(name: str) -> qscheme:
    return _ALL[name]
