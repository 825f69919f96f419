# CMake toolchain file for wasmpi: builds wasm32-wasi MPI modules with `wasmpi cc` / `wasmpi c++`.
#
#   cmake -DCMAKE_TOOLCHAIN_FILE=$(wasmpi --cmake-toolchain) ..
#
# `wasmpi cc` links the guest libmpi.a by default, so find_package(MPI) finds MPI in the
# compiler itself (as with an mpicc wrapper) and MPI::MPI_C carries no extra flags.
# The wasmpi command is `$WASMPI_PYTHON -m wasmpi` if that environment variable is set, else
# the `wasmpi` found on PATH. Executables get the suffix .wasm; run them with `wasmpi run`.

set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
# Platform/WASI.cmake, which CMake 3.25 does not have
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")

if(DEFINED ENV{WASMPI_PYTHON})
  set(_wasmpi "$ENV{WASMPI_PYTHON}" -m wasmpi)
else()
  find_program(WASMPI_EXECUTABLE wasmpi)
  if(NOT WASMPI_EXECUTABLE)
    message(FATAL_ERROR "wasmpi toolchain: `wasmpi` is not on PATH; put it there or set "
                        "WASMPI_PYTHON to the Python interpreter wasmpi is installed in")
  endif()
  set(_wasmpi "${WASMPI_EXECUTABLE}")
endif()
set(CMAKE_C_COMPILER ${_wasmpi} cc)
set(CMAKE_CXX_COMPILER ${_wasmpi} c++)

# look for libraries and headers of the target only; programs (mpiexec, ...) are the host's
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# a host mpicc would give FindMPI the host's flags and libraries
set(MPI_SKIP_COMPILER_WRAPPER ON)
