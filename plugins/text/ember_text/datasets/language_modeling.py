"""Language-model corpora: plain text files -> lines -> one long token stream -> training windows.

Two ways to cut the stream, as PyTorch's examples do:

* word_language_model's: :func:`batchify` lays the stream out as ``[n, batch_size]`` columns and
  :func:`get_batch` / :class:`BPTTIterator` walk down them ``bptt`` rows at a time (truncated
  backpropagation through time, the hidden state carried over between windows);
* nanoGPT-style: :class:`TokenWindows` is a map-style dataset of ``(x, y)`` windows of ``block_size``
  tokens, ``y`` shifted by one, for a shuffling DataLoader.

>>> corpus = LanguageModelingDataset("data/wikitext-2", split="train")   # data/wikitext-2/train.txt  # doctest: +SKIP
>>> vocab = build_vocab_from_iterator(line.split() for line in corpus)   # from ember_text.tokenizers  # doctest: +SKIP
>>> ids = corpus.token_stream(lambda line: vocab(line.split()), eos=vocab["<eos>"])  # doctest: +SKIP
>>> train_data = batchify(ids, 20)                                        # [n, 20]  # doctest: +SKIP
>>> for data, targets in BPTTIterator(train_data, bptt=35): ...  # doctest: +SKIP
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterator, Sequence

import numpy as np

import ember

from .base import TextDataset, check_index
from .utils import DatasetNotFoundError, _check_errors, read_text

__all__ = ["LanguageModelingDataset", "TokenWindows", "BPTTIterator", "batchify", "get_batch", "to_token_tensor"]

_SPLIT_FILES = ("{split}.txt", "wiki.{split}.tokens", "{split}.tokens")


def to_token_tensor(ids, what: str = "token ids") -> ember.Tensor:
    """``ids`` (a list of ints, a NumPy integer array or an integer tensor) as a 1-D int64 tensor."""
    if isinstance(ids, ember.Tensor):
        arr = ids.detach().cpu().numpy()
    else:
        arr = np.asarray(ids)
        if arr.size == 0:  # [] is float64 to NumPy
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must be integers, got {arr.dtype} values")
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {tuple(arr.shape)}")
    return ember.from_numpy(np.ascontiguousarray(arr, dtype=np.int64))


class LanguageModelingDataset(TextDataset):
    """Plain text files read as one corpus; the samples are its lines (the text of each, without its ``\\n``).

    Either ``files`` (one path or several, read in order), or ``root`` and ``split`` for word_language_model's
    layout: ``<root>/{train,valid,test}.txt`` (WikiText's ``wiki.{split}.tokens`` names are found too).

    ``text`` is the whole corpus and :meth:`token_stream` turns it into one long id tensor. Files are decoded as
    strict UTF-8 (a bad byte raises :class:`DatasetFormatError` naming the file and line; ``errors="replace"``
    reads them anyway). Empty lines are samples too (word_language_model gives each one an ``<eos>``) unless
    ``skip_empty``.

    >>> _ = open("a.txt", "w").write("First line\\nsecond line\\n"), open("b.txt", "w").write("third\\n")
    >>> corpus = LanguageModelingDataset(files=["a.txt", "b.txt"])
    >>> corpus[0], len(corpus), len(corpus.text)
    ('First line', 3, 29)
    """

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train",
                 files: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                 transform: Callable | None = None, skip_empty: bool = False, encoding: str = "utf-8",
                 errors: str = "strict") -> None:
        super().__init__(root, transform, None)
        if files is None and root is None:
            raise ValueError("LanguageModelingDataset: give files=, or root= (and split=) for "
                             "<root>/{train,valid,test}.txt")
        self.split = split
        self.files = self._resolve_files(files)
        self.encoding, self.errors = encoding, _check_errors(errors)
        self.text = "".join(self._read(path) for path in self.files)
        lines = self.text.split("\n")[:-1] if self.text else []  # every file's text ends with "\n"
        self.lines = [line for line in lines if line] if skip_empty else lines

    def _resolve_files(self, files) -> list[str]:
        if files is not None:
            files = [files] if isinstance(files, (str, os.PathLike)) else list(files)
            if not files:
                raise ValueError("LanguageModelingDataset: files is empty")
            for f in files:
                if not os.path.isfile(f):
                    raise DatasetNotFoundError(f"{os.fspath(f)}: no such file")
            return [os.fspath(f) for f in files]
        candidates = [os.path.join(self.root, pattern.format(split=self.split)) for pattern in _SPLIT_FILES]
        for c in candidates:
            if os.path.isfile(c):
                return [c]
        raise DatasetNotFoundError(f"LanguageModelingDataset: the {self.split!r} split is missing: none of "
                                   f"{', '.join(candidates)} exists")

    def _read(self, path: str) -> str:
        text = read_text(path, self.encoding, self.errors)
        return text if not text or text.endswith("\n") else text + "\n"  # files never run into each other

    def __getitem__(self, index: int) -> Any:
        """Line ``index`` (through ``transform`` when given)."""
        line = self.lines[check_index(self, index)]
        return self.transform(line) if self.transform is not None else line

    def __len__(self) -> int:
        return len(self.lines)

    def token_stream(self, encode: Callable[[str], Any], eos: int | None = None) -> ember.Tensor:
        """The corpus as one 1-D int64 tensor of token ids.

        With ``eos`` (word_language_model's way): ``encode`` is called on each line (each sample) and
        ``eos`` follows every line, so the newlines are the ``eos`` ids. Without it: ``encode`` is called
        once on the whole ``text``, newlines included (a character-level model's way, and much faster).

        ``encode`` returns ids as a list, a NumPy array or a tensor (e.g. ``CharTokenizer.encode`` or
        ``lambda s: vocab(s.split())``).

        >>> from ember_text.tokenizers import CharTokenizer
        >>> _ = open("play.txt", "w").write("To be, or not to be")
        >>> corpus = LanguageModelingDataset(files=["play.txt"])
        >>> corpus.token_stream(CharTokenizer.from_text(corpus.text).encode).shape
        ember.Size([20])
        """
        if eos is None:
            return to_token_tensor(encode(self.text), "encode(text)")
        if isinstance(eos, bool) or not isinstance(eos, (int, np.integer)):
            raise TypeError(f"eos must be a token id (int), got {eos!r}")
        parts = []
        for i, line in enumerate(self.lines):
            ids = to_token_tensor(encode(line), f"encode(line {i})").numpy()
            parts += [ids, np.array([eos], dtype=np.int64)]
        return ember.from_numpy(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))

    def extra_repr(self) -> str:
        return f"Files: {', '.join(self.files)}"


# ---- word_language_model: columns and BPTT windows --------------------------------------------------------------

def batchify(data, bsz: int) -> ember.Tensor:
    """Lay a 1-D token stream out as ``bsz`` columns: a ``[len(data) // bsz, bsz]`` tensor whose column ``j`` is
    the ``j``-th contiguous piece of the stream; the tokens that don't fill a row are dropped (as
    word_language_model's ``batchify``). The result is on ``data``'s device.

    >>> batchify(ember.arange(10), 3)        # columns [0 1 2], [3 4 5], [6 7 8]; 9 is dropped
    tensor([[0, 3, 6],
            [1, 4, 7],
            [2, 5, 8]])
    """
    if not isinstance(data, ember.Tensor):
        data = to_token_tensor(data, "data")
    if data.dim() != 1:
        raise ValueError(f"batchify expects a 1-D token stream, got shape {tuple(data.shape)}")
    if isinstance(bsz, bool) or not isinstance(bsz, int) or bsz <= 0:
        raise ValueError(f"bsz must be a positive int, got {bsz!r}")
    nbatch = data.size(0) // bsz
    if nbatch == 0:
        raise ValueError(f"batchify: a stream of {data.size(0)} tokens can't fill one row of {bsz} columns")
    return data.narrow(0, 0, nbatch * bsz).view(bsz, -1).t().contiguous()


def get_batch(source: ember.Tensor, i: int, bptt: int) -> tuple[ember.Tensor, ember.Tensor]:
    """word_language_model's ``get_batch``: rows ``i .. i + seq_len`` of a :func:`batchify` tensor as the input
    ``[seq_len, bsz]`` and the next rows, flattened, as the target ``[seq_len * bsz]``, with
    ``seq_len = min(bptt, len(source) - 1 - i)``.

    >>> train_data = batchify(ember.arange(30), 3)         # [10, 3]
    >>> data, target = get_batch(train_data, 0, 4)
    >>> data.shape, target.shape
    (ember.Size([4, 3]), ember.Size([12]))
    """
    if source.dim() != 2:
        raise ValueError(f"get_batch expects a [n, bsz] tensor from batchify, got shape {tuple(source.shape)}")
    if isinstance(bptt, bool) or not isinstance(bptt, int) or bptt <= 0:
        raise ValueError(f"bptt must be a positive int, got {bptt!r}")
    if not 0 <= i < source.size(0) - 1:
        raise IndexError(f"get_batch: row {i} has no next row in a source of {source.size(0)} rows")
    seq_len = min(bptt, source.size(0) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


class BPTTIterator:
    """The windows of a :func:`batchify` tensor, in order: ``(data, target)`` from :func:`get_batch` at rows
    ``0, bptt, 2 * bptt, ...`` (word_language_model's training loop). The last window may be shorter.

    >>> train_data = batchify(ember.arange(30), 3)         # [10, 3]
    >>> [tuple(data.shape) for data, targets in BPTTIterator(train_data, bptt=4)]
    [(4, 3), (4, 3), (1, 3)]
    """

    def __init__(self, source: ember.Tensor, bptt: int):
        if not isinstance(source, ember.Tensor) or source.dim() != 2:
            raise ValueError("BPTTIterator expects the [n, bsz] tensor returned by batchify")
        if isinstance(bptt, bool) or not isinstance(bptt, int) or bptt <= 0:
            raise ValueError(f"bptt must be a positive int, got {bptt!r}")
        self.source, self.bptt = source, bptt

    def __iter__(self) -> Iterator[tuple[ember.Tensor, ember.Tensor]]:
        for i in range(0, self.source.size(0) - 1, self.bptt):
            yield get_batch(self.source, i, self.bptt)

    def __len__(self) -> int:
        return len(range(0, self.source.size(0) - 1, self.bptt))


# ---- nanoGPT-style windows -------------------------------------------------------------------------------------

class TokenWindows(TextDataset):
    """Windows of a token stream for next-token prediction: sample ``i`` is ``(x, y)`` with
    ``x = stream[s : s + block_size]`` and ``y = stream[s + 1 : s + 1 + block_size]``, ``s = i * stride``
    (``stride`` defaults to ``block_size``: windows that don't overlap). Every window is full; the tail that
    can't fill one is left out. Use it with a shuffling ``DataLoader``.

    >>> stream = ember.arange(1000)                  # a token stream, e.g. corpus.token_stream(...)
    >>> windows = TokenWindows(stream, block_size=128)
    >>> x, y = windows[0]                        # two int64 tensors of 128 tokens
    >>> len(windows), x.shape, bool((y[:-1] == x[1:]).all())
    (7, ember.Size([128]), True)
    >>> loader = ember.utils.data.DataLoader(windows, batch_size=32, shuffle=True)
    """

    def __init__(self, stream, block_size: int, stride: int | None = None):
        super().__init__()
        self.stream = stream if isinstance(stream, ember.Tensor) and stream.dtype == ember.int64 \
            else to_token_tensor(stream, "stream")
        if self.stream.dim() != 1:
            raise ValueError(f"TokenWindows expects a 1-D token stream, got shape {tuple(self.stream.shape)}")
        for name, value in (("block_size", block_size), ("stride", stride if stride is not None else 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.block_size = block_size
        self.stride = block_size if stride is None else stride
        available = self.stream.size(0) - 1 - block_size  # the last start that still has its target token
        if available < 0:
            raise ValueError(f"TokenWindows: a stream of {self.stream.size(0)} tokens is too short for one window of "
                             f"{block_size} (it needs {block_size + 1})")
        self._n = available // self.stride + 1

    def __getitem__(self, index: int) -> tuple[ember.Tensor, ember.Tensor]:
        s = check_index(self, index) * self.stride
        return self.stream[s:s + self.block_size], self.stream[s + 1:s + 1 + self.block_size]

    def __len__(self) -> int:
        return self._n

    def extra_repr(self) -> str:
        return f"Tokens: {self.stream.size(0)}, block_size={self.block_size}, stride={self.stride}"
