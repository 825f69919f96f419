"""`wasmpi bench SUB`: native MPI against each wasm engine, side by side, in one invocation.

Each subcommand is a module of this package with ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args, ctx) -> int`` (``ctx``: :class:`~wasmpi.bench.context.Context`). A module that
is not in this install (``compute`` and ``tiers`` come with the compute kernels) runs as a
placeholder that says so. ``all`` runs every subcommand, in quick mode unless ``--full``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from .. import config
from ..errors import UsageError
from ..hostmpi import select
from .context import ENGINES, Context, parse_engines, wasm_engines

#: subcommand -> module in this package, in the order `bench all` runs them
SUBCOMMANDS = {
    "pt2pt": "pt2pt",
    "coll": "coll",
    "compute": "compute",
    "startup": "startup",
    "sizes": "sizes",
    "tiers": "tiers",
    "io": "io",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog.removeprefix('wasmpi ')}: {message}",
                         hint=f"`{self.prog} --help` lists the options")


class _Placeholder:
    """A subcommand whose module this install lacks."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.HELP = f"{name} (not in this install)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        pass

    def run(self, args: argparse.Namespace, ctx: Context) -> int:
        print(f"note: `wasmpi bench {self.name}` is not in this install of wasmpi; skipped",
              flush=True)
        return 0


def module(name: str) -> ModuleType | _Placeholder:
    try:
        return importlib.import_module(f"{__name__}.{SUBCOMMANDS[name]}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{SUBCOMMANDS[name]}":
            raise
        return _Placeholder(name)


def common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engines", default=",".join(ENGINES),
                   help=f"comma-separated, from {', '.join(ENGINES)} (default: all; an engine "
                   "this wasmpi lacks is skipped with a note)")
    p.add_argument("--mpi", metavar="MPICC", help="compiler wrapper of the host MPI (default: as "
                   "for `wasmpi run`)")
    p.add_argument("-n", "-np", dest="nprocs", type=int, default=2, help="ranks (default 2)")
    p.add_argument("--rounds", type=int, help="paired rounds, medians over them (default 5; "
                   "--quick: 2)")
    p.add_argument("--out", type=Path, default=Path("wasmpi-bench"),
                   help="directory for the JSON and PNG files (default ./wasmpi-bench)")
    p.add_argument("--quick", action="store_true",
                   help="small sizes and few rounds (a check that everything runs)")
    p.add_argument("--no-plot", action="store_true", help="no PNG plots")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="seconds one job may take (default 900)")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="wasmpi bench", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="sub", metavar="SUB", required=True)
    for name in SUBCOMMANDS:
        mod = module(name)
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        common_arguments(p)
        mod.add_arguments(p)
    a = sub.add_parser("all", help="every subcommand (quick unless --full)")
    common_arguments(a)
    a.add_argument("--full", action="store_true", help="full sizes and rounds")
    return ap


def make_context(args: argparse.Namespace) -> Context:
    if args.nprocs < 1:
        raise UsageError("bench: -n must be at least 1")
    if args.rounds is not None and args.rounds < 1:
        raise UsageError("bench: --rounds must be at least 1")
    if args.timeout <= 0:
        raise UsageError("bench: --timeout must be positive")
    wanted = parse_engines(args.engines)
    opts = config.current()
    mpi = select(args.mpi or opts.mpicc, None if args.mpi else opts.mpiexec)
    available = wasm_engines()
    skipped = {e: why for e in wanted if e != "native" and (why := available.get(e))}
    engines = [e for e in wanted if e not in skipped]
    rounds = args.rounds or (2 if args.quick else 5)
    ctx = Context(mpi=mpi, engines=engines, nprocs=args.nprocs, rounds=rounds, quick=args.quick,
                  out=args.out, plot=not args.no_plot, timeout=args.timeout, skipped=skipped)
    for e, why in skipped.items():
        ctx.progress(f"engine {e} skipped: {why}")
    return ctx


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.sub == "all":
        args.quick = not args.full
    ctx = make_context(args)
    names = list(SUBCOMMANDS) if args.sub == "all" else [args.sub]
    started = _dt.datetime.now()
    status = 0
    try:
        for name in names:
            mod = module(name)
            if args.sub == "all":
                # each subcommand's own options at their defaults, the common ones as given
                sub_args = parser().parse_args([name])
                for k, v in vars(args).items():
                    if k not in ("sub", "full"):
                        setattr(sub_args, k, v)
                ctx.progress(f"--- {name}")
            else:
                sub_args = args
            ctx.progress.name = name
            code = mod.run(sub_args, ctx)
            status = status or code
    finally:
        import shutil

        shutil.rmtree(ctx.tmp, ignore_errors=True)
    if args.sub == "all":
        took = (_dt.datetime.now() - started).total_seconds()
        print(f"bench all: {len(names)} subcommands in {took:.0f} s; files in {ctx.out}:",
              file=sys.stderr)
        for p in ctx.written:
            print(f"  {p}", file=sys.stderr)
    return status
