"""Intercommunicators, Comm_idup, info hints, names, split_type, create_group and every group
call, on every communicator of the conformance harness: tests/programs/comm_ext.c."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi

CASES = ["intercomm_create", "inter_queries", "idup", "infos", "names", "split_type",
         "create_group", "groups"]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_comm_ext(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    cases = run(compile_program("comm_ext.c"), n).check_cases()
    passed = " ".join(cases["PASS"])
    for case in CASES:
        assert f"PASS {case} world" in passed or (case == "intercomm_create" and n == 1), case
    if n >= 2:  # the intercommunicator cases ran
        for case in ("inter_queries", "idup", "groups", "names", "infos"):
            assert f"PASS {case} inter" in passed, case
        assert "PASS intercomm_create world" in passed
