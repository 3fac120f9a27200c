"""``ember.backends``: the switches PyTorch scripts set on ``torch.backends`` (cuDNN, CUDA matmul, MPS, ...).

Scripts set them at the top, usually for speed or reproducibility::

    ember.backends.cudnn.benchmark = True
    ember.backends.cudnn.deterministic = True
    if ember.backends.mps.is_available(): ...

Ember runs on NumPy (CPU) and CuPy (CUDA) with its own kernels, and uses none of cuDNN, MPS, MKL-DNN
or OpenMP: each ``is_available()`` here is ``False`` and the flags are stored with PyTorch's defaults
so scripts can set and read them, but they change nothing in Ember's computations (which are
deterministic on the CPU whatever ``cudnn.deterministic`` says).
"""
from . import cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
