/* Requests: completion calls, persistent requests, cancellation, generalized requests.
 * A completed request's slot is freed and the guest handle nulled; a request can carry
 * state that must live until it completes (translated argument arrays, a communicator being
 * created by MPI_Comm_idup), released by its on_complete hook. */
#include "bridge.h"

/* The errslot (communicator, window or file) whose error handler reports on a request
 * (MPI_COMM_WORLD's for MPI_REQUEST_NULL, or when the object is gone). */
int32_t request_errslot(const slot_t *r)
{
    int32_t c = r ? r->cslot : 0, kind;
    if (c > 0 && errslot_object(c, &kind)) /* a communicator, window or file */
        return c;
    return world_slot();
}

/* After a completion call: free the slot of a finished request and null the guest handle. */
void request_settle(int32_t *g, slot_t *s, MPI_Request h, int ok)
{
    if (s->predefined)
        return;
    if (h == MPI_REQUEST_NULL) {
        if (s->on_complete)
            s->on_complete(s->state, ok);
        s->on_complete = NULL;
        slot_free(K_REQUEST, s);
        *g = ABI_REQUEST_NULL;
    } else {
        s->h.request = h; /* persistent requests stay */
    }
}

/* one request argument: guest handle at guest address rp */
#define REQUEST_ARG(rp, idx) \
    uint32_t rp = (uint32_t)a[idx].i32; \
    CHECK_OUT(rp, 4); \
    int32_t g_ = load_i32(rp); \
    slot_t *s = lookup(K_REQUEST, g_); \
    if (!s) \
        return fail(a, ABI_ERR_REQUEST, errslot, FN); \
    errslot = request_errslot(s); \
    MPI_Request h = s->h.request

static void settle_one(uint32_t rp, int32_t g, MPI_Request h, int ok)
{
    slot_t *s = lookup(K_REQUEST, g); /* again: a guest callback may have grown the table */
    if (s) {
        request_settle(&g, s, h, ok);
        store_i32(rp, g);
    }
}

CALLBACK(MPI_Wait)
{
#define FN "MPI_Wait"
    ERRSLOT;
    REQUEST_ARG(rp, 0);
    STATUS_ARG(st, 1);
    int rc = MPI_Wait(&h, st ? st : MPI_STATUS_IGNORE);
    settle_one(rp, g_, h, rc == MPI_SUCCESS);
    STATUS_DONE(st, rc);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Test)
{
#define FN "MPI_Test"
    ERRSLOT;
    REQUEST_ARG(rp, 0);
    CHECK_OUT(a[1].i32, 4);
    STATUS_ARG(st, 2);
    int flag = 0;
    int rc = MPI_Test(&h, &flag, st ? st : MPI_STATUS_IGNORE);
    store_i32((uint32_t)a[1].i32, flag);
    if (flag) {
        settle_one(rp, g_, h, rc == MPI_SUCCESS);
        STATUS_DONE(st, rc);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Request_get_status)
{
#define FN "MPI_Request_get_status"
    ERRSLOT;
    slot_t *s = lookup(K_REQUEST, a[0].i32);
    if (!s)
        return fail(a, ABI_ERR_REQUEST, errslot, FN);
    errslot = request_errslot(s);
    CHECK_OUT(a[1].i32, 4);
    STATUS_ARG(st, 2);
    int flag = 0;
    int rc = MPI_Request_get_status(s->h.request, &flag, st ? st : MPI_STATUS_IGNORE);
    store_i32((uint32_t)a[1].i32, flag);
    if (flag)
        STATUS_DONE(st, rc);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Cancel)
{
#define FN "MPI_Cancel"
    ERRSLOT;
    REQUEST_ARG(rp, 0);
    /* erroneous for a collective's request (MPI-4.1 6.12, 6.13): refused before the host sees
     * it (MPICH asserts, Open MPI 5 waits forever; found by the fuzzer) */
    if (s->collective)
        return fail(a, ABI_ERR_REQUEST, errslot, FN);
    return done(a, MPI_Cancel(&h), errslot, FN);
#undef FN
}

/* A persistent collective's request still running (erroneous to start again, or to free:
 * MPI-4.1 6.13). Open MPI 5.0.11 reused the running libnbc schedule and its request list
 * broke: a later nonblocking collective segfaulted in NBC_Schedule_request (fuzz seed 47). */
static int running_collective(const slot_t *s)
{
    int flag = 0;
    return s->collective == 2 &&
           (MPI_Request_get_status(s->h.request, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS ||
            !flag);
}

CALLBACK(MPI_Start)
{
#define FN "MPI_Start"
    ERRSLOT;
    REQUEST_ARG(rp, 0);
    if (running_collective(s))
        return fail(a, ABI_ERR_REQUEST, errslot, FN);
    int rc = MPI_Start(&h);
    if (rc == MPI_SUCCESS && (s = lookup(K_REQUEST, g_)))
        s->h.request = h;
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- generalized requests -------------------------------------------------------------------
 * The host MPI calls the bridge's trampolines with a bridge-side record as extra_state; each
 * calls the guest's function (a table index) with the guest's own extra_state. The record
 * lives until the host calls free_fn, which the standard guarantees happens exactly once. A
 * null guest function does nothing and succeeds.
 * MPI_Request_free before MPI_Grequest_complete is allowed, and the guest then completes the
 * request through its own copy of the handle: the slot stays until that completion. */
typedef struct greq greq_t;
struct greq {
    uint32_t query, free, cancel, extra;
    int completed, guest_freed;
};

/* marks a generalized request's slot (state: its record); nothing to do on completion, the
 * host has called free_fn by then */
static void greq_settled(void *state, int ok)
{
    (void)state;
    (void)ok;
}

static greq_t *greq_of(const slot_t *s)
{
    return s && s->on_complete == greq_settled ? s->state : NULL;
}

/* an incomplete generalized request: freeing it must keep its slot (the record is alive) */
static greq_t *greq_pending(const slot_t *s)
{
    greq_t *g = greq_of(s);
    return g && !g->completed ? g : NULL;
}

CALLBACK(MPI_Request_free)
{
#define FN "MPI_Request_free"
    ERRSLOT;
    REQUEST_ARG(rp, 0);
    if (s->predefined)
        return fail(a, ABI_ERR_REQUEST, errslot, FN);
    /* erroneous for a nonblocking collective's request, and for an active persistent
     * collective's (MPI-4.1 6.12, 6.13): Open MPI 5.0.11 put the libnbc request back on its
     * free list while the schedule still ran, and a later nonblocking collective segfaulted in
     * NBC_Schedule_request (fuzz seed 47) */
    if (s->collective == 1)
        return fail(a, ABI_ERR_REQUEST, errslot, FN);
    if (running_collective(s))
        return fail(a, ABI_ERR_REQUEST, errslot, FN);
    /* read before the host may run the guest's free_fn */
    greq_t *keep = greq_pending(s);
    int rc = MPI_Request_free(&h);
    if (rc == MPI_SUCCESS && keep) {
        keep->guest_freed = 1;
        store_i32(rp, ABI_REQUEST_NULL);
    } else if (rc == MPI_SUCCESS)
        settle_one(rp, g_, MPI_REQUEST_NULL, 1);
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- arrays of requests ------------------------------------------------------------------ */

/* Translate the guest request array at `gp` (n entries) into hr; 0 on a bad handle, or on a
 * request that is in the array twice: completing it twice is erroneous, and Open MPI 5.0.11's
 * MPI_Testall returned a libnbc request to its free list twice, so that a later nonblocking
 * collective segfaulted in NBC_Schedule_request (fuzz seed 47). */
static int requests_in(uint32_t gp, int n, MPI_Request *hr, int32_t *errslot)
{
    static uint32_t epoch;
    if (++epoch == 0) { /* wrapped: no slot may keep a mark of this new round */
        for (int32_t i = 0; i < T[K_REQUEST].n; i++)
            T[K_REQUEST].s[i].mark = 0;
        epoch = 1;
    }
    int32_t es = -1;
    for (int i = 0; i < n; i++) {
        slot_t *s = lookup(K_REQUEST, load_i32(gp + 4 * (uint32_t)i));
        if (!s)
            return 0;
        if (!s->predefined) {
            if (s->mark == epoch)
                return 0;
            s->mark = epoch;
        }
        hr[i] = s->h.request;
        if (es < 0 && !s->predefined)
            es = request_errslot(s);
    }
    if (es >= 0)
        *errslot = es;
    return 1;
}

static void request_out(uint32_t gp, int i, const MPI_Request *hr, int ok)
{
    uint32_t rp = gp + 4 * (uint32_t)i;
    settle_one(rp, load_i32(rp), hr[i], ok);
}

#define MULTI_ARGS(nidx, ridx) \
    int n = a[nidx].i32; \
    if (n < 0) return fail(a, ABI_ERR_ARG, errslot, FN); \
    uint32_t gp = (uint32_t)a[ridx].i32; \
    CHECK_ARRAY(gp, n, 4, "request array"); \
    /* a few requests (the common case) live on the stack; more in a scratch frame */ \
    MPI_Request hr_[8]; \
    MPI_Status hst_[8]; \
    MPI_Request *hr = hr_; \
    MPI_Status *hst = hst_; \
    scratch_mark_t frame_ __attribute__((cleanup(scratch_release_if))) = SCRATCH_UNMARKED; \
    if (n > 8) { \
        frame_ = scratch_mark(); \
        hr = scratch_alloc(sizeof *hr * (size_t)n); \
        hst = scratch_alloc(sizeof *hst * (size_t)n); \
        if (!hr || !hst) return fail(a, ABI_ERR_NO_MEM, errslot, FN); \
    } \
    if (!requests_in(gp, n, hr, &errslot)) return fail(a, ABI_ERR_REQUEST, errslot, FN)
#define STATUSES_ARG(idx, n) \
    uint32_t sp = (uint32_t)a[idx].i32; \
    if (sp) CHECK_ARRAY(sp, (n), STATUS_SIZE, "status array"); \
    MPI_Status *hs = sp ? hst : MPI_STATUSES_IGNORE

CALLBACK(MPI_Waitall)
{
#define FN "MPI_Waitall"
    ERRSLOT;
    MULTI_ARGS(0, 1);
    STATUSES_ARG(2, n);
    int rc = MPI_Waitall(n, hr, hs);
    int in_status = rc != MPI_SUCCESS && abi_error(rc) == ABI_ERR_IN_STATUS;
    for (int i = 0; i < n; i++) {
        request_out(gp, i, hr, rc == MPI_SUCCESS);
        if (sp && (rc == MPI_SUCCESS || in_status))
            status_out(sp + (uint32_t)i * STATUS_SIZE, &hst[i], in_status);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Testall)
{
#define FN "MPI_Testall"
    ERRSLOT;
    MULTI_ARGS(0, 1);
    CHECK_OUT(a[2].i32, 4);
    STATUSES_ARG(3, n);
    int flag = 0;
    int rc = MPI_Testall(n, hr, &flag, hs);
    store_i32((uint32_t)a[2].i32, flag);
    int in_status = rc != MPI_SUCCESS && abi_error(rc) == ABI_ERR_IN_STATUS;
    if (flag || in_status)
        for (int i = 0; i < n; i++) {
            request_out(gp, i, hr, rc == MPI_SUCCESS);
            if (sp)
                status_out(sp + (uint32_t)i * STATUS_SIZE, &hst[i], in_status);
        }
    return done(a, rc, errslot, FN);
#undef FN
}

static wasm_trap_t *any_common(wasmtime_val_raw_t *a, int test, const char *fn)
{
#define FN fn
    ERRSLOT;
    MULTI_ARGS(0, 1);
    CHECK_OUT(a[2].i32, 4);
    int flag = 1, sidx = 3, idx = MPI_UNDEFINED;
    if (test) {
        CHECK_OUT(a[3].i32, 4);
        sidx = 4;
    }
    STATUS_ARG(st, sidx);
    int rc = test ? MPI_Testany(n, hr, &idx, &flag, st ? st : MPI_STATUS_IGNORE)
                  : MPI_Waitany(n, hr, &idx, st ? st : MPI_STATUS_IGNORE);
    if (idx != MPI_UNDEFINED && idx >= 0 && idx < n)
        request_out(gp, idx, hr, rc == MPI_SUCCESS);
    if (flag)
        STATUS_DONE(st, rc);
    store_i32((uint32_t)a[2].i32, out_undef(idx));
    if (test)
        store_i32((uint32_t)a[3].i32, flag);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Waitany) { return any_common(a, 0, "MPI_Waitany"); }
CALLBACK(MPI_Testany) { return any_common(a, 1, "MPI_Testany"); }

static wasm_trap_t *some_common(wasmtime_val_raw_t *a, int test, const char *fn)
{
#define FN fn
    ERRSLOT;
    MULTI_ARGS(0, 1);
    CHECK_OUT(a[2].i32, 4);
    CHECK_ARRAY(a[3].i32, n, 4, "index array");
    int *indices = (int *)GPTR(a[3].i32);
    STATUSES_ARG(4, n);
    int outcount = 0;
    int rc = test ? MPI_Testsome(n, hr, &outcount, indices, hs)
                  : MPI_Waitsome(n, hr, &outcount, indices, hs);
    int in_status = rc != MPI_SUCCESS && abi_error(rc) == ABI_ERR_IN_STATUS;
    if (outcount != MPI_UNDEFINED)
        for (int k = 0; k < outcount; k++) {
            request_out(gp, indices[k], hr, rc == MPI_SUCCESS);
            if (sp)
                status_out(sp + (uint32_t)k * STATUS_SIZE, &hst[k], in_status);
        }
    store_i32((uint32_t)a[2].i32, out_undef(outcount));
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Waitsome) { return some_common(a, 0, "MPI_Waitsome"); }
CALLBACK(MPI_Testsome) { return some_common(a, 1, "MPI_Testsome"); }

CALLBACK(MPI_Startall)
{
#define FN "MPI_Startall"
    ERRSLOT;
    MULTI_ARGS(0, 1);
    for (int i = 0; i < n; i++) {
        slot_t *s = lookup(K_REQUEST, load_i32(gp + 4 * (uint32_t)i));
        if (s && running_collective(s))
            return fail(a, ABI_ERR_REQUEST, errslot, FN);
    }
    int rc = MPI_Startall(n, hr);
    if (rc == MPI_SUCCESS)
        for (int i = 0; i < n; i++) {
            slot_t *s = lookup(K_REQUEST, load_i32(gp + 4 * (uint32_t)i));
            if (s && !s->predefined)
                s->h.request = hr[i];
        }
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- generalized requests: the host's callbacks and the calls ---------------------------- */

/* host error code for the guest callback's return value (an ABI error code) */
static int greq_rc(int32_t rc)
{
    if (rc == 0)
        return MPI_SUCCESS;
    int h = abi_to_class(rc);
    return h > 0 ? h : MPI_ERR_OTHER;
}

static int greq_query(void *extra, MPI_Status *st)
{
    const greq_t *g = extra;
    if (!g->query)
        return MPI_SUCCESS;
    uint32_t gst = guest_alloc(STATUS_SIZE);
    if (!gst)
        return MPI_ERR_NO_MEM;
    /* a status as for an empty message: the query function may set only some fields */
    MPI_Status empty;
    memset(&empty, 0, sizeof empty);
    empty.MPI_SOURCE = MPI_ANY_SOURCE;
    empty.MPI_TAG = MPI_ANY_TAG;
    MPI_Status_set_elements_x(&empty, MPI_BYTE, 0);
    MPI_Status_set_cancelled(&empty, 0);
    memset(GPTR(gst), 0, STATUS_SIZE);
    status_out(gst, &empty, 0);
    int32_t rc = 0;
    if (upcall(g->query, (int32_t[]){(int32_t)g->extra, (int32_t)gst}, 2, &rc,
               "generalized request query function (MPI_Grequest_start)") != 0)
        rc = ABI_ERR_OTHER;
    if (st != MPI_STATUS_IGNORE)
        status_in(gst, st);
    guest_free(gst);
    return greq_rc(rc);
}

static int greq_free(void *extra)
{
    greq_t *g = extra;
    int32_t rc = 0;
    if (g->free && upcall(g->free, (int32_t[]){(int32_t)g->extra}, 1, &rc,
                          "generalized request free function (MPI_Grequest_start)") != 0)
        rc = ABI_ERR_OTHER;
    free(g);
    return greq_rc(rc);
}

static int greq_cancel(void *extra, int complete)
{
    const greq_t *g = extra;
    int32_t rc = 0;
    if (g->cancel &&
        upcall(g->cancel, (int32_t[]){(int32_t)g->extra, complete != 0}, 2, &rc,
               "generalized request cancel function (MPI_Grequest_start)") != 0)
        rc = ABI_ERR_OTHER;
    return greq_rc(rc);
}

CALLBACK(MPI_Grequest_start)
{
#define FN "MPI_Grequest_start"
    ERRSLOT;
    uint32_t rp = (uint32_t)a[4].i32;
    CHECK_OUT(rp, 4);
    greq_t *g = malloc(sizeof *g);
    if (!g)
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    *g = (greq_t){(uint32_t)a[0].i32, (uint32_t)a[1].i32, (uint32_t)a[2].i32,
                  (uint32_t)a[3].i32, 0, 0};
    MPI_Request h;
    int rc = MPI_Grequest_start(greq_query, greq_free, greq_cancel, g, &h);
    if (rc != MPI_SUCCESS) {
        free(g);
        return done(a, rc, errslot, FN);
    }
    int32_t r = new_request(h, errslot);
    slot_t *s = lookup(K_REQUEST, r);
    if (s) {
        s->on_complete = greq_settled;
        s->state = g;
    }
    store_i32(rp, r);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Grequest_complete)
{
#define FN "MPI_Grequest_complete"
    ERRSLOT;
    slot_t *s = lookup(K_REQUEST, a[0].i32);
    if (!s || s->predefined)
        return fail(a, ABI_ERR_REQUEST, errslot, FN);
    errslot = request_errslot(s);
    greq_t *g = greq_of(s);
    /* only a generalized request, once: Open MPI 5 segfaulted on any other request (fuzz
     * seeds 169, 216) */
    if (!g || g->completed)
        return fail(a, ABI_ERR_REQUEST, errslot, FN);
    /* read before the host may run the guest's free_fn, which ends the record */
    int drop = g->guest_freed;
    g->completed = 1;
    int32_t guest = s->guest;
    int rc = MPI_Grequest_complete(s->h.request);
    if (rc == MPI_SUCCESS && drop && (s = lookup(K_REQUEST, guest)))
        slot_free(K_REQUEST, s);
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- MPI-4.1: request statuses without completion, status accessors ----------------------- */

/* the host's Request_get_status_any/all/some leave every request as it is: nothing to settle */
CALLBACK(MPI_Request_get_status_any)
{
#define FN "MPI_Request_get_status_any"
    ERRSLOT;
    MULTI_ARGS(0, 1); /* first: the requests' communicator reports */
    NEED_HOST4(MPI_Request_get_status_any);
    CHECK_OUT(a[2].i32, 4);
    CHECK_OUT(a[3].i32, 4);
    STATUS_ARG(st, 4);
    int idx = MPI_UNDEFINED, flag = 0;
    int rc = HOST4(MPI_Request_get_status_any)(n, hr, &idx, &flag, st ? st : MPI_STATUS_IGNORE);
    store_i32((uint32_t)a[2].i32, out_undef(idx));
    store_i32((uint32_t)a[3].i32, flag);
    if (flag)
        STATUS_DONE(st, rc);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Request_get_status_all)
{
#define FN "MPI_Request_get_status_all"
    ERRSLOT;
    MULTI_ARGS(0, 1); /* first: the requests' communicator reports */
    NEED_HOST4(MPI_Request_get_status_all);
    CHECK_OUT(a[2].i32, 4);
    STATUSES_ARG(3, n);
    int flag = 0;
    int rc = HOST4(MPI_Request_get_status_all)(n, hr, &flag, hs);
    store_i32((uint32_t)a[2].i32, flag);
    int in_status = rc != MPI_SUCCESS && abi_error(rc) == ABI_ERR_IN_STATUS;
    if ((flag || in_status) && sp)
        for (int i = 0; i < n; i++)
            status_out(sp + (uint32_t)i * STATUS_SIZE, &hst[i], in_status);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Request_get_status_some)
{
#define FN "MPI_Request_get_status_some"
    ERRSLOT;
    MULTI_ARGS(0, 1); /* first: the requests' communicator reports */
    NEED_HOST4(MPI_Request_get_status_some);
    CHECK_OUT(a[2].i32, 4);
    CHECK_ARRAY(a[3].i32, n, 4, "index array");
    STATUSES_ARG(4, n);
    int outcount = 0;
    int rc = HOST4(MPI_Request_get_status_some)(n, hr, &outcount, (int *)GPTR(a[3].i32), hs);
    int in_status = rc != MPI_SUCCESS && abi_error(rc) == ABI_ERR_IN_STATUS;
    if (outcount != MPI_UNDEFINED && sp)
        for (int k = 0; k < outcount && k < n; k++)
            status_out(sp + (uint32_t)k * STATUS_SIZE, &hst[k], in_status);
    store_i32((uint32_t)a[2].i32, out_undef(outcount));
    return done(a, rc, errslot, FN);
#undef FN
}

/* The guest's MPI_Status is the ABI's {MPI_SOURCE, MPI_TAG, MPI_ERROR, ...}, holding ABI
 * values: the accessors read and write its words, and need no host function. */
static wasm_trap_t *status_word(wasmtime_val_raw_t *a, int word, int set, const char *fn)
{
#define FN fn
    ERRSLOT;
    uint32_t sp = (uint32_t)a[0].i32;
    CHECK_OUT(sp, STATUS_SIZE);
    if (set) {
        store_i32(sp + 4 * (uint32_t)word, a[1].i32);
    } else {
        CHECK_OUT(a[1].i32, 4);
        store_i32((uint32_t)a[1].i32, load_i32(sp + 4 * (uint32_t)word));
    }
    return ok(a);
#undef FN
}
CALLBACK(MPI_Status_get_source) { return status_word(a, 0, 0, "MPI_Status_get_source"); }
CALLBACK(MPI_Status_get_tag) { return status_word(a, 1, 0, "MPI_Status_get_tag"); }
CALLBACK(MPI_Status_get_error) { return status_word(a, 2, 0, "MPI_Status_get_error"); }
CALLBACK(MPI_Status_set_source) { return status_word(a, 0, 1, "MPI_Status_set_source"); }
CALLBACK(MPI_Status_set_tag) { return status_word(a, 1, 1, "MPI_Status_set_tag"); }
CALLBACK(MPI_Status_set_error) { return status_word(a, 2, 1, "MPI_Status_set_error"); }
