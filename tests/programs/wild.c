/* A plain load outside linear memory (no MPI call involved): the engine's own bounds check
 * (wasmtime's, or wasm2c's guard pages on the LLVM tier) must trap, on the last rank. */
#include <mpi.h>
#include <stdio.h>

__attribute__((noinline)) static int peek(volatile int *p) { return *p; }

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == size - 1)
        printf("%d\n", peek((volatile int *)(unsigned long)0xfffffff0u));
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Finalize();
    return 0;
}
