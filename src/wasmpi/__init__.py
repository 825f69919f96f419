"""wasmpi: compile MPI applications once to WebAssembly, run them on any MPI library.

The Python API (docs/api.md): :func:`compile`, :func:`run` (returns a :class:`Job` at once),
:func:`jobs`, :class:`Job`, :class:`Limits`.
"""

__version__ = "0.1.0"

from .api import Event, Job, Limits, Rank, compile, jobs, run

__all__ = ["Event", "Job", "Limits", "Rank", "__version__", "compile", "jobs", "run"]
