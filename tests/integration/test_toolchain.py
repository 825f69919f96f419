"""`wasmpi cc` / `wasmpi c++` as drop-in mpicc: flags, multiple sources, make, C++, -show."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROGRAMS, wasmpi

from wasmpi import wasmfile
from wasmpi.bridge import abi


def test_show_prints_real_command() -> None:
    r = wasmpi("cc", "-show", "x.c", "-o", "x.wasm").check()
    line = r.stdout.strip()
    assert "wasm32-wasi" in line and "-O2" in line and "-msimd128" in line
    assert "toolchain/include" in line and "x.c" in line
    assert "-D_WASI_EMULATED_SIGNAL" in line and "-lwasi-emulated-mman" in line


def test_compile_and_link_separately(tmp_path: Path) -> None:
    src = PROGRAMS / "multi"
    defs = ["-I", str(src), "-DGREETING=\"sep\"", "-DSCALE=1"]
    wasmpi("cc", *defs, "-c", str(src / "main.c"), "-o", str(tmp_path / "main.o")).check()
    wasmpi("cc", "-c", str(src / "util.c"), "-o", str(tmp_path / "util.o")).check()
    out = tmp_path / "app.wasm"
    wasmpi("cc", str(tmp_path / "main.o"), str(tmp_path / "util.o"), "-o", str(out), "-lm").check()
    info = wasmfile.read(out)
    assert info.custom[abi.ABI_SECTION] == abi.ABI_VERSION.encode()
    assert not any(n.startswith(".debug_") for n in info.custom)
    assert "name" in info.custom


def test_multiple_sources_one_command(tmp_path: Path) -> None:
    src = PROGRAMS / "multi"
    out = tmp_path / "app.wasm"
    wasmpi("cc", f"-I{src}", "-DGREETING=\"one\"", "-DSCALE=2", str(src / "main.c"),
           str(src / "util.c"), "-o", str(out)).check()
    assert out.read_bytes()[:4] == b"\0asm"


@pytest.mark.mpi
def test_mpi_library_flags_link(tmp_path: Path, mpi) -> None:  # type: ignore[no-untyped-def]
    """Build systems add -lmpi (-lmpich, ...): MPI comes from imports, the link still works."""
    out = tmp_path / "hello.wasm"
    wasmpi("cc", str(PROGRAMS / "hello.c"), "-o", str(out), "-lmpi", "-lmpich").check()
    wasmpi("run", "-n", "2", str(out), env=mpi.env()).check()


def test_compile_error_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { return undefined_thing; }\n")
    r = wasmpi("cc", str(bad), "-o", str(tmp_path / "bad.wasm"))
    assert r.returncode != 0
    assert "undefined_thing" in r.stderr


@pytest.mark.mpi
def test_make_with_ordinary_makefile(tmp_path: Path, mpi) -> None:  # type: ignore[no-untyped-def]
    if not shutil.which("make"):
        pytest.skip("make not installed")
    work = tmp_path / "multi"
    shutil.copytree(PROGRAMS / "multi", work)
    cc = f"{sys.executable} -m wasmpi cc"
    p = subprocess.run(["make", f"CC={cc}"], cwd=work, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    r = wasmpi("run", "-n", "2", str(work / "app.wasm"), env=mpi.env()).check()
    assert "rank 0: hello from make 20" in r.stdout
    assert "rank 1: hello from make 22" in r.stdout


@pytest.mark.mpi
def test_cplusplus(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("cxx.cc"), 2).check()
    assert "rank 0 total 3000" in r.stdout


def test_inspect(compile_program) -> None:  # type: ignore[no-untyped-def]
    r = wasmpi("inspect", str(compile_program("missing.c")))
    assert r.returncode == 1  # something is unsupported
    assert "UNSUPPORTED MPI_Not_a_real_function" in r.stdout
    assert "ok          MPI_Init" in r.stdout
    assert abi.ABI_VERSION in r.stdout and "_start" in r.stdout
    ok = wasmpi("inspect", "--json", str(compile_program("hello.c"))).check()
    assert '"supported": true' in ok.stdout


@pytest.mark.mpi
def test_autoconf_configure(tmp_path: Path, mpi) -> None:  # type: ignore[no-untyped-def]
    """./configure --host=wasm32-wasi CC="wasmpi cc" && make, on an ordinary autoconf project."""
    if not (shutil.which("autoconf") and shutil.which("make")):
        if os.environ.get("WASMPI_TEST_REQUIRE_CLANG") == "1":  # CI installs both
            pytest.fail("autoconf/make missing")
        pytest.skip("autoconf not installed")
    work = tmp_path / "ac"
    shutil.copytree(PROGRAMS / "autoconf", work)
    subprocess.run(["autoconf"], cwd=work, check=True, timeout=120)
    cc = f"{sys.executable} -m wasmpi cc"
    p = subprocess.run(["./configure", "--host=wasm32-wasi", f"CC={cc}"], cwd=work,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "checking for MPI_Init with mpi.h... yes" in p.stdout
    subprocess.run(["make"], cwd=work, check=True, capture_output=True, timeout=300)
    r = wasmpi("run", "-n", "2", str(work / "hello.wasm"), env=mpi.env()).check()
    assert "rank 0 configured" in r.stdout and "rank 1 configured" in r.stdout
