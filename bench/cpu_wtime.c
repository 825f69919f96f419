/* LD_PRELOAD shim for measuring compute on a busy machine: MPI_Wtime returns this process's CPU
 * time, so a kernel's timed region (and its GFLOP/s or Mop/s) counts the CPU seconds it got
 * instead of wall seconds that other jobs' load stretches. The wasm engines reach MPI_Wtime
 * through the bridge, which resolves it in the process like native code, so all are measured
 * alike. Time a rank spends polling in MPI counts as CPU time too: on 2 ranks a rank that waits
 * for a descheduled neighbour is charged for it (1-rank runs are the cleanest).
 *
 *   gcc -O2 -shared -fPIC bench/cpu_wtime.c -o /tmp/cpu_wtime.so
 *   LD_PRELOAD=/tmp/cpu_wtime.so mpiexec -n 2 ./stencil A      # and: wasmpi run ... */
#include <time.h>

double MPI_Wtime(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double PMPI_Wtime(void)
{
    return MPI_Wtime();
}
