"""Reduction operations: user ops are guest functions called back by the host MPI."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("n", [1, 2, 3])
def test_user_ops(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    cases = run(compile_program("op.c"), n).check_cases()
    assert any("PASS user_sum world" in ln for ln in cases["PASS"])
