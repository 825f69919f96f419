"""Load a built bridge into a rank and register its callbacks as the module's MPI imports.

Each import becomes a native callback through ``wasmtime_linker_define_func_unchecked``: from
then on an MPI call goes wasm -> C bridge -> host libmpi without touching Python.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import wasmtime
from wasmtime import _bindings as ffi

from ..errors import ToolError
from . import names, stubs

if TYPE_CHECKING:
    from ._native import BridgeLib

_VALTYPES = {"i": wasmtime.ValType.i32, "I": wasmtime.ValType.i64, "F": wasmtime.ValType.f64}


class _Entry(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("params", ctypes.c_char_p),
                ("results", ctypes.c_char_p), ("cb", ctypes.c_void_p)]


_NO_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)()  # a NULL function pointer
_DLL: ctypes.CDLL = ffi.dll  # type: ignore[attr-defined]


def _fnaddr(name: str) -> int:
    """Address of a wasmtime C API function, handed to the bridge at start-up."""
    addr = ctypes.cast(getattr(_DLL, name), ctypes.c_void_p).value
    assert addr
    return addr


#: The wasmtime C API functions the bridge calls, in the order of wasmpi_host_api
#: (c/core/bridge.h): the bridge does not link against libwasmtime itself.
HOST_API = (
    "wasmtime_trap_new", "wasmtime_memory_data_size", "wasmtime_caller_context",
    "wasmtime_table_get", "wasmtime_func_call", "wasm_trap_message", "wasm_trap_delete",
    "wasmtime_error_message", "wasmtime_error_delete", "wasm_byte_vec_delete",
    "wasmtime_error_exit_status",
    "wasmtime_func_call_unchecked", "wasmtime_func_type", "wasm_functype_params",
    "wasm_functype_results", "wasm_valtype_kind", "wasm_functype_delete",
)


class _HostApi(ctypes.Structure):
    _fields_ = [(name, ctypes.c_void_p) for name in HOST_API]


class Bridge:
    """One rank's bridge: host MPI initialized, callbacks ready to define into a linker."""

    def __init__(self, path: Path) -> None:
        try:
            dll = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
        except OSError as e:
            raise ToolError(f"cannot load the MPI bridge {path}: {e}") from None
        dll.wasmpi_bridge_entry.restype = ctypes.POINTER(_Entry)
        dll.wasmpi_bridge_host_gethostname.restype = ctypes.c_void_p
        dll.wasmpi_bridge_init.argtypes = [ctypes.POINTER(_HostApi)]
        dll.wasmpi_bridge_set_memory.argtypes = [ctypes.c_void_p, ctypes.c_uint64,
                                                 ctypes.c_void_p, ctypes.c_void_p]
        dll.wasmpi_bridge_set_exports.argtypes = [ctypes.c_void_p] * 3
        dll.wasmpi_bridge_set_flush.argtypes = [ctypes.c_void_p]
        dll.wasmpi_bridge_exit.argtypes = [ctypes.c_int]
        dll.wasmpi_bridge_set_grants.argtypes = [
            ctypes.c_int, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p),
            ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        dll.wasmpi_bridge_set_spawn.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        dll.wasmpi_bridge_set_guest.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                                                ctypes.c_char_p]
        dll.wasmpi_bridge_current.argtypes = [ctypes.POINTER(ctypes.c_int64), ctypes.c_int]
        dll.wasmpi_bridge_current.restype = ctypes.c_char_p
        dll.wasmpi_bridge_live_handles.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        self.lib = cast("BridgeLib", dll)
        lib = self.lib
        self.entries: dict[str, tuple[str, str, int]] = {}
        for i in range(lib.wasmpi_bridge_count()):
            ent = cast(_Entry, lib.wasmpi_bridge_entry(i).contents)
            assert ent.name and ent.params is not None and ent.results is not None and ent.cb
            self.entries[ent.name.decode()] = (ent.params.decode(), ent.results.decode(), ent.cb)
        self._memory: ffi.wasmtime_memory_t | None = None
        self.initialized = False

    def init_mpi(self) -> None:
        self._api = _HostApi(*(_fnaddr(name) for name in HOST_API))
        rc = self.lib.wasmpi_bridge_init(ctypes.pointer(self._api))
        if rc != 0:
            raise ToolError(f"MPI_Init_thread failed in the host MPI (error {rc})")
        self.initialized = True

    def set_spawn_command(self, argv: list[str]) -> None:
        """The host command that starts one more rank of this job with this rank's sandbox,
        minus the module path and its arguments: MPI_Comm_spawn runs it for wasm children."""
        arr = (ctypes.c_char_p * len(argv))(*(a.encode() for a in argv))
        if self.lib.wasmpi_bridge_set_spawn(len(argv), arr) != 0:
            raise ToolError("out of memory while preparing the MPI bridge")

    def set_guest(self, argv: Sequence[str], workdir: str) -> None:
        """What the guest sees of its start (its argv, argv[0] the module name, and working
        directory), from which the bridge builds MPI_INFO_ENV instead of the host's."""
        arr = (ctypes.c_char_p * max(len(argv), 1))(*(a.encode() for a in argv))
        if self.lib.wasmpi_bridge_set_guest(len(argv), arr, workdir.encode()) != 0:
            raise ToolError("out of memory while preparing the MPI bridge")

    @property
    def rank(self) -> int:
        return int(self.lib.wasmpi_bridge_rank())

    def set_grants(self, grants: Sequence[tuple[str, str, bool]], openat2: bool = True) -> None:
        """Hand the bridge the rank's directory grants (host dir, guest path, read-only), which
        MPI calls taking a guest path (MPI_File_open, MPI_File_delete) resolve through; without
        ``openat2`` they are resolved by a component walk."""
        n = len(grants)
        host = (ctypes.c_char_p * max(n, 1))(*(os.fsencode(h) for h, _, _ in grants))
        guest = (ctypes.c_char_p * max(n, 1))(*(g.encode() for _, g, _ in grants))
        ro = (ctypes.c_int * max(n, 1))(*(int(r) for _, _, r in grants))
        err = self.lib.wasmpi_bridge_set_grants(n, host, guest, ro, int(openat2))
        if err:
            raise ToolError(f"cannot open a granted directory for MPI-IO: {os.strerror(err)}")

    def unsupported(self, module: wasmtime.Module) -> list[stubs.Import]:
        """The module's MPI / host-service imports that this bridge does not implement."""
        return stubs.unsupported([(i.module, i.name or "") for i in module.imports],
                                 set(self.entries))

    def define(self, linker: wasmtime.Linker, module: wasmtime.Module) -> None:
        """Define every MPI / host-service import of ``module`` as a native callback, and each
        one this bridge does not implement as a stub that traps when called."""
        for imp in module.imports:
            name = imp.name or ""
            if imp.module == names.IMPORT_MODULE and name in self.entries:
                params, results, cb = self.entries[name]
                self._define(linker, imp.module, name, params, results, cb)
            elif imp.module == names.HOST_MODULE and name == "gethostname":
                params, results = names.HOST_FUNCTIONS[name]
                cb = self.lib.wasmpi_bridge_host_gethostname()
                self._define(linker, imp.module, name, params, results, cb)
        stubs.define(linker, module, self.unsupported(module))

    @staticmethod
    def _define(linker: wasmtime.Linker, module: str, name: str, params: str, results: str,
                cb: int) -> None:
        ty = wasmtime.FuncType([_VALTYPES[c]() for c in params],
                               [_VALTYPES[c]() for c in results])
        mod_b, name_b = module.encode(), name.encode()
        err = ffi.wasmtime_linker_define_func_unchecked(
            linker.ptr(), mod_b, len(mod_b), name_b, len(name_b), ty.ptr(),
            ffi.wasmtime_func_unchecked_callback_t(cb), None, _NO_FINALIZER)
        if err:
            raise wasmtime.WasmtimeError._from_ptr(err)

    def attach_memory(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        """Tell the bridge where the guest's linear memory lives (it never moves)."""
        self._memory = memory._memory  # kept alive: the bridge holds a pointer to it
        base = ctypes.cast(memory.data_ptr(store), ctypes.c_void_p).value
        ctx = ctypes.cast(store._context(), ctypes.c_void_p).value
        self.lib.wasmpi_bridge_set_memory(base, memory.data_len(store), ctx,
                                          ctypes.addressof(self._memory))

    def attach_exports(self, store: wasmtime.Store, instance: wasmtime.Instance) -> None:
        """Hand the bridge the guest's function table and allocator (for upcalls)."""
        exports = instance.exports(store)
        table, malloc, free = (exports.get(n) for n in ("__indirect_function_table", "malloc",
                                                         "free"))
        # kept alive: the bridge holds pointers to these
        self._exports = (
            table._table if isinstance(table, wasmtime.Table) else None,
            malloc._func if isinstance(malloc, wasmtime.Func) else None,
            free._func if isinstance(free, wasmtime.Func) else None,
        )
        self.lib.wasmpi_bridge_set_exports(
            *(ctypes.addressof(x) if x is not None else None for x in self._exports))
        # what a stop (SIGTERM, SIGINT) calls to flush the guest's stdout (c/core/stop.c)
        flush = exports.get("wasmpi_flush")
        self._flush = flush._func if isinstance(flush, wasmtime.Func) else None
        self.lib.wasmpi_bridge_set_flush(
            ctypes.addressof(self._flush) if self._flush is not None else None)

    def current_call(self) -> str | None:
        """The MPI call this rank is in, with the arguments that name its peers, or None when
        it is in none (computing). Safe from another thread while the guest runs."""
        name = self.lib.wasmpi_bridge_current(None, 0)
        if not name:
            return None
        from . import calls  # parses the ABI table: only when a time limit is reported

        n = calls.arity(name.decode())
        slots = (ctypes.c_int64 * max(n, 1))()
        again = self.lib.wasmpi_bridge_current(slots, n)
        if again != name:  # another call meanwhile: the rank is busy, name only what it was in
            return (again or name).decode()
        return calls.describe(name.decode(), list(slots)[:n])

    def live_handles(self) -> dict[str, tuple[int, int]]:
        """Per handle kind in use: (handles the guest holds, slots its table has grown to),
        predefined handles not counted. Safe from another thread while the guest runs."""
        from . import abi

        out = {}
        slots = ctypes.c_int()
        for k, name in enumerate(abi.HANDLE_KINDS, start=1):  # K_NONE is 0 (gen/abi.h)
            live = self.lib.wasmpi_bridge_live_handles(k, ctypes.byref(slots))
            if live or slots.value:
                out[name] = (live, slots.value)
        return out

    def exit(self, status: int) -> None:
        """Finalize (status 0) or abort the job (nonzero) unless the guest already finalized."""
        if self.initialized:
            self.lib.wasmpi_bridge_exit(status)
