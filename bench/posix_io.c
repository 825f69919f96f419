/* POSIX I/O in a directory grant, file per process: write a file with write(2), then read it
 * back (page-cached) with read(2), then with pread(2), in transfers of 64 KiB, 1 MiB and
 * 16 MiB; GB/s of the slowest rank, best of the repetitions. The same source runs natively (mpicc) and on wasmpi (`wasmpi cc`):
 *   mpiexec -n 2 ./posix_io DIR [MiB]      wasmpi run -n 2 --dir DIR::/d posix_io.wasm /d [MiB]
 * (bench/posix_io.py runs both and prints the ratios). */
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const char *dir = argc > 1 ? argv[1] : ".";
    size_t total = (size_t)(argc > 2 ? atoi(argv[2]) : 256) << 20;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    char path[4096];
    snprintf(path, sizeof path, "%s/posix_io.%d", dir, rank);
    size_t big = 16 << 20;
    char *buf = malloc(big);
    memset(buf, rank + 1, big);

    double wbest = 1e30;
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t = now();
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) { perror(path); MPI_Abort(MPI_COMM_WORLD, 1); }
        for (size_t done = 0; done < total; done += 1 << 20)
            if (write(fd, buf, 1 << 20) != 1 << 20) { perror("write"); MPI_Abort(MPI_COMM_WORLD, 1); }
        close(fd);
        t = now() - t;
        if (t < wbest) wbest = t;
    }
    double wworst;
    MPI_Reduce(&wbest, &wworst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("write 1048576 %.3f GB/s\n", total / wworst / 1e9);

    const size_t sizes[] = {64 << 10, 1 << 20, 16 << 20};
    for (int m = 0; m < 6; m++) {
        int s = m % 3, positional = m >= 3;
        double best = 1e30;
        for (int r = 0; r < reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t = now();
            int fd = open(path, O_RDONLY);
            size_t got = 0;
            for (;;) {
                ssize_t n = positional ? pread(fd, buf, sizes[s], (off_t)got)
                                       : read(fd, buf, sizes[s]);
                if (n <= 0) break;
                got += n;
            }
            close(fd);
            t = now() - t;
            if (got != total) { fprintf(stderr, "short read %zu\n", got); MPI_Abort(MPI_COMM_WORLD, 1); }
            if (t < best) best = t;
        }
        double worst;
        MPI_Reduce(&best, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        if (rank == 0) printf("%s %zu %.3f GB/s\n", positional ? "pread" : "read", sizes[s], total / worst / 1e9);
    }
    unlink(path);
    free(buf);
    MPI_Finalize();
    return 0;
}
