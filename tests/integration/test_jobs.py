"""Jobs you can see and steer: every verb against real running jobs (jobloop.c: MPI traffic for
a given time, checked at every step), on MPICH and Open MPI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, wasmpi

from wasmpi import registry
from wasmpi.registry import Registry

pytestmark = pytest.mark.mpi


@pytest.fixture
def jobs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "jobs"
    monkeypatch.setenv("WASMPI_JOBS_DIR", str(d))
    return d


@pytest.fixture
def started(mpi, jobs_dir: Path) -> Iterator[list[subprocess.Popen[str]]]:  # type: ignore[no-untyped-def]
    """`wasmpi run` processes a test starts; whatever is left of them is killed at the end."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for rec in Registry(jobs_dir).all():
        registry.signal_procs(rec.processes(), signal.SIGKILL)


def start(procs: list[subprocess.Popen[str]], mpi, module: Path, *args: str,  # type: ignore[no-untyped-def]
          n: int = 2, opts: tuple[str, ...] = ()) -> tuple[subprocess.Popen[str], str]:
    job = registry.new_id()
    env = mpi.env() | {"WASMPI_JOB": job}
    p = subprocess.Popen([sys.executable, "-m", "wasmpi", "run", "-n", str(n), *opts,
                          str(module), *args], env=env, text=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    return p, job


def ranks_found(jobs_dir: Path, job: str, timeout: float = 60) -> registry.Record:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        rec = Registry(jobs_dir).get(job)
        if rec is not None and rec.ranks_known:
            return rec
        time.sleep(0.1)
    pytest.fail(f"the ranks of job {job} were not found in {timeout} s")


def finish(p: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"job did not end in {timeout} s\nstdout: {out}\nstderr: {err}")
    return p.returncode, out, err


def proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "gone"


def carrying(job: str) -> list[int]:
    """Live processes whose environment holds the job's id (its mpiexec, proxies, ranks)."""
    needle = f"WASMPI_JOB={job}".encode()
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                if needle in (d / "environ").read_bytes().split(b"\0") and \
                        proc_state(int(d.name)) not in ("Z", "gone"):
                    out.append(int(d.name))
            except OSError:
                continue
    return out


def test_pause_resume_monitor(compile_program, mpi, jobs_dir, started) -> None:  # type: ignore[no-untyped-def]
    """A job paused for 5 s in the middle of its traffic resumes and finishes with the right
    result; no MPI timeout fires, and --time-limit 8 does not count the pause (3 s of traffic
    + 5 s paused would pass it)."""
    mod = compile_program("jobloop.c")
    p, job = start(started, mpi, mod, "3", opts=("--time-limit", "8"))
    rec = ranks_found(jobs_dir, job)
    assert len(rec.ranks) == 2 and sorted(r.rank for r in rec.ranks) == [0, 1]
    mon = subprocess.Popen([sys.executable, "-m", "wasmpi", "monitor", job], text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=mpi.env())
    time.sleep(1)
    wasmpi("pause", job, env=mpi.env()).check()
    wasmpi("pause", job[:5], env=mpi.env()).check()  # idempotent; a prefix names the job
    time.sleep(0.5)
    assert all(proc_state(r.pid) == "T" for r in rec.ranks)
    ps = json.loads(wasmpi("ps", "--json", env=mpi.env()).check().stdout)
    assert [(j["id"], j["state"]) for j in ps] == [(job, "paused")]
    time.sleep(4.5)
    wasmpi("resume", job, env=mpi.env()).check()
    rc, out, err = finish(p)
    assert rc == 0, err
    assert "ok jobloop rank 0" in out and "ok jobloop rank 1" in out and "FAILED" not in out
    mrc, mout, _ = finish(mon)
    assert mrc == 0
    states = [line.split()[2] for line in mout.splitlines()]
    assert states == ["running:", "paused:", "running:", "exited:"], mout
    final = Registry(jobs_dir).get(job)
    assert final is not None and final.paused_total >= 4.5 and final.exit_status == 0
    assert wasmpi("wait", job, env=mpi.env()).returncode == 0


def test_kill_paused_job_leaves_nothing(compile_program, mpi, jobs_dir, started) -> None:  # type: ignore[no-untyped-def]
    mod = compile_program("jobloop.c")
    p, job = start(started, mpi, mod, "60")
    rec = ranks_found(jobs_dir, job)
    wasmpi("pause", job, env=mpi.env()).check()
    waiter = subprocess.Popen([sys.executable, "-m", "wasmpi", "wait", job], env=mpi.env())
    wasmpi("kill", job, env=mpi.env()).check()
    rc, _, _ = finish(p)
    assert rc != 0
    assert waiter.wait(timeout=30) == rc
    final = Registry(jobs_dir).get(job)
    assert final is not None and final.state == "killed", final
    assert "wasmpi kill" in final.reason
    time.sleep(0.5)
    assert not [q for q in rec.processes() if q.alive()]
    assert not carrying(job)


def test_kill_signal_kill(compile_program, mpi, jobs_dir, started) -> None:  # type: ignore[no-untyped-def]
    mod = compile_program("jobloop.c")
    p, job = start(started, mpi, mod, "60")
    rec = ranks_found(jobs_dir, job)
    wasmpi("kill", "--signal", "KILL", job, env=mpi.env()).check()
    rc, _, _ = finish(p)
    assert rc != 0
    final = Registry(jobs_dir).get(job)
    assert final is not None and final.state == "killed"
    time.sleep(0.5)
    assert not [q for q in rec.processes() if q.alive()] and not carrying(job)
    assert wasmpi("kill", "--signal", "BOGUS", job, env=mpi.env()).returncode == 64
    assert wasmpi("kill", "nosuchjob", env=mpi.env()).returncode == 68


def test_ps_after_launcher_sigkilled(compile_program, mpi, jobs_dir, started) -> None:  # type: ignore[no-untyped-def]
    """`wasmpi run` SIGKILLed: nobody records the end, yet once the ranks are gone the job is
    no longer shown as running."""
    mod = compile_program("jobloop.c")
    p, job = start(started, mpi, mod, "2")
    rec = ranks_found(jobs_dir, job)
    p.kill()
    p.wait()
    # mpiexec and the ranks may outlive their launcher; they end with the traffic, or are
    # ended here, and then the job must not look alive
    end = time.monotonic() + 30
    while any(q.alive() for q in rec.ranks) and time.monotonic() < end:
        time.sleep(0.2)
    registry.signal_procs([q for q in rec.processes() if q.alive()], signal.SIGKILL)
    time.sleep(0.5)
    ps = json.loads(wasmpi("ps", "--json", env=mpi.env()).check().stdout)
    assert job not in [j["id"] for j in ps]
    all_ = json.loads(wasmpi("ps", "--json", "--all", env=mpi.env()).check().stdout)
    (mine,) = [j for j in all_ if j["id"] == job]
    assert mine["state"] in ("failed", "killed") and mine["exit_status"] is None
    assert wasmpi("wait", job, env=mpi.env()).returncode == registry.LOST_STATUS


def test_output_and_logs(compile_program, mpi, jobs_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mod = compile_program("jobloop.c")
    out = tmp_path / "out"
    job = registry.new_id()
    r = wasmpi("run", "-n", "2", "--output", str(out), str(mod), "0.2",
               env=mpi.env() | {"WASMPI_JOB": job}).check()
    assert "[0] ok jobloop rank 0" in r.stdout and "[1] ok jobloop rank 1" in r.stdout
    assert (out / "rank.1.out").read_text().startswith("[1] ok jobloop rank 1 steps")
    assert "rank 0" not in (out / "rank.1.out").read_text()
    logs = wasmpi("logs", job, "--rank", "0", env=mpi.env()).check()
    assert logs.stdout.startswith("[0] ok jobloop rank 0") and "rank 1" not in logs.stdout
    everything = wasmpi("logs", job, env=mpi.env()).check().stdout
    assert everything.index("[0] ok") < everything.index("[1] ok")


def test_link_chain_both_ways(compile_program, mpi, jobs_dir) -> None:  # type: ignore[no-untyped-def]
    """x - y - z linked: x ends abnormally, which kills y (linked as y.link(x)), which kills z
    (linked as y.link(z)). A job linked to y that exits normally kills nobody."""
    import wasmpi as api

    mod = compile_program("jobloop.c")
    quiet = subprocess.DEVNULL
    kw = {"mpi": mpi.mpicc, "stdout": quiet, "stderr": quiet}
    y = api.run(mod, 1, args=["60"], **kw)  # type: ignore[arg-type]
    z = api.run(mod, 1, args=["60"], **kw)  # type: ignore[arg-type]
    q = api.run(mod, 1, args=["0.1"], **kw)  # type: ignore[arg-type]
    y.link(z)
    y.link(q)
    y.link(q)  # idempotent
    assert y.record().links.count(q.id) == 1 and y.id in q.record().links
    try:
        assert q.wait(60) == 0 and q.status == "exited"
        time.sleep(1)
        assert y.status == "running" and z.status == "running"
        x = api.run(mod, 1, args=["0.5", "3"], **kw)  # type: ignore[arg-type]
        y.link(x)
        assert x.wait(60) == 3 and x.status == "failed"
        assert y.wait(60) != 0 and y.status == "killed" and x.id in y.reason
        assert z.wait(60) != 0 and z.status == "killed" and y.id in z.reason
    finally:
        for j in (y, z, q):
            if j.exit_code is None:
                j.kill(signal.SIGKILL)


def test_api_compile_run_monitor(mpi, jobs_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import wasmpi as api

    wasm = api.compile(ROOT / "tests" / "programs" / "jobloop.c", tmp_path / "loop.wasm")
    assert wasm.read_bytes()[:4] == b"\0asm"
    # long enough to still be running when paused on a loaded machine (1.5 s was not, once)
    job = api.run(wasm, 2, args=["4"], mpi=mpi.mpicc, stdout=subprocess.PIPE)
    events: list[api.Event] = []
    watcher = job.monitor(events.append)
    assert job.exit_code is None
    while not job.ranks:
        time.sleep(0.1)
    assert sorted(r.rank for r in job.ranks) == [0, 1]
    assert job in api.jobs()
    job.pause()
    assert job.status == "paused"
    time.sleep(1)
    job.resume()
    assert job.wait(60) == 0 and job.exit_code == 0
    watcher.join(10)
    assert [e.state for e in events] == ["running", "paused", "running", "exited"]
    assert job in api.jobs(all=True) and job not in api.jobs()


def test_api_doc_examples(mpi, jobs_dir) -> None:  # type: ignore[no-untyped-def]
    """docs/api.md's Python examples run as written."""
    text = (ROOT / "docs" / "api.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert len(blocks) >= 3
    for code in blocks:
        r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=mpi.env(), text=True,
                           capture_output=True, timeout=180)
        assert r.returncode == 0, f"{code}\nstdout: {r.stdout}\nstderr: {r.stderr}"
