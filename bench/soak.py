#!/usr/bin/env python3
"""Soak: mixed MPI traffic on 2 ranks for minutes; RSS and bridge handle counts must stay flat.

    python bench/soak.py [--mpi PATH/TO/mpicc] [--minutes 10] [--every 5] [-n 2]

Builds bench/soak.c with ``wasmpi cc`` and runs it under ``wasmpi run --handle-report EVERY``,
which makes each rank print its bridge's handle counts (live / slots per kind) from a thread
every EVERY seconds. Meanwhile this script samples each rank process's VmRSS from
/proc/PID/status (rank processes: descendants of the launcher running ``wasmpi exec``, their
rank from the launcher's environment variables). Prints a table of samples, the start and end
RSS per rank, the RSS slope (least squares over the samples after --warmup seconds) and the
most live handles per kind, and writes <out>/soak-<mpi>-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# the MPI under test, versions, machine
from common import MPI, first_line, log, machine_info, package_version, sh, wasmpi_python

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "soak.c"
HANDLES_RE = re.compile(r"^wasmpi: rank (\d+): handles (.*)$")
COUNT_RE = re.compile(r"(\w+)=(-?\d+)/(-?\d+)")
RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK")


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc/*/stat's parent field)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            # the command name is in parentheses and may hold spaces: split after it
            parent[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def rank_processes(launcher: int) -> dict[int, int]:
    """rank -> PID of the ``wasmpi exec`` processes under the launcher."""
    ranks = {}
    for pid in children(launcher):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            # the rank itself, not mpiexec, whose arguments hold the same words
            if cmd[1:4] != [b"-m", b"wasmpi", b"exec"]:
                continue
            env = dict(kv.split(b"=", 1) for kv in
                       Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in kv)
        except OSError:
            continue
        for var in RANK_VARS:
            if var.encode() in env:
                ranks[int(env[var.encode()])] = pid
                break
    return ranks


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t [s], y) points, per minute."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return 60 * sum((t - mt) * (y - my) for t, y in points) / var if var else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mpi", metavar="MPICC", help="compiler wrapper of the MPI to use "
                    "(default: WASMPI_MPICC, else the mpich wheel)")
    ap.add_argument("-n", "-np", dest="nprocs", type=int, default=2, help="ranks (default 2)")
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the run (10)")
    ap.add_argument("--every", type=float, default=5.0, help="seconds between samples (5)")
    ap.add_argument("--warmup", type=float, default=30.0,
                    help="seconds left out of the RSS slope (allocator and MPI caches fill; 30)")
    ap.add_argument("--out", type=Path, default=HERE / "results",
                    help="directory for the JSON (default bench/results)")
    ap.add_argument("--tag", default="", help="extra word for the output file name")
    a = ap.parse_args(argv)

    mpi = MPI(a.mpi)
    py = wasmpi_python()
    started = _dt.datetime.now().astimezone()
    seconds = a.minutes * 60
    log(f"MPI: {mpi.flavor} ({mpi.mpicc}); wasmpi via {py}; {seconds:g} s on {a.nprocs} ranks")
    rss: dict[int, list[tuple[float, int]]] = {}
    handles: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="wasmpi-soak-") as tmp:
        wasm = Path(tmp) / "soak.wasm"
        cmd = [py, "-m", "wasmpi", "cc", "-O2", "-o", str(wasm), str(SOURCE)]
        log("build: " + " ".join(cmd))
        sh(cmd)
        cmd = [py, "-m", "wasmpi", "run", "-n", str(a.nprocs), "--mpi", mpi.mpicc,
               "--handle-report", str(a.every), str(wasm), "--", str(seconds)]
        log("run: " + " ".join(cmd))
        job = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=mpi.env())
        t0 = time.monotonic()
        other: list[str] = []

        def read_stderr() -> None:
            assert job.stderr
            for line in job.stderr:
                m = HANDLES_RE.match(line.rstrip())
                if m:
                    counts = {k: (int(live), int(slots))
                              for k, live, slots in COUNT_RE.findall(m[2])}
                    handles.append({"t": round(time.monotonic() - t0, 1), "rank": int(m[1]),
                                    "handles": counts})
                else:
                    other.append(line)

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        print(f"{'t[s]':>7} " + " ".join(f"{'rss' + str(r) + '[MB]':>11}"
                                        for r in range(a.nprocs)) + "  handles (live/slots)")
        while job.poll() is None:
            time.sleep(a.every)
            t = time.monotonic() - t0
            procs = rank_processes(job.pid)
            row = []
            for r in range(a.nprocs):
                kb = rss_kb(procs[r]) if r in procs else None
                if kb is not None and job.poll() is None:
                    rss.setdefault(r, []).append((round(t, 1), kb))
                row.append(f"{kb / 1024:11.1f}" if kb is not None else f"{'-':>11}")
            last = handles[-1] if handles else None
            hs = (f"rank {last['rank']}: " + " ".join(f"{k}={v[0]}/{v[1]}"
                                                      for k, v in last["handles"].items())
                  if last else "")
            print(f"{t:7.1f} " + " ".join(row) + "  " + hs, flush=True)
        out = job.stdout.read() if job.stdout else ""
        reader.join(5)
        elapsed = time.monotonic() - t0
    if job.returncode != 0:
        sys.exit(f"error: the soak job failed ({job.returncode}):\n{out}{''.join(other)}")
    m = re.search(r"SOAK iterations (\d+)", out)
    iterations = int(m[1]) if m else None

    per_rank = {}
    for r, pts in sorted(rss.items()):
        late = [(t, kb) for t, kb in pts if t >= a.warmup]
        per_rank[r] = {"start_kb": pts[0][1], "end_kb": pts[-1][1],
                       "max_kb": max(kb for _, kb in pts),
                       "slope_kb_per_min": round(slope(late), 1),
                       "slope_all_kb_per_min": round(slope(pts), 1), "samples": pts}
    kinds = sorted({k for h in handles for k in h["handles"]})
    max_live = {k: max(h["handles"].get(k, (0, 0))[0] for h in handles) for k in kinds}
    max_slots = {k: max(h["handles"].get(k, (0, 0))[1] for h in handles) for k in kinds}

    print(f"\n{mpi.flavor}, {a.nprocs} ranks, {elapsed:.0f} s, {iterations} iterations")
    print(f"{'rank':>4} {'start[MB]':>10} {'end[MB]':>9} {'max[MB]':>9} "
          f"{'slope after warm-up [KB/min]':>29} {'slope all [KB/min]':>19}")
    for r, d in per_rank.items():
        print(f"{r:>4} {d['start_kb'] / 1024:10.1f} {d['end_kb'] / 1024:9.1f} "
              f"{d['max_kb'] / 1024:9.1f} {d['slope_kb_per_min']:29.1f} "
              f"{d['slope_all_kb_per_min']:19.1f}")
    print("max live handles / slots per kind (any rank, any sample): " +
          ", ".join(f"{k} {max_live[k]}/{max_slots[k]}" for k in kinds))

    stamp = started.strftime("%Y-%m-%d")
    a.out.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": "bench/soak.c",
        "date": started.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "nprocs": a.nprocs,
        "every_s": a.every,
        "warmup_s": a.warmup,
        "iterations": iterations,
        "machine": machine_info(),
        "versions": {
            "wasmpi": package_version(py, "wasmpi"),
            "wasmtime": package_version(py, "wasmtime"),
            "wasm_compiler": first_line([py, "-m", "wasmpi", "cc", "--version"]),
            **mpi.version_info(),
        },
        "rss": {str(r): d for r, d in per_rank.items()},
        "max_live_handles": max_live,
        "max_handle_slots": max_slots,
        "handle_reports": handles,
        "load": os.getloadavg(),
    }
    path = a.out / f"soak-{mpi.flavor}{'-' + a.tag if a.tag else ''}-{stamp}.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
