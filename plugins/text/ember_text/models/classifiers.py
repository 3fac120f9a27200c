"""Text classifiers to train from scratch: ``TextCNN`` (Kim, 2014), ``LSTMClassifier`` and
``TransformerClassifier`` (over ``nn.TransformerEncoder``).

Each takes a padded batch of token ids ``(N, T)`` (int64, padding with ``padding_idx``, on the right) and
returns logits ``(N, num_classes)``; its last layer is ``fc`` (``reset_classifier(k)`` replaces it).

>>> model = TextCNN(vocab_size=1000, num_classes=4)
>>> batch_ids, labels = ember.tensor([[5, 8, 13, 21, 0], [3, 4, 5, 6, 7]]), ember.tensor([1, 3])
>>> loss = ember.nn.functional.cross_entropy(model(batch_ids), labels)
>>> model.reset_classifier(2)
>>> model(batch_ids).shape
ember.Size([2, 2])
"""
from __future__ import annotations

import math

import ember
from ember import nn
from ember.nn.utils.rnn import pack_padded_sequence

from ._layers import Linear
from ._registry import no_weights, register_model
from .bert import check_sequence_length

__all__ = ["TextCNN", "LSTMClassifier", "TransformerClassifier", "text_cnn", "lstm_classifier",
           "transformer_classifier"]


class _HeadMixin:
    """``classifier_head`` is ``fc``; ``reset_classifier(k)`` puts a fresh ``k``-class ``fc`` in its place."""

    classifier_head = "fc"

    def reset_classifier(self, num_classes: int) -> None:
        w = self.fc.weight
        self.fc = Linear(self.fc.in_features, num_classes, device=w.device, dtype=w.dtype)
        self.num_classes = num_classes


def _check_ids(name: str, input_ids) -> None:
    if input_ids.dim() != 2:
        raise ValueError(f"{name} expects input_ids of shape (batch, sequence), got {tuple(input_ids.shape)}")
    if input_ids.dtype.is_floating_point:
        raise TypeError(f"{name} expects integer token ids, got {input_ids.dtype}")


def _real_tokens(input_ids, attention_mask, padding_idx):
    """A boolean ``(N, T)``: True where there is a token (from ``attention_mask``, else ``!= padding_idx``)."""
    if attention_mask is not None:
        return attention_mask != 0
    if padding_idx is None:
        return ember.ones(input_ids.shape, dtype=ember.bool, device=input_ids.device)
    return input_ids != padding_idx


class TextCNN(_HeadMixin, nn.Module):
    """Embeddings, parallel 1-D convolutions of several widths, ReLU, max over time, dropout, ``fc``.

    Sequences must have at least ``max(kernel_sizes)`` positions (pad short batches).
    """

    def __init__(self, vocab_size: int, num_classes: int = 2, embed_dim: int = 128,
                 kernel_sizes: tuple[int, ...] = (3, 4, 5), num_filters: int = 100, dropout: float = 0.5,
                 padding_idx: int | None = 0):
        super().__init__()
        self.num_classes = num_classes
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.convs = nn.ModuleList([nn.Conv1d(embed_dim, num_filters, k) for k in kernel_sizes])
        self.dropout = nn.Dropout(dropout)
        self.fc = Linear(num_filters * len(kernel_sizes), num_classes)

    def forward(self, input_ids):
        _check_ids("TextCNN", input_ids)
        widest = max(conv.kernel_size[0] for conv in self.convs)
        if input_ids.shape[1] < widest:
            raise ValueError(f"TextCNN: the input has {input_ids.shape[1]} positions but the widest convolution "
                             f"spans {widest}; pad the batch to at least {widest} tokens")
        x = self.embedding(input_ids).transpose(1, 2)                  # (N, embed_dim, T)
        pooled = [ember.relu(conv(x)).amax(dim=2) for conv in self.convs]
        return self.fc(self.dropout(ember.cat(pooled, dim=1)))


class LSTMClassifier(_HeadMixin, nn.Module):
    """Embeddings, a (bi)LSTM over the real tokens of each sequence (packed, so padding is never read), the
    last layer's final hidden states (both directions), dropout, ``fc``."""

    def __init__(self, vocab_size: int, num_classes: int = 2, embed_dim: int = 128, hidden_size: int = 128,
                 num_layers: int = 1, bidirectional: bool = True, dropout: float = 0.0,
                 padding_idx: int | None = 0):
        super().__init__()
        self.num_classes = num_classes
        self.padding_idx = padding_idx
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                            bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.fc = Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, input_ids, attention_mask=None):
        _check_ids("LSTMClassifier", input_ids)
        lengths = _real_tokens(input_ids, attention_mask, self.padding_idx).sum(1)
        if input_ids.shape[0] and int(lengths.min()) == 0:
            raise ValueError("LSTMClassifier: a sequence of the batch has no tokens (only padding)")
        packed = pack_padded_sequence(self.embedding(input_ids), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        last = h_n[-2:] if self.lstm.bidirectional else h_n[-1:]       # the last layer's directions
        return self.fc(self.dropout(ember.cat(list(last), dim=1)))


class TransformerClassifier(_HeadMixin, nn.Module):
    """Token + learned position embeddings, ``nn.TransformerEncoder`` (``batch_first``, padding masked),
    the mean over real tokens, dropout, ``fc``. Inputs longer than ``max_len`` raise
    :class:`~ember_text.models.SequenceTooLongError`."""

    def __init__(self, vocab_size: int, num_classes: int = 2, d_model: int = 128, nhead: int = 4,
                 num_layers: int = 2, dim_feedforward: int = 256, dropout: float = 0.1, max_len: int = 512,
                 padding_idx: int | None = 0):
        super().__init__()
        self.num_classes = num_classes
        self.padding_idx = padding_idx
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=padding_idx)
        self.pos_embedding = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = Linear(d_model, num_classes)

    def forward(self, input_ids, attention_mask=None):
        _check_ids("TransformerClassifier", input_ids)
        t = input_ids.shape[1]
        check_sequence_length(t, self.pos_embedding.num_embeddings, "TransformerClassifier", "max_len")
        real = _real_tokens(input_ids, attention_mask, self.padding_idx)
        positions = ember.arange(t, device=input_ids.device)
        x = self.embedding(input_ids) * math.sqrt(self.d_model) + self.pos_embedding(positions)
        x = self.encoder(x, src_key_padding_mask=~real)
        weights = real.to(x.dtype)[..., None]
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.fc(self.dropout(pooled))


@register_model(task="text-classification", family="cnn", head="fc")
def text_cnn(*, weights: None = None, **kwargs) -> TextCNN:
    """A :class:`TextCNN` (no pretrained weights): ``text_cnn(vocab_size=20000, num_classes=4)``."""
    no_weights("text_cnn", weights)
    return TextCNN(**kwargs)


@register_model(task="text-classification", family="rnn", head="fc")
def lstm_classifier(*, weights: None = None, **kwargs) -> LSTMClassifier:
    """An :class:`LSTMClassifier` (no pretrained weights): ``lstm_classifier(vocab_size=20000, num_classes=4)``."""
    no_weights("lstm_classifier", weights)
    return LSTMClassifier(**kwargs)


@register_model(task="text-classification", family="transformer", head="fc")
def transformer_classifier(*, weights: None = None, **kwargs) -> TransformerClassifier:
    """A :class:`TransformerClassifier` (no pretrained weights)."""
    no_weights("transformer_classifier", weights)
    return TransformerClassifier(**kwargs)
