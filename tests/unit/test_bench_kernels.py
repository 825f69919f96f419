"""The kernels' report protocol and the speed summary of `wasmpi bench compute` (no compiler,
no mpiexec)."""

from __future__ import annotations

import math

import pytest

from wasmpi.bench import compute, kernels
from wasmpi.bench.report import Series
from wasmpi.errors import ToolError, UsageError


def test_parse_report_line() -> None:
    out = ("noise\nWASMPI-BENCH kernel=is class=A ranks=2 metric=Mop/s value=181.9 "
           "seconds=0.461 verified=yes\n")
    r = kernels.parse(out)
    assert r == kernels.Result("is", "A", 2, "Mop/s", 181.9, 0.461, True)
    bad = kernels.parse(out.replace("verified=yes", "verified=no"))
    assert not bad.verified


@pytest.mark.parametrize("out", ["", "WASMPI-BENCH kernel=cg\n",
                                 "WASMPI-BENCH kernel=cg class=A ranks=x metric=GFLOP/s "
                                 "value=1 seconds=1 verified=yes\n"])
def test_parse_rejects(out: str) -> None:
    with pytest.raises(ToolError):
        kernels.parse(out)


def test_every_kernel_ships() -> None:
    for k in kernels.KERNELS:
        assert kernels.source(k).is_file()
    assert (kernels.DIR / "kernel.h").is_file()
    with pytest.raises(ToolError):
        kernels.source("nosuch")


def test_pick_kernels() -> None:
    assert compute.pick_kernels("stencil, CG,stencil") == ["stencil", "cg"]
    for bad in ("", "cg,lu"):
        with pytest.raises(UsageError):
            compute.pick_kernels(bad)


def test_speeds_and_targets() -> None:
    s = Series("compute GFLOP/s", "rate", "GFLOP/s", higher_is_better=True)
    for engine, v in (("native", 2.0), ("wasmtime", 1.0), ("llvm", 2.2)):
        s.add("stencil", "class A", engine, v)
    m = Series("compute Mop/s", "rate", "Mop/s", higher_is_better=True)
    for engine, v in (("native", 100.0), ("wasmtime", 64.0), ("llvm", 92.0)):
        m.add("is", "class A", engine, v)
    speed = compute.speeds([s, m])
    assert speed["wasmtime"]["kernels"] == pytest.approx({"stencil": 0.5, "is": 0.64})
    # GM of t_engine/t_native = 1/speed
    assert speed["wasmtime"]["gm_slowdown"] == pytest.approx(math.sqrt(2 / 0.64) - 1)
    lines = compute.summary(speed, "A", 2)
    assert "target llvm stencil: 1.10x native (target >= 0.95x): met" in lines
    assert "target llvm is: 0.92x native (target >= 0.95x): missed" in lines
    assert "target llvm NPB IS class A: 0.92x native (target >= 0.90x): met" in lines
    assert not any("wasmtime" in ln and "target" in ln for ln in lines)
