#!/usr/bin/env python3
"""Kept for old command lines: the IMB-style benchmark now lives in the package as
`wasmpi bench pt2pt` and `wasmpi bench coll` (docs/performance.md).

    python bench/run.py [wasmpi bench options]    runs `wasmpi bench pt2pt` then `... coll`
    python bench/run.py --markdown FILE.json      a results JSON of the old bench/run.py
                                                  (bench/results/*.json) as a Markdown table
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = ["PingPong", "Sendrecv", "Bcast", "Allreduce", "Allgather", "Alltoall", "Reduce",
              "Gather", "Scatter"]


def fmt_size(b: int) -> str:
    for unit, k in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= k and b % k == 0:
            return f"{b // k} {unit}"
    return f"{b} B"


def markdown(doc: dict[str, Any]) -> str:
    """A results JSON as Markdown: one row per size, t_wasm/t_native per benchmark, GM row."""
    table = doc["results"]
    benches = [b for b in BENCHMARKS if b in table]
    sizes = sorted({r["bytes"] for b in benches for r in table[b]})
    ratio = {(b, r["bytes"]): r["ratio"] for b in benches for r in table[b]}
    lines = ["| size | " + " | ".join(benches) + " |",
             "|---:|" + "---:|" * len(benches)]
    for s in sizes:
        cells = [f"{ratio[(b, s)]:.3f}" if (b, s) in ratio else "" for b in benches]
        lines.append(f"| {fmt_size(s)} | " + " | ".join(cells) + " |")
    gm = doc["gm_slowdown"]
    lines.append("| **GM - 1** | " + " | ".join(f"**{gm[b]:+.1%}**" for b in benches) + " |")
    gmin = doc.get("gm_slowdown_min_over_rounds")
    if gmin:
        lines.append("| GM - 1 (min) | " + " | ".join(f"{gmin[b]:+.1%}" for b in benches) + " |")
    lines.append("")
    lines.append(f"Overall GM slowdown: **{gm['overall']:+.2%}** (median over rounds)"
                 + (f", {gmin['overall']:+.2%} (minimum over rounds)" if gmin else "") + ".")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--markdown"] and len(argv) == 2:
        print(markdown(json.loads(Path(argv[1]).read_text())))
        return 0
    code = 0
    for sub in ("pt2pt", "coll"):
        cmd = [sys.executable, "-m", "wasmpi", "bench", sub, *argv]
        code = code or subprocess.run(cmd).returncode
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
