/* Communicator special cases: MPI_Comm_create, whose group must be a subset of the
 * communicator's (local) group, MPI_Comm_idup, whose new handle exists only once its request
 * completes, and MPI_Comm_split_type, whose shared-memory groups are single ranks. */
#include "bridge.h"

/* Whether every member of `g` is in the (local) group of `comm`; an MPI error class otherwise
 * (MPICH asserts on an intercommunicator and Open MPI accepts an intracommunicator when a
 * member is not). */
static int group_within(MPI_Comm comm, MPI_Group g, int *within)
{
    MPI_Group local;
    int n = 0, rc = MPI_Group_size(g, &n);
    if (rc != MPI_SUCCESS)
        return rc;
    if ((rc = MPI_Comm_group(comm, &local)) != MPI_SUCCESS)
        return rc;
    int *r = malloc(2 * sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!r) {
        MPI_Group_free(&local);
        return MPI_ERR_NO_MEM;
    }
    for (int i = 0; i < n; i++)
        r[i] = i;
    rc = MPI_Group_translate_ranks(g, n, r, local, r + n);
    *within = 1;
    for (int i = 0; rc == MPI_SUCCESS && i < n; i++)
        if (r[n + i] == MPI_UNDEFINED)
            *within = 0;
    free(r);
    MPI_Group_free(&local);
    return rc;
}

CALLBACK(MPI_Comm_create)
{
#define FN "MPI_Comm_create"
    COMM_ARG(comm, 0);
    HANDLE_ARG(K_GROUP, group, g, sg, 1);
    CHECK_OUT(a[2].i32, 4);
    int within = 0, rc = group_within(comm, g, &within);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    if (!within)
        return fail(a, ABI_ERR_GROUP, errslot, FN);
    MPI_Comm nc;
    rc = MPI_Comm_create(comm, g, &nc);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[2].i32, new_comm(nc, errslot));
    return done(a, rc, errslot, FN);
#undef FN
}

/* MPI_Comm_idup: the host may write the new communicator only when the request completes
 * (Open MPI does), so its MPI_Comm lives in state owned by the request, and the guest handle
 * is made and stored by the completion hook. */
typedef struct {
    MPI_Comm comm;
    uint32_t dst;  /* the guest's newcomm */
    int32_t eh;    /* the parent's error handler, inherited even if the parent is freed first */
} idup_state;

static void idup_complete(void *p, int ok)
{
    idup_state *st = p;
    if (ok) {
        int32_t g = new_comm(st->comm, -1);
        slot_t *s = lookup(K_COMM, g);
        if (s && !s->predefined)
            s->eh = st->eh;
        store_i32(st->dst, g);
    }
    free(st);
}

/* MPI_Comm_idup, and MPI_Comm_idup_with_info (MPI-4) when `with_info`: arguments shift by one */
static wasm_trap_t *idup(wasmtime_val_raw_t *a, int with_info, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 0);
    MPI_Info info = MPI_INFO_NULL;
    if (with_info) {
        NEED_HOST4(MPI_Comm_idup_with_info);
        HANDLE_ARG(K_INFO, info, i_, si_, 1);
        info = i_;
    }
    uint32_t dst = (uint32_t)a[1 + with_info].i32, rp = (uint32_t)a[2 + with_info].i32;
    CHECK_OUT(dst, 4);
    CHECK_OUT(rp, 4);
    idup_state *st = malloc(sizeof *st);
    if (!st)
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    st->comm = MPI_COMM_NULL;
    st->dst = dst;
    st->eh = COMM_SLOT(comm)->eh;
    MPI_Request r;
    int rc = with_info ? HOST4(MPI_Comm_idup_with_info)(comm, info, &st->comm, &r)
                       : MPI_Comm_idup(comm, &st->comm, &r);
    if (rc != MPI_SUCCESS) {
        free(st);
        return done(a, rc, errslot, FN);
    }
    int32_t g = new_request(r, errslot);
    slot_t *s = lookup(K_REQUEST, g);
    if (s && !s->predefined) {
        s->on_complete = idup_complete;
        s->state = st;
    } else { /* already complete */
        idup_complete(st, 1);
    }
    store_i32(rp, g);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Comm_idup) { return idup(a, 0, "MPI_Comm_idup"); }
CALLBACK(MPI_Comm_idup_with_info) { return idup(a, 1, "MPI_Comm_idup_with_info"); }

/* MPI_COMM_TYPE_SHARED groups the processes that can share memory: a rank's linear memory is
 * its own (no other rank can load or store it), so each rank is a group of one, which is
 * what MPI_Win_allocate_shared accepts (docs/rma.md). MPI_UNDEFINED, which some ranks may pass
 * while the others pass MPI_COMM_TYPE_SHARED, must then be the same host collective (Open MPI
 * hangs on a split_type that meets a split). Other split types are the host's. */
CALLBACK(MPI_Comm_split_type)
{
#define FN "MPI_Comm_split_type"
    COMM_ARG(comm, 0);
    HANDLE_ARG(K_INFO, info, info, si, 3);
    CHECK_OUT(a[4].i32, 4);
    int type = a[1].i32, key = a[2].i32;
    MPI_Comm nc;
    int rc = type == ABI_COMM_TYPE_SHARED || type == ABI_UNDEFINED
           ? MPI_Comm_split(comm, type == ABI_UNDEFINED ? MPI_UNDEFINED : COMM_SLOT(comm)->rank,
                            key, &nc)
           : MPI_Comm_split_type(comm, in_split_type(type), key, info, &nc);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[4].i32, new_comm(nc, errslot));
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- names of MPI_COMM_WORLD and MPI_COMM_SELF ---------------------------------------------
 * They live in the bridge. Open MPI 5.0.11 keeps each predefined communicator's name in a
 * buffer the size of its default name, and MPI_Comm_set_name copies up to MPI_MAX_OBJECT_NAME
 * bytes into it: a name longer than "MPI_COMM_WORLD" overwrote the host's heap (glibc aborted
 * in MPI_Finalize; found by the fuzzer). Other communicators' names are the host's. */
static char predef_name[2][ABI_MAX_OBJECT_NAME];
static int predef_named[2];

static int predef_index(MPI_Comm c)
{
    return c == MPI_COMM_WORLD ? 0 : c == MPI_COMM_SELF ? 1 : -1;
}

CALLBACK(MPI_Comm_set_name)
{
#define FN "MPI_Comm_set_name"
    COMM_ARG(c, 0);
    const char *name;
    CHECK_STR(name, a[1].i32);
    int k = predef_index(c);
    if (k < 0)
        return done(a, MPI_Comm_set_name(c, name), errslot, FN);
    /* truncated like the host's names (MPI-4.1 7.8) */
    snprintf(predef_name[k], sizeof predef_name[k], "%s", name);
    predef_named[k] = 1;
    return ok(a);
#undef FN
}

CALLBACK(MPI_Comm_get_name)
{
#define FN "MPI_Comm_get_name"
    COMM_ARG(c, 0);
    uint32_t p1 = (uint32_t)a[1].i32;
    CHECK_OUT(p1, ABI_MAX_OBJECT_NAME);
    uint32_t p2 = (uint32_t)a[2].i32;
    CHECK_OUT(p2, 4);
    int k = predef_index(c);
    if (k >= 0 && predef_named[k]) {
        store_i32(p2, put_string(p1, predef_name[k], ABI_MAX_OBJECT_NAME));
        return ok(a);
    }
    char name[MPI_MAX_OBJECT_NAME + 1];
    int len = 0;
    name[0] = 0;
    int rc = MPI_Comm_get_name(c, name, &len);
    if (rc == MPI_SUCCESS)
        store_i32(p2, put_string(p1, name, ABI_MAX_OBJECT_NAME));
    return done(a, rc, errslot, FN);
#undef FN
}
