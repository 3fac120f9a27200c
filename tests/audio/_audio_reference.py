"""The torchaudio reference cases (data/transforms_reference.npz, made by data/make_transforms_reference.py)
and the comparison every audio transform test uses: values within 1e-4 relative on float32 (1e-10 on
float64), dtypes equal."""
from __future__ import annotations

import functools
import json
import pathlib

import numpy as np

import ember

DATA = pathlib.Path(__file__).parent / "data" / "transforms_reference.npz"
# (rtol, atol) per dtype; atol covers outputs that cross zero (a resampled waveform, deltas)
TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-10)}
# float64 cases whose torchaudio pipeline holds float32 constants whatever the input's dtype (the mel filter
# bank, Fade's envelope, the Kaiser window's normaliser I0(beta), the float32 Hann window of Spectrogram):
# float32-level agreement is all there is
FLOAT32_CONSTANTS = {"Resample_kaiser_beta_f64", "MelScale_slaney", "Fade_f64", "MelSpectrogram_slaney",
                     "Spectrogram_default_f64", "Spectrogram_normalized_f64"}


@functools.lru_cache(maxsize=None)
def _archive():
    z = np.load(DATA)
    arrays = {k: z[k] for k in z.files}
    return json.loads(arrays.pop("meta").tobytes()), arrays


def case_names(*fns: str) -> list:
    """The names of the cases of the given functions/classes, in the file's order."""
    return [name for name, c in _archive()[0]["cases"].items() if c["fn"] in fns]


def function_name(name: str) -> str:
    """The torchaudio function or class a case calls."""
    return _archive()[0]["cases"][name]["fn"]


def load(name: str):
    """``(kwargs, input tensors, expected arrays)`` of one case."""
    c = _archive()[0]["cases"][name]
    arrays = _archive()[1]
    inputs = [ember.tensor(arrays[k]) for k in c["inputs"]]
    return dict(c["kwargs"]), inputs, [arrays[k] for k in c["outputs"]]


def max_relative_error(actual, expected) -> float:
    a = np.asarray(actual.detach().numpy() if isinstance(actual, ember.Tensor) else actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    return float(np.max(np.abs(a - e)) / max(np.max(np.abs(e)), 1e-30)) if e.size else 0.0


def check(actual, expected: np.ndarray, name: str = "") -> None:
    """``actual`` (an Ember tensor) has ``expected``'s shape and dtype and matches it within TOLERANCES
    (the float32 ones for the case ``name`` when it is one of FLOAT32_CONSTANTS)."""
    if actual.is_complex():  # complex outputs are stored as view_as_real pairs
        actual = ember.view_as_real(actual)
    got = actual.detach().numpy()
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, torchaudio gives {expected.dtype}"
    assert got.shape == expected.shape, f"shape {got.shape}, torchaudio gives {expected.shape}"
    if expected.dtype.kind in "iub":
        np.testing.assert_array_equal(got, expected)
        return
    rtol, atol = TOLERANCES["float32" if name in FLOAT32_CONSTANTS else expected.dtype.name]
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
