"""ember-metrics as a plugin: registration hook, discovery through its entry point, hub and CLI, and
working with the core alone."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember_metrics as em
from ember_metrics import _plugin


class FakeRegistry:
    """Records ``add`` calls the way Ember's plugin registry receives them."""

    def __init__(self):
        self.added = {}

    def add(self, name, obj, **metadata):
        assert name not in self.added, f"{name} registered twice"
        self.added[name] = (obj, metadata)

    def add_all(self, table):
        for name, obj, metadata in table:
            self.add(name, obj, **metadata)


def test_hook_registers_every_metric_with_metadata():
    reg = FakeRegistry()
    _plugin.ember_register_metrics(reg)
    expected = {"accuracy", "precision", "recall", "f1_score", "fbeta_score", "specificity", "confusion_matrix",
                "auroc", "average_precision", "roc", "precision_recall_curve", "calibration_error", "cohen_kappa",
                "matthews_corrcoef", "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
                "r2_score", "explained_variance", "pearson_corrcoef", "spearman_corrcoef", "cosine_similarity",
                "perplexity", "char_error_rate", "word_error_rate", "bleu_score", "peak_signal_noise_ratio",
                "structural_similarity_index_measure", "signal_noise_ratio",
                "scale_invariant_signal_distortion_ratio"}
    assert expected <= set(reg.added)
    for name in expected:  # the functional form is the function of the same name
        obj, meta = reg.added[name]
        assert issubclass(obj, em.Metric)
        assert meta["functional"] is getattr(em.functional, name)
        assert meta["task"] in ember.plugins.tasks.TASKS
    hib = {n: m["higher_is_better"] for n, (_, m) in reg.added.items()}
    assert hib["accuracy"] is True and hib["auroc"] is True and hib["mean_squared_error"] is False
    assert hib["char_error_rate"] is False and hib["calibration_error"] is False and hib["roc"] is None
    assert _plugin.ember_env_info() == {"ember-metrics": em.__version__}


@pytest.fixture
def only_metrics_plugin(monkeypatch):
    """Discover the installed entry points afresh with every other plugin disabled (so this test does not
    depend on the health of other plugins); the next user rediscovers normally."""
    monkeypatch.setenv("EMBER_DISABLE_PLUGINS", "[!m]*")
    ember.plugins.reset()
    yield
    monkeypatch.undo()
    ember.plugins.reset()


def test_discovered_through_the_entry_point_by_the_hub(only_metrics_plugin):
    hub = pytest.importorskip("ember.hub")
    ember.plugins.load(strict=True)
    info = {p.name: p for p in ember.plugins.list_plugins()}
    assert info["metrics"].status == "loaded", info["metrics"]
    acc = hub.get_metric("accuracy", task="multiclass", num_classes=10)
    assert type(acc) is em.MulticlassAccuracy and acc.num_classes == 10
    assert type(hub.get_metric("metrics:mean_squared_error", squared=False)) is em.MeanSquaredError
    fn = hub.get_metric_function("accuracy")
    assert float(fn(ember.tensor([1, 0]), ember.tensor([1, 1]), task="binary")) == 0.5
    assert "metrics:accuracy" in hub.list_metrics(higher_is_better=True)
    assert "metrics:mean_squared_error" not in hub.list_metrics(higher_is_better=True)


def _run(code, env_update=None):
    env = {k: v for k, v in os.environ.items() if k != "EMBER_DISABLE_PLUGINS"}
    env.update(env_update or {})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_cli_lists_the_metrics():
    out = subprocess.run([sys.executable, "-m", "ember", "metrics"], capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != "EMBER_DISABLE_PLUGINS"})
    assert out.returncode == 0, out.stderr
    for name in ("metrics:accuracy", "metrics:structural_similarity_index_measure", "metrics:bleu_score"):
        assert name in out.stdout


def test_import_is_light_and_independent_of_other_plugins():
    code = ("import sys, json, ember\n"
            "before = 'ember_metrics' in sys.modules\n"
            "import ember_metrics, ember_metrics.functional\n"
            "mods = sorted(m.split('.')[0] for m in sys.modules)\n"
            "print(json.dumps({'before': before, 'mods': mods}))\n")
    res = json.loads(_run(code).strip().splitlines()[-1])
    assert res["before"] is False  # ember never imports ember_metrics
    heavy = {"scipy", "sklearn", "PIL", "soundfile", "torch", "ember_vision", "ember_text", "ember_audio", "cupy"}
    assert not heavy & set(res["mods"])


def test_works_with_only_the_metrics_plugin_enabled():
    code = ("import ember, ember.hub as hub\n"
            "m = hub.get_metric('accuracy', task='multiclass', num_classes=3)\n"
            "m.update(ember.tensor([0, 1, 2]), ember.tensor([0, 1, 1]))\n"
            "print([p.name for p in ember.plugins.list_plugins() if p.status == 'loaded'], float(m.compute()))\n")
    out = _run(code, {"EMBER_DISABLE_PLUGINS": "[!m]*", "EMBER_STRICT_PLUGINS": "1"})
    loaded, value = out.strip().rsplit(" ", 1)
    assert "'metrics'" in loaded
    assert np.isclose(float(value), 2 / 3)
