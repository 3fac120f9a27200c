"""Training tokenizers with ember_text's trainers, against ``tokenizers``' results on the same corpus.

* Byte-level BPE: ``BpeTrainer`` on the 4,200-line test corpus with the settings the reference script used
  gives exactly the vocabulary (ids included) and the 2,000 merges, in order, of the committed
  ``bpe_corpus_tokenizer.json`` that ``tokenizers`` trained.
* WordPiece: ``tokenizers`` numbers the ``##`` continuation characters in hash-map order (so its result
  changes from run to run); fed the words in an order that numbers them the way the committed file's run did,
  ``WordPieceTrainer`` gives exactly that file's vocabulary, ids included.
* The reference script also saved Ember-trained files, loaded them with ``tokenizers`` and compared the
  encodings of the whole corpus (recorded in ``tokenizer_reference.json.gz``, "ember_training_check").
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ember_text.tokenizers import (AddedToken, BpeTrainer, BPETrainer, ByteLevelBPETokenizer, Tokenizer,
                                   WordLevelTrainer, WordPieceTokenizer, WordPieceTrainer, decoders, models,
                                   normalizers, pre_tokenizers, processors)

DATA = Path(__file__).parent / "data"
BPE_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture(scope="module")
def corpus():
    data = json.loads((DATA / "tokenizer_corpus.json").read_text(encoding="utf-8"))
    return data["shakespeare"] + data["code"] + data["mixed"]


def _file(name: str) -> dict:
    return json.loads((DATA / f"{name}_corpus_tokenizer.json").read_text(encoding="utf-8"))


def test_bpe_training_reproduces_tokenizers(corpus, tmp_path):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = BpeTrainer(vocab_size=256 + 5 + 2000, min_frequency=2, special_tokens=BPE_SPECIALS,
                         show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    reference = _file("bpe")
    assert tok.model.vocab == reference["model"]["vocab"]
    assert [list(m) for m in tok.model.merges] == reference["model"]["merges"]
    assert [t["content"] for t in json.loads(tok.to_str())["added_tokens"]] == BPE_SPECIALS
    # The saved file is the reference's apart from the post-processor the reference added afterwards.
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=False)
    tok.save(tmp_path / "tokenizer.json")
    assert json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8")) == reference


def _ordered_like(word_counts: dict, continuation_order: list[str], prefix: str = "##") -> dict:
    """``word_counts`` reordered so that visiting the words numbers the continuation tokens (``##x``) in
    ``continuation_order`` -- the order a ``tokenizers`` run happened to use."""
    def new_tokens(word, seen):
        out = []
        for c in word[1:]:
            t = prefix + c
            if t not in seen and t not in out:
                out.append(t)
        return out
    by_token: dict = {}
    for w in word_counts:
        for c in set(w[1:]):
            by_token.setdefault(prefix + c, []).append(w)
    seen, ordered, k = set(), {}, 0
    while k < len(continuation_order):
        want = continuation_order[k]
        if want in seen:
            k += 1
            continue
        for w in by_token.get(want, []):
            if w in ordered:
                continue
            new = new_tokens(w, seen)
            if new and new == continuation_order[k:k + len(new)]:
                ordered[w] = word_counts[w]
                seen.update(new)
                k += len(new)
                break
        else:
            raise AssertionError(f"no word introduces {want!r} next")
    for w, n in word_counts.items():
        ordered.setdefault(w, n)
    return ordered


def test_wordpiece_training_reproduces_tokenizers(corpus):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = WordPieceTrainer(vocab_size=3000, min_frequency=2, special_tokens=BERT_SPECIALS, show_progress=False)
    trainer.feed(corpus, tok._words_of)
    reference = _file("wordpiece")["model"]["vocab"]
    alphabet_end = len(BERT_SPECIALS) + len(trainer._alphabet(trainer.words))
    by_id = sorted(reference, key=reference.get)
    continuation = [t for t in by_id[alphabet_end:] if t.startswith("##") and len(t) == 3]
    vocab, _ = trainer.learn(_ordered_like(trainer.words, continuation))
    assert vocab == reference
    # Trained in the corpus' own word order, the result is deterministic and nearly the same vocabulary.
    tok.train_from_iterator(corpus, trainer)
    again = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    again.normalizer, again.pre_tokenizer = tok.normalizer, tok.pre_tokenizer
    again.train_from_iterator(corpus, WordPieceTrainer(vocab_size=3000, min_frequency=2,
                                                       special_tokens=BERT_SPECIALS, show_progress=False))
    assert again.model.vocab == tok.model.vocab
    assert len(set(tok.model.vocab) & set(reference)) > 0.98 * len(reference)


def test_trained_tokenizers_save_and_load(corpus, tmp_path):
    tok = WordPieceTokenizer()
    tok.train_from_iterator(corpus[:1500], vocab_size=600, min_frequency=2)
    assert tok.post_processor is not None and tok.cls_token_id == 2 and tok.pad_token_id == 0
    enc = tok.encode("Hello, my good lord!", "And a second text.")
    assert enc.tokens[0] == "[CLS]" and enc.tokens.count("[SEP]") == 2 and set(enc.type_ids) == {0, 1}
    tok.save(tmp_path / "wp.json")
    again = Tokenizer.from_file(tmp_path / "wp.json")
    for line in corpus[:300:7]:
        assert again.encode(line).ids == tok.encode(line).ids
    assert again.decode(tok.encode("good lord").ids) == "good lord"
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus[:1500], vocab_size=400, min_frequency=2, special_tokens=["<|endoftext|>"])
    assert bpe.get_vocab_size() == 400 and bpe.token_to_id("<|endoftext|>") == 0
    text = "Hark! Who goes there? 你好 😀"
    assert bpe.decode(bpe.encode(text).ids) == text   # byte level: nothing is ever unknown
    bpe.save(tmp_path / "bpe.json")
    assert Tokenizer.from_file(tmp_path / "bpe.json").encode(text).ids == bpe.encode(text).ids


def test_train_from_files(corpus, tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(corpus[:800]), encoding="utf-8")
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train([str(path)], BpeTrainer(vocab_size=300, special_tokens=["<unk>"], show_progress=False))
    assert tok.get_vocab_size() == 300 and tok.token_to_id("<unk>") == 0
    assert tok.encode("the king").tokens == ["the", "king"]


def test_trainer_options():
    texts = ["aaa bbb aaa ccc aaa", "aab abab", "zz"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    # min_frequency: no pair seen fewer times is merged
    tok.train_from_iterator(texts, BpeTrainer(vocab_size=100, min_frequency=4, special_tokens=["<x>"]))
    assert tok.model.merges == [("a", "a")]
    assert tok.get_vocab()["<x>"] == 0
    # vocab_size bounds everything, special tokens included
    tok.train_from_iterator(texts, BpeTrainer(vocab_size=6, special_tokens=["<x>"]))
    assert tok.get_vocab_size() == 6
    # limit_alphabet keeps the most frequent characters; initial_alphabet adds characters never seen
    # (characters outside the alphabet are dropped from the words: "abab" trains as "aa")
    tok.train_from_iterator(texts, BpeTrainer(vocab_size=10, limit_alphabet=2, initial_alphabet=["q"]))
    assert tok.model.vocab == {"a": 0, "q": 1, "aa": 2, "aaa": 3}
    # continuing_subword_prefix / end_of_word_suffix shape the tokens
    tok.train_from_iterator(texts, BpeTrainer(vocab_size=30, continuing_subword_prefix="##",
                                              end_of_word_suffix="</w>"))
    assert "##a</w>" in tok.model.vocab and tok.model.end_of_word_suffix == "</w>"
    assert BPETrainer is BpeTrainer


def test_word_level_trainer():
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["b a b c", "a b d"], WordLevelTrainer(vocab_size=4, special_tokens=["[UNK]"]))
    assert tok.get_vocab() == {"[UNK]": 0, "b": 1, "a": 2, "c": 3}   # by count, ties alphabetical
    assert tok.encode("a d").tokens == ["a", "[UNK]"]


def test_special_tokens_with_options_survive_training(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(corpus[:200], BpeTrainer(vocab_size=300, special_tokens=[
        AddedToken("<mask>", lstrip=True, special=True)], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    enc = tok.encode("hello <mask>")
    assert enc.tokens[-1] == " <mask>" and enc.offsets[-1] == (5, 12)
