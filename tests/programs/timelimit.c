/* Jobs for the time limit (test_time_limit.py):
 *   deadlock  every rank waits in MPI_Recv from its left neighbour, tag 7: nobody sends
 *   mixed     rank 0 computes forever, the others wait in MPI_Barrier
 *   quick     prints one line per rank and finishes well before any limit */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = argc > 1 ? argv[1] : "quick";
    if (!strcmp(mode, "deadlock")) {
        int v;
        MPI_Recv(&v, 1, MPI_INT, (rank + size - 1) % size, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        printf("rank %d received %d\n", rank, v); /* never */
    } else if (!strcmp(mode, "mixed")) {
        if (rank == 0) {
            volatile unsigned long x = 0;
            for (;;)
                x++;
        }
        MPI_Barrier(MPI_COMM_WORLD);
        printf("rank %d passed the barrier\n", rank); /* never */
    } else {
        int sum = 0;
        MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        printf("rank %d of %d: sum %d\n", rank, size, sum);
    }
    MPI_Finalize();
    return 0;
}
