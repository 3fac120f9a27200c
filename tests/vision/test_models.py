"""ember_vision.models: architectures against torchvision (names, shapes, parameter counts and logits),
forward/backward at small sizes, builders, the hub, and the shared building blocks.

The torchvision facts live in ``data/torchvision_models.json`` (made by ``data/make_torchvision_reference.py``
with torch 2.14.1 / torchvision 0.29.1; the tests never import torch). Parameter counts with 1000 classes,
as torchvision reports them: resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032; vgg11_bn
132,868,840; vgg16_bn 138,365,992; mobilenet_v2 3,504,872; mobilenet_v3_small 2,542,856; efficientnet_b0
5,288,548; vit_b_16 86,567,656; vit_tiny_patch4_32 5,553,832 (torchvision's VisionTransformer in that
configuration). Models torchvision lacks: efficientnet_lite0 4,652,008 (1000 classes, = the published
checkpoint), lenet5 61,706 and mnist_cnn 390,410 (10 classes).
"""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

import ember
import ember_vision.models as M
from ember import hub, nn
from ember_vision.models import _layers, _utils

DATA = Path(__file__).parent / "data"
REF = json.loads((DATA / "torchvision_models.json").read_text())["models"]
_spec = importlib.util.spec_from_file_location("tv_reference", DATA / "make_torchvision_reference.py")
tv_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tv_reference)

NUM_CLASSES = 10
TORCHVISION_MODELS = [n for n in REF if n != "vit_b_16"]  # vit_b_16 (224x224 only): keys and count below
VISION_MODELS = ["efficientnet_b0", "efficientnet_lite0", "lenet5", "mnist_cnn", "mobilenet_v2", "mobilenet_v3_small",
                 "resnet18", "resnet34", "resnet50", "vgg11_bn", "vgg16_bn", "vit_b_16", "vit_tiny_patch4_32"]


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def expected_state(name: str, model: nn.Module, num_classes: int) -> tuple[list, int]:
    """torchvision's (key, shape) list and parameter count for ``num_classes`` outputs: the reference was
    taken with 1000 classes, so the head (the model's ``classifier_head``) is adjusted."""
    head = model.classifier_head
    entries, count = [], REF[name]["num_params"]
    for key, shape in REF[name]["state_dict"]:
        if key in (f"{head}.weight", f"{head}.bias"):
            count += (num_classes - shape[0]) * int(np.prod(shape[1:]))
            shape = [num_classes, *shape[1:]]
        entries.append([key, shape])
    return entries, count


def deterministic_state(model: nn.Module) -> dict:
    """The reference script's pseudo-random values for every floating entry of the model's state."""
    return {k: ember.from_numpy(tv_reference.fill_value(k, tuple(v.shape))) if v.dtype.is_floating_point else v
            for k, v in model.state_dict().items()}


def check_forward_backward(model: nn.Module, x: ember.Tensor, num_classes: int) -> None:
    """Training-mode forward and backward: the right output shape and a finite gradient for every parameter."""
    model.train()
    out = model(x)
    assert tuple(out.shape) == (x.shape[0], num_classes)
    (out * ember.linspace(-1, 1, num_classes, dtype=out.dtype)).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
        assert p.grad.shape == p.shape and np.isfinite(p.grad.numpy()).all(), name


# ---- against torchvision ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_matches_torchvision(name):
    """Keys, shapes and parameter count equal torchvision's; a training-mode forward and backward pass; then
    in float64 with deterministic weights, the eval-mode logits on a fixed 2x3x32x32 input equal torchvision's."""
    model = getattr(M, name)(num_classes=NUM_CLASSES)
    entries, count = expected_state(name, model, NUM_CLASSES)
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == entries
    assert num_params(model) == count
    x = ember.from_numpy(tv_reference.fixed_input())
    check_forward_backward(model, x.float(), NUM_CLASSES)
    if "logits" not in REF[name]:
        return
    model.zero_grad()  # don't convert the gradients
    model = model.double().eval()
    model.load_state_dict(deterministic_state(model))
    with ember.no_grad():
        logits = model(x).numpy()
    np.testing.assert_allclose(logits, np.array(REF[name]["logits"]), rtol=1e-7, atol=1e-9)


def test_vit_b_16_matches_torchvision_keys():
    model = M.vit_b_16()
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == REF["vit_b_16"]["state_dict"]
    assert num_params(model) == REF["vit_b_16"]["num_params"] == 86_567_656


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "efficientnet_b0", "vit_tiny_patch4_32"])
def test_default_is_1000_classes(name):
    model = getattr(M, name)().eval()
    assert num_params(model) == REF[name]["num_params"]
    with ember.no_grad():
        assert tuple(model(ember.randn(1, 3, 32, 32)).shape) == (1, 1000)


# ---- models torchvision does not have ---------------------------------------------------------------------

def _lite0_expected_keys() -> list[str]:
    """EfficientNet-Lite0's keys derived from torchvision's B0: drop the squeeze-excitation layer of each
    block (``block.K.fc1/fc2``) and renumber the layers after it."""
    keys = []
    for key, _ in REF["efficientnet_b0"]["state_dict"]:
        m = re.match(r"(features\.\d+\.\d+\.block\.)(\d+)\.(.*)", key)
        if m is None:
            keys.append(key)
            continue
        prefix, index, rest = m.group(1), int(m.group(2)), m.group(3)
        se_index = 1 if key.startswith("features.1.") else 2  # the first stage has no expansion layer
        if index == se_index:
            continue
        keys.append(f"{prefix}{index - (index > se_index)}.{rest}")
    return keys


def test_efficientnet_lite0_layout():
    model = M.efficientnet_lite0()
    assert list(model.state_dict()) == _lite0_expected_keys()
    assert num_params(model) == 4_652_008
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all(isinstance(m, _layers.Conv2dSame) and m.bias is None for m in convs)
    assert all(m.eps == 1e-3 for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert not any(isinstance(m, (_layers.SqueezeExcitation, nn.SiLU)) for m in model.modules())
    assert sum(isinstance(m, nn.ReLU6) for m in model.modules()) == 2 + 16 * 2 - 1  # stem, head, blocks


def test_efficientnet_lite0_forward_backward():
    model = M.efficientnet_lite0(num_classes=5)
    check_forward_backward(model, ember.randn(2, 3, 32, 32), 5)
    with ember.no_grad():  # "same" padding: any size works, 224 -> 7x7 before pooling
        assert tuple(model.eval().features(ember.randn(1, 3, 97, 224)).shape) == (1, 1280, 4, 7)


LENET5_KEYS = ["features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
               "classifier.0.weight", "classifier.0.bias", "classifier.2.weight", "classifier.2.bias",
               "classifier.4.weight", "classifier.4.bias"]
MNIST_CNN_KEYS = ["conv_layers.0.weight", "conv_layers.0.bias", "conv_layers.3.weight", "conv_layers.3.bias",
                  "conv_layers.6.weight", "conv_layers.6.bias", "fc_layers.0.weight", "fc_layers.0.bias",
                  "fc_layers.2.weight", "fc_layers.2.bias"]


@pytest.mark.parametrize("builder, keys, count", [(M.lenet5, LENET5_KEYS, 61_706),
                                                  (M.mnist_cnn, MNIST_CNN_KEYS, 390_410)])
def test_small_cnns(builder, keys, count):
    model = builder()
    assert list(model.state_dict()) == keys
    assert num_params(model) == count
    check_forward_backward(builder(num_classes=3), ember.randn(4, 1, 28, 28), 3)


def test_lenet5_numerics():
    """LeNet-5 against a plain NumPy forward pass (convolutions by explicit sliding windows)."""
    model = M.lenet5().double().eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28))
    sd = {k: v.numpy() for k, v in model.state_dict().items()}

    def conv(a, w, b, pad):
        a = np.pad(a, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        k = w.shape[-1]
        win = np.lib.stride_tricks.sliding_window_view(a, (k, k), axis=(2, 3))  # N C H W k k
        return np.einsum("nchwij,ocij->nohw", win, w) + b[:, None, None]

    def pool(a):
        n, c, h, w = a.shape
        return a.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))

    relu = lambda a: np.maximum(a, 0)  # noqa: E731
    h = pool(relu(conv(x, sd["features.0.weight"], sd["features.0.bias"], 2)))
    h = pool(relu(conv(h, sd["features.3.weight"], sd["features.3.bias"], 0))).reshape(2, -1)
    for i in (0, 2, 4):
        h = h @ sd[f"classifier.{i}.weight"].T + sd[f"classifier.{i}.bias"]
        h = relu(h) if i < 4 else h
    with ember.no_grad():
        np.testing.assert_allclose(model(ember.from_numpy(x)).numpy(), h, rtol=1e-10, atol=1e-12)


# ---- builders -------------------------------------------------------------------------------------------

def test_builders_refuse_weights_they_do_not_have():
    with pytest.raises(ValueError, match="no pretrained weights"):
        M.resnet18(weights="DEFAULT")
    with pytest.raises(ValueError, match="unknown weights 'IMAGENET'"):
        M.lenet5(weights="IMAGENET")
    with pytest.raises(ValueError, match="'num_classes' expected value 10 but got 5"):
        M.lenet5(weights="DEFAULT", num_classes=5)


def test_builder_keyword_arguments():
    assert M.resnet50(zero_init_residual=True).layer1[0].bn3.weight.abs().sum().item() == 0
    assert M.mobilenet_v2(width_mult=0.5).features[0][0].out_channels == 16
    assert M.efficientnet_b0(dropout=0.5).classifier[0].p == 0.5
    with pytest.raises(ValueError, match="indivisible by patch size"):
        M.vit_tiny_patch4_32(image_size=30)
    with pytest.raises(ValueError, match="Wrong image size"):
        M.vit_tiny_patch4_32()(ember.zeros(1, 3, 64, 64))


# ---- the hub ---------------------------------------------------------------------------------------------

def test_hub_lists_every_model():
    assert hub.list_models(plugin="vision") == [f"vision:{n}" for n in VISION_MODELS]
    assert M.list_models() == VISION_MODELS
    assert M.list_models(module=M.resnet) == ["resnet18", "resnet34", "resnet50"]
    assert hub.list_models(include="vgg*", plugin="vision", task="image-classification") == [
        "vision:vgg11_bn", "vision:vgg16_bn"]
    assert hub.get_model_builder("vision:resnet18") is M.resnet18


def test_hub_get_model_and_weights():
    model = hub.get_model("vision:mobilenet_v3_small", num_classes=7).eval()
    with ember.no_grad():
        assert tuple(model(ember.zeros(1, 3, 32, 32)).shape) == (1, 7)
    assert isinstance(M.get_model("resnet18", num_classes=3), M.ResNet)
    assert hub.get_model_weights("vision:efficientnet_lite0") is M.EfficientNet_Lite0_Weights
    assert hub.get_model_weights(M.lenet5) is M.LeNet5_Weights
    assert hub.get_model_weights("resnet18") is None
    assert M.get_weight("LeNet5_Weights.FASHIONMNIST_V1") is M.LeNet5_Weights.FASHIONMNIST_V1
    with pytest.raises(ValueError, match="has no pretrained weights"):
        hub.get_model("vision:resnet18", weights="DEFAULT")


@pytest.mark.parametrize("name", ["efficientnet_lite0", "lenet5", "mnist_cnn"])
def test_classifier_head_protocol(name):
    """``classifier_head`` names the Linear that get_model(weights=..., num_classes=k) re-initialises (for the
    torchvision models, test_matches_torchvision already finds the head's keys through it)."""
    model = getattr(M, name)(num_classes=7)
    head = model.get_submodule(type(model).classifier_head)
    assert isinstance(head, nn.Linear) and head.out_features == 7


# ---- building blocks ----------------------------------------------------------------------------------------

def test_make_divisible():
    assert [_utils.make_divisible(v, 8) for v in (32 * 0.75, 16 * 0.5, 1280 * 1.0, 24 * 1.1, 3)] == [24, 8, 1280, 24, 8]
    assert _utils.make_divisible(10, 8) == 16  # 8 would lose more than 10%


def _numpy_conv_same(x, w, stride):
    """Reference TF "same" convolution: pad total = max((ceil(n/s)-1)*s + k - n, 0), extra pixel after."""
    k = w.shape[-1]
    pads = []
    for n in x.shape[2:]:
        total = max((-(-n // stride) - 1) * stride + k - n, 0)
        pads.append((total // 2, total - total // 2))
    a = np.pad(x, ((0, 0), (0, 0), *pads))
    win = np.lib.stride_tricks.sliding_window_view(a, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,ocij->nohw", win, w)


@pytest.mark.parametrize("size, kernel, stride", [((8, 8), 3, 2), ((7, 9), 3, 2), ((8, 8), 5, 2), ((6, 5), 5, 1),
                                                  ((9, 9), 1, 2)])
def test_conv2d_same_padding(size, kernel, stride):
    conv = _layers.Conv2dSame(2, 3, kernel, stride, bias=False).double()
    x = np.random.default_rng(1).standard_normal((2, 2, *size))
    out = conv(ember.from_numpy(x))
    assert tuple(out.shape[2:]) == tuple(-(-n // stride) for n in size)
    np.testing.assert_allclose(out.detach().numpy(), _numpy_conv_same(x, conv.weight.detach().numpy(), stride),
                               rtol=1e-10, atol=1e-12)
    assert list(conv.state_dict()) == ["weight"]


def test_stochastic_depth():
    x = ember.ones(400, 3)
    assert _layers.stochastic_depth(x, 0.5, "row", training=False) is x
    out = _layers.stochastic_depth(x, 0.25, "row").numpy()
    kept = out[:, 0] != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)  # whole rows kept and rescaled ...
    assert (out[~kept] == 0).all() and 0.15 < (~kept).mean() < 0.35  # ... or dropped, about p of them
    assert len(np.unique(_layers.stochastic_depth(x, 0.5, "batch").numpy())) == 1
    assert (_layers.stochastic_depth(x, 1.0, "row").numpy() == 0).all()
    with pytest.raises(ValueError, match="drop probability"):
        _layers.stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError, match="mode"):
        _layers.stochastic_depth(x, 0.5, "col")
