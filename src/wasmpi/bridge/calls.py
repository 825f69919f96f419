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


#: what a peer argument is, for both watchdogs: a rank (or root), a tag or a communicator
Peer = tuple[int, str, str]  # (slot index, parameter name, "rank" | "tag" | "comm")


def peers(name: str) -> list[Peer]:
    """The arguments of ``name`` that identify peers, in order. The wasmtime tier formats them
    with :func:`describe`; the LLVM tier's runner with C tables generated from this (the
    adapters generator, gen_bridge.w2c_adapters)."""
    f = abi.by_name().get(name)
    if f is None:
        return []
    out: list[Peer] = []
    for i, p in enumerate(f.params):
        if p.array or p.buffer or p.direction != "in":
            continue
        if p.kind in ("rank", "root"):
            out.append((i, p.name, "rank"))
        elif p.kind == "tag":
            out.append((i, p.name, "tag"))
        elif p.kind in _COMMS:
            out.append((i, p.name, "comm"))
    return out


def special_names() -> dict[str, dict[int, str]]:
    """Per peer kind, the guest values shown by name (MPI_ANY_SOURCE, MPI_COMM_WORLD...)."""
    ranks, tags, comms = _names()
    return {"rank": ranks, "tag": tags, "comm": comms}


def describe(name: str, slots: Sequence[int]) -> str:
    """``name(arg=value, ...)`` for the arguments of ``name`` that identify peers."""
    if name not in abi.by_name():
        return name
    named = special_names()
    parts = []
    for i, pname, kind in peers(name):
        if i >= len(slots):
            break
        v = _i32(slots[i])
        shown = named[kind].get(v, f"{v & 0xFFFFFFFF:#x}" if kind == "comm" else v)
        parts.append(f"{pname}={shown}")
    return f"{name}({', '.join(parts)})"
