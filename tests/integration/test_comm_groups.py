"""Communicators, groups and info objects on real ranks: tests/programs/comm.c checks itself."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi

SECTIONS = ["basics", "dup_and_names", "splits", "groups", "infos", "churn"]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_comm_groups(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("comm.c"), n).check_sections(SECTIONS)
    assert f"comm done on {n} ranks" in r.stdout
