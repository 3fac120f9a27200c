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

from ember.plugins import Weights, WeightsEnum
from ember.plugins.weights import ovewrite_named_param

from ._registry import register_model

__all__ = ["M5", "KeywordSpottingCNN", "KeywordSpottingCNN_Weights", "MFCCFrontend", "m5", "kws_cnn", "DIGIT_WORDS"]


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


class MFCCFrontend(nn.Module):
    """Waveforms ``[batch, samples]`` or ``[batch, 1, samples]`` -> MFCC features ``[batch, 1, n_mfcc, frames]``,
    each coefficient normalised over the clip's frames (cepstral mean and variance normalisation, which
    removes most of a voice's and a microphone's fixed colouring). Defaults: 16 kHz, 30 ms windows every
    10 ms (101 frames per second), 40 mel bands, 40 coefficients.

    >>> MFCCFrontend()(ember.zeros(2, 16000)).shape
    ember.Size([2, 1, 40, 101])
    """

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 40, n_fft: int = 480, hop_length: int = 160,
                 n_mels: int = 40) -> None:
        super().__init__()
        from ..transforms import MFCC  # the transforms import only when a front end is built
        self.sample_rate = sample_rate
        self.mfcc = MFCC(sample_rate=sample_rate, n_mfcc=n_mfcc,
                         melkwargs={"n_fft": n_fft, "hop_length": hop_length, "n_mels": n_mels})

    def forward(self, waveform: ember.Tensor) -> ember.Tensor:
        if waveform.dim() == 3 and waveform.shape[1] == 1:
            waveform = waveform.squeeze(1)
        if waveform.dim() != 2:
            raise ValueError(f"MFCCFrontend expects mono waveforms [batch, samples] or [batch, 1, samples], got "
                             f"shape {list(waveform.shape)}")
        features = self.mfcc(waveform)
        centred = features - features.mean(-1, keepdim=True)
        return (centred / (centred.square().mean(-1, keepdim=True) + 1e-5).sqrt()).unsqueeze(1)


class KeywordSpottingCNN(nn.Module):
    """A small CNN for keyword spotting over MFCC features: one 3x3 conv -> BatchNorm -> ReLU block per entry of
    ``channels`` (each but the last followed by 2x2 max-pooling), global average pooling, dropout and a linear
    ``classifier``.

    Without ``frontend`` it takes features: ``[batch, 1, n_mfcc, frames]`` or ``[batch, n_mfcc, frames]`` (any
    ``n_mfcc`` and length of at least 4), e.g. ``ember_audio.transforms.MFCC(sample_rate=16000,
    n_mfcc=40)`` applied to the waveforms; with ``frontend`` (an :class:`MFCCFrontend`, what :func:`kws_cnn`
    builds) it takes waveforms and computes them itself. Output logits ``[batch, num_classes]``.

    >>> KeywordSpottingCNN(num_classes=10)(ember.zeros(3, 1, 40, 101)).shape
    ember.Size([3, 10])
    """

    classifier_head = "classifier"

    def __init__(self, num_classes: int = 35, channels: tuple[int, ...] = (32, 64, 64), dropout: float = 0.2,
                 frontend: nn.Module | None = None):
        super().__init__()
        self.frontend = frontend
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
        if self.frontend is not None:
            x = self.frontend(x)
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


DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


class KeywordSpottingCNN_Weights(WeightsEnum):
    """``ESPEAK_DIGITS_V1``: :func:`kws_cnn` trained by this repository's ``plugins/audio/scripts/train_kws.py``
    on the ten spoken digits synthesised with espeak-ng (voices other than those of the default espeak-ng set,
    which stay unheard for fine-tuning); accuracy measured on held-out voices."""

    ESPEAK_DIGITS_V1 = Weights(
        url="package://ember_audio/weights/kws_cnn_espeak_digits.ember",
        sha256="5e358203e188fab7729098d97ff87f2cf48c7992995f1d9dd843f5a26cd2256e", size=298464,
        meta={
            "categories": list(DIGIT_WORDS),
            "num_params": 61050,
            "sample_rate": 16000,
            "dataset": "spoken digits synthesised with espeak-ng: 760 training clips from 38 voices x 2 "
                       "speeds/pitches (ember_audio.datasets.generate_espeak_commands, seed 1, the default set's "
                       "voices excluded)",
            "recipe": "python plugins/audio/scripts/train_kws.py --voices 48 --epochs 30 --seed 0: Adam (lr 3e-3, "
                      "cosine decay), batch 64, SpecAugment-style time shifts (up to 100 ms) and time/coefficient "
                      "masks on the MFCC features (about 9 minutes on 2 busy CPU cores, synthesis included)",
            "metrics": {"accuracy": 1.0},
            "evaluation": "100 clips of 5 held-out voices (never in training)",
        },
    )
    DEFAULT = ESPEAK_DIGITS_V1


@register_model(task="audio-classification", family="kws_cnn", head="classifier",
                input="waveform [batch, 1, samples] at 16 kHz (MFCC front end inside)")
def kws_cnn(*, weights: KeywordSpottingCNN_Weights | str | None = None, progress: bool = True,
            num_classes: int | None = None, channels: tuple[int, ...] = (16, 32, 64, 64), dropout: float = 0.2,
            sample_rate: int = 16000) -> KeywordSpottingCNN:
    """:class:`KeywordSpottingCNN` on waveforms (with an :class:`MFCCFrontend`); ``weights="DEFAULT"`` loads
    the spoken-digit model (:class:`KeywordSpottingCNN_Weights`), else ``num_classes`` outputs (35).
    ``ember.hub.get_model("audio:kws_cnn", weights="DEFAULT", num_classes=N)`` keeps the pretrained body
    and gives it a new head for N words.

    >>> kws_cnn(num_classes=12)(ember.zeros(2, 1, 16000)).shape
    ember.Size([2, 12])
    >>> kws_cnn(weights="DEFAULT").classifier.out_features
    10
    """
    weights = KeywordSpottingCNN_Weights.verify(weights)
    options = {"num_classes": num_classes}
    if weights is not None:
        ovewrite_named_param(options, "num_classes", len(weights.meta["categories"]), "audio:kws_cnn")
    num_classes = 35 if options["num_classes"] is None else options["num_classes"]
    model = KeywordSpottingCNN(num_classes=num_classes, channels=channels, dropout=dropout,
                               frontend=MFCCFrontend(sample_rate))
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress))
    return model
