/* Error handlers: a user handler (guest code the bridge calls back) sees the communicator and
 * the error code of an erroneous call, which then returns that code; MPI_Comm_call_errhandler,
 * MPI_Comm_get_errhandler, MPI_Errhandler_free while in use, inheritance by MPI_Comm_dup, and
 * a handler defined without the `...` of its type. On every harness communicator. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "conformance.h"

static int calls;
static MPI_Comm seen_comm;
static int seen_code;

static void record(MPI_Comm *comm, int *code, ...)
{
    calls++;
    seen_comm = *comm;
    seen_code = *code;
}

/* As many C programs write it: no `...`, cast to the handler type when created. */
static void record_fixed(MPI_Comm *comm, int *code)
{
    calls += 100;
    seen_comm = *comm;
    seen_code = *code;
}

static int class_of(int code)
{
    int cls = -1;
    MPI_Error_class(code, &cls);
    return cls;
}

/* an erroneous call invokes the handler once, with `comm` and an error of class `cls`, and
 * returns the code the handler saw */
#define EXPECT_HANDLED(call, comm, cls, what) \
    do { \
        int before_ = calls; \
        seen_comm = MPI_COMM_NULL; \
        seen_code = -1; \
        int rc_ = (call); \
        EXPECT(calls == before_ + 1, "%s: the handler ran %d times", what, calls - before_); \
        EXPECT(seen_comm == (comm), "%s: the handler got communicator %p, want %p", what, \
               (void *)seen_comm, (void *)(comm)); \
        EXPECT(rc_ == seen_code, "%s: returned %d, the handler got %d", what, rc_, seen_code); \
        EXPECT(class_of(rc_) == (cls), "%s: class %d, want %d", what, class_of(rc_), (cls)); \
    } while (0)

static int peers_of(MPI_Comm comm)
{
    int n;
    if (cf_is_inter(comm))
        MPI_Comm_remote_size(comm, &n);
    else
        MPI_Comm_size(comm, &n);
    return n;
}

static void user_handler(MPI_Comm comm)
{
    MPI_Errhandler eh, got;
    EXPECT_OK(MPI_Comm_create_errhandler(record, &eh));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, eh));
    EXPECT_OK(MPI_Comm_get_errhandler(comm, &got));
    EXPECT(got == eh, "Comm_get_errhandler: %p, want %p", (void *)got, (void *)eh);
    EXPECT_OK(MPI_Errhandler_free(&got));
    int x = 1, n = peers_of(comm);
    EXPECT_HANDLED(MPI_Send(&x, 1, MPI_INT, n, 0, comm), comm, MPI_ERR_RANK, "bad rank");
    EXPECT_HANDLED(MPI_Send(&x, 1, (MPI_Datatype)(intptr_t)0x7654, 0, 0, comm), comm,
                   MPI_ERR_TYPE, "bad datatype");
    EXPECT_HANDLED(MPI_Send(&x, 1, MPI_DATATYPE_NULL, 0, 0, comm), comm, MPI_ERR_TYPE,
                   "MPI_DATATYPE_NULL");
    EXPECT_HANDLED(MPI_Send(&x, -1, MPI_INT, 0, 0, comm), comm, MPI_ERR_COUNT, "count -1");
    EXPECT_HANDLED(MPI_Recv(&x, 1, MPI_INT, 0, -5, comm, MPI_STATUS_IGNORE), comm, MPI_ERR_TAG,
                   "tag -5");
    /* the handler stays in use after MPI_Errhandler_free, and a duplicate inherits it */
    EXPECT_OK(MPI_Errhandler_free(&eh));
    EXPECT(eh == MPI_ERRHANDLER_NULL, "Errhandler_free did not null the handle");
    EXPECT_HANDLED(MPI_Send(&x, 1, MPI_INT, n, 0, comm), comm, MPI_ERR_RANK, "after free");
    MPI_Comm dup;
    EXPECT_OK(MPI_Comm_dup(comm, &dup));
    EXPECT_HANDLED(MPI_Send(&x, 1, MPI_INT, n, 0, dup), dup, MPI_ERR_RANK, "on the dup");
    EXPECT_OK(MPI_Comm_free(&dup));
    /* the handler is the communicator's: another one keeps its own */
    if (comm != MPI_COMM_SELF) {
        int before = calls;
        EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
        int rc = MPI_Send(&x, 1, MPI_INT, 5, 0, MPI_COMM_SELF);
        EXPECT(class_of(rc) == MPI_ERR_RANK && calls == before,
               "an error on MPI_COMM_SELF: class %d, handler calls %d", class_of(rc),
               calls - before);
        EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL));
    }
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL));
}

/* MPI_Comm_call_errhandler: predefined classes and codes the program added */
static void call_errhandler(MPI_Comm comm)
{
    static int cls = -1, code = -1;
    if (cls < 0) {
        EXPECT_OK(MPI_Add_error_class(&cls));
        EXPECT_OK(MPI_Add_error_code(cls, &code));
    }
    MPI_Errhandler eh;
    EXPECT_OK(MPI_Comm_create_errhandler(record, &eh));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, eh));
    const int codes[] = {MPI_ERR_OTHER, MPI_ERR_ARG, cls, code};
    for (int i = 0; i < 4; i++) {
        int before = calls;
        int rc = MPI_Comm_call_errhandler(comm, codes[i]);
        EXPECT(rc == MPI_SUCCESS, "Comm_call_errhandler(%d) returned %d", codes[i], rc);
        EXPECT(calls == before + 1 && seen_comm == comm && seen_code == codes[i],
               "Comm_call_errhandler(%d): %d calls, communicator %p, code %d", codes[i],
               calls - before, (void *)seen_comm, seen_code);
    }
    EXPECT(class_of(code) == cls, "class of the added code: %d, want %d", class_of(code), cls);
    /* under MPI_ERRORS_RETURN the "handler" returns: success */
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));
    EXPECT_OK(MPI_Comm_call_errhandler(comm, MPI_ERR_OTHER));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL));
    EXPECT_OK(MPI_Errhandler_free(&eh));
}

static void errors_return(MPI_Comm comm)
{
    MPI_Errhandler got;
    EXPECT_OK(MPI_Comm_get_errhandler(comm, &got));
    EXPECT(got == MPI_ERRORS_ARE_FATAL, "default handler %p", (void *)got);
    EXPECT_OK(MPI_Errhandler_free(&got)); /* what Comm_get_errhandler returns may be freed */
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));
    EXPECT_OK(MPI_Comm_get_errhandler(comm, &got));
    EXPECT(got == MPI_ERRORS_RETURN, "handler %p, want MPI_ERRORS_RETURN", (void *)got);
    int x = 0, before = calls, n = peers_of(comm);
    int rc = MPI_Send(&x, 1, MPI_INT, n + 3, 0, comm);
    EXPECT(class_of(rc) == MPI_ERR_RANK && calls == before, "MPI_ERRORS_RETURN: class %d",
           class_of(rc));
    /* handlers that are not one: MPI errors, not crashes */
    EXPECT(class_of(MPI_Comm_set_errhandler(comm, MPI_ERRHANDLER_NULL)) != MPI_SUCCESS,
           "setting MPI_ERRHANDLER_NULL succeeded");
    EXPECT(MPI_Comm_set_errhandler(comm, (MPI_Errhandler)(intptr_t)0x7777) != MPI_SUCCESS,
           "setting a garbage handler succeeded");
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_Errhandler null = MPI_ERRHANDLER_NULL;
    EXPECT(MPI_Errhandler_free(&null) != MPI_SUCCESS, "freeing MPI_ERRHANDLER_NULL succeeded");
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL));
}

static void handler_without_varargs(MPI_Comm comm)
{
    MPI_Errhandler eh;
    EXPECT_OK(MPI_Comm_create_errhandler((MPI_Comm_errhandler_function *)record_fixed, &eh));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, eh));
    int x = 0, before = calls;
    int rc = MPI_Send(&x, 1, MPI_INT, peers_of(comm), 0, comm);
    EXPECT(calls == before + 100 && seen_comm == comm && rc == seen_code &&
           class_of(rc) == MPI_ERR_RANK, "handler without `...`: calls %d, rc %d, class %d",
           calls - before, rc, class_of(rc));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL));
    EXPECT_OK(MPI_Errhandler_free(&eh));
}

/* a handler that calls MPI (re-entering the bridge) and has the call fail again, once */
static int nested;
static void reentrant(MPI_Comm *comm, int *code, ...)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0, x = 0, size = 0;
    calls++;
    seen_comm = *comm;
    seen_code = *code;
    MPI_Error_string(*code, text, &len);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (!nested++)
        MPI_Send(&x, 1, MPI_INT, -7, 0, *comm); /* invokes this handler again */
}

static void reentrant_handler(MPI_Comm comm)
{
    MPI_Errhandler eh;
    EXPECT_OK(MPI_Comm_create_errhandler(reentrant, &eh));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, eh));
    EXPECT_OK(MPI_Errhandler_free(&eh));
    int x = 0, before = calls;
    nested = 0;
    int rc = MPI_Send(&x, 1, MPI_INT, peers_of(comm), 0, comm);
    EXPECT(calls == before + 2 && class_of(rc) == MPI_ERR_RANK,
           "re-entrant handler: %d calls, class %d", calls - before, class_of(rc));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    for_each_comm(user_handler, "user_handler");
    for_each_comm(call_errhandler, "call_errhandler");
    for_each_comm(errors_return, "errors_return");
    for_each_comm(handler_without_varargs, "handler_without_varargs");
    for_each_comm(reentrant_handler, "reentrant_handler");
    return finish();
}
