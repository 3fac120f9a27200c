"""ember_audio.transforms against torchaudio 2.11 (data/transforms_reference.npz); SpecAugment masks by
their statistics (the random stream is Ember's, not torch's); registration; gradients; errors."""
import numpy as np
import pytest

import ember
import ember_audio.functional as AF
import ember_audio.transforms as T
from ember.autograd import gradcheck, gradgradcheck

from _audio_reference import case_names, check, function_name, load

MODULES = ("Resample", "MelScale", "AmplitudeToDB", "Vol", "Fade", "ComputeDeltas")


@pytest.mark.parametrize("name", case_names(*MODULES))
def test_matches_torchaudio(name):
    kwargs, inputs, expected = load(name)
    if name == "Resample_kaiser_beta_f64":
        kwargs["dtype"] = ember.float64  # torchaudio's run passed dtype=torch.float64
    check(getattr(T, function_name(name))(**kwargs)(*inputs), expected[0], name)


def _wave(*shape, dtype=ember.float64, seed=0):
    return ember.tensor(np.random.default_rng(seed).uniform(-1, 1, shape), dtype=dtype)


SPECTRAL = ("Spectrogram", "MelSpectrogram", "MFCC", "InverseSpectrogram", "GriffinLim", "TimeStretch")
COMPLEX_INPUT = ("InverseSpectrogram", "TimeStretch")  # their stored input is view_as_real pairs
# these get torch's own float32 Hann window: ember.hann_window differs from it by up to 1 ulp, which
# Griffin-Lim's iterations amplify to ~1e-5, and the comparison is about the algorithm
TORCH_WINDOW = ("InverseSpectrogram", "GriffinLim")


def test_default_window_is_torchs_hann_window():
    _, _, (expected,) = load("hann_window_64")
    np.testing.assert_allclose(ember.hann_window(64).numpy(), expected, rtol=0, atol=2e-7)


@pytest.mark.parametrize("name", case_names(*SPECTRAL))
def test_spectral_matches_torchaudio(name):
    kwargs, inputs, expected = load(name)
    fn = function_name(name)
    if "window_fn" in kwargs:
        kwargs["window_fn"] = getattr(ember, kwargs["window_fn"])
    call_kwargs = {"length": kwargs.pop("length")} if fn == "InverseSpectrogram" else {}
    if fn in COMPLEX_INPUT:
        inputs = [ember.view_as_complex(inputs[0])]
    module = getattr(T, fn)(**kwargs)
    if fn in TORCH_WINDOW:
        module.window = ember.tensor(load("hann_window_64")[2][0])
    check(module(*inputs, **call_kwargs), expected[0], name)


def test_spectrogram_gradcheck_and_views():
    x = _wave(2, 40).requires_grad_()
    assert gradcheck(T.Spectrogram(n_fft=16, hop_length=5, power=2.0).to(ember.float64), (x,))
    assert gradcheck(T.Spectrogram(n_fft=12, win_length=9, normalized=True, center=False), (x,))
    assert gradgradcheck(T.Spectrogram(n_fft=8, hop_length=6, power=1.5), (x.detach()[:1, :20].requires_grad_(),))
    base = _wave(40, 3, dtype=ember.float32)
    for view in (base.t(), base.t()[:, ::2]):
        np.testing.assert_allclose(T.MelSpectrogram(n_fft=16, n_mels=4)(view).numpy(),
                                   T.MelSpectrogram(n_fft=16, n_mels=4)(view.contiguous()).numpy(), rtol=1e-6)


def test_complex_spectrogram_round_trip_and_gradients():
    x = _wave(2, 3, 160)
    spec = T.Spectrogram(n_fft=32, hop_length=8, power=None)(x)
    assert spec.dtype == ember.complex128 and spec.shape == (2, 3, 17, 21)
    back = T.InverseSpectrogram(n_fft=32, hop_length=8)(spec, length=160)
    np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-12)
    padded = T.InverseSpectrogram(n_fft=32, hop_length=8, pad=5)(
        T.Spectrogram(n_fft=32, hop_length=8, pad=5, power=None)(x), length=160)
    np.testing.assert_allclose(padded.numpy(), x.numpy(), atol=1e-12)
    small = _wave(1, 24).requires_grad_()
    spec_fn = T.Spectrogram(n_fft=8, hop_length=4, power=None, normalized=True).to(ember.float64)
    assert gradcheck(spec_fn, (small,))
    inv = T.InverseSpectrogram(n_fft=8, hop_length=4).to(ember.float64)
    assert gradcheck(lambda z: inv(z, length=24), (spec_fn(small).detach().requires_grad_(),))


def test_griffinlim_gradcheck_random_init_and_errors():
    spec = T.Spectrogram(n_fft=8, hop_length=2).to(ember.float64)(_wave(1, 24)).requires_grad_()
    gl = T.GriffinLim(n_fft=8, hop_length=2, n_iter=2, rand_init=False).to(ember.float64)
    assert gradcheck(gl, (spec.detach().abs().add(0.5).requires_grad_(),))
    rand = T.GriffinLim(n_fft=8, hop_length=2, n_iter=2).to(ember.float64)
    ember.manual_seed(4)
    first = rand(spec.detach())
    ember.manual_seed(4)
    assert (rand(spec.detach()) == first).all()
    with pytest.raises(ValueError, match=r"momentum must be in the range \[0, 1\)"):
        T.GriffinLim(momentum=1.0)
    with pytest.raises(ValueError, match=r"momentum must be in range \[0, 1\)"):
        AF.griffinlim(spec, ember.hann_window(8), 8, 2, 8, 2.0, 1, -0.1, None, False)
    with pytest.raises(ValueError, match="complex dtype"):
        T.InverseSpectrogram(n_fft=8)(spec)


def test_time_stretch_rates_gradients_and_errors():
    spec = T.Spectrogram(n_fft=32, hop_length=8, power=None)(_wave(2, 200))
    stretch = T.TimeStretch(hop_length=8, n_freq=17)
    assert stretch(spec, 1.0) is spec
    assert stretch(spec, 2.0).shape == (2, 17, 13) and stretch(spec, 0.5).shape == (2, 17, 52)
    small = spec[:1, :5, :6].detach().requires_grad_()
    advance = ember.linspace(0, 4 * np.pi, 5, dtype=ember.float64)[:, None]
    assert gradcheck(lambda z: AF.phase_vocoder(z, 1.5, advance), (small,))
    with pytest.raises(ValueError, match="must pass a valid rate"):
        stretch(spec)
    with pytest.warns(UserWarning, match="must be complex"):
        T.TimeStretch(n_freq=17, fixed_rate=2.0)(spec.abs())


def test_mel_spectrogram_and_mfcc_gradcheck():
    x = _wave(1, 48).requires_grad_()
    mel = T.MelSpectrogram(sample_rate=800, n_fft=16, hop_length=8, n_mels=4).to(ember.float64)
    assert gradcheck(mel, (x,))
    mfcc = T.MFCC(sample_rate=800, n_mfcc=3, log_mels=True, melkwargs={"n_fft": 16, "hop_length": 8, "n_mels": 4})
    assert gradcheck(mfcc.to(ember.float64), (x,))


def test_return_complex_is_deprecated():
    with pytest.warns(UserWarning, match="deprecated"):
        AF.spectrogram(ember.zeros(64), 0, ember.hann_window(16), 16, 4, 16, 2.0, False, return_complex=True)
    with pytest.warns(UserWarning, match="deprecated"):
        T.Spectrogram(n_fft=16, return_complex=False)


def test_empty_batches_keep_their_shape():
    assert T.Spectrogram(n_fft=64)(ember.zeros(0, 800)).shape == (0, 33, 26)
    assert T.MelSpectrogram(n_fft=64, n_mels=8)(ember.zeros(0, 3, 800)).shape == (0, 3, 8, 26)
    assert T.ComputeDeltas()(ember.zeros(0, 5)).shape == (0, 5)
    assert T.Fade(2, 2)(ember.zeros(0, 5)).shape == (0, 5)


def test_spectrogram_finds_a_tone():
    t = ember.arange(4000, dtype=ember.float64) / 4000
    spec = T.Spectrogram(n_fft=200)(ember.sin(2 * np.pi * 500 * t))
    assert spec.shape == (101, 41) and (spec[:, 5:-5].argmax(0) == 25).all()  # 500 Hz = bin 500 * 200 / 4000


@pytest.mark.parametrize("make, error, match", [
    (lambda: T.Spectrogram(normalized="energy")(ember.zeros(800)), ValueError, "Invalid normalized parameter"),
    (lambda: T.Spectrogram(n_fft=64, win_length=80)(ember.zeros(800)), RuntimeError, "win_length"),
    (lambda: T.MFCC(dct_type=3), ValueError, "DCT type not supported"),
    (lambda: T.MFCC(n_mfcc=50, melkwargs={"n_mels": 40}), ValueError, "more MFCC coefficients"),
])
def test_spectral_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ---------------------------------------------------------------- resampling

def test_resample_caches_its_kernel_as_a_non_persistent_buffer():
    r = T.Resample(44100, 16000)
    assert r.kernel.shape == (160, 1, 475) and r.kernel.dtype == ember.float32
    assert "kernel" not in r.state_dict() and any(b is r.kernel for b in r.buffers())
    x = _wave(2, 882, dtype=ember.float32)
    # the module's kernel is built in float64, the function's in the waveform's float32 (as in torchaudio)
    np.testing.assert_allclose(r(x).numpy(), AF.resample(x, 44100, 16000).numpy(), atol=1e-5)
    assert T.Resample(16000, 16000)(x) is x


def test_resample_module_gradcheck_and_float64_kernel():
    r = T.Resample(3, 2, lowpass_filter_width=3, dtype=ember.float64)
    assert r.kernel.dtype == ember.float64
    assert gradcheck(r, (_wave(2, 17).requires_grad_(),))


def test_speed_and_speed_perturbation():
    x = _wave(1, 1600, dtype=ember.float32)
    out, lengths = T.Speed(16000, 1.25)(x, ember.tensor([1600]))
    assert out.shape == (1, 1280) and lengths.tolist() == [1280]
    perturb = T.SpeedPerturbation(16000, [0.9, 1.0, 1.1])
    ember.manual_seed(0)
    seen = {perturb(x)[0].shape[-1] for _ in range(30)}
    assert seen == {1778, 1600, 1455}  # every factor is drawn
    ember.manual_seed(1)
    first = [perturb(x)[0].shape[-1] for _ in range(5)]
    ember.manual_seed(1)
    assert [perturb(x)[0].shape[-1] for _ in range(5)] == first  # Ember's generator drives the choice


# ---------------------------------------------------------------- amplitude and features

def test_modules_gradcheck():
    spec = (_wave(2, 9, 4) ** 2 + 0.1).requires_grad_()
    assert gradcheck(T.AmplitudeToDB(top_db=4.0), (spec,))
    assert gradcheck(T.MelScale(n_mels=3, sample_rate=800, n_stft=9), (spec,))
    assert gradcheck(T.ComputeDeltas(win_length=3), (spec,))
    wave = (_wave(2, 12) * 0.4).requires_grad_()
    assert gradcheck(T.Fade(4, 3, "half_sine"), (wave,))
    assert gradcheck(T.Vol(3.0, "db"), (wave,))


def test_melscale_keeps_the_input_dtype_and_accepts_views():
    m = T.MelScale(n_mels=8, sample_rate=16000, n_stft=33)
    spec = _wave(3, 20, 33).abs().transpose(-1, -2)  # (3, 33, 20), non-contiguous
    out = m(spec)
    assert out.dtype == ember.float64 and out.shape == (3, 8, 20)
    np.testing.assert_allclose(out.numpy(), m(spec.contiguous()).numpy())


def test_fade_keeps_float32_envelope_and_handles_full_length_fades():
    out = T.Fade(5, 5)(ember.ones(5))
    assert out.tolist() == pytest.approx([0.0, 0.1875, 0.25, 0.1875, 0.0])  # fade-in x fade-out


def test_mu_law_modules_round_trip():
    x = _wave(3, 10, dtype=ember.float32)
    back = T.MuLawDecoding(256)(T.MuLawEncoding(256)(x))
    assert back.dtype == ember.float32 and np.abs(back.numpy() - x.numpy()).max() < 0.04


@pytest.mark.parametrize("make, error, match", [
    (lambda: T.AmplitudeToDB(top_db=-1.0), ValueError, "top_db must be positive"),
    (lambda: T.AmplitudeToDB("energy"), ValueError, "stype"),
    (lambda: T.Vol(-0.5), ValueError, "gain must be positive"),
    (lambda: T.Vol(0.5, "loud"), ValueError, "gain_type"),
    (lambda: T.Fade(2, 2, "cubic"), ValueError, "fade_shape"),
    (lambda: T.MelScale(f_min=9000.0, sample_rate=16000), ValueError, "f_min"),
    (lambda: T.TimeMasking(5, p=1.5), ValueError, "between 0.0 and 1.0"),
    (lambda: T.Resample(44100, 16000, resampling_method="linear"), ValueError, "Invalid resampling method"),
])
def test_constructor_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ---------------------------------------------------------------- SpecAugment masks

def _masked_spans(out, axis):
    """Per leading index: the positions along ``axis`` where every cell is masked (value 0)."""
    zero = (out == 0).numpy()
    other = -1 if axis == out.dim() - 2 else -2
    return zero.all(axis=other)


def _assert_one_contiguous_span(mask_row, max_width):
    idx = np.flatnonzero(mask_row)
    assert len(idx) < max_width
    if len(idx):
        assert idx[-1] - idx[0] + 1 == len(idx)  # contiguous


def test_time_masking_iid_masks_are_contiguous_and_independent():
    ember.manual_seed(0)
    out = T.TimeMasking(time_mask_param=10, iid_masks=True)(ember.ones(200, 1, 4, 30))
    spans = _masked_spans(out, 3)[:, 0]  # (200, 30)
    for row in spans:
        _assert_one_contiguous_span(row, 10)
    widths = spans.sum(-1)
    # width = floor(U * 10): uniform on 0..9, mean 4.5
    assert 3.9 < widths.mean() < 5.1 and len({tuple(r) for r in spans}) > 50
    assert ((out == 0) | (out == 1)).all()


def test_frequency_masking_shared_mask_and_mask_value():
    ember.manual_seed(3)
    spec = _wave(4, 2, 16, 10).abs() + 1
    out = T.FrequencyMasking(freq_mask_param=8)(spec, mask_value=0.0)
    spans = _masked_spans(out, 2).reshape(8, 16)
    assert (spans == spans[0]).all()  # one mask for every example and channel
    _assert_one_contiguous_span(spans[0], 8)
    kept = ~spans[0]
    np.testing.assert_array_equal(out.numpy()[:, :, kept], spec.numpy()[:, :, kept])


def test_masking_p_caps_the_width_and_seed_repeats():
    ember.manual_seed(0)
    out = AF.mask_along_axis_iid(ember.ones(300, 1, 3, 20), 15, 0.0, axis=3, p=0.2)
    assert _masked_spans(out, 3).sum(-1).max() < 4  # min(15, int(20 * 0.2)) = 4
    assert AF.mask_along_axis(ember.ones(3, 20), 15, 0.0, axis=1, p=0.01) .eq(1).all()  # width cap 0: untouched
    ember.manual_seed(7)
    a = T.TimeMasking(6)(ember.ones(1, 5, 40))
    ember.manual_seed(7)
    assert (T.TimeMasking(6)(ember.ones(1, 5, 40)) == a).all()


def test_masking_gradient_is_zero_inside_the_mask():
    ember.manual_seed(2)
    x = ember.ones(1, 6, 12, requires_grad=True)
    out = AF.mask_along_axis(x, 6, 0.0, axis=2)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (out != 0).to(ember.float32).numpy())


@pytest.mark.parametrize("fn, args, match", [
    (AF.mask_along_axis, (ember.ones(5), 3, 0.0, 0), "at least two dimensions"),
    (AF.mask_along_axis_iid, (ember.ones(4, 5), 3, 0.0, 1), "at least three dimensions"),
    (AF.mask_along_axis, (ember.ones(2, 4, 5), 3, 0.0, 0), "Only Frequency and Time masking"),
    (AF.mask_along_axis_iid, (ember.ones(2, 4, 5), 3, 0.0, 2, 2.0), "between 0.0 and 1.0"),
])
def test_masking_errors(fn, args, match):
    with pytest.raises(ValueError, match=match):
        fn(*args)


# ---------------------------------------------------------------- registration

def test_every_transform_is_registered_with_its_functional():
    from ember.plugins.registry import PluginRegistry, Registry

    from ember_audio.transforms import _registry

    reg = Registry("transforms")
    PluginRegistry(reg, "audio").add_all(_registry.TRANSFORMS)
    exported = {getattr(T, n) for n in T.__all__}
    assert {e.obj for e in reg.entries()} == exported
    entry = reg.get("amplitude_to_db")
    assert entry.canonical == "audio:amplitude_to_db" and entry.obj is T.AmplitudeToDB
    assert entry.functional is AF.amplitude_to_DB and reg.get("resample").functional is AF.resample
    assert reg.get("mu_law_encoding").obj is T.MuLawEncoding
    assert all(e.metadata["modality"] == "audio" for e in reg.entries())


def test_transforms_reach_the_hub():
    assert "audio:resample" in ember.hub.list_transforms(modality="audio")
