"""MPI error handling on real ranks (tests/programs/errors.c): MPI_ERRORS_RETURN yields the
right error classes for bad handles and arguments; under the default MPI_ERRORS_ARE_FATAL an
error ends the whole job promptly, naming the failing function."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("n", [2, 3])
def test_errors_return(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("errors.c"), n).check()
    assert "FAILED" not in r.stdout, r.stdout
    assert "ok on_dup\n" in r.stdout and "ok on_world\n" in r.stdout, r.stdout
    assert "ok fuzz_found\n" in r.stdout, r.stdout
    assert f"errors done on {n} ranks" in r.stdout


@pytest.mark.parametrize("mode, survivor", [
    ("fatal-comm", "MPI_Recv returned"),      # rank 0 blocked in MPI_Recv forever
    ("fatal-rank", "passed the barrier"),     # the other ranks blocked in MPI_Barrier
])
def test_errors_are_fatal(compile_program, run, mode: str, survivor: str) -> None:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    r = run(compile_program("errors.c"), 2, mode, timeout=60)
    elapsed = time.monotonic() - t0
    assert r.returncode != 0, r.stdout
    assert elapsed < 30, f"the job took {elapsed:.0f}s to die"
    assert "MPI_Send" in r.stderr + r.stdout, r.stderr
    assert "MPI_Send returned" not in r.stdout
    assert survivor not in r.stdout
