"""Every wasmpi option, resolved once: command line > ``WASMPI_*`` environment > ``wasmpi.toml``
(in the working directory, or ``--config FILE``) > defaults.

:data:`OPTIONS` declares each option once (flag, variable, file key, kind); :func:`resolve`
turns the four layers into a frozen :class:`Options` that remembers where each value came from.
This is the only module that reads ``os.environ``; the others get their settings from
:func:`current` or as arguments. A bad value anywhere is a :class:`UsageError` naming the option
and its source.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    import argparse

    from .runtime import Limits, Sandbox

CONFIG_FILE = "wasmpi.toml"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
_SUFFIXES = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
TOOLCHAINS = ("zig", "clang")
ENGINES = ("wasmtime", "llvm")


@dataclass(frozen=True)
class Option:
    """One option: its field in :class:`Options`, command-line flag, variable and file key."""

    name: str
    kind: str  # str, path, bool, size, count, seconds, list, toolchain, engine, cpu
    help: str
    default_doc: str
    flag: str | None = None
    env: str | None = None
    #: the variable says the opposite of the option (WASMPI_NO_OPENAT2=1 means openat2 off)
    env_inverted: bool = False
    #: where the command line takes it: "exec" (run, exec, config) or "cc"
    where: str = "exec"
    hidden: bool = False

    @property
    def key(self) -> str:
        """The ``wasmpi.toml`` key."""
        return self.name.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option("mpicc", "str", "compiler wrapper of the host MPI (selects the MPI library)",
           "the `mpich` wheel's mpicc", flag="--mpi", env="WASMPI_MPICC"),
    Option("mpiexec", "str", "the host MPI's launcher", "the mpiexec next to mpicc",
           flag="--mpiexec", env="WASMPI_MPIEXEC"),
    Option("engine", "engine", "how a rank runs the module: wasmtime (Cranelift, compiled at "
           "load) or llvm (wasm2c + clang ahead of time, a native runner per rank)", "wasmtime",
           flag="--engine", env="WASMPI_ENGINE"),
    Option("llvm_cpu", "cpu", "the CPU the llvm engine generates code for: native (this node's "
           "CPU; the cache keeps a build per kind of CPU) or a zig -mcpu name, e.g. x86_64 for "
           "code every x86-64 node runs", "native", flag="--llvm-cpu", env="WASMPI_LLVM_CPU"),
    Option("strict", "bool", "reject a module that imports MPI functions this wasmpi does not "
           "implement (exit 70) instead of trapping only if one is called", "off",
           flag="--strict", env="WASMPI_STRICT"),
    Option("dir", "list", "grant a host directory to the guest, HOST[::GUEST][:ro] (repeatable)",
           "none", flag="--dir"),
    Option("env", "list", "set a guest environment variable, K=V (repeatable)", "none",
           flag="--env"),
    Option("env_pass", "list", "pass a host environment variable to the guest (repeatable)",
           "none", flag="--env-pass"),
    Option("workdir", "str", "the guest's initial working directory (inside a --dir grant)",
           "the guest path of the only --dir grant, else /", flag="--workdir",
           env="WASMPI_WORKDIR"),
    Option("mem_limit", "size", "cap each rank's linear memory (bytes, or with K/M/G): growing "
           "past it makes malloc return NULL", "none (4 GiB, wasm32's own limit)",
           flag="--mem-limit", env="WASMPI_MEM_LIMIT"),
    Option("fuel", "count", "instruction budget of each rank: the rank traps when it runs out",
           "none", flag="--fuel", env="WASMPI_FUEL"),
    Option("openat2", "bool", "resolve MPI-IO paths with openat2(RESOLVE_BENEATH) where the "
           "kernel has it (off: a component walk)", "on", flag="--openat2",
           env="WASMPI_NO_OPENAT2", env_inverted=True),
    Option("time_limit", "seconds", "end the job after SECONDS (exit 124), each rank saying "
           "which MPI call it is in, or that it is computing", "none", flag="--time-limit",
           env="WASMPI_TIME_LIMIT"),
    # the moment the limit runs out (time.time()), set by `wasmpi run` so that all ranks (and
    # spawned children) report at once; a rank started by another launcher counts from its start
    Option("deadline", "seconds", "when the time limit runs out (set by `wasmpi run`)",
           "start + time limit", flag="--deadline", hidden=True),
    # bench/soak.py: each rank prints its bridge's handle counts every SECONDS (a thread;
    # nothing on the MPI call path); off in normal runs
    Option("handle_report", "seconds", "print the bridge's live handles per kind every SECONDS "
           "(stderr)", "off", flag="--handle-report", env="WASMPI_HANDLE_REPORT", hidden=True),
    Option("cache_dir", "path", "the cache of compiled modules and bridges",
           "$XDG_CACHE_HOME/wasmpi, else ~/.cache/wasmpi", flag="--cache-dir",
           env="WASMPI_CACHE_DIR"),
    Option("toolchain", "toolchain", "the C/C++ toolchain of `wasmpi cc` (zig or clang)",
           "clang if WASI_SDK_PATH is set, else zig", flag="--toolchain",
           env="WASMPI_TOOLCHAIN", where="cc"),
    Option("wasi_sdk", "path", "wasi-sdk directory for the clang toolchain", "none",
           env="WASI_SDK_PATH", where="cc"),
    # the job's id in the registry: `wasmpi run` chooses one (or takes the Python API's) and
    # hands it to the ranks in the environment as well as on the command line, so that the
    # launcher finds them among mpiexec's descendants whatever program a rank is
    Option("job", "str", "the job's id in the registry (set by `wasmpi run`)", "a new id",
           flag="--job", env="WASMPI_JOB", hidden=True),
    Option("jobs_dir", "path", "the job registry (wasmpi ps, wait, kill, ...)",
           "$XDG_RUNTIME_DIR/wasmpi, else /tmp/wasmpi-$UID", flag="--jobs-dir",
           env="WASMPI_JOBS_DIR"),
    # the bridge `wasmpi run` built for its ranks, so that they need not ask mpicc again
    Option("bridge", "path", "the MPI bridge library to load (set by `wasmpi run`)",
           "built for the selected MPI", flag="--bridge", env="WASMPI_BRIDGE", hidden=True),
    # the module's machine code `wasmpi run` compiled (or found) in the cache, so that a rank
    # loads it by path instead of reading, validating and hashing the module again; never
    # handed on to spawned children, which run other modules (ExecOptions.spawn_forwarded)
    Option("cwasm", "path", "the module's compiled code to load (set by `wasmpi run`)",
           "looked up in the cache", flag="--cwasm", hidden=True),
)
BY_NAME = {o.name: o for o in OPTIONS}


@dataclass(frozen=True)
class Options:
    """Resolved values; ``sources`` says for each where it came from."""

    mpicc: str | None = None
    mpiexec: str | None = None
    engine: str = "wasmtime"
    llvm_cpu: str = "native"
    strict: bool = False
    dir: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    env_pass: tuple[str, ...] = ()
    workdir: str | None = None
    mem_limit: int | None = None
    fuel: int | None = None
    time_limit: float | None = None
    deadline: float | None = None
    handle_report: float | None = None
    openat2: bool = True
    cache_dir: Path = Path("~/.cache/wasmpi")
    toolchain: str = "zig"
    wasi_sdk: Path | None = None
    bridge: Path | None = None
    cwasm: Path | None = None
    job: str | None = None
    jobs_dir: Path = Path("/tmp/wasmpi")
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def source(self, name: str) -> str:
        return dict(self.sources).get(name, "default")

    def value_text(self, name: str) -> str:
        v = getattr(self, name)
        if v is None:
            return "-"
        if isinstance(v, bool):
            return "on" if v else "off"
        if isinstance(v, tuple):
            return " ".join(v) if v else "-"
        return str(v)

    def as_json(self) -> dict[str, dict[str, Any]]:
        out = {}
        for o in OPTIONS:
            v = getattr(self, o.name)
            out[o.key] = {"value": list(v) if isinstance(v, tuple) else
                          str(v) if isinstance(v, Path) else v, "source": self.source(o.name)}
        return out

    def forwarded(self) -> list[str]:
        """These options as ``wasmpi exec`` flags: what `run` gives each rank (and a rank its
        spawned children), so that a rank resolves exactly the parent's values whatever its
        own environment or working directory holds."""
        out = ["--no-config"]
        for o in OPTIONS:
            if o.where != "exec" or not o.flag:
                continue
            v = getattr(self, o.name)
            if o.kind == "bool":
                out.append(o.flag if v else "--no-" + o.flag[2:])
            elif o.kind == "list":
                for item in v:
                    out += [o.flag, item]
            elif v is not None:
                out += [o.flag, str(v)]
        return out


# --- parsing: each takes the raw value and names its source in errors ------------------------

def _bad(where: str, what: str) -> UsageError:
    return UsageError(f"{where}: {what}")


def _parse(o: Option, raw: Any, where: str) -> Any:
    if o.kind == "list":
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
            raise _bad(where, "expected a list of strings")
        return tuple(raw)
    if o.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return not o.env_inverted if where.startswith("env") else True
        if text in _FALSE:
            return o.env_inverted if where.startswith("env") else False
        raise _bad(where, "expected 1 or 0 (true or false)")
    if o.kind == "seconds":
        try:
            secs = float(raw) if not isinstance(raw, bool) else math.nan
        except (TypeError, ValueError):
            secs = math.nan
        if not math.isfinite(secs) or secs < 0:
            raise _bad(where, "expected a number of seconds >= 0 (0: no limit)")
        return secs or None
    if o.kind in ("size", "count"):
        value = _number(raw, allow_suffix=o.kind == "size")
        if value is None or value <= 0:
            expect = ("a size in bytes, with an optional K, M or G suffix (e.g. 512M)"
                      if o.kind == "size" else "a positive integer")
            raise _bad(where, f"expected {expect}")
        if o.kind == "size" and value > 1 << 32:
            raise _bad(where, "more than 4G, the most a wasm32 memory can hold")
        return value
    if not isinstance(raw, str) or not raw:
        raise _bad(where, "expected a non-empty string")
    if o.kind == "engine":
        if raw not in ENGINES:
            raise _bad(where, f"unknown engine (choose {' or '.join(ENGINES)})")
        return raw
    if o.kind == "cpu":
        if not re.fullmatch(r"[A-Za-z0-9_.+-]+", raw):
            raise _bad(where, "not a CPU name (e.g. native, x86_64, x86_64_v3, znver4)")
        return raw
    if o.kind == "toolchain":
        if raw not in TOOLCHAINS:
            raise _bad(where, f"unknown toolchain (choose {' or '.join(TOOLCHAINS)})")
        return raw
    if o.kind == "path":
        return Path(raw).expanduser().absolute()
    if o.name == "workdir" and not raw.startswith("/"):
        raise _bad(where, "expected an absolute guest path")
    return raw


def _number(raw: Any, allow_suffix: bool) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if not isinstance(raw, str):
        return None
    text = raw.strip().upper().removesuffix("B") if allow_suffix else raw.strip()
    mult = 1
    if allow_suffix and text[-1:] in _SUFFIXES:
        mult = _SUFFIXES[text[-1]]
        text = text[:-1]
    try:
        return int(text) * mult
    except ValueError:
        return None


def _quote(raw: Any) -> str:
    import json  # for an error message only

    return repr(raw) if isinstance(raw, str) else json.dumps(raw)


def _read_file(path: Path, label: str) -> dict[str, Any]:
    import tomllib  # ranks get --no-config: only the parent reads a file

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"--config {path}: no such file") from None
    except OSError as e:
        raise UsageError(f"{label}: cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{label}: invalid TOML: {e}") from None
    unknown = sorted(k for k in data if k.replace("-", "_") not in BY_NAME)
    if unknown:
        raise UsageError(f"{label}: unknown option {unknown[0]!r} "
                         f"(known: {', '.join(o.key for o in OPTIONS if not o.hidden)})")
    return data


def resolve(cli: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None,
            config: Path | None = None, use_file: bool = True,
            cwd: Path | None = None) -> Options:
    """The four layers into one :class:`Options`. ``cli`` maps option names to values given on
    the command line (None or absent: not given); ``config`` is ``--config FILE``."""
    cli = cli or {}
    environ = os.environ if environ is None else environ
    file_data: dict[str, Any] = {}
    label = CONFIG_FILE
    if config is not None:
        label = str(config)
        file_data = _read_file(config, label)
    elif use_file:
        cand = (cwd or Path.cwd()) / CONFIG_FILE
        if cand.is_file():
            file_data = _read_file(cand, label)
    values: dict[str, Any] = {}
    sources: list[tuple[str, str]] = []
    for o in OPTIONS:
        given = cli.get(o.name)
        if given is not None and not (o.kind == "list" and not given):
            flag = o.flag or o.name
            where = flag if o.kind in ("bool", "list") else f"{flag} {given}"
            values[o.name] = _parse(o, given, where)
            sources.append((o.name, "cli"))
        elif o.env and environ.get(o.env, "") != "":
            raw = environ[o.env]
            values[o.name] = _parse(o, raw, f"env {o.env}={raw!r}")
            sources.append((o.name, f"env {o.env}"))
        elif o.key in file_data or o.name in file_data:
            fraw = file_data.get(o.key, file_data.get(o.name))
            values[o.name] = _parse(o, fraw, f"{label}: {o.key} = {_quote(fraw)}")
            sources.append((o.name, label))
    if "cache_dir" not in values:
        xdg = environ.get("XDG_CACHE_HOME")
        values["cache_dir"] = (Path(xdg) if xdg else Path.home() / ".cache") / "wasmpi"
    if "jobs_dir" not in values:
        from .registry import default_dir

        values["jobs_dir"] = default_dir(environ.get("XDG_RUNTIME_DIR"))
    if "toolchain" not in values:
        values["toolchain"] = "clang" if values.get("wasi_sdk") else "zig"
    return Options(**values, sources=tuple(sources))


def host_environ() -> Mapping[str, str]:
    """The host environment, for what wasmpi passes on (``--env-pass``, mpiexec's children)."""
    return os.environ


_current: Options | None = None


def install(opts: Options) -> None:
    """Make ``opts`` what :func:`current` returns (the CLI does this once per process)."""
    global _current
    _current = opts


def current() -> Options:
    """This process's options: the CLI's, else resolved from the environment and file."""
    global _current
    if _current is None:
        _current = resolve()
    return _current


# --- the command line --------------------------------------------------------------------------

def add_config_argument(p: argparse.ArgumentParser, dest: str = "config") -> None:
    p.add_argument("--config", dest=dest, type=Path, metavar="FILE",
                   help=f"read options from FILE instead of ./{CONFIG_FILE}")


def add_arguments(p: argparse.ArgumentParser, where: str = "exec") -> None:
    """The flags of the options the command ``where`` takes, generated from :data:`OPTIONS`."""
    import argparse  # not at the top: a rank started by `wasmpi run` builds no parser

    if where == "exec":
        add_config_argument(p)
        # ranks: the parent's options are all on the command line (Options.forwarded)
        p.add_argument("--no-config", action="store_true", help=argparse.SUPPRESS)
    for o in OPTIONS:
        if o.where != where or not o.flag:
            continue
        dest = "opt_" + o.name
        text = argparse.SUPPRESS if o.hidden else (
            f"{o.help} (env {o.env}; default: {o.default_doc})" if o.env
            else f"{o.help} (default: {o.default_doc})")
        if o.kind == "bool":
            p.add_argument(o.flag, dest=dest, action=argparse.BooleanOptionalAction,
                           default=None, help=text)
        elif o.kind == "list":
            p.add_argument(o.flag, dest=dest, action="append", default=None,
                           metavar=o.name.upper(), help=text)
        else:
            p.add_argument(o.flag, dest=dest, metavar=o.name.upper(), help=text)


def parse_forwarded(words: list[str]) -> tuple[dict[str, Any], list[str]] | None:
    """The command-line values of ``exec``'s words when they have exactly the form
    :meth:`Options.forwarded` writes (``--no-config``, then known flags, then the module and
    its arguments), and the words from the module on; None for anything else, which argparse
    then parses. A rank, started N times per job, thus builds no parser."""
    if words[:1] != ["--no-config"]:
        return None
    flags = _flags()
    cli: dict[str, Any] = {}
    i = 1
    while i < len(words):
        w = words[i]
        if not w.startswith("-"):
            return cli, words[i:]
        o = flags.get(w)
        if o is None:  # --help, --config, --x=y, an abbreviation, a guest's "--": argparse
            return None
        if o.kind == "bool":
            cli[o.name] = w == o.flag
            i += 1
            continue
        if i + 1 >= len(words):
            return None
        if o.kind == "list":
            cli.setdefault(o.name, []).append(words[i + 1])
        else:
            cli[o.name] = words[i + 1]
        i += 2
    return None  # no module: argparse says so


def _flags() -> dict[str, Option]:
    out = {}
    for o in OPTIONS:
        if o.where == "exec" and o.flag:
            out[o.flag] = o
            if o.kind == "bool":
                out["--no-" + o.flag[2:]] = o
    return out


def from_namespace(ns: argparse.Namespace) -> Options:
    cli = {k[4:]: v for k, v in vars(ns).items() if k.startswith("opt_")}
    no_config = bool(getattr(ns, "no_config", False))
    config = getattr(ns, "config", None) or getattr(ns, "global_config", None)
    return resolve(cli, config=config, use_file=not no_config)


# --- one rank's run ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ExecOptions:
    """What `run` and `exec` run: a module, its arguments, and the resolved options."""

    module: Path
    args: tuple[str, ...]
    options: Options = field(default_factory=Options)

    def with_options(self, **changes: Any) -> ExecOptions:
        return replace(self, options=replace(self.options, **changes))

    def forwarded(self) -> list[str]:
        return self.options.forwarded()

    def spawn_forwarded(self) -> list[str]:
        """:meth:`forwarded` for a spawned child, which runs a module of its own."""
        return replace(self.options, cwasm=None).forwarded()

    def limits(self) -> Limits:
        from .runtime import Limits

        return Limits(memory=self.options.mem_limit, fuel=self.options.fuel)

    def sandbox(self) -> Sandbox:
        from .runtime import DirGrant, Sandbox

        o = self.options
        env: dict[str, str] = {}
        host = host_environ()
        for k in o.env_pass:
            if k in host:
                env[k] = host[k]
        for kv in o.env:
            k, sep, v = kv.partition("=")
            if not sep or not k:
                raise UsageError(f"--env {kv!r}: expected KEY=VALUE")
            env[k] = v
        dirs = tuple(DirGrant.parse(d) for d in o.dir)
        workdir = o.workdir
        # a relative guest path (`--dir data`) is a preopen wasi-libc matches from any cwd
        if workdir is None and len(dirs) == 1 and dirs[0].guest.startswith("/"):
            workdir = dirs[0].guest
        if workdir is not None and not any(_beneath(workdir, d.guest) for d in dirs):
            raise UsageError(f"--workdir {workdir} ({o.source('workdir')}): not inside any "
                             "--dir grant", hint="grant it, e.g. --dir HOST::" + workdir)
        if workdir is not None and o.workdir is not None:
            _check_workdir(workdir, dirs)
        return Sandbox(argv=(self.module.name, *self.args), env=tuple(env.items()), dirs=dirs,
                       workdir=workdir)


def _check_workdir(workdir: str, dirs: tuple[Any, ...]) -> None:
    """An explicit workdir must be a directory on the host side of its grant."""
    best = max((d for d in dirs if _beneath(workdir, d.guest)), key=lambda d: len(d.guest))
    rel = os.path.relpath(os.path.normpath(workdir), os.path.normpath(best.guest))
    if not os.path.isdir(os.path.join(best.host, rel)):
        raise UsageError(f"--workdir {workdir}: no such directory in the grant {best.guest}")


def _beneath(path: str, root: str) -> bool:
    """Whether guest path ``path`` is ``root`` or inside it (by components, after
    normalization: a workdir cannot leave its grant through ``..``)."""
    p = os.path.normpath("/" + path.lstrip("/")) if path.startswith("/") else None
    r = os.path.normpath("/" + root.strip("/")) if root.startswith("/") else None
    if p is None or r is None:
        return False
    return r == "/" or p == r or p.startswith(r + "/")


def rows(opts: Options) -> list[tuple[str, str, str]]:
    """(toml key, value, source) for every option: what `wasmpi config` prints."""
    return [(o.key, opts.value_text(o.name), opts.source(o.name)) for o in OPTIONS]
