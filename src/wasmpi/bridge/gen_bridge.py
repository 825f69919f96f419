"""Generate the mechanical part of the C bridge from the ABI table.

Outputs (in ``bridge/c/gen/``): ``abi.h`` (every ABI constant with an ``ABI_`` prefix, the
handle kinds and their per-kind code) and ``callbacks.c`` (the predefined handles, the error
class maps, one callback per ``@gen`` / ``@error`` function and the entry table the loader
reads). The generator understands a fixed set of semantic kinds and raises
:class:`GenError` on anything else, so a wrong callback cannot be generated: such a function
must be marked ``@manual`` and written by hand in ``c/mpi/<chapter>.c``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import abi
from .gen_guest import BANNER, GUEST_POINTER_CONSTANTS, NOT_MPI31

# Guest datatypes whose wasm32 layout differs from the host's, with the host type of the same
# layout. wasm32 is ILP32: long and MPI_Aint are 32 bits, long double is IEEE binary128.
HOST_DATATYPE = {
    "LONG": "MPI_INT",
    "UNSIGNED_LONG": "MPI_UNSIGNED",
    "AINT": "MPI_INT32_T",
    "LONG_INT": "MPI_2INT",
    # Open MPI's MPI_OFFSET reduces as unsigned under MPI_MIN/MPI_MAX; MPI_Offset is int64_t
    "OFFSET": "MPI_INT64_T",
}
# Guest datatypes that no host type matches (binary128 long double): moved as bytes, with
# their wasm32 (size, extent); reductions use the bridge's own ops (c/mpi/op.c).
BYTES_DATATYPE = {
    "LONG_DOUBLE": (16, 16),
    "C_LONG_DOUBLE_COMPLEX": (32, 32),
    "CXX_LONG_DOUBLE_COMPLEX": (32, 32),
    "LONG_DOUBLE_INT": (20, 32),  # struct { long double; int; } is padded to 32 bytes
}

# Scalar kinds passed by value: C type of the host variable, and the translation of the raw
# guest value `{}` into the host value.
SCALAR_IN = {
    "int": ("int", "{}"), "count": ("int", "{}"), "key": ("int", "{}"), "bool": ("int", "{}"),
    "rank": ("int", "in_rank({})"), "root": ("int", "in_rank({})"), "tag": ("int", "in_tag({})"),
    "color": ("int", "in_undef({})"), "split_type": ("int", "in_split_type({})"),
    "thread_level": ("int", "in_thread({})"), "order": ("int", "in_order({})"),
    "whence": ("int", "in_whence({})"),
    "Aint": ("MPI_Aint", "(MPI_Aint){}"), "Count": ("MPI_Count", "(MPI_Count){}"),
    "Offset": ("MPI_Offset", "(MPI_Offset){}"),
}
# Scalar kinds written back through a guest pointer: host type, guest size, and the
# translation of the host value `{}` into what the guest stores.
SCALAR_OUT = {
    "int": ("int", 4, "{}"), "count": ("int", 4, "out_undef({})"), "bool": ("int", 4, "{}"),
    "rank": ("int", 4, "out_rank({})"), "cmp": ("int", 4, "out_cmp({})"),
    "topo": ("int", 4, "out_topo({})"), "combiner": ("int", 4, "out_combiner({})"),
    "strlen": ("int", 4, "{}"),
    "Aint": ("MPI_Aint", 4, "(int32_t){}"), "Count": ("MPI_Count", 8, "{}"),
    "Offset": ("MPI_Offset", 8, "{}"),
}
# Array element kinds: host element type, guest element size, translation of one guest
# element `{}` (None: the guest array is passed as it is, zero-copy).
ELEMENT_IN = {
    "int": ("int", 4, None), "count": ("int", 4, None), "bool": ("int", 4, None),
    "rank": ("int", 4, "in_rank({})"), "distrib": ("int", 4, "in_distrib({})"),
    "darg": ("int", 4, "in_darg({})"), "Aint": ("MPI_Aint", 4, "(MPI_Aint){}"),
}
ELEMENT_OUT = {
    "int": ("int", 4, None), "count": ("int", 4, None), "bool": ("int", 4, None),
    "rank": ("int", 4, "out_rank({})"), "Aint": ("MPI_Aint", 4, "(int32_t){}"),
}
# Array lengths and buffer scales that are properties of the communicator argument.
COMM_SIZES = {
    "peers": "peers({c})", "size": "{c}->size", "cartdim": "cart_ndims({c}->h.comm)",
    "indegree": "nbr_degree({c}->h.comm, 0)", "outdegree": "nbr_degree({c}->h.comm, 1)",
}

# The checks of a restricted communicator argument (abi.COMM_SORTS), on its slot {c}.
_NOT_INTER = ("    if ({c}->rsize)\n"
              "        return fail(a, ABI_ERR_COMM, errslot, FN);\n")
COMM_SORT_CHECK = {
    "intracomm": _NOT_INTER,
    "intercomm": ("    if (!{c}->rsize)\n"
                  "        return fail(a, ABI_ERR_COMM, errslot, FN);\n"),
    "topocomm": _NOT_INTER + ("    if (!has_topology({c}->h.comm))\n"
                              "        return fail(a, ABI_ERR_TOPOLOGY, errslot, FN);\n"),
}


# Handle kinds with their own error handler: a call about such an object (its first
# parameter, when the call has no communicator) reports errors to that object's handler,
# and a null or bad handle to the handler of the kind's null handle (MPI_FILE_NULL's).
ERRHANDLER_OBJECTS = ("File", "Win")


class GenError(ValueError):
    """The table asks for a callback the generator cannot write correctly."""


def _abi_int(name: str) -> str:
    if name not in abi.int_constants():
        raise GenError(f"no integer constant MPI_{name} in constants.abi")
    return f"ABI_{name}"


@dataclass
class _Callback:
    f: abi.Function
    pre: list[str] = field(default_factory=list)
    outs: list[str] = field(default_factory=list)
    post: list[str] = field(default_factory=list)
    args: dict[int, str] = field(default_factory=dict)
    scratch: bool = False
    comm: int | None = None  # index of the communicator whose handler reports errors
    obj: int | None = None  # else the object (ERRHANDLER_OBJECTS) whose handler does
    checked: set[int] = field(default_factory=set)  # arrays bounds-checked so far
    at_root: bool = False

    def fail(self, msg: str) -> GenError:
        return GenError(f"{self.f.name}: {msg}; mark it @manual and write it in "
                        f"c/mpi/{self.f.chapter}.c")

    def index(self, name: str) -> int:
        for i, p in enumerate(self.f.params):
            if p.name == name:
                return i
        raise self.fail(f"{name!r} names no parameter")

    def cslot(self) -> str:
        if self.comm is None:
            raise self.fail("a size of the communicator is used, but there is no communicator")
        return f"COMM_SLOT(v{self.comm})"

    def value(self, name: str) -> str:
        """Host value of a scalar input parameter (a length or count)."""
        j = self.index(name)
        p = self.f.params[j]
        if p.array or p.direction != "in" or p.kind not in ("int", "count", "Aint"):
            raise self.fail(f"{name!r} is used as a length but is not an int input")
        return f"v{j}"

    def reduced(self, how: str, name: str) -> str:
        """Length computed from an earlier input array of ints: its sum (MPI_Dist_graph_create's
        destinations) or its last element (MPI_Graph_create's edges); -1 when an element is
        negative or, for last, the array decreases."""
        j = self.index(name)
        p = self.f.params[j]
        if not p.array or p.direction != "in" or p.kind not in ("int", "count"):
            raise self.fail(f"{how}({name}): not an input array of ints")
        if j not in self.checked:
            raise self.fail(f"{how}({name}): the array comes after the one it sizes")
        return f"ints_{how}(a[{j}].i32, n{j})"

    def root_cond(self) -> str:
        if not self.at_root:
            for p in self.f.params:
                if p.kind == "root":
                    break
            else:
                raise self.fail("a root-only argument, but no root parameter")
            self.at_root = True
        return "at_root"

    def length(self, expr: str) -> str:
        base, _, where = expr.partition("@")
        if base == "*":
            raise self.fail("an array of unknown length")
        m = re.fullmatch(r"(sum|last)\((\w+)\)", base)
        if m:
            n = self.reduced(m.group(1), m.group(2))
        elif base in COMM_SIZES and not any(p.name == base for p in self.f.params):
            n = COMM_SIZES[base].format(c=self.cslot())
        else:  # a parameter (Dist_graph_create_adjacent's indegree is one, not the comm's)
            n = self.value(base)
        if where == "root":
            n = f"({self.root_cond()} ? {n} : 0)"
        elif where:
            raise self.fail(f"length qualifier @{where}")
        return n


def _gen_callback(f: abi.Function) -> list[str]:
    cb = _Callback(f)
    params = f.params
    for i, p in enumerate(params):
        if p.kind in ("Comm", *abi.COMM_SORTS) and p.direction == "in" and not p.array:
            cb.comm = i
            break
    if cb.comm is None and params and params[0].kind in ERRHANDLER_OBJECTS \
            and params[0].direction == "in" and not params[0].array:
        cb.obj = 0
    # inputs first: scalars and handles, then arrays, then buffers (which use both)
    for i, p in enumerate(params):
        if not p.array and p.kind != "buf":
            _scalar_or_handle(cb, i, p)
    for i, p in enumerate(params):
        if p.array:
            _array(cb, i, p)
    for i, p in enumerate(params):
        if p.kind == "buf":
            _buffer(cb, i, p)
    head = [f"CALLBACK({f.name})\n{{\n#define FN \"{f.name}\"\n"]
    if cb.comm is not None:
        head.append(f"    COMM_ARG(v{cb.comm}, {cb.comm});\n")
    elif cb.obj is not None:
        k = params[cb.obj].kind
        head.append(f"    OBJ_ARG(K_{k.upper()}, {k.lower()}, v{cb.obj}, sl{cb.obj}, {cb.obj});\n")
    else:
        head.append("    ERRSLOT;\n")
    if cb.scratch:
        head.append("    SCRATCH_FRAME;\n")
    if cb.at_root:
        root = next(i for i, p in enumerate(params) if p.kind == "root")
        head.append(f"    int at_root = is_root({cb.cslot()}, in_rank(a[{root}].i32));\n")
    call = ", ".join(cb.args[i] for i in range(len(params)))
    body = head + cb.pre + cb.outs
    if f.ret == "Aint":
        if cb.post or any(p.direction != "in" for p in params):
            raise cb.fail("an Aint-returning function with output arguments")
        body.append(f"    a[0].i32 = (int32_t){f.name}({call});\n    return NULL;\n")
    elif f.ret != "int":
        raise cb.fail(f"return type {f.ret}")
    else:
        body.append(f"    int rc = {f.name}({call});\n")
        if cb.post:
            body.append("    if (rc == MPI_SUCCESS) {\n")
            body += cb.post
            body.append("    }\n")
        body.append("    return done(a, rc, errslot, FN);\n")
    body.append("#undef FN\n}\n\n")
    return body


def _scalar_or_handle(cb: _Callback, i: int, p: abi.Param) -> None:
    k, d = p.kind, p.direction
    if k in abi.HANDLES:
        _handle(cb, i, p)
    elif k in COMM_SORT_CHECK:
        if i != cb.comm or d != "in":
            raise cb.fail(f"{p.name}: {k} that is not the call's communicator")
        cb.pre.append(COMM_SORT_CHECK[k].format(c=cb.cslot()))
        cb.args[i] = f"v{i}"
    elif k == "keyval" and d == "in":
        cb.pre.append(f"    int v{i};\n    if (!get_keyval(a[{i}].i32, &v{i}))\n"
                      f"        return fail(a, ABI_ERR_KEYVAL, errslot, FN);\n")
        cb.args[i] = f"v{i}"
    elif d == "in" and k in SCALAR_IN:
        ctype, conv = SCALAR_IN[k]
        raw = f"a[{i}].i64" if p.wasm == "I" else f"a[{i}].i32"
        cb.pre.append(f"    {ctype} v{i} = {conv.format(raw)};\n")
        cb.args[i] = f"v{i}"
    elif d in ("out", "inout") and k in SCALAR_OUT:
        ctype, size, conv = SCALAR_OUT[k]
        if d == "inout" and k not in ("int", "Aint", "Count", "Offset"):
            raise cb.fail(f"{p.name}: in/out {k}")
        load = "load_i64" if size == 8 else "load_i32"
        store = "store_i64" if size == 8 else "store_i32"
        init = f"({ctype}){load}(p{i})" if d == "inout" else "0"
        cb.outs.append(f"    uint32_t p{i} = (uint32_t)a[{i}].i32;\n    CHECK_OUT(p{i}, {size});\n"
                       f"    {ctype} v{i} = {init};\n")
        cb.args[i] = f"&v{i}"
        if k == "Aint":
            cb.post.append(f"        if (v{i} != (int32_t)v{i})\n"
                           f"            return fail(a, ABI_ERR_VALUE_TOO_LARGE, errslot, FN);\n")
        if k != "strlen":  # a string's length is stored with the string
            cb.post.append(f"        {store}(p{i}, {conv.format(f'v{i}')});\n")
    elif k == "str" and d == "in":
        cb.pre.append(f"    const char *v{i};\n    CHECK_STR(v{i}, a[{i}].i32);\n")
        cb.args[i] = f"v{i}"
    elif k == "str" and d == "out":
        _string_out(cb, i, p)
    elif k == "Status":
        _status(cb, i, p)
    else:
        raise cb.fail(f"{p.name}: kind {k!r} direction {d!r}")


def _handle(cb: _Callback, i: int, p: abi.Param) -> None:
    k, d = p.kind, p.direction
    K = f"K_{k.upper()}"
    low = k.lower()
    if d == "in":
        if i in (cb.comm, cb.obj):
            cb.args[i] = f"v{i}"
            return
        cb.pre.append(f"    HANDLE_ARG({K}, {low}, v{i}, sl{i}, {i});\n")
        if k == "Op":  # predefined ops on long double types are the bridge's own
            types = [j for j, q in enumerate(cb.f.params) if q.kind == "Datatype"
                     and q.direction == "in" and not q.array]
            if types:
                if types[0] > i:
                    raise cb.fail("the op comes before the datatype")
                cb.pre.append(f"    v{i} = reduce_op(sl{i}, sl{types[0]});\n")
        cb.args[i] = f"v{i}"
    elif d == "out":
        cb.outs.append(f"    uint32_t p{i} = (uint32_t)a[{i}].i32;\n    CHECK_OUT(p{i}, 4);\n"
                       f"    MPI_{k} v{i};\n")
        cb.args[i] = f"&v{i}"
        if k == "Comm":
            parent = "errslot" if cb.comm is not None else "-1"
            new = f"new_comm(v{i}, {parent})"
        elif k == "Request":
            new = f"new_request(v{i}, errslot)"
        elif k in ("Op", "Errhandler"):
            raise cb.fail(f"{p.name}: new {k} handles carry guest functions")
        else:
            new = f"new_handle({K}, (host_h){{.{low} = v{i}}})"
        cb.post.append(f"        store_i32(p{i}, {new});\n")
    elif d in ("inout", "free"):
        cb.outs.append(
            f"    uint32_t p{i} = (uint32_t)a[{i}].i32;\n    CHECK_OUT(p{i}, 4);\n"
            f"    int32_t g{i} = load_i32(p{i});\n    slot_t *sl{i} = lookup({K}, g{i});\n"
            f"    if (!sl{i}{' || sl' + str(i) + '->predefined' if d == 'free' else ''})\n"
            f"        return fail(a, kind_error[{K}], errslot, FN);\n"
            f"    MPI_{k} v{i} = sl{i}->h.{low};\n")
        if k == "Comm" and cb.comm is None:  # e.g. a delete function failing in Comm_free
            cb.outs.append(f"    errslot = slot_index(K_COMM, sl{i});\n")
        cb.args[i] = f"&v{i}"
        # the table may have grown (a callback into the guest made handles): look up again
        post = f"        sl{i} = lookup({K}, g{i});\n"
        if d == "free":
            post += f"        slot_free({K}, sl{i});\n        store_i32(p{i}, guest_null[{K}]);\n"
        else:
            is_null = f"same_handle({K}, (host_h){{.{low} = v{i}}}, host_null[{K}])"
            post += (f"        if ({is_null}) {{\n"
                     f"            if (!sl{i}->predefined)\n"
                     f"                slot_free({K}, sl{i});\n"
                     f"            store_i32(p{i}, guest_null[{K}]);\n"
                     f"        }} else {{\n            sl{i}->h.{low} = v{i};\n")
            if k == "Datatype":
                post += f"            datatype_layout(sl{i});\n"
            post += "        }\n"
        cb.post.append(post)
    else:
        raise cb.fail(f"{p.name}: handle direction {d}")


def _string_out(cb: _Callback, i: int, p: abi.Param) -> None:
    cap = p.cap
    lens = [j for j, q in enumerate(cb.f.params) if q.kind == "strlen"]
    if cap in abi.int_constants():
        cb.outs.append(f"    uint32_t p{i} = (uint32_t)a[{i}].i32;\n"
                       f"    CHECK_OUT(p{i}, {_abi_int(cap)});\n"
                       f"    char v{i}[MPI_{cap} + 1];\n    v{i}[0] = 0;\n")
        stored = f"put_string(p{i}, v{i}, {_abi_int(cap)})"
        if lens:
            cb.post.append(f"        store_i32(p{lens[0]}, {stored});\n")
        else:
            cb.post.append(f"        {stored};\n")
    else:  # capacity given by a parameter: MPI writes at most that many chars and a NUL
        if lens:
            raise cb.fail(f"{p.name}: a string of parameter capacity with a length out")
        n = cb.value(cap)
        cb.outs.append(f"    if ({n} < 0)\n        return fail(a, ABI_ERR_ARG, errslot, FN);\n"
                       f"    CHECK_OUT(a[{i}].i32, (int64_t){n} + 1);\n"
                       f"    char *v{i} = (char *)GPTR(a[{i}].i32);\n")
    cb.args[i] = f"v{i}"


def _status(cb: _Callback, i: int, p: abi.Param) -> None:
    if p.direction == "out":
        cb.outs.append(f"    STATUS_ARG(v{i}, {i});\n")
        cb.args[i] = f"v{i} ? v{i} : MPI_STATUS_IGNORE"
        cb.post.append(f"        if (v{i})\n            status_out(v{i}_p, v{i}, 0);\n")
    elif p.direction in ("in", "inout"):
        cb.outs.append(f"    uint32_t p{i} = (uint32_t)a[{i}].i32;\n"
                       f"    CHECK_OUT(p{i}, STATUS_SIZE);\n"
                       f"    MPI_Status v{i};\n    status_in(p{i}, &v{i});\n")
        cb.args[i] = f"&v{i}"
        if p.direction == "inout":
            cb.post.append(f"        status_out(p{i}, &v{i}, 0);\n")
    else:
        raise cb.fail(f"{p.name}: status direction {p.direction}")


def _array(cb: _Callback, i: int, p: abi.Param) -> None:
    k, d = p.kind, p.direction
    n = cb.length(p.length)
    cb.pre.append(f"    int64_t n{i} = {n};\n")
    if n.startswith("ints_"):
        cb.pre.append(f"    if (n{i} < 0)\n        return fail(a, ABI_ERR_ARG, errslot, FN);\n")
    cb.checked.add(i)
    what = f'"{p.name} array"'
    if k == "weight" and d in ("in", "out"):
        # MPI_UNWEIGHTED and MPI_WEIGHTS_EMPTY are guest pointer values that no array has
        cb.pre.append(f"    WEIGHTS(v{i}, {i}, n{i}, {what});\n")
        cb.args[i] = f"v{i}"
    elif k == "range3" and d == "in":
        cb.pre.append(f"    CHECK_ARRAY(a[{i}].i32, 3 * n{i}, 4, {what});\n")
        cb.args[i] = f"(int (*)[3])GPTR(a[{i}].i32)"
    elif k in abi.HANDLES and d == "in":
        low, K = k.lower(), f"K_{k.upper()}"
        cb.scratch = True
        cb.pre.append(
            f"    CHECK_ARRAY(a[{i}].i32, n{i}, 4, {what});\n"
            f"    SCRATCH(v{i}, MPI_{k}, n{i});\n"
            f"    for (int64_t j = 0; j < n{i}; j++) {{\n"
            f"        slot_t *s_ = lookup({K}, load_i32(a[{i}].i32 + 4 * (uint32_t)j));\n"
            f"        if (!s_)\n            return fail(a, kind_error[{K}], errslot, FN);\n"
            f"        v{i}[j] = s_->h.{low};\n    }}\n")
        cb.args[i] = f"v{i}"
    elif d == "in" and k in ELEMENT_IN:
        ctype, size, conv = ELEMENT_IN[k]
        cb.pre.append(f"    CHECK_ARRAY(a[{i}].i32, n{i}, {size}, {what});\n")
        if conv is None:
            cb.args[i] = f"(const int *)GPTR(a[{i}].i32)"
        else:
            cb.scratch = True
            elem = f"a[{i}].i32 + 4 * (uint32_t)j"
            cb.pre.append(f"    SCRATCH(v{i}, {ctype}, n{i});\n"
                          f"    for (int64_t j = 0; j < n{i}; j++)\n"
                          f"        v{i}[j] = {conv.format(f'load_i32({elem})')};\n")
            cb.args[i] = f"v{i}"
    elif d in ("out", "inout") and k in ELEMENT_OUT:
        ctype, size, conv = ELEMENT_OUT[k]
        cb.pre.append(f"    CHECK_ARRAY(a[{i}].i32, n{i}, {size}, {what});\n")
        if ctype == "int":
            cb.args[i] = f"(int *)GPTR(a[{i}].i32)"
            if conv is not None:
                cb.post.append(f"        for (int64_t j = 0; j < n{i}; j++) {{\n"
                               f"            uint32_t q_ = a[{i}].i32 + 4 * (uint32_t)j;\n"
                               f"            store_i32(q_, {conv.format('load_i32(q_)')});\n"
                               f"        }}\n")
        else:
            if d == "inout" or conv is None:
                raise cb.fail(f"{p.name}: in/out array of {k}")
            cb.scratch = True
            cb.pre.append(f"    SCRATCH(v{i}, {ctype}, n{i});\n")
            cb.args[i] = f"v{i}"
            if k == "Aint":  # narrowed to the guest's 32 bits, as a scalar Aint out is
                cb.post.append(f"        for (int64_t j = 0; j < n{i}; j++)\n"
                               f"            if (v{i}[j] != (int32_t)v{i}[j])\n"
                               f"                return fail(a, ABI_ERR_VALUE_TOO_LARGE, "
                               f"errslot, FN);\n")
            cb.post.append(f"        for (int64_t j = 0; j < n{i}; j++)\n"
                           f"            store_i32(a[{i}].i32 + 4 * (uint32_t)j, "
                           f"{conv.format(f'v{i}[j]')});\n")
    else:
        raise cb.fail(f"{p.name}: array of {k}, direction {d}")


def _buffer(cb: _Callback, i: int, p: abi.Param) -> None:
    b = p.buffer
    assert b is not None
    if b.datatype == "bytes":
        slot = "NULL"
    else:
        j = cb.index(b.datatype)
        if cb.f.params[j].kind != "Datatype" or cb.f.params[j].array:
            raise cb.fail(f"{p.name}: {b.datatype!r} is not a datatype argument")
        slot = f"sl{j}"
    place = "1" if "in_place" in b.flags else "0"
    if b.vector:
        counts, displs = cb.index(b.count), cb.index(b.displs)
        for q in (counts, displs):
            if not cb.f.params[q].array:
                raise cb.fail(f"{p.name}: {cb.f.params[q].name} is not an array")
        if "root" in b.flags and "@root" not in cb.f.params[counts].length:
            raise cb.fail(f"{p.name}: a root-only vector buffer needs [..@root] arrays")
        cb.pre.append(f"    VBUF(v{i}, {i}, (const int *)GPTR(a[{counts}].i32), "
                      f"(const int *)GPTR(a[{displs}].i32), n{counts}, {slot}, {place});\n")
    else:
        if b.count == "*" or b.datatype == "*":
            raise cb.fail(f"{p.name}: a buffer of unknown size")
        name, _, scale = b.count.partition("*")
        count = f"(int64_t){cb.value(name)}"
        if scale:
            if scale not in COMM_SIZES:
                raise cb.fail(f"{p.name}: count scale {scale!r}")
            count += " * " + COMM_SIZES[scale].format(c=cb.cslot())
        if "root" in b.flags:
            count = f"({cb.root_cond()} ? {count} : 0)"
        if "sender" in b.flags:  # the root's whole group passes MPI_ROOT or MPI_PROC_NULL
            roots = [j for j, q in enumerate(cb.f.params) if q.kind == "root"]
            if not roots:
                raise cb.fail(f"{p.name}: a sender buffer, but no root parameter")
            count = f"({cb.cslot()}->rsize && v{roots[0]} < 0 ? 0 : {count})"
        cb.pre.append(f"    BUF(v{i}, {i}, {count}, {slot}, {place});\n")
    cb.args[i] = f"v{i}"


def _error_callback(f: abi.Function) -> list[str]:
    return [f"CALLBACK({f.name})\n{{\n#define FN \"{f.name}\"\n    ERRSLOT;\n"
            f"    return fail(a, {_abi_int(f.error)}, errslot, FN);\n#undef FN\n}}\n\n"]


# ---- abi.h ---------------------------------------------------------------------------------


def guest_pointer_constants() -> dict[str, int]:
    """The guest mpi.h's pointer constants ``((T *)N)``, by name without MPI_."""
    pat = r"#define MPI_(\w+)\s+\(\(\w+ \*\)(-?\d+)\)"
    return {m.group(1): int(m.group(2)) for m in re.finditer(pat, GUEST_POINTER_CONSTANTS)}


def guest_offset_constants() -> dict[str, int]:
    """The guest mpi.h's MPI_Offset constants ``((MPI_Offset)N)`` (MPI_DISPLACEMENT_CURRENT)."""
    pat = r"#define MPI_(\w+)\s+\(\(MPI_Offset\)(-?\d+)\)"
    return {m.group(1): int(m.group(2)) for m in re.finditer(pat, GUEST_POINTER_CONSTANTS)}


def abi_header() -> str:
    out = [BANNER.format(src="the ABI table (table/)"),
           "/* The guest ABI's values (MPI 5.0 standard ABI at wasm32 sizes), ABI_-prefixed so\n"
           " * that they never clash with the host <mpi.h>, and the bridge's handle kinds. */\n"
           "#ifndef WASMPI_GEN_ABI_H\n#define WASMPI_GEN_ABI_H\n\n"]
    for c in abi.constants():
        if c.kind == "int":
            out.append(f"#define ABI_{c.name:<30} ({c.value})\n")
        elif c.kind == "handle":
            out.append(f"#define ABI_{c.name:<30} {c.value}\n")
    out.append("\n/* guest pointer values with a meaning (MPI_IN_PLACE, MPI_UNWEIGHTED, ...) */\n")
    for name, value in guest_pointer_constants().items():
        out.append(f"#define ABI_{name:<30} ((uint32_t){value})\n")
    for name, value in guest_offset_constants().items():
        out.append(f"#define ABI_{name:<30} ((int64_t){value})\n")
    out.append("\nenum {\n    K_NONE,\n")
    out.extend(f"    K_{k.upper()},\n" for k in abi.HANDLES)
    out.append("    K_LAST\n};\n\ntypedef union {\n")
    out.extend(f"    MPI_{k} {k.lower()};\n" for k in abi.HANDLES)
    out.append("} host_h;\n\n")
    out.append("static inline int same_handle(int kind, host_h x, host_h y)\n{\n"
               "    switch (kind) {\n")
    out.extend(f"    case K_{k.upper()}: return x.{k.lower()} == y.{k.lower()};\n"
               for k in abi.HANDLES)
    out.append("    }\n    return 0;\n}\n\n")
    out.append("/* ABI error class of a bad handle, by kind */\n"
               "extern const int kind_error[K_LAST];\n"
               "/* host call that frees a handle of a kind (*h is set to the null handle) */\n"
               "\n#endif\n")
    return "".join(out)


# ---- callbacks.c ---------------------------------------------------------------------------


def _predefined_init() -> list[str]:
    out = ["void init_predefined(void)\n{\n"]
    # guest_of() answers with the first slot of a host handle, so a guest type that is its host
    # type (MPI_2INT) is predefined before the one remapped onto that host type (MPI_LONG_INT)
    consts = sorted((c for c in abi.constants() if c.kind == "handle"),
                    key=lambda c: c.handle_kind == "Datatype" and c.name in HOST_DATATYPE)
    for c in consts:
        if c.name in NOT_MPI31:
            continue
        host = f"MPI_{c.name}"
        if c.handle_kind == "Datatype" and c.name in HOST_DATATYPE:
            host = HOST_DATATYPE[c.name]
        field_ = c.handle_kind.lower()
        if c.handle_kind == "Datatype" and c.name in BYTES_DATATYPE:
            size, extent = BYTES_DATATYPE[c.name]
            out.append(f'    predefine_bytes({c.value}, "MPI_{c.name}", {size}, {extent});\n')
            continue
        out.append(
            f"#ifdef {host}\n    predefine(K_{c.handle_kind.upper()}, {c.value}, "
            f'"MPI_{c.name}", (host_h){{.{field_} = {host}}});\n#endif\n'
        )
    out.append("}\n\n")
    return out


def _kind_code() -> list[str]:
    out = ["const int kind_error[K_LAST] = {\n"]
    out.extend(f"    [K_{k.upper()}] = ABI_{h.error},\n" for k, h in abi.HANDLES.items())
    out.append("};\n\n")
    return out


def _error_maps() -> list[str]:
    errs = [c for c in abi.constants() if c.kind == "int" and c.name.startswith("ERR_")]
    errs = [c for c in errs if c.name != "ERR_LASTCODE"]
    out = ["/* Host error class -> standard ABI error class. */\n"]
    out.append("int class_to_abi(int c)\n{\n    if (c == MPI_SUCCESS) return 0;\n")
    for c in errs:
        out.append(f"#ifdef MPI_{c.name}\n    if (c == MPI_{c.name}) return ABI_{c.name};\n"
                   "#endif\n")
    out.append("    return ABI_ERR_OTHER;\n}\n\n")
    out.append("/* Standard ABI error class -> host error class (-1: none). */\n")
    out.append("int abi_to_class(int c)\n{\n    switch (c) {\n    case 0: return MPI_SUCCESS;\n")
    for c in errs:
        out.append(f"#ifdef MPI_{c.name}\n    case ABI_{c.name}: return MPI_{c.name};\n#endif\n")
    out.append("    default: return -1;\n    }\n}\n\n")
    return out


def callbacks() -> str:
    out = [BANNER.format(src="the ABI table (table/)"), '#include "bridge.h"\n\n']
    out += _predefined_init()
    out += _kind_code()
    out += _error_maps()
    funcs = [f for f in abi.functions() if f.implemented and not f.variadic]
    out.extend(f"wasm_trap_t *cb_{f.name}(void *, wasmtime_caller_t *, wasmtime_val_raw_t *, "
               "size_t);\n" for f in funcs)
    out.append("\n")
    for f in funcs:
        if f.impl == "gen":
            out += _gen_callback(f)
        elif f.impl == "error":
            out += _error_callback(f)
    out.append("const bridge_entry ENTRIES[] = {\n")
    for f in funcs:
        out.append(f'    {{"{f.name}", "{f.wasm_params}", "{f.wasm_results}", '
                   f"(callback_fn)cb_{f.name}}},\n")
    out.append("};\nconst int N_ENTRIES = (int)(sizeof ENTRIES / sizeof ENTRIES[0]);\n")
    return "".join(out)
