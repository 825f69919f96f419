#!/usr/bin/env python3
"""Per-call cost of MPI calls, native vs wasmpi, one rank (bench/percall.c).

    python bench/percall.py [--mpi PATH/TO/mpicc] [--rounds 5] [--iters 1000000]

Builds percall.c natively (mpicc -O2) and to wasm (wasmpi cc -O2), runs them alternately for
--rounds rounds (each case: best of 5 timed loops), and prints the median ns per call of each
side and the difference: the cost wasmpi adds to one MPI call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse(out: str) -> dict[str, float]:
    res = {}
    for line in out.splitlines():
        name, _, ns = line.rpartition("\t")
        if name:
            res[name] = float(ns)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mpi", default=str(Path(sysconfig.get_path("scripts")) / "mpicc"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=1000000)
    a = ap.parse_args()
    # Open MPI's mpiexec refuses root unless told (as wasmpi run does for its ranks)
    env = dict(os.environ, WASMPI_MPICC=a.mpi, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    mpiexec = str(Path(a.mpi).parent / "mpiexec")
    with tempfile.TemporaryDirectory() as tmp:
        native, wasm = Path(tmp) / "percall", Path(tmp) / "percall.wasm"
        subprocess.run([a.mpi, "-O2", str(HERE / "percall.c"), "-o", str(native)], check=True)
        subprocess.run([sys.executable, "-m", "wasmpi", "cc", "-O2", str(HERE / "percall.c"),
                        "-o", str(wasm)], check=True, env=env)
        subprocess.run([sys.executable, "-m", "wasmpi", "compile", str(wasm)], check=True,
                       env=env, capture_output=True)
        runs: dict[str, list[dict[str, float]]] = {"native": [], "wasm": []}
        for r in range(a.rounds):
            order = ["native", "wasm"] if r % 2 == 0 else ["wasm", "native"]
            for side in order:
                cmd = ([mpiexec, "-n", "1", str(native), str(a.iters)] if side == "native" else
                       [sys.executable, "-m", "wasmpi", "run", "-n", "1", str(wasm),
                        str(a.iters)])
                out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
                runs[side].append(parse(out.stdout))
    print(f"{'call':<36} {'native ns':>10} {'wasm ns':>10} {'added ns':>10}")
    for name in runs["native"][0]:
        n = statistics.median(r[name] for r in runs["native"])
        w = statistics.median(r[name] for r in runs["wasm"])
        print(f"{name:<36} {n:>10.1f} {w:>10.1f} {w - n:>+10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
