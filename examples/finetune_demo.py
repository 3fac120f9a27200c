"""The fine-tuning workflow across plugins: one command for every installed domain.

1. list the installed plugins;
2. fine-tune EfficientNet-Lite0 (real ImageNet weights) on scikit-learn's real 8x8 digits with
   ``ember finetune`` (body frozen, a new 10-class head), printing the accuracy before and after;
3. reload the result as weights (``ember.hub.get_model(MODEL, weights=OUT)``) and predict with
   ``ember predict OUT IMAGE``;
4. the same command on a text and an audio model, when plugins providing them are installed.

Run it with ``python examples/finetune_demo.py [--out DIR]`` (``make demo`` does); a few minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import ember
import ember.cli

# Small on purpose: convolutions run on NumPy. The images are upscaled to 32x32 (--image-size).
VISION = ["vision:efficientnet_lite0", "vision:digits", "--freeze", "all-but-head", "--image-size", "32",
          "--lr", "0.01", "--epochs", "3", "--max-train-samples", "480", "--max-val-samples", "200"]
# What the workflow picks up in other domains: (task of the model, data spec scheme of the user's files).
OTHER_DOMAINS = [("text-classification", "textcsv"), ("audio-classification", "audiofolder")]


def banner(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 70 - len(text)), flush=True)


def run(argv: list[str]) -> int:
    print("$ ember " + " ".join(argv), flush=True)
    return ember.cli.main(argv)


def vision(out: Path) -> None:
    banner("fine-tune a pretrained vision model")
    start = time.perf_counter()
    if run(["finetune", *VISION, "--out", str(out)]) != 0:
        raise SystemExit("the vision fine-tuning failed")
    summary = __import__("json").loads((out / "summary.json").read_text())
    print(f"accuracy before fine-tuning {summary['initial']['val_accuracy']:.1%} (new head), after "
          f"{summary['best']['val_accuracy']:.1%} ({time.perf_counter() - start:.0f} s)")
    banner("reload the result and predict")
    model = ember.hub.get_model("vision:efficientnet_lite0", weights=str(out))
    print(f"ember.hub.get_model('vision:efficientnet_lite0', weights={str(out)!r}) -> head "
          f"{model.get_classifier()}")
    from ember_vision.datasets import Digits
    image, label = Digits(train=False)[0]
    path = out / "digit.png"
    image.save(path)
    print(f"(a test image of a {label}, saved to {path})")
    run(["predict", str(out), str(path), "--topk", "3"])


def other_domains(root: Path) -> None:
    from ember.finetune.data import data_schemes
    schemes = data_schemes()
    for task, scheme in OTHER_DOMAINS:
        models = [m for m in ember.hub.list_models(task=task) if ember.hub.get_model_weights(m) is not None]
        if not models or scheme not in schemes:
            banner(f"{task}: not available")
            print(f"no installed plugin provides a pretrained {task} model and `{scheme}:PATH` data yet; once one "
                  f"does: ember finetune MODEL {scheme}:PATH --out {root / scheme}")
            continue
        banner(f"fine-tune {models[0]}")
        print(f"ember finetune {models[0]} {scheme}:PATH --out {root / scheme}   (give it your own {scheme} data)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="where the runs go (default: a new temporary directory)")
    args = parser.parse_args(argv)
    root = Path(args.out or tempfile.mkdtemp(prefix="ember-finetune-demo-"))
    banner("installed plugins")
    run(["plugins"])
    vision(root / "vision")
    other_domains(root)
    banner("done")
    print(f"outputs (checkpoints, config.json, metrics.jsonl/.csv, curves.png, confusion matrix, weights.json) in "
          f"{root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
