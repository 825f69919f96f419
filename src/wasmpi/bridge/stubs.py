"""Imports this wasmpi does not provide: found at load time, defined as stubs that trap if called.

Natively every MPI symbol exists, so a program that merely references a function it never calls
(a test harness's optional branch, a benchmark's compiled-in MPI-IO backend) runs. A rank
therefore warns about such imports once and defines them as stubs; only a call ends the job.
``--strict`` keeps the load-time rejection (:func:`reject`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Set
from typing import TYPE_CHECKING, Any

from ..errors import LinkError
from . import names

if TYPE_CHECKING:  # wasmtime is imported by define() only: the llvm tier's exec never loads it
    import ctypes

    import wasmtime

Import = tuple[str, str]  # (module, name)


def unsupported(imports: Iterable[Import], supported: Set[str]) -> list[Import]:
    """The MPI imports not in ``supported`` and the unknown host-service imports, sorted."""
    return sorted({(m, n) for m, n in imports
                   if (m == names.IMPORT_MODULE and n not in supported)
                   or (m == names.HOST_MODULE and n not in names.HOST_FUNCTIONS)})


def label(imp: Import) -> str:
    """``MPI_Send`` for MPI imports (their names say what they are), ``wasmpi.x`` otherwise."""
    module, name = imp
    return name if module == names.IMPORT_MODULE else f"{module}.{name}"


def _names(missing: Iterable[Import]) -> str:
    return ", ".join(label(i) for i in missing)


def reject(missing: list[Import]) -> None:
    """Raise :class:`LinkError` naming every unsupported import (``--strict``)."""
    if missing:
        raise LinkError(
            "unsupported MPI function" + ("s" if len(missing) > 1 else "")
            + " imported by the module: " + _names(missing),
            hint="`wasmpi inspect` lists what a module imports and what this wasmpi supports")


def warning(missing: list[Import]) -> str:
    """The one line a job prints about its unsupported imports."""
    return (f"wasmpi: warning: the module imports {len(missing)} MPI function"
            + ("s" if len(missing) > 1 else "") + " this wasmpi does not implement: "
            + _names(missing) + " (a call traps; --strict rejects the module)")


def message(imp: Import) -> str:
    return f"{label(imp)} is not implemented by this wasmpi (called by the guest)"


# The linker keeps raw pointers to the messages, and a linker and its instances live as long as
# the rank does; the few stubs a module needs are therefore kept for the life of the process.
# (ctypes is imported where a stub is defined: `wasmpi run` only names the missing imports.)
_MESSAGES: dict[str, ctypes.Array[ctypes.c_char]] = {}


@functools.cache
def _no_finalizer() -> Any:
    import ctypes

    return ctypes.CFUNCTYPE(None, ctypes.c_void_p)()  # a NULL function pointer


@functools.cache
def _trap_callback() -> Callable[..., int]:
    import ctypes

    from wasmtime import _bindings as ffi

    @ffi.wasmtime_func_unchecked_callback_t  # type: ignore[untyped-decorator]
    def _trap(env: int, _caller: object, _args: object, _nargs: int) -> int:
        # A trap made here (not a Python exception raised through wasmtime-py's trampoline)
        # keeps the guest's backtrace, which shows where the program called the missing
        # function.
        msg = ctypes.string_at(env)
        trap = ffi.wasmtime_trap_new(msg, len(msg))
        return ctypes.cast(trap, ctypes.c_void_p).value or 0

    return _trap


def define(linker: wasmtime.Linker, module: wasmtime.Module, missing: list[Import]) -> None:
    """Define each function import of ``module`` listed in ``missing`` as a trapping stub,
    with the signature the module expects."""
    import ctypes

    import wasmtime
    from wasmtime import _bindings as ffi

    _trap = _trap_callback()
    wanted = set(missing)
    for imp in module.imports:
        key = (imp.module, imp.name or "")
        ty = imp.type
        if key not in wanted or not isinstance(ty, wasmtime.FuncType):
            continue  # a non-function import stays undefined: instantiation names it
        text = message(key)
        buf = _MESSAGES.setdefault(text, ctypes.create_string_buffer(text.encode()))
        mod_b, name_b = key[0].encode(), key[1].encode()
        err = ffi.wasmtime_linker_define_func_unchecked(
            linker.ptr(), mod_b, len(mod_b), name_b, len(name_b), ty.ptr(), _trap,
            ctypes.cast(buf, ctypes.c_void_p), _no_finalizer())
        if err:
            raise wasmtime.WasmtimeError._from_ptr(err)
        wanted.discard(key)  # a module may import one function twice; define it once
