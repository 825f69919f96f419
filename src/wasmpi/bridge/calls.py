"""An MPI call as the user wrote it, from the raw argument slots the bridge recorded: the time
limit's report of where a rank waits (``MPI_Recv(source=0, tag=7, comm=MPI_COMM_WORLD)``).

Only the arguments that say who waits for whom are shown (ranks, roots, tags, communicators);
buffers, counts and out-pointers would be noise.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from . import abi

_COMMS = ("Comm", *abi.COMM_SORTS)


@functools.cache
def _names() -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """Guest values of the special ranks, the special tag and the predefined communicators."""
    ints = abi.int_constants()
    ranks = {ints[n]: f"MPI_{n}" for n in ("ANY_SOURCE", "PROC_NULL", "ROOT") if n in ints}
    tags = {ints["ANY_TAG"]: "MPI_ANY_TAG"} if "ANY_TAG" in ints else {}
    comms = {int(c.value, 0): f"MPI_{c.name}" for c in abi.constants()
             if c.kind == "handle" and c.handle_kind == "Comm"}
    return ranks, tags, comms


def _i32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def arity(name: str) -> int:
    """How many argument slots the call ``name`` has (0 for a name the table lacks)."""
    f = abi.by_name().get(name)
    return len(f.params) if f else 0


def describe(name: str, slots: Sequence[int]) -> str:
    """``name(arg=value, ...)`` for the arguments of ``name`` that identify peers."""
    f = abi.by_name().get(name)
    if f is None:
        return name
    ranks, tags, comms = _names()
    parts = []
    for p, raw in zip(f.params, slots, strict=False):
        if p.array or p.buffer or p.direction != "in":
            continue
        v = _i32(raw)
        if p.kind in ("rank", "root"):
            parts.append(f"{p.name}={ranks.get(v, v)}")
        elif p.kind == "tag":
            parts.append(f"{p.name}={tags.get(v, v)}")
        elif p.kind in _COMMS:
            parts.append(f"{p.name}={comms.get(v, f'{v & 0xFFFFFFFF:#x}')}")
    return f"{name}({', '.join(parts)})"
