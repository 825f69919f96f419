/* spmv: y = A x in CSR, A = HPCG's 27-point matrix (26 on the diagonal, -1 per neighbour) on a
 * global nx * ny * (nz * ranks) grid, 1D slabs along z, halo exchange before each product.
 *
 *   spmv [T|S|W|A|B]     per rank: T 16^3 x 5 products, S 32^3 x 50, W 48^3 x 50,
 *                        A 64^3 x 50 (default), B 96^3 x 50
 *
 * GFLOP/s counts 2 flops per stored nonzero and product (HPCG's count); the time is the slowest
 * rank's, halo exchange included, matrix assembly excluded.
 *
 * Verification: x is a hash of the global point index, and every y is recomputed from the grid
 * itself (the neighbours' sum subtracted from 27 x), without the CSR arrays. */
#include "kernel.h"
#include <math.h>

int main(int argc, char **argv)
{
    kernel_env e = kernel_init(&argc, &argv, "spmv", "TSWAB", 'A');
    int n, reps, r, i, j, k, dx, dy, dz;
    switch (e.cls) {
    case 'T': n = 16; reps = 5; break;
    case 'S': n = 32; reps = 50; break;
    case 'W': n = 48; reps = 50; break;
    case 'B': n = 96; reps = 50; break;
    default: n = 64; reps = 50; break;
    }
    const int nx = n, ny = n, nz = n, plane = nx * ny, gnz = nz * e.size;
    csr m = csr_stencil27(nx, ny, nz, &e);
    double *x = (double *)kernel_alloc(sizeof(double) * (size_t)plane * (nz + 2));
    double *y = (double *)kernel_alloc(sizeof(double) * (size_t)plane * nz);
    memset(x, 0, sizeof(double) * (size_t)plane * (nz + 2));
    for (k = 1; k <= nz; k++)
        for (i = 0; i < plane; i++)
            x[(size_t)k * plane + i] =
                hash_value((uint64_t)(e.rank * nz + k - 1) * plane + (uint64_t)i);

    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (r = 0; r < reps; r++) {
        slab_halo(x, plane, nz, &e, 0);
        csr_spmv(&m, x, y);
    }
    double seconds = MPI_Wtime() - t0;

    if (e.corrupt && e.rank == 0) y[0] += 1e-9;
    double err = 0.0;
    for (k = 1; k <= nz; k++) {
        int gz = e.rank * nz + k - 1;
        for (j = 0; j < ny; j++)
            for (i = 0; i < nx; i++) {
                double s = 0.0, want, d;
                for (dz = -1; dz <= 1; dz++)
                    for (dy = -1; dy <= 1; dy++)
                        for (dx = -1; dx <= 1; dx++)
                            if (gz + dz >= 0 && gz + dz < gnz && j + dy >= 0 && j + dy < ny &&
                                i + dx >= 0 && i + dx < nx)
                                s += hash_value((uint64_t)(gz + dz) * plane +
                                                (uint64_t)(j + dy) * nx + (uint64_t)(i + dx));
                want = 27.0 * x[(size_t)k * plane + j * nx + i] - s;
                d = fabs(y[(size_t)(k - 1) * plane + j * nx + i] - want);
                if (d > err || d != d) err = d;
            }
    }
    int ok = err <= 1e-12 * 54.0;
    if (!ok) fprintf(stderr, "spmv: rank %d: max error %g\n", e.rank, err);
    double nnz = (double)m.nnz, gnnz = 0.0;
    MPI_Allreduce(&nnz, &gnnz, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    csr_free(&m);
    free(x);
    free(y);
    return kernel_finish(&e, "spmv", "GFLOP/s", 2.0 * gnnz * reps / 1e9, seconds, ok);
}
