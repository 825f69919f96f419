"""Every guest prototype matches the standard's C binding.

The reference is the MPI 5.0 standard-ABI header ``mpi_abi.h`` that the mpich wheel ships: its
C bindings of the MPI-3.1 functions are the standard's (MPI-4 and 5 added functions and the
large-count ``_c`` variants, but changed no existing C binding), and so are those of the MPI-4
functions the table has (``since=4.0``). Parameter names are ignored;
types are compared after C's own adjustments (``T x[]`` is ``T *x``).
"""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path

import pytest

from wasmpi.bridge import abi, gen_guest

_PROTO = re.compile(r"^(int|double|MPI_Aint)\s+(P?MPI_\w+)\((.*)\);", re.M)


def _param_type(p: str) -> str:
    p = " ".join(p.split())
    if p in ("void", "..."):
        return p
    m = re.match(r"^(.*?)\s*\b\w+\s*((?:\[\w*\])*)$", p)
    assert m, p
    base, dims = m.groups()
    dims_list = re.findall(r"\[\w*\]", dims)
    if dims_list:  # the first [] adjusts to a pointer; further ones stay
        base = f"{base} *" if len(dims_list) == 1 else f"{base} (*){''.join(dims_list[1:])}"
    base = re.sub(r"\s*\*\s*", " *", base).replace("* *", "**").strip()
    return base


def prototypes(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    out = {}
    for ret, name, params in _PROTO.findall(text):
        types = tuple(_param_type(p) for p in params.split(",")) if params.strip() else ()
        out[name] = (ret, tuple(t for t in types if t != "void"))
    return out


def _reference() -> Path | None:
    cand = Path(sysconfig.get_path("data")) / "include" / "mpi_abi.h"
    return cand if cand.is_file() else None


def test_guest_prototypes_match_the_standard() -> None:
    ref_path = _reference()
    if ref_path is None:
        pytest.skip("the mpich wheel's mpi_abi.h is not installed")
    ref = prototypes(ref_path.read_text())
    ours = prototypes(gen_guest.guest_header())
    names = [f.name for f in abi.functions()]
    assert len([f for f in abi.functions() if not f.mpi4]) == 385
    compared, wrong = 0, []
    for name in names:
        if name not in ref:
            continue  # removed after MPI-3.1 (none is expected to be), see below
        compared += 1
        if ours.get(name) != ref[name]:
            wrong.append(f"{name}:\n  ours:     {ours.get(name)}\n  standard: {ref[name]}")
    assert not wrong, f"{len(wrong)} prototypes differ from the standard:\n" + "\n".join(wrong)
    # every MPI-3.1 function must be checked, not silently skipped
    assert compared == len(names), sorted(set(names) - set(ref))


def test_the_comparison_sees_a_wrong_prototype() -> None:
    """The bug this test exists for: weights declared as int instead of const int[]."""
    wrong = prototypes("int MPI_Dist_graph_create_adjacent(MPI_Comm comm_old, int indegree, "
                       "const int sources[], int sourceweights, int outdegree, "
                       "const int destinations[], int destweights, MPI_Info info, int reorder, "
                       "MPI_Comm *comm_dist_graph);")
    ours = prototypes(gen_guest.guest_header())
    name = "MPI_Dist_graph_create_adjacent"
    assert wrong[name] != ours[name]
    assert ours[name][1][3] == "const int *"
