"""`wasmpi bench` statistics, ABBA order, JSON schema and argument handling (no MPI, no
compiler)."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path

import pytest

from wasmpi import bench
from wasmpi.bench import imb, report, stats
from wasmpi.errors import UsageError


def test_gm_slowdown() -> None:
    assert stats.gm_slowdown([2.0, 0.5]) == pytest.approx(0.0)
    assert stats.gm_slowdown([1.1, 1.1, 1.1]) == pytest.approx(0.1)
    assert stats.gm_slowdown([4.0, 1.0]) == pytest.approx(1.0)
    # a point without a ratio does not poison the mean
    assert stats.gm_slowdown([2.0, math.nan, 0.0, -1.0]) == pytest.approx(1.0)
    assert math.isnan(stats.gm_slowdown([]))


def test_median() -> None:
    assert stats.median([3.0, 1.0, 2.0]) == 2.0
    assert stats.median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert stats.median([1.0, math.nan, 3.0]) == 2.0
    assert math.isnan(stats.median([]))


def test_time_ratio() -> None:
    assert stats.time_ratio(3.0, 2.0) == 1.5
    # a rate: the engine at half the native bandwidth takes twice the time
    assert stats.time_ratio(50.0, 100.0, higher_is_better=True) == 2.0
    assert math.isnan(stats.time_ratio(1.0, 0.0))


def test_abba_order() -> None:
    sides = ["native", "wasmtime"]
    assert [stats.abba(sides, r) for r in range(4)] == [
        ["native", "wasmtime"], ["wasmtime", "native"],
        ["native", "wasmtime"], ["wasmtime", "native"]]
    three = ["native", "wasmtime", "llvm"]
    assert stats.abba(three, 1) == ["llvm", "wasmtime", "native"]
    # over a pair of rounds every side sits at every distance from the start equally often
    pos = {s: [stats.abba(three, r).index(s) for r in (0, 1)] for s in three}
    assert all(sum(p) == len(three) - 1 for p in pos.values())


def _series() -> report.Series:
    s = report.Series("pt2pt", "time per iteration", "us")
    for rnd, (tn, tw) in enumerate([(1.0, 1.2), (1.2, 1.1), (1.1, 1.3)]):
        s.add("PingPong", 1, "native", tn)
        s.add("PingPong", 1, "wasmtime", tw)
        s.add("PingPong", 2, "wasmtime", 2.0 * (rnd + 1))
        s.add("PingPong", 2, "native", 1.0 * (rnd + 1))
    return s


def test_series_rows_and_gm() -> None:
    s = _series()
    rows = s.rows()
    assert [(r["bench"], r["x"]) for r in rows] == [("PingPong", 1), ("PingPong", 2)]
    first = rows[0]
    assert first["values"]["native"] == {"median": 1.1, "min": 1.0, "max": 1.2,
                                         "rounds": [1.0, 1.2, 1.1]}
    assert first["ratio"]["wasmtime"] == pytest.approx(1.2 / 1.1)
    assert first["delta"]["wasmtime"] == pytest.approx(0.1)
    assert rows[1]["ratio"]["wasmtime"] == pytest.approx(2.0)
    gm = s.gm()["wasmtime"]
    assert gm["PingPong"] == pytest.approx(math.sqrt(1.2 / 1.1 * 2.0) - 1)
    assert gm["overall"] == gm["PingPong"]
    assert s.engines() == ["native", "wasmtime"]  # native first whatever the order of rounds
    text = report.table(s)
    assert "wasmtime/native" in text and "GM(t_engine/t_native) - 1" in text


def test_json_document(tmp_path: Path) -> None:
    s = _series()
    s.add("Barrier", "0 B", "native", math.nan)  # NaN must not reach the JSON
    doc = report.document("pt2pt", [s], started=dt.datetime.now().astimezone(),
                          meta={"wasmpi": "0", "wasmtime": "0", "mpi_flavor": "mpich",
                                "native_compiler": "gcc"},
                          settings={"nprocs": 2}, notes=["a note"])
    report.validate(doc)
    path = report.write_json(doc, tmp_path / "x" / "doc.json")
    back = json.loads(path.read_text())  # strict JSON: no NaN
    report.validate(back)
    assert back["series"][0]["gm"]["wasmtime"]["overall"] == pytest.approx(
        doc["series"][0]["gm"]["wasmtime"]["overall"])
    assert back["schema"] == report.SCHEMA and back["notes"] == ["a note"]
    for key in ("cpu_model", "cores", "kernel"):
        assert key in back["machine"]
    del back["versions"]["wasmtime"]
    with pytest.raises(ValueError, match="wasmtime"):
        report.validate(back)


def test_imb_parse() -> None:
    out = "# library X\nRESULT PingPong 8 1.5 1.2 1.9 1000 5\nnoise\nRESULT Barrier 0 3 3 3 9 1\n"
    assert imb.parse(out) == {("PingPong", 8): 1.5, ("Barrier", 0): 3.0}


def test_fmt_x() -> None:
    assert report.fmt_x(1) == "1 B"
    assert report.fmt_x(65536) == "64 KiB"
    assert report.fmt_x(16 << 20) == "16 MiB"
    assert report.fmt_x("warm") == "warm"


def test_arguments() -> None:
    ns = bench.parser().parse_args(["pt2pt", "--quick", "--engines", "native,wasmtime"])
    assert ns.quick and ns.engines == "native,wasmtime" and ns.nprocs == 2
    with pytest.raises(UsageError):
        bench.parser().parse_args(["nosuch"])
    with pytest.raises(UsageError, match="--engines"):
        bench.context.parse_engines("native,v8")
    # every subcommand exists, whether its module is in this install or a placeholder
    for name in bench.SUBCOMMANDS:
        mod = bench.module(name)
        assert callable(mod.run) and callable(mod.add_arguments) and mod.HELP


def test_plot_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the [plot] extra were missing
    assert not report.have_matplotlib()
    assert report.plot(_series(), tmp_path / "x.png", "t") is None
    assert not (tmp_path / "x.png").exists()


def test_startup_targets_compare_main_with_native_init() -> None:
    """A wasm rank's main runs after MPI_Init: its launch-to-main is held against native's
    launch-to-MPI_Init-done, through `wasmpi run` and for the ranks alone."""
    from wasmpi.bench import startup

    launch = report.Series("startup", "time since launch", "ms", xlabel="rank")
    rss = report.Series("rss", "peak RSS", "MB", xlabel="rank")
    for rank, (main, init) in enumerate(((45.0, 60.0), (46.0, 62.0))):
        launch.add("launch to main (warm)", f"rank {rank}", stats.NATIVE, main)
        launch.add("launch to MPI_Init done (warm)", f"rank {rank}", stats.NATIVE, init)
        launch.add("ranks alone: launch to main (warm)", f"rank {rank}", stats.NATIVE, main)
    for rank, (run, alone) in enumerate(((105.0, 70.0), (113.0, 64.0))):
        launch.add("launch to main (warm)", f"rank {rank}", "llvm", run)
        launch.add("ranks alone: launch to main (warm)", f"rank {rank}", "llvm", alone)
    notes = startup._targets(launch, rss)
    through_run, = (n for n in notes if "through `wasmpi run`" in n)
    alone, = (n for n in notes if "ranks alone" in n)
    # worst rank: 113 - 62 (not 113 - 46, against native's main)
    assert "+51 ms over native's launch to MPI_Init done" in through_run
    assert through_run.endswith("missed")
    assert "+10 ms" in alone and alone.endswith("met")
