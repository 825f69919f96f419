"""`wasmpi bench tiers`: MPIWasm's Table 1 (PPoPP'23) for wasmpi's engines: the time to compile
the CG kernel to machine code against its single-rank GFLOP/s.

Compile time per engine: ``wasmpi compile`` of the CG module into a cold cache (a fresh cache
directory holding only the MPI bridge), timed inside the process around the command itself
(``python -m wasmpi.bench.tiers``), so that the interpreter's start and imports, which would
swamp Cranelift's tens of milliseconds, are left out: what is timed is reading and hashing the
module and Cranelift producing the ``.cwasm`` (wasmtime) or wasm2c + zig cc producing the ``.so``
(llvm), and writing it to the cache.
Native: the host mpicc (gcc) building the kernel at -O3. The C-to-wasm step (``wasmpi cc``)
is timed too and reported apart: it is shared by the engines, and zig may answer it from its
own cache.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib
import os
import re
import sys
import tempfile
import time
from itertools import count
from pathlib import Path
from typing import Any

from .. import config
from ..errors import ToolError
from . import kernels
from .compute import NATIVE_FLAGS, WASM_FLAGS
from .context import Context
from .report import Series
from .stats import NATIVE, median

HELP = "compile time against single-rank CG GFLOP/s per engine (MPIWasm's Table 1)"
KERNEL = "cg"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--class", dest="cls", default=None, type=str.upper,
                   choices=kernels.CLASSES, help="CG size per rank (default A; --quick: T)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    started = _dt.datetime.now().astimezone()
    cls = args.cls or ("T" if ctx.quick else "A")
    src = kernels.source(KERNEL)
    engines = [e for e in ctx.engines if e != NATIVE]
    warm_cache = config.current().cache_dir
    serial = count()
    native = ctx.build_native(src, NATIVE_FLAGS, name=KERNEL, libs=kernels.LIBS)
    wasm = (ctx.build_wasm(src, WASM_FLAGS, name=KERNEL, libs=kernels.LIBS)
            if engines else None)
    for engine in ctx.engines:  # caches filled, and the kernel verifies on every engine
        ctx.progress(f"warm-up {engine}")
        _cg(ctx, engine, native, wasm, "T")

    compile_s = Series("tiers compile", "compile time", "s", xlabel="kernel")
    rate = Series("tiers CG", "single-rank rate", "GFLOP/s", higher_is_better=True,
                  xlabel="class")
    front: list[float] = []
    raw: dict[str, list[float]] = {}

    def timed(cmd: list[str], what: str, env: dict[str, str] | None = None) -> float:
        t0 = time.monotonic()
        ctx.run(cmd, what=what, env=ctx.env(env))
        return time.monotonic() - t0

    def step(_group: None, engine: str, _round: int) -> None:
        n = next(serial)
        if engine == NATIVE:
            out = ctx.tmp / f"tiers-native-{n}"
            compile_s.add("compile", KERNEL, NATIVE, timed(
                [ctx.mpi.mpicc, *NATIVE_FLAGS, "-o", str(out), str(src), *kernels.LIBS],
                f"building {src.name} with {ctx.mpi.mpicc}"))
        else:
            assert wasm is not None
            out = ctx.tmp / f"tiers-{n}.wasm"
            front.append(timed([sys.executable, "-m", "wasmpi", "cc", *WASM_FLAGS, "-o",
                                str(out), str(src), *kernels.LIBS],
                               f"building {src.name} with wasmpi cc"))
            # ctx.tmp is shared by the subcommands of `bench all`: a directory of our own
            cold = Path(tempfile.mkdtemp(prefix="tiers-cold-", dir=ctx.tmp))
            env = {"WASMPI_CACHE_DIR": str(_cold_cache(cold, warm_cache))}
            cmd = [sys.executable, "-m", __name__, *_select(engine), str(wasm)]
            t0 = time.monotonic()
            stdout = ctx.run(cmd, what=f"wasmpi compile on {engine} (cold cache)",
                             env=ctx.env(env)).stdout
            raw.setdefault(engine, []).append(time.monotonic() - t0)
            compile_s.add("compile", KERNEL, engine, _compile_seconds(stdout))
        rate.add("CG, 1 rank", f"class {cls}", engine, _cg(ctx, engine, native, wasm, cls))

    ctx.paired([None], step, label="tiers")
    table1 = _table1(compile_s, rate, ctx.engines)
    notes = ["compile: engine = `wasmpi compile` into a cold cache, interpreter start and "
             f"imports left out; native = {ctx.mpi.mpicc} {' '.join(NATIVE_FLAGS)}"]
    if front:
        notes.append(f"C to wasm (wasmpi cc {' '.join(WASM_FLAGS)}, shared by the engines): "
                     f"median {median(front):.2f} s")
    notes += [f"{e}: `wasmpi compile` on a cold cache, whole command: median {median(v):.2f} s"
              for e, v in raw.items()]
    print(_format(table1, cls) + "\n", flush=True)
    ctx.finish("tiers", [compile_s, rate], started=started, notes=notes,
               settings={"kernel": KERNEL, "class": cls, "ranks": 1,
                         "native_flags": list(NATIVE_FLAGS), "wasm_flags": list(WASM_FLAGS)},
               extra={"table1": table1, "c_to_wasm_s": front,
                      "compile_cold_whole_command_s": raw})
    return 0


def _compile_seconds(stdout: str) -> float:
    m = re.search(r"^TIERS-COMPILE (\S+)$", stdout, re.MULTILINE)
    if not m:
        raise ToolError(f"no TIERS-COMPILE line from the timed compile:\n{stdout[-2000:]}")
    return float(m[1])


def _select(engine: str) -> list[str]:
    return ["--engine", engine] if "engine" in config.BY_NAME else []


def _cg(ctx: Context, engine: str, native: Path, wasm: Path | None, cls: str) -> float:
    cmd = ctx.command(engine, native, wasm, [cls], nprocs=1)
    res = kernels.parse(ctx.run(cmd, what=f"cg (class {cls}) on {engine}").stdout)
    return res.value


def _cold_cache(path: Path, warm: Path) -> Path:
    """``path`` (empty) made a cache directory with the warm cache's MPI bridge only."""
    if (warm / "bridge").is_dir():
        os.symlink(warm / "bridge", path / "bridge")
    return path


def _table1(compile_s: Series, rate: Series, engines: list[str]) -> list[dict[str, Any]]:
    """One row per engine: median compile time, median GFLOP/s, speed against native."""
    c = {e: v["median"] for r in compile_s.rows() for e, v in r["values"].items()}
    g = {e: v["median"] for r in rate.rows() for e, v in r["values"].items()}
    base = g.get(NATIVE, float("nan"))
    return [{"engine": e, "compile_s": c.get(e, float("nan")), "gflops": g.get(e, float("nan")),
             "speed": g.get(e, float("nan")) / base if base > 0 else float("nan")}
            for e in engines]


def _format(table1: list[dict[str, Any]], cls: str) -> str:
    lines = [f"== Table 1 (MPIWasm, PPoPP'23) for wasmpi: CG class {cls}, 1 rank",
             f"{'engine':<10} {'compile [s]':>12} {'GFLOP/s':>9} {'x native':>9}"]
    lines += [f"{r['engine']:<10} {r['compile_s']:>12.3f} {r['gflops']:>9.3f} {r['speed']:>9.2f}"
              for r in table1]
    return "\n".join(lines)


def time_compile(argv: list[str]) -> int:
    """``python -m wasmpi.bench.tiers [--engine E] MODULE``: `wasmpi compile` timed without the
    interpreter's start and imports."""
    from ..cli import dispatch

    importlib.import_module("wasmpi.runtime")
    with contextlib.suppress(ImportError):
        importlib.import_module("wasmpi.runtime.llvm")
    t0 = time.perf_counter()
    code = dispatch(["compile", *argv])
    print(f"TIERS-COMPILE {time.perf_counter() - t0:.6f}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(time_compile(sys.argv[1:]))
