/* The bridge's interface to the loader (bridge/loader.py, typed in bridge/_native.pyi):
 * start-up, guest memory and exports, the entry table, the end of a rank. */
#include "bridge.h"

#include <unistd.h>

/* The only symbols the library exports (the loader's interface); everything else is hidden,
 * so calls and globals inside the bridge need no PLT or GOT indirection. */
#define EXPORT __attribute__((visibility("default")))

wasmpi_host_api W;
wasmtime_caller_t *g_caller;
uint8_t *g_base;
uint64_t g_size;
int g_rank = -1;
static const wasmtime_context_t *g_ctx;
static const void *g_mem;

extern const bridge_entry ENTRIES[];
extern const int N_ENTRIES;

uint64_t memory_size_now(void) { return W.memory_data_size(g_ctx, g_mem); }

wasm_trap_t *trap(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return W.trap_new(msg, strlen(msg));
}

wasm_trap_t *range_trap(const char *fn, const char *what, int64_t lo, int64_t hi)
{
    return trap("%s: %s [%lld, %lld) is outside linear memory (%llu bytes)", fn, what,
                (long long)lo, (long long)hi, (unsigned long long)g_size);
}

EXPORT int wasmpi_bridge_count(void) { return N_ENTRIES; }

EXPORT const bridge_entry *wasmpi_bridge_entry(int i) { return &ENTRIES[i]; }

/* host service of the guest support library: gethostname(buf, len) */
static wasm_trap_t *cb_host_gethostname(void *env_, wasmtime_caller_t *caller_,
                                        wasmtime_val_raw_t *a, size_t n_)
{
#define FN "gethostname"
    (void)env_; (void)caller_; (void)n_;
    uint32_t p = (uint32_t)a[0].i32, len = (uint32_t)a[1].i32;
    CHECK_OUT(p, len);
    char name[256];
    if (gethostname(name, sizeof name) != 0)
        strcpy(name, "localhost");
    name[sizeof name - 1] = 0;
    size_t l = strlen(name);
    if (l + 1 > len) {
        a[0].i32 = -1;
        return NULL;
    }
    memcpy(GPTR(p), name, l + 1);
    a[0].i32 = 0;
    return NULL;
#undef FN
}

EXPORT void *wasmpi_bridge_host_gethostname(void) { return (void *)cb_host_gethostname; }

/* Initialize the host MPI (once per rank, before the guest runs) and the handle tables. */
EXPORT int wasmpi_bridge_init(const wasmpi_host_api *api)
{
    W = *api;
    int provided, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SINGLE, &provided);
    if (rc != MPI_SUCCESS)
        return rc;
    /* The bridge applies the guest's error handlers; the host always returns. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    init_handles();
    host4_resolve();
    status_layout();
    init_ops();
    init_io();
    init_env_info();
    stop_install(); /* after MPI_Init: the host MPI may install handlers of its own */
    return MPI_SUCCESS;
}

EXPORT void wasmpi_bridge_set_memory(uint8_t *base, uint64_t size, const wasmtime_context_t *context,
                              const void *memory)
{
    g_base = base;
    g_size = size;
    g_ctx = context;
    g_mem = memory;
}

/* The guest's function table and allocator, for upcalls and MPI_Alloc_mem (may be NULL:
 * modules built without them cannot use user callbacks). */
EXPORT void wasmpi_bridge_set_exports(const wasmtime_table_t *table, const wasmtime_func_t *malloc_fn,
                               const wasmtime_func_t *free_fn)
{
    upcall_set_exports(table, malloc_fn, free_fn);
}

EXPORT int wasmpi_bridge_rank(void) { return g_rank; }

/* Handles of `kind` (1 .. K_LAST-1) the guest holds now, predefined ones not counted, and in
 * *slots the slab's length past the predefined ones (its high-water mark): a soak run watches
 * both stay flat. -1 for an unknown kind. Safe from another thread while the guest runs: it
 * reads two counters, never the slab. */
EXPORT int wasmpi_bridge_live_handles(int kind, int *slots)
{
    if (kind <= K_NONE || kind >= K_LAST)
        return -1;
    const table_t *t = &T[kind];
    int32_t pre = __atomic_load_n(&t->n_predefined, __ATOMIC_RELAXED);
    if (slots)
        *slots = __atomic_load_n(&t->n, __ATOMIC_RELAXED) - pre;
    return __atomic_load_n(&t->n_live, __ATOMIC_RELAXED) - pre;
}

/* End of the rank: finalize for a guest that exited 0 without MPI_Finalize; abort the job for
 * a guest that failed, so the other ranks never hang. */
EXPORT void wasmpi_bridge_exit(int status)
{
    g_caller = NULL; /* no guest call is running: callbacks from MPI_Finalize cannot upcall */
    int fin = 0;
    MPI_Finalized(&fin);
    if (fin) {
        if (status != 0) /* the launcher may end the job now: let it read this rank's output */
            drain_output(1000);
        return;
    }
    if (status != 0)
        abort_job(MPI_COMM_WORLD, status);
    else {
        g_call = "MPI_Finalize"; /* it may wait for the other ranks: the time limit says so */
        MPI_Finalize();
    }
}
