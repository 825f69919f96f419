/* Per-call cost of MPI calls from one rank in a tight loop: what each call costs on top of
 * the work MPI itself does. Built natively with mpicc and with `wasmpi cc`; bench/percall.py
 * runs both, alternating, and prints ns per call. Output: "<name> <ns per call>" lines.
 *
 * `percall [ITERS [CASE [REPS]]]`: CASE (a prefix of a name) runs that case alone, REPS times
 * (default 5); two runs at different ITERS under an instruction counter (valgrind) give the
 * instructions of one call, whatever the machine's load. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double best_of(int reps, long iters, void (*body)(long))
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = MPI_Wtime();
        body(iters);
        t = MPI_Wtime() - t;
        if (t < best) best = t;
    }
    return best / (double)iters * 1e9;
}

static volatile int sink;

static void initialized(long n) { int f; for (long i = 0; i < n; i++) { MPI_Initialized(&f); sink += f; } }
static void comm_rank(long n) { int r; for (long i = 0; i < n; i++) { MPI_Comm_rank(MPI_COMM_WORLD, &r); sink += r; } }
static void bcast0(long n) { int x = 0; for (long i = 0; i < n; i++) MPI_Bcast(&x, 0, MPI_INT, 0, MPI_COMM_SELF); }
static void sendrecv_self(long n)
{
    char a = 1, b = 0;
    for (long i = 0; i < n; i++)
        MPI_Sendrecv(&a, 1, MPI_CHAR, 0, 0, &b, 1, MPI_CHAR, 0, 0, MPI_COMM_SELF,
                     MPI_STATUS_IGNORE);
}
static void sendrecv_status(long n)
{
    char a = 1, b = 0;
    MPI_Status st;
    for (long i = 0; i < n; i++)
        MPI_Sendrecv(&a, 1, MPI_CHAR, 0, 0, &b, 1, MPI_CHAR, 0, 0, MPI_COMM_SELF, &st);
}
static void irecv_send_wait(long n)
{
    /* the receive first: MPICH's MPI_Send to self waits for it even at 1 B */
    char a = 1, b = 0;
    MPI_Request r;
    for (long i = 0; i < n; i++) {
        MPI_Irecv(&b, 1, MPI_CHAR, 0, 0, MPI_COMM_SELF, &r);
        MPI_Send(&a, 1, MPI_CHAR, 0, 0, MPI_COMM_SELF);
        MPI_Wait(&r, MPI_STATUS_IGNORE);
    }
}
static void bcast8(long n)
{
    double x = 1.0;
    for (long i = 0; i < n; i++) MPI_Bcast(&x, 1, MPI_DOUBLE, 0, MPI_COMM_SELF);
}
static void isend_wait(long n)
{
    char a = 1, b = 0;
    MPI_Request r[2];
    for (long i = 0; i < n; i++) {
        MPI_Irecv(&b, 1, MPI_CHAR, 0, 0, MPI_COMM_SELF, &r[0]);
        MPI_Isend(&a, 1, MPI_CHAR, 0, 0, MPI_COMM_SELF, &r[1]);
        MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    long iters = argc > 1 ? atol(argv[1]) : 1000000;
    const char *only = argc > 2 ? argv[2] : NULL;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    struct { const char *name; void (*body)(long); long scale; } cases[] = {
        {"MPI_Initialized", initialized, 4}, {"MPI_Comm_rank", comm_rank, 4},
        {"MPI_Bcast(count 0, SELF)", bcast0, 2}, {"MPI_Bcast(SELF, 8 B)", bcast8, 2},
        {"MPI_Sendrecv(self, 1 B)", sendrecv_self, 1},
        {"MPI_Sendrecv(self, 1 B, status)", sendrecv_status, 1},
        {"MPI_Irecv+Send+Wait(self, 1 B)", irecv_send_wait, 1},
        {"MPI_Irecv+Isend+Waitall(self)", isend_wait, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        if (!only || !strncmp(cases[c].name, only, strlen(only)))
            printf("%s\t%.1f\n", cases[c].name,
                   best_of(reps, iters * cases[c].scale, cases[c].body));
    MPI_Finalize();
    return 0;
}
