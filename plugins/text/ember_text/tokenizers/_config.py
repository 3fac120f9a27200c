"""Reading the parts of a ``tokenizer.json`` with checked types, and building components by their "type".

Every problem raises :class:`TokenizerError` naming where in the file it is (``model.vocab``,
``normalizer.normalizers[1].lowercase``); ``Tokenizer.from_file`` adds the file name.
"""
from __future__ import annotations

from ._errors import TokenizerError

_KIND_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
               dict: "an object"}


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return f"{'an object' if isinstance(value, dict) else 'a list'}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_type(value, kind, where: str):
    """``value`` if it is of ``kind`` (a type or a tuple of types; ``int`` never accepts ``True``/``False``,
    ``float`` accepts integers), else a TokenizerError naming ``where``."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for k in kinds:
        if k is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if k is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if k in (str, bool, list, dict) and isinstance(value, k):
            return value
    wanted = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
    raise TokenizerError(f"{where}: expected {wanted}, got {_describe(value)}")


class Fields:
    """A JSON object of the file, read with checks: ``f.req("lowercase", bool)``, ``f.opt("prefix", str, "##")``."""

    def __init__(self, data, where: str):
        self.data = check_type(data, dict, where)
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def req(self, key: str, kind):
        if key not in self.data:
            raise TokenizerError(f"{self.where}: missing field {key!r}")
        return check_type(self.data[key], kind, self.at(key))

    def opt(self, key: str, kind, default=None):
        """The field, or ``default`` when it is absent or null."""
        value = self.data.get(key)
        if value is None:
            return default
        return check_type(value, kind, self.at(key))

    def fields(self, key: str) -> Fields:
        return Fields(self.req(key, dict), self.at(key))

    def positive_int(self, key: str, default=None, allow_zero: bool = True):
        value = self.opt(key, int, default)
        if value is not None and (value < 0 or (value == 0 and not allow_zero)):
            raise TokenizerError(f"{self.at(key)}: expected a {'non-negative' if allow_zero else 'positive'} "
                                 f"integer, got {value}")
        return value

    def choice(self, key: str, options, default=None):
        value = self.opt(key, str, default)
        if value not in options:
            raise TokenizerError(f"{self.at(key)}: expected one of {', '.join(options)}, got {value!r}")
        return value


def build(data, where: str, registry: dict, what: str):
    """The component of ``registry`` (type name -> class with ``from_fields``) that ``data`` describes, or
    None for a JSON null."""
    if data is None:
        return None
    f = Fields(data, where)
    kind = f.req("type", str)
    cls = registry.get(kind)
    if cls is None:
        raise TokenizerError(f"{where}: unknown {what} type {kind!r} (supported: {', '.join(sorted(registry))})")
    return cls.from_fields(f)


def pattern_source(f: Fields, key: str = "pattern") -> tuple[str, bool]:
    """A ``{"String": s}`` or ``{"Regex": r}`` pattern: ``(text, is_regex)``."""
    p = f.fields(key)
    if len(p.data) != 1 or next(iter(p.data)) not in ("String", "Regex"):
        raise TokenizerError(f"{p.where}: expected {{\"String\": ...}} or {{\"Regex\": ...}}")
    (kind, _), = p.data.items()
    return p.req(kind, str), kind == "Regex"


def compile_pattern(text: str, is_regex: bool, where: str):
    """A compiled ``regex`` pattern for a String (literal) or Regex (Oniguruma syntax, which the ``regex``
    package reads the same for the patterns tokenizers use) pattern."""
    import regex

    from ._unicode import translate_onig
    try:
        return regex.compile(translate_onig(text) if is_regex else regex.escape(text))
    except regex.error as e:
        raise TokenizerError(f"{where}: invalid regular expression {text!r}: {e}") from None
