"""The names of the guest ABI that a rank needs at start-up: import modules, the ABI section and
version, the host services. :mod:`wasmpi.bridge.abi` re-exports them with the table it parses;
this module stays apart so that a rank imports no table machinery (dataclasses, regexes)."""

from __future__ import annotations

from collections.abc import Iterable

#: Import module of every MPI function in a wasmpi guest.
IMPORT_MODULE = "mpi"
#: Import module of the few host services the guest support library needs (gethostname, ...).
HOST_MODULE = "wasmpi"
#: Custom section that records the guest ABI a module was built against.
ABI_SECTION = "wasmpi.abi"
#: Guest ABI: MPI standard ABI 1.0 at wasm32 sizes, MPI-3.1 function set.
ABI_VERSION = "mpi-abi-1.0;wasm32;mpi-3.1"

#: Host services provided under :data:`HOST_MODULE`, with their wasm signatures.
HOST_FUNCTIONS = {"gethostname": ("ii", "i"), "workdir": ("ii", "i")}
#: Those the runtime defines for every module, with or without the bridge (runtime.WORKDIR_IMPORT).
RUNTIME_HOST_FUNCTIONS = frozenset({"workdir"})


def needs_bridge(imports: Iterable[tuple[str, str]]) -> bool:
    """Whether a module with these (module, name) imports must run with the MPI bridge: the
    runtime serves the host services of :data:`RUNTIME_HOST_FUNCTIONS` without it."""
    return any(m == IMPORT_MODULE or (m == HOST_MODULE and n not in RUNTIME_HOST_FUNCTIONS)
               for m, n in imports)
