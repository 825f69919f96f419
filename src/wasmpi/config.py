"""Options of a rank, resolved once into frozen dataclasses (CLI > environment > defaults)."""

from __future__ import annotations

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

    def forwarded(self) -> list[str]:
        """The same options as ``wasmpi exec`` flags (the launcher passes them to each rank)."""
        out: list[str] = []
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
