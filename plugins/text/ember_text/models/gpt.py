"""GPT: a decoder-only transformer language model (Radford et al., 2019) in nanoGPT's layout, which is
also the layout of Hugging Face's GPT-2 (``transformer.wte``, ``transformer.h.N.attn.c_attn``,
``transformer.h.N.mlp.c_fc``, ``transformer.ln_f``, ``lm_head``), with ``Linear`` weights where GPT-2's
``Conv1D`` stores them transposed.

Causal self-attention, pre-norm blocks, learned positions, GELU (tanh form, as GPT-2), and the output
projection tied to the token embedding. A key/value cache makes generation one token per step::

    >>> model = GPT(GPTConfig(vocab_size=65, block_size=256, n_layer=2, n_head=4, n_embd=32))
    >>> input_ids = ember.randint(0, 65, (2, 10))
    >>> model(input_ids).shape                                        # (N, T, vocab_size)
    ember.Size([2, 10, 65])
    >>> logits, past = model(input_ids, use_cache=True)               # past: ((k, v) per layer)
    >>> logits, past = model(ember.randint(0, 65, (2, 1)), past_key_values=past, use_cache=True)
    >>> logits.shape, past[0][0].shape
    (ember.Size([2, 1, 65]), ember.Size([2, 4, 11, 8]))

``ember_text.generate(model, input_ids, max_new_tokens)`` samples with the cache.
"""
from __future__ import annotations

import dataclasses
import math

import ember
from ember import nn
from ember.nn import functional as F
from ember.plugins.weights import Weights, WeightsEnum

from ._layers import Linear
from ._registry import no_weights, register_model
from .bert import check_sequence_length

__all__ = ["GPTConfig", "GPT", "CausalSelfAttention", "Block", "GPT_Char_Shakespeare_Weights", "gpt",
           "gpt_char_shakespeare"]


@dataclasses.dataclass
class GPTConfig:
    """The size of a :class:`GPT` (nanoGPT's names): ``block_size`` is the longest sequence it takes."""

    vocab_size: int = 50304
    block_size: int = 1024
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd ({self.n_embd}) is not a multiple of n_head ({self.n_head})")


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which each position sees itself and the positions before it.

    With ``layer_past`` (the keys and values of earlier positions, ``(N, heads, P, head_dim)`` each) the
    new positions attend to those too; ``use_cache`` also returns the extended ``(k, v)``.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.c_attn = Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)

    def _heads(self, x):
        n, t, c = x.shape
        return x.view(n, t, self.n_head, c // self.n_head).transpose(1, 2)

    def forward(self, x, layer_past=None, use_cache: bool = False):
        q, k, v = (self._heads(part) for part in self.c_attn(x).split(self.n_embd, dim=2))
        if layer_past is not None:
            past_k, past_v = layer_past
            k, v = ember.cat([past_k, k], dim=2), ember.cat([past_v, v], dim=2)
        p = self.attn_dropout.p if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, **_causal(q.shape[2], k.shape[2], x.device))
        n, _, t, _ = y.shape
        y = self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(n, t, self.n_embd)))
        return (y, (k, v)) if use_cache else (y, None)


def _causal(queries: int, keys: int, device) -> dict:
    """The attention masking of ``queries`` new positions that follow ``keys - queries`` cached ones.

    Without a cache this is ``is_causal``; one new position may see every key; several new positions
    after a cache need the lower-triangular mask shifted right by the cache length (``is_causal`` aligns
    it top-left, which would hide cached positions).
    """
    past = keys - queries
    if past == 0:
        return {"is_causal": True}
    if queries == 1:
        return {}
    rows = ember.arange(queries, device=device)[:, None] + past
    return {"attn_mask": ember.arange(keys, device=device)[None, :] <= rows}


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, layer_past=None, use_cache: bool = False):
        attended, present = self.attn(self.ln_1(x), layer_past, use_cache)
        x = x + attended
        return x + self.mlp(self.ln_2(x)), present


class GPT(nn.Module):
    """A decoder-only language model: ``forward(input_ids)`` gives next-token logits ``(N, T, vocab_size)``.

    ``forward(input_ids, past_key_values=None, use_cache=False)``: with ``use_cache=True`` it returns
    ``(logits, past_key_values)``, a ``(key, value)`` pair per layer to pass back with the next tokens.
    Positions run on from the cache; more than ``config.block_size`` positions in all raise
    :class:`~ember_text.models.SequenceTooLongError` naming the limit.

    The weights of ``lm_head`` are those of ``transformer.wte`` (tied): the state dict lists both keys,
    as in PyTorch, and they share one tensor.

    >>> model = GPT(GPTConfig(vocab_size=65, block_size=128, n_layer=2, n_head=2, n_embd=32))
    >>> x, y = ember.randint(0, 65, (4, 16)), ember.randint(0, 65, (4, 16))
    >>> loss = ember.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
    >>> model.lm_head.weight is model.transformer.wte.weight
    True
    """

    def __init__(self, config: GPTConfig | None = None, **kwargs):
        super().__init__()
        config = GPTConfig(**kwargs) if config is None else dataclasses.replace(config, **kwargs)
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight   # weight tying
        self._init_weights()

    def _init_weights(self) -> None:
        """GPT-2's initialisation: N(0, 0.02), and the residual projections scaled by 1/sqrt(2 n_layer) so
        the residual stream's variance does not grow with depth."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * self.config.n_layer))

    def get_num_params(self, non_embedding: bool = True) -> int:
        """Parameters (the tied embedding counted once); without the position embedding by default."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def forward(self, input_ids, past_key_values=None, use_cache: bool = False):
        if input_ids.dim() != 2:
            raise ValueError(f"GPT expects input_ids of shape (batch, sequence), got {tuple(input_ids.shape)}")
        past_len = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        t = input_ids.shape[1]
        check_sequence_length(past_len + t, self.config.block_size, "GPT", "config.block_size")
        pos = ember.arange(past_len, past_len + t, device=input_ids.device)
        x = self.transformer.drop(self.transformer.wte(input_ids) + self.transformer.wpe(pos))
        presents = []
        for i, block in enumerate(self.transformer.h):
            x, present = block(x, None if past_key_values is None else past_key_values[i], use_cache)
            presents.append(present)
        logits = self.lm_head(self.transformer.ln_f(x))
        return (logits, tuple(presents)) if use_cache else logits


# ---- builders and weights ----------------------------------------------------------------------------------

@register_model(task="text-generation", family="gpt")
def gpt(*, weights: None = None, **config) -> GPT:
    """A :class:`GPT` of the given :class:`GPTConfig` fields (GPT-2 small's size by default), freshly initialised.

    >>> model = gpt(vocab_size=65, block_size=128, n_layer=2, n_head=4, n_embd=32)
    >>> model.config.n_layer, model.get_num_params() > 0
    (2, True)
    """
    no_weights("gpt", weights, "use gpt_char_shakespeare(weights=...) or load a state dict")
    return GPT(GPTConfig(**config))


class GPT_Char_Shakespeare_Weights(WeightsEnum):
    """``SHAKESPEARE_CHAR_V1``: trained here by ``plugins/text/scripts/train_gpt.py`` on 33 of Shakespeare's
    plays (``ember_text.datasets.Shakespeare``, split ``train``); ``meta["vocab"]`` is its character
    vocabulary in id order, ``meta["metrics"]["val_loss"]`` the cross-entropy (nats per character) on the
    two plays of split ``valid``, which it never saw."""

    SHAKESPEARE_CHAR_V1 = Weights(
        url="package://ember_text/weights/gpt_char_shakespeare.ember",
        sha256="f8bdbccbc5222c96e56c933dafc7fba61d5ec251dbac5dcac4b9fe9fdd8f4319", size=869952,
        meta={
            "vocab": "\n !\"&'(),-./0123456789:;?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz{}",
            "config": {"vocab_size": 83, "block_size": 64, "n_layer": 4, "n_head": 4, "n_embd": 64, "dropout": 0.0,
                       "bias": True},
            "num_params": 209472,
            "dataset": "ember_text.datasets.Shakespeare: trained on the 33 plays of split 'train', validated on "
                       "split 'valid' (Twelfth Night, Julius Caesar)",
            "recipe": "python plugins/text/scripts/train_gpt.py --steps 800 --batch 16 --lr 0.005 --seed 0 "
                      "--block-size 64 --n-layer 4 --n-head 4 --n-embd 64",
            "metrics": {"val_loss": 2.0927},
            # on 2 CPU cores shared with other work: 26 min of wall-clock time
            "training_cpu_minutes": 7.0,
        },
    )
    DEFAULT = SHAKESPEARE_CHAR_V1


@register_model(task="text-generation", family="gpt")
def gpt_char_shakespeare(*, weights: GPT_Char_Shakespeare_Weights | str | None = None,
                         progress: bool = True) -> GPT:
    """The small character-level GPT (4 layers, width 64, 64 characters of context, 209k parameters) with
    ``model.tokenizer``, the :class:`~ember_text.tokenizers.CharTokenizer` of its vocabulary.
    ``weights="DEFAULT"`` loads the weights trained on Shakespeare (shipped with ember-text).

    >>> from ember_text import generate
    >>> model = gpt_char_shakespeare(weights="DEFAULT").eval()
    >>> prompt = model.tokenizer.encode("ROMEO.\\n", return_tensors="ember")[None]
    >>> out = generate(model, prompt, 40, temperature=0.8, top_k=20, generator=ember.Generator().manual_seed(0))
    >>> text = model.tokenizer.decode(out[0].tolist())
    >>> text.startswith("ROMEO.\\n"), len(text)
    (True, 47)
    """
    from ..tokenizers import CharTokenizer
    weights = GPT_Char_Shakespeare_Weights.verify(weights)
    meta = GPT_Char_Shakespeare_Weights.DEFAULT.meta
    model = GPT(GPTConfig(**meta["config"]))
    model.tokenizer = CharTokenizer(meta["vocab"])
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
