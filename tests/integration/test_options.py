"""Options resolved in one place (`wasmpi config`, precedence, bad values), the working
directory, the no-grant hint, --mem-limit and --fuel: real programs on real ranks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import MPI, Result, wasmpi

pytestmark = pytest.mark.mpi

HINT = "wasmpi: hint: no directory was granted"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASMPI_")}
    return env | extra


def test_config_precedence_and_sources(tmp_path: Path) -> None:
    (tmp_path / "wasmpi.toml").write_text('fuel = 5\nmem-limit = "1M"\nworkdir = "/t"\n'
                                          'dir = ["/tmp::/x"]\n')
    env = clean_env(WASMPI_MEM_LIMIT="2M", WASMPI_WORKDIR="/e")
    r = wasmpi("config", "--workdir", "/c", env=env, cwd=tmp_path).check()
    lines = {ln.split(" = ")[0].strip(): ln for ln in r.stdout.splitlines()}
    assert lines["workdir"].endswith("= /c  (cli)")
    assert lines["mem-limit"].endswith(f"= {2 << 20}  (env WASMPI_MEM_LIMIT)")
    assert lines["fuel"].endswith("= 5  (wasmpi.toml)")
    assert lines["dir"].endswith("= /tmp::/x  (wasmpi.toml)")
    assert lines["strict"].endswith("= off  (default)")
    j = json.loads(wasmpi("config", "--json", "--workdir", "/c", env=env, cwd=tmp_path)
                   .check().stdout)
    assert j["workdir"] == {"value": "/c", "source": "cli"}
    assert j["mem-limit"] == {"value": 2 << 20, "source": "env WASMPI_MEM_LIMIT"}
    assert j["fuel"] == {"value": 5, "source": "wasmpi.toml"}
    assert j["openat2"] == {"value": True, "source": "default"}
    other = tmp_path / "other.toml"
    other.write_text("fuel = 6\n")
    j = json.loads(wasmpi("--config", str(other), "config", "--json", env=env, cwd=tmp_path)
                   .check().stdout)
    assert j["fuel"] == {"value": 6, "source": str(other)}


@pytest.mark.parametrize("how", ["cli", "env", "toml"])
def test_bad_value_is_one_line_exit_64(compile_program, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       how: str) -> None:
    mod = str(compile_program("hello.c"))
    env = clean_env()
    args = ["run", "-n", "2", mod]
    if how == "cli":
        args = ["run", "-n", "2", "--mem-limit", "lots", mod]
    elif how == "env":
        env["WASMPI_MEM_LIMIT"] = "lots"
    else:
        (tmp_path / "wasmpi.toml").write_text('mem-limit = "lots"\n')
    r = wasmpi(*args, env=env, cwd=tmp_path)
    assert r.returncode == 64, r
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    named = {"cli": "--mem-limit lots", "env": "env WASMPI_MEM_LIMIT='lots'",
             "toml": "wasmpi.toml: mem-limit = 'lots'"}[how]
    assert r.stderr.startswith(f"wasmpi: error: {named}: expected a size"), r.stderr


def run_in(mpi: MPI, module: Path, *opts: str, n: int = 2, cwd: Path | None = None,
           args: tuple[str, ...] = ()) -> Result:
    return wasmpi("run", "-n", str(n), *opts, str(module), *args, env=mpi.env(), cwd=cwd)


def test_workdir_default_is_the_only_grant(compile_program, mpi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "data.txt").write_text("from the host\n")
    r = run_in(mpi, compile_program("workdir.c"), "--dir", f"{tmp_path}::/work").check()
    for rank in (0, 1):
        assert f"rank {rank} cwd=/work data=from the host mpiio=ok" in r.stdout, r.stdout
    assert (tmp_path / "out.bin").read_bytes() == b"AB"  # MPI_File_open("out.bin")
    assert HINT not in r.stderr


def test_workdir_explicit(compile_program, mpi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "data.txt").write_text("below\n")
    ro = tmp_path / "ro"
    ro.mkdir()
    r = run_in(mpi, compile_program("workdir.c"), "--dir", f"{tmp_path}::/work",
               "--dir", f"{ro}::/ro:ro", "--workdir", "/work/sub").check()
    assert "rank 1 cwd=/work/sub data=below mpiio=ok" in r.stdout, r.stdout
    assert (sub / "out.bin").read_bytes() == b"AB"
    bad = run_in(mpi, compile_program("workdir.c"), "--dir", f"{tmp_path}::/work",
                 "--workdir", "/elsewhere")
    assert bad.returncode == 64 and "not inside any --dir grant" in bad.stderr, bad


def test_no_grant_hint_once_per_job(compile_program, mpi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run_in(mpi, compile_program("workdir.c"))
    assert r.returncode == 1, r
    assert "rank 0 cwd=/ data=(fopen failed)" in r.stdout, r.stdout
    assert r.stderr.count(HINT) == 1, r.stderr
    # with a grant (where data.txt is missing) the same failure gets no hint
    g = run_in(mpi, compile_program("workdir.c"), "--dir", f"{tmp_path}::/work")
    assert g.returncode == 1 and HINT not in g.stderr, g


LIMIT_MIB = 48


def test_mem_limit_malloc_returns_null(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = run_in(mpi, compile_program("limits.c"), "--mem-limit", f"{LIMIT_MIB}M").check()
    limit = LIMIT_MIB << 20
    for line in r.stdout.splitlines():
        blocks, memory = line.split()[3], line.split()[6]
        # the blocks fit under the limit, and memory grew until close to it
        assert 0 < int(blocks) << 20 <= limit and limit - (4 << 20) < int(memory) <= limit, line
    assert r.stdout.count("allocated") == 2
    larger = run_in(mpi, compile_program("limits.c"), "--mem-limit", f"{4 * LIMIT_MIB}M",
                    n=1).check()
    assert int(larger.stdout.split()[3]) > 3 * int(blocks), larger.stdout


def test_mem_limit_trap_says_so(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    r = run_in(mpi, compile_program("limits.c"), "--mem-limit", f"{LIMIT_MIB}M",
               args=("trap",))
    assert r.returncode == 134, r
    assert "wasm trap" in r.stderr and "the memory limit was reached" in r.stderr, r.stderr


@pytest.mark.engine("wasmtime")  # wasm2c code counts no fuel (test_engine_llvm: refused)
def test_fuel(compile_program, mpi) -> None:  # type: ignore[no-untyped-def]
    from wasmpi import runtime

    mod = compile_program("limits.c")
    env = mpi.env()
    ok = wasmpi("run", "-n", "2", "--fuel", "100000000", str(mod), "spin", "1000", env=env)
    assert ok.check().stdout.count("spun 1000 ") == 2
    out = wasmpi("run", "-n", "2", "--fuel", "1000000", str(mod), "spin", "1000000000", env=env)
    assert out.returncode == 134, out
    assert "wasm trap" in out.stderr and "the fuel budget ran out (--fuel 1000000)" in out.stderr
    assert "spun" not in out.stdout
    # machine code with and without fuel counting are cached side by side
    wasmpi("run", "-n", "1", str(mod), "spin", "1000", env=env).check()
    data = mod.read_bytes()
    assert runtime.cache_path(data, fuel=True).exists()
    assert runtime.cache_path(data, fuel=False).exists()
    assert runtime.cache_path(data, fuel=True) != runtime.cache_path(data, fuel=False)
