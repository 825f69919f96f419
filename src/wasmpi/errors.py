"""Error classes. Library code raises these; only :func:`wasmpi.cli.main` prints and exits."""

from __future__ import annotations


class WasmpiError(Exception):
    """Base class: a one-line message for the user and the process exit code it maps to."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UsageError(WasmpiError):
    """Bad command line or option value."""

    exit_code = 64  # EX_USAGE


class InputError(WasmpiError):
    """An input file that is missing or is not what it should be (e.g. not a wasm module)."""

    exit_code = 65  # EX_DATAERR


class ToolError(WasmpiError):
    """An external tool (zig, clang, mpicc, mpiexec) failed or could not be found."""

    exit_code = 69  # EX_UNAVAILABLE


class LinkError(WasmpiError):
    """A module imports something this wasmpi does not provide (e.g. an unsupported MPI call)."""

    exit_code = 70


class GuestTrap(WasmpiError):
    """The guest trapped (out-of-bounds access, unreachable, bad pointer passed to MPI...)."""

    exit_code = 134  # as a native program killed by SIGABRT


class CacheError(WasmpiError):
    """The cache directory cannot be used."""

    exit_code = 73  # EX_CANTCREAT


class TimeLimitReached(WasmpiError):
    """The job ran past ``--time-limit`` and was ended (each rank said where it was)."""

    exit_code = 124  # as GNU timeout
