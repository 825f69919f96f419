"""What ``wasmpi ps / wait / kill / pause / resume / monitor / logs / link`` do to a job, for
the CLI and the Python API alike.

**Pause** stops the job's rank processes with SIGSTOP and **resume** continues them with
SIGCONT (docs/api.md says why: no cooperation from the guest, the same for any engine, and
nothing inside the ranks runs, so no MPI progress engine can time out). mpiexec is left
running: it is idle while its ranks are, and Hydra's proxies and Open MPI's daemons keep
serving their sockets. The registry records when the pause began before the ranks stop and
how long it lasted before they continue, so that ``--time-limit`` (the ranks' watchdogs and
the launcher's backstop) does not count paused time.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import registry
from .errors import UsageError
from .registry import PAUSED, RUNNING, Record, Registry

#: Signals after which a job counts as killed (they end a process unless it handles them).
ENDING = (signal.SIGTERM, signal.SIGINT, signal.SIGKILL, signal.SIGHUP, signal.SIGQUIT,
          signal.SIGABRT, signal.SIGALRM)
POLL = 0.1
#: How long pause waits for the launcher to find the ranks of a job that has just started.
RANKS_TIMEOUT = 30.0


class JobTimeout(UsageError):
    """``wait --timeout`` ran out before the job ended."""

    exit_code = 124


def open_registry() -> Registry:
    from .config import current

    return Registry(current().jobs_dir)


def table(records: list[Record]) -> str:
    """The ``wasmpi ps`` table."""
    rows = [("JOB", "STATE", "N", "MPI", "USER", "STARTED", "PID", "MODULE", "STATUS")]
    for r in records:
        status = "" if r.exit_status is None and r.live else (
            "?" if r.exit_status is None else str(r.exit_status))
        pid = str(r.launcher.pid) if r.launcher else "-"
        rows.append((r.id, r.state, str(r.nprocs), r.mpi_flavor, r.user,
                     time.strftime("%H:%M:%S", time.localtime(r.start)), pid,
                     Path(r.module).name + (" " + " ".join(r.args) if r.args else ""), status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows) + "\n"


def as_json(rec: Record) -> dict[str, Any]:
    return rec.to_json()


def ps(reg: Registry, show_all: bool = False) -> list[Record]:
    return [r for r in reg.all() if show_all or r.live]


def wait(reg: Registry, job_id: str, timeout: float | None = None) -> Record:
    """Block until the job has ended; its final record."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        rec = reg.get(job_id)
        if rec is None:
            raise registry.JobNotFound(f"no job {job_id!r} in {reg.root}")
        if not rec.live:
            return rec
        if end is not None and time.monotonic() >= end:
            raise JobTimeout(f"job {job_id} still {rec.state} after {timeout:g} s")
        time.sleep(POLL)


def exit_status(rec: Record) -> int:
    return registry.LOST_STATUS if rec.exit_status is None else rec.exit_status


def kill(reg: Registry, job_id: str, signum: int = signal.SIGTERM,
         reason: str | None = None) -> Record:
    """Send ``signum`` to the job. SIGTERM and SIGINT go to its launcher while it lives (it
    stops this node's ranks first, then mpiexec); other signals, or every signal once the
    launcher is gone, go to the ranks on this node and to mpiexec; SIGKILL to every process
    under mpiexec too, so that nothing is left behind."""
    rec = reg.get(job_id)
    if rec is None:
        raise registry.JobNotFound(f"no job {job_id!r} in {reg.root}")
    if not rec.live:
        return rec
    if signum in ENDING:
        why = reason or f"killed by wasmpi kill ({registry.signal_name(signum)})"
        rec = reg.update(job_id, lambda r: r if r.kill_reason else replace(r, kill_reason=why)
                         ) or rec
    launcher = rec.launcher if rec.launcher and rec.launcher.alive() else None
    if launcher and signum in (signal.SIGTERM, signal.SIGINT):
        registry.signal_procs([launcher], signum)
    else:
        procs = list(rec.ranks)
        if signum == signal.SIGKILL and rec.mpiexec and rec.mpiexec.alive():
            from .launcher import _descendants

            procs += [p for pid in _descendants(rec.mpiexec.pid)
                      if (p := registry.Proc.of(pid)) is not None]
        if rec.mpiexec:
            procs.append(rec.mpiexec)
        registry.signal_procs(procs, signum)
    if rec.state == PAUSED and signum in ENDING and signum != signal.SIGKILL:
        # stopped ranks act on the signal only once they run again
        registry.signal_procs(list(rec.ranks), signal.SIGCONT)
    return rec


def _ranks_known(reg: Registry, job_id: str) -> Record:
    end = time.monotonic() + RANKS_TIMEOUT
    while True:
        rec = reg.get(job_id)
        if rec is None:
            raise registry.JobNotFound(f"no job {job_id!r} in {reg.root}")
        if not rec.live:
            raise UsageError(f"job {job_id} has ended ({rec.state}: {rec.reason})")
        if rec.ranks_known or time.monotonic() > end:
            return rec
        time.sleep(POLL)


def pause(reg: Registry, job_id: str) -> Record:
    """Stop the job's ranks on this node (idempotent)."""
    rec = _ranks_known(reg, job_id)
    if not rec.ranks:
        raise UsageError(f"job {job_id}: no rank runs on this node ({registry.hostname()}); "
                         "pause and resume act on this node's ranks")

    def mark(r: Record) -> Record:
        if r.state != RUNNING:
            return r
        return r.with_state(PAUSED, "paused", paused_since=time.time())

    new = reg.update(job_id, mark) or rec
    if new.state == PAUSED:
        registry.signal_procs(list(new.ranks), signal.SIGSTOP)
    return new


def resume(reg: Registry, job_id: str) -> Record:
    """Continue a paused job's ranks (idempotent)."""
    rec = reg.get(job_id)
    if rec is None:
        raise registry.JobNotFound(f"no job {job_id!r} in {reg.root}")

    def mark(r: Record) -> Record:
        if r.state != PAUSED:
            return r
        return r.with_state(RUNNING, "resumed", paused_total=r.paused_seconds(),
                            paused_since=None)

    # the time is recorded before the ranks run again, so that their watchdogs see it
    new = reg.update(job_id, mark) or rec
    registry.signal_procs(list(new.ranks), signal.SIGCONT)
    return new


@dataclass(frozen=True)
class Event:
    """One change in a job's life, as ``monitor`` reports it."""

    job: str
    time: float
    state: str
    reason: str
    exit_status: int | None = None

    def line(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.time))
        status = "" if self.exit_status is None else f" (status {self.exit_status})"
        return f"{stamp} {self.job} {self.state}: {self.reason}{status}"


def events(reg: Registry, job_id: str, poll: float = 0.2) -> Iterator[Event]:
    """Every state change of the job, from its start to its end (then the iterator ends)."""
    seen = 0
    while True:
        rec = reg.get(job_id)
        if rec is None:
            raise registry.JobNotFound(f"no job {job_id!r} in {reg.root}")
        for when, state, reason in rec.history[seen:]:
            final = state not in registry.LIVE
            yield Event(rec.id, when, state, reason, rec.exit_status if final else None)
        seen = len(rec.history)
        if not rec.live:
            return
        time.sleep(poll)


def monitor(reg: Registry, job_id: str, callback: Callable[[Event], None]) -> Record:
    for ev in events(reg, job_id):
        callback(ev)
    return wait(reg, job_id)


def logs(rec: Record, rank: int | None = None, stream: str | None = None) -> Iterator[
        tuple[str, str]]:
    """(stream, text) of each captured file, rank by rank: stdout then stderr."""
    if rec.output is None:
        raise UsageError(f"job {rec.id} was not started with --output DIR: no logs")
    root = Path(rec.output)
    files = sorted(root.glob("rank.*.*"), key=lambda p: (_rank(p), p.suffix != ".out"))
    for f in files:
        kind = "stdout" if f.suffix == ".out" else "stderr"
        if (rank is not None and _rank(f) != rank) or (stream and stream != kind):
            continue
        with contextlib.suppress(OSError):
            yield kind, f.read_text(errors="replace")


def _rank(p: Path) -> int:
    try:
        return int(p.name.split(".")[1])
    except (IndexError, ValueError):
        return -1


def link(reg: Registry, a: str, b: str) -> None:
    """Link two jobs, both ways (idempotent): if either ends abnormally, the other's launcher
    kills it, which then counts as abnormal for the jobs linked to it in turn."""
    if a == b:
        return
    for me, other in ((a, b), (b, a)):
        if reg.update(me, lambda r, o=other: r if o in r.links else
                      replace(r, links=(*r.links, o))) is None:
            raise registry.JobNotFound(f"no job {me!r} in {reg.root}")


def unlink(reg: Registry, a: str, b: str) -> None:
    for me, other in ((a, b), (b, a)):
        reg.update(me, lambda r, o=other: replace(r, links=tuple(x for x in r.links if x != o)))


def print_records(records: list[Record], as_json_out: bool) -> None:
    if as_json_out:
        print(json.dumps([as_json(r) for r in records], indent=1))
    else:
        sys.stdout.write(table(records))
