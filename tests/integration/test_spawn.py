"""Dynamic processes: MPI_Comm_spawn(_multiple) starts wasm children inside the parent's
sandbox; commands outside the grants, or not wasm, are MPI_ERR_SPAWN."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("n", [1, 2, 3])
def test_spawn_children(compile_program, run, tmp_path: Path, n: int) -> None:  # type: ignore[no-untyped-def]
    grant = tmp_path / "grant"
    grant.mkdir()
    module = shutil.copy(compile_program("spawn.c"), grant / "spawn.wasm")
    (grant / "notwasm.txt").write_text("not a module\n")
    outside = shutil.copy(module, tmp_path / "outside.wasm")  # a real module, not granted
    res = run(Path(module), n, "/job/spawn.wasm", "/job/notwasm.txt", str(outside),
              opts=("--dir", f"{grant}::/job"))
    res.check_sections(["spawn", "spawn_multiple", "refused"])
    assert "/job/notwasm.txt: not a wasm module" in res.stderr
    assert f"{outside}: no such file inside the directory grants" in res.stderr
