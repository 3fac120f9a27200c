"""Pre-tokenizers: split normalized text into words (the units the model tokenizes) while keeping offsets.
Names, options and JSON as in ``tokenizers.pre_tokenizers``.

Example::

    >>> from ember_text.tokenizers import pre_tokenizers
    >>> pre_tokenizers.BertPreTokenizer().pre_tokenize_str("Hello, world!")
    [('Hello', (0, 5)), (',', (5, 6)), ('world', (7, 12)), ('!', (12, 13))]
"""
from __future__ import annotations

import functools

import regex

from . import _unicode
from ._config import Fields, build, compile_pattern, pattern_source
from ._errors import TokenizerError
from ._normalized import NormalizedString

__all__ = ["PreTokenizer", "BertPreTokenizer", "ByteLevel", "Whitespace", "WhitespaceSplit", "Punctuation",
           "Digits", "Split", "Sequence", "bytes_to_unicode"]

BEHAVIORS = ("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous")


class PreTokenizer:
    """Base class: ``split(NormalizedString) -> list[NormalizedString]`` cuts one piece into words."""

    def split(self, piece: NormalizedString) -> list[NormalizedString]:
        raise NotImplementedError

    def pre_tokenize(self, pieces: list[NormalizedString]) -> list[NormalizedString]:
        """Every piece split in turn (empty pieces dropped, as ``tokenizers`` drops them)."""
        out = []
        for piece in pieces:
            out.extend(p for p in self.split(piece) if p.text)
        return out

    def fast_words(self, text: str):
        """``(model_text, spans)`` when splitting ``text`` (whose characters stand for themselves) only cuts
        it -- ``model_text[a:b]`` is a word and ``(a, b)`` its characters in ``text`` -- else None. Lets the
        tokenizer skip building a NormalizedString per word."""
        return None

    def pre_tokenize_str(self, sequence: str) -> list[tuple[str, tuple[int, int]]]:
        """The words of ``sequence`` with their ``(start, end)`` offsets."""
        return [(p.text, p.offsets()) for p in self.pre_tokenize([NormalizedString(sequence)])]

    def to_dict(self) -> dict:
        return {"type": type(self).__name__}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "type")
        return f"{type(self).__name__}({args})"


# ---- splitting by matches, with tokenizers' delimiter behaviours -------------------------------------------

def find_matches(text: str, pattern: regex.Pattern, invert: bool = False) -> list:
    """``[((start, end), is_match), ...]`` covering ``text``: the matches of ``pattern`` and the gaps."""
    if not text:
        return [((0, 0), False)]
    out, prev = [], 0
    for m in pattern.finditer(text):
        a, b = m.span()
        if prev != a:
            out.append(((prev, a), invert))
        out.append(((a, b), not invert))
        prev = b
    if prev != len(text):
        out.append(((prev, len(text)), invert))
    return out


def _merge_spans(matches: list, behavior: str) -> list:
    """The ``(span, keep)`` list of ``behavior`` applied to ``find_matches`` output."""
    if behavior == "Removed":
        return [(span, not is_match) for span, is_match in matches]
    if behavior == "Isolated":
        return [(span, True) for span, _ in matches]
    acc, previous = [], False
    if behavior == "MergedWithNext":
        for (a, b), is_match in reversed(matches):
            if is_match and not previous and acc:
                acc[-1] = [a, acc[-1][1]]
            else:
                acc.append([a, b])
            previous = is_match
        acc.reverse()
        return [(tuple(s), True) for s in acc]
    for (a, b), is_match in matches:
        merge = (is_match == previous) if behavior == "Contiguous" else (is_match and not previous)
        if merge and acc:
            acc[-1][1] = b
        else:
            acc.append([a, b])
        previous = is_match
    return [(tuple(s), True) for s in acc]


def split_piece(piece: NormalizedString, pattern: regex.Pattern, behavior: str,
                invert: bool = False) -> list[NormalizedString]:
    """``piece`` cut at the matches of ``pattern`` according to ``behavior``."""
    spans = _merge_spans(find_matches(piece.text, pattern, invert), behavior)
    return [piece.slice(a, b) for (a, b), keep in spans if keep]


def _matches_only(piece: NormalizedString, pattern: regex.Pattern) -> list[NormalizedString]:
    """The pieces matched by ``pattern`` (what splitting with the inverted pattern and "Removed" keeps)."""
    return [piece.slice(*m.span()) for m in pattern.finditer(piece.text)]


# ---- the pre-tokenizers -----------------------------------------------------------------------------------

class BertPreTokenizer(PreTokenizer):
    """Splits on whitespace (dropped) and punctuation (each punctuation character is a word)."""

    def split(self, piece: NormalizedString) -> list[NormalizedString]:
        return _matches_only(piece, _unicode.bert_words())

    def fast_words(self, text: str):
        pattern = _unicode.BERT_WORDS_ASCII if text.isascii() else _unicode.bert_words()
        return text, [m.span() for m in pattern.finditer(text)]


class Whitespace(PreTokenizer):
    """Words are runs of word characters or runs of other non-space characters (``\\w+|[^\\w\\s]+``)."""

    def split(self, piece: NormalizedString) -> list[NormalizedString]:
        return _matches_only(piece, _unicode.whitespace_words())

    def fast_words(self, text: str):
        pattern = _unicode.WHITESPACE_WORDS_ASCII if text.isascii() else _unicode.whitespace_words()
        return text, [m.span() for m in pattern.finditer(text)]


class WhitespaceSplit(PreTokenizer):
    """Splits on whitespace only."""

    def split(self, piece: NormalizedString) -> list[NormalizedString]:
        return split_piece(piece, _unicode.whitespace_runs(), "Removed")


class Punctuation(PreTokenizer):
    """Splits on punctuation characters, handled according to ``behavior`` (default "Isolated")."""

    def __init__(self, behavior: str = "Isolated"):
        if behavior not in BEHAVIORS:
            raise TokenizerError(f"Punctuation: behavior must be one of {', '.join(BEHAVIORS)}, got {behavior!r}")
        self.behavior = behavior

    def split(self, piece: NormalizedString) -> list[NormalizedString]:
        return split_piece(piece, _bert_punct_char(), self.behavior)

    def to_dict(self) -> dict:
        return {"type": "Punctuation", "behavior": self.behavior}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.choice("behavior", BEHAVIORS, "Isolated"))


@functools.cache
def _bert_punct_char() -> regex.Pattern:
    punct = _unicode.corrected_class(r"\p{P}" + _unicode.ASCII_PUNCT, _unicode.T.BERT_PUNCT)
    return _unicode.compiled(f"(?V1)[{punct}]")


class Digits(PreTokenizer):
    """Splits numbers from the rest: each digit on its own (``individual_digits``) or runs of digits."""

    def __init__(self, individual_digits: bool = False):
        self.individual_digits = individual_digits

    def split(self, piece: NormalizedString) -> list[NormalizedString]:
        digit = _unicode.compiled(r"\p{N}")
        return split_piece(piece, digit, "Isolated" if self.individual_digits else "Contiguous")

    def to_dict(self) -> dict:
        return {"type": "Digits", "individual_digits": self.individual_digits}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.opt("individual_digits", bool, False))


class Split(PreTokenizer):
    """Splits on a pattern (a string, or ``{"Regex": r}``), with ``behavior`` saying what happens to the
    matches ("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"); ``invert`` swaps
    matches and gaps."""

    def __init__(self, pattern, behavior: str, invert: bool = False):
        if isinstance(pattern, dict):
            (kind, text), = pattern.items()
            self._source = (text, kind == "Regex")
        else:
            self._source = (str(pattern), False)
        if behavior not in BEHAVIORS:
            raise TokenizerError(f"Split: behavior must be one of {', '.join(BEHAVIORS)}, got {behavior!r}")
        self.behavior, self.invert = behavior, invert
        self._regex = compile_pattern(*self._source, "Split.pattern")

    def split(self, piece: NormalizedString) -> list[NormalizedString]:
        return split_piece(piece, self._regex, self.behavior, self.invert)

    def to_dict(self) -> dict:
        text, is_regex = self._source
        return {"type": "Split", "pattern": {"Regex" if is_regex else "String": text}, "behavior": self.behavior,
                "invert": self.invert}

    @classmethod
    def from_fields(cls, f: Fields):
        text, is_regex = pattern_source(f)
        compile_pattern(text, is_regex, f.at("pattern"))
        return cls({"Regex" if is_regex else "String": text}, f.choice("behavior", BEHAVIORS),
                   f.opt("invert", bool, False))


@functools.cache
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's map from the 256 byte values to printable characters: bytes that are printable Latin-1
    characters map to themselves, the others (controls, space, ...) to U+0100 onwards in byte order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping, extra = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


@functools.cache
def _byte_table() -> dict:
    """``str.translate`` table taking a Latin-1-decoded byte string to GPT-2's characters."""
    return {b: c for b, c in bytes_to_unicode().items()}


def _utf8_len(c: str) -> int:
    cp = ord(c)
    return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4


def byte_map(piece: NormalizedString) -> None:
    """Replace ``piece``'s text by GPT-2 characters, one per UTF-8 byte; every byte of a character keeps
    that character's span."""
    text = piece.text
    mapped = text.encode("utf-8").decode("latin-1").translate(_byte_table())
    if len(mapped) != len(text):
        old = piece.alignments
        piece._align = [a for c, a in zip(text, old) for _ in range(_utf8_len(c))]
    piece.text = mapped


class ByteLevel(PreTokenizer):
    """GPT-2's byte-level pre-tokenization: optionally a space in front (``add_prefix_space``), words from
    GPT-2's regex (``use_regex``), then every UTF-8 byte mapped to a printable character (so no text is
    ever unknown). ``trim_offsets`` is used by the post-processor of the same name."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True):
        self.add_prefix_space = add_prefix_space
        self.trim_offsets = trim_offsets
        self.use_regex = use_regex

    @staticmethod
    def alphabet() -> list[str]:
        """The 256 characters bytes map to (a trainer's ``initial_alphabet`` for byte-level BPE)."""
        return list(bytes_to_unicode().values())

    def split(self, piece: NormalizedString) -> list[NormalizedString]:
        if self.add_prefix_space and not piece.text.startswith(" "):
            piece.prepend(" ")
        pieces = _matches_only(piece, _unicode.gpt2_pattern()) if self.use_regex else [piece]
        for p in pieces:
            byte_map(p)
        return pieces

    def pre_tokenize(self, pieces: list[NormalizedString]) -> list[NormalizedString]:
        out = []
        for piece in pieces:
            out.extend(p for p in self.split(piece) if p.text)
        return out

    def fast_words(self, text: str):
        # ASCII maps to one character per byte, so spans stay put; a prefix space would shift them.
        if not text.isascii() or (self.add_prefix_space and text and text[0] != " "):
            return None
        mapped = text.translate(_byte_table())
        if not self.use_regex:
            return mapped, ([(0, len(text))] if text else [])
        return mapped, [m.span() for m in _unicode.GPT2_ASCII.finditer(text)]

    def to_dict(self) -> dict:
        return {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": self.trim_offsets,
                "use_regex": self.use_regex}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.opt("add_prefix_space", bool, True), f.opt("trim_offsets", bool, True),
                   f.opt("use_regex", bool, True))


class Sequence(PreTokenizer):
    """Applies several pre-tokenizers in order, each to the pieces the previous one made."""

    def __init__(self, pretokenizers):
        self.pretokenizers = list(pretokenizers)

    def pre_tokenize(self, pieces: list[NormalizedString]) -> list[NormalizedString]:
        for p in self.pretokenizers:
            pieces = p.pre_tokenize(pieces)
        return pieces

    def split(self, piece: NormalizedString) -> list[NormalizedString]:
        return self.pre_tokenize([piece])

    def to_dict(self) -> dict:
        return {"type": "Sequence", "pretokenizers": [p.to_dict() for p in self.pretokenizers]}

    @classmethod
    def from_fields(cls, f: Fields):
        items = f.req("pretokenizers", list)
        return cls(from_dict(item, f"{f.at('pretokenizers')}[{i}]") for i, item in enumerate(items))

    def __repr__(self) -> str:
        return f"Sequence({self.pretokenizers!r})"


REGISTRY = {cls.__name__: cls for cls in (BertPreTokenizer, ByteLevel, Whitespace, WhitespaceSplit, Punctuation,
                                          Digits, Split, Sequence)}


def from_dict(data, where: str = "pre_tokenizer") -> PreTokenizer | None:
    """The pre-tokenizer a ``tokenizer.json`` "pre_tokenizer" object describes (None for null)."""
    return build(data, where, REGISTRY, "pre-tokenizer")
