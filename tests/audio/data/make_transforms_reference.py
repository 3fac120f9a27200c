"""Regenerate ``transforms_reference.npz``: torchaudio's outputs for tests/audio/test_functional.py and
test_audio_transforms.py.

Needs torch + torchaudio (the tests never import them); run from the repository root with

    /work/audioref/bin/python tests/audio/data/make_transforms_reference.py

(made with torch 2.11.0 and torchaudio 2.11.0). Every input is drawn here from NumPy with a fixed seed and
stored next to the outputs (once when cases share it), so the tests feed Ember exactly the same numbers.
``meta`` (JSON as bytes) maps each case name to ``{"fn": ..., "kwargs": {...}, "inputs": [keys],
"outputs": [keys]}``; the arrays are stored under those keys. Complex outputs are stored as ``view_as_real`` (a trailing dimension of 2).
"""
import json
import os

import numpy as np
import torch
import torchaudio
import torchaudio.functional as F
import torchaudio.transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "transforms_reference.npz")

rng = np.random.default_rng(20261207)
arrays: dict = {}
meta: dict = {}


def _np(t):
    t = t.detach()
    if t.is_complex():
        t = torch.view_as_real(t)
    return t.numpy()


_stored_inputs: dict = {}  # id(array) -> key: an input shared by several cases is stored once


def _input_key(name, i, a):
    if id(a) not in _stored_inputs:
        _stored_inputs[id(a)] = f"{name}/in{i}"
        arrays[f"{name}/in{i}"] = a
    return _stored_inputs[id(a)]


def case(name, fn, kwargs, inputs, run):
    """Store ``inputs`` (NumPy arrays), run ``run(*torch tensors)`` and store its output(s)."""
    in_keys = [_input_key(name, i, a) for i, a in enumerate(inputs)]
    outs = run(*[torch.from_numpy(a) for a in inputs])
    outs = outs if isinstance(outs, tuple) else (outs,)
    out_keys = []
    for i, o in enumerate(outs):
        if o is None:
            continue
        arrays[f"{name}/out{i}"] = _np(o)
        out_keys.append(f"{name}/out{i}")
    meta[name] = {"fn": fn, "kwargs": kwargs, "inputs": in_keys, "outputs": out_keys}


def waveform(*shape, dtype=np.float32):
    """Noise plus a chirp, in [-1, 1]: energy across the band, so aliasing errors would show."""
    t = np.arange(shape[-1]) / shape[-1]
    chirp = np.sin(2 * np.pi * (5 + 200 * t) * t)
    x = 0.5 * chirp + 0.3 * rng.standard_normal(shape)
    return np.clip(x, -1, 1).astype(dtype)


def resample_cases():
    x32 = waveform(2, 2, 300)
    x64 = x32.astype(np.float64)
    configs = {
        "down_hann": dict(orig_freq=44100, new_freq=16000),
        "up_hann": dict(orig_freq=16000, new_freq=44100),
        "double": dict(orig_freq=8000, new_freq=16000),
        "48k_44k": dict(orig_freq=48000, new_freq=44100),
        "kaiser": dict(orig_freq=44100, new_freq=16000, resampling_method="sinc_interp_kaiser"),
        "kaiser_beta": dict(orig_freq=16000, new_freq=22050, resampling_method="sinc_interp_kaiser", beta=8.0),
        "width_rolloff": dict(orig_freq=32000, new_freq=24000, lowpass_filter_width=16, rolloff=0.9),
    }
    for label, kw in configs.items():
        case(f"resample_{label}_f32", "resample", kw, [x32], lambda x, kw=kw: F.resample(x, **kw))
    for label in ("down_hann", "kaiser", "width_rolloff"):
        kw = configs[label]
        case(f"resample_{label}_f64", "resample", kw, [x64], lambda x, kw=kw: F.resample(x, **kw))
        case(f"Resample_{label}_f32", "Resample", kw, [x32], lambda x, kw=kw: T.Resample(**kw)(x))
    kw = configs["kaiser_beta"]
    case("Resample_kaiser_beta_f64", "Resample", kw, [x64], lambda x: T.Resample(**kw, dtype=torch.float64)(x))
    lengths = np.array([300, 200], dtype=np.int64)
    case("speed", "speed", dict(orig_freq=16000, factor=1.1), [x32[0], lengths],
         lambda x, n: F.speed(x, 16000, 1.1, n))


def filterbank_cases():
    configs = {
        "htk": dict(n_freqs=129, f_min=0.0, f_max=8000.0, n_mels=30, sample_rate=16000),
        "slaney": dict(n_freqs=129, f_min=20.0, f_max=7600.0, n_mels=40, sample_rate=16000, norm="slaney",
                       mel_scale="slaney"),
        "htk_slaney_norm": dict(n_freqs=129, f_min=0.0, f_max=22050.0, n_mels=30, sample_rate=44100, norm="slaney"),
        "slaney_scale": dict(n_freqs=129, f_min=100.0, f_max=4000.0, n_mels=23, sample_rate=8000, mel_scale="slaney"),
    }
    for label, kw in configs.items():
        case(f"melscale_fbanks_{label}", "melscale_fbanks", kw, [], lambda kw=kw: F.melscale_fbanks(**kw))
    case("linear_fbanks", "linear_fbanks", dict(n_freqs=129, f_min=0.0, f_max=8000.0, n_filter=12, sample_rate=16000),
         [], lambda: F.linear_fbanks(129, 0.0, 8000.0, 12, 16000))
    for label, kw in {"ortho": dict(n_mfcc=13, n_mels=40, norm="ortho"),
                      "none": dict(n_mfcc=20, n_mels=128, norm=None)}.items():
        case(f"create_dct_{label}", "create_dct", kw, [], lambda kw=kw: F.create_dct(**kw))
    spec = rng.random((2, 2, 65, 5)).astype(np.float32)
    kw = dict(n_mels=20, sample_rate=16000, n_stft=65)
    case("MelScale", "MelScale", kw, [spec], lambda s: T.MelScale(**kw)(s))
    kw = dict(n_mels=16, sample_rate=22050, f_min=50.0, f_max=9000.0, n_stft=65, norm="slaney", mel_scale="slaney")
    case("MelScale_slaney", "MelScale", kw, [spec[0].astype(np.float64)],
         lambda s: T.MelScale(**kw).to(torch.float64)(s))


def amplitude_cases():
    power = (rng.random((2, 2, 6, 7)) ** 4).astype(np.float32)
    power[0, 1, 2, 3] = 0.0  # exercises the amin floor
    for shape_label, x in {"4d": power, "3d": power[0], "2d": power[0, 0]}.items():
        for top_db in (None, 40.0):
            kw = dict(multiplier=10.0, amin=1e-10, db_multiplier=0.0, top_db=top_db)
            case(f"amplitude_to_DB_{shape_label}_{top_db}", "amplitude_to_DB", kw, [x],
                 lambda x, kw=kw: F.amplitude_to_DB(x, **kw))
    case("amplitude_to_DB_f64", "amplitude_to_DB", dict(multiplier=20.0, amin=1e-5, db_multiplier=0.5, top_db=30.0),
         [power.astype(np.float64)], lambda x: F.amplitude_to_DB(x, 20.0, 1e-5, 0.5, top_db=30.0))
    for stype in ("power", "magnitude"):
        kw = dict(stype=stype, top_db=60.0)
        case(f"AmplitudeToDB_{stype}", "AmplitudeToDB", kw, [power], lambda x, kw=kw: T.AmplitudeToDB(**kw)(x))
    db = (rng.random((3, 5)) * 60 - 50).astype(np.float32)
    case("DB_to_amplitude", "DB_to_amplitude", dict(ref=2.0, power=0.5), [db], lambda x: F.DB_to_amplitude(x, 2.0, 0.5))
    signal = waveform(2, 50)
    for dtype in (np.float32, np.float64):
        case(f"mu_law_encoding_{np.dtype(dtype).name}", "mu_law_encoding", dict(quantization_channels=256),
             [signal.astype(dtype)], lambda x: F.mu_law_encoding(x, 256))
    codes = rng.integers(0, 64, (2, 30)).astype(np.int64)
    case("mu_law_decoding_int", "mu_law_decoding", dict(quantization_channels=64), [codes],
         lambda x: F.mu_law_decoding(x, 64))
    case("mu_law_decoding_f64", "mu_law_decoding", dict(quantization_channels=64), [codes.astype(np.float64)],
         lambda x: F.mu_law_decoding(x, 64))
    for gain, gain_type in ((0.5, "amplitude"), (3.0, "amplitude"), (4.5, "db"), (-6.0, "db"), (2.0, "power")):
        kw = dict(gain=gain, gain_type=gain_type)
        case(f"Vol_{gain_type}_{gain}", "Vol", kw, [signal], lambda x, kw=kw: T.Vol(**kw)(x))
    ones = np.ones((2, 40), dtype=np.float32)
    for shape in ("linear", "exponential", "logarithmic", "quarter_sine", "half_sine"):
        kw = dict(fade_in_len=15, fade_out_len=9, fade_shape=shape)
        case(f"Fade_{shape}", "Fade", kw, [ones], lambda x, kw=kw: T.Fade(**kw)(x))
    kw = dict(fade_in_len=7, fade_out_len=0, fade_shape="half_sine")
    case("Fade_f64", "Fade", kw, [signal.astype(np.float64)], lambda x: T.Fade(**kw)(x))


def delta_cases():
    spec = rng.standard_normal((2, 3, 20)).astype(np.float32)
    for win_length, mode in ((5, "replicate"), (3, "replicate"), (7, "constant"), (9, "reflect")):
        kw = dict(win_length=win_length, mode=mode)
        case(f"compute_deltas_{win_length}_{mode}", "compute_deltas", kw, [spec],
             lambda x, kw=kw: F.compute_deltas(x, **kw))
    case("ComputeDeltas_f64", "ComputeDeltas", dict(win_length=5), [spec[0].astype(np.float64)],
         lambda x: T.ComputeDeltas(win_length=5)(x))


def spectral_cases():
    """Spectrogram family (for when Ember has stft): short signals, small n_fft, to keep the file small."""
    x32 = waveform(2, 400)
    x64 = x32.astype(np.float64)
    specs = {
        "default": dict(),
        "power1": dict(n_fft=64, power=1.0),
        "complex": dict(n_fft=64, hop_length=24, power=None),
        "normalized": dict(n_fft=64, win_length=50, normalized=True),
        "frame_length": dict(n_fft=64, normalized="frame_length"),
        "no_center": dict(n_fft=64, center=False),
        "constant_pad": dict(n_fft=64, pad_mode="constant"),
        "twosided": dict(n_fft=32, onesided=False, power=None),
        "hamming": dict(n_fft=64, window_fn="hamming_window"),
    }
    with_f64 = ("default", "normalized")
    for label, kw in specs.items():
        tkw = dict(kw)
        if "window_fn" in tkw:
            tkw["window_fn"] = getattr(torch, tkw["window_fn"])
        case(f"Spectrogram_{label}_f32", "Spectrogram", kw, [x32], lambda x, tkw=tkw: T.Spectrogram(**tkw)(x))
        if label in with_f64:
            case(f"Spectrogram_{label}_f64", "Spectrogram", kw, [x64], lambda x, tkw=tkw: T.Spectrogram(**tkw)(x))
    kw = dict(sample_rate=16000, n_fft=128, n_mels=24)
    case("MelSpectrogram", "MelSpectrogram", kw, [x32], lambda x: T.MelSpectrogram(**kw)(x))
    kw = dict(sample_rate=16000, n_fft=128, n_mels=20, f_min=30.0, f_max=7000.0, norm="slaney", mel_scale="slaney",
              power=1.0)
    case("MelSpectrogram_slaney", "MelSpectrogram", kw, [x64], lambda x: T.MelSpectrogram(**kw).to(torch.float64)(x))
    for label, kw in {"default": dict(sample_rate=16000, n_mfcc=13, melkwargs=dict(n_fft=128, n_mels=24)),
                      "log_mels": dict(sample_rate=16000, n_mfcc=20, log_mels=True,
                                       melkwargs=dict(n_fft=128, n_mels=24, hop_length=80)),
                      "no_norm": dict(sample_rate=8000, n_mfcc=10, dct_type=2, norm=None,
                                      melkwargs=dict(n_fft=64, n_mels=16))}.items():
        case(f"MFCC_{label}", "MFCC", kw, [x32], lambda x, kw=kw: T.MFCC(**kw)(x))
    # torch's float32 Hann window: the InverseSpectrogram/GriffinLim tests install it, so that they measure the
    # algorithm (Griffin-Lim amplifies a 1-ulp difference of the window to ~1e-5)
    case("hann_window_64", "hann_window", dict(window_length=64), [], lambda: torch.hann_window(64))
    spec = T.Spectrogram(n_fft=64, power=None)(torch.from_numpy(x64)).numpy()
    spec_ri = np.ascontiguousarray(np.stack([spec.real, spec.imag], -1))
    case("InverseSpectrogram", "InverseSpectrogram", dict(n_fft=64, length=400), [spec_ri],
         lambda s: T.InverseSpectrogram(n_fft=64)(torch.view_as_complex(s), length=400))
    mag = np.abs(spec) ** 2
    for label, kw in {"momentum": dict(n_fft=64, n_iter=6, momentum=0.99, rand_init=False, length=400),
                      "plain": dict(n_fft=64, n_iter=4, momentum=0.0, rand_init=False, power=2.0)}.items():
        case(f"GriffinLim_{label}", "GriffinLim", kw, [mag], lambda s, kw=kw: T.GriffinLim(**kw)(s))
    for rate in (1.3, 0.8):
        kw = dict(n_freq=33, hop_length=16, fixed_rate=rate)
        case(f"TimeStretch_{rate}", "TimeStretch", kw, [spec_ri],
             lambda s, kw=kw: T.TimeStretch(**kw)(torch.view_as_complex(s)))


resample_cases()
filterbank_cases()
amplitude_cases()
delta_cases()
spectral_cases()
arrays["meta"] = np.frombuffer(json.dumps({"torch": torch.__version__, "torchaudio": torchaudio.__version__,
                                           "cases": meta}).encode(), dtype=np.uint8)
np.savez_compressed(OUT, **arrays)
print(f"{len(meta)} cases, {os.path.getsize(OUT) / 1024:.0f} KB -> {OUT}")
