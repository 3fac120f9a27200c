"""Fine-tune a pretrained sentence encoder for text classification, as PyTorch users do with
transformers / sentence-transformers.

Task: which standard-library package a docstring comes from -- ``asyncio``, ``email``, ``tkinter`` or
``unittest`` -- using the first paragraph of every docstring (modules, classes, functions) in those
packages' sources of the running Python (read with ``ast``; nothing is imported or downloaded). A seeded
draw gives 24 training and 40 test docstrings per package.

The model is all-MiniLM-L6-v2 (``ember_text.models.all_minilm_l6_v2``, 22.7M parameters) with a linear
head on its sentence embedding:

1. pretrained weights and the model's own tokenizer;
2. the encoder frozen (``requires_grad_(False)``) while the new head warms up;
3. then everything trained, with parameter groups: the encoder at a small learning rate, the head at
   a larger one;
4. the same architecture trained from scratch (random initialisation, same steps, same optimizer) as
   the baseline the pretrained weights must beat;
5. the fine-tuned model saved, reloaded into a fresh model, and used to predict.

Run it with ``python examples/finetune_text.py`` (about 100 s of CPU time; measured: fine-tuned 0.913 test
accuracy, from scratch 0.269, chance 0.25). It needs the MiniLM files: ``ember weights fetch
text:all_minilm_l6_v2``. Swap ``import ember as torch`` for the real one and the training code is the PyTorch
version.
"""
from __future__ import annotations

import argparse
import ast
import os
import random
import sysconfig
import tempfile
import time
from pathlib import Path

import ember
from ember import nn
from ember_text.models import all_minilm_l6_v2

PACKAGES = ("asyncio", "email", "tkinter", "unittest")


# ---- the data ---------------------------------------------------------------------------------------------

def package_docstrings(package: str) -> list[str]:
    """First paragraphs (30-300 characters, whitespace collapsed, deduplicated) of the docstrings in a
    standard-library package's sources, its own tests left out, in a fixed order."""
    root = Path(sysconfig.get_paths()["stdlib"]) / package
    found = []
    for path in sorted(root.rglob("*.py")):
        if "test" in path.relative_to(root).parts[:-1]:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    first = " ".join(doc.strip().split("\n\n")[0].split())
                    if 30 <= len(first) <= 300:
                        found.append(first)
    return list(dict.fromkeys(found))


def docstring_dataset(n_train: int = 24, n_test: int = 40, seed: int = 0):
    """``(train, test)``: lists of ``(text, label)``, label = index in :data:`PACKAGES`."""
    rng = random.Random(seed)
    train, test = [], []
    for label, package in enumerate(PACKAGES):
        docs = package_docstrings(package)
        if len(docs) < n_train + n_test:
            raise RuntimeError(f"only {len(docs)} docstrings in {package}; need {n_train + n_test}")
        picked = rng.sample(docs, n_train + n_test)
        train += [(t, label) for t in picked[:n_train]]
        test += [(t, label) for t in picked[n_train:]]
    rng.shuffle(train)
    return train, test


# ---- the model --------------------------------------------------------------------------------------------

class SentenceClassifier(nn.Module):
    """A sentence encoder and a linear head on its (normalised) sentence embedding."""

    def __init__(self, encoder: nn.Module, num_classes: int):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.get_sentence_embedding_dimension(), num_classes)

    def forward(self, features: dict) -> ember.Tensor:
        # The embedding has unit norm; scaling it lets the head's logits reach useful sizes quickly.
        return self.head(self.encoder(features)["sentence_embedding"] * 10.0)


def build(pretrained: bool, seed: int = 0, max_seq_length: int = 64) -> SentenceClassifier:
    """MiniLM (pretrained, or the same architecture randomly initialised) with a new head; texts are cut to
    ``max_seq_length`` tokens (the docstrings' median is about 15)."""
    ember.manual_seed(seed)
    encoder = all_minilm_l6_v2(weights="DEFAULT" if pretrained else None, max_seq_length=max_seq_length)
    return SentenceClassifier(encoder, len(PACKAGES))


def batches(data, batch_size: int, seed: int):
    """Shuffled ``(texts, labels)`` batches, reshuffled every pass, forever."""
    rng = random.Random(seed)
    order = list(range(len(data)))
    while True:
        rng.shuffle(order)
        for i in range(0, len(order) - batch_size + 1, batch_size):
            picked = [data[j] for j in order[i:i + batch_size]]
            yield [t for t, _ in picked], ember.tensor([y for _, y in picked])


def train(model: SentenceClassifier, data, steps: int, optimizer, batch_size: int = 16, seed: int = 0,
          label: str = "") -> None:
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    tokenize = model.encoder.tokenize
    for step, (texts, labels) in zip(range(steps), batches(data, batch_size, seed)):
        loss = loss_fn(model(tokenize(texts)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 5 == 0 or step == steps - 1:
            print(f"  {label} step {step + 1}/{steps}: loss {loss.item():.4f}", flush=True)


def predict(model: SentenceClassifier, texts: list[str], batch_size: int = 32) -> ember.Tensor:
    model.eval()
    out = []
    with ember.no_grad():
        for i in range(0, len(texts), batch_size):
            out.append(model(model.encoder.tokenize(texts[i:i + batch_size])).argmax(1))
    return ember.cat(out)


def accuracy(model: SentenceClassifier, data) -> float:
    labels = ember.tensor([y for _, y in data])
    return (predict(model, [t for t, _ in data]) == labels).float().mean().item()


def param_groups(model: SentenceClassifier, encoder_lr: float, head_lr: float) -> list[dict]:
    return [{"params": model.encoder.parameters(), "lr": encoder_lr},
            {"params": model.head.parameters(), "lr": head_lr}]


def finetune(model: SentenceClassifier, data, warmup_steps: int, steps: int, batch_size: int = 16,
             seed: int = 0) -> None:
    """Head only with the encoder frozen, then everything with parameter groups."""
    model.encoder.requires_grad_(False)
    head_only = ember.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    train(model, data, warmup_steps, head_only, batch_size, seed=seed, label="frozen encoder,")
    model.encoder.requires_grad_(True)
    optimizer = ember.optim.AdamW(param_groups(model, encoder_lr=1e-4, head_lr=1e-3))
    train(model, data, steps, optimizer, batch_size, seed=seed + 1, label="all layers,")


def compare(train_set, test_set, warmup_steps: int, steps: int, batch_size: int = 16, max_seq_length: int = 64):
    """``(fine-tuned model, its test accuracy, from-scratch test accuracy)``: the pretrained encoder and the same
    architecture from random initialisation, each trained by :func:`finetune` with the same budget."""
    accuracies = []
    for pretrained in (True, False):
        model = build(pretrained, max_seq_length=max_seq_length)
        finetune(model, train_set, warmup_steps, steps, batch_size)
        accuracies.append(accuracy(model, test_set))
        if pretrained:
            tuned_model = model
    return tuned_model, accuracies[0], accuracies[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup-steps", type=int, default=8, help="head-only steps with the encoder frozen")
    parser.add_argument("--steps", type=int, default=12, help="steps of training every layer")
    parser.add_argument("--out", default=None, help="where to save the fine-tuned weights (default: a temp dir)")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    train_set, test_set = docstring_dataset()
    print(f"docstrings of {', '.join(PACKAGES)}: {len(train_set)} train, {len(test_set)} test")

    # 1-4. The pretrained encoder (frozen while the head warms up, then fine-tuned with parameter groups),
    # and the same architecture from random initialisation with the same steps and optimizers.
    model, tuned, baseline = compare(train_set, test_set, args.warmup_steps, args.steps)
    print(f"fine-tuned MiniLM test accuracy: {tuned:.3f}")
    print(f"from-scratch test accuracy: {baseline:.3f}")
    print(f"margin: {tuned - baseline:+.3f}")

    # 5. Save the fine-tuned weights, reload them into a fresh model, predict.
    out_dir = args.out or tempfile.mkdtemp(prefix="finetune_text_")
    path = os.path.join(out_dir, "minilm_docstrings.ember")
    ember.save(model.state_dict(), path)
    reloaded = build(pretrained=False, seed=1)
    reloaded.load_state_dict(ember.load(path))
    texts = [t for t, _ in test_set[:16]]
    same = bool((predict(reloaded, texts) == predict(model, texts)).all())
    print(f"saved to {path}; reloaded model predicts the same: {same}")
    sample = "Return a new event loop and run the coroutine until it completes."
    print(f"{sample!r} -> {PACKAGES[int(predict(reloaded, [sample])[0])]}")
    print(f"done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
