#!/usr/bin/env python3
"""Per-call cost of MPI calls, native vs wasmpi, one rank (bench/percall.c).

    python bench/percall.py [--mpi PATH/TO/mpicc] [--engine wasmtime|llvm] [--rounds 5]
                            [--iters 1000000] [--case PREFIX]
    python bench/percall.py --instructions [--engine ...] [--case PREFIX]

Builds percall.c natively (mpicc -O2) and to wasm (wasmpi cc -O2), runs them alternately for
--rounds rounds (each case: best of 5 timed loops), and prints the median ns per call of each
side and the difference: the cost wasmpi adds to one MPI call.

--instructions counts instead of timing: each case runs alone under valgrind (callgrind), and
the instructions of one call are those executed inside the timed loop (native: the loop's
function; llvm: the guest function wasm2c made of it), or for wasmtime, whose compiled code
valgrind cannot name, the difference between two runs of the guest (`_start`) at two loop
counts. Counts do not depend on the machine's load, so they compare tiers on a busy machine.
The llvm module is built for `--llvm-cpu x86_64` here: valgrind does not know AVX-512.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: each case's loop function in percall.c, and how many calls one loop iteration makes
LOOPS = {"MPI_Initialized": ("initialized", 4), "MPI_Comm_rank": ("comm_rank", 4),
         "MPI_Bcast(count 0, SELF)": ("bcast0", 2), "MPI_Bcast(SELF, 8 B)": ("bcast8", 2),
         "MPI_Sendrecv(self, 1 B)": ("sendrecv_self", 1),
         "MPI_Sendrecv(self, 1 B, status)": ("sendrecv_status", 1),
         "MPI_Irecv+Send+Wait(self, 1 B)": ("irecv_send_wait", 1),
         "MPI_Irecv+Isend+Waitall(self)": ("isend_wait", 1)}
#: wasmtime's frame that runs guest code called from the host (wasmtime 50); collecting only
#: inside it leaves out Python, module loading and compilation
WASMTIME_GUEST = "*call_impl_do_call*"


def parse(out: str) -> dict[str, float]:
    res = {}
    for line in out.splitlines():
        name, _, ns = line.rpartition("\t")
        if name:
            res[name] = float(ns)
    return res


def runner_command(opts: list[str], wasm: Path, env: dict[str, str], mpiexec_log: Path
                   ) -> list[str]:
    """What `wasmpi run -n 1 OPTS WASM` starts as its rank (without the guest's arguments):
    recorded by a stand-in mpiexec."""
    fake = mpiexec_log.with_suffix(".sh")
    fake.write_text(f"#!/bin/sh\n[ \"$1\" = --version ] && exec {shlex.quote(env['MPIEXEC'])} "
                    f"--version\necho \"$@\" > {shlex.quote(str(mpiexec_log))}\n")
    fake.chmod(0o755)
    subprocess.run([sys.executable, "-m", "wasmpi", "run", "--mpiexec", str(fake), *opts,
                    "-n", "1", str(wasm), "GUEST-ARGS"], check=True, env=env,
                   capture_output=True)
    argv = shlex.split(mpiexec_log.read_text())
    # after mpiexec's own options (Open MPI's --oversubscribe) and `-n 1`
    return argv[argv.index("-n") + 2:-1]


def callgrind(mpiexec: str, cmd: list[str], env: dict[str, str], toggle: str) -> int:
    with tempfile.NamedTemporaryFile(suffix=".cg") as out:
        # by its path: Open MPI's mpiexec does not search PATH for the command it starts
        vg = [shutil.which("valgrind") or "valgrind", "--tool=callgrind",
              f"--callgrind-out-file={out.name}", f"--toggle-collect={toggle}"]
        r = subprocess.run([mpiexec, "-n", "1", *vg, *cmd], env=env, capture_output=True,
                           text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if r.returncode or not m:
        sys.exit(f"valgrind failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return int(m.group(1))


def instructions(a: argparse.Namespace, env: dict[str, str], mpiexec: str, native: Path,
                 wasm: Path, tmp: Path) -> int:
    env = dict(env, MPIEXEC=mpiexec, PYTHONHASHSEED="0")
    engine = ["--engine", a.engine] + (["--llvm-cpu", "x86_64"] if a.engine == "llvm" else [])
    rank = runner_command(engine, wasm, env, tmp / "rank.txt")
    n1, n2 = a.iters // 10, a.iters
    print(f"{'call':<36} {'native':>8} {a.engine:>8} {'added':>8}   instructions per call")
    for name, (fn, scale) in LOOPS.items():
        if a.case and not name.startswith(a.case):
            continue
        nat = callgrind(mpiexec, [str(native), str(n1), name, "1"], env, fn) / (n1 * scale)
        if a.engine == "llvm":
            # the loop is w2c_guest_<fn>, or wasm2c's wrap_ of it when clang inlined it there
            # (callgrind's leading '*' misses some names: both exact names, the larger count)
            w = max(callgrind(mpiexec, [*rank, str(n1), name, "1"], env, pre + "w2c_guest_" + fn)
                    for pre in ("", "wrap_"))
            wasm_ir = w / (n1 * scale)
        else:
            lo = callgrind(mpiexec, [*rank, str(n1), name, "1"], env, WASMTIME_GUEST)
            hi = callgrind(mpiexec, [*rank, str(n2), name, "1"], env, WASMTIME_GUEST)
            wasm_ir = (hi - lo) / ((n2 - n1) * scale)
        print(f"{name:<36} {nat:>8.1f} {wasm_ir:>8.1f} {wasm_ir - nat:>+8.1f}", flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mpi", default=str(Path(sysconfig.get_path("scripts")) / "mpicc"))
    ap.add_argument("--engine", default="wasmtime", choices=("wasmtime", "llvm"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=None,
                    help="loop count (default 1000000; --instructions: 20000)")
    ap.add_argument("--case", default="", help="only the cases whose name starts with this")
    ap.add_argument("--instructions", action="store_true",
                    help="count instructions per call under valgrind instead of timing")
    a = ap.parse_args()
    a.iters = a.iters or (20000 if a.instructions else 1000000)
    # Open MPI's mpiexec refuses root unless told (as wasmpi run does for its ranks)
    env = dict(os.environ, WASMPI_MPICC=a.mpi, WASMPI_ENGINE=a.engine,
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    mpiexec = str(Path(a.mpi).parent / "mpiexec")
    with tempfile.TemporaryDirectory() as tmp:
        native, wasm = Path(tmp) / "percall", Path(tmp) / "percall.wasm"
        subprocess.run([a.mpi, "-O2", str(HERE / "percall.c"), "-o", str(native)], check=True)
        subprocess.run([sys.executable, "-m", "wasmpi", "cc", "-O2", str(HERE / "percall.c"),
                        "-o", str(wasm)], check=True, env=env)
        if a.instructions:
            return instructions(a, env, mpiexec, native, wasm, Path(tmp))
        subprocess.run([sys.executable, "-m", "wasmpi", "compile", "--engine", a.engine,
                        str(wasm)], check=True, env=env, capture_output=True)
        case = [a.case] if a.case else []
        runs: dict[str, list[dict[str, float]]] = {"native": [], "wasm": []}
        for r in range(a.rounds):
            order = ["native", "wasm"] if r % 2 == 0 else ["wasm", "native"]
            for side in order:
                cmd = ([mpiexec, "-n", "1", str(native), str(a.iters), *case]
                       if side == "native" else
                       [sys.executable, "-m", "wasmpi", "run", "-n", "1", str(wasm),
                        str(a.iters), *case])
                out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
                runs[side].append(parse(out.stdout))
    print(f"{'call':<36} {'native ns':>10} {a.engine + ' ns':>10} {'added ns':>10}")
    for name in runs["native"][0]:
        n = statistics.median(r[name] for r in runs["native"])
        w = statistics.median(r[name] for r in runs["wasm"])
        print(f"{name:<36} {n:>10.1f} {w:>10.1f} {w - n:>+10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
