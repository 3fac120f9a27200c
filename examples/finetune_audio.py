"""Fine-tune the pretrained keyword spotter to new words from a handful of examples, against training from scratch.

``audio:kws_cnn`` (weights ``ESPEAK_DIGITS_V1``) learned the ten spoken digits from espeak-ng voices. Here it
learns ten *other* words ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go") from
``--per-word`` clips each, spoken by voices it never heard (the default espeak-ng set's voices; the
pretraining set left them out), with the same ``ember finetune`` command as every other domain; the same
command with ``--weights none`` is the baseline. Validation clips come from other voices again.

    python examples/finetune_audio.py [--per-word 6] [--out DIR]

Needs espeak-ng's set: ``python -m ember_audio.datasets generate espeak_commands`` (apt-get install espeak-ng).
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import ember
import ember.cli

MODEL = "audio:kws_cnn"
NEW_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
# One budget for both runs (the pretrained body trains at a tenth of the head's rate), as Python keywords and as
# the same options on the command line.
SETTINGS = {"epochs": 12, "batch_size": 16, "lr": 0.003, "head_lr": 0.03, "seed": 0}
OPTIONS = [a for k, v in SETTINGS.items() for a in ("--" + k.replace("_", "-"), str(v))] + ["--no-plots"]


def keyword_folders(root: Path, per_word: int = 6) -> tuple[Path, Path]:
    """``train/<word>/*.wav``: ``per_word`` clips per new word from the set's training voices (the first
    speakers by id); ``val/<word>/*.wav``: every clip of the validation and testing voices."""
    from ember_audio.datasets.espeak import EspeakCommands
    train, val = root / "train", root / "val"
    for subset, folder, limit in (("training", train, per_word), ("validation", val, None), ("testing", val, None)):
        ds = EspeakCommands(subset=subset)
        clips = [ds.get_metadata(i) for i in range(len(ds))]   # (path relative to ds.root, rate, label, ...)
        for word in NEW_WORDS:
            (folder / word).mkdir(parents=True, exist_ok=True)
            for path in sorted(c[0] for c in clips if c[2] == word)[:limit]:
                src = Path(ds.root) / path
                shutil.copy(src, folder / word / f"{subset}_{src.name}")
    return train, val


def finetune(train: Path, val: Path, out: Path, pretrained: bool) -> dict:
    argv = ["finetune", MODEL, f"audiofolder:{train}", "--val-data", f"audiofolder:{val}", *OPTIONS,
            *([] if pretrained else ["--weights", "none"]), "--out", str(out), "--quiet"]
    if ember.cli.main(argv) != 0:
        raise SystemExit("ember finetune failed")
    return json.loads((out / "summary.json").read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-word", type=int, default=6)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    root = Path(args.out or tempfile.mkdtemp(prefix="ember-finetune-audio-"))
    train, val = keyword_folders(root / "data", args.per_word)
    results = {}
    for label, pretrained in (("pretrained on digits", True), ("from scratch", False)):
        summary = finetune(train, val, root / label.split()[0], pretrained)
        results[label] = summary["best"]["val_accuracy"]
        print(f"{label}: best validation accuracy {results[label]:.1%}")
    print(f"fine-tuning the digit model beats training from scratch by "
          f"{results['pretrained on digits'] - results['from scratch']:+.1%} ({args.per_word} clips per word)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
