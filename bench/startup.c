/* Rank start-up: each rank prints the wall-clock time (CLOCK_REALTIME) at which main() began
 * and at which MPI_Init returned, so that bench/startup.py can subtract the moment it launched
 * the job. On wasmpi the host MPI is initialized before the guest's main(), so "main" there
 * already includes MPI_Init; "ready" (after MPI_Init) is the figure comparable to native. */
#include <mpi.h>
#include <stdio.h>
#include <time.h>

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    double at_main = wall();
    MPI_Init(&argc, &argv);
    double ready = wall();
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("rank %d main %.6f ready %.6f\n", rank, at_main, ready);
    MPI_Finalize();
    return 0;
}
