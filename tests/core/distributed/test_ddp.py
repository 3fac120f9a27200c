"""DistributedDataParallel, SyncBatchNorm, DistributedSampler and metric syncing on 2 MPI ranks
(scenarios/ddp.py): after N steps every rank's parameters equal one process trained on the combined
batch (float64 to 1e-10, float32 to 1e-6); the single-process parts run here without MPI."""
import numpy as np
import pytest

import ember
from ember import nn
from _launch import checks_passed, launch, requires_mpi


@pytest.mark.mpi
@requires_mpi
def test_ddp_equals_single_process_training_on_two_ranks():
    # MLP (1 bucket and several), CNN with SyncBatchNorm, no_sync accumulation, find_unused_parameters,
    # broadcast_buffers, state_dict keys, DistributedSampler partitions, ember-metrics syncing.
    result = launch("ddp.py", timeout=90)
    assert checks_passed(result, "ddp") > 100
    errors = [float(line.rsplit("= ", 1)[1]) for line in result.stdout.splitlines() if "max |DDP" in line]
    assert len(errors) == 6 and max(errors) < 1e-6, result.stdout


def test_post_accumulate_grad_hook_runs_after_accumulation():
    w = ember.ones(3, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.numpy().copy()))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert [s.tolist() for s in seen] == [[2.0] * 3, [5.0] * 3]
    handle.remove()
    (w * 1).sum().backward()
    assert len(seen) == 2
    ember.autograd.grad((w * 2).sum(), w)       # autograd.grad accumulates nothing: no hook call
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_post_accumulate_grad_hook(lambda p: None)


def test_sync_batchnorm_without_a_process_group_is_batchnorm():
    ember.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    net = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.Conv2d(2, 3, 1), bn))
    assert isinstance(net[1], nn.SyncBatchNorm) and net[1].weight is bn.weight
    x = ember.randn(4, 2, 5, 5)
    ref = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3))
    ref.load_state_dict(net.state_dict())
    np.testing.assert_allclose(net(x).detach().numpy(), ref(x).detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(net[1].running_var.numpy(), ref[1].running_var.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="at least 2D"):
        nn.SyncBatchNorm(3)(ember.ones(3))
