"""``Vocab``, ``vocab`` and ``build_vocab_from_iterator`` with torchtext's behaviour (``torchtext.vocab``):
tokens by decreasing frequency (ties alphabetical), special tokens first or last, ``min_freq``, ``max_tokens``
and a default index for unknown tokens.

Example::

    >>> from ember_text.tokenizers import build_vocab_from_iterator
    >>> v = build_vocab_from_iterator([["a", "b", "a"], ["c", "a"]], specials=["<unk>", "<pad>"])
    >>> v.set_default_index(v["<unk>"])
    >>> v(["a", "c", "zzz"])
    [2, 4, 0]
"""
from __future__ import annotations

from collections import Counter, OrderedDict

__all__ = ["Vocab", "vocab", "build_vocab_from_iterator"]


class Vocab:
    """A token <-> index mapping. ``vocab[token]`` raises ``RuntimeError`` for an unknown token unless a
    default index is set (``set_default_index``), as torchtext's."""

    def __init__(self, tokens=()):
        self._itos: list[str] = []
        self._stoi: dict[str, int] = {}
        self._default: int | None = None
        for t in tokens:
            if t in self._stoi:
                raise RuntimeError(f"Duplicate token found in tokens list: {t}")
            self._stoi[t] = len(self._itos)
            self._itos.append(t)

    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: str) -> bool:
        return token in self._stoi

    def __getitem__(self, token: str) -> int:
        i = self._stoi.get(token)
        if i is not None:
            return i
        if self._default is None:
            raise RuntimeError(f"Token {token} not found and default index is not set")
        return self._default

    def __call__(self, tokens: list[str]) -> list[int]:
        return self.lookup_indices(tokens)

    forward = __call__

    def __repr__(self) -> str:
        return f"Vocab(size={len(self._itos)}, default_index={self._default})"

    def set_default_index(self, index: int | None) -> None:
        self._default = index

    def get_default_index(self) -> int | None:
        return self._default

    def insert_token(self, token: str, index: int) -> None:
        """Put ``token`` at ``index`` (0..len), shifting the later tokens up by one."""
        if token in self._stoi:
            raise RuntimeError(f"Token {token} already exists in the Vocab with index: {self._stoi[token]}")
        if not 0 <= index <= len(self._itos):
            raise RuntimeError(f"Specified index {index} is out of bounds for vocab of size {len(self._itos)}")
        self._itos.insert(index, token)
        self._stoi = {t: i for i, t in enumerate(self._itos)}

    def append_token(self, token: str) -> None:
        if token in self._stoi:
            raise RuntimeError(f"Token {token} already exists in the Vocab with index: {self._stoi[token]}")
        self._stoi[token] = len(self._itos)
        self._itos.append(token)

    def lookup_token(self, index: int) -> str:
        if not 0 <= index < len(self._itos):
            raise RuntimeError(f"Specified index {index} is out of bounds of the size of itos dictionary: "
                               f"{len(self._itos)}.")
        return self._itos[index]

    def lookup_tokens(self, indices: list[int]) -> list[str]:
        return [self.lookup_token(i) for i in indices]

    def lookup_indices(self, tokens: list[str]) -> list[int]:
        stoi, default = self._stoi, self._default
        if default is None:
            return [self[t] for t in tokens]
        return [stoi.get(t, default) for t in tokens]

    def get_stoi(self) -> dict[str, int]:
        return dict(self._stoi)

    def get_itos(self) -> list[str]:
        return list(self._itos)


def vocab(ordered_dict, min_freq: int = 1, specials=None, special_first: bool = True) -> Vocab:
    """A Vocab of the tokens of ``ordered_dict`` (token -> frequency, in the order wanted) that occur at
    least ``min_freq`` times, with ``specials`` first (or last)."""
    specials = list(specials or [])
    ordered = OrderedDict(ordered_dict)
    for token in specials:
        ordered.pop(token, None)
    tokens = [t for t, freq in ordered.items() if freq >= min_freq]
    tokens = specials + tokens if special_first else tokens + specials
    return Vocab(tokens)


def build_vocab_from_iterator(iterator, min_freq: int = 1, specials=None, special_first: bool = True,
                              max_tokens: int | None = None) -> Vocab:
    """A Vocab from an iterator of token lists: tokens by decreasing count, ties in alphabetical order,
    keeping at most ``max_tokens`` (special tokens included) and those seen at least ``min_freq`` times."""
    counter = Counter()
    for tokens in iterator:
        counter.update(tokens)
    specials = list(specials or [])
    ordered = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    if max_tokens is not None:
        if len(specials) >= max_tokens:
            raise AssertionError("len(specials) >= max_tokens, so the vocab will be entirely special tokens.")
        ordered = ordered[:max_tokens - len(specials)]
    return vocab(OrderedDict(ordered), min_freq=min_freq, specials=specials, special_first=special_first)
