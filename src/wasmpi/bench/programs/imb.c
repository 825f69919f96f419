/* imb.c - a small IMB-MPI1-style benchmark for comparing native MPI with wasmpi.
 *
 * Benchmarks: PingPong and PingPing (ranks 0 and 1), Sendrecv (periodic ring), Exchange (both
 * neighbours of a ring), and the collectives Bcast, Allreduce, Allgather, Alltoall, Reduce,
 * Gather, Scatter and Barrier (one point, reported at 0 bytes).
 *
 * Message sizes: 1 B, then powers of two up to the maximum (default 4 MiB); `-min 0` adds 0 B,
 * which measures the pure per-call cost (most MPIs return at once for an empty message). As in IMB,
 * "bytes" is the per-process block for Allgather/Alltoall/Gather/Scatter and the vector length
 * for Bcast/Allreduce/Reduce; the reductions use MPI_FLOAT + MPI_SUM, so they start at 4 B.
 * Rooted collectives rotate the root every iteration (as IMB does), so the root cannot run ahead.
 *
 * For each (benchmark, size): warm-up iterations, then BATCHES timed batches of `reps`
 * iterations. A batch's time per iteration is the maximum over ranks (IMB's t_max); rank 0
 * prints the median over batches (and min/max) as
 *
 *     RESULT <bench> <bytes> <usec_median> <usec_min> <usec_max> <reps> <batches>
 *
 * PingPong reports half the round trip, like IMB; PingPing (both ranks send at once) and Exchange
 * report the time of one iteration. Lines starting with '#' are comments.
 *
 * Usage: imb [MAXBYTES] [BENCH[,BENCH...] ...]     e.g. `imb 65536 pingpong allreduce`
 *   MAXBYTES accepts a K/M suffix (powers of 1024). Options: -batches N, -scale X (repetitions
 *   multiplied by X), -min BYTES (smallest size, default 1).
 *
 * Only MPI calls implemented by the wasmpi bridge are used. Shipped with wasmpi as the program
 * of `wasmpi bench pt2pt` and `wasmpi bench coll`.
 */
#include <mpi.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BATCHES 64

enum { B_PINGPONG, B_PINGPING, B_SENDRECV, B_EXCHANGE, B_BCAST, B_ALLREDUCE, B_ALLGATHER,
       B_ALLTOALL, B_REDUCE, B_GATHER, B_SCATTER, B_BARRIER, B_COUNT };
static const char *const NAMES[B_COUNT] = {"PingPong", "PingPing", "Sendrecv", "Exchange",
                                           "Bcast", "Allreduce", "Allgather", "Alltoall",
                                           "Reduce", "Gather", "Scatter", "Barrier"};

static int rank, nprocs;
static char *sbuf, *rbuf;

/* Repetitions per batch: many for small messages, fewer for big ones (bounded volume). */
static long reps_for(size_t bytes, double scale) {
    const double volume = 32.0 * 1024 * 1024; /* bytes moved per rank per batch, roughly */
    double r = bytes ? volume / (double)bytes : 1000.0;
    if (r > 1000.0) r = 1000.0;
    if (r < 4.0) r = 4.0;
    r *= scale;
    return r < 1.0 ? 1 : (long)r;
}

/* One iteration of benchmark b with message size `bytes`; `it` rotates the root. */
static void iterate(int b, size_t bytes, long it) {
    int n = (int)bytes;
    int root = (int)(it % nprocs);
    switch (b) {
    case B_PINGPONG:
        if (rank == 0) {
            MPI_Send(sbuf, n, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
            MPI_Recv(rbuf, n, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else if (rank == 1) {
            MPI_Recv(rbuf, n, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(sbuf, n, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
        }
        break;
    case B_PINGPING:
        if (rank < 2) {
            MPI_Request req;
            int other = 1 - rank;
            MPI_Isend(sbuf, n, MPI_BYTE, other, 3, MPI_COMM_WORLD, &req);
            MPI_Recv(rbuf, n, MPI_BYTE, other, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Wait(&req, MPI_STATUS_IGNORE);
        }
        break;
    case B_EXCHANGE: {
        /* IMB's Exchange: send to both neighbours, receive from both (second halves of the
         * buffers, so that the two receives do not overlap) */
        MPI_Request req[4];
        int right = (rank + 1) % nprocs, left = (rank + nprocs - 1) % nprocs;
        MPI_Irecv(rbuf, n, MPI_BYTE, left, 4, MPI_COMM_WORLD, &req[0]);
        MPI_Irecv(rbuf + n, n, MPI_BYTE, right, 5, MPI_COMM_WORLD, &req[1]);
        MPI_Isend(sbuf, n, MPI_BYTE, right, 4, MPI_COMM_WORLD, &req[2]);
        MPI_Isend(sbuf + n, n, MPI_BYTE, left, 5, MPI_COMM_WORLD, &req[3]);
        MPI_Waitall(4, req, MPI_STATUSES_IGNORE);
        break;
    }
    case B_BARRIER:
        MPI_Barrier(MPI_COMM_WORLD);
        break;
    case B_SENDRECV:
        MPI_Sendrecv(sbuf, n, MPI_BYTE, (rank + 1) % nprocs, 2,
                     rbuf, n, MPI_BYTE, (rank + nprocs - 1) % nprocs, 2,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        break;
    case B_BCAST:
        MPI_Bcast(sbuf, n, MPI_BYTE, root, MPI_COMM_WORLD);
        break;
    case B_ALLREDUCE:
        MPI_Allreduce(sbuf, rbuf, n / 4, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        break;
    case B_REDUCE:
        MPI_Reduce(sbuf, rbuf, n / 4, MPI_FLOAT, MPI_SUM, root, MPI_COMM_WORLD);
        break;
    case B_ALLGATHER:
        MPI_Allgather(sbuf, n, MPI_BYTE, rbuf, n, MPI_BYTE, MPI_COMM_WORLD);
        break;
    case B_ALLTOALL:
        MPI_Alltoall(sbuf, n, MPI_BYTE, rbuf, n, MPI_BYTE, MPI_COMM_WORLD);
        break;
    case B_GATHER:
        MPI_Gather(sbuf, n, MPI_BYTE, rbuf, n, MPI_BYTE, root, MPI_COMM_WORLD);
        break;
    case B_SCATTER:
        MPI_Scatter(sbuf, n, MPI_BYTE, rbuf, n, MPI_BYTE, root, MPI_COMM_WORLD);
        break;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void run(int b, size_t bytes, int batches, double scale) {
    long reps = reps_for(bytes, scale);
    long warm = reps / 4 + 1;
    double t[MAX_BATCHES];
    long it = 0;
    /* PingPong and PingPing with more than two ranks: the others just wait at the barriers. */
    int active = (b != B_PINGPONG && b != B_PINGPING) || rank < 2;

    MPI_Barrier(MPI_COMM_WORLD);
    if (active)
        for (long i = 0; i < warm; i++) iterate(b, bytes, it++);
    for (int k = 0; k < batches; k++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        if (active)
            for (long i = 0; i < reps; i++) iterate(b, bytes, it++);
        double mine = (MPI_Wtime() - t0) / (double)reps, worst = 0.0;
        if (b == B_PINGPONG) mine /= 2.0; /* half round trip */
        MPI_Reduce(&mine, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        t[k] = worst * 1e6;
    }
    if (rank == 0) {
        qsort(t, (size_t)batches, sizeof t[0], cmp_double);
        double med = batches % 2 ? t[batches / 2] : 0.5 * (t[batches / 2 - 1] + t[batches / 2]);
        printf("RESULT %s %zu %.4f %.4f %.4f %ld %d\n", NAMES[b], bytes, med, t[0],
               t[batches - 1], reps, batches);
        fflush(stdout);
    }
}

static size_t parse_size(const char *s, int *ok) {
    char *end;
    double v = strtod(s, &end);
    *ok = end != s && v >= 0;
    if (*end == 'k' || *end == 'K') v *= 1024, end++;
    else if (*end == 'm' || *end == 'M') v *= 1024 * 1024, end++;
    if (*end == 'b' || *end == 'B') end++;
    if (*end) *ok = 0;
    return (size_t)v;
}

/* Enable the benchmarks named in a comma-separated list; returns 0 on an unknown name. */
static int select_benchmarks(char *list, int *on) {
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int found = 0;
        for (int b = 0; b < B_COUNT; b++)
            if (strcasecmp(tok, NAMES[b]) == 0) on[b] = found = 1;
        if (!found) return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    size_t maxbytes = 4u << 20, minbytes = 1;
    int batches = 5, on[B_COUNT] = {0}, any = 0, ok;
    double scale = 1.0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nprocs);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        ok = 1;
        if (!strcmp(a, "-batches") && i + 1 < argc) {
            batches = atoi(argv[++i]);
            ok = batches >= 1 && batches <= MAX_BATCHES;
        } else if (!strcmp(a, "-scale") && i + 1 < argc) {
            scale = atof(argv[++i]);
            ok = scale > 0;
        } else if (!strcmp(a, "-min") && i + 1 < argc) {
            minbytes = parse_size(argv[++i], &ok);
        } else if (isdigit((unsigned char)a[0])) {
            maxbytes = parse_size(a, &ok);
        } else {
            char *copy = strdup(a);
            ok = select_benchmarks(copy, on);
            free(copy);
            any = 1;
        }
        if (!ok) {
            if (rank == 0)
                fprintf(stderr, "imb: bad argument '%s'\nusage: imb [MAXBYTES] [BENCH[,BENCH]...] "
                        "[-batches N] [-scale X] [-min BYTES]\n", a);
            MPI_Finalize();
            return 2;
        }
    }
    if (!any)
        for (int b = 0; b < B_COUNT; b++) on[b] = 1;
    for (int b = B_PINGPONG; b <= B_PINGPING; b++)
        if (on[b] && nprocs < 2) {
            if (rank == 0) fprintf(stderr, "imb: %s needs 2 ranks, skipped\n", NAMES[b]);
            on[b] = 0;
        }

    /* Gather/Allgather/Alltoall/Scatter need nprocs blocks (Exchange two); a block may be
     * maxbytes. */
    size_t big = (maxbytes ? maxbytes : 1) * (size_t)(nprocs < 2 ? 2 : nprocs);
    sbuf = malloc(big);
    rbuf = malloc(big);
    if (!sbuf || !rbuf) {
        fprintf(stderr, "imb: rank %d: cannot allocate 2 x %zu bytes\n", rank, big);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /* Touch every page (and use valid floats for the reductions). */
    for (size_t i = 0; i < big / sizeof(float); i++) ((float *)sbuf)[i] = 1.0f;
    memset(rbuf, 0, big);

    if (rank == 0) {
        char lib[MPI_MAX_LIBRARY_VERSION_STRING];
        int len = 0;
        MPI_Get_library_version(lib, &len);
        for (int i = 0; i < len && lib[i]; i++) /* first line only */
            if (lib[i] == '\n' || lib[i] == '\r') { lib[i] = 0; break; }
        printf("# imb nprocs=%d batches=%d scale=%g maxbytes=%zu\n", nprocs, batches, scale,
               maxbytes);
        printf("# library %s\n", lib);
        fflush(stdout);
    }

    double start = MPI_Wtime();
    for (int b = 0; b < B_COUNT; b++) {
        if (!on[b]) continue;
        if (b == B_BARRIER) {
            run(b, 0, batches, scale);
            continue;
        }
        int reduction = b == B_ALLREDUCE || b == B_REDUCE;
        for (size_t bytes = 0; bytes <= maxbytes; bytes = bytes ? bytes * 2 : 1) {
            if (bytes < minbytes) continue;
            if (reduction && bytes < 4) continue; /* whole floats only */
            run(b, bytes, batches, scale);
        }
    }
    if (rank == 0) {
        printf("# total %.3f s\n", MPI_Wtime() - start);
        fflush(stdout);
    }
    free(sbuf);
    free(rbuf);
    MPI_Finalize();
    return 0;
}
