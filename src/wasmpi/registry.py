"""The job registry: one JSON record per job in a per-user directory, on this node.

``$XDG_RUNTIME_DIR/wasmpi`` (a tmpfs the login session owns), else ``/tmp/wasmpi-$UID``, mode
0700; ``--jobs-dir`` / ``WASMPI_JOBS_DIR`` overrides it. Every write is a read-modify-write
under an advisory lock (``ID.lock``) that ends in an atomic rename, so that a reader never sees
half a record and two writers (the launcher, ``wasmpi pause``, a ``link`` from another process)
never lose each other's change.

A record is only as current as the process that keeps it: the launcher (``wasmpi run``) writes
the end of its job, but it can be SIGKILLed. So every read checks the processes of a job that
claims to be running (the launcher, mpiexec and the ranks, each by pid *and* start time, so a
reused pid does not count) and marks a job whose processes are all gone as failed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import UsageError

#: States of a job. The first two are live; the others are final.
RUNNING, PAUSED, EXITED, FAILED, KILLED = "running", "paused", "exited", "failed", "killed"
LIVE = (RUNNING, PAUSED)
STATES = (RUNNING, PAUSED, EXITED, FAILED, KILLED)

_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")

#: Exit status of ``wasmpi wait`` for a job whose status nobody saw (its launcher was killed).
LOST_STATUS = 255


def default_dir(environ_runtime: str | None) -> Path:
    """Where the registry lives, given ``$XDG_RUNTIME_DIR`` (config.py reads the variable)."""
    if environ_runtime:
        return Path(environ_runtime) / "wasmpi"
    return Path(f"/tmp/wasmpi-{os.getuid()}")


@dataclass(frozen=True)
class Proc:
    """A process of the job: pid and start time (clock ticks after boot, /proc/PID/stat), so
    that a pid the kernel gave to another process since is not mistaken for it."""

    pid: int
    start: int
    host: str = ""
    rank: int | None = None

    def alive(self) -> bool:
        if self.host and self.host != hostname():
            return False  # not visible from here: the record says nothing about it
        return start_time(self.pid) == self.start

    @classmethod
    def of(cls, pid: int, rank: int | None = None) -> Proc | None:
        t = start_time(pid)
        return None if t is None else cls(pid, t, hostname(), rank)


@dataclass(frozen=True)
class Record:
    """Everything the registry knows about one job."""

    id: str
    module: str
    module_hash: str
    args: tuple[str, ...]
    nprocs: int
    engine: str
    mpi: str  # the host MPI's mpicc
    mpi_flavor: str
    user: str
    start: float
    state: str = RUNNING
    exit_status: int | None = None
    reason: str = ""
    end: float | None = None
    launcher: Proc | None = None
    mpiexec: Proc | None = None
    ranks: tuple[Proc, ...] = ()
    output: str | None = None  # --output DIR
    links: tuple[str, ...] = ()
    #: pause bookkeeping: seconds spent paused before the current pause, and when it began
    paused_total: float = 0.0
    paused_since: float | None = None
    #: set by `wasmpi kill` / a link before it signals, so the end is recorded as killed
    kill_reason: str | None = None
    #: the launcher has found every rank it will find (all N, or all on this node)
    ranks_known: bool = False
    time_limit: float | None = None
    history: tuple[tuple[float, str, str], ...] = field(default=())

    @property
    def live(self) -> bool:
        return self.state in LIVE

    @property
    def abnormal(self) -> bool:
        """Ended other than by exiting with status 0: what kills the jobs linked to it."""
        return not self.live and not (self.state == EXITED and self.exit_status == 0)

    def paused_seconds(self, now: float | None = None) -> float:
        now = time.time() if now is None else now
        return self.paused_total + (max(0.0, now - self.paused_since)
                                    if self.paused_since is not None else 0.0)

    def processes(self) -> list[Proc]:
        return [p for p in (self.launcher, self.mpiexec, *self.ranks) if p is not None]

    def any_alive(self) -> bool:
        return any(p.alive() for p in self.processes())

    def with_state(self, state: str, reason: str, **changes: Any) -> Record:
        hist = (*self.history, (time.time(), state, reason))
        return replace(self, state=state, reason=reason, history=hist, **changes)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["args"] = list(self.args)
        d["links"] = list(self.links)
        d["history"] = [list(h) for h in self.history]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Record:
        def proc(p: dict[str, Any] | None) -> Proc | None:
            return None if p is None else Proc(**p)

        d = dict(d)
        d["args"] = tuple(d.get("args", ()))
        d["links"] = tuple(d.get("links", ()))
        d["history"] = tuple(tuple(h) for h in d.get("history", ()))
        d["launcher"] = proc(d.get("launcher"))
        d["mpiexec"] = proc(d.get("mpiexec"))
        d["ranks"] = tuple(Proc(**p) for p in d.get("ranks", ()))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def hostname() -> str:
    # what socket.gethostname() returns (gethostname(2) is the uname node name), without the
    # socket module: the launcher records its job before starting mpiexec
    return os.uname().nodename


def start_time(pid: int) -> int | None:
    """The start time of process ``pid`` (field 22 of /proc/PID/stat), None if there is none.
    A zombie counts as gone: it runs nothing and its parent is about to reap it."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # the name in (...) may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def new_id() -> str:
    return os.urandom(4).hex()  # secrets.token_hex(4), without importing secrets (hashlib...)


class Registry:
    """The records in one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> Path:
        """Create the directory (0700) if needed; refuse one another user could write."""
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = self.root.stat()
        except OSError as e:
            raise UsageError(f"job registry {self.root}: {e.strerror}",
                             hint="set --jobs-dir / WASMPI_JOBS_DIR to a directory of yours"
                             ) from None
        if st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & 0o022:
            raise UsageError(f"job registry {self.root}: not a private directory of this user",
                             hint="set --jobs-dir / WASMPI_JOBS_DIR to a directory of yours")
        return self.root

    def path(self, job_id: str) -> Path:
        if not _ID.fullmatch(job_id):
            raise UsageError(f"job id {job_id!r}: expected letters, digits, '.', '_' or '-'")
        return self.root / f"{job_id}.json"

    @contextlib.contextmanager
    def _lock(self, job_id: str) -> Iterator[None]:
        self.path(job_id)  # validates the id
        fd = os.open(self.root / f"{job_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, rec: Record) -> None:
        tmp = self.root / f".{rec.id}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(rec.to_json(), indent=1))
        os.replace(tmp, self.path(rec.id))

    def _read(self, job_id: str) -> Record | None:
        try:
            return Record.from_json(json.loads(self.path(job_id).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def create(self, rec: Record) -> None:
        self.ensure()
        with self._lock(rec.id):
            if self.path(rec.id).exists():
                raise UsageError(f"job {rec.id} exists already in {self.root}")
            self._write(rec)

    def update(self, job_id: str, change: Any) -> Record | None:
        """Apply ``change(record) -> record`` under the lock; the new record (None: no job)."""
        if not self.root.is_dir():
            return None
        with self._lock(job_id):
            rec = self._read(job_id)
            if rec is None:
                return None
            new: Record = change(rec)
            if new != rec:
                self._write(new)
            return new

    def peek(self, job_id: str) -> Record | None:
        """The record as written, without checking its processes."""
        return self._read(job_id) if _ID.fullmatch(job_id) else None

    def get(self, job_id: str) -> Record | None:
        """The record, with a stale live state corrected (see the module's docstring)."""
        rec = self._read(job_id)
        if rec is not None and rec.live and not rec.any_alive():
            rec = self.update(job_id, _mark_vanished)
        return rec

    def all(self) -> list[Record]:
        if not self.root.is_dir():
            return []
        out = [self.get(p.stem) for p in self.root.glob("*.json")]
        return sorted((r for r in out if r is not None), key=lambda r: r.start)

    def find(self, ref: str) -> Record:
        """A job by its id or an unambiguous prefix of it."""
        exact = self.get(ref)
        if exact is not None:
            return exact
        hits = [r for r in self.all() if r.id.startswith(ref)] if ref else []
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise JobNotFound(f"no job {ref!r} in {self.root}", hint="`wasmpi ps --all` lists them")
        raise UsageError(f"job {ref!r} is ambiguous: {', '.join(r.id for r in hits)}")

    def remove(self, job_id: str) -> None:
        for p in (self.path(job_id), self.root / f"{job_id}.lock"):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def _mark_vanished(rec: Record) -> Record:
    if not rec.live or rec.any_alive():  # another reader marked it, or it lives after all
        return rec
    why = rec.kill_reason or ("its launcher (wasmpi run) and every rank are gone; "
                              "the exit status is unknown")
    return rec.with_state(KILLED if rec.kill_reason else FAILED, why, end=time.time(),
                          paused_since=None)


class JobNotFound(UsageError):
    """No job by that id in the registry."""

    exit_code = 68


# --- acting on a job's processes ---------------------------------------------------------------

def signal_procs(procs: list[Proc], signum: int) -> int:
    """Send ``signum`` to those of ``procs`` still alive on this node; how many got it."""
    sent = 0
    for p in procs:
        if p.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p.pid, signum)
                sent += 1
    return sent


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def parse_signal(text: str) -> int:
    t = text.strip().upper()
    if t.isdigit():
        return int(t)
    name = t if t.startswith("SIG") else "SIG" + t
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise UsageError(f"--signal {text}: unknown signal") from None
