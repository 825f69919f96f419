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
from pathlib import Path

from . import _tools, cache, hostmpi, runtime, validate
from .bridge import abi
from .bridge.build import BRIDGE_ENV
from .bridge.build import build as build_bridge
from .config import ExecOptions
from .errors import ToolError, UsageError

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1,
                     signal.SIGUSR2, signal.SIGCONT)


def prepare(opts: ExecOptions) -> tuple[hostmpi.HostMPI, Path | None]:
    """Everything a rank would otherwise do N times: returns the MPI that will run the job and
    the built bridge (None when the module imports no MPI)."""
    runtime.read_module_bytes(opts.module)
    # without --strict, rank 0 warns about missing MPI functions and they trap if called
    info = validate.check(opts.module, strict=opts.strict)
    opts.sandbox()  # validate --dir / --env before starting anything
    imports = [(i.module, i.name) for i in info.imports]
    mpi = hostmpi.select(opts.mpicc)
    runtime.compile_module(opts.module)
    if abi.needs_bridge(m for m, _ in imports):
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
    mpi, bridge = prepare(opts)
    argv = command(nprocs, opts, mpi, mpiexec_args or [])
    env = dict(os.environ)
    env.update(mpi.launcher_env())
    env["WASMPI_MPICC"] = mpi.mpicc
    if bridge:  # ranks load it directly instead of asking mpicc for the cache key again
        env[BRIDGE_ENV] = str(bridge)
    if (temporary := cache.fallback_dir()) is not None:  # the cache could not be written
        env["WASMPI_CACHE_DIR"] = str(temporary)
    _tools.echo(argv)
    try:
        proc = subprocess.Popen(argv, env=env)
    except OSError as e:
        raise ToolError(f"mpiexec: cannot run {argv[0]}: {e.strerror}",
                        hint="set WASMPI_MPIEXEC, or --mpi to an MPI that has one") from None

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in FORWARDED_SIGNALS}
    try:
        rc = proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    status = 128 - rc if rc < 0 else rc
    _explain(status)
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

