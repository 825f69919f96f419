# CMake platform module for wasm32-wasi (used by wasmpi.cmake): static linking only, and
# executables are .wasm modules.
set(WASI 1)
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS FALSE)
