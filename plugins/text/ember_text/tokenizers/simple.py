"""A character-level tokenizer for small language models (char-RNN, nanoGPT-style), vectorized with NumPy."""
from __future__ import annotations

import json
import os
from collections import Counter

import numpy as np

from ._errors import TokenizerError

__all__ = ["CharTokenizer"]


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


class CharTokenizer:
    """One token per character. Ids are given in the order of ``chars`` after the ``specials`` (which are
    whole strings such as ``"<pad>"``, never produced by ``encode``). A character outside the vocabulary
    maps to ``unk_token`` if there is one, else raises ``KeyError`` naming it.

    Example::

        >>> tok = CharTokenizer.from_text("To be, or not to be, that is the question")
        >>> ids = tok.encode("To be", return_tensors="ember")     # int64 tensor
        >>> tok.decode(ids)
        'To be'
    """

    def __init__(self, chars, specials=(), unk_token: str | None = None):
        self.specials = list(specials)
        if unk_token is not None and unk_token not in self.specials:
            self.specials.append(unk_token)
        self.unk_token = unk_token
        chars = list(chars)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharTokenizer: vocabulary entries must be single characters, got {c!r}")
        itos = self.specials + [c for c in dict.fromkeys(chars) if c not in self.specials]
        if len(set(itos)) != len(itos):
            raise ValueError("CharTokenizer: duplicate special tokens")
        self.itos = itos
        self.stoi = {t: i for i, t in enumerate(itos)}
        # Sorted code points of the single-character tokens, and their ids, for vectorized lookups.
        singles = [(ord(t), i) for i, t in enumerate(itos) if len(t) == 1 and t not in self.specials]
        singles.sort()
        self._cps = np.array([cp for cp, _ in singles], dtype=np.uint32)
        self._ids = np.array([i for _, i in singles], dtype=np.int64)
        self._chars = np.array([ord(t) if len(t) == 1 else 0 for t in itos], dtype=np.uint32)
        self._single = np.array([len(t) == 1 and t not in self.specials for t in itos], dtype=bool)

    @classmethod
    def from_text(cls, text, specials=(), unk_token: str | None = None, min_freq: int = 1) -> CharTokenizer:
        """The characters of ``text`` (a string or an iterable of strings) that occur at least ``min_freq``
        times, sorted by code point."""
        counts = Counter()
        for part in ([text] if isinstance(text, str) else text):
            counts.update(part)
        return cls(sorted(c for c, n in counts.items() if n >= min_freq), specials, unk_token)

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.stoi)

    def encode(self, text: str, return_tensors: str | None = None):
        """The ids of ``text``'s characters: a list, or an int64 NumPy array (``"np"``) or Ember tensor
        (``"ember"``)."""
        cps = _code_points(text)
        pos = np.searchsorted(self._cps, cps)
        pos = np.minimum(pos, max(len(self._cps) - 1, 0))
        found = self._cps[pos] == cps if len(self._cps) else np.zeros(len(cps), dtype=bool)
        ids = self._ids[pos] if len(self._cps) else np.zeros(len(cps), dtype=np.int64)
        if not found.all():
            if self.unk_token is None:
                bad = chr(int(cps[np.argmin(found)]))
                raise KeyError(f"character {bad!r} is not in the CharTokenizer's vocabulary (give unk_token= to "
                               f"map unknown characters)")
            ids = np.where(found, ids, self.stoi[self.unk_token])
        if return_tensors is None:
            return ids.tolist()
        if return_tensors == "np":
            return ids
        if return_tensors in ("ember", "pt"):
            import ember
            return ember.from_numpy(ids)
        raise ValueError(f"return_tensors must be None, 'np' or 'ember', got {return_tensors!r}")

    __call__ = encode

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        """The text of ``ids`` (a list, array or tensor of ints)."""
        arr = np.asarray(ids.tolist() if hasattr(ids, "tolist") else ids, dtype=np.int64).reshape(-1)
        if arr.size and (arr.min() < 0 or arr.max() >= len(self.itos)):
            bad = int(arr[(arr < 0) | (arr >= len(self.itos))][0])
            raise IndexError(f"id {bad} is out of range for a vocabulary of {len(self.itos)} tokens")
        single = self._single[arr]
        if single.all():
            return self._chars[arr].astype("<u4").tobytes().decode("utf-32-le")
        return "".join(self.itos[i] for i in arr.tolist()
                       if not (skip_special_tokens and self.itos[i] in self.specials))

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON (``CharTokenizer.from_file`` reads it)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"type": "CharTokenizer", "itos": self.itos, "specials": self.specials,
                       "unk_token": self.unk_token}, f, ensure_ascii=False)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> CharTokenizer:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise TokenizerError(f"{os.fspath(path)}: not valid JSON ({e})") from None
        if not isinstance(data, dict) or data.get("type") != "CharTokenizer" or not isinstance(data.get("itos"), list):
            raise TokenizerError(f"{os.fspath(path)}: not a CharTokenizer file (expected type and itos)")
        specials = data.get("specials") or []
        try:
            return cls([t for t in data["itos"] if t not in specials], specials, data.get("unk_token"))
        except (ValueError, TypeError) as e:
            raise TokenizerError(f"{os.fspath(path)}: {e}") from None

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={len(self.itos)}, specials={self.specials})"
