"""The guest ``libmpi.a``: real definitions of every MPI function, generated from the ABI table.

Each ``PMPI_X`` is a definition that calls the import ``"mpi"."MPI_X"``, and ``MPI_X`` is a weak
alias of it. So, as with a native MPI library:

- configure's link checks (``AC_CHECK_FUNC(MPI_Init)``, ``AC_CHECK_LIB(mpi, MPI_Init)``) and
  CMake's FindMPI find MPI_Init in a library;
- ``PMPI_X`` links, and a profiling layer that defines its own ``MPI_X`` replaces the weak alias
  and reaches MPI through ``PMPI_X``;
- a module imports only the functions it calls: the archive is one object whose functions
  (each in its own section) the linker's ``--gc-sections`` drops when unused, imports included.

Variadic functions (``MPI_Pcontrol``) cannot be imports; they are defined here in C.
"""

from __future__ import annotations

from ..bridge import abi
from ..bridge.gen_guest import RETURN_CTYPE, parameters, prototype

# Names build systems link for MPI. The guest library answers to the C ones; the others
# (C++ bindings, Fortran, MPICH's helper libraries) hold nothing a C/C++ module needs.
LIBRARY_NAMES = ("mpi", "mpich", "pmpi")
EMPTY_LIBRARY_NAMES = ("mpicxx", "mpi_cxx", "mpifort", "opa", "mpl")

# what a variadic function does in the guest, by name
_VARIADIC_BODY = {
    # profiling control is a hint; with no profiler attached, doing nothing is conforming
    "MPI_Pcontrol": "(void)level;\n    return MPI_SUCCESS;",
}


# Functions taking a file name: the bridge resolves a guest path through the sandbox's grants,
# but the working directory lives in wasi-libc, so a relative name is made absolute here.
_PATH_ARG = {"MPI_File_open": "filename", "MPI_File_delete": "filename"}
# The same for the commands of a spawn, which are significant at the root only (elsewhere
# they may be anything, so they are not touched there).
_SPAWN_BODY = {
    "MPI_Comm_spawn": (
        "int rank_ = -1;\n    char *owned_ = NULL;\n    PMPI_Comm_rank(comm, &rank_);\n"
        "    const char *abs_ = rank_ == root ? wasmpi_guest_abspath(command, &owned_) : command;"
        "\n    int rc_ = {call};\n    free(owned_);\n    return rc_;",
        "command", "abs_"),
    "MPI_Comm_spawn_multiple": (
        "int rank_ = -1;\n    char **abs_ = NULL, **owned_ = NULL;\n"
        "    PMPI_Comm_rank(comm, &rank_);\n"
        "    if (rank_ == root && count > 0 && array_of_commands) {{\n"
        "        abs_ = calloc((size_t)count, sizeof *abs_);\n"
        "        owned_ = calloc((size_t)count, sizeof *owned_);\n"
        "        for (int i = 0; abs_ && owned_ && i < count; i++)\n"
        "            abs_[i] = (char *)wasmpi_guest_abspath(array_of_commands[i], &owned_[i]);\n"
        "    }}\n"
        "    int rc_ = {call};\n"
        "    for (int i = 0; owned_ && i < count; i++)\n        free(owned_[i]);\n"
        "    free(owned_);\n    free(abs_);\n    return rc_;",
        "array_of_commands", "abs_ && owned_ ? abs_ : array_of_commands"),
}

_PATH_HELPER = """\
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `name` relative to the working directory, in *owned (freed by the caller) when it had to be
 * made; a name getcwd cannot prefix is passed as it is (the bridge resolves it from /). */
static const char *wasmpi_guest_abspath(const char *name, char **owned)
{
    *owned = NULL;
    if (!name || name[0] == '/')
        return name;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return name;
    size_t lc = strlen(cwd), ln = strlen(name);
    char *p = malloc(lc + ln + 2);
    if (!p)
        return name;
    memcpy(p, cwd, lc);
    p[lc] = '/';
    memcpy(p + lc + 1, name, ln + 1);
    *owned = p;
    return p;
}

"""


def _import_symbol(f: abi.Function) -> str:
    return f"wasmpi_import_{f.name}"


def _definition(f: abi.Function) -> str:
    if f.variadic:
        body = _VARIADIC_BODY.get(f.name)
        if body is None:
            raise ValueError(f"{f.name} is variadic and has no guest definition in libmpi.py")
    elif f.name in _PATH_ARG:
        path = _PATH_ARG[f.name]
        args = ", ".join("abs_" if p.name == path else p.name for p in f.params)
        body = (f"char *owned_;\n    const char *abs_ = wasmpi_guest_abspath({path}, &owned_);\n"
                f"    int rc_ = {_import_symbol(f)}({args});\n    free(owned_);\n    return rc_;")
    elif f.name in _SPAWN_BODY:
        template, path, replaced = _SPAWN_BODY[f.name]
        args = ", ".join(replaced if p.name == path else p.name for p in f.params)
        body = template.format(call=f"{_import_symbol(f)}({args})")
    else:
        args = ", ".join(p.name for p in f.params)
        body = f"return {_import_symbol(f)}({args});"
    out = []
    if not f.variadic:
        decl = f"{RETURN_CTYPE[f.ret]} {_import_symbol(f)}({parameters(f)})"
        out.append(f"WASMPI_IMPORT({f.name}) {decl};")
    out.append(f"{prototype(f, 'P')}\n{{\n    {body}\n}}")
    out.append(f'{prototype(f)} __attribute__((__weak__, __alias__("P{f.name}")));\n')
    return "\n".join(out)


def source() -> str:
    """The C source of the guest libmpi.a (compiled against the guest mpi.h)."""
    out = [
        "/* Generated by wasmpi.toolchain.libmpi from the ABI table: the guest libmpi.a. */\n",
        "#include <mpi.h>\n\n",
        _PATH_HELPER,
    ]
    for f in abi.functions():
        out.append(_definition(f) + "\n")
    return "".join(out)
