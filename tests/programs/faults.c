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
    if (!strcmp(what, "coll")) {
        /* every rank in collectives forever, until the test kills one from outside */
        long sum = 0, one = 1;
        MPI_Allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        printf("ready %d\n", rank);
        fflush(stdout);
        for (;;)
            MPI_Allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    }
    if (!strncmp(what, "unflushed-", 10)) {
        /* output still in stdout's buffer (no newline, no fflush) when the job is stopped */
        MPI_Barrier(MPI_COMM_WORLD);
        printf("unflushed output of rank %d", rank);
        fprintf(stderr, "ready %d\n", rank);
        if (!strcmp(what + 10, "block")) /* wait in MPI for a message that never comes */
            MPI_Recv(&x, 1, MPI_INT, MPI_ANY_SOURCE, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        volatile unsigned long spin = 0; /* compute: no MPI call for a while, then one */
        for (int round = 0;; round++) {
            for (unsigned long i = 0; i < 20000000ul; i++)
                spin += i;
            MPI_Comm_rank(MPI_COMM_WORLD, &x);
        }
    }
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
