/* C that gcc 12 compiles with warnings: time() and atoi() called without <time.h> and
 * <stdlib.h> (implicit declarations, as in a public MPI tutorial's reduce_stddev.c), an int
 * stored in a pointer and a pointer of the wrong type. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    int rank;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long long seed = time(NULL);
    int base = atoi("7");
    int *as_int = seed > 0 ? 0 : 1; /* int-conversion */
    double x = 1.5;
    long *wrong = &x;               /* incompatible-pointer-types */
    printf("rank %d: time %s, atoi %d, %d %d\n", rank, seed > 1000000000 ? "ok" : "wrong", base,
           as_int == 0, (void *)wrong == (void *)&x);
    MPI_Finalize();
    return 0;
}
