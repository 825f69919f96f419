"""The generator's MPI_T conventions: errors returned directly, optional outputs, MPI_T strings,
checked indices, buffers sized by the handle, session-bound pvar handles."""

from __future__ import annotations

import pytest

from wasmpi.bridge import abi, gen_bridge


def gen(line: str) -> str:
    return "".join(gen_bridge._gen_callback(abi.parse_line(line, "tool", "test")))


def test_tool_functions_return_errors_and_check_indices() -> None:
    code = gen("T_cvar_get_info i:cvar_index name:str(n):out n:int:inout v:verbosity:out "
               "t:Datatype:out e:T_enum:out")
    assert "TOOL_ERRSLOT;" in code and "ERRSLOT;\n" not in code.replace("TOOL_ERRSLOT;", "")
    assert "e0 = cvar_index_check(v0);" in code
    assert "if (p3)\n        CHECK_OUT(p3, 4);" in code  # NULL outputs are ignored
    assert "if (a[1].i32 && v2 > 0)" in code and "CHECK_OUT(a[1].i32, v2);" in code
    assert "out_verbosity(v3)" in code and "tool_datatype(v4)" in code
    assert "guest_of(K_T_ENUM" in code  # one guest handle per host enumeration


def test_tool_buffers_and_sessions() -> None:
    code = gen("T_pvar_read s:T_pvar_session h:T_pvar_handle buf:buf(out,size(h),bytes)")
    assert "BUF(v2, 2, sl1->extent, NULL, 0);" in code
    assert "if (sl1->predefined)" in code  # MPI_T_PVAR_ALL_HANDLES is no variable
    assert "sl1->cslot != slot_index(K_T_PVAR_SESSION, sl0)" in code
    with pytest.raises(gen_bridge.GenError, match="size"):
        gen("T_cvar_read h:Comm buf:buf(out,size(h),bytes)")
    with pytest.raises(gen_bridge.GenError, match="session"):
        gen("T_pvar_start h:T_pvar_handle")


def test_enum_maps_and_zero_nulls() -> None:
    cb = gen_bridge.callbacks()
    assert "int out_bind(int x)" in cb and "if (x == MPI_T_BIND_MPI_COMM) return ABI_T_BIND" in cb
    assert "MPI_T_ENUM_NULL" not in cb  # 0 nulls are not predefined
    assert 'predefine(K_T_PVAR_HANDLE, 0x00000001, "MPI_T_PVAR_ALL_HANDLES"' in cb
    assert "#ifdef MPI_T_PVAR_ALL_HANDLES" not in cb  # a variable in MPICH
