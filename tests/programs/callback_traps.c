/* A trap inside a guest callback that the host MPI is running (argv[1] says which) on the last
 * rank, while the others wait in MPI_Barrier: the job must end, not hang, and say which
 * callback trapped. Mode "exit": an error handler that calls exit(3), which ends the job with
 * that status. Modes "bad-function" and "bad-pointer": an error handler that is no function of
 * the module, an attribute value out-pointer outside linear memory (clean traps too). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void trap_op(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)in, (void)inout, (void)len, (void)dt;
    __builtin_trap();
}
static void trap_handler(MPI_Comm *comm, int *code, ...)
{
    (void)comm, (void)code;
    __builtin_trap();
}
static void exit_handler(MPI_Comm *comm, int *code, ...)
{
    (void)comm, (void)code;
    printf("error handler: exit(3)\n");
    exit(3);
}
static int trap_copy(MPI_Comm old, int key, void *extra, void *in, void *out, int *flag)
{
    (void)old, (void)key, (void)extra, (void)in, (void)out, (void)flag;
    __builtin_trap();
}
static int trap_delete(MPI_Comm comm, int key, void *val, void *extra)
{
    (void)comm, (void)key, (void)val, (void)extra;
    return *(volatile int *)0xfffffff0u; /* out of bounds: another kind of trap */
}
static int trap_type_copy(MPI_Datatype old, int key, void *extra, void *in, void *out,
                          int *flag)
{
    (void)old, (void)key, (void)extra, (void)in, (void)out, (void)flag;
    __builtin_trap();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = argc > 1 ? argv[1] : "";
    int x[4] = {1, 2, 3, 4}, y[4] = {0, 0, 0, 0}, key;
    static int value;
    MPI_Comm dup;
    MPI_Datatype t;
    if (rank == size - 1) {
        printf("rank %d: %s\n", rank, mode);
        fflush(stdout);
        if (strcmp(mode, "op") == 0) {
            MPI_Op op;
            MPI_Op_create(trap_op, 1, &op);
            MPI_Reduce_local(x, y, 4, MPI_INT, op);
        } else if (strcmp(mode, "errhandler") == 0) {
            MPI_Errhandler eh;
            MPI_Comm_create_errhandler(trap_handler, &eh);
            MPI_Comm_set_errhandler(MPI_COMM_SELF, eh);
            MPI_Send(x, 1, MPI_INT, 99, 0, MPI_COMM_SELF);
        } else if (strcmp(mode, "exit") == 0) {
            MPI_Errhandler eh;
            MPI_Comm_create_errhandler(exit_handler, &eh);
            MPI_Comm_set_errhandler(MPI_COMM_SELF, eh);
            MPI_Send(x, 1, MPI_INT, 99, 0, MPI_COMM_SELF);
        } else if (strcmp(mode, "bad-function") == 0) {
            MPI_Errhandler eh;
            MPI_Comm_create_errhandler((MPI_Comm_errhandler_function *)(intptr_t)0x7ffffff, &eh);
            MPI_Comm_set_errhandler(MPI_COMM_SELF, eh);
            MPI_Send(x, 1, MPI_INT, 99, 0, MPI_COMM_SELF);
        } else if (strcmp(mode, "bad-pointer") == 0) {
            int flag;
            MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, (void *)(intptr_t)0xfffffffe, &flag);
        } else if (strcmp(mode, "copy") == 0) {
            MPI_Comm_create_keyval(trap_copy, MPI_COMM_NULL_DELETE_FN, &key, NULL);
            MPI_Comm_set_attr(MPI_COMM_SELF, key, &value);
            MPI_Comm_dup(MPI_COMM_SELF, &dup);
        } else if (strcmp(mode, "delete") == 0) {
            MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, trap_delete, &key, NULL);
            MPI_Comm_set_attr(MPI_COMM_SELF, key, &value);
            MPI_Comm_delete_attr(MPI_COMM_SELF, key);
        } else if (strcmp(mode, "type-copy") == 0) {
            MPI_Type_create_keyval(trap_type_copy, MPI_TYPE_NULL_DELETE_FN, &key, NULL);
            MPI_Type_contiguous(2, MPI_INT, &t);
            MPI_Type_set_attr(t, key, &value);
            MPI_Type_dup(t, &t);
        } else if (strcmp(mode, "finalize") == 0) {
            MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, trap_delete, &key, NULL);
            MPI_Comm_set_attr(MPI_COMM_SELF, key, &value);
            MPI_Finalize();
        }
        printf("rank %d survived the trap\n", rank);
        fflush(stdout);
        if (strcmp(mode, "finalize") == 0)
            return 0;
    }
    if (strcmp(mode, "finalize") != 0)
        MPI_Barrier(MPI_COMM_WORLD);
    printf("rank %d passed the barrier\n", rank);
    MPI_Finalize();
    return 0;
}
