"""Image transforms for PIL images and Ember tensors (``torchvision.transforms``).

    >>> import ember_vision.transforms as T
    >>> pipeline = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
    ...                       T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

``transforms.functional`` holds the function forms (``F.resize``, ``F.hflip``, ...).
"""
from . import functional
from .autoaugment import *  # noqa: F401,F403
from .autoaugment import __all__ as _autoaugment_all
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all

__all__ = ["functional", *_transforms_all, *_autoaugment_all]
