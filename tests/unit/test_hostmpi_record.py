"""The record of what `mpiexec --version` and `mpicc -show` said (hostmpi.py): a warm lookup
runs neither tool; a changed binary or wrapper variable asks again. The tools are small shell
scripts that log each call, so no MPI is needed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from wasmpi import config, hostmpi


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls.log"
    mpicc, mpiexec = bindir / "mpicc", bindir / "mpiexec"
    mpicc.write_text(f'#!/bin/sh\necho "mpicc $*" >> {log}\necho "gcc -I/x -lmpi"\n')
    mpiexec.write_text(f'#!/bin/sh\necho "mpiexec $*" >> {log}\necho "HYDRA build details:"\n')
    for p in (mpicc, mpiexec):
        p.chmod(0o755)
    for k in list(os.environ):
        if k.startswith(hostmpi.WRAPPER_ENV):
            monkeypatch.delenv(k)
    config.install(config.resolve({"cache_dir": str(tmp_path / "cache")}, environ={},
                                  use_file=False))
    hostmpi.select.cache_clear()
    yield mpicc, log
    hostmpi.select.cache_clear()
    config.install(config.resolve())


def _select(mpicc: Path) -> hostmpi.HostMPI:
    hostmpi.select.cache_clear()  # one process per `wasmpi run`: nothing kept in memory
    mpi = hostmpi.select(str(mpicc))
    assert mpi.show == "gcc -I/x -lmpi"  # from the tool or from the record alike
    return mpi


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_warm_lookup_runs_neither_tool(tools: tuple[Path, Path]) -> None:
    mpicc, log = tools
    first = _select(mpicc)
    assert first.flavor == "mpich"
    assert _calls(log) == ["mpiexec --version", "mpicc -show"]
    again = _select(mpicc)
    assert again == first and again.flavor == "mpich"
    assert _calls(log) == ["mpiexec --version", "mpicc -show"]


def test_touched_mpicc_is_asked_again(tools: tuple[Path, Path]) -> None:
    mpicc, log = tools
    _select(mpicc)
    st = mpicc.stat()
    os.utime(mpicc, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    _select(mpicc)
    assert _calls(log).count("mpicc -show") == 2
    assert _calls(log).count("mpiexec --version") == 2
    _select(mpicc)  # and recorded again
    assert _calls(log).count("mpicc -show") == 2


def test_replaced_mpiexec_is_asked_again(tools: tuple[Path, Path]) -> None:
    mpicc, log = tools
    _select(mpicc)
    mpiexec = mpicc.with_name("mpiexec")
    new = mpiexec.with_name("mpiexec.new")
    new.write_text(mpiexec.read_text().replace("HYDRA", "Open MPI"))
    new.chmod(0o755)
    os.replace(new, mpiexec)  # a new install: another inode
    assert _select(mpicc).flavor == "openmpi"
    assert _calls(log).count("mpiexec --version") == 2


def test_wrapper_variable_is_part_of_the_record(tools: tuple[Path, Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    mpicc, log = tools
    _select(mpicc)
    monkeypatch.setenv("MPICH_CC", "clang")  # changes what `mpicc -show` prints
    _select(mpicc)
    assert _calls(log).count("mpicc -show") == 2


def test_unreadable_record_is_asked_again(tools: tuple[Path, Path]) -> None:
    mpicc, log = tools
    mpi = _select(mpicc)
    hostmpi.record_path(mpi.mpicc, mpi.mpiexec).write_text("{not json")
    _select(mpicc)
    assert _calls(log).count("mpicc -show") == 2
