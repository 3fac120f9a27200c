"""Tokenization models: turn one pre-tokenized word into vocabulary tokens. Names, options and JSON as in
``tokenizers.models``.

Each model's ``tokenize(word)`` returns ``(ids, tokens, offsets)`` -- three tuples, offsets as ``(start, end)``
character positions inside ``word`` -- and remembers the answer per word (a word-to-pieces cache), so a
corpus costs one dictionary lookup per repeated word.

Example::

    >>> from ember_text.tokenizers.models import WordPiece
    >>> wp = WordPiece({"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3}, unk_token="[UNK]")
    >>> wp.tokenize("unaffable")
    ((1, 2, 3), ('un', '##aff', '##able'), ((0, 2), (2, 5), (5, 9)))
"""
from __future__ import annotations

import heapq
import json
import os
import random

from ._config import Fields, build, check_type
from ._errors import TokenizerError

__all__ = ["Model", "WordPiece", "BPE", "WordLevel"]

CACHE_CAPACITY = 100_000   # words remembered per model; the cache is emptied when it is full


class Model:
    """Base class. Subclasses set ``vocab`` (token -> id) and implement ``_tokenize_word``."""

    vocab: dict
    _cacheable = True    # False where tokenizing is random (BPE dropout)

    def __init__(self):
        self._cache: dict = {}
        self._vocab_r: dict | None = None

    def tokenize(self, word: str) -> tuple[tuple, tuple, tuple]:
        """``(ids, tokens, offsets)`` of ``word``."""
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        result = self._tokenize_word(word)
        if not self._cacheable:
            return result
        if len(self._cache) >= CACHE_CAPACITY:
            self._cache.clear()
        self._cache[word] = result
        return result

    def clear_cache(self) -> None:
        self._cache.clear()

    def _tokenize_word(self, word: str):
        raise NotImplementedError

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def id_to_token(self, id: int) -> str | None:
        if self._vocab_r is None:
            self._vocab_r = {i: t for t, i in self.vocab.items()}
        return self._vocab_r.get(id)

    def get_vocab(self) -> dict:
        return dict(self.vocab)

    def get_vocab_size(self) -> int:
        return len(self.vocab)

    def _vocab_changed(self) -> None:
        self._vocab_r = None
        self._cache.clear()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={len(self.vocab)})"


def _read_vocab(f: Fields, key: str = "vocab") -> dict:
    vocab = f.req(key, dict)
    where = f.at(key)
    ids = set()
    for token, i in vocab.items():
        check_type(i, int, f"{where}[{token!r}]")
        if i < 0:
            raise TokenizerError(f"{where}[{token!r}]: negative id {i}")
        ids.add(i)
    if len(ids) != len(vocab):
        raise TokenizerError(f"{where}: several tokens share an id")
    return dict(vocab)


# ---- WordPiece --------------------------------------------------------------------------------------------

class WordPiece(Model):
    """BERT's WordPiece: each word is split greedily into the longest vocabulary pieces from the left, pieces
    after the first carrying ``continuing_subword_prefix``; a word that cannot be split this way, or longer
    than ``max_input_chars_per_word`` characters, becomes ``unk_token``."""

    def __init__(self, vocab: dict | None = None, unk_token: str = "[UNK]", continuing_subword_prefix: str = "##",
                 max_input_chars_per_word: int = 100):
        super().__init__()
        self.vocab = dict(vocab or {})
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        self._vocab_changed()

    def _vocab_changed(self) -> None:
        super()._vocab_changed()
        prefix = self.continuing_subword_prefix
        self._max_first = max((len(t) for t in self.vocab), default=0)
        self._max_next = max((len(t) - len(prefix) for t in self.vocab if t.startswith(prefix)), default=0)

    def check_unk(self, source: str = "WordPiece") -> None:
        """A TokenizerError if the unknown token is not in the vocabulary."""
        if self.unk_token not in self.vocab:
            raise TokenizerError(f"{source}: the vocabulary has no unknown token {self.unk_token!r} "
                                 f"(WordPiece needs it for words it cannot split)")

    def _unk(self, word: str):
        unk = self.vocab.get(self.unk_token)
        if unk is None:
            self.check_unk()
        return (unk,), (self.unk_token,), ((0, len(word)),)

    def _tokenize_word(self, word: str):
        n = len(word)
        if n > self.max_input_chars_per_word:
            return self._unk(word)
        vocab, prefix = self.vocab, self.continuing_subword_prefix
        ids, tokens, offsets = [], [], []
        start = 0
        while start < n:
            end = min(n, start + (self._max_next if start else self._max_first))
            while end > start:
                piece = prefix + word[start:end] if start else word[start:end]
                i = vocab.get(piece)
                if i is not None:
                    break
                end -= 1
            else:
                return self._unk(word)
            ids.append(i)
            tokens.append(piece)
            offsets.append((start, end))
            start = end
        return tuple(ids), tuple(tokens), tuple(offsets)

    @staticmethod
    def read_file(vocab: str | os.PathLike) -> dict:
        """The vocabulary of a ``vocab.txt`` (one token per line, id = line number)."""
        out = {}
        with open(vocab, encoding="utf-8") as f:
            for i, line in enumerate(f):
                token = line.rstrip("\r\n")
                out.setdefault(token, i)
        return out

    @classmethod
    def from_file(cls, vocab: str | os.PathLike, **kwargs) -> WordPiece:
        """A WordPiece model reading ``vocab.txt``; the unknown token must be in it."""
        model = cls(cls.read_file(vocab), **kwargs)
        model.check_unk(os.fspath(vocab))
        return model

    def save(self, folder: str | os.PathLike, prefix: str | None = None) -> list[str]:
        """Writes ``vocab.txt`` (tokens in id order) into ``folder``; returns the path."""
        path = os.path.join(folder, f"{prefix}-vocab.txt" if prefix else "vocab.txt")
        with open(path, "w", encoding="utf-8") as f:
            for token, _ in sorted(self.vocab.items(), key=lambda kv: kv[1]):
                f.write(token + "\n")
        return [path]

    def to_dict(self) -> dict:
        return {"type": "WordPiece", "unk_token": self.unk_token,
                "continuing_subword_prefix": self.continuing_subword_prefix,
                "max_input_chars_per_word": self.max_input_chars_per_word, "vocab": self.vocab}

    @classmethod
    def from_fields(cls, f: Fields):
        model = cls(_read_vocab(f), f.opt("unk_token", str, "[UNK]"), f.opt("continuing_subword_prefix", str, "##"),
                    f.positive_int("max_input_chars_per_word", 100))
        model.check_unk(f.where)
        return model


# ---- BPE --------------------------------------------------------------------------------------------------

class BPE(Model):
    """Byte-pair encoding: a word starts as characters (with ``continuing_subword_prefix`` on all but the
    first and ``end_of_word_suffix`` on the last, if set) and adjacent pairs are merged by rank -- the
    lowest-ranked mergeable pair first, leftmost first on ties. Characters outside the vocabulary become
    ``unk_token`` (consecutive ones fused into one if ``fuse_unk``), or their ``<0xNN>`` byte tokens with
    ``byte_fallback``, or are dropped when there is no unknown token. ``dropout`` skips each merge with that
    probability (training-time regularization; no cache then)."""

    def __init__(self, vocab: dict | None = None, merges: list | None = None, cache_capacity: int | None = None,
                 dropout: float | None = None, unk_token: str | None = None,
                 continuing_subword_prefix: str | None = None, end_of_word_suffix: str | None = None,
                 fuse_unk: bool = False, byte_fallback: bool = False, ignore_merges: bool = False):
        super().__init__()
        if dropout is not None and not 0.0 <= dropout <= 1.0:
            raise TokenizerError(f"BPE: dropout must be between 0 and 1, got {dropout}")
        self.vocab = dict(vocab or {})
        self.merges = [tuple(m) for m in (merges or [])]
        self.dropout = dropout
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.fuse_unk = fuse_unk
        self.byte_fallback = byte_fallback
        self.ignore_merges = ignore_merges
        self._ranks = self._merge_map("BPE")
        self._vocab_changed()

    def _merge_map(self, where: str) -> dict:
        """``(left id, right id) -> (rank, merged id)`` for every merge."""
        vocab, prefix = self.vocab, self.continuing_subword_prefix
        ranks = {}
        for rank, (a, b) in enumerate(self.merges):
            ia, ib = vocab.get(a), vocab.get(b)
            if ia is None or ib is None:
                missing = a if ia is None else b
                raise TokenizerError(f"{where}: merge {rank} ({a!r} {b!r}) uses {missing!r}, which is not in the "
                                     f"vocabulary")
            if prefix and b.startswith(prefix):
                b = b[len(prefix):]
            merged = vocab.get(a + b)
            if merged is None:
                raise TokenizerError(f"{where}: merge {rank} ({a!r} {b!r}) makes {a + b!r}, which is not in the "
                                     f"vocabulary")
            ranks[(ia, ib)] = (rank, merged)   # a repeated pair: the last one counts, as in tokenizers
        return ranks

    @property
    def _cacheable(self) -> bool:
        return not self.dropout

    def _tokenize_word(self, word: str):
        if not word:
            return (), (), ()
        if self.ignore_merges and word in self.vocab:
            return (self.vocab[word],), (word,), ((0, len(word)),)
        ids, lens = self._initial_symbols(word)
        ids, lens = self._merge_all(ids, lens)
        tokens, offsets, pos = [], [], 0
        for i, n in zip(ids, lens):
            tokens.append(self.id_to_token(i))
            offsets.append((pos, pos + n))
            pos += n
        return tuple(ids), tuple(tokens), tuple(offsets)

    def _initial_symbols(self, word: str) -> tuple[list, list]:
        """One symbol per character (or unknown / byte-fallback symbols), as ids and character lengths."""
        vocab, prefix, suffix = self.vocab, self.continuing_subword_prefix, self.end_of_word_suffix
        ids, lens = [], []
        unk = None           # pending (unk id, length): consecutive unknowns may fuse
        last = len(word) - 1
        for k, c in enumerate(word):
            s = c
            if k and prefix:
                s = prefix + s
            if k == last and suffix:
                s = s + suffix
            i = vocab.get(s)
            if i is not None:
                if unk is not None:
                    ids.append(unk[0])
                    lens.append(unk[1])
                    unk = None
                ids.append(i)
                lens.append(1)
                continue
            if self.byte_fallback:
                byte_ids = [vocab.get(f"<0x{b:02X}>") for b in s.encode("utf-8")]
                if all(b is not None for b in byte_ids):
                    if unk is not None:
                        ids.append(unk[0])
                        lens.append(unk[1])
                        unk = None
                    # Each byte token stands for the whole character's span, as one symbol per byte.
                    ids.extend(byte_ids)
                    lens.extend([1] + [0] * (len(byte_ids) - 1))
                    continue
            if self.unk_token is not None:
                unk_id = vocab.get(self.unk_token)
                if unk_id is None:
                    raise TokenizerError(f"BPE: the unknown token {self.unk_token!r} is not in the vocabulary")
                if unk is not None and self.fuse_unk:
                    unk = (unk[0], unk[1] + 1)
                else:
                    if unk is not None:
                        ids.append(unk[0])
                        lens.append(unk[1])
                    unk = (unk_id, 1)
        if unk is not None:
            ids.append(unk[0])
            lens.append(unk[1])
        return ids, lens

    def _merge_all(self, ids: list, lens: list) -> tuple[list, list]:
        """Apply merges by rank (then position) with a heap, as ``tokenizers``' ``Word::merge_all``."""
        ranks = self._ranks
        n = len(ids)
        if n < 2:
            return ids, lens
        nxt = list(range(1, n + 1))
        prv = list(range(-1, n - 1))
        nxt[-1] = -1
        alive = [True] * n
        heap = []
        for p in range(n - 1):
            m = ranks.get((ids[p], ids[p + 1]))
            if m is not None:
                heap.append((m[0], p, m[1]))
        heapq.heapify(heap)
        dropout, skipped = self.dropout, []
        while heap:
            top = heapq.heappop(heap)
            if dropout and random.random() < dropout:
                skipped.append(top)
                continue
            for item in skipped:
                heapq.heappush(heap, item)
            skipped.clear()
            _, p, new_id = top
            q = nxt[p]
            if not alive[p] or q == -1:
                continue
            m = ranks.get((ids[p], ids[q]))
            if m is None or m[1] != new_id:
                continue   # stale entry: the pair changed since it was queued
            ids[p] = new_id
            lens[p] += lens[q]
            alive[q] = False
            nxt[p] = nxt[q]
            if nxt[q] != -1:
                prv[nxt[q]] = p
            if prv[p] != -1:
                m = ranks.get((ids[prv[p]], new_id))
                if m is not None:
                    heapq.heappush(heap, (m[0], prv[p], m[1]))
            if nxt[p] != -1:
                m = ranks.get((new_id, ids[nxt[p]]))
                if m is not None:
                    heapq.heappush(heap, (m[0], p, m[1]))
        keep = [k for k in range(n) if alive[k]]
        return [ids[k] for k in keep], [lens[k] for k in keep]

    @staticmethod
    def read_file(vocab: str | os.PathLike, merges: str | os.PathLike) -> tuple[dict, list]:
        """``(vocab, merges)`` from GPT-2's ``vocab.json`` and ``merges.txt``."""
        with open(vocab, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise TokenizerError(f"{os.fspath(vocab)}: not valid JSON ({e})") from None
        v = _read_vocab(Fields({"vocab": data}, os.fspath(vocab)))
        out = []
        with open(merges, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line or (n == 1 and line.startswith("#version")):
                    continue
                parts = line.split(" ")
                if len(parts) != 2:
                    raise TokenizerError(f"{os.fspath(merges)}: line {n}: expected two tokens separated by a "
                                         f"space, got {line!r}")
                out.append((parts[0], parts[1]))
        return v, out

    @classmethod
    def from_file(cls, vocab: str | os.PathLike, merges: str | os.PathLike, **kwargs) -> BPE:
        v, m = cls.read_file(vocab, merges)
        return cls(v, m, **kwargs)

    def save(self, folder: str | os.PathLike, prefix: str | None = None) -> list[str]:
        """Writes ``vocab.json`` and ``merges.txt`` into ``folder``; returns their paths."""
        name = (lambda n: f"{prefix}-{n}") if prefix else (lambda n: n)
        vocab_path, merges_path = os.path.join(folder, name("vocab.json")), os.path.join(folder, name("merges.txt"))
        with open(vocab_path, "w", encoding="utf-8") as f:
            json.dump(dict(sorted(self.vocab.items(), key=lambda kv: kv[1])), f, ensure_ascii=False)
        with open(merges_path, "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            for a, b in self.merges:
                f.write(f"{a} {b}\n")
        return [vocab_path, merges_path]

    def to_dict(self) -> dict:
        return {"type": "BPE", "dropout": self.dropout, "unk_token": self.unk_token,
                "continuing_subword_prefix": self.continuing_subword_prefix,
                "end_of_word_suffix": self.end_of_word_suffix, "fuse_unk": self.fuse_unk,
                "byte_fallback": self.byte_fallback, "ignore_merges": self.ignore_merges, "vocab": self.vocab,
                "merges": [list(m) for m in self.merges]}

    @classmethod
    def from_fields(cls, f: Fields):
        vocab = _read_vocab(f)
        merges = []
        for i, m in enumerate(f.opt("merges", list, [])):
            where = f"{f.at('merges')}[{i}]"
            if isinstance(m, str):
                parts = m.split(" ")
                if len(parts) != 2:
                    raise TokenizerError(f"{where}: expected two tokens separated by one space, got {m!r}")
            else:
                parts = check_type(m, list, where)
                if len(parts) != 2 or not all(isinstance(p, str) for p in parts):
                    raise TokenizerError(f"{where}: expected a pair of strings")
            merges.append(tuple(parts))
        dropout = f.opt("dropout", float, None)
        if dropout is not None and not 0.0 <= dropout <= 1.0:
            raise TokenizerError(f"{f.at('dropout')}: must be between 0 and 1, got {dropout}")
        model = cls.__new__(cls)
        Model.__init__(model)
        model.vocab, model.merges, model.dropout = vocab, merges, dropout
        model.unk_token = f.opt("unk_token", str, None)
        model.continuing_subword_prefix = f.opt("continuing_subword_prefix", str, None)
        model.end_of_word_suffix = f.opt("end_of_word_suffix", str, None)
        model.fuse_unk = f.opt("fuse_unk", bool, False)
        model.byte_fallback = f.opt("byte_fallback", bool, False)
        model.ignore_merges = f.opt("ignore_merges", bool, False)
        model._ranks = model._merge_map(f.where)
        model._vocab_changed()
        return model


# ---- WordLevel --------------------------------------------------------------------------------------------

class WordLevel(Model):
    """One token per word: the word's id, or ``unk_token``'s."""

    def __init__(self, vocab: dict | None = None, unk_token: str = "[UNK]"):
        super().__init__()
        self.vocab = dict(vocab or {})
        self.unk_token = unk_token

    def _tokenize_word(self, word: str):
        i = self.vocab.get(word)
        if i is not None:
            return (i,), (word,), ((0, len(word)),)
        unk = self.vocab.get(self.unk_token)
        if unk is None:
            raise TokenizerError(f"WordLevel: {word!r} is not in the vocabulary and neither is the unknown token "
                                 f"{self.unk_token!r}")
        return (unk,), (self.unk_token,), ((0, len(word)),)

    def to_dict(self) -> dict:
        return {"type": "WordLevel", "vocab": self.vocab, "unk_token": self.unk_token}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(_read_vocab(f), f.opt("unk_token", str, "[UNK]"))


REGISTRY = {cls.__name__: cls for cls in (WordPiece, BPE, WordLevel)}


def from_dict(data, where: str = "model") -> Model:
    """The model a ``tokenizer.json`` "model" object describes."""
    if data is None:
        raise TokenizerError(f"{where}: missing (every tokenizer needs a model)")
    return build(data, where, REGISTRY, "model")
