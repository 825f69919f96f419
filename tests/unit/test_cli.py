"""CLI behaviour in-process: exit codes and one-line errors (no compiler, no mpiexec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmpi import cli
from wasmpi.runtime import DirGrant


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as e:
        cli.main(list(argv))
    return int(e.value.code or 0), capsys.readouterr().err


def test_missing_module(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = run_cli(capsys, "exec", str(tmp_path / "none.wasm"))
    assert code == 65 and err.startswith("wasmpi: error:") and err.count("\n") == 1


def test_not_a_module(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = tmp_path / "x.wasm"
    p.write_text("text")
    code, err = run_cli(capsys, "inspect", str(p))
    assert code == 65 and "not a WebAssembly module" in err


def test_bad_env(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = tmp_path / "x.wasm"
    p.write_bytes(b"\0asm\1\0\0\0")
    code, err = run_cli(capsys, "exec", "--env", "NOEQUALS", str(p))
    assert code == 64 and "KEY=VALUE" in err


def test_cc_without_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(capsys, "cc")
    assert code == 64 and "no input files" in err


def test_dir_grant_parse(tmp_path: Path) -> None:
    g = DirGrant.parse(f"{tmp_path}::/data:ro")
    assert (g.host, g.guest, g.readonly) == (str(tmp_path), "/data", True)
    assert DirGrant.parse(str(tmp_path)).guest == str(tmp_path)


def test_inspect_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    from wasmpi.bridge import abi, coverage

    with pytest.raises(SystemExit) as e:
        cli.main(["inspect", "--coverage", "--no-host"])
    assert not e.value.code
    out = capsys.readouterr().out
    n = sum(1 for f in abi.functions() if f.implemented and f.impl != "error" and not f.mpi4)
    assert out.startswith(f"MPI-3.1 C API: 385 functions: {n} implemented")
    assert "implemented      MPI_Send\n" in out
    assert "implemented      MPI_Win_create\n" in out
    assert "implemented      MPI_Bcast_init                   since 4.0\n" in out
    missing = [f.name for f in abi.functions() if not f.implemented and not f.mpi4]
    assert all(f"missing          {name}\n" in out for name in missing)
    # the committed docs/coverage.md says the same (gen --check keeps it current)
    assert f"**{n} of 385**" in coverage.markdown()


def test_inspect_needs_a_module_or_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(capsys, "inspect")
    assert code == 64 and "--coverage" in err and err.count("\n") == 1
