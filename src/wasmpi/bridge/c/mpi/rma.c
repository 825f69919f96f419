/* One-sided communication: windows on guest memory (docs/rma.md).
 *
 * A window's memory is always guest linear memory, which never moves: Win_create exposes the
 * guest buffer itself (zero-copy), Win_allocate and Win_allocate_shared allocate with the
 * guest's malloc. The host MPI checks nothing a guest could rely on for memory safety, so the
 * ORIGIN checks every access against the target's window before the host sees it
 * (rma_target): each window keeps, in its slot's state, every member's size and displacement
 * unit, allgathered at creation (which is collective anyway).
 *
 * Dynamic windows take guest addresses as displacements; each rank's linear memory starts at
 * a different host address, allgathered at creation, and the origin adds it. Linear memory
 * never shrinks, so an access inside the target's current memory is safe for the host; the
 * size each rank last published (at creation and at every Win_attach) lives in a companion
 * host window, locked for the window's lifetime, and the origin reads it only when its cached
 * value is too small for an access.
 *
 * Errors of a call about a window go to the window's error handler (OBJ_ERRSLOT); the host
 * window returns every error (MPI_ERRORS_RETURN). */
#include "bridge.h"

typedef struct {
    int flavor; /* ABI_WIN_FLAVOR_* */
    int n;      /* members of the window's group */
    int rank;   /* this rank in it */
    uint32_t base;  /* guest base address (0 for dynamic windows) */
    uint32_t alloc; /* guest memory allocated for the window, freed with it */
    uint32_t attrs; /* guest memory holding the predefined attributes' values (lazily) */
    /* per member: window size and displacement unit; dynamic windows: the host address of
     * its linear memory and the memory size last published (both 64-bit) */
    int64_t *a, *b;
    MPI_Win companion;  /* dynamic windows: every rank's published memory size */
    uint64_t published; /* this rank's, exposed through the companion */
} win_meta;

static win_meta *meta_of(const slot_t *w) { return w->state; }

int in_assert(int x)
{
    static const int modes[][2] = {
        {ABI_MODE_NOCHECK, MPI_MODE_NOCHECK},     {ABI_MODE_NOSTORE, MPI_MODE_NOSTORE},
        {ABI_MODE_NOPUT, MPI_MODE_NOPUT},         {ABI_MODE_NOPRECEDE, MPI_MODE_NOPRECEDE},
        {ABI_MODE_NOSUCCEED, MPI_MODE_NOSUCCEED},
    };
    int h = 0;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (x & modes[i][0]) {
            h |= modes[i][1];
            x &= ~modes[i][0];
        }
    return x ? -1 : h;
}

int in_lock_type(int x)
{
    return x == ABI_LOCK_EXCLUSIVE ? MPI_LOCK_EXCLUSIVE
         : x == ABI_LOCK_SHARED ? MPI_LOCK_SHARED : -1;
}

/* Whether [0, hi) lies in the linear memory of dynamic-window member `r`: the cached size
 * first, then the size it published last (an atomic read, so a concurrent Win_attach is
 * seen whole). Members publish before an address of newly attached memory can reach us. */
static int dyn_fits(win_meta *m, int r, int64_t hi)
{
    if (hi <= m->b[r])
        return 1;
    uint64_t now = 0;
    if (MPI_Fetch_and_op(NULL, &now, MPI_UINT64_T, r, 0, MPI_NO_OP, m->companion) != MPI_SUCCESS
        || MPI_Win_flush(r, m->companion) != MPI_SUCCESS)
        return 0;
    if ((int64_t)now > m->b[r])
        m->b[r] = (int64_t)now;
    return hi <= m->b[r];
}

int win_member(const slot_t *w, int rank)
{
    return rank >= 0 && rank < meta_of(w)->n;
}

int rma_target(const slot_t *w, int rank, int32_t disp, int64_t count, const slot_t *type,
               MPI_Aint *host_disp)
{
    win_meta *m = meta_of(w);
    *host_disp = 0;
    if (rank == MPI_PROC_NULL)
        return 0;
    if (rank < 0 || rank >= m->n)
        return ABI_ERR_RANK;
    if (count < 0)
        return ABI_ERR_COUNT;
    int64_t lo = 0, hi = 0;
    if (count > 0)
        span(type, count, &lo, &hi);
    if (m->flavor == ABI_WIN_FLAVOR_DYNAMIC) {
        int64_t at = (int64_t)(uint32_t)disp; /* a guest address; MPI_BOTTOM is 0 */
        if (hi > lo && (at + lo < 0 || !dyn_fits(m, rank, at + hi)))
            return ABI_ERR_RMA_RANGE;
        *host_disp = (MPI_Aint)(m->a[rank] + at);
        return 0;
    }
    int64_t at = (int64_t)disp * m->b[rank];
    if (hi > lo && (at + lo < 0 || at + hi > m->a[rank]))
        return ABI_ERR_RMA_RANGE;
    *host_disp = disp;
    return 0;
}

/* After the host created window `w` over `comm`: its metadata (an allgather), errors
 * returned to the bridge, and the guest handle stored at `dst`. 0 or a host error code. */
static int win_setup(MPI_Win w, MPI_Comm comm, int flavor, uint32_t base, MPI_Aint size,
                     int disp_unit, uint32_t alloc, uint32_t dst)
{
    int n = 0, rank = 0, rc;
    MPI_Comm_size(comm, &n);
    MPI_Comm_rank(comm, &rank);
    MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN);
    win_meta *m = calloc(1, sizeof *m);
    int64_t *ab = malloc(sizeof(int64_t) * 2 * (size_t)n);
    if (!m || !ab) {
        free(m);
        free(ab);
        MPI_Win_free(&w);
        return MPI_ERR_NO_MEM;
    }
    *m = (win_meta){flavor, n, rank, base, alloc, 0, ab, ab + n, MPI_WIN_NULL, 0};
    int64_t mine[2] = {size, disp_unit};
    if (flavor == ABI_WIN_FLAVOR_DYNAMIC) {
        m->published = memory_size_now();
        mine[0] = (int64_t)(uintptr_t)g_base;
        mine[1] = (int64_t)m->published;
    }
    int64_t *all = malloc(sizeof(int64_t) * 2 * (size_t)n);
    rc = all ? MPI_Allgather(mine, 2, MPI_INT64_T, all, 2, MPI_INT64_T, comm) : MPI_ERR_NO_MEM;
    for (int i = 0; rc == MPI_SUCCESS && i < n; i++) {
        m->a[i] = all[2 * i];
        m->b[i] = all[2 * i + 1];
    }
    free(all);
    if (rc == MPI_SUCCESS && flavor == ABI_WIN_FLAVOR_DYNAMIC) {
        rc = MPI_Win_create(&m->published, sizeof m->published, 1, MPI_INFO_NULL, comm,
                            &m->companion);
        if (rc == MPI_SUCCESS) {
            MPI_Win_set_errhandler(m->companion, MPI_ERRORS_RETURN);
            rc = MPI_Win_lock_all(MPI_MODE_NOCHECK, m->companion);
        }
    }
    if (rc != MPI_SUCCESS) {
        if (m->companion != MPI_WIN_NULL)
            MPI_Win_free(&m->companion);
        free(ab);
        free(m);
        MPI_Win_free(&w);
        return rc;
    }
    int32_t g = new_handle(K_WIN, (host_h){.win = w});
    lookup(K_WIN, g)->state = m;
    store_i32(dst, g);
    return MPI_SUCCESS;
}

/* the communicator of a window creation at argument `idx` (an intracommunicator) */
#define WIN_COMM(var, idx) \
    COMM_ARG(var, idx); \
    if (COMM_SLOT(var)->rsize) \
        return fail(a, ABI_ERR_COMM, errslot, FN)

CALLBACK(MPI_Win_create)
{
#define FN "MPI_Win_create"
    WIN_COMM(comm, 4);
    HANDLE_ARG(K_INFO, info, info, si, 3);
    CHECK_OUT(a[5].i32, 4);
    uint32_t base = (uint32_t)a[0].i32;
    int32_t size = a[1].i32, disp_unit = a[2].i32;
    if (size < 0)
        return fail(a, ABI_ERR_SIZE, errslot, FN);
    if (disp_unit <= 0)
        return fail(a, ABI_ERR_DISP, errslot, FN);
    if (size > 0)
        CHECK_RANGE((int64_t)base, (int64_t)base + size, "window");
    MPI_Win w;
    int rc = MPI_Win_create(GPTR(base), size, disp_unit, info, comm, &w);
    if (rc == MPI_SUCCESS)
        rc = win_setup(w, comm, ABI_WIN_FLAVOR_CREATE, base, size, disp_unit, 0,
                       (uint32_t)a[5].i32);
    return done(a, rc, errslot, FN);
#undef FN
}

/* Win_allocate and Win_allocate_shared: the window's memory comes from the guest's malloc */
static wasm_trap_t *allocate(wasmtime_val_raw_t *a, int flavor, const char *fn)
{
#define FN fn
    WIN_COMM(comm, 3);
    HANDLE_ARG(K_INFO, info, info, si, 2);
    CHECK_OUT(a[4].i32, 4);
    CHECK_OUT(a[5].i32, 4);
    int32_t size = a[0].i32, disp_unit = a[1].i32;
    if (size < 0)
        return fail(a, ABI_ERR_SIZE, errslot, FN);
    if (disp_unit <= 0)
        return fail(a, ABI_ERR_DISP, errslot, FN);
    /* no rank can load or store another's linear memory: only a group of one shares memory
     * (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) makes such groups) */
    if (flavor == ABI_WIN_FLAVOR_SHARED && COMM_SLOT(comm)->size > 1)
        return fail(a, ABI_ERR_RMA_SHARED, errslot, FN);
    uint32_t base = guest_alloc((uint32_t)(size ? size : 1));
    if (!base)
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    MPI_Win w;
    int rc = MPI_Win_create(GPTR(base), size, disp_unit, info, comm, &w);
    if (rc == MPI_SUCCESS)
        rc = win_setup(w, comm, flavor, base, size, disp_unit, base, (uint32_t)a[5].i32);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[4].i32, (int32_t)base);
    else
        guest_free(base);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Win_allocate) { return allocate(a, ABI_WIN_FLAVOR_ALLOCATE, "MPI_Win_allocate"); }
CALLBACK(MPI_Win_allocate_shared)
{
    return allocate(a, ABI_WIN_FLAVOR_SHARED, "MPI_Win_allocate_shared");
}

CALLBACK(MPI_Win_create_dynamic)
{
#define FN "MPI_Win_create_dynamic"
    WIN_COMM(comm, 1);
    HANDLE_ARG(K_INFO, info, info, si, 0);
    CHECK_OUT(a[2].i32, 4);
    MPI_Win w;
    int rc = MPI_Win_create_dynamic(info, comm, &w);
    if (rc == MPI_SUCCESS)
        rc = win_setup(w, comm, ABI_WIN_FLAVOR_DYNAMIC, 0, 0, 1, 0, (uint32_t)a[2].i32);
    return done(a, rc, errslot, FN);
#undef FN
}

/* window argument at a[idx]: its slot `sv`, host window `var` and metadata `m` */
#define WIN_ARG(sv, var, idx) \
    OBJ_ARG(K_WIN, win, var, sv, idx); \
    win_meta *m = meta_of(sv)

CALLBACK(MPI_Win_attach)
{
#define FN "MPI_Win_attach"
    WIN_ARG(s, w, 0);
    uint32_t base = (uint32_t)a[1].i32;
    int32_t size = a[2].i32;
    if (m->flavor != ABI_WIN_FLAVOR_DYNAMIC)
        return fail(a, ABI_ERR_RMA_FLAVOR, errslot, FN);
    if (size < 0)
        return fail(a, ABI_ERR_SIZE, errslot, FN);
    CHECK_RANGE((int64_t)base, (int64_t)base + size, "memory to attach");
    int rc = MPI_Win_attach(w, GPTR(base), size);
    if (rc == MPI_SUCCESS) { /* before the guest can tell anyone about the new memory */
        uint64_t now = memory_size_now();
        rc = MPI_Accumulate(&now, 1, MPI_UINT64_T, m->rank, 0, 1, MPI_UINT64_T, MPI_REPLACE,
                            m->companion);
        if (rc == MPI_SUCCESS)
            rc = MPI_Win_flush(m->rank, m->companion);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Win_detach)
{
#define FN "MPI_Win_detach"
    WIN_ARG(s, w, 0);
    if (m->flavor != ABI_WIN_FLAVOR_DYNAMIC)
        return fail(a, ABI_ERR_RMA_FLAVOR, errslot, FN);
    return done(a, MPI_Win_detach(w, GPTR(a[1].i32)), errslot, FN);
#undef FN
}

CALLBACK(MPI_Win_free)
{
#define FN "MPI_Win_free"
    ERRSLOT;
    uint32_t p = (uint32_t)a[0].i32;
    CHECK_OUT(p, 4);
    int32_t g = load_i32(p);
    slot_t *s = lookup(K_WIN, g);
    if (!s || s->predefined)
        return fail(a, ABI_ERR_WIN, errslot, FN);
    errslot = OBJ_ERRSLOT(K_WIN, s);
    win_meta *m = meta_of(s);
    MPI_Win w = s->h.win;
    int rc = MPI_Win_free(&w); /* runs the guest's attribute delete functions */
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    if (m->companion != MPI_WIN_NULL) {
        MPI_Win_unlock_all(m->companion);
        MPI_Win_free(&m->companion);
    }
    guest_free(m->alloc);
    guest_free(m->attrs);
    free(m->a);
    free(m);
    s = lookup(K_WIN, g); /* a delete function may have grown the table */
    s->state = NULL;
    slot_free(K_WIN, s);
    store_i32(p, ABI_WIN_NULL);
    return ok(a);
#undef FN
}

CALLBACK(MPI_Win_shared_query)
{
#define FN "MPI_Win_shared_query"
    WIN_ARG(s, w, 0);
    (void)w;
    int rank = in_rank(a[1].i32);
    CHECK_OUT(a[2].i32, 4);
    CHECK_OUT(a[3].i32, 4);
    CHECK_OUT(a[4].i32, 4);
    if (m->flavor != ABI_WIN_FLAVOR_SHARED)
        return fail(a, ABI_ERR_RMA_FLAVOR, errslot, FN);
    /* a shared window has one member (MPI_Win_allocate_shared): MPI_PROC_NULL, the member
     * with the lowest rank that has memory, is this rank too */
    if (rank != MPI_PROC_NULL && (rank < 0 || rank >= m->n))
        return fail(a, ABI_ERR_RANK, errslot, FN);
    store_i32((uint32_t)a[2].i32, (int32_t)m->a[m->rank]);
    store_i32((uint32_t)a[3].i32, (int32_t)m->b[m->rank]);
    store_i32((uint32_t)a[4].i32, (int32_t)m->base);
    return ok(a);
#undef FN
}

int win_attr(const slot_t *w, int32_t keyval, int32_t *val)
{
    if (keyval < ABI_WIN_BASE || keyval > ABI_WIN_MODEL)
        return -1;
    win_meta *m = meta_of(w);
    if (keyval == ABI_WIN_BASE) { /* the attribute is the base address itself */
        *val = (int32_t)m->base;
        return 0;
    }
    if (!m->attrs) {
        if (!(m->attrs = guest_alloc(16)))
            return ABI_ERR_NO_MEM;
        int *model = NULL, flag = 0;
        MPI_Win_get_attr(w->h.win, MPI_WIN_MODEL, &model, &flag);
        int dyn = m->flavor == ABI_WIN_FLAVOR_DYNAMIC;
        store_i32(m->attrs, dyn ? 0 : (int32_t)m->a[m->rank]);
        store_i32(m->attrs + 4, dyn ? 1 : (int32_t)m->b[m->rank]);
        store_i32(m->attrs + 8, m->flavor);
        store_i32(m->attrs + 12, flag && model && *model == MPI_WIN_UNIFIED ? ABI_WIN_UNIFIED
                                                                           : ABI_WIN_SEPARATE);
    }
    switch (keyval) {
    case ABI_WIN_SIZE: *val = (int32_t)m->attrs; break;
    case ABI_WIN_DISP_UNIT: *val = (int32_t)(m->attrs + 4); break;
    case ABI_WIN_CREATE_FLAVOR: *val = (int32_t)(m->attrs + 8); break;
    default: *val = (int32_t)(m->attrs + 12); break;
    }
    return 0;
}
