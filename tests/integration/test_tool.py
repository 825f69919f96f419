"""The MPI_T tool information interface: the host library's variables and categories."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tool_interface(compile_program, run, mpi, n: int) -> None:  # type: ignore[no-untyped-def]
    cases = run(compile_program("tool.c"), n).check_cases()
    for name in ("constants", "init_nesting", "cvars", "cvar_read_write", "categories",
                 "pvars"):
        assert f"PASS {name} world" in cases["PASS"], cases
    if mpi.name == "openmpi":  # MPICH (this build) has no performance variables
        assert "PASS pvar_session inter" in cases["PASS"] or n == 1, cases
        assert "PASS pvar_bound world" in cases["PASS"], cases
