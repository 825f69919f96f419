#!/usr/bin/env python3
"""Compare native MPI with wasmpi on the IMB-style benchmark in bench/imb.c.

    python bench/run.py [--mpi PATH/TO/mpicc] [-n 2] [--out DIR] [--rounds 5]

Compiles imb.c natively with the MPI's mpicc and to wasm with ``wasmpi cc`` (same -O level),
then runs native and wasm alternately: in every round each benchmark is run once natively and
once as wasm, back to back, with the order flipped every round (ABBA) so that slow drift of a
shared machine hits both sides alike. Per (benchmark, size) the time is the median over rounds
(each round's value is itself imb's median over timed batches); the slowdown is reported as in
MPIWasm (PPoPP'23): GM(t_wasm / t_native) - 1, per benchmark and over all points.

Writes <out>/<mpi>-<date>.json and, if matplotlib is importable, <out>/<mpi>-<date>.png.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "imb.c"
BENCHMARKS = ["PingPong", "Sendrecv", "Bcast", "Allreduce", "Allgather", "Alltoall", "Reduce",
              "Gather", "Scatter"]
RUN_TIMEOUT = 900  # seconds for one mpiexec run


def log(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


def sh(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float | None = None,
       check: bool = True) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and p.returncode != 0:
        sys.exit(f"error: `{' '.join(cmd)}` exited with {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def first_line(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    out = (p.stdout or p.stderr).strip().splitlines()
    return out[0].strip() if out else ""


def version_line(cmd: list[str]) -> str:
    """The first output line that mentions a version (Hydra starts with a banner)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = [ln.strip() for ln in (p.stdout or p.stderr).splitlines() if ln.strip()]
    return next((ln for ln in lines if "version" in ln.lower()), lines[0] if lines else "")


# --- the MPI and wasmpi under test --------------------------------------------------------------

class MPI:
    def __init__(self, mpicc: str | None) -> None:
        choice = mpicc or os.environ.get("WASMPI_MPICC")
        if choice:
            cc = shutil.which(choice)
            if not cc:
                sys.exit(f"error: MPI compiler wrapper not found: {choice}")
        else:  # the same default as wasmpi: the mpich wheel next to this Python
            default = Path(sysconfig.get_path("scripts")) / "mpicc"
            cc = str(default) if default.exists() else shutil.which("mpicc")
            if not cc:
                sys.exit("error: no mpicc found; pass --mpi PATH/TO/mpicc")
        self.mpicc = str(Path(cc).absolute())
        ccp = Path(self.mpicc)
        suffix = ccp.name[len("mpicc"):] if ccp.name.startswith("mpicc") else ""
        exe = next((c for c in (ccp.with_name("mpiexec" + suffix), ccp.with_name("mpiexec"))
                    if c.exists()), None)
        self.mpiexec = str(exe) if exe else (shutil.which("mpiexec" + suffix)
                                             or shutil.which("mpiexec") or "")
        if not self.mpiexec:
            sys.exit(f"error: no mpiexec next to {self.mpicc}")
        v = sh([self.mpiexec, "--version"], check=False)
        low = (v.stdout + v.stderr).lower()
        if "open mpi" in low or "openrte" in low or "prte" in low:
            self.flavor = "openmpi"
        elif "hydra" in low or "mpich" in low:
            self.flavor = "mpich"
        else:
            self.flavor = "mpi"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.flavor == "openmpi" and os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        return env

    def launcher_args(self) -> list[str]:
        return ["--oversubscribe"] if self.flavor == "openmpi" else []

    def version_info(self) -> dict[str, str]:
        d = self.mpicc and Path(self.mpicc).parent
        info = {"mpicc": self.mpicc, "mpiexec": self.mpiexec, "flavor": self.flavor,
                "mpiexec_version": version_line([self.mpiexec, "--version"]),
                "compiler": first_line([self.mpicc, "--version"])}
        if self.flavor == "mpich":
            tool = Path(d) / "mpichversion"
            if tool.exists():
                info["mpichversion"] = " | ".join(
                    ln.strip() for ln in sh([str(tool)], check=False).stdout.splitlines()[:2])
        elif self.flavor == "openmpi":
            tool = Path(d) / "ompi_info"
            if tool.exists():
                info["ompi_info"] = first_line([str(tool), "--version"])
        return info


def wasmpi_python() -> str:
    """A Python interpreter that can import wasmpi (this one, or the `wasmpi` script's)."""
    if importlib.util.find_spec("wasmpi") is not None:
        return sys.executable
    script = shutil.which("wasmpi")
    if script:
        with open(script, "rb") as f:
            line = f.readline().decode(errors="replace")
        if line.startswith("#!"):
            return line[2:].strip().split()[0]
    sys.exit("error: wasmpi is not importable here and no `wasmpi` is on PATH "
             "(activate the venv that has wasmpi)")


def package_version(py: str, name: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({name!r}))"
    return first_line([py, "-c", code])


# --- running imb ------------------------------------------------------------------------------

RESULT_RE = re.compile(r"^RESULT\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)")


def parse(out: str) -> tuple[dict[tuple[str, int], dict[str, float]], str]:
    res: dict[tuple[str, int], dict[str, float]] = {}
    lib = ""
    for line in out.splitlines():
        m = RESULT_RE.match(line)
        if m:
            res[(m[1], int(m[2]))] = {"median": float(m[3]), "min": float(m[4]),
                                      "max": float(m[5]), "reps": int(m[6])}
        elif line.startswith("# library "):
            lib = line[len("# library "):].strip()
    return res, lib


class Runner:
    def __init__(self, mpi: MPI, py: str, nprocs: int, native: Path, wasm: Path,
                 imb_args: list[str]) -> None:
        self.mpi, self.py, self.n = mpi, py, nprocs
        self.native, self.wasm, self.imb_args = native, wasm, imb_args
        self.library = {"native": "", "wasm": ""}

    def command(self, kind: str, args: list[str]) -> list[str]:
        if kind == "native":
            return [self.mpi.mpiexec, *self.mpi.launcher_args(), "-n", str(self.n),
                    str(self.native), *args]
        return [self.py, "-m", "wasmpi", "run", "-n", str(self.n), "--mpi", self.mpi.mpicc,
                str(self.wasm), "--", *args]

    def run(self, kind: str, benches: list[str] | None,
            extra: list[str] | None = None) -> dict[tuple[str, int], dict[str, float]]:
        args = [*self.imb_args, *(extra or [])]
        if benches:
            args.append(",".join(benches))
        cmd = self.command(kind, args)
        try:
            p = sh(cmd, env=self.mpi.env(), timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            sys.exit(f"error: `{' '.join(cmd)}` took more than {RUN_TIMEOUT} s")
        res, lib = parse(p.stdout)
        if not res:
            sys.exit(f"error: no RESULT lines from `{' '.join(cmd)}`\n{p.stdout}{p.stderr}")
        if lib:
            self.library[kind] = lib
        return res


# --- statistics and output ---------------------------------------------------------------------

def gm_slowdown(ratios: list[float]) -> float:
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) - 1 if ratios else math.nan


def fmt_size(b: int) -> str:
    for unit, k in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= k and b % k == 0:
            return f"{b // k} {unit}"
    return f"{b} B"


def summarize(raw: dict[str, dict[tuple[str, int], list[float]]], how: str
              ) -> tuple[dict[str, list[dict[str, float]]], dict[str, float], float]:
    """Per benchmark: rows (bytes, t_native, t_wasm, ratio); GM slowdown per bench and overall.

    how = "median": per-point median over rounds (the headline); "min": per-point minimum over
    rounds (the least-disturbed round, a cross-check against one-sided machine noise).
    """
    pick = statistics.median if how == "median" else min
    table: dict[str, list[dict[str, float]]] = {}
    gms: dict[str, float] = {}
    every: list[float] = []
    for bench in BENCHMARKS:
        keys = sorted(k for k in raw["native"] if k[0] == bench and k in raw["wasm"])
        rows = []
        for k in keys:
            tn, tw = pick(raw["native"][k]), pick(raw["wasm"][k])
            rows.append({"bytes": k[1], "t_native_us": tn, "t_wasm_us": tw,
                         "ratio": tw / tn if tn > 0 else math.nan})
        if rows:
            table[bench] = rows
            ratios = [r["ratio"] for r in rows if r["ratio"] > 0]
            gms[bench] = gm_slowdown(ratios)
            every += ratios
    return table, gms, gm_slowdown(every)


def print_tables(table: dict[str, list[dict[str, float]]], gms: dict[str, float],
                 overall: float, title: str) -> None:
    print(f"\n== {title}")
    for bench, rows in table.items():
        print(f"\n{bench}   GM slowdown {gms[bench]:+.2%}")
        print(f"{'size':>9} {'t_native[us]':>13} {'t_wasm[us]':>12} {'wasm/native':>12}")
        for r in rows:
            print(f"{fmt_size(int(r['bytes'])):>9} {r['t_native_us']:13.3f} "
                  f"{r['t_wasm_us']:12.3f} {r['ratio']:12.3f}")
    print("\nGM slowdown GM(t_wasm/t_native) - 1")
    for bench, g in gms.items():
        print(f"  {bench:<10} {g:+7.2%}")
    print(f"  {'overall':<10} {overall:+7.2%}")


def plot(table: dict[str, list[dict[str, float]]], path: Path, title: str) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:  # any import problem just means no plot
        log("matplotlib not available: no plot")
        return False
    fig, ax = plt.subplots(figsize=(9, 5))
    for bench, rows in table.items():
        ax.plot([r["bytes"] for r in rows], [r["ratio"] for r in rows], marker=".", label=bench)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("message size [bytes]")
    ax.set_ylabel("t_wasm / t_native")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(ncol=3, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def markdown(doc: dict) -> str:
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


def machine_info() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"hostname": socket.gethostname(), "cpu_model": cpu or platform.processor(),
            "cores": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}


# --- main --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mpi", metavar="MPICC", help="compiler wrapper of the MPI to use "
                    "(default: WASMPI_MPICC, else the mpich wheel)")
    ap.add_argument("-n", "-np", dest="nprocs", type=int, default=2, help="ranks (default 2)")
    ap.add_argument("--out", type=Path, default=HERE / "results",
                    help="directory for the JSON and the plot (default bench/results)")
    ap.add_argument("--rounds", type=int, default=5, help="native+wasm rounds (default 5)")
    ap.add_argument("--opt", default="-O2", help="optimization flag for both builds (-O2)")
    ap.add_argument("--max-bytes", default="4M", help="largest message (default 4M)")
    ap.add_argument("--bench", default="", help="comma-separated subset of benchmarks")
    ap.add_argument("--batches", type=int, default=0, help="timed batches per point (imb: 5)")
    ap.add_argument("--scale", type=float, default=0, help="multiply imb's repetitions")
    ap.add_argument("--whole", action="store_true",
                    help="alternate whole sweeps instead of one benchmark at a time")
    ap.add_argument("--no-plot", action="store_true", help="do not draw the PNG")
    ap.add_argument("--tag", default="", help="extra word for the output file name")
    ap.add_argument("--markdown", metavar="JSON", type=Path,
                    help="print a results JSON as a Markdown table and exit (no runs)")
    a = ap.parse_args(argv)
    if a.markdown:
        print(markdown(json.loads(a.markdown.read_text())))
        return 0

    benches = BENCHMARKS
    if a.bench:
        names = {b.lower(): b for b in BENCHMARKS}
        try:
            benches = [names[b.strip().lower()] for b in a.bench.split(",") if b.strip()]
        except KeyError as e:
            ap.error(f"unknown benchmark {e}; choose from {', '.join(BENCHMARKS)}")
    if a.nprocs < 2 and "PingPong" in benches:
        benches = [b for b in benches if b != "PingPong"]
    if a.rounds < 1:
        ap.error("--rounds must be >= 1")

    mpi = MPI(a.mpi)
    py = wasmpi_python()
    started = _dt.datetime.now().astimezone()
    log(f"MPI: {mpi.flavor} ({mpi.mpicc}), mpiexec {mpi.mpiexec}; wasmpi via {py}")

    imb_args = [a.max_bytes]
    if a.batches:
        imb_args += ["-batches", str(a.batches)]
    if a.scale:
        imb_args += ["-scale", str(a.scale)]

    with tempfile.TemporaryDirectory(prefix="wasmpi-bench-") as tmp:
        native, wasm = Path(tmp) / "imb-native", Path(tmp) / "imb.wasm"
        native_cc = [mpi.mpicc, a.opt, "-o", str(native), str(SOURCE)]
        wasm_cc = [py, "-m", "wasmpi", "cc", a.opt, "-o", str(wasm), str(SOURCE)]
        log("build: " + " ".join(native_cc))
        sh(native_cc)
        log("build: " + " ".join(wasm_cc))
        sh(wasm_cc)
        runner = Runner(mpi, py, a.nprocs, native, wasm, imb_args)
        # warm-up: checks both work, fills wasmpi's module and bridge caches
        for kind in ("native", "wasm"):
            runner.run(kind, [benches[0]], ["-batches", "1", "-scale", "0.01"])

        raw: dict[str, dict[tuple[str, int], list[float]]] = {"native": {}, "wasm": {}}
        groups = [benches] if a.whole else [[b] for b in benches]
        t_start = time.monotonic()
        for rnd in range(a.rounds):
            order = ("native", "wasm") if rnd % 2 == 0 else ("wasm", "native")
            t0 = time.monotonic()
            for group in groups:
                for kind in order:
                    for k, v in runner.run(kind, group).items():
                        raw[kind].setdefault(k, []).append(v["median"])
            log(f"round {rnd + 1}/{a.rounds} ({'/'.join(order)}) "
                f"{time.monotonic() - t0:.1f} s, load {os.getloadavg()[0]:.2f}")
        elapsed = time.monotonic() - t_start

    table, gms, overall = summarize(raw, "median")
    _, gms_min, overall_min = summarize(raw, "min")
    title = f"{mpi.flavor}, {a.nprocs} ranks"
    print_tables(table, gms, overall,
                 f"{title}: median over {a.rounds} rounds (wasm vs native, {a.opt})")
    print("\ncross-check, minimum over rounds: "
          + ", ".join(f"{b} {g:+.2%}" for b, g in gms_min.items())
          + f"; overall {overall_min:+.2%}")

    stamp = started.strftime("%Y-%m-%d")
    name = f"{mpi.flavor}{'-' + a.tag if a.tag else ''}-{stamp}"
    a.out.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": "bench/imb.c",
        "date": started.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "nprocs": a.nprocs,
        "rounds": a.rounds,
        "interleave": "whole sweep" if a.whole else "per benchmark",
        "opt": a.opt,
        "imb_args": imb_args,
        "machine": machine_info(),
        "versions": {
            "wasmpi": package_version(py, "wasmpi"),
            "wasmtime": package_version(py, "wasmtime"),
            "wasm_compiler": first_line([py, "-m", "wasmpi", "cc", "--version"]),
            "mpi_library_native": runner.library["native"],
            "mpi_library_wasm": runner.library["wasm"],
            **mpi.version_info(),
        },
        "gm_slowdown": {**gms, "overall": overall},
        "gm_slowdown_min_over_rounds": {**gms_min, "overall": overall_min},
        "results": table,
        "raw_us": {kind: [{"bench": k[0], "bytes": k[1], "rounds": v}
                          for k, v in sorted(d.items())] for kind, d in raw.items()},
    }
    path = a.out / f"{name}.json"
    path.write_text(json.dumps(doc, indent=1) + "\n")
    log(f"wrote {path}")
    if not a.no_plot and plot(table, a.out / f"{name}.png",
                              f"wasmpi vs native {mpi.flavor}, {a.nprocs} ranks"):
        log(f"wrote {a.out / (name + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
