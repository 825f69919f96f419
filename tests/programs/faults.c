/* Guest faults that must end the job: argv[1] picks one; the last rank commits it while the
 * others wait in a receive that never completes. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int rank, size, x = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *what = argc > 1 ? argv[1] : "oob-send";
    if (rank == size - 1) {
        if (!strcmp(what, "oob-send")) {
            /* a pointer far outside linear memory */
            MPI_Send((void *)0xFFFFFF00u, 1024, MPI_INT, 0, 0, MPI_COMM_WORLD);
        } else if (!strcmp(what, "oob-recv")) {
            static char small[16];
            MPI_Recv(small, 1 << 30, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else if (!strcmp(what, "trap")) {
            __builtin_trap();
        } else if (!strcmp(what, "exit")) {
            exit(5);
        }
        printf("fault %s did not happen\n", what);
        return 1;
    }
    MPI_Recv(&x, 1, MPI_INT, size - 1, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Finalize();
    return 0;
}
