"""The generator's one-sided kinds: window error handlers, target displacements, accumulate
ops, assert bitmasks and lock types."""

from __future__ import annotations

import pytest

from wasmpi.bridge import abi, gen_bridge


def gen(line: str) -> str:
    return "".join(gen_bridge._gen_callback(abi.parse_line(line, "rma", "test")))


def test_a_call_about_a_window_reports_to_the_window() -> None:
    code = gen("Win_sync win:Win")
    assert "if (sl0->predefined)" in code  # MPI_WIN_NULL
    assert code.index("errslot = OBJ_ERRSLOT(K_WIN, sl0);") < code.index("MPI_Win_sync(")
    # a communicator argument, when there is one, stays the object of the call
    assert "OBJ_ERRSLOT" not in gen("Win_create_x comm:Comm win:Win:out")


def test_target_displacement_is_checked_before_the_call() -> None:
    code = gen("Put o:buf(in,n,t) n:count t:Datatype r:rank d:disp(r,m,u) m:count u:Datatype "
               "op:rma_op win:Win")
    assert "rma_target(sl8, v3, a[4].i32, (int64_t)v5, sl6, &v4)" in code
    assert "return fail(a, tc4, errslot, FN);" in code
    assert "!sl7->predefined || sl7->guest == ABI_OP_NULL" in code
    assert code.index("OBJ_ERRSLOT") < code.index("rma_target") < code.index("MPI_Put(")
    one = gen("Fetch_and_op o:buf(in,1,t) t:Datatype r:rank d:disp(r,1,t) win:Win")
    assert "BUF(v0, 0, (int64_t)1, sl1, 0);" in one and "(int64_t)1, sl1, &v3)" in one


def test_disp_needs_a_window_a_rank_and_a_datatype() -> None:
    with pytest.raises(gen_bridge.GenError, match="no window"):
        gen("Put r:rank d:disp(r,1,t) t:Datatype c:Comm")
    with pytest.raises(gen_bridge.GenError, match="not a rank"):
        gen("Put r:int d:disp(r,1,t) t:Datatype w:Win")
    with pytest.raises(gen_bridge.GenError, match="not a datatype"):
        gen("Put r:rank d:disp(r,1,t) t:int w:Win")
    with pytest.raises(abi.TableError, match="disp takes"):
        abi.parse_param("d:disp", "test")


def test_assert_and_lock_type_refuse_undefined_values() -> None:
    code = gen("Win_lock l:lock_type r:rank m:assert w:Win")
    assert "int v0 = in_lock_type(a[0].i32);\n    if (v0 < 0)\n" in code
    assert "return fail(a, ABI_ERR_LOCKTYPE" in code
    assert "return fail(a, ABI_ERR_ASSERT" in code
