/* The cost of --fuel on compute kernels (fuel counting is compiled into every basic block):
 *   wasmpi cc bench/fuel.c -o fuel.wasm
 *   wasmpi run -n 1 fuel.wasm spin 300000000 2000
 *   wasmpi run -n 1 --fuel 100000000000 fuel.wasm spin 300000000 2000
 * (tests/programs/limits.c has the memory-limit checks) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const char *mode = argc > 1 ? argv[1] : "spin";
    if (strcmp(mode, "spin") == 0) {
        long n = argc > 2 ? atol(argv[2]) : 1000000;
        unsigned x = 1;
        double t = MPI_Wtime();
        for (long i = 0; i < n; i++)
            x = x * 1664525u + (x >> 7) + 1013904223u;
        t = MPI_Wtime() - t;
        printf("rank %d spun %ld x=%u in %.6f s\n", rank, n, x, t);
        if (argc > 3) { /* timing only: a 5-point stencil and trial division */
            static double a[256][256], b[256][256];
            double t2 = MPI_Wtime();
            for (int it = 0; it < atoi(argv[3]); it++) {
                for (int i = 1; i < 255; i++)
                    for (int j = 1; j < 255; j++)
                        b[i][j] = 0.25 * (a[i - 1][j] + a[i + 1][j] + a[i][j - 1] + a[i][j + 1]) + 1;
                memcpy(a, b, sizeof a);
            }
            t2 = MPI_Wtime() - t2;
            double t3 = MPI_Wtime();
            int primes = 0;
            for (int k = 2; k < 200000; k++) {
                int prime = 1;
                for (int d = 2; d * d <= k; d++)
                    if (k % d == 0) { prime = 0; break; }
                primes += prime;
            }
            t3 = MPI_Wtime() - t3;
            printf("stencil %.6f s (%g) primes %.6f s (%d)\n", t2, a[128][128], t3, primes);
        }
    }
    MPI_Finalize();
    return 0;
}
