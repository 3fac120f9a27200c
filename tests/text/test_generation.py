"""ember_text.generate: greedy decoding with and without the key/value cache, against transformers' greedy
``generate`` (reference data from tests/text/data/models/make_models_reference.py), sampling filters, end of
sequence, and the GPT trained here and shipped with ember-text."""
import json
import math
import pathlib

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F
from ember_text import generate
from ember_text.models import GPT, GPT_Char_Shakespeare_Weights, GPTConfig, gpt_char_shakespeare

DATA = pathlib.Path(__file__).parent / "data" / "models"


@pytest.fixture(scope="module")
def gpt2():
    ref = np.load(DATA / "gpt2_reference.npz")
    c = json.loads(str(ref["config"]))
    model = GPT(GPTConfig(vocab_size=c["vocab_size"], block_size=c["n_positions"], n_layer=c["n_layer"],
                          n_head=c["n_head"], n_embd=c["n_embd"])).eval()
    model.load_state_dict({k[6:]: ember.from_numpy(ref[k]) for k in ref.files if k.startswith("model/")})
    return model, ref


@pytest.fixture(scope="module")
def shakespeare():
    return gpt_char_shakespeare(weights="DEFAULT").eval()


class FixedLogits(nn.Module):
    """A stand-in language model whose next-token logits are always ``logits`` (no cache)."""

    def __init__(self, probs):
        super().__init__()
        self.logits = ember.tensor(np.log(np.asarray(probs, dtype=np.float32)))

    def forward(self, ids, past_key_values=None, use_cache=False):
        out = self.logits.expand(ids.shape[0], ids.shape[1], -1)
        return (out, None) if use_cache else out


def test_greedy_matches_transformers_with_and_without_cache(gpt2):
    model, ref = gpt2
    prompt = ember.from_numpy(ref["input_ids"][:, :3])
    cached = generate(model, prompt, 12, do_sample=False)
    uncached = generate(model, prompt, 12, do_sample=False, use_cache=False)
    assert cached.tolist() == uncached.tolist() == ref["generated"].tolist()


def test_greedy_cache_identity_on_the_trained_model(shakespeare):
    tok = shakespeare.tokenizer
    prompt = ember.tensor([tok.encode("KING HENRY.\nNow, my lords")[:16], tok.encode("JULIET.\nO Romeo, Romeo")[:16]])
    n = 40
    cached = generate(shakespeare, prompt, n, do_sample=False)
    uncached = generate(shakespeare, prompt, n, do_sample=False, use_cache=False)
    assert cached.tolist() == uncached.tolist()
    assert tuple(cached.shape) == (2, 16 + n)


def test_window_slides_past_block_size(gpt2):
    """15 prompt tokens + 6 new ones exceed the 16 positions: both paths then see the last 16 tokens."""
    model, ref = gpt2
    prompt = ember.from_numpy(ref["input_ids"][:1, :12])
    cached = generate(model, prompt, 9, do_sample=False)
    uncached = generate(model, prompt, 9, do_sample=False, use_cache=False)
    assert cached.tolist() == uncached.tolist() and tuple(cached.shape) == (1, 21)
    last = cached[:, -17:-1]
    assert int(cached[0, -1]) == int(model(last)[0, -1].argmax())


def test_sampling_is_reproducible_with_a_generator(shakespeare):
    prompt = ember.tensor([shakespeare.tokenizer.encode("ROMEO.\n")])
    draws = [generate(shakespeare, prompt, 30, temperature=0.9, top_k=20, top_p=0.95,
                      generator=ember.Generator().manual_seed(7)).tolist() for _ in range(2)]
    assert draws[0] == draws[1]
    other = generate(shakespeare, prompt, 30, generator=ember.Generator().manual_seed(8)).tolist()
    assert other != draws[0]


def test_top_k_and_top_p_keep_only_their_tokens():
    model = FixedLogits([0.5, 0.3, 0.15, 0.05])
    prompt = ember.zeros(64, 1, dtype=ember.int64)
    g = ember.Generator().manual_seed(0)
    assert set(generate(model, prompt, 3, top_k=2, generator=g)[:, 1:].flatten().tolist()) == {0, 1}
    assert set(generate(model, prompt, 3, top_p=0.75, generator=g)[:, 1:].flatten().tolist()) == {0, 1}
    assert set(generate(model, prompt, 3, top_p=0.85, generator=g)[:, 1:].flatten().tolist()) == {0, 1, 2}
    assert set(generate(model, prompt, 2, top_p=0.1, generator=g)[:, 1:].flatten().tolist()) == {0}
    assert set(generate(model, prompt, 2, top_k=1, generator=g)[:, 1:].flatten().tolist()) == {0}
    # all four tokens appear without filters, at a high temperature
    assert set(generate(model, prompt, 4, temperature=5.0, generator=g)[:, 1:].flatten().tolist()) == {0, 1, 2, 3}


class NoCache(FixedLogits):
    """A model without a cache: generate gives it the whole sequence each step."""

    def forward(self, ids):
        self.lengths.append(ids.shape[1])
        return self.logits.expand(ids.shape[0], ids.shape[1], -1)


def test_model_without_cache_gets_the_whole_sequence():
    model = NoCache([0.1, 0.6, 0.3])
    model.lengths = []
    out = generate(model, ember.tensor([[0, 2]]), 3, do_sample=False)
    assert out.tolist() == [[0, 2, 1, 1, 1]] and model.lengths == [2, 3, 4]


def test_eos_stops_and_pads():
    model = FixedLogits([0.1, 0.1, 0.7, 0.1])
    out = generate(model, ember.tensor([[1, 1], [3, 3]]), 10, do_sample=False, eos_token_id=2)
    assert out.tolist() == [[1, 1, 2], [3, 3, 2]]             # both finished at once: generation stops
    g = ember.Generator().manual_seed(3)
    out = generate(model, ember.zeros(8, 1, dtype=ember.int64), 12, eos_token_id=2, generator=g)
    for row in out[:, 1:].tolist():
        if 2 in row:
            assert set(row[row.index(2):]) == {2}                  # after its end, a row is padded with eos


def test_shapes_and_argument_errors(gpt2):
    model, _ = gpt2
    one = generate(model, ember.tensor([1, 2, 3]), 4, do_sample=False)
    assert tuple(one.shape) == (7,) and one.dtype == ember.int64
    assert generate(model, ember.tensor([[1, 2]]), 0).tolist() == [[1, 2]]
    with pytest.raises(ValueError, match="temperature must be > 0 when sampling"):
        generate(model, ember.tensor([[1]]), 2, temperature=0.0)
    with pytest.raises(ValueError, match="top_p must be in"):
        generate(model, ember.tensor([[1]]), 2, top_p=1.5)
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        generate(model, ember.tensor([[1]]), 2, top_k=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, ember.tensor([[1]]), -1)
    with pytest.raises(ValueError, match="non-empty"):
        generate(model, ember.zeros(1, 0, dtype=ember.int64), 2)


def test_shipped_gpt_weights_and_metadata(shakespeare):
    w = GPT_Char_Shakespeare_Weights.DEFAULT
    assert w.path().stat().st_size == w.size < 2 * 2 ** 20
    assert w.meta["recipe"].startswith("python plugins/text/scripts/train_gpt.py")
    val_loss = w.meta["metrics"]["val_loss"]
    assert val_loss < 2.2                                         # uniform over 83 characters: log(83) = 4.42
    assert shakespeare.get_num_params(non_embedding=False) == w.meta["num_params"]
    tok = shakespeare.tokenizer
    assert len(tok) == shakespeare.config.vocab_size == len(w.meta["vocab"])
    text = "HAMLET.\nTo be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
    ids = ember.tensor([tok.encode(text)[:shakespeare.config.block_size + 1]])   # a full context window
    with ember.no_grad():
        loss = F.cross_entropy(shakespeare(ids[:, :-1])[0], ids[0, 1:]).item()
        untrained = F.cross_entropy(gpt_char_shakespeare()(ids[:, :-1])[0], ids[0, 1:]).item()
    assert loss < 0.75 * untrained and untrained > 0.9 * math.log(len(tok))
