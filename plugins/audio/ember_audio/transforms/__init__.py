"""Audio transforms (torchaudio.transforms names): ``nn.Module`` wrappers of ``ember_audio.functional``."""
from .amplitude import AmplitudeToDB, Fade, MuLawDecoding, MuLawEncoding, Vol
from .features import ComputeDeltas, MelScale
from .masking import FrequencyMasking, TimeMasking
from .resampling import Resample, Speed, SpeedPerturbation
from .spectral import MFCC, GriffinLim, InverseSpectrogram, MelSpectrogram, Spectrogram, TimeStretch

__all__ = ["Resample", "Speed", "SpeedPerturbation", "AmplitudeToDB", "MuLawEncoding", "MuLawDecoding",
           "Vol", "Fade", "MelScale", "ComputeDeltas", "FrequencyMasking", "TimeMasking", "Spectrogram",
           "InverseSpectrogram", "GriffinLim", "MelSpectrogram", "MFCC", "TimeStretch"]
