"""A trap inside a guest callback that the host MPI runs (tests/programs/callback_traps.c) ends
the whole job promptly, with a message naming the callback: the host MPI is in the middle of a
call and cannot be unwound, and the other ranks must not hang."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("mode, callback", [
    ("op", "user reduction function (MPI_Op_create)"),
    ("errhandler", "communicator error handler (MPI_Comm_create_errhandler)"),
    ("copy", "attribute copy function (MPI_Comm_create_keyval)"),
    ("delete", "attribute delete function (MPI_Comm_create_keyval)"),
    ("type-copy", "attribute copy function (MPI_Type_create_keyval)"),
    ("finalize", "attribute delete function (MPI_Comm_create_keyval)"),
    ("bad-function", "communicator error handler (MPI_Comm_create_errhandler): function "
                     "pointer 134217727 is not a function of the module"),
    ("bad-pointer", "wasm trap: MPI_Comm_get_attr: argument [4294967294, 4294967298) is outside "
                    "linear memory"),
])
def test_trap_in_callback_ends_job(compile_program, run, mode: str, callback: str) -> None:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    r = run(compile_program("callback_traps.c"), 2, mode, timeout=60)
    elapsed = time.monotonic() - t0
    assert r.returncode != 0, r.stdout + r.stderr
    assert elapsed < 30, f"the job took {elapsed:.0f}s to die"
    assert f"rank 1: {mode}" in r.stdout, r.stdout
    assert f"wasmpi: rank 1: {callback}" in r.stderr, r.stderr
    if not mode.startswith("bad-"):
        assert "wasm trap" in r.stderr, r.stderr  # the trap's own reason is passed on
    assert "survived" not in r.stdout, r.stdout
    if mode != "finalize":  # rank 0 waits in MPI_Barrier until the job is torn down
        assert "passed the barrier" not in r.stdout, r.stdout


def test_exit_in_callback_ends_job_with_its_status(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    """exit(3) inside an error handler: the rank cannot return into the host MPI call, so the
    job ends with the guest's status (and its stdout, flushed by exit)."""
    r = run(compile_program("callback_traps.c"), 2, "exit", timeout=60)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "error handler: exit(3)" in r.stdout, r.stdout
    assert ("wasmpi: rank 1: communicator error handler (MPI_Comm_create_errhandler) called "
            "exit(3)") in r.stderr, r.stderr
    assert "passed the barrier" not in r.stdout and "survived" not in r.stdout, r.stdout
