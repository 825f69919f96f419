"""One-sided communication: windows on guest memory, every synchronization mode, target
displacements checked on the origin (docs/rma.md)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi

CASES = ("fence", "pscw", "locks", "lock_all", "accumulate", "atomics", "requests", "dynamic",
         "shared", "queries", "errors")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_rma(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    cases = run(compile_program("rma.c"), n, timeout=240).check_cases()
    comms = ["world", "self", "dup", "split"]
    for case in CASES:
        for comm in comms:
            assert f"PASS {case} {comm}" in cases["PASS"], (case, comm, cases)
    # windows need an intracommunicator: only the error check runs on the intercommunicator
    if n >= 2:
        assert "PASS errors inter" in cases["PASS"]
        assert all(ln.endswith("see errors)") for ln in cases["SKIP"]), cases["SKIP"]


def test_wild_displacement_is_fatal_by_default(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("rma.c"), 2, "fatal")
    assert r.returncode == 48, (r.returncode, r.stderr)  # MPI_ERR_RMA_RANGE ends the job
    assert "MPI_Put: target memory is not part of the window" in r.stderr
    assert "not reached" not in r.stdout
