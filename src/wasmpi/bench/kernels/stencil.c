/* stencil: sweeps of a 27-point stencil over a periodic 3D grid, 1D slabs along z.
 *
 *   stencil [T|S|W|A|B]     per rank: T 16^3 x 4 sweeps, S 32^3 x 40, W 64^3 x 40,
 *                           A 96^3 x 40 (default), B 128^3 x 40
 *
 * GFLOP/s counts 53 flops per point and sweep (27 multiplies, 26 adds), ghost filling not
 * counted; the time is the slowest rank's, halo exchange included.
 *
 * Verification, by a route that shares nothing with the sweep: the weights are symmetric
 * (w(o) = w(-o)) and the grid periodic, so the Fourier mode u0 = cos(theta . p) is an eigenvector
 * of the stencil with eigenvalue lambda = sum_o w(o) cos(theta . o). After T sweeps every point
 * must equal lambda^T u0(p), which is computed in closed form. */
#include "kernel.h"
#include <math.h>

static double weight(int dx, int dy, int dz)
{
    /* 14 distinct symmetric weights, larger near the centre; normalised to sum 1 below */
    int m = abs(dx) + abs(dy) + abs(dz), id = abs(9 * dx + 3 * dy + dz);
    return (4.0 - m) * (1.0 + 0.01 * id);
}

static void sweep(const double *restrict in, double *restrict out, const double *w,
                  int nx, int ny, int nz)
{
    const int sx = nx + 2, sp = (nx + 2) * (ny + 2);
    const double w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
                 w7 = w[7], w8 = w[8], w9 = w[9], w10 = w[10], w11 = w[11], w12 = w[12],
                 w13 = w[13], w14 = w[14], w15 = w[15], w16 = w[16], w17 = w[17], w18 = w[18],
                 w19 = w[19], w20 = w[20], w21 = w[21], w22 = w[22], w23 = w[23], w24 = w[24],
                 w25 = w[25], w26 = w[26];
    int k, j, i;
    for (k = 1; k <= nz; k++)
        for (j = 1; j <= ny; j++) {
            const double *restrict a0 = in + (size_t)(k - 1) * sp + (size_t)(j - 1) * sx;
            const double *restrict a1 = a0 + sx, *restrict a2 = a1 + sx;
            const double *restrict b0 = a0 + sp, *restrict b1 = b0 + sx, *restrict b2 = b1 + sx;
            const double *restrict c0 = b0 + sp, *restrict c1 = c0 + sx, *restrict c2 = c1 + sx;
            double *restrict o = out + (size_t)k * sp + (size_t)j * sx;
            for (i = 1; i <= nx; i++)
                o[i] = w0 * a0[i - 1] + w1 * a0[i] + w2 * a0[i + 1]
                     + w3 * a1[i - 1] + w4 * a1[i] + w5 * a1[i + 1]
                     + w6 * a2[i - 1] + w7 * a2[i] + w8 * a2[i + 1]
                     + w9 * b0[i - 1] + w10 * b0[i] + w11 * b0[i + 1]
                     + w12 * b1[i - 1] + w13 * b1[i] + w14 * b1[i + 1]
                     + w15 * b2[i - 1] + w16 * b2[i] + w17 * b2[i + 1]
                     + w18 * c0[i - 1] + w19 * c0[i] + w20 * c0[i + 1]
                     + w21 * c1[i - 1] + w22 * c1[i] + w23 * c1[i + 1]
                     + w24 * c2[i - 1] + w25 * c2[i] + w26 * c2[i + 1];
        }
}

/* periodic x and y ghosts of the owned planes; z ghosts come from the neighbours */
static void fill_ghosts(double *u, int nx, int ny, int nz, const kernel_env *e)
{
    const int sx = nx + 2, sp = (nx + 2) * (ny + 2);
    int k, j;
    for (k = 1; k <= nz; k++) {
        double *p = u + (size_t)k * sp;
        for (j = 1; j <= ny; j++) {
            p[j * sx] = p[j * sx + nx];
            p[j * sx + nx + 1] = p[j * sx + 1];
        }
        memcpy(p, p + (size_t)ny * sx, sizeof(double) * sx);
        memcpy(p + (size_t)(ny + 1) * sx, p + sx, sizeof(double) * sx);
    }
    slab_halo(u, sp, nz, e, 1);
}

int main(int argc, char **argv)
{
    kernel_env e = kernel_init(&argc, &argv, "stencil", "TSWAB", 'A');
    const double two_pi = 6.283185307179586;
    int n, sweeps, t, i, j, k, dx, dy, dz;
    switch (e.cls) {
    case 'T': n = 16; sweeps = 4; break;
    case 'S': n = 32; sweeps = 40; break;
    case 'W': n = 64; sweeps = 40; break;
    case 'B': n = 128; sweeps = 40; break;
    default: n = 96; sweeps = 40; break;
    }
    const int nx = n, ny = n, nz = n, gnz = n * e.size;
    const size_t len = (size_t)(nx + 2) * (ny + 2) * (nz + 2);
    double *u = (double *)kernel_alloc(len * sizeof(double));
    double *v = (double *)kernel_alloc(len * sizeof(double));
    double w[27], wsum = 0.0, lambda = 0.0;
    const double th[3] = {two_pi * 1 / nx, two_pi * 2 / ny, two_pi * 1 / gnz};

    /* weight order matches sweep(): dz outer, then dy, then dx */
    for (dz = -1; dz <= 1; dz++)
        for (dy = -1; dy <= 1; dy++)
            for (dx = -1; dx <= 1; dx++) wsum += weight(dx, dy, dz);
    for (dz = -1; dz <= 1; dz++)
        for (dy = -1; dy <= 1; dy++)
            for (dx = -1; dx <= 1; dx++) {
                double wi = weight(dx, dy, dz) / wsum;
                w[(dz + 1) * 9 + (dy + 1) * 3 + (dx + 1)] = wi;
                lambda += wi * cos(th[0] * dx + th[1] * dy + th[2] * dz);
            }

    memset(u, 0, len * sizeof(double));
    memset(v, 0, len * sizeof(double));
    for (k = 1; k <= nz; k++)
        for (j = 1; j <= ny; j++)
            for (i = 1; i <= nx; i++) {
                int gz = e.rank * nz + (k - 1);
                u[((size_t)k * (ny + 2) + j) * (nx + 2) + i] =
                    cos(th[0] * (i - 1) + th[1] * (j - 1) + th[2] * gz);
            }

    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (t = 0; t < sweeps; t++) {
        double *tmp;
        fill_ghosts(u, nx, ny, nz, &e);
        sweep(u, v, w, nx, ny, nz);
        tmp = u; u = v; v = tmp;
    }
    double seconds = MPI_Wtime() - t0;

    if (e.corrupt && e.rank == 0) u[((size_t)1 * (ny + 2) + 1) * (nx + 2) + 1] += 1e-6;
    double scale = pow(lambda, sweeps), err = 0.0;
    for (k = 1; k <= nz; k++)
        for (j = 1; j <= ny; j++)
            for (i = 1; i <= nx; i++) {
                int gz = e.rank * nz + (k - 1);
                double want = scale * cos(th[0] * (i - 1) + th[1] * (j - 1) + th[2] * gz);
                double d = fabs(u[((size_t)k * (ny + 2) + j) * (nx + 2) + i] - want);
                if (d > err || d != d) err = d;
            }
    int ok = err <= 1e-10 * fabs(scale);
    if (!ok) fprintf(stderr, "stencil: rank %d: max error %g (lambda^T %g)\n", e.rank, err, scale);
    free(u);
    free(v);
    return kernel_finish(&e, "stencil", "GFLOP/s",
                         53.0 * nx * ny * nz * sweeps * e.size / 1e9, seconds, ok);
}
