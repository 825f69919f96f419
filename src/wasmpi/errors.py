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


class NotRunnableError(InputError):
    """A valid module that cannot run as a program: no ``_start`` (a reactor or a library) or
    no exported linear memory."""

    exit_code = 66


class AbiMismatchError(InputError):
    """A module built by a wasmpi with another guest ABI version (its ``wasmpi.abi`` section)."""

    exit_code = 67


class ToolError(WasmpiError):
    """An external tool (zig, clang, mpicc, mpiexec) failed or could not be found."""

    exit_code = 69  # EX_UNAVAILABLE


class LinkError(WasmpiError):
    """A module imports something this wasmpi cannot provide: an unknown import module, an MPI
    function with another signature, or (with ``--strict``) an MPI function the bridge lacks."""

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
