"""Shared by the vision tests that classify real photos with the published EfficientNet-Lite0 weights."""
from __future__ import annotations

import numpy as np


def imagenet_input(arr: np.ndarray) -> np.ndarray:
    """The preprocessing of the published Lite0 weights, written with PIL and NumPy: shorter side to 256
    (bilinear), center crop 224, (x * 255 - 127) / 128, CHW."""
    from PIL import Image
    img = Image.fromarray(arr)
    w, h = img.size
    img = img.resize((256 * w // min(w, h), 256 * h // min(w, h)), Image.BILINEAR)
    left, top = round((img.size[0] - 224) / 2), round((img.size[1] - 224) / 2)
    x = (np.asarray(img.crop((left, top, left + 224, top + 224)), np.float32) - 127) / 128
    return x.transpose(2, 0, 1)
