"""The classifier interface every ember-vision model shares: timm's ``forward_features`` /
``forward_head`` / ``get_classifier`` / ``reset_classifier``, written once.

A model mixes in :class:`ClassifierMixin` before ``nn.Module`` and provides three things:

* ``classifier_head``: the dotted name of the final ``Linear`` (``"fc"``, ``"classifier.6"``); when it
  lives in a ``Sequential``, it is that ``Sequential``'s last layer;
* ``forward_features(x)``: the trunk's output before pooling (a ``(N, C, H, W)`` feature map for a
  CNN, the ``(N, tokens, dim)`` encoder output for a ViT);
* ``_pool_features(x)``: that output reduced to one ``(N, D)`` vector per image (global pooling and
  flattening, or the class token).

``forward(x)`` is then ``forward_head(forward_features(x))``, the torchvision computation.
"""
from __future__ import annotations

from ember import nn

__all__ = ["ClassifierMixin"]


class ClassifierMixin:
    """timm-style access to a classifier's body and head (see the module docstring for the contract).

    >>> from ember_vision.models import resnet18
    >>> model = resnet18(num_classes=1000)
    >>> model.reset_classifier(10)                   # a new, freshly initialised 10-class head
    >>> model.get_classifier()
    Linear(in_features=512, out_features=10, bias=True)
    >>> feats = model.forward_features(ember.zeros(2, 3, 64, 64))   # (N, 512, H/32, W/32)
    >>> model.forward_head(feats, pre_logits=True).shape            # (N, 512): what the head sees
    ember.Size([2, 512])
    """

    classifier_head: str

    def forward(self, x):
        return self.forward_head(self.forward_features(x))

    def forward_features(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward_features(x)")

    def _pool_features(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define _pool_features(x)")

    def _head_parent(self) -> tuple[nn.Module, str]:
        parent_path, _, attr = self.classifier_head.rpartition(".")
        return (self.get_submodule(parent_path) if parent_path else self), attr

    def forward_head(self, x, pre_logits: bool = False):
        """Pool the features, run the classifier block, and (unless ``pre_logits``) the final ``Linear``.

        With ``pre_logits=True`` the result is the input of the head: the pooled features, after the
        hidden layers of a multi-layer classifier (VGG, MobileNetV3, LeNet-5).
        """
        x = self._pool_features(x)
        parent, attr = self._head_parent()
        if parent is not self:   # the head ends a Sequential: run the layers before it
            children = list(parent.named_children())
            if children[-1][0] != attr:
                raise TypeError(f"{type(self).__name__}: the classifier head {self.classifier_head!r} must be the "
                                "last layer of its Sequential")
            for _, layer in children[:-1]:
                x = layer(x)
        return x if pre_logits else getattr(parent, attr)(x)

    def get_classifier(self) -> nn.Module:
        """The final ``Linear`` layer (``nn.Identity`` after ``reset_classifier(0)``)."""
        parent, attr = self._head_parent()
        return getattr(parent, attr)

    @property
    def num_features(self) -> int:
        """The size of the vector the head reads (its ``in_features``)."""
        head = self.get_classifier()
        n = getattr(head, "in_features", None)
        return n if n is not None else self.__dict__["_num_features"]

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the head with a freshly initialised ``Linear(num_features, num_classes)`` on the same device
        and dtype; ``num_classes=0`` removes it (``nn.Identity``), so the model returns pre-logit features."""
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
            raise ValueError(f"num_classes must be a non-negative int, got {num_classes!r}")
        old = self.get_classifier()
        in_features = self.num_features
        object.__setattr__(self, "_num_features", in_features)   # remembered for a later reset after Identity
        if num_classes == 0:
            new = nn.Identity()
        else:
            # The new head lives where the old one did (or, after an Identity, where the body does).
            ref = getattr(old, "weight", None)
            ref = ref if ref is not None else next(self.parameters(), None)
            kwargs = {} if ref is None else {"device": ref.device, "dtype": ref.dtype}
            new = nn.Linear(in_features, num_classes, bias=getattr(old, "bias", True) is not None, **kwargs)
        parent, attr = self._head_parent()
        setattr(parent, attr, new)
        if "num_classes" in self.__dict__:
            self.num_classes = num_classes
