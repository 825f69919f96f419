/* Calls an MPI-3.1 function that the bridge does not implement yet (one-sided). */
#include <mpi.h>

int main(int argc, char **argv)
{
    MPI_Win win;
    int buf[4];
    MPI_Init(&argc, &argv);
    MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Win_free(&win);
    MPI_Finalize();
    return 0;
}
