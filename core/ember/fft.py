"""``ember.fft``: ``torch.fft``'s discrete Fourier transforms (the implementation is ``ember.ops.fft``).

>>> ember.fft.rfft(ember.tensor([1.0, 0.0, 0.0, 0.0]))
tensor([1.+0.j, 1.+0.j, 1.+0.j])
"""
from .ops.fft import *  # noqa: F401,F403
from .ops.fft import __all__  # noqa: F401
