"""Ready-made tokenizers (``tokenizers.implementations``): BERT's WordPiece tokenizer from a ``vocab.txt`` and
GPT-2's byte-level BPE tokenizer from ``vocab.json``/``merges.txt``, each trainable from text."""
from __future__ import annotations

import os

from . import decoders, normalizers, pre_tokenizers, processors
from ._errors import TokenizerError
from .models import BPE, WordPiece
from .tokenizer import Tokenizer
from .trainers import BpeTrainer, Trainer, WordPieceTrainer

__all__ = ["WordPieceTokenizer", "BertWordPieceTokenizer", "ByteLevelBPETokenizer"]

BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


class WordPieceTokenizer(Tokenizer):
    """BERT's tokenizer: BERT normalizer (clean-up, CJK spacing, accent stripping, lowercasing), BERT
    pre-tokenizer, WordPiece model, ``[CLS] A [SEP] B [SEP]`` post-processor, WordPiece decoder.

    Example::

        >>> tok = WordPieceTokenizer.from_vocab("vocab.txt", lowercase=True)     # BERT's  # doctest: +SKIP
        >>> tok("Hello world!", return_tensors="ember")["input_ids"]              # doctest: +SKIP
        tensor([[ 101, 7592, 2088,  999,  102]])
    """

    def __init__(self, vocab: dict | None = None, unk_token: str = "[UNK]", sep_token: str = "[SEP]",
                 cls_token: str = "[CLS]", pad_token: str = "[PAD]", mask_token: str = "[MASK]",
                 clean_text: bool = True, handle_chinese_chars: bool = True, strip_accents: bool | None = None,
                 lowercase: bool = True, wordpieces_prefix: str = "##", max_input_chars_per_word: int = 100):
        super().__init__(WordPiece(vocab, unk_token=unk_token, continuing_subword_prefix=wordpieces_prefix,
                                   max_input_chars_per_word=max_input_chars_per_word))
        self._names = (unk_token, sep_token, cls_token, pad_token, mask_token)
        self.normalizer = normalizers.BertNormalizer(clean_text=clean_text, handle_chinese_chars=handle_chinese_chars,
                                                     strip_accents=strip_accents, lowercase=lowercase)
        self.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        self.decoder = decoders.WordPiece(prefix=wordpieces_prefix)
        self._finish(source="WordPieceTokenizer" if vocab is not None else None)

    def _finish(self, source: str | None) -> None:
        """Register the special tokens the vocabulary has and the post-processor (needs [CLS] and [SEP])."""
        unk, sep, cls, pad, mask = self._names
        present = [t for t in (unk, sep, cls, pad, mask) if self.model.token_to_id(t) is not None]
        if present:
            self.add_special_tokens(present)
        if source is not None:
            self.model.check_unk(source)
            for name, token in (("sep_token", sep), ("cls_token", cls)):
                if self.model.token_to_id(token) is None:
                    raise TokenizerError(f"{source}: the vocabulary has no {name} {token!r}")
        if self.model.token_to_id(sep) is not None and self.model.token_to_id(cls) is not None:
            self.post_processor = processors.BertProcessing((sep, self.model.token_to_id(sep)),
                                                            (cls, self.model.token_to_id(cls)))
        self._init_hf()
        for name, token in zip(("unk_token", "sep_token", "cls_token", "pad_token", "mask_token"), self._names):
            if self.token_to_id(token) is not None:
                self._special[name] = token

    @classmethod
    def from_vocab(cls, vocab: str | os.PathLike, lowercase: bool = True, **kwargs) -> WordPieceTokenizer:
        """BERT's tokenizer from a ``vocab.txt`` (one token per line). The vocabulary must contain the
        unknown, ``[CLS]`` and ``[SEP]`` tokens; otherwise a TokenizerError names the file and the token."""
        path = os.fspath(vocab)
        tokens = WordPiece.read_file(path)
        tok = cls.__new__(cls)
        try:
            cls.__init__(tok, tokens, lowercase=lowercase, **kwargs)
        except TokenizerError as e:
            raise TokenizerError(f"{path}: {str(e).split(': ', 1)[-1]}") from None
        return tok

    def train_from_iterator(self, iterator, vocab_size: int = 30000, min_frequency: int = 2,
                            limit_alphabet: int | None = 1000, initial_alphabet=(),
                            special_tokens=tuple(BERT_SPECIAL_TOKENS), show_progress: bool = True,
                            wordpieces_prefix: str = "##", length: int | None = None, trainer=None) -> None:
        """Learn the vocabulary from texts (``tokenizers``' ``BertWordPieceTokenizer`` defaults), then set the
        special tokens and the ``[CLS]``/``[SEP]`` post-processor."""
        if isinstance(vocab_size, Trainer):
            trainer, vocab_size = vocab_size, 30000
        trainer = trainer or WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                              limit_alphabet=limit_alphabet, initial_alphabet=initial_alphabet,
                                              special_tokens=list(special_tokens), show_progress=show_progress,
                                              continuing_subword_prefix=wordpieces_prefix)
        super().train_from_iterator(iterator, trainer, length)
        self._finish(source=None)

    def train(self, files, vocab_size: int = 30000, min_frequency: int = 2, **kwargs) -> None:
        """``train_from_iterator`` over the lines of text files."""
        self.train_from_iterator(_lines(files), vocab_size, min_frequency, **kwargs)


BertWordPieceTokenizer = WordPieceTokenizer   # tokenizers' name


class ByteLevelBPETokenizer(Tokenizer):
    """GPT-2's byte-level BPE tokenizer: byte-level pre-tokenizer (GPT-2 regex), BPE model, byte-level decoder
    and post-processor (no special tokens added). ``tokenizers.ByteLevelBPETokenizer``'s options.

    Example::

        >>> lines = ["Hello there, general Kenobi!", "Hello there!", "there and back again"] * 20
        >>> tok = ByteLevelBPETokenizer()
        >>> tok.train_from_iterator(lines, vocab_size=300, special_tokens=["<|endoftext|>"])
        >>> tok.encode("Hello there").tokens
        ['Hello', 'Ġthere']
    """

    def __init__(self, vocab: dict | None = None, merges: list | None = None, add_prefix_space: bool = False,
                 lowercase: bool = False, dropout: float | None = None, unicode_normalizer: str | None = None,
                 continuing_subword_prefix: str | None = None, end_of_word_suffix: str | None = None,
                 trim_offsets: bool = False):
        super().__init__(BPE(vocab, merges, dropout=dropout, continuing_subword_prefix=continuing_subword_prefix,
                             end_of_word_suffix=end_of_word_suffix))
        parts = []
        if unicode_normalizer:
            forms = {"nfc": normalizers.NFC, "nfd": normalizers.NFD, "nfkc": normalizers.NFKC,
                     "nfkd": normalizers.NFKD}
            if unicode_normalizer not in forms:
                raise ValueError(f"unicode_normalizer must be one of {', '.join(forms)}, got {unicode_normalizer!r}")
            parts.append(forms[unicode_normalizer]())
        if lowercase:
            parts.append(normalizers.Lowercase())
        if len(parts) == 1:
            self.normalizer = parts[0]
        elif parts:
            self.normalizer = normalizers.Sequence(parts)
        self.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
        self.decoder = decoders.ByteLevel()
        self.post_processor = processors.ByteLevel(trim_offsets=trim_offsets)
        self._init_hf()

    @classmethod
    def from_file(cls, vocab_filename, merges_filename=None, **kwargs):
        """From GPT-2's ``vocab.json`` and ``merges.txt``; with one argument, a ``tokenizer.json``."""
        if merges_filename is None:
            return Tokenizer.from_file(vocab_filename)
        vocab, merges = BPE.read_file(vocab_filename, merges_filename)
        return cls(vocab, merges, **kwargs)

    def train_from_iterator(self, iterator, vocab_size: int = 30000, min_frequency: int = 2,
                            show_progress: bool = True, special_tokens=(), length: int | None = None,
                            trainer=None) -> None:
        """Learn the merges from texts (all 256 bytes are in the alphabet, so nothing is ever unknown)."""
        if isinstance(vocab_size, Trainer):
            trainer, vocab_size = vocab_size, 30000
        trainer = trainer or BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        show_progress=show_progress, special_tokens=list(special_tokens),
                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        super().train_from_iterator(iterator, trainer, length)

    def train(self, files, vocab_size: int = 30000, min_frequency: int = 2, **kwargs) -> None:
        self.train_from_iterator(_lines(files), vocab_size, min_frequency, **kwargs)


def _lines(files):
    paths = [files] if isinstance(files, (str, os.PathLike)) else list(files)
    for p in paths:
        with open(p, encoding="utf-8") as f:
            yield from f
