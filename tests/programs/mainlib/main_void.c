/* main(void) kept in a static archive (libmain.a). */
#include <mpi.h>
#include <stdio.h>

int work(int rank);

int main(void)
{
    int rank;
    MPI_Init(NULL, NULL);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("rank %d: main(void) from libmain.a, work %d\n", rank, work(rank));
    MPI_Finalize();
    return 0;
}
