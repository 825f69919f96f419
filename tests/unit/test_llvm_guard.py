"""The LLVM tier's load guard: wasmpi's edit of the C that wasm2c writes (wasm2c runs; no
compiler, no mpiexec). That the guard traps is tested on real ranks in test_engine_llvm.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import wasmtime

from wasmpi.errors import ToolError
from wasmpi.runtime.llvm import build

# two functions with SIMD and scalar loads, so that a split leaves one in each part
WAT = """(module (memory (export "memory") 1)
  (func (export "f") (param i32) (result v128) (v128.load offset=16 (local.get 0)))
  (func (export "g") (param i32) (result i64) (i64.load (local.get 0))))"""


def _wasm2c(tmp_path: Path, *opts: str) -> Path:
    module = tmp_path / "m.wasm"
    module.write_bytes(wasmtime.wat2wasm(WAT))
    wasm2c, _, _, _ = build._wabt()
    subprocess.run([wasm2c, "-n", "guest", *opts, module, "-o", tmp_path / "guest.c"],
                   check=True, capture_output=True, timeout=60)
    return tmp_path


@pytest.mark.parametrize("opts", [(), ("--num-outputs=2",)], ids=["one file", "split"])
def test_simd_loads_probe_and_scalar_loads_keep_the_pin(tmp_path: Path,
                                                         opts: tuple[str, ...]) -> None:
    work = _wasm2c(tmp_path, *opts)
    build.guard_files(work)
    text = "".join(p.read_text() for p in sorted(work.iterdir()) if p.suffix in (".c", ".h"))
    # DEFINE_SIMD_LOAD_FUNC and DEFINE_SIMD_LOAD_LANE: probe, no pin
    assert text.count("WASMPI_PROBE(mem, addr, sizeof(t));") == 2, text
    assert "SIMD_FORCE_READ(result);" not in text
    assert text.count("#define WASMPI_PROBE(") == 2  # with guard pages; empty with bounds checks
    # DEFINE_LOAD keeps wasm2c's pin
    assert "force_read(ret);" in text


def test_edit_is_idempotent_where_there_is_nothing_to_edit() -> None:
    assert build.guard_loads("int x;\n") == "int x;\n"


def test_unexpected_macros_are_refused(tmp_path: Path) -> None:
    source = (_wasm2c(tmp_path) / "guest.c").read_text()
    with pytest.raises(ToolError, match="SIMD load macros are not as expected"):
        build.guard_loads(source.replace("    SIMD_FORCE_READ(result);", "    FORCE(result);", 1))
