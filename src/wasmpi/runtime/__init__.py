"""The wasmtime side of a rank: engine, cached machine code, WASI grants, traps.

This package knows wasmtime and WASI, not MPI: the MPI bridge plugs in through the ``imports``
and ``on_instance`` hooks of :func:`run`.
"""

from __future__ import annotations

import functools
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import wasmtime

from .. import cache
from ..errors import GuestTrap, InputError, WasmpiError

WASM_MAGIC = b"\0asm"

# Everything that changes the machine code wasmtime emits; part of the cache key.
ENGINE_SETTINGS = (
    ("memory_may_move", False),  # the MPI bridge keeps raw pointers into linear memory
    ("wasm_simd", True),
    ("cranelift_opt_level", "speed"),
)


@functools.cache
def wasmtime_version() -> str:
    return metadata.version("wasmtime")


@functools.cache
def engine() -> wasmtime.Engine:
    cfg = wasmtime.Config()
    for name, value in ENGINE_SETTINGS:
        setattr(cfg, name, value)
    return wasmtime.Engine(cfg)


@functools.cache
def _cpu_id() -> str:
    """Host CPU features: cached code from another CPU model would be refused on load."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        pass
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


def cache_path(data: bytes) -> Path:
    key = cache.key(data, wasmtime_version(), repr(ENGINE_SETTINGS), platform.machine(),
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


def compile_module(path: Path) -> tuple[Path, bool]:
    """Compile ``path`` to machine code in the cache (once per node); True if compiled now.

    A cached entry that wasmtime refuses to load (truncated, corrupt, written by another
    wasmtime) is compiled again, with a warning."""
    return _compile(path, {})


def _compile(path: Path, loaded: dict[str, wasmtime.Module]) -> tuple[Path, bool]:
    data = read_module_bytes(path)

    def build(out: Path) -> None:
        try:
            module = wasmtime.Module(engine(), data)
        except wasmtime.WasmtimeError as e:
            raise InputError(f"{path}: invalid WebAssembly module: {_cause(e)}") from None
        out.write_bytes(module.serialize())

    def usable(cwasm: Path) -> str | None:
        # deserializing is the check: wasmtime verifies the header, its version and the
        # engine settings (the module is kept, so that a rank loads it once)
        try:
            loaded["module"] = wasmtime.Module.deserialize_file(engine(), str(cwasm))
        except wasmtime.WasmtimeError as e:
            return _cause(e)
        return None

    return cache.get_or_build(cache_path(data), build, usable)


def load_module(path: Path) -> wasmtime.Module:
    loaded: dict[str, wasmtime.Module] = {}
    cwasm, _ = _compile(path, loaded)
    if "module" in loaded:
        return loaded["module"]
    return wasmtime.Module.deserialize_file(engine(), str(cwasm))


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

    def wasi_config(self) -> wasmtime.WasiConfig:
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


def run(module: wasmtime.Module, sandbox: Sandbox,
        imports: Callable[[wasmtime.Linker], None] | None = None,
        on_instance: Callable[[wasmtime.Store, wasmtime.Instance], None] | None = None,
        where: str = "wasmpi") -> int:
    """Instantiate and run a WASI command module; return its exit status.

    A trap raises :class:`GuestTrap` whose message carries the backtrace.
    """
    linker = wasmtime.Linker(engine())
    linker.define_wasi()
    if imports:
        imports(linker)
    store = wasmtime.Store(engine())
    store.set_wasi(sandbox.wasi_config())
    try:
        instance = linker.instantiate(store, module)
    except wasmtime.WasmtimeError as e:
        first = str(e).strip().splitlines()[0]
        raise WasmpiError(f"cannot instantiate the module: {first}") from None
    if on_instance:
        on_instance(store, instance)
    start = instance.exports(store).get("_start")
    if not isinstance(start, wasmtime.Func):
        raise InputError("the module has no _start export (not a WASI command)")
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        return int(e.code)
    except wasmtime.Trap as e:
        raise GuestTrap(format_trap(e, where)) from None
    except wasmtime.WasmtimeError as e:
        raise GuestTrap(format_trap(e, where)) from None
    return 0
