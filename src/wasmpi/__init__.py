"""wasmpi: compile MPI applications once to WebAssembly, run them on any MPI library.

The Python API (docs/api.md): :func:`compile`, :func:`run` (returns a :class:`Job` at once),
:func:`jobs`, :class:`Job`, :class:`Limits`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Event", "Job", "Limits", "Rank", "__version__", "compile", "jobs", "run"]

if TYPE_CHECKING:
    from .api import Event, Job, Limits, Rank, compile, jobs, run


def __getattr__(name: str) -> Any:
    # `python -m wasmpi` imports this package first, in every rank: the API (job registry,
    # subprocess, sockets, json...) is loaded only when a program asks for it
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
