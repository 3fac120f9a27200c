"""The events a profile hands back: :class:`FunctionEvent` (one range), :class:`FunctionEventAvg` (the ranges of
one name, summed) and :class:`EventList` (a list of either, with ``table``, ``key_averages`` and
``export_chrome_trace``), with PyTorch's names and units (times in microseconds, memory in bytes).

``build_events`` turns a recorder's raw records into the event tree: on each thread a range's parent is the
innermost range that contains it, and its self time is its own time minus its direct children's.
"""
from __future__ import annotations

from collections import defaultdict

from ._recorder import USER_ANNOTATION, Recorder
from ._table import build_table, format_time


class Interval:
    """``[start, end]`` in microseconds (PyTorch's ``FunctionEvent.time_range``)."""

    __slots__ = ("start", "end")

    def __init__(self, start: float, end: float):
        self.start = start
        self.end = end

    def elapsed_us(self) -> float:
        return self.end - self.start


class _Times:
    """What :class:`FunctionEvent` and :class:`FunctionEventAvg` share: the derived times, PyTorch's
    formatted ``*_str`` spellings, and zero device time (Ember records no device kernels)."""

    @property
    def cpu_time(self) -> float:
        """Average total time of one call, in microseconds."""
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / self.count if self.count else 0.0

    cpu_time_str = property(lambda self: format_time(self.cpu_time))
    cpu_time_total_str = property(lambda self: format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: format_time(self.self_cpu_time_total))

    # No device events are recorded: scripts that sort or print by device time still run.
    device_time = device_time_total = self_device_time_total = 0.0
    cuda_time = cuda_time_total = self_cuda_time_total = 0.0
    device_memory_usage = self_device_memory_usage = 0


class FunctionEvent(_Times):
    """One recorded range: an op or a ``record_function`` block, on one thread."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float,
                 input_shapes=None, input_dtypes=None, stack=None, is_user_annotation: bool = False, args=None):
        self.id = id
        self.name = name
        self.thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.input_dtypes = input_dtypes if input_dtypes is not None else []
        self.stack = stack if stack is not None else []
        self.is_user_annotation = is_user_annotation
        self.args = args
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_memory_usage = 0   # bytes allocated by this range and the ranges inside it
        self.count = 1

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={self.cpu_time_str} "
                f"start_us={self.time_range.start:.3f} end_us={self.time_range.end:.3f} "
                f"cpu_children={[c.id for c in self.cpu_children]} thread={self.thread} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_Times):
    """The events of one key (a name, and the input shapes or stack when grouped by them), summed."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.input_shapes = None
        self.stack = None
        self.is_user_annotation = False
        self.cpu_parent = None
        self.cpu_children = []

    def add(self, other) -> FunctionEventAvg:
        """Fold in ``other`` (an event or an average); the first one added gives the key and labels."""
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.is_user_annotation = other.is_user_annotation
            self.cpu_parent = other.cpu_parent
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        return self

    def __iadd__(self, other):
        return self.add(other)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={format_time(self.self_cpu_time_total)} "
                f"cpu_time={self.cpu_time_str} count={self.count} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of events or averages, as ``prof.events()`` and ``prof.key_averages()`` return it.

    >>> from ember.profiler import profile, record_function
    >>> with profile() as prof:
    ...     with record_function("outer"):
    ...         with record_function("inner"):
    ...             pass
    >>> [(e.name, [c.name for c in e.cpu_children]) for e in prof.events()]
    [('outer', ['inner']), ('inner', [])]
    """

    def __init__(self, events=(), profile_memory: bool = False, trace_metadata: dict | None = None):
        super().__init__(events)
        self._profile_memory = profile_memory
        self._trace_metadata = trace_metadata or {}

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """One :class:`FunctionEventAvg` per name (and per input shapes, and per the first
        ``group_by_stack_n`` stack frames, when asked), in the order the names first ran. (PyTorch spells
        the argument ``group_by_input_shapes`` here and ``group_by_input_shape`` on ``profile``.) Ember's ops
        have no overloads, so ``group_by_overload_name`` changes nothing."""
        groups: dict = defaultdict(FunctionEventAvg)
        for e in self:
            key = (e.key,)
            if group_by_input_shapes:
                key += (str(e.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple(e.stack[:group_by_stack_n])
            groups[key].add(e)
        averages = list(groups.values())
        for avg in averages:
            avg.stack = avg.stack[:group_by_stack_n] if group_by_stack_n > 0 else []
            if not group_by_input_shapes:
                avg.input_shapes = None   # one row stands for calls with different shapes
        return EventList(averages, self._profile_memory, self._trace_metadata)

    def total_average(self) -> FunctionEventAvg:
        """Every event summed into one average, keyed ``"Total"``."""
        total = FunctionEventAvg()
        for e in self:
            total.add(e)
        total.key = "Total"
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """PyTorch's summary table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, the memory
        columns when memory was profiled, # of Calls, Input Shapes when shapes were grouped on, Source
        Location when stacks were; sorted by the ``sort_by`` attribute (largest first), ``row_limit`` rows."""
        return build_table(self, sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
                           max_name_column_width=max_name_column_width,
                           max_shapes_column_width=max_shapes_column_width, header=header,
                           top_level_events_only=top_level_events_only, time_unit=time_unit,
                           profile_memory=self._profile_memory)

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str) -> None:
        """Write the events in Chrome's Trace Event Format (``chrome://tracing``, https://ui.perfetto.dev)."""
        from ._trace import write_chrome_trace
        write_chrome_trace(self, path, self._trace_metadata)


def build_events(recorder: Recorder) -> EventList:
    """The event tree of a recorder's raw records, as an :class:`EventList` sorted by start time."""
    raws = [r for r in recorder.events if r.end is not None]
    # A parent sorts before its children: by start, then the longer range first, then recording order.
    order = sorted(range(len(raws)), key=lambda i: (raws[i].start, -raws[i].end, i))
    events = []
    for n, i in enumerate(order, 1):
        r = raws[i]
        ev = FunctionEvent(n, r.name, r.tid, r.start / 1e3, r.end / 1e3, r.shapes, r.dtypes, r.stack,
                           r.kind == USER_ANNOTATION, r.args)
        ev._outputs = r.outputs
        events.append(ev)
    _link_parents(events)
    if recorder.profile_memory:
        _assign_memory(events)
    for ev in events:
        del ev._outputs
    events = _merge_same_name_wrappers(events)
    return EventList(events, recorder.profile_memory, {"record_shapes": int(recorder.record_shapes)})


def _link_parents(events: list[FunctionEvent]) -> None:
    """On each thread, walk the ranges in start order with the stack of the ranges still open."""
    open_ranges: dict[int, list[FunctionEvent]] = defaultdict(list)
    for ev in events:
        stack = open_ranges[ev.thread]
        while stack and stack[-1].time_range.end <= ev.time_range.start:
            stack.pop()
        # A range that only overlaps the open one (closed out of order) is not its child.
        while stack and stack[-1].time_range.end < ev.time_range.end:
            stack.pop()
        if stack:
            ev.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(ev)
        stack.append(ev)


def _merge_same_name_wrappers(events: list[FunctionEvent]) -> list[FunctionEvent]:
    """An op whose only child is an op of the same name (``F.relu`` calling ``Tensor.relu``) is one call:
    the child is dropped and its children become the parent's, as PyTorch's profiler does."""
    dropped = set()
    for ev in reversed(events):   # innermost first, so that a chain of wrappers folds into its outermost
        parent = ev.cpu_parent
        if parent is not None and parent.name == ev.name and len(parent.cpu_children) == 1:
            parent.cpu_children = ev.cpu_children
            for c in ev.cpu_children:
                c.cpu_parent = parent
            dropped.add(ev.id)
    return [ev for ev in events if ev.id not in dropped]


def _assign_memory(events: list[FunctionEvent]) -> None:
    """A range's memory is what its outputs allocated plus its children's; an output that is also a
    child's output (a composite op returning what an inner op made) is counted once, in the child."""
    inner_ids: dict[int, set] = {}
    for ev in reversed(events):   # children start after their parents: they come first here
        seen = set()
        for c in ev.cpu_children:
            seen |= inner_ids.pop(c.id)
        own = [(i, b) for i, b in (ev._outputs or ()) if i not in seen]
        ev.cpu_memory_usage = sum(b for _, b in own) + sum(c.cpu_memory_usage for c in ev.cpu_children)
        inner_ids[ev.id] = seen | {i for i, _ in own}
