"""POSIX file I/O in a --dir grant, wasm against native (docs/performance.md, "File I/O on the
wasmtime tier"): bench/posix_io.c built with the host mpicc and with `wasmpi cc`, run on
``-n`` ranks file per process, native and wasm runs alternated; medians of GB/s and their ratio.

    python bench/posix_io.py [-n 2] [--mib 256] [--rounds 5] [--dir /tmp/x]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent


def _rows(out: str) -> dict[str, float]:
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == "GB/s":
            rows[f"{parts[0]} {int(parts[1]) >> 10} KiB"] = float(parts[2])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=2)
    ap.add_argument("--mib", type=int, default=256, help="file size per rank")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dir", type=Path, help="where the files go (default: a temporary dir)")
    ap.add_argument("--mpicc", default=str(Path(sys.executable).with_name("mpicc")))
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wasmpi-posix-io-"))
    data = a.dir or work
    src = HERE / "posix_io.c"
    native, wasm = work / "posix_io", work / "posix_io.wasm"
    subprocess.run([a.mpicc, "-O2", src, "-o", native], check=True)
    subprocess.run([sys.executable, "-m", "wasmpi", "cc", "-O2", src, "-o", wasm], check=True)
    mpiexec = str(Path(a.mpicc).with_name("mpiexec"))
    cmds = {
        "native": [mpiexec, "-n", str(a.n), str(native), str(data), str(a.mib)],
        "wasm": [sys.executable, "-m", "wasmpi", "run", "--mpi", a.mpicc, "-n", str(a.n),
                 "--dir", f"{data}::/data", str(wasm), "/data", str(a.mib)],
    }
    runs: dict[str, dict[str, list[float]]] = {"native": {}, "wasm": {}}
    for r in range(a.rounds):
        for kind, cmd in cmds.items():  # alternated: a busy machine slows both alike
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            for row, gbs in _rows(out).items():
                runs[kind].setdefault(row, []).append(gbs)
        print(f"round {r + 1}/{a.rounds}", file=sys.stderr)
    print(f"{'transfer':<16} {'native GB/s':>12} {'wasm GB/s':>10} {'wasm/native':>12}")
    result = {}
    for row, nat in runs["native"].items():
        n, w = statistics.median(nat), statistics.median(runs["wasm"][row])
        result[row] = {"native": nat, "wasm": runs["wasm"][row], "ratio": w / n}
        print(f"{row:<16} {n:>12.2f} {w:>10.2f} {w / n:>11.2f}x")
    if a.json:
        a.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
