/* Handle tables: small-int slabs per kind, the predefined handles reserved at start-up. */
#include "bridge.h"

table_t T[K_LAST];
int32_t pre_map[0x400];
int32_t guest_null[K_LAST];
host_h host_null[K_LAST];
int32_t g_world_slot;
int32_t g_empty_group_refs;

slot_t *slot_alloc(int kind, int32_t *idx_out)
{
    table_t *t = &T[kind];
    int32_t idx;
    if (t->free_head >= 0) {
        idx = t->free_head;
        t->free_head = t->s[idx].next_free;
    } else {
        if (t->n == t->cap) {
            int32_t cap = t->cap ? 2 * t->cap : 64;
            slot_t *s = realloc(t->s, (size_t)cap * sizeof *s);
            if (!s) {
                fprintf(stderr, "wasmpi: out of memory for MPI handles\n");
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            t->s = s;
            t->cap = cap;
        }
        idx = t->n;
        __atomic_store_n(&t->n, idx + 1, __ATOMIC_RELAXED); /* read by the same sampler */
    }
    slot_t *s = &t->s[idx];
    memset(s, 0, sizeof *s);
    s->live = 1;
    /* one writer (the guest's thread); relaxed stores let a sampler read without a lock */
    __atomic_store_n(&t->n_live, t->n_live + 1, __ATOMIC_RELAXED);
    s->guest = (kind << 24) | idx;
    s->eh = ABI_ERRORS_ARE_FATAL;
    s->tramp = -1;
    *idx_out = idx;
    return s;
}

void slot_free(int kind, slot_t *s)
{
    table_t *t = &T[kind];
    s->live = 0;
    __atomic_store_n(&t->n_live, t->n_live - 1, __ATOMIC_RELAXED);
    s->next_free = t->free_head;
    t->free_head = slot_index(kind, s);
}

void datatype_layout(slot_t *s)
{
    MPI_Count lb = 0, ext = 0, tlb = 0, text = 0;
    if (s->h.datatype != MPI_DATATYPE_NULL) {
        MPI_Type_get_extent_x(s->h.datatype, &lb, &ext);
        MPI_Type_get_true_extent_x(s->h.datatype, &tlb, &text);
    }
    s->lb = lb; s->extent = ext; s->true_lb = tlb; s->true_extent = text;
}

static void comm_info(slot_t *s)
{
    int inter = 0;
    s->size = s->rsize = 0;
    s->rank = -1;
    if (s->h.comm == MPI_COMM_NULL)
        return;
    MPI_Comm_size(s->h.comm, &s->size);
    MPI_Comm_rank(s->h.comm, &s->rank);
    MPI_Comm_test_inter(s->h.comm, &inter);
    if (inter)
        MPI_Comm_remote_size(s->h.comm, &s->rsize);
}

int32_t guest_of(int kind, host_h h)
{
    table_t *t = &T[kind];
    for (int32_t i = 0; i < t->n; i++)
        if (t->s[i].live && same_handle(kind, t->s[i].h, h))
            return t->s[i].guest;
    return guest_null[kind];
}

/* The guest value for a host handle that an MPI call just returned: the predefined handle it
 * is (MPI_GROUP_EMPTY, MPI_MESSAGE_NO_PROC, ...), else a new slot. */
int32_t new_handle(int kind, host_h h)
{
    if (same_handle(kind, h, host_null[kind]))
        return guest_null[kind];
    table_t *t = &T[kind];
    /* only these kinds have predefined handles that MPI calls return (a new request,
     * communicator or datatype is never predefined: the null check above covers them) */
    if (kind == K_GROUP || kind == K_MESSAGE || kind == K_INFO || kind == K_ERRHANDLER)
        for (int32_t i = 0; i < t->n_predefined; i++)
            if (same_handle(kind, t->s[i].h, h)) {
                if (kind == K_GROUP)
                    g_empty_group_refs++;
                return t->s[i].guest;
            }
    int32_t idx;
    slot_t *s = slot_alloc(kind, &idx);
    s->h = h;
    if (kind == K_DATATYPE)
        datatype_layout(s);
    return s->guest;
}

int32_t new_type(MPI_Datatype t, int uncommitted)
{
    int32_t g = new_handle(K_DATATYPE, (host_h){.datatype = t});
    slot_t *s = lookup(K_DATATYPE, g);
    if (s && !s->predefined)
        s->uncommitted = (uint8_t)(uncommitted != 0);
    return g;
}

int32_t new_request(MPI_Request r, int32_t comm_slot)
{
    int32_t g = new_handle(K_REQUEST, (host_h){.request = r});
    slot_t *s = lookup(K_REQUEST, g);
    if (s && !s->predefined)
        s->cslot = comm_slot;
    return g;
}

int32_t collective_request(int32_t guest, int persistent)
{
    slot_t *s = lookup(K_REQUEST, guest);
    if (s && !s->predefined)
        s->collective = persistent ? 2 : 1;
    return guest;
}

int32_t new_comm(MPI_Comm c, int32_t parent_slot)
{
    int32_t g = new_handle(K_COMM, (host_h){.comm = c});
    slot_t *s = lookup(K_COMM, g);
    if (s && !s->predefined) {
        comm_info(s);
        slot_t *p = parent_slot >= 0 ? &T[K_COMM].s[parent_slot] : NULL;
        s->eh = p ? p->eh : ABI_ERRORS_ARE_FATAL;
    }
    return g;
}

void predefine(int kind, int32_t guest, const char *name, host_h h)
{
    int32_t idx;
    slot_t *s = slot_alloc(kind, &idx);
    s->h = h;
    s->guest = guest;
    s->predefined = 1;
    s->name = name;
    T[kind].n_predefined = idx + 1;
    pre_map[guest] = (kind << 24) | idx;
    if (kind == K_DATATYPE)
        datatype_layout(s);
    if (kind == K_COMM)
        comm_info(s);
    if (guest == ABI_COMM_WORLD)
        g_world_slot = idx;
    if (strstr(name, "_NULL") && !strstr(name, "PROC_NULL")) {
        guest_null[kind] = guest;
        host_null[kind] = h;
    }
}

/* A guest type with no host equivalent of the same layout (binary128 long double): `size`
 * bytes of data in an `extent`-byte element, moved as bytes; reductions on it use the
 * bridge's own ops (mpi/op.c). */
void predefine_bytes(int32_t guest, const char *name, int size, int extent)
{
    host_h h;
    MPI_Type_contiguous(size, MPI_BYTE, &h.datatype);
    if (extent != size) {
        MPI_Datatype t = h.datatype;
        MPI_Type_create_resized(t, 0, extent, &h.datatype);
        MPI_Type_free(&t);
    }
    MPI_Type_commit(&h.datatype);
    /* the name identifies the copies Open MPI's MPI_Type_get_contents makes (mpi/datatype.c) */
    MPI_Type_set_name(h.datatype, name);
    predefine(K_DATATYPE, guest, name, h);
}

void init_handles(void)
{
    for (int k = 0; k < K_LAST; k++)
        T[k].free_head = -1;
    init_predefined();
}

/* ---- translations of special values ---------------------------------------------------- */

int in_split_type(int x) { return x == ABI_COMM_TYPE_SHARED ? MPI_COMM_TYPE_SHARED : in_undef(x); }
int in_thread(int x)
{
    return x >= ABI_THREAD_MULTIPLE ? MPI_THREAD_MULTIPLE
         : x >= ABI_THREAD_SERIALIZED ? MPI_THREAD_SERIALIZED
         : x >= ABI_THREAD_FUNNELED ? MPI_THREAD_FUNNELED : MPI_THREAD_SINGLE;
}
int in_order(int x)
{
    return x == ABI_ORDER_C ? MPI_ORDER_C : x == ABI_ORDER_FORTRAN ? MPI_ORDER_FORTRAN : x;
}
int in_distrib(int x)
{
    switch (x) {
    case ABI_DISTRIBUTE_NONE: return MPI_DISTRIBUTE_NONE;
    case ABI_DISTRIBUTE_BLOCK: return MPI_DISTRIBUTE_BLOCK;
    case ABI_DISTRIBUTE_CYCLIC: return MPI_DISTRIBUTE_CYCLIC;
    }
    return x;
}
int in_darg(int x) { return x == ABI_DISTRIBUTE_DFLT_DARG ? MPI_DISTRIBUTE_DFLT_DARG : x; }
int out_cmp(int x)
{
    if (x == MPI_IDENT) return ABI_IDENT;
    if (x == MPI_CONGRUENT) return ABI_CONGRUENT;
    if (x == MPI_SIMILAR) return ABI_SIMILAR;
    if (x == MPI_UNEQUAL) return ABI_UNEQUAL;
    return x;
}
int out_topo(int x)
{
    if (x == MPI_CART) return ABI_CART;
    if (x == MPI_GRAPH) return ABI_GRAPH;
    if (x == MPI_DIST_GRAPH) return ABI_DIST_GRAPH;
    return out_undef(x);
}
int out_combiner(int x)
{
    static const int map[][2] = {
        {MPI_COMBINER_NAMED, ABI_COMBINER_NAMED}, {MPI_COMBINER_DUP, ABI_COMBINER_DUP},
        {MPI_COMBINER_CONTIGUOUS, ABI_COMBINER_CONTIGUOUS},
        {MPI_COMBINER_VECTOR, ABI_COMBINER_VECTOR}, {MPI_COMBINER_HVECTOR, ABI_COMBINER_HVECTOR},
        {MPI_COMBINER_INDEXED, ABI_COMBINER_INDEXED},
        {MPI_COMBINER_HINDEXED, ABI_COMBINER_HINDEXED},
        {MPI_COMBINER_INDEXED_BLOCK, ABI_COMBINER_INDEXED_BLOCK},
        {MPI_COMBINER_HINDEXED_BLOCK, ABI_COMBINER_HINDEXED_BLOCK},
        {MPI_COMBINER_STRUCT, ABI_COMBINER_STRUCT}, {MPI_COMBINER_SUBARRAY, ABI_COMBINER_SUBARRAY},
        {MPI_COMBINER_DARRAY, ABI_COMBINER_DARRAY}, {MPI_COMBINER_RESIZED, ABI_COMBINER_RESIZED},
        {MPI_COMBINER_F90_REAL, ABI_COMBINER_F90_REAL},
        {MPI_COMBINER_F90_COMPLEX, ABI_COMBINER_F90_COMPLEX},
        {MPI_COMBINER_F90_INTEGER, ABI_COMBINER_F90_INTEGER},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i][0] == x)
            return map[i][1];
    return x;
}

/* ---- sizes the table's length expressions need -------------------------------------------- */

int cart_ndims(MPI_Comm comm)
{
    int n = 0;
    if (MPI_Cartdim_get(comm, &n) != MPI_SUCCESS)
        return 0;
    return n;
}

int has_topology(MPI_Comm comm)
{
    int topo = MPI_UNDEFINED;
    return MPI_Topo_test(comm, &topo) == MPI_SUCCESS && topo != MPI_UNDEFINED;
}

/* in- or out-degree of a process topology, as the neighborhood collectives count them */
int nbr_degree(MPI_Comm comm, int out)
{
    int topo = MPI_UNDEFINED, indeg = 0, outdeg = 0, weighted = 0, rank = 0;
    MPI_Topo_test(comm, &topo);
    if (topo == MPI_DIST_GRAPH) {
        MPI_Dist_graph_neighbors_count(comm, &indeg, &outdeg, &weighted);
        return out ? outdeg : indeg;
    }
    if (topo == MPI_GRAPH) {
        MPI_Comm_rank(comm, &rank);
        MPI_Graph_neighbors_count(comm, rank, &indeg);
        return indeg;
    }
    if (topo == MPI_CART)
        return 2 * cart_ndims(comm);
    return 0;
}

int64_t ints_sum(uint32_t p, int64_t n)
{
    int64_t sum = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t x = load_i32(p + 4 * (uint32_t)i);
        if (x < 0)
            return -1;
        sum += x;
    }
    return sum;
}

int64_t ints_last(uint32_t p, int64_t n)
{
    int32_t last = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t x = load_i32(p + 4 * (uint32_t)i);
        if (x < last)
            return -1;
        last = x;
    }
    return last;
}

int vspan(const slot_t *t, const int *counts, const int *displs, int n, int64_t *lo,
          int64_t *hi)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        if (counts[i] < 0)
            return -1;
        if (counts[i] == 0)
            continue;
        int64_t l, h, off = (int64_t)(displs ? displs[i] : 0) * t->extent;
        span(t, counts[i], &l, &h);
        if (!any || off + l < *lo) *lo = off + l;
        if (!any || off + h > *hi) *hi = off + h;
        any = 1;
    }
    return any;
}

int vspan_c(const slot_t *t, const int64_t *counts, const int *displs, int n, int64_t *lo,
            int64_t *hi)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        if (counts[i] < 0 || (counts[i] > BIG_COUNT && t->extent))
            return -1;
        if (counts[i] == 0)
            continue;
        int64_t l, h, off = (int64_t)(displs ? displs[i] : 0) * t->extent;
        span(t, counts[i], &l, &h);
        if (!any || off + l < *lo) *lo = off + l;
        if (!any || off + h > *hi) *hi = off + h;
        any = 1;
    }
    return any;
}

void keep_release(keep_t *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->p[i]);
    k->n = 0;
}

void *keep_alloc(keep_t *k, size_t bytes)
{
    if (k->n == KEEP_MAX)
        return NULL;
    void *p = malloc(bytes);
    if (p)
        k->p[k->n++] = p;
    return p;
}

static void keep_free(void *state, int ok)
{
    (void)ok;
    keep_release(state);
    free(state);
}

void keep_attach(keep_t *k, int32_t request)
{
    slot_t *s = lookup(K_REQUEST, request);
    if (!s || s->predefined || s->on_complete)
        return; /* completed already (or owned otherwise): the arrays go when the call returns */
    keep_t *mine = malloc(sizeof *mine);
    if (!mine) { /* leaked rather than freed under the host MPI's feet */
        k->n = 0;
        return;
    }
    *mine = *k;
    k->n = 0;
    s->on_complete = keep_free;
    s->state = mine;
}

int put_string(uint32_t dst, const char *src, int cap)
{
    int len = (int)strlen(src);
    if (len > cap - 1)
        len = cap - 1;
    if (len < 0)
        return 0;
    memcpy(GPTR(dst), src, (size_t)len);
    ((char *)GPTR(dst))[len] = 0;
    return len;
}
