"""MPI-IO confined to the sandbox's grants: every access method writes through a strided view
and reads back (contents and sizes checked again here, on the host), and paths that leave the
grants are refused, also while the host swaps symlinks under the guest's feet."""

from __future__ import annotations

import os
import re
import struct
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.mpi

B, K = 4, 3  # io.c: blocks of 2 ints per tile and rank, tiles per rank
PER = 2 * B * K
M = 6  # ints per rank in the shared-pointer files
PER_RANK = ("at", "ind", "at_all", "all", "iat", "i", "iat_all", "iall", "split_at",
            "split_all")


def base_of(method: str) -> int:
    h = 0
    for c in method:
        h = (h * 31 + ord(c)) % 1000
    return 1000000 * (1 + h % 7) + h * 1000


def ints(path: Path) -> list[int]:
    data = path.read_bytes()
    assert len(data) % 4 == 0, path
    return list(struct.unpack(f"<{len(data) // 4}i", data))


def hole_where(v: int) -> int:
    return (v // 2) * 3 + v % 2


def check_files(d: Path, n: int) -> None:
    names = {p.name for p in d.iterdir()}
    seen = set()
    for p in sorted(d.iterdir()):
        m = re.fullmatch(r"(\w+?)_p(\d+)_c\d+_l\d+\.dat", p.name)
        if not m:
            continue
        method, size = m.group(1), int(m.group(2))
        assert size in (1, n, (n + 1) // 2, n // 2), p.name
        got = ints(p)
        seen.add(method)
        base = base_of(method)
        if method in PER_RANK:  # int i holds base + i, every rank's blocks interleaved
            assert len(got) == PER * size, p.name
            assert got == [base + i for i in range(PER * size)], p.name
        elif method in ("ordered", "ordered_split"):  # rank order
            last = hole_where(M * size - 1)
            assert len(got) == last + 1, p.name
            # the view's holes hold what the host's data sieving had in its buffer (ROMIO)
            assert [v for i, v in enumerate(got) if i % 3 != 2] == \
                [base + i for i in range(len(got)) if i % 3 != 2], p.name
        elif method in ("shared", "ishared"):  # one run per rank, in some order
            vals = [v for i, v in enumerate(got) if i % 3 != 2]
            assert len(vals) == M * size, p.name
            runs = sorted((vals[k] - base) // 1000 for k in range(0, len(vals), M))
            assert runs == list(range(size)), p.name
            for k in range(0, len(vals), M):
                who = (vals[k] - base) // 1000
                assert vals[k:k + M] == [base + who * 1000 + j for j in range(M)], p.name
    assert set(PER_RANK) | {"ordered", "ordered_split", "shared", "ishared"} <= seen, names
    # amodes: DELETE_ON_CLOSE and MPI_File_delete left nothing
    assert not any(x.startswith("amodes_") for x in names), names
    # a relative name counted from the guest's working directory (the grant)
    rel = (d / "relative.dat").read_bytes()
    assert rel == b"R" * n


@pytest.mark.parametrize("n", [1, 2, 3])
def test_access_methods(compile_program, run, tmp_path: Path, n: int) -> None:  # type: ignore[no-untyped-def]
    d = tmp_path / "data"
    d.mkdir()
    res = run(compile_program("io.c"), n, "conformance", "/data",
              opts=("--dir", f"{d}::/data"), timeout=300)
    cases = res.check_cases(min_pass=20)
    for case in ("per_rank", "shared", "queries", "amodes", "errhandlers", "datareps"):
        for comm in ("world", "self", "dup", "split"):
            assert f"PASS {case} {comm}" in cases["PASS"], res.stdout
    if n > 1:
        assert all(" inter:" in s for s in cases["SKIP"] if s.split()[1] != "relative")
    check_files(d, n)


def escape_tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    data, ro, out = tmp_path / "data", tmp_path / "ro", tmp_path / "outside"
    for x in (data, ro, out, data / "sub"):
        x.mkdir()
    (out / "secret").write_text("secret")
    (ro / "readme").write_text("hello")
    (data / "sub" / "target").write_text("inside")
    (data / "link_dir").symlink_to(out)
    (data / "link_file").symlink_to(out / "secret")
    (data / "link_abs").symlink_to(data / "sub" / "target")
    (data / "link_up").symlink_to("../outside")
    (data / "link_proc").symlink_to(f"/proc/self/root{out}/secret")
    (data / "link_new").symlink_to(out / "created")
    (data / "link_in").symlink_to("sub/target")
    return data, ro, out


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}


@pytest.mark.parametrize("walk", [False, True], ids=["openat2", "walk"])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_escapes_refused(compile_program, run, mpi, tmp_path: Path, n: int,  # type: ignore[no-untyped-def]
                         walk: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if walk:
        monkeypatch.setenv("WASMPI_NO_OPENAT2", "1")
    data, ro, out = escape_tree(tmp_path)
    before = snapshot(out)
    res = run(compile_program("io.c"), n, "escape", "/data", "/ro", str(out),
              opts=("--dir", f"{data}::/data", "--dir", f"{ro}::/ro:ro"), timeout=300)
    cases = res.check_cases(min_pass=4)
    assert "PASS escapes world" in cases["PASS"]
    assert snapshot(out) == before
    assert (ro / "readme").read_text() == "hello"
    assert sorted(p.name for p in ro.iterdir()) == ["readme"]
    assert not (out / "created").exists()


def swapper(link: Path, targets: tuple[str, str], stop: threading.Event) -> None:
    """Swap `link` between two targets as fast as possible (rename is atomic)."""
    tmp = link.with_name(link.name + ".tmp")
    i = 0
    while not stop.is_set():
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(targets[i % 2])
        os.replace(tmp, link)
        i += 1


@pytest.mark.parametrize("walk", [False, True], ids=["openat2", "walk"])
def test_symlink_race(compile_program, run, tmp_path: Path, walk: bool,  # type: ignore[no-untyped-def]
                      monkeypatch: pytest.MonkeyPatch) -> None:
    if walk:
        monkeypatch.setenv("WASMPI_NO_OPENAT2", "1")
    data, out = tmp_path / "data", tmp_path / "outside"
    race = data / "race"
    for x in (data, out, race, race / "inside"):
        x.mkdir()
    (out / "precious").write_text("precious")
    (race / "inside" / "file").write_text("inside")
    for r in range(2):  # the victims the guest's ranks create, outside: must stay untouched
        (out / f"victim{r}").write_text("keep")
    os.utime(out / "precious", (1000, 1000))
    before = snapshot(out)
    (race / "dir").symlink_to("inside")
    (race / "flink").symlink_to("inside/file")
    stop = threading.Event()
    threads = [threading.Thread(target=swapper,
                                args=(race / "dir", ("inside", "../../outside"), stop)),
               threading.Thread(target=swapper,
                                args=(race / "flink", ("inside/file", "../../outside/precious"),
                                      stop))]
    for t in threads:
        t.start()
    try:
        res = run(compile_program("io.c"), 2, "race", "/data", "400",
                  opts=("--dir", f"{data}::/data"), timeout=300)
    finally:
        stop.set()
        for t in threads:
            t.join()
    res.check()
    m = re.search(r"RACE opened (\d+) refused (\d+) other (\d+)", res.stdout)
    assert m, res.stdout
    assert int(m.group(1)) > 0 and int(m.group(2)) > 0, res.stdout  # both targets were met
    assert snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["precious", "victim0", "victim1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "outside"]
