"""Train ember-audio's keyword-spotting CNN (``audio:kws_cnn``) on spoken digits synthesised with espeak-ng.

    python plugins/audio/scripts/train_kws.py            # about 9 minutes on 2 CPU cores

What it does (everything offline; espeak-ng must be installed: apt-get install espeak-ng):

1. Makes (or reuses) the default espeak-ng set (``python -m ember_audio.datasets generate espeak_commands``),
   only to read its voices: the pretraining set below leaves them out, so fine-tuning on the default set
   (new words, the tests and examples) runs on voices the model never heard.
2. Synthesises a pretraining set of other voices (``--voices`` voices x 2 speeds/pitches, seed 1) and keeps
   the ten digits "zero".."nine"; its validation and testing voices are held out from training.
3. Trains ``kws_cnn(num_classes=10)`` with Adam and cosine decay: its MFCC front end (no parameters) runs once
   per clip, and the conv body trains on the features with SpecAugment-style augmentation (time shifts of up to
   100 ms, one time and one coefficient mask); evaluates on the testing voices and writes the whole model's
   state dict (``ember.save``, atomic) with its sha256, size and accuracy.

The weights record in ``ember_audio/models/classifiers.py`` (``KeywordSpottingCNN_Weights``) holds the printed
sha256, size and accuracy.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import tempfile
import time

import numpy as np

import ember
from ember.nn import functional as F
from ember_audio.datasets.espeak import EspeakCommands, generate_espeak_commands
from ember_audio.models import kws_cnn

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digit_clips(root: str, subset: str) -> tuple[np.ndarray, np.ndarray]:
    """All digit clips of one subset as ([N, 16000] float32, [N] int64 labels in DIGITS order)."""
    ds = EspeakCommands(root, subset=subset)
    xs, ys = [], []
    for i in range(len(ds)):
        label = ds.get_metadata(i)[2]
        if label in DIGITS:
            xs.append(ds[i][0].numpy()[0])
            ys.append(DIGITS.index(label))
    return np.stack(xs).astype(np.float32), np.array(ys, np.int64)


def features(model, x: np.ndarray, batch: int = 128) -> np.ndarray:
    """The model's MFCC front end on every clip, once (it has no parameters: training runs on its output)."""
    with ember.no_grad():
        return np.concatenate([model.frontend(ember.from_numpy(x[i:i + batch])).numpy()
                               for i in range(0, len(x), batch)])


def augment(f: np.ndarray, rng) -> np.ndarray:
    """SpecAugment-style, on the normalised features [N, 1, n_mfcc, frames]: a random circular shift of up to
    10 frames (100 ms; the clips have silence around the word), one time mask of up to 10 frames and one
    coefficient mask of up to 5 rows (set to 0, the normalised mean)."""
    out = np.empty_like(f)
    n_coef, n_frames = f.shape[2:]
    for i in range(len(f)):
        out[i] = np.roll(f[i], int(rng.integers(-10, 11)), axis=-1)
        t, w = int(rng.integers(0, n_frames)), int(rng.integers(0, 11))
        out[i, :, :, t:t + w] = 0
        c, h = int(rng.integers(0, n_coef)), int(rng.integers(0, 6))
        out[i, :, c:c + h] = 0
    return out


def accuracy(model, f: np.ndarray, y: np.ndarray, batch: int = 128) -> float:
    """Accuracy of the body on precomputed features (``model.frontend`` is None while training)."""
    model.eval()
    correct = 0
    with ember.no_grad():
        for i in range(0, len(f), batch):
            correct += int((model(ember.from_numpy(f[i:i + batch])).argmax(-1).numpy() == y[i:i + batch]).sum())
    return correct / len(f)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--voices", type=int, default=48)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--work", default=None, help="keep the synthesised pretraining set here (default: a temporary "
                                                "folder, deleted)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "ember_audio", "weights",
                                                 "kws_cnn_espeak_digits.ember"))
    args = p.parse_args()

    default_set = generate_espeak_commands()
    with open(os.path.join(default_set, "speakers.json")) as f:
        unheard = sorted({s["voice"] for s in json.load(f)["speakers"]})
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.dirname(generate_espeak_commands(args.work or tmp, num_voices=args.voices, per_voice=2,
                                                        seed=1, held_out=0.1, exclude_voices=unheard))
        x_train, y_train = digit_clips(root, "training")
        x_val, y_val = digit_clips(root, "validation")
        x_test, y_test = digit_clips(root, "testing")
    print(f"clips: train {len(x_train)}, validation {len(x_val)}, test {len(x_test)} "
          f"(the default set's {len(unheard)} voices left out)")

    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = kws_cnn(num_classes=len(DIGITS))
    f_train, f_val, f_test = (features(model, x) for x in (x_train, x_val, x_test))
    frontend, model.frontend = model.frontend, None   # train the body on the precomputed features
    opt = ember.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * math.ceil(len(x_train) / args.batch_size)
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(x_train))
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            loss = F.cross_entropy(model(ember.from_numpy(augment(f_train[idx], rng))), ember.from_numpy(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f}, validation accuracy "
              f"{accuracy(model, f_val, y_val):.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
    test_acc = accuracy(model, f_test, y_test)
    model.frontend = frontend
    model.eval()
    with ember.no_grad():   # the saved model (front end included) gives the same answers on waveforms
        waveform_acc = float((model(ember.from_numpy(x_test)).argmax(-1).numpy() == y_test).mean())
    assert abs(waveform_acc - test_acc) <= 0.02, (waveform_acc, test_acc)
    ember.save(model.state_dict(), args.out)
    with open(args.out, "rb") as f:
        data = f.read()
    print(json.dumps({"file": os.path.normpath(args.out), "sha256": hashlib.sha256(data).hexdigest(),
                      "size": len(data), "test_accuracy": round(test_acc, 4), "test_clips": len(x_test),
                      "train_clips": len(x_train), "num_params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
