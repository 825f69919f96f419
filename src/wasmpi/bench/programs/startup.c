/* startup.c - the program of `wasmpi bench startup`.
 *
 * Each rank prints, as one line,
 *
 *     STARTUP <rank> <t_main> <t_init> <vmhwm_kib> <vmrss_kib>
 *
 * t_main: the wall clock (CLOCK_REALTIME, seconds) at main's entry, before anything else;
 * t_init: the same once MPI_Init has returned; the peak and current resident set of the
 * process from its /proc status file (argv[1], default /proc/self/status; a wasm rank reads it
 * through a read-only grant of the host's /proc/self, which its own process opens), or -1.
 */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long field_kib(const char *path, const char *name) {
    char line[256];
    long value = -1;
    size_t n = strlen(name);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            sscanf(line + n + 1, "%ld", &value);
            break;
        }
    fclose(f);
    return value;
}

int main(int argc, char **argv) {
    double t_main = now();
    int rank;
    MPI_Init(&argc, &argv);
    double t_init = now();
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const char *status = argc > 1 ? argv[1] : "/proc/self/status";
    long hwm = field_kib(status, "VmHWM"), rss = field_kib(status, "VmRSS");
    printf("STARTUP %d %.6f %.6f %ld %ld\n", rank, t_main, t_init, hwm, rss);
    fflush(stdout);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Finalize();
    return 0;
}
