"""Post-processors: add the special tokens a model expects around one text or a pair (``[CLS] A [SEP] B [SEP]``,
``<s> A </s></s> B </s>``) and set the segment (type) ids. Names, options and JSON as in
``tokenizers.processors``.

Example::

    >>> from ember_text.tokenizers.processors import TemplateProcessing
    >>> post = TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
    ...                           special_tokens=[("[CLS]", 101), ("[SEP]", 102)])
    >>> post.num_special_tokens_to_add(is_pair=True)
    3
"""
from __future__ import annotations

from ._config import Fields, build, check_type
from ._encoding import Encoding
from ._errors import TokenizerError

__all__ = ["PostProcessor", "TemplateProcessing", "BertProcessing", "RobertaProcessing", "ByteLevel", "Sequence"]


class PostProcessor:
    """Base class: ``process_encodings(encodings, add_special_tokens)`` turns the per-text encodings into
    the pieces that are then concatenated."""

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return 0

    def process(self, encoding: Encoding, pair: Encoding | None = None,
                add_special_tokens: bool = True) -> Encoding:
        """The final Encoding of a text (and its pair): sequence and type ids set, special tokens added."""
        encodings = [encoding] if pair is None else [encoding, pair]
        for i, e in enumerate(encodings):
            e.set_sequence_id(i)
            for o in e.overflowing:
                o.set_sequence_id(i)
            e.type_ids = [i] * len(e.ids)
        return Encoding.merge(self.process_encodings(encodings, add_special_tokens), False)

    def process_encodings(self, encodings: list, add_special_tokens: bool) -> list:
        return encodings

    def to_dict(self) -> dict:
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "type")
        return f"{type(self).__name__}({args})"


def _special(ids, tokens, type_id: int) -> Encoding:
    n = len(ids)
    return Encoding(list(ids), [type_id] * n, list(tokens), [None] * n, [(0, 0)] * n, [1] * n, [1] * n)


# ---- TemplateProcessing ----------------------------------------------------------------------------------

def _parse_piece(text: str):
    """``"$A"``, ``"$B:1"``, ``"[SEP]:1"`` -> ``("Sequence", "A", 0)`` / ``("SpecialToken", "[SEP]", 1)``."""
    name, sep, type_part = text.rpartition(":")
    if not sep or not type_part.isdigit():
        name, type_part = text, "0"
    type_id = int(type_part)
    if name.startswith("$"):
        rest = name[1:]
        if rest in ("", "A", "a"):
            return ("Sequence", "A", type_id)
        if rest in ("B", "b"):
            return ("Sequence", "B", type_id)
        if rest.isdigit():
            return ("Sequence", "A", int(rest))
        raise TokenizerError(f"TemplateProcessing: cannot read template piece {text!r}")
    return ("SpecialToken", name, type_id)


class TemplateProcessing(PostProcessor):
    """Adds special tokens by a template: ``single="[CLS] $A [SEP]"``, ``pair="[CLS] $A [SEP] $B:1 [SEP]:1"``
    (``:n`` sets the type id); ``special_tokens`` lists ``(token, id)`` pairs (or dicts with several ids)."""

    def __init__(self, single=None, pair=None, special_tokens=None):
        self.single = self._template(single if single is not None else "$A")
        self.pair = self._template(pair if pair is not None else "$A:0 $B:1")
        self.special_tokens = {}
        for item in special_tokens or []:
            if isinstance(item, dict):
                self.special_tokens[item["id"]] = {"id": item["id"], "ids": list(item["ids"]),
                                                   "tokens": list(item["tokens"])}
            else:
                token, i = item
                self.special_tokens[token] = {"id": token, "ids": [i], "tokens": [token]}
        for piece in self.single + self.pair:
            if piece[0] == "SpecialToken" and piece[1] not in self.special_tokens:
                raise TokenizerError(f"TemplateProcessing: the template uses {piece[1]!r}, which is missing from "
                                     f"special_tokens")
        if not any(p[0] == "Sequence" and p[1] == "A" for p in self.pair) or \
                not any(p[0] == "Sequence" and p[1] == "B" for p in self.pair):
            raise TokenizerError("TemplateProcessing: the pair template must contain both $A and $B")

    @staticmethod
    def _template(template) -> list:
        if isinstance(template, str):
            return [_parse_piece(t) for t in template.split()]
        return [tuple(p) for p in template]

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return sum(len(self.special_tokens[p[1]]["ids"]) for p in (self.pair if is_pair else self.single)
                   if p[0] == "SpecialToken")

    def process(self, encoding: Encoding, pair: Encoding | None = None,
                add_special_tokens: bool = True) -> Encoding:
        if encoding.overflowing or (pair is not None and pair.overflowing):
            return super().process(encoding, pair, add_special_tokens)
        # Without overflowing parts the generic merge reduces to concatenating lists.
        sequences = (encoding, pair)
        ids, type_ids, tokens, words, offsets, special, attention, ranges = [], [], [], [], [], [], [], {}
        for kind, name, type_id in (self.single if pair is None else self.pair):
            if kind == "Sequence":
                i = 0 if name == "A" else 1
                e = sequences[i]
                ranges[i] = (len(ids), len(ids) + len(e.ids))
                ids += e.ids
                tokens += e.tokens
                words += e.words
                offsets += e.offsets
                special += e.special_tokens_mask
                attention += e.attention_mask
                type_ids += [type_id] * len(e.ids)
            elif add_special_tokens:
                tok = self.special_tokens[name]
                k = len(tok["ids"])
                ids += tok["ids"]
                tokens += tok["tokens"]
                words += [None] * k
                offsets += [(0, 0)] * k
                special += [1] * k
                attention += [1] * k
                type_ids += [type_id] * k
        return Encoding(ids, type_ids, tokens, words, offsets, special, attention, [], ranges)

    def process_encodings(self, encodings: list, add_special_tokens: bool) -> list:
        template = self.pair if len(encodings) == 2 else self.single
        out = []
        for kind, name, type_id in template:
            if kind == "Sequence":
                i = 0 if name == "A" else 1
                e = encodings[i]
                e.type_ids = [type_id] * len(e.ids)
                e.set_sequence_id(i)
                out.append(e.copy())
            elif add_special_tokens:
                tok = self.special_tokens[name]
                out.append(_special(tok["ids"], tok["tokens"], type_id))
        return out

    def to_dict(self) -> dict:
        def pieces(t):
            return [{kind: {"id": name, "type_id": type_id}} for kind, name, type_id in t]
        return {"type": "TemplateProcessing", "single": pieces(self.single), "pair": pieces(self.pair),
                "special_tokens": {k: dict(v) for k, v in self.special_tokens.items()}}

    @classmethod
    def from_fields(cls, f: Fields):
        def template(key):
            out = []
            for i, item in enumerate(f.req(key, list)):
                where = f"{f.at(key)}[{i}]"
                p = Fields(item, where)
                if len(p.data) != 1 or next(iter(p.data)) not in ("Sequence", "SpecialToken"):
                    raise TokenizerError(f"{where}: expected {{\"Sequence\": ...}} or {{\"SpecialToken\": ...}}")
                (kind, _), = p.data.items()
                body = p.fields(kind)
                name = body.req("id", str)
                if kind == "Sequence" and name not in ("A", "B"):
                    raise TokenizerError(f"{body.at('id')}: expected \"A\" or \"B\", got {name!r}")
                out.append((kind, name, body.positive_int("type_id", 0)))
            return out
        specials = []
        for name, item in f.opt("special_tokens", dict, {}).items():
            body = Fields(item, f"{f.at('special_tokens')}[{name!r}]")
            ids = [check_type(i, int, body.at("ids")) for i in body.req("ids", list)]
            tokens = [check_type(t, str, body.at("tokens")) for t in body.req("tokens", list)]
            if len(ids) != len(tokens):
                raise TokenizerError(f"{body.where}: ids and tokens differ in length")
            specials.append({"id": body.req("id", str), "ids": ids, "tokens": tokens})
        try:
            return cls(template("single"), template("pair"), specials)
        except TokenizerError as e:
            raise TokenizerError(f"{f.where}: {e}") from None


# ---- BERT / RoBERTa -------------------------------------------------------------------------------------

def _wrap(e: Encoding, before: tuple | None, after: tuple, type_before: int, type_after: int,
          type_ids: list, seq: int) -> Encoding:
    """``e`` with one special token before (optional) and one after, and the given sequence id."""
    head = [before] if before else []
    ids = [t[1] for t in head] + e.ids + [after[1]]
    tokens = [t[0] for t in head] + e.tokens + [after[0]]
    n_head = len(head)
    out = Encoding(ids, [type_before] * n_head + type_ids + [type_after], tokens, [None] * n_head + e.words + [None],
                   [(0, 0)] * n_head + e.offsets + [(0, 0)], [1] * n_head + [0] * len(e.ids) + [1],
                   [1] * len(ids))
    out.sequence_ranges = {seq: (n_head, len(ids) - 1)}
    return out


def _concat(a: Encoding, b: Encoding) -> Encoding:
    """``a`` followed by ``b`` (neither has overflowing parts; b's sequence range shifted)."""
    n = len(a.ids)
    a.ids += b.ids
    a.type_ids += b.type_ids
    a.tokens += b.tokens
    a.words += b.words
    a.offsets += b.offsets
    a.special_tokens_mask += b.special_tokens_mask
    a.attention_mask += b.attention_mask
    for seq, (x, y) in b.sequence_ranges.items():
        a.sequence_ranges[seq] = (n + x, n + y)
    return a


class BertProcessing(PostProcessor):
    """``[CLS] A [SEP]`` and ``[CLS] A [SEP] B [SEP]`` with type ids 0 for the first part, 1 for the second.
    ``sep`` and ``cls`` are ``(token, id)``."""

    def __init__(self, sep: tuple, cls: tuple):
        self.sep, self.cls = tuple(sep), tuple(cls)

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return 3 if is_pair else 2

    def process(self, encoding: Encoding, pair: Encoding | None = None,
                add_special_tokens: bool = True) -> Encoding:
        if not add_special_tokens or encoding.overflowing or (pair is not None and pair.overflowing):
            return super().process(encoding, pair, add_special_tokens)
        out = _wrap(encoding, self.cls, self.sep, 0, 0, [0] * len(encoding.ids), 0)
        if pair is not None:
            out = _concat(out, _wrap(pair, None, self.sep, 1, 1, [1] * len(pair.ids), 1))
        return out

    def process_encodings(self, encodings: list, add_special_tokens: bool) -> list:
        if not add_special_tokens:
            return encodings
        out = []
        for i, e in enumerate(encodings):
            if i == 0:
                w = _wrap(e, self.cls, self.sep, 0, 0, e.type_ids, 0)
                w.overflowing = [_wrap(o, self.cls, self.sep, 0, 0, o.type_ids, 0) for o in e.overflowing]
            else:
                w = _wrap(e, None, self.sep, 1, 1, e.type_ids, 1)
                w.overflowing = [_wrap(o, None, self.sep, 1, 1, o.type_ids, 1) for o in e.overflowing]
            out.append(w)
        return out

    def to_dict(self) -> dict:
        return {"type": "BertProcessing", "sep": list(self.sep), "cls": list(self.cls)}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(_token_pair(f, "sep"), _token_pair(f, "cls"))


def _token_pair(f: Fields, key: str) -> tuple:
    value = f.req(key, list)
    if len(value) != 2 or not isinstance(value[0], str):
        raise TokenizerError(f"{f.at(key)}: expected [token, id]")
    return value[0], check_type(value[1], int, f.at(key))


# "Ġ" (a byte-level space) and the characters Rust's ``char::is_whitespace`` accepts.
_TRIMMED = "\u0120\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000"


def trim_byte_level_offsets(e: Encoding, add_prefix_space: bool) -> None:
    """Move offsets past the leading/trailing spaces (``Ġ``) of byte-level tokens, as ``tokenizers``'
    ``process_offsets`` does."""
    offsets = e.offsets
    cache = _SPACE_COUNTS
    for i, token in enumerate(e.tokens):
        counts = cache.get(token)
        if counts is None:
            counts = _space_counts(token)
            if len(cache) < 100_000:
                cache[token] = counts
        if counts is _NO_SPACES:
            continue
        lead, trail = counts
        a, b = offsets[i]
        if lead:
            if (i == 0 or a == 0) and add_prefix_space and lead == 1:
                lead = 0
            a = min(a + lead, b)
        if trail and b >= trail:
            b = max(b - trail, a)
        offsets[i] = (a, b)


_NO_SPACES = (0, 0)
_SPACE_COUNTS: dict = {}   # token -> (leading, trailing) space counts, shared by all tokenizers


def _space_counts(token: str) -> tuple[int, int]:
    lead = len(token) - len(token.lstrip(_TRIMMED))
    trail = len(token) - len(token.rstrip(_TRIMMED))
    return _NO_SPACES if not lead and not trail else (lead, trail)


class RobertaProcessing(PostProcessor):
    """``<s> A </s>`` and ``<s> A </s></s> B </s>``, all type ids 0; ``trim_offsets`` moves offsets past the
    spaces byte-level tokens start with."""

    def __init__(self, sep: tuple, cls: tuple, trim_offsets: bool = True, add_prefix_space: bool = True):
        self.sep, self.cls = tuple(sep), tuple(cls)
        self.trim_offsets, self.add_prefix_space = trim_offsets, add_prefix_space

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return 4 if is_pair else 2

    def process(self, encoding: Encoding, pair: Encoding | None = None,
                add_special_tokens: bool = True) -> Encoding:
        if not add_special_tokens or encoding.overflowing or (pair is not None and pair.overflowing):
            return super().process(encoding, pair, add_special_tokens)
        if self.trim_offsets:
            trim_byte_level_offsets(encoding, self.add_prefix_space)
        out = _wrap(encoding, self.cls, self.sep, 0, 0, [0] * len(encoding.ids), 0)
        if pair is not None:
            if self.trim_offsets:
                trim_byte_level_offsets(pair, self.add_prefix_space)
            out = _concat(out, _wrap(pair, self.sep, self.sep, 0, 0, [0] * len(pair.ids), 1))
        return out

    def process_encodings(self, encodings: list, add_special_tokens: bool) -> list:
        if self.trim_offsets:
            for e in encodings:
                trim_byte_level_offsets(e, self.add_prefix_space)
                for o in e.overflowing:
                    trim_byte_level_offsets(o, self.add_prefix_space)
        for e in encodings:
            e.type_ids = [0] * len(e.ids)
        if not add_special_tokens:
            return encodings
        out = []
        for i, e in enumerate(encodings):
            first = self.cls if i == 0 else self.sep
            w = _wrap(e, first, self.sep, 0, 0, e.type_ids, i)
            w.overflowing = [_wrap(o, first, self.sep, 0, 0, [0] * len(o.ids), i) for o in e.overflowing]
            out.append(w)
        return out

    def to_dict(self) -> dict:
        return {"type": "RobertaProcessing", "sep": list(self.sep), "cls": list(self.cls),
                "trim_offsets": self.trim_offsets, "add_prefix_space": self.add_prefix_space}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(_token_pair(f, "sep"), _token_pair(f, "cls"), f.opt("trim_offsets", bool, True),
                   f.opt("add_prefix_space", bool, True))


class ByteLevel(PostProcessor):
    """GPT-2's post-processor: no special tokens; ``trim_offsets`` moves offsets past leading spaces."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True):
        self.add_prefix_space, self.trim_offsets, self.use_regex = add_prefix_space, trim_offsets, use_regex

    def process_encodings(self, encodings: list, add_special_tokens: bool) -> list:
        if self.trim_offsets:
            for e in encodings:
                trim_byte_level_offsets(e, self.add_prefix_space)
                for o in e.overflowing:
                    trim_byte_level_offsets(o, self.add_prefix_space)
        for i, e in enumerate(encodings):
            e.type_ids = [i] * len(e.ids)
        return encodings

    def to_dict(self) -> dict:
        return {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": self.trim_offsets,
                "use_regex": self.use_regex}

    @classmethod
    def from_fields(cls, f: Fields):
        return cls(f.opt("add_prefix_space", bool, True), f.opt("trim_offsets", bool, True),
                   f.opt("use_regex", bool, True))


class Sequence(PostProcessor):
    """Applies several post-processors in order."""

    def __init__(self, processors):
        self.processors = list(processors)

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return sum(p.num_special_tokens_to_add(is_pair) for p in self.processors)

    def process_encodings(self, encodings: list, add_special_tokens: bool) -> list:
        for p in self.processors:
            encodings = p.process_encodings(encodings, add_special_tokens)
        return encodings

    def to_dict(self) -> dict:
        return {"type": "Sequence", "processors": [p.to_dict() for p in self.processors]}

    @classmethod
    def from_fields(cls, f: Fields):
        items = f.req("processors", list)
        return cls(from_dict(item, f"{f.at('processors')}[{i}]") for i, item in enumerate(items))

    def __repr__(self) -> str:
        return f"Sequence({self.processors!r})"


REGISTRY = {cls.__name__: cls for cls in (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel,
                                          Sequence)}


def from_dict(data, where: str = "post_processor") -> PostProcessor | None:
    """The post-processor a ``tokenizer.json`` "post_processor" object describes (None for null)."""
    return build(data, where, REGISTRY, "post-processor")
