"""Error handlers on real ranks (tests/programs/errhandler.c): a user handler is guest code that
the bridge calls with the communicator and the error code; MPI_Comm_call_errhandler, get/free,
inheritance by MPI_Comm_dup, MPI_ERRORS_RETURN."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi

CASES = ("user_handler", "call_errhandler", "errors_return", "handler_without_varargs",
         "reentrant_handler")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_error_handlers(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("errhandler.c"), n)
    cases = r.check_cases()
    comms = ["world", "self", "dup", "split"] + (["inter"] if n > 1 else [])
    for name in CASES:
        for comm in comms:
            assert f"PASS {name} {comm}" in cases["PASS"], r.stdout
