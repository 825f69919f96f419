"""Just enough of the wasm binary format: sections, imports, exports, custom sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

MAGIC = b"\0asm\x01\0\0\0"
_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
_LAST_SECTION_ID = 13  # tag section (exception handling)
# value types as the ABI table spells them (abi.Function.wasm_params)
_VALTYPES = {0x7F: "i", 0x7E: "I", 0x7D: "f", 0x7C: "F", 0x7B: "v"}


def _uleb(b: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if i >= len(b):
            raise InputError("truncated WebAssembly module")
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return n, i


def _name(b: bytes, i: int) -> tuple[str, int]:
    n, i = _uleb(b, i)
    return b[i : i + n].decode("utf-8", "replace"), i + n


def _enc_uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        c = n & 0x7F
        n >>= 7
        out.append(c | (0x80 if n else 0))
        if not n:
            return bytes(out)


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    kind: str
    #: (params, results) of a function import, e.g. ("iii", "i"); None for other kinds
    signature: tuple[str, str] | None = field(default=None, compare=False)


@dataclass
class ModuleInfo:
    size: int
    imports: list[Import]
    exports: list[tuple[str, str]]
    custom: dict[str, bytes]


def sections(data: bytes) -> list[tuple[int, int, int, int]]:
    """(id, header start, payload start, payload end) of each section."""
    if data[:8] != MAGIC:
        raise InputError("not a WebAssembly module (bad magic number or version)")
    out, i = [], 8
    while i < len(data):
        sid = data[i]
        if sid > _LAST_SECTION_ID:
            raise InputError(f"corrupt WebAssembly module (no section has id {sid}, at offset "
                             f"{i:#x})")
        size, j = _uleb(data, i + 1)
        out.append((sid, i, j, j + size))
        i = j + size
    return out


def read(path: Path) -> ModuleInfo:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from None
    try:
        return parse(data)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None


def _valtypes(b: bytes, i: int) -> tuple[str, int]:
    n, i = _uleb(b, i)
    if i + n > len(b):
        raise InputError("truncated WebAssembly module")
    return "".join(_VALTYPES.get(c, "?") for c in b[i : i + n]), i + n


def _types(b: bytes, start: int) -> list[tuple[str, str]]:
    n, i = _uleb(b, start)
    out = []
    for _ in range(n):
        if i >= len(b) or b[i] != 0x60:  # only plain function types are used by C modules
            out.append(("?", "?"))
            break
        params, i = _valtypes(b, i + 1)
        results, i = _valtypes(b, i)
        out.append((params, results))
    return out


def parse(data: bytes) -> ModuleInfo:
    try:
        return _parse(data)
    except IndexError:  # a length field that points past its section
        raise InputError("corrupt WebAssembly module (a length points past the end)") from None


def _parse(data: bytes) -> ModuleInfo:
    imports: list[Import] = []
    exports: list[tuple[str, str]] = []
    custom: dict[str, bytes] = {}
    types: list[tuple[str, str]] = []
    for sid, _, start, end in sections(data):
        if end > len(data):
            raise InputError(f"truncated WebAssembly module (section {sid} ends past the end "
                             "of the file)")
        if sid == 1:
            types = _types(data, start)
        elif sid == 0:
            name, i = _name(data, start)
            custom[name] = data[i:end]
        elif sid == 2:
            n, i = _uleb(data, start)
            for _ in range(n):
                mod, i = _name(data, i)
                nm, i = _name(data, i)
                if i >= len(data):
                    raise InputError("truncated WebAssembly module")
                kind = data[i]
                i += 1
                sig = None
                if kind == 0:
                    t, i = _uleb(data, i)
                    sig = types[t] if t < len(types) else None
                elif kind == 1:
                    i += 1
                    flags, i = _uleb(data, i)
                    _, i = _uleb(data, i)
                    if flags & 1:
                        _, i = _uleb(data, i)
                elif kind == 2:
                    flags, i = _uleb(data, i)
                    _, i = _uleb(data, i)
                    if flags & 1:
                        _, i = _uleb(data, i)
                elif kind == 3:
                    i += 2
                elif kind == 4:
                    i += 1
                    _, i = _uleb(data, i)
                imports.append(Import(mod, nm, _KINDS.get(kind, "?"), sig))
        elif sid == 7:
            n, i = _uleb(data, start)
            for _ in range(n):
                nm, i = _name(data, i)
                kind = data[i]
                _, i = _uleb(data, i + 1)
                exports.append((nm, _KINDS.get(kind, "?")))
    return ModuleInfo(len(data), imports, exports, custom)


def add_custom_section(path: Path, name: str, payload: bytes, strip_debug: bool = False) -> None:
    """Append (or replace) a custom section; wasm-ld/zig do not keep ours from objects.

    With ``strip_debug``, DWARF sections (``.debug_*``) are dropped on the way.
    """
    data = path.read_bytes()
    if data[:8] != MAGIC:
        return
    kept = bytearray(data[:8])
    for sid, hdr, start, end in sections(data):
        if sid == 0:
            sname = _name(data, start)[0]
            if sname == name or (strip_debug and sname.startswith(".debug_")):
                continue
        kept += data[hdr:end]
    nb = name.encode()
    body = _enc_uleb(len(nb)) + nb + payload
    kept += b"\0" + _enc_uleb(len(body)) + body
    path.write_bytes(bytes(kept))
