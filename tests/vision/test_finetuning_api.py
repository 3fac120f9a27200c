"""What fine-tuners reach for: timm's get_classifier / reset_classifier / forward_features / forward_head on every
classifier, create_feature_extractor with torchvision's node names, the builder's num_classes error and the
hub's answer to it, the hub in torch.hub's shape, and examples/finetune_vision.py end to end."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
import ember_vision.models as M
from ember import hub, nn
from ember.testing import assert_close
from ember_vision.models.feature_extraction import create_feature_extractor, get_graph_node_names

ROOT = Path(__file__).resolve().parents[2]

# (builder, input shape, shape of forward_features, width of the head's input). One model per family: the
# others share the class (resnet50, efficientnet_lite0), and VGG's forward, which goes through the same mixin,
# is checked against torchvision's logits in test_models.py.
CLASSIFIERS = {
    "resnet18": ((2, 3, 32, 32), (2, 512, 1, 1), 512),
    "mobilenet_v2": ((2, 3, 32, 32), (2, 1280, 1, 1), 1280),
    "mobilenet_v3_small": ((2, 3, 32, 32), (2, 576, 1, 1), 1024),
    "efficientnet_b0": ((2, 3, 32, 32), (2, 1280, 1, 1), 1280),
    "vit_tiny_patch4_32": ((2, 3, 32, 32), (2, 65, 192), 192),
    "lenet5": ((2, 1, 28, 28), (2, 16, 5, 5), 84),
    "mnist_cnn": ((2, 1, 28, 28), (2, 128, 3, 3), 256),
}


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_timm_style_classifier_api(name):
    in_shape, feat_shape, width = CLASSIFIERS[name]
    ember.manual_seed(0)
    model = getattr(M, name)(num_classes=7).eval()
    assert isinstance(model, M.ClassifierMixin)
    x = ember.randn(*in_shape)
    with ember.no_grad():
        logits = model(x)
        feats = model.forward_features(x)
        pooled = model.forward_head(feats, pre_logits=True)
        assert tuple(feats.shape) == feat_shape and tuple(pooled.shape) == (in_shape[0], width)
        assert_close(model.forward_head(feats), logits)                    # forward = head(features)
        head = model.get_classifier()
        assert head is model.get_submodule(model.classifier_head) and isinstance(head, nn.Linear)
        assert (head.in_features, head.out_features) == (width, 7) and model.num_features == width
        assert_close(head(pooled), logits)                                 # pre-logits feed the head
        body = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith(model.classifier_head + ".")}
        model.reset_classifier(3)
        new = model.get_classifier()
        assert new is not head and (new.in_features, new.out_features) == (width, 3)
        assert tuple(model(x).shape) == (in_shape[0], 3)
        for k, v in model.state_dict().items():                            # the body is untouched
            if k in body:
                assert (v == body[k]).all().item(), k
        model.reset_classifier(0)                                          # no head: pre-logit features
        assert isinstance(model.get_classifier(), nn.Identity)
        assert_close(model(x), pooled)
        model.reset_classifier(5)                                          # and back, from an Identity
        assert (model.get_classifier().in_features, tuple(model(x).shape)) == (width, (in_shape[0], 5))
    with pytest.raises(ValueError, match="num_classes must be a non-negative int"):
        model.reset_classifier(-1)


def test_reset_classifier_keeps_device_and_dtype_and_trains(accel):
    model = M.lenet5(num_classes=10).to("accel:1").double()
    model.reset_classifier(4)
    head = model.get_classifier()
    assert head.weight.device == ember.device("accel:1") and head.weight.dtype is ember.float64
    loss = model(ember.randn(2, 1, 28, 28, dtype=ember.float64, device="accel:1")).sum()
    loss.backward()
    assert head.weight.grad is not None


def test_vit_reset_classifier_updates_num_classes():
    model = M.vit_tiny_patch4_32(num_classes=10)
    model.reset_classifier(6)
    assert model.num_classes == 6 and model.heads.head.out_features == 6


# ---- feature extraction ---------------------------------------------------------------------------------

def test_feature_extractor_with_torchvision_node_names():
    ember.manual_seed(0)
    model = M.resnet18().eval()
    x = ember.randn(2, 3, 64, 64)
    nodes = {"x": "input", "layer1": "c2", "layer1.0.relu": "r0", "layer1.0.relu_1": "r1", "layer2.0.downsample.0": "ds",
             "layer4": "c5", "avgpool": "pool", "fc": "logits"}
    extractor = create_feature_extractor(model, return_nodes=nodes)
    with ember.no_grad():
        out = extractor(x)
        assert list(out) == list(nodes.values())                    # the requested order
        stem = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        block = model.layer1[0]
        r0 = block.relu(block.bn1(block.conv1(stem)))
        expected = {"input": x, "c2": model.layer1(stem), "r0": r0, "r1": block(stem),
                    "ds": model.layer2[0].downsample[0](model.layer1(stem)), "c5": model.forward_features(x),
                    "pool": model.avgpool(model.forward_features(x)), "logits": model(x)}
        for key, value in expected.items():
            assert_close(out[key], value, msg=key)
    assert tuple(out["c2"].shape) == (2, 64, 16, 16) and tuple(out["c5"].shape) == (2, 512, 2, 2)
    assert list(extractor.state_dict()) == list(model.state_dict())      # keys as the model's, as torchvision's


def test_feature_extractor_stops_after_the_last_requested_node():
    model = M.resnet18().eval()
    calls = []
    model.fc.register_forward_hook(lambda *a: calls.append("fc"))
    model.layer4.register_forward_hook(lambda *a: calls.append("layer4"))
    out = create_feature_extractor(model, ["layer2"])(ember.randn(1, 3, 32, 32))
    assert list(out) == ["layer2"] and calls == []                      # layer3, layer4 and fc never ran
    model(ember.randn(1, 3, 32, 32))
    assert calls == ["layer4", "fc"]


def test_feature_extractor_train_and_eval_nodes_and_device(accel):
    model = M.lenet5()
    extractor = create_feature_extractor(model, train_return_nodes=["features"], eval_return_nodes=["classifier.4"])
    x = ember.randn(2, 1, 28, 28)
    assert list(extractor.train()(x)) == ["features"] and model.training
    assert list(extractor.eval()(x)) == ["classifier.4"] and not model.training
    x.requires_grad_(True)
    extractor.train()(x)["features"].sum().backward()                   # gradients flow through the nodes
    assert x.grad is not None and model.features[0].weight.grad is not None
    extractor.to("accel:0")
    assert model.features[0].weight.device == ember.device("accel:0")   # shared parameters moved with it
    assert extractor.eval()(x.detach().to("accel:0"))["classifier.4"].device == ember.device("accel:0")


def test_feature_extractor_errors():
    model = M.resnet18().eval()
    train_nodes, eval_nodes = get_graph_node_names(model)
    assert train_nodes == eval_nodes and train_nodes[:5] == ["x", "conv1", "bn1", "relu", "maxpool"]
    assert {"layer1.0.relu", "layer4", "avgpool", "fc"} <= set(train_nodes)
    with pytest.raises(ValueError, match=r"node: 'flatten' is not present in model\. Hint: use "
                                         r"`get_graph_node_names`.*functional operations such as 'flatten'"):
        create_feature_extractor(model, ["flatten"])
    with pytest.raises(ValueError, match="Either `return_nodes` or `train_return_nodes` and `eval_return_nodes`"):
        create_feature_extractor(model)
    with pytest.raises(ValueError, match="then both should be specified"):
        create_feature_extractor(model, train_return_nodes=["fc"])
    with pytest.raises(RuntimeError, match=r"never produced node\(s\) 'relu_3'"):
        create_feature_extractor(model, ["relu_3"])(ember.randn(1, 3, 32, 32))    # the stem's relu runs once


# ---- builders, the hub, tasks ---------------------------------------------------------------------------

def test_builder_num_classes_error_points_to_get_model():
    with pytest.raises(ValueError, match=r"The parameter 'num_classes' expected value 10 but got 5 instead\. These "
                                         r"weights come with a 10-class head; for a new 5-class head on the pretrained "
                                         r"body use ember.hub.get_model\('vision:lenet5', weights=\.\.\., "
                                         r"num_classes=5\).*reset_classifier\(5\)"):
        M.lenet5(weights="DEFAULT", num_classes=5)
    tuned = hub.get_model("vision:lenet5", weights="DEFAULT", num_classes=5)   # ... which the error names
    pretrained = M.lenet5(weights="DEFAULT")
    assert tuned.get_classifier().out_features == 5
    assert_close(tuned.features[0].weight, pretrained.features[0].weight)
    doc = " ".join(hub.get_model.__doc__.split())
    assert "The model's own builder refuses that combination" in doc and "The parameter 'num_classes' expected value" in doc


def test_hub_in_torch_hub_shape_for_vision():
    assert hub.list("vision") == M.list_models()
    model = hub.load("vision", "lenet5", weights="DEFAULT")
    same = hub.load("vision:lenet5", weights="DEFAULT")
    assert_close(model.classifier[4].weight, same.classifier[4].weight)
    doc = hub.help("vision", "efficientnet_lite0")
    assert "EfficientNet-Lite0" in doc and doc.endswith("EfficientNet_Lite0_Weights.IMAGENET1K_V1 (DEFAULT)")
    with pytest.raises(ValueError, match="has no pretrained weights"):
        hub.load("vision", "resnet18", weights="DEFAULT")
    assert hub.get_weight("vision:LeNet5_Weights.FASHIONMNIST_V1") is M.LeNet5_Weights.FASHIONMNIST_V1


def test_vision_models_use_the_core_task_vocabulary():
    every = hub.list_models(plugin="vision")
    assert hub.list_models(plugin="vision", task="image-classification") == every
    assert {hub.get_entry("models", n).metadata["task"] for n in every} == {"image-classification"}


# ---- the fine-tuning example ----------------------------------------------------------------------------

def test_finetune_example_runs_end_to_end(tmp_path):
    """examples/finetune_vision.py as a user runs it: pretrained weights, new head, frozen body, parameter
    groups, save, reload, predict; on scikit-learn's real digits."""
    pytest.importorskip("sklearn")
    env = {k: v for k, v in os.environ.items() if k != "EMBER_DISABLE_PLUGINS"}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "finetune_vision.py"), "--epochs", "4",
                           "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "pretrained on Fashion-MNIST (10 classes); digits: 1437 train, 360 test images"
    assert lines[1] == "trainable parameters: 59134 of 61706"       # the 2,572 conv parameters are frozen
    acc = float(next(line for line in lines if line.startswith("test accuracy")).split()[-1])
    assert acc >= 0.9, proc.stdout
    assert f"saved to {tmp_path / 'lenet5_digits.ember'}; reloaded model predicts the same: True" in lines
    state = ember.load(tmp_path / "lenet5_digits.ember")
    assert tuple(state["classifier.4.weight"].shape) == (10, 84)
    pretrained = M.LeNet5_Weights.DEFAULT.get_state_dict()
    assert np.array_equal(state["features.0.weight"].numpy(), pretrained["features.0.weight"].numpy())  # frozen
    assert not np.array_equal(state["classifier.0.weight"].numpy(), pretrained["classifier.0.weight"].numpy())
