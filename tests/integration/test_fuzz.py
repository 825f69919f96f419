"""A short bridge-fuzzing campaign (bench/fuzz/fuzz.py, the recorded one is in docs/security.md):
random arguments to every implemented MPI import must never crash or hang a host process."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench" / "fuzz"))
import fuzz

pytestmark = pytest.mark.mpi


def test_fuzz_smoke(mpi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = mpi.env()
    wasm = fuzz.build(tmp_path, env)
    runs = list(fuzz.campaign(wasm, env, total=3000, per_run=1000, seed=1, wild_ppm=200,
                              timeout=15, deadline=time.monotonic() + 15, jobs=2))
    calls = sum(r.calls for r in runs)
    failures = [f"seed {r.seed}: {r.message}" for r in runs if r.outcome == "FAILURE"]
    assert not failures, "\n\n".join(failures)
    assert calls > 0 and runs, runs
    # the progress lines name the imports called: every returned call is attributed to one
    assert sum(sum(r.imports.values()) for r in runs) == sum(
        r.calls - (r.outcome != "ok") for r in runs)
