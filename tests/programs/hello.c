/* Environment functions: every rank reports itself; rank 0 checks the world. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int flag = -1, rank, size, provided, len, major, minor;
    MPI_Initialized(&flag);
    if (flag != 0) return 10;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    if (provided < MPI_THREAD_FUNNELED) return 11;
    MPI_Initialized(&flag);
    if (flag != 1) return 12;
    MPI_Query_thread(&provided);
    MPI_Is_thread_main(&flag); /* the guest's one thread is the one that initialized MPI */
    if (flag != 1) return 18;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char name[MPI_MAX_PROCESSOR_NAME], host[256];
    MPI_Get_processor_name(name, &len);
    if (len != (int)strlen(name)) return 13;
    if (gethostname(host, sizeof host) != 0) return 14;
    MPI_Get_version(&major, &minor);
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    MPI_Get_library_version(lib, &len);
    double t0 = MPI_Wtime(), tick = MPI_Wtick();
    if (!(tick > 0 && tick < 1 && t0 > 0)) return 15;
    char msg[MPI_MAX_ERROR_STRING];
    MPI_Error_string(MPI_ERR_COMM, msg, &len);
    int cls;
    MPI_Error_class(MPI_ERR_RANK, &cls);
    if (cls != MPI_ERR_RANK || len <= 0) return 16;
    printf("rank %d of %d on %s host %s MPI %d.%d\n", rank, size, name, host, major, minor);
    if (rank == 0) printf("library: %.20s\n", lib);
    MPI_Finalize();
    MPI_Finalized(&flag);
    return flag == 1 ? 0 : 17;
}
