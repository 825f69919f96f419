/* main(argc, argv) kept in a static archive (libmain.a), as some build systems do. */
#include <mpi.h>
#include <stdio.h>

int work(int rank);

int main(int argc, char **argv)
{
    int rank;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("rank %d: main from libmain.a, work %d, argc %d\n", rank, work(rank), argc);
    MPI_Finalize();
    return 0;
}
