"""``ember run`` / ``python -m ember.distributed.run``: torchrun's flags and variables, the mpiexec command
line for MPICH and Open MPI, exit statuses (mpiexec runs only in the tests marked ``mpi``)."""
import subprocess
import sys

import pytest

from _launch import SCENARIOS, requires_mpi
from ember.distributed import run


def command(*argv, mpiexec="/opt/mpi/bin/mpiexec", open_mpi=False, monkeypatch=None):
    monkeypatch.setattr(run, "_is_open_mpi", lambda exe: open_mpi)
    return run.build_command(run.build_parser().parse_args(["--mpiexec", mpiexec, *argv]))


def test_torchrun_flags_become_an_mpiexec_command_and_torchrun_variables(monkeypatch):
    cmd, env = command("--standalone", "--nproc-per-node=3", "--master_addr", "10.0.0.1", "--master-port", "1234",
                       "train.py", "--lr", "0.1", monkeypatch=monkeypatch)
    assert cmd[:5] == ["/opt/mpi/bin/mpiexec", "-n", "3", "-launcher", "fork"]
    assert cmd[5:] == [sys.executable, "-u", "-m", "ember.distributed._bootstrap", "train.py", "--lr", "0.1"]
    assert (env["WORLD_SIZE"], env["LOCAL_WORLD_SIZE"], env["MASTER_ADDR"], env["MASTER_PORT"]) == ("3", "3", "10.0.0.1",
                                                                                                    "1234")
    assert env["OMP_NUM_THREADS"] == "1"


def test_hostfile_runs_every_node_from_one_command(monkeypatch):
    cmd, env = command("--nnodes", "2", "--nproc_per_node", "4", "--hostfile", "hosts", "-m", "pkg.train",
                       monkeypatch=monkeypatch)
    assert cmd[1:7] == ["-n", "8", "-f", "hosts", "-ppn", "4"]
    assert cmd[-2:] == ["-m", "pkg.train"] and env["WORLD_SIZE"] == "8"
    cmd, _ = command("--nnodes", "2:2", "-n", "2", "--hostfile", "hosts", "t.py", open_mpi=True, monkeypatch=monkeypatch)
    assert cmd[1:4] == ["-n", "4", "--oversubscribe"]
    i = cmd.index("--hostfile")
    assert cmd[i:i + 4] == ["--hostfile", "hosts", "--npernode", "2"]


@pytest.mark.parametrize("argv, message", [
    (["--nnodes", "2", "t.py"], "list the machines in an MPI host file"),
    (["--node_rank", "1", "--hostfile", "h", "--nnodes", "2", "t.py"], "run `ember run` once"),
])
def test_multi_node_misuse_is_explained(argv, message, monkeypatch):
    with pytest.raises(ValueError, match=message):
        command(*argv, monkeypatch=monkeypatch)


def test_bad_flag_values_are_argparse_errors(capsys):
    for argv in (["--nproc_per_node", "0", "t.py"], ["--nnodes", "1:4", "t.py"], ["--nproc_per_node", "gpu", "t.py"]):
        with pytest.raises(SystemExit) as e:
            run.build_parser().parse_args(argv)
        assert e.value.code == 2
    assert "elastic ranges are not supported" in capsys.readouterr().err


def test_bootstrap_sets_torchrun_variables_from_mpi_ones():
    from ember.distributed._bootstrap import set_torchrun_env
    env = {"PMI_RANK": "5", "MPI_LOCALRANKID": "1", "LOCAL_WORLD_SIZE": "4"}
    import os
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        set_torchrun_env()
        assert (os.environ["RANK"], os.environ["LOCAL_RANK"], os.environ["GROUP_RANK"]) == ("5", "1", "1")
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.mpi
@requires_mpi
def test_ember_run_cli_with_torchrun_flags_and_exit_status():
    script = str(SCENARIOS / "echo.py")
    ok = subprocess.run([sys.executable, "-m", "ember", "run", "--standalone", "--nproc-per-node=2", "--master_port",
                         "29511", script, "a", "--flag"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    lines = sorted(line for line in ok.stdout.splitlines() if line.startswith("rank"))
    assert lines == [f"rank {r} local {r} world 2 local_world 2 master 127.0.0.1 29511 argv a --flag" for r in (0, 1)]
    failed = subprocess.run([sys.executable, "-m", "ember.distributed.run", "-n", "2", script, "3"],
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode == 3, failed.stdout + failed.stderr


@pytest.mark.mpi
@requires_mpi
def test_distributed_example_trains_digits(tmp_path):
    pytest.importorskip("sklearn")
    example = SCENARIOS.parents[3] / "examples" / "distributed" / "train_ddp.py"
    ckpt = tmp_path / "digits.pt"
    result = subprocess.run([sys.executable, "-m", "ember", "run", "-n", "2", str(example), "--epochs", "6",
                             "--save", str(ckpt)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    acc = float(result.stdout.split("test accuracy ")[1].split()[0])
    assert acc > 0.9, result.stdout
    import ember
    assert list(ember.load(ckpt))[0] == "0.weight"     # the bare model's keys, no 'module.' prefix
