"""Text metrics: perplexity of language-model logits, character/word error rates and BLEU.

Strings are host data: CER, WER and BLEU compute on the CPU; perplexity runs on the logits' device
and is differentiable.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

import ember
from ember import Tensor

from ..utilities._array import as_tensor

__all__ = ["perplexity", "char_error_rate", "word_error_rate", "bleu_score"]


# ---- perplexity -------------------------------------------------------------------------------------------
def perplexity_update(preds: Tensor, target: Tensor, ignore_index: int | None = None) -> tuple[Tensor, Tensor]:
    """Sum of negative log-likelihoods of the targets and the number of counted tokens."""
    preds, target = as_tensor(preds), as_tensor(target)
    if preds.ndim != 3:
        raise ValueError("Input tensor `preds` is expected to have 3 dimensions, [batch_size, seq_len, vocab_size], "
                         f"but got {preds.ndim}.")
    if target.ndim != 2:
        raise ValueError("Input tensor `target` is expected to have 2 dimensions, [batch_size, seq_len], but got "
                         f"{target.ndim}.")
    if tuple(preds.shape[:2]) != tuple(target.shape):
        raise ValueError("Input tensors `preds` and `target` are expected to have equaling first two dimensions, "
                         f"[batch_size, seq_len], but got {tuple(preds.shape[:2])} and {tuple(target.shape)}.")
    if not preds.is_floating_point():
        raise TypeError(f"Input tensor `preds` is expected to be of floating point type but got {preds.dtype}.")
    if target.is_floating_point() or target.dtype is ember.bool:
        raise TypeError(f"Input tensor `target` is expected to be of an integer type but got {target.dtype}.")
    log_probs = preds.reshape(-1, preds.shape[-1]).log_softmax(dim=1)
    t = target.reshape(-1)
    if ignore_index is None:
        mask = ember.ones_like(t, dtype=ember.bool)
    else:
        mask = t != ignore_index
        t = ember.where(mask, t, ember.zeros_like(t))
    token_lp = log_probs.gather(1, t.unsqueeze(1)).squeeze(1)
    nll = -ember.where(mask, token_lp, ember.zeros_like(token_lp)).sum()
    return nll, mask.sum()


def perplexity(preds: Tensor, target: Tensor, ignore_index: int | None = None) -> Tensor:
    """``exp(mean negative log-likelihood)`` of ``target`` (B, S) tokens under ``preds`` (B, S, V) logits.

    Tokens equal to ``ignore_index`` are skipped; with no counted token the result is ``nan``.
    """
    nll, count = perplexity_update(preds, target, ignore_index)
    return (nll / count).exp()


# ---- edit distance -----------------------------------------------------------------------------------------
def edit_distance(a: np.ndarray, b: np.ndarray) -> int:
    """Levenshtein distance of two integer sequences (unit insert/delete/substitute costs).

    One vectorised pass per element of the shorter sequence: the row recurrence
    ``d[j] = min(t[j], d[j-1] + 1)`` is a running minimum of ``t[k] - k``, shifted back by ``j``.
    """
    if len(a) > len(b):
        a, b = b, a
    n = len(b)
    cols = np.arange(n + 1)
    row = cols.copy()
    for i, token in enumerate(a, 1):
        best = np.minimum(row[:-1] + (b != token), row[1:] + 1)   # substitute/match, delete
        t = np.concatenate(([i], best))
        row = np.minimum.accumulate(t - cols) + cols               # insert
    return int(row[n])


def _as_list(x, name: str) -> list[str]:
    if isinstance(x, str):
        return [x]
    x = list(x)
    if not all(isinstance(s, str) for s in x):
        raise TypeError(f"Expected argument `{name}` to be a string or a sequence of strings")
    return x


def _codes(tokens: list, vocab: dict) -> np.ndarray:
    return np.fromiter((vocab.setdefault(tok, len(vocab)) for tok in tokens), dtype=np.int64, count=len(tokens))


def error_rate_update(preds, target, split) -> tuple[int, int]:
    """Total edit distance between tokenised ``preds`` and ``target`` and the number of reference tokens."""
    preds, target = _as_list(preds, "preds"), _as_list(target, "target")
    if len(preds) != len(target):
        raise ValueError(f"Expected `preds` and `target` to have the same number of strings, got {len(preds)} and "
                         f"{len(target)}")
    errors = total = 0
    for p, t in zip(preds, target):
        vocab: dict = {}
        pt, tt = split(p), split(t)
        errors += edit_distance(_codes(pt, vocab), _codes(tt, vocab))
        total += len(tt)
    return errors, total


def _chars(s: str) -> list:
    return list(s)


def _words(s: str) -> list:
    return s.split()


def char_error_rate(preds: str | Sequence[str], target: str | Sequence[str]) -> Tensor:
    """Character edit distance over the number of reference characters (``nan`` for empty references).

    >>> char_error_rate(["this is the prediction", "there is an other sample"],
    ...                 ["this is the reference", "there is another one"])
    tensor(0.3415)
    """
    errors, total = error_rate_update(preds, target, _chars)
    return ember.tensor(errors) / ember.tensor(total)


def word_error_rate(preds: str | Sequence[str], target: str | Sequence[str]) -> Tensor:
    """Word (whitespace-separated) edit distance over the number of reference words."""
    errors, total = error_rate_update(preds, target, _words)
    return ember.tensor(errors) / ember.tensor(total)


# ---- BLEU ---------------------------------------------------------------------------------------------------
def _ngrams(tokens: list, n_gram: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for n in range(1, n_gram + 1) for i in range(len(tokens) - n + 1))


def bleu_inputs(preds, target, n_gram: int, weights):
    """Normalise inputs: a list of predictions and, for each, a list of references."""
    if not isinstance(n_gram, int) or n_gram < 1:
        raise ValueError(f"Expected argument `n_gram` to be a positive integer, got {n_gram}")
    if weights is not None and len(weights) != n_gram:
        raise ValueError(f"List of weights has different weights than `n_gram`: {len(weights)} != {n_gram}")
    preds = [preds] if isinstance(preds, str) else list(preds)
    target = [[t] if isinstance(t, str) else list(t) for t in target]
    if len(preds) != len(target):
        raise ValueError(f"Corpus has different size {len(preds)} != {len(target)}")
    return preds, target


def bleu_update(preds: list, target: list, n_gram: int):
    """Clipped n-gram matches and counts per order, prediction length and closest reference length."""
    numerator = np.zeros(n_gram)
    denominator = np.zeros(n_gram)
    preds_len = target_len = 0
    for pred, refs in zip(preds, target):
        p_tok = pred.split()
        r_toks = [r.split() for r in refs]
        preds_len += len(p_tok)
        if r_toks:  # the reference length closest to the prediction's (first such reference on ties)
            diffs = [abs(len(p_tok) - len(r)) for r in r_toks]
            target_len += len(r_toks[diffs.index(min(diffs))])
        p_counts = _ngrams(p_tok, n_gram)
        max_ref = Counter()
        for r in r_toks:
            max_ref |= _ngrams(r, n_gram)
        for gram, c in (p_counts & max_ref).items():
            numerator[len(gram) - 1] += c
        for gram, c in p_counts.items():
            denominator[len(gram) - 1] += c
    return numerator, denominator, preds_len, target_len


def bleu_compute(numerator, denominator, preds_len, target_len, n_gram: int, weights, smooth: bool) -> float:
    """Brevity penalty times the weighted geometric mean of the n-gram precisions.

    Without smoothing any order with no match makes the score 0; ``smooth=True`` adds one to the
    numerator and denominator of orders above 1 (Lin & Och, 2004).
    """
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    if numerator.min() == 0:
        return 0.0
    if smooth:
        precision = (numerator + 1) / (denominator + 1)
        precision[0] = numerator[0] / denominator[0]
    else:
        precision = numerator / denominator
    w = np.full(n_gram, 1.0 / n_gram) if weights is None else np.asarray(weights, float)
    geometric_mean = np.exp((w * np.log(precision)).sum())
    brevity = 1.0 if preds_len > target_len else np.exp(1 - target_len / preds_len)
    return float(brevity * geometric_mean)


def bleu_score(preds: str | Sequence[str], target: Sequence[str] | Sequence[Sequence[str]], n_gram: int = 4,
               smooth: bool = False, weights: Sequence[float] | None = None) -> Tensor:
    """Corpus BLEU of whitespace-tokenised predictions against one or more references each.

    >>> bleu_score(["the cat is on the mat"], [["there is a cat on the mat", "a cat is on the mat"]])
    tensor(0.7598)
    """
    preds, target = bleu_inputs(preds, target, n_gram, weights)
    num, den, pl, tl = bleu_update(preds, target, n_gram)
    return ember.tensor(bleu_compute(num, den, pl, tl, n_gram, weights, smooth), dtype=ember.float32)
