"""ember_text's BERT encoder exported with ember.onnx.export: onnx.checker passes and onnxruntime
reproduces Ember's outputs within 1e-5 (float32) with a padding mask and a dynamic batch axis; with the
fetched all-MiniLM-L6-v2 weights, the exported sentence encoder gives Ember's embeddings."""
from __future__ import annotations

import pytest

import ember
from ember import nn
from ember.plugins.weights import file_status
from ember_text.models import AllMiniLM_L6_V2_Weights, BertConfig, BertForSequenceClassification, BertModel, \
    all_minilm_l6_v2

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from ember.testing.onnx_check import check_onnx_export  # noqa: E402

SMALL = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
IDS = [ember.tensor([[2, 7, 9, 3, 0], [4, 5, 6, 1, 8]]), ember.tensor([[2, 7, 9, 3, 0], [4, 5, 6, 1, 8], [3, 3, 1, 0, 0]])]
MASKS = [ember.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]), ember.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])]


def test_bert_encoder_with_a_padding_mask():
    ember.manual_seed(0)
    model = BertModel(SMALL).eval()
    proto, _ = check_onnx_export(model, list(zip(IDS, MASKS)), ["input_ids", "attention_mask"],
                                 output_names=["last_hidden_state", "pooler_output"])
    assert [o.name for o in proto.graph.output] == ["last_hidden_state", "pooler_output"]
    assert "embeddings.word_embeddings.weight" in {i.name for i in proto.graph.initializer}


def test_bert_sequence_classifier():
    ember.manual_seed(1)
    model = BertForSequenceClassification(SMALL, num_labels=3).eval()
    check_onnx_export(model, list(zip(IDS, MASKS)), ["input_ids", "attention_mask"])


class SentenceEmbedding(nn.Module):
    """The sentence encoder's features dict as two inputs and the embedding as the output."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids, attention_mask):
        return self.encoder({"input_ids": input_ids, "attention_mask": attention_mask})["sentence_embedding"]


@pytest.mark.skipif(file_status(AllMiniLM_L6_V2_Weights.DEFAULT) == "missing",
                    reason="all-MiniLM-L6-v2's files are not here; get them with "
                           "`ember weights fetch text:all_minilm_l6_v2`")
def test_pretrained_minilm_sentence_embeddings():
    encoder = all_minilm_l6_v2(weights="DEFAULT", progress=False).eval()
    texts = [["A man is playing a guitar.", "Ember exports models to ONNX."],
             ["The cat sits on the mat.", "ONNX Runtime runs the exported graph.", "Hi"]]
    examples = []
    for batch in texts:
        f = encoder.tokenize(batch)
        examples.append((f["input_ids"], f["attention_mask"]))
    if examples[0][0].shape[1] != examples[1][0].shape[1]:   # one traced sequence length: pad to the longer
        n = max(e[0].shape[1] for e in examples)
        examples = [tuple(nn.functional.pad(t, (0, n - t.shape[1])) for t in e) for e in examples]
    _, err = check_onnx_export(SentenceEmbedding(encoder).eval(), examples, ["input_ids", "attention_mask"])
    assert err <= 1e-5


def test_bert_with_dynamic_batch_and_sequence_length():
    ember.manual_seed(2)
    model = BertModel(SMALL).eval()
    examples = [(IDS[0], MASKS[0]), (IDS[1][:, :3], MASKS[1][:, :3]), (ember.randint(0, 100, (1, 7)), ember.ones(1, 7, dtype=ember.long))]
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    proto, _ = check_onnx_export(model, examples, ["input_ids", "attention_mask"], dynamic_axes=axes)
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims[:2]] == ["batch", "sequence"] and dims[2].dim_value == SMALL.hidden_size
