/* upcall.c - the cost of user reduction ops (MPI_Op_create), for comparing native MPI with
 * wasmpi, where the host MPI calls the guest function back through the bridge (an "upcall").
 *
 * Benchmarks, each on vectors of 1, 10, 100, ... up to MAXN doubles (default 1M):
 *   local_user   MPI_Reduce_local with a user op that sums doubles (one upcall per call)
 *   local_user_dt  the same on a derived datatype, MPI_Type_contiguous(1, MPI_DOUBLE)
 *   local_sum    MPI_Reduce_local with MPI_SUM (no upcall: the bridge's per-call cost alone)
 *   allred_user  MPI_Allreduce with the same user op, on every rank of MPI_COMM_WORLD
 *
 * For each (benchmark, n): warm-up, then BATCHES timed batches of `reps` calls; a batch's time
 * per call is the maximum over ranks (allred_user) or rank 0's (the local ones, which every rank
 * runs at the same time so that the machine is as loaded as in allred_user). Rank 0 prints
 *
 *     RESULT <bench> <n> <usec_median> <usec_min> <usec_max> <reps> <batches>
 *
 * Results are checked: a wrong sum exits 1. Usage: upcall [MAXN] [-batches N] [-scale X]
 * [-bench NAME[,NAME]]. Lines starting with '#' are comments.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCHES 64

static long calls; /* user-op invocations on this rank */

static void dsum(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    const double *x = in;
    double *y = inout;
    int n = *len;
    for (int i = 0; i < n; i++)
        y[i] += x[i];
    calls++;
}

enum { LOCAL_USER, LOCAL_USER_DT, LOCAL_SUM, ALLRED_USER, NBENCH };
static const char *const NAMES[NBENCH] = {"local_user", "local_user_dt", "local_sum",
                                          "allred_user"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long reps_for(long n, double scale)
{
    double r = 4e6 / (double)(n + 20);
    if (r > 100000) r = 100000;
    if (r < 10) r = 10;
    r *= scale;
    return r < 1 ? 1 : (long)r;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long maxn = 1000000;
    int batches = 7;
    double scale = 1.0;
    int want[NBENCH] = {1, 1, 1, 1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-batches") && i + 1 < argc) {
            batches = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-scale") && i + 1 < argc) {
            scale = atof(argv[++i]);
        } else if (!strcmp(argv[i], "-bench") && i + 1 < argc) {
            const char *list = argv[++i];
            for (int b = 0; b < NBENCH; b++) { /* whole names of the comma-separated list */
                size_t len = strlen(NAMES[b]);
                want[b] = 0;
                for (const char *p = list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] != 0))
                    if (strcspn(p, ",") == len && !strncmp(p, NAMES[b], len)) want[b] = 1;
            }
        } else {
            maxn = atol(argv[i]);
        }
    }
    if (batches < 1) batches = 1;
    if (batches > MAX_BATCHES) batches = MAX_BATCHES;
    if (rank == 0) {
        char lib[MPI_MAX_LIBRARY_VERSION_STRING];
        int len = 0;
        MPI_Get_library_version(lib, &len);
        char *nl = strchr(lib, '\n');
        if (nl) *nl = 0;
        printf("# library %s\n# ranks %d, batches %d, scale %g\n", lib, size, batches, scale);
    }
    MPI_Op op;
    MPI_Op_create(dsum, 1, &op);
    MPI_Datatype one_double; /* made last, so a bridge that scans its datatype table for the
                              * guest's handle scans it all */
    MPI_Type_contiguous(1, MPI_DOUBLE, &one_double);
    MPI_Type_commit(&one_double);
    double *in = malloc(sizeof(double) * (size_t)maxn);
    double *io = malloc(sizeof(double) * (size_t)maxn);
    double *out = malloc(sizeof(double) * (size_t)maxn);
    if (!in || !io || !out) {
        fprintf(stderr, "upcall: out of memory for %ld doubles\n", maxn);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (long i = 0; i < maxn; i++) in[i] = 1.0;
    int bad = 0;
    for (int b = 0; b < NBENCH; b++) {
        if (!want[b]) continue;
        for (long n = 1; n <= maxn; n *= 10) {
            long reps = reps_for(n, scale);
            double per[MAX_BATCHES];
            for (long i = 0; i < n; i++) io[i] = 0.0;
            for (int k = -1; k < batches; k++) { /* k = -1: warm-up */
                long r = k < 0 ? (reps + 9) / 10 : reps;
                MPI_Barrier(MPI_COMM_WORLD);
                double t0 = MPI_Wtime();
                for (long it = 0; it < r; it++) {
                    if (b == LOCAL_USER)
                        MPI_Reduce_local(in, io, (int)n, MPI_DOUBLE, op);
                    else if (b == LOCAL_USER_DT)
                        MPI_Reduce_local(in, io, (int)n, one_double, op);
                    else if (b == LOCAL_SUM)
                        MPI_Reduce_local(in, io, (int)n, MPI_DOUBLE, MPI_SUM);
                    else
                        MPI_Allreduce(in, out, (int)n, MPI_DOUBLE, op, MPI_COMM_WORLD);
                }
                double t = (MPI_Wtime() - t0) / (double)r, tmax = t;
                if (b == ALLRED_USER)
                    MPI_Allreduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
                if (k >= 0) per[k] = tmax * 1e6;
            }
            /* every call added 1.0 to each element (local) or the sum is the rank count */
            long total = 0;
            for (int k = -1; k < batches; k++) total += k < 0 ? (reps + 9) / 10 : reps;
            double expect = b == ALLRED_USER ? (double)size : (double)total;
            const double *res = b == ALLRED_USER ? out : io;
            if (res[0] != expect || res[n - 1] != expect) {
                fprintf(stderr, "upcall: rank %d: %s n=%ld gave %g, want %g\n", rank, NAMES[b],
                        n, res[n - 1], expect);
                bad = 1;
            }
            qsort(per, (size_t)batches, sizeof per[0], cmp_double);
            double med = batches % 2 ? per[batches / 2]
                                     : 0.5 * (per[batches / 2 - 1] + per[batches / 2]);
            if (rank == 0) {
                printf("RESULT %s %ld %.4f %.4f %.4f %ld %d\n", NAMES[b], n, med, per[0],
                       per[batches - 1], reps, batches);
                fflush(stdout);
            }
        }
    }
    MPI_Op_free(&op);
    MPI_Type_free(&one_double);
    free(in);
    free(io);
    free(out);
    int any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0)
        printf("# user op calls on rank 0: %ld\n", calls);
    MPI_Finalize();
    return any;
}
