"""Bad input to the tokenizers: malformed tokenizer.json files, vocabularies without their unknown token,
unknown component types -- each a TokenizerError (a ValueError) naming the file and the problem; and a
seeded mutation fuzz of a real tokenizer.json that may only load, or fail with TokenizerError."""
from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from ember_text.tokenizers import Tokenizer, TokenizerError, WordPieceTokenizer, models

DATA = Path(__file__).parent / "data"


def _small_wordpiece() -> dict:
    data = json.loads((DATA / "wordpiece_corpus_tokenizer.json").read_text(encoding="utf-8"))
    data["model"]["vocab"] = {t: i for t, i in data["model"]["vocab"].items() if i < 300}
    return data


def _write(tmp_path, obj, name="tokenizer.json") -> Path:
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return path


def _error(tmp_path, obj) -> str:
    path = _write(tmp_path, obj)
    with pytest.raises(TokenizerError) as info:
        Tokenizer.from_file(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_error_class_is_a_value_error():
    assert issubclass(TokenizerError, ValueError)


def test_not_json_or_not_utf8(tmp_path):
    assert "not valid JSON" in _error(tmp_path, '{"model": ')
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"model": "\xe9"}')
    with pytest.raises(TokenizerError, match="not UTF-8"):
        Tokenizer.from_file(path)
    assert "nested too deeply" in _error(tmp_path, "[" * 100_000 + "]" * 100_000)
    with pytest.raises(FileNotFoundError):
        Tokenizer.from_file(tmp_path / "missing.json")


@pytest.mark.parametrize("edit,expected", [
    (lambda d: [], "expected an object"),
    (lambda d: {k: v for k, v in d.items() if k != "model"}, "missing field 'model'"),
    (lambda d: d | {"model": {"type": "Unigram", "vocab": []}}, "model: unknown model type 'Unigram' (supported: BPE, "
                                                                "WordLevel, WordPiece)"),
    (lambda d: d | {"model": d["model"] | {"type": 3}}, "model.type: expected a string, got 3"),
    (lambda d: d | {"normalizer": {"type": "Fancy"}}, "normalizer: unknown normalizer type 'Fancy'"),
    (lambda d: d | {"pre_tokenizer": {"type": "Metaspace"}}, "pre_tokenizer: unknown pre-tokenizer type 'Metaspace'"),
    (lambda d: d | {"decoder": {"type": "CTC"}}, "decoder: unknown decoder type 'CTC'"),
    (lambda d: d | {"post_processor": {"kind": "x"}}, "post_processor: missing field 'type'"),
    (lambda d: d | {"normalizer": {"type": "BertNormalizer", "lowercase": "yes"}},
     "normalizer.lowercase: expected true or false, got 'yes'"),
    (lambda d: d | {"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Nope"}]}},
     "normalizer.normalizers[1]: unknown normalizer type 'Nope'"),
    (lambda d: d | {"model": d["model"] | {"vocab": {"[UNK]": "1"}}}, "model.vocab['[UNK]']: expected an integer"),
    (lambda d: d | {"model": d["model"] | {"vocab": {"[UNK]": 0, "a": 0}}}, "several tokens share an id"),
    (lambda d: d | {"model": d["model"] | {"vocab": {"a": 0, "b": 1}}},
     "the vocabulary has no unknown token '[UNK]'"),
    (lambda d: d | {"model": d["model"] | {"max_input_chars_per_word": -1}},
     "model.max_input_chars_per_word: expected a non-negative integer"),
    (lambda d: d | {"truncation": {"max_length": 8, "strategy": "Middle"}},
     "truncation.strategy: expected one of LongestFirst, OnlyFirst, OnlySecond, got 'Middle'"),
    (lambda d: d | {"padding": {"strategy": "Sometimes"}}, "padding.strategy: expected"),
    (lambda d: d | {"added_tokens": [{"content": "[X]"}]}, "added_tokens[0]: missing field 'id'"),
    (lambda d: d | {"added_tokens": [{"id": 5}]}, "added_tokens[0]: missing field 'content'"),
    (lambda d: d | {"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]",
                                       "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [
        {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}], "special_tokens": {}}},
     "uses '[X]', which is missing from special_tokens"),
    (lambda d: d | {"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"}},
     "pre_tokenizer.pattern: invalid regular expression"),
])
def test_malformed_files(tmp_path, edit, expected):
    message = _error(tmp_path, edit(_small_wordpiece()))
    assert expected in message, message


def test_bpe_merge_errors(tmp_path):
    data = json.loads((DATA / "bpe_corpus_tokenizer.json").read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["model"]["merges"][3] = ["Ġth", "zzzz"]
    assert "merge 3 ('Ġth' 'zzzz') uses 'zzzz', which is not in the vocabulary" in _error(tmp_path, bad)
    bad = copy.deepcopy(data)
    bad["model"]["merges"][0] = "a b c"
    assert "model.merges[0]: expected two tokens separated by one space" in _error(tmp_path, bad)
    bad = copy.deepcopy(data)
    bad["model"]["dropout"] = 2.0
    assert "model.dropout: must be between 0 and 1" in _error(tmp_path, bad)


def test_vocab_txt_without_unk(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[CLS]\n[SEP]\nhello\n", encoding="utf-8")
    with pytest.raises(TokenizerError, match=r"vocab\.txt: the vocabulary has no unknown token '\[UNK\]'"):
        WordPieceTokenizer.from_vocab(path)
    with pytest.raises(TokenizerError, match=r"vocab\.txt: the vocabulary has no unknown token"):
        models.WordPiece.from_file(path)
    path.write_text("[UNK]\n[PAD]\nhello\n", encoding="utf-8")
    with pytest.raises(TokenizerError, match=r"vocab\.txt: the vocabulary has no sep_token '\[SEP\]'"):
        WordPieceTokenizer.from_vocab(path)
    # Built in code without the unknown token: the error comes when a word cannot be split.
    tok = Tokenizer(models.WordPiece({"hello": 0}))
    assert tok.encode("hello").ids == [0]
    with pytest.raises(TokenizerError, match="no unknown token"):
        tok.encode("goodbye")


def test_bad_arguments():
    tok = Tokenizer.from_file(DATA / "wordpiece_corpus_tokenizer.json")
    with pytest.raises(TypeError, match="expected a text"):
        tok.encode(42)
    with pytest.raises(ValueError, match="strategy"):
        tok.enable_truncation(8, strategy="middle")
    tok.enable_truncation(4, stride=3)
    with pytest.raises(TokenizerError, match="stride"):
        tok.encode("one two three four five six seven")
    with pytest.raises(TypeError, match="needs a model"):
        Tokenizer("not a model")


def _mutate(rng: random.Random, obj):
    """One random change somewhere in a JSON tree: a value replaced by another type, a key removed, a
    list emptied or an item duplicated."""
    path = []
    node = obj
    while isinstance(node, (dict, list)) and node and rng.random() < 0.7:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        return
    parent, key = path[-1]
    choice = rng.random()
    junk = rng.choice([None, True, -1, 0, 2 ** 40, 1.5, "", "x", "[UNK]", [], {}, ["a", "b"], {"type": "BPE"},
                       {"String": 3}, [[1]]])
    if choice < 0.5:
        parent[key] = junk
    elif choice < 0.7 and isinstance(parent, dict):
        del parent[key]
    elif choice < 0.85 and isinstance(parent[key], (list, dict)):
        parent[key] = type(parent[key])()
    elif isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    else:
        parent[key] = junk


@pytest.mark.parametrize("name", ["wordpiece", "bpe"])
def test_mutation_fuzz_only_raises_tokenizer_error(name):
    base = json.loads((DATA / f"{name}_corpus_tokenizer.json").read_text(encoding="utf-8"))
    base["model"]["vocab"] = dict(list(base["model"]["vocab"].items())[:400])
    if name == "bpe":
        kept = set(base["model"]["vocab"])
        base["model"]["merges"] = [m for m in base["model"]["merges"] if m[0] in kept and m[1] in kept
                                   and m[0] + m[1] in kept]
    rng = random.Random(0)
    loaded = failed = 0
    for _ in range(400):
        data = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            _mutate(rng, data)
        try:
            tok = Tokenizer.from_str(json.dumps(data))
        except TokenizerError:
            failed += 1
            continue
        loaded += 1
        try:
            tok.decode(tok.encode("Hello, world! 你好", "pair text").ids)
        except TokenizerError:
            pass
    assert loaded > 20 and failed > 20
