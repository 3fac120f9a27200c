"""Audio models (torchaudio.models names) and pretrained weights; importing this package registers every builder."""
from ._registry import MODELS

__all__ = ["MODELS"]
