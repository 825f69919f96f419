#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    int rank;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
#if defined(HAVE_MPI_H) && defined(HAVE_GETHOSTNAME) && defined(HAVE_MPI) && \
    defined(HAVE_MPI_INIT) && defined(HAVE_LIBMPI) && defined(HAVE_LIBMPICH)
    printf("rank %d configured\n", rank);
#else
    printf("rank %d: configure missed something\n", rank);
#endif
    MPI_Finalize();
    return 0;
}
