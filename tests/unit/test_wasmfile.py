"""The small wasm reader/writer used by `wasmpi cc` and `wasmpi inspect`."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmpi import wasmfile
from wasmpi.errors import InputError

# (module (import "mpi" "MPI_Init" (func (param i32 i32) (result i32)))
#         (memory (export "memory") 1))
MODULE = bytes.fromhex(
    "0061736d01000000"
    "01070160027f7f017f"
    "021001036d7069084d50495f496e69740000"
    "050301000107"
    "0a01066d656d6f72790200"
)


def test_parse_imports_exports() -> None:
    info = wasmfile.parse(MODULE)
    assert info.imports == [wasmfile.Import("mpi", "MPI_Init", "func")]
    assert info.exports == [("memory", "memory")]


def test_custom_section_roundtrip(tmp_path: Path) -> None:
    p = tmp_path / "m.wasm"
    p.write_bytes(MODULE)
    wasmfile.add_custom_section(p, "wasmpi.abi", b"v1")
    wasmfile.add_custom_section(p, "wasmpi.abi", b"v2")  # replaces, not duplicates
    info = wasmfile.read(p)
    assert info.custom == {"wasmpi.abi": b"v2"}
    assert info.imports[0].name == "MPI_Init"


def test_not_wasm() -> None:
    with pytest.raises(InputError):
        wasmfile.parse(b"#!/bin/sh\n")
