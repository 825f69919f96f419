"""`wasmpi bench sizes`: the size of each program's ``.wasm`` against its native binary, built
with the host MPI's mpicc dynamically and statically (when the MPI can link statically; when it
cannot, the output says so instead of a number)."""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import subprocess
from pathlib import Path

from ..errors import ToolError, UsageError
from .context import PROGRAMS, Context
from .report import Series
from .stats import NATIVE

HELP = ".wasm size against the native dynamic and static binaries of the same programs"
# the compute kernels (`wasmpi bench compute`), where this install has them
KERNELS = PROGRAMS.parent / "kernels"
# a source checkout's test programs (absent from an installed wheel)
TEST_PROGRAMS = Path(__file__).resolve().parents[3] / "tests" / "programs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--programs", type=Path, nargs="+", metavar="SOURCE",
                        help="C sources to measure (default: wasmpi's benchmark programs and "
                        "compute kernels, and in a source checkout without --quick also "
                        "tests/programs/*.c)")
    parser.add_argument("--opt", default="-O2", help="optimization flag of every build (-O2)")


def sources(args: argparse.Namespace, ctx: Context) -> list[Path]:
    if args.programs:
        missing = [p for p in args.programs if not p.is_file()]
        if missing:
            raise UsageError(f"bench sizes: --programs {missing[0]}: no such file")
        return list(args.programs)
    out = sorted(PROGRAMS.glob("*.c")) + sorted(KERNELS.glob("*.c"))
    if not ctx.quick and TEST_PROGRAMS.is_dir():
        out += sorted(TEST_PROGRAMS.glob("*.c"))
    return out


def _libs(source: Path) -> list[str]:
    # the kernels and the test programs may use libm; the bundled programs do not (and share
    # their builds with the other subcommands of `bench all`)
    return [] if source.parent == PROGRAMS else ["-lm"]


def _shared_libraries(binary: Path) -> list[Path] | None:
    """The shared libraries ``binary`` loads (ldd), or None when ldd cannot say."""
    try:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    libs = []
    for line in out.stdout.splitlines():
        _, arrow, rest = line.partition("=>")
        path = Path(rest.split("(")[0].strip()) if arrow else None
        if path and path.is_file():
            libs.append(path.resolve())
    return sorted(set(libs))


def run(args: argparse.Namespace, ctx: Context) -> int:
    started = _dt.datetime.now().astimezone()
    series = Series("sizes", "file size", "KiB", xlabel="program")
    static_problem: str | None = None
    failed: list[str] = []
    for src in sources(args, ctx):
        try:
            wasm = ctx.build_wasm(src, [args.opt], libs=_libs(src))
            native = ctx.build_native(src, [args.opt], libs=_libs(src))
        except ToolError as e:
            # a test program may need flags or headers of its own: say so, measure the rest
            failed.append(f"{src.name}: {str(e).splitlines()[0]}")
            continue
        bench = src.stem
        series.add(bench, "size", NATIVE, native.stat().st_size / 1024)
        series.add(bench, "size", "wasm", wasm.stat().st_size / 1024)
        libs = _shared_libraries(native)
        if libs is not None:
            total = native.stat().st_size + sum(p.stat().st_size for p in libs)
            series.add(bench, "size", "native+libs", total / 1024)
        if static_problem is None:
            try:
                static = ctx.build_native(src, [args.opt, "-static"], name=src.stem + "-static",
                                          libs=_libs(src))
                series.add(bench, "size", "static", static.stat().st_size / 1024)
            except ToolError as e:
                lines = [ln for ln in str(e).splitlines()[1:] if "error" in ln.lower()
                         or "cannot find" in ln]
                static_problem = lines[0].strip() if lines else str(e).splitlines()[0]
    notes = ["native: the dynamic binary alone; native+libs: it and every shared library it "
             "loads (ldd: libmpi, libc...); static: everything linked in; wasm: the module as "
             "`wasmpi cc` writes it (MPI is imported, libc is inside)"]
    if static_problem is not None:
        notes.append(f"no static native binaries: {ctx.mpi.mpicc} -static failed "
                     f"({static_problem})")
    for ref in ("static", "native+libs"):
        ratios = [r["values"][ref]["median"] / r["values"]["wasm"]["median"]
                  for r in series.rows() if ref in r["values"]]
        if ratios:
            smaller = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
            notes.append(f"wasm is {smaller:.1f}x smaller than {ref} (GM over {len(ratios)} "
                         "programs; MPIWasm reports 139.5x against static)")
    notes += [f"not built: {f}" for f in failed]
    # one table row per program: x is the program; no rounds, sizes do not vary
    flat = Series("sizes", "file size", "KiB", xlabel="program")
    for (bench, _), by_engine in series.points.items():
        for engine, values in by_engine.items():
            for v in values:
                flat.add("binary size", bench, engine, v)
    ctx.finish("sizes", [flat], started=started, notes=notes,
               settings={"opt": args.opt, "static": static_problem is None})
    return 0
