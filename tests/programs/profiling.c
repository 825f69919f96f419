/* A profiling layer the standard way: it defines MPI_Send and MPI_Finalize, counts, and calls
 * PMPI_Send / PMPI_Finalize; the program's own calls reach the wrappers. */
#include <mpi.h>
#include <stdio.h>

static int sends;
static int send_bytes;

int MPI_Send(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
             MPI_Comm comm)
{
    int size;
    sends++;
    PMPI_Type_size(datatype, &size);
    send_bytes += count * size;
    return PMPI_Send(buf, count, datatype, dest, tag, comm);
}

int MPI_Finalize(void)
{
    int rank;
    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("rank %d: profiled %d MPI_Send calls, %d bytes\n", rank, sends, send_bytes);
    return PMPI_Finalize();
}

int main(int argc, char **argv)
{
    int rank, size, v[4] = {0};
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) {
        for (int i = 0; i < 3; i++)
            for (int r = 1; r < size; r++)
                MPI_Send(v, 4, MPI_INT, r, i, MPI_COMM_WORLD);
    } else {
        for (int i = 0; i < 3; i++)
            MPI_Recv(v, 4, MPI_INT, 0, i, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    MPI_Pcontrol(1);
    MPI_Finalize();
    return 0;
}
