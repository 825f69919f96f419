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
    "pvar_class": ("int", "in_pvar_class({})"),
    "whence": ("int", "in_whence({})"),
    "Aint": ("MPI_Aint", "(MPI_Aint){}"), "Count": ("MPI_Count", "(MPI_Count){}"),
    "Offset": ("MPI_Offset", "(MPI_Offset){}"),
    "assert": ("int", "in_assert({})"), "lock_type": ("int", "in_lock_type({})"),
}
# Scalar inputs whose translation yields -1 for a value the ABI does not define: error class.
SCALAR_INVALID = {"assert": "ERR_ASSERT", "lock_type": "ERR_LOCKTYPE"}
#: Calls whose datatype must be committed though they take no buffer (BUF refuses an
#: uncommitted type in the others): Open MPI 5.0 loops forever or segfaults in its convertor on
#: an uncommitted one (found by the fuzzer); MPICH returns MPI_ERR_TYPE for Pack_size already
NEEDS_COMMITTED = {f"MPI_{n}{c}" for n in ("Pack_size", "Pack_external_size") for c in ("", "_c")}
# Scalar kinds written back through a guest pointer: host type, guest size, and the
# translation of the host value `{}` into what the guest stores.
SCALAR_OUT = {
    "int": ("int", 4, "{}"), "count": ("int", 4, "out_undef({})"), "bool": ("int", 4, "{}"),
    "rank": ("int", 4, "out_rank({})"), "cmp": ("int", 4, "out_cmp({})"),
    "topo": ("int", 4, "out_topo({})"), "combiner": ("int", 4, "out_combiner({})"),
    "strlen": ("int", 4, "{}"),
    "thread_level": ("int", 4, "out_thread_level({})"),
    "verbosity": ("int", 4, "out_verbosity({})"), "bind": ("int", 4, "out_bind({})"),
    "scope": ("int", 4, "out_scope({})"), "pvar_class": ("int", 4, "out_pvar_class({})"),
    "Aint": ("MPI_Aint", 4, "(int32_t){}"), "Count": ("MPI_Count", 8, "{}"),
    "Offset": ("MPI_Offset", 8, "{}"),
}
# Array element kinds: host element type, guest element size, translation of one guest
# element `{}` (None: the guest array is passed as it is, zero-copy).
ELEMENT_IN = {
    "int": ("int", 4, None), "count": ("int", 4, None), "bool": ("int", 4, None),
    "rank": ("int", 4, "in_rank({})"), "distrib": ("int", 4, "in_distrib({})"),
    "darg": ("int", 4, "in_darg({})"), "Aint": ("MPI_Aint", 4, "(MPI_Aint){}"),
    "Count": ("MPI_Count", 8, None),
}
ELEMENT_OUT = {
    "int": ("int", 4, None), "count": ("int", 4, None), "bool": ("int", 4, None),
    "rank": ("int", 4, "out_rank({})"), "Aint": ("MPI_Aint", 4, "(int32_t){}"),
}
# Integer kinds whose host values differ from the standard ABI's, translated both ways by
# generated functions in_KIND() / out_KIND() over the constants of that prefix (every MPI-3.1
# host defines them all, as enumerators or macros, so no #ifdef).
ENUM_KINDS = {
    "thread_level": "THREAD_", "verbosity": "T_VERBOSITY_", "bind": "T_BIND_",
    "scope": "T_SCOPE_", "pvar_class": "T_PVAR_CLASS_",
}
# MPI_T indices, checked by the bridge before the host sees them (MPICH's MPI_T crashes on an
# index out of range, Open MPI says MPI_T_ERR_INVALID): the C check of value {v}, 0 or an ABI
# MPI_T error code (mpi/tool.c); enum_index is an item of the call's T_enum {e}.
TOOL_INDEX = {
    "cvar_index": "cvar_index_check({v})", "pvar_index": "pvar_index_check({v})",
    "cat_index": "cat_index_check({v})", "enum_index": "enum_index_check({e}, {v})",
}
# Predefined handles that some host defines as a variable, not a macro (MPICH's
# MPI_T_PVAR_ALL_HANDLES), so `#ifdef` cannot test them; the standard requires them all.
HOST_NOT_MACRO = {"T_PVAR_ALL_HANDLES"}

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


# Handle kinds with their own error handler: a call about such an object (its first input of
# that kind, when the call has no communicator) reports errors to that object's handler, and
# a null or bad handle to MPI_FILE_NULL's handler (files) or MPI_COMM_WORLD's (windows).
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
    keep: bool = False  # host arrays that must live as long as the request (KEEP_FRAME)
    request: int | None = None  # index of the request output
    late: list[str] = field(default_factory=list)  # after the outputs (MPI_T strings)

    @property
    def tool(self) -> bool:
        """An MPI_T function: returns its error code and never calls an error handler
        (MPI-3.1 14.3.1), so errors go to ERRSLOT_RETURN."""
        return self.f.name.startswith("MPI_T_")

    @property
    def optional_outs(self) -> bool:
        """MPI_T get_info routines ignore an output whose pointer is NULL (MPI-3.1 14.3)."""
        return self.tool and self.f.name.endswith("_get_info")

    @property
    def has_request(self) -> bool:
        return any(p.kind == "Request" and p.direction == "out" and not p.array
                   for p in self.f.params)

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
        if p.array or p.direction != "in" or p.kind not in ("int", "count", "Aint", "Count"):
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
    if cb.comm is None:
        for i, p in enumerate(params):
            if p.kind in ERRHANDLER_OBJECTS and p.direction == "in" and not p.array:
                cb.obj = i
                break
    # inputs first: scalars and handles, then arrays, then buffers (which use both)
    for i, p in enumerate(params):
        if not p.array and p.kind not in ("buf", "disp"):
            _scalar_or_handle(cb, i, p)
    for i, p in enumerate(params):
        if p.array:
            _array(cb, i, p)
    for i, p in enumerate(params):
        if p.kind == "disp":
            _disp(cb, i, p)
    for i, p in enumerate(params):
        if p.kind == "buf":
            _buffer(cb, i, p)
    call = ", ".join(cb.args[i] for i in range(len(params)))
    # before the head: a fallback may need a scratch or keep frame
    invoke = _host4_call(cb, call) if f.mpi4 else [f"    int rc = {f.name}({call});\n"]
    if cb.request is not None:
        r = cb.request
        new = f"new_request(v{r}, errslot)"
        if f.chapter in ("coll", "topo") or f.name.startswith("MPI_Comm_idup"):
            # MPI_Cancel refuses it, MPI_Request_free too unless it is an inactive persistent one
            persistent = int(re.search(r"_init(_c)?$", f.name) is not None)
            new = f"collective_request({new}, {persistent})"
        if cb.keep:  # the request owns the host arrays from now on
            cb.post.append(f"        int32_t r{r} = {new};\n"
                           f"        keep_attach(&keep_, r{r});\n        store_i32(p{r}, r{r});\n")
        else:
            cb.post.append(f"        store_i32(p{r}, {new});\n")
    head = [f"CALLBACK({f.name})\n{{\n#define FN \"{f.name}\"\n"]
    if cb.comm is not None:
        if cb.tool:
            raise cb.fail("an MPI_T function with a communicator")
        head.append(f"    COMM_ARG(v{cb.comm}, {cb.comm});\n")
    elif cb.tool:
        head.append("    TOOL_ERRSLOT;\n")
    elif cb.obj is not None:
        k = params[cb.obj].kind
        head.append(f"    OBJ_ARG(K_{k.upper()}, {k.lower()}, v{cb.obj}, sl{cb.obj}, {cb.obj});\n")
    else:
        head.append("    ERRSLOT;\n")
    if cb.scratch:
        head.append("    SCRATCH_FRAME;\n")
    if cb.keep:
        head.append("    KEEP_FRAME;\n")
    if cb.at_root:
        root = next(i for i, p in enumerate(params) if p.kind == "root")
        head.append(f"    int at_root = is_root({cb.cslot()}, in_rank(a[{root}].i32));\n")
    body = head + cb.pre + cb.outs + cb.late
    if sum(ln.count("KEEP(") for ln in body + invoke) > 6:  # KEEP_MAX in bridge.h
        raise cb.fail("more kept arrays than KEEP_MAX")
    if f.ret == "Aint":
        if f.mpi4:
            raise cb.fail("an MPI-4 function returning Aint")
        if cb.post or any(p.direction != "in" for p in params):
            raise cb.fail("an Aint-returning function with output arguments")
        body.append(f"    a[0].i32 = (int32_t){f.name}({call});\n    return NULL;\n")
    elif f.ret != "int":
        raise cb.fail(f"return type {f.ret}")
    else:
        body += invoke
        if cb.post:
            body.append("    if (rc == MPI_SUCCESS) {\n")
            body += cb.post
            body.append("    }\n")
        body.append("    return done(a, rc, errslot, FN);\n")
    body.append("#undef FN\n}\n\n")
    return body


def _host4_call(cb: _Callback, call: str) -> list[str]:
    """The call of an MPI-4 function through the host pointer resolved at start-up; a host
    without it reports MPI_ERR_UNSUPPORTED_OPERATION. A large-count ``X_c`` whose ``X`` is in
    the table falls back to ``X`` when every count fits that function's types."""
    f = cb.f
    name = f.name
    base = abi.by_name().get(name[:-2]) if name.endswith("_c") else None
    if base is None or not base.implemented:
        return [f"    NEED_HOST4({name});\n    int rc = HOST4({name})({call});\n"]
    pre, post, args = _fallback_args(cb, base)
    missing = f"return host4_missing(a, H4_{name}, errslot, FN)"
    out = [f"    int rc;\n    if (host4_fn[H4_{name}]) {{\n"
           f"        rc = HOST4({name})({call});\n    }} else {{\n"]
    if base.mpi4:
        out.append(f"        if (!host4_fn[H4_{base.name}])\n            {missing};\n")
    out += [ln.replace("MISSING", missing) for ln in pre]
    target = f"HOST4({base.name})" if base.mpi4 else base.name
    out.append(f"        rc = {target}({', '.join(args)});\n")
    out += post
    out.append("    }\n")
    return out


def _fallback_args(cb: _Callback, base: abi.Function) -> tuple[list[str], list[str], list[str]]:
    """Arguments of the int-count function ``base`` from those of the large-count one: counts
    narrowed (MISSING when one does not fit), count outputs widened after the call."""
    f = cb.f
    if [p.name for p in f.params] != [p.name for p in base.params]:
        raise cb.fail(f"the parameters differ from {base.name}'s")
    pre: list[str] = []
    post: list[str] = []
    args: list[str] = []
    for i, (p, q) in enumerate(zip(f.params, base.params, strict=True)):
        same = (p.kind, p.direction, p.array, p.length) == (q.kind, q.direction, q.array,
                                                             q.length)
        if same and p.buffer == q.buffer:
            args.append(cb.args[i])
        elif p.kind == "Count" and not p.array and q.kind in SCALAR_IN and p.direction == "in":
            ctype = SCALAR_IN[q.kind][0]
            pre.append(f"        if (v{i} != ({ctype})v{i})\n            MISSING;\n")
            args.append(f"({ctype})v{i}")
        elif (p.kind == "Count" and not p.array and q.kind in SCALAR_OUT
              and p.direction == q.direction and p.direction in ("out", "inout")):
            ctype = SCALAR_OUT[q.kind][0]
            if p.direction == "inout":
                pre.append(f"        if (v{i} != ({ctype})v{i})\n            MISSING;\n")
            pre.append(f"        {ctype} w{i} = ({ctype})v{i};\n")
            post.append(f"        v{i} = w{i};\n")
            args.append(f"&w{i}")
        elif (p.array and p.direction == q.direction == "in" and p.length == q.length
              and p.kind == "Count" and q.kind == "count"):
            pre.append(f"        {_host_array(cb)}(w{i}, int, n{i});\n"
                       f"        for (int64_t j = 0; j < n{i}; j++) {{\n"
                       f"            int64_t c_ = load_i64(a[{i}].i32 + 8 * (uint32_t)j);\n"
                       f"            if (c_ != (int)c_)\n                MISSING;\n"
                       f"            w{i}[j] = (int)c_;\n        }}\n")
            args.append(f"w{i}")
        elif (p.array and p.direction == q.direction == "in" and p.length == q.length
              and p.kind == "Aint" and q.kind == "int"):
            args.append(f"(const int *)GPTR(a[{i}].i32)")  # guest MPI_Aint is 32-bit
        else:
            raise cb.fail(f"{p.name}: no int-count fallback from {p.kind} to {q.kind}")
    return pre, post, args


def _scalar_or_handle(cb: _Callback, i: int, p: abi.Param) -> None:
    k, d = p.kind, p.direction
    if k in abi.HANDLES:
        _handle(cb, i, p)
    elif k in COMM_SORT_CHECK:
        if i != cb.comm or d != "in":
            raise cb.fail(f"{p.name}: {k} that is not the call's communicator")
        cb.pre.append(COMM_SORT_CHECK[k].format(c=cb.cslot()))
        cb.args[i] = f"v{i}"
    elif k == "rma_op" and d == "in":  # accumulate ops: predefined (MPI_REPLACE, MPI_NO_OP too)
        cb.pre.append(f"    HANDLE_ARG(K_OP, op, v{i}, sl{i}, {i});\n"
                      f"    if (!sl{i}->predefined || sl{i}->guest == ABI_OP_NULL)\n"
                      f"        return fail(a, ABI_ERR_OP, errslot, FN);\n")
        cb.args[i] = f"v{i}"
    elif k == "keyval" and d == "in":
        cb.pre.append(f"    int v{i};\n    if (!get_keyval(a[{i}].i32, &v{i}))\n"
                      f"        return fail(a, ABI_ERR_KEYVAL, errslot, FN);\n")
        cb.args[i] = f"v{i}"
    elif d == "in" and k in TOOL_INDEX:
        enums = [j for j, q in enumerate(cb.f.params[:i]) if q.kind == "T_enum"]
        if k == "enum_index" and not enums:
            raise cb.fail(f"{p.name}: an enum_index without an MPI_T_enum before it")
        check = TOOL_INDEX[k].format(v=f"v{i}", e=f"v{enums[0]}" if enums else "")
        cb.pre.append(f"    int v{i} = a[{i}].i32, e{i} = {check};\n    if (e{i})\n"
                      f"        return fail(a, e{i}, errslot, FN);\n")
        cb.args[i] = f"v{i}"
    elif d == "in" and k in SCALAR_IN:
        ctype, conv = SCALAR_IN[k]
        raw = f"a[{i}].i64" if p.wasm == "I" else f"a[{i}].i32"
        cb.pre.append(f"    {ctype} v{i} = {conv.format(raw)};\n")
        if k == "rank" and _on_window(cb):
            # Open MPI 5.0 segfaults in Win_flush(_local) on a rank outside the window, and on
            # MPI_PROC_NULL: no target, nothing to lock or flush (MPICH returns at once too)
            cb.pre.append(f"    if (v{i} != MPI_PROC_NULL && !win_member(sl{cb.obj}, v{i}))\n"
                          f"        return fail(a, ABI_ERR_RANK, errslot, FN);\n")
            cb.late.append(f"    if (v{i} == MPI_PROC_NULL)\n        return ok(a);\n")
        if k in SCALAR_INVALID:
            cb.pre.append(f"    if (v{i} < 0)\n"
                          f"        return fail(a, {_abi_int(SCALAR_INVALID[k])}, errslot, FN);\n")
        cb.args[i] = f"v{i}"
    elif d in ("out", "inout") and k in SCALAR_OUT:
        ctype, size, conv = SCALAR_OUT[k]
        if d == "inout" and k not in ("int", "Aint", "Count", "Offset"):
            raise cb.fail(f"{p.name}: in/out {k}")
        load = "load_i64" if size == 8 else "load_i32"
        store = "store_i64" if size == 8 else "store_i32"
        init = f"({ctype}){load}(p{i})" if d == "inout" else "0"
        # the host always gets a pointer to a local, so a NULL the guest may pass never
        # reaches it (MPI_T strings' lengths: NULL means "return nothing")
        opt = cb.optional_outs or (cb.tool and d == "inout")
        check = f"    if (p{i})\n    " if opt else ""
        if opt and d == "inout":
            init = f"p{i} ? {init} : 0"
        cb.outs.append(f"    uint32_t p{i} = (uint32_t)a[{i}].i32;\n"
                       f"{check}    CHECK_OUT(p{i}, {size});\n    {ctype} v{i} = {init};\n")
        cb.args[i] = f"&v{i}"
        if d == "inout" and p.name == "position":
            # MPI_Pack/Unpack access the bytes buffer at `position`, which no bounds check of
            # the buffer covers (MPICH reads past an unpack buffer's end): hold it to the size
            sizes = [q.buffer.count for q in cb.f.params
                     if q.buffer and q.buffer.datatype == "bytes"]
            if len(sizes) != 1:
                raise cb.fail(f"{p.name}: a position needs exactly one bytes buffer")
            j = [q.name for q in cb.f.params].index(sizes[0])
            cb.outs.append(f"    if (v{i} < 0 || (int64_t)v{i} > (int64_t)v{j})\n"
                           f"        return fail(a, ABI_ERR_ARG, errslot, FN);\n")
        if k == "Aint":
            cb.post.append(f"        if (v{i} != (int32_t)v{i})\n"
                           f"            return fail(a, ABI_ERR_VALUE_TOO_LARGE, errslot, FN);\n")
        if k != "strlen":  # a string's length is stored with the string
            cond = f"if (p{i})\n            " if opt else ""
            cb.post.append(f"        {cond}{store}(p{i}, {conv.format(f'v{i}')});\n")
    elif k == "str" and d == "in":
        cb.pre.append(f"    const char *v{i};\n    CHECK_STR(v{i}, a[{i}].i32);\n")
        cb.args[i] = f"v{i}"
    elif k == "str" and d == "out":
        _string_out(cb, i, p)
    elif k == "Status":
        _status(cb, i, p)
    else:
        raise cb.fail(f"{p.name}: kind {k!r} direction {d!r}")


def _on_window(cb: _Callback) -> bool:
    """A call on a window whose target rank has no displacement (Win_lock, Win_flush, ...):
    the rank must be a member of the window (rma_target checks the others)."""
    return (cb.comm is None and cb.obj is not None and cb.f.params[cb.obj].kind == "Win"
            and not any(q.kind == "disp" for q in cb.f.params))


def _handle(cb: _Callback, i: int, p: abi.Param) -> None:
    k, d = p.kind, p.direction
    K = f"K_{k.upper()}"
    low = k.lower()
    if d == "in":
        if i in (cb.comm, cb.obj):
            cb.args[i] = f"v{i}"
            return
        cb.pre.append(f"    HANDLE_ARG({K}, {low}, v{i}, sl{i}, {i});\n")
        if k == "Datatype" and cb.f.name in NEEDS_COMMITTED:
            cb.pre.append(f"    if (sl{i}->uncommitted)\n"
                          f"        return fail(a, ABI_ERR_TYPE, errslot, FN);\n")
        if k == "T_pvar_handle":
            _pvar_in_session(cb, i, cb.pre)
        if k == "Op":  # predefined ops on long double types are the bridge's own
            types = [j for j, q in enumerate(cb.f.params) if q.kind == "Datatype"
                     and q.direction == "in" and not q.array]
            if types:
                if types[0] > i:
                    raise cb.fail("the op comes before the datatype")
                cb.pre.append(f"    v{i} = reduce_op(sl{i}, sl{types[0]});\n")
        cb.args[i] = f"v{i}"
    elif d == "out":
        opt = cb.optional_outs
        check = f"    if (p{i})\n    " if opt else ""
        cb.outs.append(f"    uint32_t p{i} = (uint32_t)a[{i}].i32;\n"
                       f"{check}    CHECK_OUT(p{i}, 4);\n    MPI_{k} v{i};\n")
        cb.args[i] = f"&v{i}"
        if cb.tool and k == "Datatype":  # a predefined type: the guest's of the same size
            new = f"tool_datatype(v{i})"
        elif abi.HANDLES[k].interned:
            h = f"(host_h){{.{low} = v{i}}}"
            cb.outs.append(f"    int32_t g{i};\n")
            new = f"(g{i} = guest_of({K}, {h})) != guest_null[{K}] ? g{i} : new_handle({K}, {h})"
        elif k == "Comm":
            parent = "errslot" if cb.comm is not None else "-1"
            new = f"new_comm(v{i}, {parent})"
        elif k == "Request":  # stored last: it may take over the call's kept arrays
            cb.request = i
            return
        elif k == "Request":
            new = f"new_request(v{i}, errslot)"
        elif k in ("Op", "Errhandler"):
            raise cb.fail(f"{p.name}: new {k} handles carry guest functions")
        elif k == "Datatype" and cb.f.name.startswith("MPI_Type_"):
            # a constructor's type needs MPI_Type_commit before it carries data; a duplicate
            # is committed when its original is
            src = [j for j, q in enumerate(cb.f.params) if q.kind == "Datatype"
                   and q.direction == "in" and not q.array]
            new = (f"new_type(v{i}, sl{src[0]}->uncommitted)" if cb.f.name == "MPI_Type_dup"
                   else f"new_type(v{i}, 1)")
        else:
            new = f"new_handle({K}, (host_h){{.{low} = v{i}}})"
        cond = f"if (p{i})\n            " if opt else ""
        cb.post.append(f"        {cond}store_i32(p{i}, {new});\n")
    elif d in ("inout", "free"):
        cb.outs.append(
            f"    uint32_t p{i} = (uint32_t)a[{i}].i32;\n    CHECK_OUT(p{i}, 4);\n"
            f"    int32_t g{i} = load_i32(p{i});\n    slot_t *sl{i} = lookup({K}, g{i});\n"
            f"    if (!sl{i}{' || sl' + str(i) + '->predefined' if d == 'free' else ''})\n"
            f"        return fail(a, kind_error[{K}], errslot, FN);\n"
            f"    MPI_{k} v{i} = sl{i}->h.{low};\n")
        if k == "T_pvar_handle":
            _pvar_in_session(cb, i, cb.outs)
        if k == "Message" and d == "inout":
            _no_proc_receive(cb, i)
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
            if k == "Datatype" and cb.f.name == "MPI_Type_commit":
                post += f"            sl{i}->uncommitted = 0;\n"
            post += "        }\n"
        cb.post.append(post)
    else:
        raise cb.fail(f"{p.name}: handle direction {d}")


def _pvar_in_session(cb: _Callback, i: int, code: list[str]) -> None:
    """A pvar handle belongs to the session it was allocated in (its slot's cslot): with
    another session, MPICH follows freed memory, so the bridge answers."""
    sessions = [j for j, q in enumerate(cb.f.params) if q.kind == "T_pvar_session"]
    if not sessions or sessions[0] > i:
        raise cb.fail("a pvar handle without its session before it")
    code.append(f"    if (!sl{i}->predefined && sl{i}->cslot != "
                  f"slot_index(K_T_PVAR_SESSION, sl{sessions[0]}))\n"
                  f"        return fail(a, ABI_T_ERR_INVALID_HANDLE, errslot, FN);\n")


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
    elif cb.tool:
        _tool_string_out(cb, i, p)
        return
    else:  # capacity given by a parameter: MPI writes at most that many chars and a NUL
        if lens:
            raise cb.fail(f"{p.name}: a string of parameter capacity with a length out")
        n = cb.value(cap)
        cb.outs.append(f"    if ({n} < 0)\n        return fail(a, ABI_ERR_ARG, errslot, FN);\n"
                       f"    CHECK_OUT(a[{i}].i32, (int64_t){n} + 1);\n"
                       f"    char *v{i} = (char *)GPTR(a[{i}].i32);\n")
    cb.args[i] = f"v{i}"


def _tool_string_out(cb: _Callback, i: int, p: abi.Param) -> None:
    """An MPI_T string (MPI-3.1 14.3.3): its length argument is in/out, the buffer's size on
    input and the characters written plus the NUL on output; with a NULL buffer or a zero
    length only the length is returned, with a NULL length nothing. Both host MPIs follow
    this when given a NULL buffer, so the guest's buffer goes to the host as it is."""
    j = cb.index(p.cap)
    q = cb.f.params[j]
    if q.kind != "int" or q.direction != "inout" or q.array:
        raise cb.fail(f"{p.name}: the MPI_T string length {q.name!r} is not an int in/out")
    cb.late.append(f"    if (p{j} && v{j} < 0)\n"
                   f"        return fail(a, ABI_T_ERR_INVALID, errslot, FN);\n"
                   f"    char *v{i} = NULL;\n"
                   f"    if (a[{i}].i32 && v{j} > 0) {{\n"
                   f"        CHECK_OUT(a[{i}].i32, v{j});\n"
                   f"        v{i} = (char *)GPTR(a[{i}].i32);\n    }}\n")
    cb.args[i] = f"v{i}"
    # Open MPI counts no NUL for an empty string (the length must be at least 1)
    cb.post.append(f"        if (v{j} < 1) {{\n            v{j} = 1;\n"
                   f"            if (v{i})\n                v{i}[0] = 0;\n        }}\n")


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
    base = p.length.partition("@")[0]
    if n.startswith("ints_"):
        cb.pre.append(f"    if (n{i} < 0)\n        return fail(a, ABI_ERR_ARG, errslot, FN);\n")
    elif any(q.name == base for q in cb.f.params):
        # a negative length from the guest is an MPI error, not a range trap (nor a negative
        # size for a host copy)
        cls = "ABI_ERR_COUNT" if cb.f.params[cb.index(base)].kind in ("count", "Count") \
            else "ABI_ERR_ARG"
        cb.pre.append(f"    if (n{i} < 0)\n        return fail(a, {cls}, errslot, FN);\n")
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
        cb.pre.append(
            f"    CHECK_ARRAY(a[{i}].i32, n{i}, 4, {what});\n"
            f"    {_host_array(cb)}(v{i}, MPI_{k}, n{i});\n"
            f"    for (int64_t j = 0; j < n{i}; j++) {{\n"
            f"        slot_t *s_ = lookup({K}, load_i32(a[{i}].i32 + 4 * (uint32_t)j));\n"
            f"        if (!s_)\n            return fail(a, kind_error[{K}], errslot, FN);\n"
            f"        v{i}[j] = s_->h.{low};\n    }}\n")
        cb.args[i] = f"v{i}"
    elif k == "member" and d == "in":
        # MPICH asserts (dist_graph_create.c) on a neighbour outside the communicator
        cb.pre.append(
            f"    CHECK_ARRAY(a[{i}].i32, n{i}, 4, {what});\n"
            f"    for (int64_t j = 0; j < n{i}; j++) {{\n"
            f"        int32_t r_ = load_i32(a[{i}].i32 + 4 * (uint32_t)j);\n"
            f"        if (r_ < 0 || r_ >= {cb.cslot()}->size)\n"
            f"            return fail(a, ABI_ERR_RANK, errslot, FN);\n    }}\n")
        cb.args[i] = f"(const int *)GPTR(a[{i}].i32)"
    elif d == "in" and k in ELEMENT_IN:
        ctype, size, conv = ELEMENT_IN[k]
        cb.pre.append(f"    CHECK_ARRAY(a[{i}].i32, n{i}, {size}, {what});\n")
        if conv is None:
            cb.args[i] = f"(const {ctype} *)GPTR(a[{i}].i32)"
        else:
            elem = f"a[{i}].i32 + 4 * (uint32_t)j"
            cb.pre.append(f"    {_host_array(cb)}(v{i}, {ctype}, n{i});\n"
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


def _host_array(cb: _Callback) -> str:
    """The macro that allocates a host copy of a guest input array: in the callback's scratch
    frame, or kept for the request of a nonblocking or persistent call (the host MPI may read
    it until the request completes or is freed)."""
    if cb.has_request:
        cb.keep = True
        return "KEEP"
    cb.scratch = True
    return "SCRATCH"


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
        ck, dk = cb.f.params[counts].kind, cb.f.params[displs].kind
        if ck not in ("count", "Count") or dk not in ("int", "Aint"):
            raise cb.fail(f"{p.name}: counts of {ck}, displacements of {dk}")
        # guest displacements are 32-bit either way (MPI_Aint is 32-bit in wasm32)
        macro, ctype = ("VBUF_C", "int64_t") if ck == "Count" else ("VBUF", "int")
        cb.pre.append(f"    {macro}(v{i}, {i}, (const {ctype} *)GPTR(a[{counts}].i32), "
                      f"(const int *)GPTR(a[{displs}].i32), n{counts}, {slot}, {place});\n")
    else:
        if b.count == "*" or b.datatype == "*":
            raise cb.fail(f"{p.name}: a buffer of unknown size")
        m = re.fullmatch(r"size\((\w+)\)", b.count)
        if m:  # the bytes of the variable an MPI_T handle is bound to
            j = cb.index(m.group(1))
            hk = cb.f.params[j].kind
            if hk not in ("T_cvar_handle", "T_pvar_handle") or b.datatype != "bytes":
                raise cb.fail(f"{p.name}: size() of {hk}, or a datatype with it")
            # MPI_T_PVAR_ALL_HANDLES is no variable: it only starts, stops and resets
            cb.pre.append(f"    if (sl{j}->predefined)\n"
                          f"        return fail(a, kind_error[K_{hk.upper()}], errslot, FN);\n"
                          f"    BUF(v{i}, {i}, sl{j}->extent, NULL, 0);\n")
            cb.args[i] = f"v{i}"
            return
        name, _, scale = b.count.partition("*")
        count = f"(int64_t){name if name.isdigit() else cb.value(name)}"
        if scale:
            if scale not in COMM_SIZES:
                raise cb.fail(f"{p.name}: count scale {scale!r}")
            n = COMM_SIZES[scale].format(c=cb.cslot())
            if cb.f.param(name).kind == "Count":  # 64-bit counts: saturate, never overflow
                count = f"count_mul({count}, {n})"
            else:
                count += f" * {n}"
        if "root" in b.flags:
            count = f"({cb.root_cond()} ? {count} : 0)"
        if "sender" in b.flags:  # the root's whole group passes MPI_ROOT or MPI_PROC_NULL
            roots = [j for j, q in enumerate(cb.f.params) if q.kind == "root"]
            if not roots:
                raise cb.fail(f"{p.name}: a sender buffer, but no root parameter")
            count = f"({cb.cslot()}->rsize && v{roots[0]} < 0 ? 0 : {count})"
        cb.pre.append(f"    BUF(v{i}, {i}, {count}, {slot}, {place});\n")
    cb.args[i] = f"v{i}"


def _no_proc_receive(cb: _Callback, i: int) -> None:
    """A matched receive of MPI_MESSAGE_NO_PROC receives nothing: the host gets count 0 of
    MPI_BYTE, so that its datatype check cannot fail (Open MPI 5 then calls the error handler of
    the message's communicator, which MPI_MESSAGE_NO_PROC has none of, and crashes). The buffer
    was checked as the guest gave it."""
    params = cb.f.params
    bufs = [p.buffer for p in params if p.buffer is not None]
    if len(bufs) != 1:
        raise cb.fail(f"{params[i].name}: a matched receive needs exactly one buffer")
    count, datatype = cb.index(bufs[0].count), cb.index(bufs[0].datatype)
    cb.outs.append(f"    if (v{i} == MPI_MESSAGE_NO_PROC) {{\n"
                   f"        v{count} = 0;\n        v{datatype} = MPI_BYTE;\n    }}\n")
    # MPI_MESSAGE_NULL matches nothing: Open MPI 5 raises that error on no communicator, so
    # under its default handler, which aborts the job even when the guest asked for
    # MPI_ERRORS_RETURN (found by the fuzzer)
    cb.outs.append(f"    if (v{i} == MPI_MESSAGE_NULL)\n"
                   f"        return fail(a, kind_error[K_MESSAGE], errslot, FN);\n")


def _disp(cb: _Callback, i: int, p: abi.Param) -> None:
    """A target displacement of a one-sided call: the span that COUNT elements of DATATYPE
    touch there must lie in the target's window (rma_target, c/mpi/rma.c), which also turns
    a dynamic window's guest address into the target's host address."""
    if cb.obj is None or cb.f.params[cb.obj].kind != "Win":
        raise cb.fail(f"{p.name}: a target displacement, but no window")
    rank, count, datatype = p.target
    r, t = cb.index(rank), cb.index(datatype)
    if cb.f.params[r].kind != "rank" or cb.f.params[r].direction != "in":
        raise cb.fail(f"{p.name}: {rank!r} is not a rank input")
    if cb.f.params[t].kind != "Datatype" or cb.f.params[t].array:
        raise cb.fail(f"{p.name}: {datatype!r} is not a datatype argument")
    n = count if count.isdigit() else cb.value(count)
    w = cb.obj
    cb.pre.append(f"    MPI_Aint v{i};\n"
                  f"    int tc{i} = rma_target(sl{w}, v{r}, a[{i}].i32, (int64_t){n}, sl{t}, "
                  f"&v{i});\n"
                  f"    if (tc{i})\n        return fail(a, tc{i}, errslot, FN);\n")
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
    out.append("/* host <-> ABI values of the integer kinds that differ (generated) */\n")
    for kind in ENUM_KINDS:
        for d in ("in", "out"):
            if not (d == "in" and kind == "thread_level"):
                out.append(f"int {d}_{kind}(int x);\n")
    out.append("int t_error_to_abi(int host_code);\n\n")
    out.append("/* ABI error class of a bad handle, by kind */\n"
               "extern const int kind_error[K_LAST];\n"
               "/* host call that frees a handle of a kind (*h is set to the null handle) */\n"
               "\n#endif\n")
    return "".join(out)


# ---- host4.h ---------------------------------------------------------------------------------


def host4_functions() -> list[abi.Function]:
    """The MPI-4 functions the bridge calls in the host MPI, which resolves them at run time."""
    return [f for f in abi.functions() if f.mpi4 and f.impl in ("gen", "manual")]


def host4_header() -> str:
    from .gen_guest import parameters

    out = [BANNER.format(src="the ABI table (table/)"),
           "/* The host MPI's MPI-4 functions: never named (the host <mpi.h> may lack them), but\n"
           " * looked up at start-up (core/host4.c) and called through pointers of these types,\n"
           " * which are the standard's C bindings in the host's own MPI types. */\n"
           "#ifndef WASMPI_GEN_HOST4_H\n#define WASMPI_GEN_HOST4_H\n\nenum {\n"]
    funcs = host4_functions()
    out.extend(f"    H4_{f.name},\n" for f in funcs)
    out.append("    H4_LAST\n};\n\nextern const char *const host4_names[H4_LAST];\n\n")
    out.extend(f"typedef int (*h4t_{f.name})({parameters(f)});\n" for f in funcs)
    out.append("\n#endif\n")
    return "".join(out)


# ---- callbacks.c ---------------------------------------------------------------------------


def _predefined_init() -> list[str]:
    out = ["void init_predefined(void)\n{\n"]
    # guest_of() answers with the first slot of a host handle, so a guest type that is its host
    # type (MPI_2INT) is predefined before the one remapped onto that host type (MPI_LONG_INT)
    consts = sorted((c for c in abi.constants() if c.kind == "handle"),
                    key=lambda c: c.handle_kind == "Datatype" and c.name in HOST_DATATYPE)
    for c in consts:
        if c.name in NOT_MPI31 or int(c.value, 0) == 0:  # a 0 null is not predefined
            continue
        if c.handle_kind not in abi.HANDLES:  # a guest-only type (MPI_Session): no table
            continue
        host = f"MPI_{c.name}"
        if c.handle_kind == "Datatype" and c.name in HOST_DATATYPE:
            host = HOST_DATATYPE[c.name]
        field_ = c.handle_kind.lower()
        if c.handle_kind == "Datatype" and c.name in BYTES_DATATYPE:
            size, extent = BYTES_DATATYPE[c.name]
            out.append(f'    predefine_bytes({c.value}, "MPI_{c.name}", {size}, {extent});\n')
            continue
        define = (f"    predefine(K_{c.handle_kind.upper()}, {c.value}, "
                  f'"MPI_{c.name}", (host_h){{.{field_} = {host}}});\n')
        if c.name in HOST_NOT_MACRO:
            out.append(define)
        else:
            out.append(f"#ifdef {host}\n{define}#endif\n")
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
    out.append("/* Host MPI_T error code -> standard ABI MPI_T error code (0: not one). */\n")
    out.append("int t_error_to_abi(int c)\n{\n")
    for c in abi.constants():
        if c.kind == "int" and c.name.startswith("T_ERR_"):
            out.append(f"#ifdef MPI_{c.name}\n    if (c == MPI_{c.name}) return ABI_{c.name};\n"
                       "#endif\n")
    out.append("    return 0;\n}\n\n")
    return out


def _enum_maps() -> list[str]:
    out = []
    for kind, prefix in ENUM_KINDS.items():
        names = [c.name for c in abi.constants()
                 if c.kind == "int" and c.name.startswith(prefix)]
        if not names:
            raise GenError(f"no constants MPI_{prefix}* for the {kind} kind")
        for d, frm, to in (("in", "ABI", "MPI"), ("out", "MPI", "ABI")):
            if d == "in" and kind == "thread_level":
                continue  # in_thread() rounds up to a level (core/handles.c)
            fn = f"{d}_{kind}"
            out.append(f"int {fn}(int x)\n{{\n")
            out.extend(f"    if (x == {frm}_{n}) return {to}_{n};\n" for n in names)
            out.append("    return x;\n}\n\n")
    return out


def callbacks() -> str:
    out = [BANNER.format(src="the ABI table (table/)"), '#include "bridge.h"\n\n']
    out += _predefined_init()
    out += _kind_code()
    out += _error_maps()
    out += _enum_maps()
    funcs = [f for f in abi.functions() if f.implemented and not f.variadic]
    out.extend(f"wasm_trap_t *cb_{f.name}(void *, wasmtime_caller_t *, wasmtime_val_raw_t *, "
               "size_t);\n" for f in funcs)
    out.append("\n")
    for f in funcs:
        if f.impl == "gen":
            out += _gen_callback(f)
        elif f.impl == "error":
            out += _error_callback(f)
    out.append("const char *const host4_names[H4_LAST] = {\n")
    out.extend(f'    "{f.name}",\n' for f in host4_functions())
    out.append("};\n\n")
    out.append("const bridge_entry ENTRIES[] = {\n")
    for f in funcs:
        out.append(f'    {{"{f.name}", "{f.wasm_params}", "{f.wasm_results}", '
                   f"(callback_fn)cb_{f.name}}},\n")
    out.append("};\nconst int N_ENTRIES = (int)(sizeof ENTRIES / sizeof ENTRIES[0]);\n")
    return "".join(out)


# wasm value type (the table's letter) -> C type of wasm2c's import signature, slot member
W2C_TYPES = {"i": ("u32", "i32"), "I": ("u64", "i64"), "F": ("f64", "f64")}


#: peer arguments of one call at most (w2c_host.h: W2C_MAX_PEERS)
W2C_MAX_PEERS = 6


def w2c_adapters() -> str:
    """The LLVM engine tier's MPI imports (runtime/llvm/c/gen/adapters.c): for each bridge
    callback, the function wasm2c's module calls (``u32 w2c_mpi_MPI_Send(struct w2c_mpi *,
    u32, ...)``), which packs its arguments into slots as wasmtime would and calls the same
    callback. A trap the callback returns goes to the runner (runner_bridge_trap)."""
    out = [BANNER.format(src="the ABI table (bridge/table/)"),
           '#include "w2c_host.h"\n\n']
    funcs = [f for f in abi.functions() if f.implemented and not f.variadic]
    for f in funcs:
        params, results = f.wasm_params, f.wasm_results
        for ch in params + results:
            if ch not in W2C_TYPES:
                raise GenError(f"{f.name}: wasm type {ch!r} has no wasm2c adapter")
        if len(results) > 1:
            raise GenError(f"{f.name}: more than one result")
        ret = W2C_TYPES[results][0] if results else "void"
        args = "".join(f", {W2C_TYPES[c][0]} a{i}" for i, c in enumerate(params))
        slots = max(len(params), len(results), 1)
        out.append(f"wasm_trap_t *cb_{f.name}(void *, wasmtime_caller_t *, "
                   "wasmtime_val_raw_t *, size_t);\n")
        out.append(f"{ret} w2c_mpi_{f.name}(struct w2c_mpi *m{args})\n{{\n")
        out.append(f"    (void)m;\n    wasmtime_val_raw_t s[{slots}];\n")
        for i, c in enumerate(params):
            out.append(f"    s[{i}].{W2C_TYPES[c][1]} = a{i};\n")
        out.append(f"    wasm_trap_t *t = cb_{f.name}(NULL, W2C_CALLER, s, {slots});\n")
        out.append("    if (__builtin_expect(t != NULL, 0))\n        runner_bridge_trap(t);\n")
        if results:
            out.append(f"    return s[0].{W2C_TYPES[results][1]};\n")
        out.append("}\n\n")
    out.append(_w2c_peer_tables(funcs))
    return "".join(out)


def _w2c_peer_tables(funcs: list[abi.Function]) -> str:
    """The runner's --time-limit line names a call's peer arguments as the wasmtime tier's
    does (bridge/calls.py, whose peers() and special_names() this reads)."""
    from . import calls

    kinds = {"rank": "r", "tag": "t", "comm": "c"}
    out = ["/* --time-limit: the arguments that identify peers (bridge/calls.py) */\n",
           "const w2c_call_peers w2c_peer_calls[] = {\n"]
    n = 0
    for f in funcs:
        ps = calls.peers(f.name)
        if not ps:
            continue
        if len(ps) > W2C_MAX_PEERS:
            raise GenError(f"{f.name}: more than {W2C_MAX_PEERS} peer arguments")
        cells = ", ".join(f"{{{i}, '{kinds[k]}', \"{name}\"}}" for i, name, k in ps)
        out.append(f"    {{\"{f.name}\", {len(f.params)}, {len(ps)}, {{{cells}}}}},\n")
        n += 1
    out.append(f"}};\nconst int w2c_n_peer_calls = {n};\n\n"
               "const w2c_peer_name w2c_peer_names[] = {\n")
    m = 0
    for kind, names in calls.special_names().items():
        for value, name in sorted(names.items()):
            out.append(f"    {{{value}, '{kinds[kind]}', \"{name}\"}},\n")
            m += 1
    out.append(f"}};\nconst int w2c_n_peer_names = {m};\n")
    return "".join(out)
