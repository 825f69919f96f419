"""Failure paths: each gives a clear message and a nonzero exit, never a hang (timeouts)."""

from __future__ import annotations

import time
from pathlib import Path

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


MISSING = "MPI_Not_a_real_function"  # missing.c imports it; no MPI will ever implement it


def _rank_processes(module: Path) -> list[str]:
    """Command lines of live processes that run ``module`` (ranks are `wasmpi exec MODULE`, or
    the LLVM tier's runner with `--where MODULE`)."""
    needle = str(module.resolve()).encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes() if proc.name.isdigit() else b""
        except OSError:  # exited meanwhile
            continue
        if needle in cmdline:
            args = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{proc.name}: {args}")
    return found


def test_missing_function_uncalled_runs(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    """Referenced but never called: the job runs as it would natively, with one warning."""
    r = run(compile_program("missing.c"), 2).check()
    assert "missing done on 2 ranks, sum 1" in r.stdout
    warnings = [ln for ln in r.stderr.splitlines() if "warning:" in ln]
    assert len(warnings) == 1 and MISSING in warnings[0], r.stderr
    assert r.stderr.count(MISSING) == 1, r.stderr  # once per job, not once per rank


def test_missing_function_called_ends_job(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    """Rank 1 calls it while rank 0 waits in MPI_Recv: the trap aborts the whole job."""
    module = compile_program("missing.c")
    t0 = time.monotonic()
    r = run(module, 2, "call", timeout=60)
    elapsed = time.monotonic() - t0
    assert r.returncode == 134, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert elapsed < 30, f"the job took {elapsed:.0f}s to die"
    assert (f"rank 1: wasm trap: {MISSING} is not implemented by this wasmpi "
            "(called by the guest)") in r.stderr, r.stderr
    assert "wasm backtrace:" in r.stderr and "main" in r.stderr
    assert "returned" not in r.stdout, r.stdout  # neither the call nor rank 0's MPI_Recv
    deadline = time.monotonic() + 10
    while (left := _rank_processes(module)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, "rank processes left behind:\n" + "\n".join(left)


def test_missing_function_strict_run(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("missing.c"), 2, opts=("--strict",))
    assert r.returncode == 70, r.stderr
    assert MISSING in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if "error:" in ln]) == 1, r.stderr


def test_missing_function_strict_exec(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    """WASMPI_STRICT=1 does for `wasmpi exec` what --strict does."""
    env = mpi.env()
    env["WASMPI_STRICT"] = "1"
    r = wasmpi("exec", str(compile_program("missing.c")), env=env)
    assert r.returncode == 70, r.stderr
    assert MISSING in r.stderr


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
