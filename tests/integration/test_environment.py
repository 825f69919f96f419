"""Environment management functions on real ranks."""

from __future__ import annotations

import re
import socket

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("n", [1, 2, 4])
def test_hello(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("hello.c"), n).check()
    record = r"rank (\d+) of (\d+) on (\S+) host (\S+) MPI (3\.1)"
    found = sorted(re.findall(record, r.stdout))
    # stdout is buffered as in a native rank, so ranks' lines arrive whole
    for ln in r.stdout.splitlines():
        assert ln.startswith("library: ") or re.fullmatch(record, ln), ln
    assert [int(f[0]) for f in found] == list(range(n))
    for _, size, _proc, host, _ in found:
        assert int(size) == n and host == socket.gethostname()
