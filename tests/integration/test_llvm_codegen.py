"""The LLVM tier builds the module for the host CPU (``-mcpu=native``): Wasm's floating-point
results must not change (no FMA contraction, exact min/max/sqrt), and the CPU is in the
module's cache key. Both engines run the same module; the outputs must be identical."""

from __future__ import annotations

import pytest
from conftest import wasmpi

# it chooses its engines itself, run by run: once per MPI, with WASMPI_ENGINE=wasmtime
pytestmark = [pytest.mark.mpi, pytest.mark.engine("wasmtime")]


def test_fp_semantics_match_wasmtime(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    module = compile_program("fpsem.c", "-O3", "-msimd128", "-lm")
    outs = {}
    for engine, cpu in (("wasmtime", ""), ("llvm", ""), ("llvm", "x86_64")):
        choose = ("--llvm-cpu", cpu) if cpu else ()  # "": the host CPU (the default)
        r = wasmpi("run", "-n", "1", "--engine", engine, *choose, str(module), env=mpi.env(),
                   timeout=300).check()
        outs[engine, cpu] = r.stdout
    assert "fma: unfused" in outs["wasmtime", ""], outs["wasmtime", ""][-300:]
    assert outs["llvm", ""] == outs["wasmtime", ""]
    assert outs["llvm", "x86_64"] == outs["wasmtime", ""]


def test_bad_cpu_name(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = wasmpi("run", "-n", "1", "--engine", "llvm", str(compile_program("hello.c")),
               env={**mpi.env(), "WASMPI_LLVM_CPU": "native;x"}, timeout=120)
    assert r.returncode == 64, r
    assert "WASMPI_LLVM_CPU" in r.stderr and "not a CPU name" in r.stderr, r.stderr
