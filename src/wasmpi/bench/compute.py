"""`wasmpi bench compute`: the MPI-parallel, self-verifying compute kernels (an HPCG-like CG,
an NPB-IS-like integer sort, CSR SpMV, a 27-point stencil) natively (the host mpicc at -O3) and
on each wasm engine (``wasmpi cc -O3 -msimd128``), alternated per round.

Per kernel: the median rate over rounds for each engine, the ratio t_engine/t_native (the table's
ratio; speed is its inverse), and GM(t_engine/t_native) - 1 over the kernels; issue 12's targets
for the llvm tier are checked in the notes. A kernel whose result does not verify fails the run.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ToolError, UsageError
from . import kernels
from .context import Context
from .report import Series
from .stats import NATIVE, gm_slowdown

HELP = "compute kernels (CG, IS, SpMV, stencil): native against each engine, GFLOP/s and Mop/s"
NATIVE_FLAGS = ("-O3",)
WASM_FLAGS = ("-O3", "-msimd128")
#: issue 12: the llvm tier's speed against native gcc -O3 on 2 ranks (engine rate / native rate)
TARGETS = {"stencil": 0.95, "cg": 0.95, "is": 0.95, "spmv": 1.0}
TARGET_IS_A = 0.90


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kernels", default=",".join(kernels.KERNELS),
                   help=f"comma-separated subset of {', '.join(kernels.KERNELS)}")
    p.add_argument("--class", dest="cls", default=None, type=str.upper,
                   choices=kernels.CLASSES,
                   help="problem size: T (tiny), S, W, A, B (default A; --quick: T); per rank "
                   "for cg, spmv and stencil, in total for is (NPB's classes)")


def pick_kernels(text: str) -> list[str]:
    names = [k.strip().lower() for k in text.split(",") if k.strip()]
    bad = [k for k in names if k not in kernels.KERNELS]
    if bad or not names:
        raise UsageError(f"bench compute: --kernels {text!r}: choose from "
                         f"{', '.join(kernels.KERNELS)}")
    return list(dict.fromkeys(names))


class Builds:
    """Each kernel built natively and to wasm, once per invocation."""

    def __init__(self, ctx: Context, wasm: bool) -> None:
        self.ctx, self.wasm = ctx, wasm

    def native(self, kernel: str) -> Path:
        return self.ctx.build_native(kernels.source(kernel), NATIVE_FLAGS, name=kernel,
                                     libs=kernels.LIBS)

    def module(self, kernel: str) -> Path | None:
        if not self.wasm:
            return None
        return self.ctx.build_wasm(kernels.source(kernel), WASM_FLAGS, name=kernel,
                                   libs=kernels.LIBS)


def run_kernel(ctx: Context, builds: Builds, kernel: str, engine: str, cls: str,
               nprocs: int | None = None) -> kernels.Result:
    """One job of ``kernel`` on ``engine``; its result must have verified."""
    native = builds.native(kernel) if engine == NATIVE else None
    wasm = None if engine == NATIVE else builds.module(kernel)
    cmd = ctx.command(engine, native, wasm, [cls], nprocs=nprocs)
    what = f"kernel {kernel} (class {cls}) on {engine}"
    res = kernels.parse(ctx.run(cmd, what=what).stdout)
    if not res.verified:  # the kernel exits nonzero then; this guards the protocol
        raise ToolError(f"{what}: the result did not verify")
    return res


def run(args: argparse.Namespace, ctx: Context) -> int:
    started = _dt.datetime.now().astimezone()
    names = pick_kernels(args.kernels)
    cls = args.cls or ("T" if ctx.quick else "A")
    builds = Builds(ctx, wasm=ctx.engines != [NATIVE])
    for k in names:  # every build first: a broken toolchain shows before any timing
        builds.native(k)
        builds.module(k)
    # one tiny run per kernel and engine fills wasmpi's caches and shows that each verifies
    for engine in ctx.engines:
        ctx.progress(f"warm-up {engine}")
        for k in names:
            run_kernel(ctx, builds, k, engine, "T")

    series: dict[str, Series] = {}
    seconds: dict[tuple[str, str], list[float]] = {}

    def step(kernel: str, engine: str, _round: int) -> None:
        res = run_kernel(ctx, builds, kernel, engine, cls)
        s = series.setdefault(res.metric, Series(f"compute {res.metric}", "rate", res.metric,
                                                 higher_is_better=True, xlabel="class"))
        s.add(kernel, f"class {cls}", engine, res.value)
        seconds.setdefault((kernel, engine), []).append(res.seconds)

    ctx.paired(names, step, label="compute")
    speed = speeds(list(series.values()))
    notes = [
        f"native: {ctx.mpi.mpicc} {' '.join(NATIVE_FLAGS)}; wasm: wasmpi cc "
        f"{' '.join(WASM_FLAGS)}; class {cls}, {ctx.nprocs} ranks",
        "ratios in the tables are t_engine/t_native (above 1: slower); speed = the inverse",
        *summary(speed, cls, ctx.nprocs),
    ]
    ctx.finish("compute", list(series.values()), started=started, notes=notes,
               settings={"kernels": names, "class": cls, "native_flags": list(NATIVE_FLAGS),
                         "wasm_flags": list(WASM_FLAGS),
                         "sources": [f"wasmpi/bench/kernels/{k}.c" for k in names]},
               extra={"speed": speed,
                      "seconds": [{"kernel": k, "engine": e, "rounds": v}
                                  for (k, e), v in seconds.items()]})
    return 0


def speeds(series: Sequence[Series]) -> dict[str, Any]:
    """Per engine: each kernel's speed (median engine rate / median native rate) and
    GM(t_engine/t_native) - 1 over all kernels."""
    out: dict[str, Any] = {}
    for s in series:
        for row in s.rows():
            for engine, ratio in row.get("ratio", {}).items():
                if math.isfinite(ratio) and ratio > 0:
                    out.setdefault(engine, {"kernels": {}})["kernels"][row["bench"]] = 1 / ratio
    for per in out.values():
        per["gm_slowdown"] = gm_slowdown(1 / v for v in per["kernels"].values())
    return out


def summary(speed: dict[str, Any], cls: str, nprocs: int) -> list[str]:
    lines = []
    for engine, per in speed.items():
        ks = ", ".join(f"{k} {v:.2f}x" for k, v in per["kernels"].items())
        lines.append(f"{engine}: speed against native {ks}; GM(t_engine/t_native) - 1 = "
                     f"{per['gm_slowdown']:+.1%}")
    llvm = speed.get("llvm", {}).get("kernels", {})
    at = "" if nprocs == 2 else f"; measured on {nprocs} ranks, the target is for 2"
    for k, v in llvm.items():
        targets = [(k, TARGETS[k])]
        if k == "is" and cls == "A":
            targets.append(("NPB IS class A", TARGET_IS_A))
        for label, target in targets:
            lines.append(f"target llvm {label}: {v:.2f}x native (target >= {target:.2f}x{at}): "
                         f"{'met' if v >= target else 'missed'}")
    return lines
