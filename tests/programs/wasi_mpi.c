/* MPI and WASI together, for tests/integration/test_engines.py: every rank writes a file of
 * its own in the grant, the ranks exchange checksums, rank 0 reads every rank's file back and
 * lists the directory; the output (rank 0 only) is the same on every engine and world size.
 * Usage: wasi_mpi.wasm DIR */
#include <dirent.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t fnv(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *dir = argc > 1 ? argv[1] : "/data";
    char path[256];
    snprintf(path, sizeof path, "%s/rank%d.bin", dir, rank);
    size_t n = (1u << 20) + 123u * (size_t)rank;
    unsigned char *buf = malloc(n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 7 + (size_t)rank * 13);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    size_t done = 0;
    while (fd >= 0 && done < n) {
        ssize_t k = write(fd, buf + done, n - done);
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    int ok = fd >= 0 && done == n && fsync(fd) == 0 && close(fd) == 0;
    uint32_t mine = fnv(buf, n);
    uint32_t *all = malloc(sizeof *all * (size_t)size);
    MPI_Allgather(&mine, 1, MPI_UINT32_T, all, 1, MPI_UINT32_T, MPI_COMM_WORLD);
    int all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD); /* every file is complete before rank 0 reads them */
    if (rank == 0) {
        printf("ranks wrote their files: %d\n", all_ok);
        for (int r = 0; r < size; r++) {
            snprintf(path, sizeof path, "%s/rank%d.bin", dir, r);
            struct stat st;
            stat(path, &st);
            unsigned char *b = malloc((size_t)st.st_size);
            FILE *f = fopen(path, "rb");
            size_t k = f ? fread(b, 1, (size_t)st.st_size, f) : 0;
            if (f)
                fclose(f);
            printf("rank %d file: %lld bytes, checksum matches %d\n", r, (long long)st.st_size,
                   k == (size_t)st.st_size && fnv(b, k) == all[r]);
            free(b);
        }
        DIR *d = opendir(dir);
        char *names[64];
        int m = 0;
        struct dirent *de;
        while (d && (de = readdir(d)) && m < 64)
            if (de->d_name[0] != '.')
                names[m++] = strdup(de->d_name);
        if (d)
            closedir(d);
        qsort(names, (size_t)m, sizeof *names, cmp);
        printf("files:");
        for (int i = 0; i < m; i++)
            printf(" %s", names[i]);
        printf("\n");
    }
    /* the last rank removes rank 0's file once rank 0 is done with it; rank 0 checks (a
     * broadcast, not a send: at one rank a standard send to oneself may block for ever) */
    MPI_Barrier(MPI_COMM_WORLD);
    int r = 0;
    if (rank == size - 1) {
        snprintf(path, sizeof path, "%s/rank0.bin", dir);
        r = unlink(path);
    }
    MPI_Bcast(&r, 1, MPI_INT, size - 1, MPI_COMM_WORLD);
    if (rank == 0) {
        snprintf(path, sizeof path, "%s/rank0.bin", dir);
        printf("unlink by the last rank = %d, gone %d\n", r, access(path, F_OK) != 0);
    }
    free(buf);
    free(all);
    MPI_Finalize();
    return 0;
}
