"""The namespaces PyTorch scripts use at the top: accelerator, backends, BLAS threads, determinism, seeds,
compile, nn.parallel, onnx, distributed and utils.tensorboard.

Facts about PyTorch 2.13 (values on a machine without an accelerator, error types and messages, flag
defaults, parameter names, DataParallel's state_dict keys) come from ``data/namespaces_reference.json``,
made by ``data/make_namespaces_reference.py``.
"""
import inspect
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.accelerator
import ember.backends
import ember.backends.cudnn as cudnn
import ember.distributed as dist
import ember.onnx
from ember import _threads, nn
from ember.testing import assert_close

REF = json.loads((Path(__file__).parent / "data" / "namespaces_reference.json").read_text())
acc = ember.accelerator


def params(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


@pytest.fixture
def no_accelerator():
    if acc.is_available():
        pytest.skip("an accelerator is available here")


@pytest.fixture
def accel_device(accel):
    """The stand-in accelerator as Ember's accelerator (skipped where real CUDA takes that place)."""
    if ember.cuda.is_available():
        pytest.skip("real CUDA is the accelerator here")
    from ember import backend
    yield accel
    backend._current_index.pop("accel", None)


# ---- ember.accelerator ------------------------------------------------------------------------------------

def test_accelerator_without_one_behaves_as_pytorch(no_accelerator):
    ref = REF["accelerator"]
    assert acc.is_available() is ref["is_available"] is False
    assert acc.current_accelerator() is ref["current_accelerator"] is None
    assert acc.current_accelerator(check_available=True) is None
    assert acc.device_count() == ref["device_count"] == 0
    for name, (kind, message) in ref["errors"].items():
        with pytest.raises(RuntimeError) as info:
            getattr(acc, name)()
        assert type(info.value).__name__ == kind and str(info.value) == message
    with pytest.raises(RuntimeError, match=ref["set_device_index_error"][1]):
        acc.set_device_index(0)
    with acc.device_index(None):   # None is accepted without a device, as in PyTorch
        pass
    for name, expected in ref["params"].items():
        assert params(getattr(acc, name)) == expected, name


def test_accelerator_with_a_device(accel_device):
    assert acc.is_available() and acc.current_accelerator() == ember.device("accel")
    assert acc.current_accelerator(check_available=True) == ember.device("accel") and acc.device_count() == 2
    assert acc.current_device_index() == 0
    acc.set_device_index("accel:1")
    assert acc.current_device_index() == 1 and acc.current_device_idx() == 1
    with acc.device_index(0):
        assert acc.current_device_index() == 0
        assert ember.zeros(1, device="accel").device == ember.device("accel:0")
    assert acc.current_device_index() == 1                      # restored on exit
    before = accel_device.synchronized
    acc.synchronize()
    acc.synchronize(ember.device("accel:0"))
    assert accel_device.synchronized == before + 2
    with pytest.raises(RuntimeError, match="invalid device index 5: the accel accelerator has 2 device"):
        acc.set_device_index(5)
    with pytest.raises(ValueError, match="cpu is not a device of the current accelerator"):
        acc.synchronize("cpu")
    acc.empty_cache()   # the stand-in keeps no cache: nothing to do, no error


def test_accelerator_device_for_a_script(accel_device):
    """The line current scripts open with picks the accelerator's device, and tensors go there."""
    device = acc.current_accelerator() if acc.is_available() else ember.device("cpu")
    model = nn.Linear(3, 2).to(device)
    assert model(ember.randn(4, 3, device=device)).device.type == "accel"


# ---- ember.backends ---------------------------------------------------------------------------------------

def test_backend_flags_have_pytorch_defaults():
    ref = REF["backends"]
    for name, value in ref["cudnn"].items():
        assert getattr(cudnn, name) == value, name
    assert cudnn.is_available() is ref["cudnn_is_available"] and cudnn.version() is ref["cudnn_version"]
    for name, value in ref["cuda_matmul"].items():
        assert getattr(ember.backends.cuda.matmul, name) == value, name
    assert [ember.backends.mps.is_available(), ember.backends.mps.is_built()] == ref["mps"]
    assert not (ember.backends.mkl.is_available() or ember.backends.mkldnn.is_available()
                or ember.backends.openmp.is_available())
    assert ember.backends.cuda.is_built() == (__import__("importlib").util.find_spec("cupy") is not None)


def test_backend_flags_can_be_set_and_scoped(monkeypatch):
    monkeypatch.setattr(cudnn, "benchmark", False)
    monkeypatch.setattr(cudnn, "deterministic", False)
    ember.backends.cudnn.benchmark = True           # what scripts write at the top
    assert cudnn.benchmark is True
    with cudnn.flags(enabled=True, deterministic=True):
        assert cudnn.deterministic is True and cudnn.benchmark is False and cudnn.enabled is True
    assert cudnn.deterministic is False and cudnn.benchmark is True


# ---- BLAS threads ----------------------------------------------------------------------------------------

@pytest.fixture
def restore_threads():
    original = ember.get_num_threads()
    saved = list(_threads._controller)
    yield
    _threads._controller[:] = saved
    ember.set_num_threads(original)


def test_set_num_threads_errors_match_pytorch():
    for value, (kind, message) in REF["set_num_threads_errors"].items():
        with pytest.raises(RuntimeError) as info:
            ember.set_num_threads(eval(value))
        assert type(info.value).__name__ == kind and str(info.value) == message


def test_num_threads_through_threadpoolctl(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    _threads._controller[:] = []
    ember.set_num_threads(1)
    assert _threads._blas().method == "threadpoolctl" and ember.get_num_threads() == 1
    blas = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    assert blas and set(blas) == {1}      # every BLAS in the process follows
    ember.set_num_threads(2)
    assert ember.get_num_threads() == 2


def test_num_threads_through_openblas_ctypes(restore_threads):
    """Without threadpoolctl: OpenBLAS's own API on NumPy's bundled library; threadpoolctl (when present) sees
    the change, so both talk to the same thread pool."""
    blas = _threads._load_openblas()
    if blas is None:
        pytest.skip("this NumPy does not bundle OpenBLAS")
    _threads._controller[:] = [blas]
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    ember.set_num_threads(2)
    assert ember.get_num_threads() == 2
    try:
        import threadpoolctl
    except ImportError:
        return
    numpy_blas = [i for i in threadpoolctl.threadpool_info() if i["filepath"] == str(Path(blas.path).resolve())
                  or Path(i["filepath"]).name == Path(blas.path).name]
    assert numpy_blas and numpy_blas[0]["num_threads"] == 2


def test_num_threads_without_a_reachable_blas_warns(restore_threads):
    _threads._controller[:] = [None]
    with pytest.warns(RuntimeWarning, match="can't reach this NumPy's BLAS"):
        ember.set_num_threads(3)
    assert ember.get_num_threads() == 3


# ---- determinism, seeds, compile -------------------------------------------------------------------------

@pytest.fixture
def restore_determinism():
    yield
    ember.use_deterministic_algorithms(False)


def test_deterministic_switches_match_pytorch(restore_determinism):
    ref = REF["determinism"]
    for mode, warn_only, enabled, warn, debug in ref["use"]:
        ember.use_deterministic_algorithms(mode, warn_only=warn_only)
        assert (ember.are_deterministic_algorithms_enabled(), ember.is_deterministic_algorithms_warn_only_enabled(),
                ember.get_deterministic_debug_mode()) == (enabled, warn, debug)
    for mode, debug, enabled, warn in ref["debug_mode"]:
        ember.set_deterministic_debug_mode(mode)
        assert (ember.get_deterministic_debug_mode(), ember.are_deterministic_algorithms_enabled(),
                ember.is_deterministic_algorithms_warn_only_enabled()) == (debug, enabled, warn)
    with pytest.raises(RuntimeError, match=ref["bad_debug_mode"][1].replace("`", ".")):
        ember.set_deterministic_debug_mode("x")
    with pytest.raises(TypeError, match="must be bool"):
        ember.use_deterministic_algorithms(1)
    assert params(ember.use_deterministic_algorithms) == ref["params"]


def test_manual_seed_reseeds_every_generator(accel_device):
    def draws():
        return [ember.randn(3).numpy(), ember.randn(3, device="accel:0").cpu().numpy(),
                ember.randn(3, device="accel:1").cpu().numpy(), ember.randint(0, 100, (4,)).numpy()]
    assert ember.manual_seed(123) is ember.default_generator
    first = draws()
    ember.manual_seed(123)
    second = draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    ember.manual_seed(124)
    assert not np.array_equal(draws()[1], first[1])


def test_compile_returns_its_argument():
    net = nn.Linear(2, 2)
    assert ember.compile(net) is net
    assert ember.compile(net, mode="max-autotune", fullgraph=True, dynamic=False, backend="inductor") is net

    def f(x):
        return x.sin()
    assert ember.compile(f) is f
    assert ember.compile(mode="reduce-overhead")(f) is f     # the decorator form with arguments
    assert set(ember.compile(net).state_dict()) == {"weight", "bias"}
    with pytest.raises(RuntimeError, match="expects a module or a function"):
        ember.compile(3)
    assert params(ember.compile)[:1] == REF["compile_params"]


# ---- ember.nn.parallel ------------------------------------------------------------------------------------

def _seq():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))


def test_data_parallel_without_an_accelerator_is_the_module(no_accelerator):
    ref = REF["data_parallel"]
    inner = _seq()
    model = nn.DataParallel(inner)
    assert model.module is inner and model.device_ids == ref["device_ids"] == []
    assert list(model.state_dict()) == ref["state_dict_keys"]
    x = ember.randn(5, 2)
    assert_close(model(x), inner(x))
    other = nn.DataParallel(_seq())
    other.load_state_dict(model.state_dict())       # checkpoints keep the module. prefix
    assert params(nn.DataParallel.__init__)[1:] == ref["params"]
    assert nn.parallel.DataParallel is nn.DataParallel
    assert params(nn.parallel.data_parallel) == ref["functional_params"]
    assert_close(nn.parallel.data_parallel(inner.eval(), x), inner(x))
    lstm = nn.LSTM(2, 4, batch_first=True)
    out, _ = nn.parallel.data_parallel(lstm, (ember.randn(3, 5, 2),), module_kwargs={})
    assert tuple(out.shape) == (3, 5, 4)


def test_data_parallel_on_an_accelerator(accel_device):
    model = nn.DataParallel(nn.Linear(4, 2), device_ids=[0])          # one device: the module moves there
    assert model.module.weight.device == ember.device("accel:0")
    y = model(ember.randn(3, 4))                                       # CPU input is moved to the device
    assert y.device == ember.device("accel:0")
    y = nn.DataParallel(model.module, device_ids=[0], output_device=1)(ember.randn(3, 4))
    assert y.device == ember.device("accel:1")
    with pytest.warns(RuntimeWarning, match="runs the whole batch on accel:0"):
        several = nn.DataParallel(nn.Linear(4, 2))                     # all devices by default, module on CPU
    assert several.device_ids == [0, 1]
    with pytest.raises(RuntimeError, match="module must have its parameters and buffers on device accel:0"):
        several(ember.randn(3, 4))
    out = nn.parallel.data_parallel(model.module, ember.randn(3, 4), device_ids=[0], output_device="accel:1")
    assert out.device == ember.device("accel:1")


def test_distributed_data_parallel_needs_a_process_group():
    from ember.nn.parallel import DistributedDataParallel   # importing works, as scripts do at the top
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedDataParallel(nn.Linear(2, 2))


# ---- ember.onnx, ember.distributed ---------------------------------------------------------------------

def test_onnx_export_signature_and_state():
    # The export itself is tested in test_onnx.py.
    assert ember.onnx.is_in_onnx_export() is REF["onnx"]["is_in_onnx_export"] is False
    assert params(ember.onnx.export)[:3] == REF["onnx"]["export_params"]


def test_distributed_without_a_process_group_raises_as_pytorch():
    import importlib.util
    assert dist.is_available() is (importlib.util.find_spec("mpi4py") is not None)
    assert dist.is_initialized() is False and dist.is_nccl_available() is False
    for call in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(ember.ones(2)), dist.barrier):
        with pytest.raises(ValueError, match=r"Default process group has not been initialized, please make sure to "
                                             r"call init_process_group."):
            call()
    with pytest.raises(RuntimeError, match="backend 'nccl' is not available"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group("ucc")
    from ember.distributed import ReduceOp, all_reduce  # noqa: F401  (importable, as at a script's top)
    assert "all_reduce" in dir(dist)
    with pytest.raises(RuntimeError, match="TCPStore is not available"):
        dist.TCPStore("localhost", 1234)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_function'"):
        dist.no_such_function


# ---- ember.utils.tensorboard ------------------------------------------------------------------------------

def test_summary_writer_without_tensorboard_says_what_to_install(tmp_path, monkeypatch):
    from ember.utils.tensorboard import SummaryWriter
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)   # makes `import tensorboard...` fail
    with pytest.raises(ImportError, match=r"tensorboard package, which is not installed: `pip install tensorboard`"):
        SummaryWriter(tmp_path / "runs")
    assert not any(tmp_path.iterdir())                       # nothing written


def _events(path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    ea = EventAccumulator(str(path), size_guidance={"images": 0, "histograms": 0, "tensors": 0, "scalars": 0})
    ea.Reload()
    return ea


def test_summary_writer_writes_real_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    from PIL import Image
    from ember.utils.tensorboard import SummaryWriter
    values = ember.tensor(np.random.default_rng(0).standard_normal(1000), dtype=ember.float32)
    img = ember.tensor(np.random.default_rng(1).random((3, 4, 5)), dtype=ember.float32)
    with SummaryWriter(tmp_path / "run") as writer:
        for step in range(3):
            writer.add_scalar("loss/train", 1.0 / (step + 1), step)
        writer.add_scalar("acc", ember.tensor(0.75), 7, new_style=True)
        writer.add_scalars("lr", {"head": 0.1, "body": 0.01}, 2)
        writer.add_histogram("weights", values, 4)
        writer.add_histogram("weights_auto", values.numpy(), 4, bins="auto")
        writer.add_image("img", img, 5)
        writer.add_image("hw", (img[0] * 255).to(ember.uint8), 5, dataformats="HW")
        writer.add_images("batch", ember.rand(10, 1, 2, 3), 6)
        writer.add_text("notes", "hello *ember*", 1)
        with pytest.raises(NotImplementedError, match="add_graph needs graph capture"):
            writer.add_graph(nn.Linear(2, 2))
        with pytest.raises(ValueError, match="does not match dataformats 'CHW'"):
            writer.add_image("bad", ember.rand(4, 5))
        assert writer.get_logdir() == str(tmp_path / "run")
    ea = _events(tmp_path / "run")
    assert [(e.step, round(e.value, 6)) for e in ea.Scalars("loss/train")] == [(0, 1.0), (1, 0.5), (2, 0.333333)]
    (t,) = ea.Tensors("acc")
    assert t.step == 7 and t.tensor_proto.float_val == [0.75]
    h = ea.Histograms("weights")[0].histogram_value
    x = values.numpy().astype(np.float64)
    assert (h.num, h.min, h.max) == (1000, x.min(), x.max()) and np.isclose(h.sum, x.sum())
    assert np.isclose(h.sum_squares, (x * x).sum()) and sum(h.bucket) == 1000
    assert sum(ea.Histograms("weights_auto")[0].histogram_value.bucket) == 1000
    png = ea.Images("img")[0]
    decoded = np.asarray(Image.open(io.BytesIO(png.encoded_image_string)))
    expected = (np.clip(img.numpy().transpose(1, 2, 0), 0, 1) * 255 + 0.5).astype(np.uint8)
    assert (png.width, png.height) == (5, 4) and np.array_equal(decoded, expected)
    assert (ea.Images("batch")[0].width, ea.Images("batch")[0].height) == (8 * 3, 2 * 2)   # 8 columns, 2 rows
    assert ea.Tensors("notes/text_summary")[0].tensor_proto.string_val == [b"hello *ember*"]
    body = _events(tmp_path / "run" / "lr_body")
    assert [(e.step, round(e.value, 6)) for e in body.Scalars("lr")] == [(2, 0.01)]


def test_summary_writer_default_log_dir_and_purge_step(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from ember.utils.tensorboard import SummaryWriter
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1", purge_step=10)
    writer.add_scalar("x", 1.0, 10)
    writer.close()
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.endswith("_lr0.1") and writer.get_logdir() == str(Path("runs") / run.name)
    assert [e.step for e in _events(run).Scalars("x")] == [10]


def test_namespaces_are_attributes_and_importable_modules():
    import importlib
    for name in ("accelerator", "backends", "onnx", "distributed"):
        assert getattr(ember, name) is importlib.import_module(f"ember.{name}")
        assert name in dir(ember)
    assert ember.nn.parallel is importlib.import_module("ember.nn.parallel")
    assert ember.utils.tensorboard is importlib.import_module("ember.utils.tensorboard")
    assert importlib.import_module("ember.backends.cudnn") is ember.backends.cudnn   # `import torch.backends.cudnn`
