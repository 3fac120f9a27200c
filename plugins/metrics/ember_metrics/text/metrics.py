"""Text metrics: Perplexity, CharErrorRate, WordErrorRate, BLEUScore."""
from __future__ import annotations

from typing import Any, Sequence

import ember
from ember import Tensor

from ..functional import text as F
from ..metric import Metric

__all__ = ["Perplexity", "CharErrorRate", "WordErrorRate", "BLEUScore"]


class Perplexity(Metric):
    """``exp`` of the mean negative log-likelihood of ``target`` (B, S) under ``preds`` (B, S, V) logits;
    tokens equal to ``ignore_index`` are skipped (``nan`` when no token was counted).

    States: the summed negative log-likelihood and the token count.
    """

    is_differentiable = True
    higher_is_better = False
    full_state_update = False

    def __init__(self, ignore_index: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if ignore_index is not None and not isinstance(ignore_index, int):
            raise ValueError(f"Argument `ignore_index` expected to either be `None` or an `int` but got {ignore_index}")
        self.ignore_index = ignore_index
        self.add_state("total_log_probs", ember.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("count", ember.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        nll, count = F.perplexity_update(preds, target, self.ignore_index)
        self.total_log_probs = self.total_log_probs + nll.to(self.total_log_probs.dtype)
        self.count = self.count + count

    def compute(self) -> Tensor:
        return (self.total_log_probs / self.count).exp()


class _ErrorRate(Metric):
    is_differentiable = False
    higher_is_better = False
    full_state_update = False
    _split = staticmethod(F._chars)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_state("errors", ember.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", ember.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: str | Sequence[str], target: str | Sequence[str]) -> None:
        errors, total = F.error_rate_update(preds, target, self._split)
        self.errors = self.errors + errors
        self.total = self.total + total

    def compute(self) -> Tensor:
        return self.errors / self.total


class CharErrorRate(_ErrorRate):
    """Character edit distance over the number of reference characters (can exceed 1)."""

    _split = staticmethod(F._chars)


class WordErrorRate(_ErrorRate):
    """Word (whitespace-separated) edit distance over the number of reference words (can exceed 1)."""

    _split = staticmethod(F._words)


class BLEUScore(Metric):
    """Corpus BLEU (``n_gram`` orders, optional ``weights`` per order, add-one ``smooth``ing).

    ``update(preds, target)``: ``preds`` a list of strings, ``target`` a list of reference lists.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, n_gram: int = 4, smooth: bool = False, weights: Sequence[float] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        F.bleu_inputs([], [], n_gram, weights)  # argument checks
        self.n_gram, self.smooth, self.weights = n_gram, smooth, weights
        self.add_state("preds_len", ember.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("target_len", ember.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("numerator", ember.zeros(n_gram), dist_reduce_fx="sum")
        self.add_state("denominator", ember.zeros(n_gram), dist_reduce_fx="sum")

    def update(self, preds, target) -> None:
        preds, target = F.bleu_inputs(preds, target, self.n_gram, self.weights)
        num, den, pl, tl = F.bleu_update(preds, target, self.n_gram)
        dev = self.device
        self.numerator = self.numerator + ember.tensor(num, dtype=self.numerator.dtype, device=dev)
        self.denominator = self.denominator + ember.tensor(den, dtype=self.denominator.dtype, device=dev)
        self.preds_len = self.preds_len + pl
        self.target_len = self.target_len + tl

    def compute(self) -> Tensor:
        value = F.bleu_compute(self.numerator.tolist(), self.denominator.tolist(), float(self.preds_len),
                               float(self.target_len), self.n_gram, self.weights, self.smooth)
        return ember.tensor(value, dtype=ember.float32, device=self.device)
