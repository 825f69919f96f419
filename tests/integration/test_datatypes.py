"""Datatypes on real ranks: predefined sizes/extents/names as the wasm32 guest lays them out,
derived types and strided/indexed transfers (tests/programs/types.c checks itself)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("n", [2, 3])
def test_datatypes(compile_program, run, n: int) -> None:  # type: ignore[no-untyped-def]
    sections = ["predefined", "derived_layouts", "transfers"]
    r = run(compile_program("types.c"), n).check_sections(sections)
    assert f"types done on {n} ranks" in r.stdout
