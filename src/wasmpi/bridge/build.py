"""Build the C bridge with the selected MPI's compiler wrapper, once per node, cached.

The cache key covers the bridge sources, ``mpicc -show`` and the identity of the MPI library
file it links, so a different MPI (or one upgraded in place) gets its own build and never a
stale one.
"""

from __future__ import annotations

from pathlib import Path

from .. import _tools, cache
from ..errors import ToolError
from ..hostmpi import HostMPI, select

HINT = ("the bridge is compiled with the selected MPI's mpicc; check that it works: "
        "`mpicc -show`")
CFLAGS = ["-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-Wall", "-Wno-unused-parameter"]


def _source_dir() -> Path:
    # the package's own directory (importlib.resources finds the same, for 6 ms of imports)
    return Path(__file__).resolve().parent / "c"


def _library_identity(mpi: HostMPI) -> str:
    """Which MPI library the bridge links: the real file behind each ``-lmpi*`` of ``mpicc
    -show`` (following a linker script such as the MPI wheels' ``INPUT(libmpi.so.12)``), by
    path, size and modification time, so an MPI upgraded in place gets a new bridge. A stat,
    not a dlopen: the launcher pays for this on every run."""
    show = mpi.show.split()
    libdirs = [a[2:] for a in show if a.startswith("-L")]
    names = [a[2:] for a in show if a.startswith("-l") and "mpi" in a]
    found = []
    for d in libdirs:
        for n in names or ["mpi"]:
            lib = _resolve_script(Path(d) / f"lib{n}.so")
            try:
                st = lib.stat()
            except OSError:
                continue
            found.append(f"{lib.resolve()}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(found)


def _resolve_script(lib: Path) -> Path:
    """``lib``, or the library a short GNU ld script there names (``INPUT(libmpi.so.12)``)."""
    try:
        with open(lib, "rb") as f:
            head = f.read(512)
    except OSError:
        return lib
    if head.startswith(b"\x7fELF") or len(head) == 512:
        return lib
    text = head.decode(errors="replace")
    for word in text.replace("(", " ").replace(")", " ").split():
        if word.startswith("lib") and ".so" in word:
            return lib.parent / word
    return lib


def _source_files() -> list[Path]:
    """Every file of the bridge's C source tree (core, chapters, upcalls, generated)."""
    src = _source_dir()
    return sorted(p for p in src.rglob("*") if p.is_file() and p.suffix in (".c", ".h"))


def bridge_path(mpi: HostMPI) -> Path:
    src = _source_dir()
    tree = [str(p.relative_to(src)).encode() + b"\0" + p.read_bytes() for p in _source_files()]
    key = cache.key(*tree, mpi.mpicc, mpi.show, _library_identity(mpi))
    return cache.root() / "bridge" / f"wasmpi_bridge-{mpi.flavor}-{key}.so"


def for_rank(given: Path | None, mpicc: str | None, mpiexec: str | None) -> Path:
    """The bridge a rank loads: the launcher's (the ``bridge`` option), else built or cached
    here."""
    if given and given.is_file():
        return given
    return build(select(mpicc, mpiexec))


def build(mpi: HostMPI) -> Path:
    """Return the path of the bridge library for ``mpi``, building it if needed."""
    src = _source_dir()

    def compile_to(out: Path) -> None:
        units = [p for p in _source_files() if p.suffix == ".c"]
        _tools.run([mpi.mpicc, *CFLAGS, f"-I{src / 'core'}", f"-I{src / 'gen'}", *units,
                    "-o", out],
                   what="building the MPI bridge", capture=True,
                   hint=HINT)
        why = cache.elf_problem(out)
        if why:
            raise ToolError(f"building the MPI bridge: {mpi.mpicc} exited 0 but wrote no usable "
                            f"library ({why})", hint=HINT)

    path, _ = cache.get_or_build(bridge_path(mpi), compile_to, cache.elf_problem)
    return path


def host_provides(mpi: HostMPI, names: list[str]) -> set[str]:
    """Which of the MPI functions ``names`` the host MPI's library provides, as the bridge
    finds them at run time (c/core/host4.c): the bridge is built (or taken from the cache) and
    asked, without initializing MPI."""
    import ctypes

    lib = ctypes.CDLL(str(build(mpi)))
    has = lib.wasmpi_bridge_host_has
    has.argtypes = [ctypes.c_char_p]
    has.restype = ctypes.c_int
    return {n for n in names if has(n.encode())}
