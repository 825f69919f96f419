/* Relative paths after start-up: fopen, getcwd and MPI_File_open with a relative name resolve
 * in the working directory (--workdir, or the guest path of the only --dir grant). Exits 1
 * when data.txt cannot be read. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char cwd[256] = "?";
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, "(getcwd failed)");
    char line[128] = "(fopen failed)";
    FILE *f = fopen("data.txt", "r");
    if (f) {
        if (!fgets(line, sizeof line, f))
            strcpy(line, "(empty)");
        line[strcspn(line, "\n")] = 0;
        fclose(f);
    }
    MPI_File fh;
    MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN);
    int rc = MPI_File_open(MPI_COMM_WORLD, "out.bin", MPI_MODE_CREATE | MPI_MODE_WRONLY,
                           MPI_INFO_NULL, &fh);
    if (rc == MPI_SUCCESS) {
        char c = (char)('A' + rank);
        MPI_File_write_at(fh, rank, &c, 1, MPI_CHAR, MPI_STATUS_IGNORE);
        MPI_File_close(&fh);
    }
    printf("rank %d cwd=%s data=%s mpiio=%s\n", rank, cwd, line,
           rc == MPI_SUCCESS ? "ok" : "failed");
    MPI_Finalize();
    return f ? 0 : 1; /* a program that needs its input fails without it */
}
