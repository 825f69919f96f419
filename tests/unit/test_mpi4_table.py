"""The MPI-4 part of the table and generator: version marker, run-time host functions and the
int-count fallback of the large-count functions (no compiler, no mpiexec)."""

from __future__ import annotations

import pytest

from wasmpi.bridge import abi, coverage, gen_bridge


def test_since_marker() -> None:
    f = abi.parse_line("Foo_c  count:Count  since=4.0 @gen", "p2p", "t")
    assert (f.since, f.mpi4, f.impl) == ("4.0", True, "gen")
    assert not abi.parse_line("Foo  count:count  @gen", "p2p", "t").mpi4
    with pytest.raises(abi.TableError, match=r"since=3\.0"):
        abi.parse_line("Foo  count:count  since=3.0 @gen", "p2p", "t")


def test_mpi31_set_is_unchanged() -> None:
    assert len([f for f in abi.functions() if not f.mpi4]) == 385
    assert all(name.startswith("MPI_") for name, _ in coverage.by_chapter()["coll"])
    assert "MPI_Bcast_init" not in dict(coverage.by_chapter()["coll"])


def test_mpi4_functions_are_never_named_in_the_host() -> None:
    """The host <mpi.h> may lack them: called only through the resolved pointers."""
    text = gen_bridge.callbacks()
    header = gen_bridge.host4_header()
    for f in gen_bridge.host4_functions():
        assert f"H4_{f.name}," in header
        assert f" {f.name}(" not in text.replace(f"CALLBACK({f.name})", "")


def test_large_count_fallback() -> None:
    body = "".join(gen_bridge._gen_callback(abi.by_name()["MPI_Alltoallv_c"]))
    assert "HOST4(MPI_Alltoallv_c)" in body
    assert "rc = MPI_Alltoallv(" in body  # the int version when the host lacks the _c one
    assert "host4_missing(a, H4_MPI_Alltoallv_c" in body  # a count that does not fit
    # persistent: the narrowed counts are kept for the request
    body = "".join(gen_bridge._gen_callback(abi.by_name()["MPI_Alltoallv_init_c"]))
    assert "KEEP(w1, int" in body and "keep_attach(&keep_" in body


def test_on_host() -> None:
    f = abi.by_name()
    assert coverage.on_host(f["MPI_Send_c"], set()) == coverage.FALLBACK
    assert coverage.on_host(f["MPI_Bcast_init_c"], set()) == coverage.UNSUPPORTED
    assert coverage.on_host(f["MPI_Bcast_init_c"], {"MPI_Bcast_init"}) == coverage.FALLBACK
    assert coverage.on_host(f["MPI_Isendrecv"], {"MPI_Isendrecv"}) == coverage.HOST
