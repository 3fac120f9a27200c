"""``profile``: the context manager that records, steps through a schedule and hands back the events."""
from __future__ import annotations

import enum
import json
import warnings
from typing import Callable, Iterable

from .. import _op_hooks
from . import _recorder
from ._events import EventList, build_events
from ._ranges import record_function
from ._schedule import ProfilerAction, always_record

_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class ProfilerActivity(enum.Enum):
    """The kinds of activity PyTorch's profiler can record; Ember records ``CPU`` (ops and ranges, timed on
    the host, whatever the tensors' device)."""
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


def supported_activities() -> set[ProfilerActivity]:
    """The activities Ember records: ``{ProfilerActivity.CPU}``."""
    return {ProfilerActivity.CPU}


class profile:
    """Record the ops and ``record_function`` ranges that run inside it (PyTorch's ``torch.profiler.profile``).

    ``record_shapes`` keeps each op's input shapes and types, ``profile_memory`` the bytes its outputs
    allocated, ``with_stack`` the Python frames that called it. With a ``schedule``, each ``step()`` moves to
    the next step's action and ``on_trace_ready(prof)`` is called at the end of each recorded cycle; without
    one everything between start and stop is one trace (``on_trace_ready`` is called at stop).
    ``ProfilerActivity.CUDA`` is accepted, with a warning: no device events are recorded.

    >>> from ember.profiler import profile, record_function, ProfilerActivity
    >>> with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    ...     with record_function("forward"):
    ...         y = ember.ones(2, 3) * 2
    >>> table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20)
    >>> table.splitlines()[1].split()[:4]
    ['Name', 'Self', 'CPU', '%']
    >>> prof.export_chrome_trace("trace.json")   # open in chrome://tracing or https://ui.perfetto.dev
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None, on_trace_ready: Callable | None = None,
                 record_shapes: bool = False, profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False, use_cuda: bool | None = None):
        acts = set(supported_activities() if activities is None else activities)
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"activities must be ProfilerActivity values, got {a!r}")
        if use_cuda:
            acts.add(ProfilerActivity.CUDA)
        unrecorded = sorted(a.name for a in acts - supported_activities())
        if unrecorded:
            warnings.warn(f"ember.profiler records CPU activity only: {unrecorded} accepted, but no device events are "
                          "recorded (ops on accelerator tensors are timed on the host)", UserWarning, stacklevel=2)
        if with_flops or with_modules:
            warnings.warn("ember.profiler does not record FLOPs or module hierarchy (with_flops, with_modules)",
                          UserWarning, stacklevel=2)
        self.activities = acts
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.schedule = schedule if schedule is not None else always_record
        self.record_steps = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(0)
        self._recorder = None     # the recording window in progress
        self._events = None       # the events of the last window that ended
        self._step_range = None
        self._metadata: dict = {}

    # -- lifecycle ------------------------------------------------------------------------------------
    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Begin: the schedule's action for the current step takes effect."""
        self._transit(ProfilerAction.NONE, self.current_action)
        self._mark_step()

    def stop(self) -> None:
        """End: a recording window in progress ends and its trace is handed to ``on_trace_ready``."""
        self._close_step()
        self._transit(self.current_action, None)

    def step(self) -> None:
        """Mark the end of a step (a training iteration): the next step's action takes effect."""
        self._close_step()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        self._mark_step()

    def _transit(self, prev: ProfilerAction, nxt: ProfilerAction | None) -> None:
        if self._recorder is not None and (prev is ProfilerAction.RECORD_AND_SAVE or nxt not in _RECORDING):
            self._end_window()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        if self._recorder is None and nxt in _RECORDING:
            self._begin_window()

    def _begin_window(self) -> None:
        if _recorder.ACTIVE.recorder is not None:
            raise RuntimeError("another ember.profiler.profile is already recording; profiles do not nest")
        self._recorder = _recorder.Recorder(self.record_shapes, self.profile_memory, self.with_stack)
        _recorder.ACTIVE.recorder = self._recorder
        _op_hooks.add_observer(self._recorder)   # the recorder is the op observer of its window

    def _end_window(self) -> None:
        _op_hooks.remove_observer(self._recorder)
        _recorder.ACTIVE.recorder = None
        self._recorder.stop()
        self._events = build_events(self._recorder)
        self._recorder = None

    def _mark_step(self) -> None:
        # With a schedule, each step is a ``ProfilerStep#N`` range, as in PyTorch's traces.
        if self.record_steps:
            self._step_range = record_function(f"ProfilerStep#{self.step_num}")
            self._step_range.__enter__()

    def _close_step(self) -> None:
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

    # -- results --------------------------------------------------------------------------------------
    def events(self) -> EventList:
        """Every recorded range of the last trace (a window that has ended), in start order."""
        if self._events is None:
            raise RuntimeError("no trace yet: events are available once the profile (or a scheduled recording "
                               "window) has ended")
        self._events._trace_metadata.update(self._metadata)
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events averaged by name (and input shapes, and the first ``group_by_stack_n`` frames)."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path: str) -> None:
        """Write the trace in Chrome's Trace Event Format (a ``.gz`` path is gzip-compressed)."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write one ``frame;frame;...;name value`` line per event recorded ``with_stack`` (outermost frame first,
        ``metric`` in whole microseconds): the input of flamegraph.pl and speedscope."""
        lines = [";".join(list(reversed(e.stack)) + [e.name]) + f" {int(getattr(e, metric))}"
                 for e in self.events() if e.stack]
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))

    def add_metadata(self, key: str, value: str) -> None:
        """A string entry at the top level of the exported trace."""
        self._metadata[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        """A JSON value (given as its text) at the top level of the exported trace."""
        self._metadata[key] = json.loads(value)
