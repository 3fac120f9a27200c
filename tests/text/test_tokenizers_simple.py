"""CharTokenizer, and Vocab / vocab / build_vocab_from_iterator with torchtext's documented behaviour
(frequency order with alphabetical ties, specials first or last, min_freq, max_tokens, default index,
RuntimeError for unknown tokens without one)."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember_text.tokenizers import CharTokenizer, TokenizerError, Vocab, build_vocab_from_iterator, vocab

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer — é 你好 😀"


# ---- CharTokenizer ------------------------------------------------------------------------------------------

def test_char_tokenizer_round_trip():
    tok = CharTokenizer.from_text(TEXT)
    assert tok.itos == sorted(set(TEXT)) and len(tok) == tok.vocab_size == len(set(TEXT))
    ids = tok.encode(TEXT)
    assert ids == [tok.stoi[c] for c in TEXT]
    assert tok.decode(ids) == TEXT
    t = tok.encode(TEXT, return_tensors="ember")
    assert isinstance(t, ember.Tensor) and t.dtype == ember.int64 and t.shape == (len(TEXT),)
    assert tok.decode(t) == TEXT
    a = tok(TEXT, return_tensors="np")
    assert a.dtype == np.int64 and tok.decode(a) == TEXT
    assert tok.encode("") == [] and tok.decode([]) == ""


def test_char_tokenizer_unknown_and_specials():
    tok = CharTokenizer.from_text("abc", specials=["<pad>"], unk_token="<unk>")
    assert tok.itos == ["<pad>", "<unk>", "a", "b", "c"]
    assert tok.encode("abz") == [2, 3, 1]
    assert tok.decode([0, 2, 1, 3]) == "<pad>a<unk>b"
    assert tok.decode([0, 2, 1, 3], skip_special_tokens=True) == "ab"
    strict = CharTokenizer.from_text("abc")
    with pytest.raises(KeyError, match="'z'"):
        strict.encode("abz")
    with pytest.raises(IndexError, match="out of range"):
        strict.decode([7])
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer(["ab"])
    assert CharTokenizer.from_text(["aab", "b"], min_freq=2).itos == ["a", "b"]


def test_char_tokenizer_save_load(tmp_path):
    tok = CharTokenizer.from_text(TEXT, specials=["<eos>"])
    tok.save(tmp_path / "chars.json")
    again = CharTokenizer.from_file(tmp_path / "chars.json")
    assert again.itos == tok.itos and again.encode(TEXT) == tok.encode(TEXT)
    (tmp_path / "bad.json").write_text('{"type": "Other"}')
    with pytest.raises(TokenizerError, match="bad.json"):
        CharTokenizer.from_file(tmp_path / "bad.json")


# ---- Vocab ------------------------------------------------------------------------------------------------

DOCS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "the"]]


def test_build_vocab_order_specials_and_default():
    v = build_vocab_from_iterator(DOCS, specials=["<unk>", "<pad>"])
    # counts: the 3, cat 2, sat 2, a 1, dog 1 -> by count, ties alphabetical
    assert v.get_itos() == ["<unk>", "<pad>", "the", "cat", "sat", "a", "dog"]
    assert v["cat"] == 3 and "dog" in v and "bird" not in v and len(v) == 7
    with pytest.raises(RuntimeError, match="bird not found and default index is not set"):
        v["bird"]
    assert v.get_default_index() is None
    v.set_default_index(v["<unk>"])
    assert v["bird"] == 0 and v(["the", "bird"]) == [2, 0] and v.lookup_indices(["sat"]) == [4]
    assert v.get_default_index() == 0


def test_build_vocab_options():
    assert build_vocab_from_iterator(DOCS, specials=["<unk>"], special_first=False).get_itos()[-1] == "<unk>"
    assert build_vocab_from_iterator(DOCS, min_freq=2).get_itos() == ["the", "cat", "sat"]
    # max_tokens counts the specials and cuts before min_freq applies
    assert build_vocab_from_iterator(DOCS, specials=["<unk>"], max_tokens=3).get_itos() == ["<unk>", "the", "cat"]
    with pytest.raises(AssertionError, match="max_tokens"):
        build_vocab_from_iterator(DOCS, specials=["<a>", "<b>"], max_tokens=2)
    # a special that also occurs as a token appears once, at the special's place
    assert build_vocab_from_iterator([["x", "<unk>", "<unk>"]], specials=["<unk>"]).get_itos() == ["<unk>", "x"]


def test_vocab_factory_and_edits():
    v = vocab(OrderedDict([("b", 3), ("a", 5), ("c", 1)]), min_freq=2, specials=["<s>"])
    assert v.get_itos() == ["<s>", "b", "a"]      # the dict's order is kept (no re-sorting)
    v.insert_token("z", 1)
    assert v.get_itos() == ["<s>", "z", "b", "a"] and v.get_stoi()["b"] == 2
    v.append_token("y")
    assert v.lookup_token(4) == "y" and v.lookup_tokens([0, 1]) == ["<s>", "z"]
    with pytest.raises(RuntimeError, match="already exists"):
        v.append_token("a")
    with pytest.raises(RuntimeError, match="out of bounds"):
        v.lookup_token(10)
    with pytest.raises(RuntimeError, match="out of bounds"):
        v.insert_token("w", 99)
    with pytest.raises(RuntimeError, match="Duplicate"):
        Vocab(["a", "a"])
