"""One rank (``wasmpi exec``): the composition root that mpiexec starts once per rank.

Load the cached machine code, start the MPI bridge if the module imports MPI, run the guest,
and make sure a failing rank ends the whole job (MPI_Abort) instead of leaving others hanging.
MPI functions the bridge lacks load as stubs that trap if called (rank 0 warns about them once),
unless ``--strict`` rejects the module.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .config import ExecOptions, Options
from .errors import GuestTrap, InputError

if TYPE_CHECKING:
    import wasmtime

    from .bridge.loader import Bridge
    from .timelimit import Watchdog

# Only what the engine needs is imported, where it is needed: a wasmtime rank loads no table or
# validator when `wasmpi run` handed it the compiled module, and `--engine llvm` (which execs the
# native runner) never loads wasmtime.


def execute(opts: ExecOptions) -> int:
    if opts.options.engine == "llvm":  # this process becomes the native runner
        from .hostmpi import select
        from .runtime import llvm

        llvm.check(opts)
        return llvm.exec_rank(opts, select(opts.options.mpicc, opts.options.mpiexec))
    watch = None
    limit = opts.options.time_limit
    if limit is not None:
        from .timelimit import Watchdog

        deadline = opts.options.deadline or time.time() + limit
        watch = Watchdog(limit, deadline)
        if opts.options.job:  # `wasmpi pause` time does not count (none on other nodes)
            watch.paused = _paused_seconds(opts.options.jobs_dir, opts.options.job)
        watch.start()
    try:
        return _execute(opts, watch)
    finally:
        if watch:
            watch.stop()


def _load(opts: ExecOptions) -> wasmtime.Module:
    """The module's machine code: by path when `wasmpi run` compiled it for this job (it has
    validated the module, and wasmtime checks the file's version and settings on load), else
    validated, hashed and looked up in the cache here."""
    from . import runtime

    fuel = opts.options.fuel is not None
    given = opts.options.cwasm
    if given is not None:
        import wasmtime

        try:
            return wasmtime.Module.deserialize_file(runtime.engine(fuel), str(given))
        except wasmtime.WasmtimeError:
            pass  # removed or replaced meanwhile (`wasmpi cache clean`): look it up as below
    from . import validate

    runtime.read_module_bytes(opts.module)
    validate.check(opts.module, strict=False)  # --strict is judged against the bridge below
    return runtime.load_module(opts.module, fuel=fuel)


def _execute(opts: ExecOptions, watch: Watchdog | None) -> int:
    from . import runtime
    from .bridge import names, stubs
    from .bridge.loader import Bridge

    sandbox = opts.sandbox()
    o = opts.options
    limits = opts.limits()
    module = _load(opts)
    if not names.needs_bridge((i.module, i.name or "") for i in module.imports):
        if watch:
            watch.guest_started()
        try:
            return runtime.run(module, sandbox, where=str(opts.module.name), limits=limits)
        except GuestTrap as e:
            print(e, file=sys.stderr)
            return GuestTrap.exit_code

    bridge = Bridge(_bridge_path(o))
    bridge.set_grants([(d.host, d.guest, d.readonly) for d in sandbox.dirs], o.openat2)
    # MPI_Comm_spawn's children: `wasmpi exec` with this rank's sandbox and MPI
    bridge.set_guest(sandbox.argv, sandbox.workdir or "/")  # MPI_INFO_ENV is the guest's
    bridge.set_spawn_command([sys.executable, "-m", "wasmpi", "exec", *opts.spawn_forwarded()])
    missing = bridge.unsupported(module)
    if o.strict:
        stubs.reject(missing)  # before MPI starts: every rank fails alike, nothing to abort
    if watch:
        watch.current = lambda: "MPI_Init"
    bridge.init_mpi()
    if missing and bridge.rank == 0:  # once per job, not once per rank
        print(stubs.warning(missing), file=sys.stderr, flush=True)
    where = f"wasmpi: rank {bridge.rank}"
    if watch:
        watch.where, watch.current = where, bridge.current_call
        watch.guest_started()
    report = threading.Event()
    if o.handle_report:
        threading.Thread(target=_report_handles, args=(bridge, where, o.handle_report, report),
                         name="wasmpi-handles", daemon=True).start()
    try:
        status = runtime.run(
            module, sandbox,
            imports=lambda linker: bridge.define(linker, module),
            on_instance=lambda store, inst: _attach(bridge, store, inst),
            where=where, limits=limits,
        )
    except GuestTrap as e:
        print(e, file=sys.stderr, flush=True)
        status = GuestTrap.exit_code
    except BaseException:
        bridge.exit(1)
        raise
    finally:
        report.set()
    if status != 0 and status != GuestTrap.exit_code:  # a trap has said why already
        print(f"{where}: the guest exited with status {status}; ending the job", file=sys.stderr,
              flush=True)
    bridge.exit(status)  # aborts the job if status != 0
    return status


def _paused_seconds(root: Path, job_id: str) -> Callable[[], float]:
    from .registry import Registry

    def paused() -> float:
        rec = Registry(root).peek(job_id)
        return rec.paused_seconds() if rec else 0.0

    return paused


def _bridge_path(o: Options) -> Path:
    if o.bridge and o.bridge.is_file():  # what `wasmpi run` built for this job
        return o.bridge
    # only a rank started by another launcher asks mpicc (and imports what that takes)
    from .bridge.build import for_rank

    return for_rank(o.bridge, o.mpicc, o.mpiexec)


def _report_handles(bridge: Bridge, where: str, every: float, done: threading.Event) -> None:
    """``--handle-report`` (bench/soak.py): a line per period with the bridge's handle counts,
    from this thread, so that MPI calls pay nothing for it (the guest runs inside a ctypes call,
    which releases the GIL)."""
    while not done.wait(every):
        counts = " ".join(f"{k}={live}/{slots}" for k, (live, slots) in
                          bridge.live_handles().items())
        sys.stderr.write(f"{where}: handles {counts or 'none'}\n")
        sys.stderr.flush()


def _attach(bridge: Bridge, store: wasmtime.Store, instance: wasmtime.Instance) -> None:
    bridge.attach_memory(store, _memory(store, instance))
    bridge.attach_exports(store, instance)


def _memory(store: wasmtime.Store, instance: wasmtime.Instance) -> wasmtime.Memory:
    import wasmtime

    mem = instance.exports(store).get("memory")
    if not isinstance(mem, wasmtime.Memory):
        raise InputError("the module exports no linear memory named 'memory'")
    return mem
