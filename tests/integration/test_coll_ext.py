"""Nonblocking collectives, Alltoallw and Reduce_scatter(_block) on every communicator of the
conformance harness (tests/programs/coll_ext.c checks every value), and the traps of buffers
outside linear memory."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.mpi

CASES = ["ibarrier_ibcast", "igather_iscatter", "igather_iscatter_in_place",
         "iallgather_ialltoall", "iallgather_ialltoall_in_place", "ireductions",
         "ireductions_in_place", "iscan_iexscan", "iuser_ops", "alltoallw", "alltoallw_in_place",
         "reduce_scatter", "reduce_scatter_in_place", "bad_arguments"]
# defined on intercommunicators, so they must pass there rather than skip
INTER = ["ibarrier_ibcast", "igather_iscatter", "iallgather_ialltoall", "ireductions",
         "iuser_ops", "alltoallw", "reduce_scatter", "bad_arguments"]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_coll_ext(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    cases = run(compile_program("coll_ext.c"), n).check_cases()
    passed = {" ".join(ln.split()[1:3]) for ln in cases["PASS"]}
    comms = ["world", "self", "dup", "split"] + (["inter"] if n >= 2 else [])
    for case in CASES:
        for comm in comms:
            if comm == "inter" and case not in INTER:
                continue
            assert f"{case} {comm}" in passed, f"{case} {comm} did not pass:\n" + "\n".join(
                ln for ln in cases["SKIP"] if ln.startswith(f"SKIP {case} "))
    assert "bad_communicator self" in passed


FAULTS = {
    # (argv, the call, what, lowest byte of the reported range)
    "oob-alltoallw": ("MPI_Alltoallw", "buffer", 0xFFFF0000),
    "oob-ireduce-scatter-block": ("MPI_Ireduce_scatter_block", "buffer", 0xFFFF0000),
    "oob-request": ("MPI_Ibarrier", "argument", 0xFFFFFFF0),
    "oob-recvcounts": ("MPI_Reduce_scatter", "recvcounts array", 0xFFFFFFF0),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_out_of_bounds_traps(compile_program, run, fault: str) -> None:  # type: ignore[no-untyped-def]
    fn, what, lo = FAULTS[fault]
    r = run(compile_program("coll_ext.c"), 2, fault)
    assert r.returncode != 0
    assert "did not happen" not in r.stdout, r.stdout
    m = re.search(rf"{fn}: {what} \[(\d+), (\d+)\) is outside linear memory", r.stderr)
    assert m, r.stderr
    assert int(m[1]) == lo and int(m[2]) > lo, m[0]  # the range in guest addresses
    assert "wasm backtrace:" in r.stderr
