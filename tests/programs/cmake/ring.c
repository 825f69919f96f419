/* A static library of the CMake project: pass a token around the ring. */
#include <mpi.h>

int ring_sum(MPI_Comm comm)
{
    int rank, size, token = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (size == 1)
        return rank + 1;
    if (rank != 0)
        MPI_Recv(&token, 1, MPI_INT, rank - 1, 0, comm, MPI_STATUS_IGNORE);
    token += rank + 1;
    MPI_Send(&token, 1, MPI_INT, (rank + 1) % size, 0, comm);
    if (rank == 0)
        MPI_Recv(&token, 1, MPI_INT, size - 1, 0, comm, MPI_STATUS_IGNORE);
    MPI_Bcast(&token, 1, MPI_INT, 0, comm);
    return token;
}
