/* Collectives: every implemented collective (with MPI_IN_PLACE where the standard allows it),
 * then MPI_Allreduce over every predefined C datatype with every predefined operation that
 * applies to it, each result checked against a local computation. Runs on any number of ranks
 * up to 4 (the value patterns keep products inside int8). Exits nonzero after printing every
 * mismatch. */
#include <complex.h>
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size, nerr, ncombos;

#include "check_count.h"

/* ---- every collective ----------------------------------------------------------------- */

static void bcast_reduce(void)
{
    int v[5];
    for (int root = 0; root < size; root += size - 1 > 0 ? size - 1 : 1) {
        for (int i = 0; i < 5; i++) v[i] = rank == root ? 10 * root + i : -1;
        OK(MPI_Bcast(v, 5, MPI_INT, root, MPI_COMM_WORLD));
        for (int i = 0; i < 5; i++) CHECK(v[i] == 10 * root + i, "Bcast root %d v[%d]=%d", root, i, v[i]);
    }
    int s[3] = {rank, rank * rank, 1}, r[3] = {-1, -1, -1};
    int sum_r = size * (size - 1) / 2, sum_r2 = (size - 1) * size * (2 * size - 1) / 6;
    int root = size - 1;
    OK(MPI_Reduce(s, r, 3, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD));
    if (rank == root)
        CHECK(r[0] == sum_r && r[1] == sum_r2 && r[2] == size, "Reduce %d %d %d", r[0], r[1], r[2]);
    else
        CHECK(r[0] == -1, "Reduce wrote the receive buffer on a non-root");
    /* MPI_IN_PLACE at the root */
    int ip[3] = {rank, rank * rank, 1};
    OK(MPI_Reduce(rank == 0 ? MPI_IN_PLACE : ip, rank == 0 ? ip : NULL, 3, MPI_INT, MPI_MAX, 0,
                  MPI_COMM_WORLD));
    if (rank == 0)
        CHECK(ip[0] == size - 1 && ip[1] == (size - 1) * (size - 1) && ip[2] == 1, "Reduce in place");
    double d[2] = {rank + 0.5, -rank}, e[2];
    OK(MPI_Allreduce(d, e, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
    CHECK(e[0] == sum_r + 0.5 * size && e[1] == -sum_r, "Allreduce %g %g", e[0], e[1]);
    OK(MPI_Allreduce(MPI_IN_PLACE, d, 2, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD));
    CHECK(d[0] == 0.5 && d[1] == -(size - 1), "Allreduce in place %g %g", d[0], d[1]);
    OK(MPI_Barrier(MPI_COMM_WORLD));
}

static void gather_scatter(void)
{
    int root = size > 1 ? 1 : 0;
    int s[2] = {rank * 2, rank * 2 + 1};
    int *g = malloc(2 * size * sizeof(int));
    for (int i = 0; i < 2 * size; i++) g[i] = -1;
    OK(MPI_Gather(s, 2, MPI_INT, g, 2, MPI_INT, root, MPI_COMM_WORLD));
    if (rank == root)
        for (int i = 0; i < 2 * size; i++) CHECK(g[i] == i, "Gather g[%d]=%d", i, g[i]);
    /* in place: the root's contribution is already at its slot */
    for (int i = 0; i < 2 * size; i++) g[i] = rank == root && i / 2 == root ? 100 + i : -1;
    OK(MPI_Gather(rank == root ? MPI_IN_PLACE : s, 2, MPI_INT, g, 2, MPI_INT, root,
                  MPI_COMM_WORLD));
    if (rank == root)
        for (int i = 0; i < 2 * size; i++)
            CHECK(g[i] == (i / 2 == root ? 100 + i : i), "Gather in place g[%d]=%d", i, g[i]);

    /* Scatter from the root: 2 per rank */
    for (int i = 0; i < 2 * size; i++) g[i] = rank == root ? 3 * i : -1;
    int r[2] = {-1, -1};
    OK(MPI_Scatter(g, 2, MPI_INT, r, 2, MPI_INT, root, MPI_COMM_WORLD));
    CHECK(r[0] == 6 * rank && r[1] == 6 * rank + 3, "Scatter %d %d", r[0], r[1]);
    r[0] = r[1] = -1;
    OK(MPI_Scatter(g, 2, MPI_INT, rank == root ? MPI_IN_PLACE : r, 2, MPI_INT, root,
                   MPI_COMM_WORLD));
    if (rank != root)
        CHECK(r[0] == 6 * rank && r[1] == 6 * rank + 3, "Scatter (in place root) %d", r[0]);
    else
        CHECK(r[0] == -1 && g[2 * root] == 6 * root, "Scatter in place touched the root");
    free(g);

    /* Gatherv / Scatterv: rank i has i+1 ints, placed with a gap of 1 between blocks */
    int *counts = malloc(size * sizeof(int)), *displs = malloc(size * sizeof(int));
    int total = 0;
    for (int i = 0; i < size; i++) {
        counts[i] = i + 1;
        displs[i] = total;
        total += i + 2;
    }
    int *vb = malloc(total * sizeof(int)), mine[8];
    for (int k = 0; k <= rank; k++) mine[k] = 1000 * rank + k;
    for (int i = 0; i < total; i++) vb[i] = -7;
    OK(MPI_Gatherv(mine, rank + 1, MPI_INT, vb, counts, displs, MPI_INT, root, MPI_COMM_WORLD));
    if (rank == root)
        for (int i = 0; i < size; i++) {
            for (int k = 0; k < counts[i]; k++)
                CHECK(vb[displs[i] + k] == 1000 * i + k, "Gatherv from %d [%d]=%d", i, k,
                      vb[displs[i] + k]);
            CHECK(vb[displs[i] + counts[i]] == -7, "Gatherv wrote the gap after %d", i);
        }
    if (rank == root)
        for (int k = 0; k <= root; k++) vb[displs[root] + k] = 5000 + k;
    OK(MPI_Gatherv(rank == root ? MPI_IN_PLACE : mine, rank + 1, MPI_INT, vb, counts, displs,
                   MPI_INT, root, MPI_COMM_WORLD));
    if (rank == root)
        for (int i = 0; i < size; i++)
            for (int k = 0; k < counts[i]; k++)
                CHECK(vb[displs[i] + k] == (i == root ? 5000 + k : 1000 * i + k),
                      "Gatherv in place from %d", i);
    /* Scatterv the same layout back */
    if (rank == root)
        for (int i = 0; i < size; i++)
            for (int k = 0; k < counts[i]; k++) vb[displs[i] + k] = 77 * i + k;
    int got[8];
    for (int k = 0; k < 8; k++) got[k] = -1;
    OK(MPI_Scatterv(vb, counts, displs, MPI_INT, got, rank + 1, MPI_INT, root, MPI_COMM_WORLD));
    for (int k = 0; k <= rank; k++) CHECK(got[k] == 77 * rank + k, "Scatterv got[%d]=%d", k, got[k]);
    CHECK(got[rank + 1] == -1, "Scatterv wrote past the count");
    for (int k = 0; k < 8; k++) got[k] = -1;
    OK(MPI_Scatterv(vb, counts, displs, MPI_INT, rank == root ? MPI_IN_PLACE : got, rank + 1,
                    MPI_INT, root, MPI_COMM_WORLD));
    if (rank != root)
        for (int k = 0; k <= rank; k++) CHECK(got[k] == 77 * rank + k, "Scatterv (ip) got[%d]", k);
    free(vb);
    free(counts);
    free(displs);
    OK(MPI_Barrier(MPI_COMM_WORLD));
}

static void allgather_alltoall(void)
{
    int n = size;
    int *buf = malloc(3 * n * sizeof(int)), s[3] = {rank, -rank, 7};
    for (int i = 0; i < 3 * n; i++) buf[i] = -99;
    OK(MPI_Allgather(s, 3, MPI_INT, buf, 3, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < n; i++)
        CHECK(buf[3 * i] == i && buf[3 * i + 1] == -i && buf[3 * i + 2] == 7, "Allgather from %d", i);
    for (int i = 0; i < 3 * n; i++) buf[i] = i / 3 == rank ? 40 + i : -99;
    OK(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, 3, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < 3 * n; i++) CHECK(buf[i] == 40 + i, "Allgather in place [%d]=%d", i, buf[i]);

    /* Allgatherv: rank i contributes i+1 ints at displacement in reverse order */
    int *counts = malloc(n * sizeof(int)), *displs = malloc(n * sizeof(int)), total = 0;
    for (int i = n - 1; i >= 0; i--) {
        counts[i] = i + 1;
        displs[i] = total;
        total += i + 1;
    }
    int *vb = malloc(total * sizeof(int)), mine[8];
    for (int k = 0; k <= rank; k++) mine[k] = 100 * rank + k;
    for (int i = 0; i < total; i++) vb[i] = -1;
    OK(MPI_Allgatherv(mine, rank + 1, MPI_INT, vb, counts, displs, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < n; i++)
        for (int k = 0; k < counts[i]; k++)
            CHECK(vb[displs[i] + k] == 100 * i + k, "Allgatherv from %d [%d]", i, k);
    for (int i = 0; i < total; i++) vb[i] = -1;
    for (int k = 0; k <= rank; k++) vb[displs[rank] + k] = 100 * rank + k + 1;
    OK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, vb, counts, displs, MPI_INT,
                      MPI_COMM_WORLD));
    for (int i = 0; i < n; i++)
        for (int k = 0; k < counts[i]; k++)
            CHECK(vb[displs[i] + k] == 100 * i + k + 1, "Allgatherv in place from %d [%d]", i, k);
    free(vb);

    /* Alltoall: element (i -> j) = 100*i + j, two per pair */
    int *sa = malloc(2 * n * sizeof(int)), *ra = malloc(2 * n * sizeof(int));
    for (int j = 0; j < n; j++) {
        sa[2 * j] = 100 * rank + j;
        sa[2 * j + 1] = -(100 * rank + j);
        ra[2 * j] = ra[2 * j + 1] = -1;
    }
    OK(MPI_Alltoall(sa, 2, MPI_INT, ra, 2, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < n; i++)
        CHECK(ra[2 * i] == 100 * i + rank && ra[2 * i + 1] == -(100 * i + rank), "Alltoall from %d", i);
    OK(MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, sa, 2, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < n; i++)
        CHECK(sa[2 * i] == 100 * i + rank && sa[2 * i + 1] == -(100 * i + rank),
              "Alltoall in place from %d", i);

    /* Alltoallv: rank i sends j+1 ints to rank j (value 1000*i + 10*j + k) */
    int *sc = malloc(n * sizeof(int)), *sd = malloc(n * sizeof(int));
    int *rc = malloc(n * sizeof(int)), *rd = malloc(n * sizeof(int));
    int stot = 0, rtot = 0;
    for (int j = 0; j < n; j++) {
        sc[j] = j + 1; sd[j] = stot; stot += j + 1;
        rc[j] = rank + 1; rd[j] = rtot; rtot += rank + 1 + 1; /* gap of one */
    }
    int *sv = malloc(stot * sizeof(int)), *rv = malloc(rtot * sizeof(int));
    for (int j = 0; j < n; j++)
        for (int k = 0; k < sc[j]; k++) sv[sd[j] + k] = 1000 * rank + 10 * j + k;
    for (int i = 0; i < rtot; i++) rv[i] = -5;
    OK(MPI_Alltoallv(sv, sc, sd, MPI_INT, rv, rc, rd, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < rc[i]; k++)
            CHECK(rv[rd[i] + k] == 1000 * i + 10 * rank + k, "Alltoallv from %d [%d]=%d", i, k,
                  rv[rd[i] + k]);
        CHECK(rv[rd[i] + rc[i]] == -5, "Alltoallv wrote the gap after %d", i);
    }
    /* in place (symmetric counts): send counts and displacements are ignored, pass NULL */
    int *ic = malloc(n * sizeof(int)), *id = malloc(n * sizeof(int));
    int *iv = malloc(2 * n * sizeof(int));
    for (int j = 0; j < n; j++) {
        ic[j] = 2; id[j] = 2 * j;
        iv[2 * j] = 10 * rank + j; iv[2 * j + 1] = 7;
    }
    OK(MPI_Alltoallv(MPI_IN_PLACE, NULL, NULL, MPI_DATATYPE_NULL, iv, ic, id, MPI_INT,
                     MPI_COMM_WORLD));
    for (int i = 0; i < n; i++)
        CHECK(iv[2 * i] == 10 * i + rank && iv[2 * i + 1] == 7, "Alltoallv in place from %d", i);
    free(buf); free(counts); free(displs); free(sa); free(ra); free(sc); free(sd); free(rc);
    free(rd); free(sv); free(rv); free(ic); free(id); free(iv);
    OK(MPI_Barrier(MPI_COMM_WORLD));
}

static void reduce_scatter_scan(void)
{
    int n = size;
    /* Reduce_scatter: rank j receives counts[j] = j+1 sums; element e of the full vector on
     * rank r is r + e, so its sum is n*e + n(n-1)/2 */
    int *counts = malloc(n * sizeof(int)), total = 0, off = 0;
    for (int j = 0; j < n; j++) { counts[j] = j + 1; total += j + 1; }
    for (int j = 0; j < rank; j++) off += counts[j];
    int *full = malloc(total * sizeof(int)), out[8];
    int tri = n * (n - 1) / 2;
    for (int e = 0; e < total; e++) full[e] = rank + e;
    for (int k = 0; k < 8; k++) out[k] = -1;
    OK(MPI_Reduce_scatter(full, out, counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    for (int k = 0; k < counts[rank]; k++)
        CHECK(out[k] == n * (off + k) + tri, "Reduce_scatter out[%d]=%d", k, out[k]);
    CHECK(out[counts[rank]] == -1, "Reduce_scatter wrote past its count");
    OK(MPI_Reduce_scatter(MPI_IN_PLACE, full, counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    for (int k = 0; k < counts[rank]; k++)
        CHECK(full[k] == n * (off + k) + tri, "Reduce_scatter in place [%d]=%d", k, full[k]);

    /* Reduce_scatter_block: 2 per rank */
    int *fb = malloc(2 * n * sizeof(int)), ob[2] = {-1, -1};
    for (int e = 0; e < 2 * n; e++) fb[e] = rank * e;
    OK(MPI_Reduce_scatter_block(fb, ob, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    for (int k = 0; k < 2; k++)
        CHECK(ob[k] == tri * (2 * rank + k), "Reduce_scatter_block [%d]=%d", k, ob[k]);
    OK(MPI_Reduce_scatter_block(MPI_IN_PLACE, fb, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
    for (int k = 0; k < 2; k++)
        CHECK(fb[k] == (n - 1) * (2 * rank + k), "Reduce_scatter_block in place [%d]=%d", k, fb[k]);

    /* Scan / Exscan */
    long s[2] = {rank + 1, 2}, r[2] = {-1, -1};
    OK(MPI_Scan(s, r, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
    CHECK(r[0] == (long)(rank + 1) * (rank + 2) / 2 && r[1] == 2 * (rank + 1), "Scan %ld %ld", r[0], r[1]);
    OK(MPI_Scan(MPI_IN_PLACE, s, 2, MPI_LONG, MPI_PROD, MPI_COMM_WORLD));
    long fact = 1;
    for (int i = 1; i <= rank + 1; i++) fact *= i;
    CHECK(s[0] == fact && s[1] == 1L << (rank + 1), "Scan in place %ld %ld", s[0], s[1]);
    int x = rank + 1, y = -12345;
    OK(MPI_Exscan(&x, &y, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    if (rank > 0) CHECK(y == rank * (rank + 1) / 2, "Exscan %d", y);
    OK(MPI_Exscan(MPI_IN_PLACE, &x, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
    if (rank > 0) CHECK(x == rank, "Exscan in place %d", x);
    free(counts); free(full); free(fb);
    OK(MPI_Barrier(MPI_COMM_WORLD));
}

/* ---- Allreduce over every predefined type x op ---------------------------------------- */

enum { SUM, PROD, MIN, MAX, LAND, LOR, LXOR, BAND, BOR, BXOR, NOPS };
static const char *opname[NOPS] = {"SUM", "PROD", "MIN", "MAX", "LAND", "LOR", "LXOR",
                                   "BAND", "BOR", "BXOR"};
static MPI_Op mpiop(int op)
{
    MPI_Op ops[NOPS] = {MPI_SUM, MPI_PROD, MPI_MIN, MPI_MAX, MPI_LAND, MPI_LOR, MPI_LXOR,
                        MPI_BAND, MPI_BOR, MPI_BXOR};
    return ops[op];
}

#define NE 4 /* elements per reduction */

/* Integer types: arithmetic, logical and bitwise ops. Values keep signed results in range:
 * |v| <= 3 for SUM/PROD (3^4 = 81 fits int8), type extremes for MIN/MAX. */
#define INT_TEST(NAME, T, UT, SIGNED, FIRST_OP)                                                 \
    static void allreduce_##NAME(MPI_Datatype dt, const char *dtname)                          \
    {                                                                                          \
        const UT umax = (UT)~(UT)0;                                                            \
        const T tmax = SIGNED ? (T)(umax >> 1) : (T)umax;                                      \
        const T tmin = SIGNED ? (T)(-tmax - 1) : (T)0;                                         \
        const int bits = (int)(8 * sizeof(T));                                                 \
        for (int op = FIRST_OP; op < NOPS; op++) {                                             \
            T in[NE], out[NE], exp[NE];                                                        \
            for (int r = 0; r < size; r++)                                                     \
                for (int j = 0; j < NE; j++) {                                                 \
                    T v;                                                                       \
                    if (op <= PROD)                                                            \
                        v = (T)((SIGNED && r % 2 ? -1 : 1) * (1 + (r + j) % 3));               \
                    else if (op <= MAX)                                                        \
                        v = j == 3 ? (r % 2 ? (T)(tmin + r) : (T)(tmax - r))                   \
                                   : (T)((SIGNED ? -2 : 1) + (r * 3 + j) % 5);                 \
                    else if (op <= LXOR)                                                       \
                        v = j == 0 ? 0 : j == 3 ? (T)(r + 1)                                   \
                                   : (T)((r + j) % 2 ? j + 1 : 0);                             \
                    else                                                                       \
                        v = (T)((UT)(0xA5u ^ (unsigned)(r * 0x3C) ^ (unsigned)(j * 0x11)) |    \
                                ((UT)1 << (bits - 1 - (r + j) % 8)));                          \
                    if (r == rank) in[j] = v;                                                  \
                    if (r == 0) { exp[j] = v; continue; }                                      \
                    T e = exp[j];                                                              \
                    switch (op) {                                                              \
                    case SUM: e = (T)(e + v); break;                                           \
                    case PROD: e = (T)(e * v); break;                                          \
                    case MIN: e = v < e ? v : e; break;                                        \
                    case MAX: e = v > e ? v : e; break;                                        \
                    case LAND: e = (T)(e && v); break;                                         \
                    case LOR: e = (T)(e || v); break;                                          \
                    case LXOR: e = (T)(!e != !v); break;                                       \
                    case BAND: e = (T)(e & v); break;                                          \
                    case BOR: e = (T)(e | v); break;                                           \
                    case BXOR: e = (T)(e ^ v); break;                                          \
                    }                                                                          \
                    exp[j] = e;                                                                \
                }                                                                              \
            /* one rank: an MPI may return the input as it is (MPICH) or apply the op */     \
            int lone = size == 1 && op >= LAND && op <= LXOR;                                  \
            if (lone)                                                                          \
                for (int j = 0; j < NE; j++) exp[j] = (T)(exp[j] != 0);                        \
            memset(out, 0x5c, sizeof out);                                                     \
            int rc = MPI_Allreduce(in, out, NE, dt, mpiop(op), MPI_COMM_WORLD);                \
            ncombos++;                                                                         \
            if (rc != MPI_SUCCESS) {                                                           \
                FAIL("Allreduce %s %s returned %d", dtname, opname[op], rc);                   \
                continue;                                                                      \
            }                                                                                  \
            for (int j = 0; j < NE; j++)                                                       \
                if (out[j] != exp[j] && !(lone && out[j] == in[j]))                            \
                    FAIL("Allreduce %s %s [%d]: got %lld (0x%llx) expected %lld (0x%llx)",     \
                         dtname, opname[op], j, (long long)out[j],                             \
                         (unsigned long long)(UT)out[j], (long long)exp[j],                    \
                         (unsigned long long)(UT)exp[j]);                                      \
        }                                                                                      \
    }

INT_TEST(schar, signed char, unsigned char, 1, SUM)
INT_TEST(uchar, unsigned char, unsigned char, 0, SUM)
INT_TEST(short, short, unsigned short, 1, SUM)
INT_TEST(ushort, unsigned short, unsigned short, 0, SUM)
INT_TEST(int, int, unsigned, 1, SUM)
INT_TEST(uint, unsigned, unsigned, 0, SUM)
INT_TEST(long, long, unsigned long, 1, SUM)
INT_TEST(ulong, unsigned long, unsigned long, 0, SUM)
INT_TEST(llong, long long, unsigned long long, 1, SUM)
INT_TEST(ullong, unsigned long long, unsigned long long, 0, SUM)
INT_TEST(i8, int8_t, uint8_t, 1, SUM)
INT_TEST(u8, uint8_t, uint8_t, 0, SUM)
INT_TEST(i16, int16_t, uint16_t, 1, SUM)
INT_TEST(u16, uint16_t, uint16_t, 0, SUM)
INT_TEST(i32, int32_t, uint32_t, 1, SUM)
INT_TEST(u32, uint32_t, uint32_t, 0, SUM)
INT_TEST(i64, int64_t, uint64_t, 1, SUM)
INT_TEST(u64, uint64_t, uint64_t, 0, SUM)
INT_TEST(aint, MPI_Aint, size_t, 1, SUM)
INT_TEST(offset, MPI_Offset, uint64_t, 1, SUM)
INT_TEST(count, MPI_Count, uint64_t, 1, SUM)

/* C_BOOL: logical ops only. */
static void allreduce_bool(MPI_Datatype dt, const char *dtname)
{
    for (int op = LAND; op <= LXOR; op++) {
        bool in[NE], out[NE], exp[NE];
        for (int j = 0; j < NE; j++) {
            int acc = op == LAND ? 1 : 0;
            for (int r = 0; r < size; r++) {
                bool v = j == 0 ? 0 : j == 3 ? 1 : (r + j) % 2;
                if (r == rank) in[j] = v;
                acc = op == LAND ? acc && v : op == LOR ? acc || v : acc ^ v;
            }
            exp[j] = acc;
        }
        memset(out, 0, sizeof out);
        int rc = MPI_Allreduce(in, out, NE, dt, mpiop(op), MPI_COMM_WORLD);
        ncombos++;
        if (rc != MPI_SUCCESS) {
            FAIL("Allreduce %s %s returned %d", dtname, opname[op], rc);
            continue;
        }
        for (int j = 0; j < NE; j++)
            CHECK(out[j] == exp[j], "Allreduce %s %s [%d]: got %d expected %d", dtname,
                  opname[op], j, out[j], exp[j]);
    }
}

/* MPI_BYTE: bitwise ops only. */
static void allreduce_byte(void)
{
    for (int op = BAND; op <= BXOR; op++) {
        unsigned char in[NE], out[NE], exp[NE];
        for (int j = 0; j < NE; j++)
            for (int r = 0; r < size; r++) {
                unsigned char v = (unsigned char)(0x5Au ^ (r * 0x27u) ^ (j << 5));
                if (r == rank) in[j] = v;
                exp[j] = r == 0 ? v : op == BAND ? exp[j] & v : op == BOR ? exp[j] | v : exp[j] ^ v;
            }
        int rc = MPI_Allreduce(in, out, NE, MPI_BYTE, mpiop(op), MPI_COMM_WORLD);
        ncombos++;
        if (rc != MPI_SUCCESS) {
            FAIL("Allreduce MPI_BYTE %s returned %d", opname[op], rc);
            continue;
        }
        for (int j = 0; j < NE; j++)
            CHECK(out[j] == exp[j], "Allreduce MPI_BYTE %s [%d]: %d != %d", opname[op], j, out[j], exp[j]);
    }
}

/* Floating point: SUM PROD MIN MAX; small integers and halves are exact in any order. */
#define FLOAT_TEST(NAME, T, BIG)                                                               \
    static void allreduce_##NAME(MPI_Datatype dt, const char *dtname)                          \
    {                                                                                          \
        for (int op = SUM; op <= MAX; op++) {                                                  \
            T in[NE], out[NE], exp[NE];                                                        \
            for (int r = 0; r < size; r++)                                                     \
                for (int j = 0; j < NE; j++) {                                                 \
                    T v = op <= PROD ? (T)((r % 2 ? -1 : 1) * (1 + (r + j) % 3) * 0.5)         \
                                     : j == 3 ? (T)(r % 2 ? -(BIG) * (r + 1) : (BIG) * (r + 1)) \
                                              : (T)((r - 1.5) * (j + 1) * 0.25);               \
                    if (r == rank) in[j] = v;                                                  \
                    if (r == 0) { exp[j] = v; continue; }                                      \
                    T e = exp[j];                                                              \
                    exp[j] = op == SUM ? e + v : op == PROD ? e * v : op == MIN ? (v < e ? v : e) \
                                                                   : (v > e ? v : e);          \
                }                                                                              \
            int rc = MPI_Allreduce(in, out, NE, dt, mpiop(op), MPI_COMM_WORLD);                \
            ncombos++;                                                                         \
            if (rc != MPI_SUCCESS) {                                                           \
                FAIL("Allreduce %s %s returned %d", dtname, opname[op], rc);                   \
                continue;                                                                      \
            }                                                                                  \
            for (int j = 0; j < NE; j++)                                                       \
                CHECK(out[j] == exp[j], "Allreduce %s %s [%d]: got %g expected %g", dtname,    \
                      opname[op], j, (double)out[j], (double)exp[j]);                          \
        }                                                                                      \
    }
FLOAT_TEST(float, float, 1e30f)
FLOAT_TEST(double, double, 1e300)

/* Complex: SUM and PROD (Gaussian integers stay exact). */
#define COMPLEX_TEST(NAME, T, R)                                                               \
    static void allreduce_##NAME(MPI_Datatype dt, const char *dtname)                          \
    {                                                                                          \
        for (int op = SUM; op <= PROD; op++) {                                                 \
            T in[NE], out[NE], exp[NE];                                                        \
            for (int r = 0; r < size; r++)                                                     \
                for (int j = 0; j < NE; j++) {                                                 \
                    T v = (R)(1 + (r + j) % 2) + (R)((r + j) % 3 - 1) * I;                     \
                    if (r == rank) in[j] = v;                                                  \
                    exp[j] = r == 0 ? v : op == SUM ? exp[j] + v : exp[j] * v;                 \
                }                                                                              \
            int rc = MPI_Allreduce(in, out, NE, dt, mpiop(op), MPI_COMM_WORLD);                \
            ncombos++;                                                                         \
            if (rc != MPI_SUCCESS) {                                                           \
                FAIL("Allreduce %s %s returned %d", dtname, opname[op], rc);                   \
                continue;                                                                      \
            }                                                                                  \
            for (int j = 0; j < NE; j++)                                                       \
                CHECK(out[j] == exp[j], "Allreduce %s %s [%d]: got %g%+gi expected %g%+gi",    \
                      dtname, opname[op], j, (double)creal(out[j]), (double)cimag(out[j]),     \
                      (double)creal(exp[j]), (double)cimag(exp[j]));                           \
        }                                                                                      \
    }
COMPLEX_TEST(cfloat, float _Complex, float)
COMPLEX_TEST(cdouble, double _Complex, double)

/* MINLOC / MAXLOC over value-index pairs; ties resolve to the lower index. */
#define LOC_TEST(NAME, T)                                                                      \
    static void allreduce_##NAME(MPI_Datatype dt, const char *dtname)                          \
    {                                                                                          \
        struct { T v; int i; } in[NE], out[NE], exp[NE];                                       \
        for (int op = 0; op < 2; op++) {                                                       \
            for (int r = 0; r < size; r++)                                                     \
                for (int j = 0; j < NE; j++) {                                                 \
                    /* j == 0: all equal (tie); others vary with r */                          \
                    T v = (T)(j == 0 ? 3 : ((r * 7 + j * 3) % 5) - 2);                         \
                    int idx = 10 * r + j;                                                      \
                    if (r == rank) { in[j].v = v; in[j].i = idx; }                             \
                    if (r == 0) { exp[j].v = v; exp[j].i = idx; continue; }                    \
                    int better = op == 0 ? v < exp[j].v : v > exp[j].v;                        \
                    if (better || (v == exp[j].v && idx < exp[j].i)) {                         \
                        exp[j].v = v; exp[j].i = idx;                                          \
                    }                                                                          \
                }                                                                              \
            int rc = MPI_Allreduce(in, out, NE, dt, op == 0 ? MPI_MINLOC : MPI_MAXLOC,         \
                                   MPI_COMM_WORLD);                                            \
            ncombos++;                                                                         \
            if (rc != MPI_SUCCESS) {                                                           \
                FAIL("Allreduce %s %s returned %d", dtname, op ? "MAXLOC" : "MINLOC", rc);     \
                continue;                                                                      \
            }                                                                                  \
            for (int j = 0; j < NE; j++)                                                       \
                CHECK(out[j].v == exp[j].v && out[j].i == exp[j].i,                            \
                      "Allreduce %s %s [%d]: got (%g, %d) expected (%g, %d)", dtname,          \
                      op ? "MAXLOC" : "MINLOC", j, (double)out[j].v, out[j].i,                 \
                      (double)exp[j].v, exp[j].i);                                             \
        }                                                                                      \
    }
LOC_TEST(two_int, int)
LOC_TEST(float_int, float)
LOC_TEST(double_int, double)
LOC_TEST(long_int, long)
LOC_TEST(short_int, short)

#define T_(fn, dt) fn(dt, #dt)

static void allreduce_all(void)
{
    T_(allreduce_schar, MPI_SIGNED_CHAR);
    T_(allreduce_uchar, MPI_UNSIGNED_CHAR);
    T_(allreduce_short, MPI_SHORT);
    T_(allreduce_ushort, MPI_UNSIGNED_SHORT);
    T_(allreduce_int, MPI_INT);
    T_(allreduce_uint, MPI_UNSIGNED);
    T_(allreduce_long, MPI_LONG);
    T_(allreduce_ulong, MPI_UNSIGNED_LONG);
    T_(allreduce_llong, MPI_LONG_LONG);
    T_(allreduce_llong, MPI_LONG_LONG_INT);
    T_(allreduce_ullong, MPI_UNSIGNED_LONG_LONG);
    T_(allreduce_i8, MPI_INT8_T);
    T_(allreduce_u8, MPI_UINT8_T);
    T_(allreduce_i16, MPI_INT16_T);
    T_(allreduce_u16, MPI_UINT16_T);
    T_(allreduce_i32, MPI_INT32_T);
    T_(allreduce_u32, MPI_UINT32_T);
    T_(allreduce_i64, MPI_INT64_T);
    T_(allreduce_u64, MPI_UINT64_T);
    T_(allreduce_aint, MPI_AINT);
    T_(allreduce_offset, MPI_OFFSET);
    T_(allreduce_count, MPI_COUNT);
    T_(allreduce_bool, MPI_C_BOOL);
    allreduce_byte();
    T_(allreduce_float, MPI_FLOAT);
    T_(allreduce_double, MPI_DOUBLE);
    T_(allreduce_cfloat, MPI_C_FLOAT_COMPLEX);
    T_(allreduce_cfloat, MPI_C_COMPLEX);
    T_(allreduce_cdouble, MPI_C_DOUBLE_COMPLEX);
    T_(allreduce_cfloat, MPI_CXX_FLOAT_COMPLEX);
    T_(allreduce_cdouble, MPI_CXX_DOUBLE_COMPLEX);
    T_(allreduce_bool, MPI_CXX_BOOL);
    T_(allreduce_two_int, MPI_2INT);
    T_(allreduce_float_int, MPI_FLOAT_INT);
    T_(allreduce_double_int, MPI_DOUBLE_INT);
    T_(allreduce_long_int, MPI_LONG_INT);
    T_(allreduce_short_int, MPI_SHORT_INT);
}

/* ---- predefined operations ----------------------------------------------------------- */

static void predefined_ops(void)
{
    /* every predefined reduction is commutative (MPI-3.1 5.9.2), so MPI may reorder it */
    MPI_Op ops[] = {MPI_MAX, MPI_MIN, MPI_SUM, MPI_PROD, MPI_LAND, MPI_BAND, MPI_LOR,
                    MPI_BOR, MPI_LXOR, MPI_BXOR, MPI_MINLOC, MPI_MAXLOC};
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        int commute = -1;
        OK(MPI_Op_commutative(ops[i], &commute));
        CHECK(commute == 1, "Op_commutative(ops[%u]) = %d", i, commute);
    }
}

/* ---- types moved as bytes: long double (binary128 in the guest) ------------------------ */

static void long_double(void)
{
    long double ld[3];
    long double _Complex lc[2];
    struct { long double v; int i; } li[2];
    int sz;
    OK(MPI_Type_size(MPI_LONG_DOUBLE, &sz));
    CHECK(sz == (int)sizeof(long double), "MPI_LONG_DOUBLE size %d vs %d", sz, (int)sizeof(long double));
    OK(MPI_Type_size(MPI_C_LONG_DOUBLE_COMPLEX, &sz));
    CHECK(sz == (int)sizeof(long double _Complex), "MPI_C_LONG_DOUBLE_COMPLEX size %d", sz);
    for (int i = 0; i < 3; i++) ld[i] = rank == 0 ? 1.0L / 3 + i * 1e-25L : 0;
    for (int i = 0; i < 2; i++) {
        lc[i] = rank == 0 ? (1.0L / 7 + i) + (2.0L / 9) * I : 0;
        li[i].v = rank == 0 ? 2.0L / 3 + i : 0;
        li[i].i = rank == 0 ? 40 + i : -1;
    }
    OK(MPI_Bcast(ld, 3, MPI_LONG_DOUBLE, 0, MPI_COMM_WORLD));
    OK(MPI_Bcast(lc, 2, MPI_C_LONG_DOUBLE_COMPLEX, 0, MPI_COMM_WORLD));
    OK(MPI_Bcast(li, 2, MPI_LONG_DOUBLE_INT, 0, MPI_COMM_WORLD));
    for (int i = 0; i < 3; i++)
        CHECK(ld[i] == 1.0L / 3 + i * 1e-25L, "Bcast MPI_LONG_DOUBLE [%d] = %Lg", i, ld[i]);
    for (int i = 0; i < 2; i++) {
        CHECK(lc[i] == (1.0L / 7 + i) + (2.0L / 9) * I, "Bcast MPI_C_LONG_DOUBLE_COMPLEX [%d]", i);
        CHECK(li[i].v == 2.0L / 3 + i && li[i].i == 40 + i, "Bcast MPI_LONG_DOUBLE_INT [%d]: %Lg %d",
              i, li[i].v, li[i].i);
    }
    /* every predefined op the standard defines on them works (the host has no binary128:
     * the bridge computes these), with exact binary128 results */
    long double x[3], out[3];
    for (int i = 0; i < 3; i++)
        x[i] = (rank + 1) * (1.0L / 3) + i * 1e-25L;
    OK(MPI_Allreduce(x, out, 3, MPI_LONG_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
    for (int i = 0; i < 3; i++) {
        long double want = 0;
        for (int r = 0; r < size; r++)
            want += (r + 1) * (1.0L / 3) + i * 1e-25L;
        CHECK(out[i] == want, "Allreduce SUM MPI_LONG_DOUBLE [%d] = %.30Lg, want %.30Lg", i,
              out[i], want);
    }
    OK(MPI_Allreduce(x, out, 3, MPI_LONG_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    CHECK(out[1] == size * (1.0L / 3) + 1e-25L, "Allreduce MAX MPI_LONG_DOUBLE = %.30Lg", out[1]);
    OK(MPI_Allreduce(x, out, 3, MPI_LONG_DOUBLE, MPI_MIN, MPI_COMM_WORLD));
    CHECK(out[2] == 1.0L / 3 + 2e-25L, "Allreduce MIN MPI_LONG_DOUBLE = %.30Lg", out[2]);
    long double p = rank == 0 ? 1.5L : 2.0L, prod = 0;
    OK(MPI_Reduce(&p, &prod, 1, MPI_LONG_DOUBLE, MPI_PROD, 0, MPI_COMM_WORLD));
    if (rank == 0) {
        long double want = 1.5L;
        for (int r = 1; r < size; r++) want *= 2.0L;
        CHECK(prod == want, "Reduce PROD MPI_LONG_DOUBLE = %Lg, want %Lg", prod, want);
    }
    long double _Complex z = (rank + 1) + 2.0L * I, zs;
    OK(MPI_Allreduce(&z, &zs, 1, MPI_C_LONG_DOUBLE_COMPLEX, MPI_SUM, MPI_COMM_WORLD));
    CHECK(creall(zs) == size * (size + 1) / 2 && cimagl(zs) == 2.0L * size,
          "Allreduce SUM MPI_C_LONG_DOUBLE_COMPLEX = %Lg%+Lgi", creall(zs), cimagl(zs));
    struct { long double v; int i; } lv = {rank == 1 ? -1.0L : (long double)rank, rank}, lo, hi;
    OK(MPI_Allreduce(&lv, &lo, 1, MPI_LONG_DOUBLE_INT, MPI_MINLOC, MPI_COMM_WORLD));
    OK(MPI_Allreduce(&lv, &hi, 1, MPI_LONG_DOUBLE_INT, MPI_MAXLOC, MPI_COMM_WORLD));
    int lo_rank = size > 1 ? 1 : 0;
    CHECK(lo.i == lo_rank && lo.v == lv.v * 0 + (size > 1 ? -1.0L : 0.0L),
          "MINLOC MPI_LONG_DOUBLE_INT = (%Lg, %d)", lo.v, lo.i);
    CHECK(hi.i == (size > 2 ? size - 1 : 0) && hi.v == (size > 2 ? size - 1 : 0),
          "MAXLOC MPI_LONG_DOUBLE_INT = (%Lg, %d)", hi.v, hi.i);
    /* an op the standard does not define on the type is an error, not wrong numbers */
    MPI_Comm c;
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &c));
    OK(MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN));
    int rc = MPI_Allreduce(x, out, 3, MPI_LONG_DOUBLE, MPI_BAND, c);
    int cls = -1;
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_OP, "BAND on MPI_LONG_DOUBLE: error class %d", cls);
    OK(MPI_Comm_free(&c));
}

/* Other byte-compatible types in a Bcast: char, wchar_t, bool. */
static void misc_bcast(void)
{
    char c[6];
    wchar_t w[3];
    bool b[3];
    if (rank == 0) {
        strcpy(c, "hello");
        w[0] = L'\u00e9'; w[1] = 0x1F600; w[2] = L'z';
        b[0] = true; b[1] = false; b[2] = true;
    } else {
        memset(c, 0, sizeof c); memset(w, 0, sizeof w); memset(b, 0, sizeof b);
    }
    OK(MPI_Bcast(c, 6, MPI_CHAR, 0, MPI_COMM_WORLD));
    OK(MPI_Bcast(w, 3, MPI_WCHAR, 0, MPI_COMM_WORLD));
    OK(MPI_Bcast(b, 3, MPI_C_BOOL, 0, MPI_COMM_WORLD));
    CHECK(strcmp(c, "hello") == 0, "Bcast MPI_CHAR '%s'", c);
    CHECK(w[0] == L'\u00e9' && w[1] == 0x1F600 && w[2] == L'z', "Bcast MPI_WCHAR");
    CHECK(b[0] && !b[1] && b[2], "Bcast MPI_C_BOOL");
}


int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > 4) {
        printf("at most 4 ranks\n");
        return 2;
    }
    RUN(bcast_reduce);
    RUN(gather_scatter);
    RUN(allgather_alltoall);
    RUN(reduce_scatter_scan);
    RUN(allreduce_all);
    RUN(predefined_ops);
    RUN(long_double);
    RUN(misc_bcast);
    if (rank == 0) printf("allreduce combinations: %d\n", ncombos);
    if (nerr) {
        printf("rank %d: %d failures\n", rank, nerr);
        return 1;
    }
    if (rank == 0) printf("coll done on %d ranks\n", size);
    MPI_Finalize();
    return 0;
}
