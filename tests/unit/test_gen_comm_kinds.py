"""The generator's communicator sorts, computed array lengths and topology weights."""

from __future__ import annotations

import pytest

from wasmpi.bridge import abi, gen_bridge


def gen(line: str, chapter: str = "topo") -> str:
    return "".join(gen_bridge._gen_callback(abi.parse_line(line, chapter, "test")))


def test_comm_sorts_check_the_call_communicator() -> None:
    inter = gen("Intercomm_merge intercomm:intercomm high:bool out:Comm:out", "comm")
    assert "if (!COMM_SLOT(v0)->rsize)\n        return fail(a, ABI_ERR_COMM" in inter
    nbr = gen("Neighbor_allgather sendbuf:buf(in,n,t) n:count t:Datatype "
              "recvbuf:buf(out,n*indegree,t) comm:topocomm")
    assert "if (COMM_SLOT(v4)->rsize)" in nbr
    assert "if (!has_topology(COMM_SLOT(v4)->h.comm))" in nbr
    with pytest.raises(gen_bridge.GenError, match="not the call's communicator"):
        gen("Intercomm_create a:Comm b:intercomm", "comm")


def test_sum_and_last_lengths() -> None:
    code = gen("Graph_create c:Comm n:count indx:int[n] edges:int[last(indx)] r:Comm:out")
    assert "int64_t n3 = ints_last(a[2].i32, n2);" in code
    assert "if (n3 < 0)\n        return fail(a, ABI_ERR_ARG" in code
    assert code.index("CHECK_ARRAY(a[2].i32") < code.index("ints_last")
    with pytest.raises(gen_bridge.GenError, match="comes after"):
        gen("Graph_create c:Comm n:count edges:int[sum(indx)] indx:int[n]")
    with pytest.raises(gen_bridge.GenError, match="not an input array"):
        gen("Graph_create c:Comm n:count edges:int[sum(n)]")


def test_parameter_wins_over_communicator_size() -> None:
    code = gen("Dist_graph_create_adjacent c:Comm indegree:count s:int[indegree]")
    assert "int64_t n2 = v1;" in code and "nbr_degree" not in code


def test_weights_and_pointer_constants() -> None:
    code = gen("Dist_graph_neighbors c:Comm m:count w:weight[m]:out")
    assert 'WEIGHTS(v2, 2, n2, "w array");' in code
    consts = gen_bridge.guest_pointer_constants()
    assert consts["UNWEIGHTED"] == 10 and consts["WEIGHTS_EMPTY"] == 11
    assert consts["IN_PLACE"] == 1
    assert "#define ABI_UNWEIGHTED" in gen_bridge.abi_header()


def test_member_arrays_are_ranks_of_the_call_communicator() -> None:
    code = gen("Dist_graph_create_adjacent c:intracomm k:count s:member[k] r:Comm:out")
    assert "if (r_ < 0 || r_ >= COMM_SLOT(v0)->size)\n            return fail(a, ABI_ERR_RANK" \
        in code
    assert "(const int *)GPTR(a[2].i32)" in code  # checked, then passed zero-copy
    with pytest.raises(gen_bridge.GenError, match="no communicator"):
        gen("Group_incl g:Group k:count s:member[k]", "group")
    with pytest.raises(gen_bridge.GenError, match="array of member"):
        gen("Dist_graph_neighbors c:Comm k:count s:member[k]:out")


def test_negative_parameter_lengths_are_errors() -> None:
    code = gen("Type_create_hindexed_block k:count b:int d:Aint[k] t:Datatype n:Datatype:out",
               "datatype")
    assert "if (n2 < 0)\n        return fail(a, ABI_ERR_COUNT" in code
    assert code.index("if (n2 < 0)") < code.index("CHECK_ARRAY(a[2].i32")
    code = gen("Cart_create c:Comm k:int d:int[k] r:Comm:out")
    assert "if (n2 < 0)\n        return fail(a, ABI_ERR_ARG" in code
    code = gen("Neighbor_x c:topocomm s:int[indegree]")  # a size of the communicator: no check
    assert "if (n1 < 0)" not in code
