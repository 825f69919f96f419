"""The wasmtime side of a rank: engine, cached machine code, WASI grants, traps.

This package knows wasmtime and WASI, not MPI: the MPI bridge plugs in through the ``imports``
and ``on_instance`` hooks of :func:`run`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import cache
from ..errors import GuestTrap, InputError, WasmpiError

if TYPE_CHECKING:
    import wasmtime

# wasmtime is imported by the functions that use it, not here: the llvm tier (runtime.llvm, a
# subpackage) and `wasmpi exec --engine llvm` must not load it (about 25 ms and 30 MB mapped)

WASM_MAGIC = b"\0asm"

# Everything that changes the machine code wasmtime emits; part of the cache key.
ENGINE_SETTINGS = (
    ("memory_may_move", False),  # the MPI bridge keeps raw pointers into linear memory
    ("wasm_simd", True),
    ("cranelift_opt_level", "speed"),
)


@functools.cache
def wasmtime_version() -> str:
    # from the wheel's dist-info, without importing wasmtime (about 15 ms): `wasmpi run` finds
    # the module's compiled code by a key that holds the version, and need not load it
    from importlib.util import find_spec

    from .. import _dist

    spec = find_spec("wasmtime")
    return _dist.version("wasmtime", spec.origin if spec is not None else None) or "unknown"


def engine_settings(fuel: bool = False) -> tuple[tuple[str, object], ...]:
    # fuel counting is compiled into the code: a separate engine, and a separate cache entry
    return (*ENGINE_SETTINGS, ("consume_fuel", True)) if fuel else ENGINE_SETTINGS


def engine(fuel: bool = False) -> wasmtime.Engine:
    """The process's engine for these settings: types and modules belong to one engine."""
    return _engine(bool(fuel))  # engine() and engine(False) must be the same object


@functools.cache
def _engine(fuel: bool) -> wasmtime.Engine:
    import wasmtime

    cfg = wasmtime.Config()
    for name, value in engine_settings(fuel):
        setattr(cfg, name, value)
    return wasmtime.Engine(cfg)


@functools.cache
def _cpu_id() -> str:
    """Host CPU features: cached code from another CPU model would be refused on load."""
    try:  # the first CPU's line is enough: a large node's /proc/cpuinfo is long
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return line.rstrip("\n")
    except OSError:
        pass
    import platform

    return platform.processor()


def read_module_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a wasm module") from None
    if data[:4] != WASM_MAGIC:
        raise InputError(f"{path}: not a WebAssembly module (bad magic number)")
    return data


def cache_path(data: bytes, fuel: bool = False) -> Path:
    key = cache.key(data, wasmtime_version(), repr(engine_settings(fuel)), os.uname().machine,
                    _cpu_id())
    return cache.root() / "modules" / f"{key}.cwasm"


def _cause(err: Exception) -> str:
    """The most specific line of a wasmtime error (its last "Caused by"), e.g.
    ``unexpected end-of-file (at offset 0xa)``."""
    lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln != "Caused by:"]
    last = lines[-1] if lines else "invalid module"
    number, sep, rest = last.partition(": ")  # "1: ..." in a numbered list of causes
    return rest if sep and number.isdigit() else last


def compile_module(path: Path, fuel: bool = False, *, load: bool = True) -> tuple[Path, bool]:
    """Compile ``path`` to machine code in the cache (once per node); True if compiled now.

    A cached entry that wasmtime refuses to load (truncated, corrupt, written by another
    wasmtime) is compiled again, with a warning. With ``load=False`` a cached entry is only
    checked to be a whole file, and wasmtime is imported only to compile: what `wasmpi run`
    does for its ranks, which load the entry themselves (and compile it again, as here, if
    wasmtime refuses it)."""
    return _compile(path, {} if load else None, fuel)


def _compile(path: Path, loaded: dict[str, wasmtime.Module] | None,
             fuel: bool) -> tuple[Path, bool]:
    data = read_module_bytes(path)

    def build(out: Path) -> None:
        import wasmtime

        try:
            module = wasmtime.Module(engine(fuel), data)
        except wasmtime.WasmtimeError as e:
            raise InputError(f"{path}: invalid WebAssembly module: {_cause(e)}") from None
        out.write_bytes(module.serialize())

    def usable(cwasm: Path) -> str | None:
        if loaded is None:
            return cache.elf_problem(cwasm)
        import wasmtime

        # deserializing is the check: wasmtime verifies the header, its version and the
        # engine settings (the module is kept, so that a rank loads it once)
        try:
            loaded["module"] = wasmtime.Module.deserialize_file(engine(fuel), str(cwasm))
        except wasmtime.WasmtimeError as e:
            return _cause(e)
        return None

    return cache.get_or_build(cache_path(data, fuel), build, usable)


def load_module(path: Path, fuel: bool = False) -> wasmtime.Module:
    import wasmtime

    loaded: dict[str, wasmtime.Module] = {}
    cwasm, _ = _compile(path, loaded, fuel)
    if "module" in loaded:
        return loaded["module"]
    return wasmtime.Module.deserialize_file(engine(fuel), str(cwasm))


@dataclass(frozen=True)
class Limits:
    """What a guest may consume: linear memory in bytes, and fuel (roughly, instructions)."""

    memory: int | None = None
    fuel: int | None = None


@dataclass(frozen=True)
class DirGrant:
    host: str
    guest: str
    readonly: bool = False

    @classmethod
    def parse(cls, spec: str) -> DirGrant:
        """``HOST[::GUEST][:ro]``"""
        readonly = spec.endswith(":ro")
        if readonly:
            spec = spec[:-3]
        host, _, guest = spec.partition("::")
        if not host:
            raise InputError(f"--dir {spec!r}: empty host directory")
        if not os.path.isdir(host):
            raise InputError(f"--dir {host}: no such directory")
        return cls(os.path.abspath(host), guest or host, readonly)


@dataclass(frozen=True)
class Sandbox:
    """What a guest may see of the host: its argv, an explicit environment, granted dirs."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    dirs: tuple[DirGrant, ...] = field(default_factory=tuple)
    #: initial working directory (a guest path inside a grant); None: wasi-libc's "/"
    workdir: str | None = None

    def wasi_config(self) -> wasmtime.WasiConfig:
        import wasmtime

        w = wasmtime.WasiConfig()
        w.argv = list(self.argv)
        w.env = [list(kv) for kv in self.env]
        w.inherit_stdin()
        w.inherit_stdout()
        w.inherit_stderr()
        for d in self.dirs:
            w.preopen_dir(d.host, d.guest, fs_mutable=not d.readonly)
        return w


def format_trap(err: Exception, where: str) -> str:
    """One line with the trap's cause, then the wasm backtrace with function names."""
    text = str(getattr(err, "message", None) or err).strip()
    head, _, cause = text.partition("Caused by:")
    backtrace = [ln.rstrip() for ln in head.splitlines()[1:] if ln.strip()]
    if not cause:  # a plain Trap: message first, then its frames
        cause, backtrace = head.splitlines()[0] if head else "trap", backtrace
    reason = " ".join(ln.strip() for ln in cause.strip().splitlines()) or "trap"
    reason = reason.removeprefix("wasm trap:").strip()
    lines = [f"{where}: wasm trap: {reason}"]
    frames = getattr(err, "frames", None)
    if frames:
        backtrace = [f"    {i}: {fr.func_name or f'<wasm function {fr.func_index}>'}"
                     for i, fr in enumerate(frames)]
    if backtrace:
        lines.append("wasm backtrace:")
        lines.extend(backtrace)
    return "\n".join(lines)


#: Host service the guest support library's start-up asks for its working directory
#: (support/wasmpi_support.c): (buf, len) -> length with the NUL, 0 for none, or -needed.
WORKDIR_IMPORT = ("wasmpi", "workdir")


def _define_workdir(linker: wasmtime.Linker, module: wasmtime.Module, workdir: str | None) -> None:
    import wasmtime

    if not any((i.module, i.name) == WORKDIR_IMPORT for i in module.imports):
        return
    text = (workdir or "").encode() + b"\0"
    i32 = wasmtime.ValType.i32()

    def workdir_fn(caller: wasmtime.Caller, buf: int, size: int) -> int:
        if not workdir:
            return 0
        if len(text) > size:
            return -len(text)
        mem = caller.get("memory")
        if not isinstance(mem, wasmtime.Memory) or buf + len(text) > mem.data_len(caller):
            raise wasmtime.Trap("wasmpi.workdir: buffer outside linear memory")
        mem.write(caller, text, buf)
        return len(text)

    # called once at start-up: Python is fine here, unlike the MPI hot path
    linker.define_func(*WORKDIR_IMPORT, wasmtime.FuncType([i32, i32], [i32]), workdir_fn,
                       access_caller=True)


def _explain(e: Exception, store: wasmtime.Store, instance: wasmtime.Instance | None,
             limits: Limits) -> str:
    """Why a trap happened, when a limit of ours is the likely reason ('' otherwise)."""
    import wasmtime

    if limits.fuel is not None and getattr(e, "trap_code", None) == wasmtime.TrapCode.OUT_OF_FUEL:
        return f"the fuel budget ran out (--fuel {limits.fuel})"
    if limits.memory is not None and instance is not None:
        mem = instance.exports(store).get("memory")
        # the C API tells no one when memory.grow fails; malloc grows in steps of up to a few
        # MiB, so memory that close to the limit means a growth was refused
        slack = max(4 << 20, limits.memory // 8)
        if isinstance(mem, wasmtime.Memory) and mem.data_len(store) + slack > limits.memory:
            return (f"the memory limit was reached (--mem-limit {limits.memory}: "
                    f"{mem.data_len(store)} bytes in use; malloc returns NULL beyond it)")
    return ""


def run(module: wasmtime.Module, sandbox: Sandbox,
        imports: Callable[[wasmtime.Linker], None] | None = None,
        on_instance: Callable[[wasmtime.Store, wasmtime.Instance], None] | None = None,
        where: str = "wasmpi", limits: Limits | None = None) -> int:
    """Instantiate and run a WASI command module; return its exit status.

    A trap raises :class:`GuestTrap` whose message carries the backtrace.
    """
    import wasmtime

    limits = limits or Limits()
    fuel = limits.fuel is not None
    linker = wasmtime.Linker(engine(fuel))
    linker.define_wasi()
    if imports:
        imports(linker)
    _define_workdir(linker, module, sandbox.workdir)
    store = wasmtime.Store(engine(fuel))
    store.set_wasi(sandbox.wasi_config())
    if limits.memory is not None:
        store.set_limits(memory_size=limits.memory)
    if limits.fuel is not None:
        store.set_fuel(limits.fuel)
    try:
        instance = linker.instantiate(store, module)
    except wasmtime.WasmtimeError as e:
        first = str(e).strip().splitlines()[0]
        why = _explain(e, store, None, limits)
        if limits.memory is not None and "memory" in first:
            why = f"--mem-limit {limits.memory} is below the module's initial memory"
        raise WasmpiError(f"cannot instantiate the module: {first}"
                          + (f" ({why})" if why else "")) from None
    if on_instance:
        on_instance(store, instance)
    start = instance.exports(store).get("_start")
    if not isinstance(start, wasmtime.Func):
        raise InputError("the module has no _start export (not a WASI command)")
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        return int(e.code)
    except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
        why = _explain(e, store, instance, limits)
        text = format_trap(e, where)
        if why:
            head, nl, rest = text.partition("\n")
            text = f"{head}: {why}{nl}{rest}"
        raise GuestTrap(text) from None
    return 0
