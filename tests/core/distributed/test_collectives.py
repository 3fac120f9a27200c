"""``ember.distributed`` on 2 MPI ranks: every collective against NumPy (scenarios/collectives.py), and a
failing rank that makes the whole job fail fast."""
import pytest

from _launch import checks_passed, launch, requires_mpi

pytestmark = [pytest.mark.mpi, requires_mpi]


def test_collectives_match_numpy_on_two_ranks():
    # 7 dtypes x 5 shapes (empty ones included) x contiguous/permuted/strided views, every ReduceOp,
    # async handles, p2p, objects, subgroups, errors and torchrun's environment variables.
    assert checks_passed(launch("collectives.py"), "collectives") > 2000


@pytest.mark.parametrize("mode", ["raise", "exit_before_init", "hang"])
def test_a_failing_rank_fails_the_job_fast(mode):
    # rank 1 raises / exits with status 4 before joining MPI / sleeps past the 2 s timeout while rank 0 waits
    # in all_reduce: the launcher must return non-zero well before the subprocess timeout.
    result = launch("fault.py", mode, timeout=40)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "reached the end" not in result.stdout
    expected = {"raise": "ValueError: rank 1 fails on purpose", "exit_before_init": "Abort(4)",
                "hang": "all_reduce timed out on rank 0 after 2 s"}[mode]
    assert expected in out, out[-3000:]
