"""--time-limit: the job ends at the limit, each rank saying which MPI call it waits in (the
deadlock helper), or that it is computing; a job that finishes in time is untouched."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import MPI, Result, wasmpi
from test_failures import _rank_processes

pytestmark = pytest.mark.mpi

LIMIT = 3
#: the job must be over this long after the limit (start-up, the ranks' grace, teardown)
SLACK = 12
TIME_LIMIT_EXIT = 124


def _limited(mpi: MPI, module: Path, n: int, *args: str, limit: float = LIMIT) -> Result:
    """Run ``module`` under a time limit that fires; check the exit, the time, what is left."""
    wasmpi("compile", str(module), env=mpi.env()).check()  # the limit is about the job
    t0 = time.monotonic()
    r = wasmpi("run", "-n", str(n), "--time-limit", str(limit), str(module), *args,
               env=mpi.env(), timeout=limit + 60)
    elapsed = time.monotonic() - t0
    assert r.returncode == TIME_LIMIT_EXIT, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert limit <= elapsed < limit + SLACK, f"the job took {elapsed:.1f} s\n{r.stderr}"
    deadline = time.monotonic() + 5
    while (left := _rank_processes(module)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, "processes left behind:\n" + "\n".join(left)
    return r


def _report(r: Result, rank: int) -> str:
    """What rank ``rank`` said when the limit fired."""
    prefix = f"wasmpi: rank {rank}: time limit ({LIMIT} s) reached "
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith(prefix)]
    assert len(lines) == 1, r.stderr
    return lines[0][len(prefix):]


@pytest.mark.parametrize("n", [2, 3])
def test_deadlock_names_each_ranks_call(compile_program, mpi, n: int) -> None:  # type: ignore[no-untyped-def]
    r = _limited(mpi, compile_program("timelimit.c"), n, "deadlock")
    for rank in range(n):
        assert _report(r, rank) == (f"in MPI_Recv(source={(rank - 1) % n}, tag=7, "
                                    "comm=MPI_COMM_WORLD)"), r.stderr
    assert "received" not in r.stdout


@pytest.mark.parametrize("n", [2, 3])
def test_computing_and_waiting_ranks(compile_program, mpi, n: int) -> None:  # type: ignore[no-untyped-def]
    """Rank 0 loops in wasm, the others wait for it in MPI_Barrier."""
    r = _limited(mpi, compile_program("timelimit.c"), n, "mixed")
    assert _report(r, 0) == "while computing", r.stderr
    for rank in range(1, n):
        assert _report(r, rank) == "in MPI_Barrier(comm=MPI_COMM_WORLD)", r.stderr


def test_module_without_mpi(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    """No bridge: each process still ends at the limit, computing."""
    r = _limited(mpi, compile_program("spin.c"), 2, "forever", limit=2)
    lines = [ln for ln in r.stderr.splitlines() if "time limit" in ln]
    assert lines == ["wasmpi: time limit (2 s) reached while computing"] * 2, r.stderr


@pytest.mark.parametrize("n", [2, 3])
def test_job_within_limit_is_unaffected(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("timelimit.c"), n, "quick", opts=("--time-limit", "60")).check()
    assert sorted(r.stdout.splitlines()) == [
        f"rank {i} of {n}: sum {n * (n - 1) // 2}" for i in range(n)]
    assert "time limit" not in r.stderr


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf", ""])
@pytest.mark.parametrize("command", ["run", "exec"])
def test_bad_time_limit_is_usage_error(compile_program, command: str, value: str) -> None:  # type: ignore[no-untyped-def]
    r = wasmpi(command, "--time-limit", value, str(compile_program("spin.c")), timeout=60)
    assert r.returncode == 64, f"exit {r.returncode}\n{r.stderr}"
    assert r.stderr.count("\n") == 1 and "--time-limit" in r.stderr, r.stderr
