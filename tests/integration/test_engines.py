"""Differential tests of the two engines: one set of guest programs (tests/programs/wasi_*.c)
runs through `wasmpi run --engine wasmtime` and `--engine llvm`, each in a fresh copy of the
same grants, and everything observable must be identical: stdout, the exit status, the files
left in the grants, and stderr (its first line for a trap, whose backtrace lines name frames
each engine finds differently).

Only what must differ is normalised, each with its reason where it is done. The programs print
no times, inode numbers or host paths, so that the outputs are compared as they are."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import MPI, RUN_TIMEOUT, _mpis

# it chooses its engines itself, run by run: once per MPI, with WASMPI_ENGINE=wasmtime
pytestmark = [pytest.mark.mpi, pytest.mark.engine("wasmtime")]

ENGINES = ("wasmtime", "llvm")
PROGRAMS = ("wasi_files.c", "wasi_dirs.c", "wasi_env.c", "wasi_exit.c", "wasi_mpi.c")


@functools.cache
def _has_engine_option() -> bool:
    p = subprocess.run([sys.executable, "-m", "wasmpi", "run", "--help"], capture_output=True,
                       text=True, timeout=60)
    return "--engine" in p.stdout


NO_LLVM = "`wasmpi run` has no --engine option: the LLVM tier is not in this tree"


@pytest.fixture(scope="module")
def engines() -> tuple[str, ...]:
    """Both engines; without the LLVM tier, the wasmtime half runs and the comparison skips."""
    return ENGINES if _has_engine_option() else ENGINES[:1]


@pytest.fixture(scope="module")
def programs(build_program, engines):  # type: ignore[no-untyped-def]
    """Each program compiled once, and precompiled for each engine (the LLVM tier's module
    build takes seconds): a run then starts at once, as the clock checks need."""
    done: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in done:
            module = build_program(name)
            for e in engines:
                choice = ["--engine", e] if len(engines) > 1 else []
                p = subprocess.run([sys.executable, "-m", "wasmpi", "compile", *choice,
                                    str(module)], capture_output=True, text=True,
                                   timeout=600)
                assert p.returncode == 0, p.stderr
            done[name] = module
        return done[name]

    for name in PROGRAMS:  # all at once, so that no test's own time holds a build
        get(name)
    # the LLVM tier's runner is built per MPI on first use (a minute on a busy machine, once
    # per cache): here, rather than inside whichever test happens to come first
    if len(engines) > 1:
        probe = get("wasi_exit.c")
        for m in _mpis():
            p = subprocess.run([sys.executable, "-m", "wasmpi", "run", "-n", "1", "--engine",
                                "llvm", str(probe), "exit0"], capture_output=True, text=True,
                               env=m.env(), timeout=600, stdin=subprocess.DEVNULL)
            assert p.returncode == 0, p.stderr
    return get


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    tree: dict[str, str]


Tree = Callable[[Path], None]
NOW = "<now>"


def snapshot(root: Path) -> dict[str, str]:
    """What a run left in a grant: every entry's kind, size and content (hashed), or a link's
    target. Times are left out: the wall clock moves between the two runs."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = "link -> " + os.readlink(p)
        elif p.is_dir():
            out[rel] = "dir"
        else:
            data = p.read_bytes()
            out[rel] = f"file {len(data)} {hashlib.sha256(data).hexdigest()[:16]}"
    return out


def run_engine(engine: str, module: Path, base: Path, *, n: int = 1, args: tuple[str, ...] = (),
               grants: tuple[tuple[str, str, bool], ...] = (("rw", "/data", False),),
               setup: Tree | None = None, opts: tuple[str, ...] = (), stdin: bytes = b"",
               env: dict[str, str] | None = None) -> Outcome:
    """`wasmpi run --engine ENGINE` with fresh grant directories under base/ENGINE."""
    root = base / engine
    root.mkdir()
    if setup:
        setup(root)
    dirs: list[str] = []
    for host, guest, ro in grants:
        (root / host).mkdir(exist_ok=True)
        dirs += ["--dir", f"{root / host}::{guest}" + (":ro" if ro else "")]
    # the host's time, given just before the run: each engine's clocks are checked against it
    args = tuple(str(int(time.time())) if a == NOW else a for a in args)
    choice = ["--engine", engine] if engine != "wasmtime" or _has_engine_option() else []
    argv = [sys.executable, "-m", "wasmpi", "run", "-n", str(n), *choice, *dirs,
            *opts, str(module), *args]
    try:
        p = subprocess.run(argv, input=stdin, capture_output=True, env=env,
                           timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(argv)} did not finish in {RUN_TIMEOUT}s (hang)\n"
                    f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")
    trees = {host: snapshot(root / host) for host, _, _ in grants}
    tree = {f"{h}/{k}": v for h, t in trees.items() for k, v in t.items()}
    return Outcome(p.returncode, p.stdout.decode(errors="replace"),
                   p.stderr.decode(errors="replace"), tree)


def trap_line(stderr: str) -> str:
    """The first line of a trap report, as both engines can say it.

    wasmtime reports an error raised inside its WASI implementation as a chain, "0: In func
    wasi_snapshot_preview1::fd_write at write size: CAUSE 1: CAUSE", and a fault in guest code
    as "0: memory fault at wasm address A in linear memory of size S 1: wasm trap: CAUSE": the
    outer links are context only wasmtime has (its argument decoder's call site, its signal
    handler's view of the fault); the cause, the last link, is what both engines must say."""
    first = stderr.splitlines()[0] if stderr else ""
    m = re.match(r"^(.*?: wasm trap: )0: .* 1: (?:wasm trap: )?(.*)$", first)
    return m.group(1) + m.group(2) if m else first


def compare(a: Outcome, b: Outcome | None, *, trap: bool = False) -> None:
    if b is None:
        pytest.skip(NO_LLVM)
    assert a.stdout == b.stdout, f"stdout differs\n--- wasmtime\n{a.stdout}\n--- llvm\n{b.stdout}"
    assert a.returncode == b.returncode, (a.returncode, b.returncode, a.stderr, b.stderr)
    if trap:
        assert trap_line(a.stderr) == trap_line(b.stderr), (a.stderr, b.stderr)
    else:
        assert a.stderr == b.stderr, (a.stderr, b.stderr)
    assert a.tree == b.tree


def both(engines: tuple[str, ...], tmp_path: Path, module: Path,
         **kw: object) -> tuple[Outcome, Outcome | None]:
    out = [run_engine(e, module, tmp_path, **kw) for e in engines]  # type: ignore[arg-type]
    return out[0], (out[1] if len(out) > 1 else None)


def mpich_env() -> dict[str, str]:
    """Programs without MPI calls need one MPI only (mpiexec starts the rank): the first."""
    return _mpis()[0].env()


# ---- programs without MPI -------------------------------------------------------------------

def test_file_io(engines, programs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wt, ll = both(engines, tmp_path, programs("wasi_files.c"), args=("/data",),
                  env=mpich_env())
    assert wt.returncode == 0 and wt.stdout.endswith("done\n"), wt.stderr
    assert "large read 6291456 fnv" in wt.stdout and "equal 1" in wt.stdout
    compare(wt, ll)


def ro_tree(root: Path) -> None:
    (root / "ro" / "rsub").mkdir(parents=True)
    (root / "ro" / "r.txt").write_text("ro\n")


def test_directories(engines, programs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wt, ll = both(engines, tmp_path, programs("wasi_dirs.c"), args=("/data", "/ro"),
                  grants=(("rw", "/data", False), ("ro", "/ro", True)), setup=ro_tree,
                  env=mpich_env())
    assert wt.returncode == 0 and wt.stdout.endswith("done\n"), wt.stderr
    assert "removed in all: 300" in wt.stdout
    assert wt.tree["ro/r.txt"].startswith("file 3 ")
    compare(wt, ll)


def test_args_env_clocks_stdin(engines, programs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = mpich_env() | {"WASMPI_T_PASS": "passed through", "WASMPI_T_HIDDEN": "not passed"}
    stdin = b"first line\n" + b"".join(b"line %d\n" % i for i in range(5000))
    wt, ll = both(engines, tmp_path, programs("wasi_env.c"),
                  args=(NOW, "a b", "", "c=d", "\u00e9t\u00e9"),
                  opts=("--env", "A=1", "--env", "B=x y=z", "--env", "EMPTY=",
                        "--env-pass", "WASMPI_T_PASS"),
                  stdin=stdin, env=env)
    assert wt.returncode == 0 and wt.stdout.endswith("done\n"), wt.stderr
    s = wt.stdout
    assert "WASMPI_T_PASS=passed through" in s and "HIDDEN" not in s and "argv[3] = []" in s
    assert "realtime within 5 s of the host: 1" in s and "slept enough 0" not in s
    assert f"stdin: read end 0, {len(stdin)} bytes, 5001 lines" in s and "first [first line]" in s
    compare(wt, ll)


EXITS = {  # mode: (status, trap)
    "exit0": (0, False), "exit3": (3, False), "return7": (7, False),
    "exit_unflushed": (5, False), "abort": (134, True), "oob_iov": (134, True),
    "oob_out": (134, True), "oob_path": (134, True), "oob_args": (134, True),
    "misaligned": (134, True), "bad_whence": (134, True), "bad_clock": (134, True),
    "bad_flags": (134, True),
}


@pytest.mark.parametrize("mode", EXITS)
def test_exit_and_traps(engines, programs, tmp_path: Path, mode: str) -> None:  # type: ignore[no-untyped-def]
    status, trap = EXITS[mode]
    wt, ll = both(engines, tmp_path, programs("wasi_exit.c"), args=(mode,), env=mpich_env())
    assert wt.returncode == status, wt.stderr
    assert wt.stdout.startswith(f"mode {mode}\n")
    if trap:
        assert "wasm trap: " in wt.stderr.splitlines()[0]
    compare(wt, ll, trap=trap)


# ---- MPI and files --------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2])
def test_mpi_file_per_rank(engines, programs, mpi: MPI, tmp_path: Path, n: int) -> None:  # type: ignore[no-untyped-def]
    wt, ll = both(engines, tmp_path, programs("wasi_mpi.c"), n=n, args=("/data",),
                  env=mpi.env())
    assert wt.returncode == 0, wt.stderr
    assert "ranks wrote their files: 1" in wt.stdout and "matches 0" not in wt.stdout
    assert sorted(wt.tree) == [f"rw/rank{r}.bin" for r in range(1, n)]
    compare(wt, ll)
