"""`wasmpi bench`: every subcommand end to end on real ranks (quick mode, one round), its JSON
checked against the schema; bad options rejected with one line and exit 64."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import wasmpi

from wasmpi.bench import report

# bench all runs ~15 jobs and ~8 builds: about 25 s on a quiet machine, more on a busy one
# it chooses its engines itself, run by run: once per MPI, with WASMPI_ENGINE=wasmtime
pytestmark = [pytest.mark.mpi, pytest.mark.slow, pytest.mark.engine("wasmtime")]


def test_bench_all_quick(mpi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "results"
    # matplotlib (the [plot] extra) is optional: plots only where it is importable
    plots = report.have_matplotlib() and mpi.name == "mpich"
    r = wasmpi("bench", "all", "--rounds", "1", "--engines", "native,wasmtime,llvm",
               "--out", str(out), *(() if plots else ("--no-plot",)),
               env=mpi.env(), timeout=600).check()
    docs = {}
    for path in sorted(out.glob("*.json")):
        doc = json.loads(path.read_text())
        report.validate(doc)
        docs[doc["subcommand"]] = doc
    assert set(docs) >= {"pt2pt", "coll", "startup", "sizes", "io"}, r.stderr
    for name in ("pt2pt", "coll", "startup", "io"):
        doc = docs[name]
        assert doc["settings"]["quick"] and doc["versions"]["mpi_flavor"] == mpi.name
        engines = doc["series"][0]["engines"]
        assert engines[:2] == ["native", "wasmtime"], engines
        gm = doc["series"][0]["gm"]["wasmtime"]
        assert gm["overall"] is not None and gm["overall"] > -1
    pt2pt = {row["bench"] for row in docs["pt2pt"]["series"][0]["rows"]}
    assert pt2pt == {"PingPong", "PingPing", "Sendrecv", "Exchange"}
    coll = {row["bench"] for row in docs["coll"]["series"][0]["rows"]}
    assert coll == {"Bcast", "Allreduce", "Allgather", "Alltoall", "Reduce", "Gather",
                    "Scatter", "Barrier"}
    rss = docs["startup"]["series"][1]
    assert all(row["values"]["native"]["median"] > 1 for row in rss["rows"])  # MB, not KiB
    io = {(row["bench"], row["x"]) for row in docs["io"]["series"][0]["rows"]}
    assert io == {(b, x) for b in ("write", "cached read", "cached pread")
                  for x in (64 << 10, 1 << 20, 16 << 20)}
    sizes = docs["sizes"]["series"][0]["rows"]
    assert {row["x"] for row in sizes} >= {"imb", "io", "startup"}
    assert all(row["values"]["wasm"]["median"] > 0 for row in sizes)
    static = docs["sizes"]["settings"]["static"]
    assert static or any("no static native binaries" in n for n in docs["sizes"]["notes"])
    if plots:
        assert len(list(out.glob("*.png"))) >= 6
    assert "GM(t_engine/t_native) - 1" in r.stdout


@pytest.mark.parametrize("args", [
    ("pt2pt", "--engines", "native,v8"),
    ("coll", "--rounds", "0"),
    ("pt2pt", "--bench", "nosuch"),
    ("nosuch",),
    ("io", "--dir", "/nonexistent/wasmpi-bench"),
])
def test_bench_bad_options(args: tuple[str, ...], tmp_path: Path) -> None:
    r = wasmpi("bench", *args, "--out", str(tmp_path), timeout=120)
    assert r.returncode == 64, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("wasmpi: error: ")]
    assert len(errors) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())
