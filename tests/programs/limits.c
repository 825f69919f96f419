/* Resource limits. "alloc": malloc 1 MiB blocks until NULL and print how many succeeded (under
 * --mem-limit, malloc must fail, not trap). "trap": the same, then use the NULL it got, as
 * careless code does. "spin N": a compute loop of N iterations (for --fuel). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const char *mode = argc > 1 ? argv[1] : "alloc";
    if (strcmp(mode, "spin") == 0) {
        long n = argc > 2 ? atol(argv[2]) : 1000000;
        unsigned x = 1;
        double t = MPI_Wtime();
        for (long i = 0; i < n; i++)
            x = x * 1664525u + (x >> 7) + 1013904223u;
        t = MPI_Wtime() - t;
        printf("rank %d spun %ld x=%u in %.6f s\n", rank, n, x, t);
    } else {
        int blocks = 0;
        void *head = NULL, *p;
        /* a list of the blocks, so that the compiler cannot drop the allocations */
        while ((p = malloc(1 << 20)) != NULL) {
            memset(p, 1, 1 << 20);
            *(void **)p = head;
            head = p;
            blocks++;
        }
        printf("rank %d allocated %d MiB memory %lu\n", rank, blocks,
               (unsigned long)__builtin_wasm_memory_size(0) * 65536);
        fflush(stdout);
        if (strcmp(mode, "trap") == 0) {
            int *volatile q = (int *)malloc(1u << 30);
            q[(1u << 28) - 1] = 1; /* NULL + 1 GiB: outside the limited memory */
        }
        while (head) {
            p = *(void **)head;
            free(head);
            head = p;
        }
    }
    MPI_Finalize();
    return 0;
}
