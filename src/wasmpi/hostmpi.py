"""The host MPI library that serves a job: its compiler wrapper, its mpiexec, its flavour.

Chosen by the ``mpicc`` option (``--mpi``, ``WASMPI_MPICC``, ``wasmpi.toml``), else the PyPI
``mpich`` wheel installed next to wasmpi. The parent (`run`) passes its choice to the ranks with
the other options.
"""

from __future__ import annotations

import functools
import os
import shutil
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from . import _tools
from .errors import ToolError

HINT = ("install the default MPI with `pip install mpich`, or point --mpi / WASMPI_MPICC at "
        "the mpicc of another MPI (Open MPI, a cluster module)")


@dataclass(frozen=True)
class HostMPI:
    mpicc: str
    mpiexec: str
    flavor: str  # "mpich", "openmpi" or "unknown"

    @functools.cached_property
    def show(self) -> str:
        """The real compile command behind the wrapper (part of the bridge's cache key)."""
        for flag in ("-show", "--showme"):
            try:
                return _tools.run([self.mpicc, flag], what="mpicc", capture=True).stdout.strip()
            except ToolError:
                continue
        return ""

    def launcher_env(self) -> dict[str, str]:
        """Environment the launcher needs for this MPI (Open MPI refuses root without it)."""
        if self.flavor == "openmpi" and os.geteuid() == 0:
            return {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
        return {}

    def launcher_args(self) -> list[str]:
        # ranks beyond the core count are normal on login nodes and in tests
        return ["--oversubscribe"] if self.flavor == "openmpi" else []


def _flavor(mpiexec: str) -> str:
    # every mpiexec answers --version (Hydra, Open MPI's, Intel's, srun): one that cannot is
    # broken, and would otherwise fail only after the job started, with an exit status that
    # looks like a guest's
    out = _tools.run([mpiexec, "--version"], what="mpiexec", capture=True,
                     hint="set WASMPI_MPIEXEC to a working mpiexec").stdout
    low = out.lower()
    if "open mpi" in low or "openrte" in low or "prte" in low:
        return "openmpi"
    if "hydra" in low or "mpich" in low:
        return "mpich"
    return "unknown"


def _resolve(cmd: str) -> str:
    p = shutil.which(cmd)
    if not p:
        raise ToolError(f"MPI compiler wrapper not found: {cmd}", hint=HINT)
    return p


@functools.cache
def select(mpicc: str | None = None, mpiexec: str | None = None) -> HostMPI:
    """The MPI of ``mpicc`` (default: the mpich wheel) and its ``mpiexec`` (default: the one
    next to it)."""
    choice = mpicc
    if choice:
        cc = _resolve(choice)
    else:
        default = Path(sysconfig.get_path("scripts")) / "mpicc"
        if not default.exists():
            raise ToolError("no MPI selected and the default `mpich` wheel is missing", hint=HINT)
        cc = str(default)
    ccp = Path(cc)
    # Debian names the Open MPI wrappers mpicc.openmpi / mpiexec.openmpi
    suffix = ccp.name[len("mpicc"):] if ccp.name.startswith("mpicc") else ""
    mpiexec = mpiexec or ""
    if not mpiexec:
        for cand in (ccp.with_name("mpiexec" + suffix), ccp.with_name("mpiexec")):
            if cand.exists():
                mpiexec = str(cand)
                break
        else:
            mpiexec = shutil.which("mpiexec" + suffix) or shutil.which("mpiexec") or ""
    if not mpiexec:
        raise ToolError(f"no mpiexec found next to {cc}", hint="set --mpiexec / WASMPI_MPIEXEC")
    return HostMPI(mpicc=cc, mpiexec=mpiexec, flavor=_flavor(mpiexec))
