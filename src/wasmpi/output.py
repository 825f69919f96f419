"""``wasmpi run --output DIR``: each rank's stdout and stderr in files of their own.

The capture happens in the launcher, on mpiexec's streams, so it is the same whatever program a
rank is: mpiexec is asked to tag each line with its rank (Hydra ``-prepend-rank``: ``[R] ``;
Open MPI ``--output tag``: ``[J,R]<stdout>: ``), and the launcher splits the lines by rank into
``DIR/rank.R.out`` / ``DIR/rank.R.err``, each line prefixed ``[R] `` (as ``-prepend-rank``
prints it) unless ``--output-raw``. What the launcher prints is the same lines, ``[R] ``-prefixed
on both MPIs. Lines mpiexec writes itself go to ``DIR/mpiexec.out`` / ``.err``. A line longer
than the pipe's buffer may be split by mpiexec and tagged twice; both parts reach the right file.
"""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path
from typing import IO, TextIO

_HYDRA = re.compile(rb"^\[(\d+)\] ")
_OMPI = re.compile(rb"^\[(\d+),(\d+)\]<(stdout|stderr|stddiag)>: ")


def mpiexec_args(flavor: str) -> list[str]:
    if flavor == "mpich":
        return ["-prepend-rank"]
    if flavor == "openmpi":
        return ["--output", "tag"]
    return []  # an MPI we cannot ask: everything lands in mpiexec.out / .err


def split(line: bytes) -> tuple[int | None, bytes]:
    """(rank, the line without its tag); rank None for a line that carries no tag."""
    if (m := _OMPI.match(line)) is not None:
        # a spawned job's ranks (job 2, 3, ...) are told apart from the first job's by name
        job = int(m.group(1))
        rank = int(m.group(2))
        return (rank if job <= 1 else rank + 1000 * (job - 1)), line[m.end():]
    if (m := _HYDRA.match(line)) is not None:
        return int(m.group(1)), line[m.end():]
    return None, line


class Capture:
    """Demultiplexes mpiexec's two streams into per-rank files while echoing them."""

    def __init__(self, root: Path, prefix: bool = True) -> None:
        self.root = root
        self.prefix = prefix
        self._files: dict[tuple[int | None, str], IO[bytes]] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, stdout: IO[bytes], stderr: IO[bytes]) -> None:
        for stream, kind, echo in ((stdout, "out", sys.stdout), (stderr, "err", sys.stderr)):
            t = threading.Thread(target=self._pump, args=(stream, kind, echo),
                                 name=f"wasmpi-output-{kind}", daemon=True)
            t.start()
            self._threads.append(t)

    def join(self) -> None:
        for t in self._threads:
            t.join()
        with self._lock:
            for f in self._files.values():
                f.close()

    def _file(self, rank: int | None, kind: str) -> IO[bytes]:
        key = (rank, kind)
        with self._lock:
            if key not in self._files:
                name = "mpiexec" if rank is None else f"rank.{rank}"
                self._files[key] = open(self.root / f"{name}.{kind}", "ab", buffering=0)  # noqa: SIM115
            return self._files[key]

    def _pump(self, stream: IO[bytes], kind: str, echo: TextIO) -> None:
        out = echo.buffer
        for line in iter(stream.readline, b""):
            rank, text = split(line)
            if rank is not None:
                tagged = f"[{rank}] ".encode() + text
                self._file(rank, kind).write(tagged if self.prefix else text)
                out.write(tagged)
            else:
                self._file(None, kind).write(line)
                out.write(line)
            out.flush()
