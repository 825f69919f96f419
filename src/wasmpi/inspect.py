"""``wasmpi inspect``: what a module needs from wasmpi and whether this wasmpi has it."""

from __future__ import annotations

import json
from pathlib import Path

from . import wasmfile
from .bridge import abi

# WASI preview1 functions that wasmtime provides.
WASI_MODULE = "wasi_snapshot_preview1"


def report(path: Path) -> dict[str, object]:
    info = wasmfile.read(path)
    supported = abi.supported_imports()
    imports = []
    for imp in info.imports:
        if imp.module == abi.IMPORT_MODULE:
            ok = imp.name in supported
            group = "mpi"
        elif imp.module == abi.HOST_MODULE:
            ok = imp.name in abi.HOST_FUNCTIONS
            group = "wasmpi"
        elif imp.module == WASI_MODULE:
            ok, group = True, "wasi"
        else:
            ok, group = False, "other"
        imports.append({"module": imp.module, "name": imp.name, "kind": imp.kind,
                        "group": group, "supported": ok})
    abi_raw = info.custom.get(abi.ABI_SECTION)
    return {
        "path": str(path),
        "size": info.size,
        "abi": abi_raw.decode(errors="replace") if abi_raw is not None else None,
        "imports": imports,
        "exports": [{"name": n, "kind": k} for n, k in info.exports],
    }


def inspect(path: Path, as_json: bool = False) -> int:
    r = report(path)
    if as_json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"module:  {r['path']}")
    print(f"size:    {r['size']} bytes")
    print(f"abi:     {r['abi'] or 'none (not built by wasmpi cc)'}")
    imports = r["imports"]
    assert isinstance(imports, list)
    for group, title in (("mpi", "MPI imports"), ("wasmpi", "wasmpi host imports"),
                         ("wasi", "WASI imports"), ("other", "other imports")):
        items = [i for i in imports if i["group"] == group]
        if not items:
            continue
        print(f"{title} ({len(items)}):")
        for i in items:
            mark = "ok " if i["supported"] else "UNSUPPORTED"
            print(f"  {mark:<11} {i['name']}")
    exports = r["exports"]
    assert isinstance(exports, list)
    print(f"exports ({len(exports)}): " + ", ".join(e["name"] for e in exports))
    bad = [i for i in imports if not i["supported"]]
    return 1 if bad else 0
