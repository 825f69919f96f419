"""The ``wasmpi`` command line. The only place that prints errors and exits."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__, _tools
from .errors import UsageError, WasmpiError

if TYPE_CHECKING:
    import argparse

EPILOG = """commands:
  cc / c++     compile C / C++ MPI programs to wasm32-wasi (drop-in for mpicc / mpicxx)
  run          run a module on N ranks under the host mpiexec
  exec         run one rank (what mpiexec starts; use it under srun or any launcher)
  compile      precompile a module into the node's cache
  inspect      list a module's imports (supported or not), exports, size and ABI version
  cache        show or clean the cache
  config       print every option's resolved value and where it came from
  ps           list jobs (running and paused; --all: finished too)
  wait         wait for a job to end; exit with its status
  kill         send a job a signal (default SIGTERM)
  pause        stop a job's ranks; resume continues them
  monitor      print a job's state changes until it ends
  logs         print a job's per-rank output (jobs run with --output DIR)
  link         link two jobs: if either ends abnormally, the other is killed (unlink undoes)
  bench        benchmarks, native against each engine: pt2pt, coll, compute, startup, sizes,
               tiers, io, all (`wasmpi bench SUB --help`)
"""


def _parser_class() -> type[argparse.ArgumentParser]:
    # argparse is imported here, not at the top: a rank started by `wasmpi run` parses its
    # options without it (config.parse_forwarded)
    import argparse

    class _Parser(argparse.ArgumentParser):
        """argparse, but a usage mistake raises :class:`UsageError` (exit 64, one line) instead
        of printing the usage and exiting 2."""

        def error(self, message: str) -> NoReturn:
            where = self.prog.partition(" ")[2]
            raise UsageError(f"{where}: {message}" if where else message,
                             hint=f"`{self.prog} --help` lists the options")

    return _Parser


def _exec_options(p: argparse.ArgumentParser) -> None:
    import argparse

    from .config import add_arguments

    add_arguments(p)
    p.add_argument("module", type=Path, help="the .wasm module")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the guest")


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with ``only`` ("exec" or "run"), just that command's subparser: a rank,
    started N times per job, and `wasmpi run` need not build the others."""
    import argparse

    ap = _parser_class()(prog="wasmpi", epilog=EPILOG,
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
    if only == "exec":
        _exec_options(sub.add_parser("exec", help="run one rank"))
        return ap
    if only == "run":
        _run_command(sub)
        return ap
    sub.add_parser("cc", help="compile C (all flags pass through; -show prints the command)")
    sub.add_parser("c++", help="compile C++")
    _run_command(sub)
    _job_commands(sub)
    e = sub.add_parser("exec", help="run one rank")
    _exec_options(e)
    c = sub.add_parser("compile", help="precompile modules into the cache")
    c.add_argument("modules", type=Path, nargs="+")
    c.add_argument("--engine", dest="opt_engine", metavar="ENGINE",
                   help="compile for this engine: wasmtime (default) or llvm (env WASMPI_ENGINE)")
    c.add_argument("--llvm-cpu", dest="opt_llvm_cpu", metavar="CPU",
                   help="with --engine llvm: the CPU to generate code for (default native; "
                   "env WASMPI_LLVM_CPU)")
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


def _run_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    r = sub.add_parser("run", help="run a module on N ranks")
    r.add_argument("-n", "-np", dest="nprocs", type=int, default=1, help="number of ranks")
    r.add_argument("--mpiexec-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for mpiexec (repeatable)")
    r.add_argument("--output", type=Path, metavar="DIR",
                   help="also write each rank's stdout and stderr to DIR/rank.R.out and .err, "
                   "lines prefixed [R] (see `wasmpi logs`)")
    r.add_argument("--output-raw", action="store_true",
                   help="with --output: no [R] prefix in the files")
    _exec_options(r)


def _job_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def job(name: str, help_text: str, n: int = 1) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        p.add_argument("--jobs-dir", dest="opt_jobs_dir", metavar="DIR",
                       help="the job registry (env WASMPI_JOBS_DIR)")
        for i in range(n):
            p.add_argument("job" if n == 1 else f"job{i + 1}", metavar="JOB",
                           help="a job id, or an unambiguous prefix of one")
        return p

    p = job("ps", "list jobs", n=0)
    p.add_argument("--all", "-a", action="store_true", help="finished jobs too")
    p.add_argument("--json", action="store_true")
    w = job("wait", "wait for a job to end; exit with its status")
    w.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="give up after SECONDS (exit 124)")
    k = job("kill", "send a job a signal")
    k.add_argument("--signal", "-s", default="TERM", metavar="SIG", help="TERM (default), "
                   "INT, KILL, HUP, ... or a number")
    job("pause", "stop a job's ranks (SIGSTOP)")
    job("resume", "continue a paused job's ranks (SIGCONT)")
    m = job("monitor", "print a job's state changes until it ends; exit with its status")
    m.add_argument("--json", action="store_true", help="one JSON object per line")
    g = job("logs", "print a job's per-rank stdout and stderr (run with --output DIR)")
    g.add_argument("--rank", type=int, metavar="R", help="only rank R")
    g.add_argument("--stream", choices=["stdout", "stderr"], help="only one stream")
    job("link", "link two jobs both ways: if either ends abnormally, the other is killed", 2)
    job("unlink", "remove the link between two jobs", 2)


def _job_command(ns: argparse.Namespace) -> int:
    import dataclasses
    import json

    from . import control, registry

    reg = control.open_registry()
    if ns.cmd == "ps":
        control.print_records(control.ps(reg, ns.all), ns.json)
        return 0
    if ns.cmd in ("link", "unlink"):
        a, b = reg.find(ns.job1).id, reg.find(ns.job2).id
        (control.link if ns.cmd == "link" else control.unlink)(reg, a, b)
        return 0
    rec = reg.find(ns.job)
    if ns.cmd == "wait":
        return control.exit_status(control.wait(reg, rec.id, ns.timeout))
    if ns.cmd == "kill":
        signum = registry.parse_signal(ns.signal)
        after = control.kill(reg, rec.id, signum)
        if not after.live:
            print(f"wasmpi: job {rec.id} has already ended ({after.state})", file=sys.stderr)
        return 0
    if ns.cmd == "pause":
        control.pause(reg, rec.id)
        return 0
    if ns.cmd == "resume":
        control.resume(reg, rec.id)
        return 0
    if ns.cmd == "monitor":
        def show(ev: control.Event) -> None:
            print(json.dumps(dataclasses.asdict(ev)) if ns.json else ev.line(), flush=True)

        return control.exit_status(control.monitor(reg, rec.id, show))
    if ns.cmd == "logs":
        for stream, text in control.logs(rec, ns.rank, ns.stream):
            (sys.stdout if stream == "stdout" else sys.stderr).write(text)
        return 0
    raise UsageError(f"unknown command {ns.cmd}")


JOB_COMMANDS = ("ps", "wait", "kill", "pause", "resume", "monitor", "logs", "link", "unlink")


def _guest_args(args: list[str]) -> list[str]:
    return args[1:] if args[:1] == ["--"] else args


def _options(ns: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .config import ExecOptions, current

    return ExecOptions(module=ns.module, args=tuple(_guest_args(list(ns.args))),
                       options=current())


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

    from . import config

    if rest[:1] == ["exec"] and config_file is None:
        fast = config.parse_forwarded(rest[1:])
        if fast is not None:  # what `wasmpi run` and spawning ranks write: no argparse
            values, words = fast
            config.install(config.resolve(values, use_file=False))
            from .rank import execute

            return execute(config.ExecOptions(module=Path(words[0]),
                                              args=tuple(_guest_args(words[1:])),
                                              options=config.current()))
    # `exec` (N times per job) and `run` build their own subparser only
    ns = parser(rest[0] if rest[:1] in (["exec"], ["run"]) else None).parse_args(argv)

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

        return launch(ns.nprocs, _options(ns), ns.mpiexec_arg, output=ns.output,
                      prefix=not ns.output_raw)
    if ns.cmd in JOB_COMMANDS:
        return _job_command(ns)
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
            import traceback

            traceback.print_exc()
        print(f"wasmpi: error: {e}", file=sys.stderr)
        if e.hint:
            print(f"wasmpi: hint: {e.hint}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    sys.exit(code)
