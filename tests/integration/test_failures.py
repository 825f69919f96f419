"""Failure paths: each gives a clear message and a nonzero exit, never a hang (timeouts)."""

from __future__ import annotations

import pytest
from conftest import wasmpi

pytestmark = pytest.mark.mpi


def test_abort_exit_status(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("abort.c"), 2, "3")
    assert r.returncode == 3, r.stderr


@pytest.mark.parametrize("fault", ["oob-send", "oob-recv"])
def test_out_of_bounds_buffer_traps(compile_program, run, fault: str) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("faults.c"), 2, fault)
    assert r.returncode != 0
    fn = "MPI_Send" if fault == "oob-send" else "MPI_Recv"
    assert f"{fn}: buffer [" in r.stderr
    assert "is outside linear memory (" in r.stderr
    assert "wasm backtrace:" in r.stderr and "main" in r.stderr


def test_trapping_rank_ends_job(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("faults.c"), 2, "trap")
    assert r.returncode != 0
    assert "rank 1: wasm trap:" in r.stderr
    assert "unreachable" in r.stderr


def test_nonzero_exit_ends_job(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("faults.c"), 2, "exit")
    assert r.returncode == 5


def test_unsupported_import_is_named(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("unsupported.c"), 2)
    assert r.returncode == 70
    assert "MPI_Win_create" in r.stderr and "MPI_Win_free" in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if "error:" in ln]) == 1


def test_unsupported_import_rejected_by_exec(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = wasmpi("exec", str(compile_program("unsupported.c")), env=mpi.env())
    assert r.returncode == 70
    assert "MPI_Win_create" in r.stderr


@pytest.mark.parametrize("content", [b"hello\n", b"\0asm\x01\0\0\0\xff\xff"])
def test_not_wasm(tmp_path, mpi, content: bytes) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(content)
    r = wasmpi("run", "-n", "2", str(bad), env=mpi.env())
    assert r.returncode == 65
    assert r.stderr.count("\n") <= 2 and "bad.wasm" in r.stderr


def test_missing_module(tmp_path, mpi) -> None:  # type: ignore[no-untyped-def]
    r = wasmpi("run", "-n", "2", str(tmp_path / "nope.wasm"), env=mpi.env())
    assert r.returncode == 65 and "no such file" in r.stderr
