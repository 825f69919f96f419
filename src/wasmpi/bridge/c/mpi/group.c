/* Group special cases: MPI_Group_translate_ranks checks ranks1 against group1 (Open MPI
 * reads past its group for an out-of-range rank and crashes); MPI_Group_free accepts
 * MPI_GROUP_EMPTY, which constructors return for an empty result and programs free as any
 * other group. */
#include "bridge.h"

CALLBACK(MPI_Group_free)
{
#define FN "MPI_Group_free"
    ERRSLOT;
    uint32_t p = (uint32_t)a[0].i32;
    CHECK_OUT(p, 4);
    slot_t *s = lookup(K_GROUP, load_i32(p));
    if (!s || s->guest == guest_null[K_GROUP])
        return fail(a, ABI_ERR_GROUP, errslot, FN);
    MPI_Group h = s->h.group;
    int rc = MPI_SUCCESS;
    if (!s->predefined) {
        rc = MPI_Group_free(&h);
        if (rc == MPI_SUCCESS)
            slot_free(K_GROUP, s);
    } else if (g_empty_group_refs > 0) { /* else the host never handed it out: nothing to drop */
        rc = MPI_Group_free(&h);
        if (rc == MPI_SUCCESS)
            g_empty_group_refs--;
    }
    if (rc == MPI_SUCCESS)
        store_i32(p, guest_null[K_GROUP]);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Group_translate_ranks)
{
#define FN "MPI_Group_translate_ranks"
    ERRSLOT;
    HANDLE_ARG(K_GROUP, group, g1, s1, 0);
    HANDLE_ARG(K_GROUP, group, g2, s2, 3);
    int n = a[1].i32;
    if (n < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    uint32_t in = (uint32_t)a[2].i32, out = (uint32_t)a[4].i32;
    CHECK_ARRAY(in, n, 4, "ranks1 array");
    CHECK_ARRAY(out, n, 4, "ranks2 array");
    int size1 = 0, rc = MPI_Group_size(g1, &size1);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    SCRATCH_FRAME;
    SCRATCH(r, int, n);
    for (int i = 0; i < n; i++) {
        int x = load_i32(in + 4 * (uint32_t)i);
        if (x == ABI_PROC_NULL)
            x = MPI_PROC_NULL;
        else if (x < 0 || x >= size1)
            return fail(a, ABI_ERR_RANK, errslot, FN);
        r[i] = x;
    }
    int *res = (int *)GPTR(out);
    rc = MPI_Group_translate_ranks(g1, n, r, g2, res);
    if (rc == MPI_SUCCESS)
        for (int i = 0; i < n; i++)
            res[i] = out_rank(res[i]);
    return done(a, rc, errslot, FN);
#undef FN
}
