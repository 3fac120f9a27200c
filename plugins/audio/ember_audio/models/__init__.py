"""Audio models (torchaudio.models names) and pretrained weights; importing this package registers every builder.

>>> from ember_audio import models
>>> model = models.silero_vad()                 # the architecture; weights="DEFAULT" loads the pretrained VAD
>>> model(ember.zeros(1, 512), 16000).shape
ember.Size([1, 1])
>>> models.M5(n_output=10)(ember.zeros(1, 1, 8000)).shape   # raw-waveform classifier (torchaudio's tutorial)
ember.Size([1, 10])

Models: ``silero_vad`` (voice-activity detection, pretrained), ``kws_cnn`` (keyword spotting on waveforms
through an MFCC front end; pretrained on spoken digits) and ``m5`` (raw-waveform classifier, from scratch).

Through the hub: ``ember.hub.load("audio:silero_vad", weights="DEFAULT")``; ``ember models --plugin audio``
lists them.
"""
from ._registry import MODELS
from .classifiers import (DIGIT_WORDS, M5, KeywordSpottingCNN, KeywordSpottingCNN_Weights, MFCCFrontend, kws_cnn,
                          m5)
from .silero_vad import SileroVAD, SileroVAD_Weights, silero_vad

__all__ = ["MODELS", "SileroVAD", "SileroVAD_Weights", "silero_vad", "M5", "m5", "KeywordSpottingCNN", "KeywordSpottingCNN_Weights",
           "MFCCFrontend", "kws_cnn", "DIGIT_WORDS"]
