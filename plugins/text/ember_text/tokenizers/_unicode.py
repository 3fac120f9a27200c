"""Character classes from ``_unicode_tables`` as regular-expression sets, compiled on first use.

A set written out as hundreds of ranges makes the ``regex`` engine several times slower than its built-in
property classes (``\\p{L}``), so the big classes are written as the built-in class plus the characters the
table has and it lacks, minus those it has and the table lacks. Those corrections are worked out on first
use against the installed ``regex`` module's own Unicode version (about 0.1 s), so the classes are exactly
the table's whatever that version is.
"""
from __future__ import annotations

import functools
import re

import numpy as np
import regex

from . import _unicode_tables as T

ASCII_PUNCT = r"!-/:-@\[-`{-~"


def _escape(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _parse(ranges: str) -> list[tuple[int, int]]:
    out = []
    for item in ranges.split():
        lo, _, hi = item.partition("-")
        out.append((int(lo, 16), int(hi or lo, 16)))
    return out


def char_class(ranges: str) -> str:
    """The inside of a regex ``[...]`` set matching the code points of ``ranges`` ("0041-005A 00AA ...")."""
    return "".join(_escape(a) + (f"-{_escape(b)}" if b != a else "") for a, b in _parse(ranges))


def _class_of(cps: np.ndarray) -> str:
    """A regex set body for sorted unique code points (merged into ranges)."""
    if cps.size == 0:
        return ""
    breaks = np.flatnonzero(np.diff(cps) != 1) + 1
    starts, ends = cps[np.r_[0, breaks]], cps[np.r_[breaks - 1, cps.size - 1]]
    return "".join(_escape(int(a)) + (f"-{_escape(int(b))}" if b != a else "") for a, b in zip(starts, ends))


def _code_points(ranges: list[tuple[int, int]]) -> np.ndarray:
    """Every code point of ``ranges``, surrogates left out, as a sorted uint32 array."""
    parts = [np.arange(a, b + 1, dtype=np.uint32) for a, b in ranges]
    cps = np.concatenate(parts) if parts else np.zeros(0, np.uint32)
    return cps[(cps < 0xD800) | (cps > 0xDFFF)]


@functools.cache
def _universe() -> str:
    return _code_points([(0, 0x10FFFF)]).astype("<u4").tobytes().decode("utf-32-le")


def corrected_class(builtin: str, ranges: str) -> str:
    """A V1 set body equal to the table's ``ranges``, written as ``builtin`` (a set body such as
    ``\\p{L}``) with corrections for the characters where the installed ``regex`` disagrees."""
    table = _code_points(_parse(ranges))
    matched = regex.sub(f"[^{builtin}]+", "", _universe())
    native = np.frombuffer(matched.encode("utf-32-le"), dtype="<u4")
    extra = np.setdiff1d(native, table, assume_unique=True)
    missing = np.setdiff1d(table, native, assume_unique=True)
    body = builtin + _class_of(missing)
    return f"[{body}]--[{_class_of(extra)}]" if extra.size else body


@functools.cache
def compiled(pattern: str) -> regex.Pattern:
    return regex.compile(pattern)


@functools.cache
def bert_removed() -> regex.Pattern:
    """Runs of characters the BERT normalizer deletes: NUL, U+FFFD and "other" (control, format,
    private use)."""
    return compiled(f"[{char_class(T.BERT_REMOVED)}]+")


@functools.cache
def bert_spaces() -> regex.Pattern:
    """Whitespace the BERT normalizer turns into a plain space (tab, newline, no-break space, ...)."""
    return compiled(f"[{char_class(T.BERT_SPACES)}]")


@functools.cache
def bert_chinese() -> regex.Pattern:
    """CJK ideographs, which the BERT normalizer surrounds with spaces."""
    return compiled(f"[{char_class(T.BERT_CHINESE)}]")


@functools.cache
def accent_marks() -> regex.Pattern:
    """Runs of the combining marks that StripAccents removes (after NFD)."""
    marks = corrected_class(r"\p{M}", T.ACCENT_MARKS)
    return compiled(f"(?V1)[{marks}]+")


@functools.cache
def bert_accent_marks() -> regex.Pattern:
    """Runs of the marks the BERT normalizer's own accent stripping removes (after NFD): nonspacing marks
    of an older Unicode table than StripAccents'."""
    marks = corrected_class(r"\p{Mn}", T.BERT_ACCENT_MARKS)
    return compiled(f"(?V1)[{marks}]+")


@functools.cache
def bert_words() -> regex.Pattern:
    """A BERT pre-token: a run of characters that are neither whitespace nor punctuation, or one
    punctuation character."""
    ws = char_class(T.BERT_SPLIT_WS)
    punct = corrected_class(r"\p{P}" + ASCII_PUNCT, T.BERT_PUNCT)
    return compiled(f"(?V1)[^{ws}[{punct}]]+|[{punct}]")


# ASCII-only texts (most of any English corpus) take these stdlib ``re`` patterns, about twice as fast as the
# full-Unicode ones; on ASCII they match exactly the same (the tables' ASCII parts are written out).
_ASCII_SPACE = r"\t-\r "
BERT_WORDS_ASCII = re.compile(f"[^{_ASCII_SPACE}{ASCII_PUNCT}]+|[{ASCII_PUNCT}]")
GPT2_ASCII = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\t-\r A-Za-z0-9]+|[\t-\r ]+(?![^\t-\r ])"
                        r"|[\t-\r ]+")
WHITESPACE_WORDS_ASCII = re.compile(r"[A-Za-z0-9_]+|[^\t-\r A-Za-z0-9_]+")


@functools.cache
def whitespace_runs() -> regex.Pattern:
    """Runs of whitespace as Rust's ``char::is_whitespace`` defines it."""
    return compiled(f"[{char_class(T.BERT_SPLIT_WS)}]+")


@functools.cache
def trailing_whitespace() -> regex.Pattern:
    return compiled(f"[{char_class(T.BERT_SPLIT_WS)}]+\\Z")


@functools.cache
def gpt2_pattern() -> regex.Pattern:
    """GPT-2's pre-tokenization regex with its classes as the Oniguruma engine of ``tokenizers`` has them:
    ``'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+``."""
    L = corrected_class(r"\p{L}", T.GPT2_LETTERS)
    N = corrected_class(r"\p{N}", T.GPT2_NUMBERS)
    S = char_class(T.GPT2_SPACES)
    return compiled(f"(?V1)'s|'t|'re|'ve|'m|'ll|'d| ?[{L}]+| ?[{N}]+| ?[^{S}[{L}][{N}]]+|[{S}]+(?![^{S}])|[{S}]+")


def lowercase_map() -> dict:
    """Characters whose lower case in ``tokenizers`` differs from Python's ``str.lower``."""
    return T.LOWERCASE


@functools.cache
def mapped_chars(table: str) -> regex.Pattern:
    """A pattern finding the characters that ``table`` ("LOWERCASE", "NFD", ...) maps specially, plus
    capital sigma for LOWERCASE (Python lower-cases it by context, Rust never does)."""
    cps = sorted(getattr(T, table)) + ([0x03A3] if table == "LOWERCASE" else [])
    if not cps:
        return compiled("(?!)")
    return compiled("[" + "".join(_escape(cp) for cp in cps) + "]")


def normalization_overrides(form: str) -> dict:
    """Characters whose ``form`` ("NFD", "NFKC", ...) in ``tokenizers`` differs from ``unicodedata``'s."""
    return getattr(T, form)


# ---- Oniguruma patterns (Split / Replace "Regex" patterns of a tokenizer.json) --------------------------------

@functools.cache
def _onig_class(name: str) -> str:
    """Set bodies of Oniguruma's classes as ``tokenizers`` runs them."""
    if name == "w":
        return corrected_class(r"\w", T.ONIG_WORD)
    if name == "d":
        return corrected_class(r"\d", T.ONIG_DIGIT)
    if name == "s":
        return char_class(T.GPT2_SPACES)
    if name == "L":
        return corrected_class(r"\p{L}", T.GPT2_LETTERS)
    return corrected_class(r"\p{N}", T.GPT2_NUMBERS)


def translate_onig(pattern: str) -> str:
    """``pattern`` with ``\\w \\d \\s`` (and negations) and ``\\p{L} \\p{N}`` replaced by the exact sets
    Oniguruma uses in ``tokenizers`` (a V1 pattern then), so a Split or Replace regex matches what it
    matches there; other syntax is passed through (the ``regex`` package reads Oniguruma's common syntax)."""
    out, i, changed = [], 0, False
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt in "wWdDsS":
                body = _onig_class(nxt.lower())
                out.append(f"[^{body}]" if nxt.isupper() else f"[{body}]")
                changed = True
                i += 2
                continue
            if pattern.startswith(("{L}", "{N}"), i + 2) and nxt == "p":
                out.append(f"[{_onig_class(pattern[i + 3])}]")
                changed = True
                i += 5
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[":
            out.append(c)
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):   # a "]" first in a set is a literal
                out.append("\\]")
                i += 1
            continue
        out.append(c)
        i += 1
    return "(?V1)" + "".join(out) if changed else pattern


@functools.cache
def whitespace_words() -> regex.Pattern:
    """The Whitespace pre-tokenizer's ``\\w+|[^\\w\\s]+`` with the classes of Rust's ``regex`` crate."""
    w = corrected_class(r"\w", T.RUST_WORD)
    s = char_class(T.RUST_SPACE)
    return compiled(f"(?V1)[{w}]+|[^{s}[{w}]]+")
