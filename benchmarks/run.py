"""Ember vs PyTorch (CPU) benchmarks: the same workload code runs on both libraries, each library in
its own process.

Run with `make bench` (PyTorch lives in .venv-bench). For every workload the runner starts a fresh pair
of worker processes (benchmarks/_worker.py), one importing only Ember and one only PyTorch, each with
its BLAS/OpenMP threads fixed before start-up and its malloc set to reuse freed memory (see
MALLOC_REUSE); each builds the step, warms it up and calibrates how
many calls make one sample. Then the runner asks them for samples in alternating order, round after
round, with a pause before each sample so that the idle library's threads have parked.
A row reports the median over rounds and the spread (min-max) of each library, and the ratio of the
medians. Results are printed and written into BENCHMARKS.md between the generated-table markers.

Compute-bound rows carry their FLOP count; the "floor" column is the time those FLOPs take at this
machine's peak GEMM rate measured in the same run (the faster library's matmul row), and
"Ember/floor" says how far Ember is from what the hardware allows.

    python benchmarks/run.py [--only NAME ...] [--threads N] [--rounds R] [--no-write] [--default-malloc]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from _registry import all_workloads  # noqa: E402

THREADS_DEFAULT = 2
SETTLE_SECONDS = 0.2         # before each sample: the other process's spinning threads park
SAMPLE_SECONDS = 0.1         # one sample: enough calls to take about this long
PEAK_ROW = "matmul 2048x2048 float32"
PEAK_FLOPS = 2 * 2048 ** 3


def _parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*", help="run only workloads whose name contains one of these strings")
    p.add_argument("--threads", type=int, default=THREADS_DEFAULT)
    p.add_argument("--rounds", type=int, default=9, help="samples per library per workload (median taken)")
    p.add_argument("--libs", nargs="*", default=["ember", "torch"])
    p.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    p.add_argument("--default-malloc", action="store_true",
                   help="leave glibc's malloc at its defaults (freed memory returned and page-faulted again)")
    return p.parse_args()


# Both workers keep freed memory for reuse instead of glibc's default of unmapping large blocks and trimming
# the heap, which page-faults them in again on the next step: with the defaults a library's time depends on
# the sizes its process freed before (PyTorch's MobileNetV2 inference: 800 ms fresh, 515 ms after a training
# row, 320 ms with reuse; Ember's MLP step 9.7 ms fresh, 6.3 ms with reuse). Reuse is what the jemalloc or
# TCMalloc that PyTorch's CPU tuning guide recommends gives, and the stricter comparison (BENCHMARKS.md,
# "Process history"). The variables reach only the worker processes.
MALLOC_REUSE = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "17179869184"}


class Worker:
    """One library's benchmark process (see _worker.py for the protocol)."""

    def __init__(self, lib: str, threads: int, python: str = sys.executable, malloc_env: dict | None = None):
        env = {**os.environ, **(malloc_env or {})}
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        # Installed packages run with bytecode caches; this sandbox may disable writing them.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.lib = lib
        self.proc = subprocess.Popen([python, os.path.join(HERE, "_worker.py"), lib, str(threads),
                                      str(SAMPLE_SECONDS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1, env=env, cwd=HERE)

    def ask(self, **req) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.lib} benchmark worker exited (its traceback is above)")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{self.lib}, workload {req.get('name')!r}:\n{reply['error']}")
        return reply

    def close(self) -> None:
        try:
            self.ask(cmd="quit")
        except (RuntimeError, BrokenPipeError, ValueError):
            pass
        self.proc.wait(timeout=30)


def _available(lib: str) -> bool:
    probe = subprocess.run([sys.executable, "-c", f"import importlib.util, sys; "
                            f"sys.exit(importlib.util.find_spec({lib!r}) is None)"])
    return probe.returncode == 0


def _worker_python(wl, lib: str) -> str:
    """The interpreter of one side of a row: the row's ``reference_env`` runs the torch side when it exists."""
    if lib != "torch" or wl.reference_env is None:
        return sys.executable
    python = os.path.join(ROOT, wl.reference_env, "bin", "python")
    if not os.path.exists(python):
        print(f"note: {wl.name}: {wl.reference_env} does not exist (`make bench` creates it); the torch side runs "
              f"in {sys.executable}")
        return sys.executable
    return python


def measure(workers: dict, name: str, rounds: int) -> dict:
    """Per library: the median seconds per call over ``rounds`` samples, and the min and max."""
    replies = {lib: w.ask(cmd="setup", name=name) for lib, w in workers.items()}
    for lib, reply in replies.items():
        if "skip" in reply:
            print(f"note: {name}: the {lib} side is skipped: {reply['skip']}")
    calls = {lib: reply["calls"] for lib, reply in replies.items() if "calls" in reply}
    samples = {lib: [] for lib in calls}
    order = list(calls)
    try:
        for r in range(rounds):
            for lib in (order if r % 2 == 0 else order[::-1]):   # alternate who goes first
                time.sleep(SETTLE_SECONDS)
                samples[lib].append(workers[lib].ask(cmd="sample", name=name, calls=calls[lib])["seconds"])
    finally:
        for w in workers.values():
            w.ask(cmd="drop", name=name)
    return {lib: (statistics.median(v), min(v), max(v)) for lib, v in samples.items()}


def main() -> int:
    args = _parse()
    libs = [lib for lib in args.libs if _available(lib)]
    for lib in set(args.libs) - set(libs):
        print(f"{lib} is not installed in this environment: skipped (run `make bench` for ratios)")
    workloads = [wl for wl in all_workloads() if not args.only or any(s in wl.name for s in args.only)]
    reference_pythons: dict = {}   # reference_env -> the interpreter that ran a row's torch side there
    rows = []
    for wl in workloads:
        # Fresh processes for every row: a library's speed depends on its process's history (glibc's
        # malloc adapts its mmap threshold to the blocks freed before; PyTorch's MobileNetV2 inference ran
        # 2.3x faster after a training row than in a fresh process), so a row's number must not depend on
        # which rows ran before it. A row measures what a process running only that workload sees.
        pythons = {lib: _worker_python(wl, lib) for lib in libs}
        malloc_env = None if args.default_malloc else MALLOC_REUSE
        workers = {lib: Worker(lib, args.threads, python, malloc_env) for lib, python in pythons.items()}
        try:
            times = measure(workers, wl.name, args.rounds)
        finally:
            for w in workers.values():
                w.close()
        if pythons.get("torch", sys.executable) != sys.executable:
            reference_pythons[wl.reference_env] = pythons["torch"]
        rows.append((wl, times))
        _print_row(wl, times)
    table = _markdown(rows, args.threads, args.rounds, reference_pythons, default_malloc=args.default_malloc)
    if not args.no_write:
        _write_benchmarks_md(table)
    return 0


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _spread(t) -> str:
    median, lo, hi = t
    return f"{_fmt(median)} ({(lo / median - 1) * 100:+.0f}/{(hi / median - 1) * 100:+.0f}%)"


def _ratio(times) -> str:
    return f"{times['ember'][0] / times['torch'][0]:.2f}" if "ember" in times and "torch" in times else "-"


def _print_row(wl, times):
    cells = "   ".join(f"{lib} {_spread(t):>24}" for lib, t in times.items())
    target = f"<= {wl.target:.1f}" if wl.target else ""
    print(f"{wl.name:<52} {cells}   ratio {_ratio(times):>5} {target}", flush=True)


def _peak_rate(rows) -> float | None:
    """FLOP/s of the faster library on the matmul row of this run."""
    for wl, times in rows:
        if wl.name == PEAK_ROW:
            return PEAK_FLOPS / min(t[0] for t in times.values())
    return None


def _markdown(rows, threads: int, rounds: int, reference_pythons: dict | None = None,
              default_malloc: bool = False) -> str:
    import platform

    peak = _peak_rate(rows)
    versions = ", ".join(f"{lib} {v}" for lib, v in _versions(rows).items())
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, threads fixed to {threads} per library process "
        f"(a fresh pair per row; malloc {'at glibc defaults' if default_malloc else 'reusing freed memory'}); "
        f"Python {platform.python_version()}; {versions}. Each cell: median of {rounds} samples "
        "(spread min/max around it)."
        + (f" Peak GEMM rate this run: {peak / 1e9:.0f} GFLOP/s (the matmul row)." if peak else ""),
        "",
        "| workload | Ember | PyTorch | ratio (Ember/PyTorch) | target | FLOP floor | Ember/floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for wl, times in rows:
        floor = wl.flops / peak if (peak and wl.flops) else None
        ember, torch = times.get("ember"), times.get("torch")
        cells = [wl.name, _spread(ember) if ember else "-", _spread(torch) if torch else "-", _ratio(times),
                 f"<= {wl.target}" if wl.target else "", _fmt(floor) if floor else "",
                 f"{ember[0] / floor:.1f}" if floor and ember else ""]
        lines.append("| " + " | ".join(cells) + " |")
    for env, python in (reference_pythons or {}).items():
        code = "import importlib.metadata as m; print(', '.join(f'{d} {m.version(d)}' for d in ('torch', 'torchaudio')))"
        res = subprocess.run([python, "-c", code], capture_output=True, text=True)
        names = ", ".join(wl.name for wl, _ in rows if wl.reference_env == env)
        lines += ["", f"The PyTorch side of {names} ran in `{env}` ({res.stdout.strip() or '?'}): the reference "
                      "library has no release for the PyTorch above."]
    return "\n".join(lines)


def _versions(rows) -> dict:
    out = {}
    for lib in ("ember", "torch"):
        if any(lib in times for _, times in rows):
            code = f"import {lib}; print({lib}.__version__)"
            res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            out[{"ember": "Ember", "torch": "PyTorch"}[lib]] = res.stdout.strip() or "?"
    import numpy
    out["NumPy"] = numpy.__version__
    return out


BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"


def _write_benchmarks_md(table: str) -> None:
    path = os.path.join(os.path.dirname(HERE), "BENCHMARKS.md")
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
