"""Options of a rank, resolved once into frozen dataclasses (CLI > environment > defaults)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .runtime import DirGrant, Sandbox


@dataclass(frozen=True)
class ExecOptions:
    module: Path
    args: tuple[str, ...]
    dirs: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    env_pass: tuple[str, ...] = ()
    mpicc: str | None = None
    #: Reject a module that imports MPI functions this wasmpi does not implement, instead of
    #: loading them as stubs that trap when called.
    strict: bool = False
    #: End the job after this many seconds (None: no limit).
    time_limit: float | None = None
    #: When the limit runs out (time.time()): set by `wasmpi run` so that all ranks report at
    #: once; a rank started by another launcher counts from its own start.
    deadline: float | None = None

    def forwarded(self) -> list[str]:
        """The same options as ``wasmpi exec`` flags (the launcher passes them to each rank)."""
        # explicit either way: a rank must not let WASMPI_STRICT overrule the parent's --no-strict
        out: list[str] = ["--strict" if self.strict else "--no-strict"]
        if self.time_limit is not None:
            out += ["--time-limit", repr(self.time_limit)]
        if self.deadline is not None:
            out += ["--deadline", repr(self.deadline)]
        for d in self.dirs:
            out += ["--dir", d]
        for e in self.env:
            out += ["--env", e]
        for k in self.env_pass:
            out += ["--env-pass", k]
        return out

    def sandbox(self) -> Sandbox:
        env: dict[str, str] = {}
        for k in self.env_pass:
            if k in os.environ:
                env[k] = os.environ[k]
        for kv in self.env:
            k, sep, v = kv.partition("=")
            if not sep or not k:
                raise UsageError(f"--env {kv!r}: expected KEY=VALUE")
            env[k] = v
        return Sandbox(
            argv=(self.module.name, *self.args),
            env=tuple(env.items()),
            dirs=tuple(DirGrant.parse(d) for d in self.dirs),
        )


STRICT_ENV = "WASMPI_STRICT"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def resolve_strict(cli: bool | None) -> bool:
    """``--strict`` / ``--no-strict`` if given, else ``WASMPI_STRICT``, else off."""
    if cli is not None:
        return cli
    value = os.environ.get(STRICT_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise UsageError(f"{STRICT_ENV}={os.environ[STRICT_ENV]!r}: expected 1 or 0")


def parse_seconds(option: str, text: str | None) -> float | None:
    """A duration in seconds (``--time-limit 2.5``); 0 or no value means no limit."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{option} {text!r}: expected a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{option} {text!r}: expected a number of seconds >= 0")
    return value or None
