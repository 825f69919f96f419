/* A plain access outside linear memory (no MPI call involved): the engine's own bounds check
 * (wasmtime's, or wasm2c's guard pages on the LLVM tier) must trap, on the last rank.
 *   wild          a load
 *   wild count    a counter update, counts[k]++: on the LLVM tier its load runs without
 *                 wasm2c's load guard (the store to the same address traps instead) */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

/* opaque to the compiler: a constant pointer would let it see the fault and drop the access */
int *volatile wild_base;

__attribute__((noinline)) static int peek(volatile int *p) { return *p; }

/* a histogram's update, as the IS kernel's: load, add a constant, store to the same address */
__attribute__((noinline)) static void count(int *counts, const int *keys, int n)
{
    for (int i = 0; i < n; i++)
        counts[keys[i]]++;
}

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == size - 1) {
        if (argc > 1 && !strcmp(argv[1], "count")) {
            int keys[2] = {1, 0x3ffffffc};   /* the second: 4 GiB - 16 bytes from wild_base */
            count(wild_base, keys, 2);
        } else {
            printf("%d\n", peek((volatile int *)(unsigned long)0xfffffff0u));
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Finalize();
    return 0;
}
