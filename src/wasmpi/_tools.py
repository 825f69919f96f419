"""One wrapper for every external command (zig, clang, mpicc, mpiexec): resolve, echo, explain."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ToolError

if TYPE_CHECKING:
    import subprocess

# subprocess, shlex and shutil are imported by the functions that use them: a rank (`wasmpi
# exec`, started N times per job) runs no tool, and these imports are a measurable part of its
# start-up

#: Set by the CLI's ``-v``: echo every external command to stderr before running it.
verbose = False


def echo(argv: Sequence[str | Path]) -> None:
    if verbose:
        import shlex

        print("+ " + shlex.join(str(a) for a in argv), file=sys.stderr, flush=True)


def which(name: str, *, what: str, hint: str | None = None) -> str:
    import shutil

    found = shutil.which(name)
    if not found:
        raise ToolError(f"{what} not found: {name}", hint=hint)
    return found


def run(argv: Sequence[str | Path], *, what: str, hint: str | None = None,
        capture: bool = False, cwd: Path | None = None,
        env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command (``env``: variables set on top of ours); on failure raise
    :class:`ToolError` saying what ran and why it failed."""
    import os
    import shlex
    import subprocess

    echo(argv)
    try:
        proc = subprocess.run([str(a) for a in argv], text=True, cwd=cwd,
                              capture_output=capture, stdin=subprocess.DEVNULL,
                              env={**os.environ, **env} if env else None)
    except FileNotFoundError as e:
        raise ToolError(f"{what}: cannot run {argv[0]}: {e.strerror}", hint=hint) from None
    if proc.returncode != 0:
        detail = ""
        if capture and proc.stderr:
            detail = "\n" + proc.stderr.strip()
        raise ToolError(
            f"{what} failed (exit {proc.returncode}): {shlex.join(str(a) for a in argv)}{detail}",
            hint=hint,
        )
    return proc
