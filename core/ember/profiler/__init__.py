"""``ember.profiler``: where the time of a forward and backward pass goes (PyTorch's ``torch.profiler``).

``profile`` records, on every thread, the ops the op layer runs and the ``record_function`` ranges of the
user's code; ``prof.key_averages().table(...)`` sums them by name (self time is a range's time minus the ranges
inside it) and ``prof.export_chrome_trace(path)`` writes a trace that ``chrome://tracing`` and Perfetto open.
Nothing is recorded, and nothing but one attribute check runs, outside a profile.

>>> from ember.profiler import profile, record_function
>>> with profile(record_shapes=True) as prof:
...     with record_function("work"):
...         y = ember.ones(8, 8) @ ember.ones(8, 8)
>>> print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=5))  # doctest: +SKIP
"""
from ._events import EventList, FunctionEvent, FunctionEventAvg
from ._profile import ProfilerActivity, profile, supported_activities
from ._ranges import record_function
from ._schedule import ProfilerAction, schedule
from ._trace import tensorboard_trace_handler

__all__ = ["profile", "record_function", "schedule", "ProfilerAction", "ProfilerActivity", "supported_activities",
           "tensorboard_trace_handler", "EventList", "FunctionEvent", "FunctionEventAvg"]
