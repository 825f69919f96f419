"""The job registry without MPI: records, atomic writes, stale entries, links, ids."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from wasmpi import control, output, registry
from wasmpi.config import resolve
from wasmpi.errors import UsageError
from wasmpi.registry import Proc, Record, Registry


def record(job_id: str, **kw: object) -> Record:
    base = Record(id=job_id, module="/m.wasm", module_hash="h", args=("1",), nprocs=2,
                  engine="wasmtime", mpi="/mpicc", mpi_flavor="mpich", user="u",
                  start=time.time(), launcher=Proc.of(os.getpid()))
    return replace(base, **kw)  # type: ignore[arg-type]


def dead_proc() -> Proc:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    alive = Proc.of(p.pid)
    p.wait()
    assert alive is not None and not alive.alive()
    return alive


def test_round_trip_and_private_dir(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "jobs")
    rec = record("abc", ranks=(Proc(1, 2, "h", 0),), links=("x",))
    reg.create(rec)
    assert stat.S_IMODE((tmp_path / "jobs").stat().st_mode) == 0o700
    assert reg.get("abc") == rec
    with pytest.raises(UsageError):
        reg.create(rec)  # ids are unique
    assert not list((tmp_path / "jobs").glob(".*.tmp"))


def test_shared_dir_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "open"
    d.mkdir(mode=0o777)
    d.chmod(0o777)
    with pytest.raises(UsageError, match="not a private directory"):
        Registry(d).ensure()


def test_default_dir() -> None:
    assert registry.default_dir("/run/user/7") == Path("/run/user/7/wasmpi")
    assert registry.default_dir(None) == Path(f"/tmp/wasmpi-{os.getuid()}")
    opts = resolve({}, environ={"XDG_RUNTIME_DIR": "/run/user/7"}, use_file=False)
    assert opts.jobs_dir == Path("/run/user/7/wasmpi")
    opts = resolve({}, environ={"WASMPI_JOBS_DIR": "/x/y"}, use_file=False)
    assert opts.jobs_dir == Path("/x/y")


def test_stale_running_marked_on_read(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    gone = dead_proc()
    reg.create(record("stale", launcher=gone, mpiexec=gone, ranks=(gone,)))
    reg.create(record("live"))  # its launcher is this process
    rec = reg.get("stale")
    assert rec is not None and rec.state == registry.FAILED and rec.exit_status is None
    assert "gone" in rec.reason and rec.history[-1][1] == registry.FAILED
    assert [r.id for r in control.ps(reg)] == ["live"]
    assert {r.id for r in control.ps(reg, show_all=True)} == {"stale", "live"}
    assert control.exit_status(rec) == registry.LOST_STATUS


def test_reused_pid_is_not_alive() -> None:
    me = Proc.of(os.getpid())
    assert me is not None and me.alive()
    assert not replace(me, start=me.start + 1).alive()


def test_concurrent_updates_are_not_lost(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    reg.create(record("j"))

    def add(n: int) -> None:
        for i in range(20):
            reg.update("j", lambda r, x=f"{n}-{i}": replace(r, links=(*r.links, x)))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rec = reg.get("j")
    assert rec is not None and len(rec.links) == 80


def test_find_by_prefix_and_bad_ids(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    reg.create(record("aa11"))
    reg.create(record("aa22"))
    assert reg.find("aa1").id == "aa11"
    with pytest.raises(UsageError, match="ambiguous"):
        reg.find("aa")
    with pytest.raises(registry.JobNotFound) as e:
        reg.find("zz")
    assert e.value.exit_code == 68
    with pytest.raises(UsageError, match="job id"):
        reg.find("../etc")


def test_links_idempotent_both_ways(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    for j in ("a", "b"):
        reg.create(record(j))
    control.link(reg, "a", "b")
    control.link(reg, "b", "a")
    control.link(reg, "a", "a")
    a, b = reg.get("a"), reg.get("b")
    assert a is not None and b is not None and a.links == ("b",) and b.links == ("a",)
    control.unlink(reg, "b", "a")
    a = reg.get("a")
    assert a is not None and a.links == ()


def test_paused_seconds_and_abnormal() -> None:
    rec = record("p", paused_total=2.0, paused_since=100.0)
    assert rec.paused_seconds(now=103.0) == 5.0
    assert not record("q", state=registry.EXITED, exit_status=0).abnormal
    assert record("q", state=registry.EXITED, exit_status=1).abnormal
    assert record("q", state=registry.KILLED, exit_status=143).abnormal
    assert not record("q").abnormal  # running


def test_signals() -> None:
    assert registry.parse_signal("kill") == signal.SIGKILL
    assert registry.parse_signal("SIGTERM") == signal.SIGTERM
    assert registry.parse_signal("9") == 9
    with pytest.raises(UsageError):
        registry.parse_signal("NOPE")


def test_output_tags() -> None:
    assert output.split(b"[3] hello\n") == (3, b"hello\n")
    assert output.split(b"[1,2]<stdout>: hi\n") == (2, b"hi\n")
    assert output.split(b"[2,0]<stderr>: child\n") == (1000, b"child\n")
    assert output.split(b"plain\n") == (None, b"plain\n")
    assert output.mpiexec_args("mpich") == ["-prepend-rank"]
