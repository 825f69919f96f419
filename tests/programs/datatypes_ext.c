/* Derived datatypes, byte for byte. For every constructor the program computes the type map
 * itself from the constructor's definition (a list of (offset, length) pieces, one per basic
 * element, with the bounds the standard gives), and checks what the host MPI does with the
 * type against it: size and extents, MPI_Pack's bytes, MPI_Unpack's layout, a transfer between
 * ranks (holes in the receive buffer untouched, and the wire bytes equal to the packed ones),
 * Get_count/Get_elements, and a round trip through MPI_Type_get_envelope/get_contents (the
 * type rebuilt from its contents packs the same bytes). Then the queries, names, addresses
 * with MPI_BOTTOM, packing (native and external32), binary128 long double types, and the
 * documented errors.
 *
 * `datatypes_ext.wasm oob-end|oob-start` instead commits a bounds fault: the last rank sends a
 * type whose true extent runs past the end of linear memory (or before its start) while the
 * others wait in a receive; the job must end with a trap naming MPI_Send. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

/* ---- the test's own model of a type map ------------------------------------------------- */

typedef struct {
    int32_t off, len;
} piece;

typedef struct {
    piece *p;
    int n, cap, copies;
    int32_t lb, ub, align;
} tmap;

static void push(tmap *m, int32_t off, int32_t len)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->p = realloc(m->p, (size_t)m->cap * sizeof *m->p);
    }
    m->p[m->n++] = (piece){off, len};
}

static int32_t extent_of(const tmap *m) { return m->ub - m->lb; }

/* one copy of `old` displaced by `at` bytes: its pieces, and bounds that cover its own */
static void copy_at(tmap *m, const tmap *old, int32_t at)
{
    for (int i = 0; i < old->n; i++)
        push(m, at + old->p[i].off, old->p[i].len);
    int32_t lo = at + old->lb, hi = at + old->ub;
    if (!m->copies++) {
        m->lb = lo;
        m->ub = hi;
    } else {
        if (lo < m->lb) m->lb = lo;
        if (hi > m->ub) m->ub = hi;
    }
    if (old->align > m->align)
        m->align = old->align;
}

static tmap prim(int size)
{
    tmap m = {0};
    push(&m, 0, size);
    m.ub = size;
    m.align = size;
    return m;
}

static tmap m_contiguous(int count, const tmap *old)
{
    tmap m = {0};
    for (int i = 0; i < count; i++)
        copy_at(&m, old, i * extent_of(old));
    return m;
}

static tmap m_hvector(int count, int bl, int32_t stride_bytes, const tmap *old)
{
    tmap m = {0};
    for (int i = 0; i < count; i++)
        for (int j = 0; j < bl; j++)
            copy_at(&m, old, i * stride_bytes + j * extent_of(old));
    return m;
}

static tmap m_vector(int count, int bl, int stride, const tmap *old)
{
    return m_hvector(count, bl, stride * extent_of(old), old);
}

static tmap m_hindexed(int count, const int *bl, const int32_t *displ_bytes, const tmap *old)
{
    tmap m = {0};
    for (int i = 0; i < count; i++)
        for (int j = 0; j < bl[i]; j++)
            copy_at(&m, old, displ_bytes[i] + j * extent_of(old));
    return m;
}

static tmap m_indexed(int count, const int *bl, const int *displ, const tmap *old)
{
    int32_t bytes[16];
    for (int i = 0; i < count; i++)
        bytes[i] = displ[i] * extent_of(old);
    return m_hindexed(count, bl, bytes, old);
}

/* a struct's extent is padded to the largest alignment of its basic types (both MPICH and
 * Open MPI do so natively, as C pads a struct) */
static tmap m_struct(int count, const int *bl, const int32_t *displ, const tmap *const *old)
{
    tmap m = {0};
    for (int i = 0; i < count; i++)
        for (int j = 0; j < bl[i]; j++)
            copy_at(&m, old[i], displ[i] + j * extent_of(old[i]));
    int32_t e = extent_of(&m);
    if (m.align > 1 && e % m.align)
        m.ub += m.align - e % m.align;
    return m;
}

static tmap m_resized(const tmap *old, int32_t lb, int32_t extent)
{
    tmap m = {0};
    copy_at(&m, old, 0);
    m.lb = lb;
    m.ub = lb + extent;
    return m;
}

/* Elements of an n-dimensional array of `old` whose index in each dimension d is one of
 * idx[d][0..cnt[d]), in array-element order (C: the last dimension varies fastest). Bounds: the
 * whole array, as subarray and darray types have. */
static tmap m_select(int ndims, const int *sizes, int *const *idx, const int *cnt, int fortran,
                     const tmap *old)
{
    tmap m = {0};
    int k[8] = {0}, total = 1;
    for (int d = 0; d < ndims; d++)
        total *= cnt[d];
    for (int e = 0; e < total; e++) {
        int rest = e, lin = 0;
        for (int s = 0; s < ndims; s++) { /* s-th fastest dimension */
            int d = fortran ? s : ndims - 1 - s;
            k[d] = rest % cnt[d];
            rest /= cnt[d];
        }
        for (int s = 0; s < ndims; s++) {
            int d = fortran ? ndims - 1 - s : s;
            lin = lin * sizes[d] + idx[d][k[d]];
        }
        copy_at(&m, old, lin * extent_of(old));
    }
    int32_t all = extent_of(old);
    for (int d = 0; d < ndims; d++)
        all *= sizes[d];
    m.lb = 0;
    m.ub = all;
    m.align = old->align;
    return m;
}

static tmap m_subarray(int ndims, const int *sizes, const int *subsizes, const int *starts,
                       int fortran, const tmap *old)
{
    int *idx[8], cnt[8];
    for (int d = 0; d < ndims; d++) {
        idx[d] = malloc((size_t)subsizes[d] * sizeof(int));
        for (int i = 0; i < subsizes[d]; i++)
            idx[d][i] = starts[d] + i;
        cnt[d] = subsizes[d];
    }
    tmap m = m_select(ndims, sizes, idx, cnt, fortran, old);
    for (int d = 0; d < ndims; d++)
        free(idx[d]);
    return m;
}

/* The standard's darray: the process grid is row-major whatever the order; dimension d of the
 * process with coordinate c holds, under BLOCK(b) the indices [c*b, (c+1)*b), under CYCLIC(b)
 * the blocks of b indices numbered c, c+p, c+2p, ... */
static tmap m_darray(int size, int rank, int ndims, const int *gsizes, const int *distribs,
                     const int *dargs, const int *psizes, int fortran, const tmap *old)
{
    int coord[8], *idx[8], cnt[8];
    (void)size;
    for (int d = ndims - 1, r = rank; d >= 0; d--) {
        coord[d] = r % psizes[d];
        r /= psizes[d];
    }
    for (int d = 0; d < ndims; d++) {
        int g = gsizes[d], p = psizes[d], c = coord[d], b = dargs[d];
        idx[d] = malloc((size_t)g * sizeof(int));
        cnt[d] = 0;
        for (int i = 0; i < g; i++) {
            int mine;
            if (distribs[d] == MPI_DISTRIBUTE_NONE) {
                mine = 1;
            } else if (distribs[d] == MPI_DISTRIBUTE_BLOCK) {
                if (b == MPI_DISTRIBUTE_DFLT_DARG) b = (g + p - 1) / p;
                mine = i / b == c;
            } else {
                if (b == MPI_DISTRIBUTE_DFLT_DARG) b = 1;
                mine = (i / b) % p == c;
            }
            if (mine)
                idx[d][cnt[d]++] = i;
        }
    }
    tmap m = m_select(ndims, gsizes, idx, cnt, fortran, old);
    for (int d = 0; d < ndims; d++)
        free(idx[d]);
    return m;
}

static int32_t model_size(const tmap *m)
{
    int32_t s = 0;
    for (int i = 0; i < m->n; i++)
        s += m->p[i].len;
    return s;
}

static void true_bounds(const tmap *m, int32_t *lo, int32_t *hi)
{
    *lo = *hi = 0;
    for (int i = 0; i < m->n; i++) {
        int32_t a = m->p[i].off, b = a + m->p[i].len;
        if (!i || a < *lo) *lo = a;
        if (!i || b > *hi) *hi = b;
    }
}

/* ---- buffers ------------------------------------------------------------------------------ */

/* element offsets are relative to ORIGIN, so that negative displacements stay in the buffer */
enum { BUFSZ = 16384, ORIGIN = 6144, SENTINEL = 0xA5 };

static uint8_t pattern(int i, int who) { return (uint8_t)(i * 37 + 11 + 101 * who + (i >> 8)); }

static uint8_t *patterned(int who)
{
    uint8_t *b = malloc(BUFSZ);
    for (int i = 0; i < BUFSZ; i++)
        b[i] = pattern(i, who);
    return b;
}

static uint8_t *sentinels(void)
{
    uint8_t *b = malloc(BUFSZ);
    memset(b, SENTINEL, BUFSZ);
    return b;
}

/* what MPI_Pack makes of `count` elements at ORIGIN of patterned(who) */
static uint8_t *expected_pack(const tmap *m, int count, int who, int *len)
{
    uint8_t *out = malloc((size_t)(count * model_size(m)) + 1);
    int k = 0;
    for (int c = 0; c < count; c++)
        for (int i = 0; i < m->n; i++)
            for (int b = 0; b < m->p[i].len; b++)
                out[k++] = pattern(ORIGIN + c * extent_of(m) + m->p[i].off + b, who);
    *len = k;
    return out;
}

/* the buffer after `count` elements from patterned(who) landed at ORIGIN of sentinels() */
static uint8_t *expected_layout(const tmap *m, int count, int who)
{
    uint8_t *b = sentinels();
    for (int c = 0; c < count; c++)
        for (int i = 0; i < m->n; i++)
            for (int j = 0; j < m->p[i].len; j++) {
                int at = ORIGIN + c * extent_of(m) + m->p[i].off + j;
                b[at] = pattern(at, who);
            }
    return b;
}

static int first_diff(const uint8_t *x, const uint8_t *y, int n)
{
    for (int i = 0; i < n; i++)
        if (x[i] != y[i])
            return i;
    return -1;
}

/* ---- rebuilding a type from its envelope and contents ----------------------------------- */

static int is_named(MPI_Datatype t)
{
    int ni, na, nd, comb;
    MPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
    return comb == MPI_COMBINER_NAMED;
}

/* The type made again from what MPI_Type_get_contents says of `t`; its combiner in *comb. */
static int rebuild(MPI_Datatype t, MPI_Datatype *out, int *comb, int *ints_out, int nints_cap)
{
    int ni, na, nd, rc;
    if ((rc = MPI_Type_get_envelope(t, &ni, &na, &nd, comb)) != MPI_SUCCESS)
        return rc;
    int *I = malloc(sizeof(int) * (size_t)(ni + 1));
    MPI_Aint *A = malloc(sizeof(MPI_Aint) * (size_t)(na + 1));
    MPI_Datatype *D = malloc(sizeof(MPI_Datatype) * (size_t)(nd + 1));
    if ((rc = MPI_Type_get_contents(t, ni, na, nd, I, A, D)) != MPI_SUCCESS)
        return rc;
    for (int i = 0; i < ni && i < nints_cap; i++)
        ints_out[i] = I[i];
    int n;
    switch (*comb) {
    case MPI_COMBINER_DUP: rc = MPI_Type_dup(D[0], out); break;
    case MPI_COMBINER_CONTIGUOUS: rc = MPI_Type_contiguous(I[0], D[0], out); break;
    case MPI_COMBINER_VECTOR: rc = MPI_Type_vector(I[0], I[1], I[2], D[0], out); break;
    case MPI_COMBINER_HVECTOR: rc = MPI_Type_create_hvector(I[0], I[1], A[0], D[0], out); break;
    case MPI_COMBINER_INDEXED: rc = MPI_Type_indexed(I[0], I + 1, I + 1 + I[0], D[0], out); break;
    case MPI_COMBINER_HINDEXED: rc = MPI_Type_create_hindexed(I[0], I + 1, A, D[0], out); break;
    case MPI_COMBINER_INDEXED_BLOCK:
        rc = MPI_Type_create_indexed_block(I[0], I[1], I + 2, D[0], out);
        break;
    case MPI_COMBINER_HINDEXED_BLOCK:
        rc = MPI_Type_create_hindexed_block(I[0], I[1], A, D[0], out);
        break;
    case MPI_COMBINER_STRUCT: rc = MPI_Type_create_struct(I[0], I + 1, A, D, out); break;
    case MPI_COMBINER_SUBARRAY:
        n = I[0];
        rc = MPI_Type_create_subarray(n, I + 1, I + 1 + n, I + 1 + 2 * n, I[1 + 3 * n], D[0], out);
        break;
    case MPI_COMBINER_DARRAY:
        n = I[2];
        rc = MPI_Type_create_darray(I[0], I[1], n, I + 3, I + 3 + n, I + 3 + 2 * n, I + 3 + 3 * n,
                                    I[3 + 4 * n], D[0], out);
        break;
    case MPI_COMBINER_RESIZED: rc = MPI_Type_create_resized(D[0], A[0], A[1], out); break;
    default: rc = MPI_ERR_TYPE;
    }
    for (int i = 0; i < nd; i++)
        if (!is_named(D[i]))
            MPI_Type_free(&D[i]);
    free(I);
    free(A);
    free(D);
    if (rc == MPI_SUCCESS)
        rc = MPI_Type_commit(out);
    return rc;
}

/* ---- the check every constructed type goes through ------------------------------------- */

static int is_inter(MPI_Comm comm) { return cf_is_inter(comm); }

/* the partner this rank exchanges with, or -1 (intercommunicator ranks beyond the smaller
 * group sit out) */
static int partner(MPI_Comm comm, int *from)
{
    int r, n;
    MPI_Comm_rank(comm, &r);
    if (is_inter(comm)) {
        MPI_Comm_remote_size(comm, &n);
        int l;
        MPI_Comm_size(comm, &l);
        *from = r;
        return r < n && r < l ? r : -1;
    }
    MPI_Comm_size(comm, &n);
    *from = (r + n - 1) % n;
    return (r + 1) % n;
}

static void check_type(MPI_Comm comm, MPI_Datatype t, tmap *m, int combiner, const char *what)
{
    int32_t tlo, thi;
    true_bounds(m, &tlo, &thi);
    EXPECT(m->lb >= -ORIGIN / 2 && m->ub * 2 <= BUFSZ - ORIGIN && tlo >= -ORIGIN / 2,
           "%s: the model does not fit the test buffer", what);
    int sz = -1;
    MPI_Count szx = -1, lbx, extx, tlbx, textx;
    MPI_Aint lb, ext, tlb, text;
    EXPECT_OK(MPI_Type_size(t, &sz));
    EXPECT_OK(MPI_Type_size_x(t, &szx));
    EXPECT(sz == model_size(m) && szx == sz, "%s: size %d / %lld, model %d", what, sz,
           (long long)szx, (int)model_size(m));
    EXPECT_OK(MPI_Type_get_extent(t, &lb, &ext));
    EXPECT_OK(MPI_Type_get_extent_x(t, &lbx, &extx));
    EXPECT(lb == m->lb && ext == extent_of(m) && lbx == lb && extx == ext,
           "%s: (lb, extent) (%ld, %ld), model (%d, %d)", what, (long)lb, (long)ext, (int)m->lb,
           (int)extent_of(m));
    EXPECT_OK(MPI_Type_get_true_extent(t, &tlb, &text));
    EXPECT_OK(MPI_Type_get_true_extent_x(t, &tlbx, &textx));
    EXPECT(tlb == tlo && text == thi - tlo && tlbx == tlb && textx == text,
           "%s: true (lb, extent) (%ld, %ld), model (%d, %d)", what, (long)tlb, (long)text,
           (int)tlo, (int)(thi - tlo));

    int me, from, to = partner(comm, &from);
    MPI_Comm_rank(comm, &me);
    uint8_t *src = patterned(me), *packed = malloc(BUFSZ), *dst = sentinels();
    for (int count = 1; count <= 2; count++) {
        int want_len, pos = 0, psize = -1;
        uint8_t *want = expected_pack(m, count, me, &want_len);
        EXPECT_OK(MPI_Pack_size(count, t, comm, &psize));
        EXPECT(psize >= want_len, "%s: Pack_size %d < %d", what, psize, want_len);
        EXPECT_OK(MPI_Pack(src + ORIGIN, count, t, packed, BUFSZ, &pos, comm));
        int d = first_diff(packed, want, want_len);
        EXPECT(pos == want_len && d < 0, "%s x%d: packed %d bytes (model %d), first difference at "
               "%d", what, count, pos, want_len, d);
        /* unpacking writes exactly the type map */
        memset(dst, SENTINEL, BUFSZ);
        pos = 0;
        EXPECT_OK(MPI_Unpack(packed, want_len, &pos, dst + ORIGIN, count, t, comm));
        uint8_t *layout = expected_layout(m, count, me);
        d = first_diff(dst, layout, BUFSZ);
        EXPECT(pos == want_len && d < 0, "%s x%d: unpacked layout differs at offset %d", what,
               count, d - ORIGIN);
        free(layout);
        free(want);
    }

    /* between ranks: typed on both sides, then typed -> bytes */
    if (to >= 0) {
        MPI_Status st;
        int count = -1, n_el = -1;
        MPI_Count n_elx = -1;
        memset(dst, SENTINEL, BUFSZ);
        EXPECT_OK(MPI_Sendrecv(src + ORIGIN, 2, t, to, 5, dst + ORIGIN, 2, t, from, 5, comm,
                               &st));
        uint8_t *layout = expected_layout(m, 2, from);
        int d = first_diff(dst, layout, BUFSZ);
        EXPECT(d < 0, "%s: received layout differs at offset %d", what, d - ORIGIN);
        free(layout);
        EXPECT_OK(MPI_Get_count(&st, t, &count));
        EXPECT_OK(MPI_Get_elements(&st, t, &n_el));
        EXPECT_OK(MPI_Get_elements_x(&st, t, &n_elx));
        EXPECT(count == 2 && n_el == 2 * m->n && n_elx == n_el,
               "%s: Get_count %d, Get_elements %d / %lld, model 2 / %d", what, count, n_el,
               (long long)n_elx, 2 * m->n);
        int want_len;
        uint8_t *want = expected_pack(m, 2, from, &want_len);
        memset(packed, SENTINEL, BUFSZ);
        EXPECT_OK(MPI_Sendrecv(src + ORIGIN, 2, t, to, 6, packed, want_len, MPI_BYTE, from, 6,
                               comm, &st));
        EXPECT_OK(MPI_Get_count(&st, MPI_BYTE, &count));
        d = first_diff(packed, want, want_len);
        EXPECT(count == want_len && d < 0, "%s: wire bytes: %d (model %d), first difference at "
               "%d", what, count, want_len, d);
        free(want);
    }

    /* the envelope, and a type rebuilt from the contents that packs the same bytes */
    MPI_Datatype again = MPI_DATATYPE_NULL;
    int comb = -1, ints[4];
    EXPECT_OK(rebuild(t, &again, &comb, ints, 4));
    EXPECT(comb == combiner, "%s: combiner %d, expected %d", what, comb, combiner);
    int p1 = 0, p2 = 0;
    uint8_t *packed2 = malloc(BUFSZ);
    EXPECT_OK(MPI_Pack(src + ORIGIN, 2, t, packed, BUFSZ, &p1, comm));
    EXPECT_OK(MPI_Pack(src + ORIGIN, 2, again, packed2, BUFSZ, &p2, comm));
    EXPECT(p1 == p2 && first_diff(packed, packed2, p1) < 0, "%s: the type rebuilt from its "
           "contents packs differently", what);
    MPI_Aint lb2, ext2;
    EXPECT_OK(MPI_Type_get_extent(again, &lb2, &ext2));
    EXPECT(lb2 == lb && ext2 == ext, "%s: rebuilt extent (%ld, %ld)", what, (long)lb2, (long)ext2);
    EXPECT_OK(MPI_Type_free(&again));
    free(packed2);
    free(src);
    free(packed);
    free(dst);
}

static void done_with(MPI_Datatype *t, tmap *m)
{
    MPI_Type_free(t);
    free(m->p);
}

/* ---- constructors ---------------------------------------------------------------------------- */

static tmap T_INT, T_DOUBLE, T_SHORT, T_CHAR;

static void contiguous(MPI_Comm comm)
{
    MPI_Datatype t, v, t2;
    EXPECT_OK(MPI_Type_contiguous(3, MPI_DOUBLE, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_contiguous(3, &T_DOUBLE);
    check_type(comm, t, &m, MPI_COMBINER_CONTIGUOUS, "contiguous(3, DOUBLE)");
    done_with(&t, &m);
    /* of a strided type: elements follow each other at its extent */
    EXPECT_OK(MPI_Type_vector(2, 1, 3, MPI_INT, &v));
    EXPECT_OK(MPI_Type_contiguous(3, v, &t2));
    EXPECT_OK(MPI_Type_commit(&t2));
    tmap mv = m_vector(2, 1, 3, &T_INT), m2 = m_contiguous(3, &mv);
    check_type(comm, t2, &m2, MPI_COMBINER_CONTIGUOUS, "contiguous(3, vector)");
    done_with(&t2, &m2);
    done_with(&v, &mv);
}

static void vector(MPI_Comm comm)
{
    MPI_Datatype t;
    EXPECT_OK(MPI_Type_vector(3, 2, 4, MPI_INT, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_vector(3, 2, 4, &T_INT);
    check_type(comm, t, &m, MPI_COMBINER_VECTOR, "vector(3, 2, 4, INT)");
    done_with(&t, &m);
    /* a negative stride puts the lower bound below the buffer address */
    EXPECT_OK(MPI_Type_vector(3, 1, -2, MPI_SHORT, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    m = m_vector(3, 1, -2, &T_SHORT);
    check_type(comm, t, &m, MPI_COMBINER_VECTOR, "vector(3, 1, -2, SHORT)");
    done_with(&t, &m);
}

static void hvector(MPI_Comm comm)
{
    MPI_Datatype t, col, t2;
    /* strides keep the extent a multiple of the alignment: Open MPI pads it otherwise */
    EXPECT_OK(MPI_Type_create_hvector(4, 1, 16, MPI_DOUBLE, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_hvector(4, 1, 16, &T_DOUBLE);
    check_type(comm, t, &m, MPI_COMBINER_HVECTOR, "hvector(4, 1, 16, DOUBLE)");
    done_with(&t, &m);
    EXPECT_OK(MPI_Type_create_hvector(3, 2, 10, MPI_SHORT, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    m = m_hvector(3, 2, 10, &T_SHORT);
    check_type(comm, t, &m, MPI_COMBINER_HVECTOR, "hvector(3, 2, 10, SHORT)");
    done_with(&t, &m);
    /* two columns of a 3 x 5 int matrix, as an hvector of vectors */
    EXPECT_OK(MPI_Type_vector(3, 1, 5, MPI_INT, &col));
    EXPECT_OK(MPI_Type_create_hvector(2, 1, 8, col, &t2));
    EXPECT_OK(MPI_Type_commit(&t2));
    tmap mc = m_vector(3, 1, 5, &T_INT), m2 = m_hvector(2, 1, 8, &mc);
    check_type(comm, t2, &m2, MPI_COMBINER_HVECTOR, "hvector(2, 1, 8, vector)");
    done_with(&t2, &m2);
    done_with(&col, &mc);
}

static void indexed(MPI_Comm comm)
{
    MPI_Datatype t;
    int bl[3] = {2, 1, 3}, displ[3] = {0, 4, 7};
    EXPECT_OK(MPI_Type_indexed(3, bl, displ, MPI_INT, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_indexed(3, bl, displ, &T_INT);
    check_type(comm, t, &m, MPI_COMBINER_INDEXED, "indexed(INT)");
    done_with(&t, &m);
    /* out of order and before the buffer address */
    int bl2[3] = {1, 2, 2}, displ2[3] = {6, -3, 1};
    EXPECT_OK(MPI_Type_indexed(3, bl2, displ2, MPI_SHORT, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    m = m_indexed(3, bl2, displ2, &T_SHORT);
    check_type(comm, t, &m, MPI_COMBINER_INDEXED, "indexed(SHORT, negative)");
    done_with(&t, &m);
}

static void hindexed(MPI_Comm comm)
{
    MPI_Datatype t;
    int bl[3] = {1, 2, 1};
    MPI_Aint displ[3] = {20, -8, 4};
    int32_t d32[3] = {20, -8, 4};
    EXPECT_OK(MPI_Type_create_hindexed(3, bl, displ, MPI_INT, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_hindexed(3, bl, d32, &T_INT);
    check_type(comm, t, &m, MPI_COMBINER_HINDEXED, "hindexed(INT)");
    done_with(&t, &m);
}

static void indexed_block(MPI_Comm comm)
{
    MPI_Datatype t;
    int displ[3] = {5, 0, 9}, bl[3] = {2, 2, 2};
    EXPECT_OK(MPI_Type_create_indexed_block(3, 2, displ, MPI_SHORT, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_indexed(3, bl, displ, &T_SHORT);
    check_type(comm, t, &m, MPI_COMBINER_INDEXED_BLOCK, "indexed_block(SHORT)");
    done_with(&t, &m);
}

static void hindexed_block(MPI_Comm comm)
{
    MPI_Datatype t;
    MPI_Aint displ[3] = {16, 0, -24};
    int32_t d32[3] = {16, 0, -24};
    int bl[3] = {1, 1, 1};
    EXPECT_OK(MPI_Type_create_hindexed_block(3, 1, displ, MPI_DOUBLE, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_hindexed(3, bl, d32, &T_DOUBLE);
    check_type(comm, t, &m, MPI_COMBINER_HINDEXED_BLOCK, "hindexed_block(DOUBLE)");
    done_with(&t, &m);
    /* a negative count is MPI_ERR_COUNT (it trapped on the displacement array's range); the
     * displacements at address 0 made that range [0, -16) */
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int cls = -1;
    MPI_Error_class(MPI_Type_create_hindexed_block(-4, 1, NULL, MPI_DOUBLE, &t), &cls);
    EXPECT(cls == MPI_ERR_COUNT, "hindexed_block count -4, displacements NULL: class %d", cls);
    MPI_Error_class(MPI_Type_create_hindexed_block(-1, 1, displ, MPI_DOUBLE, &t), &cls);
    EXPECT(cls == MPI_ERR_COUNT, "hindexed_block count -1: class %d", cls);
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
}

static void struct_type(MPI_Comm comm)
{
    MPI_Datatype t, v, t2;
    /* holes between the blocks, a block before the address, and padding after the last one */
    int bl[4] = {2, 1, 3, 1};
    MPI_Aint displ[4] = {-16, 8, 20, 30};
    int32_t d32[4] = {-16, 8, 20, 30};
    MPI_Datatype types[4] = {MPI_INT, MPI_DOUBLE, MPI_SHORT, MPI_CHAR};
    const tmap *models[4] = {&T_INT, &T_DOUBLE, &T_SHORT, &T_CHAR};
    EXPECT_OK(MPI_Type_create_struct(4, bl, displ, types, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_struct(4, bl, d32, models);
    EXPECT(extent_of(&m) == 48, "the model's padding: extent %d", (int)extent_of(&m));
    check_type(comm, t, &m, MPI_COMBINER_STRUCT, "struct(INT, DOUBLE, SHORT, CHAR)");
    done_with(&t, &m);
    /* with a derived member */
    EXPECT_OK(MPI_Type_vector(2, 1, 3, MPI_INT, &v));
    int bl2[2] = {1, 1};
    MPI_Aint displ2[2] = {0, 24};
    int32_t d2[2] = {0, 24};
    MPI_Datatype types2[2] = {v, MPI_DOUBLE};
    tmap mv = m_vector(2, 1, 3, &T_INT);
    const tmap *models2[2] = {&mv, &T_DOUBLE};
    EXPECT_OK(MPI_Type_create_struct(2, bl2, displ2, types2, &t2));
    EXPECT_OK(MPI_Type_commit(&t2));
    tmap m2 = m_struct(2, bl2, d2, models2);
    check_type(comm, t2, &m2, MPI_COMBINER_STRUCT, "struct(vector, DOUBLE)");
    done_with(&t2, &m2);
    done_with(&v, &mv);
}

static void subarray(MPI_Comm comm)
{
    MPI_Datatype t;
    int sizes[3] = {4, 5, 6}, sub[3] = {2, 3, 2}, starts[3] = {1, 1, 3};
    EXPECT_OK(MPI_Type_create_subarray(3, sizes, sub, starts, MPI_ORDER_C, MPI_INT, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_subarray(3, sizes, sub, starts, 0, &T_INT);
    check_type(comm, t, &m, MPI_COMBINER_SUBARRAY, "subarray(C, INT)");
    done_with(&t, &m);
    int fs[2] = {6, 5}, fsub[2] = {3, 2}, fst[2] = {2, 3};
    EXPECT_OK(MPI_Type_create_subarray(2, fs, fsub, fst, MPI_ORDER_FORTRAN, MPI_DOUBLE, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    m = m_subarray(2, fs, fsub, fst, 1, &T_DOUBLE);
    check_type(comm, t, &m, MPI_COMBINER_SUBARRAY, "subarray(Fortran, DOUBLE)");
    /* the order comes back as the guest's constant */
    int ni, na, nd, comb, ints[8];
    MPI_Aint addrs[1];
    MPI_Datatype old[1];
    EXPECT_OK(MPI_Type_get_envelope(t, &ni, &na, &nd, &comb));
    EXPECT(ni == 8 && na == 0 && nd == 1, "subarray envelope %d %d %d", ni, na, nd);
    EXPECT_OK(MPI_Type_get_contents(t, 8, 0, 1, ints, addrs, old));
    EXPECT(ints[7] == MPI_ORDER_FORTRAN && old[0] == MPI_DOUBLE,
           "subarray contents: order %d, type %#x", ints[7], (unsigned)old[0]);
    done_with(&t, &m);
}

static void darray_one(MPI_Comm comm, int size, int ndims, const int *g, const int *dist,
                       const int *darg, const int *p, int order, MPI_Datatype old,
                       const tmap *mold, const char *what)
{
    for (int r = 0; r < size; r++) {
        MPI_Datatype t;
        char name[96];
        snprintf(name, sizeof name, "%s, rank %d of %d", what, r, size);
        EXPECT_OK(MPI_Type_create_darray(size, r, ndims, g, dist, darg, p, order, old, &t));
        EXPECT_OK(MPI_Type_commit(&t));
        tmap m = m_darray(size, r, ndims, g, dist, darg, p, order == MPI_ORDER_FORTRAN, mold);
        check_type(comm, t, &m, MPI_COMBINER_DARRAY, name);
        if (r == size - 1) { /* the constants come back as the guest's */
            int ints[3 + 4 * 2 + 1];
            MPI_Aint addrs[1];
            MPI_Datatype o[1];
            EXPECT_OK(MPI_Type_get_contents(t, 4 + 4 * ndims, 0, 1, ints, addrs, o));
            for (int d = 0; d < ndims; d++)
                EXPECT(ints[3 + ndims + d] == dist[d] && ints[3 + 2 * ndims + d] == darg[d],
                       "%s: contents distrib %d darg %d", name, ints[3 + ndims + d],
                       ints[3 + 2 * ndims + d]);
            EXPECT(ints[3 + 4 * ndims] == order && o[0] == old, "%s: contents order %d", name,
                   ints[3 + 4 * ndims]);
        }
        done_with(&t, &m);
    }
}

static void darray(MPI_Comm comm)
{
    int g[2] = {5, 7}, p[2] = {2, 2};
    int d1[2] = {MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC};
    int a1[2] = {MPI_DISTRIBUTE_DFLT_DARG, 2};
    darray_one(comm, 4, 2, g, d1, a1, p, MPI_ORDER_C, MPI_INT, &T_INT,
               "darray(block, cyclic(2), C)");
    int d2[2] = {MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_BLOCK};
    int a2[2] = {MPI_DISTRIBUTE_DFLT_DARG, 4};
    darray_one(comm, 4, 2, g, d2, a2, p, MPI_ORDER_FORTRAN, MPI_DOUBLE, &T_DOUBLE,
               "darray(cyclic, block(4), Fortran)");
    int g3[2] = {4, 6}, p3[2] = {1, 3};
    int d3[2] = {MPI_DISTRIBUTE_NONE, MPI_DISTRIBUTE_CYCLIC};
    int a3[2] = {MPI_DISTRIBUTE_DFLT_DARG, MPI_DISTRIBUTE_DFLT_DARG};
    darray_one(comm, 3, 2, g3, d3, a3, p3, MPI_ORDER_C, MPI_SHORT, &T_SHORT,
               "darray(none, cyclic, C)");
}

static void resized(MPI_Comm comm)
{
    MPI_Datatype t, v, t2;
    EXPECT_OK(MPI_Type_create_resized(MPI_INT, -4, 12, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    tmap m = m_resized(&T_INT, -4, 12);
    check_type(comm, t, &m, MPI_COMBINER_RESIZED, "resized(INT, -4, 12)");
    done_with(&t, &m);
    EXPECT_OK(MPI_Type_vector(2, 1, 3, MPI_INT, &v));
    EXPECT_OK(MPI_Type_create_resized(v, -8, 32, &t2));
    EXPECT_OK(MPI_Type_commit(&t2));
    tmap mv = m_vector(2, 1, 3, &T_INT), m2 = m_resized(&mv, -8, 32);
    check_type(comm, t2, &m2, MPI_COMBINER_RESIZED, "resized(vector, -8, 32)");
    done_with(&t2, &m2);
    done_with(&v, &mv);
}

static void dup(MPI_Comm comm)
{
    MPI_Datatype s, t;
    int bl[2] = {1, 2};
    MPI_Aint displ[2] = {-8, 4};
    int32_t d32[2] = {-8, 4};
    MPI_Datatype types[2] = {MPI_DOUBLE, MPI_SHORT};
    const tmap *models[2] = {&T_DOUBLE, &T_SHORT};
    EXPECT_OK(MPI_Type_create_struct(2, bl, displ, types, &s));
    EXPECT_OK(MPI_Type_commit(&s));
    EXPECT_OK(MPI_Type_dup(s, &t));
    EXPECT_OK(MPI_Type_free(&s)); /* the duplicate stands on its own */
    tmap m = m_struct(2, bl, d32, models);
    check_type(comm, t, &m, MPI_COMBINER_DUP, "dup(struct)");
    done_with(&t, &m);
}

/* ---- envelopes and contents of predefined types -------------------------------------------- */

static void predefined_contents(MPI_Comm comm)
{
    (void)comm;
    /* predefined guest types are named, even those the host moves as another type */
    MPI_Datatype named[] = {MPI_INT, MPI_LONG, MPI_AINT, MPI_LONG_DOUBLE, MPI_LONG_DOUBLE_INT,
                            MPI_C_LONG_DOUBLE_COMPLEX, MPI_OFFSET, MPI_2INT, MPI_BYTE};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        int ni = -1, na = -1, nd = -1, comb = -1;
        EXPECT_OK(MPI_Type_get_envelope(named[i], &ni, &na, &nd, &comb));
        EXPECT(comb == MPI_COMBINER_NAMED && ni == 0 && na == 0 && nd == 0,
               "envelope of predefined %#x: %d %d %d %d", (unsigned)named[i], ni, na, nd, comb);
    }
    /* a struct of predefined types gives the same handles back */
    MPI_Datatype members[] = {MPI_DOUBLE, MPI_INT32_T, MPI_2INT, MPI_INT64_T, MPI_LONG_DOUBLE,
                              MPI_C_LONG_DOUBLE_COMPLEX, MPI_LONG_DOUBLE_INT, MPI_UNSIGNED};
    enum { N = sizeof members / sizeof members[0] };
    int bl[N];
    MPI_Aint displ[N];
    for (int i = 0; i < N; i++) {
        bl[i] = 1;
        displ[i] = 64 * i;
    }
    MPI_Datatype t, got[N];
    EXPECT_OK(MPI_Type_create_struct(N, bl, displ, members, &t));
    int ni, na, nd, comb, ints[N + 1];
    MPI_Aint addrs[N];
    EXPECT_OK(MPI_Type_get_envelope(t, &ni, &na, &nd, &comb));
    EXPECT(comb == MPI_COMBINER_STRUCT && ni == N + 1 && na == N && nd == N,
           "struct envelope %d %d %d %d", ni, na, nd, comb);
    /* arrays larger than needed are fine */
    MPI_Datatype big[N + 3];
    EXPECT_OK(MPI_Type_get_contents(t, N + 1, N, N + 3, ints, addrs, big));
    EXPECT_OK(MPI_Type_get_contents(t, N + 1, N, N, ints, addrs, got));
    for (int i = 0; i < N; i++) {
        EXPECT(got[i] == members[i] && big[i] == members[i],
               "contents type %d: %#x, expected %#x", i, (unsigned)got[i], (unsigned)members[i]);
        EXPECT(addrs[i] == 64 * i && ints[1 + i] == 1, "contents %d: %ld %d", i, (long)addrs[i],
               ints[1 + i]);
    }
    /* the guest's MPI_LONG is the host's MPI_INT underneath: it comes back as MPI_INT, the
     * guest type of the same layout */
    MPI_Datatype lt, lgot;
    int one = 1, n1;
    MPI_Aint zero = 0, a1;
    EXPECT_OK(MPI_Type_create_hindexed(1, &one, &zero, MPI_LONG, &lt));
    EXPECT_OK(MPI_Type_get_contents(lt, 3, 1, 1, &n1, &a1, &lgot));
    EXPECT(lgot == MPI_INT || lgot == MPI_LONG, "contents of hindexed(LONG): %#x",
           (unsigned)lgot);
    EXPECT_OK(MPI_Type_free(&lt));
    /* contents of a derived member are a new handle, freed by the caller; the original lives */
    MPI_Datatype v, c, inner;
    EXPECT_OK(MPI_Type_vector(2, 1, 2, MPI_LONG_DOUBLE, &v));
    EXPECT_OK(MPI_Type_contiguous(2, v, &c));
    EXPECT_OK(MPI_Type_get_contents(c, 1, 0, 1, &n1, &a1, &inner));
    EXPECT(!is_named(inner), "contents of contiguous(vector) is named");
    int sz = 0;
    EXPECT_OK(MPI_Type_size(inner, &sz));
    EXPECT(n1 == 2 && sz == 32, "contiguous(2, vector) contents: %d, member size %d", n1, sz);
    MPI_Datatype ld;
    EXPECT_OK(MPI_Type_get_contents(inner, 3, 0, 1, ints, addrs, &ld));
    EXPECT(ld == MPI_LONG_DOUBLE, "vector(LONG_DOUBLE) contents: %#x", (unsigned)ld);
    EXPECT_OK(MPI_Type_free(&inner));
    EXPECT_OK(MPI_Type_size(v, &sz));
    EXPECT(sz == 32, "the vector after freeing its copy: size %d", sz);
    EXPECT_OK(MPI_Type_free(&c));
    EXPECT_OK(MPI_Type_free(&v));
    EXPECT_OK(MPI_Type_free(&t));

    /* errors, on MPI_COMM_WORLD's handler (datatype calls have no communicator) */
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int rc = MPI_Type_get_contents(MPI_INT, 0, 0, 0, ints, addrs, got), cls = -1;
    MPI_Error_class(rc, &cls);
    EXPECT(cls == MPI_ERR_TYPE, "contents of MPI_INT: class %d", cls);
    rc = MPI_Type_get_envelope(MPI_DATATYPE_NULL, &ni, &na, &nd, &comb);
    MPI_Error_class(rc, &cls);
    EXPECT(cls == MPI_ERR_TYPE, "envelope of MPI_DATATYPE_NULL: class %d", cls);
    EXPECT_OK(MPI_Type_vector(2, 1, 2, MPI_INT, &v));
    rc = MPI_Type_get_contents(v, 2, 0, 1, ints, addrs, got); /* needs 3 integers */
    MPI_Error_class(rc, &cls);
    EXPECT(cls == MPI_ERR_ARG, "contents into short arrays: class %d", cls);
    EXPECT_OK(MPI_Type_free(&v));
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
}

/* ---- match_size, names ------------------------------------------------------------------- */

static void match_size(MPI_Comm comm)
{
    (void)comm;
    static const struct { int cls, size; MPI_Datatype want; } cases[] = {
        {MPI_TYPECLASS_INTEGER, 1, MPI_SIGNED_CHAR}, {MPI_TYPECLASS_INTEGER, 2, MPI_SHORT},
        {MPI_TYPECLASS_INTEGER, sizeof(int), MPI_INT},
        {MPI_TYPECLASS_INTEGER, sizeof(long), MPI_INT}, /* ILP32: long is int's size */
        {MPI_TYPECLASS_INTEGER, sizeof(long long), MPI_LONG_LONG},
        {MPI_TYPECLASS_REAL, sizeof(float), MPI_FLOAT},
        {MPI_TYPECLASS_REAL, sizeof(double), MPI_DOUBLE},
        {MPI_TYPECLASS_REAL, sizeof(long double), MPI_LONG_DOUBLE},
        {MPI_TYPECLASS_COMPLEX, sizeof(float _Complex), MPI_C_FLOAT_COMPLEX},
        {MPI_TYPECLASS_COMPLEX, sizeof(double _Complex), MPI_C_DOUBLE_COMPLEX},
        {MPI_TYPECLASS_COMPLEX, sizeof(long double _Complex), MPI_C_LONG_DOUBLE_COMPLEX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        MPI_Datatype t = MPI_DATATYPE_NULL;
        int sz = -1;
        EXPECT_OK(MPI_Type_match_size(cases[i].cls, cases[i].size, &t));
        EXPECT_OK(MPI_Type_size(t, &sz));
        EXPECT(t == cases[i].want && sz == cases[i].size, "match_size(%d, %d) = %#x (size %d)",
               cases[i].cls, cases[i].size, (unsigned)t, sz);
    }
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_Datatype t;
    int cls = -1, rc = MPI_Type_match_size(MPI_TYPECLASS_INTEGER, 3, &t);
    MPI_Error_class(rc, &cls);
    EXPECT(cls == MPI_ERR_ARG, "match_size(INTEGER, 3): class %d", cls);
    rc = MPI_Type_match_size(12345, 4, &t);
    MPI_Error_class(rc, &cls);
    EXPECT(cls == MPI_ERR_ARG, "match_size(bad class, 4): class %d", cls);
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
}

static void names(MPI_Comm comm)
{
    (void)comm;
    char name[MPI_MAX_OBJECT_NAME];
    int len = -1;
    static const struct { MPI_Datatype t; const char *name; } pre[] = {
        {MPI_LONG, "MPI_LONG"}, {MPI_INT, "MPI_INT"}, {MPI_AINT, "MPI_AINT"},
        {MPI_INT32_T, "MPI_INT32_T"}, {MPI_LONG_DOUBLE, "MPI_LONG_DOUBLE"},
        {MPI_LONG_INT, "MPI_LONG_INT"}, {MPI_2INT, "MPI_2INT"},
    };
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        EXPECT_OK(MPI_Type_get_name(pre[i].t, name, &len));
        EXPECT(!strcmp(name, pre[i].name) && len == (int)strlen(pre[i].name),
               "name '%s' (%d), expected '%s'", name, len, pre[i].name);
    }
    /* renaming the guest's MPI_LONG leaves MPI_INT (the same host type) alone */
    EXPECT_OK(MPI_Type_set_name(MPI_LONG, "my long"));
    EXPECT_OK(MPI_Type_get_name(MPI_LONG, name, &len));
    EXPECT(!strcmp(name, "my long") && len == 7, "renamed MPI_LONG: '%s' (%d)", name, len);
    EXPECT_OK(MPI_Type_get_name(MPI_INT, name, &len));
    EXPECT(!strcmp(name, "MPI_INT"), "MPI_INT after renaming MPI_LONG: '%s'", name);
    EXPECT_OK(MPI_Type_set_name(MPI_LONG, "MPI_LONG"));
    MPI_Datatype t;
    EXPECT_OK(MPI_Type_contiguous(2, MPI_INT, &t));
    EXPECT_OK(MPI_Type_get_name(t, name, &len));
    EXPECT(len == 0 && name[0] == 0, "an unnamed type is called '%s'", name);
    EXPECT_OK(MPI_Type_set_name(t, "pair of ints"));
    EXPECT_OK(MPI_Type_get_name(t, name, &len));
    EXPECT(!strcmp(name, "pair of ints") && len == 12, "named type: '%s' (%d)", name, len);
    EXPECT_OK(MPI_Type_free(&t));
}

/* ---- addresses ------------------------------------------------------------------------------- */

static int lone_int;
static double lone_doubles[3];

static void addresses(MPI_Comm comm)
{
    short *heap = malloc(4 * sizeof(short));
    MPI_Aint a_int, a_d0, a_d2, a_heap;
    EXPECT_OK(MPI_Get_address(&lone_int, &a_int));
    EXPECT_OK(MPI_Get_address(&lone_doubles[0], &a_d0));
    EXPECT_OK(MPI_Get_address(&lone_doubles[2], &a_d2));
    EXPECT_OK(MPI_Get_address(heap, &a_heap));
    EXPECT(a_int == (MPI_Aint)(uintptr_t)&lone_int && a_heap == (MPI_Aint)(uintptr_t)heap,
           "Get_address is not the guest address");
    EXPECT(MPI_Aint_diff(a_d2, a_d0) == 2 * (MPI_Aint)sizeof(double), "Aint_diff %ld",
           (long)MPI_Aint_diff(a_d2, a_d0));
    EXPECT(MPI_Aint_add(a_d0, 2 * sizeof(double)) == a_d2, "Aint_add");
    EXPECT(MPI_Aint_diff(a_d0, a_d2) == -16, "Aint_diff negative %ld",
           (long)MPI_Aint_diff(a_d0, a_d2));
    EXPECT(MPI_Aint_add(a_d2, -16) == a_d0, "Aint_add negative");

    /* a struct of absolute addresses, used with MPI_BOTTOM */
    int bl[3] = {1, 3, 4};
    MPI_Aint displ[3] = {a_int, a_d0, a_heap};
    MPI_Datatype types[3] = {MPI_INT, MPI_DOUBLE, MPI_SHORT}, t;
    EXPECT_OK(MPI_Type_create_struct(3, bl, displ, types, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    MPI_Aint tlb, text;
    EXPECT_OK(MPI_Type_get_true_extent(t, &tlb, &text));
    MPI_Aint lo = a_int < a_d0 ? a_int : a_d0;
    lo = a_heap < lo ? a_heap : lo;
    EXPECT(tlb == lo, "absolute struct: true lb %ld, lowest address %ld", (long)tlb, (long)lo);
    int me, from, to = partner(comm, &from);
    MPI_Comm_rank(comm, &me);
    lone_int = 1000 + me;
    for (int i = 0; i < 3; i++) lone_doubles[i] = me + 0.25 * i;
    for (int i = 0; i < 4; i++) heap[i] = (short)(-me * 10 - i);
    /* packing from MPI_BOTTOM reads the three places */
    char packed[64];
    int pos = 0, psize = 0;
    EXPECT_OK(MPI_Pack_size(1, t, comm, &psize));
    EXPECT_OK(MPI_Pack(MPI_BOTTOM, 1, t, packed, sizeof packed, &pos, comm));
    int pi;
    double pd[3];
    short ps[4];
    memcpy(&pi, packed, 4);
    memcpy(pd, packed + 4, 24);
    memcpy(ps, packed + 28, 8);
    EXPECT(pos == 36 && psize >= 36 && pi == 1000 + me && pd[2] == me + 0.5 && ps[3] == -me * 10 - 3,
           "Pack(MPI_BOTTOM): %d bytes, %d %g %d", pos, pi, pd[2], ps[3]);
    if (to >= 0) {
        EXPECT_OK(MPI_Sendrecv_replace(MPI_BOTTOM, 1, t, to, 9, from, 9, comm, MPI_STATUS_IGNORE));
        EXPECT(lone_int == 1000 + from, "MPI_BOTTOM transfer: int %d from %d", lone_int, from);
        for (int i = 0; i < 3; i++)
            EXPECT(lone_doubles[i] == from + 0.25 * i, "MPI_BOTTOM transfer: double[%d] %g", i,
                   lone_doubles[i]);
        for (int i = 0; i < 4; i++)
            EXPECT(heap[i] == (short)(-from * 10 - i), "MPI_BOTTOM transfer: short[%d] %d", i,
                   heap[i]);
    }
    EXPECT_OK(MPI_Type_free(&t));
    free(heap);
}

/* ---- packing ----------------------------------------------------------------------------------- */

static void pack_sequence(MPI_Comm comm)
{
    /* items of different types, one after the other in one buffer */
    int i1 = 7, m[3][4];
    double d1 = -2.5;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++) m[r][c] = 10 * r + c;
    MPI_Datatype col, col1;
    EXPECT_OK(MPI_Type_vector(3, 1, 4, MPI_INT, &col1));
    /* one int wide, so that consecutive columns are consecutive elements */
    EXPECT_OK(MPI_Type_create_resized(col1, 0, sizeof(int), &col));
    EXPECT_OK(MPI_Type_free(&col1));
    EXPECT_OK(MPI_Type_commit(&col));
    int s1, s2, s3, pos = 0;
    EXPECT_OK(MPI_Pack_size(1, MPI_INT, comm, &s1));
    EXPECT_OK(MPI_Pack_size(2, col, comm, &s2));
    EXPECT_OK(MPI_Pack_size(1, MPI_DOUBLE, comm, &s3));
    char *buf = malloc((size_t)(s1 + s2 + s3));
    EXPECT_OK(MPI_Pack(&i1, 1, MPI_INT, buf, s1 + s2 + s3, &pos, comm));
    EXPECT_OK(MPI_Pack(&m[0][1], 2, col, buf, s1 + s2 + s3, &pos, comm));
    EXPECT_OK(MPI_Pack(&d1, 1, MPI_DOUBLE, buf, s1 + s2 + s3, &pos, comm));
    EXPECT(pos == 4 + 24 + 8, "packed %d bytes", pos);
    int ri = 0, rm[3][4];
    double rd = 0;
    memset(rm, 0x7f, sizeof rm);
    int at = 0;
    EXPECT_OK(MPI_Unpack(buf, pos, &at, &ri, 1, MPI_INT, comm));
    EXPECT_OK(MPI_Unpack(buf, pos, &at, &rm[0][1], 2, col, comm));
    EXPECT_OK(MPI_Unpack(buf, pos, &at, &rd, 1, MPI_DOUBLE, comm));
    EXPECT(at == pos && ri == 7 && rd == -2.5, "unpacked %d %g at %d", ri, rd, at);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            EXPECT(rm[r][c] == (c == 1 || c == 2 ? 10 * r + c : 0x7f7f7f7f),
                   "unpacked columns m[%d][%d] = %d", r, c, rm[r][c]);
    /* what one rank packs, another unpacks */
    int from, to = partner(comm, &from), me;
    MPI_Comm_rank(comm, &me);
    if (to >= 0) {
        i1 = 100 + me;
        pos = 0;
        EXPECT_OK(MPI_Pack(&i1, 1, MPI_INT, buf, s1 + s2 + s3, &pos, comm));
        EXPECT_OK(MPI_Pack(&m[0][1], 2, col, buf, s1 + s2 + s3, &pos, comm));
        EXPECT_OK(MPI_Sendrecv_replace(buf, pos, MPI_PACKED, to, 3, from, 3, comm,
                                       MPI_STATUS_IGNORE));
        at = 0;
        EXPECT_OK(MPI_Unpack(buf, pos, &at, &ri, 1, MPI_INT, comm));
        EXPECT(ri == 100 + from, "MPI_PACKED from %d: %d", from, ri);
    }
    free(buf);
    EXPECT_OK(MPI_Type_free(&col));
}

static void external32(MPI_Comm comm)
{
    (void)comm;
    /* big-endian, standard sizes (MPI_LONG is 4 bytes in external32, as in the guest) */
    int32_t iv[2] = {0x01020304, -2};
    double dv = 1.0;
    short sv = 0x0A0B;
    long lv = 0x11223344;
    unsigned char buf[64];
    MPI_Aint pos = 0, sz = -1;
    EXPECT_OK(MPI_Pack_external_size("external32", 2, MPI_INT, &sz));
    EXPECT(sz == 8, "Pack_external_size(2, INT) = %ld", (long)sz);
    EXPECT_OK(MPI_Pack_external("external32", iv, 2, MPI_INT, buf, sizeof buf, &pos));
    EXPECT_OK(MPI_Pack_external("external32", &dv, 1, MPI_DOUBLE, buf, sizeof buf, &pos));
    EXPECT_OK(MPI_Pack_external("external32", &sv, 1, MPI_SHORT, buf, sizeof buf, &pos));
    EXPECT_OK(MPI_Pack_external("external32", &lv, 1, MPI_LONG, buf, sizeof buf, &pos));
    static const unsigned char want[] = {1, 2, 3, 4, 0xff, 0xff, 0xff, 0xfe,
                                         0x3f, 0xf0, 0, 0, 0, 0, 0, 0,
                                         0x0a, 0x0b, 0x11, 0x22, 0x33, 0x44};
    EXPECT(pos == (MPI_Aint)sizeof want && first_diff(buf, want, sizeof want) < 0,
           "external32: %ld bytes, first difference at %d", (long)pos,
           first_diff(buf, want, sizeof want));
    /* a strided type packs its elements only */
    int m[6] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15};
    MPI_Datatype v;
    EXPECT_OK(MPI_Type_vector(3, 1, 2, MPI_INT, &v));
    EXPECT_OK(MPI_Type_commit(&v));
    EXPECT_OK(MPI_Pack_external_size("external32", 1, v, &sz));
    EXPECT(sz == 12, "Pack_external_size(vector) = %ld", (long)sz);
    MPI_Aint p2 = 0;
    EXPECT_OK(MPI_Pack_external("external32", m, 1, v, buf, sizeof buf, &p2));
    static const unsigned char wv[] = {0, 0, 0, 0x10, 0, 0, 0, 0x12, 0, 0, 0, 0x14};
    EXPECT(p2 == 12 && first_diff(buf, wv, 12) < 0, "external32 vector");
    /* and back */
    int back[6] = {-1, -1, -1, -1, -1, -1};
    MPI_Aint at = 0;
    EXPECT_OK(MPI_Unpack_external("external32", buf, p2, &at, back, 1, v));
    EXPECT(at == 12 && back[0] == 0x10 && back[1] == -1 && back[2] == 0x12 && back[4] == 0x14 &&
           back[5] == -1, "Unpack_external vector: %d %d %d", back[0], back[1], back[2]);
    EXPECT_OK(MPI_Pack_external("external32", iv, 2, MPI_INT, buf, sizeof buf, &(MPI_Aint){0}));
    int32_t ib[2];
    at = 0;
    EXPECT_OK(MPI_Unpack_external("external32", buf, 8, &at, ib, 2, MPI_INT));
    EXPECT(ib[0] == 0x01020304 && ib[1] == -2, "Unpack_external ints %#x %d", ib[0], ib[1]);
    EXPECT_OK(MPI_Type_free(&v));
}

/* ---- binary128 long double between ranks -------------------------------------------------- */

static void long_double(MPI_Comm comm)
{
    int me, from, to = partner(comm, &from);
    MPI_Comm_rank(comm, &me);
    if (to < 0)
        return;
    /* values a double cannot hold: the 113-bit significand must arrive intact */
    long double v[6], r[6];
    for (int i = 0; i < 6; i++) {
        v[i] = (me + 1) / 3.0L + i * 1e-30L;
        r[i] = -1;
    }
    MPI_Status st;
    int n = -1;
    EXPECT_OK(MPI_Sendrecv(v, 6, MPI_LONG_DOUBLE, to, 1, r, 6, MPI_LONG_DOUBLE, from, 1, comm,
                           &st));
    EXPECT_OK(MPI_Get_count(&st, MPI_LONG_DOUBLE, &n));
    EXPECT(n == 6, "Get_count(LONG_DOUBLE) %d", n);
    for (int i = 0; i < 6; i++)
        EXPECT(r[i] == (from + 1) / 3.0L + i * 1e-30L, "long double [%d] from %d differs", i,
               from);
    /* strided: the holes stay */
    MPI_Datatype every2;
    EXPECT_OK(MPI_Type_vector(3, 1, 2, MPI_LONG_DOUBLE, &every2));
    EXPECT_OK(MPI_Type_commit(&every2));
    for (int i = 0; i < 6; i++) r[i] = -1;
    EXPECT_OK(MPI_Sendrecv(v, 1, every2, to, 2, r, 1, every2, from, 2, comm, MPI_STATUS_IGNORE));
    for (int i = 0; i < 6; i++)
        EXPECT(i % 2 ? r[i] == -1 : r[i] == (from + 1) / 3.0L + i * 1e-30L,
               "strided long double [%d]", i);
    EXPECT_OK(MPI_Type_free(&every2));
    long double _Complex c[2] = {(me + 1) / 7.0L + 1.0L / 9 * 1.0iL, -1.0L / 11 * 1.0iL}, rc[2];
    EXPECT_OK(MPI_Sendrecv(c, 2, MPI_C_LONG_DOUBLE_COMPLEX, to, 3, rc, 2,
                           MPI_C_LONG_DOUBLE_COMPLEX, from, 3, comm, MPI_STATUS_IGNORE));
    EXPECT(rc[0] == (from + 1) / 7.0L + 1.0L / 9 * 1.0iL && rc[1] == -1.0L / 11 * 1.0iL,
           "long double complex from %d differs", from);
    /* {long double, int}: 20 bytes of data in 32; the padding is not written */
    struct { long double v; int i; } li[2], lr[2];
    memset(lr, SENTINEL, sizeof lr);
    for (int i = 0; i < 2; i++) {
        li[i].v = (me + 1) / 13.0L;
        li[i].i = me * 10 + i;
    }
    EXPECT_OK(MPI_Sendrecv(li, 2, MPI_LONG_DOUBLE_INT, to, 4, lr, 2, MPI_LONG_DOUBLE_INT, from, 4,
                           comm, MPI_STATUS_IGNORE));
    for (int i = 0; i < 2; i++) {
        EXPECT(lr[i].v == (from + 1) / 13.0L && lr[i].i == from * 10 + i,
               "long double int [%d] from %d: %d", i, from, lr[i].i);
        const unsigned char *pad = (const unsigned char *)&lr[i] + 20;
        for (int b = 0; b < 12; b++)
            EXPECT(pad[b] == SENTINEL, "long double int [%d]: padding byte %d written", i, b);
    }
}

/* ---- element counts of partial receives ------------------------------------------------- */

static void elements(MPI_Comm comm)
{
    int from, to = partner(comm, &from);
    if (to < 0)
        return;
    /* 10 ints into a type of 4 ints: 2.5 elements, so no count but 10 basic elements */
    MPI_Datatype quad;
    EXPECT_OK(MPI_Type_contiguous(4, MPI_INT, &quad));
    EXPECT_OK(MPI_Type_commit(&quad));
    int s[10] = {0}, r[12];
    MPI_Status st;
    EXPECT_OK(MPI_Sendrecv(s, 10, MPI_INT, to, 7, r, 3, quad, from, 7, comm, &st));
    int count = 0, el = 0;
    MPI_Count elx = 0;
    EXPECT_OK(MPI_Get_count(&st, quad, &count));
    EXPECT_OK(MPI_Get_elements(&st, quad, &el));
    EXPECT_OK(MPI_Get_elements_x(&st, quad, &elx));
    EXPECT(count == MPI_UNDEFINED && el == 10 && elx == 10,
           "partial: Get_count %d (MPI_UNDEFINED = %d), Get_elements %d / %lld", count,
           MPI_UNDEFINED, el, (long long)elx);
    EXPECT_OK(MPI_Get_elements(&st, MPI_SHORT, &el));
    EXPECT(el == 20, "Get_elements(SHORT) of 40 bytes: %d", el);
    EXPECT_OK(MPI_Type_free(&quad));
}

/* ---- Fortran 90 parameterized types ------------------------------------------------------ */

static void f90(MPI_Comm comm)
{
    (void)comm;
    MPI_Datatype i9, r6, c15, again, bad = MPI_DATATYPE_NULL;
    EXPECT_OK(MPI_Type_create_f90_integer(9, &i9));
    EXPECT_OK(MPI_Type_create_f90_real(6, 37, &r6));
    EXPECT_OK(MPI_Type_create_f90_complex(15, 307, &c15));
    EXPECT_OK(MPI_Type_create_f90_real(6, 37, &again));
    EXPECT(again == r6, "the same (p, r) gave another handle");
    int si, sr, sc;
    MPI_Type_size(i9, &si);
    MPI_Type_size(r6, &sr);
    MPI_Type_size(c15, &sc);
    EXPECT(si >= 4 && sr == 4 && sc == 16, "sizes: integer(9) %d, real(6,37) %d, "
           "complex(15,307) %d", si, sr, sc);
    int ni, na, nd, comb, pr[2] = {0, 0};
    EXPECT_OK(MPI_Type_get_envelope(r6, &ni, &na, &nd, &comb));
    EXPECT(comb == MPI_COMBINER_F90_REAL && ni == 2 && na == 0 && nd == 0,
           "envelope: combiner %d, %d ints, %d addresses, %d types", comb, ni, na, nd);
    EXPECT_OK(MPI_Type_get_contents(r6, 2, 0, 0, pr, NULL, NULL));
    EXPECT(pr[0] == 6 && pr[1] == 37, "contents: p = %d, r = %d", pr[0], pr[1]);
    EXPECT_OK(MPI_Type_get_envelope(i9, &ni, &na, &nd, &comb));
    EXPECT(comb == MPI_COMBINER_F90_INTEGER, "integer(9): combiner %d", comb);
    /* a value round-trips through a self message of the parameterized type */
    float x = 2.5f, y = 0;
    EXPECT_OK(MPI_Sendrecv(&x, 1, r6, 0, 5, &y, 1, r6, 0, 5, MPI_COMM_SELF,
                           MPI_STATUS_IGNORE));
    EXPECT(y == 2.5f, "real(6,37) message: %g", (double)y);
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int rc = MPI_Type_create_f90_integer(40, &bad);
    EXPECT(rc != MPI_SUCCESS && bad == MPI_DATATYPE_NULL, "integer(40): rc %d", rc);
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
}

/* ---- bounds faults ------------------------------------------------------------------------- */

static int fault(const char *what)
{
    int rank, size, x;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == size - 1) {
        static int small[4];
        MPI_Datatype t;
        int one = 1;
        if (!strcmp(what, "oob-end")) {
            /* two ints 1 GiB apart: the second lies past the end of linear memory */
            MPI_Type_create_hvector(2, 1, 1 << 30, MPI_INT, &t);
        } else {
            /* data 1 GiB below the buffer, which is near the start of memory */
            MPI_Aint d = -(1 << 30);
            MPI_Type_create_hindexed(1, &one, &d, MPI_INT, &t);
        }
        MPI_Type_commit(&t);
        MPI_Send(small, 1, t, 0, 0, MPI_COMM_WORLD);
        printf("fault %s did not happen\n", what);
        return 1;
    }
    MPI_Recv(&x, 1, MPI_INT, size - 1, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Finalize();
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc > 1)
        return fault(argv[1]);
    T_INT = prim(4);
    T_DOUBLE = prim(8);
    T_SHORT = prim(2);
    T_CHAR = prim(1);
    for_each_comm(contiguous, "contiguous");
    for_each_comm(vector, "vector");
    for_each_comm(hvector, "hvector");
    for_each_comm(indexed, "indexed");
    for_each_comm(hindexed, "hindexed");
    for_each_comm(indexed_block, "indexed_block");
    for_each_comm(hindexed_block, "hindexed_block");
    for_each_comm(struct_type, "struct");
    for_each_comm(subarray, "subarray");
    for_each_comm(darray, "darray");
    for_each_comm(resized, "resized");
    for_each_comm(dup, "dup");
    for_each_comm(addresses, "addresses");
    for_each_comm(pack_sequence, "pack_sequence");
    for_each_comm(long_double, "long_double");
    for_each_comm(elements, "elements");
    run_case(predefined_contents, "predefined_contents", MPI_COMM_SELF, "self");
    run_case(match_size, "match_size", MPI_COMM_SELF, "self");
    run_case(names, "names", MPI_COMM_SELF, "self");
    run_case(external32, "external32", MPI_COMM_SELF, "self");
    run_case(f90, "f90", MPI_COMM_SELF, "self");
    return finish();
}
