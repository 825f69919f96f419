"""Bad input (issue 13 §2): each case ends with one clear error line (plus at most a hint), its
own documented exit code, and no process left behind. Missing and non-wasm modules and
--strict are in test_failures.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import wasmtime
from conftest import MPI, _mpis, wasmpi
from test_failures import _rank_processes

from wasmpi import wasmfile
from wasmpi.bridge import abi

pytestmark = pytest.mark.mpi
MPICH: MPI = _mpis()[0]

# hand-made modules (wasmtime's own wat2wasm): shapes `wasmpi cc` never produces
WAT = {
    "reactor": '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))'
               ' (memory (export "memory") 1) (func (export "_initialize")))',
    "nomemory": '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))'
                ' (func (export "_start")))',
    "unknown": '(module (import "env" "foo" (func)) (import "env" "bar" (func))'
               ' (memory (export "memory") 1) (func (export "_start")))',
    "wrongtype": '(module (import "mpi" "MPI_Init" (func (param i32) (result i32)))'
                 ' (import "mpi" "MPI_Finalize" (func (result i64)))'
                 ' (memory (export "memory") 1) (func (export "_start")))',
    "plainwasi": '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))'
                 ' (memory (export "memory") 1)'
                 ' (func (export "_start") (call 0 (i32.const 7))))',
}


def _wat(tmp_path: Path, name: str) -> Path:
    p = tmp_path / f"{name}.wasm"
    p.write_bytes(wasmtime.wat2wasm(WAT[name]))
    return p


def _one_error(r, code: int, *needles: str) -> None:  # type: ignore[no-untyped-def]
    """Exit ``code``, one `error:` line (and at most a hint) that contains every needle."""
    assert r.returncode == code, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    lines = r.stderr.splitlines()
    errors = [ln for ln in lines if ln.startswith("wasmpi: error:")]
    assert len(errors) == 1 and len(lines) <= 2, r.stderr
    for n in needles:
        assert n in errors[0], r.stderr


def _hello(compile_program, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A private copy, so that an orphan check can look for its unique path."""
    p = tmp_path / "hello_copy.wasm"
    shutil.copy(compile_program("hello.c"), p)
    return p


@pytest.mark.parametrize("corruption", ["magic", "truncated", "garbage"])
def test_corrupt_module(compile_program, mpi, tmp_path, corruption: str) -> None:  # type: ignore[no-untyped-def]
    good = compile_program("hello.c").read_bytes()
    bad = tmp_path / "bad.wasm"
    bad.write_bytes({"magic": b"\0asn" + good[4:],
                     "truncated": good[: len(good) // 2],
                     "garbage": good[:8] + bytes(range(250, 256)) * 40}[corruption])
    r = wasmpi("run", "-n", "2", str(bad), env=mpi.env())
    _one_error(r, 65, str(bad))
    assert not _rank_processes(bad)


@pytest.mark.parametrize(("name", "code", "needle"), [
    ("reactor", 66, "no `_start` export"),
    ("nomemory", 66, "exports no linear memory"),
    ("unknown", 70, "env.bar, env.foo"),
    ("wrongtype", 70, "MPI_Finalize is () -> (i64), expected () -> (i32), "
                      "MPI_Init is (i32) -> (i32), expected (i32, i32) -> (i32)"),
])
def test_module_that_cannot_run(mpi, tmp_path, name: str, code: int, needle: str) -> None:  # type: ignore[no-untyped-def]
    mod = _wat(tmp_path, name)
    for cmd in (["run", "-n", "2"], ["exec"]):  # the launcher and a rank started by srun
        _one_error(wasmpi(*cmd, str(mod), env=mpi.env()), code, needle)


def test_plain_wasi_module_runs(mpi, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No wasmpi.abi section: not built by wasmpi, but nothing says it cannot run."""
    r = wasmpi("exec", str(_wat(tmp_path, "plainwasi")), env=mpi.env())
    assert r.returncode == 7 and not r.stderr, r.stderr


def test_other_abi_version(compile_program, mpi, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mod = _hello(compile_program, tmp_path)
    wasmfile.add_custom_section(mod, abi.ABI_SECTION, b"mpi-abi-0.9;wasm32;mpi-3.1")
    r = wasmpi("run", "-n", "2", str(mod), env=mpi.env())
    _one_error(r, 67, "mpi-abi-0.9;wasm32;mpi-3.1", abi.ABI_VERSION)


@pytest.mark.parametrize("argv", [["bogus"], ["run"], ["run", "-n", "0", "m.wasm"],
                                  ["run", "-n", "two", "m.wasm"], ["cache", "wipe"]])
def test_usage(argv: list[str]) -> None:
    _one_error(wasmpi(*argv), 64)


@pytest.mark.parametrize("spec", [":ro", "::/data", "/no/such/dir::/data"])
def test_bad_dir_spec(compile_program, mpi, spec: str) -> None:  # type: ignore[no-untyped-def]
    _one_error(wasmpi("run", "--dir", spec, str(compile_program("hello.c")), env=mpi.env()), 65,
               "--dir")


def _cwasm_of_another_wasmtime(good: bytes) -> bytes:
    """The same machine code, stamped with another wasmtime version (its engine section
    starts with the version's major number)."""
    from importlib import metadata

    major = metadata.version("wasmtime").split(".")[0].encode()
    at = good.index(major, 0x40)
    return good[:at] + b"1" + good[at + 1 :]


@pytest.fixture
def quick_mpicc(compile_program, tmp_path):  # type: ignore[no-untyped-def]
    """MPICH's mpicc, except that building the bridge copies one built before: the tests of
    the cache rebuild the bridge several times, which takes MPICH ~25 s each."""
    real = MPICH.mpicc
    wasmpi("run", "-n", "1", str(compile_program("hello.c")), env=MPICH.env()).check()
    from wasmpi.bridge.build import bridge_path
    from wasmpi.hostmpi import select

    built = tmp_path / "bridge.so"
    shutil.copy(bridge_path(select(real)), built)
    fake = tmp_path / "quick" / "mpicc"
    fake.parent.mkdir()
    fake.write_text(f"""#!/bin/sh
case "$1" in -show|--showme) exec {real} "$@";; esac
for a; do [ "$prev" = "-o" ] && cp {built} "$a"; prev=$a; done
exit 0
""")
    fake.chmod(0o755)
    return {"WASMPI_MPICC": str(fake),
            "WASMPI_MPIEXEC": str(Path(real).with_name("mpiexec"))}


@pytest.mark.parametrize("damage", ["truncated-cwasm", "other-wasmtime", "truncated-bridge",
                                    "garbage-bridge"])
def test_corrupt_cache_entry(compile_program, quick_mpicc, tmp_path, damage: str) -> None:  # type: ignore[no-untyped-def]
    """Rebuilt, said once, and good from then on. (The cache does not depend on the MPI.)"""
    env = MPICH.env() | quick_mpicc | {"WASMPI_CACHE_DIR": str(tmp_path / "cache")}
    mod = compile_program("hello.c")
    wasmpi("run", "-n", "1", str(mod), env=env).check()
    cwasm, = (tmp_path / "cache" / "modules").glob("*.cwasm")
    bridge, = (tmp_path / "cache" / "bridge").glob("*.so")
    good = cwasm.read_bytes()
    if damage == "truncated-cwasm":
        cwasm.write_bytes(good[: len(good) // 3])
    elif damage == "other-wasmtime":
        cwasm.write_bytes(_cwasm_of_another_wasmtime(good))
    elif damage == "truncated-bridge":
        os.truncate(bridge, bridge.stat().st_size // 2)
    else:
        bridge.write_bytes(b"not a library\n")
    r = wasmpi("run", "-n", "2", str(mod), env=env).check()
    assert "rank 1 of 2" in r.stdout
    warnings = [ln for ln in r.stderr.splitlines() if "warning:" in ln]
    assert len(warnings) == 1 and "unusable" in warnings[0] and "rebuilding" in warnings[0], \
        r.stderr
    again = wasmpi("run", "-n", "2", str(mod), env=env).check()  # repaired for good
    assert "warning" not in again.stderr, again.stderr


def _mount(target: Path, options: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    target.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")


@pytest.mark.parametrize("cache", ["not-a-directory", "read-only", "full"])
def test_unwritable_cache(compile_program, quick_mpicc, tmp_path, cache: str) -> None:  # type: ignore[no-untyped-def]
    """The job still runs, on temporary builds, and says so once; nothing is left in /tmp.
    (chmod does not stop root, which the tests run as: a read-only or tiny tmpfs does.)"""
    mod = _hello(compile_program, tmp_path)
    where = tmp_path / "cache"
    if cache == "not-a-directory":
        (tmp_path / "file").write_text("")
        where = tmp_path / "file" / "cache"
        reason = "Not a directory"
    elif cache == "read-only":
        _mount(where, "ro,size=1m")
        reason = "Read-only file system"
    else:
        _mount(where, "size=64k")
        reason = "No space left on device"
    before = set(Path("/tmp").glob("wasmpi-cache-*"))
    env = MPICH.env() | quick_mpicc | {"WASMPI_CACHE_DIR": str(where)}
    try:
        r = wasmpi("run", "-n", "2", str(mod), env=env)
    finally:
        if cache != "not-a-directory":
            subprocess.run(["umount", str(where)], timeout=30, check=True)
    r.check()
    assert "rank 1 of 2" in r.stdout
    warnings = [ln for ln in r.stderr.splitlines() if "warning:" in ln]
    assert len(warnings) == 1 and reason in warnings[0] and "temporary" in warnings[0], r.stderr
    assert set(Path("/tmp").glob("wasmpi-cache-*")) <= before


def _fake_tool(tmp_path: Path, name: str, exit_code: int) -> Path:
    d = tmp_path / "fake"
    d.mkdir(exist_ok=True)
    tool = d / name
    tool.write_text(f"#!/bin/sh\necho 'garbage @@@ output'\nexit {exit_code}\n")
    tool.chmod(0o755)
    return tool


@pytest.mark.parametrize("case", ["missing-mpicc", "mpicc-fails", "mpicc-garbage",
                                  "missing-mpiexec", "mpiexec-fails"])
def test_broken_mpi_tools(compile_program, mpi, tmp_path, case: str) -> None:  # type: ignore[no-untyped-def]
    env = mpi.env()
    if "mpicc" in case:
        env["WASMPI_CACHE_DIR"] = str(tmp_path / "cache")  # so that the bridge is built again
    if case == "missing-mpicc":
        env["WASMPI_MPICC"] = str(tmp_path / "nothing" / "mpicc")
    elif case == "mpicc-fails":
        env["WASMPI_MPICC"] = str(_fake_tool(tmp_path, "mpicc", 1))
    elif case == "mpicc-garbage":
        env["WASMPI_MPICC"] = str(_fake_tool(tmp_path, "mpicc", 0))
    elif case == "missing-mpiexec":
        env["WASMPI_MPIEXEC"] = str(tmp_path / "nothing" / "mpiexec")
    else:
        env["WASMPI_MPIEXEC"] = str(_fake_tool(tmp_path, "mpiexec", 1))
    if case.startswith("mpicc"):
        env["WASMPI_MPIEXEC"] = str(Path(mpi.mpicc).with_name("mpiexec"))
    mod = _hello(compile_program, tmp_path)
    r = wasmpi("run", "-n", "2", str(mod), env=env)
    assert r.returncode == 69, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("wasmpi: error:")]
    assert len(errors) == 1 and ("mpicc" in errors[0] or "mpiexec" in errors[0]), r.stderr
    assert not _rank_processes(mod)


@pytest.mark.parametrize("toolchain", ["zig", "clang"])
def test_broken_compiler(tmp_path, toolchain: str) -> None:
    """A zig or clang that fails: `wasmpi cc` names what it ran (exit 69)."""
    from conftest import PROGRAMS, ROOT

    env = dict(os.environ) | {"WASMPI_CACHE_DIR": str(tmp_path / "cache")}
    if toolchain == "zig":  # the ziglang package ships zig: shadow it with a broken one
        pkg = tmp_path / "shadow" / "ziglang"
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        shutil.copy(_fake_tool(tmp_path, "zig", 1), pkg / "zig")
        env["PYTHONPATH"] = os.pathsep.join([str(pkg.parent), str(ROOT / "src"),
                                             env.get("PYTHONPATH", "")])
    else:  # wasi-sdk layout: bin/clang
        sdk = tmp_path / "sdk"
        (sdk / "bin").mkdir(parents=True)
        shutil.copy(_fake_tool(tmp_path, "clang", 1), sdk / "bin" / "clang")
        env["WASI_SDK_PATH"] = str(sdk)
    r = wasmpi("cc", str(PROGRAMS / "hello.c"), "-o", str(tmp_path / "h.wasm"), env=env)
    assert r.returncode == 69, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("wasmpi: error:")]
    assert len(errors) == 1 and f"{toolchain} " in errors[0] and "failed (exit 1)" in errors[0]
