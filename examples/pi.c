/* Compute pi by midpoint integration of 4/(1+x^2), split across ranks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rank, size;
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    double h = 1.0 / (double)n, local = 0.0;
    double t0 = MPI_Wtime();
    for (long i = rank; i < n; i += size) {
        double x = h * ((double)i + 0.5);
        local += 4.0 / (1.0 + x * x);
    }
    double pi = 0.0;
    MPI_Reduce(&local, &pi, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("pi = %.12f (error %.2e) on %d ranks in %.3f s\n", pi * h,
               pi * h - 3.141592653589793, size, MPI_Wtime() - t0);
    MPI_Finalize();
    return 0;
}
