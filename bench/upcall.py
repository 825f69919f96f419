#!/usr/bin/env python3
"""Cost of user reduction ops (upcalls into the guest): native MPI vs wasmpi, bench/upcall.c.

    python bench/upcall.py [--mpi PATH/TO/mpicc] [-n 2] [--rounds 5] [--max-n 1000000]

Builds upcall.c natively with the MPI's mpicc and to wasm with ``wasmpi cc`` (same -O level),
then runs both alternately, flipping the order every round (ABBA) as bench/run.py does. Per
(benchmark, n) the time is the median over rounds of upcall.c's median over batches. Prints
per call and per element times, the wasm/native ratio (also of the best rounds, as a check
against rounds that a busy shared machine made slow throughout) and the extra time per call of
wasm, and writes <out>/upcall-<mpi>-<date>.json with the machine and the versions.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the MPI under test, versions, machine
from common import MPI, first_line, log, machine_info, package_version, sh, wasmpi_python

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "upcall.c"
BENCHMARKS = ["local_user", "local_user_dt", "local_sum", "allred_user"]
TITLES = {
    "local_user": "MPI_Reduce_local, user op (sum of doubles)",
    "local_user_dt": "MPI_Reduce_local, user op, derived datatype (contiguous(1, MPI_DOUBLE))",
    "local_sum": "MPI_Reduce_local, MPI_SUM (no upcall)",
    "allred_user": "MPI_Allreduce, user op (sum of doubles)",
}
RUN_TIMEOUT = 900
RESULT_RE = re.compile(r"^RESULT\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)")


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[dict[tuple[str, int], float], str]:
    try:
        p = sh(cmd, env=env, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        sys.exit(f"error: `{' '.join(cmd)}` took more than {RUN_TIMEOUT} s")
    res: dict[tuple[str, int], float] = {}
    lib = ""
    for line in p.stdout.splitlines():
        m = RESULT_RE.match(line)
        if m:
            res[(m[1], int(m[2]))] = float(m[3])
        elif line.startswith("# library "):
            lib = line[len("# library "):].strip()
    if not res:
        sys.exit(f"error: no RESULT lines from `{' '.join(cmd)}`\n{p.stdout}{p.stderr}")
    return res, lib


def summarize(raw: dict[str, dict[tuple[str, int], list[float]]]) -> dict[str, list[dict]]:
    table: dict[str, list[dict]] = {}
    for bench in BENCHMARKS:
        keys = sorted(k for k in raw["native"] if k[0] == bench and k in raw["wasm"])
        rows = []
        for k in keys:
            tn, tw = statistics.median(raw["native"][k]), statistics.median(raw["wasm"][k])
            mn, mw = min(raw["native"][k]), min(raw["wasm"][k])
            n = k[1]
            rows.append({"n": n, "t_native_us": tn, "t_wasm_us": tw,
                         "ns_per_elem_native": tn * 1e3 / n, "ns_per_elem_wasm": tw * 1e3 / n,
                         "extra_ns_per_call": (tw - tn) * 1e3,
                         "ratio": tw / tn if tn > 0 else float("nan"),
                         # a shared machine makes some runs slow throughout (a busy core):
                         # the best round of each side is the cross-check
                         "t_native_min_us": mn, "t_wasm_min_us": mw,
                         "ratio_min": mw / mn if mn > 0 else float("nan")})
        if rows:
            table[bench] = rows
    return table


def print_tables(table: dict[str, list[dict]], title: str) -> None:
    print(f"\n== {title}")
    for bench, rows in table.items():
        print(f"\n{TITLES[bench]}")
        print(f"{'n':>8} {'native[us]':>11} {'wasm[us]':>10} {'ns/el nat':>10} "
              f"{'ns/el wasm':>10} {'wasm-nat[ns]':>12} {'wasm/nat':>9} {'(min)':>6}")
        for r in rows:
            print(f"{r['n']:>8} {r['t_native_us']:11.3f} {r['t_wasm_us']:10.3f} "
                  f"{r['ns_per_elem_native']:10.3f} {r['ns_per_elem_wasm']:10.3f} "
                  f"{r['extra_ns_per_call']:12.1f} {r['ratio']:9.2f} {r['ratio_min']:6.2f}")


def markdown(doc: dict) -> str:
    """A results JSON as Markdown: one table per benchmark."""
    out = []
    for bench, rows in doc["results"].items():
        out += [f"**{TITLES[bench]}**", "",
                "| doubles | native [µs] | wasm [µs] | ns/element native | ns/element wasm "
                "| wasm - native per call [ns] | wasm/native | (best rounds) |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            out.append(f"| {r['n']:,} | {r['t_native_us']:.3f} | {r['t_wasm_us']:.3f} | "
                       f"{r['ns_per_elem_native']:.3f} | {r['ns_per_elem_wasm']:.3f} | "
                       f"{r['extra_ns_per_call']:.0f} | {r['ratio']:.2f} | "
                       f"{r.get('ratio_min', float('nan')):.2f} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mpi", metavar="MPICC", help="compiler wrapper of the MPI to use "
                    "(default: WASMPI_MPICC, else the mpich wheel)")
    ap.add_argument("-n", "-np", dest="nprocs", type=int, default=2, help="ranks (default 2)")
    ap.add_argument("--out", type=Path, default=HERE / "results",
                    help="directory for the JSON (default bench/results)")
    ap.add_argument("--rounds", type=int, default=5, help="native+wasm rounds (default 5)")
    ap.add_argument("--opt", default="-O2", help="optimization flag for both builds (-O2)")
    ap.add_argument("--max-n", type=int, default=1000000, help="most doubles (default 1M)")
    ap.add_argument("--batches", type=int, default=7, help="timed batches per point (7)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the repetitions")
    ap.add_argument("--tag", default="", help="extra word for the output file name")
    ap.add_argument("--markdown", metavar="JSON", type=Path,
                    help="print a results JSON as Markdown tables and exit (no runs)")
    a = ap.parse_args(argv)
    if a.markdown:
        print(markdown(json.loads(a.markdown.read_text())))
        return 0
    if a.rounds < 1:
        ap.error("--rounds must be >= 1")

    mpi = MPI(a.mpi)
    py = wasmpi_python()
    started = _dt.datetime.now().astimezone()
    log(f"MPI: {mpi.flavor} ({mpi.mpicc}); wasmpi via {py}")
    args = [str(a.max_n), "-batches", str(a.batches), "-scale", str(a.scale)]
    library = {"native": "", "wasm": ""}
    raw: dict[str, dict[tuple[str, int], list[float]]] = {"native": {}, "wasm": {}}
    with tempfile.TemporaryDirectory(prefix="wasmpi-upcall-") as tmp:
        native, wasm = Path(tmp) / "upcall-native", Path(tmp) / "upcall.wasm"
        for cmd in ([mpi.mpicc, a.opt, "-o", str(native), str(SOURCE)],
                    [py, "-m", "wasmpi", "cc", a.opt, "-o", str(wasm), str(SOURCE)]):
            log("build: " + " ".join(cmd))
            sh(cmd)
        cmds = {
            "native": [mpi.mpiexec, *mpi.launcher_args(), "-n", str(a.nprocs), str(native)],
            "wasm": [py, "-m", "wasmpi", "run", "-n", str(a.nprocs), "--mpi", mpi.mpicc,
                     str(wasm), "--"],
        }
        for kind in ("native", "wasm"):  # warm-up: both work, wasmpi's caches are filled
            run_once([*cmds[kind], "1000", "-batches", "1", "-scale", "0.01"], mpi.env())
        t_start = time.monotonic()
        for rnd in range(a.rounds):
            order = ("native", "wasm") if rnd % 2 == 0 else ("wasm", "native")
            t0 = time.monotonic()
            for kind in order:
                res, lib = run_once([*cmds[kind], *args], mpi.env())
                library[kind] = lib or library[kind]
                for k, v in res.items():
                    raw[kind].setdefault(k, []).append(v)
            log(f"round {rnd + 1}/{a.rounds} ({'/'.join(order)}) "
                f"{time.monotonic() - t0:.1f} s, load {os.getloadavg()[0]:.2f}")
        elapsed = time.monotonic() - t_start

    table = summarize(raw)
    print_tables(table, f"{mpi.flavor}, {a.nprocs} ranks: median over {a.rounds} rounds "
                        f"(wasm vs native, {a.opt})")
    stamp = started.strftime("%Y-%m-%d")
    a.out.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": "bench/upcall.c",
        "date": started.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "nprocs": a.nprocs,
        "rounds": a.rounds,
        "opt": a.opt,
        "args": args,
        "machine": machine_info(),
        "versions": {
            "wasmpi": package_version(py, "wasmpi"),
            "wasmtime": package_version(py, "wasmtime"),
            "wasm_compiler": first_line([py, "-m", "wasmpi", "cc", "--version"]),
            "mpi_library_native": library["native"],
            "mpi_library_wasm": library["wasm"],
            **mpi.version_info(),
        },
        "results": table,
        "raw_us": {kind: [{"bench": k[0], "n": k[1], "rounds": v}
                          for k, v in sorted(d.items())] for kind, d in raw.items()},
    }
    path = a.out / f"upcall-{mpi.flavor}{'-' + a.tag if a.tag else ''}-{stamp}.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
