"""The compute kernels of `wasmpi bench compute` and `tiers`: each kernel, at its tiny class on
2 ranks, verifies natively (the host mpicc) and as wasm on every engine this wasmpi has, and
fails verification (verified=no, nonzero exit) when one result is spoilt; `bench compute
--quick` and `bench tiers --quick` write their JSON."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import MPI, Result, wasmpi

from wasmpi.bench import kernels, report
from wasmpi.bench.context import wasm_engines
from wasmpi.hostmpi import select

# it chooses its engines itself, run by run: once per MPI, with WASMPI_ENGINE=wasmtime
pytestmark = [pytest.mark.mpi, pytest.mark.engine("wasmtime")]
ENGINES = [e for e, why in wasm_engines().items() if why is None]
_wasm: dict[str, Path] = {}


def _module(kernel: str, build_dir: Path) -> Path:
    """The kernel as wasm, built once per session (a module does not depend on the MPI)."""
    if kernel not in _wasm:
        out = build_dir / f"kernel_{kernel}.wasm"
        wasmpi("cc", "-O3", "-msimd128", str(kernels.source(kernel)), "-o", str(out),
               *kernels.LIBS, timeout=600).check()
        _wasm[kernel] = out
    return _wasm[kernel]


def _native(kernel: str, mpi: MPI, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The kernel built with the MPI's mpicc: the launch command's prefix, and its env."""
    host = select(mpi.mpicc)
    exe = tmp_path / f"{kernel}-native"
    subprocess.run([host.mpicc, "-O3", "-o", str(exe), str(kernels.source(kernel)),
                    *kernels.LIBS], check=True, capture_output=True, timeout=300)
    cmd = [host.mpiexec, *host.launcher_args(), "-n", "2", str(exe)]
    return cmd, {**mpi.env(), **host.launcher_env()}


def _launch(cmd: list[str], env: dict[str, str]) -> Result:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{cmd} did not finish in 120 s (hang)\n{e.stdout!r}\n{e.stderr!r}")
    return Result(p.returncode, p.stdout, p.stderr)


def _verified(r: Result, kernel: str) -> kernels.Result:
    r.check()
    res = kernels.parse(r.stdout)
    assert res.verified and res.kernel == kernel and res.cls == "T" and res.ranks == 2, r.stdout
    assert res.value > 0 and res.seconds > 0, r.stdout
    return res


def _spoilt(r: Result) -> None:
    assert r.returncode != 0, r.stdout + r.stderr
    assert not kernels.parse(r.stdout).verified, r.stdout


@pytest.mark.parametrize("kernel", kernels.KERNELS)
def test_kernel_verifies(kernel: str, mpi: MPI, build_dir: Path, tmp_path: Path) -> None:
    cmd, env = _native(kernel, mpi, tmp_path)
    _verified(_launch([*cmd, "T"], env), kernel)
    _spoilt(_launch([*cmd, "T", "corrupt"], env))
    module = _module(kernel, build_dir)
    for engine in ENGINES:
        select_engine = ("--engine", engine) if engine != "wasmtime" else ()
        r = wasmpi("run", "-n", "2", *select_engine, str(module), "T", env=mpi.env())
        _verified(r, kernel)
    _spoilt(wasmpi("run", "-n", "2", str(module), "T", "corrupt", env=mpi.env()))


def test_kernel_bad_class(build_dir: Path, mpi: MPI) -> None:
    r = wasmpi("run", "-n", "1", str(_module("is", build_dir)), "Q", env=mpi.env())
    assert r.returncode == 2 and "unknown class 'Q'" in r.stderr, r.stderr
    assert "WASMPI-BENCH" not in r.stdout


def _docs(out: Path, subcommand: str) -> dict[str, object]:
    paths = list(out.glob(f"{subcommand}-*.json"))
    assert len(paths) == 1, paths
    doc = json.loads(paths[0].read_text())
    report.validate(doc)
    assert doc["subcommand"] == subcommand and doc["settings"]["quick"]
    return doc


@pytest.mark.slow  # 8 builds and 12 jobs: about 20 s on a quiet machine
def test_bench_compute_quick(mpi: MPI, tmp_path: Path) -> None:
    r = wasmpi("bench", "compute", "--quick", "--rounds", "1", "--no-plot", "--out",
               str(tmp_path), env=mpi.env(), timeout=600).check()
    doc = _docs(tmp_path, "compute")
    assert doc["versions"]["mpi_flavor"] == mpi.name
    rows = {(s["unit"], row["bench"]): row for s in doc["series"] for row in s["rows"]}
    assert set(rows) == {("GFLOP/s", "cg"), ("GFLOP/s", "spmv"), ("GFLOP/s", "stencil"),
                         ("Mop/s", "is")}, rows
    for row in rows.values():
        assert row["x"] == "class T"
        assert set(row["values"]) == {"native", *ENGINES}
        assert all(v["median"] > 0 for v in row["values"].values())
        assert row["ratio"]["wasmtime"] > 0
    speed = doc["extra"]["speed"]["wasmtime"]
    assert set(speed["kernels"]) == set(kernels.KERNELS) and speed["gm_slowdown"] > -1
    assert "wasmtime: speed against native" in r.stdout


def test_bench_tiers_quick(mpi: MPI, tmp_path: Path) -> None:
    r = wasmpi("bench", "tiers", "--quick", "--rounds", "1", "--no-plot", "--out",
               str(tmp_path), env=mpi.env(), timeout=600).check()
    doc = _docs(tmp_path, "tiers")
    table1 = {row["engine"]: row for row in doc["extra"]["table1"]}
    assert set(table1) == {"native", *ENGINES}
    for row in table1.values():
        assert row["compile_s"] > 0 and row["gflops"] > 0, row
    assert table1["native"]["speed"] == 1.0
    assert "Table 1" in r.stdout


@pytest.mark.parametrize("args", [
    ("compute", "--kernels", "cg,nosuch"),
    ("compute", "--class", "Z"),
    ("tiers", "--class", "Q"),
])
def test_bench_compute_bad_options(args: tuple[str, ...], tmp_path: Path) -> None:
    r = wasmpi("bench", *args, "--out", str(tmp_path), timeout=120)
    assert r.returncode == 64, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("wasmpi: error: ")]
    assert len(errors) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())
