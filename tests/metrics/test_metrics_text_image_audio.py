"""Text, image and audio metrics against worked examples and direct NumPy / pure-Python definitions."""
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import ember
from ember.autograd import gradcheck
from ember.testing import assert_close
import ember_metrics as em
from ember_metrics import functional as F


def T(x, dtype=None):
    return ember.tensor(np.asarray(x), dtype=dtype)


def close(actual, expected, tol=1e-5):
    assert_close(actual, np.asarray(expected, dtype=np.float64).astype(actual.numpy().dtype), rtol=tol, atol=tol)


# ---- perplexity --------------------------------------------------------------------------------------------
def perplexity_ref(logits, target, ignore=None):
    lp = logits - logits.max(-1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
    keep = np.ones(target.shape, bool) if ignore is None else target != ignore
    picked = np.take_along_axis(lp, np.where(keep, target, 0)[..., None], -1)[..., 0]
    return np.exp(-picked[keep].mean())


def test_perplexity(rng):
    logits = rng.normal(size=(3, 7, 11)).astype(np.float32)
    target = rng.integers(0, 11, (3, 7))
    close(F.perplexity(T(logits), T(target)), perplexity_ref(logits, target), tol=1e-4)
    target[0, :3] = -100
    close(F.perplexity(T(logits), T(target), ignore_index=-100), perplexity_ref(logits, target, -100), tol=1e-4)
    m = em.Perplexity(ignore_index=-100)
    m.update(T(logits[:1]), T(target[:1]))
    m.update(T(logits[1:]), T(target[1:]))
    close(m.compute(), perplexity_ref(logits, target, -100), tol=1e-4)
    x = ember.tensor(rng.normal(size=(1, 3, 4)), requires_grad=True)
    assert gradcheck(lambda a: F.perplexity(a, T([[0, 3, 1]])), (x,))
    with pytest.raises(ValueError, match="expected to have 3 dimensions"):
        F.perplexity(T(logits[0]), T(target))
    with pytest.raises(ValueError, match="equaling first two dimensions"):
        F.perplexity(T(logits), T(target[:, :5]))
    with pytest.raises(TypeError, match="floating point type"):
        F.perplexity(T(target[..., None].repeat(2, -1)), T(target))


# ---- error rates -------------------------------------------------------------------------------------------
def levenshtein(a, b):
    """Textbook O(len(a) * len(b)) dynamic programme."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return d[len(a)][len(b)]


PREDS = ["this is the prediction", "there is an other sample"]
REFS = ["this is the reference", "there is another one"]


def test_error_rates_worked_examples():
    close(F.char_error_rate(PREDS, REFS), 0.3415, tol=1e-4)  # torchmetrics' documented values
    close(F.word_error_rate(PREDS, REFS), 0.5)
    wer = em.WordErrorRate()
    wer.update(PREDS[0], REFS[0])
    wer.update([PREDS[1]], [REFS[1]])
    close(wer.compute(), 0.5)
    cer = em.CharErrorRate()
    assert_close(cer(PREDS, REFS), F.char_error_rate(PREDS, REFS))
    close(F.word_error_rate(["a b c d"], ["x"]), 4.0)  # can exceed 1
    with pytest.raises(ValueError, match="same number of strings"):
        F.word_error_rate(["a", "b"], ["a"])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text("abc ", max_size=12), min_size=1, max_size=3),
       st.lists(st.text("abcd ", min_size=1, max_size=12), min_size=3, max_size=3))
def test_error_rates_match_textbook_dp(preds, refs):
    refs = refs[:len(preds)]
    chars = sum(levenshtein(p, r) for p, r in zip(preds, refs)) / sum(len(r) for r in refs)
    close(F.char_error_rate(preds, refs), chars)
    words = sum(levenshtein(p.split(), r.split()) for p, r in zip(preds, refs))
    n_words = sum(len(r.split()) for r in refs)
    if n_words:
        close(F.word_error_rate(preds, refs), words / n_words)


# ---- BLEU --------------------------------------------------------------------------------------------------
def bleu_ref(preds, refs, n_gram=4, smooth=False):
    """Papineni et al. with whitespace tokens, written out per order."""
    matches, totals = np.zeros(n_gram), np.zeros(n_gram)
    c = r = 0
    for pred, rs in zip(preds, refs):
        p, rs = pred.split(), [x.split() for x in rs]
        c += len(p)
        r += min((abs(len(x) - len(p)), i, len(x)) for i, x in enumerate(rs))[2]
        for n in range(1, n_gram + 1):
            grams = Counter(tuple(p[i:i + n]) for i in range(len(p) - n + 1))
            for g, k in grams.items():
                best = max(sum(1 for i in range(len(x) - n + 1) if tuple(x[i:i + n]) == g) for x in rs)
                matches[n - 1] += min(k, best)
            totals[n - 1] += sum(grams.values())
    if matches.min() == 0:
        return 0.0
    prec = matches / totals
    if smooth:
        prec[1:] = (matches[1:] + 1) / (totals[1:] + 1)
    bp = 1.0 if c > r else np.exp(1 - r / c)
    return bp * np.exp(np.mean(np.log(prec)))


def test_bleu():
    preds = ["the cat is on the mat"]
    refs = [["there is a cat on the mat", "a cat is on the mat"]]
    close(F.bleu_score(preds, refs), 0.7598, tol=1e-4)  # torchmetrics' documented example
    close(F.bleu_score(preds, refs), bleu_ref(preds, refs))
    close(F.bleu_score(["the cat sat"], [["the cat sat on the mat"]], n_gram=2), np.exp(-1.0))  # brevity penalty
    corpus_p = ["the quick brown fox jumps", "a b c d e f", "hello there general kenobi"]
    corpus_r = [["the fast brown fox jumps high"], ["a b d c e f", "a b c e"], ["hello there general"]]
    for smooth in (False, True):
        close(F.bleu_score(corpus_p, corpus_r, smooth=smooth), bleu_ref(corpus_p, corpus_r, smooth=smooth))
        m = em.BLEUScore(smooth=smooth)
        m.update(corpus_p[:1], corpus_r[:1])
        m.update(corpus_p[1:], corpus_r[1:])
        close(m.compute(), bleu_ref(corpus_p, corpus_r, smooth=smooth))
    assert float(F.bleu_score(["x y z"], [["a b c"]])) == 0.0  # no match of some order
    close(F.bleu_score(corpus_p, corpus_r, n_gram=2, weights=[0.25, 0.75]),
          _weighted(corpus_p, corpus_r, [0.25, 0.75]))
    with pytest.raises(ValueError, match="List of weights has different weights than `n_gram`"):
        em.BLEUScore(n_gram=2, weights=[1.0])
    with pytest.raises(ValueError, match="Corpus has different size"):
        F.bleu_score(["a"], [["a"], ["b"]])


def _weighted(preds, refs, w):
    b1, b2 = bleu_ref(preds, refs, 1), bleu_ref(preds, refs, 2)
    # with BP the same for every order: log b1 = log BP + log p1, log b2 = log BP + (log p1 + log p2) / 2
    c = sum(len(p.split()) for p in preds)
    r = sum(min((abs(len(x.split()) - len(p.split())), i, len(x.split())) for i, x in enumerate(rs))[2]
            for p, rs in zip(preds, refs))
    log_bp = 0.0 if c > r else 1 - r / c
    lp1 = np.log(b1) - log_bp
    lp2 = 2 * (np.log(b2) - log_bp) - lp1
    return np.exp(log_bp + w[0] * lp1 + w[1] * lp2)


# ---- PSNR --------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # identical images: +inf
def test_psnr(rng):
    p = rng.random((4, 3, 8, 8))
    t = np.clip(p + rng.normal(size=p.shape) * 0.1, 0, 1)
    mse = ((p - t) ** 2).mean()
    close(F.peak_signal_noise_ratio(T(p), T(t)), 10 * np.log10((t.max() - t.min()) ** 2 / mse))
    close(F.peak_signal_noise_ratio(T(p), T(t), data_range=1.0, base=2.0), 10 * np.log2(1.0 / mse))
    per_image = 10 * np.log10(1.0 / ((p - t) ** 2).mean(axis=(1, 2, 3)))
    close(F.peak_signal_noise_ratio(T(p), T(t), data_range=1.0, dim=(1, 2, 3), reduction="none"), per_image)
    close(F.peak_signal_noise_ratio(T(p), T(t), data_range=(0.2, 0.8)),
          10 * np.log10(0.36 / ((np.clip(p, 0.2, 0.8) - np.clip(t, 0.2, 0.8)) ** 2).mean()))
    m = em.PeakSignalNoiseRatio()  # data range tracked over all batches
    m.update(T(p[:1]), T(t[:1]))
    m.update(T(p[1:]), T(t[1:]))
    close(m.compute(), F.peak_signal_noise_ratio(T(p), T(t)).numpy())
    d = em.PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3), reduction="elementwise_mean")
    d.update(T(p[:3]), T(t[:3]))
    d.update(T(p[3:]), T(t[3:]))
    close(d.compute(), per_image.mean())
    assert float(F.peak_signal_noise_ratio(T(p), T(p), data_range=1.0)) == np.inf  # identical images
    with pytest.raises(ValueError, match="`data_range` must be given when `dim` is not None"):
        em.PeakSignalNoiseRatio(dim=1)


# ---- SSIM --------------------------------------------------------------------------------------------------
def ssim_ref(x, y, data_range, k=11, sigma=1.5, gaussian=True, k1=0.01, k2=0.03):
    """Per-image SSIM: 2-d Gaussian window (not separated) over every window inside the image."""
    r = np.arange(k) - (k - 1) / 2
    w = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma ** 2)) if gaussian else np.ones((k, k))
    w /= w.sum()

    def filt(a):
        return np.einsum("...ij,ij->...", sliding_window_view(a, (k, k), axis=(-2, -1)), w)

    mx, my = filt(x), filt(y)
    vx, vy, cxy = filt(x * x) - mx ** 2, filt(y * y) - my ** 2, filt(x * y) - mx * my
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return s.reshape(len(x), -1).mean(-1)


def test_ssim(rng):
    x = rng.random((3, 2, 20, 18))
    y = np.clip(x + rng.normal(size=x.shape) * 0.2, 0, 1)
    dr = max(x.max() - x.min(), y.max() - y.min())
    close(F.structural_similarity_index_measure(T(x), T(y)), ssim_ref(x, y, dr).mean())
    close(F.structural_similarity_index_measure(T(x), T(y), data_range=1.0, reduction="none"), ssim_ref(x, y, 1.0))
    close(F.structural_similarity_index_measure(T(x), T(y), gaussian_kernel=False, kernel_size=7, data_range=1.0,
                                                reduction="sum"), ssim_ref(x, y, 1.0, k=7, gaussian=False).sum())
    close(F.structural_similarity_index_measure(T(x), T(x), data_range=1.0), 1.0)
    m = em.StructuralSimilarityIndexMeasure(data_range=1.0)
    m.update(T(x[:1]).float(), T(y[:1]).float())
    m.update(T(x[1:]).float(), T(y[1:]).float())
    close(m.compute(), ssim_ref(x, y, 1.0).mean(), tol=1e-4)
    a = ember.tensor(rng.random((1, 1, 4, 4)), requires_grad=True)
    assert gradcheck(lambda v: F.structural_similarity_index_measure(v, T(y[:1, :1, :4, :4]), kernel_size=3,
                                                                       sigma=0.8, data_range=1.0), (a,))
    with pytest.raises(ValueError, match="BxCxHxW"):
        F.structural_similarity_index_measure(T(x[0]), T(y[0]))
    with pytest.raises(ValueError, match="odd positive number"):
        em.StructuralSimilarityIndexMeasure(kernel_size=4)


# ---- audio -------------------------------------------------------------------------------------------------
def snr_ref(p, t, zero_mean=False):
    if zero_mean:
        p, t = p - p.mean(-1, keepdims=True), t - t.mean(-1, keepdims=True)
    return 10 * np.log10((t ** 2).sum(-1) / ((t - p) ** 2).sum(-1))


def si_sdr_ref(p, t, zero_mean=False):
    if zero_mean:
        p, t = p - p.mean(-1, keepdims=True), t - t.mean(-1, keepdims=True)
    s = ((p * t).sum(-1, keepdims=True) / (t * t).sum(-1, keepdims=True)) * t
    return 10 * np.log10((s ** 2).sum(-1) / ((s - p) ** 2).sum(-1))


@pytest.mark.parametrize("zero_mean", [False, True])
def test_snr_and_si_sdr(rng, zero_mean):
    t = rng.normal(size=(2, 3, 50)) + 0.5
    p = t + rng.normal(size=t.shape) * 0.3
    close(F.signal_noise_ratio(T(p), T(t), zero_mean=zero_mean), snr_ref(p, t, zero_mean))
    close(F.scale_invariant_signal_distortion_ratio(T(p), T(t), zero_mean=zero_mean), si_sdr_ref(p, t, zero_mean))
    close(F.scale_invariant_signal_distortion_ratio(T(3 * p), T(t), zero_mean=zero_mean), si_sdr_ref(p, t, zero_mean))
    for cls, ref in ((em.SignalNoiseRatio, snr_ref), (em.ScaleInvariantSignalDistortionRatio, si_sdr_ref)):
        m = cls(zero_mean=zero_mean)
        m.update(T(p[:1]).float(), T(t[:1]).float())
        m.update(T(p[1:]).float(), T(t[1:]).float())
        close(m.compute(), ref(p, t, zero_mean).mean(), tol=1e-4)
    a = ember.tensor(p[0, 0, :6], requires_grad=True)
    assert gradcheck(lambda v: F.scale_invariant_signal_distortion_ratio(v, T(t[0, 0, :6])), (a,))
    assert gradcheck(lambda v: F.signal_noise_ratio(v, T(t[0, 0, :6])), (a,))


def test_image_and_audio_on_accelerator(accel, rng):
    x = T(rng.random((1, 1, 12, 12))).float().to("accel:1")
    m = em.StructuralSimilarityIndexMeasure().to("accel:1")
    m.update(x, x)
    assert m.compute().device == ember.device("accel:1")
    s = em.SignalNoiseRatio().to("accel:1")
    s.update(x.reshape(1, -1) * 0.5, x.reshape(1, -1))  # noise = half the signal: 20 log10(2) dB
    close(s.compute().cpu(), 20 * np.log10(2.0), tol=1e-4)
