/* References a function that no MPI has, imported from module "mpi" as a real MPI function
 * would be, and calls it only with the argument "call": then the last rank calls it while the
 * others wait for it in MPI_Recv, which only the job's abort can end. Without the argument
 * the program runs to completion, as it would natively. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

__attribute__((import_module("mpi"), import_name("MPI_Not_a_real_function")))
int MPI_Not_a_real_function(int);

int main(int argc, char **argv)
{
    int rank, size, x = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc > 1 && strcmp(argv[1], "call") == 0) {
        if (rank == size - 1) {
            x = MPI_Not_a_real_function(rank);
            printf("rank %d: MPI_Not_a_real_function returned %d\n", rank, x);
        } else {
            MPI_Recv(&x, 1, MPI_INT, size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            printf("rank %d: MPI_Recv returned\n", rank);
        }
    }
    MPI_Allreduce(&rank, &x, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf("missing done on %d ranks, sum %d\n", size, x);
    MPI_Finalize();
    return x == size * (size - 1) / 2 ? 0 : 1;
}
