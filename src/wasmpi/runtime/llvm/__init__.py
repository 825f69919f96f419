"""The LLVM engine tier (``--engine llvm``): the module compiled ahead of time through wasm2c
and zig's clang, run by a native runner built with the host MPI's mpicc.

A rank of this tier is the runner itself (``runner.c``), started directly by mpiexec: no
Python in the process. ``wasmpi run`` builds (or finds in the cache) the module's shared object
and the runner, then starts N runners; ``wasmpi exec`` does the same for one rank and execs the
runner. See docs/engines.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ... import _tools, validate
from ...bridge import names, stubs
from ...config import ExecOptions
from ...errors import UsageError
from ...hostmpi import HostMPI
from . import build

ENGINES = ("wasmtime", "llvm")


def check(opts: ExecOptions) -> None:
    """Options this tier cannot honour are a usage error, before anything is built."""
    if opts.options.fuel is not None:
        raise UsageError("--fuel is not available with --engine llvm (wasm2c's code counts no "
                         "fuel)", hint="use --time-limit to bound a run, or --engine wasmtime")


class Built:
    """What :func:`build_all` found or built for a module: the runner, the module's shared
    object, whether it imports MPI, and the MPI functions it imports that this wasmpi lacks.
    (A plain class: a dataclass costs `wasmpi run` 0.6 ms to define.)"""

    __slots__ = ("missing", "module", "needs_mpi", "runner")

    def __init__(self, runner: Path, module: Path, needs_mpi: bool,
                 missing: tuple[tuple[str, str], ...]) -> None:
        self.runner = runner
        self.module = module
        self.needs_mpi = needs_mpi
        self.missing = missing


def build_all(opts: ExecOptions, mpi: HostMPI) -> Built:
    """Validate the module, then build or find the runner and the module's shared object.

    ``--strict`` rejects unsupported MPI imports here, on every rank alike; without it, rank 0
    warns about them once (the runner's ``--warn``, :func:`argv`)."""
    check(opts)
    info = validate.check(opts.module, strict=opts.options.strict)
    imports = [(i.module, i.name) for i in info.imports]
    needs_mpi = names.needs_bridge(imports)
    so, _ = build.compile_module(opts.module, needs_mpi)
    runner = build.build_runner(mpi)
    # the supported set is generated from the ABI table (bridge/signatures.py): parsing the
    # table here cost every `wasmpi run` about 15 ms
    missing = stubs.unsupported(imports, validate.table_signatures().keys())
    return Built(runner, so, needs_mpi, tuple(missing))


def argv(opts: ExecOptions, built: Built) -> list[str]:
    """The runner's argv after argv[0], for ``opts`` (which may differ from those of
    :func:`build_all` in what a rank is told, e.g. the job's deadline, not in what is built)."""
    o = opts.options
    sandbox = opts.sandbox()
    args: list[str] = []
    for d in sandbox.dirs:
        args += ["--dir", d.host, d.guest, "1" if d.readonly else "0"]
    for k, v in sandbox.env:
        args += ["--env", f"{k}={v}"]
    if sandbox.workdir:
        args += ["--workdir", sandbox.workdir]
    if o.mem_limit is not None:
        args += ["--mem-limit", str(o.mem_limit)]
    if not o.openat2:
        args.append("--no-openat2")
    if o.time_limit is not None:
        args += ["--time-limit", f"{o.time_limit:g}"]
        if o.deadline is not None:
            args += ["--deadline", f"{o.deadline:.3f}"]
    args += ["--where", str(opts.module.resolve())]
    if built.missing and built.needs_mpi:
        args += ["--warn", stubs.warning(list(built.missing))]
    if built.needs_mpi:
        # MPI_Comm_spawn's children: `wasmpi exec` with this rank's options, which execs a
        # runner in turn (the child's module has to be found and compiled first)
        for word in [sys.executable, "-m", "wasmpi", "exec", *opts.spawn_forwarded()]:
            args += ["--spawn", word]
    return [*args, str(built.module), *sandbox.argv]


def exec_rank(opts: ExecOptions, mpi: HostMPI) -> int:
    """``wasmpi exec --engine llvm``: become the runner (never returns on success)."""
    built = build_all(opts, mpi)
    cmd = [str(built.runner), *argv(opts, built)]
    _tools.echo(cmd)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(built.runner, cmd)
    return 0  # not reached


def compile_for_cache(path: Path) -> tuple[Path, bool]:
    """``wasmpi compile --engine llvm``: the module's shared object, built unless cached."""
    info = validate.check(path, strict=False)
    return build.compile_module(path, names.needs_bridge((i.module, i.name) for i in info.imports))
