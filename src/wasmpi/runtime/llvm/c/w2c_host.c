/* The bridge's engine interface (`W`, bridge.h) for wasm2c, and the runner's traps.
 *
 * The bridge was written against wasmtime's C API; here its handles carry wasm2c objects:
 * a wasmtime_func_t's private_ points to a guest_fn (a wasm2c funcref and its arity), a
 * wasmtime_table_t's store_id holds the wasm_rt_funcref_table_t pointer, a wasm_trap_t or
 * wasmtime_error_t is a token whose message lives in g_trap_msg / g_error_msg.
 *
 * A trap in wasm2c code (wasm_rt_trap, also from the guard-page signal handler) comes to
 * runner_trap (the runtime is built with WASM_RT_TRAP_HANDLER=runner_trap), which records the
 * native backtrace and jumps to the innermost trap frame: the runner's main, or an upcall,
 * which hands the trap to the bridge as wasmtime would. */
#define _GNU_SOURCE
#include "w2c_host.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <unistd.h>

wasmtime_caller_t *const W2C_CALLER = (wasmtime_caller_t *)&W2C_CALLER;
trap_frame *volatile g_trap_frames;
char g_trap_msg[1024];
static char g_error_msg[256];
volatile int g_upcall_depth;
const char *g_module_name = "module";

static void *g_inst;
static const guest_glue *G;

/* ---- traps ------------------------------------------------------------------------------ */

#define MAX_FRAMES 64
static void *g_bt[MAX_FRAMES];
static int g_nbt;

static const char *trap_text(wasm_rt_trap_t code)
{
    /* wasmtime's wording, so that both engines say the same */
    switch (code) {
    case WASM_RT_TRAP_OOB: return "out of bounds memory access";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "wasm `unreachable` instruction executed";
    case WASM_RT_TRAP_CALL_INDIRECT:
        return "indirect call: undefined element, uninitialized element or type mismatch";
    case WASM_RT_TRAP_NULL_REF: return "null reference";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case WASM_RT_TRAP_UNALIGNED: return "unaligned atomic";
    default: return "trap";
    }
}

static _Noreturn void jump(void)
{
    trap_frame *f = g_trap_frames;
    if (!f) { /* a trap outside any guest call: nothing can be unwound */
        static const char m[] = "wasmpi: trap outside the guest\n";
        (void)!write(2, m, sizeof m - 1);
        _exit(134);
    }
    siglongjmp(f->jb, 1);
}

/* WASM_RT_TRAP_HANDLER of the runtime (wasm-rt-impl.c): may run in a signal handler, where
 * backtrace() is safe because the runner called it once at start-up (it loads libgcc_s). */
_Noreturn void runner_trap(wasm_rt_trap_t code)
{
    g_nbt = backtrace(g_bt, MAX_FRAMES);
    const char *t = trap_text(code);
    size_t n = strlen(t);
    memcpy(g_trap_msg, t, n + 1);
    jump();
}

_Noreturn void runner_bridge_trap(wasm_trap_t *t)
{
    (void)t; /* its message is in g_trap_msg (trap_new) */
    g_nbt = backtrace(g_bt, MAX_FRAMES);
    jump();
}

/* an import the runner does not provide was called (the module's weak stubs, build.py) */
_Noreturn void runner_trap_message(const char *msg)
{
    g_nbt = backtrace(g_bt, MAX_FRAMES);
    snprintf(g_trap_msg, sizeof g_trap_msg, "%s", msg);
    jump();
}

static const char *name_of(const void *pc, Dl_info *mod)
{
    /* the module function whose code holds pc: the nearest start at or below it */
    const char *best = NULL;
    uintptr_t best_at = 0, p = (uintptr_t)pc - 1;
    for (int i = 0; i < G->nfuncs; i++) {
        uintptr_t at = (uintptr_t)G->func_addr[i];
        if (at <= p && at >= best_at) {
            best_at = at;
            best = G->func_name[i] ? G->func_name[i] : "";
        }
    }
    (void)mod;
    return best;
}

/* "{where}: wasm trap: {message}" and the backtrace of the module's frames, innermost first */
void trap_format(char *out, size_t cap, const char *where)
{
    size_t n = (size_t)snprintf(out, cap, "%s: wasm trap: %s", where, g_trap_msg);
    Dl_info self;
    if (!G || !dladdr(G->func_addr ? G->func_addr[0] : NULL, &self))
        return;
    int k = 0;
    for (int i = 0; i < g_nbt && n < cap; i++) {
        Dl_info di;
        if (!dladdr(g_bt[i], &di) || di.dli_fbase != self.dli_fbase)
            continue;
        const char *name = name_of(g_bt[i], &self);
        if (!name || !*name)
            continue;
        if (k == 0)
            n += (size_t)snprintf(out + n, cap - n, "\nwasm backtrace:");
        if (n < cap)
            n += (size_t)snprintf(out + n, cap - n, "\n    %d: %s!%s", k++, g_module_name, name);
    }
}

/* ---- guest functions as the bridge's wasmtime_func_t ------------------------------------- */

struct wasm_valtype_t { uint8_t kind; };
static wasm_valtype_t VT_I32 = {WASM_I32};
static wasm_valtype_t *I32S[9] = {&VT_I32, &VT_I32, &VT_I32, &VT_I32, &VT_I32,
                                  &VT_I32, &VT_I32, &VT_I32, &VT_I32};
struct wasm_functype_t { wasm_valtype_vec_t params, results; };

typedef struct {
    wasm_rt_funcref_t ref;
    int nargs, nres; /* all i32; nargs -1: another type, which no upcall has */
    struct wasm_functype_t type;
} guest_fn;

static void classify(guest_fn *f)
{
    f->nargs = f->nres = -1;
    for (uint32_t r = 0; r <= 1 && f->nargs < 0; r++)
        for (uint32_t n = 0; n <= 8; n++) {
            wasm_rt_func_type_t t = G->func_type(n, r, WASM_RT_I32, WASM_RT_I32, WASM_RT_I32,
                                                 WASM_RT_I32, WASM_RT_I32, WASM_RT_I32,
                                                 WASM_RT_I32, WASM_RT_I32, WASM_RT_I32);
            if (t && f->ref.func_type &&
                (t == f->ref.func_type || memcmp(t, f->ref.func_type, 32) == 0)) {
                f->nargs = (int)n;
                f->nres = (int)r;
                break;
            }
        }
    f->type.params = (wasm_valtype_vec_t){f->nargs < 0 ? 99 : (size_t)f->nargs, I32S};
    f->type.results = (wasm_valtype_vec_t){f->nres < 0 ? 99 : (size_t)f->nres, I32S};
}

/* exports: fixed guest_fns, with their known types */
static guest_fn g_malloc_fn, g_free_fn, g_flush_fn;

static guest_fn *table_fns; /* per table index, made on first use, never moved */
static guest_fn **table_slots;
static size_t table_nslots;

static wasm_trap_t *w_trap_new(const char *msg, size_t len)
{
    if (len >= sizeof g_trap_msg)
        len = sizeof g_trap_msg - 1;
    memmove(g_trap_msg, msg, len);
    g_trap_msg[len] = 0;
    return (wasm_trap_t *)g_trap_msg;
}

static size_t w_memory_data_size(const wasmtime_context_t *ctx, const void *memory)
{
    (void)ctx;
    return (size_t)((const wasm_rt_memory_t *)memory)->size;
}

static wasmtime_context_t *w_caller_context(wasmtime_caller_t *caller)
{
    return (wasmtime_context_t *)caller;
}

static _Bool w_table_get(wasmtime_context_t *ctx, const wasmtime_table_t *table, uint64_t index,
                         wasmtime_val_t *val)
{
    (void)ctx;
    wasm_rt_funcref_table_t *t = (wasm_rt_funcref_table_t *)(uintptr_t)table->anon.store_id;
    if (!t || index >= t->size)
        return 0;
    val->kind = WASMTIME_FUNCREF;
    val->of.funcref.store_id = 0;
    val->of.funcref.private_ = NULL;
    if (!t->data[index].func)
        return 1;
    if (index >= table_nslots) {
        size_t n = t->size > index + 1 ? t->size : index + 1;
        guest_fn **s = realloc(table_slots, n * sizeof *s);
        if (!s)
            return 0;
        memset(s + table_nslots, 0, (n - table_nslots) * sizeof *s);
        table_slots = s;
        table_nslots = n;
    }
    guest_fn *f = table_slots[index];
    if (!f || f->ref.func != t->data[index].func) {
        if (!f && !(f = table_slots[index] = calloc(1, sizeof *f)))
            return 0;
        f->ref = t->data[index];
        classify(f);
    }
    val->of.funcref.store_id = 1;
    val->of.funcref.private_ = f;
    (void)table_fns;
    return 1;
}

static wasmtime_error_t *mismatch(void)
{
    snprintf(g_error_msg, sizeof g_error_msg, "the function's type does not match the call");
    return (wasmtime_error_t *)g_error_msg;
}

typedef u32 (*fn_t)();
/* the guest function with `n` i32 arguments from raw[], its i32 result (if any) to raw[0] */
static void invoke(const guest_fn *f, wasmtime_val_raw_t *raw)
{
    void *i = f->ref.module_instance;
    u32 r = 0, a0 = (u32)raw[0].i32, a1 = (u32)raw[1].i32, a2 = (u32)raw[2].i32,
        a3 = (u32)raw[3].i32, a4 = (u32)raw[4].i32, a5 = (u32)raw[5].i32,
        a6 = (u32)raw[6].i32, a7 = (u32)raw[7].i32;
    if (f->nres == 0) {
        typedef void (*v0)(void *);
        typedef void (*v1)(void *, u32);
        typedef void (*v2)(void *, u32, u32);
        typedef void (*v3)(void *, u32, u32, u32);
        typedef void (*v4)(void *, u32, u32, u32, u32);
        typedef void (*v5)(void *, u32, u32, u32, u32, u32);
        typedef void (*v6)(void *, u32, u32, u32, u32, u32, u32);
        typedef void (*v7)(void *, u32, u32, u32, u32, u32, u32, u32);
        typedef void (*v8)(void *, u32, u32, u32, u32, u32, u32, u32, u32);
        wasm_rt_function_ptr_t p = f->ref.func;
        switch (f->nargs) {
        case 0: ((v0)p)(i); break;
        case 1: ((v1)p)(i, a0); break;
        case 2: ((v2)p)(i, a0, a1); break;
        case 3: ((v3)p)(i, a0, a1, a2); break;
        case 4: ((v4)p)(i, a0, a1, a2, a3); break;
        case 5: ((v5)p)(i, a0, a1, a2, a3, a4); break;
        case 6: ((v6)p)(i, a0, a1, a2, a3, a4, a5); break;
        case 7: ((v7)p)(i, a0, a1, a2, a3, a4, a5, a6); break;
        case 8: ((v8)p)(i, a0, a1, a2, a3, a4, a5, a6, a7); break;
        }
        return;
    }
    typedef u32 (*r0)(void *);
    typedef u32 (*r1)(void *, u32);
    typedef u32 (*r2)(void *, u32, u32);
    typedef u32 (*r3)(void *, u32, u32, u32);
    typedef u32 (*r4)(void *, u32, u32, u32, u32);
    typedef u32 (*r5)(void *, u32, u32, u32, u32, u32);
    typedef u32 (*r6)(void *, u32, u32, u32, u32, u32, u32);
    typedef u32 (*r7)(void *, u32, u32, u32, u32, u32, u32, u32);
    typedef u32 (*r8)(void *, u32, u32, u32, u32, u32, u32, u32, u32);
    wasm_rt_function_ptr_t p = f->ref.func;
    switch (f->nargs) {
    case 0: r = ((r0)p)(i); break;
    case 1: r = ((r1)p)(i, a0); break;
    case 2: r = ((r2)p)(i, a0, a1); break;
    case 3: r = ((r3)p)(i, a0, a1, a2); break;
    case 4: r = ((r4)p)(i, a0, a1, a2, a3); break;
    case 5: r = ((r5)p)(i, a0, a1, a2, a3, a4); break;
    case 6: r = ((r6)p)(i, a0, a1, a2, a3, a4, a5); break;
    case 7: r = ((r7)p)(i, a0, a1, a2, a3, a4, a5, a6); break;
    case 8: r = ((r8)p)(i, a0, a1, a2, a3, a4, a5, a6, a7); break;
    }
    raw[0].i32 = (int32_t)r;
}

/* exit() inside an upcall: the bridge ends the job naming the callback (upcall.c settle) */
static char g_exit_token[] = "the guest called exit";
static int g_exit_status;

_Noreturn void w2c_host_exit_in_upcall(int status)
{
    g_exit_status = status;
    siglongjmp(g_trap_frames->jb, 2);
}

/* Run the guest function under a trap frame: a trap in it becomes *trap for the bridge, with
 * wasmtime's "wasm trap: " prefix, and exit() an error that carries the status. */
static wasmtime_error_t *call_guarded(const guest_fn *f, wasmtime_val_raw_t *raw,
                                      wasm_trap_t **trap)
{
    trap_frame fr;
    fr.up = g_trap_frames;
    *trap = NULL;
    wasmtime_error_t *e = NULL;
    g_upcall_depth++;
    int how = sigsetjmp(fr.jb, 1);
    if (how == 0) {
        g_trap_frames = &fr;
        invoke(f, raw);
    } else if (how == 2) {
        e = (wasmtime_error_t *)g_exit_token;
    } else {
        char m[sizeof g_trap_msg];
        snprintf(m, sizeof m, "wasm trap: %s", g_trap_msg);
        memcpy(g_trap_msg, m, sizeof m);
        *trap = (wasm_trap_t *)g_trap_msg;
    }
    g_trap_frames = fr.up;
    g_upcall_depth--;
    return e;
}

static wasmtime_error_t *w_func_call_unchecked(wasmtime_context_t *ctx,
                                               const wasmtime_func_t *func,
                                               wasmtime_val_raw_t *raw, size_t len,
                                               wasm_trap_t **trap)
{
    (void)ctx;
    const guest_fn *f = func->private_;
    if (!f || f->nargs < 0 || (size_t)f->nargs > len)
        return mismatch();
    wasmtime_val_raw_t slots[8];
    memset(slots, 0, sizeof slots);
    memcpy(slots, raw, (len < 8 ? len : 8) * sizeof *raw);
    wasmtime_error_t *e = call_guarded(f, slots, trap);
    if (f->nres)
        raw[0] = slots[0];
    return e;
}

static wasmtime_error_t *w_func_call(wasmtime_context_t *ctx, const wasmtime_func_t *func,
                                     const wasmtime_val_t *args, size_t nargs,
                                     wasmtime_val_t *results, size_t nresults, wasm_trap_t **trap)
{
    (void)ctx;
    const guest_fn *f = func->private_;
    if (!f || f->nargs != (int)nargs || f->nres != (int)nresults || nargs > 8)
        return mismatch();
    wasmtime_val_raw_t slots[8];
    memset(slots, 0, sizeof slots);
    for (size_t k = 0; k < nargs; k++)
        slots[k].i32 = args[k].of.i32;
    wasmtime_error_t *e = call_guarded(f, slots, trap);
    if (nresults && !*trap && !e) {
        results[0].kind = WASMTIME_I32;
        results[0].of.i32 = slots[0].i32;
    }
    return e;
}

static void copy_message(const char *m, wasm_byte_vec_t *out)
{
    size_t n = strlen(m);
    out->data = malloc(n + 1);
    out->size = out->data ? n : 0;
    if (out->data)
        memcpy(out->data, m, n + 1);
}

static void w_trap_message(const wasm_trap_t *t, wasm_byte_vec_t *out)
{
    copy_message((const char *)t, out);
}
static void w_trap_delete(wasm_trap_t *t) { (void)t; }
static void w_error_message(const wasmtime_error_t *e, wasm_byte_vec_t *out)
{
    copy_message((const char *)e, out);
}
static void w_error_delete(wasmtime_error_t *e) { (void)e; }
static void w_byte_vec_delete(wasm_byte_vec_t *v)
{
    free(v->data);
    v->data = NULL;
    v->size = 0;
}
static _Bool w_error_exit_status(const wasmtime_error_t *e, int *status)
{
    if ((const char *)e != g_exit_token)
        return 0;
    *status = g_exit_status;
    return 1;
}
static wasm_functype_t *w_func_type(const wasmtime_context_t *ctx, const wasmtime_func_t *func)
{
    (void)ctx;
    guest_fn *f = func->private_;
    return f ? &f->type : NULL;
}
static const wasm_valtype_vec_t *w_functype_params(const wasm_functype_t *t) { return &t->params; }
static const wasm_valtype_vec_t *w_functype_results(const wasm_functype_t *t)
{
    return &t->results;
}
static uint8_t w_valtype_kind(const wasm_valtype_t *t) { return t->kind; }
static void w_functype_delete(wasm_functype_t *t) { (void)t; }

static const wasmpi_host_api W2C_API = {
    w_trap_new, w_memory_data_size, w_caller_context, w_table_get, w_func_call,
    w_trap_message, w_trap_delete, w_error_message, w_error_delete, w_byte_vec_delete,
    w_error_exit_status, w_func_call_unchecked, w_func_type, w_functype_params,
    w_functype_results, w_valtype_kind, w_functype_delete,
};

const wasmpi_host_api *w2c_host_api(void) { return &W2C_API; }

static void export_fn(guest_fn *f, wasm_rt_function_ptr_t p, int nargs, int nres)
{
    f->ref.func = p;
    f->ref.module_instance = g_inst;
    f->nargs = nargs;
    f->nres = nres;
    f->type.params = (wasm_valtype_vec_t){(size_t)nargs, I32S};
    f->type.results = (wasm_valtype_vec_t){(size_t)nres, I32S};
}

void w2c_host_install(void *inst, const guest_glue *g)
{
    g_inst = inst;
    G = g;
}

/* Hand the guest's memory, table and exports to the bridge (after instantiation). */
void w2c_host_attach(void)
{
    extern void wasmpi_bridge_set_memory(uint8_t *, uint64_t, const wasmtime_context_t *,
                                         const void *);
    extern void wasmpi_bridge_set_exports(const wasmtime_table_t *, const wasmtime_func_t *,
                                          const wasmtime_func_t *);
    extern void wasmpi_bridge_set_flush(const wasmtime_func_t *);
    wasm_rt_memory_t *mem = G->memory(g_inst);
    wasmpi_bridge_set_memory(mem->data, mem->size, (const wasmtime_context_t *)W2C_CALLER, mem);
    wasmtime_table_t table;
    memset(&table, 0, sizeof table);
    wasm_rt_funcref_table_t *t = G->table ? G->table(g_inst) : NULL;
    table.anon.store_id = (uint64_t)(uintptr_t)t;
    static wasmtime_func_t fm, ff, fl;
    if (G->malloc_) {
        export_fn(&g_malloc_fn, (wasm_rt_function_ptr_t)G->malloc_, 1, 1);
        fm = (wasmtime_func_t){1, &g_malloc_fn};
    }
    if (G->free_) {
        export_fn(&g_free_fn, (wasm_rt_function_ptr_t)G->free_, 1, 0);
        ff = (wasmtime_func_t){1, &g_free_fn};
    }
    wasmpi_bridge_set_exports(t ? &table : NULL, G->malloc_ ? &fm : NULL, G->free_ ? &ff : NULL);
    if (G->flush) {
        export_fn(&g_flush_fn, (wasm_rt_function_ptr_t)G->flush, 0, 0);
        fl = (wasmtime_func_t){1, &g_flush_fn};
    }
    wasmpi_bridge_set_flush(G->flush ? &fl : NULL);
}
