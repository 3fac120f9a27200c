"""Trainers: learn a model's vocabulary from text, with ``tokenizers``' algorithms and options, so that a
tokenizer trained here saves a ``tokenizer.json`` that the ``tokenizers`` package loads and encodes identically.

Byte-level BPE training reproduces ``tokenizers``' merges exactly (same counts, same tie-breaking: the most
frequent pair first, then the pair of smallest token ids). ``tokenizers``' WordPiece training is not
deterministic (it numbers the ``##`` continuation characters in hash-map order, which moves ties); here they
are numbered in the order words were first seen, so the result is reproducible.

Example::

    >>> from ember_text.tokenizers import Tokenizer, models, pre_tokenizers, trainers
    >>> tok = Tokenizer(models.BPE())
    >>> tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    >>> trainer = trainers.BpeTrainer(vocab_size=1000, special_tokens=["<s>", "</s>"],
    ...                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    >>> tok.train_from_iterator(open("corpus.txt", encoding="utf-8"), trainer)     # doctest: +SKIP
    >>> tok.train_from_iterator(["a tiny corpus", "of two lines"], trainer)
    >>> tok.save("tokenizer.json")                          # the file `tokenizers` reads
"""
from __future__ import annotations

import heapq
from collections import Counter

from . import models as _models
from ._added_vocab import AddedToken

__all__ = ["Trainer", "BpeTrainer", "BPETrainer", "WordPieceTrainer", "WordLevelTrainer"]


class Trainer:
    """Base class: ``feed`` counts the words of the texts, ``train`` builds the model."""

    def __init__(self, vocab_size: int, min_frequency: int, show_progress: bool, special_tokens):
        if not isinstance(vocab_size, int) or vocab_size < 0:
            raise ValueError(f"vocab_size must be a non-negative integer, got {vocab_size!r}")
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency
        self.show_progress = show_progress
        self.special_tokens = [t if isinstance(t, AddedToken) else AddedToken(str(t), special=True)
                               for t in special_tokens]
        self.words: dict[str, int] = {}

    def feed(self, iterator, words_of) -> None:
        """Count the words ``words_of(text)`` gives for every text of ``iterator`` (texts or lists of texts)."""
        counts = Counter()
        for item in iterator:
            for text in ([item] if isinstance(item, str) else item):
                counts.update(words_of(text))
        self.words = dict(counts)

    def _special_contents(self) -> list[str]:
        return [t.content for t in self.special_tokens]


class BpeTrainer(Trainer):
    """Byte-pair-encoding trainer (``tokenizers.trainers.BpeTrainer``): start from the characters (the
    ``limit_alphabet`` most frequent, plus ``initial_alphabet``), then repeatedly merge the most frequent
    adjacent pair until ``vocab_size`` tokens (special tokens included) or no pair occurs ``min_frequency``
    times."""

    def __init__(self, vocab_size: int = 30000, min_frequency: int = 0, show_progress: bool = True,
                 special_tokens=(), limit_alphabet: int | None = None, initial_alphabet=(),
                 continuing_subword_prefix: str | None = None, end_of_word_suffix: str | None = None,
                 max_token_length: int | None = None):
        super().__init__(vocab_size, min_frequency, show_progress, special_tokens)
        self.limit_alphabet = limit_alphabet
        self.initial_alphabet = sorted({c[0] for c in initial_alphabet if c})
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.max_token_length = max_token_length

    def train(self, model: _models.BPE | None = None) -> _models.BPE:
        """A BPE model with the learned vocabulary and merges (other settings of ``model`` kept)."""
        vocab, merges = self.learn(self.words)
        model = model if isinstance(model, _models.BPE) else _models.BPE()
        return _models.BPE(vocab, merges, dropout=model.dropout, unk_token=model.unk_token,
                           continuing_subword_prefix=self.continuing_subword_prefix,
                           end_of_word_suffix=self.end_of_word_suffix, fuse_unk=model.fuse_unk,
                           byte_fallback=model.byte_fallback, ignore_merges=model.ignore_merges)

    def learn(self, word_counts: dict[str, int]) -> tuple[dict, list]:
        """``(vocab, merges)`` learned from ``{word: count}``; words are visited in the dict's order."""
        word_to_id: dict[str, int] = {}
        id_to_word: list[str] = []

        def add(token: str) -> int:
            i = word_to_id.get(token)
            if i is None:
                i = word_to_id[token] = len(id_to_word)
                id_to_word.append(token)
            return i

        for token in self._special_contents():
            add(token)
        for c in self._alphabet(word_counts):
            add(c)
        words, counts = self._initial_words(word_counts, word_to_id, add)
        merges = self._merge_loop(words, counts, word_to_id, id_to_word, add)
        return word_to_id, [(id_to_word[a], id_to_word[b]) for a, b in merges]

    def _alphabet(self, word_counts: dict) -> list[str]:
        """The characters kept: by frequency when ``limit_alphabet`` applies, then sorted by code point."""
        freq = Counter()
        for word, n in word_counts.items():
            for c in word:
                freq[c] += n
        huge = 1 << 63
        for c in self.initial_alphabet:
            freq[c] = huge
        kept = list(freq.items())
        if self.limit_alphabet is not None and len(kept) > self.limit_alphabet:
            kept.sort(key=lambda kv: kv[1])
            kept = kept[len(kept) - self.limit_alphabet:]
        return sorted(c for c, _ in kept)

    def _initial_words(self, word_counts: dict, word_to_id: dict, add):
        """Each word as a list of symbol ids (characters outside the alphabet are left out)."""
        prefix, suffix = self.continuing_subword_prefix, self.end_of_word_suffix
        words, counts = [], []
        for word, n in word_counts.items():
            symbols = []
            last = len(word) - 1
            for k, c in enumerate(word):
                if c not in word_to_id:
                    continue
                s = c
                if k and prefix:
                    s = prefix + s
                if k == last and suffix:
                    s = s + suffix
                symbols.append(add(s))
            words.append(symbols)
            counts.append(n)
        return words, counts

    def _merge_loop(self, words: list, counts: list, word_to_id: dict, id_to_word: list, add) -> list:
        """The merges, most frequent pair first (ties: the smallest pair of ids), updating the pair counts
        only in the words that contain the merged pair."""
        max_len = self.max_token_length
        lengths = [1] * len(id_to_word)   # symbol lengths in characters (for max_token_length)
        pair_counts: dict = {}
        where: dict = {}
        for i, symbols in enumerate(words):
            n = counts[i]
            for a, b in zip(symbols, symbols[1:]):
                pair_counts[(a, b)] = pair_counts.get((a, b), 0) + n
                where.setdefault((a, b), set()).add(i)
        heap, tick = [], 0
        for pair, pos in where.items():
            if pair_counts[pair] > 0:
                heap.append((-pair_counts[pair], pair, tick, pos))
                tick += 1
        heapq.heapify(heap)
        merges = []
        prefix = self.continuing_subword_prefix
        while len(word_to_id) < self.vocab_size and heap:
            neg, pair, _, pos = heapq.heappop(heap)
            count = pair_counts[pair]
            if -neg != count:
                heapq.heappush(heap, (-count, pair, tick, pos))
                tick += 1
                continue
            if count < 1 or self.min_frequency > count:
                break
            a, b = id_to_word[pair[0]], id_to_word[pair[1]]
            if prefix and b.startswith(prefix):
                b = b[len(prefix):]
            new_id = add(a + b)
            if new_id == len(lengths):
                lengths.append(lengths[pair[0]] + lengths[pair[1]])
            merges.append(pair)
            updates: dict = {}
            for i in pos:
                for changed, delta in _merge_word(words, i, pair, new_id, lengths, max_len):
                    pair_counts[changed] = pair_counts.get(changed, 0) + delta * counts[i]
                    if delta > 0:
                        updates.setdefault(changed, set()).add(i)
            for changed, positions in updates.items():
                if pair_counts[changed] > 0:
                    heapq.heappush(heap, (-pair_counts[changed], changed, tick, positions))
                    tick += 1
        return merges


def _merge_word(words: list, i: int, pair: tuple, new_id: int, lengths: list, max_len: int | None) -> list:
    """Merge every occurrence of ``pair`` in word ``i`` (left to right); the pair-count changes it causes."""
    a, b = pair
    symbols = words[i]
    changes = []
    out = []
    k, n = 0, len(symbols)
    limit = max_len if max_len is not None else float("inf")
    while k < n:
        if k + 1 < n and symbols[k] == a and symbols[k + 1] == b:
            if out:
                prev = out[-1]
                changes.append(((prev, a), -1))
                if lengths[prev] + lengths[new_id] < limit:
                    changes.append(((prev, new_id), 1))
            if k + 2 < n:
                nxt = symbols[k + 2]
                changes.append(((b, nxt), -1))
                if lengths[nxt] + lengths[new_id] < limit:
                    changes.append(((new_id, nxt), 1))
            out.append(new_id)
            k += 2
        else:
            out.append(symbols[k])
            k += 1
    words[i] = out
    return changes


BPETrainer = BpeTrainer   # the spelling


class WordPieceTrainer(BpeTrainer):
    """WordPiece trainer (``tokenizers.trainers.WordPieceTrainer``): BPE training with the ``##``
    continuation prefix, whose vocabulary becomes a WordPiece model's."""

    def __init__(self, vocab_size: int = 30000, min_frequency: int = 0, show_progress: bool = True,
                 special_tokens=(), limit_alphabet: int | None = None, initial_alphabet=(),
                 continuing_subword_prefix: str = "##", end_of_word_suffix: str | None = None):
        super().__init__(vocab_size, min_frequency, show_progress, special_tokens, limit_alphabet,
                         initial_alphabet, continuing_subword_prefix, end_of_word_suffix)

    def train(self, model: _models.WordPiece | None = None) -> _models.WordPiece:
        vocab, _ = self.learn(self.words)
        model = model if isinstance(model, _models.WordPiece) else _models.WordPiece()
        return _models.WordPiece(vocab, model.unk_token, self.continuing_subword_prefix or "##",
                                 model.max_input_chars_per_word)


class WordLevelTrainer(Trainer):
    """Word-level trainer: the special tokens, then the words by decreasing count (ties in code-point
    order) that occur at least ``min_frequency`` times, up to ``vocab_size``."""

    def __init__(self, vocab_size: int = 30000, min_frequency: int = 0, show_progress: bool = True,
                 special_tokens=()):
        super().__init__(vocab_size, min_frequency, show_progress, special_tokens)

    def train(self, model: _models.WordLevel | None = None) -> _models.WordLevel:
        ordered = sorted(self.words.items(), key=lambda kv: (-kv[1], kv[0]))
        tokens = self._special_contents() + [w for w, n in ordered if n >= self.min_frequency]
        vocab = {}
        for t in tokens[:self.vocab_size]:
            vocab.setdefault(t, len(vocab))
        unk = model.unk_token if isinstance(model, _models.WordLevel) else "[UNK]"
        return _models.WordLevel(vocab, unk)


def default_trainer(model) -> Trainer:
    """The trainer ``Tokenizer.train_from_iterator`` uses when given none."""
    if isinstance(model, _models.WordPiece):
        return WordPieceTrainer()
    if isinstance(model, _models.BPE):
        return BpeTrainer()
    if isinstance(model, _models.WordLevel):
        return WordLevelTrainer()
    raise TypeError(f"no trainer for {type(model).__name__}")
