"""Collectives on real ranks, and MPI_Allreduce over every predefined C datatype x operation:
tests/programs/coll.c checks every result against a local computation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi

SECTIONS = ["bcast_reduce", "gather_scatter", "allgather_alltoall", "reduce_scatter_scan",
            "allreduce_all", "predefined_ops", "long_double", "misc_bcast"]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_collectives(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("coll.c"), n).check_sections(SECTIONS)
    assert "allreduce combinations: 257" in r.stdout
    assert f"coll done on {n} ranks" in r.stdout
