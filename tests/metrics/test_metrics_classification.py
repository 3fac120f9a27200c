"""Classification metrics against scikit-learn (and NumPy definitions where sklearn has no twin)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn import metrics as skm

import ember
from ember.testing import assert_close
import ember_metrics as em
from ember_metrics import functional as F

N, C, L = 90, 4, 3


def T(x, dtype=None):
    return ember.tensor(np.asarray(x), dtype=dtype)


def close(actual, expected, tol=1e-5):
    assert_close(actual, np.asarray(expected, dtype=np.float64).astype(actual.numpy().dtype), rtol=tol, atol=tol)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    scores = rng.random((N, C)).astype(np.float32)
    scores[:, 3] *= 0.3  # class 3 is rarely predicted
    target_mc = rng.integers(0, C, N)
    target_mc[target_mc == 2] = rng.integers(0, 2, (target_mc == 2).sum())  # class 2 never occurs in target
    probs_ml = rng.random((N, L)).astype(np.float32)
    return {
        "p_bin": rng.random(N).astype(np.float32), "t_bin": rng.integers(0, 2, N),
        "scores": scores, "probs": scores / scores.sum(1, keepdims=True), "t_mc": target_mc,
        "p_ml": probs_ml, "t_ml": (rng.random((N, L)) < 0.4).astype(np.int64),
    }


def _sk_ratio(name, y, p, average, labels=None):
    fn = {"precision": skm.precision_score, "recall": skm.recall_score, "f1_score": skm.f1_score}
    if name == "fbeta_score":
        return skm.fbeta_score(y, p, beta=2.0, average=average, labels=labels, zero_division=0)
    if name == "accuracy":
        return skm.recall_score(y, p, average=average, labels=labels, zero_division=0)
    return fn[name](y, p, average=average, labels=labels, zero_division=0)


def _spec_per_class(y, p, labels):
    mcm = skm.multilabel_confusion_matrix(y, p, labels=labels)
    tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), 0.0), mcm


FUNCS = {"accuracy": F.accuracy, "precision": F.precision, "recall": F.recall, "f1_score": F.f1_score,
         "fbeta_score": lambda *a, **k: F.fbeta_score(*a, beta=2.0, **k), "specificity": F.specificity}


# ---- stat-score metrics ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(FUNCS))
def test_binary_against_sklearn(data, name):
    p, t = data["p_bin"], data["t_bin"]
    labels = (p > 0.5).astype(int)
    expected = {"accuracy": skm.accuracy_score(t, labels),
                "specificity": skm.recall_score(t, labels, pos_label=0)}.get(name)
    if expected is None:
        expected = _sk_ratio(name, t, labels, "binary")
    close(FUNCS[name](T(p), T(t), task="binary"), expected)
    logits = np.log(p / (1 - p))  # scores outside [0, 1] are logits: same decisions after the sigmoid
    close(FUNCS[name](T(logits), T(t), task="binary"), expected)
    close(FUNCS[name](T(labels), T(t), task="binary"), expected)  # integer predictions are labels


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "none"])
@pytest.mark.parametrize("name", list(FUNCS))
def test_multiclass_against_sklearn(data, name, average):
    s, t = data["scores"], data["t_mc"]
    pred = s.argmax(1)
    res = FUNCS[name](T(s), T(t), task="multiclass", num_classes=C, average=average)
    assert res.dtype == ember.float32
    if name == "specificity":
        spec, mcm = _spec_per_class(t, pred, list(range(C)))
        tp, fp, fn, tn = mcm[:, 1, 1], mcm[:, 0, 1], mcm[:, 1, 0], mcm[:, 0, 0]
        present = tp + fp + fn > 0
        expected = {"micro": tn.sum() / (tn.sum() + fp.sum()), "none": spec,
                    "macro": spec[present].mean(),
                    "weighted": (spec * (tp + fn)).sum() / (tp + fn).sum()}[average]
    elif average == "none":
        expected = _sk_ratio(name, t, pred, None, labels=list(range(C)))
    elif name == "accuracy" and average == "micro":
        expected = skm.accuracy_score(t, pred)
    else:
        expected = _sk_ratio(name, t, pred, average)
    close(res, expected)
    # label predictions give the same counts as scores
    close(FUNCS[name](T(pred), T(t), task="multiclass", num_classes=C, average=average), expected)


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "none"])
@pytest.mark.parametrize("name", list(FUNCS))
def test_multilabel_against_sklearn(data, name, average):
    p, t = data["p_ml"], data["t_ml"]
    pred = (p > 0.5).astype(int)
    res = FUNCS[name](T(p), T(t), task="multilabel", num_labels=L, average=average)
    sk_avg = None if average == "none" else average
    if name in ("accuracy", "specificity"):
        tp = (pred & t).sum(0)
        fp = (pred & (1 - t)).sum(0)
        fn = ((1 - pred) & t).sum(0)
        tn = ((1 - pred) & (1 - t)).sum(0)
        num, den = (tp + tn, tp + tn + fp + fn) if name == "accuracy" else (tn, tn + fp)
        per = num / den
        expected = {"micro": num.sum() / den.sum(), "macro": per.mean(), "none": per,
                    "weighted": (per * (tp + fn)).sum() / (tp + fn).sum()}[average]
        if name == "accuracy" and average == "micro":
            assert np.isclose(expected, 1 - skm.hamming_loss(t, pred))
    else:
        expected = _sk_ratio(name, t, pred, sk_avg)
    close(res, expected)


def test_top_k(data):
    s, t = data["scores"], data["t_mc"]
    close(F.multiclass_accuracy(T(s), T(t), C, average="micro", top_k=2),
          skm.top_k_accuracy_score(t, s, k=2, labels=list(range(C))))
    top2 = np.argsort(-s, axis=1)[:, :2]
    in_top = np.zeros((N, C), bool)
    np.put_along_axis(in_top, top2, True, axis=1)
    onehot = t[:, None] == np.arange(C)
    tp = (in_top & onehot).sum(0)
    fp = (in_top & ~onehot).sum(0)
    close(F.multiclass_precision(T(s), T(t), C, average=None, top_k=2), tp / (tp + fp))
    with pytest.raises(ValueError, match="`top_k` to be smaller or equal to `num_classes`"):
        F.multiclass_accuracy(T(s), T(t), C, top_k=5)


@pytest.mark.parametrize("ignore", [-1, 0])
def test_ignore_index_drops_entries(data, ignore):
    s, t = data["scores"], data["t_mc"].copy()
    t[::5] = ignore
    keep = t != ignore
    pred = s.argmax(1)
    for average in ("micro", "macro", "none"):
        res = F.multiclass_precision(T(s), T(t), C, average=average, ignore_index=ignore)
        if average == "none":
            exp = skm.precision_score(t[keep], pred[keep], labels=list(range(C)), average=None, zero_division=0)
        else:
            exp = skm.precision_score(t[keep], pred[keep], average=average, zero_division=0)
        close(res, exp)
    # samplewise / top-k paths ignore the same entries
    close(F.multiclass_recall(T(s), T(t), C, average="micro", top_k=1, ignore_index=ignore),
          skm.recall_score(t[keep], pred[keep], average="micro"))
    pb, tb = data["p_bin"], data["t_bin"].copy()
    tb[::4] = -100
    kb = tb != -100
    close(F.binary_f1_score(T(pb), T(tb), ignore_index=-100), skm.f1_score(tb[kb], (pb[kb] > 0.5).astype(int)))
    tm = data["t_ml"].copy()
    tm[::3, 1] = -1
    res = F.multilabel_recall(T(data["p_ml"]), T(tm), L, average=None, ignore_index=-1)
    pm = data["p_ml"] > 0.5
    exp = [skm.recall_score(tm[tm[:, k] != -1, k], pm[tm[:, k] != -1, k]) for k in range(L)]
    close(res, exp)


def test_samplewise(rng):
    p = rng.random((6, 15)).astype(np.float32)
    tb = rng.integers(0, 2, (6, 15))
    res = F.binary_precision(T(p), T(tb), multidim_average="samplewise")
    assert tuple(res.shape) == (6,)
    close(res, [skm.precision_score(tb[i], p[i] > 0.5, zero_division=0) for i in range(6)])
    s = rng.random((5, C, 12)).astype(np.float32)
    tm = rng.integers(0, C, (5, 12))
    res = F.multiclass_recall(T(s), T(tm), C, average="macro", multidim_average="samplewise")
    close(res, [skm.recall_score(tm[i], s[i].argmax(0), average="macro", zero_division=0) for i in range(5)])
    m = em.MulticlassAccuracy(C, average=None, multidim_average="samplewise")
    m.update(T(s[:2]), T(tm[:2]))
    m.update(T(s[2:]), T(tm[2:]))
    close(m.compute(), F.multiclass_accuracy(T(s), T(tm), C, average=None, multidim_average="samplewise").numpy())
    with pytest.raises(ValueError, match="at least 2D when multidim_average is set to `samplewise`"):
        F.binary_accuracy(T(p[0]), T(tb[0]), multidim_average="samplewise")


def test_stat_scores(data):
    s, t = data["scores"], data["t_mc"]
    mcm = skm.multilabel_confusion_matrix(t, s.argmax(1), labels=list(range(C)))
    res = F.multiclass_stat_scores(T(s), T(t), C, average="none")
    exp = np.stack([mcm[:, 1, 1], mcm[:, 0, 1], mcm[:, 0, 0], mcm[:, 1, 0], mcm[:, 1, 1] + mcm[:, 1, 0]], 1)
    assert res.dtype == ember.int64
    np.testing.assert_array_equal(res.numpy(), exp)
    np.testing.assert_array_equal(F.stat_scores(T(s), T(t), "multiclass", num_classes=C).numpy(), exp.sum(0))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 9), extra=st.lists(st.integers(1, 3), max_size=2), c=st.integers(2, 5),
       split=st.integers(0, 9), seed=st.integers(0, 2 ** 16))
def test_multiclass_counts_any_shape_and_split(n, extra, c, split, seed):
    rng = np.random.default_rng(seed)
    scores = rng.random((n, c, *extra)).astype(np.float32)
    target = rng.integers(0, c, (n, *extra))
    pred = scores.argmax(1)
    k = np.arange(c).reshape((c,) + (1,) * (1 + len(extra)))
    p_k, t_k = pred[None] == k, target[None] == k  # (C, N, ...) one-vs-rest indicators
    axes = tuple(range(1, p_k.ndim))
    tp, fp, fn = (p_k & t_k).sum(axes), (p_k & ~t_k).sum(axes), (~p_k & t_k).sum(axes)
    expected = np.stack([tp, fp, pred.size - tp - fp - fn, fn, tp + fn], 1)
    m = em.MulticlassStatScores(c, average=None)
    split = min(split, n)
    m.update(T(scores[:split]), T(target[:split]))
    m.update(T(scores[split:]), T(target[split:]))
    np.testing.assert_array_equal(m.compute().numpy().reshape(c, 5), expected)
    cm = F.multiclass_confusion_matrix(T(pred), T(target), c)
    np.testing.assert_array_equal(cm.numpy(), np.bincount(target.reshape(-1) * c + pred.reshape(-1),
                                                          minlength=c * c).reshape(c, c))


# ---- confusion matrix, kappa, MCC --------------------------------------------------------------------------
@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix(data, normalize):
    s, t = data["scores"], data["t_mc"]
    res = F.confusion_matrix(T(s), T(t), "multiclass", num_classes=C, normalize=normalize)
    exp = skm.confusion_matrix(t, s.argmax(1), labels=list(range(C)), normalize=normalize)
    assert res.dtype == (ember.int64 if normalize is None else ember.float32)
    close(res, exp)
    pb, tb = data["p_bin"], data["t_bin"]
    close(F.confusion_matrix(T(pb), T(tb), "binary", normalize=normalize),
          skm.confusion_matrix(tb, pb > 0.5, labels=[0, 1], normalize=normalize))
    m = em.ConfusionMatrix(task="multilabel", num_labels=L)
    m.update(T(data["p_ml"]), T(data["t_ml"]))
    close(m.compute(), skm.multilabel_confusion_matrix(data["t_ml"], data["p_ml"] > 0.5))


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa(data, weights):
    s, t = data["scores"], data["t_mc"]
    close(F.cohen_kappa(T(s), T(t), "multiclass", num_classes=C, weights=weights),
          skm.cohen_kappa_score(t, s.argmax(1), weights=weights))
    pb, tb = data["p_bin"], data["t_bin"]
    close(F.cohen_kappa(T(pb), T(tb), "binary", threshold=0.3, weights=weights),
          skm.cohen_kappa_score(tb, (pb > 0.3).astype(int), weights=weights))


def test_matthews_corrcoef(data):
    s, t = data["scores"], data["t_mc"]
    close(F.matthews_corrcoef(T(s), T(t), "multiclass", num_classes=C), skm.matthews_corrcoef(t, s.argmax(1)))
    pb, tb = data["p_bin"], data["t_bin"]
    close(F.matthews_corrcoef(T(pb), T(tb), "binary"), skm.matthews_corrcoef(tb, pb > 0.5))
    pm, tm = data["p_ml"], data["t_ml"]
    close(F.matthews_corrcoef(T(pm), T(tm), "multilabel", num_labels=L),
          skm.matthews_corrcoef(tm.reshape(-1), (pm > 0.5).reshape(-1)))
    # degenerate cases, documented: perfect 1, inverted -1, undefined (constant predictions) 0 like sklearn
    y = T([0, 1, 1, 0])
    assert float(F.binary_matthews_corrcoef(y, y)) == 1.0
    assert float(F.binary_matthews_corrcoef(1 - y, y)) == -1.0
    assert float(F.binary_matthews_corrcoef(T([1, 1, 1, 1]), y)) == skm.matthews_corrcoef([0, 1, 1, 0], [1] * 4) == 0


# ---- ranking metrics ---------------------------------------------------------------------------------------
def test_binary_roc_prc_auroc_ap_exact(data):
    p = np.round(data["p_bin"], 1)  # many ties: thresholds are the distinct scores
    t = data["t_bin"]
    fpr, tpr, thr = F.roc(T(p), T(t), "binary")
    sk_fpr, sk_tpr, sk_thr = skm.roc_curve(t, p, drop_intermediate=False)
    close(fpr, sk_fpr)
    close(tpr, sk_tpr)
    close(thr[1:], sk_thr[1:])
    assert float(thr[0]) == 1.0
    prec, rec, thr = F.precision_recall_curve(T(p), T(t), "binary")
    sk_p, sk_r, sk_t = skm.precision_recall_curve(t, p)
    close(prec, sk_p)
    close(rec, sk_r)
    close(thr, sk_t)
    close(F.auroc(T(p), T(t), "binary"), skm.roc_auc_score(t, p))
    close(F.auroc(T(p), T(t), "binary", max_fpr=0.3), skm.roc_auc_score(t, p, max_fpr=0.3))
    close(F.average_precision(T(p), T(t), "binary"), skm.average_precision_score(t, p))


@pytest.mark.parametrize("average", ["macro", "weighted", "none"])
def test_multiclass_auroc_and_ap(data, average):
    probs = data["probs"]
    t = data["t_mc"].copy()
    t[:4] = 2  # let every class occur for the one-vs-rest reference
    res = F.auroc(T(probs), T(t), "multiclass", num_classes=C, average=average)
    if average == "none":
        exp = [skm.roc_auc_score(t == k, probs[:, k]) for k in range(C)]
    else:
        exp = skm.roc_auc_score(t, probs, multi_class="ovr", average=average)
    close(res, exp)
    ap = F.average_precision(T(probs), T(t), "multiclass", num_classes=C, average=average)
    per = np.array([skm.average_precision_score(t == k, probs[:, k]) for k in range(C)])
    support = np.bincount(t, minlength=C)
    close(ap, {"macro": per.mean(), "weighted": (per * support).sum() / support.sum(), "none": per}[average])
    # logits get a softmax: same ranking within a class column
    close(F.multiclass_auroc(T(np.log(probs)), T(t), C, average=average), res.numpy())


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "none"])
def test_multilabel_auroc_and_ap(data, average):
    p, t = data["p_ml"], data["t_ml"]
    sk_avg = None if average == "none" else average
    close(F.auroc(T(p), T(t), "multilabel", num_labels=L, average=average), skm.roc_auc_score(t, p, average=sk_avg))
    close(F.average_precision(T(p), T(t), "multilabel", num_labels=L, average=average),
          skm.average_precision_score(t, p, average=sk_avg))


def test_binned_curves_match_exact_on_the_data_thresholds(data):
    p, t = np.round(data["p_bin"], 2), data["t_bin"]
    thresholds = T(np.unique(p))
    close(F.binary_auroc(T(p), T(t), thresholds=thresholds), skm.roc_auc_score(t, p))
    close(F.binary_average_precision(T(p), T(t), thresholds=thresholds), skm.average_precision_score(t, p))
    assert abs(float(F.binary_auroc(T(p), T(t), thresholds=500)) - skm.roc_auc_score(t, p)) < 1e-2
    fpr, tpr, thr = F.binary_roc(T(p), T(t), thresholds=5)
    close(thr, [1.0, 0.75, 0.5, 0.25, 0.0])
    close(tpr, [((p >= x) & (t == 1)).sum() / t.sum() for x in thr.numpy()])
    close(fpr, [((p >= x) & (t == 0)).sum() / (t == 0).sum() for x in thr.numpy()])
    probs, tm = data["probs"], data["t_mc"].copy()
    tm[:4] = 2
    mc_thr = T(np.unique(probs))
    close(F.multiclass_auroc(T(probs), T(tm), C, average=None, thresholds=mc_thr),
          [skm.roc_auc_score(tm == k, probs[:, k]) for k in range(C)])
    fpr, tpr, thr = F.multilabel_roc(T(data["p_ml"]), T(data["t_ml"]), L, thresholds=[0.0, 0.5, 1.0])
    assert tuple(fpr.shape) == (L, 3) and tuple(thr.shape) == (3,)


@pytest.mark.filterwarnings("ignore:No positive samples:UserWarning")
def test_curve_metric_classes_accumulate_and_list_per_class(data):
    probs, t = data["probs"], data["t_mc"]
    m = em.ROC(task="multiclass", num_classes=C)
    m.update(T(probs[:50]), T(t[:50]))
    m.update(T(probs[50:]), T(t[50:]))
    fpr, tpr, thr = m.compute()
    assert isinstance(fpr, list) and len(fpr) == C
    for k in (0, 1, 3):
        sk_fpr, sk_tpr, _ = skm.roc_curve(t == k, probs[:, k], drop_intermediate=False)
        close(fpr[k], sk_fpr)
        close(tpr[k], sk_tpr)


@pytest.mark.filterwarnings("ignore:No positive samples:UserWarning")
def test_ranking_edge_cases():
    with pytest.warns(UserWarning, match="No positive samples in targets"):
        assert float(F.binary_auroc(T([0.1, 0.7]), T([0, 0]))) == 0.0
    assert np.isnan(float(F.binary_average_precision(T([0.1, 0.7]), T([0, 0]))))
    probs = T(np.full((4, 3), 1 / 3, dtype=np.float32))  # all-equal scores: chance level
    assert_close(F.multiclass_auroc(probs, T([0, 1, 0, 1]), 3, average=None)[:2], [0.5, 0.5])
    with pytest.warns(UserWarning, match="nan"):  # class 2 never occurs: its AP is nan and left out
        ap = F.multiclass_average_precision(probs, T([0, 1, 0, 1]), 3, average="macro")
    close(ap, 0.5)


# ---- calibration -------------------------------------------------------------------------------------------
def _ece_reference(conf, acc, n_bins, norm):
    edges = np.linspace(0, 1, n_bins + 1)
    gaps, props = [], []
    for i in range(n_bins + 1):  # the extra last bin holds confidences of exactly 1
        lo, hi = edges[i], edges[i + 1] if i < n_bins else np.inf
        sel = (conf >= lo) & (conf < hi)
        if sel.any():
            gaps.append(abs(acc[sel].mean() - conf[sel].mean()))
            props.append(sel.mean())
    gaps, props = np.array(gaps), np.array(props)
    return {"l1": (gaps * props).sum(), "l2": np.sqrt((gaps ** 2 * props).sum()), "max": gaps.max()}[norm]


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_calibration_error(data, norm):
    p, t = data["p_bin"], data["t_bin"]
    close(F.calibration_error(T(p), T(t), "binary", n_bins=10, norm=norm), _ece_reference(p, t, 10, norm))
    probs, tm = data["probs"], data["t_mc"]
    conf, acc = probs.max(1), (probs.argmax(1) == tm).astype(float)
    m = em.CalibrationError(task="multiclass", num_classes=C, n_bins=7, norm=norm)
    m.update(T(probs[:40]), T(tm[:40]))
    m.update(T(probs[40:]), T(tm[40:]))
    close(m.compute(), _ece_reference(conf, acc, 7, norm))


# ---- batched == one-shot, forward == functional on the batch -----------------------------------------------
BATCHED = [
    (lambda: em.Accuracy(task="multiclass", num_classes=C, average="macro"),
     lambda p, t: F.accuracy(p, t, "multiclass", num_classes=C, average="macro"), "scores", "t_mc"),
    (lambda: em.F1Score(task="multilabel", num_labels=L, average="weighted"),
     lambda p, t: F.f1_score(p, t, "multilabel", num_labels=L, average="weighted"), "p_ml", "t_ml"),
    (lambda: em.Specificity(task="binary"), lambda p, t: F.specificity(p, t, "binary"), "p_bin", "t_bin"),
    (lambda: em.AUROC(task="multiclass", num_classes=C, average="weighted"),
     lambda p, t: F.auroc(p, t, "multiclass", num_classes=C, average="weighted"), "probs", "t_mc"),
    (lambda: em.AveragePrecision(task="binary", thresholds=20),
     lambda p, t: F.average_precision(p, t, "binary", thresholds=20), "p_bin", "t_bin"),
    (lambda: em.CohenKappa(task="multiclass", num_classes=C, weights="linear"),
     lambda p, t: F.cohen_kappa(p, t, "multiclass", num_classes=C, weights="linear"), "scores", "t_mc"),
    (lambda: em.MatthewsCorrCoef(task="binary"), lambda p, t: F.matthews_corrcoef(p, t, "binary"), "p_bin", "t_bin"),
    (lambda: em.CalibrationError(task="binary"), lambda p, t: F.calibration_error(p, t, "binary"), "p_bin", "t_bin"),
]


@pytest.mark.parametrize("make,fn,pk,tk", BATCHED)
def test_batched_accumulation_equals_one_shot(data, make, fn, pk, tk):
    p, t = data[pk], data[tk]
    m = make()
    edges = [0, 17, 17, 60, N]  # uneven, with an empty batch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty batch's curve/kappa values are degenerate
        for a, b in zip(edges[:-1], edges[1:]):
            batch_val = m(T(p[a:b]), T(t[a:b]))
            if b - a > 1:
                close(batch_val, fn(T(p[a:b]), T(t[a:b])).numpy())
        close(m.compute(), fn(T(p), T(t)).numpy())


# ---- edge cases --------------------------------------------------------------------------------------------
def test_absent_class_and_constant_predictions():
    t = T([0, 0, 1, 1])
    pred = T([0, 0, 0, 0])  # all-equal predictions; class 2 neither occurs nor is predicted
    prec = F.multiclass_precision(pred, t, 3, average=None)
    close(prec, [0.5, 0.0, 0.0])  # classes never predicted: 0 (zero_division)
    close(F.multiclass_precision(pred, t, 3, average="macro"), 0.25)  # class 2 left out of the mean
    close(F.multiclass_precision(pred, t, 3, average=None, zero_division=1.0), [0.5, 1.0, 1.0])
    close(F.binary_precision(T([0, 0, 0, 0]), t), 0.0)
    close(F.binary_recall(T([1, 1, 1, 1]), t), 1.0)


def test_empty_updates():
    m = em.BinaryAccuracy()
    m.update(T(np.zeros(0, np.float32)), T(np.zeros(0, np.int64)))
    close(m.compute(), 0.0)
    m.update(T([0.9, 0.1]), T([1, 1]))
    close(m.compute(), 0.5)
    s = em.MulticlassRecall(3, multidim_average="samplewise")
    with pytest.warns(UserWarning):
        assert s.compute().numel() == 0
    c = em.ConfusionMatrix(task="multiclass", num_classes=3)
    c.update(T(np.zeros((0, 3), np.float32)), T(np.zeros(0, np.int64)))
    assert c.compute().sum().item() == 0
    a = em.BinaryAUROC()
    a.update(T(np.zeros(0, np.float32)), T(np.zeros(0, np.int64)))
    a.update(T([0.2, 0.8]), T([0, 1]))
    close(a.compute(), 1.0)


# ---- argument and input validation -------------------------------------------------------------------------
def test_validation_errors(data):
    s, t = T(data["scores"]), T(data["t_mc"])
    with pytest.raises(ValueError, match="Invalid Classification: expected one of"):
        F.accuracy(s, t, task="multi")
    with pytest.raises(ValueError, match="`num_classes` is expected to be `int`"):
        em.Accuracy(task="multiclass")
    with pytest.raises(ValueError, match="preds.shape\\[1\\]` should be equal to number of classes"):
        F.multiclass_accuracy(s, t, 5)
    with pytest.raises(RuntimeError, match="outside the valid class indices"):
        F.multiclass_accuracy(T([0, 1]), T([0, 7]), 3)
    with pytest.raises(RuntimeError, match="Detected the following values in `target`"):
        F.binary_accuracy(T([0.1, 0.2]), T([0, 2]))
    with pytest.raises(ValueError, match="should have the same shape"):
        F.binary_accuracy(T([0.1, 0.2]), T([0, 1, 1]))
    with pytest.raises(ValueError, match="to be an int or long tensor"):
        F.binary_accuracy(T([0.1, 0.2]), T([0.0, 1.0]))
    with pytest.raises(ValueError, match="Expected argument `average` to be one of"):
        em.Precision(task="multiclass", num_classes=3, average="samples")
    with pytest.raises(ValueError, match="`threshold` to be a float in the \\[0,1\\] range"):
        em.BinaryRecall(threshold=1.5)
    with pytest.raises(ValueError, match="`normalize` to be one of"):
        F.confusion_matrix(s, t, "multiclass", num_classes=C, normalize="rows")
    with pytest.raises(ValueError, match="expected it to be larger than 1"):
        em.BinaryROC(thresholds=1)
    with pytest.raises(ValueError, match="`max_fpr` should be a float in range"):
        F.binary_auroc(T([0.1]), T([1]), max_fpr=2.0)
    with pytest.raises(ValueError, match="floating tensor with probability/logit scores"):
        F.binary_auroc(T([0, 1]), T([1, 0]))
    with pytest.raises(ValueError, match="``weights`` but should be either None"):
        em.CohenKappa(task="binary", weights="cubic")
    with pytest.raises(ValueError, match="`norm` to be one of"):
        em.CalibrationError(task="binary", norm="l3")
    with pytest.raises(ValueError, match="not supported by this metric"):
        em.CohenKappa(task="multilabel", num_classes=3)


def test_task_wrappers_build_task_classes():
    assert type(em.Accuracy(task="binary")) is em.BinaryAccuracy
    acc = em.Accuracy(task="multiclass", num_classes=10, top_k=2)
    assert type(acc) is em.MulticlassAccuracy and acc.top_k == 2 and acc.average == "micro"
    assert type(em.FBetaScore(task="multilabel", num_labels=3, beta=0.5)) is em.MultilabelFBetaScore
    assert type(em.AUROC(task="multiclass", num_classes=3)) is em.MulticlassAUROC
    assert em.MulticlassAccuracy(3).average == "macro"  # task classes default to macro, as torchmetrics
    assert em.BinaryAccuracy.higher_is_better and not em.BinaryAccuracy.is_differentiable


@pytest.mark.filterwarnings("ignore:No positive samples:UserWarning")
def test_on_accelerator(accel, data):
    s, t = T(data["scores"]).to("accel:1"), T(data["t_mc"]).to("accel:1")
    m = em.Accuracy(task="multiclass", num_classes=C).to("accel:1")
    m.update(s, t)
    res = m.compute()
    assert res.device == ember.device("accel:1")
    close(res.cpu(), skm.accuracy_score(data["t_mc"], data["scores"].argmax(1)))
    a = em.AUROC(task="multiclass", num_classes=C).to("accel:1")
    a.update(s.softmax(-1), t)
    assert a.compute().device == ember.device("accel:1")
    assert F.confusion_matrix(s, t, "multiclass", num_classes=C).device == ember.device("accel:1")
