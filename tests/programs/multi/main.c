#include <mpi.h>
#include <stdio.h>
#include "util.h"

int main(int argc, char **argv)
{
    int rank;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("rank %d: %s %d\n", rank, GREETING, twice(rank + SCALE));
    MPI_Finalize();
    return 0;
}
