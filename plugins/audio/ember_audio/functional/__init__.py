"""Audio functional operations (torchaudio.functional names), one module per job:
``resampling`` (resample, speed), ``filterbanks`` (mel/linear filter banks, DCT), ``amplitude``
(decibels, gain, mu-law), ``deltas``, ``masking`` (SpecAugment masks), ``spectral`` (spectrograms)."""
from .amplitude import DB_to_amplitude, amplitude_to_DB, gain, mu_law_decoding, mu_law_encoding
from .deltas import compute_deltas
from .filterbanks import create_dct, linear_fbanks, melscale_fbanks
from .masking import mask_along_axis, mask_along_axis_iid
from .resampling import resample, speed
from .spectral import griffinlim, inverse_spectrogram, phase_vocoder, spectrogram

__all__ = ["resample", "speed", "melscale_fbanks", "linear_fbanks", "create_dct", "amplitude_to_DB",
           "DB_to_amplitude", "gain", "mu_law_encoding", "mu_law_decoding", "compute_deltas",
           "mask_along_axis", "mask_along_axis_iid", "spectrogram", "inverse_spectrogram", "griffinlim",
           "phase_vocoder"]
