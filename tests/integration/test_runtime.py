"""Sandbox grants and the machine-code cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import wasmpi

pytestmark = pytest.mark.mpi


def test_sandbox_grants(compile_program, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, inp = tmp_path / "out", tmp_path / "in"
    out.mkdir()
    inp.mkdir()
    (inp / "input.txt").write_text("from the host\n")
    os.environ["WASMPI_T_PASS"] = "passed"
    try:
        r = run(compile_program("sandbox.c"), 1, "a1", "b 2",
                opts=("--dir", f"{out}::/out", "--dir", f"{inp}::/in:ro",
                      "--env", "WASMPI_T_SET=set", "--env-pass", "WASMPI_T_PASS")).check()
    finally:
        del os.environ["WASMPI_T_PASS"]
    s = r.stdout
    assert "argv[0]=sandbox.wasm" in s and "argv[1]=a1" in s and "argv[2]=b 2" in s
    assert "env WASMPI_T_SET=set" in s and "env WASMPI_T_PASS=passed" in s
    assert "env HOME=<unset>" in s and "env PATH=<unset>" in s
    assert "write /out: ok" in s and (out / "result.txt").read_text() == "written by wasm\n"
    assert "read /in: from the host" in s
    assert "write /in: denied" in s and not (inp / "new.txt").exists()
    assert "read /etc/passwd: denied" in s


def test_bad_dir_grant(compile_program, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("sandbox.c"), 1, opts=("--dir", str(tmp_path / "missing")))
    assert r.returncode == 65 and "no such directory" in r.stderr


@pytest.mark.engine("wasmtime")  # the .cwasm entry (test_engine_llvm: the .so entry)
def test_cache_compiles_once(compile_program, mpi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = mpi.env() | {"WASMPI_CACHE_DIR": str(tmp_path / "cache")}
    mod = compile_program("hello.c")
    first = wasmpi("compile", str(mod), env=env).check()
    assert "compiled" in first.stdout
    again = wasmpi("compile", str(mod), env=env).check()
    assert "already cached" in again.stdout
    assert (tmp_path / "cache" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f59")
    # four ranks start at once against a cold cache: one compiles, the others wait and load it
    cold = env | {"WASMPI_CACHE_DIR": str(tmp_path / "cold")}
    wasmpi("run", "-n", "4", str(mod), env=cold).check()
    cwasm = list((tmp_path / "cold" / "modules").glob("*.cwasm"))
    assert len(cwasm) == 1
    info = wasmpi("cache", "info", env=env).check()
    assert "modules" in info.stdout
    wasmpi("cache", "clean", env=env).check()
    assert not list((tmp_path / "cache").glob("modules/*.cwasm"))
