"""Text classification on a sentence encoder: the encoder's sentence embedding through a linear head, the
model ``ember finetune`` tunes (``get_classifier``/``reset_classifier`` are the head protocol).

>>> from ember_text.models import all_minilm_l6_v2
>>> model = SentenceTransformerClassifier(all_minilm_l6_v2(), num_classes=3)
>>> ids = ember.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])     # token ids, 0 pads
>>> model(ids).shape
ember.Size([2, 3])
>>> model.get_classifier()
Linear(in_features=384, out_features=3, bias=True)
"""
from __future__ import annotations

import ember
from ember import nn

__all__ = ["SentenceTransformerClassifier"]


class SentenceTransformerClassifier(nn.Module):
    """``encoder`` (a :class:`~ember_text.models.SentenceTransformer`) and ``classifier``, a linear layer on its
    sentence embedding.

    ``forward`` takes token ids ``(N, L)`` (the attention mask is ``input_ids != pad_token_id`` unless given)
    or the tokenizer's dict of tensors, and returns logits ``(N, num_classes)``. The embedding is scaled by
    ``scale`` before the head: a normalised embedding has unit length, and a head on it alone needs many
    steps before its logits grow past chance-level confidence.
    """

    def __init__(self, encoder: nn.Module, num_classes: int, pad_token_id: int = 0, scale: float = 10.0):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        self.encoder = encoder
        self.classifier = nn.Linear(encoder.get_sentence_embedding_dimension(), num_classes)
        self.pad_token_id = pad_token_id
        self.scale = scale

    def features(self, input_ids, attention_mask=None) -> dict:
        """The encoder's input: a dict with ``input_ids`` and ``attention_mask``."""
        if isinstance(input_ids, dict):
            return input_ids
        if attention_mask is None:
            attention_mask = (input_ids != self.pad_token_id).to(ember.int64)
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    def forward(self, input_ids, attention_mask=None) -> ember.Tensor:
        embedding = self.encoder(self.features(input_ids, attention_mask))["sentence_embedding"]
        return self.classifier(embedding * self.scale)

    def get_classifier(self) -> nn.Linear:
        return self.classifier

    def reset_classifier(self, num_classes: int) -> None:
        """A freshly initialised head for ``num_classes`` outputs."""
        old = self.classifier
        self.classifier = nn.Linear(old.in_features, num_classes, device=old.weight.device, dtype=old.weight.dtype)

    def extra_repr(self) -> str:
        return f"pad_token_id={self.pad_token_id}, scale={self.scale}"
