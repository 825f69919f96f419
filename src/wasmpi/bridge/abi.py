"""The guest ABI table: the one source of truth for the guest ``mpi.h`` and the bridge.

The table lives in two text files beside this module, ``constants.abi`` and ``functions.abi``;
their headers describe the format. This module parses them into frozen dataclasses that the
generator (:mod:`wasmpi.bridge.gen`), the runtime's import check and ``wasmpi inspect`` share.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

#: Import module of every MPI function in a wasmpi guest.
IMPORT_MODULE = "mpi"
#: Import module of the few host services the guest support library needs (gethostname, ...).
HOST_MODULE = "wasmpi"
#: Custom section that records the guest ABI a module was built against.
ABI_SECTION = "wasmpi.abi"
#: Guest ABI: MPI standard ABI 1.0 at wasm32 sizes, MPI-3.1 function set.
ABI_VERSION = "mpi-abi-1.0;wasm32;mpi-3.1"

HANDLE_KINDS = (
    "Comm", "Group", "Datatype", "Op", "Request", "Errhandler", "Info", "Win", "File", "Message",
)


@dataclass(frozen=True)
class Constant:
    kind: str  # "handle", "alias" or "int"
    name: str  # without the MPI_ prefix
    value: str  # integer literal, or the aliased name
    handle_kind: str = ""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str

    @property
    def wasm(self) -> str:
        """wasm value type letter: i (i32), I (i64)."""
        return "I" if self.kind in ("Offset", "Count") else "i"

    @property
    def ctype(self) -> str:
        k = self.kind
        if k.startswith("fn<") or k.startswith("c<"):
            return k[k.index("<") + 1 : -1]
        simple = {
            "int": "int", "Aint": "MPI_Aint", "Offset": "MPI_Offset", "Count": "MPI_Count",
            "inbuf": "const void *", "outbuf": "void *", "ptr": "void *", "cptr": "const void *",
            "str": "const char *", "str!": "char *", "Status&": "const MPI_Status *",
        }
        if k in simple:
            return simple[k]
        base = k.rstrip("*&[]!")
        cbase = "int" if base == "int" else f"MPI_{base}"
        if k.endswith("[]!"):
            return f"{cbase} []"
        if k.endswith("[]"):
            return "char *[]" if base == "str" else f"const {cbase} []"
        if k.endswith("*"):
            return f"{cbase} *"
        return cbase

    def declare(self) -> str:
        ct = self.ctype
        if ct.endswith("]"):  # array declarators: int x[], int x[][3]
            i = ct.index("[")
            return f"{ct[:i].rstrip()} {self.name}{ct[i:]}"
        if ct.endswith("*"):
            return f"{ct}{self.name}"
        return f"{ct} {self.name}"


@dataclass(frozen=True)
class Function:
    name: str  # full C name, e.g. "MPI_Send"
    params: tuple[Param, ...]
    ret: str  # "int", "double" or "Aint"
    impl: str  # "gen", "manual" or "" (declared only)
    variadic: bool = False

    @property
    def wasm_params(self) -> str:
        return "".join(p.wasm for p in self.params)

    @property
    def wasm_results(self) -> str:
        return {"int": "i", "double": "F", "Aint": "i"}[self.ret]

    @property
    def implemented(self) -> bool:
        return bool(self.impl)


def _lines(name: str) -> list[str]:
    text = resources.files(__package__).joinpath(name).read_text()
    return [ln.split("#", 1)[0].strip() for ln in text.splitlines() if ln.split("#", 1)[0].strip()]


@functools.cache
def constants() -> tuple[Constant, ...]:
    out = []
    for ln in _lines("constants.abi"):
        parts = ln.split()
        if parts[0] == "handle":
            out.append(Constant("handle", parts[2], parts[3], parts[1]))
        else:
            out.append(Constant(parts[0], parts[1], parts[2]))
    return tuple(out)


_FUNC_RE = re.compile(r"^(\w+)\s*(.*?)\s*(?:->\s*(\w+))?\s*(?:@(gen|manual))?$")


@functools.cache
def functions() -> tuple[Function, ...]:
    out = []
    for ln in _lines("functions.abi"):
        m = _FUNC_RE.match(ln)
        if not m:
            raise ValueError(f"functions.abi: cannot parse {ln!r}")
        name, args, ret, impl = m.groups()
        params = []
        variadic = False
        for tok in args.split():
            if tok == "...":
                variadic = True
                continue
            pname, kind = tok.split(":", 1)
            params.append(Param(pname, kind))
        out.append(Function("MPI_" + name, tuple(params), ret or "int", impl or "", variadic))
    return tuple(out)


@functools.cache
def by_name() -> dict[str, Function]:
    return {f.name: f for f in functions()}


def needs_bridge(import_modules: Iterable[str]) -> bool:
    """Whether a module with imports from these modules must run with the MPI bridge."""
    return any(m in (IMPORT_MODULE, HOST_MODULE) for m in import_modules)


def supported_imports() -> frozenset[str]:
    """MPI functions the bridge implements (import names in :data:`IMPORT_MODULE`)."""
    return frozenset(f.name for f in functions() if f.implemented and not f.variadic)


#: Host services provided under :data:`HOST_MODULE`, with their wasm signatures.
HOST_FUNCTIONS = {"gethostname": ("ii", "i")}
