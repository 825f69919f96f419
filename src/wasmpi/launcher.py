"""``wasmpi run -n N``: prepare once on this node, then start N ranks under the host mpiexec.

Before launching, the parent validates the module, rejects unsupported MPI imports if
``--strict``, compiles the machine code and builds the MPI bridge into the cache, so that ranks
only load them. Signals are forwarded to mpiexec; the exit status is the worst rank's, as
mpiexec reports it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import _tools, cache, hostmpi, registry, runtime, timelimit, validate
from . import output as wasmpi_output
from .bridge import names
from .bridge.build import build as build_bridge
from .config import ExecOptions, host_environ
from .errors import TimeLimitReached, ToolError, UsageError
from .output import Capture
from .registry import Registry
from .supervisor import Supervisor, rank_of

NO_GRANT_HINT = ("wasmpi: hint: no directory was granted to the guest, so it cannot open any "
                 "file; grant one with --dir HOST[::GUEST][:ro], e.g. --dir $PWD::/work")

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1,
                     signal.SIGUSR2, signal.SIGCONT)
#: Seconds after the time limit's deadline at which a job still running is killed outright.
BACKSTOP = 5.0
#: SIGINT / SIGTERM stop this node's ranks first, and reach mpiexec this many seconds later.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_GRACE = 2.0


def prepare(opts: ExecOptions) -> tuple[hostmpi.HostMPI, Path | None, Path]:
    """Everything a rank would otherwise do N times: returns the MPI that will run the job, the
    built bridge (None when the module imports no MPI) and the module's compiled code."""
    runtime.read_module_bytes(opts.module)
    o = opts.options
    # without --strict, rank 0 warns about missing MPI functions and they trap if called
    info = validate.check(opts.module, strict=o.strict)
    opts.sandbox()  # validate --dir / --env / --workdir before starting anything
    imports = [(i.module, i.name) for i in info.imports]
    mpi = hostmpi.select(o.mpicc, o.mpiexec)
    # the ranks load the machine code (and compile it again should wasmtime refuse it): loading
    # it here too, only to check it, would cost the launcher wasmtime's import (~15 ms)
    cwasm, _ = runtime.compile_module(opts.module, fuel=o.fuel is not None, load=False)
    if names.needs_bridge(imports):
        return mpi, build_bridge(mpi), cwasm
    return mpi, None, cwasm


def launch(nprocs: int, opts: ExecOptions, mpiexec_args: list[str] | None = None,
           output: Path | None = None, prefix: bool = True) -> int:
    if nprocs < 1:
        raise UsageError(f"-n {nprocs}: need at least one rank")
    llvm = opts.options.engine == "llvm"
    cwasm = None
    if llvm:
        from .runtime import llvm as tier

        tier.check(opts)
        runtime.read_module_bytes(opts.module)
        mpi, bridge = hostmpi.select(opts.options.mpicc, opts.options.mpiexec), None
        built = tier.build_all(opts, mpi)  # the time limit counts from the launch, as on wasmtime
    else:
        mpi, bridge, cwasm = prepare(opts)
    # ranks get every option on their command line: the MPI chosen here, and the bridge and
    # machine code built here, which they load by path instead of asking mpicc for the bridge's
    # cache key and hashing the module again
    job_id = opts.options.job or registry.new_id()
    opts = opts.with_options(mpicc=mpi.mpicc, mpiexec=mpi.mpiexec, bridge=bridge, cwasm=cwasm,
                             job=job_id)
    if opts.options.time_limit is not None:  # one deadline for all ranks, counted from now
        opts = opts.with_options(deadline=time.time() + opts.options.time_limit)
    if llvm:  # mpiexec starts the native runner itself, one per rank: no Python in a rank
        rank = [str(built.runner), *tier.argv(opts, built)]
    if (temporary := cache.fallback_dir()) is not None:  # the cache could not be written
        opts = opts.with_options(cache_dir=temporary)
    if not llvm:
        rank = [sys.executable, "-m", "wasmpi", "exec", *opts.forwarded(),
                str(opts.module.resolve()), *opts.args]
    capture = None
    extra = list(mpiexec_args or [])
    if output is not None:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"--output {output}: {e.strerror}") from None
        capture = Capture(output, prefix)
        extra = [*wasmpi_output.mpiexec_args(mpi.flavor), *extra]
    argv = [mpi.mpiexec, *mpi.launcher_args(), *extra, "-n", str(nprocs), *rank]
    env = dict(host_environ())
    env.update(mpi.launcher_env())
    env["WASMPI_JOB"] = job_id  # how the supervisor tells this job's ranks (supervisor.py)
    if not llvm and "PYTHONPYCACHEPREFIX" not in env and env.pop("PYTHONDONTWRITEBYTECODE", ""):
        # Without bytecode every wasmtime rank compiles wasmpi's sources again (~25 ms each):
        # the ranks keep theirs in wasmpi's cache, leaving the source tree as the user wants it.
        env["PYTHONPYCACHEPREFIX"] = str(cache.root() / "pyc")
    sup = Supervisor.new(
        Registry(opts.options.jobs_dir), job_id, module=opts.module,
        module_hash=cache.key(runtime.read_module_bytes(opts.module)), args=opts.args,
        nprocs=nprocs, engine=opts.options.engine, mpicc=mpi.mpicc, flavor=mpi.flavor,
        output=str(output.resolve()) if output else None, time_limit=opts.options.time_limit)
    _tools.echo(argv)
    pipe = subprocess.PIPE if capture else None
    try:
        proc = subprocess.Popen(argv, env=env, stdout=pipe, stderr=pipe)
    except OSError as e:
        sup.ended(ToolError.exit_code, f"cannot run {argv[0]}: {e.strerror}")
        raise ToolError(f"mpiexec: cannot run {argv[0]}: {e.strerror}",
                        hint="set WASMPI_MPIEXEC, or --mpi to an MPI that has one") from None
    if capture:
        assert proc.stdout is not None and proc.stderr is not None
        capture.start(proc.stdout, proc.stderr)

    def forward(signum: int, _frame: object) -> None:
        if signum in STOP_SIGNALS and _stop_local_ranks(proc.pid, signum, job_id):
            # the ranks on this node stop first, flushing the guest's stdout, while mpiexec
            # still relays what they write (Open MPI's launcher drops the output of ranks it is
            # tearing down); mpiexec itself, and through it ranks on other nodes, a moment later
            timer = threading.Timer(STOP_GRACE, _send, (proc, signum))
            timer.daemon = True
            timer.start()
            return
        _send(proc, signum)

    def terminate(_why: str) -> None:
        forward(signal.SIGTERM, None)
        # a paused job's stopped ranks act on SIGTERM only once they run again
        rec = sup.reg.get(job_id)
        if rec is not None:
            registry.signal_procs(list(rec.ranks), signal.SIGCONT)

    sup.started(proc.pid, terminate)
    old = {s: signal.signal(s, forward) for s in FORWARDED_SIGNALS}
    try:
        rc = _wait(proc, opts, sup.paused_seconds)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if capture:
            capture.join()
    status = 128 - rc if rc < 0 else rc
    limit = opts.options.time_limit
    sup.ended(status, f"time limit ({timelimit.seconds(limit)}) reached"
              if status == TimeLimitReached.exit_code and limit is not None else "")
    _explain(status)
    if 0 < status < 128 and status != TimeLimitReached.exit_code and not opts.options.dir:
        # once per job, here rather than in every rank; only for an exit the guest chose (a
        # trap is 134, a signal 128+N, the time limit 124: none of them is about files)
        print(NO_GRANT_HINT, file=sys.stderr, flush=True)
    return status


# statuses a rank cannot have chosen for itself (a trap is 134, as SIGABRT, and says so itself)
_DEATHS = (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE,
           signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _explain(status: int) -> None:
    """mpiexec's own report of a rank killed by a signal does not always name the rank (Hydra
    names a PID); add one line that says what the job's status means."""
    if status - 128 in (int(s) for s in _DEATHS):
        name = signal.Signals(status - 128).name
        print(f"wasmpi: the job ended with status {status}: a rank or the launcher was killed "
              f"by {name} (mpiexec's report above says which)", file=sys.stderr, flush=True)


def _send(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signum)


def _stop_local_ranks(root: int, signum: int, job_id: str | None = None) -> bool:
    """Send ``signum`` to the ranks (``wasmpi exec``, or any process carrying the job's id and
    a rank number) below ``root`` on this node; whether there were any."""
    ranks = []
    for pid in _descendants(root):
        if job_id is not None and rank_of(pid, job_id) is not None:
            ranks.append(pid)
            continue
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (b"wasmpi" in argv and b"exec" in argv) or (
                argv and b"wasmpi-runner" in argv[0]):
            ranks.append(pid)
    for pid in ranks:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)
    return bool(ranks)


def _wait(proc: subprocess.Popen[bytes], opts: ExecOptions,
          paused: Callable[[], float] = lambda: 0.0) -> int:
    """mpiexec's status. With a time limit the ranks end the job at the deadline themselves,
    each after its report and a grace period: a failure after that is the limit's (124), though
    mpiexec may report the signal that ended the slower ranks instead (Hydra kills them once
    one has exited). If the job has not ended BACKSTOP seconds after the deadline (a rank that
    cannot run its watchdog), mpiexec and every process under it are killed: Hydra's proxies
    and Open MPI's ranks lead process groups of their own. Time the job spent paused
    (``wasmpi pause``) does not count, here as in the ranks' watchdogs."""
    limit, deadline = opts.options.time_limit, opts.options.deadline
    if deadline is None or limit is None:
        return proc.wait()
    rc: int | None = None
    while rc is None and time.time() < deadline + paused() + BACKSTOP:
        try:
            rc = proc.wait(timeout=max(0.0, min(1.0, deadline + paused() + BACKSTOP
                                                - time.time())))
        except subprocess.TimeoutExpired:
            continue
    if rc is None:
        print(f"wasmpi: time limit ({timelimit.seconds(limit)}) reached; the job "
              f"did not end {BACKSTOP:g} s later: killing it", file=sys.stderr, flush=True)
        for pid in [proc.pid, *_descendants(proc.pid)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
        return TimeLimitReached.exit_code
    if rc != 0 and time.time() >= deadline + paused() + timelimit.GRACE:
        return TimeLimitReached.exit_code
    return rc


def _descendants(root: int) -> list[int]:
    """Every live process below ``root`` (from /proc; none where there is no /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])  # the name in (...) may hold spaces
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out
