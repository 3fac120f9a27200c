"""Silero VAD: a voice-activity detector (speech probability per 32 ms chunk), the network of the PyPI
package ``silero-vad`` re-implemented in Ember, with its real pretrained weights.

The network (the same for 16 kHz and 8 kHz, with its own weights for each rate): the chunk with the last
64 samples (32 at 8 kHz) of the previous chunk in front, reflect-padded on the right; an STFT magnitude
computed as a convolution with a Hann-windowed DFT basis (256-point frames, hop 128 at 16 kHz); four
convolutions (kernel 3, strides 1, 2, 2, 1) with ReLUs; an LSTM cell (128 units) whose state carries over
from chunk to chunk; ReLU, a 1x1 convolution and a sigmoid. Parameter names are the package's
(``_model.encoder.0.reparam_conv.weight`` ...), so its checkpoints map one to one.

The weights are read from ``silero_vad.onnx`` in the ``silero-vad`` 6.2.3 wheel (the file the package's
``load_silero_vad(onnx=True)`` runs with onnxruntime), through the ``onnx`` package: install the extra
``ember-audio[onnx]``, and fetch the file with ``ember weights fetch audio:silero_vad``. (The wheel's
``silero_vad_16k.safetensors`` is a different checkpoint, so it is not used.)

The calling convention is the package's: ``prob = model(chunk, 16000)`` on successive 512-sample chunks
(``[512]``, ``[1, 512]`` or ``[batch, 512]``; 256 samples at 8000 Hz; a multiple of 16 kHz is decimated to
16 kHz), returning ``[batch, 1]`` probabilities, and ``model.reset_states()`` between streams.

>>> model = silero_vad()                     # the architecture, randomly initialised: no file needed
>>> model(ember.zeros(1, 512), 16000).shape
ember.Size([1, 1])
>>> model = silero_vad(weights="DEFAULT")    # doctest: +SKIP
>>> probs = [model(chunk, 16000).item() for chunk in waveform.split(512)]   # doctest: +SKIP
"""
from __future__ import annotations

import math

import ember
from ember import nn
from ember.nn import functional as F
from ember.plugins import WeightsEnum

from ._onnx_weights import OnnxWeights
from ._registry import register_model

__all__ = ["SileroVAD", "SileroVAD_Weights", "silero_vad"]

# Per sample rate: the STFT size, and the samples per chunk (the context is chunk // 8).
_RATES = {16000: dict(n_fft=256, chunk=512), 8000: dict(n_fft=128, chunk=256)}
_HIDDEN = 128


def _dft_basis(n_fft: int) -> ember.Tensor:
    """``[n_fft + 2, 1, n_fft]``: the real then the (negated) imaginary parts of the one-sided DFT, each
    row multiplied by a periodic Hann window (a convolution with it, stride hop, is an STFT)."""
    n = ember.arange(n_fft, dtype=ember.float64)
    k = ember.arange(n_fft // 2 + 1, dtype=ember.float64).unsqueeze(1)
    window = 0.5 - 0.5 * ember.cos(2 * math.pi * n / n_fft)
    angle = 2 * math.pi * k * n / n_fft
    basis = ember.cat([window * ember.cos(angle), -window * ember.sin(angle)])
    return basis.unsqueeze(1).to(ember.float32)


class _STFTMagnitude(nn.Module):
    """``[batch, samples] -> [batch, n_fft // 2 + 1, frames]``: the magnitude spectrogram, frames of ``n_fft``
    samples every ``n_fft // 2``, after reflect-padding ``n_fft // 4`` samples on the right."""

    def __init__(self, n_fft: int):
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("forward_basis_buffer", _dft_basis(n_fft))

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = F.pad(x, (0, self.n_fft // 4), mode="reflect")
        spec = F.conv1d(x.unsqueeze(1), self.forward_basis_buffer, stride=self.n_fft // 2)
        real, imag = spec[:, :self.n_fft // 2 + 1], spec[:, self.n_fft // 2 + 1:]
        return ember.sqrt(real * real + imag * imag)


class _ConvBlock(nn.Module):
    """Convolution (kernel 3, same padding) and ReLU, under the package's names (its ``se`` is an identity)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.reparam_conv = nn.Conv1d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.activation = nn.ReLU()

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        return self.activation(self.reparam_conv(x))


class _Decoder(nn.Module):
    """The LSTM cell over the encoder's one time step, then the speech probability."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTMCell(_HIDDEN, _HIDDEN)
        self.decoder = nn.Sequential(nn.Dropout(0.1), nn.ReLU(), nn.Conv1d(_HIDDEN, 1, 1), nn.Sigmoid())

    def forward(self, x: ember.Tensor, state: ember.Tensor) -> tuple[ember.Tensor, ember.Tensor]:
        h, c = self.rnn(x.squeeze(-1), (state[0], state[1]))
        return self.decoder(h.unsqueeze(-1)), ember.stack([h, c])


class _VADNet(nn.Module):
    """One sample rate's network: ``([batch, context + chunk], state [2, batch, 128]) -> (prob [batch, 1],
    new state)``."""

    def __init__(self, n_fft: int):
        super().__init__()
        self.stft = _STFTMagnitude(n_fft)
        self.encoder = nn.Sequential(_ConvBlock(n_fft // 2 + 1, 128, 1), _ConvBlock(128, 64, 2),
                                     _ConvBlock(64, 64, 2), _ConvBlock(64, 128, 1))
        self.decoder = _Decoder()

    def forward(self, x: ember.Tensor, state: ember.Tensor) -> tuple[ember.Tensor, ember.Tensor]:
        out, state = self.decoder(self.encoder(self.stft(x)), state)
        return out.squeeze(1).mean(1, keepdim=True), state


class SileroVAD(nn.Module):
    """Silero VAD with its streaming state: call it on successive chunks of one stream (or of ``batch``
    streams in step), ``reset_states()`` before the next stream.

    ``_model`` is the 16 kHz network, ``_model_8k`` the 8 kHz one. The LSTM state and the context (the
    last samples of the previous chunk) are kept detached between calls, so a long stream builds no graph.
    """

    sample_rates = (8000, 16000)

    def __init__(self):
        super().__init__()
        self._model = _VADNet(_RATES[16000]["n_fft"])
        self._model_8k = _VADNet(_RATES[8000]["n_fft"])
        self.reset_states()

    def reset_states(self, batch_size: int = 1) -> None:
        """Forget the stream: zero LSTM state and context (the next call starts a new stream). ``batch_size``
        is accepted as the package's ONNX wrapper takes it; the state is sized by the next chunk."""
        self._state = None
        self._context = None
        self._last_sr = 0
        self._last_batch_size = 0

    def _validate_input(self, x: ember.Tensor, sr: int) -> tuple[ember.Tensor, int]:
        if x.dim() == 1:
            x = x.unsqueeze(0)
        if x.dim() > 2:
            raise ValueError(f"Too many dimensions for input audio chunk {x.dim()}")
        if sr != 16000 and sr % 16000 == 0:   # 32 kHz, 48 kHz...: every (sr // 16000)-th sample
            x, sr = x[:, ::sr // 16000], 16000
        if sr not in self.sample_rates:
            raise ValueError(f"Supported sampling rates: {list(self.sample_rates)} (or multiply of 16000)")
        if sr / x.shape[1] > 31.25:
            raise ValueError("Input audio chunk is too short")
        return x, sr

    def forward(self, x: ember.Tensor, sr: int) -> ember.Tensor:
        """The speech probability of the chunk ``x`` (``[batch, 1]``), continuing the stream."""
        x, sr = self._validate_input(x, sr)
        chunk = _RATES[sr]["chunk"]
        if x.shape[-1] != chunk:
            raise ValueError(f"Provided number of samples is {x.shape[-1]} "
                             "(Supported values: 256 for 8000 sample rate, 512 for 16000)")
        batch = x.shape[0]
        if (self._last_sr and self._last_sr != sr) or (self._last_batch_size and self._last_batch_size != batch):
            self.reset_states()
        net = self._model if sr == 16000 else self._model_8k
        dtype = net.stft.forward_basis_buffer.dtype
        x = x.to(dtype)
        if self._context is None:
            self._context = ember.zeros(batch, chunk // 8, dtype=dtype, device=x.device)
            self._state = ember.zeros(2, batch, _HIDDEN, dtype=dtype, device=x.device)
        x = ember.cat([self._context, x], dim=1)
        out, state = net(x, self._state)
        self._state = state.detach()
        self._context = x[:, -(chunk // 8):].detach()
        self._last_sr, self._last_batch_size = sr, batch
        return out

    def audio_forward(self, x: ember.Tensor, sr: int) -> ember.Tensor:
        """Probabilities of a whole recording (``[batch, samples]``), chunk by chunk from a fresh state, the
        last chunk zero-padded: ``[batch, chunks]``."""
        x, sr = self._validate_input(x, sr)
        self.reset_states()
        chunk = _RATES[sr]["chunk"]
        if x.shape[1] % chunk:
            x = F.pad(x, (0, chunk - x.shape[1] % chunk))
        return ember.cat([self(x[:, i:i + chunk], sr) for i in range(0, x.shape[1], chunk)], dim=1)


# ---- the pretrained weights --------------------------------------------------------------------------------

class SileroVAD_Weights(WeightsEnum):
    """``SILERO_V6_2_3``: the pretrained Silero VAD of the ``silero-vad`` 6.2.3 wheel (MIT), from its
    ``silero_vad.onnx`` (both sample rates' networks)."""

    SILERO_V6_2_3 = OnnxWeights(
        distribution="silero-vad", version="6.2.3", member="silero_vad/data/silero_vad.onnx",
        sha256="1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3", size=2327524,
        model="audio:silero_vad",
        # The ONNX graph branches on the sample rate: its 16 kHz branch holds `_model`, the other `_model_8k`.
        branches={"then_branch": "_model", "else_branch": "_model_8k"},
        meta={
            "num_params": 462594,
            "sample_rates": [8000, 16000],
            "chunk_samples": {"16000": 512, "8000": 256},
            "dataset": "Silero's multi-domain speech and noise corpora (see the silero-vad repository)",
            "recipe": "trained by Silero (https://github.com/snakers4/silero-vad), packaged in the PyPI wheel "
                      "silero-vad 6.2.3; read from its silero_vad.onnx",
            "license": "MIT",
            # measured by tests/audio/test_silero_vad.py against onnxruntime on speech, silence and noise
            # (16 kHz; 1.6e-6 at 8 kHz); the test's bound is 1e-4
            "metrics": {"max_abs_prob_error_vs_onnxruntime": 1.2e-5},
        },
    )
    DEFAULT = SILERO_V6_2_3


@register_model(task="voice-activity-detection", family="silero", sample_rates=(8000, 16000))
def silero_vad(*, weights: SileroVAD_Weights | str | None = None, progress: bool = True) -> SileroVAD:
    """Silero VAD (:class:`SileroVAD`): ``weights="DEFAULT"`` loads the pretrained detector (needs the
    ``onnx`` package: ``pip install ember-audio[onnx]``); without weights the network is randomly initialised.

    >>> model = silero_vad()
    >>> model(ember.zeros(512), 16000).shape
    ember.Size([1, 1])
    >>> model.reset_states()
    """
    weights = SileroVAD_Weights.verify(weights)
    model = SileroVAD()
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    model.eval()
    return model
