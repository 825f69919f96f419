"""Faults (issue 13 §4): a rank that traps, exits nonzero or is killed ends the whole job within
10 s, the job says which rank and why, and no process is left; SIGTERM / SIGINT on `wasmpi run`
stops every rank and flushes the guest's buffered stdout."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_failures import _rank_processes

pytestmark = pytest.mark.mpi
LIMIT = 10.0  # seconds from the fault to the end of the job


def _module(compile_program, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """faults.c under a path of this test's own, for the orphan check."""
    p = tmp_path / f"faults_{os.getpid()}_{time.monotonic_ns()}.wasm"
    shutil.copy(compile_program("faults.c"), p)
    return p


class Job:
    """`wasmpi run` as a child whose output is read after it ends (files, not pipes: a test
    that only waits must not block a rank on a full pipe)."""

    def __init__(self, mpi, tmp_path: Path, module: Path, n: int, *args: str) -> None:  # type: ignore[no-untyped-def]
        self.out, self.err = tmp_path / "out", tmp_path / "err"
        with open(self.out, "w") as o, open(self.err, "w") as e:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "wasmpi", "run", "-n", str(n), str(module), *args],
                stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=mpi.env())
        self.module = module

    def wait_for(self, text: str, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while (self.out.read_text() + self.err.read_text()).count(text) < count:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"ranks never said {text!r}\n{self.err.read_text()}")
            time.sleep(0.1)

    def end(self, timeout: float = 60) -> tuple[int, str, str]:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the job did not end within {timeout}s")
        return rc, self.out.read_text(), self.err.read_text()

    def kill(self) -> None:
        self.proc.kill()
        for line in _rank_processes(self.module):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)

    def no_orphans(self) -> None:
        deadline = time.monotonic() + 5
        while (left := _rank_processes(self.module)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not left, "processes left behind:\n" + "\n".join(left)


def _rank_pid(module: Path, rank: int) -> int:
    """The `wasmpi exec` process of ``rank`` (MPICH and Open MPI put it in the environment)."""
    for line in _rank_processes(module):
        pid = int(line.split(":")[0])
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if (f"PMI_RANK={rank}".encode() in env
                or f"OMPI_COMM_WORLD_RANK={rank}".encode() in env):
            return pid
    pytest.fail(f"no process of rank {rank}")


@pytest.mark.parametrize(("fault", "says"), [
    ("trap", "rank 2: wasm trap: "),
    ("exit", "rank 2: the guest exited with status 5"),
])
def test_failing_rank_ends_job(compile_program, mpi, tmp_path, fault: str, says: str) -> None:  # type: ignore[no-untyped-def]
    mod = _module(compile_program, tmp_path)
    job = Job(mpi, tmp_path, mod, 3, fault)
    t0 = time.monotonic()
    rc, _, err = job.end()
    elapsed = time.monotonic() - t0
    assert rc == (134 if fault == "trap" else 5), err
    assert says in err, err
    # the whole job, start-up included (a few seconds here), within the limit
    assert elapsed < LIMIT + 10, f"{elapsed:.1f}s"
    job.no_orphans()


def test_sigkilled_rank_in_collective_ends_job(compile_program, mpi, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mod = _module(compile_program, tmp_path)
    job = Job(mpi, tmp_path, mod, 3, "coll")
    job.wait_for("ready", 3)
    os.kill(_rank_pid(mod, 1), signal.SIGKILL)
    t0 = time.monotonic()
    rc, out, err = job.end(timeout=60)
    elapsed = time.monotonic() - t0
    assert elapsed < LIMIT, f"the job took {elapsed:.1f}s to end"
    # Open MPI exits 128 + 9 and names the rank on stderr; Hydra exits 9 and prints a banner
    # naming a PID on stdout
    assert rc in (signal.SIGKILL, 128 + signal.SIGKILL), err
    assert "signal 9" in out + err, out + err
    if rc == 128 + signal.SIGKILL:
        assert "killed by SIGKILL" in err, err  # ours
    job.no_orphans()
    print(f"{mpi.name}: job ended {elapsed:.2f}s after SIGKILL of rank 1")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("doing", ["block", "compute"])
def test_stop_flushes_stdout(compile_program, mpi, tmp_path, sig: signal.Signals,  # type: ignore[no-untyped-def]
                             doing: str) -> None:
    mod = _module(compile_program, tmp_path)
    job = Job(mpi, tmp_path, mod, 2, f"unflushed-{doing}")
    job.wait_for("ready", 2)
    t0 = time.monotonic()
    job.proc.send_signal(sig)
    rc, out, err = job.end(timeout=60)
    elapsed = time.monotonic() - t0
    assert elapsed < LIMIT, f"{elapsed:.1f}s"
    assert rc != 0
    job.no_orphans()
    for r in range(2):
        assert f"unflushed output of rank {r}" in out, f"stdout: {out!r}\nstderr: {err}"
