"""The Python API: compile modules, start jobs without blocking, steer them through
:class:`Job` handles. Re-exported by :mod:`wasmpi` (``wasmpi.compile``, ``wasmpi.run``,
``wasmpi.jobs``, ``wasmpi.Job``, ``wasmpi.Limits``). docs/api.md has examples.

A job started here is ``wasmpi run`` in a child process, given its job id in advance, so the
same registry, launcher and supervision serve the CLI and the API; :func:`jobs` wraps every job
of the registry, whoever started it.
"""

from __future__ import annotations

import signal as _signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from . import control, registry
from .control import Event
from .errors import ToolError, UsageError
from .registry import Proc, Record, Registry

__all__ = ["Event", "Job", "Limits", "Rank", "compile", "jobs", "run"]


@dataclass(frozen=True)
class Limits:
    """Per-rank limits: ``--mem-limit`` (bytes, or a string such as ``"512M"``), ``--fuel``,
    and the job's ``--time-limit`` in seconds."""

    memory: int | str | None = None
    fuel: int | None = None
    time: float | None = None

    def flags(self) -> list[str]:
        out: list[str] = []
        if self.memory is not None:
            out += ["--mem-limit", str(self.memory)]
        if self.fuel is not None:
            out += ["--fuel", str(self.fuel)]
        if self.time is not None:
            out += ["--time-limit", str(self.time)]
        return out


@dataclass(frozen=True)
class Rank:
    """One rank process of a job, as the launcher found it on its node."""

    rank: int | None
    pid: int
    host: str


def compile(sources: str | Path | Sequence[str | Path], output: str | Path | None = None,
            flags: Iterable[str] = (), cxx: bool = False) -> Path:
    """Compile C (or C++ with ``cxx``) sources to a wasm module, as ``wasmpi cc`` does; returns
    the module's path (default: the first source's name with ``.wasm``, next to it). Raises
    :class:`~wasmpi.errors.ToolError` if the compiler fails (its messages are on stderr)."""
    from . import toolchain

    srcs = [Path(sources)] if isinstance(sources, str | Path) else [Path(s) for s in sources]
    if not srcs:
        raise UsageError("compile: no sources")
    out = Path(output) if output is not None else srcs[0].with_suffix(".wasm")
    argv = [*map(str, srcs), *flags, "-o", str(out)]
    rc = toolchain.compile(argv, cplusplus=cxx)
    if rc != 0:
        raise ToolError(f"compile: {'wasmpi c++' if cxx else 'wasmpi cc'} failed (exit {rc}) "
                        f"on {', '.join(map(str, srcs))}")
    return out


def _registry() -> Registry:
    return control.open_registry()


def run(module: str | Path, nprocs: int = 1, args: Sequence[str] = (),
        dirs: Sequence[str] = (), env: Mapping[str, str] | None = None, mpi: str | None = None,
        engine: str | None = None, limits: Limits | None = None,
        output: str | Path | None = None, mpiexec_args: Sequence[str] = (),
        stdout: int | IO[bytes] | None = None, stderr: int | IO[bytes] | None = None) -> Job:
    """Start ``module`` on ``nprocs`` ranks and return at once.

    ``dirs`` are ``--dir`` grants (``HOST[::GUEST][:ro]``), ``env`` the guest's environment,
    ``mpi`` the host MPI's mpicc, ``engine`` the ``--engine`` option where this wasmpi has one,
    ``output`` a directory for per-rank stdout/stderr files. ``stdout`` / ``stderr`` go to
    :class:`subprocess.Popen` (default: this process's). Bad options are reported by the job,
    which then fails (``job.wait()`` returns 64, its stderr says why)."""
    reg = _registry()
    reg.ensure()
    job_id = registry.new_id()
    argv = [sys.executable, "-m", "wasmpi", "run", "-n", str(nprocs),
            "--job", job_id, "--jobs-dir", str(reg.root)]
    for d in dirs:
        argv += ["--dir", d]
    for k, v in (env or {}).items():
        argv += ["--env", f"{k}={v}"]
    if mpi is not None:
        argv += ["--mpi", mpi]
    if engine is not None:
        argv += ["--engine", engine]
    if output is not None:
        argv += ["--output", str(output)]
    for a in mpiexec_args:
        argv += ["--mpiexec-arg", a]
    argv += (limits or Limits()).flags()
    argv += [str(Path(module).resolve()), "--", *args]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    except OSError as e:  # pragma: no cover - the interpreter itself is missing
        raise ToolError(f"cannot start {sys.executable}: {e.strerror}") from None
    return Job(job_id, reg, proc)


def jobs(all: bool = False) -> list[Job]:
    """The jobs of the registry, whoever started them: live ones, or with ``all`` every one."""
    reg = _registry()
    return [Job(r.id, reg) for r in control.ps(reg, all)]


class Job:
    """A handle on one job. Operations act on the registry and the job's processes, so a
    handle from :func:`jobs` steers a job another process started as well as its own."""

    def __init__(self, job_id: str, reg: Registry | None = None,
                 proc: subprocess.Popen[bytes] | None = None) -> None:
        self.id = job_id
        self._reg = reg or _registry()
        self._proc = proc

    def __repr__(self) -> str:
        return f"<wasmpi.Job {self.id} {self.status}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    # --- reading ---------------------------------------------------------------------------

    def record(self, timeout: float = 60.0) -> Record:
        """The registry's record (waits for the launcher to write it, at most ``timeout`` s).
        A job that failed before the launcher registered it (bad options) has none: that is
        a :class:`~wasmpi.errors.UsageError` naming its exit status."""
        end = time.monotonic() + timeout
        while True:
            rec = self._reg.get(self.id)
            if rec is not None:
                return rec
            if self._proc is not None and self._proc.poll() is not None:
                rec = self._reg.get(self.id)  # written just before the launcher exited
                if rec is not None:
                    return rec
                raise UsageError(f"job {self.id} failed before it started "
                                 f"(wasmpi run exited with {self._proc.returncode})")
            if self._proc is None or time.monotonic() > end:
                raise registry.JobNotFound(f"no job {self.id!r} in {self._reg.root}")
            time.sleep(control.POLL)

    @property
    def status(self) -> str:
        """running, paused, exited, failed or killed."""
        if self._proc is not None and self._reg.get(self.id) is None:
            return registry.RUNNING if self._proc.poll() is None else registry.FAILED
        return self.record().state

    @property
    def exit_code(self) -> int | None:
        """The job's exit status (as ``wasmpi run``'s), None while it runs."""
        if self._proc is not None and self._reg.get(self.id) is None:
            return self._proc.poll()
        rec = self.record()
        return None if rec.live else control.exit_status(rec)

    @property
    def ranks(self) -> list[Rank]:
        """The rank processes found on this node (empty until the launcher has found them)."""
        return [Rank(p.rank, p.pid, p.host) for p in self.record().ranks]

    @property
    def reason(self) -> str:
        return self.record().reason

    # --- steering --------------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> int:
        """Block until the job ends; its exit status. Raises
        :class:`~wasmpi.control.JobTimeout` after ``timeout`` seconds."""
        if self._proc is not None:
            try:
                rc = self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                raise control.JobTimeout(f"job {self.id} still running after {timeout:g} s"
                                         ) from None
            rec = self._reg.get(self.id)
            return rc if rec is None or rec.live else control.exit_status(rec)
        return control.exit_status(control.wait(self._reg, self.id, timeout))

    def kill(self, signal: int = _signal.SIGTERM) -> None:
        control.kill(self._reg, self.record().id, signal)

    def pause(self) -> None:
        """Stop the ranks (SIGSTOP) until :meth:`resume`; paused time does not count toward
        the time limit."""
        control.pause(self._reg, self.record().id)

    def resume(self) -> None:
        control.resume(self._reg, self.record().id)

    def link(self, other: Job) -> None:
        """If either job ends abnormally (anything but exit status 0), the other is killed;
        idempotent, both ways, and along chains (a killed job is an abnormal end in turn).
        Links live in the registry and each job's launcher enforces them, so they hold
        whichever processes started the jobs."""
        control.link(self._reg, self.record().id, other.record().id)

    def unlink(self, other: Job) -> None:
        control.unlink(self._reg, self.id, other.id)

    def monitor(self, callback: Callable[[Event], None]) -> threading.Thread:
        """Call ``callback(event)`` from a thread for each state change, the end included;
        returns the thread (it ends with the job)."""
        self.record()
        t = threading.Thread(target=control.monitor, args=(self._reg, self.id, callback),
                             name=f"wasmpi-monitor-{self.id}", daemon=True)
        t.start()
        return t

    # the registry's own view, for callers that want everything
    def processes(self) -> list[Proc]:
        return self.record().processes()
