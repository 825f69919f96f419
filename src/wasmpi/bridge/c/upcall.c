/* Upcalls: the one place where the bridge re-enters the guest.
 *
 * The host MPI calls guest code through the bridge: user reduction ops, error handlers,
 * attribute copy/delete callbacks, generalized-request callbacks. A guest function pointer is
 * an index into the module's exported function table (__indirect_function_table); the call is
 * made through the store of the innermost running callback (g_caller), after checking the
 * function's type once (upcall). Arguments that live in host memory are staged in guest memory
 * obtained from the guest's own exported malloc. A trap in guest code ends the job, naming the
 * callback: the host MPI is in the middle of a call and cannot be unwound. */
#include "bridge.h"

#include <unistd.h>

static wasmtime_table_t g_table;
static wasmtime_func_t g_malloc, g_free;
static int have_table, have_malloc, have_free;

void upcall_set_exports(const wasmtime_table_t *table, const wasmtime_func_t *malloc_fn,
                        const wasmtime_func_t *free_fn)
{
    if ((have_table = table != NULL))
        g_table = *table;
    if ((have_malloc = malloc_fn != NULL))
        g_malloc = *malloc_fn;
    if ((have_free = free_fn != NULL))
        g_free = *free_fn;
}

static void message_of(wasm_trap_t *t, wasmtime_error_t *e, char *out, size_t cap)
{
    wasm_byte_vec_t v = {0, NULL};
    if (t)
        W.trap_message(t, &v);
    else
        W.error_message(e, &v);
    size_t n = v.size < cap - 1 ? v.size : cap - 1;
    memcpy(out, v.data ? v.data : "", n);
    out[n] = 0;
    while (n > 0 && (out[n - 1] == 0 || out[n - 1] == '\n'))
        out[--n] = 0;
    W.byte_vec_delete(&v);
    if (t)
        W.trap_delete(t);
    else
        W.error_delete(e);
}

static void fatal(const char *what, const char *why)
{
    fprintf(stderr, "wasmpi: rank %d: %s: %s; aborting the job\n", g_rank, what, why);
    abort_job(MPI_COMM_WORLD, 134);
    _exit(134);
}

/* The guest called exit() inside a callback: the host MPI is in the middle of a call, so the
 * rank cannot go on to finalize; it ends the job with the guest's status, as a native rank
 * exiting there would. */
static void guest_exited(const char *what, int status)
{
    fprintf(stderr, "wasmpi: rank %d: %s called exit(%d); ending the job\n", g_rank, what,
            status);
    abort_job(MPI_COMM_WORLD, status);
    _exit(status);
}

/* After a guest call: exit() in the guest ends the job with its status, a trap ends it with
 * the callback named, and so does a wasmtime error (arguments that do not match the function's
 * type), unless `mismatch_ok`: then 1 is returned. */
static int settle(wasmtime_error_t *e, wasm_trap_t *t, const char *what, int mismatch_ok)
{
    int status;
    if (e && W.error_exit_status(e, &status)) {
        W.error_delete(e);
        guest_exited(what, status);
    }
    if (e && !t && mismatch_ok) {
        W.error_delete(e);
        return 1;
    }
    if (e || t) {
        char msg[1024];
        message_of(t, e, msg, sizeof msg);
        fatal(what, msg);
    }
    return 0;
}

/* Call `f`; a trap ends the job. A wasmtime error (the arguments do not match the function's
 * type) ends it too, unless `mismatch_ok`: then 1 is returned. */
static int call_as(const wasmtime_func_t *f, const int32_t *args, int nargs, int32_t *result,
                   const char *what, int mismatch_ok)
{
    if (!g_caller)
        return ABI_ERR_OTHER; /* no guest call in progress (e.g. MPI_Finalize at exit) */
    wasmtime_val_t av[8], rv[1];
    for (int i = 0; i < nargs && i < 8; i++) {
        memset(&av[i], 0, sizeof av[i]);
        av[i].kind = WASMTIME_I32;
        av[i].of.i32 = args[i];
    }
    wasm_trap_t *t = NULL;
    wasmtime_context_t *ctx = W.caller_context(g_caller);
    wasmtime_caller_t *outer = g_caller;
    const char *outer_call = g_call;
    wasmtime_val_raw_t *outer_args = g_call_args;
    g_caller = NULL; /* guest code runs: no stop may enter the store (core/stop.c) */
    wasmtime_error_t *e = W.func_call(ctx, f, av, (size_t)nargs, rv, result ? 1 : 0, &t);
    g_caller = outer;
    g_call_args = outer_args;
    g_call = outer_call;
    if (settle(e, t, what, mismatch_ok))
        return 1;
    if (result)
        *result = rv[0].of.i32;
    return 0;
}

static int call(const wasmtime_func_t *f, const int32_t *args, int nargs, int32_t *result,
                const char *what)
{
    return call_as(f, args, nargs, result, what, 0);
}

/* The guest function at table index `fn` (a trap ends the job when there is none). */
static wasmtime_func_t guest_function(uint32_t fn, const char *what)
{
    if (!have_table)
        fatal(what, "the module exports no function table (__indirect_function_table); "
                    "rebuild it with this wasmpi's `wasmpi cc`");
    wasmtime_val_t v;
    memset(&v, 0, sizeof v);
    if (!W.table_get(W.caller_context(g_caller), &g_table, fn, &v) ||
        v.kind != WASMTIME_FUNCREF || v.of.funcref.store_id == 0) {
        char why[96];
        snprintf(why, sizeof why, "function pointer %u is not a function of the module", fn);
        fatal(what, why);
    }
    return v.of.funcref;
}

/* Guest functions whose type has been checked, by table index. The checked
 * wasmtime_func_call derives and compares the callee's type on every call, which was most of
 * an upcall's cost (docs/benchmarks.md, "User-op upcalls"); an upcall instead checks a
 * function's type when it first meets it and from then on calls it unchecked. A C function
 * pointer names the same table slot for the life of the module; were a guest to rewrite its
 * table, it might keep calling the function it had registered, whose type was checked. */
#define FN_CACHE 64
static struct {
    uint32_t fn;
    int nargs, nres;
    wasmtime_func_t f;
} fn_cache[FN_CACHE];

static int all_i32(const wasm_valtype_vec_t *v, size_t n)
{
    if (v->size != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (W.valtype_kind(v->data[i]) != WASM_I32)
            return 0;
    return 1;
}

/* The table entry `fn` as a function taking nargs i32 and returning nres i32 (0 or 1). */
static wasmtime_func_t resolve(wasmtime_context_t *ctx, uint32_t fn, int nargs, int nres,
                               const char *what)
{
    wasmtime_func_t f = guest_function(fn, what);
    wasm_functype_t *ty = W.func_type(ctx, &f);
    int fits_ = ty && all_i32(W.functype_params(ty), (size_t)nargs) &&
                all_i32(W.functype_results(ty), (size_t)nres);
    if (ty)
        W.functype_delete(ty);
    if (!fits_) {
        char why[160];
        snprintf(why, sizeof why, "function pointer %u does not have the callback's type "
                 "(%d int arguments, %s)", fn, nargs, nres ? "an int result" : "no result");
        fatal(what, why);
    }
    return f;
}

int upcall(uint32_t fn, const int32_t *args, int nargs, int32_t *result, const char *what)
{
    if (!g_caller)
        return ABI_ERR_OTHER;
    enum { MAX_ARGS = 8 };
    if (nargs > MAX_ARGS)
        fatal(what, "too many callback arguments (a bridge bug)");
    int nres = result != NULL;
    wasmtime_context_t *ctx = W.caller_context(g_caller);
    __typeof__(fn_cache[0]) *c = &fn_cache[fn % FN_CACHE];
    if (c->f.store_id == 0 || c->fn != fn || c->nargs != nargs || c->nres != nres) {
        c->f = resolve(ctx, fn, nargs, nres, what);
        c->fn = fn;
        c->nargs = nargs;
        c->nres = nres;
    }
    wasmtime_func_t f = c->f; /* a nested upcall may reuse the cache entry */
    wasmtime_val_raw_t raw[MAX_ARGS];
    memset(raw, 0, sizeof raw);
    for (int i = 0; i < nargs; i++)
        raw[i].i32 = args[i];
    wasm_trap_t *t = NULL;
    wasmtime_caller_t *outer = g_caller;
    const char *outer_call = g_call;
    wasmtime_val_raw_t *outer_args = g_call_args;
    g_caller = NULL; /* guest code runs: no stop may enter the store (core/stop.c) */
    size_t slots = (size_t)(nargs > nres ? nargs : nres);
    wasmtime_error_t *e = W.func_call_unchecked(ctx, &f, raw, slots, &t);
    g_caller = outer;
    g_call_args = outer_args;
    g_call = outer_call;
    settle(e, t, what, 0);
    if (result)
        *result = raw[0].i32;
    return 0;
}

int upcall_variadic(uint32_t fn, const int32_t *args, int nargs, const char *what)
{
    if (!g_caller)
        return ABI_ERR_OTHER;
    if (nargs > 7)
        fatal(what, "too many arguments");
    wasmtime_func_t f = guest_function(fn, what);
    int32_t av[8];
    memcpy(av, args, sizeof av[0] * (size_t)nargs);
    av[nargs] = 0; /* no variadic arguments */
    if (call_as(&f, av, nargs + 1, NULL, what, 1) == 1)
        return call(&f, args, nargs, NULL, what);
    return 0;
}

int guest_has_malloc(void) { return have_malloc; }

uint32_t guest_alloc(uint32_t bytes)
{
    int32_t p = 0;
    if (!have_malloc || call(&g_malloc, (int32_t[]){(int32_t)bytes}, 1, &p, "malloc") != 0)
        return 0;
    if (p != 0)
        fits((uint64_t)(uint32_t)p + bytes); /* the guest's memory may have grown */
    return (uint32_t)p;
}

void guest_free(uint32_t p)
{
    if (have_free && p)
        call(&g_free, (int32_t[]){(int32_t)p}, 1, NULL, "free");
}

uint32_t guest_staging(int which, uint32_t bytes)
{
    static uint32_t ptr[STAGE_LAST], cap[STAGE_LAST];
    if (bytes <= cap[which])
        return ptr[which];
    uint32_t want = bytes < 256 ? 256 : bytes;
    if (want < 2 * cap[which])
        want = 2 * cap[which];
    uint32_t p = guest_alloc(want);
    if (!p)
        return 0;
    guest_free(ptr[which]);
    ptr[which] = p;
    cap[which] = want;
    return p;
}
