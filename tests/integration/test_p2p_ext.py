"""Point-to-point and requests beyond the basics (tests/programs/p2p_ext.c, conformance
harness): persistent requests, buffered sends (from a guest that scribbles over its attached
buffer), matched probes, request status and cancellation, statuses set by hand, and generalized
requests whose query, free and cancel functions are guest functions called back by the host
MPI."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.mpi

P2P_CASES = ["persistent", "persistent_start", "bsend", "matched_probe", "request_status",
             "cancel_recv", "status_set", "sendrecv_replace", "partial_elements",
             "statuses_ignore"]
GREQUEST_CASES = ["grequest_wait world", "grequest_test self", "grequest_cancel self",
                  "grequest_many self", "grequest_free self", "grequest_error self"]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_p2p_ext(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    cases = run(compile_program("p2p_ext.c"), n).check_cases()
    passed = set(cases["PASS"])
    comms = ["world", "self", "dup", "split"] + (["inter"] if n >= 2 else [])
    for case in P2P_CASES:
        for comm in comms:
            assert f"PASS {case} {comm}" in passed, f"{case} {comm}:\n" + "\n".join(
                cases["PASS"] + cases["SKIP"])
    for case in GREQUEST_CASES:
        assert f"PASS {case}" in passed
    assert not cases["SKIP"], cases["SKIP"]


def test_grequest_query_trap_ends_job(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    """Rank 0's query function traps inside MPI_Wait while rank 1 waits in a barrier."""
    t0 = time.monotonic()
    r = run(compile_program("grequest_trap.c"), 2, timeout=60)
    elapsed = time.monotonic() - t0
    assert r.returncode != 0, r.stdout
    assert elapsed < 30, f"the job took {elapsed:.0f}s to die"
    assert ("rank 0: generalized request query function (MPI_Grequest_start)"
            in r.stderr), r.stderr
    assert "unreachable" in r.stderr and "query" in r.stderr, r.stderr
    assert "Wait returned" not in r.stdout and "barrier passed" not in r.stdout, r.stdout
