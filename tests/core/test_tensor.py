"""Tensor metadata, conversions, repr and creation functions."""
import copy
import pickle

import numpy as np
import pytest

import ember
from ember.testing import assert_close


def test_metadata():
    t = ember.zeros(2, 3)
    assert t.shape == (2, 3) and isinstance(t.shape, ember.Size)
    assert repr(t.shape) == "ember.Size([2, 3])"
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.dtype is ember.float32
    assert t.device == ember.device("cpu") and t.device == "cpu"
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 6 and len(t) == 2
    assert t.element_size() == 4 and t.stride() == (3, 1)
    assert t.is_leaf and not t.requires_grad and t.grad is None and t.grad_fn is None
    assert t.is_contiguous() and not t.t().is_contiguous()
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.size(2)


def test_item_tolist_bool_and_python_conversions():
    assert ember.tensor(2.5).item() == 2.5
    assert isinstance(ember.tensor(3).item(), int)
    assert ember.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert float(ember.tensor([1.5])) == 1.5 and int(ember.tensor(7)) == 7
    assert bool(ember.tensor([1.0])) and not bool(ember.tensor(0))
    assert [10, 20, 30][ember.tensor(1)] == 20  # __index__
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        ember.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ember.tensor(1.0))


def test_iteration_yields_rows():
    t = ember.tensor([[1, 2], [3, 4]])
    rows = list(t)
    assert len(rows) == 2 and rows[1].tolist() == [3, 4]


def test_numpy_shares_memory_on_cpu_and_refuses_grad():
    t = ember.zeros(3)
    a = t.numpy()
    a[0] = 5
    assert t[0].item() == 5
    r = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Use tensor.detach\\(\\).numpy\\(\\)"):
        r.numpy()
    assert r.detach().numpy().tolist() == [1.0, 1.0]
    assert np.asarray(ember.tensor([1, 2])).tolist() == [1, 2]


def test_from_numpy_shares_and_as_tensor():
    a = np.arange(4.0)
    t = ember.from_numpy(a)
    a[1] = 10
    assert t.tolist() == [0.0, 10.0, 2.0, 3.0] and t.dtype is ember.float64
    assert ember.as_tensor(a).numpy() is a  # no copy when dtype/device match
    assert ember.as_tensor(a, dtype=ember.float32).dtype is ember.float32
    with pytest.raises(TypeError, match="expected np.ndarray"):
        ember.from_numpy([1, 2])
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.complex256"):
        ember.from_numpy(np.zeros(2, dtype=np.clongdouble))


@pytest.mark.parametrize("data, dtype", [
    ([1.0, 2.0], ember.float32), ([1, 2], ember.int64), ([True, False], ember.bool), (3.5, ember.float32),
    (7, ember.int64), ([1, 2.5], ember.float32), (np.array([1, 2], dtype=np.int32), ember.int32),
    (np.float64(1.0), ember.float64), (np.zeros(2, dtype=np.float16), ember.float16),
    (np.zeros(2, dtype=np.uint8), ember.uint8),
])
def test_tensor_dtype_inference(data, dtype):
    assert ember.tensor(data).dtype is dtype


def test_tensor_copies_and_default_dtype():
    a = np.ones(2)
    t = ember.tensor(a)
    a[0] = 3
    assert t.tolist() == [1.0, 1.0]
    ember.set_default_dtype(ember.float64)
    assert ember.tensor([1.5]).dtype is ember.float64 and ember.zeros(1).dtype is ember.float64
    assert ember.get_default_dtype() is ember.float64
    ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError, match="only floating-point types"):
        ember.set_default_dtype(ember.int64)
    with pytest.raises(ValueError, match="could not build a tensor"):
        ember.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="could not infer a dtype"):
        ember.tensor([object()])


def test_tensor_of_tensors_and_requires_grad():
    t = ember.tensor([ember.tensor(1.0), ember.tensor(2.0)])
    assert t.tolist() == [1.0, 2.0]
    g = ember.tensor([1.0], requires_grad=True)
    assert g.requires_grad and g.is_leaf
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype can require gradients"):
        ember.tensor([1], requires_grad=True)


def test_creation_functions():
    assert ember.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert ember.ones((2,)).tolist() == [1.0, 1.0]
    assert ember.ones([1, 2], dtype=ember.int32).dtype is ember.int32
    assert ember.empty(4).shape == (4,)
    assert ember.full((2,), 7).dtype is ember.int64 and ember.full((2,), 7.0).dtype is ember.float32
    assert ember.full((2,), True).dtype is ember.bool
    x = ember.ones(2, 3, dtype=ember.float64)
    for fn in (ember.zeros_like, ember.ones_like, ember.empty_like):
        y = fn(x)
        assert y.shape == x.shape and y.dtype is ember.float64
    assert ember.full_like(x, 3).tolist() == [[3.0] * 3] * 2
    assert ember.zeros_like(x, dtype=ember.int8).dtype is ember.int8
    assert ember.arange(5).tolist() == [0, 1, 2, 3, 4] and ember.arange(5).dtype is ember.int64
    assert ember.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert ember.arange(1, 2, 0.25).dtype is ember.float32
    assert ember.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert_close(ember.linspace(0, 1, 5), np.linspace(0, 1, 5).astype(np.float32))
    assert ember.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert ember.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.zeros(-1)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        ember.arange(0, 1, 0)


def test_new_methods_inherit_dtype_and_device():
    x = ember.ones(2, dtype=ember.float64)
    assert x.new_zeros(3).dtype is ember.float64
    assert x.new_ones((1, 2)).shape == (1, 2)
    assert x.new_full((2,), 5).tolist() == [5.0, 5.0]
    assert x.new_tensor([1, 2]).dtype is ember.float64
    assert x.new_empty(2, dtype=ember.int32).dtype is ember.int32


def test_type_conversions():
    x = ember.tensor([1.7, -2.2])
    assert x.double().dtype is ember.float64 and x.half().dtype is ember.float16
    assert x.long().tolist() == [1, -2] and x.int().dtype is ember.int32
    assert x.bool().tolist() == [True, True] and x.float() is x
    assert x.to(ember.float64).dtype is ember.float64 and x.to(ember.float32) is x
    assert x.type() == "ember.FloatTensor" and x.type(ember.int64).dtype is ember.int64
    assert x.to(ember.ones(1, dtype=ember.float64)).dtype is ember.float64
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to(dtype=ember.float16, copy=True).dtype is ember.float16
    c = x.to(ember.float32, copy=True)
    assert c is not x and c.tolist() == x.tolist()


def test_detach_clone_contiguous():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    d.add_(1)  # shares storage
    assert x.tolist() == [2.0, 3.0]
    c = x.clone()
    assert c.grad_fn is not None and c.requires_grad
    c.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    m = ember.zeros(3, 2).t()
    assert not m.is_contiguous() and m.contiguous().is_contiguous()
    y = ember.zeros(2)
    assert y.contiguous() is y


def test_requires_grad_rules():
    x = ember.zeros(2)
    x.requires_grad = True
    assert x.requires_grad_(False) is x and not x.requires_grad
    y = ember.zeros(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype"):
        ember.zeros(2, dtype=ember.int64).requires_grad_()


def test_data_property_is_detached_and_settable():
    x = ember.ones(2, requires_grad=True)
    d = x.data
    assert not d.requires_grad
    d.mul_(3)
    assert x.tolist() == [3.0, 3.0]
    x.data = ember.zeros(2)
    assert x.tolist() == [0.0, 0.0] and x.requires_grad


def test_repr_matches_pytorch_layout():
    assert repr(ember.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ember.tensor([[1, 2], [3, 4]], dtype=ember.int32)) == \
        "tensor([[1, 2],\n        [3, 4]], dtype=ember.int32)"
    assert repr(ember.tensor(True)) == "tensor(True)"
    assert repr(ember.tensor([0.1, 0.25])) == "tensor([0.1000, 0.2500])"
    assert repr(ember.tensor([1e-5, 1.0, 1000.0])) == "tensor([1.0000e-05, 1.0000e+00, 1.0000e+03])"
    assert repr(ember.tensor([1.5], dtype=ember.float64, requires_grad=True)) == \
        "tensor([1.5000], dtype=ember.float64, requires_grad=True)"
    assert repr(ember.zeros(2, 0)) == "tensor([], size=(2, 0))"
    assert repr(ember.tensor([float("nan"), 1.5, float("inf")])) == "tensor([   nan, 1.5000,    inf])"
    y = ember.ones(1, requires_grad=True) * 2
    assert repr(y) == "tensor([2.], grad_fn=<MulBackward>)"
    assert "..." in repr(ember.zeros(2000))
    assert str(ember.tensor(3)) == "tensor(3)"
    assert f"{ember.tensor(2.5):.2f}" == "2.50"


def test_pickle_and_deepcopy():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert y.tolist() == [1.0, 2.0] and y.requires_grad and y.dtype is ember.float32
    z = copy.deepcopy(x)
    assert z.tolist() == x.tolist() and z.numpy(force=True) is not x.numpy(force=True)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


def test_dtype_objects():
    assert repr(ember.float32) == "ember.float32"
    assert ember.float is ember.float32 and ember.double is ember.float64 and ember.long is ember.int64
    assert ember.float32.is_floating_point and not ember.int64.is_floating_point
    assert ember.uint8.is_signed is False and ember.int8.itemsize == 1
    assert pickle.loads(pickle.dumps(ember.float16)) is ember.float16
    assert ember.is_tensor(ember.ones(1)) and not ember.is_tensor(1.0)
    assert ember.is_floating_point(ember.ones(1)) and ember.numel(ember.ones(2, 3)) == 6


def test_public_tensor_constructor():
    assert ember.Tensor([1, 2]).dtype is ember.float32
    assert ember.Tensor(2, 3).shape == (2, 3)


def test_printing_a_huge_expanded_tensor_reads_only_its_edges():
    """A stride-0 view (e.g. a loaded torch.zeros(1).expand(...)) prints without materialising it."""
    import tracemalloc
    x = ember.zeros(1).expand(100000, 100000)
    tracemalloc.start()
    try:
        text = repr(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text.startswith("tensor([[0., 0., 0., ..., 0., 0., 0.],") and peak < 10_000_000


def test_empty_tensor_strides_are_contiguous_as_in_pytorch():
    # NumPy reports zero strides for empty arrays; PyTorch reports the contiguous ones (size-0 dims count as 1).
    assert ember.zeros(0, 3).stride() == (3, 1)
    assert ember.zeros(2, 0, 3).stride() == (3, 3, 1)
    assert ember.zeros(0).stride() == (1,) and ember.zeros(0, 3).stride(-1) == 1
