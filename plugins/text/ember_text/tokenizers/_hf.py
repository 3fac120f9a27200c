"""The ``transformers``-style side of :class:`Tokenizer`: ``tok(texts, padding=True, truncation=True,
max_length=128, return_tensors="ember")``, special-token attributes (``pad_token_id``, ...), ``batch_decode``,
``save_pretrained``/``from_pretrained``. It follows ``transformers``' fast tokenizers (``PreTrainedTokenizerFast``):
the same argument names, defaults, strategies and output keys."""
from __future__ import annotations

import json
import os

import numpy as np

from ._errors import TokenizerError

SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
_PADDING = {True: "longest", "longest": "longest", "max_length": "max_length", False: None, "do_not_pad": None,
            None: None}
_TRUNCATION = {True: "longest_first", "longest_first": "longest_first", "only_first": "only_first",
               "only_second": "only_second", False: None, "do_not_truncate": None, None: None}


class BatchEncoding(dict):
    """What calling a tokenizer returns: a dict (``input_ids``, ``token_type_ids``, ``attention_mask``, ...)
    whose values are lists, NumPy arrays (``return_tensors="np"``) or Ember int64 tensors
    (``return_tensors="ember"``); keys also read as attributes. ``encodings`` keeps the :class:`Encoding` of
    each row (for ``tokens(i)``, ``word_ids(i)``, ...).

    Example::

        >>> from ember_text.tokenizers import WordPieceTokenizer
        >>> tok = WordPieceTokenizer({t: i for i, t in enumerate("[PAD] [UNK] [CLS] [SEP] [MASK] hello world good night".split())})
        >>> batch = tok(["hello", "good night world"], padding=True, return_tensors="ember")
        >>> batch["input_ids"].shape, batch.attention_mask.dtype
        (ember.Size([2, 5]), ember.int64)
        >>> outputs = model(**batch)     # a BertModel  # doctest: +SKIP
    """

    def __init__(self, data=None, encodings=None, tensor_type=None):
        super().__init__(data or {})
        self.encodings = encodings
        if tensor_type is not None:
            self.convert_to_tensors(tensor_type)

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def convert_to_tensors(self, tensor_type) -> BatchEncoding:
        """Turn the lists into arrays/tensors ("ember" or "pt": Ember int64 tensors; "np": NumPy int64)."""
        kind = _tensor_kind(tensor_type)
        for key, value in list(self.items()):
            try:
                arr = np.asarray(value, dtype=np.int64)
            except ValueError:
                raise ValueError(f"Unable to create tensor for {key!r}: the rows have different lengths; use "
                                 "padding=True (and truncation=True) to get batched tensors of one length") from None
            if kind == "ember":
                import ember
                arr = ember.from_numpy(arr)
            self[key] = arr
        return self

    def to(self, device) -> BatchEncoding:
        """Move Ember tensors to ``device`` (others are left as they are)."""
        for key, value in list(self.items()):
            if hasattr(value, "to") and not isinstance(value, np.ndarray):
                self[key] = value.to(device)
        return self

    def tokens(self, batch_index: int = 0) -> list[str]:
        return list(self._encoding(batch_index).tokens)

    def word_ids(self, batch_index: int = 0) -> list:
        return self._encoding(batch_index).word_ids

    def sequence_ids(self, batch_index: int = 0) -> list:
        return self._encoding(batch_index).sequence_ids

    def _encoding(self, i: int):
        if not self.encodings:
            raise ValueError("this BatchEncoding has no Encoding objects")
        return self.encodings[i]


def _tensor_kind(tensor_type) -> str:
    if tensor_type in ("ember", "pt"):
        return "ember"
    if tensor_type == "np":
        return "np"
    raise ValueError(f"return_tensors must be 'ember' (or 'pt', the same), 'np' or None, got {tensor_type!r}")


def _special_property(name: str):
    def get(self):
        return self._special.get(name)

    def set_(self, value):
        self._special[name] = None if value is None else str(value)

    def get_id(self):
        token = self._special.get(name)
        return None if token is None else self.token_to_id(token)

    def set_id(self, value):
        self._special[name] = None if value is None else self.id_to_token(int(value))
    return property(get, set_, doc=f"The {name.replace('_', ' ')} (a string), or None."), \
        property(get_id, set_id, doc=f"The id of the {name.replace('_', ' ')}, or None.")


class HFTokenizerMixin:
    """``transformers``-compatible attributes and methods, mixed into :class:`Tokenizer`."""

    padding_side = "right"
    truncation_side = "right"

    def _init_hf(self) -> None:
        """Defaults inferred from the pipeline: special tokens from the model and post-processor, which inputs
        the model takes (``token_type_ids`` only with a BERT-style post-processor)."""
        from . import processors
        self._special = dict(getattr(self, "_special", None) or {})
        self.model_max_length = getattr(self, "model_max_length", None)
        self.pad_token_type_id = 0
        pp = self.post_processor
        bert_like = isinstance(pp, (processors.BertProcessing, processors.TemplateProcessing))
        if isinstance(pp, processors.Sequence):
            bert_like = any(isinstance(p, (processors.BertProcessing, processors.TemplateProcessing))
                            for p in pp.processors)
        self.model_input_names = ["input_ids", "token_type_ids", "attention_mask"] if bert_like \
            else ["input_ids", "attention_mask"]
        guess = _guess_special_tokens(self)
        for name in SPECIAL_TOKEN_NAMES:
            if self._special.get(name) is None and guess.get(name) is not None:
                self._special[name] = guess[name]

    @property
    def all_special_tokens(self) -> list[str]:
        out = [t for t in (self._special.get(n) for n in SPECIAL_TOKEN_NAMES) if t is not None]
        out += [t for _, tok in self._added.tokens() if tok.special and (t := tok.content) not in out]
        return out

    @property
    def all_special_ids(self) -> list[int]:
        return [self.token_to_id(t) for t in self.all_special_tokens]

    @property
    def vocab_size(self) -> int:
        """The model's vocabulary size, without added tokens (as ``transformers``)."""
        return self.model.get_vocab_size()

    def __len__(self) -> int:
        return self.get_vocab_size(with_added_tokens=True)

    def _add_special_tokens_map(self, mapping: dict) -> int:
        """``add_special_tokens({"pad_token": "[PAD]", "additional_special_tokens": [...]})``."""
        from ._added_vocab import AddedToken
        tokens = []
        for key, value in mapping.items():
            if key == "additional_special_tokens":
                tokens += list(value)
                continue
            if key not in SPECIAL_TOKEN_NAMES:
                raise ValueError(f"unknown special token name {key!r} (one of {', '.join(SPECIAL_TOKEN_NAMES)}, "
                                 "additional_special_tokens)")
            tokens.append(value)
            self._special[key] = str(value)
        return self._added.add([t if isinstance(t, AddedToken) else str(t) for t in tokens], self.model,
                               self.normalizer, special=True)

    # ---- the call -------------------------------------------------------------------------------------------

    def __call__(self, text, text_pair=None, *, add_special_tokens: bool = True, padding=False, truncation=None,
                 max_length: int | None = None, stride: int = 0, is_split_into_words: bool = False,
                 pad_to_multiple_of: int | None = None, padding_side: str | None = None, return_tensors=None,
                 return_token_type_ids: bool | None = None, return_attention_mask: bool | None = None,
                 return_overflowing_tokens: bool = False, return_special_tokens_mask: bool = False,
                 return_offsets_mapping: bool = False, return_length: bool = False) -> BatchEncoding:
        """Tokenize a text, a pair, or a batch of them, as a ``transformers`` fast tokenizer does.

        ``padding``: False, True/"longest" (to the longest in the batch) or "max_length"; ``truncation``:
        True/"longest_first", "only_first", "only_second" or False (``max_length`` alone turns on
        "longest_first"); ``max_length`` defaults to ``model_max_length``; ``return_tensors``: None (lists),
        "ember" (or "pt") for Ember int64 tensors, "np" for NumPy arrays. A single text gives a batch of one
        when tensors are asked for.

        Example::

            >>> from ember_text.tokenizers import WordPieceTokenizer
            >>> tok = WordPieceTokenizer({t: i for i, t in enumerate("[PAD] [UNK] [CLS] [SEP] [MASK] hello world good night".split())})
            >>> batch = tok(["Hello world", "Good night"], padding=True, truncation=True, max_length=16,
            ...             return_tensors="ember")
            >>> sorted(batch)
            ['attention_mask', 'input_ids', 'token_type_ids']
        """
        batched = _is_batched(text, is_split_into_words)
        if batched:
            texts = list(text)
            pairs = list(text_pair) if text_pair is not None else None
            if pairs is not None and len(pairs) != len(texts):
                raise ValueError(f"text and text_pair have different lengths ({len(texts)} and {len(pairs)})")
        else:
            texts, pairs = [text], [text_pair] if text_pair is not None else None
        _check_texts(texts, is_split_into_words)
        if pairs is not None:
            _check_texts(pairs, is_split_into_words)
        pad, trunc, max_length = self._strategies(padding, truncation, max_length, pad_to_multiple_of)
        inputs = texts if pairs is None else list(zip(texts, pairs))
        saved = (self._truncation, self._padding)
        try:
            if trunc:
                self.enable_truncation(max_length, stride, trunc, self.truncation_side)
            else:
                self.no_truncation()
            if pad:
                self.enable_padding(padding_side or self.padding_side, self.pad_token_id, self.pad_token_type_id,
                                    self.pad_token, max_length if pad == "max_length" else None, pad_to_multiple_of)
            else:
                self.no_padding()
            encodings = self.encode_batch(inputs, is_pretokenized=is_split_into_words,
                                          add_special_tokens=add_special_tokens)
        finally:
            self._truncation, self._padding = saved
        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        data = {"input_ids": []}
        if return_token_type_ids:
            data["token_type_ids"] = []
        if return_attention_mask:
            data["attention_mask"] = []
        if return_special_tokens_mask:
            data["special_tokens_mask"] = []
        if return_offsets_mapping:
            data["offset_mapping"] = []
        if return_length:
            data["length"] = []
        rows, sample_of = [], []
        for i, enc in enumerate(encodings):
            for e in [enc] + (enc.overflowing if return_overflowing_tokens else []):
                rows.append(e)
                sample_of.append(i)
        for e in rows:
            data["input_ids"].append(list(e.ids))
            if return_token_type_ids:
                data["token_type_ids"].append(list(e.type_ids))
            if return_attention_mask:
                data["attention_mask"].append(list(e.attention_mask))
            if return_special_tokens_mask:
                data["special_tokens_mask"].append(list(e.special_tokens_mask))
            if return_offsets_mapping:
                data["offset_mapping"].append([tuple(o) for o in e.offsets])
            if return_length:
                data["length"].append(len(e.ids))
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = sample_of
        if not trunc:
            self._warn_if_too_long(rows)
        if not batched and return_tensors is None and not return_overflowing_tokens:
            data = {k: v[0] if isinstance(v, list) and v and isinstance(v[0], list) else v for k, v in data.items()}
        return BatchEncoding(data, rows, tensor_type=return_tensors)

    def _warn_if_too_long(self, rows) -> None:
        """Warn once, as ``transformers`` does, when an untruncated sequence exceeds ``model_max_length``."""
        limit = self.model_max_length
        if limit is None or getattr(self, "_warned_too_long", False):
            return
        longest = max((len(e.ids) for e in rows), default=0)
        if longest > limit:
            import warnings
            self._warned_too_long = True
            warnings.warn(f"Token indices sequence length is longer than the specified maximum sequence length "
                          f"for this model ({longest} > {limit}). Running this sequence through the model will "
                          f"result in indexing errors; pass truncation=True to cut it.", stacklevel=3)

    def _strategies(self, padding, truncation, max_length, pad_to_multiple_of):
        """(padding strategy, truncation strategy, max_length) as ``transformers`` resolves them."""
        if max_length is not None and padding is False and truncation is None:
            truncation = "longest_first"
        try:
            pad = _PADDING[padding]
            trunc = _TRUNCATION[truncation]
        except (KeyError, TypeError):
            bad = "padding" if padding not in _PADDING else "truncation"
            value = padding if bad == "padding" else truncation
            raise ValueError(f"{bad}={value!r} is not one of "
                             f"{list(_PADDING if bad == 'padding' else _TRUNCATION)}") from None
        if max_length is None:
            if pad == "max_length":
                if self.model_max_length is None:
                    pad = None
                else:
                    max_length = self.model_max_length
            if trunc:
                if self.model_max_length is None:
                    trunc = None
                else:
                    max_length = self.model_max_length
        if pad and (self.pad_token is None or self.pad_token_id is None):
            raise ValueError("Asking to pad but the tokenizer does not have a padding token: set one with "
                             "tok.pad_token = tok.eos_token, or tok.add_special_tokens({'pad_token': '[PAD]'})")
        if trunc and pad and pad_to_multiple_of and max_length is not None and max_length % pad_to_multiple_of:
            raise ValueError(f"Truncation and padding are both activated but truncation length ({max_length}) is "
                             f"not a multiple of pad_to_multiple_of ({pad_to_multiple_of}).")
        return pad, trunc, max_length

    # ---- tokens and ids ---------------------------------------------------------------------------------------

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False) -> list[str]:
        """The tokens of ``text`` (no special tokens by default), ignoring truncation and padding."""
        saved = (self._truncation, self._padding)
        self._truncation = self._padding = None
        try:
            return list(self.encode(text, pair, add_special_tokens=add_special_tokens).tokens)
        finally:
            self._truncation, self._padding = saved

    def convert_tokens_to_ids(self, tokens):
        """Ids of tokens (a string gives one id); unknown tokens give the unknown token's id."""
        if isinstance(tokens, str):
            i = self.token_to_id(tokens)
            return i if i is not None else self.unk_token_id
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def convert_ids_to_tokens(self, ids, skip_special_tokens: bool = False):
        if isinstance(ids, int):
            return self.id_to_token(ids)
        out = []
        for i in (ids.tolist() if hasattr(ids, "tolist") else ids):
            t = self.id_to_token(int(i))
            if skip_special_tokens and t is not None and self._added.is_special(t):
                continue
            out.append(t)
        return out

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return self.decoder.decode(tokens) if self.decoder is not None else " ".join(tokens)

    def batch_decode(self, sequences, skip_special_tokens: bool = True) -> list[str]:
        """``decode`` for each row of ``sequences`` (lists, a 2-D array or an Ember tensor)."""
        return self.decode_batch(sequences, skip_special_tokens)

    # ---- folders --------------------------------------------------------------------------------------------

    def save_pretrained(self, directory: str | os.PathLike) -> tuple[str, ...]:
        """Write ``tokenizer.json``, ``tokenizer_config.json`` and ``special_tokens_map.json`` into
        ``directory`` (a folder ``from_pretrained`` and ``transformers.AutoTokenizer`` read)."""
        os.makedirs(directory, exist_ok=True)
        paths = tuple(os.path.join(directory, n) for n in ("tokenizer.json", "tokenizer_config.json",
                                                          "special_tokens_map.json"))
        self.save(paths[0])
        specials = {n: t for n in SPECIAL_TOKEN_NAMES if (t := self._special.get(n)) is not None}
        config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_input_names": self.model_input_names,
                  "padding_side": self.padding_side, "truncation_side": self.truncation_side, **specials}
        if self.model_max_length is not None:
            config["model_max_length"] = self.model_max_length
        for path, obj in ((paths[1], config), (paths[2], specials)):
            with open(path, "w", encoding="utf-8") as f:
                json.dump(obj, f, indent=2, ensure_ascii=False)
        return paths

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, **overrides):
        """A tokenizer from a folder: ``tokenizer.json`` (else a BERT ``vocab.txt``), with the settings of
        ``tokenizer_config.json`` and ``special_tokens_map.json`` when present (``model_max_length``, special
        tokens, padding side). Keyword arguments override them (``model_max_length=256``)."""
        directory = os.fspath(directory)
        config = _read_json(os.path.join(directory, "tokenizer_config.json"))
        specials = _read_json(os.path.join(directory, "special_tokens_map.json"))
        if os.path.isfile(os.path.join(directory, "tokenizer.json")):
            tok = cls.from_file(os.path.join(directory, "tokenizer.json"))
        elif os.path.isfile(os.path.join(directory, "vocab.txt")):
            from .implementations import WordPieceTokenizer
            tok = WordPieceTokenizer.from_vocab(os.path.join(directory, "vocab.txt"),
                                                lowercase=bool(config.get("do_lower_case", True)))
        else:
            raise FileNotFoundError(f"{directory}: no tokenizer.json or vocab.txt in this folder")
        settings = {**{k: v for k, v in config.items() if k in SPECIAL_TOKEN_NAMES}, **specials, **overrides}
        for name in SPECIAL_TOKEN_NAMES:
            value = settings.get(name)
            if isinstance(value, dict):
                value = value.get("content")
            if value is not None:
                tok._special[name] = value
        max_len = settings.get("model_max_length", config.get("model_max_length"))
        tok.model_max_length = int(max_len) if isinstance(max_len, (int, float)) and max_len < 1e20 else None
        for key in ("padding_side", "truncation_side"):
            side = settings.get(key, config.get(key))
            if side in ("left", "right"):
                setattr(tok, key, side)
        if "model_input_names" in settings or "model_input_names" in config:
            tok.model_input_names = list(settings.get("model_input_names", config.get("model_input_names")))
        return tok


for _name in SPECIAL_TOKEN_NAMES:
    _token, _id = _special_property(_name)
    setattr(HFTokenizerMixin, _name, _token)
    setattr(HFTokenizerMixin, _name + "_id", _id)
del _name, _token, _id


def _read_json(path: str) -> dict:
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TokenizerError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise TokenizerError(f"{path}: expected a JSON object")
    return data


def _is_batched(text, is_split_into_words: bool) -> bool:
    if is_split_into_words:
        return isinstance(text, (list, tuple)) and bool(text) and isinstance(text[0], (list, tuple))
    return isinstance(text, (list, tuple))


def _check_texts(texts: list, is_split_into_words: bool) -> None:
    for t in texts:
        ok = isinstance(t, (list, tuple)) and all(isinstance(w, str) for w in t) if is_split_into_words \
            else isinstance(t, str)
        if not ok:
            raise ValueError("text input must be a str, a list of str (a batch), or with is_split_into_words=True "
                             f"a list of words or a list of lists of words; got {type(t).__name__}")


def _guess_special_tokens(tok) -> dict:
    """Special tokens a bare tokenizer.json implies: the model's unknown token, the post-processor's
    framing tokens, and the usual pad/mask names among the added special tokens."""
    from . import processors
    out = {}
    unk = getattr(tok.model, "unk_token", None)
    if unk is not None and tok.token_to_id(unk) is not None:
        out["unk_token"] = unk
    pp = tok.post_processor
    if isinstance(pp, processors.BertProcessing):
        out["cls_token"], out["sep_token"] = pp.cls[0], pp.sep[0]
    elif isinstance(pp, processors.RobertaProcessing):
        out["cls_token"] = out["bos_token"] = pp.cls[0]
        out["sep_token"] = out["eos_token"] = pp.sep[0]
    elif isinstance(pp, processors.TemplateProcessing):
        single = pp.single
        if single and single[0][0] == "SpecialToken":
            out["cls_token"] = pp.special_tokens[single[0][1]]["tokens"][0]
        if single and single[-1][0] == "SpecialToken":
            out["sep_token"] = pp.special_tokens[single[-1][1]]["tokens"][-1]
    specials = [t.content for _, t in tok._added.tokens() if t.special]
    padding = tok._padding
    if padding is not None and tok.token_to_id(padding["pad_token"]) is not None:
        out["pad_token"] = padding["pad_token"]
    for name, candidates in (("pad_token", ("[PAD]", "<pad>")), ("mask_token", ("[MASK]", "<mask>")),
                             ("bos_token", ("<s>",)), ("eos_token", ("</s>",)),
                             ("unk_token", ("[UNK]", "<unk>"))):
        if name not in out:
            out[name] = next((c for c in candidates if c in specials), None)
    if "<|endoftext|>" in specials:
        for name in ("bos_token", "eos_token", "unk_token"):
            out[name] = out.get(name) or "<|endoftext|>"
    return out
