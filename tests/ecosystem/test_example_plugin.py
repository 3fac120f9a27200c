"""The example third-party plugin (examples/third_party_plugin) through its entry point, in process."""
import os
import subprocess
import sys

from pathlib import Path

import pytest

import ember
from ember import hub, plugins
from ember.testing import assert_close

EXAMPLE_SRC = Path(__file__).resolve().parents[2] / "examples" / "third_party_plugin" / "src"


def test_example_plugin_registers_everything(example_site):
    info = plugins.list_plugins()[0]
    assert (info.name, info.distribution, info.status) == ("toy", "ember-toy", "loaded")
    assert hub.list_models() == ["toy:mlp"] and hub.list_datasets() == ["toy:blobs"]
    assert hub.list_transforms(modality="tabular") == ["toy:standardize"]
    assert hub.list_metrics(higher_is_better=True) == ["toy:accuracy"]
    model = hub.get_model("mlp", weights="DEFAULT")
    weights = hub.get_model_weights("mlp").DEFAULT
    data = hub.get_dataset("blobs", train=False)
    with ember.no_grad():
        acc = hub.get_metric_function("accuracy")(model(weights.transforms()(data.data)), data.targets)
    assert acc == pytest.approx(weights.meta["metrics"]["accuracy"], abs=1e-4)
    tuned = hub.get_model("mlp", weights="DEFAULT", num_classes=2)
    assert tuned.head.out_features == 2
    assert_close(tuned.body[0].weight, model.body[0].weight)


def test_example_plugin_own_tests_pass(example_site, tmp_path):
    """Runs examples/third_party_plugin/tests as its author would, with the plugin 'installed'."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(example_site.root), str(EXAMPLE_SRC),
                                                       os.environ.get("PYTHONPATH", "")]),
               EMBER_HOME=str(tmp_path / "home"))
    env.pop("EMBER_STRICT_PLUGINS", None)  # other installed plugins are not what this test is about
    tests = EXAMPLE_SRC.parent / "tests"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
                          capture_output=True, text=True, env=env, timeout=120, cwd=str(EXAMPLE_SRC.parent))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout
