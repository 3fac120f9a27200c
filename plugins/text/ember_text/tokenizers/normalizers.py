"""Normalizers: the first step of a tokenizer, rewriting the text (lowercase, strip accents, ...) while
keeping track of where each character came from. Names, options and JSON as in ``tokenizers.normalizers``.

Example::

    >>> from ember_text.tokenizers import normalizers
    >>> normalizers.BertNormalizer(lowercase=True).normalize_str("Héllo\\tWORLD 你好")
    'hello world  你  好 '
"""
from __future__ import annotations

from . import _unicode
from ._config import Fields, build, compile_pattern, pattern_source
from ._normalized import NormalizedString

__all__ = ["Normalizer", "BertNormalizer", "Lowercase", "StripAccents", "NFC", "NFD", "NFKC", "NFKD", "Strip",
           "Replace", "Prepend", "Sequence"]


class Normalizer:
    """Base class: subclasses implement ``normalize(NormalizedString)``, ``to_dict`` and ``from_fields``."""

    def normalize(self, normalized: NormalizedString) -> None:
        raise NotImplementedError

    def normalize_str(self, sequence: str) -> str:
        """The normalized text of ``sequence`` (no offsets)."""
        ns = NormalizedString(sequence)
        self.normalize(ns)
        return ns.text

    def to_dict(self) -> dict:
        return {"type": type(self).__name__}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "type")
        return f"{type(self).__name__}({args})"


class BertNormalizer(Normalizer):
    """BERT's normalization: ``clean_text`` deletes control characters (and NUL, U+FFFD) and turns every
    whitespace character into a space; ``handle_chinese_chars`` puts spaces around CJK ideographs;
    ``strip_accents`` (default: same as ``lowercase``) decomposes (NFD) and drops combining marks;
    ``lowercase`` lower-cases."""

    def __init__(self, clean_text: bool = True, handle_chinese_chars: bool = True, strip_accents: bool | None = None,
                 lowercase: bool = True):
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents = strip_accents
        self.lowercase = lowercase

    def normalize(self, ns: NormalizedString) -> None:
        if self.clean_text:
            _clean_text(ns)
        if self.handle_chinese_chars and not ns.text.isascii():
            ns.pad_matches(_unicode.bert_chinese())
        if self.lowercase if self.strip_accents is None else self.strip_accents:
            _strip_accents(ns)
        if self.lowercase:
            ns.lowercase()

    def to_dict(self) -> dict:
        return {"type": "BertNormalizer", "clean_text": self.clean_text,
                "handle_chinese_chars": self.handle_chinese_chars, "strip_accents": self.strip_accents,
                "lowercase": self.lowercase}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.opt("clean_text", bool, True), f.opt("handle_chinese_chars", bool, True),
                   f.opt("strip_accents", bool, None), f.opt("lowercase", bool, True))


_ASCII_SPACES = str.maketrans("\t\n\r", "   ")


def _clean_text(ns: NormalizedString) -> None:
    text = ns.text
    if text.isascii():
        # Only ASCII control characters can be removed here; tab/newline/CR become spaces one for one.
        if not text.isprintable():
            ns.remove(_unicode.bert_removed())
        ns.map_same_length(ns.text.translate(_ASCII_SPACES))
        return
    ns.remove(_unicode.bert_removed())
    ns.map_same_length(_unicode.bert_spaces().sub(" ", ns.text))


def _strip_accents(ns: NormalizedString) -> None:
    if ns.text.isascii():
        return
    ns.normalize_unicode("NFD")
    ns.remove(_unicode.bert_accent_marks())


class Lowercase(Normalizer):
    """Lower-cases every character."""

    def normalize(self, ns: NormalizedString) -> None:
        ns.lowercase()


class StripAccents(Normalizer):
    """Removes combining marks (use after NFD/NFKD to strip accents)."""

    def normalize(self, ns: NormalizedString) -> None:
        if not ns.text.isascii():
            ns.remove(_unicode.accent_marks())


class _UnicodeForm(Normalizer):
    form = ""

    def normalize(self, ns: NormalizedString) -> None:
        ns.normalize_unicode(self.form)


class NFD(_UnicodeForm):
    """Unicode canonical decomposition."""
    form = "NFD"


class NFKD(_UnicodeForm):
    """Unicode compatibility decomposition."""
    form = "NFKD"


class NFC(_UnicodeForm):
    """Unicode canonical decomposition followed by canonical composition."""
    form = "NFC"


class NFKC(_UnicodeForm):
    """Unicode compatibility decomposition followed by canonical composition."""
    form = "NFKC"


class Strip(Normalizer):
    """Removes whitespace at the start (``left``) and/or end (``right``)."""

    def __init__(self, left: bool = True, right: bool = True):
        self.left, self.right = left, right

    def normalize(self, ns: NormalizedString) -> None:
        ns.strip(self.left, self.right)

    def to_dict(self) -> dict:
        return {"type": "Strip", "strip_left": self.left, "strip_right": self.right}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.opt("strip_left", bool, True), f.opt("strip_right", bool, True))


class Replace(Normalizer):
    """Replaces every match of ``pattern`` (a string, or ``Regex(...)``-style dict ``{"Regex": r}``) by
    ``content``."""

    def __init__(self, pattern, content: str):
        if isinstance(pattern, dict):
            (kind, text), = pattern.items()
            self._source = (text, kind == "Regex")
        else:
            self._source = (str(pattern), False)
        self.content = content
        self._regex = compile_pattern(*self._source, "Replace.pattern")

    def normalize(self, ns: NormalizedString) -> None:
        ns.replace(self._regex, self.content)

    def to_dict(self) -> dict:
        text, is_regex = self._source
        return {"type": "Replace", "pattern": {"Regex" if is_regex else "String": text}, "content": self.content}

    @classmethod
    def from_fields(cls, f: Fields):
        text, is_regex = pattern_source(f)
        compile_pattern(text, is_regex, f.at("pattern"))
        return cls({"Regex" if is_regex else "String": text}, f.req("content", str))


class Prepend(Normalizer):
    """Puts ``prepend`` in front of non-empty text."""

    def __init__(self, prepend: str):
        self.prepend = prepend

    def normalize(self, ns: NormalizedString) -> None:
        ns.prepend(self.prepend)

    def to_dict(self) -> dict:
        return {"type": "Prepend", "prepend": self.prepend}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.req("prepend", str))


class Sequence(Normalizer):
    """Applies several normalizers in order."""

    def __init__(self, normalizers):
        self.normalizers = list(normalizers)

    def normalize(self, ns: NormalizedString) -> None:
        for n in self.normalizers:
            n.normalize(ns)

    def to_dict(self) -> dict:
        return {"type": "Sequence", "normalizers": [n.to_dict() for n in self.normalizers]}

    @classmethod
    def from_fields(cls, f: Fields):
        items = f.req("normalizers", list)
        return cls(from_dict(item, f"{f.at('normalizers')}[{i}]") for i, item in enumerate(items))

    def __repr__(self) -> str:
        return f"Sequence({self.normalizers!r})"


REGISTRY = {cls.__name__: cls for cls in (BertNormalizer, Lowercase, StripAccents, NFC, NFD, NFKC, NFKD, Strip,
                                          Replace, Prepend, Sequence)}


def from_dict(data, where: str = "normalizer") -> Normalizer | None:
    """The normalizer a ``tokenizer.json`` "normalizer" object describes (None for null)."""
    return build(data, where, REGISTRY, "normalizer")
