"""Info objects and the environment on real ranks (tests/programs/info_env.c): every Info_*
call, MPI_INFO_ENV, added error classes/codes/strings, MPI_Alloc_mem memory in messages, thread
levels, versions, processor name, timers, MPI_Pcontrol."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.mpi

CASES = ("info_calls world", "info_env world", "guest_view world", "user_errors world",
         "alloc_mem world", "alloc_mem self", "alloc_mem dup", "alloc_mem split",
         "environment world",
         "timers world")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_info_and_environment(compile_program, run, mpi, n: int) -> None:  # type: ignore[no-untyped-def]
    r = run(compile_program("info_env.c"), n)
    cases = r.check_cases()
    for case in CASES + (("alloc_mem inter",) if n > 1 else ()):
        assert f"PASS {case}" in cases["PASS"], r.stdout
    lines = r.stdout.splitlines()
    # the host library's own version string and processor name reach the guest
    library = next(ln for ln in lines if ln.startswith("library: "))
    assert ("MPICH" if mpi.name == "mpich" else "Open MPI") in library, library
    assert f"processor: {socket.gethostname()}" in lines, r.stdout
    assert "thread: single" in lines, r.stdout  # MPI_Init's level


@pytest.mark.parametrize("level", ["single", "funneled", "serialized", "multiple"])
def test_init_thread_levels(compile_program, run, level: str) -> None:  # type: ignore[no-untyped-def]
    """A wasm32 guest has one thread, which satisfies every level: the required one is
    provided, and MPI_Query_thread says so."""
    r = run(compile_program("info_env.c"), 2, level)
    r.check_cases()
    assert f"thread: {level}" in r.stdout.splitlines(), r.stdout


def test_info_env_is_the_guests_view(compile_program, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """MPI_INFO_ENV, its dup and MPI_Info_create_env describe the guest's start (its argv,
    working directory, host name, thread level), never the host process: no host command, cache
    path, working directory or session directory in any info the guest can get (env, comm,
    window, file)."""
    r = run(compile_program("info_env.c"), 2, "funneled",
            opts=("--dir", f"{tmp_path}::/data"))
    r.check_cases()
    want = {"command": "info_env.wasm", "argv": "funneled", "maxprocs": "2", "soft": "2",
            "host": socket.gethostname(), "arch": "wasm32", "wdir": "/data",
            "thread_level": "MPI_THREAD_FUNNELED"}
    for what in ("envinfo", "envdup", "createenv"):
        got = dict(ln.split(" ", 1)[1].split("=", 1) for ln in r.stdout.splitlines()
                   if ln.startswith(what + " "))
        expect = want | ({"command": "one", "argv": "two words"} if what == "createenv" else {})
        assert got == expect, (what, r.stdout)
    info = [ln for ln in r.stdout.splitlines() if ln.split(" ", 1)[0].endswith("info")]
    host_facts = (str(tmp_path), sys.executable, os.getcwd(), "wasmpi exec", ".cache", "/tmp/")
    for ln in info:
        assert not any(h in ln for h in host_facts), ln


def test_info_env_long_command_line(compile_program, run) -> None:  # type: ignore[no-untyped-def]
    """A command line longer than the host's MPI_MAX_INFO_VAL (Open MPI: 256) is cut to it in
    `argv`, never an error of MPI_INFO_ENV or MPI_Info_create_env."""
    long_arg = "a" * 2000
    r = run(compile_program("info_env.c"), 1, "single", long_arg)
    r.check_cases()
    argv = next(ln.split("=", 1)[1] for ln in r.stdout.splitlines()
                if ln.startswith("envinfo argv="))
    assert argv.startswith("single aaaa") and 200 < len(argv) < 2000, argv
