"""MPI-4 calls (tests/programs/mpi4.c) on each host MPI, with what the host provides made
explicit: the bridge's own probe (`wasmpi inspect --coverage`) says which MPI-4 functions the
host library has; the program is told the others, expects MPI_ERR_UNSUPPORTED_OPERATION from
those it cannot run (and a message naming them), and checks the values of all the rest."""

from __future__ import annotations

import pytest
from conftest import MPI, wasmpi

pytestmark = pytest.mark.mpi

_probed: dict[str, dict[str, str]] = {}


def on_host(mpi: MPI) -> dict[str, str]:
    """MPI-4 function -> yes | int fallback | unsupported, for this host MPI."""
    if mpi.name not in _probed:
        r = wasmpi("inspect", "--coverage", env=mpi.env(), timeout=600).check()
        rows = {}
        for line in r.stdout.splitlines():
            if "on host:" in line:
                rows[line.split()[1]] = line.split("on host:", 1)[1].strip()
        assert rows, r.stdout
        _probed[mpi.name] = rows
    return _probed[mpi.name]


def test_the_probe_knows_the_libraries(mpi: MPI) -> None:
    """What the probe finds is what docs/coverage.md says of these two libraries."""
    rows = on_host(mpi)
    assert rows["MPI_Bcast_init"] == "yes"
    assert rows["MPI_Isendrecv"] == "yes"
    # Open MPI 5.0 has no large-count function: the int versions serve small counts
    expected_c = "yes" if mpi.name == "mpich" else "int fallback"
    assert rows["MPI_Send_c"] == expected_c
    assert rows["MPI_Alltoallv_init_c"] == expected_c


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_mpi4(compile_program, run, mpi: MPI, n: int) -> None:  # type: ignore[no-untyped-def]
    rows = on_host(mpi)
    lacking = sorted(f for f, how in rows.items() if how != "yes")
    r = run(compile_program("mpi4.c"), n, *lacking)
    cases = r.check_cases(min_pass=40)
    assert any("PASS scatters world" in ln for ln in cases["PASS"])
    reported = {ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("UNSUPPORTED ")}
    # unsupported: what the host lacks outright, and counts beyond int where it lacks the _c
    expected = {f for f, how in rows.items() if how == "unsupported"}
    expected |= {f for f in ("MPI_Send_c", "MPI_Recv_c") if rows[f] != "yes"}
    assert reported == expected, r.stdout
    for f in reported:
        assert f"does not provide {f} (MPI_ERR_UNSUPPORTED_OPERATION)" in r.stderr, r.stderr
