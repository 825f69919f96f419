"""Info objects and the environment on real ranks (tests/programs/info_env.c): every Info_*
call, MPI_INFO_ENV, added error classes/codes/strings, MPI_Alloc_mem memory in messages, thread
levels, versions, processor name, timers, MPI_Pcontrol."""

from __future__ import annotations

import socket

import pytest

pytestmark = pytest.mark.mpi

CASES = ("info_calls world", "info_env world", "user_errors world", "alloc_mem world",
         "alloc_mem self", "alloc_mem dup", "alloc_mem split", "environment world",
         "timers world")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_info_and_environment(compile_program, run, mpi, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("info_env.c"), n)
    cases = r.check_cases()
    for case in CASES + (("alloc_mem inter",) if n > 1 else ()):
        assert f"PASS {case}" in cases["PASS"], r.stdout
    lines = r.stdout.splitlines()
    # the host library's own version string and processor name reach the guest
    library = next(ln for ln in lines if ln.startswith("library: "))
    assert ("MPICH" if mpi.name == "mpich" else "Open MPI") in library, library
    assert f"processor: {socket.gethostname()}" in lines, r.stdout
    assert "thread: single" in lines, r.stdout  # MPI_Init's level


@pytest.mark.parametrize("level", ["single", "funneled", "serialized", "multiple"])
def test_init_thread_levels(compile_program, run, level: str) -> None:  # type: ignore[no-untyped-def]
    """A wasm32 guest has one thread, which satisfies every level: the required one is
    provided, and MPI_Query_thread says so."""
    r = run(compile_program("info_env.c"), 2, level)
    r.check_cases()
    assert f"thread: {level}" in r.stdout.splitlines(), r.stdout
