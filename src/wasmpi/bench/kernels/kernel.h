/* Shared by the wasmpi bench compute kernels: size classes, the report line, slab halos and the
 * 27-point CSR matrix. Plain C99 + MPI so the same source builds with the host mpicc (native)
 * and with `wasmpi cc` (wasm32-wasi). Everything is static inline: each kernel is one translation
 * unit.
 *
 * Report protocol (one line, rank 0, stdout):
 *   WASMPI-BENCH kernel=NAME class=C ranks=N metric=UNIT value=X seconds=T verified=yes|no
 * The exit status is 0 only when the run verified, on every rank. */
#ifndef WASMPI_BENCH_KERNEL_H
#define WASMPI_BENCH_KERNEL_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int rank, size;
    char cls;          /* T (tiny, for tests), S, W, A, B */
    int corrupt;       /* argv[2] == "corrupt": spoil one result, to test that verification fails */
} kernel_env;

/* argv[1] is the class letter; anything else is a usage error on every rank alike. */
static inline kernel_env kernel_init(int *argc, char ***argv, const char *name,
                                     const char *classes, char dflt)
{
    kernel_env e;
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &e.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &e.size);
    e.cls = dflt;
    e.corrupt = *argc > 2 && strcmp((*argv)[2], "corrupt") == 0;
    if (*argc > 1) {
        const char *a = (*argv)[1];
        if (a[0] == '\0' || a[1] != '\0' || !strchr(classes, a[0])) {
            if (e.rank == 0)
                fprintf(stderr, "%s: unknown class '%s' (one of %s)\n", name, a, classes);
            MPI_Finalize();
            exit(2);
        }
        e.cls = a[0];
    }
    return e;
}

static inline void *kernel_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    return p;
}

/* Agrees on verification over all ranks, prints the protocol line, finalizes; returns the exit
 * status for main. `seconds` is this rank's timed region: the slowest rank's counts. */
static inline int kernel_finish(const kernel_env *e, const char *name, const char *metric,
                         double work, double seconds, int verified)
{
    int all_ok = 0;
    double tmax = 0.0;
    MPI_Allreduce(&verified, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    MPI_Allreduce(&seconds, &tmax, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (e->rank == 0) {
        printf("WASMPI-BENCH kernel=%s class=%c ranks=%d metric=%s value=%.6g seconds=%.6f "
               "verified=%s\n", name, e->cls, e->size, metric, tmax > 0 ? work / tmax : 0.0,
               tmax, all_ok ? "yes" : "no");
        fflush(stdout);
    }
    MPI_Finalize();
    if (!all_ok) {
        /* Open MPI's launcher ends a job at its first nonzero exit and drops whatever output
         * it has not yet forwarded, the report line included: give it time to */
        struct timespec pause = {0, 300 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return all_ok ? 0 : 1;
}

/* ---- 1D slab decomposition along z ------------------------------------------------------------
 * A rank owns nz planes of nx*ny points; vectors carry one ghost plane below and one above:
 * [ghost 0][owned 1..nz][ghost nz+1], each plane nx*ny values, x fastest. */

/* Fills the ghost planes from the neighbours. periodic: the ring closes (rank 0's lower ghost is
 * the last rank's top plane); otherwise the domain ends, ghosts at the ends are left alone. */
static inline void slab_halo(double *v, int plane, int nz, const kernel_env *e, int periodic)
{
    int up = e->rank + 1, down = e->rank - 1;
    if (periodic) {
        up %= e->size;
        down = (down + e->size) % e->size;
    } else {
        if (up >= e->size) up = MPI_PROC_NULL;
        if (down < 0) down = MPI_PROC_NULL;
    }
    /* top owned plane goes up, lower ghost comes from below; then the other direction */
    MPI_Sendrecv(v + (size_t)nz * plane, plane, MPI_DOUBLE, up, 1,
                 v, plane, MPI_DOUBLE, down, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Sendrecv(v + (size_t)plane, plane, MPI_DOUBLE, down, 2,
                 v + (size_t)(nz + 1) * plane, plane, MPI_DOUBLE, up, 2, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
}

/* ---- HPCG's matrix as CSR ---------------------------------------------------------------------
 * Global grid nx * ny * (nz * ranks), not periodic; row = an owned point, 26 on the diagonal and
 * -1 for each of its (up to 26) neighbours inside the global grid. Column indices address the
 * slab vector with ghosts (above), so a row's neighbours across a rank boundary read the ghost
 * planes that slab_halo fills. */
typedef struct {
    int nrows;             /* owned points */
    int64_t nnz;
    int *rowptr;           /* nrows + 1; int: the class sizes keep nnz < 2^31 */
    int *col;
    double *val;
} csr;

static inline csr csr_stencil27(int nx, int ny, int nz, const kernel_env *e)
{
    csr m;
    int plane = nx * ny, z, y, x, dz, dy, dx;
    int64_t k = 0;
    m.nrows = plane * nz;
    m.rowptr = (int *)kernel_alloc(sizeof(int) * ((size_t)m.nrows + 1));
    m.col = (int *)kernel_alloc(sizeof(int) * (size_t)m.nrows * 27);
    m.val = (double *)kernel_alloc(sizeof(double) * (size_t)m.nrows * 27);
    m.rowptr[0] = 0;
    for (z = 1; z <= nz; z++) {
        int gz = e->rank * nz + (z - 1), gnz = nz * e->size;
        for (y = 0; y < ny; y++)
            for (x = 0; x < nx; x++) {
                for (dz = -1; dz <= 1; dz++) {
                    if (gz + dz < 0 || gz + dz >= gnz) continue;
                    for (dy = -1; dy <= 1; dy++) {
                        if (y + dy < 0 || y + dy >= ny) continue;
                        for (dx = -1; dx <= 1; dx++) {
                            if (x + dx < 0 || x + dx >= nx) continue;
                            m.col[k] = (z + dz) * plane + (y + dy) * nx + (x + dx);
                            m.val[k] = (dz == 0 && dy == 0 && dx == 0) ? 26.0 : -1.0;
                            k++;
                        }
                    }
                }
                m.rowptr[(size_t)(z - 1) * plane + (size_t)y * nx + x + 1] = (int)k;
            }
    }
    m.nnz = k;
    return m;
}

/* y[i] = sum_j A[i][j] x[j] for the owned rows; x is the slab vector with ghosts, y has no
 * ghosts. The hot loop of spmv and cg. */
static inline void csr_spmv(const csr *m, const double *restrict x, double *restrict y)
{
    const int *restrict rp = m->rowptr;
    const int *restrict col = m->col;
    const double *restrict val = m->val;
    int i;
    for (i = 0; i < m->nrows; i++) {
        double s = 0.0;
        int j, end = rp[i + 1];
        for (j = rp[i]; j < end; j++) s += val[j] * x[col[j]];
        y[i] = s;
    }
}

static inline void csr_free(csr *m)
{
    free(m->rowptr);
    free(m->col);
    free(m->val);
}

/* A deterministic value in [-1, 1) for a global point index: the same on any rank count. */
static inline double hash_value(uint64_t g)
{
    g ^= g >> 33;
    g *= 0xff51afd7ed558ccdULL;
    g ^= g >> 33;
    g *= 0xc4ceb9fe1a85ec53ULL;
    g ^= g >> 33;
    return (double)(g >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

#endif
