"""Generate the guest ``mpi.h`` and the mechanical part of the C bridge from the ABI table.

Run ``python -m wasmpi.bridge.gen`` after editing ``constants.abi`` or ``functions.abi``;
``python -m wasmpi.bridge.gen --check`` fails when the committed files have drifted (CI runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import abi
from .gen_guest import BANNER, NOT_MPI31, guest_header

PACKAGE = Path(__file__).resolve().parent.parent
GUEST_HEADER = PACKAGE / "toolchain" / "include" / "mpi.h"
BRIDGE_GEN = PACKAGE / "bridge" / "c" / "bridge_gen.h"

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
# their wasm32 (size, extent); see predefine_bytes in bridge.c.
BYTES_DATATYPE = {
    "LONG_DOUBLE": (16, 16),
    "C_LONG_DOUBLE_COMPLEX": (32, 32),
    "CXX_LONG_DOUBLE_COMPLEX": (32, 32),
    "LONG_DOUBLE_INT": (20, 32),  # struct { long double; int; } is padded to 32 bytes
}
# Standard-ABI error class for a bad handle of each kind (MPI_ERR_COMM, MPI_ERR_GROUP, ...).
ERROR_CLASS_OF_KIND = {
    "Comm": 5, "Group": 9, "Datatype": 3, "Op": 10, "Request": 7, "Errhandler": 13,
    "Info": 34, "Win": 56, "File": 30, "Message": 7,
}
# int arguments whose special values differ between the ABI and the host (bridge.c mappers)
IN_VALUE_MAP = {"color": "in_undef", "split_type": "in_split_type"}
OUT_VALUE_MAP = {"result": "out_cmp", "rank": "out_undef"}

def _predefined_init() -> list[str]:
    out = ["static void init_predefined(void)\n{\n"]
    for c in abi.constants():
        if c.kind != "handle" or c.name in NOT_MPI31:
            continue
        host = f"MPI_{c.name}"
        if c.handle_kind == "Datatype" and c.name in HOST_DATATYPE:
            host = HOST_DATATYPE[c.name]
        field = c.handle_kind.lower()
        if c.handle_kind == "Datatype" and c.name in BYTES_DATATYPE:
            size, extent = BYTES_DATATYPE[c.name]
            out.append(f'    predefine_bytes({c.value}, "MPI_{c.name}", {size}, {extent});\n')
            continue
        out.append(
            f"#ifdef {host}\n    predefine(K_{c.handle_kind.upper()}, {c.value}, "
            f'"MPI_{c.name}", (host_h){{.{field} = {host}}});\n#endif\n'
        )
    out.append("}\n\n")
    return out


def _error_maps() -> list[str]:
    errs = [c for c in abi.constants() if c.kind == "int" and c.name.startswith("ERR_")]
    errs = [c for c in errs if c.name != "ERR_LASTCODE"]
    out = ["/* Host error class -> standard ABI error class. */\n"]
    out.append("static int class_to_abi(int c)\n{\n    if (c == MPI_SUCCESS) return 0;\n")
    for c in errs:
        out.append(f"#ifdef MPI_{c.name}\n    if (c == MPI_{c.name}) return {c.value};\n#endif\n")
    out.append("    return 16; /* MPI_ERR_OTHER */\n}\n\n")
    out.append("/* Standard ABI error class -> host error class (for MPI_Error_string). */\n")
    out.append("static int abi_to_class(int c)\n{\n    switch (c) {\n"
               "    case 0: return MPI_SUCCESS;\n")
    for c in errs:
        out.append(f"#ifdef MPI_{c.name}\n    case {c.value}: return MPI_{c.name};\n#endif\n")
    out.append("    default: return -1;\n    }\n}\n\n")
    return out


def _gen_callback(f: abi.Function) -> list[str]:
    """A callback for a function whose arguments are all plain values, handles and out-ints."""
    pre, call, post = [], [], []
    eslot = "world_slot()"
    comm_in = None
    for i, p in enumerate(f.params):
        k = p.kind
        if k == "int":
            mapper = IN_VALUE_MAP.get(p.name, "")
            call.append(f"{mapper}(a[{i}].i32)")
        elif k == "Aint":
            call.append(f"(MPI_Aint)a[{i}].i32")
        elif k in ("Count", "Offset"):
            call.append(f"(MPI_{k})a[{i}].i64")
        elif k in abi.HANDLE_KINDS:
            low = k.lower()
            pre.append(
                f"    MPI_{k} h{i}; int32_t s{i};\n"
                f"    if (!get_{low}(a[{i}].i32, &h{i}, &s{i}))\n"
                f"        return fail(a, {ERROR_CLASS_OF_KIND[k]}, {eslot}, FN);\n"
            )
            if k == "Comm" and comm_in is None:
                comm_in = i
                eslot = f"s{i}"
            call.append(f"h{i}")
        elif k.endswith("*") and k[:-1] in abi.HANDLE_KINDS:
            kind = k[:-1]
            pre.append(f"    MPI_{kind} h{i}; uint32_t p{i} = a[{i}].i32;\n"
                       f"    CHECK_OUT(p{i}, 4);\n")
            call.append(f"&h{i}")
            inherit = f"s{comm_in}" if (kind == "Comm" and comm_in is not None) else "-1"
            new = (f"new_comm(h{i}, {inherit})" if kind == "Comm"
                   else f"new_handle(K_{kind.upper()}, (host_h){{.{kind.lower()} = h{i}}})")
            post.append(f"        *(int32_t *)GPTR(p{i}) = {new};\n")
        elif k in ("int*", "Count*"):
            size = 4 if k == "int*" else 8
            pre.append(f"    uint32_t p{i} = a[{i}].i32;\n    CHECK_OUT(p{i}, {size});\n")
            call.append(f"({'int' if size == 4 else 'MPI_Count'} *)GPTR(p{i})")
            if p.name in OUT_VALUE_MAP:
                post.append(f"        *(int *)GPTR(p{i}) = {OUT_VALUE_MAP[p.name]}"
                            f"(*(int *)GPTR(p{i}));\n")
        elif k == "Aint*":
            pre.append(f"    uint32_t p{i} = a[{i}].i32; MPI_Aint t{i};\n    CHECK_OUT(p{i}, 4);\n")
            call.append(f"&t{i}")
            post.append(f"        *(int32_t *)GPTR(p{i}) = (int32_t)t{i};\n")
        elif k == "str":
            pre.append(f"    const char *c{i};\n    CHECK_STR(c{i}, a[{i}].i32);\n")
            call.append(f"c{i}")
        else:
            raise ValueError(f"{f.name}: argument kind {k!r} needs a @manual callback")
    body = [f"CALLBACK({f.name})\n{{\n#define FN \"{f.name}\"\n"]
    body += pre
    body.append(f"    int rc = {f.name}({', '.join(call)});\n")
    if post:
        body.append("    if (rc == MPI_SUCCESS) {\n")
        body += post
        body.append("    }\n")
    body.append(f"    return done(a, rc, {eslot}, FN);\n#undef FN\n}}\n\n")
    return body


def bridge_gen() -> str:
    out = [BANNER.format(src="constants.abi and functions.abi")]
    out.append("/* Included at the end of bridge.c, which defines the helpers used here. */\n\n")
    out += _predefined_init()
    out += _error_maps()
    funcs = [f for f in abi.functions() if f.implemented and not f.variadic]
    for f in funcs:
        if f.impl == "gen":
            out += _gen_callback(f)
    out.append("static const bridge_entry ENTRIES[] = {\n")
    for f in funcs:
        out.append(f'    {{"{f.name}", "{f.wasm_params}", "{f.wasm_results}", cb_{f.name}}},\n')
    out.append("};\n")
    return "".join(out)


def outputs() -> dict[Path, str]:
    return {GUEST_HEADER: guest_header(), BRIDGE_GEN: bridge_gen()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m wasmpi.bridge.gen", description=__doc__)
    ap.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = ap.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print("stale generated files (run python -m wasmpi.bridge.gen): "
              + ", ".join(str(p) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
