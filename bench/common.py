"""Helpers of the scripts in bench/ (upcall.py, soak.py): the MPI under test, versions,
machine. (They were bench/run.py's, which is now a wrapper of `wasmpi bench`.)"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path


def log(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


def sh(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float | None = None,
       check: bool = True) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and p.returncode != 0:
        sys.exit(f"error: `{' '.join(cmd)}` exited with {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def first_line(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    out = (p.stdout or p.stderr).strip().splitlines()
    return out[0].strip() if out else ""


def version_line(cmd: list[str]) -> str:
    """The first output line that mentions a version (Hydra starts with a banner)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = [ln.strip() for ln in (p.stdout or p.stderr).splitlines() if ln.strip()]
    return next((ln for ln in lines if "version" in ln.lower()), lines[0] if lines else "")


# --- the MPI and wasmpi under test --------------------------------------------------------------

class MPI:
    def __init__(self, mpicc: str | None) -> None:
        choice = mpicc or os.environ.get("WASMPI_MPICC")
        if choice:
            cc = shutil.which(choice)
            if not cc:
                sys.exit(f"error: MPI compiler wrapper not found: {choice}")
        else:  # the same default as wasmpi: the mpich wheel next to this Python
            default = Path(sysconfig.get_path("scripts")) / "mpicc"
            cc = str(default) if default.exists() else shutil.which("mpicc")
            if not cc:
                sys.exit("error: no mpicc found; pass --mpi PATH/TO/mpicc")
        self.mpicc = str(Path(cc).absolute())
        ccp = Path(self.mpicc)
        suffix = ccp.name[len("mpicc"):] if ccp.name.startswith("mpicc") else ""
        exe = next((c for c in (ccp.with_name("mpiexec" + suffix), ccp.with_name("mpiexec"))
                    if c.exists()), None)
        self.mpiexec = str(exe) if exe else (shutil.which("mpiexec" + suffix)
                                             or shutil.which("mpiexec") or "")
        if not self.mpiexec:
            sys.exit(f"error: no mpiexec next to {self.mpicc}")
        v = sh([self.mpiexec, "--version"], check=False)
        low = (v.stdout + v.stderr).lower()
        if "open mpi" in low or "openrte" in low or "prte" in low:
            self.flavor = "openmpi"
        elif "hydra" in low or "mpich" in low:
            self.flavor = "mpich"
        else:
            self.flavor = "mpi"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.flavor == "openmpi" and os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        return env

    def launcher_args(self) -> list[str]:
        return ["--oversubscribe"] if self.flavor == "openmpi" else []

    def version_info(self) -> dict[str, str]:
        d = self.mpicc and Path(self.mpicc).parent
        info = {"mpicc": self.mpicc, "mpiexec": self.mpiexec, "flavor": self.flavor,
                "mpiexec_version": version_line([self.mpiexec, "--version"]),
                "compiler": first_line([self.mpicc, "--version"])}
        if self.flavor == "mpich":
            tool = Path(d) / "mpichversion"
            if tool.exists():
                info["mpichversion"] = " | ".join(
                    ln.strip() for ln in sh([str(tool)], check=False).stdout.splitlines()[:2])
        elif self.flavor == "openmpi":
            tool = Path(d) / "ompi_info"
            if tool.exists():
                info["ompi_info"] = first_line([str(tool), "--version"])
        return info


def wasmpi_python() -> str:
    """A Python interpreter that can import wasmpi (this one, or the `wasmpi` script's)."""
    if importlib.util.find_spec("wasmpi") is not None:
        return sys.executable
    script = shutil.which("wasmpi")
    if script:
        with open(script, "rb") as f:
            line = f.readline().decode(errors="replace")
        if line.startswith("#!"):
            return line[2:].strip().split()[0]
    sys.exit("error: wasmpi is not importable here and no `wasmpi` is on PATH "
             "(activate the venv that has wasmpi)")


def package_version(py: str, name: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({name!r}))"
    return first_line([py, "-c", code])


def machine_info() -> dict[str, object]:
    from wasmpi.bench.report import machine  # the same description as `wasmpi bench` writes

    return machine()
