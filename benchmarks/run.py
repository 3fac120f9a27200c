"""Ember vs PyTorch (CPU) benchmarks: the same workload code runs on both libraries.

Run with `make bench` (PyTorch lives in .venv-bench). Threads are fixed to the same count for both;
each workload is warmed up and timed as the median of several repeats. Results are printed and
written into BENCHMARKS.md between the generated-table markers.

    python benchmarks/run.py [--only NAME ...] [--threads N] [--no-write]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

THREADS_DEFAULT = 2
SETTLE_SECONDS = 0.3


def _set_threads(n: int) -> None:
    # Must happen before NumPy (and its BLAS) is imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def _parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*", help="run only workloads whose name contains one of these strings")
    p.add_argument("--threads", type=int, default=THREADS_DEFAULT)
    p.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    p.add_argument("--repeats", type=int, default=9)
    return p.parse_args()


def _calibrate(step, min_time: float, repeats: int) -> int:
    """Warm up, then the number of calls that makes one sample take about ``min_time / repeats``."""
    step()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        if time.perf_counter() - t0 >= min_time / repeats or n >= 1 << 20:
            return n
        n *= 2


def _sample(step, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def measure(steps: dict, *, min_time: float = 0.2, repeats: int = 7) -> dict:
    """Median seconds per call of each step. Samples of the libraries alternate, so that load from
    elsewhere on the machine falls on both rather than on whichever ran during it; a pause before
    each sample lets the other library's BLAS/OpenMP worker threads stop spinning first."""
    counts = {name: _calibrate(step, min_time, repeats) for name, step in steps.items()}
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            time.sleep(SETTLE_SECONDS)
            step()  # back in cache after the pause
            samples[name].append(_sample(step, counts[name]))
    return {name: statistics.median(v) for name, v in samples.items()}


def main() -> int:
    args = _parse()
    _set_threads(args.threads)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import importlib

    # Every benchmarks/workloads*.py contributes its ALL list (imported after the thread settings).
    modules = sorted(f[:-3] for f in os.listdir(here) if f.startswith("workloads") and f.endswith(".py"))
    all_workloads = [wl for m in modules for wl in importlib.import_module(m).ALL]

    libs = {"ember": __import__("ember")}
    try:
        import torch
        torch.set_num_threads(args.threads)
        libs["torch"] = torch
    except ImportError:
        print("PyTorch is not installed in this environment: timing Ember only (run `make bench` for ratios)")

    rows = []
    for wl in all_workloads:
        if args.only and not any(s in wl.name for s in args.only):
            continue
        times = measure({lib_name: wl.setup(lib) for lib_name, lib in libs.items()}, repeats=args.repeats)
        ratio = times["ember"] / times["torch"] if "torch" in times else None
        rows.append((wl, times, ratio))
        _print_row(wl, times, ratio)

    table = _markdown(rows, args.threads)
    if not args.no_write:
        _write_benchmarks_md(table)
    return 0


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _print_row(wl, times, ratio):
    torch_t = _fmt(times["torch"]) if "torch" in times else "-"
    r = f"{ratio:.2f}" if ratio is not None else "-"
    target = f"<= {wl.target:.1f}" if wl.target else ""
    print(f"{wl.name:<44} ember {_fmt(times['ember']):>10}   torch {torch_t:>10}   ratio {r:>5} {target}", flush=True)


def _markdown(rows, threads) -> str:
    import platform

    import numpy
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, threads fixed to {threads}; "
        f"Python {platform.python_version()}, NumPy {numpy.__version__}"
        + (f", PyTorch {sys.modules['torch'].__version__}" if "torch" in sys.modules else "") + ".",
        "",
        "| workload | Ember | PyTorch | ratio (Ember/PyTorch) | target |",
        "|---|---|---|---|---|",
    ]
    for wl, times, ratio in rows:
        lines.append(
            f"| {wl.name} | {_fmt(times['ember'])} | {_fmt(times['torch']) if 'torch' in times else '-'} | "
            f"{f'{ratio:.2f}' if ratio is not None else '-'} | {f'<= {wl.target}' if wl.target else ''} |")
    return "\n".join(lines)


BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"


def _write_benchmarks_md(table: str) -> None:
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{head}{BEGIN}\n{table}\n{END}{tail}")
    os.replace(tmp, path)
    print(f"updated {path}")


if __name__ == "__main__":
    sys.exit(main())
