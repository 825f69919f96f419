"""Can this wasmpi run this module? Checked before any rank starts MPI, so that a module that
cannot run fails with one line and its own exit code instead of a trap or a hang.

The order is the order of the likely cause: not a module at all, built for another ABI, not a
program, then imports this wasmpi cannot provide (all of them named at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from . import wasmfile
from .bridge import names, stubs
from .errors import AbiMismatchError, LinkError, NotRunnableError

WASI_MODULE = "wasi_snapshot_preview1"
REBUILD = "rebuild it from its sources with this wasmpi's `wasmpi cc`"


def check(path: Path, *, strict: bool,
          provided: Mapping[str, tuple[str, str]] | None = None) -> wasmfile.ModuleInfo:
    """Raise the error that says why ``path`` cannot run here; return its description.

    ``provided`` maps each MPI function the bridge implements to its wasm signature
    (params, results); by default the ABI table's.
    """
    info = wasmfile.read(path)
    raw = info.custom.get(names.ABI_SECTION)
    if raw is not None and raw != names.ABI_VERSION.encode():
        theirs = raw.decode(errors="replace")
        raise AbiMismatchError(
            f"{path}: built for wasmpi ABI {theirs!r}; this wasmpi runs ABI "
            f"{names.ABI_VERSION!r}", hint=REBUILD)
    exports = dict(info.exports)
    if exports.get("_start") != "func":
        raise NotRunnableError(
            f"{path}: no `_start` export: a library or reactor module, not a program",
            hint="link a program that defines main(), e.g. `wasmpi cc app.c -o app.wasm`")
    if exports.get("memory") != "memory" and any(i.kind == "func" for i in info.imports):
        raise NotRunnableError(f"{path}: exports no linear memory named `memory`, which WASI "
                               "and MPI calls need", hint=REBUILD)
    if provided is None:
        provided = table_signatures()
    problems = _import_problems(info.imports, provided)
    if problems:
        raise LinkError(f"{path}: " + "; ".join(problems),
                        hint="`wasmpi inspect` lists what a module imports and what this "
                        "wasmpi provides")
    if strict:
        stubs.reject(stubs.unsupported([(i.module, i.name) for i in info.imports],
                                       set(provided)))
    return info


def table_signatures() -> dict[str, tuple[str, str]]:
    """The wasm signature (params, results) of each MPI function the ABI table says the bridge
    implements (generated from the table: parsing it takes longer than a job's start-up)."""
    from .bridge.signatures import SIGNATURES

    return SIGNATURES


def _import_problems(imports: list[wasmfile.Import],
                     provided: Mapping[str, tuple[str, str]]) -> list[str]:
    known = (WASI_MODULE, names.IMPORT_MODULE, names.HOST_MODULE)
    unknown = sorted({f"{i.module}.{i.name}" for i in imports if i.module not in known})
    out = []
    if unknown:
        out.append(f"{len(unknown)} import(s) from modules no runtime here provides: "
                   + ", ".join(unknown))
    wrong = []
    for i in imports:
        want = (provided.get(i.name) if i.module == names.IMPORT_MODULE
                else names.HOST_FUNCTIONS.get(i.name) if i.module == names.HOST_MODULE
                else None)
        if want is None:
            continue  # unknown MPI functions are stubs (or rejected by --strict)
        if i.kind != "func" or i.signature != want:
            got = _sig(i.signature) if i.kind == "func" else f"a {i.kind}"
            wrong.append(f"{stubs.label((i.module, i.name))} is {got}, expected {_sig(want)}")
    if wrong:
        out.append(f"{len(wrong)} import(s) with the wrong type: " + ", ".join(sorted(wrong)))
    return out


def _sig(sig: tuple[str, str] | None) -> str:
    if sig is None:
        return "(unknown type)"
    wasm = {"i": "i32", "I": "i64", "f": "f32", "F": "f64", "v": "v128"}
    params, results = ([wasm.get(c, "?") for c in part] for part in sig)
    return f"({', '.join(params)}) -> ({', '.join(results)})"
