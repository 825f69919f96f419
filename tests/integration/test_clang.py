"""The clang backend (Debian's clang-16 + wasi-libc + libc++, or wasi-sdk)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import PROGRAMS, wasmpi

HAVE_CLANG = bool(os.environ.get("WASI_SDK_PATH") or shutil.which("clang-16")
                  or shutil.which("clang"))
if not HAVE_CLANG and os.environ.get("WASMPI_TEST_REQUIRE_CLANG") == "1":
    raise RuntimeError("clang required but not found")
pytestmark = pytest.mark.skipif(not HAVE_CLANG, reason="no clang with a wasm32-wasi sysroot")

FSTREAM = """#include <fstream>
#include <mpi.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank; MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) { std::ofstream f("/out/f.txt"); f << "fstream " << 42 << "\\n"; }
    MPI_Finalize();
    return 0;
}
"""


@pytest.mark.mpi
def test_clang_c_program_runs(tmp_path: Path, mpi) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "hello.wasm"
    wasmpi("cc", "--toolchain", "clang", str(PROGRAMS / "hello.c"), "-o", str(out)).check()
    r = wasmpi("run", "-n", "2", str(out), env=mpi.env()).check()
    assert "rank 1 of 2" in r.stdout


@pytest.mark.mpi
def test_clang_cxx_fstream(tmp_path: Path, mpi) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "fs.cc"
    src.write_text(FSTREAM)
    out = tmp_path / "fs.wasm"
    wasmpi("c++", "--toolchain", "clang", "-fno-exceptions", str(src), "-o", str(out)).check()
    (tmp_path / "o").mkdir()
    wasmpi("run", "-n", "2", "--dir", f"{tmp_path / 'o'}::/out", str(out), env=mpi.env()).check()
    assert (tmp_path / "o" / "f.txt").read_text() == "fstream 42\n"


def test_zig_libcxx_has_no_fstream(tmp_path: Path) -> None:
    """Documented limitation: zig's wasm32-wasi libc++ is built without filesystem streams."""
    src = tmp_path / "fs.cc"
    src.write_text(FSTREAM)
    r = wasmpi("c++", "--toolchain", "zig", str(src), "-o", str(tmp_path / "fs.wasm"))
    assert r.returncode != 0
