"""ember_audio.functional against torchaudio 2.11 (data/transforms_reference.npz), gradients (gradcheck in
float64), non-contiguous and empty inputs, and the error cases."""
import numpy as np
import pytest

import ember
import ember_audio.functional as AF
from ember.autograd import gradcheck, gradgradcheck

from _audio_reference import case_names, check, function_name, load

FUNCTIONS = ("resample", "melscale_fbanks", "linear_fbanks", "create_dct", "amplitude_to_DB",
             "DB_to_amplitude", "mu_law_encoding", "mu_law_decoding", "compute_deltas")


@pytest.mark.parametrize("name", case_names(*FUNCTIONS))
def test_matches_torchaudio(name):
    kwargs, inputs, expected = load(name)
    check(getattr(AF, function_name(name))(*inputs, **kwargs), expected[0], name)


def test_speed_matches_torchaudio():
    kwargs, (x, lengths), (out, out_lengths) = load("speed")
    got, got_lengths = AF.speed(x, kwargs["orig_freq"], kwargs["factor"], lengths)
    check(got, out)
    check(got_lengths, out_lengths)


def _wave(*shape, dtype=ember.float64, seed=0):
    g = np.random.default_rng(seed)
    return ember.tensor(g.uniform(-1, 1, shape), dtype=dtype)


# ---------------------------------------------------------------- resample

def test_resample_same_rate_is_identity():
    x = _wave(2, 50)
    assert AF.resample(x, 16000, 16000) is x


@pytest.mark.parametrize("method", ["sinc_interp_hann", "sinc_interp_kaiser"])
def test_resample_gradcheck(method):
    x = _wave(2, 23).requires_grad_()
    assert gradcheck(lambda t: AF.resample(t, 3, 2, resampling_method=method, lowpass_filter_width=3), (x,))
    assert gradgradcheck(lambda t: AF.resample(t, 2, 3, lowpass_filter_width=2), (x,))


def test_resample_noncontiguous_inputs():
    base = _wave(40, 3, dtype=ember.float32)
    for view in (base.t(), base.t()[:, ::2], base[:1].t().expand(3, 40)):
        np.testing.assert_allclose(AF.resample(view, 44100, 16000).numpy(),
                                   AF.resample(view.contiguous(), 44100, 16000).numpy(), rtol=1e-6, atol=1e-7)


def test_resample_keeps_leading_dims_and_empty_batch():
    assert AF.resample(ember.zeros(2, 3, 4, 441), 44100, 16000).shape == (2, 3, 4, 160)
    assert AF.resample(ember.zeros(0, 441), 44100, 16000).shape == (0, 160)
    assert AF.resample(ember.zeros(2, 0), 44100, 16000).shape == (2, 0)


def test_resample_keeps_a_tone_below_the_cutoff():
    t = ember.arange(44100, dtype=ember.float64) / 44100
    out = AF.resample(ember.sin(2 * np.pi * 440 * t), 44100, 16000)
    ref = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    assert np.abs(out.numpy()[200:-200] - ref[200:-200]).max() < 1e-3


@pytest.mark.parametrize("args, error, match", [
    ((ember.zeros(4, dtype=ember.int64), 2, 1), TypeError, "floating point"),
    ((ember.zeros(4), -1, 2), ValueError, "positive"),
    ((ember.zeros(4), 2, 0), ValueError, "positive"),
    ((ember.zeros(4), 16000.5, 8000), ValueError, "whole numbers"),
])
def test_resample_errors(args, error, match):
    with pytest.raises(error, match=match):
        AF.resample(*args)


def test_resample_option_errors():
    with pytest.raises(ValueError, match="Invalid resampling method: cubic"):
        AF.resample(ember.zeros(8), 2, 1, resampling_method="cubic")
    with pytest.raises(ValueError, match="Low pass filter width"):
        AF.resample(ember.zeros(8), 2, 1, lowpass_filter_width=0)
    with pytest.warns(UserWarning, match="deprecated"):
        old = AF.resample(_wave(30), 3, 2, resampling_method="kaiser_window")
    new = AF.resample(_wave(30), 3, 2, resampling_method="sinc_interp_kaiser")
    np.testing.assert_array_equal(old.numpy(), new.numpy())


# ---------------------------------------------------------------- filter banks and DCT

def test_filterbank_errors_and_warning():
    with pytest.raises(ValueError, match='norm must be one of None or "slaney"'):
        AF.melscale_fbanks(201, 0.0, 8000.0, 40, 16000, norm="ortho")
    with pytest.raises(ValueError, match="mel_scale should be one of"):
        AF.melscale_fbanks(201, 0.0, 8000.0, 40, 16000, mel_scale="bark")
    with pytest.raises(ValueError, match='norm must be either "ortho" or None'):
        AF.create_dct(13, 40, "slaney")
    with pytest.warns(UserWarning, match="all zero values"):
        AF.melscale_fbanks(17, 0.0, 8000.0, 40, 16000)


# ---------------------------------------------------------------- amplitude

def test_amplitude_to_DB_gradcheck_and_views():
    x = (_wave(2, 2, 3, 4) ** 2 + 0.1).requires_grad_()
    assert gradcheck(lambda t: AF.amplitude_to_DB(t, 10.0, 1e-10, 0.0, top_db=3.0), (x,))
    assert gradgradcheck(lambda t: AF.amplitude_to_DB(t, 20.0, 1e-10, 0.0), (x,))
    base = x.detach()
    view = base.permute(0, 1, 3, 2)
    np.testing.assert_array_equal(AF.amplitude_to_DB(view, 10.0, 1e-10, 0.0, 5.0).numpy(),
                                  AF.amplitude_to_DB(view.contiguous(), 10.0, 1e-10, 0.0, 5.0).numpy())


def test_amplitude_to_DB_top_db_is_per_spectrogram():
    x = ember.tensor([[[[1.0, 1e-6]]], [[[1e-3, 1e-6]]]])
    out = AF.amplitude_to_DB(x, 10.0, 1e-10, 0.0, top_db=40.0)
    assert out.flatten().tolist() == pytest.approx([0.0, -40.0, -30.0, -60.0])


def test_db_to_amplitude_inverts_amplitude_to_DB():
    x = _wave(3, 5) ** 2 + 1e-3
    back = AF.DB_to_amplitude(AF.amplitude_to_DB(x, 10.0, 1e-10, 0.0), 1.0, 1.0)
    np.testing.assert_allclose(back.numpy(), x.numpy(), rtol=1e-12)
    x.requires_grad_()
    assert gradcheck(lambda t: AF.DB_to_amplitude(t, 2.0, 0.5), (x,))


def test_mu_law_round_trip_and_gradient():
    x = _wave(2, 64)
    codes = AF.mu_law_encoding(x, 256)
    assert codes.dtype == ember.int64 and int(codes.min()) >= 0 and int(codes.max()) <= 255
    assert np.abs(AF.mu_law_decoding(codes, 256).numpy() - x.numpy()).max() < 0.04
    levels = ember.tensor(np.linspace(1, 254, 10)).requires_grad_()
    assert gradcheck(lambda t: AF.mu_law_decoding(t, 256), (levels,))


def test_gain():
    x = _wave(4)
    assert AF.gain(x, 0) is x
    np.testing.assert_allclose(AF.gain(x, -20.0).numpy(), x.numpy() / 10, rtol=1e-12)


# ---------------------------------------------------------------- deltas

def test_compute_deltas_gradcheck_views_and_errors():
    x = _wave(2, 3, 9).requires_grad_()
    assert gradcheck(lambda t: AF.compute_deltas(t, win_length=5), (x,))
    view = x.detach().transpose(0, 1)[:, :, ::2]
    np.testing.assert_allclose(AF.compute_deltas(view).numpy(), AF.compute_deltas(view.contiguous()).numpy())
    with pytest.raises(ValueError, match="greater than or equal to 3"):
        AF.compute_deltas(x, win_length=2)


def test_compute_deltas_of_a_ramp_is_its_slope():
    ramp = ember.arange(20, dtype=ember.float64).reshape(1, 20) * 0.5
    assert AF.compute_deltas(ramp, win_length=7)[0, 3:-3].tolist() == pytest.approx([0.5] * 14)
