"""Rank start-up on the wasmtime tier against native (docs/performance.md, "Rank start-up on
the wasmtime tier"): launch-to-main and launch-to-MPI-ready per rank, on a warm cache, and the
peak RSS of a rank; runs of each kind alternated, medians over rounds.

Kinds: ``native`` (mpiexec -n N ./startup), and for each wasmpi source tree given with
``--tree`` (default: the one this script belongs to): ``exec`` (mpiexec -n N python -m wasmpi
exec ..., what `wasmpi run` starts) and ``run`` (the whole `wasmpi run -n N`, whose parent
validates the module and compiles it before launching).

    python bench/startup.py [-n 2] [--rounds 7] [--tree OLD_SRC --tree NEW_SRC]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def _times(out: str, t0: float) -> tuple[float, float]:
    """The slowest rank's (launch-to-main, launch-to-ready), in ms."""
    mains, readies = [], []
    for line in out.splitlines():
        p = line.split()
        if len(p) == 6 and p[0] == "rank":
            mains.append(float(p[3]) - t0)
            readies.append(float(p[5]) - t0)
    if not mains:
        raise SystemExit(f"no timing line in:\n{out}")
    return max(mains) * 1e3, max(readies) * 1e3


def _rss(cmd: list[str], env: dict[str, str]) -> float:
    """Peak RSS of the largest rank in MB: each rank runs under /usr/bin/time, through a shell
    that gives it a file of its own."""
    i = cmd.index("-n") + 2  # mpiexec ... -n N <rank command>
    with tempfile.TemporaryDirectory() as d:
        shell = ["sh", "-c", f'exec /usr/bin/time -f %M -o "{d}/rss.$$" "$@"', "sh", *cmd[i:]]
        subprocess.run(cmd[:i] + shell, check=True, capture_output=True, env=env)
        return max(float(f.read_text().split()[-1]) for f in Path(d).iterdir()) / 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--tree", action="append", type=Path, metavar="SRC",
                    help="a wasmpi source tree (its src/ directory); repeatable")
    ap.add_argument("--mpicc", default=str(Path(sys.executable).with_name("mpicc")))
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    trees = [t.resolve() for t in a.tree or [HERE.parent / "src"]]
    work = Path(tempfile.mkdtemp(prefix="wasmpi-startup-"))
    src = HERE / "startup.c"
    native, wasm = work / "startup", work / "startup.wasm"
    mpiexec = str(Path(a.mpicc).with_name("mpiexec"))
    subprocess.run([a.mpicc, "-O2", src, "-o", native], check=True)
    kinds: dict[str, tuple[list[str], dict[str, str]]] = {
        "native": ([mpiexec, "-n", str(a.n), str(native)], dict(os.environ))}
    for k, tree in enumerate(trees):
        env = dict(os.environ, PYTHONPATH=str(tree))
        tag = f"[{k}]" if len(trees) > 1 else ""
        if k == 0:
            subprocess.run([sys.executable, "-m", "wasmpi", "cc", src, "-o", wasm], check=True,
                           env=env)
        # warm the cache (module and bridge) and learn the bridge `run` hands its ranks
        subprocess.run([sys.executable, "-m", "wasmpi", "compile", wasm], check=True, env=env,
                       capture_output=True)
        bridge = subprocess.run(
            [sys.executable, "-c", "from wasmpi.bridge.build import build; "
             "from wasmpi.hostmpi import select; "
             f"print(build(select({a.mpicc!r})))"],
            check=True, env=env, capture_output=True, text=True).stdout.strip()
        kinds[f"exec{tag}"] = ([mpiexec, "-n", str(a.n), sys.executable, "-m", "wasmpi", "exec",
                                "--no-config", "--mpi", a.mpicc, "--bridge", bridge, str(wasm)],
                               env)
        kinds[f"run{tag}"] = ([sys.executable, "-m", "wasmpi", "run", "--mpi", a.mpicc,
                               "-n", str(a.n), str(wasm)], env)
    res: dict[str, dict[str, list[float]]] = {k: {"main": [], "ready": []} for k in kinds}
    for r in range(a.rounds):
        for kind, (cmd, env) in kinds.items():
            t0 = time.time()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                                 env=env).stdout
            m, rd = _times(out, t0)
            res[kind]["main"].append(m)
            res[kind]["ready"].append(rd)
        print(f"round {r + 1}/{a.rounds}", file=sys.stderr)
    rss = {k: _rss(cmd, env) for k, (cmd, env) in kinds.items() if not k.startswith("run")}
    print(f"{'kind':<10} {'main ms':>9} {'ready ms':>9} {'ready - native':>15} {'rank RSS MB':>12}")
    nat = statistics.median(res["native"]["ready"])
    for kind, v in res.items():
        m, rd = statistics.median(v["main"]), statistics.median(v["ready"])
        mem = f"{rss[kind]:.1f}" if kind in rss else "-"
        print(f"{kind:<10} {m:>9.1f} {rd:>9.1f} {rd - nat:>+15.1f} {mem:>12}")
    if a.json:
        a.json.write_text(json.dumps({"trees": [str(t) for t in trees], "runs": res,
                                      "rss_mb": rss}, indent=2))


if __name__ == "__main__":
    main()
