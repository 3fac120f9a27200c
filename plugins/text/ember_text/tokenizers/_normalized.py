"""Text under normalization that remembers where each of its characters came from.

Offsets in an :class:`~ember_text.tokenizers.Encoding` point into the text the user passed in, although the
model saw a lowercased, accent-stripped, byte-mapped version of it. ``NormalizedString`` carries, for each
character of the current text, the ``(start, end)`` span of the original text it stands for, and updates the
spans exactly as the ``tokenizers`` package does (its ``transform`` rules: a replacing character keeps the
span of the character it replaces, an inserted one copies the span of the character before it, removed
characters' spans are dropped).

Most text passes through unchanged or changed one character for one character (ASCII lowercasing, whitespace
mapping), so the spans are stored lazily: ``_align is None`` means character ``i`` stands for
``(shift + i, shift + i + 1)`` and no per-character list exists.
"""
from __future__ import annotations

import unicodedata

from . import _unicode

# Canonical combining classes are needed only to reorder marks after decomposing.
_combining = unicodedata.combining


class NormalizedString:
    """``text`` (the normalized characters) with the original span of each character."""

    __slots__ = ("text", "_align", "shift")

    def __init__(self, text: str, align: list | None = None, shift: int = 0):
        self.text = text
        self._align = align   # list of (start, end) per character, or None: identity from ``shift``
        self.shift = shift    # where this piece starts in the original text

    def __repr__(self) -> str:
        return f"NormalizedString({self.text!r}, offsets={self.offsets()})"

    def __len__(self) -> int:
        return len(self.text)

    # ---- spans -----------------------------------------------------------------------------------------

    @property
    def alignments(self) -> list:
        """The original ``(start, end)`` of every character (materialized on demand)."""
        if self._align is None:
            s = self.shift
            return [(s + i, s + i + 1) for i in range(len(self.text))]
        return self._align

    def offsets(self) -> tuple[int, int]:
        """The original span of the whole piece."""
        return self.span(0, len(self.text))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of characters ``start:end`` (the smallest start and largest end among them)."""
        if start >= end:   # an empty range (no token has one): the boundary's place in the original
            if not self.text:
                return self.shift, self.shift
            at = self.span(start, start + 1)[0] if start < len(self.text) else self.span(start - 1, start)[1]
            return at, at
        if self._align is None:
            return self.shift + start, self.shift + end
        part = self._align[start:end]
        if len(part) == 1:
            return part[0]
        return min(a for a, _ in part), max(b for _, b in part)

    def slice(self, start: int, end: int) -> NormalizedString:
        """Characters ``start:end`` as their own piece (spans kept)."""
        if self._align is None:
            return NormalizedString(self.text[start:end], None, self.shift + start)
        align = self._align[start:end]
        shift = align[0][0] if align else self.shift
        return NormalizedString(self.text[start:end], align, shift)

    # ---- the general rule --------------------------------------------------------------------------------

    def transform(self, changes, initial_offset: int = 0) -> None:
        """Replace the text by ``changes``, a sequence of ``(char, change)``: ``change == 0`` replaces the next
        original character, ``1`` inserts a character, ``-n`` replaces the next one and removes ``n`` after it;
        ``initial_offset`` characters are removed from the front first."""
        old = self.alignments
        chars, align = [], []
        pos = initial_offset
        for ch, change in changes:
            if change > 0:
                a = old[pos - 1] if pos >= 1 else (self.shift, self.shift)
            else:
                a = old[pos]
                pos += 1 - change
            chars.append(ch)
            align.append(a)
        self.text = "".join(chars)
        self._align = align

    # ---- operations, each with a fast path when spans do not move -----------------------------------------

    def map_same_length(self, new_text: str) -> None:
        """Replace the text by one of the same length whose character ``i`` stands for character ``i``."""
        self.text = new_text

    def remove(self, pattern) -> None:
        """Delete the characters matched by ``pattern`` (a compiled regex of character runs); each kept
        character keeps its span."""
        text = self.text
        if pattern.search(text) is None:
            return
        pieces = [(m.start(), m.end()) for m in pattern.finditer(text)]
        keep, prev = [], 0
        for a, b in pieces:
            if a > prev:
                keep.append((prev, a))
            prev = b
        if prev < len(text):
            keep.append((prev, len(text)))
        old = self.alignments
        self.text = "".join(text[a:b] for a, b in keep)
        self._align = [old[i] for a, b in keep for i in range(a, b)]
        if not self._align:
            self._align = None
            self.shift = old[-1][1] if old else self.shift

    def lowercase(self) -> None:
        """Lower-case character by character (Rust's ``char::to_lowercase``: no final-sigma rule)."""
        text = self.text
        if text.isascii():
            self.text = text.lower()
            return
        overrides = _unicode.lowercase_map()
        lowered = text.lower()
        if len(lowered) == len(text) and not _unicode.mapped_chars("LOWERCASE").search(text):
            self.text = lowered
            return
        changes = []
        for c in text:
            low = overrides.get(ord(c)) or c.lower()
            changes.append((low[0], 0))
            changes.extend((x, 1) for x in low[1:])
        self.transform(changes)

    def normalize_unicode(self, form: str) -> None:
        """NFD, NFKD, NFC or NFKC, with spans moved as ``tokenizers`` moves them."""
        text = self.text
        decomposition = "NFKD" if "K" in form else "NFD"
        overrides = _unicode.normalization_overrides(decomposition)
        if text.isascii() or (unicodedata.is_normalized(form, text)
                              and not _unicode.mapped_chars(decomposition).search(text)):
            return
        changes = _decompose(text, decomposition, overrides)
        if form.endswith("C"):
            changes = _compose(changes)
        self.transform(changes)

    def pad_matches(self, pattern, left: str = " ", right: str = " ") -> None:
        """Surround every character matched by ``pattern`` with ``left`` and ``right`` (the inserted
        characters take the span of the character they surround)."""
        if pattern.search(self.text) is None:
            return
        changes = []
        for c in self.text:
            if pattern.match(c):
                changes.extend(((left, 0), (c, 1), (right, 1)))
            else:
                changes.append((c, 0))
        self.transform(changes)

    def prepend(self, s: str) -> None:
        """Put ``s`` in front; its characters take the span of the first character."""
        if not self.text or not s:
            return
        first = self.text[0]
        changes = [(s[0], 0)] + [(c, 1) for c in s[1:]] + [(first, 1)] + [(c, 0) for c in self.text[1:]]
        self.transform(changes)

    def strip(self, left: bool = True, right: bool = True) -> None:
        """Remove leading and/or trailing whitespace (Rust's ``char::is_whitespace``)."""
        text = self.text
        ws = _unicode.whitespace_runs()
        m = ws.match(text) if left else None
        a = m.end() if m else 0
        b = len(text)
        if right:
            m = _unicode.trailing_whitespace().search(text, a)
            b = m.start() if m else b
        if a == 0 and b == len(text):
            return
        piece = self.slice(a, b)
        self.text, self._align, self.shift = piece.text, piece._align, piece.shift

    def replace(self, pattern, content: str) -> None:
        """Replace every match of ``pattern`` (a compiled regex) by ``content``; as in ``tokenizers``, the
        new characters all take the span of the last matched character."""
        text = self.text
        matches = [(m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()]
        if not matches:
            return
        old = self.alignments
        chars, align, prev = [], [], 0
        for a, b in matches:
            chars.append(text[prev:a])
            align.extend(old[prev:a])
            chars.append(content)
            align.extend([old[b - 1]] * len(content))
            prev = b
        chars.append(text[prev:])
        align.extend(old[prev:])
        self.text = "".join(chars)
        self._align = align


def _decompose(text: str, form: str, overrides: dict) -> list:
    """``(char, change)`` for the canonical/compatibility decomposition of ``text``: each character's first
    decomposed character replaces it, the rest are inserted; then marks are put in canonical order (each
    keeping its change, as the ``unicode-normalization`` crate's buffer does)."""
    changes = []
    for c in text:
        d = overrides.get(ord(c)) or unicodedata.normalize(form, c)
        changes.append((d[0], 0))
        changes.extend((x, 1) for x in d[1:])
    return _canonical_order(changes)


def _canonical_order(changes: list) -> list:
    """Stable-sort every run of non-starters (combining class > 0) by combining class."""
    out, run = [], []
    for item in changes:
        if _combining(item[0]):
            run.append(item)
            continue
        if run:
            out.extend(sorted(run, key=lambda it: _combining(it[0])))
            run = []
        out.append(item)
    if run:
        out.extend(sorted(run, key=lambda it: _combining(it[0])))
    return out


def _compose(changes: list) -> list:
    """Canonical composition of decomposed ``(char, change)`` pairs: a character absorbed into its starter
    folds its change into the starter's, minus one (it no longer stands for a character of its own)."""
    out = []
    starter = None          # index in ``out`` of the last starter
    last_class = None       # combining class of the last character kept after that starter
    for c, ch in changes:
        cc = _combining(c)
        blocked = last_class is not None and (cc == 0 or last_class >= cc)
        if starter is not None and not blocked:
            s_char, s_change = out[starter]
            composed = unicodedata.normalize("NFC", s_char + c)
            if len(composed) == 1:
                out[starter] = (composed, s_change + ch - 1)
                continue
        if cc == 0:
            starter, last_class = len(out), None
        else:
            last_class = cc
        out.append((c, ch))
    return out
