"""Every collective on 2 ranks against NumPy: several dtypes and shapes, non-contiguous views, async
handles, subgroups, point to point, object collectives, errors, and the launcher's environment."""
import datetime
import os

import numpy as np
from _common import Checks

import ember
import ember.distributed as dist
from ember.distributed import ReduceOp

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=20))
RANK, WORLD = dist.get_rank(), dist.get_world_size()
c = Checks("collectives")

DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"]
SHAPES = [(), (5,), (3, 4), (0,), (2, 0, 3)]


def value(rank: int, shape, dtype: str, seed: int) -> np.ndarray:
    """Rank ``rank``'s input: small integers so sums and products are exact in every dtype."""
    x = np.random.default_rng(1000 * seed + rank).integers(1, 4, size=shape)
    return (x % 2 == 0) if dtype == "bool" else x.astype(dtype)


def all_values(shape, dtype, seed):
    return np.stack([value(r, shape, dtype, seed) for r in range(WORLD)])


def views(a: np.ndarray):
    """``a`` as a contiguous tensor and as non-contiguous views (transposed, strided, expanded base)."""
    yield "contiguous", ember.tensor(a)
    if a.ndim >= 2:
        yield "permuted", ember.tensor(np.ascontiguousarray(a.T)).permute(*reversed(range(a.ndim)))
    if a.ndim >= 1:
        big = np.zeros((a.shape[0] * 2,) + a.shape[1:], a.dtype)
        big[::2] = a
        yield "strided", ember.tensor(big)[::2]


REDUCE = {ReduceOp.SUM: lambda s: s.sum(0), ReduceOp.PRODUCT: lambda s: s.prod(0), ReduceOp.MIN: lambda s: s.min(0),
          ReduceOp.MAX: lambda s: s.max(0)}
BOOL_REDUCE = {ReduceOp.SUM: lambda s: s.any(0), ReduceOp.PRODUCT: lambda s: s.all(0),
               ReduceOp.MIN: lambda s: s.all(0), ReduceOp.MAX: lambda s: s.any(0)}
BITWISE = {ReduceOp.BAND: np.bitwise_and.reduce, ReduceOp.BOR: np.bitwise_or.reduce,
           ReduceOp.BXOR: np.bitwise_xor.reduce}


def expected_reduce(stacked: np.ndarray, op):
    if stacked.dtype == bool:
        return BOOL_REDUCE[op](stacked)
    if op in BITWISE:
        return BITWISE[op](stacked, axis=0).astype(stacked.dtype)
    if op == ReduceOp.AVG:
        return (stacked.sum(0) / WORLD).astype(stacked.dtype)
    return REDUCE[op](stacked).astype(stacked.dtype)


def ops_for(dtype: str):
    ops = list(REDUCE)
    if dtype.startswith("float"):
        ops.append(ReduceOp.AVG)
    if dtype.startswith(("int", "uint")):
        ops += list(BITWISE)
    return ops


seed = 0
for dtype in DTYPES:
    for shape in SHAPES:
        seed += 1
        stacked = all_values(shape, dtype, seed)
        mine = stacked[RANK]
        for op in ops_for(dtype):
            for kind, t in views(mine):
                dist.all_reduce(t, op=op)
                c.equal(t, expected_reduce(stacked, op), f"all_reduce {op.name} {dtype} {shape} {kind}")
        for kind, t in views(mine):
            work = dist.all_reduce(t, async_op=True)
            c.true(work.wait() and work.is_completed(), "async all_reduce completes")
            c.equal(t, expected_reduce(stacked, ReduceOp.SUM), f"async all_reduce {dtype} {shape} {kind}")
        for src in range(WORLD):
            for kind, t in views(mine):
                dist.broadcast(t, src=src)
                c.equal(t, stacked[src], f"broadcast from {src} {dtype} {shape} {kind}")
        for kind, t in views(mine):
            dist.reduce(t, dst=1, op=ReduceOp.MAX)
            c.equal(t, expected_reduce(stacked, ReduceOp.MAX) if RANK == 1 else mine, f"reduce {dtype} {shape} {kind}")
        out = [ember.zeros(shape, dtype=getattr(ember, dtype)) for _ in range(WORLD)]
        for kind, t in views(mine):
            dist.all_gather(out, t)
            for r in range(WORLD):
                c.equal(out[r], stacked[r], f"all_gather {dtype} {shape} {kind} part {r}")
        if shape:
            into = ember.zeros((WORLD * shape[0],) + shape[1:], dtype=getattr(ember, dtype))
            for kind, t in views(mine):
                dist.all_gather_into_tensor(into, t)
                c.equal(into, np.concatenate(list(stacked)), f"all_gather_into_tensor {dtype} {shape} {kind}")
            stacked_out = ember.zeros((2 * WORLD,) + shape, dtype=getattr(ember, dtype))[::2]
            dist.all_gather_into_tensor(stacked_out, ember.tensor(mine))   # non-contiguous output: staged
            c.equal(stacked_out, stacked, f"all_gather_into_tensor into a strided view {dtype} {shape}")
        gathered = [ember.zeros(shape, dtype=getattr(ember, dtype)) for _ in range(WORLD)]
        for dst in range(WORLD):
            dist.gather(ember.tensor(mine), gathered if RANK == dst else None, dst=dst)
            if RANK == dst:
                for r in range(WORLD):
                    c.equal(gathered[r], stacked[r], f"gather to {dst} {dtype} {shape} part {r}")
        for kind, t in views(mine):
            parts = [ember.tensor(value(r + 7, shape, dtype, seed)) for r in range(WORLD)]
            dist.scatter(t, parts if RANK == 1 else None, src=1)
            c.equal(t, value(RANK + 7, shape, dtype, seed), f"scatter {dtype} {shape} {kind}")
        if dtype != "bool":
            # reduce_scatter: rank r's input list is the WORLD parts of rank r; rank i gets the sum of parts i.
            parts_of = lambda r: [value(10 * r + i, shape, dtype, seed) for i in range(WORLD)]  # noqa: E731
            total = sum(np.stack(parts_of(r)).astype("float64") for r in range(WORLD)).astype(dtype)
            for kind, t in views(np.zeros(shape, dtype)):
                dist.reduce_scatter(t, [ember.tensor(p) for p in parts_of(RANK)])
                c.equal(t, total[RANK], f"reduce_scatter {dtype} {shape} {kind}")
            out = ember.zeros(shape, dtype=getattr(ember, dtype))
            dist.reduce_scatter_tensor(out, ember.tensor(np.stack(parts_of(RANK))), op=ReduceOp.SUM)
            c.equal(out, total[RANK], f"reduce_scatter_tensor {dtype} {shape}")

# all_to_all with uneven sizes: rank r sends r + j + 1 elements to rank j.
for dtype in ("float32", "int64"):
    send = [ember.full((RANK + j + 1,), 10 * RANK + j, dtype=getattr(ember, dtype)) for j in range(WORLD)]
    recv = [ember.zeros((r + RANK + 1,), dtype=getattr(ember, dtype)) for r in range(WORLD)]
    dist.all_to_all(recv, send)
    for r in range(WORLD):
        c.equal(recv[r], np.full(r + RANK + 1, 10 * r + RANK, dtype), f"all_to_all {dtype} from {r}")
    x = ember.arange(WORLD * 3, dtype=getattr(ember, dtype)).reshape(WORLD * 3, 1) + 100 * RANK
    y = ember.zeros(WORLD * 3, 1, dtype=getattr(ember, dtype))
    dist.all_to_all_single(y, x)
    want = np.concatenate([np.arange(3 * RANK, 3 * RANK + 3) + 100 * r for r in range(WORLD)]).reshape(-1, 1)
    c.equal(y, want.astype(dtype), f"all_to_all_single {dtype}")
    sizes_in = [1, 2] if RANK == 0 else [3, 1]   # rank 0 sends 1 row to 0 and 2 to 1; rank 1: 3 to 0, 1 to 1
    sizes_out = [1, 3] if RANK == 0 else [2, 1]
    x = ember.full((sum(sizes_in),), RANK + 1, dtype=getattr(ember, dtype))
    y = ember.zeros(sum(sizes_out), dtype=getattr(ember, dtype))
    dist.all_to_all_single(y, x, sizes_out, sizes_in)
    c.equal(y, np.repeat(np.arange(1, WORLD + 1), sizes_out).astype(dtype), f"all_to_all_single uneven {dtype}")

# point to point
peer = 1 - RANK
t = ember.arange(6.0).reshape(2, 3) + RANK
if RANK == 0:
    dist.send(t, dst=1, tag=3)
    got = ember.zeros(3, 2).t()
    sender = dist.recv(got, tag=4)          # any source; a non-contiguous buffer
    c.equal(got, np.arange(6.0, dtype="float32").reshape(2, 3) + 1, "recv into a view")
    c.true(sender == 1, "recv returns the sender")
else:
    got = ember.zeros(2, 3)
    c.true(dist.recv(got, src=0, tag=3) == 0, "recv from 0")
    c.equal(got, np.arange(6.0, dtype="float32").reshape(2, 3), "send/recv")
    dist.send(t, dst=0, tag=4)
a, b = ember.full((4,), float(RANK)), ember.zeros(4)
works = dist.batch_isend_irecv([dist.P2POp(dist.isend, a, peer), dist.P2POp(dist.irecv, b, peer)])
for w in works:
    w.wait()
c.equal(b, np.full(4, float(peer), "float32"), "batch_isend_irecv")

# barrier, object collectives
c.true(dist.barrier() is None and dist.barrier(async_op=True).wait(), "barrier")
dist.monitored_barrier(timeout=datetime.timedelta(seconds=10))
objs = [None] * WORLD
dist.all_gather_object(objs, {"rank": RANK, "t": ember.tensor([RANK])})
c.true([o["rank"] for o in objs] == list(range(WORLD)), "all_gather_object")
c.equal(objs[1]["t"], np.array([1]), "all_gather_object tensor")
lst = [RANK, "x" * (RANK + 1), None]
dist.broadcast_object_list(lst, src=1)
c.true(lst == [1, "xx", None], "broadcast_object_list")
gl = [None] * WORLD if RANK == 0 else None
dist.gather_object(("r", RANK), gl, dst=0)
c.true(RANK != 0 or gl == [("r", 0), ("r", 1)], "gather_object")
out = [None]
dist.scatter_object_list(out, [f"to{r}" for r in range(WORLD)] if RANK == 0 else None, src=0)
c.true(out == [f"to{RANK}"], "scatter_object_list")

# subgroups: a group of rank 0 alone, and the whole world as a group
solo = dist.new_group([0])
if RANK == 0:
    t = ember.tensor([5.0])
    dist.all_reduce(t, group=solo)
    c.true(t.item() == 5.0 and dist.get_world_size(solo) == 1 and dist.get_rank(solo) == 0, "one-rank group")
else:
    c.true(solo is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(solo) == -1, "non-member")
    c.true(dist.all_reduce(ember.ones(1), group=solo) is None, "collective on a non-member group does nothing")
rev = dist.new_group([1, 0])
t = ember.tensor([float(RANK)])
dist.broadcast(t, src=1, group=rev)
c.true(t.item() == 1.0 and dist.get_process_group_ranks(rev) == [0, 1], "world subgroup, global src")
dist.broadcast(t * 0 + RANK, group_src=0, group=rev)
c.true(dist.get_global_rank(rev, 1) == 1 and dist.get_group_rank(rev, 0) == 0, "group rank translation")

# errors, with PyTorch's exception types
c.raises(TypeError, lambda: dist.all_reduce([1.0]), "all_reduce of a list", "of type ember.Tensor")
c.raises(ValueError, lambda: dist.all_gather([ember.zeros(2)], ember.zeros(2)), "all_gather list length",
         "one tensor per rank")
c.raises(ValueError, lambda: dist.all_gather([ember.zeros(3)] * WORLD, ember.zeros(2)), "all_gather shapes",
         "shape")
c.raises(RuntimeError, lambda: dist.all_reduce(ember.ones(2, dtype=ember.int64), op=ReduceOp.AVG), "AVG of ints",
         "floating-point")
c.raises(ValueError, lambda: dist.all_reduce(ember.ones(2), op="sum"), "invalid op", "invalid reduce op")
c.raises(ValueError, lambda: dist.broadcast(ember.ones(2)), "broadcast needs src", "src or group_src")
c.raises(ValueError, lambda: dist.broadcast(ember.ones(2), src=5), "src outside the group", "not part of group")
c.raises(ValueError, lambda: dist.init_process_group("mpi"), "init twice", "twice")
c.raises(ValueError, lambda: dist.gather(ember.ones(1), [ember.ones(1)] * WORLD, dst=1 - RANK), "gather_list off dst",
         "must NOT be specified")
c.raises(RuntimeError, lambda: dist.init_process_group("nccl"), "nccl", "not available")
c.raises(TypeError, lambda: dist.new_group([0, 1], timeout=5), "timeout type", "timedelta")

# the launcher's environment (torchrun's variables)
env = os.environ
c.true((env["RANK"], env["LOCAL_RANK"], env["WORLD_SIZE"], env["LOCAL_WORLD_SIZE"]) == (str(RANK), str(RANK), "2", "2"),
       "RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE")
c.true(env["MASTER_ADDR"] == "127.0.0.1" and env["MASTER_PORT"] == "29500" and env["OMP_NUM_THREADS"] == "1",
       "MASTER_ADDR, MASTER_PORT, OMP_NUM_THREADS")
c.true(dist.get_backend() == "gloo" and dist.is_available() and dist.get_node_local_rank() == RANK, "backend name")

c.report(RANK)
dist.destroy_process_group()
assert not dist.is_initialized()
