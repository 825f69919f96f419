"""The host MPI library that serves a job: its compiler wrapper, its mpiexec, its flavour.

Chosen by the ``mpicc`` option (``--mpi``, ``WASMPI_MPICC``, ``wasmpi.toml``), else the PyPI
``mpich`` wheel installed next to wasmpi. The parent (`run`) passes its choice to the ranks with
the other options.

What ``mpiexec --version`` and ``mpicc -show`` say is recorded in the cache (``mpi/``), keyed by
both paths and checked against both files' mtime, size and inode: a warm ``wasmpi run`` spawns
neither, and replacing or touching either binary asks them again.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _tools, cache
from .errors import ToolError

#: Bumped when a record's content or meaning changes.
RECORD_VERSION = 1
#: Variables the compiler wrappers read (MPICH_CC, OMPI_CFLAGS, OPAL_PREFIX...): part of the
#: record's identity, since they change what ``mpicc -show`` prints
WRAPPER_ENV = ("MPICH_", "OMPI_", "OPAL_")

HINT = ("install the default MPI with `pip install mpich`, or point --mpi / WASMPI_MPICC at "
        "the mpicc of another MPI (Open MPI, a cluster module)")


@dataclass(frozen=True)
class HostMPI:
    mpicc: str
    mpiexec: str
    flavor: str  # "mpich", "openmpi" or "unknown"
    #: what ``mpicc -show`` said, from the record (None: ask it)
    recorded_show: str | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def show(self) -> str:
        """The real compile command behind the wrapper (part of the bridge's cache key)."""
        if self.recorded_show is not None:
            return self.recorded_show
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
        import sysconfig  # here: `wasmpi run` tells its ranks which mpicc, and they skip this

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
    rec = read_record(cc, mpiexec)
    if rec is not None:
        return HostMPI(mpicc=cc, mpiexec=mpiexec, flavor=rec["flavor"], recorded_show=rec["show"])
    mpi = HostMPI(mpicc=cc, mpiexec=mpiexec, flavor=_flavor(mpiexec))
    write_record(mpi)
    return mpi


# --- the record of what the two tools said ------------------------------------------------------

def record_path(mpicc: str, mpiexec: str) -> Path:
    return cache.root() / "mpi" / f"{cache.key(mpicc, mpiexec)}.json"


def _stamp(path: str) -> list[int] | None:
    """What identifies a binary's version without running it: a new install or an edited
    wrapper script changes its mtime, size or inode."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def read_record(mpicc: str, mpiexec: str) -> dict[str, Any] | None:
    """The recorded answers for this pair of binaries, or None if there is none or either
    binary changed since (or the record is unreadable)."""
    try:
        rec = json.loads(record_path(mpicc, mpiexec).read_text())
    except (OSError, ValueError):
        return None
    want = _identity(mpicc, mpiexec)
    if (not isinstance(rec, dict) or any(rec.get(k) != v for k, v in want.items())
            or not isinstance(rec.get("flavor"), str) or not isinstance(rec.get("show"), str)):
        return None
    return rec


def write_record(mpi: HostMPI) -> None:
    """Record what ``mpiexec --version`` and ``mpicc -show`` said (best effort: a cache that
    cannot be written only means asking again next time)."""
    rec = {**_identity(mpi.mpicc, mpi.mpiexec), "flavor": mpi.flavor, "show": mpi.show}
    path = record_path(mpi.mpicc, mpi.mpiexec)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(rec))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _identity(mpicc: str, mpiexec: str) -> dict[str, Any]:
    from .config import host_environ

    env = sorted([k, v] for k, v in host_environ().items() if k.startswith(WRAPPER_ENV))
    return {"version": RECORD_VERSION, "mpicc": mpicc, "mpiexec": mpiexec,
            "mpicc_stat": _stamp(mpicc), "mpiexec_stat": _stamp(mpiexec), "env": env}
