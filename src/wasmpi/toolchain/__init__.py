"""C/C++ -> wasm32-wasi: the compiler drivers behind ``wasmpi cc`` and ``wasmpi c++``.

Two backends: zig (PyPI ``ziglang``, the default) and clang with a wasm32-wasi sysroot
(wasi-sdk via ``WASI_SDK_PATH``, or Debian's clang + wasi-libc + libc++ for wasm32).
Every user flag passes through; wasmpi adds its defaults in front (so a later ``-O3`` wins),
the guest ``mpi.h``, wasi-libc's emulations and the guest support library.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .. import _tools, cache, wasmfile
from ..bridge import abi
from ..errors import ToolError, UsageError

#: Defaults, documented in the README: -O2 and SIMD128.
DEFAULT_FLAGS = ["-O2", "-msimd128"]
EMULATIONS = ("signal", "process-clocks", "getpid", "mman")
EMULATION_DEFINES = [f"-D_WASI_EMULATED_{e.upper().replace('-', '_')}" for e in EMULATIONS]
EMULATION_LIBS = [f"-lwasi-emulated-{e}" for e in EMULATIONS]
# flags after which the driver does not link
NO_LINK = {"-c", "-E", "-S", "-M", "-MM", "-fsyntax-only"}


def include_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("include")))


def support_source() -> Path:
    return Path(str(resources.files(__package__).joinpath("support", "wasmpi_support.c")))


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
    sdk = os.environ.get("WASI_SDK_PATH")
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
    default = "clang" if os.environ.get("WASI_SDK_PATH") else "zig"
    name = name or os.environ.get("WASMPI_TOOLCHAIN") or default
    if name == "zig":
        return _zig()
    if name == "clang":
        return _clang(sysroot)
    raise UsageError(f"unknown toolchain {name!r} (choose zig or clang)")


def support_object(backend: Backend) -> Path:
    """The guest support library, compiled once per toolchain and cached."""
    src = support_source()
    key = cache.key(src.read_bytes(), backend.version, " ".join(backend.cc))
    out = cache.root() / "support" / f"wasmpi_support-{backend.name}-{key}.o"

    def build(tmp: Path) -> None:
        _tools.run([*backend.command(False), "-O2", "-c", src, "-o", tmp],
                   what="building the wasmpi guest support library", capture=True)

    path, _ = cache.get_or_build(out, build)
    return path


#: Libraries that build systems add for MPI (`-lmpi`, ...): in wasm, MPI comes from imports, so
#: these resolve to empty archives instead of failing the link.
MPI_LIBRARY_NAMES = ("mpi", "mpich", "pmpi", "mpicxx", "mpi_cxx", "mpifort", "opa", "mpl")


def mpi_library_dir() -> Path:
    """A directory of empty wasm archives named like the host MPI's libraries."""
    def empty_archive(tmp: Path) -> None:
        tmp.write_bytes(b"!<arch>\n")

    d = cache.root() / "lib" / "wasm32-wasi"
    for name in MPI_LIBRARY_NAMES:
        cache.get_or_build(d / f"lib{name}.a", empty_archive)
    return d


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
    cmd += DEFAULT_FLAGS + EMULATION_DEFINES + ["-isystem", str(include_dir())]
    cmd += inv.user_args
    if inv.links:
        if inv.show:
            cmd += ["<wasmpi_support.o>", "-L<wasmpi empty MPI libraries>"]
        else:
            cmd += [str(support_object(backend)), f"-L{mpi_library_dir()}"]
        cmd += EMULATION_LIBS

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


def ranlib_command(backend: Backend) -> list[str]:
    if backend.name == "zig":
        return [backend.cc[0], "ranlib"]
    clang = Path(backend.cc[0])
    for name in ("llvm-ranlib" + clang.name.removeprefix("clang"), "llvm-ranlib"):
        cand = clang.with_name(name)
        if cand.exists():
            return [str(cand)]
        found = shutil.which(name)
        if found:
            return [found]
    raise ToolError("llvm-ranlib not found next to clang", hint="apt-get install llvm")


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
    rc = subprocess.run(cmd).returncode
    if rc == 0 and inv.links and os.path.exists(inv.output):
        # the toolchain's libc carries DWARF even at -O2: drop it unless -g was asked for, but
        # keep the name section so that traps show function names
        keep_debug = any(a.startswith("-g") and a != "-g0" for a in inv.user_args)
        wasmfile.add_custom_section(Path(inv.output), abi.ABI_SECTION, abi.ABI_VERSION.encode(),
                                    strip_debug=not keep_debug)
    return rc

