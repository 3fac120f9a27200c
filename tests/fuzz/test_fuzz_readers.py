"""Fuzzing every file reader with seeded mutations of valid files (issue 12): each mutated file must
load, or fail with the reader's documented error naming the file -- never another exception, a
MemoryError under a 1 GiB cap, a crash, a hang, or a load much larger than the file.

The fast subset (100 cases per reader, one worker process) runs with every test run; the long run
(``EMBER_FUZZ_CASES``, default 5000 per reader, seed ``EMBER_FUZZ_SEED``, default 1, two workers) is
marked ``fuzz``: ``make fuzz``.
"""
import os
import signal
import sys

import pytest

import _fuzzlib

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fuzz workers use select() on pipes and rlimits")

FAST_CASES = 100


@pytest.fixture(scope="module")
def worker():
    w = _fuzzlib.Worker()
    w.start()
    yield w
    w.stop()


def check(reader, results, expected):
    s = _fuzzlib.summarize(results)
    assert s["cases"] == expected, _fuzzlib.format_summary(reader, s)
    assert not s["failures"], (f"{len(s['failures'])} of {s['cases']} mutated {reader} files failed badly "
                               f"(reproduce with _fuzzlib.Case(reader, seed, index)):\n"
                               + _fuzzlib.format_failures(s["failures"]))
    return s


@pytest.mark.parametrize("reader", _fuzzlib.READERS)
def test_fast_seeded_subset(reader, worker):
    s = check(reader, _fuzzlib.run_cases(reader, 0, range(FAST_CASES), pool=[worker]), FAST_CASES)
    assert s["rejected"] > 0  # the mutations do reach the readers' checks


@pytest.mark.fuzz
@pytest.mark.parametrize("reader", _fuzzlib.READERS)
def test_long_run(reader):
    cases = int(os.environ.get("EMBER_FUZZ_CASES", 5000))
    seed = int(os.environ.get("EMBER_FUZZ_SEED", 1))
    results = _fuzzlib.run_cases(reader, seed, range(cases), workers=int(os.environ.get("EMBER_FUZZ_WORKERS", 2)))
    s = _fuzzlib.summarize(results)
    _fuzzlib.REPORT.append(_fuzzlib.format_summary(reader, s))
    check(reader, results, cases)


# ---- the harness itself ----------------------------------------------------------------------

def test_cases_are_reproducible_and_varied():
    a, b = _fuzzlib.Case("safetensors", 3, 7), _fuzzlib.Case("safetensors", 3, 7)
    assert a.data == b.data and a.description == b.description
    datas = [_fuzzlib.Case("png", 0, i).data for i in range(20)]
    originals = {d for _, d in _fuzzlib.seeds("png")}
    assert len(set(datas)) >= 18 and sum(d in originals for d in datas) <= 2  # a mutation may rewrite a value as is


def test_outcomes_are_classified(tmp_path, monkeypatch):
    import ember
    from ember.serialization import CheckpointError

    case = _fuzzlib.Case("native", 0, 0)
    case.option = 1.0  # load by path

    def run_with(effect):
        def fake_load(f, *args, **kwargs):
            raise effect(str(f))
        monkeypatch.setattr(ember, "load", fake_load)
        return _fuzzlib.run_case(case, tmp_path)

    assert run_with(lambda path: CheckpointError(f"{path}: broken"))["status"] == "rejected"
    unnamed = run_with(lambda path: CheckpointError("broken"))
    assert unnamed["status"] == "FAIL" and "doesn't name the file" in unnamed["message"]
    internal = run_with(lambda path: TypeError(f"{path}: unhashable"))
    assert internal["status"] == "FAIL" and internal["error"] == "TypeError"
    monkeypatch.setattr(ember, "load", lambda f: ember.zeros(1).expand(1000, 1000).contiguous())
    amplified = _fuzzlib.run_case(case, tmp_path)
    assert amplified["status"] == "FAIL" and amplified["error"] == "amplification"


def test_a_hanging_case_is_reported_and_its_worker_replaced(worker):
    os.kill(worker.proc.pid, signal.SIGSTOP)  # the worker hangs
    out = _fuzzlib.run_cases("png", 0, [0, 1], pool=[worker], timeout=1.0)
    assert out[0]["status"] == "FAIL" and out[0]["error"] == "timeout"
    assert out[1]["status"] in ("loaded", "rejected")  # answered by a fresh worker
