"""The time limit's parts that need no MPI: option values, the call report, the backstop."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from wasmpi import launcher
from wasmpi.bridge import calls
from wasmpi.config import BY_NAME, ExecOptions, Options, _parse
from wasmpi.errors import TimeLimitReached, UsageError
from wasmpi.timelimit import Watchdog


def test_parse_seconds() -> None:
    o = BY_NAME["time_limit"]
    assert _parse(o, "0", "--time-limit 0") is None  # no limit
    assert _parse(o, "2.5", "--time-limit 2.5") == 2.5
    for bad in ("-1", "x", "nan", "inf", ""):
        with pytest.raises(UsageError):
            _parse(o, bad, f"--time-limit {bad}")


def test_forwarded_to_ranks() -> None:
    opts = ExecOptions(Path("a.wasm"), (), Options(time_limit=3.0, deadline=100.5))
    fwd = opts.forwarded()
    assert fwd[fwd.index("--time-limit") + 1] == "3.0"
    assert fwd[fwd.index("--deadline") + 1] == "100.5"
    assert "--time-limit" not in ExecOptions(Path("a.wasm"), ()).forwarded()


def test_describe_names_peers() -> None:
    # MPI_Recv(buf, count, datatype, source, tag, comm, status): raw slots, i32 in i64
    assert calls.arity("MPI_Recv") == 7
    assert (calls.describe("MPI_Recv", [64, 1, 0x209, 1, 7, 0x101, 0])
            == "MPI_Recv(source=1, tag=7, comm=MPI_COMM_WORLD)")
    any_src, any_tag = (0xFFFFFFFF, 0xFFFFFFFE)  # -1, -2 as the slot's low 32 bits
    assert (calls.describe("MPI_Recv", [64, 1, 0x209, any_src, any_tag, 0x1000003, 0])
            == "MPI_Recv(source=MPI_ANY_SOURCE, tag=MPI_ANY_TAG, comm=0x1000003)")
    assert calls.describe("MPI_Bcast", [0, 1, 0x209, 0, 0x102]) == \
        "MPI_Bcast(root=0, comm=MPI_COMM_SELF)"
    assert calls.describe("MPI_Finalize", []) == "MPI_Finalize()"
    assert calls.describe("MPI_Not_in_the_table", [1]) == "MPI_Not_in_the_table"


def test_watchdog_stopped_in_time_stays_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    w = Watchdog(0.2, time.time() + 0.2).start()
    w.stop()
    time.sleep(0.4)
    assert capsys.readouterr().err == ""


@pytest.mark.timeout(30)
def test_backstop_kills_the_whole_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job that outlives the deadline by BACKSTOP is killed with everything under it."""
    monkeypatch.setattr(launcher, "BACKSTOP", 0.3)
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout
    grandchild = int(proc.stdout.readline())
    opts = ExecOptions(Path("a.wasm"), (), Options(time_limit=0.2, deadline=time.time() + 0.2))
    t0 = time.monotonic()
    assert launcher._wait(proc, opts) == TimeLimitReached.exit_code
    assert time.monotonic() - t0 < 5
    time.sleep(0.2)
    stat = Path(f"/proc/{grandchild}/stat")
    # gone, or a zombie until init reaps it
    assert not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] == "Z"


def test_llvm_runner_tables_come_from_calls() -> None:
    """The LLVM tier's C watchdog reads tables generated from calls.peers/special_names."""
    from wasmpi.bridge import gen_bridge

    text = gen_bridge.w2c_adapters()
    assert ('{"MPI_Recv", 7, 3, {{3, \'r\', "source"}, {4, \'t\', "tag"}, {5, \'c\', "comm"}}}'
            in text)
    for kind, names in calls.special_names().items():
        for value, name in names.items():
            assert f"{{{value}, '{kind[0]}', \"{name}\"}}" in text
