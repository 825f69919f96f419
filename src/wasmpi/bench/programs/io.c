/* io.c - the program of `wasmpi bench io`: POSIX I/O, one file per process.
 *
 * Usage: io DIR TOTAL XFER [XFER...]   (sizes in bytes, K/M suffixes)
 *
 * For each transfer size, every rank writes TOTAL bytes to DIR/io-<rank>.dat in XFER-sized
 * write() calls (into the page cache: no fsync), reads the file once untimed so that it is
 * cached, then reads it again timed with read() and once more with pread() at explicit offsets
 * (wasmtime serves fd_read and fd_pread by different paths: docs/performance.md). The time of a
 * phase is the slowest rank's (a barrier before each phase); rank 0 prints the bandwidth per
 * rank in MB/s (10^6 bytes) as
 *
 *     IO <write|read|pread> <xfer> <MB/s>
 */
#include <mpi.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t parse_size(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (*end == 'k' || *end == 'K') v *= 1024;
    else if (*end == 'm' || *end == 'M') v *= 1024 * 1024;
    return (size_t)v;
}

static int rank;

static void fail(const char *what, const char *path) {
    fprintf(stderr, "io: rank %d: %s %s failed\n", rank, what, path);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

enum { WRITE, READ, PREAD };

/* One pass over the file in xfer-sized calls; returns the slowest rank's seconds. */
static double pass(const char *path, int how, char *buf, size_t total, size_t xfer) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    int fd = how == WRITE ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : open(path, O_RDONLY);
    if (fd < 0) fail("open", path);
    for (size_t done = 0; done < total;) {
        size_t n = total - done < xfer ? total - done : xfer;
        ssize_t got = how == WRITE ? write(fd, buf, n)
                      : how == READ ? read(fd, buf, n) : pread(fd, buf, n, (off_t)done);
        if (got <= 0) fail(how == WRITE ? "write" : how == READ ? "read" : "pread", path);
        done += (size_t)got;
    }
    if (close(fd) != 0) fail("close", path);
    double mine = MPI_Wtime() - t0, worst = 0;
    MPI_Allreduce(&mine, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (argc < 4) {
        if (rank == 0) fprintf(stderr, "usage: io DIR TOTAL XFER [XFER...]\n");
        MPI_Finalize();
        return 2;
    }
    size_t total = parse_size(argv[2]), biggest = 0;
    for (int i = 3; i < argc; i++)
        if (parse_size(argv[i]) > biggest) biggest = parse_size(argv[i]);
    char path[4096];
    snprintf(path, sizeof path, "%s/io-%d.dat", argv[1], rank);
    char *buf = malloc(biggest);
    if (!buf || total == 0 || biggest == 0) fail("setup", path);
    memset(buf, 'x', biggest);
    for (int i = 3; i < argc; i++) {
        size_t xfer = parse_size(argv[i]);
        double tw = pass(path, WRITE, buf, total, xfer);
        pass(path, READ, buf, total, xfer);
        double tr = pass(path, READ, buf, total, xfer);
        double tp = pass(path, PREAD, buf, total, xfer);
        if (rank == 0) {
            printf("IO write %zu %.3f\n", xfer, (double)total / tw / 1e6);
            printf("IO read %zu %.3f\n", xfer, (double)total / tr / 1e6);
            printf("IO pread %zu %.3f\n", xfer, (double)total / tp / 1e6);
            fflush(stdout);
        }
    }
    unlink(path);
    free(buf);
    MPI_Finalize();
    return 0;
}
