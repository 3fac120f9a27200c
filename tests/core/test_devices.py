"""Device plumbing, exercised on a NumPy-backed stand-in accelerator (no GPU needed)."""
import importlib.util

import numpy as np
import pytest

import ember
from ember.testing import assert_close


def test_device_parsing_and_identity():
    assert ember.device("cpu") is ember.device("cpu")
    d = ember.device("cuda:1")
    assert d.type == "cuda" and d.index == 1 and str(d) == "cuda:1"
    assert repr(d) == "device(type='cuda', index=1)"
    assert ember.device("cuda", 1) is d and d == "cuda:1"
    assert ember.device("cuda").index is None and repr(ember.device("cpu")) == "device(type='cpu')"
    assert ember.device(d) is d
    assert hash(d) == hash(ember.device("cuda:1"))
    with pytest.raises(RuntimeError, match="unknown device type 'tpu'"):
        ember.device("tpu")
    with pytest.raises(RuntimeError, match="invalid device string"):
        ember.device("cuda:x")


def test_transfer_round_trip_and_metadata(accel):
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.to("accel:1")
    assert y.device == ember.device("accel:1") and y.device.index == 1
    assert y.get_device() == 1 and x.get_device() == -1
    assert y.dtype is ember.float32 and y.shape == (2, 2)
    assert not np.shares_memory(y._data, x._data)  # a real transfer copies
    assert "device='accel:1'" in repr(y)
    back = y.cpu()
    assert back.device == "cpu" and back.tolist() == x.tolist()
    assert y.to("accel:1") is y
    z = y.to("accel:0")
    assert z.device == "accel:0" and z.tolist() == x.tolist()


def test_creation_on_device(accel):
    for t in (ember.zeros(2, device="accel:1"), ember.ones(2, device="accel:1"),
              ember.tensor([1, 2], device="accel:1"), ember.full((2,), 3.0, device="accel:1"),
              ember.arange(3, device="accel:1"), ember.eye(2, device="accel:1")):
        assert t.device == "accel:1"
    assert ember.zeros(1, device="accel").device == "accel:0"  # no index -> current device
    with pytest.raises(RuntimeError, match="only 2 accel device"):
        ember.zeros(1, device="accel:5")


def test_ops_stay_on_device(accel):
    x = ember.tensor([1.0, 2.0], device="accel:1")
    for y in (x + 1, x * x, x.exp(), -x, x.sum(), x > 1, x.reshape(2, 1)):
        assert y.device == "accel:1"


def test_mixing_devices_raises_naming_both(accel):
    a = ember.ones(2, device="accel:0")
    b = ember.ones(2, device="accel:1")
    c = ember.ones(2)
    for other in (b, c):
        with pytest.raises(RuntimeError, match="same device.*accel:0.*(accel:1|cpu)|same device.*(accel:1|cpu).*accel:0"):
            a + other
    with pytest.raises(RuntimeError, match="accel:0.*cpu|cpu.*accel:0"):
        ember.where(ember.ones(2, dtype=ember.bool), a, c)


def test_cpu_scalar_tensor_combines_with_device_tensor(accel):
    a = ember.ones(2, device="accel:1")
    s = ember.tensor(2.0)
    assert (a * s).device == "accel:1" and (a * s).tolist() == [2.0, 2.0]


def test_gradients_flow_back_across_to(accel):
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    y = x.to("accel:1")
    assert y.grad_fn is not None
    z = (y * y).sum()
    z.backward()
    assert x.grad.device == "cpu"
    assert_close(x.grad, [2.0, 4.0])
    w = ember.tensor([1.0, 2.0], device="accel:0", dtype=ember.float64, requires_grad=True)
    (w.to("cpu") * 3).sum().backward()
    assert w.grad.device == "accel:0" and w.grad.tolist() == [3.0, 3.0]
    assert ember.autograd.gradcheck(lambda t: (t.to("accel:1").sin() * 2).to("cpu"), (x,))


def test_numpy_of_device_tensor_needs_cpu(accel):
    x = ember.ones(2, device="accel:1")
    with pytest.raises(TypeError, match="Use Tensor.cpu\\(\\) to copy"):
        x.numpy()
    assert x.cpu().numpy().tolist() == [1.0, 1.0]
    assert x.tolist() == [1.0, 1.0] and x.sum().item() == 2.0


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_cuda_unavailable_without_cupy_says_what_to_install():
    assert ember.cuda.is_available() is False
    assert ember.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="CuPy is not installed.*pip install"):
        ember.ones(1).to("cuda")
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        ember.ones(1).cuda()
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        ember.zeros(1, device="cuda")
    ember.cuda.manual_seed_all(0)  # a no-op, as in PyTorch


def test_stand_in_cuda_backend(fake_cuda):
    assert ember.cuda.is_available() and ember.cuda.device_count() == 2
    x = ember.ones(2).cuda()
    assert x.is_cuda and x.device == "cuda:0"
    assert ember.ones(2).cuda(1).device == "cuda:1"
    ember.cuda.synchronize()
    assert fake_cuda.synchronized == 1
    assert x.type() == "ember.cuda.FloatTensor"


@pytest.mark.cuda
def test_real_cuda_round_trip_and_gradient():
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    y = x.cuda()
    z = (y.exp() * y).sum()
    z.backward()
    assert x.grad.device == "cpu"
    xn = x.detach().numpy()
    assert_close(x.grad, np.exp(xn) * (1 + xn))
    assert (y @ y.mT).device == "cuda:0"
