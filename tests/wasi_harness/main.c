/* Test harness for the LLVM tier's WASI layer (tests/integration/test_wasi_c.py): runs a
 * guest translated with `wasm2c -n guest`, linked with wasi.c, without MPI and without the
 * product runner.
 *
 *   harness [--no-openat2] [--workdir DIR] [--dir HOST::GUEST[:ro]]... [--env K=V]... -- ARGV...
 *
 * Exit status: the guest's, or 86 after a trap (with one line on stderr). With
 * WASI_HARNESS_RACE=HOSTDIR, a host thread keeps swapping HOSTDIR/link between a symlink
 * to "inside" and one to the host's root while the guest runs. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "wasm-rt-exceptions.h"
#include "wasm-rt-impl.h"
#include "wasi.h"

static jmp_buf g_exit;
static int g_status;
static const char *g_workdir;

_Noreturn void wasmpi_runner_exit(int status)
{
    g_status = status;
    longjmp(g_exit, 1);
}

u32 w2c_wasmpi_workdir(struct w2c_wasmpi *unused, u32 buf, u32 len);
static wasm_rt_memory_t *g_mem;

u32 w2c_wasmpi_workdir(struct w2c_wasmpi *unused, u32 buf, u32 len)
{
    (void)unused;
    if (!g_workdir)
        return 0;
    size_t l = strlen(g_workdir) + 1;
    if ((uint64_t)buf + len > g_mem->size)
        wasm_rt_trap(WASM_RT_TRAP_OOB);
    if (l > len)
        return (u32)-1;
    memcpy(g_mem->data + buf, g_workdir, l);
    return (u32)(l - 1);
}

static atomic_int g_stop;

static void *racer(void *arg)
{
    const char *dir = arg;
    char link[4096], tmp[4096];
    snprintf(link, sizeof link, "%s/link", dir);
    snprintf(tmp, sizeof tmp, "%s/link.tmp", dir);
    for (unsigned i = 0; !atomic_load(&g_stop); i++) {
        unlink(tmp);
        if (symlink(i % 2 ? "/" : "inside", tmp) == 0)
            rename(tmp, link);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    wasi_grant grants[16];
    const char *envp[64];
    wasi_config cfg = {0};
    cfg.grants = grants;
    cfg.envp = envp;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--no-openat2")) {
            cfg.no_openat2 = 1;
        } else if (!strcmp(argv[i], "--workdir") && i + 1 < argc) {
            g_workdir = argv[++i];
        } else if (!strcmp(argv[i], "--env") && i + 1 < argc && cfg.envc < 64) {
            envp[cfg.envc++] = argv[++i];
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc && cfg.ngrants < 16) {
            char *spec = strdup(argv[++i]);
            wasi_grant *g = &grants[cfg.ngrants++];
            size_t l = strlen(spec);
            g->readonly = l > 3 && !strcmp(spec + l - 3, ":ro");
            if (g->readonly)
                spec[l - 3] = 0;
            char *sep = strstr(spec, "::");
            g->host = spec;
            g->guest = spec;
            if (sep) {
                *sep = 0;
                g->guest = sep + 2;
            }
        } else {
            fprintf(stderr, "harness: bad argument %s\n", argv[i]);
            return 2;
        }
    }
    if (i < argc)
        i++;
    cfg.argc = argc - i;
    cfg.argv = (const char *const *)argv + i;
    char err[512];
    struct w2c_wasi__snapshot__preview1 *w = wasi_new(&cfg, err, sizeof err);
    if (!w) {
        fprintf(stderr, "harness: %s\n", err);
        return 3;
    }
    pthread_t th;
    const char *race = getenv("WASI_HARNESS_RACE");
    if (race)
        pthread_create(&th, NULL, racer, (void *)race);
    wasm_rt_init();
    static w2c_guest guest;
    wasm2c_guest_instantiate(&guest, w, NULL);
    g_mem = w2c_guest_memory(&guest);
    wasi_set_memory(w, g_mem);
    int status = 0;
    if (setjmp(g_exit) == 0) {
        wasm_rt_trap_t trap = wasm_rt_impl_try();
        if (trap == WASM_RT_TRAP_NONE) {
            w2c_guest_0x5Fstart(&guest);
        } else {
            fflush(stdout);
            fprintf(stderr, "harness: trap: %s\n", wasm_rt_strerror(trap));
            status = 86;
        }
    } else {
        status = g_status;
    }
    if (race) {
        atomic_store(&g_stop, 1);
        pthread_join(th, NULL);
    }
    return status;
}
