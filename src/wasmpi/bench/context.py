"""What every subcommand shares: the MPI under test, the engines, the builds, running a job with a
timeout, the paired (ABBA) round loop, and writing the results.

Stable interface for subcommand modules (``add_arguments(parser)`` and ``run(args, ctx) -> int``):
:class:`Context` with ``engines``, ``nprocs``, ``rounds``, ``quick``, ``out``, ``progress``,
``program``, ``build_native``, ``build_wasm``, ``command``, ``run``, ``paired`` and ``finish``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .. import config
from ..errors import ToolError, UsageError
from ..hostmpi import HostMPI
from . import report
from .stats import NATIVE, abba

PROGRAMS = Path(__file__).resolve().parent / "programs"
ENGINES = (NATIVE, "wasmtime", "llvm")
RUN_TIMEOUT = 900.0  # seconds for one job

G = TypeVar("G")


def wasm_engines() -> dict[str, str | None]:
    """The wasm engines this wasmpi has, each with the reason it cannot be used (None: usable).
    ``llvm`` exists when the ``engine`` option does (``--engine llvm``)."""
    has_option = "engine" in config.BY_NAME
    choices = getattr(config, "ENGINES", ("wasmtime", "llvm") if has_option else ("wasmtime",))
    return {"wasmtime": None,
            "llvm": None if "llvm" in choices else "this wasmpi has no --engine llvm"}


def parse_engines(text: str) -> list[str]:
    names = [e.strip() for e in text.split(",") if e.strip()]
    bad = [e for e in names if e not in ENGINES]
    if bad or not names:
        raise UsageError(f"bench: --engines {text!r}: choose from {', '.join(ENGINES)}")
    return list(dict.fromkeys(names))


@dataclass
class Context:
    """One `wasmpi bench` invocation (shared by the subcommands of `bench all`)."""

    mpi: HostMPI
    engines: list[str]
    nprocs: int
    rounds: int
    quick: bool
    out: Path
    plot: bool = True
    timeout: float = RUN_TIMEOUT
    skipped: dict[str, str] = field(default_factory=dict)
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="wasmpi-bench-")))
    progress: report.Progress = field(default_factory=lambda: report.Progress(""))
    written: list[Path] = field(default_factory=list)
    _built: dict[tuple[str, ...], Path] = field(default_factory=dict)
    _meta: dict[str, Any] | None = None
    _said_plot: bool = False

    # --- programs and builds ------------------------------------------------------------------

    @staticmethod
    def program(name: str) -> Path:
        """A C source shipped with wasmpi in ``wasmpi/bench/programs``."""
        path = PROGRAMS / name
        if not path.is_file():
            raise ToolError(f"bench program missing from this install: {path}")
        return path

    def build_native(self, source: Path, flags: Sequence[str] = ("-O2",),
                     name: str | None = None, libs: Sequence[str] = ()) -> Path:
        """``source`` built with the host MPI's mpicc (once per invocation); ``libs`` (e.g.
        ``-lm``) follow the source, where the linker needs them."""
        key = ("native", str(source), *flags, *libs)
        if key not in self._built:
            out = self.tmp / f"{name or source.stem}-{len(self._built)}"
            self.progress(f"build native {source.name} {' '.join(flags)}")
            self.check([self.mpi.mpicc, *flags, "-o", str(out), str(source), *libs],
                       what=f"building {source.name} with {self.mpi.mpicc}")
            self._built[key] = out
        return self._built[key]

    def build_wasm(self, source: Path, flags: Sequence[str] = ("-O2",),
                   name: str | None = None, libs: Sequence[str] = ()) -> Path:
        """``source`` built with ``wasmpi cc`` (once per invocation)."""
        key = ("wasm", str(source), *flags, *libs)
        if key not in self._built:
            out = self.tmp / f"{name or source.stem}-{len(self._built)}.wasm"
            self.progress(f"build wasm {source.name} {' '.join(flags)}")
            self.check([sys.executable, "-m", "wasmpi", "cc", *flags, "-o", str(out),
                        str(source), *libs], what=f"building {source.name} with wasmpi cc")
            self._built[key] = out
        return self._built[key]

    # --- running ------------------------------------------------------------------------------

    def command(self, engine: str, native: Path | None, wasm: Path | None,
                args: Sequence[str] = (), *, nprocs: int | None = None,
                wasmpi_opts: Sequence[str] = ()) -> list[str]:
        """The job that runs the program on ``engine``: the native binary under the MPI's
        mpiexec, or the module under `wasmpi run` (``wasmpi_opts``: e.g. ``--dir`` grants)."""
        n = str(nprocs or self.nprocs)
        if engine == NATIVE:
            assert native is not None
            return [self.mpi.mpiexec, *self.mpi.launcher_args(), "-n", n, str(native), *args]
        assert wasm is not None
        select = ["--engine", engine] if "engine" in config.BY_NAME else []
        return [sys.executable, "-m", "wasmpi", "run", "-n", n, "--mpi", self.mpi.mpicc,
                "--mpiexec", self.mpi.mpiexec, *select, *wasmpi_opts, str(wasm), "--", *args]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**os.environ, **self.mpi.launcher_env(), **(extra or {})}

    def run(self, cmd: Sequence[str], *, what: str, env: dict[str, str] | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """Run a job; a failure or a timeout is a :class:`ToolError` with its output. A job
        that runs too long is ended with its whole process group (mpiexec and the ranks)."""
        limit = timeout or self.timeout
        proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, env=env or self.env(),
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            raise ToolError(f"{what}: no end after {limit:.0f} s: {shlex.join(cmd)}\n"
                            + _tail(out, err)) from None
        except BaseException:
            _kill_group(proc)
            raise
        if proc.returncode != 0:
            raise ToolError(f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n"
                            + _tail(out, err))
        return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)

    def check(self, cmd: Sequence[str], *, what: str) -> None:
        self.run(cmd, what=what)

    def paired(self, groups: Iterable[G], step: Callable[[G, str, int], None],
               label: str = "", engines: Sequence[str] | None = None) -> None:
        """Run ``step(group, engine, round)`` for every round, group and engine; in each round
        the engines take turns in ABBA order (reversed every other round), group by group, so
        that a drift of a shared machine hits every engine alike."""
        sides = list(engines or self.engines)
        items = list(groups)
        for rnd in range(self.rounds):
            t0 = time.monotonic()
            order = abba(sides, rnd)
            for g in items:
                for e in order:
                    step(g, e, rnd)
            self.progress(f"{label + ' ' if label else ''}round {rnd + 1}/{self.rounds} "
                          f"({' '.join(order)}) {time.monotonic() - t0:.1f} s, "
                          f"load {os.getloadavg()[0]:.2f}")

    # --- results ------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            self._meta = report.versions(self.mpi.mpicc, self.mpi.mpiexec, self.mpi.flavor)
        return self._meta

    def finish(self, subcommand: str, series: Sequence[report.Series], *,
               started: _dt.datetime, settings: dict[str, Any] | None = None,
               notes: Sequence[str] = (), extra: dict[str, Any] | None = None) -> Path:
        """Print the tables, write the JSON and (when asked and possible) the plots."""
        notes = [*(f"engine {e} skipped: {why}" for e, why in self.skipped.items()), *notes]
        for s in series:
            print(report.table(s) + "\n", flush=True)
        for n in notes:
            print(f"note: {n}", flush=True)
        stamp = started.strftime("%Y%m%d-%H%M%S")
        base = f"{subcommand}-{self.mpi.flavor}-{stamp}"
        doc = report.document(subcommand, series, started=started, meta=self.meta(),
                              settings={"nprocs": self.nprocs, "rounds": self.rounds,
                                        "quick": self.quick, "engines": self.engines,
                                        **(settings or {})},
                              notes=notes, extra=extra)
        path = report.write_json(doc, self.out / f"{base}.json")
        self.written.append(path)
        self.progress(f"wrote {path}")
        if self.plot and series:
            if not report.have_matplotlib():
                if not self._said_plot:
                    print(f"wasmpi: no plots: matplotlib is missing; {report.PLOT_HINT}",
                          file=sys.stderr, flush=True)
                self._said_plot = True
                return path
            for s in series:
                png = report.plot(s, self.out / f"{base}-{_slug(s.name)}.png",
                                  f"{s.name}: {self.mpi.flavor}, {self.nprocs} ranks")
                if png:
                    self.written.append(png)
                    self.progress(f"wrote {png}")
        return path


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _tail(out: str | None, err: str | None, lines: int = 15) -> str:
    text = ((out or "") + (err or "")).strip().splitlines()
    return "\n".join(text[-lines:])


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
