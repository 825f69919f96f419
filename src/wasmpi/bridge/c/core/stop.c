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
#include <sys/ioctl.h>
#include <sys/stat.h>
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

/* Run the guest's fflush(NULL) for the callback's caller. g_caller is cleared while guest code
 * runs, so that a stop signal arriving meanwhile is only noted (on_stop) and never re-enters
 * the store; the caller gets it back. */
static void call_flush(void)
{
    wasm_trap_t *t = NULL;
    wasmtime_caller_t *caller = g_caller;
    g_caller = NULL;
    wasmtime_error_t *e = W.func_call(W.caller_context(caller), &g_flush, NULL, 0, NULL, 0, &t);
    g_caller = caller;
    if (e && W.error_delete)
        W.error_delete(e);
    if (t && W.trap_delete)
        W.trap_delete(t);
}

/* Flush the guest's stdio buffers from inside an MPI callback (g_caller set), e.g. before
 * MPI_Finalize: what a rank printed before it is then in the pipe before any rank can exit,
 * and a launcher that ends the job on a nonzero exit (Open MPI's) has it to read. */
void flush_guest(void)
{
    if (have_flush && g_caller && !g_stop_signal)
        call_flush();
}

/* Bytes written to fd and not yet read by the other end: a pipe or socket tells (FIONREAD);
 * -1 for a pseudo-terminal (Open MPI gives ranks one for stdout), which does not; 0 else. */
static int unread(int fd)
{
    struct stat st;
    int n = 0;
    if (fstat(fd, &st) != 0)
        return 0;
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
    return S_ISCHR(st.st_mode) && isatty(fd) ? -1 : 0;
}

/* Wait (up to `ms`) until the launcher has read what this rank wrote to stdout and stderr:
 * Open MPI's launcher drops the unread output of a job it is ending. A pseudo-terminal cannot
 * say, so it gets a fixed 100 ms. */
void drain_output(int ms)
{
    for (int waited = 0; waited < ms; waited += 5) {
        int n1 = unread(1), n2 = unread(2);
        if (n1 == 0 && n2 == 0)
            return;
        if ((n1 < 0 || n2 < 0) && n1 <= 0 && n2 <= 0 && waited >= 100)
            return;
        struct timespec step = {0, 5 * 1000 * 1000};
        nanosleep(&step, NULL);
    }
}

void stop_now(void)
{
    if (have_flush && g_caller)
        call_flush(); /* exiting: whatever the flush did, there is nothing to report it to */
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
