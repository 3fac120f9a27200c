"""Dynamic int8 quantization on real data: model size, CPU latency and accuracy, float vs int8, Ember vs
PyTorch on the same trained weights (BENCHMARKS.md, "Dynamic quantization").

Two models on scikit-learn's digits (1797 8x8 images, a fixed stratified 80/20 split): an MLP
64-256-256-10, and a Transformer classifier that reads each image as 8 tokens (its rows) through a
2-layer ``nn.TransformerEncoder`` (d_model 64, 4 heads, feed-forward 128), mean-pooled into a linear
head. Ember trains both (seeded); PyTorch loads the same weights. Each library then quantizes with
``quantize_dynamic({nn.Linear: per_channel_dynamic_qconfig})`` and reports: test accuracy, the byte
size of the saved state_dict (``ember.save`` / ``torch.save``) and the process CPU time of one
forward pass over the 360 test images, single-threaded (median of 15).

    .venv/bin/python benchmarks/quant_report.py train /tmp/quant.npz        # Ember trains, then measures
    .venv/bin/python benchmarks/quant_report.py ember /tmp/quant.npz        # Ember measures again
    .venv-bench/bin/python benchmarks/quant_report.py torch /tmp/quant.npz  # PyTorch, same weights
"""
from __future__ import annotations

import io
import os
import statistics
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402


def build(lib, kind: str):
    nn = lib.nn
    if kind == "mlp":
        return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))

    class RowTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(8, 64)
            self.pos = nn.Parameter(lib.zeros(8, 64))
            layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Linear(64, 10)

        def forward(self, x):
            h = self.encoder(self.embed(x.reshape(-1, 8, 8)) + self.pos)
            return self.head(h.mean(1))
    return RowTransformer()


def quantize(lib, model):
    q = lib.ao.quantization
    model = q.quantize_dynamic(model, {lib.nn.Linear: q.per_channel_dynamic_qconfig}, dtype=lib.qint8)
    # Training mode (dropouts are 0): PyTorch's eval-mode fused encoder path can't run quantized Linears.
    return model.train()


def measure(lib, model, x, y) -> dict:
    buf = io.BytesIO()
    lib.save(model.state_dict(), buf)
    with lib.no_grad():
        acc = float((model(x).argmax(1) == y).float().mean())
        model(x)
        times = []
        for _ in range(15):
            t0 = time.process_time()
            model(x)
            times.append(time.process_time() - t0)
    return {"acc": acc, "bytes": len(buf.getvalue()), "ms": 1000 * statistics.median(times)}


def train(path: str) -> None:
    import ember
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    xtr, xte, ytr, yte = train_test_split((digits.data / 16).astype(np.float32), digits.target, test_size=0.2,
                                          random_state=0, stratify=digits.target)
    data = {"xte": xte, "yte": yte}
    for kind, epochs in (("mlp", 30), ("transformer", 40)):
        ember.manual_seed(0)
        model = build(ember, kind)
        opt = ember.optim.Adam(model.parameters(), lr=2e-3)
        x, y = ember.from_numpy(xtr), ember.from_numpy(ytr.astype(np.int64))
        rng = np.random.default_rng(0)
        for _ in range(epochs):
            for idx in np.array_split(rng.permutation(len(xtr)), len(xtr) // 64):
                i = ember.from_numpy(idx)
                opt.zero_grad()
                ember.nn.functional.cross_entropy(model(x[i]), y[i]).backward()
                opt.step()
        data.update({f"{kind}.{k}": v.detach().numpy() for k, v in model.state_dict().items()})
    np.savez(path, **data)
    report(ember, path)


def report(lib, path: str) -> None:
    data = np.load(path)
    x, y = lib.from_numpy(data["xte"]), lib.from_numpy(data["yte"].astype(np.int64))
    for kind in ("mlp", "transformer"):
        model = build(lib, kind)
        model.load_state_dict({k.split(".", 1)[1]: lib.from_numpy(data[k]) for k in data.files
                               if k.startswith(kind + ".")})
        model.eval()
        for name, m in (("float32", model), ("int8", quantize(lib, model))):
            r = measure(lib, m, x, y)
            print(f"{lib.__name__}\t{kind}\t{name}\tacc {r['acc']:.4f}\tbytes {r['bytes']}\tms {r['ms']:.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "train":
        train(sys.argv[2])
    else:
        report(__import__(sys.argv[1]), sys.argv[2])
