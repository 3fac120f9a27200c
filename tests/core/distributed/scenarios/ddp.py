"""DistributedDataParallel, SyncBatchNorm, DistributedSampler and ember-metrics syncing on 2 ranks, each
compared with single-process training (or computation) on the combined batch in the same process."""
import copy
import datetime

import numpy as np
from _common import Checks

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DistributedSampler

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=30))
RANK, WORLD = dist.get_rank(), dist.get_world_size()
c = Checks("ddp")
TOL = {ember.float64: 1e-10, ember.float32: 1e-6}


def mlp(dtype):
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 4)).to(dtype)


def cnn(dtype):
    ember.manual_seed(1)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 2 * 2, 3)).to(dtype)


def batches(shape, steps, dtype, seed):
    """``steps`` combined batches (the same on every rank) and this rank's share of each."""
    rng = np.random.default_rng(seed)
    full = [ember.tensor(rng.standard_normal(shape), dtype=dtype) for _ in range(steps)]
    n = shape[0] // WORLD
    return full, [x[RANK * n:(RANK + 1) * n] for x in full]


def train(model, xs, targets, steps, opt_cls=ember.optim.SGD, **opt):
    optim = opt_cls(model.parameters(), **opt)
    for x, y in zip(xs, targets):
        optim.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optim.step()
    return model


def max_diff(a: nn.Module, b: nn.Module, buffers: bool = False) -> float:
    pa = list(a.parameters()) + (list(a.buffers()) if buffers else [])
    pb = list(b.parameters()) + (list(b.buffers()) if buffers else [])
    return max(float(np.abs(x.detach().numpy().astype("float64") - y.detach().numpy()).max()) for x, y in zip(pa, pb))


def same_on_all_ranks(model: nn.Module, what: str) -> None:
    mine = [p.detach().numpy() for p in model.parameters()] + [b.numpy() for b in model.buffers()]
    everyone = [None] * WORLD
    dist.all_gather_object(everyone, mine)
    for theirs in everyone:
        for x, y in zip(theirs, mine):
            np.testing.assert_array_equal(x, y, err_msg=what)
    c.count += 1


# ---- MLP: DDP on 2 ranks == one process on the combined batch, several bucket layouts ------------------------
for dtype in (ember.float64, ember.float32):
    for cap in (None, 0.0002):   # default buckets (one), and ~200-byte buckets (several, reduced in order)
        steps = 4
        full_x, my_x = batches((16, 8), steps, dtype, 1)
        full_y, my_y = batches((16, 4), steps, dtype, 2)
        model = mlp(dtype)
        if RANK == 1:                               # DDP must replace rank 1's weights by rank 0's
            with ember.no_grad():
                for p in model.parameters():
                    p.add_(1.0)
        ddp = DDP(model, bucket_cap_mb=cap)
        if cap:
            c.true(len(ddp.reducer.buckets) > 2, "small cap gives several buckets")
        train(ddp, my_x, my_y, steps, lr=0.1, momentum=0.9)
        reference = train(mlp(dtype), full_x, full_y, steps, lr=0.1, momentum=0.9)
        err = max_diff(ddp.module, reference)
        c.true(err < TOL[dtype], f"MLP {dtype} cap={cap}: DDP vs one process differs by {err}")
        same_on_all_ranks(ddp.module, f"MLP {dtype} cap={cap} identical on all ranks")
        if RANK == 0:
            print(f"MLP {dtype} bucket_cap_mb={cap}: max |DDP - single process| = {err:.2e}", flush=True)

# ---- small CNN with BatchNorm -> SyncBatchNorm: parameters and running statistics -----------------------------
for dtype in (ember.float64, ember.float32):
    steps = 3
    full_x, my_x = batches((8, 1, 8, 8), steps, dtype, 3)
    full_y, my_y = batches((8, 3), steps, dtype, 4)
    ddp = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(cnn(dtype)), bucket_cap_mb=0.001)
    train(ddp, my_x, my_y, steps, lr=0.1, momentum=0.9)   # SGD: Adam would amplify round-off in the zero
    reference = train(cnn(dtype), full_x, full_y, steps, lr=0.1, momentum=0.9)   # gradient of a bias before BN
    err = max_diff(ddp.module, reference, buffers=True)
    c.true(err < 10 * TOL[dtype], f"CNN+SyncBatchNorm {dtype}: DDP vs one process differs by {err}")
    same_on_all_ranks(ddp.module, f"CNN {dtype} identical on all ranks")
    ddp.eval()
    with ember.no_grad():
        c.equal(ddp(full_x[0]), reference.eval()(full_x[0]).detach().numpy(), f"CNN {dtype} eval outputs", atol=10 * TOL[dtype])
    if RANK == 0:
        print(f"CNN+SyncBatchNorm {dtype}: max |DDP - single process| (params and BN buffers) = {err:.2e}", flush=True)

# ---- no_sync: two accumulated micro-batches == one step on the combined micro-batches ------------------------
full_x, my_x = batches((8, 8), 2, ember.float64, 5)
full_y, my_y = batches((8, 4), 2, ember.float64, 6)
ddp = DDP(mlp(ember.float64), bucket_cap_mb=0.0005)
opt = ember.optim.SGD(ddp.parameters(), lr=0.5)
with ddp.no_sync():
    nn.functional.mse_loss(ddp(my_x[0]), my_y[0]).backward()
grads_after_local = [p.grad.numpy().copy() for p in ddp.module.parameters()]
nn.functional.mse_loss(ddp(my_x[1]), my_y[1]).backward()
opt.step()
ref = mlp(ember.float64)
ref_opt = ember.optim.SGD(ref.parameters(), lr=0.5)
for x, y in zip(full_x, full_y):
    nn.functional.mse_loss(ref(x), y).backward()
ref_opt.step()
c.true(max_diff(ddp.module, ref) < 1e-10, "no_sync accumulation equals one step on the combined batch")
local_only = [None] * WORLD
dist.all_gather_object(local_only, grads_after_local[0])
c.true(not np.allclose(local_only[0], local_only[1]), "inside no_sync the gradients stay local")


# ---- find_unused_parameters: a branch used on rank 0 only, and a parameter no rank uses -----------------------
class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        ember.manual_seed(2)
        self.a, self.b, self.never = nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x, use_b):
        return self.a(x) + self.b(x) if use_b else self.a(x)


x_all = ember.tensor(np.random.default_rng(7).standard_normal((2, 3, 4)))
ddp = DDP(Branches().double(), find_unused_parameters=True)
ddp(x_all[RANK], RANK == 0).sum().backward()
ref = Branches().double()
losses = [ref(x_all[r], r == 0).sum() for r in range(WORLD)]
(sum(losses) / WORLD).backward()
for name in ("a", "b"):
    for p, q in zip(getattr(ddp.module, name).parameters(), getattr(ref, name).parameters()):
        c.equal(p.grad, q.grad.numpy(), f"find_unused_parameters: grad of {name}", atol=1e-12)
c.true(all(p.grad is None for p in ddp.module.never.parameters()), "a parameter no rank used keeps grad None")

# ---- broadcast_buffers: rank 0's BatchNorm statistics reach every rank at forward ---------------------------
plain = DDP(cnn(ember.float64))
plain(my_x[0].double() if False else batches((8, 1, 8, 8), 1, ember.float64, 8)[1][0]).sum().backward()
plain.eval()
with ember.no_grad():
    plain(ember.zeros(2, 1, 8, 8, dtype=ember.float64))   # the forward copies rank 0's buffers
stats = [None] * WORLD
dist.all_gather_object(stats, [b.numpy() for b in plain.module.buffers()])
c.true(all(np.array_equal(x, y) for x, y in zip(stats[0], stats[1])), "buffers equal rank 0's after forward")

# ---- module attribute and state_dict keys, as PyTorch -----------------------------------------------------
c.true(list(plain.state_dict())[0] == "module.0.weight" and "0.weight" in plain.module.state_dict(),
       "state_dict keys carry 'module.'")

# ---- DistributedSampler: an epoch is partitioned exactly ---------------------------------------------------
for n, drop_last in ((11, False), (11, True), (12, False), (1, False)):
    for shuffle in (True, False):
        sampler = DistributedSampler(range(n), shuffle=shuffle, seed=3, drop_last=drop_last)
        orders = []
        for epoch in range(2):
            sampler.set_epoch(epoch)
            parts = [None] * WORLD
            dist.all_gather_object(parts, list(sampler))
            total = sampler.total_size
            everything = sorted(i for part in parts for i in part)
            c.true(all(len(p) == len(sampler) == total // WORLD for p in parts), "equal shares")
            if drop_last:
                c.true(len(set(everything)) == len(everything) == n - n % WORLD, f"drop_last n={n}: disjoint")
            else:
                c.true(set(everything) == set(range(n)) and len(everything) == total, f"n={n}: covers the epoch")
            orders.append(parts[0])
        if shuffle and n > 2:
            c.true(orders[0] != orders[1], "set_epoch reshuffles")

# ---- ember-metrics: Metric states synchronise through ember.distributed ------------------------------------
from ember_metrics import CatMetric, MeanMetric, MulticlassAccuracy  # noqa: E402

rng = np.random.default_rng(9)
preds = ember.tensor(rng.integers(0, 3, size=(2, 10)))
target = ember.tensor(rng.integers(0, 3, size=(2, 10)))
values = ember.tensor(rng.standard_normal((2, 3 + 2)))
acc, mean, cat = MulticlassAccuracy(num_classes=3, average="micro"), MeanMetric(), CatMetric()
acc.update(preds[RANK], target[RANK])
mean.update(values[RANK, : 3 + 2 * RANK])   # uneven counts
cat.update(values[RANK, : 3 + 2 * RANK])
c.equal(acc.compute(), (preds == target).float().mean().numpy(), "accuracy synced over ranks", atol=1e-6)
both = np.concatenate([values[0, :3].numpy(), values[1].numpy()])
c.equal(mean.compute(), np.array(both.mean(), dtype="float32"), "mean synced over ranks", atol=1e-6)
c.equal(cat.compute(), both.astype("float32"), "cat synced over ranks", atol=1e-6)

# ---- a parameter that gets no gradient without find_unused_parameters: PyTorch's error at the next forward ---
ddp = DDP(Branches().double())
ddp(x_all[RANK], True).sum().backward()
c.raises(RuntimeError, lambda: ddp(x_all[RANK], True), "unfinished reduction",
         "Expected to have finished reduction in the prior iteration")

c.report(RANK)
