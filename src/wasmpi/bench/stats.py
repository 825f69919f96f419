"""The statistics every benchmark reports: medians over rounds, per-point ratios against native,
and MPIWasm's (PPoPP'23) slowdown GM(t_engine / t_native) - 1; the ABBA order of a round."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

NATIVE = "native"


def median(values: Iterable[float]) -> float:
    vals = [v for v in values if math.isfinite(v)]
    return statistics.median(vals) if vals else math.nan


def gm_slowdown(ratios: Iterable[float]) -> float:
    """GM(ratios) - 1 over the positive finite ratios (NaN when there are none)."""
    logs = [math.log(r) for r in ratios if math.isfinite(r) and r > 0]
    return math.exp(sum(logs) / len(logs)) - 1 if logs else math.nan


def time_ratio(engine: float, native: float, higher_is_better: bool = False) -> float:
    """t_engine / t_native: above 1 means the engine is slower. A rate (bandwidth, GFLOP/s) is
    inverted so that every ratio reads the same way."""
    if higher_is_better:
        engine, native = native, engine
    if not (math.isfinite(engine) and math.isfinite(native)) or native <= 0:
        return math.nan
    return engine / native


def abba(sides: Sequence[str], round_index: int) -> list[str]:
    """The order of the sides in round ``round_index`` (from 0): as given in even rounds,
    reversed in odd ones (A B, B A, A B ... ; with three sides A B C, C B A ...), so that a
    drift of a shared machine over a pair of rounds hits every side alike."""
    return list(sides) if round_index % 2 == 0 else list(reversed(sides))
