"""The LLVM tier's module is built for the host CPU: its flags and its cache key (no compiler,
no mpiexec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmpi import config
from wasmpi.errors import UsageError
from wasmpi.runtime.llvm import build

WASM = b"\0asm\1\0\0\0"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASMPI_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("WASMPI_LLVM_CPU", raising=False)
    monkeypatch.setattr(config, "_current", None)


def _cpu(monkeypatch: pytest.MonkeyPatch, cpu: str) -> None:
    # resolved, so that the cache is the fixture's directory, not the unexpanded default
    monkeypatch.setenv("WASMPI_LLVM_CPU", cpu)
    monkeypatch.setattr(config, "_current", None)


def test_native_by_default_without_contraction() -> None:
    flags = build.module_flags()
    assert "-mcpu=native" in flags and "-ffp-contract=off" in flags
    assert "-ffast-math" not in flags and "-frounding-math" in flags


def test_key_holds_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "_host_cpu", lambda: "x86_64 AMD EPYC flags: sse2 avx512f")
    here = build.module_path(WASM)
    assert build.module_path(WASM) == here
    monkeypatch.setattr(build, "_host_cpu", lambda: "x86_64 AMD EPYC flags: sse2 avx2")
    assert build.module_path(WASM) != here


def test_portable_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    _cpu(monkeypatch, "x86_64")
    assert build.cpu_flags() == ("-mcpu=x86_64", "-ffp-contract=off")
    monkeypatch.setattr(build, "_host_cpu", lambda: "one")
    portable = build.module_path(WASM)
    monkeypatch.setattr(build, "_host_cpu", lambda: "another")
    assert build.module_path(WASM) == portable  # the same code runs on any x86-64
    _cpu(monkeypatch, "native")
    assert build.module_path(WASM) != portable


@pytest.mark.parametrize("bad", ["native -O0", "x86_64;rm", "$(id)"])
def test_bad_cpu(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("WASMPI_LLVM_CPU", bad)
    with pytest.raises(UsageError, match=r"WASMPI_LLVM_CPU.*not a CPU name"):
        config.resolve()


def test_host_cpu_names_this_machine() -> None:
    assert build._host_cpu().split()[0]  # the architecture, at least
