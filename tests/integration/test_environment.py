"""Environment management functions on real ranks."""

from __future__ import annotations

import re
import socket

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("n", [1, 2, 4])
def test_hello(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("hello.c"), n).check()
    # ranks' lines may interleave in the merged stdout: match records, not lines
    found = sorted(re.findall(r"rank (\d+) of (\d+) on (\S+) host (\S+) MPI (3\.1)", r.stdout))
    assert [int(f[0]) for f in found] == list(range(n))
    for _, size, _proc, host, _ in found:
        assert int(size) == n and host == socket.gethostname()
