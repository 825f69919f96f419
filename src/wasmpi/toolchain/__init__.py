"""C/C++ -> wasm32-wasi: the compiler drivers behind ``wasmpi cc`` and ``wasmpi c++``.

Two backends: zig (PyPI ``ziglang``, the default) and clang with a wasm32-wasi sysroot
(wasi-sdk via the ``wasi_sdk`` option, i.e. ``WASI_SDK_PATH``, or Debian's clang + wasi-libc +
libc++ for wasm32).
Every user flag passes through; wasmpi adds its defaults in front (so a later ``-O3`` wins),
the guest ``mpi.h`` and compat header, and after the user's inputs the guest support library,
the guest ``libmpi.a`` (:mod:`.libmpi`), wasi-libc's emulations and the exports the bridge needs.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .. import _tools, cache, config, wasmfile
from ..bridge import abi
from ..errors import ToolError, UsageError
from . import libmpi

#: Defaults, documented in the README: -O2 and SIMD128.
DEFAULT_FLAGS = ["-O2", "-msimd128"]
# PMPI_X forwards to its import as a wasm tail call (return_call): the guest library then costs
# a jump, not a second call frame that re-marshals every argument (bench/percall.py)
LIBMPI_FLAGS = ("-mtail-call",)
#: What gcc 12 accepts with a warning and clang 16+ rejects: warnings again, as with mpicc on
#: gcc. They come before the user's flags, so that -Werror=<name> makes one an error again.
LENIENT_FLAGS = [f"-Wno-error={w}" for w in (
    "implicit-function-declaration", "implicit-int", "int-conversion",
    "incompatible-pointer-types")]
#: The bridge calls guest functions (user ops, error handlers, attribute callbacks) through the
#: function table and serves MPI_Alloc_mem with the guest's own allocator.
EXPORT_FLAGS = ["-Wl,--export=malloc", "-Wl,--export=free", "-Wl,--export-table"]
EMULATIONS = ("signal", "process-clocks", "getpid", "mman")
EMULATION_DEFINES = [f"-D_WASI_EMULATED_{e.upper().replace('-', '_')}" for e in EMULATIONS]
EMULATION_LIBS = [f"-lwasi-emulated-{e}" for e in EMULATIONS]
# flags after which the driver does not link
NO_LINK = {"-c", "-E", "-S", "-M", "-MM", "-fsyntax-only"}


def _data(*parts: str) -> Path:
    return Path(str(resources.files(__package__).joinpath(*parts)))


def include_dir() -> Path:
    return _data("include")


def compat_header() -> Path:
    """Force-included into every compilation: what legacy code expects of a POSIX libc."""
    return _data("compat", "wasmpi_compat.h")


def cmake_toolchain_file() -> Path:
    return _data("cmake", "wasmpi.cmake")


@dataclass(frozen=True)
class Backend:
    name: str  # "zig" or "clang"
    cc: tuple[str, ...]  # command prefix for C
    cxx: tuple[str, ...]  # command prefix for C++
    version: str

    def command(self, cplusplus: bool) -> list[str]:
        return list(self.cxx if cplusplus else self.cc)


@functools.cache
def _zig() -> Backend:
    try:
        import ziglang  # type: ignore[import-untyped]  # ships the zig binary
    except ImportError:
        raise ToolError("the default toolchain is missing", hint="pip install ziglang") from None
    zig = Path(ziglang.__file__).parent / "zig"
    if not zig.exists():
        raise ToolError(f"zig binary not found in the ziglang package ({zig})",
                        hint="pip install --force-reinstall ziglang")
    ver = subprocess.run([str(zig), "version"], capture_output=True, text=True).stdout.strip()
    target = ["-target", "wasm32-wasi"]
    return Backend("zig", (str(zig), "cc", *target), (str(zig), "c++", *target), "zig " + ver)


def _find_clang() -> tuple[str, str] | None:
    for name in ("clang", *(f"clang-{v}" for v in range(22, 13, -1))):
        path = shutil.which(name)
        if path:
            return path, name.replace("clang", "clang++")
    return None


def _clang_sysroot() -> str | None:
    # Debian's wasi-libc uses the multiarch layout under /usr (include/wasm32-wasi, ...)
    for cand in ("/usr/share/wasi-sysroot", "/opt/wasi-sdk/share/wasi-sysroot", "/usr"):
        if any(Path(cand, d, "wasm32-wasi").is_dir() for d in ("include", "lib")):
            return cand
    return None


def _cxx_includes(sysroot: str) -> list[str]:
    """Debian puts libc++ headers at include/wasm32-wasi/c++/v1, where clang does not look."""
    multiarch = Path(sysroot, "include", "wasm32-wasi", "c++", "v1")
    if multiarch.is_dir() and not Path(sysroot, "include", "c++", "v1").is_dir():
        return ["-isystem", str(multiarch)]
    return []


@functools.cache
def _clang(sysroot: str | None) -> Backend:
    sdk = config.current().wasi_sdk
    if sdk:
        clang = str(Path(sdk) / "bin" / "clang")
        clangxx = str(Path(sdk) / "bin" / "clang++")
        sysroot = sysroot or str(Path(sdk) / "share" / "wasi-sysroot")
    else:
        found = _find_clang()
        if not found:
            raise ToolError("clang not found", hint="install wasi-sdk and set WASI_SDK_PATH, or "
                            "apt-get install clang-16 lld-16 wasi-libc libc++-16-dev-wasm32 "
                            "libc++abi-16-dev-wasm32 libclang-rt-16-dev-wasm32")
        clang = found[0]
        clangxx = shutil.which(found[1]) or clang
        sysroot = sysroot or _clang_sysroot()
    if not sysroot:
        raise ToolError("no wasm32-wasi sysroot found for clang",
                        hint="pass --sysroot DIR, or apt-get install wasi-libc")
    ver = subprocess.run([clang, "--version"], capture_output=True, text=True).stdout
    common = ["--target=wasm32-wasi", f"--sysroot={sysroot}"]
    return Backend("clang", (clang, *common), (clangxx, *common, *_cxx_includes(sysroot)),
                   ver.splitlines()[0] if ver else "clang")


def select_backend(name: str | None, sysroot: str | None = None) -> Backend:
    name = name or config.current().toolchain
    if name == "zig":
        return _zig()
    if name == "clang":
        return _clang(sysroot)
    raise UsageError(f"unknown toolchain {name!r} (choose zig or clang)")


def _build_object(backend: Backend, src: Path, out: Path, what: str,
                  flags: tuple[str, ...] = ()) -> None:
    _tools.run([*backend.command(False), "-O2", *flags, "-c", src, "-o", out], what=what,
               capture=True)


def _build_archive(backend: Backend, obj: Path, out: Path, what: str) -> None:
    out.unlink(missing_ok=True)  # ar would try to read the empty temporary file as an archive
    _tools.run([*ar_command(backend), "rcs", out, obj], what=what, capture=True)


@dataclass(frozen=True)
class Support:
    """The guest support library: an object linked whole, and an archive linked on demand."""

    object: Path
    archive: Path


def support_library(backend: Backend) -> Support:
    """Compiled once per toolchain and cached; see support/*.c."""
    src = _data("support", "wasmpi_support.c")
    main_src = _data("support", "wasmpi_main.c")
    key = cache.key(src.read_bytes(), main_src.read_bytes(), compat_header().read_bytes(),
                    backend.version, " ".join(backend.cc))
    d = cache.root() / "support"
    what = "building the wasmpi guest support library"

    def build_object(tmp: Path) -> None:
        _build_object(backend, src, tmp, what)

    def build_archive(tmp: Path) -> None:
        obj = tmp.with_name(tmp.name + ".o")
        try:
            _build_object(backend, main_src, obj, what)
            _build_archive(backend, obj, tmp, what)
        finally:
            obj.unlink(missing_ok=True)

    obj, _ = cache.get_or_build(d / f"wasmpi_support-{backend.name}-{key}.o", build_object)
    lib, _ = cache.get_or_build(d / f"libwasmpi-{backend.name}-{key}.a", build_archive)
    return Support(obj, lib)


def mpi_library_dir(backend: Backend) -> Path:
    """The guest MPI libraries, under the names build systems link (-lmpi, -lmpich, ...).

    libmpi.a is generated from the ABI table (:mod:`.libmpi`) and compiled once per table and
    toolchain; the names of libraries that hold nothing for C/C++ are empty archives.
    """
    src = libmpi.source()
    header = include_dir() / "mpi.h"
    key = cache.key(src, header.read_bytes(), backend.version, " ".join(backend.cc),
                    " ".join(LIBMPI_FLAGS))
    d = cache.root() / "lib" / f"wasm32-wasi-{backend.name}-{key}"
    what = "building the wasmpi guest libmpi.a"

    def build_libmpi(tmp: Path) -> None:
        c = tmp.with_name(tmp.name + ".c")
        obj = tmp.with_name(tmp.name + ".o")
        try:
            c.write_text(src)
            _build_object(backend, c, obj, what, ("-isystem", str(include_dir()), *LIBMPI_FLAGS))
            _build_archive(backend, obj, tmp, what)
        finally:
            c.unlink(missing_ok=True)
            obj.unlink(missing_ok=True)

    libmpi_a, _ = cache.get_or_build(d / "libmpi.a", build_libmpi)

    def copy_libmpi(tmp: Path) -> None:
        shutil.copyfile(libmpi_a, tmp)

    def empty_archive(tmp: Path) -> None:
        tmp.write_bytes(b"!<arch>\n")

    for name in libmpi.LIBRARY_NAMES:
        if name != "mpi":
            cache.get_or_build(d / f"lib{name}.a", copy_libmpi)
    for name in libmpi.EMPTY_LIBRARY_NAMES:
        cache.get_or_build(d / f"lib{name}.a", empty_archive)
    return libmpi_a.parent  # not `d` when the cache could not be written (a temporary build)


@dataclass
class Invocation:
    cplusplus: bool
    user_args: list[str]
    show: bool
    toolchain: str | None
    sysroot: str | None

    @property
    def links(self) -> bool:
        return not any(a in NO_LINK for a in self.user_args)

    @property
    def output(self) -> str:
        args = self.user_args
        for i, a in enumerate(args):
            if a == "-o" and i + 1 < len(args):
                return args[i + 1]
            if a.startswith("-o") and len(a) > 2:
                return a[2:]
        return "a.out"


def parse(argv: list[str], cplusplus: bool) -> Invocation:
    """Split wasmpi's own options from the compiler flags, which all pass through."""
    user, show, toolchain, sysroot = [], False, None, None
    it = iter(argv)
    for a in it:
        if a in ("-show", "--show", "-showme", "--showme"):
            show = True
        elif a == "--toolchain":
            toolchain = next(it, None)
            if toolchain is None:
                raise UsageError("--toolchain needs a value (zig or clang)")
        elif a.startswith("--toolchain="):
            toolchain = a.split("=", 1)[1]
        elif a == "--sysroot" and toolchain == "clang":
            sysroot = next(it, None)
        elif a.startswith("--sysroot=") and toolchain == "clang":
            sysroot = a.split("=", 1)[1]
        else:
            user.append(a)
    return Invocation(cplusplus, user, show, toolchain, sysroot)


def command(inv: Invocation) -> list[str]:
    backend = select_backend(inv.toolchain, inv.sysroot)
    cmd = backend.command(inv.cplusplus)
    cmd += DEFAULT_FLAGS + LENIENT_FLAGS + EMULATION_DEFINES
    cmd += ["-isystem", str(include_dir()), "-include", str(compat_header())]
    cmd += inv.user_args
    if inv.links:
        if inv.show:
            libs = ["<wasmpi_support.o>", "<libwasmpi.a>", "<wasmpi MPI libraries>/libmpi.a",
                    "-L<wasmpi MPI libraries>"]
        else:
            support = support_library(backend)
            mpi_dir = mpi_library_dir(backend)
            libs = [str(support.object), str(support.archive), str(mpi_dir / "libmpi.a"),
                    f"-L{mpi_dir}"]
        # after the user's inputs: their own MPI_X (a profiling layer) and main come first
        cmd += libs + EMULATION_LIBS + EXPORT_FLAGS
    return cmd


def _archives(args: list[str]) -> list[Path]:
    """Static archives named on a link line, directly or as -lNAME found in -L directories."""
    libdirs = [a[2:] for a in args if a.startswith("-L") and len(a) > 2]
    libdirs += [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-L"]
    out = [Path(a) for a in args if a.endswith(".a") and Path(a).is_file()]
    for a in args:
        if a.startswith("-l") and len(a) > 2:
            for d in libdirs:
                cand = Path(d) / f"lib{a[2:]}.a"
                if cand.is_file():
                    out.append(cand)
                    break
    return out


def index_archives(backend: Backend, args: list[str]) -> None:
    """Give wasm archives made by the host's `ar` the symbol index wasm-ld needs.

    Ordinary Makefiles run plain `ar rcs`, which cannot index wasm objects; running the
    toolchain's ranlib on them is what `ranlib` would do, so `make CC="wasmpi cc"` just works.
    """
    for lib in _archives(args):
        with open(lib, "rb") as f:
            head = f.read(8 + 16)
        if head[:8] == b"!<arch>\n" and head[8:10] != b"/ ":
            _tools.run([*ranlib_command(backend), lib], what=f"indexing {lib}", capture=True)


def _llvm_tool(backend: Backend, tool: str) -> list[str]:
    """`zig ar` / `zig ranlib`, or llvm-ar / llvm-ranlib of clang's version."""
    if backend.name == "zig":
        return [backend.cc[0], tool]
    clang = Path(backend.cc[0])
    for name in (f"llvm-{tool}" + clang.name.removeprefix("clang"), f"llvm-{tool}"):
        cand = clang.with_name(name)
        if cand.exists():
            return [str(cand)]
        found = shutil.which(name)
        if found:
            return [found]
    raise ToolError(f"llvm-{tool} not found next to clang", hint="apt-get install llvm")


def ranlib_command(backend: Backend) -> list[str]:
    return _llvm_tool(backend, "ranlib")


def ar_command(backend: Backend) -> list[str]:
    return _llvm_tool(backend, "ar")


# wasm-ld names the member of libwasmpi.a that asks for main (see support/wasmpi_main.c),
# which would send a user looking in wasmpi's cache for the fault
_NO_MAIN = re.compile(r"^(.*error: ).*libwasmpi-.*undefined symbol: main$", re.MULTILINE)


def explain_link_errors(stderr: str) -> str:
    """The linker's messages, with a missing main said as a native linker says it."""
    return _NO_MAIN.sub(r"\1undefined symbol: main (the program defines no main function)",
                        stderr)


def compile(argv: list[str], cplusplus: bool = False) -> int:
    """``wasmpi cc`` / ``wasmpi c++``: returns the compiler's exit status."""
    inv = parse(argv, cplusplus)
    if not inv.user_args and not inv.show:
        raise UsageError(f"wasmpi {'c++' if cplusplus else 'cc'}: no input files")
    cmd = command(inv)
    if inv.show:
        print(" ".join(cmd))
        return 0
    if inv.links:
        index_archives(select_backend(inv.toolchain, inv.sysroot), inv.user_args)
    _tools.echo(cmd)
    if inv.links:
        proc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, errors="replace")
        sys.stderr.write(explain_link_errors(proc.stderr))
        rc = proc.returncode
    else:
        rc = subprocess.run(cmd).returncode
    if rc == 0 and inv.links and os.path.exists(inv.output):
        # the toolchain's libc carries DWARF even at -O2: drop it unless -g was asked for, but
        # keep the name section so that traps show function names
        keep_debug = any(a.startswith("-g") and a != "-g0" for a in inv.user_args)
        wasmfile.add_custom_section(Path(inv.output), abi.ABI_SECTION, abi.ABI_VERSION.encode(),
                                    strip_debug=not keep_debug)
    return rc

