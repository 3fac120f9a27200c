"""Import time: what ``import ember`` (or ``import torch``) costs on top of ``import numpy``.

Each step imports the library in a fresh process that already has NumPy imported: a small server
process imports NumPy once and forks a child per step, which imports the library and exits. The
time is therefore ``python -c "import ember"`` minus ``python -c "import numpy"``, without the noise
of two interpreter start-ups. Ember's goal: well under 0.3 s, and no plugin is imported (plugins
load on first use of ``ember.hub``/``ember.plugins``/the CLI). Where ``os.fork`` is missing the step
falls back to timing ``python -c "import <lib>"`` whole.
"""
from __future__ import annotations

import atexit
import os
import subprocess
import sys

from workloads import Workload

_SERVER = r"""
import os, sys, traceback
import numpy  # the baseline every step starts from
lib = sys.argv[1]
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            __import__(lib)
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(f"{os.waitstatus_to_exitcode(status)}\n")
    sys.stdout.flush()
"""


def import_minus_numpy(lib):
    """Step: import ``lib`` (the library's module name) in a forked child of a NumPy-loaded process."""
    name = lib.__name__
    if not hasattr(os, "fork"):
        return lambda: subprocess.run([sys.executable, "-c", f"import {name}"], check=True)
    # Measure as installed packages run: with bytecode caches (the warm-up step writes them), even
    # where the environment sets PYTHONDONTWRITEBYTECODE (this sandbox does; compiling every module
    # on each import would triple the time).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, bufsize=1, env=env)
    atexit.register(proc.kill)

    def step():
        proc.stdin.write("go\n")
        proc.stdin.flush()
        if proc.stdout.readline().strip() != "0":
            raise RuntimeError(f"`import {name}` failed in the benchmark child process (traceback above)")
    step.process = proc   # for callers that want to stop the server early
    return step


ALL = [
    Workload("import: `import <lib>` minus `import numpy`", import_minus_numpy, 1.0),
]
