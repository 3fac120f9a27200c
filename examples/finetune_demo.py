"""The fine-tuning workflow across plugins: one command for every installed domain.

1. list the installed plugins;
2. fine-tune EfficientNet-Lite0 (real ImageNet weights) on scikit-learn's real 8x8 digits with
   ``ember finetune`` (body frozen, a new 10-class head), printing the accuracy before and after;
3. reload the result as weights (``ember.hub.get_model(MODEL, weights=OUT)``) and predict with
   ``ember predict OUT IMAGE``;
4. the same command on a text model: the pretrained all-MiniLM-L6-v2 encoder with a new head
   (``text:all_minilm_l6_v2_classifier``) on a CSV of real labelled texts (which standard-library package a
   docstring comes from, built by examples/finetune_text.py), against the same run from scratch, then
   ``ember predict OUT "some text"`` (skipped, with the command that fetches them, without the MiniLM files);
5. the same command on an audio model: the keyword spotter ember-audio trained on spoken digits, given ten new
   words with six clips each from voices it never heard (examples/finetune_audio.py builds the folders from
   the espeak-ng speech set), against the same run from scratch, then ``ember predict OUT CLIP`` (skipped, with
   the command that makes the set, without it).

Run it with ``python examples/finetune_demo.py [--out DIR]`` (``make demo`` does); under a minute on 2 cores (38 s measured).
"""
from __future__ import annotations

import argparse
import csv
import json
import shlex
import tempfile
import time
from pathlib import Path

import ember
import ember.cli

# Small on purpose: convolutions run on NumPy. The images are upscaled to 32x32 (--image-size).
VISION = ["vision:efficientnet_lite0", "vision:digits", "--freeze", "all-but-head", "--image-size", "32",
          "--lr", "0.01", "--epochs", "3", "--max-train-samples", "480", "--max-val-samples", "200"]
# The text step: MiniLM's encoder frozen, a new head; the same options with --weights none are the baseline.
TEXT_MODEL = "text:all_minilm_l6_v2_classifier"
TEXT = ["--freeze", "all-but-head", "--lr", "0.02", "--batch-size", "16", "--epochs", "2",
        "--data-option", "header=true", "--data-option", "labels=str"]


def banner(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 70 - len(text)), flush=True)


def run(argv: list[str]) -> int:
    print("$ ember " + shlex.join(argv), flush=True)
    return ember.cli.main(argv)


def vision(out: Path) -> None:
    banner("fine-tune a pretrained vision model")
    start = time.perf_counter()
    if run(["finetune", *VISION, "--out", str(out)]) != 0:
        raise SystemExit("the vision fine-tuning failed")
    summary = json.loads((out / "summary.json").read_text())
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


def write_docstring_csvs(folder: Path) -> tuple[Path, Path]:
    """``train.csv`` (16 docstrings per package) and ``val.tsv`` (10 per package) of ``label,text`` rows."""
    from finetune_text import PACKAGES, docstring_dataset    # examples/finetune_text.py, next to this file
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, delimiter, rows in zip(("train.csv", "val.tsv"), (",", "\t"), docstring_dataset(n_train=16, n_test=10)):
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter=delimiter)
            writer.writerow(["label", "text"])
            writer.writerows((PACKAGES[y], t) for t, y in rows)
        paths.append(folder / name)
    return paths[0], paths[1]


def text(root: Path) -> None:
    from ember.plugins.weights import file_status
    banner("fine-tune a pretrained text model")
    weights = ember.hub.get_model_weights(TEXT_MODEL).DEFAULT
    if file_status(weights) == "missing":
        print("all-MiniLM-L6-v2's files are not here; get them with `ember weights fetch text:all_minilm_l6_v2` and "
              "run the demo again")
        return
    train, val = write_docstring_csvs(root / "data")
    results = {}
    for label, extra in (("pretrained", []), ("from scratch", ["--weights", "none"])):
        out = root / label.replace(" ", "_")
        start = time.perf_counter()
        if run(["finetune", TEXT_MODEL, f"textcsv:{train}", "--val-data", f"textcsv:{val}", *TEXT, *extra,
                "--out", str(out), "--quiet"]) != 0:
            raise SystemExit("the text fine-tuning failed")
        results[label] = json.loads((out / "summary.json").read_text())["best"]["val_accuracy"]
        print(f"{label}: validation accuracy {results[label]:.1%} ({time.perf_counter() - start:.0f} s)")
    print(f"the pretrained encoder beats the same model from scratch by "
          f"{results['pretrained'] - results['from scratch']:+.1%}")
    run(["predict", str(root / "pretrained"), "Parse the MIME headers of an email message and return its payload.",
         "Create a button widget in the parent window.", "--topk", "2"])


def audio(root: Path) -> None:
    banner("fine-tune a pretrained audio model")
    try:
        import finetune_audio    # examples/finetune_audio.py, next to this file
        from ember_audio.datasets.espeak import GENERATE_COMMAND, EspeakCommands
        from ember_audio.datasets.utils import DatasetNotFoundError
    except ImportError:
        print("ember-audio is not installed: pip install ./plugins/audio")
        return
    try:
        EspeakCommands(subset="testing")
    except DatasetNotFoundError:
        print(f"the espeak-ng speech set is not here; make it with `{GENERATE_COMMAND}` and run the demo again")
        return
    train, val = finetune_audio.keyword_folders(root / "data")
    results = {}
    for label, extra in (("pretrained", []), ("from scratch", ["--weights", "none"])):
        out = root / label.replace(" ", "_")
        start = time.perf_counter()
        if run(["finetune", finetune_audio.MODEL, f"audiofolder:{train}", "--val-data", f"audiofolder:{val}",
                *finetune_audio.OPTIONS, *extra, "--out", str(out), "--quiet"]) != 0:
            raise SystemExit("the audio fine-tuning failed")
        results[label] = json.loads((out / "summary.json").read_text())["best"]["val_accuracy"]
        print(f"{label}: validation accuracy {results[label]:.1%} ({time.perf_counter() - start:.0f} s)")
    print(f"the digit model beats the same model from scratch on ten new words by "
          f"{results['pretrained'] - results['from scratch']:+.1%}")
    run(["predict", str(root / "pretrained"), str(sorted((val / "stop").iterdir())[0]), "--topk", "2"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="where the runs go (default: a new temporary directory)")
    args = parser.parse_args(argv)
    root = Path(args.out or tempfile.mkdtemp(prefix="ember-finetune-demo-"))
    banner("installed plugins")
    run(["plugins"])
    vision(root / "vision")
    text(root / "text")
    audio(root / "audio")
    banner("done")
    print(f"outputs (checkpoints, config.json, metrics.jsonl/.csv, curves.png, confusion matrix, weights.json) in "
          f"{root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
