"""``ember.backends.mkl``: Ember does not call Intel MKL itself (NumPy's BLAS does the linear algebra)."""

__all__ = ["is_available"]


def is_available() -> bool:
    """Always ``False``: Ember does not use MKL directly."""
    return False
