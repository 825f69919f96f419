/* A generalized request whose query function traps: the job must end (nonzero exit, no
 * hang) with a message naming the callback. Rank 0 waits on the request while the other
 * ranks wait in a barrier that rank 0 never reaches. */
#include <mpi.h>
#include <stdio.h>

static int query(void *extra, MPI_Status *status)
{
    (void)extra;
    (void)status;
    __builtin_trap();
}

static int release(void *extra)
{
    (void)extra;
    return MPI_SUCCESS;
}

static int cancel(void *extra, int complete)
{
    (void)extra;
    (void)complete;
    return MPI_SUCCESS;
}

int main(int argc, char **argv)
{
    int rank;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        MPI_Request r;
        MPI_Grequest_start(query, release, cancel, NULL, &r);
        MPI_Grequest_complete(r);
        MPI_Status st;
        MPI_Wait(&r, &st);
        printf("Wait returned\n");
    }
    MPI_Barrier(MPI_COMM_WORLD);
    printf("barrier passed on rank %d\n", rank);
    MPI_Finalize();
    return 0;
}
