"""M5 and the keyword-spotting CNN: shapes, dtypes, gradients, non-contiguous inputs, and their registration
(the registry listing, the head ``ember finetune`` swaps)."""
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.finetune.model import find_head, layer_groups
from ember_audio.models import M5, KeywordSpottingCNN, kws_cnn, m5



@pytest.fixture(autouse=True)
def seed():
    ember.manual_seed(0)   # each test's random inputs are the same whatever runs before it


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_m5_shapes_and_dtypes(dtype):
    net = M5(n_input=2, n_output=7, stride=8, n_channel=8).to(dtype)
    out = net(ember.randn(3, 2, 4000, dtype=dtype))
    assert out.shape == (3, 7) and out.dtype == dtype
    assert M5()(ember.randn(1, 1, 16000)).shape == (1, 35)    # the tutorial's defaults


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_kws_cnn_shapes_and_dtypes(dtype):
    net = KeywordSpottingCNN(num_classes=5, channels=(4, 8, 8)).to(dtype)
    x = ember.randn(2, 1, 40, 50, dtype=dtype)
    out = net(x)
    assert out.shape == (2, 5) and out.dtype == dtype
    net.eval()   # [batch, n_mfcc, frames] is the same input with its channel left out
    ember.testing.assert_close(net(x[:, 0]), net(x))
    with pytest.raises(ValueError, match="MFCC features"):
        net(ember.randn(2, 3, 40, 50, dtype=dtype))


def test_gradients_reach_every_parameter():
    for net, x in ((M5(n_channel=4), ember.randn(2, 1, 8000)),
                   (KeywordSpottingCNN(num_classes=4, channels=(4, 4, 4)), ember.randn(2, 1, 20, 30))):
        x.requires_grad_(True)
        ember.nn.functional.cross_entropy(net(x), ember.tensor([0, 1])).backward()
        missing = [n for n, p in net.named_parameters() if p.grad is None or not np.isfinite(p.grad.numpy()).all()]
        assert not missing and x.grad.shape == x.shape
        assert all(float(p.grad.abs().sum()) > 0 for p in net.parameters())


def test_gradcheck_float64():
    kws = KeywordSpottingCNN(num_classes=3, channels=(2, 3, 3), dropout=0.0).double().eval()
    assert gradcheck(kws, (ember.randn(1, 1, 6, 5, dtype=ember.float64, requires_grad=True),))
    # M5's shortest input is 6848 samples: perturb 16 values, each spread over 428 samples (the gradient of
    # the whole network still flows, summed over each run), rather than 6848 one by one
    net = M5(n_channel=2).double().eval()

    def m5_of_steps(steps):
        return net(steps.unsqueeze(-1).expand(1, 1, 16, 428).reshape(1, 1, 6848))
    assert gradcheck(m5_of_steps, (ember.randn(1, 1, 16, dtype=ember.float64, requires_grad=True),))


@pytest.mark.parametrize("make", ["permuted", "strided", "expanded"])
def test_non_contiguous_inputs(make):
    m5_net = M5(n_channel=4).eval()
    kws = KeywordSpottingCNN(num_classes=4, channels=(4, 4, 4)).eval()
    wave, feats = ember.randn(2, 1, 8000), ember.randn(2, 1, 20, 30)
    if make == "permuted":
        wave_v = wave.permute(2, 1, 0).contiguous().permute(2, 1, 0)
        feats_v = feats.permute(0, 1, 3, 2).contiguous().permute(0, 1, 3, 2)
    elif make == "strided":
        wave_v = ember.stack([wave, wave], -1).reshape(2, 1, 16000)[..., ::2]
        feats_v = ember.stack([feats, feats], -1).reshape(2, 1, 20, 60)[..., ::2]
    else:
        wave, feats = wave[:1], feats[:1]
        wave_v, feats_v = wave.expand(3, 1, 8000), feats.expand(3, 1, 20, 30)
        wave, feats = wave.repeat(3, 1, 1), feats.repeat(3, 1, 1, 1)
    assert not wave_v.is_contiguous() and not feats_v.is_contiguous()
    ember.testing.assert_close(m5_net(wave_v), m5_net(wave))
    ember.testing.assert_close(kws(feats_v), kws(feats))


def test_registered_with_a_replaceable_head():
    assert {"audio:m5", "audio:kws_cnn"} <= set(ember.hub.list_models(task="audio-classification"))
    for name, head in (("audio:m5", "fc1"), ("audio:kws_cnn", "classifier")):
        entry = ember.hub.get_entry("models", name)
        model = ember.hub.get_model(name, num_classes=6)
        assert find_head(model, entry) is model.get_submodule(head) and model.get_submodule(head).out_features == 6
        groups = [g for g, _ in layer_groups(model, model.get_submodule(head))]
        assert groups and head not in groups
    with pytest.raises(ValueError, match="no pretrained weights"):
        m5(weights="DEFAULT")
    assert kws_cnn(num_classes=3).classifier.out_features == 3


def test_cli_lists_models_and_weights():
    out = subprocess.run([sys.executable, "-m", "ember.cli", "models", "--plugin", "audio"], capture_output=True,
                         text=True, check=True).stdout
    for name in ("audio:silero_vad", "audio:m5", "audio:kws_cnn", "SILERO_V6_2_3", "voice-activity-detection",
                 "audio-classification"):
        assert name in out, out
