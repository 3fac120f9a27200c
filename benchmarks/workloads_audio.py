"""Audio benchmark workloads: ember-audio's transforms against torchaudio's, the same module calls on both.

``setup(lib)`` maps the library module of its worker process to a transforms module --

    ember  ->  ember_audio.transforms   (this repository's plugins/audio)
    torch  ->  torchaudio.transforms    (the reference)

Each step runs a transform built once (its kernel or filter bank cached, as a user would) on a fixed
batch. No torchaudio release exists for torch 2.13 (the newest is 2.11), so the torch side of these rows runs
in its own environment, ``.venv-bench-torchaudio`` (torch 2.11 + torchaudio 2.11, which ``make bench``
creates; ``Workload.reference_env``). Without it the torch side raises ``Unavailable`` and the rows show Ember
only. The rows are left out entirely when the environment lacks ember-audio.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from workloads import Unavailable, Workload

BATCH = 16
REFERENCE_ENV = ".venv-bench-torchaudio"


def _transforms(lib):
    """The transforms module standing in for ``lib`` (see the module docstring)."""
    if lib.__name__ == "ember":
        return importlib.import_module("ember_audio.transforms")
    if importlib.util.find_spec("torchaudio") is None:
        raise Unavailable("torchaudio is not installed in this environment (none exists for torch 2.13; `make bench` "
                          "creates .venv-bench-torchaudio with torch 2.11 + torchaudio 2.11 for these rows)")
    return importlib.import_module("torchaudio.transforms")


def _transform_step(lib, make, seconds: float, rate: int):
    transform = make(_transforms(lib))
    lib.manual_seed(0)
    x = lib.rand(BATCH, int(seconds * rate)) * 2 - 1

    def step():
        with lib.no_grad():
            return transform(x)
    return step


def melspectrogram_10s(lib):
    return _transform_step(lib, lambda T: T.MelSpectrogram(sample_rate=16000), 10.0, 16000)


def resample_44k_16k(lib):
    return _transform_step(lib, lambda T: T.Resample(44100, 16000), 1.0, 44100)


def _rows() -> list:
    """The rows, where either side can run them: ember-audio's environment, or the reference env (torch and
    torchaudio only, whose worker must know the rows to run their torch side)."""
    if importlib.util.find_spec("ember_audio") is None and importlib.util.find_spec("torchaudio") is None:
        if os.path.basename(sys.argv[0]) == "run.py":
            print("note: the audio rows need ember-audio (plugins/audio) in this environment: skipped", file=sys.stderr)
        return []
    return [Workload(f"audio: MelSpectrogram of 10 s at 16 kHz, batch {BATCH} (vs torchaudio)", melspectrogram_10s,
                     reference_env=REFERENCE_ENV),
            Workload(f"audio: resample 44.1k -> 16k, 1 s, batch {BATCH} (vs torchaudio)", resample_44k_16k,
                     reference_env=REFERENCE_ENV)]


ALL = _rows()
