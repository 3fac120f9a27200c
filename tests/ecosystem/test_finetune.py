"""`ember finetune` / `ember.finetune` on the example third-party plugin (ember-toy), and its machinery.

The toy model (a two-layer MLP pretrained on toy:blobs) trains in milliseconds per step, so the
workflow's promises are checked here: pretrained beats from-scratch, seeded runs repeat bit for bit,
a resumed run ends where the uninterrupted one does, frozen parameters don't move, the output directory
loads back as weights, and the command line documents every option.
"""
from __future__ import annotations

import dataclasses
import io
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.cli
from ember import nn
from ember.finetune import DataError, FinetuneConfig, ModelError, Trainer
from ember.finetune.progress import progress_bar
from ember.plugins import RegistrationTable, hookimpl

FAST = dict(epochs=2, batch_size=64, lr=0.05, plots=False)


@pytest.fixture(autouse=True)
def _toy(toy_plugin):
    """Every test here fine-tunes the example plugin's model (the shared ``toy_plugin`` fixture)."""


def run(tmp_path, name="run", callbacks=(), **options) -> tuple[dict, Path]:
    out = tmp_path / name
    cfg = FinetuneConfig(model=options.pop("model", "toy:mlp"), data=options.pop("data", "toy:blobs"),
                         out=str(out), **{**FAST, **options})
    return Trainer(cfg, quiet=True, callbacks=callbacks).fit(), out


def state(path: Path) -> dict:
    s = ember.load(path)
    return {k: v.numpy().copy() for k, v in (s["model"] if "model" in s else s).items()}


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


# ---- the promises ------------------------------------------------------------------------------------------

def test_pretrained_beats_from_scratch(tmp_path):
    small = dict(epochs=1, batch_size=16, max_train_samples=48)      # 3 steps: what the body knows shows
    tuned, _ = run(tmp_path, "tuned", **small)
    scratch, _ = run(tmp_path, "scratch", weights="none", **small)
    assert tuned["best"]["val_accuracy"] > scratch["best"]["val_accuracy"] + 0.1
    assert tuned["best"]["val_accuracy"] > 0.85
    assert tuned["initial"]["val_accuracy"] < 0.7          # the new head starts untrained


def test_seeded_runs_repeat_bit_for_bit_and_seeds_differ(tmp_path):
    a, out_a = run(tmp_path, "a", seed=3)
    b, out_b = run(tmp_path, "b", seed=3)
    c, out_c = run(tmp_path, "c", seed=4)
    assert_same_state(state(out_a / "last.ember"), state(out_b / "last.ember"))
    assert a["best"]["train_loss"] == b["best"]["train_loss"]
    assert not np.array_equal(state(out_a / "last.ember")["head.weight"], state(out_c / "last.ember")["head.weight"])


class Kill:
    """Interrupts training after ``step`` optimizer steps, as a kill would."""

    def __init__(self, step):
        self.step = step

    def on_step(self, trainer, step):
        if step == self.step:
            raise KeyboardInterrupt


def test_resume_after_interrupt_gives_the_uninterrupted_weights(tmp_path):
    options = dict(epochs=3, batch_size=128, freeze=1, unfreeze_at=2, patience=5, scheduler="onecycle",
                   weight_decay=0.01, head_lr=0.1)
    full, out_full = run(tmp_path, "full", **options)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "killed", callbacks=[Kill(7)], **options)      # 5 steps per epoch: killed in epoch 2
    killed = tmp_path / "killed"
    assert ember.load(killed / "last.ember")["epoch"] == 1
    resumed, _ = run(tmp_path, "killed", resume=True, **options)
    assert_same_state(state(out_full / "last.ember"), state(killed / "last.ember"))
    assert_same_state(state(out_full / "best.ember"), state(killed / "best.ember"))
    strip = lambda rows: [{k: v for k, v in r.items() if k != "samples_per_s"} for r in rows]  # noqa: E731
    read = lambda d: [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()]  # noqa: E731
    assert strip(read(out_full)) == strip(read(killed))
    assert len(read(killed)) == 3


def test_resume_refuses_other_options(tmp_path):
    run(tmp_path, "r", epochs=1)
    with pytest.raises(ValueError, match="lr differ"):
        run(tmp_path, "r", epochs=2, resume=True, lr=0.5)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        run(tmp_path, "nothing", resume=True)


def test_frozen_parameters_are_bit_identical(tmp_path):
    pretrained = {k: v.numpy().copy() for k, v in
                  ember.hub.get_model_weights("toy:mlp").DEFAULT.get_state_dict().items()}
    _, out = run(tmp_path, freeze="all-but-head")
    tuned = state(out / "last.ember")
    for k in ("body.0.weight", "body.0.bias"):
        assert np.array_equal(tuned[k], pretrained[k]), k
    assert tuned["head.weight"].shape == (16, 3)[::-1] and not np.allclose(tuned["head.weight"], 0)


def test_unfreeze_at_trains_the_body_from_that_epoch(tmp_path):
    seen = []

    class Watch:
        def on_epoch_end(self, trainer, record):
            seen.append((record["epoch"], record["frozen_params"], trainer.model.body[0].weight.detach().numpy().copy()))
    pretrained = ember.hub.get_model_weights("toy:mlp").DEFAULT.get_state_dict()["body.0.weight"].numpy()
    run(tmp_path, freeze="all-but-head", unfreeze_at=2, callbacks=[Watch()])
    (e1, frozen1, w1), (e2, frozen2, w2) = seen
    assert (frozen1, frozen2) == (2, 0)
    assert np.array_equal(w1, pretrained) and not np.array_equal(w2, pretrained)


def test_param_groups_freeze_n_and_options(tmp_path):
    cfg = FinetuneConfig(model="toy:mlp", data="toy:blobs", lr=1e-3, head_lr=1e-2, weight_decay=0.1,
                         optimizer="sgd", out=str(tmp_path))
    trainer = Trainer(cfg, quiet=True)
    groups = {g["name"]: g for g in trainer.optimizer.param_groups}
    assert (groups["head"]["lr"], groups["body"]["lr"]) == (1e-2, 1e-3)
    assert groups["body_no_decay"]["weight_decay"] == 0.0 and groups["body"]["weight_decay"] == 0.1
    assert isinstance(trainer.optimizer, ember.optim.SGD)
    with pytest.raises(ModelError, match="1 layer groups"):
        run(tmp_path, "n", freeze=2)


def test_accumulation_clipping_smoothing_and_early_stopping(tmp_path):
    steps = []

    class Count:
        def on_step(self, trainer, step):
            steps.append(step)
    summary, _ = run(tmp_path, "acc", accumulate=2, clip_grad_norm=0.5, label_smoothing=0.1, epochs=1,
                     callbacks=[Count()])
    assert len(steps) == 5            # 540 training samples: 9 batches of 64, 5 optimizer steps
    stopped, _ = run(tmp_path, "stop", lr=0.0, epochs=5, patience=1)
    assert stopped["stopped_early"] and stopped["epochs_run"] == 2


def test_registered_metric_and_loss_metric(tmp_path):
    summary, _ = run(tmp_path, "loss", metric="loss", epochs=1)
    assert summary["metric"] == "loss" and "val_loss" in summary["best"]
    summary, _ = run(tmp_path, "toyacc", metric="toy:accuracy", epochs=1)   # a plugin's metric, by canonical name
    assert 0.0 <= summary["best"]["val_toy:accuracy"] <= 1.0
    with pytest.raises(ValueError, match="not a registered metric"):
        run(tmp_path, "bad", metric="no_such_metric")


def test_output_directory_loads_back_as_weights_and_predicts(tmp_path, capsys):
    summary, out = run(tmp_path, val_split=0.25, plots=True)
    pytest.importorskip("matplotlib")
    for name in ("curves.png", "confusion_matrix.png", "best.ember", "last.ember", "weights.json", "config.json", "metrics.jsonl", "metrics.csv",
                 "confusion_matrix.json", "confusion_matrix.csv", "summary.json"):
        assert (out / name).is_file(), name
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + FAST["epochs"]
    cm = json.loads((out / "confusion_matrix.json").read_text())
    assert np.array(cm["matrix"]).sum() == 150                      # a quarter of 600 held out
    assert json.loads((out / "config.json").read_text())["val_split"] == 0.25
    model = ember.hub.get_model("toy:mlp", weights=str(out)).eval()
    assert_same_state({k: v.numpy() for k, v in model.state_dict().items()}, state(out / "best.ember"))
    with pytest.raises(ember.plugins.weights.WeightsError, match="not of"):
        ember.hub.get_model("vision:lenet5", weights=str(out))
    assert ember.cli.main(["predict", str(out), "2.5,0.1", "0.0,2.8", "--json", "--topk", "2"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["label"] for r in results] == ["1", "2"] and len(results[0]["top"]) == 2


# ---- the command line ------------------------------------------------------------------------------------------

def test_cli_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        ember.cli.main(["finetune", "--help"])
    text = capsys.readouterr().out
    for f in dataclasses.fields(FinetuneConfig):
        flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
        assert (f.metadata["metavar"] if not flag.startswith("-") else flag) in text, f.name
    for flag in ("--quiet", "--json", "all-but-head", "onecycle"):
        assert flag in text


def test_cli_finetune_json_summary_and_errors(tmp_path, capsys):
    out = tmp_path / "cli"
    assert ember.cli.main(["finetune", "toy:mlp", "toy:blobs", "--epochs", "1", "--lr", "0.05", "--out", str(out),
                           "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs_run"] == 1 and summary["best"]["val_accuracy"] > 0.8
    assert ember.cli.main(["finetune", "toy:mlp", "toy:nope", "--out", str(out)]) == 2
    assert "unknown dataset 'toy:nope'" in capsys.readouterr().err
    assert ember.cli.main(["finetune", "toy:mlp", "toy:blobs", "--data-option", "size=0", "--out", str(out)]) == 2
    assert "holds no samples" in capsys.readouterr().err


# ---- errors that say what to do ----------------------------------------------------------------------------------

class _Headless(nn.Module):
    def __init__(self, num_classes: int = 3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, num_classes))

    def forward(self, x):
        return self.net(x)


class _BadLabels(ember.utils.data.Dataset):
    classes = ["a", "b"]

    def __init__(self, train: bool = True):
        self.targets = ember.tensor([0, 1, 2, 1])

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return ember.zeros(2), int(self.targets[i])


@pytest.fixture
def broken_plugin():
    models, datasets = RegistrationTable("models"), RegistrationTable("datasets")
    models.add("headless", lambda num_classes=3: _Headless(num_classes), task="tabular-classification")
    datasets.add("bad_labels", _BadLabels, modality="tabular")
    module = types.SimpleNamespace(
        ember_register_models=hookimpl(lambda registry: registry.add_all(models)),
        ember_register_datasets=hookimpl(lambda registry: registry.add_all(datasets)))
    ember.plugins.register(module, name="broken")
    yield
    ember.plugins.unregister("broken")


def test_errors_name_the_problem_and_the_fix(tmp_path, broken_plugin):
    with pytest.raises(DataError, match=r"labels range over 0\.\.2 but the data names 2 classes"):
        run(tmp_path, data="broken:bad_labels")
    with pytest.raises(ModelError, match="no classification head to swap"):
        run(tmp_path, model="broken:headless", weights="none")
    with pytest.raises(ModelError, match="no pretrained weights; train it from scratch with --weights none"):
        run(tmp_path, model="broken:headless")
    with pytest.raises(ValueError, match="augmentation presets work on images"):
        run(tmp_path, augment="light")
    with pytest.raises(DataError, match="takes no option 'colour'"):
        run(tmp_path, data_options={"colour": 1})


def four_batches_shown() -> str:
    """What an interactive progress bar writes for four batches of 32 samples at loss 0.5."""
    stream = io.StringIO()
    bar = progress_bar(4, "epoch 1/2", stream=stream, interactive=True)
    for _ in range(4):
        bar.update(1, samples=32, loss=0.5)
    bar.close()
    return stream.getvalue()


def test_progress_uses_tqdm_when_installed():
    pytest.importorskip("tqdm")
    text = four_batches_shown()
    assert "epoch 1/2" in text and "4/4" in text and "batch/s" in text and "loss=0.5" in text


def test_progress_fallback_shows_throughput_and_eta(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)       # as if tqdm were not installed
    text = four_batches_shown()
    assert "epoch 1/2 4/4" in text and "samples/s" in text and "ETA 0:00:00" in text and "loss 0.5" in text
    quiet = io.StringIO()
    bar = progress_bar(4, "x", stream=quiet, interactive=True, quiet=True)
    bar.update(1)
    bar.close()
    assert quiet.getvalue() == ""
