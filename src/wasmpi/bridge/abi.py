"""The guest ABI table: the one source of truth for the guest ``mpi.h`` and the bridge.

The table is text: ``table/constants.abi`` (predefined handles and integer constants) and one
``table/<chapter>.abi`` per MPI chapter with one line per MPI-3.1 C function. Parameters are
written with *semantic kinds* (what a parameter means, not its C type), so the generator
(:mod:`wasmpi.bridge.gen_bridge`) can translate each one and refuses what it does not
understand. The grammar is in ``table/README``; this module parses it into frozen dataclasses
that the generators, the runtime's import check and ``wasmpi inspect`` share.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# the names a rank needs live apart (a rank imports them without the table's machinery)
from .names import ABI_SECTION as ABI_SECTION
from .names import ABI_VERSION as ABI_VERSION
from .names import HOST_FUNCTIONS as HOST_FUNCTIONS
from .names import HOST_MODULE as HOST_MODULE
from .names import IMPORT_MODULE as IMPORT_MODULE
from .names import RUNTIME_HOST_FUNCTIONS as RUNTIME_HOST_FUNCTIONS
from .names import needs_bridge as needs_bridge

#: MPI chapters, in the order of the standard; each has a table file ``table/<name>.abi``.
CHAPTERS = {
    "env": "Environment: init, finalize, errors, memory, timers",
    "p2p": "Point-to-point communication",
    "request": "Requests: completion, persistent and generalized requests",
    "datatype": "Datatypes, packing, addresses",
    "coll": "Collective communication (blocking and nonblocking)",
    "op": "Reduction operations",
    "group": "Groups",
    "comm": "Communicators and intercommunicators",
    "attr": "Attribute caching",
    "errhandler": "Error handlers",
    "info": "Info objects",
    "topo": "Process topologies and neighborhood collectives",
    "rma": "One-sided communication",
    "io": "MPI-IO",
    "dynamic": "Process creation and management",
    "tool": "Tool information interface (MPI_T)",
}


@dataclass(frozen=True)
class HandleKind:
    """A kind of MPI handle: its guest type ``MPI_<name>`` and bad-handle error class."""

    name: str
    error: str  # error class (constants.abi name) for a bad handle of this kind
    #: the host returns the same object to every query (MPI_T enumerations): the guest gets
    #: one handle per host object, so that it can compare them
    interned: bool = False


#: Every handle kind, declared once: the guest typedefs, the bridge's handle tables,
#: translation and error class are all generated from this.
HANDLES = {
    h.name: h
    for h in (
        HandleKind("Comm", "ERR_COMM"),
        HandleKind("Group", "ERR_GROUP"),
        HandleKind("Datatype", "ERR_TYPE"),
        HandleKind("Op", "ERR_OP"),
        HandleKind("Request", "ERR_REQUEST"),
        HandleKind("Errhandler", "ERR_ARG"),
        HandleKind("Info", "ERR_INFO"),
        HandleKind("Win", "ERR_WIN"),
        HandleKind("File", "ERR_FILE"),
        HandleKind("Message", "ERR_REQUEST"),
        HandleKind("T_enum", "T_ERR_INVALID_HANDLE", interned=True),
        HandleKind("T_cvar_handle", "T_ERR_INVALID_HANDLE"),
        HandleKind("T_pvar_handle", "T_ERR_INVALID_HANDLE"),
        HandleKind("T_pvar_session", "T_ERR_INVALID_SESSION"),
    )
}
HANDLE_KINDS = tuple(HANDLES)

#: Scalar kinds passed by value: guest C type. Their meaning decides the translation
#: (see gen_bridge.SCALAR_IN); all are i32 in wasm except Count and Offset (i64).
SCALARS = {
    "int": "int", "count": "int", "rank": "int", "root": "int", "tag": "int", "color": "int",
    "key": "int", "bool": "int", "split_type": "int", "thread_level": "int", "errcode": "int",
    "order": "int", "whence": "int", "combiner": "int", "topo": "int", "cmp": "int",
    "keyval": "int", "verbosity": "int", "bind": "int", "scope": "int", "pvar_class": "int",
    "cvar_index": "int", "pvar_index": "int", "cat_index": "int", "enum_index": "int",
    "Aint": "MPI_Aint", "Count": "MPI_Count", "Offset": "MPI_Offset",
    **{k: "MPI_Comm" for k in ("intracomm", "intercomm", "topocomm")},
    # one-sided: an MPI_MODE_* bitmask, MPI_LOCK_*, a predefined accumulate op, and a target
    # displacement disp(RANK,COUNT,DATATYPE) checked against the target's window
    "assert": "int", "lock_type": "int", "rma_op": "MPI_Op", "disp": "MPI_Aint",
}
#: Input communicators restricted to one sort (the bridge checks it: some host MPIs crash or
#: assert instead of returning MPI_ERR_COMM): intra-, intercommunicator, and an
#: intracommunicator with a process topology (else MPI_ERR_TOPOLOGY).
COMM_SORTS = ("intracomm", "intercomm", "topocomm")
#: Element kinds of arrays: guest C element type.
ELEMENTS = {
    "int": "int", "rank": "int", "member": "int", "bool": "int", "count": "int",
    "Aint": "MPI_Aint",
    "Count": "MPI_Count", "range3": "int", "distrib": "int", "darg": "int", "weight": "int",
    "str": "char *",
    **{h: f"MPI_{h}" for h in HANDLES}, "Status": "MPI_Status",
}
DIRECTIONS = ("in", "out", "inout", "free")
#: Buffer flags: where a buffer is significant and whether MPI_IN_PLACE is allowed.
BUFFER_FLAGS = ("in_place", "root", "sender")


@dataclass(frozen=True)
class Buffer:
    """``buf(dir,count,datatype,flags)`` or ``vbuf(dir,counts,displs,datatype,flags)``."""

    direction: str
    count: str  # a parameter name, or NAME*peers for one block per peer
    datatype: str
    displs: str = ""  # vbuf only
    flags: tuple[str, ...] = ()

    @property
    def vector(self) -> bool:
        return bool(self.displs)


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # scalar, handle, element kind of an array, "buf", "str", "Status", ...
    direction: str = "in"
    length: str = ""  # arrays: a parameter name, a communicator size, sum(ARRAY), last(ARRAY), *
    array: bool = False
    cap: str = ""  # str out: capacity (constant name or parameter name)
    ctype_raw: str = ""  # fn<T> and c<T>
    buffer: Buffer | None = None
    target: tuple[str, ...] = ()  # disp(RANK,COUNT,DATATYPE): what the target touches

    @property
    def wasm(self) -> str:
        """wasm value type letter: i (i32), I (i64)."""
        return "I" if (self.kind in ("Offset", "Count") and not self.array
                       and self.direction == "in") else "i"

    @property
    def is_handle(self) -> bool:
        return self.kind in HANDLES

    @property
    def ctype(self) -> str:
        k, d = self.kind, self.direction
        if self.ctype_raw:
            return self.ctype_raw
        if self.buffer:
            return "const void *" if self.buffer.direction == "in" else "void *"
        if self.array:
            el = ELEMENTS[k]
            if k == "range3":
                return "int [][3]"
            return f"{el} []" if d != "in" else f"const {el} []"
        if k == "str":
            return "char *" if d == "out" else "const char *"
        if k == "Status":
            return "const MPI_Status *" if d == "in" else "MPI_Status *"
        if k in ("ptr", "cptr"):
            return "void *" if k == "ptr" else "const void *"
        base = f"MPI_{k}" if k in HANDLES else SCALARS["int" if k == "strlen" else k]
        return base if d == "in" else f"{base} *"

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
    impl: str  # "gen", "manual", "bridge", "error" or "" (declared only)
    chapter: str = ""
    variadic: bool = False
    error: str = ""  # impl == "error": the error class every call returns
    since: str = "3.1"  # the MPI version that added the function (``since=4.0`` in the table)

    @property
    def mpi4(self) -> bool:
        """Added after MPI-3.1: the host MPI may lack it, so the bridge resolves it at run time."""
        return self.since != "3.1"

    @property
    def wasm_params(self) -> str:
        return "".join(p.wasm for p in self.params)

    @property
    def wasm_results(self) -> str:
        return {"int": "i", "double": "F", "Aint": "i"}[self.ret]

    @property
    def implemented(self) -> bool:
        return bool(self.impl)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name}: no parameter {name!r}")


class TableError(ValueError):
    """A line of the ABI table that the grammar does not allow."""


def _lines(name: str) -> list[tuple[int, str]]:
    # imported here: a rank never reads the table (its bridge has the signatures), and
    # importlib.resources pulls in tempfile and more
    from importlib import resources

    text = resources.files(__package__).joinpath("table", name).read_text()
    out = []
    for no, ln in enumerate(text.splitlines(), 1):
        body = ln.split("#", 1)[0].strip()
        if body:
            out.append((no, body))
    return out


@dataclass(frozen=True)
class Constant:
    kind: str  # "handle", "alias" or "int"
    name: str  # without the MPI_ prefix
    value: str  # integer literal, or the aliased name
    handle_kind: str = ""


@functools.cache
def constants() -> tuple[Constant, ...]:
    out = []
    for _, ln in _lines("constants.abi"):
        parts = ln.split()
        if parts[0] == "handle":
            out.append(Constant("handle", parts[2], parts[3], parts[1]))
        else:
            out.append(Constant(parts[0], parts[1], parts[2]))
    return tuple(out)


@functools.cache
def int_constants() -> dict[str, int]:
    return {c.name: int(c.value, 0) for c in constants() if c.kind == "int"}


_BUF_RE = re.compile(r"^(v?buf)\((.*)\)$")
_ARRAY_RE = re.compile(r"^(\w+)\[([\w*@()]+)\]$")
_STR_RE = re.compile(r"^str\((\w+)\)$")
_DISP_RE = re.compile(r"^disp\((\w+),(\w+),(\w+)\)$")
_LINE_RE = re.compile(r"^(\w+)\s*(.*?)\s*(?:->\s*(\w+))?\s*"
                      r"(?:@(gen|manual|bridge|error)(?:\((\w+)\))?)?$")


def parse_param(token: str, where: str) -> Param:
    """One ``name:kind[:dir]`` token of a table line."""
    name, sep, spec = token.partition(":")
    if not sep or not name.isidentifier():
        raise TableError(f"{where}: parameter {token!r} is not NAME:KIND")
    if spec.startswith(("fn<", "c<")):
        raw = re.sub(r"\s*(\*+)$", r" \1", spec[spec.index("<") + 1 : -1])
        return Param(name, spec[: spec.index("<")], ctype_raw=raw)
    m = _BUF_RE.match(spec)
    if m:
        fields = m.group(2).split(",")
        vec = m.group(1) == "vbuf"
        need = 4 if vec else 3
        if len(fields) < need:
            raise TableError(f"{where}: {token!r}: {m.group(1)} takes {need} fields and flags")
        direction = fields[0]
        if direction not in ("in", "out", "inout"):
            raise TableError(f"{where}: {token!r}: buffer direction {direction!r}")
        flags = tuple(fields[need:])
        for fl in flags:
            if fl not in BUFFER_FLAGS:
                raise TableError(f"{where}: {token!r}: unknown buffer flag {fl!r}")
        if vec:
            buf = Buffer(direction, fields[1], fields[3], displs=fields[2], flags=flags)
        else:
            buf = Buffer(direction, fields[1], fields[2], flags=flags)
        return Param(name, "buf", direction, buffer=buf)
    m = _DISP_RE.match(spec)
    if m:
        rank, count, datatype = m.groups()
        return Param(name, "disp", target=(rank, count, datatype))
    kind, _, direction = spec.partition(":")
    direction = direction or "in"
    if direction not in DIRECTIONS:
        raise TableError(f"{where}: {token!r}: direction {direction!r} (in|out|inout|free)")
    m = _STR_RE.match(kind)
    if m:
        return Param(name, "str", direction, cap=m.group(1))
    m = _ARRAY_RE.match(kind)
    if m:
        el, length = m.groups()
        if el not in ELEMENTS:
            raise TableError(f"{where}: {token!r}: unknown array element kind {el!r}")
        return Param(name, el, direction, length=length, array=True)
    if kind == "disp":
        raise TableError(f"{where}: {token!r}: disp takes (RANK,COUNT,DATATYPE)")
    if kind in ("str", "ptr", "cptr", "Status", "strlen") or kind in HANDLES or kind in SCALARS:
        if direction == "free" and kind not in HANDLES and kind != "keyval":
            raise TableError(f"{where}: {token!r}: only handles and keyvals are freed")
        return Param(name, kind, direction)
    raise TableError(f"{where}: {token!r}: unknown kind {kind!r}")


#: MPI versions a table line may give with ``since=``; the default is 3.1.
VERSIONS = ("3.1", "4.0", "4.1")
_SINCE_RE = re.compile(r"\s+since=(\S+)")


def parse_line(line: str, chapter: str, where: str) -> Function:
    since = "3.1"
    m = _SINCE_RE.search(line)
    if m:
        since = m.group(1)
        if since not in VERSIONS:
            raise TableError(f"{where}: since={since} (one of {', '.join(VERSIONS)})")
        line = line[: m.start()] + line[m.end():]
    m = _LINE_RE.match(line)
    if not m:
        raise TableError(f"{where}: cannot parse {line!r}")
    name, args, ret, impl, error = m.groups()
    if ret and ret not in ("double", "Aint"):
        raise TableError(f"{where}: return type {ret!r} (double|Aint)")
    if impl == "error" and not error:
        raise TableError(f"{where}: @error needs an error class: @error(ERR_...)")
    params, variadic = [], False
    for tok in re.findall(r"\S*<[^>]*>\S*|\S+", args):  # c<const int> is one token
        if tok == "...":
            variadic = True
            continue
        params.append(parse_param(tok, f"{where}: MPI_{name}"))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise TableError(f"{where}: MPI_{name}: duplicate parameter names")
    return Function("MPI_" + name, tuple(params), ret or "int", impl or "", chapter, variadic,
                    error or "", since)


@functools.cache
def functions() -> tuple[Function, ...]:
    out: list[Function] = []
    for chapter in CHAPTERS:
        for no, ln in _lines(f"{chapter}.abi"):
            out.append(parse_line(ln, chapter, f"table/{chapter}.abi:{no}"))
    seen: set[str] = set()
    for f in out:
        if f.name in seen:
            raise TableError(f"{f.name} is in the table twice")
        seen.add(f.name)
    return tuple(sorted(out, key=lambda f: f.name))


@functools.cache
def by_name() -> dict[str, Function]:
    return {f.name: f for f in functions()}


@functools.cache
def supported_imports() -> frozenset[str]:
    """MPI functions the bridge implements (import names in :data:`IMPORT_MODULE`)."""
    return frozenset(f.name for f in functions() if f.implemented and not f.variadic)

