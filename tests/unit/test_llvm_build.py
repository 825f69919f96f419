"""The LLVM tier's build decisions that need neither wasm2c nor zig."""

from __future__ import annotations

import pytest

from wasmpi.runtime.llvm import build


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _module(code_bytes: int, custom_bytes: int = 0) -> bytes:
    data = b"\0asm\1\0\0\0"
    if custom_bytes:  # a name or debug section is no work for clang
        payload = b"\4name" + b"\0" * custom_bytes
        data += b"\0" + _uleb(len(payload)) + payload
    if code_bytes:
        data += b"\x0a" + _uleb(code_bytes) + b"\0" * code_bytes
    return data


@pytest.mark.parametrize(("code", "parts"), [
    (0, 1), (1, 1), (build.PART_BYTES, 1), (build.PART_BYTES + 1, 2),
    (3 * build.PART_BYTES, 3), (1000 * build.PART_BYTES, build.MAX_PARTS)])
def test_parts_follow_the_code_section(code: int, parts: int) -> None:
    assert build.parts(_module(code)) == parts


def test_parts_ignore_custom_sections() -> None:
    assert build.parts(_module(1000, custom_bytes=10 * build.PART_BYTES)) == 1
