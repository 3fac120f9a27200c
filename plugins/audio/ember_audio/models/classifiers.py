"""Small audio classifiers to train: :class:`M5` on raw waveforms and :class:`KeywordSpottingCNN` on MFCCs.

Both end in one ``nn.Linear`` (``classifier_head``), which is what ``ember finetune`` and
``ember.hub.get_model(..., num_classes=N)`` swap for a new set of classes, and return logits
``[batch, num_classes]`` (train them with ``F.cross_entropy``).

>>> net = M5(n_output=10)
>>> net(ember.randn(2, 1, 8000)).shape             # one second at 8 kHz
ember.Size([2, 10])
>>> kws = KeywordSpottingCNN(num_classes=12)
>>> kws(ember.randn(2, 40, 81)).shape              # 40 MFCCs x 81 frames (ember_audio.transforms.MFCC makes them)
ember.Size([2, 12])
"""
from __future__ import annotations

import ember
from ember import nn
from ember.nn import functional as F

from ._registry import register_model

__all__ = ["M5", "KeywordSpottingCNN", "m5", "kws_cnn"]


class M5(nn.Module):
    """M5 (Dai et al., 2017, "Very deep convolutional neural networks for raw waveforms"), as torchaudio's
    speech-command tutorial builds it: a wide strided first convolution (80 taps, ``stride``) over the raw
    waveform, then four conv -> BatchNorm -> ReLU -> max-pool(4) stages, global average pooling and a linear
    classifier (``fc1``). The layer names are the tutorial's, so its checkpoints load.

    Input ``[batch, n_input, samples]`` (the tutorial's 8 kHz audio: at least 6848 samples, about 0.86 s);
    output logits ``[batch, n_output]``. The tutorial returns ``log_softmax`` over a ``[batch, 1, n_output]``
    tensor; logits suit ``cross_entropy`` and fine-tuning (``F.log_softmax(net(x), -1)`` is the tutorial's).

    >>> M5(n_input=1, n_output=35)(ember.zeros(1, 1, 8000)).shape
    ember.Size([1, 35])
    """

    classifier_head = "fc1"

    def __init__(self, n_input: int = 1, n_output: int = 35, stride: int = 16, n_channel: int = 32):
        super().__init__()
        widths = [n_channel, n_channel, 2 * n_channel, 2 * n_channel]
        self.conv1 = nn.Conv1d(n_input, n_channel, kernel_size=80, stride=stride)
        self.conv2 = nn.Conv1d(widths[0], widths[1], kernel_size=3)
        self.conv3 = nn.Conv1d(widths[1], widths[2], kernel_size=3)
        self.conv4 = nn.Conv1d(widths[2], widths[3], kernel_size=3)
        for i, width in enumerate(widths, 1):
            setattr(self, f"bn{i}", nn.BatchNorm1d(width))
            setattr(self, f"pool{i}", nn.MaxPool1d(4))
        self.fc1 = nn.Linear(widths[-1], n_output)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        for i in range(1, 5):
            conv, bn, pool = (getattr(self, f"{name}{i}") for name in ("conv", "bn", "pool"))
            x = pool(F.relu(bn(conv(x))))
        return self.fc1(x.mean(-1))   # the tutorial's avg_pool1d over the whole length


class KeywordSpottingCNN(nn.Module):
    """A small CNN for keyword spotting over MFCC features: three 3x3 conv -> BatchNorm -> ReLU blocks (the
    first two followed by 2x2 max-pooling), global average pooling, dropout and a linear ``classifier``.

    It takes features, not audio: ``[batch, 1, n_mfcc, frames]`` or ``[batch, n_mfcc, frames]`` (any
    ``n_mfcc`` and length of at least 4), e.g. ``ember_audio.transforms.MFCC(sample_rate=16000,
    n_mfcc=40)`` applied to the waveforms. Output logits ``[batch, num_classes]``.

    >>> KeywordSpottingCNN(num_classes=10)(ember.zeros(3, 1, 40, 101)).shape
    ember.Size([3, 10])
    """

    classifier_head = "classifier"

    def __init__(self, num_classes: int = 35, channels: tuple[int, int, int] = (32, 64, 64), dropout: float = 0.2):
        super().__init__()
        blocks, in_ch = [], 1
        for i, out_ch in enumerate(channels):
            blocks += [nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU()]
            if i < len(channels) - 1:
                blocks.append(nn.MaxPool2d(2))
            in_ch = out_ch
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(in_ch, num_classes)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        if x.dim() == 3:   # [batch, n_mfcc, frames]: one feature channel
            x = x.unsqueeze(1)
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(f"KeywordSpottingCNN expects MFCC features [batch, 1, n_mfcc, frames] or "
                             f"[batch, n_mfcc, frames], got shape {list(x.shape)}")
        return self.classifier(self.dropout(self.features(x)))


def _no_weights(name: str, weights) -> None:
    if weights is not None:
        raise ValueError(f"{name}: no pretrained weights are registered for this model; use weights=None and train it")


@register_model(task="audio-classification", family="m5", head="fc1", input="waveform [batch, 1, samples]")
def m5(*, weights: None = None, progress: bool = True, num_classes: int = 35, n_input: int = 1, stride: int = 16,
       n_channel: int = 32) -> M5:
    """:class:`M5` with ``num_classes`` outputs (no pretrained weights: train it).

    >>> m5(num_classes=12).fc1.out_features
    12
    """
    _no_weights("m5", weights)
    return M5(n_input=n_input, n_output=num_classes, stride=stride, n_channel=n_channel)


@register_model(task="audio-classification", family="kws_cnn", head="classifier",
                input="MFCC [batch, 1, n_mfcc, frames]")
def kws_cnn(*, weights: None = None, progress: bool = True, num_classes: int = 35,
            channels: tuple[int, int, int] = (32, 64, 64), dropout: float = 0.2) -> KeywordSpottingCNN:
    """:class:`KeywordSpottingCNN` with ``num_classes`` outputs (no pretrained weights: train it).

    >>> kws_cnn(num_classes=12).classifier.out_features
    12
    """
    _no_weights("kws_cnn", weights)
    return KeywordSpottingCNN(num_classes=num_classes, channels=channels, dropout=dropout)
