/* The executable of the CMake project. */
#include <mpi.h>
#include <stdio.h>

int ring_sum(MPI_Comm comm);

int main(int argc, char **argv)
{
    int rank;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("rank %d: cmake ring %d, FindMPI version %s\n", rank, ring_sum(MPI_COMM_WORLD),
           MPI_FOUND_VERSION);
    MPI_Finalize();
    return 0;
}
