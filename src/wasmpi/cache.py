"""The per-node cache: compiled wasm modules, built MPI bridges, the guest support library.

Entries are content-addressed (blake3 of every input that changes the output), written to a
temporary name then renamed, and built under a lock so that N ranks starting together on one
node build once while the others wait. The directory carries ``CACHEDIR.TAG``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import blake3

from . import config
from .errors import CacheError

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by wasmpi.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


def root() -> Path:
    base = config.current().cache_dir
    try:
        base.mkdir(parents=True, exist_ok=True)
        tag = base / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(CACHEDIR_TAG)
    except OSError as e:
        raise CacheError(f"cannot use cache directory {base}: {e.strerror}") from None
    return base


def key(*parts: bytes | str) -> str:
    h = blake3.blake3()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()[:32]


@contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def get_or_build(path: Path, build: Callable[[Path], None]) -> tuple[Path, bool]:
    """Return ``path``, building it first with ``build(tmp)`` if absent; True if built now."""
    if path.exists():
        return path, False
    with locked(path):
        if path.exists():  # another rank built it while we waited
            return path, False
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".tmp")
        os.close(fd)
        try:
            build(Path(tmp))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return path, True


def info() -> dict[str, tuple[int, int]]:
    """Entries and bytes per cache section."""
    out = {}
    base = root()
    for sub in sorted(p for p in base.iterdir() if p.is_dir()):
        files = [f for f in sub.rglob("*") if f.is_file() and not f.name.endswith(".lock")]
        out[sub.name] = (len(files), sum(f.stat().st_size for f in files))
    return out


def clean() -> int:
    base = root()
    n = 0
    for sub in base.iterdir():
        if sub.is_dir():
            n += sum(1 for f in sub.rglob("*") if f.is_file())
            shutil.rmtree(sub)
    return n
