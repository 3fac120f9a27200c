"""Representative PyTorch programs, unmodified but for their import lines (``import ember as torch``,
``import ember_vision as torchvision``-style), run as a user runs them: ``python script.py`` in a
fresh process and working directory.

* ``cnn_fashion_mnist.py``: pytorch/examples' MNIST recipe on Fashion-MNIST, device from
  ``torch.accelerator``, ``torch.compile``, ``torch.backends.cudnn.benchmark`` (digits or FakeData stand
  in when the Fashion-MNIST files are not installed);
* ``lstm_language_model.py``: word-level LSTM language model that imports ``torch.onnx`` and exports only
  when asked (the exported file runs in onnxruntime);
* ``dcgan.py``: a DCGAN importing ``torch.nn.parallel`` (``data_parallel`` on several GPUs), with
  ``use_deterministic_algorithms`` and image grids saved by ``torchvision.utils``;
* ``save_whole_model.py``: ``torch.save(model)`` and ``torch.load(weights_only=False)``;
* ``profile_resnet.py``: the ``torch.profiler`` recipe on a torchvision ResNet-18 (tables by operator and by
  input shape, a Chrome trace, scheduled training steps written by ``tensorboard_trace_handler``).
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember

PROGRAMS = Path(__file__).parent / "programs"


def run(script: str, *args: str, cwd: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "EMBER_DISABLE_PLUGINS"}
    return subprocess.run([sys.executable, str(PROGRAMS / script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def _cnn_dataset() -> str:
    from ember_vision.datasets import FashionMNIST
    if any(os.path.isdir(d) for d in FashionMNIST.local_dirs):
        return "fashion-mnist"
    return "digits" if importlib.util.find_spec("sklearn") else "fake"


def test_cnn_with_torch_accelerator(tmp_path):
    dataset = _cnn_dataset()
    proc = run("cnn_fashion_mnist.py", "--dataset", dataset, "--epochs", "2", "--data", str(tmp_path / "data"),
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    if not ember.accelerator.is_available():
        assert lines[0].startswith("device: cpu, accelerators: 0, threads: ")
    losses = [float(m[1]) for m in re.finditer(r"Loss: ([0-9.]+)", proc.stdout)]
    accuracy = [int(m[1]) / int(m[2]) for m in re.finditer(r"Accuracy: (\d+)/(\d+)", proc.stdout)]
    assert len(accuracy) == 2 and losses and all(math.isfinite(v) for v in losses)
    if dataset != "fake":           # real images: it learns (FakeData's labels are random)
        assert accuracy[-1] >= 0.5, proc.stdout


def test_lstm_language_model_imports_onnx_and_exports(tmp_path):
    proc = run("lstm_language_model.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.splitlines()[-1]
    ppl, vocabulary = re.match(r"\| end of training \| best valid ppl +([0-9.]+) \| vocabulary (\d+) words", last).groups()
    assert float(ppl) < 5 < int(vocabulary), last            # far better than guessing among the words
    assert set(ember.load(tmp_path / "model.pt")) >= {"encoder.weight", "rnn.weight_ih_l0", "decoder.bias"}

    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    proc = run("lstm_language_model.py", "--epochs", "1", "--onnx-export", "model.onnx", cwd=tmp_path)
    assert proc.returncode == 0 and "exported in ONNX format at model.onnx" in proc.stdout, proc.stderr
    model = onnx.load(str(tmp_path / "model.onnx"))
    onnx.checker.check_model(model)
    assert any(n.op_type == "LSTM" for n in model.graph.node)
    feeds = {"input": np.zeros((12, 2), np.int64), "hidden": np.zeros((1, 2, 32), np.float32),
             "hidden.1": np.zeros((1, 2, 32), np.float32)}
    logits, h, c = ort.InferenceSession(str(tmp_path / "model.onnx")).run(None, feeds)
    assert logits.shape == (24, int(vocabulary)) and h.shape == c.shape == (1, 2, 32) and np.isfinite(logits).all()


def test_dcgan_imports_nn_parallel(tmp_path):
    dataset = "digits" if importlib.util.find_spec("sklearn") else "fake"
    proc = run("dcgan.py", "--dataset", dataset, "--outf", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = re.findall(r"Loss_D: ([0-9.]+) Loss_G: ([0-9.]+)", proc.stdout)
    assert len(steps) == 12 and all(math.isfinite(float(v)) for step in steps for v in step)
    from PIL import Image
    with Image.open(tmp_path / "fake_samples_epoch_000.png") as img:
        assert img.size == (8 * 16 + 9 * 2, 4 * 16 + 5 * 2)        # make_grid: 8 per row, 2-pixel padding
    generator = ember.load(tmp_path / "netG_epoch_0.pth")
    assert tuple(generator["main.0.weight"].shape) == (16, 32, 4, 4)


def test_saving_a_whole_model(tmp_path):
    proc = run("save_whole_model.py", str(tmp_path / "whole.pt"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "same outputs: True"


def test_profiler_recipe_on_resnet18(tmp_path):
    proc = run("profile_resnet.py", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    header = [line for line in proc.stdout.splitlines() if line.strip().startswith("Name")]
    assert len(header) == 2 and header[1].split()[-2:] == ["Input", "Shapes"]
    assert re.search(r"model_inference .* 100\.00% .* 1  $", proc.stdout, re.M)
    assert re.search(r"aten::conv2d .* 20  $", proc.stdout, re.M)          # ResNet-18's 20 convolutions
    # convolution rows grouped by input shapes (which ones make the top 10 by time depends on the machine)
    assert re.search(r"aten::conv2d .* \[\[2, \d+, \d+, \d+\], \[\d+, \d+, [137], [137]\], \[\]", proc.stdout)
    trace = json.loads((tmp_path / "trace.json").read_text())
    assert any(e.get("name") == "aten::conv2d" and e.get("ph") == "X" for e in trace["traceEvents"])
    assert "traces: 2" in proc.stdout and "True True" in proc.stdout
