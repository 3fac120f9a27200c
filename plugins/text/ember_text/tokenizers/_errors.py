"""The tokenizers' error class."""
from __future__ import annotations


class TokenizerError(ValueError):
    """A tokenizer file or configuration that cannot be used: malformed ``tokenizer.json`` (bad JSON, a
    missing or mistyped field, an unknown component type), a vocabulary without its unknown token, merges
    that name tokens missing from the vocabulary, and so on. The message names the file (when there is one)
    and the problem.

    Subclasses ``ValueError``, so ``except ValueError`` catches it too.

    Example::

        try:
            tok = Tokenizer.from_file("tokenizer.json")
        except TokenizerError as e:
            print(e)   # tokenizer.json: model: unknown type 'Foo' (supported: BPE, WordLevel, WordPiece)
    """
