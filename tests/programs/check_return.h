/* Test harness for the wasmpi test programs: CHECK/OK print the first mismatch and return 1
 * from the current test function; RUN(fn) runs one such function and stops the program on
 * failure. The includer defines `int rank`. */
#define CHECK(cond, ...) \
    do { \
        if (!(cond)) { \
            printf("rank %d: FAILED line %d: %s: ", rank, __LINE__, #cond); \
            printf(__VA_ARGS__); \
            printf("\n"); \
            fflush(stdout); \
            return 1; \
        } \
    } while (0)
#define OK(call) CHECK((call) == MPI_SUCCESS, "%s", #call)
#define RUN(fn) \
    do { \
        if (fn()) return 1; \
        MPI_Barrier(MPI_COMM_WORLD); \
        if (rank == 0) printf("ok %s\n", #fn); \
    } while (0)
