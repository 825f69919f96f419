"""Derived datatypes byte for byte against the host MPI (tests/programs/datatypes_ext.c):
every constructor, the queries, envelope/contents round trips, names, MPI_BOTTOM addresses,
packing (native and external32), binary128 long double transfers, documented errors, and
bounds faults of (count, datatype) spans."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi

CONSTRUCTORS = ["contiguous", "vector", "hvector", "indexed", "hindexed", "indexed_block",
                "hindexed_block", "struct", "subarray", "darray", "resized", "dup"]
LOCAL = ["predefined_contents", "match_size", "names", "external32", "f90"]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_datatypes_ext(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    cases = run(compile_program("datatypes_ext.c"), n).check_cases()
    passed = cases["PASS"]
    comms = ["world", "self", "dup", "split", *(["inter"] if n > 1 else [])]
    for case in [*CONSTRUCTORS, "addresses", "pack_sequence", "long_double", "elements"]:
        for comm in comms:
            assert f"PASS {case} {comm}" in passed, (case, comm)
    for case in LOCAL:
        assert f"PASS {case} self" in passed, case


@pytest.mark.parametrize("fault", ["oob-end", "oob-start"])
def test_span_outside_memory_traps(compile_program, run, fault: str) -> None:  # type: ignore[no-untyped-def]
    """A (count, datatype) whose true extent leaves linear memory, past its end or before its
    start, is a trap naming the function; the job ends (no hang: run() has a timeout)."""
    r = run(compile_program("datatypes_ext.c"), 2, fault)
    assert r.returncode != 0
    assert "MPI_Send: buffer [" in r.stderr
    assert "is outside linear memory (" in r.stderr
    assert "did not happen" not in r.stdout
