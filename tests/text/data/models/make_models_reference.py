"""Reference data for tests/text/test_text_models.py from Hugging Face transformers (run in the reference venv):

    /work/refvenv/bin/python tests/text/data/models/make_models_reference.py

Writes, next to this script:

* ``bert_keys.json``: the state_dict keys and shapes of ``transformers.BertModel`` and
  ``BertForSequenceClassification`` built with all-MiniLM-L6-v2's config (what real checkpoints hold);
* ``bert_reference.npz``: a small random ``BertModel`` / ``BertForSequenceClassification`` (weights
  drawn with std 0.5 so the outputs are far from trivial), padded inputs, and their outputs
  (``last_hidden_state``, ``pooler_output``, classifier ``logits`` and ``loss``);
* ``gpt2_reference.npz``: a small random ``GPT2LMHeadModel`` with its weights in nanoGPT's ``Linear``
  layout (GPT-2's ``Conv1D`` weights transposed), its logits, and 12 greedily generated tokens
  (``generate(do_sample=False)``).

Inputs come from NumPy with fixed seeds and are stored in the files, so the tests feed Ember exactly
the same numbers.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import transformers

HERE = Path(__file__).resolve().parent

MINILM = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536,
              max_position_embeddings=512, type_vocab_size=2)
SMALL_BERT = dict(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                  max_position_embeddings=24, type_vocab_size=2, hidden_dropout_prob=0.0,
                  attention_probs_dropout_prob=0.0)
SMALL_GPT2 = dict(vocab_size=50, n_positions=16, n_embd=16, n_layer=2, n_head=2, activation_function="gelu_new",
                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5,
                  bos_token_id=None, eos_token_id=None)


def keys_and_shapes(model: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def randomize(model: torch.nn.Module, seed: int, std: float = 0.5) -> None:
    """Every parameter from N(0, std) (NumPy, fixed seed), LayerNorm weights around 1."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            values = rng.normal(0.0, std, size=tuple(p.shape)).astype(np.float32)
            if "LayerNorm.weight" in name or name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                values += 1.0
            p.copy_(torch.from_numpy(values))


def bert_reference() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    config = transformers.BertConfig(**SMALL_BERT, num_labels=3)
    base = transformers.BertModel(config).eval()
    randomize(base, seed=2)
    input_ids = rng.integers(1, SMALL_BERT["vocab_size"], size=(3, 10)).astype(np.int64)
    attention_mask = np.ones((3, 10), dtype=np.int64)
    attention_mask[1, 7:] = 0          # padded rows: the padding must not change the real tokens' outputs
    attention_mask[2, 4:] = 0
    input_ids[attention_mask == 0] = 0
    token_type_ids = np.zeros((3, 10), dtype=np.int64)
    token_type_ids[0, 5:] = 1
    inputs = {k: torch.from_numpy(v) for k, v in
              dict(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).items()}
    with torch.no_grad():
        out = base(**inputs)
    clf = transformers.BertForSequenceClassification(config).eval()
    randomize(clf, seed=3)
    labels = np.array([0, 2, 1], dtype=np.int64)
    with torch.no_grad():
        clf_out = clf(**inputs, labels=torch.from_numpy(labels))
    data = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids,
            "labels": labels, "last_hidden_state": out.last_hidden_state.numpy(),
            "pooler_output": out.pooler_output.numpy(), "logits": clf_out.logits.numpy(),
            "loss": np.float32(clf_out.loss.item()), "config": np.array(json.dumps(SMALL_BERT))}
    data.update({f"base/{k}": v.numpy() for k, v in base.state_dict().items()})
    data.update({f"clf/{k}": v.numpy() for k, v in clf.state_dict().items()})
    return data


def to_linear_layout(state: dict) -> dict[str, np.ndarray]:
    """GPT-2's Conv1D stores (in, out) weights; nanoGPT's Linear (out, in). Masks buffers are dropped."""
    out = {}
    for k, v in state.items():
        if k.endswith((".attn.bias", ".attn.masked_bias")):
            continue
        a = v.numpy()
        if k.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")):
            a = a.T.copy()
        out[k] = a
    return out


def gpt2_reference() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(4)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**SMALL_GPT2)).eval()
    randomize(model, seed=5, std=0.3)
    input_ids = rng.integers(0, SMALL_GPT2["vocab_size"], size=(2, 12)).astype(np.int64)
    with torch.no_grad():
        logits = model(torch.from_numpy(input_ids)).logits.numpy()
        prompt = torch.from_numpy(input_ids[:, :3])
        generated = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                   max_new_tokens=12, pad_token_id=0).numpy()
    data = {"input_ids": input_ids, "logits": logits, "generated": generated,
            "config": np.array(json.dumps(SMALL_GPT2))}
    data.update({f"model/{k}": v for k, v in to_linear_layout(model.state_dict()).items()})
    return data


def main() -> None:
    keys = {"transformers_version": transformers.__version__,
            "BertModel": keys_and_shapes(transformers.BertModel(transformers.BertConfig(**MINILM))),
            "BertForSequenceClassification": keys_and_shapes(transformers.BertForSequenceClassification(
                transformers.BertConfig(**MINILM, num_labels=4)))}
    (HERE / "bert_keys.json").write_text(json.dumps(keys, indent=1) + "\n")
    np.savez_compressed(HERE / "bert_reference.npz", **bert_reference())
    np.savez_compressed(HERE / "gpt2_reference.npz", **gpt2_reference())
    for name in ("bert_keys.json", "bert_reference.npz", "gpt2_reference.npz"):
        print(f"{name}: {(HERE / name).stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
