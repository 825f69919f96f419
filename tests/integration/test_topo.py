"""Process topologies and every neighborhood collective, on every communicator of the
conformance harness: tests/programs/topo.c."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi

CASES = ["no_topology", "cart", "cart_neighbors", "graph", "dist_graph"]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_topo(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    cases = run(compile_program("topo.c"), n).check_cases()
    passed = " ".join(cases["PASS"])
    assert "PASS dims_create self" in passed
    for case in CASES:
        for comm in ("world", "self", "dup", "split"):
            assert f"PASS {case} {comm}" in passed, (case, comm)
    if n >= 2:  # the errors on an intercommunicator
        assert "PASS no_topology inter" in passed
