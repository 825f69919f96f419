#!/usr/bin/env python3
"""Kept for old command lines: the IMB-style benchmark now lives in the package as
`wasmpi bench pt2pt` and `wasmpi bench coll` (see docs/performance.md).

    python bench/run.py [wasmpi bench options]   ==   wasmpi bench pt2pt ... ; wasmpi bench coll ...
"""

from __future__ import annotations

import subprocess
import sys

if __name__ == "__main__":
    code = 0
    for sub in ("pt2pt", "coll"):
        cmd = [sys.executable, "-m", "wasmpi", "bench", sub, *sys.argv[1:]]
        code = code or subprocess.run(cmd).returncode
    sys.exit(code)
