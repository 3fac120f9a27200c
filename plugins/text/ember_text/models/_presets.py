"""The preprocessing that pretrained text weights come with (``weights.transforms()``), as torchvision's
``ImageClassification`` preset is for image weights: a text becomes the model's token ids, and a batch of
them is padded to its longest sequence by :meth:`TextClassification.collate`.

>>> from ember_text.tokenizers import WordPieceTokenizer
>>> vocab = {t: i for i, t in enumerate("[PAD] [UNK] [CLS] [SEP] [MASK] good night moon".split())}
>>> prep = TextClassification(lambda: WordPieceTokenizer(vocab), max_length=4)
>>> prep("good night moon")          # [CLS] ... [SEP], cut to max_length tokens
tensor([2, 5, 6, 3])
>>> ids, labels = prep.collate([(prep("good night"), ember.tensor(1)), (prep("moon"), ember.tensor(0))])
>>> ids
tensor([[2, 5, 6, 3],
        [2, 7, 3, 0]])
"""
from __future__ import annotations

from typing import Callable, Sequence

import ember

from ..datasets.collate import pad_sequences

__all__ = ["TextClassification"]


class TextClassification:
    """Text -> int64 token ids ``(L,)`` with the model's tokenizer (special tokens added, at most
    ``max_length`` tokens); :meth:`collate` pads a batch with the tokenizer's pad id.

    The tokenizer comes from ``tokenizer_loader`` on first use, so building the preprocessing reads no file.
    ``max_length`` defaults to 128 tokens: fine-tuning on CPU pays for every token of the longest text of a
    batch, and a short text classification rarely needs more (the model itself reads up to 512).
    """

    def __init__(self, tokenizer_loader: Callable[[], object], max_length: int = 128):
        if max_length < 2:
            raise ValueError(f"max_length must be at least 2 (the [CLS] and [SEP] tokens), got {max_length}")
        self._loader = tokenizer_loader
        self._tokenizer = None
        self.max_length = max_length

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = self._loader()
        return self._tokenizer

    @property
    def pad_token_id(self) -> int:
        pad = getattr(self.tokenizer, "pad_token_id", None)
        return 0 if pad is None else int(pad)

    def __call__(self, text: str) -> ember.Tensor:
        if not isinstance(text, str):
            raise TypeError(f"TextClassification: expected a text (str), got {type(text).__name__}")
        ids = self.tokenizer(text.strip(), truncation=True, max_length=self.max_length)["input_ids"]
        return ember.tensor(ids, dtype=ember.int64)

    def collate(self, batch: Sequence) -> tuple[ember.Tensor, ember.Tensor]:
        """``(input_ids (B, L), targets (B,))`` from ``(ids, target)`` samples, padded to the longest."""
        ids, targets = zip(*batch)
        return pad_sequences(list(ids), self.pad_token_id).padded, ember.stack([ember.as_tensor(t) for t in targets])

    def __repr__(self) -> str:
        return f"TextClassification(max_length={self.max_length})"
