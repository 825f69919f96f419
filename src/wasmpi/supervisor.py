"""The launcher's side of the job registry: record the job, find its ranks, enforce its links,
record its end.

Ranks are found without asking them anything, so that any rank program counts (``wasmpi exec``
or a native runner): the launcher puts the job id in mpiexec's environment, every process
mpiexec starts inherits it, and a rank is a descendant of mpiexec whose ``/proc/PID/environ``
holds the job id *and* the rank number its MPI gives it (``PMI_RANK`` for Hydra, ``PMIX_RANK``
for Open MPI): mpiexec's proxies have the first but not the second. Ranks on other nodes are not
visible in this node's /proc and are not recorded (mpiexec is: signals to it reach them).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import registry
from .registry import Proc, Record, Registry

#: Environment variables that carry a rank's number, by MPI (the first one found wins).
RANK_VARS = (b"PMI_RANK", b"PMIX_RANK", b"OMPI_COMM_WORLD_RANK")
#: How often the launcher looks for ranks until it has found them all, and for linked jobs.
POLL = 0.25
#: After this long without finding all N ranks (some run on other nodes), stop looking.
DISCOVERY = 15.0


def _user() -> str:
    import getpass  # here: it imports termios and pwd, which only this needs

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def rank_of(pid: int, job_id: str) -> int | None:
    """The rank number of process ``pid`` if it is a rank of job ``job_id``, else None."""
    try:
        env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    if f"WASMPI_JOB={job_id}".encode() not in env:
        return None
    for var in RANK_VARS:
        for item in env:
            if item.startswith(var + b"="):
                with contextlib.suppress(ValueError):
                    return int(item[len(var) + 1:])
    return None


class Supervisor:
    """One job, seen from its launcher."""

    def __init__(self, reg: Registry, rec: Record) -> None:
        self.reg = reg
        self.id = rec.id
        self.nprocs = rec.nprocs
        reg.create(rec)
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._terminate: Callable[[str], None] = lambda _why: None

    @classmethod
    def new(cls, reg: Registry, job_id: str, *, module: Path, module_hash: str,
            args: tuple[str, ...], nprocs: int, engine: str, mpicc: str, flavor: str,
            output: str | None, time_limit: float | None) -> Supervisor:
        rec = Record(id=job_id, module=str(module.resolve()), module_hash=module_hash,
                     args=args, nprocs=nprocs, engine=engine, mpi=mpicc, mpi_flavor=flavor,
                     user=_user(), start=time.time(), launcher=Proc.of(os.getpid()),
                     output=output, time_limit=time_limit,
                     history=((time.time(), registry.RUNNING, "started"),))
        return cls(reg, rec)

    def started(self, mpiexec_pid: int, terminate: Callable[[str], None]) -> None:
        """mpiexec runs: record it, and watch for ranks and linked jobs until :meth:`ended`.
        ``terminate(reason)`` ends the job (from the watcher thread) when a linked job ended
        abnormally."""
        proc = Proc.of(mpiexec_pid)
        self.reg.update(self.id, lambda r: _replace(r, mpiexec=proc))
        self._terminate = terminate
        self._thread = threading.Thread(target=self._watch, args=(mpiexec_pid,),
                                        name="wasmpi-job", daemon=True)
        self._thread.start()

    def paused_seconds(self) -> float:
        rec = self.reg.get(self.id)
        return rec.paused_seconds() if rec else 0.0

    def ended(self, status: int, reason: str) -> Record | None:
        """mpiexec has exited with ``status``: record the end (killed if someone asked for it)."""
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

        def end(r: Record) -> Record:
            if r.kill_reason:
                state, why = registry.KILLED, r.kill_reason
            elif status == 0:
                state, why = registry.EXITED, reason or "exited with status 0"
            else:
                state, why = registry.FAILED, reason or f"exited with status {status}"
            return r.with_state(state, why, exit_status=status, end=time.time(),
                                paused_since=None)

        return self.reg.update(self.id, end)

    # --- the watcher thread --------------------------------------------------------------------

    def _watch(self, mpiexec_pid: int) -> None:
        from .launcher import _descendants

        found: dict[int, Proc] = {}
        began = time.time()
        complete = False
        while not self._done.wait(POLL if not complete else 4 * POLL):
            if not complete:
                for pid in _descendants(mpiexec_pid):
                    if pid in found:
                        continue
                    rank = rank_of(pid, self.id)
                    if rank is not None and (p := Proc.of(pid, rank)) is not None:
                        found[pid] = p
                if len(found) >= self.nprocs or time.time() - began > DISCOVERY:
                    complete = True
                ranks = tuple(sorted(found.values(), key=lambda p: (p.rank or 0, p.pid)))
                self.reg.update(self.id, lambda r, ranks=ranks, c=complete: _replace(
                    r, ranks=ranks, ranks_known=c))
            self._check_links()

    def _check_links(self) -> None:
        me = self.reg.get(self.id)
        if me is None or not me.live or me.kill_reason:
            return
        for other_id in me.links:
            other = self.reg.get(other_id)
            if other is not None and other.abnormal:
                why = f"linked job {other.id} ended abnormally ({other.state}: {other.reason})"
                self.reg.update(self.id, lambda r, why=why: _replace(r, kill_reason=why))
                self._terminate(why)
                return


def _replace(rec: Record, **changes: object) -> Record:
    from dataclasses import replace

    return replace(rec, **changes)  # type: ignore[arg-type]
