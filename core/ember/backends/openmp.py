"""``ember.backends.openmp``: Ember has no OpenMP kernels of its own; the BLAS threads are set with
``ember.set_num_threads``."""

__all__ = ["is_available"]


def is_available() -> bool:
    """Always ``False``: Ember's own kernels are not OpenMP-parallel."""
    return False
