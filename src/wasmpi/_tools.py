"""One wrapper for every external command (zig, clang, mpicc, mpiexec): resolve, echo, explain."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import ToolError

#: Set by the CLI's ``-v``: echo every external command to stderr before running it.
verbose = False


def echo(argv: Sequence[str | Path]) -> None:
    if verbose:
        print("+ " + shlex.join(str(a) for a in argv), file=sys.stderr, flush=True)


def which(name: str, *, what: str, hint: str | None = None) -> str:
    found = shutil.which(name)
    if not found:
        raise ToolError(f"{what} not found: {name}", hint=hint)
    return found


def run(argv: Sequence[str | Path], *, what: str, hint: str | None = None,
        capture: bool = False, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise :class:`ToolError` saying what ran and why it failed."""
    echo(argv)
    try:
        proc = subprocess.run([str(a) for a in argv], text=True, cwd=cwd,
                              capture_output=capture, stdin=subprocess.DEVNULL)
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
