"""``ember.backends.mkldnn``: oneDNN (MKL-DNN). Ember's CPU kernels are NumPy's, not oneDNN's."""

__all__ = ["is_available", "enabled"]

enabled = True   # PyTorch's default; stored only


def is_available() -> bool:
    """Always ``False``: Ember does not use oneDNN."""
    return False
