"""Vision Transformer (Dosovitskiy et al., 2020) with torchvision's names and state_dict keys:
``conv_proj``, ``class_token``, ``encoder.pos_embedding``, ``encoder.layers.encoder_layer_N.{ln_1,
self_attention, ln_2, mlp.0, mlp.3}``, ``encoder.ln``, ``heads.head``.

Builders: ``vit_b_16`` (torchvision's ViT-B/16, 224x224 inputs) and ``vit_tiny_patch4_32``, a small
model for 32x32 images (CIFAR-sized) that torchvision does not have: DeiT-Tiny's width on 4x4 patches
(``image_size=32, patch_size=4, num_layers=12, num_heads=3, hidden_dim=192, mlp_dim=768``; 5.5M
parameters with 1000 classes, 65 tokens). Its keys are exactly those of torchvision's
``VisionTransformer`` built with that configuration. No pretrained weights ship for either.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial
from typing import Callable

import ember
from ember import nn

from ._api import register_model
from ._classifier import ClassifierMixin
from ._utils import handle_legacy_weights

__all__ = ["VisionTransformer", "vit_b_16", "vit_tiny_patch4_32"]


class MLPBlock(nn.Sequential):
    """``Linear(in, mlp) -> GELU -> Dropout -> Linear(mlp, in) -> Dropout`` (keys ``0`` and ``3``)."""

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float):
        super().__init__(nn.Linear(in_dim, mlp_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_dim, in_dim),
                         nn.Dropout(dropout))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.normal_(m.bias, std=1e-6)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``."""

    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float, attention_dropout: float,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=attention_dropout,
                                                    batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input):
        if input.dim() != 3:
            raise ValueError(f"Expected (batch_size, seq_length, hidden_dim) got {tuple(input.shape)}")
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Learned position embedding added to the tokens, ``num_layers`` blocks, final LayerNorm."""

    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int, mlp_dim: int,
                 dropout: float, attention_dropout: float,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.pos_embedding = nn.Parameter(ember.empty(1, seq_length, hidden_dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                                                norm_layer)) for i in range(num_layers)))
        self.ln = norm_layer(hidden_dim)

    def forward(self, input):
        if input.dim() != 3:
            raise ValueError(f"Expected (batch_size, seq_length, hidden_dim) got {tuple(input.shape)}")
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(ClassifierMixin, nn.Module):
    """ViT: ``patch_size`` patches embedded by a strided convolution, a class token, a transformer
    encoder, and a linear head on the class token (torchvision's signature, without ``conv_stem_configs``)."""

    classifier_head = "heads.head"

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int, hidden_dim: int,
                 mlp_dim: int, dropout: float = 0.0, attention_dropout: float = 0.0, num_classes: int = 1000,
                 representation_size: int | None = None,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        if image_size % patch_size != 0:
            raise ValueError(f"Input shape indivisible by patch size! (image_size={image_size}, "
                             f"patch_size={patch_size})")
        self.image_size, self.patch_size, self.hidden_dim = image_size, patch_size, hidden_dim
        self.mlp_dim, self.attention_dropout, self.dropout = mlp_dim, attention_dropout, dropout
        self.num_classes, self.representation_size, self.norm_layer = num_classes, representation_size, norm_layer
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1  # patches + the class token
        self.class_token = nn.Parameter(ember.zeros(1, 1, hidden_dim))
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                               norm_layer)
        self.seq_length = seq_length
        heads: OrderedDict[str, nn.Module] = OrderedDict()
        if representation_size is None:
            heads["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads["act"] = nn.Tanh()
            heads["head"] = nn.Linear(representation_size, num_classes)
        self.heads = nn.Sequential(heads)

        fan_in = self.conv_proj.in_channels * patch_size * patch_size
        nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
        nn.init.zeros_(self.conv_proj.bias)
        if representation_size is not None:
            nn.init.trunc_normal_(self.heads.pre_logits.weight, std=math.sqrt(1 / hidden_dim))
            nn.init.zeros_(self.heads.pre_logits.bias)
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x):
        n, _, h, w = x.shape
        if h != self.image_size or w != self.image_size:
            raise ValueError(f"Wrong image size: expected {self.image_size}x{self.image_size}, got {h}x{w}")
        x = self.conv_proj(x)                       # (n, hidden, h/p, w/p)
        return x.reshape(n, self.hidden_dim, -1).permute(0, 2, 1)

    def forward_features(self, x):
        """The encoder's output tokens ``(N, 1 + patches, hidden_dim)``, the class token first."""
        x = self._process_input(x)
        x = ember.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.encoder(x)

    def _pool_features(self, x):
        return x[:, 0]


def _vit(name: str, weights, progress: bool, **kwargs) -> VisionTransformer:
    handle_legacy_weights(None, weights, name)
    return VisionTransformer(**kwargs)


@register_model(family="vit", input_size=(3, 224, 224))
def vit_b_16(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """ViT-B/16 for 224x224 images (86.6M parameters with 1000 classes)."""
    kwargs = {"image_size": 224, **kwargs}
    return _vit("vit_b_16", weights, progress, patch_size=16, num_layers=12, num_heads=12, hidden_dim=768,
                mlp_dim=3072, **kwargs)


@register_model(family="vit", input_size=(3, 32, 32))
def vit_tiny_patch4_32(*, weights=None, progress: bool = True, **kwargs) -> VisionTransformer:
    """A small ViT for 32x32 images: 4x4 patches, 12 layers, 3 heads, width 192, MLP 768 (5.5M parameters
    with 1000 classes). Not a torchvision model; its keys match torchvision's ``VisionTransformer``."""
    kwargs = {"image_size": 32, **kwargs}
    return _vit("vit_tiny_patch4_32", weights, progress, patch_size=4, num_layers=12, num_heads=3, hidden_dim=192,
                mlp_dim=768, **kwargs)
