/* A clean stop on SIGTERM or SIGINT (Ctrl-C, scancel, a launcher ending the job): the rank
 * flushes the guest's stdio buffers, then exits with 128 + the signal, as a native rank that
 * died of it would report.
 *
 * The buffers live in guest memory, so only guest code can flush them (the support library's
 * `wasmpi_flush` export, which calls fflush(NULL)), and guest code may only run where entering
 * the store is safe: on the main thread, while no wasm frame is being executed, i.e. inside an
 * MPI callback (g_caller is set only there). So:
 *   - a signal that arrives while the rank is inside an MPI call (blocked in MPI_Recv, in a
 *     collective...) flushes and exits at once, from the handler. The handler interrupts the
 *     host MPI, so the flush may find a host lock held (say, malloc's): the grace timer below
 *     ends the rank then;
 *   - a signal that arrives while guest code runs (computing) is noted, and the guest's next
 *     MPI call flushes and exits;
 *   - a rank that makes no MPI call within STOP_GRACE_S seconds exits without flushing: only
 *     interrupting wasm code (wasmtime's epoch interruption) could reach it.
 * A signal delivered to another thread (the host MPI's progress threads) is passed to the
 * main thread, the only one that may enter the store. */
#include "bridge.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define STOP_GRACE_S 2

volatile sig_atomic_t g_stop_signal;
static pthread_t g_main;
static wasmtime_func_t g_flush;
static int have_flush;

EXPORT void wasmpi_bridge_set_flush(const wasmtime_func_t *flush)
{
    if ((have_flush = flush != NULL))
        g_flush = *flush;
}

static void out_of_time(int sig)
{
    (void)sig;
    _exit(128 + g_stop_signal);
}

void stop_now(void)
{
    if (have_flush && g_caller) {
        wasm_trap_t *t = NULL;
        wasmtime_caller_t *caller = g_caller;
        g_caller = NULL; /* guest code runs: a second signal must not re-enter it */
        wasmtime_error_t *e = W.func_call(W.caller_context(caller), &g_flush, NULL, 0, NULL, 0,
                                          &t);
        (void)e; /* exiting: whatever the flush did, there is nothing left to report it to */
        (void)t;
    }
    /* Open MPI's launcher drops what a rank wrote just before dying unless it has read it
     * first (as in abort_job) */
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    _exit(128 + g_stop_signal);
}

static void on_stop(int sig)
{
    if (!pthread_equal(pthread_self(), g_main)) {
        pthread_kill(g_main, sig);
        return;
    }
    if (g_stop_signal)
        return; /* already stopping */
    g_stop_signal = sig;
    alarm(STOP_GRACE_S);
    if (g_caller)
        stop_now();
}

void stop_install(void)
{
    g_main = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = out_of_time;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}
