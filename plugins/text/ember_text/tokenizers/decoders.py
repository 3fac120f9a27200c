"""Decoders: turn tokens back into text (join WordPiece pieces, map byte-level characters back to UTF-8, ...).
Names, options and JSON as in ``tokenizers.decoders``.

Example::

    >>> from ember_text.tokenizers import decoders
    >>> decoders.WordPiece().decode(["hello", "wo", "##rld", "!"])
    'hello world!'
"""
from __future__ import annotations

import re

from ._config import Fields, build, compile_pattern, pattern_source
from .pre_tokenizers import bytes_to_unicode

__all__ = ["Decoder", "WordPiece", "ByteLevel", "BPEDecoder", "ByteFallback", "Fuse", "Strip", "Replace",
           "Sequence"]


class Decoder:
    """Base class: ``decode_chain(tokens) -> tokens`` (so decoders can be chained); ``decode`` joins."""

    def decode_chain(self, tokens: list[str]) -> list[str]:
        raise NotImplementedError

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))

    def to_dict(self) -> dict:
        return {"type": type(self).__name__}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "type")
        return f"{type(self).__name__}({args})"


_CLEANUPS = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
             (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))


def cleanup(text: str) -> str:
    """BERT's clean-up of tokenization spaces (``"hello ."`` -> ``"hello."``, ``"do n't"`` -> ``"don't"``)."""
    for a, b in _CLEANUPS:
        text = text.replace(a, b)
    return text


class WordPiece(Decoder):
    """Joins pieces: ``prefix``-ed pieces glue to the previous one, others get a space; ``cleanup`` removes
    spaces before punctuation and in contractions."""

    def __init__(self, prefix: str = "##", cleanup: bool = True):
        self.prefix, self.cleanup = prefix, cleanup

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, token in enumerate(tokens):
            if i:
                token = token.replace(self.prefix, "", 1) if token.startswith(self.prefix) else " " + token
            out.append(cleanup(token) if self.cleanup else token)
        return out

    def to_dict(self) -> dict:
        return {"type": "WordPiece", "prefix": self.prefix, "cleanup": self.cleanup}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.opt("prefix", str, "##"), f.opt("cleanup", bool, True))


class ByteLevel(Decoder):
    """Maps GPT-2's byte characters back to bytes and decodes them as UTF-8 (invalid bytes become U+FFFD)."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True):
        self.add_prefix_space, self.trim_offsets, self.use_regex = add_prefix_space, trim_offsets, use_regex

    def decode_chain(self, tokens: list[str]) -> list[str]:
        char_bytes = _char_bytes()
        data = bytearray()
        for token in tokens:
            values = [char_bytes.get(c) for c in token]
            if all(v is not None for v in values):
                data.extend(values)
            else:   # not a byte-level token (an added token): its own UTF-8
                data.extend(token.encode("utf-8"))
        return [data.decode("utf-8", errors="replace")]

    def to_dict(self) -> dict:
        return {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": self.trim_offsets,
                "use_regex": self.use_regex}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.opt("add_prefix_space", bool, True), f.opt("trim_offsets", bool, True),
                   f.opt("use_regex", bool, True))


_CHAR_BYTES: dict | None = None


def _char_bytes() -> dict:
    global _CHAR_BYTES
    if _CHAR_BYTES is None:
        _CHAR_BYTES = {c: b for b, c in bytes_to_unicode().items()}
    return _CHAR_BYTES


class BPEDecoder(Decoder):
    """Replaces the end-of-word ``suffix`` by a space (nothing after the last token)."""

    def __init__(self, suffix: str = "</w>"):
        self.suffix = suffix

    def decode_chain(self, tokens: list[str]) -> list[str]:
        last = len(tokens) - 1
        return [t.replace(self.suffix, "" if i == last else " ") for i, t in enumerate(tokens)]

    def to_dict(self) -> dict:
        return {"type": "BPEDecoder", "suffix": self.suffix}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.opt("suffix", str, "</w>"))


_BYTE_TOKEN = re.compile(r"<0x([0-9A-Fa-f]{2})>\Z")


class ByteFallback(Decoder):
    """Turns runs of ``<0xNN>`` byte tokens back into text (U+FFFD per byte where they are not UTF-8)."""

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out, pending = [], bytearray()

        def flush():
            if pending:
                try:
                    out.append(pending.decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend("\ufffd" for _ in pending)
                pending.clear()
        for t in tokens:
            m = _BYTE_TOKEN.match(t) if len(t) == 6 else None
            if m:
                pending.append(int(m.group(1), 16))
            else:
                flush()
                out.append(t)
        flush()
        return out


class Fuse(Decoder):
    """Joins all tokens into one string."""

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return ["".join(tokens)]


class Strip(Decoder):
    """Removes up to ``start`` leading and ``stop`` trailing ``content`` characters from every token."""

    def __init__(self, content: str = " ", start: int = 0, stop: int = 0):
        self.content, self.start, self.stop = content, start, stop

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for t in tokens:
            a = 0
            while a < min(self.start, len(t)) and t[a] == self.content:
                a += 1
            b = len(t)
            while len(t) - b < self.stop and b > a and t[b - 1] == self.content:
                b -= 1
            out.append(t[a:b])
        return out

    def to_dict(self) -> dict:
        return {"type": "Strip", "content": self.content, "start": self.start, "stop": self.stop}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.opt("content", str, " "), f.positive_int("start", 0), f.positive_int("stop", 0))


class Replace(Decoder):
    """Replaces every match of ``pattern`` by ``content`` in every token."""

    def __init__(self, pattern, content: str):
        if isinstance(pattern, dict):
            (kind, text), = pattern.items()
            self._source = (text, kind == "Regex")
        else:
            self._source = (str(pattern), False)
        self.content = content
        self._regex = compile_pattern(*self._source, "Replace.pattern")

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return [self._regex.sub(lambda m: self.content, t) for t in tokens]

    def to_dict(self) -> dict:
        text, is_regex = self._source
        return {"type": "Replace", "pattern": {"Regex" if is_regex else "String": text}, "content": self.content}

    @classmethod
    def from_fields(cls, f: Fields):
        text, is_regex = pattern_source(f)
        compile_pattern(text, is_regex, f.at("pattern"))
        return cls({"Regex" if is_regex else "String": text}, f.req("content", str))


class Sequence(Decoder):
    """Applies several decoders in order."""

    def __init__(self, decoders):
        self.decoders = list(decoders)

    def decode_chain(self, tokens: list[str]) -> list[str]:
        for d in self.decoders:
            tokens = d.decode_chain(tokens)
        return tokens

    def to_dict(self) -> dict:
        return {"type": "Sequence", "decoders": [d.to_dict() for d in self.decoders]}

    @classmethod
    def from_fields(cls, f: Fields):
        items = f.req("decoders", list)
        return cls(from_dict(item, f"{f.at('decoders')}[{i}]") for i, item in enumerate(items))

    def __repr__(self) -> str:
        return f"Sequence({self.decoders!r})"


REGISTRY = {cls.__name__: cls for cls in (WordPiece, ByteLevel, BPEDecoder, ByteFallback, Fuse, Strip, Replace,
                                          Sequence)}


def from_dict(data, where: str = "decoder") -> Decoder | None:
    """The decoder a ``tokenizer.json`` "decoder" object describes (None for null)."""
    return build(data, where, REGISTRY, "decoder")
