"""The compute kernels of `wasmpi bench compute` and `wasmpi bench tiers`: C sources (package
data) and what runs and reads them.

Every kernel takes a size class as its first argument (``T`` tiny, for tests; ``S``, ``W``,
``A``, ``B``), verifies its own result and prints one line on rank 0::

    WASMPI-BENCH kernel=NAME class=C ranks=N metric=UNIT value=X seconds=T verified=yes|no

exiting nonzero when the result is wrong. The same source builds natively with the host MPI's
``mpicc`` and to wasm with ``wasmpi cc``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import ToolError

DIR = Path(__file__).resolve().parent
KERNELS = ("cg", "is", "spmv", "stencil")
CLASSES = ("T", "S", "W", "A", "B")
#: what every build of a kernel needs after the source (native gcc does not link libm itself)
LIBS = ("-lm",)
_LINE = re.compile(r"^WASMPI-BENCH((?:\s+[a-z]+=\S+)+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Result:
    kernel: str
    cls: str
    ranks: int
    metric: str       # GFLOP/s or Mop/s
    value: float      # in `metric`
    seconds: float    # the timed region, slowest rank
    verified: bool


def source(kernel: str) -> Path:
    path = DIR / f"{kernel}.c"
    if kernel not in KERNELS or not path.is_file():
        raise ToolError(f"bench kernel missing from this install: {path}")
    return path


def parse(stdout: str) -> Result:
    """The kernel's report line; a ToolError when there is none or it is malformed."""
    m = _LINE.search(stdout)
    if not m:
        raise ToolError("no WASMPI-BENCH line in the kernel's output:\n" + stdout[-2000:])
    f = dict(kv.split("=", 1) for kv in m[1].split())
    try:
        return Result(kernel=f["kernel"], cls=f["class"], ranks=int(f["ranks"]),
                      metric=f["metric"], value=float(f["value"]), seconds=float(f["seconds"]),
                      verified=f["verified"] == "yes")
    except (KeyError, ValueError) as e:
        raise ToolError(f"malformed WASMPI-BENCH line: {m[0]}") from e
