/* wasmpi-runner: one rank of the LLVM engine tier, with no Python in the process.
 *
 *   wasmpi-runner [OPTIONS] MODULE.so ARGV0 [ARGS...]
 *     --dir HOST GUEST RO   a directory grant (RO: 0 or 1), preopened in this order
 *     --env K=V             the guest's environment, one entry each
 *     --workdir PATH        the guest's initial working directory
 *     --mem-limit BYTES     cap linear memory: memory.grow past it returns -1
 *     --no-openat2          resolve guest paths by the component walk
 *     --where PATH          the module: its name in messages of a module without MPI (the
 *                           path is for tools that look for a job's ranks by module)
 *     --warn TEXT           a line rank 0 prints once MPI has started (unsupported imports)
 *     --spawn ARG           one word of the command that starts a spawned child (repeatable)
 *     --time-limit SECONDS  end the job then (exit 124), saying where this rank is
 *     --deadline EPOCH      when the limit runs out (set by `wasmpi run` for all ranks)
 *
 * It loads MODULE.so (wasm2c's C for the module and its glue, runtime/llvm/build.py), starts
 * the MPI bridge if the module imports MPI, runs _start, and ends the rank as `wasmpi exec`
 * does on the wasmtime tier: same messages, same statuses (a trap is 134, and aborts the job).
 */
#define _GNU_SOURCE
#include "w2c_host.h"
#include "wasi.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

extern const wasmpi_host_api *w2c_host_api(void);
extern int wasmpi_bridge_init(const wasmpi_host_api *api);
extern void wasmpi_bridge_exit(int status);
extern int wasmpi_bridge_rank(void);
extern int wasmpi_bridge_set_grants(int n, const char **host, const char **guest,
                                    const int *readonly, int openat2);
extern int wasmpi_bridge_set_spawn(int n, const char *const *argv);
extern int wasmpi_bridge_set_guest(int argc, const char *const *argv, const char *wdir);
extern void *wasmpi_bridge_host_gethostname(void);

#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define TRAP_STATUS 134

static const guest_glue *G;
static void *g_inst;
static wasm_rt_memory_t *g_mem;
static int g_mpi;             /* the bridge has started MPI */
static char g_where[64] = "wasmpi";
static const char *g_workdir;

static void die(int status, const char *fmt, const char *arg)
{
    fprintf(stderr, "wasmpi: error: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(status);
}

/* The end of the rank: finalize (0) or abort the job (nonzero), as rank.py does. */
static _Noreturn void finish(int status, int trapped)
{
    fflush(stdout);
    if (status != 0 && !trapped && g_mpi) /* as rank.py: only a job with MPI is ended */
        fprintf(stderr, "%s: the guest exited with status %d; ending the job\n", g_where,
                status);
    if (g_mpi)
        wasmpi_bridge_exit(status);
    exit(status);
}

_Noreturn void wasmpi_runner_exit(int status)
{
    if (g_upcall_depth > 0 && g_mpi) /* the bridge says which callback, and ends the job */
        w2c_host_exit_in_upcall(status);
    finish(status, 0);
}

/* ---- host services (import module "wasmpi") --------------------------------------------- */

/* (buf, len) -> length with the NUL, 0 for none, or -needed (runtime.WORKDIR_IMPORT) */
u32 w2c_wasmpi_workdir(struct w2c_wasmpi *unused, u32 buf, u32 len)
{
    (void)unused;
    if (!g_workdir)
        return 0;
    size_t n = strlen(g_workdir) + 1;
    if (n > len)
        return (u32)-(int32_t)n;
    if ((uint64_t)buf + n > g_mem->size)
        runner_bridge_trap(W.trap_new ? W.trap_new("wasmpi.workdir: buffer outside linear "
                                                   "memory", 41)
                                      : NULL);
    memcpy(g_mem->data + buf, g_workdir, n);
    return (u32)n;
}

u32 w2c_wasmpi_gethostname(struct w2c_wasmpi *unused, u32 buf, u32 len)
{
    (void)unused;
    callback_fn cb = (callback_fn)wasmpi_bridge_host_gethostname();
    wasmtime_val_raw_t s[2];
    s[0].i32 = (int32_t)buf;
    s[1].i32 = (int32_t)len;
    wasm_trap_t *t = cb(NULL, W2C_CALLER, s, 2);
    if (t)
        runner_bridge_trap(t);
    return (u32)s[0].i32;
}

/* ---- memory faults: wasm2c's guard pages, checked before the host MPI's handlers ---------- */

static struct sigaction g_prev_segv, g_prev_bus;
static uintptr_t g_stack_lo;

extern _Noreturn void runner_trap(wasm_rt_trap_t code);

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (g_trap_frames && g_mem && addr >= (uintptr_t)g_mem->data &&
            addr - (uintptr_t)g_mem->data < 0x200000000ull + 0x10000)
        runner_trap(WASM_RT_TRAP_OOB); /* the 8 GiB reservation: guard pages */
    if (g_trap_frames && g_stack_lo && addr < g_stack_lo + 0x10000 &&
            addr + (1u << 20) > g_stack_lo)
        runner_trap(WASM_RT_TRAP_EXHAUSTION);
    /* not the guest's: whoever handled it before (Open MPI prints a backtrace), or death */
    struct sigaction *prev = sig == SIGBUS ? &g_prev_bus : &g_prev_segv;
    if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction) {
        prev->sa_sigaction(sig, si, uc);
        return;
    }
    if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN && prev->sa_handler) {
        prev->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL); /* the fault happens again on return, and kills the rank */
}

/* After MPI_Init too: Open MPI installs SIGSEGV/SIGBUS handlers of its own there. */
static void install_fault_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    struct sigaction old;
    if (sigaction(SIGSEGV, &sa, &old) == 0 && old.sa_sigaction != on_fault)
        g_prev_segv = old;
    if (sigaction(SIGBUS, &sa, &old) == 0 && old.sa_sigaction != on_fault)
        g_prev_bus = old;
}

static void find_stack(void)
{
    pthread_attr_t at;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &at) == 0) {
        if (pthread_attr_getstack(&at, &lo, &size) == 0)
            g_stack_lo = (uintptr_t)lo;
        pthread_attr_destroy(&at);
    }
}

/* ---- --time-limit: a watchdog thread, like the wasmtime tier's (timelimit.py) ------------- */

extern const char *wasmpi_bridge_current(int64_t *slots, int n);
static double g_limit, g_deadline;
static volatile int g_started;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "in MPI_Recv(source=0, tag=7, comm=MPI_COMM_WORLD)", as bridge/calls.py's describe() */
static void describe_call(char *out, size_t cap, const char *call)
{
    const w2c_call_peers *c = NULL;
    for (int i = 0; i < w2c_n_peer_calls && !c; i++)
        if (!strcmp(w2c_peer_calls[i].name, call))
            c = &w2c_peer_calls[i];
    int64_t slots[32];
    int n = c && c->nslots <= 32 ? c->nslots : 0;
    const char *again = c ? wasmpi_bridge_current(slots, n) : NULL;
    if (!c || again != call) { /* not in the table, or another call meanwhile: the name */
        snprintf(out, cap, "in %s", again ? again : call);
        return;
    }
    size_t len = (size_t)snprintf(out, cap, "in %s(", call);
    for (int k = 0; k < c->npeers && len < cap; k++) {
        int32_t v = (int32_t)slots[c->peer[k].slot];
        const char *name = NULL;
        for (int j = 0; j < w2c_n_peer_names && !name; j++)
            if (w2c_peer_names[j].kind == c->peer[k].kind && w2c_peer_names[j].value == v)
                name = w2c_peer_names[j].name;
        const char *sep = k ? ", " : "";
        if (name)
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", sep, c->peer[k].param, name);
        else if (c->peer[k].kind == 'c')
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%#x", sep, c->peer[k].param,
                                    (unsigned)v);
        else
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%d", sep, c->peer[k].param, v);
    }
    if (len < cap)
        snprintf(out + len, cap - len, ")");
}

static void *watchdog(void *unused)
{
    (void)unused;
    double left;
    while ((left = g_deadline - now()) > 0) {
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
    const char *call = g_mpi ? wasmpi_bridge_current(NULL, 0) : NULL;
    char state[512];
    if (call)
        describe_call(state, sizeof state, call);
    else
        snprintf(state, sizeof state, "%s", g_started ? "while computing" : "while starting up");
    /* a module without MPI is "wasmpi" here, as on wasmtime (its traps name the module) */
    fprintf(stderr, "%s: time limit (%g s) reached %s\n", g_mpi ? g_where : "wasmpi", g_limit,
            state);
    sleep(2); /* timelimit.GRACE: every rank's line gets out before mpiexec ends the job */
    _exit(124);
    return NULL;
}

/* ---- main --------------------------------------------------------------------------------- */

typedef struct {
    const char **v;
    int n;
} strs;

static void push(strs *s, const char *x)
{
    s->v = realloc(s->v, sizeof *s->v * (size_t)(s->n + 2));
    if (!s->v)
        die(1, "%s", "out of memory");
    s->v[s->n++] = x;
    s->v[s->n] = NULL;
}

static uint64_t g_mem_limit;

static void report_trap(void)
{
    char text[8192];
    /* as runtime._explain: memory this close to the limit means a growth was refused */
    uint64_t slack = g_mem_limit / 8 > (4u << 20) ? g_mem_limit / 8 : (4u << 20);
    if (g_mem_limit && g_mem && g_mem->size + slack > g_mem_limit) {
        size_t n = strlen(g_trap_msg);
        snprintf(g_trap_msg + n, sizeof g_trap_msg - n, ": the memory limit was reached "
                 "(--mem-limit %llu: %llu bytes in use; malloc returns NULL beyond it)",
                 (unsigned long long)g_mem_limit, (unsigned long long)g_mem->size);
    }
    trap_format(text, sizeof text, g_where);
    fprintf(stderr, "%s\n", text);
}

int main(int argc, char **argv)
{
    strs hosts = {0}, guests = {0}, env = {0}, spawn = {0};
    int ro[256], nro = 0, no_openat2 = 0;
    uint64_t mem_limit = 0;
    const char *warn = NULL;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        int left = argc - i - 1;
        if (!strcmp(o, "--dir") && left >= 3 && nro < 256) {
            push(&hosts, argv[++i]);
            push(&guests, argv[++i]);
            ro[nro++] = atoi(argv[++i]);
        } else if (!strcmp(o, "--env") && left >= 1) {
            push(&env, argv[++i]);
        } else if (!strcmp(o, "--workdir") && left >= 1) {
            g_workdir = argv[++i];
        } else if (!strcmp(o, "--mem-limit") && left >= 1) {
            mem_limit = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(o, "--no-openat2")) {
            no_openat2 = 1;
        } else if (!strcmp(o, "--where") && left >= 1) {
            const char *path = argv[++i], *slash = strrchr(path, '/');
            snprintf(g_where, sizeof g_where, "%s", slash ? slash + 1 : path);
        } else if (!strcmp(o, "--warn") && left >= 1) {
            warn = argv[++i];
        } else if (!strcmp(o, "--time-limit") && left >= 1) {
            g_limit = atof(argv[++i]);
        } else if (!strcmp(o, "--deadline") && left >= 1) {
            g_deadline = atof(argv[++i]);
        } else if (!strcmp(o, "--spawn") && left >= 1) {
            push(&spawn, argv[++i]);
        } else {
            die(EX_USAGE, "wasmpi-runner: unknown or incomplete option %s", o);
        }
    }
    if (argc - i < 2)
        die(EX_USAGE, "%s", "usage: wasmpi-runner [OPTIONS] MODULE.so ARGV0 [ARGS...]");
    const char *so = argv[i++];
    g_module_name = argv[i];

    if (g_limit > 0) {
        if (g_deadline <= 0)
            g_deadline = now() + g_limit;
        pthread_t t;
        pthread_create(&t, NULL, watchdog, NULL);
        pthread_detach(t);
    }
    void *bt[2];
    backtrace(bt, 2); /* loads the unwinder now: a trap may need it in a signal handler */
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        die(EX_UNAVAILABLE, "cannot load the compiled module: %s", dlerror());
    const guest_glue *(*glue)(void) = (const guest_glue *(*)(void))dlsym(h, "wasmpi_guest_glue");
    if (!glue)
        die(EX_UNAVAILABLE, "%s: not a module compiled by this wasmpi (no glue)", so);
    G = glue();

    wasi_grant grants[256];
    for (int k = 0; k < nro; k++)
        grants[k] = (wasi_grant){hosts.v[k], guests.v[k], ro[k]};
    wasi_config cfg = {argc - i, (const char *const *)argv + i, env.n, env.v, nro, grants,
                       no_openat2};
    char err[512] = "";
    struct w2c_wasi__snapshot__preview1 *wasi = wasi_new(&cfg, err, sizeof err);
    if (!wasi)
        die(65, "%s", err);

    wasm_rt_init();
    find_stack();
    install_fault_handler();
    g_inst = calloc(1, G->instance_size());
    if (!g_inst)
        die(1, "%s", "out of memory");
    w2c_host_install(g_inst, G);

    if (G->needs_mpi) {
        wasmpi_bridge_set_grants(nro, hosts.v, guests.v, ro, !no_openat2);
        if (spawn.n)
            wasmpi_bridge_set_spawn(spawn.n, spawn.v);
        wasmpi_bridge_set_guest(argc - i, (const char *const *)argv + i,
                                g_workdir ? g_workdir : "/");
        int rc = wasmpi_bridge_init(w2c_host_api());
        if (rc != 0) {
            fprintf(stderr, "wasmpi: error: MPI_Init_thread failed in the host MPI (error %d)\n",
                    rc);
            return EX_UNAVAILABLE;
        }
        g_mpi = 1;
        snprintf(g_where, sizeof g_where, "wasmpi: rank %d", wasmpi_bridge_rank());
        install_fault_handler(); /* ours first again: MPI_Init may have replaced it */
        if (warn && wasmpi_bridge_rank() == 0)
            fprintf(stderr, "%s\n", warn);
    }

    trap_frame top;
    top.up = NULL;
    if (sigsetjmp(top.jb, 1) != 0) {
        g_trap_frames = NULL;
        report_trap();
        finish(TRAP_STATUS, 1);
    }
    g_trap_frames = &top;
    G->instantiate(g_inst, wasi);
    g_trap_frames = NULL;
    g_mem = G->memory(g_inst);
    g_mem_limit = mem_limit;
    if (mem_limit) {
        uint64_t pages = mem_limit >> 16;
        if (g_mem->pages > pages) {
            fprintf(stderr, "wasmpi: error: cannot instantiate the module: its initial memory "
                    "(%llu bytes) exceeds --mem-limit %llu\n",
                    (unsigned long long)g_mem->size, (unsigned long long)mem_limit);
            finish(2, 1);
        }
        if (g_mem->max_pages > pages)
            g_mem->max_pages = pages;
    }
    wasi_set_memory(wasi, g_mem);
    if (g_mpi)
        w2c_host_attach();
    g_trap_frames = &top;
    g_started = 1;
    G->start(g_inst);
    g_trap_frames = NULL;
    finish(0, 0);
}
