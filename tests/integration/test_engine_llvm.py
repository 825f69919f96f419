"""The LLVM engine tier (``--engine llvm``): real programs, real ranks, both MPIs.

The module is translated by wasm2c and compiled by zig's clang; each rank is the native runner
started by mpiexec. The first run per MPI builds the runner (tens of seconds on a busy machine).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MPI, Result, wasmpi
from test_collectives import SECTIONS as COLL_SECTIONS
from test_p2p import SECTIONS as P2P_SECTIONS

pytestmark = [pytest.mark.mpi, pytest.mark.engine("llvm")]

LLVM = ("--engine", "llvm")


def llvm_run(mpi: MPI, module: Path, n: int = 2, *args: str,
             opts: tuple[str, ...] = ()) -> Result:
    return wasmpi("run", "-n", str(n), *LLVM, *opts, str(module), *args, env=mpi.env(),
                  timeout=300)


@pytest.mark.parametrize("n", [1, 2])
def test_hello(compile_program, mpi, n: int) -> None:  # type: ignore[no-untyped-def]
    r = llvm_run(mpi, compile_program("hello.c"), n).check()
    for rank in range(n):
        assert f"rank {rank} of {n} " in r.stdout, r.stdout


def test_no_python_in_ranks(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = wasmpi("-v", "run", "-n", "1", *LLVM, str(compile_program("hello.c")), env=mpi.env(),
               timeout=300).check()
    launch = [ln for ln in r.stderr.splitlines() if "wasmpi-runner-" in ln and "-n 1" in ln]
    assert launch and " -m wasmpi exec " not in launch[0].split("--spawn")[0], r.stderr


def test_exec_imports_no_wasmtime(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    """`wasmpi exec --engine llvm` (what srun and MPI_Comm_spawn start) only finds the runner
    and execs it: it never loads wasmtime. Python's import log, written before the exec, says
    what it imported; the ranks still run."""
    from wasmpi import config, hostmpi

    module = compile_program("hello.c")
    old = config.current()
    config.install(config.resolve(environ=mpi.env(), use_file=False))  # the session's cache
    try:
        host = hostmpi.select(mpi.mpicc)
    finally:
        config.install(old)
    argv = [host.mpiexec, *host.launcher_args(), "-n", "2", sys.executable, "-X", "importtime",
            "-m", "wasmpi", "exec", "--engine", "llvm", "--mpi", mpi.mpicc, str(module)]
    env = {**mpi.env(), **host.launcher_env()}
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert "rank 0 of 2 " in p.stdout and "rank 1 of 2 " in p.stdout, p.stdout
    imported = [ln.rsplit("|", 1)[-1].strip() for ln in p.stderr.splitlines()
                if ln.startswith("import time:")]
    assert "wasmpi.runtime.llvm" in imported, p.stderr  # the log is there
    assert not [m for m in imported if m.split(".")[0] == "wasmtime"], p.stderr


@pytest.mark.parametrize("n", [2, 4])
def test_p2p(compile_program, mpi, n: int) -> None:  # type: ignore[no-untyped-def]
    llvm_run(mpi, compile_program("p2p.c"), n).check_sections(P2P_SECTIONS)


@pytest.mark.parametrize("n", [2, 3])
def test_collectives(compile_program, mpi, n: int) -> None:  # type: ignore[no-untyped-def]
    llvm_run(mpi, compile_program("coll.c"), n).check_sections(COLL_SECTIONS)


def test_user_ops_upcall(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    llvm_run(mpi, compile_program("op.c"), 3).check_cases()


def test_error_handler_upcall(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = llvm_run(mpi, compile_program("errhandler.c"), 2).check()
    assert "FAILED" not in r.stdout, r.stdout


def test_trap_backtrace(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = llvm_run(mpi, compile_program("faults.c"), 2, "trap")
    assert r.returncode == 134, r
    assert "rank 1: wasm trap: wasm `unreachable` instruction executed" in r.stderr, r.stderr
    assert "wasm backtrace:" in r.stderr and "faults.wasm!main" in r.stderr, r.stderr


def test_bridge_trap(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = llvm_run(mpi, compile_program("faults.c"), 2, "oob-send")
    assert r.returncode == 134, r
    assert "rank 1: wasm trap: MPI_Send: buffer [" in r.stderr, r.stderr
    assert "is outside linear memory (" in r.stderr and "!main" in r.stderr, r.stderr


@pytest.mark.parametrize("what", ["load", "count"])
def test_out_of_bounds_guard_page(compile_program, mpi, what: str) -> None:  # type: ignore[no-untyped-def]
    """wasm2c's guard pages catch it even after Open MPI installed its SIGSEGV handler, for a
    plain load and for a counter update (x[i]++)."""
    r = llvm_run(mpi, compile_program("wild.c"), 2, *(["count"] if what == "count" else []))
    assert r.returncode == 134, r
    assert "rank 1: wasm trap: out of bounds memory access" in r.stderr, r.stderr
    assert "wild.wasm!main" in r.stderr or "wild.wasm!peek" in r.stderr, r.stderr


def test_exit_codes(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = llvm_run(mpi, compile_program("faults.c"), 2, "exit")
    assert r.returncode == 5, r
    assert "rank 1: the guest exited with status 5; ending the job" in r.stderr, r.stderr
    assert llvm_run(mpi, compile_program("abort.c"), 2, "3").returncode == 3


def test_mem_limit(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    limit = 48 << 20
    r = llvm_run(mpi, compile_program("limits.c"), 2, opts=("--mem-limit", "48M")).check()
    for line in r.stdout.splitlines():
        blocks, memory = int(line.split()[3]), int(line.split()[6])
        assert 0 < blocks << 20 <= limit and limit - (4 << 20) < memory <= limit, line
    t = llvm_run(mpi, compile_program("limits.c"), 2, "trap", opts=("--mem-limit", "48M"))
    assert t.returncode == 134 and "the memory limit was reached" in t.stderr, t


def test_fuel_refused(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = llvm_run(mpi, compile_program("hello.c"), 1, opts=("--fuel", "1000"))
    assert r.returncode == 64, r
    assert r.stderr.count("\n") <= 2 and "--fuel is not available with --engine llvm" in r.stderr


def test_compile_then_warm_run_and_repair(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    mod = compile_program("hello.c")
    first = wasmpi("compile", *LLVM, str(mod), env=mpi.env(), timeout=300).check()
    path = Path(first.stdout.strip().rsplit(" -> ", 1)[1])
    assert path.suffix == ".so" and path.is_file(), first.stdout
    again = wasmpi("compile", *LLVM, str(mod), env=mpi.env()).check()
    assert "already cached" in again.stdout, again.stdout
    # a truncated entry (a crash mid-copy, a full disk) is rebuilt, with a warning
    path.write_bytes(path.read_bytes()[:1000])
    r = llvm_run(mpi, mod, 2).check()
    assert "is unusable" in r.stderr and "rank 1 of 2" in r.stdout, r
    assert path.stat().st_size > 1000


# Loads whose value is dead in the C that wasm2c writes, so that only the engine's load guard
# (build.guard_loads) keeps them: a memory of one page (64 KiB); each case runs `body` in
# `_start` and exits 0 after it, so a load that is lost shows as exit 0 instead of a trap.
_DEAD = '''(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $get32 (param i32) (result i32) (i32.load (local.get 0)))
  (func $getv (param i32) (result v128) (v128.load offset=8 (local.get 0)))
  (func (export "_start") %s (call $exit (i32.const 0))))'''
_V0 = "(v128.const i64x2 0 0)"
DEAD_LOADS = {
    "i32 far": ("(drop (i32.load (i32.const 0xfffffff0)))", 134),
    "i64 straddling": ("(drop (i64.load (i32.const 65532)))", 134),
    "f64 straddling": ("(drop (f64.load (i32.const 65529)))", 134),
    "i32 load16 past": ("(drop (i32.load16_u (i32.const 65535)))", 134),
    "v128 far": ("(drop (v128.load (i32.const 0x80000000)))", 134),
    "v128 straddling": ("(drop (v128.load (i32.const 65528)))", 134),
    "v128 one byte past": ("(drop (v128.load offset=1 (i32.const 65520)))", 134),
    "v128 last in bounds": ("(drop (v128.load (i32.const 65520)))", 0),
    "v128 splat straddling": ("(drop (v128.load64_splat (i32.const 65530)))", 134),
    "v128 zero straddling": ("(drop (v128.load32_zero (i32.const 65534)))", 134),
    "v128 lane past": (f"(drop (v128.load8_lane 3 (i32.const 65536) {_V0}))", 134),
    "v128 widening straddling": ("(drop (v128.load8x8_s (i32.const 65529)))", 134),
    # index and offset both 2^32 - 1: the access ends past the 8 GiB reservation
    "v128 largest address": ("(drop (v128.load offset=0xffffffff (i32.const -1)))", 134),
    "i64 largest address": ("(drop (i64.load offset=0xffffffff (i32.const -1)))", 134),
    # clang inlines these calls into _start, where the loaded values are unused
    "inlined i32": ("(drop (call $get32 (i32.const 65534)))", 134),
    "inlined v128": ("(drop (call $getv (i32.const 65520)))", 134),
    "inlined v128 in bounds": ("(drop (call $getv (i32.const 65512)))", 0),
    # the edge moves with memory.grow
    "v128 after grow": ("(drop (memory.grow (i32.const 1))) (drop (v128.load (i32.const 131064)))",
                        134),
    "v128 grown in bounds": ("(drop (memory.grow (i32.const 1)))"
                             " (drop (v128.load (i32.const 131056)))", 0),
}


@pytest.mark.parametrize("case", DEAD_LOADS)
def test_dead_load_out_of_bounds_traps(mpi, tmp_path, case: str) -> None:  # type: ignore[no-untyped-def]
    """Wasm traps on an out-of-bounds load even when its value is unused: wasm2c's C must keep
    every such load, yet leave clang free to fold and schedule the ones it keeps."""
    import wasmtime

    body, code = DEAD_LOADS[case]
    module = tmp_path / "dead.wasm"
    module.write_bytes(wasmtime.wat2wasm(_DEAD % body))
    r = llvm_run(mpi, module, 1)
    assert r.returncode == code, r
    if code:
        assert "wasm trap: out of bounds memory access" in r.stderr, r.stderr
