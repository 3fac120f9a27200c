"""``ember.autograd.profiler``: PyTorch's older profiler namespace, on the same machinery as
:mod:`ember.profiler` (``record_function``, the event classes, and ``profile`` with its own signature:
``enabled`` first, ``use_cuda``, and the results on the object once the block has ended).

>>> from ember.autograd.profiler import profile, record_function
>>> with profile(record_shapes=True) as prof:
...     with record_function("block"):
...         y = ember.ones(3) + 1
>>> [e.name for e in prof.function_events if e.is_user_annotation]
['block']
"""
from __future__ import annotations

from ..profiler import EventList, FunctionEvent, FunctionEventAvg, ProfilerActivity, record_function
from ..profiler import profile as _profile

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile:
    """``torch.autograd.profiler.profile``: record while the block runs; ``function_events``, ``table()``,
    ``key_averages()``, ``total_average()`` and ``export_chrome_trace()`` afterwards. ``enabled=False``
    records nothing. ``use_cuda``/``use_device`` are accepted; no device events are recorded."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: str | None = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True):
        self.enabled = enabled
        self.function_events: EventList | None = None
        activities = [ProfilerActivity.CPU] if use_cpu else []
        if use_cuda or use_device == "cuda":
            activities.append(ProfilerActivity.CUDA)
        self._prof = _profile(activities=activities, record_shapes=record_shapes, profile_memory=profile_memory,
                              with_stack=with_stack, with_flops=with_flops,
                              with_modules=with_modules) if enabled else None

    def __enter__(self) -> profile:
        if self.enabled:
            self._prof.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self._prof.stop()
            self.function_events = self._prof.events()

    def _events(self) -> EventList:
        if self.function_events is None:
            raise RuntimeError("the profiler's results are available once its block has ended")
        return self.function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self._events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        return self._events().table(sort_by, row_limit, max_src_column_width, max_name_column_width,
                                    max_shapes_column_width, header, top_level_events_only)

    def total_average(self) -> FunctionEventAvg:
        return self._events().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        return self._events().self_cpu_time_total

    def export_chrome_trace(self, path: str) -> None:
        self._events().export_chrome_trace(path)

    def __str__(self) -> str:
        return self.table()
