"""Added tokens (``[CLS]``, ``<mask>``, user additions): kept whole, found in the text before the model sees
it, as ``tokenizers``' ``AddedVocabulary`` does."""
from __future__ import annotations

import regex

from ._config import Fields
from ._normalized import NormalizedString
from .pre_tokenizers import _unicode

_WORD_CHAR = regex.compile(r"\w")


class AddedToken:
    """A token added to the vocabulary, matched in the text as a whole.

    ``single_word``: only when not inside a word; ``lstrip``/``rstrip``: swallow the whitespace on that side;
    ``normalized``: matched in the normalized text (else in the raw text); ``special``: skipped by
    ``decode(skip_special_tokens=True)``.

    Example::

        >>> from ember_text.tokenizers import Tokenizer, models
        >>> tok = Tokenizer(models.WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
        >>> tok.add_special_tokens([AddedToken("<mask>", lstrip=True)])
        1
        >>> tok.token_to_id("<mask>")
        2
    """

    __slots__ = ("content", "single_word", "lstrip", "rstrip", "normalized", "special")

    def __init__(self, content: str, single_word: bool = False, lstrip: bool = False, rstrip: bool = False,
                 normalized: bool | None = None, special: bool = False):
        self.content = content
        self.single_word, self.lstrip, self.rstrip = single_word, lstrip, rstrip
        self.special = special
        self.normalized = (not special) if normalized is None else normalized

    def to_dict(self, id: int) -> dict:
        return {"id": id, "content": self.content, "single_word": self.single_word, "lstrip": self.lstrip,
                "rstrip": self.rstrip, "normalized": self.normalized, "special": self.special}

    @classmethod
    def from_fields(cls, f: Fields) -> AddedToken:
        special = f.opt("special", bool, False)
        return cls(f.req("content", str), f.opt("single_word", bool, False), f.opt("lstrip", bool, False),
                   f.opt("rstrip", bool, False), f.opt("normalized", bool, not special), special)

    def _key(self):
        return (self.content, self.single_word, self.lstrip, self.rstrip, self.normalized, self.special)

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return self.content == other
        return isinstance(other, AddedToken) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self.content)

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        return (f"AddedToken({self.content!r}, rstrip={self.rstrip}, lstrip={self.lstrip}, "
                f"single_word={self.single_word}, normalized={self.normalized}, special={self.special})")


class AddedVocabulary:
    """The added tokens of a tokenizer, with the patterns that find them."""

    def __init__(self):
        self.by_id: dict[int, AddedToken] = {}
        self.ids: dict[str, int] = {}
        self.special: set[str] = set()
        self._raw = None          # (compiled alternation, {matched text: id}) for normalized=False tokens
        self._normalized = None   # the same for normalized=True tokens, in normalized form

    def __len__(self) -> int:
        return len(self.by_id)

    def tokens(self) -> list[tuple[int, AddedToken]]:
        return sorted(self.by_id.items())

    def id_to_token(self, id: int) -> str | None:
        t = self.by_id.get(id)
        return t.content if t is not None else None

    def is_special(self, content: str) -> bool:
        return content in self.special

    def add(self, tokens, model, normalizer, special: bool = False) -> int:
        """Add tokens (strings or AddedToken); ids come from the model's vocabulary when the token is in it,
        else the next free id. Returns how many were added."""
        added = 0
        for t in tokens:
            if isinstance(t, str):
                t = AddedToken(t, special=special)
            elif special and not t.special:
                t = AddedToken(t.content, t.single_word, t.lstrip, t.rstrip, t.normalized, special=True)
            if not t.content:
                continue
            if t.special:
                self.special.add(t.content)
            existing = self.ids.get(t.content)
            if existing is not None and self.by_id[existing] == t:
                continue
            new_id = existing if existing is not None else model.token_to_id(t.content)
            if new_id is None:
                new_id = self._next_id(model)
            self.ids[t.content] = new_id
            self.by_id[new_id] = t
            added += 1
        self.refresh(normalizer)
        return added

    def _next_id(self, model) -> int:
        size = model.get_vocab_size()
        top = max(self.ids.values(), default=None)
        if top is None:
            return size
        return top + 1 if (top >= size or size == 0) else size

    def insert(self, id: int, token: AddedToken) -> None:
        """Put a token with a known id (from a tokenizer.json)."""
        self.ids[token.content] = id
        self.by_id[id] = token
        if token.special:
            self.special.add(token.content)

    def refresh(self, normalizer) -> None:
        """Rebuild the matching patterns (normalized tokens are matched in their normalized form)."""
        raw, norm = {}, {}
        for id, t in self.by_id.items():
            if t.normalized and normalizer is not None:
                norm[normalizer.normalize_str(t.content)] = id
            elif t.normalized:
                norm[t.content] = id
            else:
                raw[t.content] = id
        self._raw = _pattern(raw)
        self._normalized = _pattern(norm)

    def extract_and_normalize(self, normalizer, text: str) -> list:
        """``[(NormalizedString, id or None), ...]``: the text cut around added tokens (raw ones first, then
        normalized ones in the normalized rest), the rest normalized; empty pieces dropped."""
        if self._raw is None:
            self.refresh(normalizer)
        first = self._split(NormalizedString(text), self._raw)
        out = []
        for piece, tid in first:
            if tid is not None:
                out.append((piece, tid))
                continue
            if normalizer is not None:
                normalizer.normalize(piece)
            out.extend(p for p in self._split(piece, self._normalized) if p[0].text)
        return out

    def _split(self, piece: NormalizedString, pattern) -> list:
        text = piece.text
        if pattern is None or not text:
            return [(piece, None)] if text else []
        compiled, by_text, first_chars = pattern
        if not any(c in text for c in first_chars):   # cheap check before running the alternation
            return [(piece, None)]
        out, start_offset = [], 0
        for m in compiled.finditer(text):
            start, stop = m.span()
            tid = by_text[m.group()]
            token = self.by_id[tid]
            if token.single_word:
                if (start > 0 and _WORD_CHAR.match(text[start - 1])) or (stop < len(text)
                                                                          and _WORD_CHAR.match(text[stop])):
                    continue
            if token.lstrip:
                k = start
                while k > 0 and _is_space(text[k - 1]):
                    k -= 1
                start = max(k, start_offset)
            if token.rstrip:
                while stop < len(text) and _is_space(text[stop]):
                    stop += 1
            if start > start_offset:
                out.append((piece.slice(start_offset, start), None))
            out.append((piece.slice(start, stop), tid))
            start_offset = stop
        if start_offset != len(text):
            out.append((piece.slice(start_offset, len(text)), None))
        return out


def _is_space(c: str) -> bool:
    return _unicode.whitespace_runs().match(c) is not None


def _pattern(by_text: dict):
    """A regex finding the leftmost-longest of ``by_text``'s strings, or None if there are none."""
    if not by_text:
        return None
    alternatives = sorted(by_text, key=len, reverse=True)
    first_chars = {t[0] for t in by_text if t}
    return regex.compile("|".join(regex.escape(t) for t in alternatives if t)), by_text, first_chars
