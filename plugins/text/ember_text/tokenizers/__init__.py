"""Tokenizers for Ember: the Hugging Face ``tokenizers`` pipeline in Python (reads and writes ``tokenizer.json``,
identical output), ``transformers``-style calls, trainers, and simple character / vocabulary tokenizers.

Example::

    >>> from ember_text.tokenizers import Tokenizer, WordPieceTokenizer
    >>> tok = Tokenizer.from_file("tokenizer.json")  # BERT WordPiece or byte-level BPE  # doctest: +SKIP
    >>> tok = WordPieceTokenizer({t: i for i, t in enumerate("[PAD] [UNK] [CLS] [SEP] [MASK] hello world good night".split())})
    >>> enc = tok.encode("Hello, world!")
    >>> enc.ids, enc.tokens, enc.offsets
    ([2, 5, 1, 6, 1, 3], ['[CLS]', 'hello', '[UNK]', 'world', '[UNK]', '[SEP]'], [(0, 0), (0, 5), (5, 6), (7, 12), (12, 13), (0, 0)])
    >>> batch = tok(["good night world", "hello"], padding=True, truncation=True, max_length=128,
    ...             return_tensors="ember")                      # input_ids, token_type_ids, attention_mask
    >>> batch["input_ids"]
    tensor([[2, 7, 8, 6, 3],
            [2, 5, 3, 0, 0]])
    >>> tok.batch_decode(batch["input_ids"])
    ['good night world', 'hello']

The modules mirror ``tokenizers``': ``normalizers``, ``pre_tokenizers``, ``models``, ``processors``,
``decoders``, ``trainers``.
"""
from __future__ import annotations

from . import decoders, models, normalizers, pre_tokenizers, processors, trainers
from ._added_vocab import AddedToken
from ._encoding import Encoding
from ._errors import TokenizerError
from ._hf import BatchEncoding
from .implementations import BertWordPieceTokenizer, ByteLevelBPETokenizer, WordPieceTokenizer
from .simple import CharTokenizer
from .tokenizer import Tokenizer
from .trainers import BpeTrainer, BPETrainer, WordLevelTrainer, WordPieceTrainer
from .vocab import Vocab, build_vocab_from_iterator, vocab

__all__ = [
    "Tokenizer", "Encoding", "BatchEncoding", "AddedToken", "TokenizerError",
    "WordPieceTokenizer", "BertWordPieceTokenizer", "ByteLevelBPETokenizer", "CharTokenizer",
    "BpeTrainer", "BPETrainer", "WordPieceTrainer", "WordLevelTrainer",
    "Vocab", "vocab", "build_vocab_from_iterator",
    "normalizers", "pre_tokenizers", "models", "processors", "decoders", "trainers",
]
