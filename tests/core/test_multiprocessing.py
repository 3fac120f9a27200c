"""``ember.multiprocessing`` and shared memory: ``Tensor.share_memory_``, ``Module.share_memory``, tensors
through a ``Queue`` by reference, ``spawn`` with its failure reports, and Hogwild training (several
processes updating one shared model) with the fork and spawn start methods."""
import numpy as np
import pytest

import ember
import ember.multiprocessing as mp
from ember import nn

W_TRUE = np.array([[2.0, -3.0, 0.5]])


def _data(seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 3))
    return ember.tensor(x), ember.tensor(x @ W_TRUE.T)


def _hogwild_worker(rank: int, model: nn.Module, steps: int) -> None:
    # Each process trains the one shared model on its own data.
    x, y = _data(rank)
    opt = ember.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()


def _add_rank(rank: int, shared: ember.Tensor, lock) -> None:
    with lock:
        shared += rank + 1


def _fail(rank: int) -> None:
    if rank == 1:
        raise ValueError("process 1 fails on purpose")


def _echo(q_in, q_out) -> None:
    t = q_in.get()
    t.mul_(10)                   # in place, on the shared memory the parent sees
    q_out.put(t[1:])             # a view of a shared tensor goes back by reference too


def _model():
    ember.manual_seed(0)
    return nn.Linear(3, 1, bias=False).double()


def test_share_memory_moves_data_and_keeps_values():
    t = ember.arange(12.0).reshape(3, 4)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared()
    np.testing.assert_array_equal(t.numpy(), np.arange(12.0).reshape(3, 4))
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).share_memory()
    assert all(p.is_shared() for p in net.parameters()) and net[1].running_mean.is_shared()
    assert t[:, 1].is_shared()                                     # views of shared data are shared


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_hogwild_training_updates_one_shared_model(start_method):
    model = _model().share_memory()
    before = model.weight.detach().numpy().copy()
    ctx = mp.get_context(start_method)
    procs = [ctx.Process(target=_hogwild_worker, args=(r, model, 60)) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    after = model.weight.detach().numpy()
    assert np.abs(after - before).max() > 0.5                      # the children's steps reached the parent
    np.testing.assert_allclose(after, W_TRUE, atol=1e-3)           # and together they trained the model


def test_spawn_passes_shared_tensors_and_reports_failures():
    shared = ember.zeros(3).share_memory_()
    mp.spawn(_add_rank, args=(shared, mp.get_context("spawn").Lock()), nprocs=2)
    np.testing.assert_array_equal(shared.numpy(), [3.0, 3.0, 3.0])   # 1 + 2 from the two processes
    with pytest.raises(mp.ProcessRaisedException, match="process 1 fails on purpose") as e:
        mp.spawn(_fail, nprocs=2)
    assert e.value.error_index == 1


def test_queue_passes_shared_tensors_by_reference():
    ctx = mp.get_context("fork")
    q_in, q_out = ctx.Queue(), ctx.Queue()
    t = ember.tensor([1.0, 2.0, 3.0]).share_memory_()
    p = ctx.Process(target=_echo, args=(q_in, q_out))
    p.start()
    q_in.put(t)
    back = q_out.get(timeout=30)
    p.join(30)
    np.testing.assert_array_equal(t.numpy(), [10.0, 20.0, 30.0])
    assert back.is_shared()
    back[0] = -1.0
    assert t[1].item() == -1.0


def test_sharing_strategy_and_namespace():
    assert mp.get_sharing_strategy() == "file_system" and mp.get_all_sharing_strategies() == {"file_system"}
    with pytest.raises(ValueError, match="file_descriptor"):
        mp.set_sharing_strategy("file_descriptor")
    assert mp.Process is not None and callable(mp.set_start_method) and mp.Queue is not None
    assert ember.multiprocessing is mp
