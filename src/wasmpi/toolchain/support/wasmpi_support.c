/* wasmpi guest support library: libc calls that HPC codes make and that wasi-libc declares
 * without defining (or does not declare at all). Linked into every module `wasmpi cc` links. */
#include <errno.h>
#include <fcntl.h> /* before the compat header, which renames fcntl */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Defined before the compat header turns errno into a call of this. */
int *__wasmpi_errno(void)
{
    return &errno;
}

/* what user code sees; built without -include, so that fcntl above keeps its name */
#include "../compat/wasmpi_compat.h"

__attribute__((__import_module__("wasmpi"), __import_name__("gethostname")))
int wasmpi_host_gethostname(char *name, size_t len);

/* The rank's host name, as MPI_Get_processor_name would say. */
int gethostname(char *name, size_t len)
{
    if (wasmpi_host_gethostname(name, len) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Under mpiexec a rank's stdout is a pipe, which native programs fully buffer. wasi-libc
 * line-buffers it (it cannot tell a pipe from a terminal) and wasmtime writes each part of a
 * flush separately, so lines of different ranks would interleave mid-line. Buffer like a
 * native rank does; output still appears at exit, fflush() and every 4 KiB. */
__attribute__((constructor)) static void wasmpi_stdout_buffering(void)
{
    setvbuf(stdout, NULL, _IOFBF, 4096);
}

__attribute__((__import_module__("wasmpi"), __import_name__("workdir")))
int wasmpi_host_workdir(char *buf, size_t len);

/* wasi-libc keeps the working directory itself and starts every program at "/"; the host
 * says where this one runs (--workdir, or the guest path of the only --dir grant), so that
 * relative paths mean what they mean natively. */
__attribute__((constructor)) static void wasmpi_initial_workdir(void)
{
    char dir[4096];
    int n = wasmpi_host_workdir(dir, sizeof dir);
    if (n > 0 && chdir(dir) != 0)
        fprintf(stderr, "wasmpi: cannot enter the working directory %s: %s\n", dir,
                strerror(errno));
}

/* Called by the host when the rank is stopped (SIGTERM, SIGINT): stdout's buffer lives here,
 * in linear memory, where only guest code can flush it (bridge/c/core/stop.c). */
__attribute__((export_name("wasmpi_flush"))) void wasmpi_flush(void)
{
    fflush(NULL);
}

/* A sandboxed rank has one user: the one that runs the job. */
uid_t getuid(void) { return 1000; }
uid_t geteuid(void) { return 1000; }
gid_t getgid(void) { return 1000; }
gid_t getegid(void) { return 1000; }

/* No processes in WASI: fail cleanly rather than at link time. */
int system(const char *command)
{
    if (!command)
        return 0; /* "no shell available" */
    errno = ENOSYS;
    return -1;
}

FILE *popen(const char *command, const char *mode)
{
    (void)command; (void)mode;
    errno = ENOSYS;
    return NULL;
}

int pclose(FILE *stream)
{
    (void)stream;
    errno = ENOSYS;
    return -1;
}

pid_t fork(void)
{
    errno = ENOSYS;
    return -1;
}

int dup(int fd)
{
    (void)fd;
    errno = ENOSYS;
    return -1;
}

int dup2(int fd, int fd2)
{
    (void)fd; (void)fd2;
    errno = ENOSYS;
    return -1;
}

/* No device nodes in a WASI file system. */
int mknod(const char *path, mode_t mode, dev_t dev)
{
    (void)path; (void)mode; (void)dev;
    errno = ENOSYS;
    return -1;
}

int mknodat(int fd, const char *path, mode_t mode, dev_t dev)
{
    (void)fd; (void)path; (void)mode; (void)dev;
    errno = ENOSYS;
    return -1;
}

/* The compat header renames fcntl to this: WASI has no record locks. */
#undef fcntl
int wasmpi_fcntl(int fd, int cmd, ...)
{
    if (cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW) {
        errno = ENOSYS;
        return -1;
    }
    if (cmd == F_GETFD || cmd == F_GETFL)
        return fcntl(fd, cmd);
    va_list ap;
    va_start(ap, cmd);
    int arg = va_arg(ap, int); /* the other commands wasi-libc knows take an int */
    va_end(ap);
    return fcntl(fd, cmd, arg);
}

/* See wasmpi_main.c: a strong reference, so that the linker resolves main as ld does. */
int __main_argc_argv(int argc, char **argv);
__attribute__((__used__)) int (*const wasmpi_main_reference)(int, char **) = __main_argc_argv;
