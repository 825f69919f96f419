"""`wasmpi bench io`: POSIX write and cached read bandwidth (read(2) and pread(2)), one file per
process, in a ``--dir`` grant (wasm) or the same host directory (native), at 64 KiB, 1 MiB and
16 MiB transfers."""

from __future__ import annotations

import argparse
import datetime as _dt
import shutil
from pathlib import Path

from ..errors import ToolError, UsageError
from .context import Context
from .report import Series
from .stats import NATIVE

HELP = ("POSIX I/O in a --dir grant, file per process: write, cached read and pread "
        "bandwidth")
TRANSFERS = ("64K", "1M", "16M")
#: each phase io.c prints, and its row in the tables
PHASES = {"write": "write", "read": "cached read", "pread": "cached pread"}
GUEST = "/data"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, help="host directory for the files (default: a "
                        "temporary directory; a file system like the application's)")
    parser.add_argument("--total", default=None,
                        help="bytes per rank and transfer size (default 64M; --quick: 16M)")


def parse(stdout: str) -> dict[tuple[str, int], float]:
    out = {}
    for line in stdout.splitlines():
        f = line.split()
        if len(f) == 4 and f[0] == "IO":
            out[(f[1], int(f[2]))] = float(f[3])
    return out


def run(args: argparse.Namespace, ctx: Context) -> int:
    started = _dt.datetime.now().astimezone()
    total = args.total or ("16M" if ctx.quick else "64M")
    if not total[:-1].isdigit() and not total.isdigit():
        raise UsageError(f"bench io: --total {total!r}: expected bytes with a K or M suffix")
    base = args.dir.absolute() if args.dir else ctx.tmp / "io"
    if args.dir and not args.dir.is_dir():
        raise UsageError(f"bench io: --dir {args.dir}: no such directory")
    source = ctx.program("io.c")
    native = ctx.build_native(source, ["-O2"], name="io")
    wasm = ctx.build_wasm(source, ["-O2"], name="io") if ctx.engines != [NATIVE] else None
    dirs = {}
    for e in ctx.engines:  # a directory per engine: no run sees another's files
        dirs[e] = base / f"wasmpi-bench-io-{e}"
        dirs[e].mkdir(parents=True, exist_ok=True)

    def once(engine: str) -> dict[tuple[str, int], float]:
        if engine == NATIVE:
            cmd = ctx.command(NATIVE, native, None, [str(dirs[NATIVE]), total, *TRANSFERS])
        else:
            cmd = ctx.command(engine, None, wasm, [GUEST, total, *TRANSFERS],
                              wasmpi_opts=["--dir", f"{dirs[engine]}::{GUEST}"])
        res = parse(ctx.run(cmd, what=f"io on {engine}").stdout)
        if len(res) != len(PHASES) * len(TRANSFERS):
            raise ToolError(f"io on {engine}: expected {len(PHASES) * len(TRANSFERS)} IO lines")
        return res

    series = Series("io", "bandwidth per rank", "MB/s", higher_is_better=True,
                    xlabel="transfer size [bytes]")
    try:
        for e in ctx.engines:
            ctx.progress(f"warm-up {e}")
            once(e)

        def step(_g: None, engine: str, _round: int) -> None:
            for (phase, xfer), mbs in once(engine).items():
                series.add(PHASES[phase], xfer, engine, mbs)

        ctx.paired([None], step, label="io")
    finally:
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)
    ctx.finish("io", [series], started=started,
               notes=[f"{total} bytes per rank and transfer size; write: into the page cache "
                      "(no fsync); read: a second read of the file just read; pread: a third, "
                      "at explicit offsets"],
               settings={"total": total, "transfers": list(TRANSFERS), "dir": str(base),
                         "program": "wasmpi/bench/programs/io.c"})
    return 0
