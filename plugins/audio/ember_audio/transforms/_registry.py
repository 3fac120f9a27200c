"""Registration of ember-audio's transforms with Ember's plugin registry.

Each transform class is registered under its snake_case name (``AmplitudeToDB`` -> ``amplitude_to_db``)
with its functional form, when it has one, and ``modality="audio"``.
"""
from __future__ import annotations

from ember.plugins import RegistrationTable

from .. import functional as F
from . import amplitude as _amplitude
from . import features as _features
from . import masking as _masking
from . import resampling as _resampling
from . import spectral as _spectral

# class -> its function form (None where the module has no single functional counterpart)
_FUNCTIONAL = {
    _resampling.Resample: F.resample, _resampling.Speed: F.speed, _resampling.SpeedPerturbation: F.speed,
    _amplitude.AmplitudeToDB: F.amplitude_to_DB, _amplitude.MuLawEncoding: F.mu_law_encoding,
    _amplitude.MuLawDecoding: F.mu_law_decoding, _amplitude.Vol: F.gain, _amplitude.Fade: None,
    _features.MelScale: F.melscale_fbanks, _features.ComputeDeltas: F.compute_deltas,
    _masking.FrequencyMasking: F.mask_along_axis, _masking.TimeMasking: F.mask_along_axis,
    _spectral.Spectrogram: F.spectrogram, _spectral.InverseSpectrogram: F.inverse_spectrogram,
    _spectral.GriffinLim: F.griffinlim, _spectral.MelSpectrogram: None, _spectral.MFCC: None,
    _spectral.TimeStretch: F.phase_vocoder,
}


TRANSFORMS = RegistrationTable.from_classes("transforms", _FUNCTIONAL, modality="audio")
"""Every transform class under its snake_case name, with its function form."""
