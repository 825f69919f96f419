"""Process management without spawn (tests/programs/dynamic.c): ports between the halves of a
job, names, MPI_Comm_join's documented error; see docs/dynamic.md."""

from __future__ import annotations

import pytest
from conftest import wasmpi

pytestmark = pytest.mark.mpi

PORT_CASES = ("PASS accept_connect world", "PASS accept_connect dup")


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_dynamic(compile_program, mpi, n: int) -> None:  # type: ignore[no-untyped-def]
    env = mpi.env()
    if mpi.name == "mpich":  # the UCX netmod's port names do not fit MPICH's 256 bytes
        env["MPICH_CH4_NETMOD"] = "ofi"
    module = compile_program("dynamic.c")
    cases = wasmpi("run", "-n", str(n), str(module), env=env).check_cases()
    for name in ("parent world", "bad_port world", "bad_port self", "names world",
                 "join world"):
        assert f"PASS {name}" in cases["PASS"], cases
    if n >= 2:
        for case in PORT_CASES:
            assert case in cases["PASS"], cases
    if n >= 4:
        assert "PASS accept_connect split" in cases["PASS"], cases


def test_dynamic_without_ports(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    """Wherever the host cannot open ports, MPI_Open_port fails with a class, nothing hangs."""
    module = compile_program("dynamic.c")
    cases = wasmpi("run", "-n", "2", str(module), "maybe-noport", env=mpi.env()).check_cases()
    skipped = any("cannot open ports" in ln for ln in cases["SKIP"])
    assert skipped or all(c in cases["PASS"] for c in PORT_CASES), cases
    assert "PASS names world" in cases["PASS"] and "PASS join world" in cases["PASS"], cases
