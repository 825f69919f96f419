/* Ways a process ends, chosen by argv[1], for tests/integration/test_engines.py: each must end
 * the same way (exit status, stdout, the first line of stderr) on every engine.
 *   exit0 exit3 return7 exit_unflushed   normal ends (output still flushed by exit)
 *   abort                                abort(): a trap
 *   oob_iov oob_out oob_path oob_args    a pointer outside linear memory given to a WASI call
 *   misaligned                           a misaligned (but in-bounds) pointer to a WASI call
 *   bad_whence bad_clock bad_flags       a value the preview1 ABI does not define */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

/* the top of a 32-bit address space: never inside linear memory */
#define FAR ((void *)0xfffffff0u)

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    printf("mode %s\n", m);
    fflush(stdout);
    if (!strcmp(m, "exit0"))
        exit(0);
    if (!strcmp(m, "exit3"))
        exit(3);
    if (!strcmp(m, "return7"))
        return 7;
    if (!strcmp(m, "exit_unflushed")) {
        printf("buffered, no newline");
        exit(5);
    }
    if (!strcmp(m, "abort"))
        abort();
    if (!strcmp(m, "oob_iov")) {
        __wasi_ciovec_t iov = {FAR, 64};
        __wasi_size_t n;
        int r = __wasi_fd_write(1, &iov, 1, &n);
        printf("returned %d\n", r);
        return 0;
    }
    if (!strcmp(m, "oob_out")) {
        __wasi_ciovec_t iov = {(const uint8_t *)"x\n", 2};
        int r = __wasi_fd_write(1, &iov, 1, FAR);
        printf("returned %d\n", r);
        return 0;
    }
    if (!strcmp(m, "oob_path")) {
        __wasi_filestat_t st;
        int r = __wasi_path_filestat_get(3, 0, FAR, &st);
        printf("returned %d\n", r);
        return 0;
    }
    if (!strcmp(m, "oob_args")) {
        int r = __wasi_args_sizes_get(FAR, FAR);
        printf("returned %d\n", r);
        return 0;
    }
    if (!strcmp(m, "misaligned")) {
        static _Alignas(8) unsigned char buf[64];
        __wasi_ciovec_t iov = {(const uint8_t *)"misaligned nwritten\n", 20};
        int r = __wasi_fd_write(1, &iov, 1, (__wasi_size_t *)(buf + 1));
        printf("fd_write returned %d\n", r);
        r = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, (__wasi_timestamp_t *)(buf + 3));
        printf("clock_time_get returned %d\n", r);
        return 0;
    }
    if (!strcmp(m, "bad_whence")) {
        __wasi_filesize_t pos;
        int r = __wasi_fd_seek(1, 0, 7, &pos);
        printf("returned %d\n", r);
        return 0;
    }
    if (!strcmp(m, "bad_clock")) {
        __wasi_timestamp_t t;
        int r = __wasi_clock_time_get(9, 1, &t);
        printf("returned %d\n", r);
        return 0;
    }
    if (!strcmp(m, "bad_flags")) {
        int r = __wasi_fd_fdstat_set_flags(1, 64);
        printf("returned %d\n", r);
        return 0;
    }
    printf("unknown mode\n");
    return 2;
}
