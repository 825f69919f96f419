"""The IMB-style message benchmarks of `wasmpi bench pt2pt` and `wasmpi bench coll`: the program
``programs/imb.c``, built natively and to wasm, run on each engine in paired rounds."""

from __future__ import annotations

import argparse
import datetime as _dt
import re

from ..errors import ToolError, UsageError
from .context import Context
from .report import Series

PT2PT = ("PingPong", "PingPing", "Sendrecv", "Exchange")
COLL = ("Bcast", "Allreduce", "Allgather", "Alltoall", "Reduce", "Gather", "Scatter", "Barrier")
QUICK_MAX = "4K"
RESULT = re.compile(r"^RESULT\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)")


def add_arguments(p: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    p.add_argument("--bench", default="", help=f"comma-separated subset of {', '.join(choices)}")
    p.add_argument("--max-bytes", default=None,
                   help=f"largest message, K/M suffixes (default 4M; --quick: {QUICK_MAX})")
    p.add_argument("--opt", default="-O2", help="optimization flag of both builds (-O2)")
    p.add_argument("--batches", type=int, default=0, help="timed batches per point (imb: 5)")
    p.add_argument("--scale", type=float, default=0, help="multiply imb's repetitions")
    p.add_argument("--whole", action="store_true", help="alternate whole sweeps instead of one "
                   "benchmark at a time (the default with --quick, which also skips warm-up)")


def parse(stdout: str) -> dict[tuple[str, int], float]:
    """imb's RESULT lines: (benchmark, bytes) -> median time per iteration in microseconds."""
    out = {}
    for line in stdout.splitlines():
        m = RESULT.match(line)
        if m:
            out[(m[1], int(m[2]))] = float(m[3])
    return out


def run(args: argparse.Namespace, ctx: Context, name: str, choices: tuple[str, ...]) -> int:
    started = _dt.datetime.now().astimezone()
    benches = list(choices)
    if args.bench:
        known = {b.lower(): b for b in choices}
        try:
            benches = [known[b.strip().lower()] for b in args.bench.split(",") if b.strip()]
        except KeyError as e:
            raise UsageError(f"bench {name}: unknown benchmark {e.args[0]!r} (choose from "
                             f"{', '.join(choices)})") from None
    notes = []
    if ctx.nprocs < 2:
        two = [b for b in benches if b in ("PingPong", "PingPing")]
        benches = [b for b in benches if b not in two]
        if two:
            notes.append(f"{', '.join(two)} need 2 ranks: skipped")
    if not benches:
        raise UsageError(f"bench {name}: nothing to run with -n {ctx.nprocs}")
    max_bytes = args.max_bytes or (QUICK_MAX if ctx.quick else "4M")
    imb_args = [max_bytes]
    if args.batches or ctx.quick:
        imb_args += ["-batches", str(args.batches or 1)]
    if args.scale or ctx.quick:
        imb_args += ["-scale", str(args.scale or 0.05)]
    source = ctx.program("imb.c")
    native = ctx.build_native(source, [args.opt], name="imb")
    wasm = ctx.build_wasm(source, [args.opt], name="imb") if ctx.engines != ["native"] else None

    def once(group: list[str], engine: str, extra: list[str] | None = None
             ) -> dict[tuple[str, int], float]:
        cmd = ctx.command(engine, native, wasm, [*imb_args, *(extra or []), ",".join(group)])
        res = parse(ctx.run(cmd, what=f"imb on {engine}").stdout)
        if not res:
            raise ToolError(f"imb on {engine}: no RESULT lines from {' '.join(cmd)}")
        return res

    # a first run per engine fills wasmpi's caches and shows every engine works
    if not ctx.quick:
        for engine in ctx.engines:
            ctx.progress(f"warm-up {engine}")
            once([benches[0]], engine, ["-batches", "1", "-scale", "0.01"])
    series = Series(name, "time per iteration", "us")

    def step(group: list[str], engine: str, _round: int) -> None:
        for (b, size), t in once(group, engine).items():
            series.add(b, size, engine, t)

    whole = args.whole or ctx.quick
    ctx.paired([benches] if whole else [[b] for b in benches], step, label=name)
    ctx.finish(name, [series], started=started, notes=notes,
               settings={"benchmarks": benches, "imb_args": imb_args, "opt": args.opt,
                         "interleave": "whole sweep" if whole else "per benchmark",
                         "program": "wasmpi/bench/programs/imb.c"})
    return 0
