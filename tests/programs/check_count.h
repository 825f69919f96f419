/* Test harness for the wasmpi test programs: FAIL/CHECK record a mismatch and go on (the
 * program exits nonzero at the end when nerr > 0); OK returns from the current void function
 * when an MPI call fails; RUN(fn) runs a test function. The includer defines `int rank` and
 * `int nerr`. */
#define FAIL(...) \
    do { \
        printf("rank %d: FAILED line %d: ", rank, __LINE__); \
        printf(__VA_ARGS__); \
        printf("\n"); \
        fflush(stdout); \
        nerr++; \
    } while (0)
#define CHECK(cond, ...) \
    do { \
        if (!(cond)) FAIL(__VA_ARGS__); \
    } while (0)
#define OK(call) \
    do { \
        int rc_ = (call); \
        if (rc_ != MPI_SUCCESS) { \
            FAIL("%s returned %d", #call, rc_); \
            return; \
        } \
    } while (0)
/* Run one test function on every rank; rank 0 reports "ok NAME" or "FAILED NAME". */
#define RUN(fn) \
    do { \
        int before_ = nerr; \
        fn(); \
        int bad_ = nerr != before_, any_ = 0; \
        MPI_Allreduce(&bad_, &any_, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD); \
        if (rank == 0) printf("%s %s\n", any_ ? "FAILED" : "ok", #fn); \
    } while (0)
