/* Info objects and the environment: every MPI_Info_* call with its truncation and error rules,
 * MPI_INFO_ENV; error classes, codes and strings the program adds; MPI_Alloc_mem memory used
 * for messages; thread levels; versions, processor name, timers, MPI_Pcontrol.
 *
 * argv[1], if given, is the thread level to ask MPI_Init_thread for (single, funneled,
 * serialized, multiple); without it the program calls MPI_Init. Rank 0 prints "library: ...",
 * "processor: ..." and "thread: ..." lines for the test to compare with the host. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conformance.h"

static int class_of(int code)
{
    int cls = -1;
    MPI_Error_class(code, &cls);
    return cls;
}

#define EXPECT_CLASS(call, cls) \
    do { \
        int rc_ = (call); \
        EXPECT(class_of(rc_) == (cls), "%s: class %d, want %d", #call, class_of(rc_), (cls)); \
    } while (0)

/* Info calls have no communicator: their errors go to MPI_COMM_WORLD's handler. */
static void errors_return(void) { MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN); }
static void errors_fatal(void) { MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL); }

static void info_calls(MPI_Comm comm)
{
    (void)comm;
    MPI_Info info, dup;
    char value[MPI_MAX_INFO_VAL + 1], key[MPI_MAX_INFO_KEY + 1];
    int flag = -1, n = -1, len = -1;
    EXPECT_OK(MPI_Info_create(&info));
    EXPECT(info != MPI_INFO_NULL, "Info_create gave MPI_INFO_NULL");
    EXPECT_OK(MPI_Info_get_nkeys(info, &n));
    EXPECT(n == 0, "a new info has %d keys", n);
    EXPECT_OK(MPI_Info_set(info, "alpha", "first"));
    EXPECT_OK(MPI_Info_set(info, "beta", "0123456789"));
    EXPECT_OK(MPI_Info_set(info, "alpha", "replaced")); /* same key: a new value */
    EXPECT_OK(MPI_Info_get_nkeys(info, &n));
    EXPECT(n == 2, "Info_get_nkeys = %d", n);
    int seen = 0;
    for (int i = 0; i < n; i++) {
        memset(key, 'x', sizeof key);
        EXPECT_OK(MPI_Info_get_nthkey(info, i, key));
        seen |= strcmp(key, "alpha") == 0 ? 1 : strcmp(key, "beta") == 0 ? 2 : 4;
    }
    EXPECT(seen == 3, "Info_get_nthkey found keys %#x", seen);
    EXPECT_OK(MPI_Info_get(info, "alpha", MPI_MAX_INFO_VAL, value, &flag));
    EXPECT(flag == 1 && strcmp(value, "replaced") == 0, "alpha: flag %d '%s'", flag, value);
    /* a short buffer: at most valuelen characters and a NUL */
    memset(value, '#', sizeof value);
    EXPECT_OK(MPI_Info_get(info, "beta", 4, value, &flag));
    EXPECT(flag == 1 && strcmp(value, "0123") == 0 && value[5] == '#',
           "beta truncated to 4: flag %d '%.8s'", flag, value);
    EXPECT_OK(MPI_Info_get_valuelen(info, "beta", &len, &flag));
    EXPECT(flag == 1 && len == 10, "Info_get_valuelen: flag %d len %d", flag, len);
    flag = -1;
    EXPECT_OK(MPI_Info_get(info, "gamma", MPI_MAX_INFO_VAL, value, &flag));
    EXPECT(flag == 0, "a missing key: flag %d", flag);
    flag = -1;
    EXPECT_OK(MPI_Info_get_valuelen(info, "gamma", &len, &flag));
    EXPECT(flag == 0, "valuelen of a missing key: flag %d", flag);
    /* a duplicate is independent of the original */
    EXPECT_OK(MPI_Info_dup(info, &dup));
    EXPECT(dup != info && dup != MPI_INFO_NULL, "Info_dup gave %p", (void *)dup);
    EXPECT_OK(MPI_Info_delete(info, "beta"));
    EXPECT_OK(MPI_Info_set(info, "alpha", "changed"));
    EXPECT_OK(MPI_Info_get_nkeys(dup, &n));
    EXPECT(n == 2, "the dup has %d keys", n);
    EXPECT_OK(MPI_Info_get(dup, "alpha", MPI_MAX_INFO_VAL, value, &flag));
    EXPECT(flag == 1 && strcmp(value, "replaced") == 0, "dup's alpha: '%s'", value);
    EXPECT_OK(MPI_Info_get_nkeys(info, &n));
    EXPECT(n == 1, "after delete: %d keys", n);
    /* errors */
    errors_return();
    EXPECT_CLASS(MPI_Info_delete(info, "beta"), MPI_ERR_INFO_NOKEY);
    /* which class is the library's: MPICH and Open MPI say MPI_ERR_INFO_KEY */
    EXPECT(MPI_Info_get_nthkey(info, 1, key) != MPI_SUCCESS, "nthkey(nkeys) succeeded");
    EXPECT(MPI_Info_get_nthkey(info, -1, key) != MPI_SUCCESS, "nthkey(-1) succeeded");
    EXPECT_CLASS(MPI_Info_get(info, "alpha", -1, value, &flag), MPI_ERR_ARG);
    /* MPICH says MPI_ERR_ARG, Open MPI MPI_ERR_INFO */
    EXPECT(MPI_Info_get_nkeys(MPI_INFO_NULL, &n) != MPI_SUCCESS, "nkeys of MPI_INFO_NULL");
    EXPECT_CLASS(MPI_Info_set((MPI_Info)(intptr_t)0x7777, "a", "b"), MPI_ERR_INFO);
    char long_key[MPI_MAX_INFO_KEY + 8];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = 0;
    EXPECT_CLASS(MPI_Info_set(info, long_key, "v"), MPI_ERR_INFO_KEY);
    EXPECT_CLASS(MPI_Info_set(info, "", "v"), MPI_ERR_INFO_KEY);
    errors_fatal();
    EXPECT_OK(MPI_Info_free(&info));
    EXPECT(info == MPI_INFO_NULL, "Info_free did not null the handle");
    errors_return();
    MPI_Info freed = dup;
    EXPECT_OK(MPI_Info_free(&dup));
    EXPECT_CLASS(MPI_Info_get_nkeys(freed, &n), MPI_ERR_INFO);
    EXPECT_CLASS(MPI_Info_free(&freed), MPI_ERR_INFO);
    errors_fatal();
}

/* MPI_INFO_ENV: readable like any info; not the program's to free */
static void info_env(MPI_Comm comm)
{
    (void)comm;
    int n = -1, flag = -1, len = -1;
    char key[MPI_MAX_INFO_KEY + 1], value[MPI_MAX_INFO_VAL + 1];
    EXPECT_OK(MPI_Info_get_nkeys(MPI_INFO_ENV, &n));
    EXPECT(n >= 0, "MPI_INFO_ENV has %d keys", n);
    for (int i = 0; i < n; i++) {
        EXPECT_OK(MPI_Info_get_nthkey(MPI_INFO_ENV, i, key));
        EXPECT_OK(MPI_Info_get_valuelen(MPI_INFO_ENV, key, &len, &flag));
        EXPECT(flag == 1 && len >= 0 && len <= MPI_MAX_INFO_VAL, "%s: flag %d len %d", key,
               flag, len);
        EXPECT_OK(MPI_Info_get(MPI_INFO_ENV, key, MPI_MAX_INFO_VAL, value, &flag));
        EXPECT(flag == 1 && (int)strlen(value) == len, "%s: flag %d strlen %d, valuelen %d",
               key, flag, (int)strlen(value), len);
    }
    MPI_Info dup;
    EXPECT_OK(MPI_Info_dup(MPI_INFO_ENV, &dup));
    int m = -1;
    EXPECT_OK(MPI_Info_get_nkeys(dup, &m));
    EXPECT(m == n, "a dup of MPI_INFO_ENV has %d keys, want %d", m, n);
    EXPECT_OK(MPI_Info_free(&dup));
    errors_return();
    MPI_Info env = MPI_INFO_ENV, null = MPI_INFO_NULL;
    EXPECT(MPI_Info_free(&env) != MPI_SUCCESS && env == MPI_INFO_ENV,
           "freeing MPI_INFO_ENV succeeded");
    EXPECT(MPI_Info_free(&null) != MPI_SUCCESS, "freeing MPI_INFO_NULL succeeded");
    errors_fatal();
    EXPECT_OK(MPI_Info_get_nkeys(MPI_INFO_ENV, &m));
    EXPECT(m == n, "MPI_INFO_ENV changed: %d keys", m);
}

/* Rank 0 prints every key of an info as "<what> KEY=VALUE": the test checks that no info the
 * guest can get names a host path or the host command (the guest sees its own argv, working
 * directory and file names). */
static void print_info(const char *what, MPI_Info info)
{
    int n = -1, flag = 0;
    char key[MPI_MAX_INFO_KEY + 1], value[MPI_MAX_INFO_VAL + 1];
    EXPECT_OK(MPI_Info_get_nkeys(info, &n));
    for (int i = 0; i < n; i++) {
        EXPECT_OK(MPI_Info_get_nthkey(info, i, key));
        EXPECT_OK(MPI_Info_get(info, key, MPI_MAX_INFO_VAL, value, &flag));
        printf("%s %s=%s\n", what, key, flag ? value : "<none>");
    }
}

static void guest_view(MPI_Comm comm)
{
    (void)comm;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Info info;
    if (rank == 0)
        print_info("envinfo", MPI_INFO_ENV);
    EXPECT_OK(MPI_Info_dup(MPI_INFO_ENV, &info));
    if (rank == 0)
        print_info("envdup", info);
    EXPECT_OK(MPI_Info_free(&info));
    char *args[] = {"one", "two words", NULL};
    EXPECT_OK(MPI_Info_create_env(2, args, &info));
    if (rank == 0)
        print_info("createenv", info);
    EXPECT_OK(MPI_Info_free(&info));
    EXPECT_OK(MPI_Comm_get_info(MPI_COMM_WORLD, &info));
    if (rank == 0)
        print_info("comminfo", info);
    EXPECT_OK(MPI_Info_free(&info));
    int buf[4];
    MPI_Win win;
    EXPECT_OK(MPI_Win_create(buf, sizeof buf, sizeof buf[0], MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    EXPECT_OK(MPI_Win_get_info(win, &info));
    if (rank == 0)
        print_info("wininfo", info);
    EXPECT_OK(MPI_Info_free(&info));
    EXPECT_OK(MPI_Win_free(&win));
    /* a file in the working directory, when it is a granted one */
    MPI_File fh;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN);
    int rc = MPI_File_open(MPI_COMM_WORLD, "info_env.tmp",
                           MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                           MPI_INFO_NULL, &fh);
    errors_fatal();
    if (rc == MPI_SUCCESS) {
        EXPECT_OK(MPI_File_get_info(fh, &info));
        if (rank == 0)
            print_info("fileinfo", info);
        EXPECT_OK(MPI_Info_free(&info));
        EXPECT_OK(MPI_File_close(&fh));
    } else if (rank == 0) {
        printf("fileinfo <no file>\n");
    }
}

/* error classes, codes and strings added by the program */
static void user_errors(MPI_Comm comm)
{
    (void)comm;
    int cls, code1, code2, *last, flag, len;
    char text[MPI_MAX_ERROR_STRING];
    EXPECT_OK(MPI_Add_error_class(&cls));
    EXPECT_OK(MPI_Add_error_code(cls, &code1));
    EXPECT_OK(MPI_Add_error_code(MPI_ERR_ARG, &code2)); /* a new code of a predefined class */
    EXPECT(cls > 0, "new class %d", cls);
    EXPECT(code1 != cls && code2 != code1 && code2 != MPI_ERR_ARG, "codes %d %d of %d", code1,
           code2, cls);
    EXPECT_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &last, &flag));
    EXPECT(flag && *last >= MPI_ERR_LASTCODE && *last >= cls && *last >= code1 &&
           *last >= code2, "MPI_LASTUSEDCODE %d (class %d, codes %d %d)", *last, cls, code1,
           code2);
    int c = -1;
    EXPECT_OK(MPI_Error_class(cls, &c));
    EXPECT(c == cls, "Error_class of a new class: %d", c);
    EXPECT_OK(MPI_Error_class(code1, &c));
    EXPECT(c == cls, "Error_class of a new code: %d, want %d", c, cls);
    EXPECT_OK(MPI_Error_class(code2, &c));
    EXPECT(c == MPI_ERR_ARG, "Error_class of a new MPI_ERR_ARG code: %d", c);
    EXPECT_OK(MPI_Add_error_string(cls, "the program's own class"));
    EXPECT_OK(MPI_Add_error_string(code1, "the program's own code"));
    EXPECT_OK(MPI_Add_error_string(code1, "the program's own code, renamed"));
    EXPECT_OK(MPI_Error_string(cls, text, &len));
    EXPECT(strcmp(text, "the program's own class") == 0 && len == (int)strlen(text),
           "Error_string of the class: '%s' (%d)", text, len);
    EXPECT_OK(MPI_Error_string(code1, text, &len));
    EXPECT(strcmp(text, "the program's own code, renamed") == 0, "Error_string: '%s'", text);
    EXPECT_OK(MPI_Error_string(code2, text, &len));
    EXPECT(len == (int)strlen(text), "Error_string without a string: len %d", len);
    EXPECT_OK(MPI_Error_string(MPI_ERR_TRUNCATE, text, &len));
    EXPECT(len > 0 && len == (int)strlen(text), "Error_string(MPI_ERR_TRUNCATE): '%s'", text);
    errors_return();
    EXPECT_CLASS(MPI_Add_error_string(MPI_ERR_ARG, "not the program's"), MPI_ERR_ARG);
    EXPECT_CLASS(MPI_Add_error_code(code1, &c), MPI_ERR_ARG); /* a code is not a class */
    EXPECT_CLASS(MPI_Error_class(-5, &c), MPI_ERR_ARG);
    EXPECT_CLASS(MPI_Error_string(*last + 1000, text, &len), MPI_ERR_ARG);
    errors_fatal();
}

/* MPI_Alloc_mem memory is the guest's: usable by the program and as a message buffer */
static void alloc_mem(MPI_Comm comm)
{
    int rank, size, inter = cf_is_inter(comm);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    enum { N = 1 << 18 };
    int *send = NULL, *recv = NULL;
    EXPECT_OK(MPI_Alloc_mem(N * sizeof(int), MPI_INFO_NULL, &send));
    MPI_Info info;
    EXPECT_OK(MPI_Info_create(&info));
    EXPECT_OK(MPI_Alloc_mem((MPI_Aint)(N * sizeof(int)), info, &recv));
    EXPECT_OK(MPI_Info_free(&info));
    EXPECT(send && recv && send != recv, "Alloc_mem: %p %p", (void *)send, (void *)recv);
    for (int i = 0; i < N; i++) {
        send[i] = rank * N + i;
        recv[i] = -1;
    }
    /* a ring; on an intercommunicator, the two groups' rank 0 swap */
    int to = (rank + 1) % size, from = (rank + size - 1) % size;
    if (inter)
        to = from = rank == 0 ? 0 : MPI_PROC_NULL;
    EXPECT_OK(MPI_Sendrecv(send, N, MPI_INT, to, 3, recv, N, MPI_INT, from, 3, comm,
                           MPI_STATUS_IGNORE));
    for (int i = 0; i < N; i++)
        EXPECT(recv[i] == (from == MPI_PROC_NULL ? -1 : from * N + i), "recv[%d] = %d", i,
               recv[i]);
    void *empty = NULL;
    EXPECT_OK(MPI_Alloc_mem(0, MPI_INFO_NULL, &empty));
    EXPECT_OK(MPI_Free_mem(empty));
    EXPECT_OK(MPI_Free_mem(send));
    EXPECT_OK(MPI_Free_mem(recv));
    /* freed memory goes back to the program's allocator */
    void *p = malloc(1024);
    EXPECT(p != NULL, "malloc after Free_mem");
    free(p);
    errors_return();
    void *bad = NULL;
    EXPECT_CLASS(MPI_Alloc_mem(-1, MPI_INFO_NULL, &bad), MPI_ERR_ARG);
    EXPECT_CLASS(MPI_Alloc_mem(16, (MPI_Info)(intptr_t)0x7777, &bad), MPI_ERR_INFO);
    int rc = MPI_Alloc_mem(0x7ffffff0, MPI_INFO_NULL, &bad); /* more than wasm32 can have */
    EXPECT(class_of(rc) == MPI_ERR_NO_MEM, "Alloc_mem of 2 GiB: class %d", class_of(rc));
    errors_fatal();
}

static const char *level_name(int level)
{
    return level == MPI_THREAD_SINGLE ? "single" : level == MPI_THREAD_FUNNELED ? "funneled"
         : level == MPI_THREAD_SERIALIZED ? "serialized"
         : level == MPI_THREAD_MULTIPLE ? "multiple" : "?";
}

static int g_provided = -1;

static void environment(MPI_Comm comm)
{
    (void)comm;
    int flag = -1, v = -1, sv = -1, len = -1;
    EXPECT_OK(MPI_Initialized(&flag));
    EXPECT(flag == 1, "Initialized = %d", flag);
    EXPECT_OK(MPI_Finalized(&flag));
    EXPECT(flag == 0, "Finalized = %d", flag);
    EXPECT_OK(MPI_Is_thread_main(&flag));
    EXPECT(flag == 1, "Is_thread_main = %d", flag);
    EXPECT_OK(MPI_Query_thread(&v));
    EXPECT(v == g_provided, "Query_thread = %d, Init_thread provided %d", v, g_provided);
    EXPECT_OK(MPI_Get_version(&v, &sv));
    EXPECT(v == MPI_VERSION && sv == MPI_SUBVERSION, "Get_version = %d.%d", v, sv);
    char lib[MPI_MAX_LIBRARY_VERSION_STRING], name[MPI_MAX_PROCESSOR_NAME];
    memset(lib, '#', sizeof lib);
    int liblen = -1;
    EXPECT_OK(MPI_Get_library_version(lib, &liblen));
    EXPECT(liblen > 0 && liblen < MPI_MAX_LIBRARY_VERSION_STRING && liblen == (int)strlen(lib),
           "Get_library_version: len %d", liblen);
    memset(name, '#', sizeof name);
    EXPECT_OK(MPI_Get_processor_name(name, &len));
    EXPECT(len > 0 && len < MPI_MAX_PROCESSOR_NAME && len == (int)strlen(name),
           "Get_processor_name: len %d", len);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        char *nl = strchr(lib, '\n');
        printf("library: %.*s\nprocessor: %s\nthread: %s\n", nl ? (int)(nl - lib) : liblen, lib,
               name, level_name(g_provided));
    }
    /* profiling control is a hint: any level is accepted */
    EXPECT_OK(MPI_Pcontrol(0));
    EXPECT_OK(MPI_Pcontrol(1));
    EXPECT_OK(MPI_Pcontrol(2));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void timers(MPI_Comm comm)
{
    (void)comm;
    double tick = MPI_Wtick();
    EXPECT(tick > 0 && tick <= 0.01, "Wtick = %g", tick);
    double t0 = MPI_Wtime(), c0 = now(), prev = t0;
    for (int i = 0; i < 100000; i++) {
        double t = MPI_Wtime();
        EXPECT(t >= prev, "Wtime went back: %.9f after %.9f", t, prev);
        prev = t;
    }
    while (now() - c0 < 0.05) {
    }
    double dt = MPI_Wtime() - t0, dc = now() - c0;
    EXPECT(dt > 0.5 * dc && dt < 2 * dc + 0.01, "Wtime advanced %.4f s, the clock %.4f s", dt,
           dc);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        const int levels[] = {MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED, MPI_THREAD_SERIALIZED,
                              MPI_THREAD_MULTIPLE};
        int required = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(argv[1], level_name(levels[i])) == 0)
                required = levels[i];
        MPI_Init_thread(&argc, &argv, required, &g_provided);
        /* one thread: whatever is required is provided */
        if (g_provided != required)
            printf("FAIL init_thread world: required %d, provided %d\n", required, g_provided);
    } else {
        MPI_Init(&argc, &argv);
        MPI_Query_thread(&g_provided);
    }
    run_case(info_calls, "info_calls", MPI_COMM_WORLD, "world");
    run_case(info_env, "info_env", MPI_COMM_WORLD, "world");
    run_case(guest_view, "guest_view", MPI_COMM_WORLD, "world");
    run_case(user_errors, "user_errors", MPI_COMM_WORLD, "world");
    for_each_comm(alloc_mem, "alloc_mem");
    run_case(environment, "environment", MPI_COMM_WORLD, "world");
    run_case(timers, "timers", MPI_COMM_WORLD, "world");
    return finish();
}
