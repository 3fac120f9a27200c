"""BERT (Devlin et al., 2019) with Hugging Face transformers' module names, so BERT-family checkpoints
(BERT, MiniLM, the sentence-transformers encoders) load as they are::

    embeddings.{word_embeddings, position_embeddings, token_type_embeddings, LayerNorm}
    encoder.layer.N.attention.self.{query, key, value}
    encoder.layer.N.attention.output.{dense, LayerNorm}
    encoder.layer.N.intermediate.dense
    encoder.layer.N.output.{dense, LayerNorm}
    pooler.dense

``BertForSequenceClassification`` adds ``bert.`` in front of those and a ``classifier`` head.

>>> model = BertModel(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
...                              intermediate_size=64))
>>> input_ids, attention_mask = ember.tensor([[2, 7, 9, 3], [2, 5, 3, 0]]), ember.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
>>> out = model(input_ids, attention_mask=attention_mask)
>>> out.last_hidden_state.shape, out.pooler_output.shape
(ember.Size([2, 4, 32]), ember.Size([2, 32]))
>>> model = BertModel.from_pretrained("path/to/folder")    # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path
from typing import Any

import ember
from ember import nn
from ember.nn import functional as F

from ._layers import Linear
from ._registry import no_weights, register_model
from ._outputs import BaseModelOutputWithPooling, SequenceClassifierOutput

__all__ = ["BertConfig", "BertModel", "BertForSequenceClassification", "BertEmbeddings", "BertLayer",
           "BertEncoder", "BertPooler", "SequenceTooLongError", "load_checkpoint", "bert_for_sequence_classification"]


class SequenceTooLongError(ValueError):
    """An input has more tokens than the model has positions for (a ``ValueError``)."""


def check_sequence_length(length: int, limit: int, model: str, setting: str) -> None:
    """Refuse an input of ``length`` tokens when the model has ``limit`` positions, naming the limit, the
    setting that holds it, and how to truncate."""
    if length > limit:
        raise SequenceTooLongError(
            f"{model}: the input has {length} tokens but the model takes at most {limit} ({setting}={limit}); "
            f"truncate it, e.g. tokenizer(texts, truncation=True, max_length={limit})")


# ---- configuration ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class BertConfig:
    """The fields of transformers' ``BertConfig`` that define the network (``config.json`` names).

    Extra keys of a ``config.json`` (``architectures``, ``transformers_version``, ...) are kept in
    ``extra`` and ignored.

    >>> config = BertConfig.from_dict({"hidden_size": 384, "num_hidden_layers": 6, "architectures": ["BertModel"]})
    >>> config.hidden_size, config.num_hidden_layers, config.extra
    (384, 6, {'architectures': ['BertModel']})
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"
    classifier_dropout: float | None = None
    num_labels: int = 2
    problem_type: str | None = None
    extra: dict = dataclasses.field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"BertConfig: hidden_size ({self.hidden_size}) is not a multiple of "
                             f"num_attention_heads ({self.num_attention_heads})")
        if self.position_embedding_type != "absolute":
            raise NotImplementedError(f"BertConfig: position_embedding_type={self.position_embedding_type!r} is not "
                                      "supported (only 'absolute' position embeddings)")
        if self.hidden_act not in _ACTIVATIONS:
            raise ValueError(f"BertConfig: unknown hidden_act {self.hidden_act!r}; expected one of "
                             f"{', '.join(_ACTIVATIONS)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BertConfig:
        """A config from a ``config.json``'s dictionary (``id2label`` gives ``num_labels``)."""
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in data.items() if k in known}
        if "num_labels" not in kwargs and isinstance(data.get("id2label"), dict):
            kwargs["num_labels"] = len(data["id2label"])
        return cls(**kwargs, extra={k: v for k, v in data.items() if k not in known})

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> BertConfig:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> BertConfig:
        """The ``config.json`` of a model folder."""
        return cls.from_json_file(Path(directory) / "config.json")

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**self.extra, **out}


_ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": ember.tanh,
}


# ---- the layers -------------------------------------------------------------------------------------------

class BertEmbeddings(nn.Module):
    """Word + position + token-type embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        # Not saved (as in transformers >= 4.31): they are the same for every checkpoint.
        self.register_buffer("position_ids", ember.arange(config.max_position_embeddings).unsqueeze(0),
                             persistent=False)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Checkpoints written by older transformers (all-MiniLM-L6-v2's among them) saved position_ids;
        # it is the constant arange above, so it is dropped instead of reported as unexpected.
        state_dict.pop(prefix + "position_ids", None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, input_ids, token_type_ids=None, position_ids=None):
        length = input_ids.shape[1]
        check_sequence_length(length, self.position_embeddings.num_embeddings, "BertModel",
                              "config.max_position_embeddings")
        if position_ids is None:
            position_ids = self.position_ids[:, :length]
        if token_type_ids is None:
            token_type_ids = ember.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids) \
            + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention with separate ``query``/``key``/``value`` projections."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.query = Linear(config.hidden_size, config.hidden_size)
        self.key = Linear(config.hidden_size, config.hidden_size)
        self.value = Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def _heads(self, x):
        n, t, _ = x.shape
        return x.view(n, t, self.num_attention_heads, self.attention_head_size).transpose(1, 2)

    def forward(self, hidden_states, attention_mask=None):
        q, k, v = (self._heads(proj(hidden_states)) for proj in (self.query, self.key, self.value))
        p = self.dropout.p if self.training else 0.0
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask, dropout_p=p)
        n, heads, t, size = context.shape
        # The width spelled out: an empty batch has no elements to infer a -1 from (transformers' BERT takes one).
        return context.transpose(1, 2).reshape(n, t, heads * size)


class _ResidualOutput(nn.Module):
    """``LayerNorm(dropout(dense(h)) + residual)``: how each BERT sub-block ends (post-norm)."""

    def __init__(self, config: BertConfig, in_features: int):
        super().__init__()
        self.dense = Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertSelfOutput(_ResidualOutput):
    """The end of the attention block (transformers' ``attention.output``)."""

    def __init__(self, config: BertConfig):
        super().__init__(config, config.hidden_size)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden_states, attention_mask=None):
        return self.output(self.self(hidden_states, attention_mask), hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = _ACTIVATIONS[config.hidden_act]

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(_ResidualOutput):
    """The end of the feed-forward block (transformers' ``output``)."""

    def __init__(self, config: BertConfig):
        super().__init__(config, config.intermediate_size)


class BertLayer(nn.Module):
    """Attention block then feed-forward block, each post-norm with a residual connection."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden_states, attention_mask=None):
        attended = self.attention(hidden_states, attention_mask)
        return self.output(self.intermediate(attended), attended)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden_states, attention_mask=None):
        for layer in self.layer:
            hidden_states = layer(hidden_states, attention_mask)
        return hidden_states


class BertPooler(nn.Module):
    """``tanh(dense(h[:, 0]))``: the first ([CLS]) token's state through a dense layer."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


# ---- the models -------------------------------------------------------------------------------------------

def _init_bert_weights(module: nn.Module, std: float) -> None:
    """transformers' initialisation: N(0, std) weights, zero biases, zero padding row, unit LayerNorm."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, std)
            if m.padding_idx is not None:
                with ember.no_grad():
                    m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _attention_mask(attention_mask):
    """``(N, T)`` 1 = token / 0 = padding -> a boolean ``(N, 1, 1, T)`` mask (True: may attend)."""
    if attention_mask is None:
        return None
    if attention_mask.dim() != 2:
        raise ValueError(f"attention_mask must be (batch, sequence), got shape {tuple(attention_mask.shape)}")
    return (attention_mask != 0)[:, None, None, :]


def _as_config(config, kwargs) -> BertConfig:
    if config is None:
        return BertConfig(**kwargs)
    if kwargs:
        config = dataclasses.replace(config, **kwargs)
    return config


class _FromPretrained:
    """``from_pretrained(folder)``: ``config.json`` plus ``model.safetensors`` (or ``pytorch_model.bin``)."""

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, **config_overrides):
        """Build from a Hugging Face model folder and load its weights.

        Checkpoints of a base ``BertModel`` and of a task model (keys under ``bert.``) both load: the
        prefix is added or removed to fit. A head the checkpoint lacks (the ``classifier`` of a model about
        to be fine-tuned) keeps its new initialisation; any other missing weight is an error. Checkpoint
        weights the model does not use (a pre-training head, ``cls.*``) are named in a warning, as
        transformers does. ``config_overrides`` replace fields of ``config.json`` (``num_labels=4``).

        >>> model = BertForSequenceClassification.from_pretrained("all-MiniLM-L6-v2/", num_labels=4)  # doctest: +SKIP
        """
        config = BertConfig.from_pretrained(directory)
        model = cls(_as_config(config, config_overrides))
        missing, unexpected = model.load_state_dict(load_checkpoint(directory), strict=False)
        new_head = getattr(model, "classifier_head", None)
        missing = [k for k in missing if not (new_head and k.startswith(new_head + "."))]
        if missing:
            raise RuntimeError(f"{cls.__name__}.from_pretrained({os.fspath(directory)!r}): the checkpoint lacks "
                               f"{len(missing)} weights of the model: {', '.join(missing[:8])}"
                               + (" ..." if len(missing) > 8 else ""))
        if unexpected:   # a pre-training head (cls.*) is normal in base checkpoints, as transformers says
            warnings.warn(f"{cls.__name__}.from_pretrained: {len(unexpected)} checkpoint weights are not used by "
                          f"the model: {', '.join(unexpected[:8])}" + (" ..." if len(unexpected) > 8 else ""),
                          stacklevel=2)
        return model


def load_checkpoint(directory: str | os.PathLike) -> dict:
    """The state dict of a Hugging Face model folder: ``model.safetensors``, else ``pytorch_model.bin``."""
    directory = Path(directory)
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (directory / name).is_file():
            return ember.load(directory / name)
    raise FileNotFoundError(f"{directory}: no model.safetensors or pytorch_model.bin in this folder")


class BertModel(_FromPretrained, nn.Module):
    """The BERT encoder: embeddings, ``num_hidden_layers`` post-norm transformer layers, optional pooler.

    ``forward(input_ids, attention_mask=None, token_type_ids=None, position_ids=None)`` returns a
    :class:`BaseModelOutputWithPooling` (``last_hidden_state``, ``pooler_output``). ``attention_mask`` is 1
    for tokens and 0 for padding. An input longer than ``config.max_position_embeddings`` raises
    :class:`SequenceTooLongError` naming the limit.

    >>> model = BertModel(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
    ...                              intermediate_size=64))
    >>> model(ember.tensor([[2, 7, 9, 3]])).last_hidden_state.shape
    ember.Size([1, 4, 32])
    """

    def __init__(self, config: BertConfig | None = None, add_pooling_layer: bool = True, **kwargs):
        super().__init__()
        self.config = _as_config(config, kwargs)
        self.embeddings = BertEmbeddings(self.config)
        self.encoder = BertEncoder(self.config)
        self.pooler = BertPooler(self.config) if add_pooling_layer else None
        _init_bert_weights(self, self.config.initializer_range)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None):
        if input_ids.dim() != 2:
            raise ValueError(f"BertModel expects input_ids of shape (batch, sequence), got {tuple(input_ids.shape)}")
        hidden = self.embeddings(input_ids, token_type_ids, position_ids)
        hidden = self.encoder(hidden, _attention_mask(attention_mask))
        pooled = self.pooler(hidden) if self.pooler is not None else None
        return BaseModelOutputWithPooling(last_hidden_state=hidden, pooler_output=pooled)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        return super().load_state_dict(_fit_checkpoint(self, state_dict, "bert."), strict=strict, assign=assign)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings


class BertForSequenceClassification(_FromPretrained, nn.Module):
    """``BertModel`` (as ``bert``), dropout on the pooled [CLS] state, and a ``classifier`` Linear.

    ``forward(..., labels=None)`` returns a :class:`SequenceClassifierOutput`; with ``labels`` its ``loss``
    is cross-entropy (integer labels), mean squared error (``num_labels == 1``) or binary cross-entropy
    with logits (float multi-label targets), as ``config.problem_type`` or the labels say.

    >>> config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
    ...                     intermediate_size=64)
    >>> model = BertForSequenceClassification(config, num_labels=3)
    >>> loss, logits = model(ember.tensor([[2, 7, 9, 3]]), labels=ember.tensor([1]))[:2]
    >>> logits.shape, loss.shape
    (ember.Size([1, 3]), ember.Size([]))
    """

    classifier_head = "classifier"

    def __init__(self, config: BertConfig | None = None, **kwargs):
        super().__init__()
        self.config = _as_config(config, kwargs)
        self.num_labels = self.config.num_labels
        self.bert = BertModel(self.config)
        p = self.config.classifier_dropout
        self.dropout = nn.Dropout(self.config.hidden_dropout_prob if p is None else p)
        self.classifier = Linear(self.config.hidden_size, self.config.num_labels)
        _init_bert_weights(self.classifier, self.config.initializer_range)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None, labels=None):
        pooled = self.bert(input_ids, attention_mask, token_type_ids, position_ids).pooler_output
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else self._loss(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def _loss(self, logits, labels):
        kind = self.config.problem_type
        if kind is None:
            if self.num_labels == 1:
                kind = "regression"
            elif labels.dtype in (ember.int64, ember.int32, ember.int16, ember.uint8, ember.int8):
                kind = "single_label_classification"
            else:
                kind = "multi_label_classification"
        if kind == "regression":
            return F.mse_loss(logits.squeeze(-1), labels.to(logits.dtype).reshape(logits.shape[0]))
        if kind == "single_label_classification":
            return F.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))
        if kind == "multi_label_classification":
            return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        raise ValueError(f"unknown problem_type {kind!r}: expected 'regression', 'single_label_classification' or "
                         "'multi_label_classification'")

    def reset_classifier(self, num_classes: int) -> None:
        """A new, freshly initialised ``classifier`` for ``num_classes`` labels (``config.num_labels`` follows)."""
        w = self.classifier.weight
        self.classifier = Linear(self.config.hidden_size, num_classes, device=w.device, dtype=w.dtype)
        _init_bert_weights(self.classifier, self.config.initializer_range)
        self.config = dataclasses.replace(self.config, num_labels=num_classes)
        self.num_labels = num_classes

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        return super().load_state_dict(_fit_checkpoint(self, state_dict, "bert."), strict=strict, assign=assign)


def _fit_checkpoint(model: nn.Module, state_dict, prefix: str) -> dict:
    """Add or strip ``prefix`` (``"bert."``) so a checkpoint's keys meet the model's: a base ``BertModel``
    checkpoint loads into a task model and back, as ``from_pretrained`` does in transformers.

    Keys the model can never use (a pre-training head's ``cls.*``) are kept, so a strict load still reports
    them; ``from_pretrained`` loads non-strictly, then checks that nothing but a new head is missing.
    """
    state = dict(state_dict)
    own = model.state_dict().keys()
    has_prefix = any(k.startswith(prefix) for k in own)
    ckpt_prefixed = any(k.startswith(prefix) for k in state)
    if has_prefix and not ckpt_prefixed:
        state = {(prefix + k if (prefix + k) in own or k == "embeddings.position_ids" else k): v
                 for k, v in state.items()}
    elif not has_prefix and ckpt_prefixed:
        state = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}
    return state


@register_model(task="text-classification", family="bert", head="classifier")
def bert_for_sequence_classification(*, weights: None = None, **config) -> BertForSequenceClassification:
    """A :class:`BertForSequenceClassification` of the given :class:`BertConfig` fields (BERT-base by
    default; ``num_classes`` is accepted for ``num_labels``). For pretrained weights use
    ``BertForSequenceClassification.from_pretrained(folder)``.

    >>> model = bert_for_sequence_classification(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
    ...                                          intermediate_size=128, num_classes=3)
    >>> model.classifier.out_features
    3
    """
    no_weights("bert_for_sequence_classification", weights,
               "load a checkpoint with BertForSequenceClassification.from_pretrained(folder)")
    if "num_classes" in config:
        config["num_labels"] = config.pop("num_classes")
    return BertForSequenceClassification(BertConfig(**config))
