"""The per-node cache: compiled wasm modules, built MPI bridges, the guest support library.

Entries are content-addressed (blake3 of every input that changes the output), written to a
temporary name then renamed, and built under a lock so that N ranks starting together on one
node build once while the others wait. The directory carries ``CACHEDIR.TAG``.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import blake3

from . import config

if TYPE_CHECKING:
    from typing import Literal

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by wasmpi.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


def _configured() -> Path:
    return config.current().cache_dir


_fallback: Path | None = None
_said: set[str] = set()


def warn_once(message: str) -> None:
    """One stderr line per process for a problem wasmpi worked around (not an error)."""
    if message not in _said:
        _said.add(message)
        print(f"wasmpi: warning: {message}", file=sys.stderr, flush=True)


def fallback_dir() -> Path | None:
    """The temporary cache this process fell back to (None while the real one works): `run`
    hands it to its ranks, so that they load what the parent built instead of building again."""
    return _fallback


def _temporary_root() -> Path:
    # tempfile, shutil and atexit are imported where needed: a rank on a warm cache only looks
    # entries up, and these imports are a measurable part of its start-up
    import atexit
    import shutil
    import tempfile

    global _fallback
    if _fallback is None:
        _fallback = Path(tempfile.mkdtemp(prefix="wasmpi-cache-"))
        atexit.register(shutil.rmtree, _fallback, True)
    return _fallback


def root() -> Path:
    """The cache directory; a temporary one for this process if it cannot be used (said once)."""
    base = _configured()
    try:
        base.mkdir(parents=True, exist_ok=True)
        tag = base / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(CACHEDIR_TAG)
    except OSError as e:
        tmp = _temporary_root()
        warn_once(f"cannot use the cache directory {base} ({e.strerror}); building in a "
                  f"temporary one, {tmp}, that is removed at exit")
        return tmp
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


def get_or_build(path: Path, build: Callable[[Path], None],
                 usable: Callable[[Path], str | None] | None = None) -> tuple[Path, bool]:
    """Return ``path``, building it first with ``build(tmp)`` if absent; True if built now.

    ``usable(path)`` says why an existing entry cannot be used (truncated, written by another
    version...), or None: such an entry is rebuilt, and a warning says so once. When the cache
    cannot be written (read-only, full, not a directory), the entry is built in a temporary
    directory instead, and a warning says so.
    """
    if path.exists() and (usable is None or usable(path) is None):
        return path, False
    try:
        with locked(path):
            if path.exists():
                why = usable(path) if usable else None
                if why is None:  # another rank built it while we waited
                    return path, False
                warn_once(f"cache entry {path} is unusable ({why}); rebuilding it")
                path.unlink()
            _build_into(path, build)
        return path, True
    except OSError as e:
        try:  # the same layout, so that ranks can use the temporary directory as their cache
            rel = path.relative_to(_configured())
        except ValueError:
            rel = Path(path.parent.name) / path.name
        alt = _temporary_root() / rel
        warn_once(f"cannot write the cache {_configured()} ({e.strerror}); using temporary "
                  f"builds in {_temporary_root()}, removed at exit")
        if not alt.exists():
            alt.parent.mkdir(parents=True, exist_ok=True)
            _build_into(alt, build)
        return alt, True


def elf_problem(path: Path) -> str | None:
    """Why ``path`` is not a whole 64-bit ELF file (a shared library, the LLVM tier's runner,
    wasmtime's compiled code), or None. Loading a truncated library can crash the loader (its
    segments are mapped past the end of the file), so check first: these files end with their
    section header table."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            size = os.fstat(f.fileno()).st_size
    except OSError as e:
        return e.strerror
    if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit ELF
        return "not a 64-bit ELF file"
    order: Literal["little", "big"] = "little" if head[5] == 1 else "big"
    shoff = int.from_bytes(head[0x28:0x30], order)
    shentsize = int.from_bytes(head[0x3A:0x3C], order)
    shnum = int.from_bytes(head[0x3C:0x3E], order)
    if shoff + shentsize * shnum > size:
        return f"truncated: {size} bytes, its section headers end at {shoff + shentsize * shnum}"
    return None


def _build_into(path: Path, build: Callable[[Path], None]) -> None:
    """Build in a private temporary directory, then copy under a temporary name next to
    ``path`` and rename: readers never see a partial file, and a cache that is full or
    read-only fails here with an OSError rather than as a failure of the build tool."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="wasmpi-build-") as d:
        out = Path(d) / path.name
        build(out)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".tmp")
        try:
            with os.fdopen(fd, "wb") as f, open(out, "rb") as src:
                shutil.copyfileobj(src, f)
            shutil.copymode(out, tmp)  # an executable (the LLVM tier's runner) stays one
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def info() -> dict[str, tuple[int, int]]:
    """Entries and bytes per cache section."""
    out = {}
    base = root()
    for sub in sorted(p for p in base.iterdir() if p.is_dir()):
        files = [f for f in sub.rglob("*") if f.is_file() and not f.name.endswith(".lock")]
        out[sub.name] = (len(files), sum(f.stat().st_size for f in files))
    return out


def clean() -> int:
    import shutil

    base = root()
    n = 0
    for sub in base.iterdir():
        if sub.is_dir():
            n += sum(1 for f in sub.rglob("*") if f.is_file())
            shutil.rmtree(sub)
    return n
