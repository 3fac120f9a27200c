"""``Tokenizer``: the whole pipeline (added tokens, normalizer, pre-tokenizer, model, post-processor, decoder),
read from and written to the Hugging Face ``tokenizer.json`` format, with the API of ``tokenizers.Tokenizer``
plus the call of ``transformers``' tokenizers (see ``_hf.py``)."""
from __future__ import annotations

import json
import os

from . import decoders as _decoders
from . import models as _models
from . import normalizers as _normalizers
from . import pre_tokenizers as _pre_tokenizers
from . import processors as _processors
from ._added_vocab import AddedToken, AddedVocabulary
from ._config import Fields, check_type
from ._encoding import Encoding
from ._errors import TokenizerError
from ._hf import HFTokenizerMixin
from ._normalized import NormalizedString

__all__ = ["Tokenizer"]

_STRATEGIES = {"longest_first": "LongestFirst", "only_first": "OnlyFirst", "only_second": "OnlySecond"}
_DIRECTIONS = {"right": "Right", "left": "Left"}


class Tokenizer(HFTokenizerMixin):
    """A tokenizer: text in, :class:`Encoding` (ids, tokens, offsets, masks) out, and back.

    Build one from a file (``Tokenizer.from_file("tokenizer.json")``), or from a model and the parts you set::

        >>> from ember_text.tokenizers import Tokenizer, models, normalizers, pre_tokenizers
        >>> vocab = {"[UNK]": 0, "hello": 1, "world": 2}
        >>> tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
        >>> tok.normalizer = normalizers.BertNormalizer()
        >>> tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        >>> tok.encode("Hello world").tokens
        ['hello', 'world']

    ``encode``/``encode_batch``/``decode`` behave as ``tokenizers.Tokenizer``'s (the truncation and padding set
    with ``enable_truncation``/``enable_padding`` apply); calling the tokenizer, ``tok(texts, padding=True,
    truncation=True, return_tensors="ember")``, behaves as a ``transformers`` fast tokenizer.
    """

    def __init__(self, model: _models.Model):
        if not isinstance(model, _models.Model):
            raise TypeError(f"Tokenizer needs a model (WordPiece, BPE, WordLevel), got {type(model).__name__}")
        self.model = model
        self._normalizer = None
        self.pre_tokenizer = None
        self.post_processor = None
        self.decoder = None
        self._added = AddedVocabulary()
        self._truncation: dict | None = None
        self._padding: dict | None = None
        self._init_hf()

    @property
    def normalizer(self):
        return self._normalizer

    @normalizer.setter
    def normalizer(self, value) -> None:
        self._normalizer = value
        self._added.refresh(value)   # normalized added tokens are matched in their normalized form

    def __repr__(self) -> str:
        return (f"Tokenizer(model={self.model!r}, normalizer={self.normalizer!r}, pre_tokenizer={self.pre_tokenizer!r}"
                f", post_processor={self.post_processor!r}, decoder={self.decoder!r}, "
                f"added_tokens={len(self._added)})")

    # ---- reading and writing tokenizer.json -------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Tokenizer:
        """Read a Hugging Face ``tokenizer.json``. A malformed file raises :class:`TokenizerError` naming the
        file and what is wrong with it."""
        path = os.fspath(path)
        with open(path, "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise TokenizerError(f"{path}: not UTF-8 text ({e})") from None
        try:
            return cls.from_str(text)
        except TokenizerError as e:
            raise TokenizerError(f"{path}: {e}") from None

    @classmethod
    def from_str(cls, json_str: str) -> Tokenizer:
        """A tokenizer from the text of a ``tokenizer.json``."""
        try:
            data = json.loads(json_str)
        except json.JSONDecodeError as e:
            raise TokenizerError(f"not valid JSON ({e})") from None
        except RecursionError:
            raise TokenizerError("not valid JSON (nested too deeply)") from None
        return cls.from_dict(data)

    @classmethod
    def from_buffer(cls, buffer: bytes) -> Tokenizer:
        try:
            return cls.from_str(bytes(buffer).decode("utf-8"))
        except UnicodeDecodeError as e:
            raise TokenizerError(f"not UTF-8 text ({e})") from None

    @classmethod
    def from_dict(cls, data) -> Tokenizer:
        """A tokenizer from a parsed ``tokenizer.json`` object."""
        f = Fields(data, "")
        if "model" not in f.data:
            raise TokenizerError("missing field 'model' (is this a tokenizer.json?)")
        tok = cls.__new__(cls)
        Tokenizer.__init__(tok, _models.from_dict(f.data["model"], "model"))
        tok._normalizer = _normalizers.from_dict(f.data.get("normalizer"), "normalizer")
        tok.pre_tokenizer = _pre_tokenizers.from_dict(f.data.get("pre_tokenizer"), "pre_tokenizer")
        tok.post_processor = _processors.from_dict(f.data.get("post_processor"), "post_processor")
        tok.decoder = _decoders.from_dict(f.data.get("decoder"), "decoder")
        for i, item in enumerate(f.opt("added_tokens", list, [])):
            tf = Fields(item, f"added_tokens[{i}]")
            token_id = tf.positive_int("id")
            if token_id is None:
                raise TokenizerError(f"added_tokens[{i}]: missing field 'id'")
            tok._added.insert(token_id, AddedToken.from_fields(tf))
        tok._added.refresh(tok._normalizer)
        tok._truncation = _read_truncation(f.data.get("truncation"))
        tok._padding = _read_padding(f.data.get("padding"))
        tok._init_hf()
        return tok

    def to_dict(self) -> dict:
        return {
            "version": "1.0",
            "truncation": _write_truncation(self._truncation),
            "padding": _write_padding(self._padding),
            "added_tokens": [t.to_dict(i) for i, t in self._added.tokens()],
            "normalizer": self.normalizer.to_dict() if self.normalizer else None,
            "pre_tokenizer": self.pre_tokenizer.to_dict() if self.pre_tokenizer else None,
            "post_processor": self.post_processor.to_dict() if self.post_processor else None,
            "decoder": self.decoder.to_dict() if self.decoder else None,
            "model": self.model.to_dict(),
        }

    def to_str(self, pretty: bool = False) -> str:
        """The ``tokenizer.json`` text of this tokenizer."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2 if pretty else None,
                          separators=None if pretty else (",", ":"))

    def save(self, path: str | os.PathLike, pretty: bool = True) -> None:
        """Write ``tokenizer.json`` (atomically: a temporary file renamed into place)."""
        path = os.fspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.to_str(pretty))
        os.replace(tmp, path)

    # ---- vocabulary -------------------------------------------------------------------------------------------

    def token_to_id(self, token: str) -> int | None:
        i = self._added.ids.get(token)
        return i if i is not None else self.model.token_to_id(token)

    def id_to_token(self, id: int) -> str | None:
        t = self._added.id_to_token(id)
        return t if t is not None else self.model.id_to_token(id)

    def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]:
        vocab = self.model.get_vocab()
        if with_added_tokens:
            vocab.update(self._added.ids)
        return vocab

    def get_vocab_size(self, with_added_tokens: bool = True) -> int:
        if not with_added_tokens:
            return self.model.get_vocab_size()
        return len(self.get_vocab(True))

    def get_added_tokens_decoder(self) -> dict[int, AddedToken]:
        return dict(self._added.tokens())

    def add_tokens(self, tokens) -> int:
        """Add tokens (strings or :class:`AddedToken`) matched whole in the text; returns how many were new."""
        return self._added.add(tokens, self.model, self.normalizer)

    def add_special_tokens(self, tokens) -> int:
        """Add special tokens (never split, skipped when decoding with ``skip_special_tokens``). A dict such as
        ``{"pad_token": "[PAD]"}`` is read the ``transformers`` way (see ``HFTokenizerMixin``)."""
        if isinstance(tokens, dict):
            return self._add_special_tokens_map(tokens)
        return self._added.add(tokens, self.model, self.normalizer, special=True)

    # ---- truncation and padding -------------------------------------------------------------------------------

    def enable_truncation(self, max_length: int, stride: int = 0, strategy: str = "longest_first",
                          direction: str = "right") -> None:
        """Cut encodings to ``max_length`` tokens (special tokens included); ``stride`` tokens of overlap with
        the overflowing windows; ``strategy`` "longest_first", "only_first" or "only_second"."""
        if strategy not in _STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(_STRATEGIES)}, got {strategy!r}")
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be 'right' or 'left', got {direction!r}")
        if not isinstance(max_length, int) or max_length < 0:
            raise ValueError(f"max_length must be a non-negative integer, got {max_length!r}")
        self._truncation = {"max_length": max_length, "stride": stride, "strategy": strategy, "direction": direction}

    def no_truncation(self) -> None:
        self._truncation = None

    @property
    def truncation(self) -> dict | None:
        return dict(self._truncation) if self._truncation else None

    def enable_padding(self, direction: str = "right", pad_id: int = 0, pad_type_id: int = 0,
                       pad_token: str = "[PAD]", length: int | None = None,
                       pad_to_multiple_of: int | None = None) -> None:
        """Pad encodings to ``length`` tokens, or (``length=None``) to the longest of the batch."""
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be 'right' or 'left', got {direction!r}")
        self._padding = {"length": length, "pad_to_multiple_of": pad_to_multiple_of, "pad_id": pad_id,
                         "pad_token": pad_token, "pad_type_id": pad_type_id, "direction": direction}

    def no_padding(self) -> None:
        self._padding = None

    @property
    def padding(self) -> dict | None:
        return dict(self._padding) if self._padding else None

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return self.post_processor.num_special_tokens_to_add(is_pair) if self.post_processor else 0

    # ---- encoding ---------------------------------------------------------------------------------------------

    def encode(self, sequence, pair=None, is_pretokenized: bool = False,
               add_special_tokens: bool = True) -> Encoding:
        """Tokenize one text (or a pair): normalization, pre-tokenization, the model, truncation, special
        tokens and padding as configured.

        Example::

            >>> from ember_text.tokenizers import WordPieceTokenizer
            >>> tok = WordPieceTokenizer({t: i for i, t in enumerate("[PAD] [UNK] [CLS] [SEP] [MASK] hello world good night".split())})
            >>> enc = tok.encode("Hello, world!", "Good night")
            >>> enc.ids, enc.type_ids
            ([2, 5, 1, 6, 1, 3, 7, 8, 3], [0, 0, 0, 0, 0, 0, 1, 1, 1])
        """
        enc = self._encode_input(sequence, 0, is_pretokenized)
        pair_enc = self._encode_input(pair, 1, is_pretokenized) if pair is not None else None
        out = self.post_process(enc, pair_enc, add_special_tokens, pad=False)
        if self._padding is not None:
            _pad_all([out], self._padding)
        return out

    def encode_batch(self, inputs, is_pretokenized: bool = False, add_special_tokens: bool = True) -> list[Encoding]:
        """Tokenize a list of texts (or of ``(text, pair)`` tuples); padding applies across the batch."""
        out = []
        for item in inputs:
            if isinstance(item, (tuple, list)) and not is_pretokenized:
                if len(item) != 2:
                    raise TokenizerError(f"a batch item must be a text or a (text, pair) tuple, got {len(item)} "
                                         f"items")
                first, second = item
            elif is_pretokenized and isinstance(item, tuple) and len(item) == 2 and \
                    all(isinstance(x, (list, tuple)) for x in item):
                first, second = item
            else:
                first, second = item, None
            enc = self._encode_input(first, 0, is_pretokenized)
            pair_enc = self._encode_input(second, 1, is_pretokenized) if second is not None else None
            out.append(self.post_process(enc, pair_enc, add_special_tokens, pad=False))
        if self._padding is not None:
            _pad_all(out, self._padding)
        return out

    def _encode_input(self, sequence, type_id: int, is_pretokenized: bool) -> Encoding:
        if is_pretokenized:
            if isinstance(sequence, str) or not isinstance(sequence, (list, tuple)):
                raise TypeError("with is_pretokenized=True each input must be a list of words")
            return Encoding.merge([self._encode_text(w, type_id, i) for i, w in enumerate(sequence)], False)
        if not isinstance(sequence, str):
            raise TypeError(f"expected a text (str), got {type(sequence).__name__}")
        return self._encode_text(sequence, type_id, None)

    def _encode_text(self, text: str, type_id: int, word_index: int | None) -> Encoding:
        """Added tokens, normalization, pre-tokenization and the model for one text (no special tokens)."""
        out = _TokenList(self.model.tokenize, word_index)
        pre = self.pre_tokenizer
        for piece, added_id in self._added.extract_and_normalize(self._normalizer, text):
            if added_id is not None:
                out.add_added_token(added_id, piece)
                continue
            fast = pre.fast_words(piece.text) if pre is not None and piece._align is None else None
            if fast is not None:
                out.add_words(*fast, piece.shift)
            else:
                out.add_pieces(pre.pre_tokenize([piece]) if pre is not None else [piece])
        return out.encoding(type_id)

    def post_process(self, encoding: Encoding, pair: Encoding | None = None, add_special_tokens: bool = True,
                     pad: bool = True) -> Encoding:
        """Truncation (leaving room for the special tokens), the post-processor, then padding."""
        if self._truncation is not None:
            params = dict(self._truncation)
            n_added = self.num_special_tokens_to_add(pair is not None) if add_special_tokens else 0
            # The special tokens count towards max_length. When they alone exceed it, tokenizers leaves the
            # text untruncated (rather than failing); so does this.
            if params["max_length"] >= n_added:
                params["max_length"] -= n_added
                truncate_encodings(encoding, pair, params)
        if self.post_processor is not None:
            out = self.post_processor.process(encoding, pair, add_special_tokens)
        elif pair is None:
            out = encoding
        else:
            out = Encoding()
            for i, e in enumerate((encoding, pair)):
                e.set_sequence_id(i)
                out.merge_with(e, False)
        if pad and self._padding is not None:
            _pad_all([out], self._padding)
        return out

    # ---- decoding ---------------------------------------------------------------------------------------------

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        """The text of ``ids`` (through the decoder; tokens joined by spaces if there is none).

        Example::

            >>> from ember_text.tokenizers import WordPieceTokenizer
            >>> tok = WordPieceTokenizer({t: i for i, t in enumerate("[PAD] [UNK] [CLS] [SEP] [MASK] hello world good night".split())})
            >>> tok.decode(tok.encode("Hello world").ids)
            'hello world'
        """
        ids = _as_id_list(ids)
        tokens = []
        for i in ids:
            t = self._added.id_to_token(i)
            if t is None:
                t = self.model.id_to_token(i)
            if t is None or (skip_special_tokens and self._added.is_special(t)):
                continue
            tokens.append(t)
        return self.decoder.decode(tokens) if self.decoder is not None else " ".join(tokens)

    def decode_batch(self, sequences, skip_special_tokens: bool = True) -> list[str]:
        return [self.decode(s, skip_special_tokens) for s in _as_id_lists(sequences)]

    # ---- training ---------------------------------------------------------------------------------------------

    def train_from_iterator(self, iterator, trainer=None, length: int | None = None) -> None:
        """Learn the model's vocabulary from an iterator of texts (or of lists of texts), with ``trainer``
        (default: the model's own trainer with default settings). The normalizer and pre-tokenizer in place
        are applied first, exactly as when encoding.

        Example::

            >>> from ember_text.tokenizers import models, pre_tokenizers
            >>> from ember_text.tokenizers.trainers import BpeTrainer
            >>> lines = ["low lower lowest", "new newer newest"] * 10
            >>> tok = Tokenizer(models.BPE())
            >>> tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            >>> tok.train_from_iterator(lines, BpeTrainer(vocab_size=280, special_tokens=["<s>", "</s>"],
            ...                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
            >>> tok.get_vocab_size() <= 280, tok.encode("lowest").tokens
            (True, ['lo', 'west'])
        """
        from .trainers import default_trainer
        trainer = trainer if trainer is not None else default_trainer(self.model)
        trainer.feed(iterator, self._words_of)
        self.model = trainer.train(self.model)
        self._added.add(trainer.special_tokens, self.model, self.normalizer, special=True)
        self._init_hf()

    def train(self, files, trainer=None) -> None:
        """Learn the vocabulary from text files (one or a list of paths), read line by line."""
        paths = [files] if isinstance(files, (str, os.PathLike)) else list(files)

        def lines():
            for p in paths:
                with open(p, encoding="utf-8") as f:
                    yield from f
        self.train_from_iterator(lines(), trainer)

    def _words_of(self, text: str) -> list[str]:
        """The words a trainer counts in ``text``: normalized and pre-tokenized (added tokens are not looked
        for, as in ``tokenizers``' training)."""
        piece = NormalizedString(text)
        if self._normalizer is not None:
            self._normalizer.normalize(piece)
        subs = self.pre_tokenizer.pre_tokenize([piece]) if self.pre_tokenizer is not None else [piece]
        return [s.text for s in subs if s.text]


class _TokenList:
    """The tokens of one text as they are produced, word by word (``w`` counts the words, which number the
    tokens' ``word_ids`` unless a pre-tokenized input fixes ``word_index``)."""

    __slots__ = ("tokenize", "word_index", "w", "ids", "tokens", "offsets", "words")

    def __init__(self, tokenize, word_index: int | None):
        self.tokenize, self.word_index, self.w = tokenize, word_index, 0
        self.ids, self.tokens, self.offsets, self.words = [], [], [], []

    def _word(self) -> int:
        return self.w if self.word_index is None else self.word_index

    def add_added_token(self, added_id: int, piece) -> None:
        self.ids.append(added_id)
        self.tokens.append(piece.text)
        self.offsets.append(piece.offsets())
        self.words.append(self._word())
        self.w += 1

    def add_words(self, text: str, spans: list, shift: int) -> None:
        """Words ``text[a:b]`` that stand for their own characters: a token's offsets are the word's start
        plus its offsets in the word (the per-word loop of the common case, kept tight)."""
        tokenize, ids, tokens, offsets, words = self.tokenize, self.ids, self.tokens, self.offsets, self.words
        for a, b in spans:
            t_ids, t_tokens, t_offsets = tokenize(text[a:b])
            base = shift + a
            word = self._word()
            if len(t_ids) == 1:
                ids.append(t_ids[0])
                tokens.append(t_tokens[0])
                x, y = t_offsets[0]
                offsets.append((base + x, base + y))
                words.append(word)
            elif t_ids:
                ids.extend(t_ids)
                tokens.extend(t_tokens)
                offsets.extend([(base + x, base + y) for x, y in t_offsets])
                words.extend([word] * len(t_ids))
            self.w += 1

    def add_pieces(self, pieces) -> None:
        """Pre-tokenized NormalizedStrings: offsets through each one's character spans."""
        for sub in pieces:
            t_ids, t_tokens, t_offsets = self.tokenize(sub.text)
            if t_ids:
                self.ids.extend(t_ids)
                self.tokens.extend(t_tokens)
                if sub._align is None:
                    s = sub.shift
                    self.offsets.extend([(s + a, s + b) for a, b in t_offsets])
                else:
                    self.offsets.extend([sub.span(a, b) for a, b in t_offsets])
                self.words.extend([self._word()] * len(t_ids))
            self.w += 1

    def encoding(self, type_id: int) -> Encoding:
        n = len(self.ids)
        return Encoding(self.ids, [type_id] * n, self.tokens, self.words, self.offsets, [0] * n, [1] * n)


# ---- truncation and padding (tokenizers' rules) ----------------------------------------------------------------

def truncate_encodings(encoding: Encoding, pair: Encoding | None, params: dict) -> None:
    """Truncate one encoding or a pair in place to ``params["max_length"]`` tokens in total."""
    max_length, stride, direction = params["max_length"], params["stride"], params["direction"]
    if max_length == 0:
        encoding.truncate(0, stride, direction)
        if pair is not None:
            pair.truncate(0, stride, direction)
        return
    total = len(encoding) + (len(pair) if pair is not None else 0)
    if total <= max_length:
        return
    to_remove = total - max_length
    strategy = params["strategy"]
    if strategy == "longest_first":
        if pair is None:
            encoding.truncate(max_length, stride, direction)
            return
        n1, n2 = len(encoding), len(pair)
        swap = n1 > n2
        if swap:
            n1, n2 = n2, n1
        n2 = n1 if n1 > max_length else max(n1, max_length - n1)
        if n1 + n2 > max_length:
            n1 = max_length // 2
            n2 = n1 + max_length % 2
        if swap:
            n1, n2 = n2, n1
        encoding.truncate(n1, stride, direction)
        pair.truncate(n2, stride, direction)
        return
    if strategy == "only_second" and pair is None:
        raise TokenizerError("truncation strategy 'only_second' needs a pair of texts")
    target = encoding if strategy == "only_first" else pair
    if len(target) <= to_remove:
        raise TokenizerError(f"truncation: the sequence to truncate ({len(target)} tokens) is too short to remove "
                             f"{to_remove} tokens and respect max_length")
    target.truncate(len(target) - to_remove, stride, direction)


def _pad_all(encodings: list, params: dict) -> None:
    if not encodings:
        return
    length = params["length"]
    if length is None:
        length = max(len(e) for e in encodings)
    multiple = params.get("pad_to_multiple_of")
    if multiple and length % multiple:
        length += multiple - length % multiple
    for e in encodings:
        e.pad(length, params["direction"], params["pad_id"], params["pad_type_id"], params["pad_token"])


def _read_truncation(data) -> dict | None:
    if data is None:
        return None
    f = Fields(data, "truncation")
    strategies = {v: k for k, v in _STRATEGIES.items()}
    directions = {v: k for k, v in _DIRECTIONS.items()}
    return {"max_length": f.positive_int("max_length", 512), "stride": f.positive_int("stride", 0),
            "strategy": strategies[f.choice("strategy", list(strategies), "LongestFirst")],
            "direction": directions[f.choice("direction", list(directions), "Right")]}


def _write_truncation(params: dict | None):
    if params is None:
        return None
    return {"direction": _DIRECTIONS[params["direction"]], "max_length": params["max_length"],
            "strategy": _STRATEGIES[params["strategy"]], "stride": params["stride"]}


def _read_padding(data) -> dict | None:
    if data is None:
        return None
    f = Fields(data, "padding")
    strategy = f.data.get("strategy", "BatchLongest")
    if strategy == "BatchLongest":
        length = None
    elif isinstance(strategy, dict) and list(strategy) == ["Fixed"]:
        length = check_type(strategy["Fixed"], int, "padding.strategy.Fixed")
        if length < 0:
            raise TokenizerError(f"padding.strategy.Fixed: expected a non-negative integer, got {length}")
    else:
        raise TokenizerError("padding.strategy: expected \"BatchLongest\" or {\"Fixed\": n}")
    directions = {v: k for k, v in _DIRECTIONS.items()}
    return {"length": length, "pad_to_multiple_of": f.positive_int("pad_to_multiple_of", None),
            "pad_id": f.positive_int("pad_id", 0), "pad_token": f.opt("pad_token", str, "[PAD]"),
            "pad_type_id": f.positive_int("pad_type_id", 0),
            "direction": directions[f.choice("direction", list(directions), "Right")]}


def _write_padding(params: dict | None):
    if params is None:
        return None
    strategy = "BatchLongest" if params["length"] is None else {"Fixed": params["length"]}
    return {"strategy": strategy, "direction": _DIRECTIONS[params["direction"]],
            "pad_to_multiple_of": params["pad_to_multiple_of"], "pad_id": params["pad_id"],
            "pad_type_id": params["pad_type_id"], "pad_token": params["pad_token"]}


def _as_id_list(ids) -> list[int]:
    """A flat list of ints from a list, a NumPy array or an Ember tensor."""
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, int):
        return [ids]
    return [int(i) for i in ids]


def _as_id_lists(sequences) -> list:
    if hasattr(sequences, "tolist"):
        sequences = sequences.tolist()
    return list(sequences)
