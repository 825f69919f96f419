#!/usr/bin/env python3
"""Fuzz the MPI bridge from a hostile guest: random arguments to every MPI import.

    python bench/fuzz/fuzz.py [--mpi PATH/TO/mpicc] [--calls 1000000] [--per-run 20000]
                              [--seed 1] [--wild-ppm 200] [--timeout 120] [--jobs 1]
                              [--minutes M] [--out DIR]

The guest program is generated from the ABI table (``wasmpi.bridge.abi``): one caller per
implemented import, so a function added to the table is fuzzed without editing anything here.
Each caller draws every argument from a seeded PRNG inside the guest (bench/fuzz/fuzz_rt.h):
handles (predefined values, live and freed ones the campaign made, values next to them, random
32-bit), ranks, tags, counts (small, negative, huge), strings, callbacks, and pointers into
scratch memory (in bounds) or, rarely, anywhere (a clean trap ends the rank).

A campaign is many short 1-rank jobs (so collectives complete), each with its own seed, each
ended by the driver after --timeout seconds. A job's outcome is one of

    ok          every call returned (MPI errors are data: under MPI_ERRORS_RETURN)
    trap        the bridge trapped cleanly (a pointer or count outside linear memory, a bad
                callback), exit 134 with "wasm trap:"
    mpi-abort   the host MPI detected an error and aborted the job with a message
    FAILURE     a host process died of a signal (segfault, bus error, ...) or hung

and a campaign is clean when it has no FAILURE. Calls that could block forever on
valid-looking arguments are constrained (CONSTRAINED below; docs/security.md lists them).

Writes <out>/fuzz-<mpi>-<date>.json: calls per run and in total, outcomes by class, MPI error
classes returned, and the stderr of every FAILURE and mpi-abort.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime as _dt
import importlib.metadata
import json
import os
import platform
import re
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "src"))

from wasmpi.bridge import abi  # noqa: E402

#: Never called: they end the job or MPI itself, which is not a finding.
SKIPPED = {"MPI_Abort": "ends the job", "MPI_Finalize": "ends MPI for the rest of the run"}

_BLOCKING_P2P = ("Send", "Ssend", "Rsend", "Bsend", "Recv", "Probe", "Mprobe", "Sendrecv",
                 "Sendrecv_replace", "Ibsend", "Bsend_init")
#: Calls that can block forever on valid-looking arguments on one rank, and how each is kept
#: from doing so: (parameter kind -> generator) overrides. A peer that is never this rank
#: (MPI_PROC_NULL or out of range), or a handle that is never usable (so the bridge or the
#: host MPI rejects it).
CONSTRAINED: dict[str, dict[str, str]] = {
    **{f"MPI_{n}{c}": {"rank": "fz_rank_noblock()"} for n in _BLOCKING_P2P for c in ("", "_c")},
    # blocks until the request completes, which a receive from nobody never does
    **{f"MPI_{n}": {"Request": "fz_bad()"} for n in ("Wait", "Waitall", "Waitany", "Waitsome")},
    # wait for a peer process or a name server
    **{f"MPI_{n}": {"Comm": "fz_bad()"} for n in ("Comm_accept", "Comm_connect", "Comm_spawn",
                                                  "Comm_spawn_multiple", "Comm_disconnect",
                                                  "Intercomm_create")},
    **{f"MPI_{n}": {"Info": "fz_bad()"} for n in ("Publish_name", "Unpublish_name",
                                                  "Lookup_name")},
    # general active target synchronisation waits for the matching post/complete
    **{f"MPI_{n}": {"Win": "fz_bad()"} for n in ("Win_start", "Win_complete", "Win_wait")},
    # an error handler that is fatal would end the run at the next error class
    **{f"MPI_{k}_set_errhandler": {"Errhandler": "fz_errhandler()"}
       for k in ("Comm", "Win", "File")},
    # the guest's free() of a pointer its malloc never returned corrupts the guest's own heap
    # (no host memory is involved); the campaign would then hang in the guest's allocator
    "MPI_Free_mem": {"ptr": "fz_mem()"},
    # MPICH factors nnodes by a search that takes minutes for a large nnodes and many
    # dimensions (seed 231): the guest burns its own CPU, which is not a host fault
    "MPI_Dims_create": {"int": "(int32_t)fz_below(4099) - 2"},
    # a blocking neighbour exchange with itself on a mismatched entry waits forever in
    # MPICH, as the all-to-alls do (SELF_MATCHED; seed 192); the neighbour lists of a graph
    # the campaign made need not be symmetric, so matching counts cannot prevent it
    **{f"MPI_Neighbor_{n}{c}": {"topocomm": "fz_bad()"}
       for n in ("allgather", "allgatherv", "alltoall", "alltoallv", "alltoallw")
       for c in ("", "_c")},
}
#: Blocking all-to-all exchanges whose self entry (sendcounts[me], sendtype against
#: recvcounts[me], recvtype) is made to match: on a mismatch (0 bytes sent to itself, 4
#: expected) MPICH posts a receive and no matching send, and waits in its progress loop forever
#: (seed 1, MPI_Alltoallv_c). That is an erroneous program deadlocking itself, which the
#: sandbox does not promise to prevent; checking it in the bridge would need the type
#: signature, not just the size. The receive counts and types are copied from the send ones.
SELF_MATCHED = {f"MPI_Alltoall{v}{c}" for v in ("v", "w") for c in ("", "_c")}

_SMALL = {"rank": "fz_rank()", "root": "fz_rank()", "tag": "fz_tag()", "count": "fz_count()",
          "Aint": "fz_count()", "disp": "fz_count()", "Count": "fz_count64()",
          "Offset": "fz_count64()", "keyval": "fz_keyval()"}
_KEYVALS = ("TAG_UB", "HOST", "IO", "WTIME_IS_GLOBAL", "APPNUM", "UNIVERSE_SIZE",
            "LASTUSEDCODE", "WIN_BASE", "WIN_SIZE", "WIN_DISP_UNIT", "WIN_CREATE_FLAVOR",
            "WIN_MODEL", "KEYVAL_INVALID")


def fuzzed() -> list[abi.Function]:
    """Every import the bridge implements, minus SKIPPED: what a campaign calls."""
    return [f for f in abi.functions()
            if f.implemented and not f.variadic and f.name not in SKIPPED]


def _kind_id(kind: str) -> str:
    return f"FZ_K_{kind.upper()}"


def _caller(f: abi.Function) -> list[str]:
    """The C function that calls ``f`` once with random arguments; returns the MPI result."""
    over = CONSTRAINED.get(f.name, {})
    pre: list[str] = []
    post: list[str] = []
    args: list[str] = []
    for i, p in enumerate(f.params):
        slot = i % 16
        ct = p.ctype
        cast = "(" + ("void *" if ct.endswith("]") else ct) + ")"
        if ct.startswith("const ") and ct.endswith("]"):
            cast = "(const void *)"
        k, d = p.kind, p.direction
        if f.name.startswith("MPI_Comm_idup") and d == "out":
            # its request is always waited for (below): never NULL, which is guest address 0
            # and in bounds, where the request would be lost and the communicator stay pending
            pre.append(f"void *p{i} = fz_slots[{slot}];")
        else:
            pre.append(f"void *p{i} = fz_slot({slot});")
        if k in over:
            args.append(f"{cast}{over[k]}" if d == "in" and not p.array else f"{cast}p{i}")
            if d != "in" or p.array:
                pre.append(f"fz_fill_with({slot}, {over[k]});")
            continue
        if p.buffer:
            args.append(f"{cast}fz_buf()")
        elif k == "str":
            args.append(f"{cast}p{i}" if d == "out"
                        else f"(const char *)(fz_chance(fz_wild_ppm) ? (char *)(uintptr_t)"
                             f"fz_wild_addr() : fz_str({slot}))")
        elif k == "Status":
            pre.append(f"fz_fill_bytes({slot});")
            args.append(f"fz_below(4) ? {cast}p{i} : MPI_STATUS_IGNORE")
        elif p.array:
            if k in abi.HANDLES:
                pre.append(f"fz_fill_with({slot}, fz_pick(&fz_k[{_kind_id(k)}]));")
            elif k == "Status":
                pre.append(f"fz_fill_bytes({slot});")
            elif k == "str":
                pre.append(f"fz_fill_strs({slot});")
            elif k in ("Count",):
                pre.append(f"fz_fill_count64({slot});")
            else:
                pre.append(f"fz_fill_ints({slot});")
            if k == "weight":
                args.append(f"fz_below(8) ? {cast}p{i} : "
                            f"(fz_below(2) ? MPI_UNWEIGHTED : MPI_WEIGHTS_EMPTY)")
            else:
                args.append(f"{cast}p{i}")
        elif k in ("ptr", "cptr"):
            pre.append(f"fz_fill_bytes({slot});")
            args.append(f"{cast}p{i}")
        elif k == "fn":
            args.append(f"{cast}fz_fn()")
        elif k == "c":
            if "char" in ct:
                pre.append(f"fz_fill_strs({slot});")
                args.append(f"{cast}p{i}")
            elif ct.rstrip().endswith("*"):
                pre.append(f"fz_fill_bytes({slot});")
                args.append(f"{cast}p{i}")
            else:
                args.append(f"{cast}fz_int()")
        elif k in abi.HANDLES or k in abi.COMM_SORTS or k == "rma_op":
            hk = "Comm" if k in abi.COMM_SORTS else "Op" if k == "rma_op" else k
            pick = f"fz_pick(&fz_k[{_kind_id(hk)}])"
            if d == "in":
                args.append(f"{cast}{pick}")
            else:
                if d in ("inout", "free"):
                    pre.append(f"fz_fill_with({slot}, {pick});")
                args.append(f"{cast}p{i}")
                keep = {"Datatype": "fz_keep_type(", "Win": "fz_keep_win("}.get(
                    hk, f"fz_keep(&fz_k[{_kind_id(hk)}].pool, ")
                if f.name.startswith("MPI_Comm_idup"):
                    # usable only once its request completes, which the campaign never waits
                    # for: a blocking collective on it may wait forever
                    continue
                post.append(f"if (rc == MPI_SUCCESS && p{i} == fz_slots[{slot}]) "
                            f"{keep}*(int32_t *)fz_slots[{slot}]);")
        elif d == "in":
            args.append(f"{cast}{_SMALL.get(k, 'fz_int()')}")
        else:  # scalar out / inout
            pre.append(f"fz_fill_ints({slot});")
            args.append(f"{cast}p{i}")
            if k == "keyval":
                post.append(f"if (rc == MPI_SUCCESS && p{i} == fz_slots[{slot}]) "
                            f"fz_keep(&fz_keyvals, *(int32_t *)fz_slots[{slot}]);")
    if f.name.startswith("MPI_Comm_idup"):
        # complete it at once: a freed communicator's stale handle still in a pool can name the
        # new slot, and a blocking collective on a communicator whose idup is pending waits
        # forever (MPICH, seed 249: Alltoallw on it 13 calls later, the request stored at 0)
        r = len(f.params) - 1
        post.append(f"if (rc == MPI_SUCCESS && p{r} == fz_slots[{r % 16}]) "
                    f"MPI_Wait((MPI_Request *)p{r}, MPI_STATUS_IGNORE);")
    if f.name == "MPI_Alloc_mem":
        post.append("if (rc == MPI_SUCCESS && p2 == fz_slots[2]) "
                    "fz_keep(&fz_mems, *(int32_t *)fz_slots[2]);")
    if f.name in SELF_MATCHED:
        # parameters 1/5 are the count arrays, 3/7 the types (arrays for the w forms)
        # when either array is not its slot (NULL, which is guest address 0 and in bounds,
        # or wild), both point to the same memory: else the counts at address 0 met a
        # receive count of 1 and MPICH waited forever (seeds 50, 58, 60, ..., all 18 hangs of
        # the 2026-11-24 campaign)
        pre.append("if (p1 == fz_slots[1] && p5 == fz_slots[5]) memcpy(p5, p1, FZ_SLOT); "
                   "else p5 = p1;")
        if f.params[3].array:
            pre.append("if (p3 == fz_slots[3] && p7 == fz_slots[7]) memcpy(p7, p3, FZ_SLOT); "
                       "else p7 = p3;")
        else:
            pre.append(f"MPI_Datatype t3 = {args[3]};")
            args[3] = args[7] = "t3"
    if f.name in ("MPI_Alltoall", "MPI_Alltoall_c"):
        # the same self exchange with one count and type per side (MPICH hung on 11
        # MPI_DOUBLE_PRECISION sent and 13 MPI_LONG_LONG expected, seed 1080)
        pre.append(f"{f.params[1].ctype} c1 = {args[1]};")
        pre.append(f"MPI_Datatype t2 = {args[2]};")
        args[1] = args[4] = "c1"
        args[2] = args[5] = "t2"
    call = f"{f.name}({', '.join(args)})"
    used = " ".join([call, *pre, *post])
    pre = [s for s in pre if not (s.startswith("void *p") and
                                  not re.search(rf"\b{s.split()[1][1:]}\b", used.replace(s, "")))]
    body = [f"static int fz_{f.name}(void)", "{"]
    body += [f"    {s}" for s in pre]
    if f.ret == "int":
        body.append(f"    int rc = {call};")
    else:
        body.append(f"    int rc = 0;\n    (void){call};")
    body += [f"    {s}" for s in post]
    body += ["    return rc;", "}", ""]
    return body


def generate() -> str:
    """The guest fuzzer's C source: runtime (fuzz_rt.h), one caller per import, main()."""
    fns = fuzzed()
    kinds = list(abi.HANDLES)
    pre: dict[str, list[str]] = {k: [] for k in kinds}
    for c in abi.constants():
        if c.kind == "handle" and c.handle_kind in pre and int(c.value, 0) != 0:
            pre[c.handle_kind].append(c.value)  # MPI_<name>: not all are in mpi.h
    ints = abi.int_constants()
    out = ["/* Generated by bench/fuzz/fuzz.py from the ABI table: do not edit. */",
           '#include "fuzz_rt.h"', ""]
    out.append("enum { " + ", ".join(_kind_id(k) for k in kinds) + ", FZ_K_LAST };")
    for k in kinds:
        vals = ", ".join(f"(int32_t){v}" for v in pre[k]) or "0"
        out.append(f"static const int32_t fz_pre_{k}[] = {{{vals}}};")
    out.append("static fz_kind_t fz_k[FZ_K_LAST] = {")
    for k in kinds:
        out.append(f"    {{fz_pre_{k}, {len(pre[k])}, {{{{0}}, 0}}}},")
    out.append("};")
    keyvals = ", ".join(f"MPI_{n}" for n in _KEYVALS if n in ints)
    out += [f"static const int32_t fz_pre_keyvals[] = {{{keyvals}}};", "",
            '#include "fuzz_main.h"', ""]
    for f in fns:
        out += _caller(f)
    out.append("static int (*const fz_calls[])(void) = {")
    out += [f"    fz_{f.name}," for f in fns]
    out.append("};")
    out.append("static const char *const fz_names[] = {")
    out += [f'    "{f.name}",' for f in fns]
    out.append("};")
    out += [f"#define FZ_N {len(fns)}", '#include "corpus.h"\n#include "fuzz_loop.h"', ""]
    return "\n".join(out)


# ---- the driver ------------------------------------------------------------------------------

_ABORT_RE = re.compile(r"An error occurred in|Assertion|Abort\(|Fatal error|aborting the job"
                       r"|truncation:|Internal error")
_SIGNAL_RE = re.compile(r"signal (\d+)|KILLED BY SIGNAL: (\d+)|Segmentation fault|Bus error"
                        r"|core dumped|exited on signal", re.I)


@dataclass
class Run:
    seed: int
    outcome: str
    calls: int
    seconds: float
    returncode: int | None
    message: str = ""
    classes: dict[str, int] = field(default_factory=dict)
    imports: dict[str, int] = field(default_factory=dict)


def classify(returncode: int | None, stdout: str, stderr: str) -> tuple[str, str]:
    """(outcome, the line that says why) of one job; see the module docstring."""
    if returncode is None:
        return "FAILURE", "hang: killed by the driver's time limit"
    bad = next((ln for ln in stdout.splitlines() if ln.startswith("CORPUS ")
                and not ln.startswith("CORPUS done")), "")
    if bad:
        return "FAILURE", "regression corpus: " + bad
    if returncode == 0 and "\nDONE " in "\n" + stdout:
        return "ok", ""
    lines = stderr.splitlines()
    trap = next((ln for ln in lines if "wasm trap:" in ln), "")
    if trap and returncode == 134:
        return "trap", trap
    if returncode < 0 or _SIGNAL_RE.search(stderr):
        sig = next((ln for ln in lines if _SIGNAL_RE.search(ln)), f"exit {returncode}")
        # an assertion of the host MPI raises SIGABRT after printing what it checked
        if re.search(r"Assertion|assert", stderr) and "signal 11" not in stderr:
            return "mpi-abort", next(ln for ln in lines if re.search("ssert", ln))
        return "FAILURE", sig
    # the line that names the error, not a notice printed before it (Open MPI's osc/ucx
    # warning, the bridge's "host MPI lacks ..." line)
    msg = next((ln for ln in lines if _ABORT_RE.search(ln)),
               next((ln for ln in lines if ln.strip()), f"exit {returncode}"))
    return "mpi-abort", msg


def run_once(wasm: Path, env: dict[str, str], seed: int, calls: int, wild_ppm: int,
             timeout: float) -> Run:
    cmd = [sys.executable, "-m", "wasmpi", "run", "-n", "1", str(wasm), str(seed), str(calls),
           str(wild_ppm)]
    t0 = time.monotonic()
    # a session of its own, so that a hung job is killed with its mpiexec and rank processes
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, stdin=subprocess.DEVNULL, errors="replace",
                         start_new_session=True)
    rc: int | None
    try:
        stdout, stderr = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        # SIGTERM first: `wasmpi run` stops its ranks, then the launcher. A SIGKILL of the
        # group alone left Open MPI's rank running (prterun puts each rank in a process group
        # of its own and, killed, cannot end it)
        os.killpg(p.pid, signal.SIGTERM)
        try:
            stdout, stderr = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            stdout, stderr = p.communicate()
        rc = None
    dt = time.monotonic() - t0
    done = 0
    classes: dict[str, int] = {}
    names = _names()
    imports: collections.Counter[str] = collections.Counter()
    for ln in stdout.splitlines():
        parts = ln.split()
        if len(parts) >= 2 and parts[0] in ("P", "DONE"):
            done = max(done, int(parts[1]))
            if parts[0] == "P":  # the imports called since the previous progress line
                imports.update(names[int(k)] for k in parts[2:] if int(k) < len(names))
        elif len(parts) == 3 and parts[0] == "C":
            classes[parts[1]] = int(parts[2])
    outcome, msg = classify(rc, stdout, stderr)
    if outcome != "ok":
        done += 1  # the call that ended the run
    if outcome in ("FAILURE", "mpi-abort"):
        msg = msg + "\n" + stderr[-4000:]
    return Run(seed, outcome, done, dt, rc, msg, classes, dict(imports))


_NAMES: list[str] = []


def _names() -> list[str]:
    """The import each index of the guest's fz_calls calls (the order generate() uses)."""
    if not _NAMES:
        _NAMES.extend(f.name for f in fuzzed())
    return _NAMES


def build(out: Path, env: dict[str, str]) -> Path:
    """Generate the fuzzer's C source next to its headers and compile it with `wasmpi cc`."""
    src = out / "fuzz_guest.c"
    src.write_text(generate())
    wasm = out / "fuzz_guest.wasm"
    subprocess.run([sys.executable, "-m", "wasmpi", "cc", "-O1", f"-I{HERE}", str(src), "-o",
                    str(wasm)], check=True, env=env, capture_output=True)
    # compiled for env's engine now, not in the first run of the campaign, whose time limit
    # is about the calls (the LLVM tier's clang takes seconds to a minute for this module)
    subprocess.run([sys.executable, "-m", "wasmpi", "compile", str(wasm)], check=True, env=env,
                   capture_output=True)
    return wasm


def campaign(wasm: Path, env: dict[str, str], total: int, per_run: int, seed: int,
             wild_ppm: int, timeout: float, deadline: float | None = None,
             jobs: int = 1) -> Iterator[Run]:
    """Runs jobs of ``per_run`` calls with seeds seed, seed+1, ... until ``total`` calls,
    ``jobs`` at a time; yields each as it ends."""
    done = 0
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        running: set[concurrent.futures.Future[Run]] = set()
        while True:
            # a job in flight counts as a full one, so the campaign does not overshoot much
            ahead = done + per_run * len(running)
            while (len(running) < jobs and ahead < total
                   and (deadline is None or time.monotonic() < deadline)):
                running.add(pool.submit(run_once, wasm, env, seed, min(per_run, total - ahead),
                                        wild_ppm, timeout))
                ahead += per_run
                seed += 1
            if not running:
                return
            ended, running = concurrent.futures.wait(
                running, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in sorted(ended, key=lambda x: x.result().seed):
                r = fut.result()
                done += r.calls
                yield r


def _brief(r: Run) -> dict[str, object]:
    return {k: v for k, v in r.__dict__.items() if k != "imports"}


def _out(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mpi", default=str(Path(sysconfig.get_path("scripts")) / "mpicc"))
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--per-run", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--wild-ppm", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=120.0, help="per job, seconds")
    ap.add_argument("--jobs", type=int, default=1, help="jobs run at a time")
    ap.add_argument("--minutes", type=float, default=0.0, help="stop the campaign after this")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    a = ap.parse_args()
    env = dict(os.environ, WASMPI_MPICC=a.mpi, PYTHONPATH=str(ROOT / "src"))
    mpi_name = "openmpi" if "ompi" in a.mpi or "openmpi" in a.mpi else "mpich"
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wasmpi-fuzz-") as tmp:
        wasm = build(Path(tmp), env)
        runs: list[Run] = []
        deadline = time.monotonic() + 60 * a.minutes if a.minutes else None
        for r in campaign(wasm, env, a.calls, a.per_run, a.seed, a.wild_ppm, a.timeout,
                          deadline, a.jobs):
            runs.append(r)
            total = sum(x.calls for x in runs)
            print(f"seed {r.seed}: {r.outcome:9} {r.calls:6} calls {r.seconds:5.1f}s "
                  f"(total {total}) {r.message.splitlines()[0] if r.message else ''}",
                  flush=True)
    outcomes = collections.Counter(r.outcome for r in runs)
    classes: collections.Counter[str] = collections.Counter()
    for r in runs:
        classes.update(r.classes)
    per_import: collections.Counter[str] = collections.Counter({n: 0 for n in _names()})
    for r in runs:
        per_import.update(r.imports)
    traps = collections.Counter(
        re.sub(r"\[.*", "", r.message.split("wasm trap:", 1)[-1]).strip()[:80]
        for r in runs if r.outcome == "trap")
    report = {
        "mpi": mpi_name, "mpicc": a.mpi, "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "machine": platform.platform(), "python": platform.python_version(),
        "cpus": os.cpu_count(), "commit": _out(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
        "host_mpi": _out([str(Path(a.mpi).with_name("mpiexec")), "--version"]).splitlines()[:1],
        "wasmtime": importlib.metadata.version("wasmtime"),
        "imports": len(fuzzed()), "skipped": SKIPPED, "constrained": sorted(CONSTRAINED),
        "seed": a.seed, "jobs": a.jobs, "wild_ppm": a.wild_ppm, "per_run": a.per_run,
        "calls": sum(r.calls for r in runs), "runs": len(runs), "outcomes": dict(outcomes),
        "seconds": round(time.monotonic() - t0, 1), "error_classes": dict(classes),
        "traps": dict(traps.most_common(30)),
        # calls that returned, per import (the call that ended a run is not attributed)
        "per_import_min": min(per_import.values()),
        "imports_never_called": sorted(n for n, c in per_import.items() if not c),
        "per_import": dict(sorted(per_import.items())),
        # (each run's calls per import are in per_import above, not repeated per run)
        "failures": [_brief(r) for r in runs if r.outcome == "FAILURE"],
        "aborts": [_brief(r) for r in runs if r.outcome == "mpi-abort"],
    }
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / f"fuzz-{mpi_name}-{_dt.date.today().isoformat()}.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"{report['calls']} calls in {len(runs)} runs: {dict(outcomes)}; every import "
          f"called at least {report['per_import_min']} times "
          f"({len(report['imports_never_called'])} never); wrote {path}")
    return 1 if outcomes["FAILURE"] else 0


if __name__ == "__main__":
    sys.exit(main())
