"""The ``wasmpi`` command line. The only place that prints errors and exits."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import NoReturn

from . import __version__, _tools
from .errors import UsageError, WasmpiError

EPILOG = """commands:
  cc / c++     compile C / C++ MPI programs to wasm32-wasi (drop-in for mpicc / mpicxx)
  run          run a module on N ranks under the host mpiexec
  exec         run one rank (what mpiexec starts; use it under srun or any launcher)
  compile      precompile a module into the node's cache
  inspect      list a module's imports (supported or not), exports, size and ABI version
  cache        show or clean the cache
  config       print every option's resolved value and where it came from
  bench        benchmarks, native against each engine: pt2pt, coll, compute, startup, sizes,
               tiers, io, all (`wasmpi bench SUB --help`)
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake raises :class:`UsageError` (exit 64, one line) instead of
    printing the usage and exiting 2."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.partition(" ")[2]
        raise UsageError(f"{where}: {message}" if where else message,
                         hint=f"`{self.prog} --help` lists the options")


def _exec_options(p: argparse.ArgumentParser) -> None:
    from .config import add_arguments

    add_arguments(p)
    p.add_argument("module", type=Path, help="the .wasm module")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the guest")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="wasmpi", epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 description="Compile MPI programs once to WebAssembly; run "
                                 "them on any MPI library.")
    ap.add_argument("--version", action="version", version=f"wasmpi {__version__}")
    ap.add_argument("--cmake-toolchain", action="store_true",
                    help="print the path of the CMake toolchain file and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="echo external commands")
    ap.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    from .config import add_config_argument

    add_config_argument(ap, dest="global_config")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.add_parser("cc", help="compile C (all flags pass through; -show prints the command)")
    sub.add_parser("c++", help="compile C++")
    r = sub.add_parser("run", help="run a module on N ranks")
    r.add_argument("-n", "-np", dest="nprocs", type=int, default=1, help="number of ranks")
    r.add_argument("--mpiexec-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for mpiexec (repeatable)")
    _exec_options(r)
    e = sub.add_parser("exec", help="run one rank")
    _exec_options(e)
    c = sub.add_parser("compile", help="precompile modules into the cache")
    c.add_argument("modules", type=Path, nargs="+")
    c.add_argument("--engine", dest="opt_engine", metavar="ENGINE",
                   help="compile for this engine: wasmtime (default) or llvm (env WASMPI_ENGINE)")
    i = sub.add_parser("inspect", help="describe a module, or this wasmpi's MPI coverage")
    i.add_argument("module", type=Path, nargs="?")
    i.add_argument("--json", action="store_true")
    i.add_argument("--coverage", action="store_true",
                   help="list the MPI-3.1 C functions by chapter: implemented, documented "
                   "error or missing; and the MPI-4 ones, probed in the host MPI")
    i.add_argument("--mpi", metavar="MPICC", help="host MPI to probe for MPI-4 functions "
                   "(default: as for run)")
    i.add_argument("--no-host", action="store_true",
                   help="with --coverage: do not build the bridge to probe the host MPI")
    k = sub.add_parser("cache", help="cache info|clean")
    k.add_argument("action", choices=["info", "clean"])
    sub.add_parser("bench", help="benchmarks (`wasmpi bench --help`)", add_help=False)
    g = sub.add_parser("config", help="print the resolved options and their sources")
    g.add_argument("--json", action="store_true")
    from .config import add_arguments

    add_arguments(g)
    add_arguments(g, "cc")
    return ap


def _options(ns: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .config import ExecOptions, current

    args = list(ns.args)
    if args and args[0] == "--":
        args = args[1:]
    return ExecOptions(module=ns.module, args=tuple(args), options=current())


def _print_config(as_json: bool) -> int:
    import json

    from .config import current, rows

    opts = current()
    if as_json:
        print(json.dumps(opts.as_json(), indent=2))
        return 0
    width = max(len(k) for k, _, _ in rows(opts))
    for key, value, source in rows(opts):
        print(f"{key:<{width}} = {value}  ({source})")
    return 0


def dispatch(argv: list[str]) -> int:
    # cc / c++ take compiler flags that argparse must not touch
    front = []
    rest = list(argv)
    config_file: Path | None = None
    while rest and (rest[0] in ("-v", "--verbose", "--debug", "--config")
                    or rest[0].startswith("--config=")):
        front.append(rest.pop(0))
        if front[-1] == "--config" and rest:
            config_file = Path(rest.pop(0))
        elif front[-1].startswith("--config="):
            config_file = Path(front[-1].split("=", 1)[1])
    if "-v" in front or "--verbose" in front:
        _tools.verbose = True
    if rest and rest[0] in ("cc", "c++", "mpicc", "mpicxx"):
        from . import config, toolchain

        config.install(config.resolve(config=config_file))
        return toolchain.compile(rest[1:], cplusplus=rest[0] in ("c++", "mpicxx"))

    if rest and rest[0] == "bench":
        from . import bench, config

        config.install(config.resolve(config=config_file))
        return bench.main(rest[1:])

    ns = parser().parse_args(argv)
    from . import config

    config.install(config.from_namespace(ns))
    if ns.verbose:
        _tools.verbose = True
    if ns.cmake_toolchain:
        from . import toolchain

        print(toolchain.cmake_toolchain_file())
        return 0
    if ns.cmd is None:
        parser().print_help()
        return 0
    if ns.cmd == "config":
        return _print_config(ns.json)
    if ns.cmd == "exec":
        from .rank import execute

        return execute(_options(ns))
    if ns.cmd == "run":
        from .launcher import launch

        return launch(ns.nprocs, _options(ns), ns.mpiexec_arg)
    if ns.cmd == "compile":
        from . import runtime

        for m in ns.modules:
            if config.current().engine == "llvm":
                from .runtime.llvm import compile_for_cache

                path, built = compile_for_cache(m)
            else:
                path, built = runtime.compile_module(m)
            print(f"{m}: {'compiled' if built else 'already cached'} -> {path}")
        return 0
    if ns.cmd == "inspect":
        from .inspect import inspect

        if ns.coverage:
            from .bridge import build, coverage
            from .hostmpi import select

            if ns.no_host:
                print(coverage.text(), end="")
                return 0
            mpi = select(ns.mpi or config.current().mpicc, config.current().mpiexec)
            names = [f.name for f in coverage.mpi4_functions()]
            print(coverage.text(mpi.mpicc, build.host_provides(mpi, names)), end="")
            return 0
        if ns.module is None:
            raise UsageError("inspect: give a module, or --coverage")
        return inspect(ns.module, as_json=ns.json)
    if ns.cmd == "cache":
        from . import cache

        if ns.action == "info":
            print(f"cache: {cache.root()}")
            for name, (n, size) in cache.info().items():
                print(f"  {name:<10} {n:>5} files {size / 1e6:>10.1f} MB")
        else:
            print(f"removed {cache.clean()} files from {cache.root()}")
        return 0
    raise UsageError(f"unknown command {ns.cmd}")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv[:3]
    try:
        code = dispatch(argv)
    except WasmpiError as e:
        if debug:
            traceback.print_exc()
        print(f"wasmpi: error: {e}", file=sys.stderr)
        if e.hint:
            print(f"wasmpi: hint: {e.hint}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    sys.exit(code)
