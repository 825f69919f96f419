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
from pathlib import Path

from . import _tools, cache, hostmpi, runtime, timelimit, validate
from .bridge import abi
from .bridge.build import build as build_bridge
from .config import ExecOptions, host_environ
from .errors import TimeLimitReached, ToolError, UsageError

NO_GRANT_HINT = ("wasmpi: hint: no directory was granted to the guest, so it cannot open any "
                 "file; grant one with --dir HOST[::GUEST][:ro], e.g. --dir $PWD::/work")

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1,
                     signal.SIGUSR2, signal.SIGCONT)
#: Seconds after the time limit's deadline at which a job still running is killed outright.
BACKSTOP = 5.0
#: SIGINT / SIGTERM stop this node's ranks first, and reach mpiexec this many seconds later.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_GRACE = 2.0


def prepare(opts: ExecOptions) -> tuple[hostmpi.HostMPI, Path | None]:
    """Everything a rank would otherwise do N times: returns the MPI that will run the job and
    the built bridge (None when the module imports no MPI)."""
    runtime.read_module_bytes(opts.module)
    o = opts.options
    # without --strict, rank 0 warns about missing MPI functions and they trap if called
    info = validate.check(opts.module, strict=o.strict)
    opts.sandbox()  # validate --dir / --env / --workdir before starting anything
    imports = [(i.module, i.name) for i in info.imports]
    mpi = hostmpi.select(o.mpicc, o.mpiexec)
    runtime.compile_module(opts.module, fuel=o.fuel is not None)
    if abi.needs_bridge(imports):
        return mpi, build_bridge(mpi)
    return mpi, None


def command(nprocs: int, opts: ExecOptions, mpi: hostmpi.HostMPI,
            mpiexec_args: list[str]) -> list[str]:
    return [mpi.mpiexec, *mpi.launcher_args(), *mpiexec_args, "-n", str(nprocs),
            sys.executable, "-m", "wasmpi", "exec", *opts.forwarded(),
            str(opts.module.resolve()), *opts.args]


def launch(nprocs: int, opts: ExecOptions, mpiexec_args: list[str] | None = None) -> int:
    if nprocs < 1:
        raise UsageError(f"-n {nprocs}: need at least one rank")
    if opts.options.engine == "llvm":
        return _launch_llvm(nprocs, opts, mpiexec_args or [])
    mpi, bridge = prepare(opts)
    # ranks get every option on their command line: the MPI chosen here, and the bridge built
    # here, which they load directly instead of asking mpicc for the cache key again
    opts = opts.with_options(mpicc=mpi.mpicc, mpiexec=mpi.mpiexec, bridge=bridge)
    if (temporary := cache.fallback_dir()) is not None:  # the cache could not be written
        opts = opts.with_options(cache_dir=temporary)
    if opts.options.time_limit is not None:  # one deadline for all ranks, counted from now
        opts = opts.with_options(deadline=time.time() + opts.options.time_limit)
    argv = command(nprocs, opts, mpi, mpiexec_args or [])
    return _start(argv, mpi, opts)


def _launch_llvm(nprocs: int, opts: ExecOptions, mpiexec_args: list[str]) -> int:
    """``--engine llvm``: mpiexec starts the native runner itself, one per rank."""
    from .runtime import llvm

    llvm.check(opts)
    runtime.read_module_bytes(opts.module)
    o = opts.options
    mpi = hostmpi.select(o.mpicc, o.mpiexec)
    opts = opts.with_options(mpicc=mpi.mpicc, mpiexec=mpi.mpiexec)
    if opts.options.time_limit is not None:
        opts = opts.with_options(deadline=time.time() + opts.options.time_limit)
    runner, args = llvm.prepare(opts, mpi)
    if (temporary := cache.fallback_dir()) is not None:
        opts = opts.with_options(cache_dir=temporary)
    argv = [mpi.mpiexec, *mpi.launcher_args(), *mpiexec_args, "-n", str(nprocs), str(runner),
            *args]
    return _start(argv, mpi, opts)


def _start(argv: list[str], mpi: hostmpi.HostMPI, opts: ExecOptions) -> int:
    env = dict(host_environ())
    env.update(mpi.launcher_env())
    _tools.echo(argv)
    try:
        proc = subprocess.Popen(argv, env=env)
    except OSError as e:
        raise ToolError(f"mpiexec: cannot run {argv[0]}: {e.strerror}",
                        hint="set WASMPI_MPIEXEC, or --mpi to an MPI that has one") from None

    def forward(signum: int, _frame: object) -> None:
        if signum in STOP_SIGNALS and _stop_local_ranks(proc.pid, signum):
            # the ranks on this node stop first, flushing the guest's stdout, while mpiexec
            # still relays what they write (Open MPI's launcher drops the output of ranks it is
            # tearing down); mpiexec itself, and through it ranks on other nodes, a moment later
            timer = threading.Timer(STOP_GRACE, _send, (proc, signum))
            timer.daemon = True
            timer.start()
            return
        _send(proc, signum)

    old = {s: signal.signal(s, forward) for s in FORWARDED_SIGNALS}
    try:
        rc = _wait(proc, opts)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    status = 128 - rc if rc < 0 else rc
    _explain(status)
    if status != 0 and not opts.options.dir:
        # once per job, here rather than in every rank
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


def _stop_local_ranks(root: int, signum: int) -> bool:
    """Send ``signum`` to the ranks (``wasmpi exec``) below ``root`` on this node; whether
    there were any."""
    ranks = []
    for pid in _descendants(root):
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


def _wait(proc: subprocess.Popen[bytes], opts: ExecOptions) -> int:
    """mpiexec's status. With a time limit the ranks end the job at the deadline themselves,
    each after its report and a grace period: a failure after that is the limit's (124), though
    mpiexec may report the signal that ended the slower ranks instead (Hydra kills them once
    one has exited). If the job has not ended BACKSTOP seconds after the deadline (a rank that
    cannot run its watchdog), mpiexec and every process under it are killed: Hydra's proxies
    and Open MPI's ranks lead process groups of their own."""
    limit, deadline = opts.options.time_limit, opts.options.deadline
    if deadline is None or limit is None:
        return proc.wait()
    try:
        rc = proc.wait(timeout=max(0.0, deadline + BACKSTOP - time.time()))
    except subprocess.TimeoutExpired:
        print(f"wasmpi: time limit ({timelimit.seconds(limit)}) reached; the job "
              f"did not end {BACKSTOP:g} s later: killing it", file=sys.stderr, flush=True)
        for pid in [proc.pid, *_descendants(proc.pid)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
        return TimeLimitReached.exit_code
    if rc != 0 and time.time() >= deadline + timelimit.GRACE:
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
