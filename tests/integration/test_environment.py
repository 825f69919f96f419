"""Environment management functions on real ranks."""

from __future__ import annotations

import socket

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("n", [1, 2, 4])
def test_hello(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("hello.c"), n).check()
    lines = sorted(ln for ln in r.stdout.splitlines() if ln.startswith("rank"))
    assert len(lines) == n
    for i, ln in enumerate(lines):
        assert ln.startswith(f"rank {i} of {n} on ")
        assert f"host {socket.gethostname()}" in ln
        assert ln.endswith("MPI 3.1")
