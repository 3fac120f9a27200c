"""Sentence encoders in sentence-transformers' shape: a ``Sequential`` of a ``Transformer`` (the BERT
encoder as ``auto_model``, with its tokenizer), a ``Pooling`` and optionally a ``Normalize`` module, as a
model folder's ``modules.json`` lists them. State dict keys are sentence-transformers' too
(``0.auto_model.embeddings.word_embeddings.weight``, ...).

>>> model = SentenceTransformer.from_pretrained("all-MiniLM-L6-v2/")       # doctest: +SKIP
>>> emb = model.encode(["A man is eating food.", "A man is riding a horse."])  # doctest: +SKIP
>>> emb @ emb.T                                     # cosine similarities   # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

import ember
from ember import nn
from ember.nn import functional as F

from .bert import BertConfig, BertModel, load_checkpoint

__all__ = ["SentenceTransformer", "Transformer", "Pooling", "Normalize"]


class Transformer(nn.Module):
    """The token encoder: ``auto_model`` (a :class:`BertModel`) and the tokenizer that feeds it.

    ``forward(features)`` takes the tokenizer's dict (``input_ids``, ``attention_mask``, optional
    ``token_type_ids``) and adds ``token_embeddings`` ``(N, T, hidden)``. ``tokenize`` cuts texts to
    ``max_seq_length`` tokens, as sentence-transformers does.

    The tokenizer is given, or loaded on first use by ``tokenizer_loader`` (a pretrained model's files
    may have to be fetched first); assigning ``module.tokenizer = tok`` replaces it.
    """

    def __init__(self, auto_model: BertModel, tokenizer=None, max_seq_length: int | None = None,
                 do_lower_case: bool = False, tokenizer_loader: Callable[[], object] | None = None):
        super().__init__()
        self.auto_model = auto_model
        self._tokenizer = tokenizer
        self._tokenizer_loader = tokenizer_loader
        self.max_seq_length = max_seq_length if max_seq_length is not None else \
            auto_model.config.max_position_embeddings
        self.do_lower_case = do_lower_case

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            if self._tokenizer_loader is None:
                raise RuntimeError("this Transformer module has no tokenizer: assign one (module.tokenizer = "
                                   "Tokenizer.from_pretrained(folder))")
            self._tokenizer = self._tokenizer_loader()
        return self._tokenizer

    @tokenizer.setter
    def tokenizer(self, value) -> None:
        self._tokenizer = value

    def tokenize(self, texts: list[str]) -> dict:
        """Tensors for a batch of texts: stripped, lowercased if ``do_lower_case``, padded to the longest,
        truncated to ``max_seq_length`` tokens."""
        texts = [str(t).strip() for t in texts]
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        return dict(self.tokenizer(texts, padding=True, truncation="longest_first", max_length=self.max_seq_length,
                                   return_tensors="ember"))

    def forward(self, features: dict) -> dict:
        out = self.auto_model(features["input_ids"], attention_mask=features.get("attention_mask"),
                              token_type_ids=features.get("token_type_ids"))
        return {**features, "token_embeddings": out.last_hidden_state}

    def get_word_embedding_dimension(self) -> int:
        return self.auto_model.config.hidden_size

    def extra_repr(self) -> str:
        return f"max_seq_length={self.max_seq_length}, do_lower_case={self.do_lower_case}"


_POOLING_MODES = ("mean", "cls", "max")


class Pooling(nn.Module):
    """Token embeddings -> one ``sentence_embedding`` per text: the mean over real (unpadded) tokens, the
    first ([CLS]) token, or the maximum over real tokens."""

    def __init__(self, word_embedding_dimension: int, pooling_mode: str = "mean"):
        super().__init__()
        if pooling_mode not in _POOLING_MODES:
            raise ValueError(f"Pooling: unknown pooling_mode {pooling_mode!r}; expected one of {_POOLING_MODES}")
        self.word_embedding_dimension = word_embedding_dimension
        self.pooling_mode = pooling_mode

    @classmethod
    def from_config(cls, config: dict) -> Pooling:
        """From a sentence-transformers ``1_Pooling/config.json`` (one ``pooling_mode_*_tokens`` flag set)."""
        flags = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token", "max": "pooling_mode_max_tokens"}
        modes = [mode for mode, key in flags.items() if config.get(key)]
        others = [k for k, v in config.items() if k.startswith("pooling_mode") and v and k not in flags.values()]
        if len(modes) != 1 or others:
            raise NotImplementedError(f"Pooling: supported configs set exactly one of {', '.join(flags.values())}; "
                                      f"got {[k for k, v in config.items() if k.startswith('pooling_mode') and v]}")
        return cls(config["word_embedding_dimension"], modes[0])

    def forward(self, features: dict) -> dict:
        tokens = features["token_embeddings"]
        mask = features.get("attention_mask")
        mask = ember.ones(tokens.shape[:2], dtype=tokens.dtype, device=tokens.device) if mask is None \
            else mask.to(tokens.dtype)
        if self.pooling_mode == "cls":
            pooled = tokens[:, 0]
        elif self.pooling_mode == "max":
            pooled = tokens.masked_fill(mask[..., None] == 0, -1e9).amax(1)
        else:
            summed = (tokens * mask[..., None]).sum(1)
            pooled = summed / mask.sum(1, keepdim=True).clamp(min=1e-9)
        return {**features, "sentence_embedding": pooled}

    def get_sentence_embedding_dimension(self) -> int:
        return self.word_embedding_dimension

    def extra_repr(self) -> str:
        return f"word_embedding_dimension={self.word_embedding_dimension}, pooling_mode={self.pooling_mode!r}"


class Normalize(nn.Module):
    """Scale each ``sentence_embedding`` to unit L2 norm (then dot products are cosine similarities)."""

    def forward(self, features: dict) -> dict:
        return {**features, "sentence_embedding": F.normalize(features["sentence_embedding"], p=2, dim=1)}


class SentenceTransformer(nn.Sequential):
    """A sentence encoder: ``forward(features) -> features`` with ``"sentence_embedding"`` ``(N, dim)``, and
    :meth:`encode` for lists of texts.

    >>> from ember_text.models import all_minilm_l6_v2
    >>> model = all_minilm_l6_v2(weights="DEFAULT")          # doctest: +SKIP
    >>> model.encode(["Hello world"]).shape                  # doctest: +SKIP
    ember.Size([1, 384])
    >>> features = model.tokenize(["Hello world"])           # doctest: +SKIP
    >>> model(features)["sentence_embedding"].shape          # for training: gradients flow through forward  # doctest: +SKIP
    ember.Size([1, 384])
    """

    @property
    def tokenizer(self):
        """The tokenizer of the first (``Transformer``) module."""
        return self[0].tokenizer

    @tokenizer.setter
    def tokenizer(self, value) -> None:
        self[0].tokenizer = value

    @property
    def max_seq_length(self) -> int:
        """Texts are cut to this many tokens by :meth:`tokenize` and :meth:`encode`."""
        return self[0].max_seq_length

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        self[0].max_seq_length = value

    def tokenize(self, texts: list[str]) -> dict:
        return self[0].tokenize(texts)

    def get_sentence_embedding_dimension(self) -> int:
        for module in reversed(list(self)):
            if hasattr(module, "get_sentence_embedding_dimension"):
                return module.get_sentence_embedding_dimension()
        return self[0].get_word_embedding_dimension()

    def encode(self, sentences, batch_size: int = 32, normalize_embeddings: bool = True,
               convert_to_numpy: bool = False, show_progress_bar: bool = False):
        """Embed texts: a ``(N, dim)`` float32 tensor (a ``(dim,)`` one for a single string).

        Texts are batched by length (longest first, then put back in order) and cut to
        :attr:`max_seq_length` tokens, as sentence-transformers does; the model runs in evaluation mode
        without gradients (its mode is restored after). ``normalize_embeddings`` scales each row to unit
        norm (a no-op after a ``Normalize`` module). ``convert_to_numpy`` returns a NumPy array.
        """
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        if batch_size < 1:
            raise ValueError(f"encode: batch_size must be at least 1, got {batch_size}")
        order = np.argsort([-len(str(t)) for t in texts], kind="stable")
        parts = []
        was_training = self.training
        self.eval()
        try:
            with ember.no_grad():
                for start in range(0, len(texts), batch_size):
                    batch = [texts[i] for i in order[start:start + batch_size]]
                    emb = self(self.tokenize(batch))["sentence_embedding"]
                    parts.append(F.normalize(emb, p=2, dim=1) if normalize_embeddings else emb)
        finally:
            self.train(was_training)
        dim = self.get_sentence_embedding_dimension()
        emb = ember.cat(parts) if parts else ember.zeros(0, dim)
        emb = emb[ember.from_numpy(np.argsort(order, kind="stable"))]
        if single:
            emb = emb[0]
        return emb.numpy() if convert_to_numpy else emb

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> SentenceTransformer:
        """Build from a sentence-transformers folder as its ``modules.json`` says (a BERT ``Transformer``,
        ``Pooling``, ``Normalize``), loading the weights and, on first use, the tokenizer."""
        directory = Path(directory)
        with open(directory / "modules.json", encoding="utf-8") as f:
            entries = sorted(json.load(f), key=lambda e: e["idx"])
        return cls(*(_module_from_folder(e["type"], directory / e["path"]) for e in entries))


def _module_from_folder(kind: str, path: Path) -> nn.Module:
    name = kind.rsplit(".", 1)[-1]
    if name == "Transformer":
        settings = _read_json(path / "sentence_bert_config.json")
        config = _read_json(path / "config.json")
        if config.get("model_type", "bert") != "bert":
            raise NotImplementedError(f"{path}: model_type {config['model_type']!r} is not supported (BERT only)")
        bert = BertModel(BertConfig.from_dict(config))
        bert.load_state_dict(load_checkpoint(path))
        from ..tokenizers import Tokenizer
        return Transformer(bert, max_seq_length=settings.get("max_seq_length"),
                           do_lower_case=bool(settings.get("do_lower_case", False)),
                           tokenizer_loader=partial(Tokenizer.from_pretrained, path))
    if name == "Pooling":
        return Pooling.from_config(_read_json(path / "config.json"))
    if name == "Normalize":
        return Normalize()
    raise NotImplementedError(f"modules.json: module type {kind!r} is not supported (Transformer, Pooling and "
                              "Normalize are)")


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)
