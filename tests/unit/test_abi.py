"""The ABI table and its generated files (no compiler, no mpiexec needed)."""

from __future__ import annotations

from wasmpi.bridge import abi, gen

ISSUE_FUNCTIONS = """Init Init_thread Initialized Finalize Finalized Abort Wtime Wtick
Get_processor_name Get_version Get_library_version Query_thread Error_string Error_class
Comm_rank Comm_size Comm_dup
Comm_split Comm_split_type Comm_free Comm_compare Comm_group Comm_create Comm_create_group
Comm_set_errhandler Comm_get_errhandler Group_incl Group_excl Group_range_incl
Group_translate_ranks Group_size Group_rank Group_free Send Recv Ssend Rsend Isend Irecv Issend
Wait Waitall Waitany Waitsome Test Testall Testany Probe Iprobe Get_count Sendrecv
Sendrecv_replace Request_free Cancel Barrier Bcast Reduce Allreduce Gather Gatherv Scatter
Scatterv Allgather Allgatherv Alltoall Alltoallv Reduce_scatter Reduce_scatter_block Scan Exscan
Type_size Type_contiguous Type_vector Type_indexed Type_commit Type_free Type_get_name""".split()  # noqa: SIM905


def test_standard_abi_values() -> None:
    handles = {c.name: int(c.value, 16) for c in abi.constants() if c.kind == "handle"}
    assert handles["COMM_WORLD"] == 0x101 and handles["COMM_NULL"] == 0x100
    assert handles["INT"] == 0x209 and handles["DOUBLE"] == 0x214 and handles["SUM"] == 0x21
    ints = {c.name: int(c.value, 0) for c in abi.constants() if c.kind == "int"}
    assert ints["ANY_SOURCE"] == -1 and ints["PROC_NULL"] == -3 and ints["ERR_COMM"] == 5


def test_issue_functions_are_implemented() -> None:
    supported = abi.supported_imports()
    missing = [f for f in ISSUE_FUNCTIONS if "MPI_" + f not in supported]
    assert not missing


def test_whole_mpi31_api_declared() -> None:
    names = {f.name for f in abi.functions()}
    assert len(names) > 350
    for f in ("MPI_Win_create", "MPI_File_open", "MPI_Ineighbor_alltoallw", "MPI_T_init_thread",
              "MPI_Comm_spawn", "MPI_Type_create_struct"):
        assert f in names


def test_wasm_signatures() -> None:
    f = abi.by_name()
    assert (f["MPI_Send"].wasm_params, f["MPI_Send"].wasm_results) == ("iiiiii", "i")
    assert f["MPI_Wtime"].wasm_results == "F"
    assert f["MPI_File_seek"].wasm_params == "iIi"  # MPI_Offset is i64


def test_generated_files_are_current() -> None:
    for path, text in gen.outputs().items():
        assert path.read_text() == text, f"{path} is stale: run python -m wasmpi.bridge.gen"


def test_guest_header_shape() -> None:
    h = gen.guest_header()
    assert any(ln.split()[1:] == ["MPI_COMM_WORLD", "((MPI_Comm)0x00000101)"]
               for ln in h.splitlines() if ln.startswith("#define"))
    assert '__import_module__("mpi")' in h
    assert "int MPI_internal[5];" in h
    assert "MPI_Pcontrol(const int level, ...)" in h or "MPI_Pcontrol(int level, ...)" in h
