"""Audio models (torchaudio.models names) and pretrained weights; importing this package registers every builder.

>>> from ember_audio import models
>>> model = models.silero_vad()                 # the architecture; weights="DEFAULT" loads the pretrained VAD
>>> model(ember.zeros(1, 512), 16000).shape
ember.Size([1, 1])

Through the hub: ``ember.hub.load("audio:silero_vad", weights="DEFAULT")``; ``ember models --plugin audio``
lists them.
"""
from ._registry import MODELS
from .silero_vad import SileroVAD, SileroVAD_Weights, silero_vad

__all__ = ["MODELS", "SileroVAD", "SileroVAD_Weights", "silero_vad"]
