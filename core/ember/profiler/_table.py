"""The text table of ``EventList.table``, laid out as PyTorch's profiler prints it: right-aligned columns
two spaces apart, a dashed rule above and below the header and after the rows, then the total self time."""
from __future__ import annotations

_UNITS = {"s": 1e6, "ms": 1e3, "us": 1.0}
_COLUMN = 12   # the width of every numeric column


def format_time(us: float, unit: str | None = None) -> str:
    """Microseconds as PyTorch prints them: ``1.234s``, ``5.678ms`` or ``9.012us`` (or in ``unit``)."""
    if unit is None:
        unit = "s" if us >= 1e6 else "ms" if us >= 1e3 else "us"
    if unit not in _UNITS:
        raise ValueError(f"time_unit must be one of {sorted(_UNITS)}, got {unit!r}")
    return f"{us / _UNITS[unit]:.3f}{unit}"


def format_share(us: float, total_us: float) -> str:
    return "NaN" if total_us == 0 else f"{us * 100.0 / total_us:.2f}%"


def format_memory(nbytes: int) -> str:
    """Bytes as ``312.50 KB``, ``1.20 MB``, ``8 B`` (binary units, negative for a net release)."""
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _clip(text: str, limit: int) -> str:
    """Keep the head of a long name (cut, as PyTorch cuts, from ``limit - 3`` characters on)."""
    return text[: limit - 3] + "..." if len(text) >= limit - 3 else text


def _clip_path(text: str, width: int) -> str:
    """Keep the tail of a long source location (the file name and line are at its end)."""
    return "..." + text[len(text) - width + 3:] if len(text) > width else text


def _columns(events, max_name: int, max_shapes: int, max_src: int, memory: bool) -> list[tuple[str, int, str]]:
    """``(title, width, alignment)`` of each column these events need."""
    cols = [("Name", min(max(len(e.key) for e in events) + 4, max_name), ">")]
    cols += [(t, _COLUMN, ">") for t in ("Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg")]
    if memory:
        cols += [("CPU Mem", _COLUMN, ">"), ("Self CPU Mem", _COLUMN, ">")]
    cols.append(("# of Calls", _COLUMN, ">"))
    if any(e.input_shapes for e in events):
        cols.append(("Input Shapes", min(max(len(str(e.input_shapes)) for e in events) + 4, max_shapes), ">"))
    if any(e.stack for e in events):
        cols.append(("Source Location", min(max(len(s) for e in events for s in e.stack or [""]) + 4, max_src), "<"))
    return cols


def _row(event, cols, total_us: float, unit: str | None, max_name: int) -> list[str]:
    width = {title: w for title, w, _ in cols}
    shapes = str(event.input_shapes) if event.input_shapes is not None else ""
    values = {"Name": _clip(event.key, max_name),
              "Self CPU %": format_share(event.self_cpu_time_total, total_us),
              "Self CPU": format_time(event.self_cpu_time_total, unit),
              "CPU total %": format_share(event.cpu_time_total, total_us),
              "CPU total": format_time(event.cpu_time_total, unit),
              "CPU time avg": format_time(event.cpu_time, unit),
              "CPU Mem": format_memory(event.cpu_memory_usage),
              "Self CPU Mem": format_memory(event.self_cpu_memory_usage),
              "# of Calls": str(event.count),
              "Input Shapes": shapes[:width.get("Input Shapes", 0)],   # cut with no ellipsis, as PyTorch cuts it
              "Source Location": _clip_path(event.stack[0], width.get("Source Location", 0)) if event.stack else ""}
    return [values[title] for title, _, _ in cols]


def build_table(events, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
                max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None,
                profile_memory=False) -> str:
    """The table of ``events`` (see ``EventList.table``); ``""`` when there are none. The memory columns are
    shown when the profile recorded memory."""
    if len(events) == 0:
        return ""
    total_us = sum(e.self_cpu_time_total for e in events)   # every event, before filtering and the row limit
    cols = _columns(events, max_name_column_width, max_shapes_column_width, max_src_column_width, profile_memory)
    rows = list(events)
    if sort_by is not None:
        rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
    if top_level_events_only:
        rows = [e for e in rows if e.cpu_parent is None]
    if row_limit > 0:
        rows = rows[:row_limit]

    def line(cells):
        return "".join(f"{c:{align}{width}}  " for c, (_, width, align) in zip(cells, cols))

    rule = "".join("-" * width + "  " for _, width, _ in cols)
    out = []
    if header is not None:
        out += ["=" * (len(rule) - 2), header]
    if top_level_events_only:
        out += ["=" * (len(rule) - 2), "This report only display top-level ops statistics"]
    out += [rule, line([t for t, _, _ in cols]), rule]
    for e in rows:
        out.append(line(_row(e, cols, total_us, time_unit, max_name_column_width)))
        for frame in (e.stack or [])[1:]:   # further frames of a grouped stack, one per line
            out.append(line([""] * (len(cols) - 1) + [_clip_path(frame, cols[-1][1])]))
        if e.stack and len(e.stack) > 1:
            out.append(line([""] * len(cols)))
    out += [rule, f"Self CPU time total: {format_time(total_us, time_unit)}", ""]
    return "\n".join(out)
