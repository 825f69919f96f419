/* wasmpi guest support library: libc calls that HPC codes make and that wasi-libc declares
 * without defining (or does not declare at all). Linked into every module `wasmpi cc` links. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

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

/* MPI_Pcontrol is variadic, which a wasm import cannot be; profiling is a no-op here. */
int MPI_Pcontrol(const int level, ...)
{
    (void)level;
    return 0;
}
