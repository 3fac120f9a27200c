"""Reference facts for tests/core/test_namespaces.py from PyTorch 2.13 (CPU build, no accelerator).

What scripts rely on in the namespaces they import at the top: torch.accelerator on a machine without
an accelerator (values, and the errors of the calls that need a device), the torch.backends flag
defaults, set_num_threads' argument errors, the determinism switches, DataParallel's state_dict keys, torch.onnx's
query, and the parameter names of each function Ember provides.

Re-run (writes namespaces_reference.json next to this file):

    /work/refvenv/bin/python tests/core/data/make_namespaces_reference.py
"""
import inspect
import json
from pathlib import Path

import torch
import torch.accelerator
import torch.backends.cudnn
import torch.backends.mps
import torch.nn.parallel
import torch.onnx


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return [type(e).__name__, str(e)]
    return None


def params(fn):
    return [p for p in inspect.signature(fn).parameters]


acc = torch.accelerator
reference = {
    "torch": torch.__version__,
    "accelerator": {
        "is_available": acc.is_available(),
        "current_accelerator": acc.current_accelerator(),
        "current_accelerator_checked": acc.current_accelerator(check_available=True),
        "device_count": acc.device_count(),
        "errors": {name: error_of(getattr(acc, name)) for name in
                   ("current_device_index", "synchronize", "empty_cache")},
        "set_device_index_error": error_of(lambda: acc.set_device_index(0)),
        "params": {name: params(getattr(acc, name)) for name in
                   ("is_available", "current_accelerator", "device_count", "current_device_index",
                    "set_device_index", "device_index", "synchronize", "empty_cache")},
    },
    "backends": {
        "cudnn": {k: getattr(torch.backends.cudnn, k) for k in
                  ("enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit")},
        "cudnn_is_available": torch.backends.cudnn.is_available(),
        "cudnn_version": torch.backends.cudnn.version(),
        "cuda_matmul": {k: getattr(torch.backends.cuda.matmul, k) for k in
                        ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                         "allow_bf16_reduced_precision_reduction")},
        "mps": [torch.backends.mps.is_available(), torch.backends.mps.is_built()],
    },
    "set_num_threads_errors": {repr(v): error_of(lambda v=v: torch.set_num_threads(v)) for v in (0, -1, 1.5, "2")},
}

det = []
for mode, warn_only in ((True, False), (True, True), (False, False)):
    torch.use_deterministic_algorithms(mode, warn_only=warn_only)
    det.append([mode, warn_only, torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled(), torch.get_deterministic_debug_mode()])
debug = []
for m in ("default", "warn", "error", 0, 1, 2):
    torch.set_deterministic_debug_mode(m)
    debug.append([m, torch.get_deterministic_debug_mode(), torch.are_deterministic_algorithms_enabled(),
                  torch.is_deterministic_algorithms_warn_only_enabled()])
torch.set_deterministic_debug_mode(0)
reference["determinism"] = {"use": det, "debug_mode": debug,
                            "bad_debug_mode": error_of(lambda: torch.set_deterministic_debug_mode("x")),
                            "params": params(torch.use_deterministic_algorithms)}

dp = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3)))
reference["data_parallel"] = {
    "state_dict_keys": list(dp.state_dict()),
    "device_ids": dp.device_ids,
    "params": params(torch.nn.DataParallel.__init__)[1:],
    "functional_params": params(torch.nn.parallel.data_parallel),
}
reference["onnx"] = {"is_in_onnx_export": torch.onnx.is_in_onnx_export(),
                     "export_params": params(torch.onnx.export)[:3]}
reference["compile_params"] = params(torch.compile)[:1]

out = Path(__file__).with_name("namespaces_reference.json")
out.write_text(json.dumps(reference, indent=1, default=str) + "\n")
print(f"wrote {out}")
