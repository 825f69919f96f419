"""wasmpi: compile MPI applications once to WebAssembly, run them on any MPI library."""

__version__ = "0.1.0"
