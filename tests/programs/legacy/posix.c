/* Legacy POSIX that HPC codes use and glibc gives them: getuid/geteuid from unistd.h, mknod,
 * fcntl record locks failing with ENOSYS (not crashing, not EINVAL), `extern int errno;`.
 * Built with -Werror=implicit-function-declaration: every call here must be declared. */
#include <errno.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

extern int errno; /* old code does this; glibc accepts it */

int rank, nerr;
#include "../check_count.h"

static void uid(void)
{
    CHECK(getuid() == geteuid(), "getuid %u geteuid %u", (unsigned)getuid(), (unsigned)geteuid());
    CHECK(getuid() != 0, "a rank does not run as root");
}

static void device_nodes(void)
{
    errno = 0;
    CHECK(mknod("/tmp/node", S_IFIFO | 0600, 0) == -1 && errno == ENOSYS, "mknod errno %d",
          errno);
}

static void record_locks(void)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int cmds[] = {F_SETLK, F_SETLKW, F_GETLK};
    for (int i = 0; i < 3; i++) {
        errno = 0;
        int r = fcntl(1, cmds[i], &fl);
        CHECK(r == -1 && errno == ENOSYS, "fcntl cmd %d: %d errno %d", cmds[i], r, errno);
    }
    /* the commands WASI has still reach wasi-libc */
    CHECK(fcntl(1, F_GETFD) == FD_CLOEXEC, "F_GETFD");
    CHECK(fcntl(1, F_GETFL) >= 0, "F_GETFL errno %d", errno);
}

static void extern_errno(void)
{
    errno = ERANGE;
    CHECK(errno == ERANGE, "errno %d", errno);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    RUN(uid);
    RUN(device_nodes);
    RUN(record_locks);
    RUN(extern_errno);
    MPI_Finalize();
    return nerr != 0;
}
