/* A job to steer (test_jobs.py): MPI traffic for SECONDS, checked at every step, then exit.
 *   jobloop SECONDS [STATUS]
 * Each step passes a token around the ring and sums the ranks with MPI_Allreduce; rank 0
 * decides when time is up and broadcasts it, so every rank does the same number of steps.
 * At the end each rank checks its totals and prints `ok jobloop rank R steps S`; with a nonzero
 * STATUS rank 0 then ends the job with MPI_Abort(STATUS) (an abnormal end). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    int status = argc > 2 ? atoi(argv[2]) : 0;
    double t0 = MPI_Wtime();
    long steps = 0, bad = 0, tokens = 0;
    int more = 1;
    while (more) {
        int token = rank * 1000 + (int)(steps % 1000), got = -1;
        int right = (rank + 1) % size, left = (rank + size - 1) % size;
        MPI_Sendrecv(&token, 1, MPI_INT, right, 1, &got, 1, MPI_INT, left, 1, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        if (got != left * 1000 + (int)(steps % 1000))
            bad++;
        tokens += got;
        int sum = 0;
        MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (sum != size * (size - 1) / 2)
            bad++;
        steps++;
        if (rank == 0)
            more = MPI_Wtime() - t0 < seconds;
        MPI_Bcast(&more, 1, MPI_INT, 0, MPI_COMM_WORLD);
    }
    long all_steps = 0;
    MPI_Allreduce(&steps, &all_steps, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (bad || all_steps != steps * size)
        printf("FAILED jobloop rank %d: %ld bad steps of %ld\n", rank, bad, steps);
    else
        printf("ok jobloop rank %d steps %ld\n", rank, steps);
    fflush(stdout);
    if (status && rank == 0)
        MPI_Abort(MPI_COMM_WORLD, status);
    MPI_Finalize();
    return bad != 0;
}
