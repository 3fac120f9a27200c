"""Regenerate ``profiler_reference.json``: PyTorch's profiler tables and schedules for tests/core/test_profiler.py.

Needs PyTorch (the tests themselves never import it); run from the repository root with

    /work/refvenv/bin/python tests/core/data/make_profiler_reference.py

Measured times differ from run to run, so the tables are made from events with fixed times: each event of
``TREES`` (name, start and end in microseconds, parent index, input shapes, bytes allocated) is built as a
``torch.autograd.profiler_util.FunctionEvent``; PyTorch builds the tree from the time ranges (checked against
the parent indices), and each entry of ``TABLES`` prints the ``EventList`` (or its ``key_averages``) with the
given ``table`` options. The test builds the same events with Ember's recorder and compares the text exactly.
``SIGNATURES`` gives the parameters (name, kind, default) of the public callables Ember mirrors. ``SCHEDULES`` are
``torch.profiler.schedule`` options with the actions of their first steps.
"""
import inspect
import json
import os
import warnings

import torch.autograd.profiler
import torch.profiler
from torch.autograd.profiler_util import EventList, FunctionEvent
from torch.profiler import schedule

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profiler_reference.json")

# (name, start_us, end_us, parent index or None, input shapes, cpu memory usage in bytes)
TREES = {
    "model": [
        ["forward", 0.0, 5000.0, None, [], 4096],
        ["aten::linear", 10.0, 2010.5, 0, [[8, 16], [4, 16], [4]], 128],
        ["aten::addmm", 20.0, 1990.25, 1, [[4], [8, 16], [16, 4]], 128],
        ["aten::relu", 2100.0, 2150.0, 0, [[8, 4]], 128],
        ["aten::linear", 2200.0, 4900.0, 0, [[8, 4], [2, 4], [2]], 64],
        ["aten::addmm", 2210.0, 4800.0, 4, [[2], [8, 4], [4, 2]], 64],
        ["optimizer_step_with_a_name_long_enough_to_be_cut_in_the_table", 6000.0, 2006000.0, None, [], 0],
        ["aten::add_", 6100.0, 6200.0, 6, [[4, 16], [4, 16], []], 0],
    ],
    "flat": [
        ["a", 0.0, 1.0, None, [], 0],
        ["b", 2.0, 2.5, None, [[3]], 0],
        ["a", 3.0, 3.25, None, [[2, 2]], 0],
    ],
}

TABLES = [
    {"tree": "model", "averages": False, "options": {}},
    {"tree": "model", "averages": True, "options": {"sort_by": "self_cpu_time_total", "row_limit": 20}},
    {"tree": "model", "averages": True, "options": {"sort_by": "cpu_time_total", "row_limit": 3}},
    {"tree": "model", "averages": True, "group_by_input_shape": True, "options": {"sort_by": "count"}},
    {"tree": "model", "averages": True, "options": {"header": "Model", "top_level_events_only": True}},
    {"tree": "model", "averages": True, "options": {"max_name_column_width": 20, "time_unit": "ms"}},
    {"tree": "model", "averages": True, "profile_memory": True, "options": {"sort_by": "self_cpu_memory_usage"}},
    {"tree": "flat", "averages": False, "options": {"max_shapes_column_width": 8}},
    {"tree": "flat", "averages": True, "group_by_input_shape": True, "options": {"time_unit": "us"}},
]

SCHEDULES = [
    {"wait": 1, "warmup": 1, "active": 2, "repeat": 1},
    {"wait": 2, "warmup": 1, "active": 3, "repeat": 2},
    {"wait": 0, "warmup": 0, "active": 1},
    {"wait": 1, "warmup": 2, "active": 2, "skip_first": 3},
    {"wait": 2, "warmup": 1, "active": 1, "repeat": 2, "skip_first_wait": 1},
]
STEPS = 16

SIGNATURES = {
    "profiler.profile": torch.profiler.profile.__init__,
    "profiler.profile.key_averages": torch.profiler.profile.key_averages,
    "profiler.profile.export_chrome_trace": torch.profiler.profile.export_chrome_trace,
    "profiler.profile.export_stacks": torch.profiler.profile.export_stacks,
    "profiler.record_function": torch.profiler.record_function.__init__,
    "profiler.schedule": torch.profiler.schedule,
    "profiler.tensorboard_trace_handler": torch.profiler.tensorboard_trace_handler,
    "profiler.EventList.table": EventList.table,
    "profiler.EventList.key_averages": EventList.key_averages,
    "autograd.profiler.profile": torch.autograd.profiler.profile.__init__,
    "autograd.profiler.profile.key_averages": torch.autograd.profiler.profile.key_averages,
    "autograd.profiler.profile.table": torch.autograd.profiler.profile.table,
}


def parameters(fn):
    return [[p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
            for p in inspect.signature(fn).parameters.values() if p.name != "self"]


def build(tree, profile_memory):
    events = EventList([FunctionEvent(i + 1, name, 1, start, end, input_shapes=shapes, stack=[], cpu_memory_usage=mem)
                        for i, (name, start, end, _, shapes, mem) in enumerate(tree)], profile_memory=profile_memory)
    events._build_tree()   # parents and children from the time ranges, as after a real profile
    for ev, (_, _, _, parent, _, _) in zip(events, tree):
        assert (ev.cpu_parent.id - 1 if ev.cpu_parent else None) == parent, ev.name
    return events


def main():
    tables = []
    for case in TABLES:
        events = build(TREES[case["tree"]], case.get("profile_memory", False))
        if case["averages"]:
            events = events.key_averages(group_by_input_shapes=case.get("group_by_input_shape", False))
        tables.append({**case, "text": events.table(**case["options"])})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # warmup=0 warns
        schedules = [{"options": opts, "actions": [schedule(**opts)(step).name for step in range(STEPS)]}
                     for opts in SCHEDULES]
    with open(OUT, "w") as f:
        json.dump({"trees": TREES, "tables": tables, "schedules": schedules,
                   "signatures": {k: parameters(fn) for k, fn in SIGNATURES.items()}}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
