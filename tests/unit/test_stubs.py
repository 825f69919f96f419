"""Unsupported imports as trapping stubs, and the --strict option (no compiler, no mpiexec)."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

from wasmpi import runtime
from wasmpi.bridge import stubs
from wasmpi.config import ExecOptions, Options, resolve
from wasmpi.errors import GuestTrap, LinkError, UsageError, WasmpiError

# Imports one function this wasmpi has and one no MPI has; calls the second from a nested
# function only when `call` is 1, so the backtrace has a frame to show.
GUEST = """(module
  (import "mpi" "MPI_Not_a_real_function" (func $missing (param i32 i64) (result f64)))
  (import "mpi" "MPI_Comm_rank" (func $rank (param i32 i32) (result i32)))
  (global $call (mut i32) (i32.const {call}))
  (memory (export "memory") 1)
  (func $caller (drop (call $missing (i32.const 1) (i64.const 2))))
  (func (export "_start") (if (global.get $call) (then (call $caller)))))"""


def module(call: int) -> wasmtime.Module:
    return wasmtime.Module(runtime.engine(), GUEST.format(call=call))


def imports(m: wasmtime.Module) -> list[stubs.Import]:
    return [(i.module, i.name or "") for i in m.imports]


def run_with_stubs(m: wasmtime.Module) -> int:
    """What a rank does, with a Python MPI_Comm_rank standing in for the bridge."""
    missing = stubs.unsupported(imports(m), {"MPI_Comm_rank"})

    def define(linker: wasmtime.Linker) -> None:
        i32 = wasmtime.ValType.i32()
        linker.define_func("mpi", "MPI_Comm_rank", wasmtime.FuncType([i32, i32], [i32]),
                           lambda _comm, _out: 0)
        stubs.define(linker, m, missing)

    return runtime.run(m, runtime.Sandbox(argv=("guest",)), imports=define, where="rank 3")


def test_unsupported_lists_mpi_and_unknown_host_imports() -> None:
    got = stubs.unsupported(
        [("mpi", "MPI_B"), ("mpi", "MPI_A"), ("mpi", "MPI_Send"), ("mpi", "MPI_A"),
         ("wasmpi", "gethostname"), ("wasmpi", "teleport"), ("wasi_snapshot_preview1", "x")],
        {"MPI_Send"})
    assert got == [("mpi", "MPI_A"), ("mpi", "MPI_B"), ("wasmpi", "teleport")]
    assert [stubs.label(i) for i in got] == ["MPI_A", "MPI_B", "wasmpi.teleport"]


def test_warning_is_one_line_naming_them() -> None:
    line = stubs.warning([("mpi", "MPI_A"), ("wasmpi", "teleport")])
    assert "\n" not in line and "MPI_A, wasmpi.teleport" in line


def test_reject_names_all() -> None:
    stubs.reject([])
    with pytest.raises(LinkError) as e:
        stubs.reject([("mpi", "MPI_A"), ("mpi", "MPI_B")])
    assert e.value.exit_code == 70 and "MPI_A, MPI_B" in str(e.value)


def test_stub_uncalled_module_runs() -> None:
    assert run_with_stubs(module(call=0)) == 0


def test_stub_called_traps_naming_the_function_with_backtrace() -> None:
    with pytest.raises(GuestTrap) as e:
        run_with_stubs(module(call=1))
    text = str(e.value)
    assert text.startswith("rank 3: wasm trap: MPI_Not_a_real_function is not implemented by "
                           "this wasmpi (called by the guest)"), text
    assert "wasm backtrace:" in text and "caller" in text, text


def test_without_stubs_the_module_does_not_load() -> None:
    with pytest.raises(WasmpiError, match="MPI_Not_a_real_function"):
        runtime.run(module(call=0), runtime.Sandbox(argv=("guest",)))


def test_strict_resolution() -> None:
    assert resolve({}, environ={}, use_file=False).strict is False
    assert resolve({"strict": True}, environ={}, use_file=False).strict is True
    assert resolve({}, environ={"WASMPI_STRICT": "1"}, use_file=False).strict is True
    # the command line wins
    assert resolve({"strict": False}, environ={"WASMPI_STRICT": "1"}, use_file=False).strict \
        is False
    assert resolve({}, environ={"WASMPI_STRICT": "0"}, use_file=False).strict is False
    with pytest.raises(UsageError, match="WASMPI_STRICT"):
        resolve({}, environ={"WASMPI_STRICT": "sometimes"}, use_file=False)


@pytest.mark.parametrize("strict", [True, False])
def test_ranks_get_the_parents_strictness(strict: bool) -> None:
    opts = ExecOptions(module=Path("a.wasm"), args=(), options=Options(strict=strict))
    assert ("--strict" if strict else "--no-strict") in opts.forwarded()
