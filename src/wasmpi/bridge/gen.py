"""Generate the guest ``mpi.h`` and the mechanical part of the C bridge from the ABI table.

Run ``python -m wasmpi.bridge.gen`` after editing the table (``table/*.abi``);
``python -m wasmpi.bridge.gen --check`` fails when the committed files have drifted (CI runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import coverage, gen_bridge
from .gen_guest import guest_header

PACKAGE = Path(__file__).resolve().parent.parent
GUEST_HEADER = PACKAGE / "toolchain" / "include" / "mpi.h"
BRIDGE_GEN = PACKAGE / "bridge" / "c" / "gen"
LLVM_GEN = PACKAGE / "runtime" / "llvm" / "c" / "gen"
COVERAGE_DOC = PACKAGE.parent.parent / "docs" / "coverage.md"


def outputs() -> dict[Path, str]:
    return {
        GUEST_HEADER: guest_header(),
        BRIDGE_GEN / "abi.h": gen_bridge.abi_header(),
        BRIDGE_GEN / "callbacks.c": gen_bridge.callbacks(),
        BRIDGE_GEN / "host4.h": gen_bridge.host4_header(),
        LLVM_GEN / "adapters.c": gen_bridge.w2c_adapters(),
        COVERAGE_DOC: coverage.markdown(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m wasmpi.bridge.gen", description=__doc__)
    ap.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = ap.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print("stale generated files (run python -m wasmpi.bridge.gen): "
              + ", ".join(str(p) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
