"""Point-to-point communication on real ranks: tests/programs/p2p.c checks its own results."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi

SECTIONS = ["blocking", "ready_mode", "nonblocking", "tests_pending", "waits", "null_request",
            "probes", "sendrecv", "proc_null", "free_and_cancel", "large"]


@pytest.mark.parametrize("n", [2, 3])
def test_p2p(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("p2p.c"), n).check_sections(SECTIONS)
    assert f"p2p done on {n} ranks" in r.stdout
