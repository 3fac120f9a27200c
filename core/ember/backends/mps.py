"""``ember.backends.mps``: Apple's Metal Performance Shaders. Ember has no MPS backend."""

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """Always ``False``: Ember has no MPS backend (``ember.device("mps")`` is not a device type)."""
    return False


def is_built() -> bool:
    """Always ``False``: Ember is not built with MPS support."""
    return False
