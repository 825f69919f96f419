// C++ through the same mpi.h: STL containers, exceptions off, MPI from C++.
#include <mpi.h>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    std::vector<double> v(1000, rank + 1.0);
    double local = std::accumulate(v.begin(), v.end(), 0.0), total = 0;
    MPI_Allreduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    std::string msg = "rank " + std::to_string(rank) + " total " + std::to_string((long)total);
    std::printf("%s\n", msg.c_str());
    MPI_Finalize();
    return total == 1000.0 * size * (size + 1) / 2 ? 0 : 1;
}
