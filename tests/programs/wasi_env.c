/* What a process sees of its surroundings, with output that is the same on every engine
 * (tests/integration/test_engines.py): argv, the whole environment (sorted), clocks (the
 * realtime clock is checked against the host's time passed in argv[1], never printed),
 * clock_getres, sleeps (nanosleep, usleep, poll with a timeout), poll readiness, random
 * bytes, the stdio descriptors, and stdin read to its end.
 * Usage: wasi_env.wasm HOST_UNIX_SECONDS [more args...] < input */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

extern char **environ;

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int64_t ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void section_args_env(int argc, char **argv)
{
    printf("argc %d\n", argc);
    /* argv[0] is the module's name on every engine; argv[1], the time, differs by run */
    for (int i = 2; i < argc; i++)
        printf("argv[%d] = [%s]\n", i, argv[i]);
    int n = 0;
    while (environ[n])
        n++;
    char **env = malloc(sizeof *env * (size_t)(n + 1));
    memcpy(env, environ, sizeof *env * (size_t)n);
    qsort(env, (size_t)n, sizeof *env, cmp);
    printf("environ: %d entries\n", n);
    for (int i = 0; i < n; i++)
        printf("  %s\n", env[i]);
    free(env);
    printf("getenv HOME: %s\n", getenv("HOME") ? getenv("HOME") : "<unset>");
    setenv("WASMPI_T_NEW", "added", 1);
    printf("setenv then getenv: %s\n", getenv("WASMPI_T_NEW"));
}

static void section_clocks(long long host_now)
{
    int64_t prev = ns(CLOCK_MONOTONIC), bad = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t t = ns(CLOCK_MONOTONIC);
        if (t < prev)
            bad++;
        prev = t;
    }
    printf("monotonic never decreases: %d\n", bad == 0);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    long long d = (long long)rt.tv_sec - host_now;
    printf("realtime within 5 s of the host: %d\n", d > -5 && d < 5);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    d = (long long)tv.tv_sec - host_now;
    printf("gettimeofday within 5 s: %d, usec < 1e6: %d\n", d > -5 && d < 5,
           tv.tv_usec < 1000000);
    d = (long long)time(NULL) - host_now;
    printf("time() within 5 s: %d\n", d > -5 && d < 5);
    /* the raw calls: wasi-libc hides the CPU-time clocks behind an emulation flag */
    const char *names[] = {"realtime", "monotonic", "process", "thread"};
    for (unsigned i = 0; i < 4; i++) {
        __wasi_timestamp_t res = 0, now = 0;
        int r = __wasi_clock_res_get(i, &res);
        /* a resolution is positive and at most a millisecond on both engines */
        printf("clock_res_get %s = %d positive %d fine %d\n", names[i], r, res > 0,
               res <= 1000000);
        r = __wasi_clock_time_get(i, 1, &now);
        printf("clock_time_get %s = %d nonzero %d\n", names[i], r, now > 0);
    }
    struct timespec res;
    printf("clock_getres monotonic = %d\n", clock_getres(CLOCK_MONOTONIC, &res));
}

static void section_sleep(void)
{
    int64_t t0 = ns(CLOCK_MONOTONIC);
    struct timespec req = {0, 30000000}, rem = {7, 7};
    int r = nanosleep(&req, &rem);
    int64_t t1 = ns(CLOCK_MONOTONIC);
    printf("nanosleep 30 ms = %d, slept enough %d\n", r, t1 - t0 >= 30000000);
    r = usleep(20000);
    int64_t t2 = ns(CLOCK_MONOTONIC);
    printf("usleep 20 ms = %d, slept enough %d\n", r, t2 - t1 >= 20000000);
    r = poll(NULL, 0, 25);
    int64_t t3 = ns(CLOCK_MONOTONIC);
    printf("poll no fds 25 ms = %d, slept enough %d\n", r, t3 - t2 >= 25000000);
    struct timespec zero = {0, 0};
    printf("nanosleep 0 = %d\n", nanosleep(&zero, NULL));
    printf("sleep(0) = %u\n", sleep(0));
    printf("sched_yield = %d\n", sched_yield());
    /* an absolute deadline on the realtime clock, 20 ms ahead */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += 20000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    int64_t t4 = ns(CLOCK_MONOTONIC);
    r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &dl, NULL);
    printf("clock_nanosleep abs realtime = %d, slept %d\n", r,
           ns(CLOCK_MONOTONIC) - t4 >= 15000000);
    /* two clock subscriptions: only the earlier fires */
    __wasi_subscription_t sub[2];
    memset(sub, 0, sizeof sub);
    for (int i = 0; i < 2; i++) {
        sub[i].userdata = 100 + (uint64_t)i;
        sub[i].u.tag = __WASI_EVENTTYPE_CLOCK;
        sub[i].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        sub[i].u.u.clock.timeout = i ? 10000000 : 2000000000;
    }
    __wasi_event_t ev[2];
    __wasi_size_t nev = 0;
    r = __wasi_poll_oneoff(sub, ev, 2, &nev);
    printf("poll_oneoff two clocks = %d, %u events, first userdata %llu type %d error %d\n", r,
           (unsigned)nev, (unsigned long long)ev[0].userdata, ev[0].type, ev[0].error);
    r = __wasi_poll_oneoff(sub, ev, 0, &nev);
    printf("poll_oneoff no subscriptions = %d\n", r);
}

static void show_events(const char *what, int r, __wasi_event_t *ev, __wasi_size_t nev)
{
    printf("%s = %d, %u events:", what, r, (unsigned)nev);
    for (unsigned i = 0; i < nev; i++)
        printf(" [ud %llu type %d err %d nbytes %llu flags %d]", (unsigned long long)ev[i].userdata,
               ev[i].type, ev[i].error, (unsigned long long)ev[i].fd_readwrite.nbytes,
               ev[i].fd_readwrite.flags);
    printf("\n");
}

static void fd_sub(__wasi_subscription_t *s, uint64_t ud, int tag, int fd)
{
    memset(s, 0, sizeof *s);
    s->userdata = ud;
    s->u.tag = (uint8_t)tag;
    s->u.u.fd_read.file_descriptor = (__wasi_fd_t)fd; /* fd_write's is at the same place */
}

static void clock_sub(__wasi_subscription_t *s, uint64_t ud, uint64_t timeout)
{
    memset(s, 0, sizeof *s);
    s->userdata = ud;
    s->u.tag = __WASI_EVENTTYPE_CLOCK;
    s->u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    s->u.u.clock.timeout = timeout;
}

/* Readiness of a regular file. With several file subscriptions wasmtime reports one or more
 * of them (its file readiness comes from a thread pool), so only one is asked at a time, and
 * for several only what is certain is printed. */
static void section_poll_fds(void)
{
    int fd = open("/data/poll.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "abcdef", 6);
    lseek(fd, 0, SEEK_SET);
    struct pollfd p[2] = {{fd, POLLIN, 0}, {99, POLLIN, 0}};
    errno = 0;
    int r = poll(p, 2, 1000);
    printf("poll a file and a bad fd = %d %s\n", r, strerror(errno));
    struct pollfd p1 = {fd, POLLIN | POLLOUT, 0};
    r = poll(&p1, 1, 1000);
    printf("poll a file in|out = %d, some ready %d\n", r, (p1.revents & (POLLIN | POLLOUT)) != 0);
    __wasi_subscription_t sub[3];
    __wasi_event_t ev[3];
    __wasi_size_t nev = 0;
    fd_sub(&sub[0], 1, __WASI_EVENTTYPE_FD_READ, fd);
    clock_sub(&sub[1], 3, 5000000000ull);
    r = __wasi_poll_oneoff(sub, ev, 2, &nev);
    show_events("poll_oneoff file read + clock", r, ev, nev);
    fd_sub(&sub[0], 2, __WASI_EVENTTYPE_FD_WRITE, fd);
    r = __wasi_poll_oneoff(sub, ev, 2, &nev);
    show_events("poll_oneoff file write + clock", r, ev, nev);
    fd_sub(&sub[0], 1, __WASI_EVENTTYPE_FD_READ, fd);
    fd_sub(&sub[1], 2, __WASI_EVENTTYPE_FD_WRITE, fd);
    clock_sub(&sub[2], 3, 5000000000ull);
    r = __wasi_poll_oneoff(sub, ev, 3, &nev);
    int clock_fired = 0, bad = 0;
    for (unsigned i = 0; i < nev; i++) {
        clock_fired |= ev[i].type == __WASI_EVENTTYPE_CLOCK;
        bad |= ev[i].error != 0;
    }
    printf("poll_oneoff file read + write + clock = %d, at least one %d, clock %d, errors %d\n",
           r, nev >= 1, clock_fired, bad);
    fd_sub(&sub[0], 1, __WASI_EVENTTYPE_FD_READ, 99);
    r = __wasi_poll_oneoff(sub, ev, 3, &nev);
    printf("poll_oneoff with a bad fd = %d\n", r);
    clock_sub(&sub[0], 4, 1000);
    sub[0].u.u.clock.id = __WASI_CLOCKID_PROCESS_CPUTIME_ID;
    r = __wasi_poll_oneoff(sub, ev, 1, &nev);
    printf("poll_oneoff on the process clock = %d\n", r);
    close(fd);
    unlink("/data/poll.txt");
}

static void section_random_stdio(void)
{
    unsigned char b[64];
    memset(b, 0, sizeof b);
    int r = getentropy(b, sizeof b);
    int nz = 0;
    for (int i = 0; i < 64; i++)
        nz += b[i] != 0;
    printf("getentropy = %d, some nonzero %d\n", r, nz > 8);
    printf("arc4random differs %d\n", arc4random() != arc4random() || arc4random() != arc4random());
    for (int fd = 0; fd < 3; fd++) {
        __wasi_fdstat_t st;
        r = __wasi_fd_fdstat_get((__wasi_fd_t)fd, &st);
        printf("stdio %d fdstat = %d type %d flags %d base %llx\n", fd, r, st.fs_filetype,
               st.fs_flags, (unsigned long long)st.fs_rights_base);
    }
    printf("isatty 0 1 2 = %d %d %d\n", isatty(0), isatty(1), isatty(2));
    printf("lseek stdout: %lld %s\n", (long long)lseek(1, 0, SEEK_CUR), strerror(errno));
}

static void section_stdin(void)
{
    char buf[4096];
    size_t total = 0, lines = 0;
    uint32_t h = 2166136261u;
    char first[128] = "";
    ssize_t n;
    fflush(stdout);
    while ((n = read(0, buf, sizeof buf)) > 0) {
        if (total == 0) {
            size_t k = 0;
            while (k < (size_t)n && k < sizeof first - 1 && buf[k] != '\n')
                k++;
            memcpy(first, buf, k);
            first[k] = 0;
        }
        for (ssize_t i = 0; i < n; i++) {
            h = (h ^ (unsigned char)buf[i]) * 16777619u;
            lines += buf[i] == '\n';
        }
        total += (size_t)n;
    }
    printf("stdin: read end %zd, %zu bytes, %zu lines, fnv %08x, first [%s]\n", n, total, lines,
           h, first);
}

int main(int argc, char **argv)
{
    long long host_now = argc > 1 ? atoll(argv[1]) : 0;
    section_args_env(argc, argv);
    section_clocks(host_now);
    section_sleep();
    section_poll_fds();
    section_random_stdio();
    section_stdin();
    printf("done\n");
    return 0;
}
