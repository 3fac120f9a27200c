"""`import ember` imports no plugin (nor pluggy, nor an optional package such as tensorboard or threadpoolctl);
plugins load on first use of ember.hub / ember.plugins, optional packages when the feature is used."""
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

PROBE = textwrap.dedent("""
    import os, sys
    import ember
    marker = os.environ["MARKER"]
    assert not os.path.exists(marker), "a plugin was imported by `import ember`"
    assert not {"pluggy", "ember.plugins", "ember.hub", "ember.cli"} & set(sys.modules), sorted(
        m for m in sys.modules if m in {"pluggy", "ember.plugins", "ember.hub", "ember.cli"})
    # Optional packages and the namespaces scripts name but seldom use load only when used.
    extras = {"tensorboard", "threadpoolctl", "onnx", "onnxruntime", "mpi4py", "cupy", "PIL", "sklearn"}
    lazy = {"ember.accelerator", "ember.backends", "ember.onnx", "ember.distributed", "ember.utils.tensorboard",
            "ember.multiprocessing", "ember.distributed.run", "ember.profiler", "ember.autograd.profiler"}
    assert not (extras | lazy) & set(sys.modules), sorted((extras | lazy) & set(sys.modules))
    assert ember.nn.parallel.DataParallel is ember.nn.DataParallel and callable(ember.compile)
    from ember.utils.tensorboard import SummaryWriter     # importing the module leaves tensorboard alone
    import ember.backends.cudnn, ember.onnx, ember.distributed, ember.multiprocessing   # noqa: E401
    assert ember.accelerator.is_available() in (True, False) and ember.backends.cudnn.benchmark is False
    assert not {"tensorboard", "threadpoolctl", "onnx", "mpi4py"} & set(sys.modules)
    assert ember.autograd.profiler.record_function is ember.profiler.record_function   # lazy attributes
    hub = ember.hub                                     # lazy attribute: imports the module ...
    assert "ember.hub" in sys.modules and not os.path.exists(marker)   # ... but loads no plugin yet
    assert "lazy:thing" in hub.list_datasets()          # first use loads the plugins
    assert os.path.exists(marker)
    assert ember.plugins is sys.modules["ember.plugins"]
    print("ok")
""")


def test_import_ember_loads_no_plugin(tmp_path):
    marker = tmp_path / "imported"
    (tmp_path / "lazy_probe_plugin.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "def ember_register_datasets(registry):\n    registry.add('thing', list)\n")
    info = tmp_path / "ember_lazy_probe-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ember-lazy-probe\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ember]\nlazy = lazy_probe_plugin\n")
    env = dict(os.environ, MARKER=str(marker), PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    env.pop("EMBER_STRICT_PLUGINS", None)   # other installed plugins are not under test here
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_import_benchmark_workload_runs(monkeypatch):
    """The benchmark step (import in a child of a NumPy-loaded process) works and reports failures."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import ember
    import workloads_import

    assert [w.name for w in workloads_import.ALL] == ["import: `import <lib>` minus `import numpy`"]
    step = workloads_import.ALL[0].setup(ember)
    step()
    step()
    step.process.kill()

    bad = workloads_import.import_minus_numpy(types.SimpleNamespace(__name__="ember_no_such_library_xyz"))
    try:
        with pytest.raises(RuntimeError, match="import ember_no_such_library_xyz"):
            bad()
    finally:
        bad.process.kill()
