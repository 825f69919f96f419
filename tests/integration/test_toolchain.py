"""`wasmpi cc` / `wasmpi c++` as drop-in mpicc: flags, multiple sources, make, C++, -show."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
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
    # wasmpi's defaults come before the user's flags, so that the user's win
    assert line.index("-Wno-error=implicit-function-declaration") < line.index("x.c")
    assert "--export=malloc" in line and "--export-table" in line


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
    assert "checking for MPI_Init... yes" in p.stdout  # AC_CHECK_FUNC: no header, no -l
    assert "checking for MPI_Init in -lmpi... yes" in p.stdout
    assert "checking for PMPI_Init in -lmpich... yes" in p.stdout
    subprocess.run(["make"], cwd=work, check=True, capture_output=True, timeout=300)
    r = wasmpi("run", "-n", "2", str(work / "hello.wasm"), env=mpi.env()).check()
    assert "rank 0 configured" in r.stdout and "rank 1 configured" in r.stdout


HAVE_CLANG = bool(os.environ.get("WASI_SDK_PATH") or shutil.which("clang-16")
                  or shutil.which("clang"))
TOOLCHAINS = ["zig", pytest.param("clang", marks=pytest.mark.skipif(
    not HAVE_CLANG, reason="no clang with a wasm32-wasi sysroot"))]


def _exports_and_mpi_imports(module: Path) -> tuple[set[str], set[str]]:
    info = json.loads(wasmpi("inspect", "--json", str(module)).stdout)
    return ({e["name"] for e in info["exports"]},
            {i["name"] for i in info["imports"] if i["module"] == abi.IMPORT_MODULE})


@pytest.mark.mpi
def test_gcc_warnings_stay_warnings(tmp_path: Path, mpi) -> None:  # type: ignore[no-untyped-def]
    """Implicit declarations, int-conversion, incompatible pointers: warnings, as with gcc 12."""
    src, out = PROGRAMS / "legacy" / "implicit.c", tmp_path / "implicit.wasm"
    # zig does not repeat a cached compilation's warnings: make this one new
    c = wasmpi("cc", f"-DWASMPI_TEST_NONCE={os.getpid()}_{time.time_ns()}", str(src), "-o",
               str(out)).check()
    for flag in ("implicit-function-declaration", "int-conversion",
                 "incompatible-pointer-types"):
        assert "warning: " in c.stderr and f"[-W{flag}]" in c.stderr, c.stderr
    r = wasmpi("run", "-n", "2", str(out), env=mpi.env()).check()
    assert "rank 0: time ok, atoi 7, 1 1" in r.stdout  # time() without <time.h> works
    assert "rank 1: time ok, atoi 7, 1 1" in r.stdout
    # as documented: the user's -Werror=... makes them errors again
    for flag in ("implicit-function-declaration", "int-conversion",
                 "incompatible-pointer-types"):
        e = wasmpi("cc", f"-Werror={flag}", str(src), "-o", str(tmp_path / "e.wasm"))
        assert e.returncode != 0 and "error: " in e.stderr and f"[-W{flag}]" in e.stderr


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_program_without_main_fails_to_link(tmp_path: Path, toolchain: str) -> None:
    out = tmp_path / "nomain.wasm"
    r = wasmpi("cc", "--toolchain", toolchain, str(PROGRAMS / "mainlib" / "work.c"), "-o",
               str(out))
    assert r.returncode != 0
    errors = [ln for ln in r.stderr.splitlines() if "undefined symbol" in ln]
    assert len(errors) == 1, r.stderr
    assert errors[0].endswith("error: undefined symbol: main (the program defines no main "
                              "function)"), r.stderr


@pytest.mark.mpi
@pytest.mark.parametrize("toolchain", TOOLCHAINS)
@pytest.mark.parametrize("main", ["main_args", "main_void"])
def test_main_in_static_archive(tmp_path: Path, mpi, toolchain: str,  # type: ignore[no-untyped-def]
                                main: str) -> None:
    """`cc work.o -L. -lmain`: the linker pulls main out of libmain.a, as ld does."""
    src = PROGRAMS / "mainlib"
    tc = ("--toolchain", toolchain)
    for name in ("work", main):
        wasmpi("cc", *tc, "-c", str(src / f"{name}.c"), "-o", str(tmp_path / f"{name}.o")).check()
    # the host's ar, as a Makefile would: wasmpi cc indexes the archive when it links
    subprocess.run(["ar", "rc", str(tmp_path / "libmain.a"), str(tmp_path / f"{main}.o")],
                   check=True)
    out = tmp_path / "app.wasm"
    wasmpi("cc", *tc, str(tmp_path / "work.o"), f"-L{tmp_path}", "-lmain", "-o",
           str(out)).check()
    r = wasmpi("run", "-n", "2", str(out), "x", env=mpi.env()).check()
    expect = "main from libmain.a, work 11, argc 2" if main == "main_args" else \
        "main(void) from libmain.a, work 11"
    assert f"rank 1: {expect}" in r.stdout


@pytest.mark.mpi
def test_pmpi_names_link_and_run(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    module = compile_program("pmpi.c")
    r = run(module, 2).check()
    assert "rank 0 of 2: PMPI sum 3" in r.stdout and "rank 1 of 2: PMPI sum 3" in r.stdout
    # PMPI_X imports "mpi"."MPI_X", and only what the program calls becomes an import
    _, imports = _exports_and_mpi_imports(module)
    assert imports == {"MPI_Init", "MPI_Comm_rank", "MPI_Comm_size", "MPI_Allreduce",
                       "MPI_Finalize"}


@pytest.mark.mpi
@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_profiling_layer_interposes(tmp_path: Path, mpi,  # type: ignore[no-untyped-def]
                                    toolchain: str) -> None:
    """A tool's own MPI_Send replaces the library's and reaches MPI through PMPI_Send."""
    out = tmp_path / "prof.wasm"
    wasmpi("cc", "--toolchain", toolchain, str(PROGRAMS / "profiling.c"), "-o",
           str(out)).check()
    r = wasmpi("run", "-n", "2", str(out), env=mpi.env()).check()
    assert "rank 0: profiled 3 MPI_Send calls, 48 bytes" in r.stdout
    assert "rank 1: profiled 0 MPI_Send calls, 0 bytes" in r.stdout
    _, imports = _exports_and_mpi_imports(out)
    assert "MPI_Send" in imports and "MPI_Pcontrol" not in imports  # variadic: in the guest


@pytest.mark.mpi
@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_legacy_posix(tmp_path: Path, mpi, toolchain: str) -> None:  # type: ignore[no-untyped-def]
    """getuid/geteuid declared, mknod and fcntl locks fail with ENOSYS, extern int errno."""
    out = tmp_path / "posix.wasm"
    wasmpi("cc", "--toolchain", toolchain, "-Werror=implicit-function-declaration",
           str(PROGRAMS / "legacy" / "posix.c"), "-o", str(out)).check()
    r = wasmpi("run", "-n", "2", str(out), env=mpi.env())
    r.check_sections(["uid", "device_nodes", "record_locks", "extern_errno"])


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_modules_export_allocator_and_table(tmp_path: Path, toolchain: str) -> None:
    """The bridge calls guest functions through the table and allocates with malloc/free."""
    for src in (PROGRAMS / "hello.c", PROGRAMS / "mainlib" / "main_void.c"):
        out = tmp_path / (src.stem + ".wasm")
        extra = [str(PROGRAMS / "mainlib" / "work.c")] if src.stem == "main_void" else []
        wasmpi("cc", "--toolchain", toolchain, str(src), *extra, "-o", str(out)).check()
        exports, _ = _exports_and_mpi_imports(out)
        assert {"memory", "_start", "malloc", "free", "__indirect_function_table"} <= exports


@pytest.mark.mpi
def test_cmake_toolchain_file(tmp_path: Path, mpi) -> None:  # type: ignore[no-untyped-def]
    """cmake -DCMAKE_TOOLCHAIN_FILE=$(wasmpi --cmake-toolchain): FindMPI, MPI::MPI_C, a
    static library and an executable, run on 2 ranks."""
    if not (shutil.which("cmake") and shutil.which("make")):
        pytest.skip("cmake not installed")
    toolchain = wasmpi("--cmake-toolchain").check().stdout.strip()
    assert Path(toolchain).is_file()
    build = tmp_path / "build"
    build.mkdir()
    env = dict(os.environ, WASMPI_PYTHON=sys.executable)
    p = subprocess.run(["cmake", f"-DCMAKE_TOOLCHAIN_FILE={toolchain}", str(PROGRAMS / "cmake")],
                       cwd=build, capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Found MPI_C:" in p.stdout and 'found version "3.1"' in p.stdout
    p = subprocess.run(["make"], cwd=build, capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    r = wasmpi("run", "-n", "2", str(build / "app.wasm"), env=mpi.env()).check()
    assert "rank 0: cmake ring 3, FindMPI version 3.1" in r.stdout
    assert "rank 1: cmake ring 3, FindMPI version 3.1" in r.stdout
