"""The bridge's cache key follows the MPI library file behind `-lmpi`, through a linker script."""

from __future__ import annotations

import os
from pathlib import Path

from wasmpi.bridge import build
from wasmpi.hostmpi import HostMPI


def _mpi(libdir: Path) -> HostMPI:
    return HostMPI(mpicc="mpicc", mpiexec="mpiexec", flavor="mpich",
                   recorded_show=f"cc -I/x -L{libdir} -lmpi")


def test_follows_linker_script_and_changes_with_the_library(tmp_path: Path) -> None:
    (tmp_path / "libmpi.so").write_text("INPUT(libmpi.so.12)\n")
    real = tmp_path / "libmpi.so.12"
    real.write_bytes(b"\x7fELF" + b"\0" * 60)
    first = build._library_identity(_mpi(tmp_path))
    assert str(real) in first
    real.write_bytes(b"\x7fELF" + b"\1" * 100)  # upgraded in place: another size
    os.utime(real, ns=(1, 1))
    assert build._library_identity(_mpi(tmp_path)) != first


def test_elf_library_and_missing_one(tmp_path: Path) -> None:
    (tmp_path / "libmpi.so").write_bytes(b"\x7fELF" + b"\0" * 60)
    assert str(tmp_path / "libmpi.so") in build._library_identity(_mpi(tmp_path))
    assert build._library_identity(_mpi(tmp_path / "absent")) == ""
