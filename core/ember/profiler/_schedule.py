"""Which steps a profile records: :class:`ProfilerAction` and :func:`schedule` (PyTorch's names and cycle)."""
from __future__ import annotations

import enum
import warnings
from typing import Callable


class ProfilerAction(enum.Enum):
    """What the profiler does during a step."""
    NONE = 0              # not recording
    WARMUP = 1            # about to record (Ember has nothing to warm up: nothing is recorded either)
    RECORD = 2            # recording
    RECORD_AND_SAVE = 3   # recording; the trace is handed to ``on_trace_ready`` when the step ends


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """The action of each step: ``skip_first`` steps off, then cycles of ``wait`` steps off, ``warmup`` steps
    of warm-up and ``active`` steps recorded, the last of which saves the trace; ``repeat`` cycles
    (0: until the profile ends). ``skip_first_wait=1`` leaves out the first cycle's wait.

    >>> from ember.profiler import schedule
    >>> s = schedule(wait=1, warmup=1, active=2, repeat=1)
    >>> [s(step).name for step in range(5)]
    ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE', 'NONE']
    """
    for name, value in (("wait", wait), ("warmup", warmup), ("repeat", repeat), ("skip_first", skip_first),
                        ("skip_first_wait", skip_first_wait)):
        if value < 0:
            raise ValueError(f"schedule: {name} must be >= 0, got {value}")
    if active <= 0:
        raise ValueError(f"schedule: active must be > 0, got {active}")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", UserWarning, stacklevel=2)
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < 0:
            raise ValueError(f"schedule: step must be >= 0, got {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait   # the first cycle starts at its warm-up
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def always_record(step: int) -> ProfilerAction:
    """The schedule of a profile without one: every step is recorded into one trace."""
    return ProfilerAction.RECORD
