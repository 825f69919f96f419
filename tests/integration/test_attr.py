"""Attribute caching on real ranks (tests/programs/attr.c): guest copy and delete functions
called back by the host MPI with the right arguments and counts, on every harness communicator
and on datatypes; predefined attributes; MPI_Finalize deleting MPI_COMM_SELF's attributes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("n", [1, 2, 3])
def test_attributes(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("attr.c"), n)
    cases = r.check_cases(min_pass=20)
    for name in ("comm_callbacks", "predefined_copy_functions", "delete_error", "mpi1_names",
                 "bad_keyvals"):
        for comm in ["world", "self", "dup", "split"] + (["inter"] if n > 1 else []):
            assert f"PASS {name} {comm}" in cases["PASS"], r.stdout
    for name in ("type_callbacks world", "many_keyvals self", "win_keyvals self",
                 "predefined_attributes world"):
        assert f"PASS {name}" in cases["PASS"], r.stdout
    # MPI_Finalize ran the delete function of MPI_COMM_SELF's attribute on every rank, before
    # MPI was finalized (MPI_Finalized said 0 and MPI_Comm_rank worked)
    for rank in range(n):
        assert (f"finalize delete: self 1 keyval 1 value 42 finalized 0 rank {rank}\n"
                in r.stdout), r.stdout


def test_return_without_finalize(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    """The host finalizes for a guest that returned from main without MPI_Finalize; the delete
    function of its MPI_COMM_SELF attribute (which would trap) is not called, as natively."""
    r = run(compile_program("attr.c"), 2, "no-finalize").check()
    assert r.stdout.count("returning without MPI_Finalize") == 2, r.stdout
    assert "trap" not in r.stderr, r.stderr
