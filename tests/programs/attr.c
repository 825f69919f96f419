/* Attribute caching: keyvals with guest copy and delete functions (called back by the host MPI
 * through the bridge), checked by what they were called with and how often, on every
 * communicator of the conformance harness and on datatypes; the MPI-1 names; the predefined
 * attributes of MPI_COMM_WORLD; attributes of MPI_COMM_SELF deleted by MPI_Finalize.
 *
 * Modes (argv[1]): none: the conformance cases; "no-finalize": return from main with an
 * attribute on MPI_COMM_SELF and without MPI_Finalize (its delete function must not run). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

/* one call of a guest copy or delete function */
typedef struct {
    char what; /* 'c' copy, 'd' delete */
    void *obj; /* the communicator or datatype handle, as a pointer */
    int keyval;
    void *extra, *val;
} call_t;
#define LOG_SIZE 64 /* a ring: the checks look at the last few calls */
static call_t log_[LOG_SIZE];
static int n_log;
static int copy_rc = MPI_SUCCESS, copy_flag = 1, delete_rc = MPI_SUCCESS;

static void record(char what, void *obj, int keyval, void *extra, void *val)
{
    log_[n_log++ % LOG_SIZE] = (call_t){what, obj, keyval, extra, val};
}

/* copies attribute value v as v + 1000 (a different pointer, so the copy is visible) */
static int comm_copy(MPI_Comm old, int keyval, void *extra, void *in, void *out, int *flag)
{
    record('c', (void *)old, keyval, extra, in);
    *(void **)out = (char *)in + 1000;
    *flag = copy_flag;
    return copy_rc;
}
static int comm_delete(MPI_Comm comm, int keyval, void *val, void *extra)
{
    record('d', (void *)comm, keyval, extra, val);
    return delete_rc;
}
static int type_copy(MPI_Datatype old, int keyval, void *extra, void *in, void *out, int *flag)
{
    record('c', (void *)old, keyval, extra, in);
    *(void **)out = (char *)in + 1000;
    *flag = copy_flag;
    return copy_rc;
}
static int type_delete(MPI_Datatype t, int keyval, void *val, void *extra)
{
    record('d', (void *)t, keyval, extra, val);
    return MPI_SUCCESS;
}

static char extra_state[4]; /* extra_state: a guest pointer the callbacks must get back */
static char values[8];      /* attribute values: pointers into this array */

/* the log holds exactly `n` calls since `from`; check call `i` of them */
#define EXPECT_CALLS(from, n) EXPECT(n_log - (from) == (n), "%d callback calls, want %d", \
                                     n_log - (from), (n))
#define EXPECT_CALL(i, w, o, k, v) \
    do { \
        const call_t *c_ = &log_[(i) % LOG_SIZE]; \
        EXPECT(c_->what == (w) && c_->obj == (void *)(o) && c_->keyval == (k) && \
               c_->extra == extra_state && c_->val == (void *)(v), \
               "call %d: %c(%p, key %d, extra %p, val %p), want %c(%p, key %d, extra %p, " \
               "val %p)", (i), c_->what, c_->obj, c_->keyval, c_->extra, c_->val, (w), \
               (void *)(o), (k), (void *)extra_state, (void *)(v)); \
    } while (0)

static void comm_callbacks(MPI_Comm comm)
{
    int key = MPI_KEYVAL_INVALID, flag = -1;
    void *got = NULL;
    EXPECT_OK(MPI_Comm_create_keyval(comm_copy, comm_delete, &key, extra_state));
    EXPECT(key != MPI_KEYVAL_INVALID, "no keyval");
    int start = n_log;
    EXPECT_OK(MPI_Comm_set_attr(comm, key, &values[0]));
    EXPECT_CALLS(start, 0);
    EXPECT_OK(MPI_Comm_get_attr(comm, key, &got, &flag));
    EXPECT(flag == 1 && got == &values[0], "get_attr: flag %d value %p", flag, got);
    /* replacing a value deletes the old one */
    EXPECT_OK(MPI_Comm_set_attr(comm, key, &values[1]));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'd', comm, key, &values[0]);
    /* MPI_Comm_dup copies, from the old communicator */
    MPI_Comm dup;
    start = n_log;
    EXPECT_OK(MPI_Comm_dup(comm, &dup));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'c', comm, key, &values[1]);
    EXPECT_OK(MPI_Comm_get_attr(dup, key, &got, &flag));
    EXPECT(flag == 1 && got == &values[1] + 1000, "dup's attribute: flag %d value %p", flag,
           got);
    EXPECT_OK(MPI_Comm_get_attr(comm, key, &got, &flag));
    EXPECT(flag == 1 && got == &values[1], "original after dup: flag %d value %p", flag, got);
    /* deleting calls the delete function with the value */
    start = n_log;
    EXPECT_OK(MPI_Comm_delete_attr(comm, key));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'd', comm, key, &values[1]);
    flag = -1;
    EXPECT_OK(MPI_Comm_get_attr(comm, key, &got, &flag));
    EXPECT(flag == 0, "deleted attribute: flag %d", flag);
    /* freeing the keyval leaves the dup's attribute and its delete function in place */
    int old_key = key;
    EXPECT_OK(MPI_Comm_free_keyval(&key));
    EXPECT(key == MPI_KEYVAL_INVALID, "free_keyval left %d", key);
    start = n_log;
    MPI_Comm dup_handle = dup;
    EXPECT_OK(MPI_Comm_free(&dup));
    EXPECT(dup == MPI_COMM_NULL, "Comm_free did not null the handle");
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'd', dup_handle, old_key, &values[1] + 1000);
}

/* MPI_COMM_DUP_FN copies the value itself, MPI_COMM_NULL_COPY_FN nothing; a copy function
 * that clears the flag copies nothing either */
static void predefined_copy_functions(MPI_Comm comm)
{
    int kdup, knull, kno, flag = -1;
    void *got = NULL;
    EXPECT_OK(MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &kdup, NULL));
    EXPECT_OK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &knull,
                                     NULL));
    EXPECT_OK(MPI_Comm_create_keyval(comm_copy, comm_delete, &kno, extra_state));
    EXPECT_OK(MPI_Comm_set_attr(comm, kdup, &values[2]));
    EXPECT_OK(MPI_Comm_set_attr(comm, knull, &values[3]));
    EXPECT_OK(MPI_Comm_set_attr(comm, kno, &values[4]));
    MPI_Comm dup;
    int start = n_log;
    copy_flag = 0;
    int rc = MPI_Comm_dup(comm, &dup);
    copy_flag = 1;
    EXPECT_OK(rc);
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'c', comm, kno, &values[4]);
    EXPECT_OK(MPI_Comm_get_attr(dup, kdup, &got, &flag));
    EXPECT(flag == 1 && got == &values[2], "MPI_COMM_DUP_FN: flag %d value %p", flag, got);
    flag = -1;
    EXPECT_OK(MPI_Comm_get_attr(dup, knull, &got, &flag));
    EXPECT(flag == 0, "MPI_COMM_NULL_COPY_FN: flag %d", flag);
    flag = -1;
    EXPECT_OK(MPI_Comm_get_attr(dup, kno, &got, &flag));
    EXPECT(flag == 0, "copy function with flag 0: flag %d", flag);
    /* freeing the dup: no delete for attributes it does not have */
    start = n_log;
    EXPECT_OK(MPI_Comm_free(&dup));
    EXPECT_CALLS(start, 0);
    EXPECT_OK(MPI_Comm_delete_attr(comm, kdup));
    EXPECT_OK(MPI_Comm_delete_attr(comm, knull));
    EXPECT_OK(MPI_Comm_delete_attr(comm, kno));
    EXPECT_CALLS(start, 1);
    EXPECT_OK(MPI_Comm_free_keyval(&kdup));
    EXPECT_OK(MPI_Comm_free_keyval(&knull));
    EXPECT_OK(MPI_Comm_free_keyval(&kno));
}

static int class_of(int code)
{
    int cls = -1;
    MPI_Error_class(code, &cls);
    return cls;
}

/* a copy function's error fails MPI_Comm_dup with that error class, on every process */
static int is_open_mpi(void)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len;
    MPI_Get_library_version(v, &len);
    return strstr(v, "Open MPI") != NULL;
}

static void copy_error(MPI_Comm comm)
{
    if (cf_is_inter(comm) && is_open_mpi()) /* the same C program natively segfaults, too */
        SKIP_CASE("Open MPI crashes when a copy function fails in MPI_Comm_dup of an "
                  "intercommunicator");
    static int user_class = -1;
    if (user_class < 0)
        EXPECT_OK(MPI_Add_error_class(&user_class));
    int key;
    EXPECT_OK(MPI_Comm_create_keyval(comm_copy, comm_delete, &key, extra_state));
    EXPECT_OK(MPI_Comm_set_attr(comm, key, &values[5]));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));
    const int want[2] = {MPI_ERR_ARG, user_class};
    for (int i = 0; i < 2; i++) {
        MPI_Comm dup = MPI_COMM_NULL;
        int start = n_log;
        copy_rc = want[i];
        int rc = MPI_Comm_dup(comm, &dup);
        copy_rc = MPI_SUCCESS;
        int cls = -1;
        MPI_Error_class(rc, &cls);
        EXPECT(cls == want[i], "Comm_dup with a failing copy function: rc %d class %d, want %d",
               rc, cls, want[i]);
        EXPECT(n_log - start >= 1 && log_[start % LOG_SIZE].what == 'c',
               "the copy function did not run");
        if (rc == MPI_SUCCESS && dup != MPI_COMM_NULL)
            MPI_Comm_free(&dup);
    }
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL));
    EXPECT_OK(MPI_Comm_delete_attr(comm, key));
    EXPECT_OK(MPI_Comm_free_keyval(&key));
}

/* a delete function's error fails the call that deleted, reported on the communicator (here
 * MPI_ERRORS_RETURN while MPI_COMM_WORLD's handler is fatal) */
static void delete_error(MPI_Comm comm)
{
    int key;
    MPI_Comm dup;
    EXPECT_OK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, comm_delete, &key, extra_state));
    EXPECT_OK(MPI_Comm_dup(comm, &dup));
    EXPECT_OK(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN));
    EXPECT_OK(MPI_Comm_set_attr(dup, key, &values[0]));
    delete_rc = MPI_ERR_INTERN;
    int start = n_log, rc = MPI_Comm_delete_attr(dup, key);
    /* Open MPI's MPI_Comm_delete_attr reports any failure as MPI_ERR_OTHER, natively too */
    EXPECT(class_of(rc) == MPI_ERR_INTERN || (class_of(rc) == MPI_ERR_OTHER && is_open_mpi()),
           "Comm_delete_attr: class %d", class_of(rc));
    rc = MPI_Comm_free(&dup);
    EXPECT(class_of(rc) == MPI_ERR_INTERN, "Comm_free: class %d", class_of(rc));
    delete_rc = MPI_SUCCESS;
    EXPECT(n_log - start == 2, "%d delete calls, want 2", n_log - start);
    EXPECT_CALL(start, 'd', dup, key, &values[0]);
    EXPECT_CALL(start + 1, 'd', dup, key, &values[0]);
    if (dup != MPI_COMM_NULL) /* the attribute stayed: the communicator was not freed */
        EXPECT_OK(MPI_Comm_free(&dup));
    EXPECT_OK(MPI_Comm_free_keyval(&key));
}

/* the MPI-1 names: MPI_Keyval_create, MPI_Attr_put/get/delete, MPI_Keyval_free, MPI_DUP_FN */
static void mpi1_names(MPI_Comm comm)
{
    int key, kdup, flag = -1;
    void *got = NULL;
    EXPECT_OK(MPI_Keyval_create(comm_copy, comm_delete, &key, extra_state));
    EXPECT_OK(MPI_Keyval_create(MPI_DUP_FN, MPI_NULL_DELETE_FN, &kdup, NULL));
    EXPECT_OK(MPI_Attr_put(comm, key, &values[6]));
    EXPECT_OK(MPI_Attr_put(comm, kdup, &values[7]));
    EXPECT_OK(MPI_Attr_get(comm, key, &got, &flag));
    EXPECT(flag == 1 && got == &values[6], "Attr_get: flag %d value %p", flag, got);
    MPI_Comm dup;
    int start = n_log;
    EXPECT_OK(MPI_Comm_dup(comm, &dup));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'c', comm, key, &values[6]);
    EXPECT_OK(MPI_Attr_get(dup, kdup, &got, &flag));
    EXPECT(flag == 1 && got == &values[7], "MPI_DUP_FN: flag %d value %p", flag, got);
    start = n_log;
    EXPECT_OK(MPI_Attr_delete(comm, key));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'd', comm, key, &values[6]);
    EXPECT_OK(MPI_Attr_delete(comm, kdup));
    EXPECT_OK(MPI_Comm_free(&dup));
    EXPECT_OK(MPI_Keyval_free(&key));
    EXPECT_OK(MPI_Keyval_free(&kdup));
    EXPECT(key == MPI_KEYVAL_INVALID && kdup == MPI_KEYVAL_INVALID, "Keyval_free left %d %d",
           key, kdup);
}

/* an MPI call that must fail with an error class (any) */
#define EXPECT_ERR(call, what) \
    do { \
        int rc_ = (call), cls_ = -1; \
        MPI_Error_class(rc_, &cls_); \
        EXPECT(rc_ != MPI_SUCCESS && cls_ > MPI_SUCCESS, "%s: rc %d class %d", what, rc_, cls_); \
    } while (0)

/* bad keyvals are MPI errors, reported on the communicator, or on MPI_COMM_WORLD by the
 * calls that have none */
static void bad_keyvals(MPI_Comm comm)
{
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int key, tkey, flag;
    void *got;
    EXPECT_OK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &key,
                                     NULL));
    EXPECT_OK(MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, MPI_TYPE_NULL_DELETE_FN, &tkey,
                                     NULL));
    int freed = key, tag_ub = MPI_TAG_UB;
    EXPECT_OK(MPI_Comm_free_keyval(&key));
    EXPECT_ERR(MPI_Comm_get_attr(comm, freed, &got, &flag), "get_attr of a freed keyval");
    EXPECT_ERR(MPI_Comm_set_attr(comm, freed, values), "set_attr of a freed keyval");
    EXPECT_ERR(MPI_Comm_free_keyval(&freed), "free of a freed keyval");
    EXPECT_ERR(MPI_Comm_get_attr(comm, 0x7fff1234, &got, &flag), "an unknown keyval");
    EXPECT_ERR(MPI_Comm_free_keyval(&key), "free of MPI_KEYVAL_INVALID");
    EXPECT_ERR(MPI_Comm_free_keyval(&tkey), "Comm_free_keyval of a datatype keyval");
    EXPECT_ERR(MPI_Comm_set_attr(comm, tkey, values), "Comm_set_attr, datatype keyval");
    EXPECT_ERR(MPI_Comm_set_attr(comm, MPI_TAG_UB, values), "setting MPI_TAG_UB");
    EXPECT_ERR(MPI_Comm_free_keyval(&tag_ub), "freeing MPI_TAG_UB");
    EXPECT_OK(MPI_Type_free_keyval(&tkey));
    EXPECT_OK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL));
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
}

/* datatypes: the same calls and callbacks with MPI_Type_* */
static void type_callbacks(MPI_Comm comm)
{
    (void)comm;
    MPI_Datatype t, dup;
    int key, kdup, knull, flag = -1;
    void *got = NULL;
    EXPECT_OK(MPI_Type_contiguous(3, MPI_INT, &t));
    EXPECT_OK(MPI_Type_commit(&t));
    EXPECT_OK(MPI_Type_create_keyval(type_copy, type_delete, &key, extra_state));
    EXPECT_OK(MPI_Type_create_keyval(MPI_TYPE_DUP_FN, MPI_TYPE_NULL_DELETE_FN, &kdup, NULL));
    EXPECT_OK(MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, MPI_TYPE_NULL_DELETE_FN, &knull,
                                     NULL));
    int start = n_log;
    EXPECT_OK(MPI_Type_set_attr(t, key, &values[0]));
    EXPECT_OK(MPI_Type_set_attr(t, key, &values[1]));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'd', t, key, &values[0]);
    EXPECT_OK(MPI_Type_set_attr(t, kdup, &values[2]));
    EXPECT_OK(MPI_Type_set_attr(t, knull, &values[3]));
    EXPECT_OK(MPI_Type_get_attr(t, key, &got, &flag));
    EXPECT(flag == 1 && got == &values[1], "Type_get_attr: flag %d value %p", flag, got);
    start = n_log;
    EXPECT_OK(MPI_Type_dup(t, &dup));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'c', t, key, &values[1]);
    EXPECT_OK(MPI_Type_get_attr(dup, key, &got, &flag));
    EXPECT(flag == 1 && got == &values[1] + 1000, "dup's attribute: flag %d value %p", flag,
           got);
    EXPECT_OK(MPI_Type_get_attr(dup, kdup, &got, &flag));
    EXPECT(flag == 1 && got == &values[2], "MPI_TYPE_DUP_FN: flag %d value %p", flag, got);
    flag = -1;
    EXPECT_OK(MPI_Type_get_attr(dup, knull, &got, &flag));
    EXPECT(flag == 0, "MPI_TYPE_NULL_COPY_FN: flag %d", flag);
    /* the duplicate is a working datatype */
    int size = 0;
    EXPECT_OK(MPI_Type_size(dup, &size));
    EXPECT(size == 3 * (int)sizeof(int), "Type_size of the dup: %d", size);
    start = n_log;
    EXPECT_OK(MPI_Type_delete_attr(t, key));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'd', t, key, &values[1]);
    start = n_log;
    MPI_Datatype dup_handle = dup;
    EXPECT_OK(MPI_Type_free(&dup));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'd', dup_handle, key, &values[1] + 1000);
    /* a copy function's error fails MPI_Type_dup with its class */
    EXPECT_OK(MPI_Type_set_attr(t, key, &values[4]));
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    copy_rc = MPI_ERR_INTERN;
    int rc = MPI_Type_dup(t, &dup), cls = -1;
    copy_rc = MPI_SUCCESS;
    MPI_Error_class(rc, &cls);
    EXPECT(cls == MPI_ERR_INTERN, "Type_dup with a failing copy function: class %d", cls);
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    /* attributes on a predefined datatype */
    EXPECT_OK(MPI_Type_set_attr(MPI_DOUBLE, kdup, &values[5]));
    EXPECT_OK(MPI_Type_get_attr(MPI_DOUBLE, kdup, &got, &flag));
    EXPECT(flag == 1 && got == &values[5], "attribute on MPI_DOUBLE: flag %d value %p", flag,
           got);
    EXPECT_OK(MPI_Type_delete_attr(MPI_DOUBLE, kdup));
    /* freeing the type deletes what is left */
    start = n_log;
    MPI_Datatype t_handle = t;
    EXPECT_OK(MPI_Type_free(&t));
    EXPECT_CALLS(start, 1);
    EXPECT_CALL(start, 'd', t_handle, key, &values[4]);
    EXPECT_OK(MPI_Type_free_keyval(&key));
    EXPECT_OK(MPI_Type_free_keyval(&kdup));
    EXPECT_OK(MPI_Type_free_keyval(&knull));
    EXPECT(key == MPI_KEYVAL_INVALID, "Type_free_keyval left %d", key);
}

/* Keyvals are created and freed by the thousand in long runs. */
static void many_keyvals(MPI_Comm comm)
{
    for (int i = 0; i < 3000; i++) {
        int key;
        void *got;
        int flag = 0;
        EXPECT_OK(MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &key, NULL));
        EXPECT_OK(MPI_Comm_set_attr(comm, key, &values[i % 8]));
        EXPECT_OK(MPI_Comm_get_attr(comm, key, &got, &flag));
        EXPECT(flag && got == &values[i % 8], "keyval %d: flag %d", i, flag);
        EXPECT_OK(MPI_Comm_delete_attr(comm, key));
        EXPECT_OK(MPI_Comm_free_keyval(&key));
    }
}

/* The predefined attributes of MPI_COMM_WORLD: ints, read through the pointer the guest gets. */
static void predefined_attributes(MPI_Comm comm)
{
    (void)comm;
    int size, flag = -1, *v = NULL;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    EXPECT_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &v, &flag));
    EXPECT(flag == 1 && *v >= 32767, "MPI_TAG_UB: flag %d value %d", flag, flag ? *v : 0);
    if (flag) { /* the tag bound works as a tag */
        int rank, x = 7, y = 0;
        MPI_Comm_rank(MPI_COMM_SELF, &rank);
        EXPECT_OK(MPI_Sendrecv(&x, 1, MPI_INT, 0, *v, &y, 1, MPI_INT, 0, *v, MPI_COMM_SELF,
                               MPI_STATUS_IGNORE));
        EXPECT(y == 7, "message with tag MPI_TAG_UB: %d", y);
    }
    EXPECT_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_HOST, &v, &flag));
    EXPECT(flag == 1 && (*v == MPI_PROC_NULL || (*v >= 0 && *v < size)), "MPI_HOST: %d %d",
           flag, flag ? *v : 0);
    EXPECT_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_IO, &v, &flag));
    EXPECT(flag == 1 && (*v == MPI_PROC_NULL || *v == MPI_ANY_SOURCE || (*v >= 0 && *v < size)),
           "MPI_IO: %d %d", flag, flag ? *v : 0);
    EXPECT_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_WTIME_IS_GLOBAL, &v, &flag));
    EXPECT(!flag || *v == 0 || *v == 1, "MPI_WTIME_IS_GLOBAL: %d", *v);
    EXPECT_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_APPNUM, &v, &flag));
    EXPECT(!flag || *v == 0, "MPI_APPNUM of a one-program job: %d", *v);
    EXPECT_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_UNIVERSE_SIZE, &v, &flag));
    /* Open MPI counts the slots, which an oversubscribed job exceeds */
    EXPECT(!flag || *v >= 1, "MPI_UNIVERSE_SIZE %d", *v);
    EXPECT_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &v, &flag));
    EXPECT(flag == 1 && *v >= MPI_ERR_LASTCODE, "MPI_LASTUSEDCODE: flag %d value %d", flag,
           flag ? *v : 0);
    int cls, code;
    EXPECT_OK(MPI_Add_error_class(&cls));
    EXPECT_OK(MPI_Add_error_code(cls, &code));
    EXPECT_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &v, &flag));
    EXPECT(flag == 1 && *v >= code && *v >= cls, "MPI_LASTUSEDCODE %d after adding %d and %d",
           *v, cls, code);
    /* the MPI-1 name reads the same values */
    int *tub = NULL;
    EXPECT_OK(MPI_Attr_get(MPI_COMM_WORLD, MPI_TAG_UB, &tub, &flag));
    EXPECT(flag == 1 && *tub >= 32767, "Attr_get(MPI_TAG_UB): %d", flag ? *tub : 0);
}

/* MPI_Finalize deletes MPI_COMM_SELF's attributes first, while MPI still works */
static int self_keyval = MPI_KEYVAL_INVALID;
static int self_delete(MPI_Comm comm, int keyval, void *val, void *extra)
{
    int finalized = -1, rank = -1;
    MPI_Finalized(&finalized);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("finalize delete: self %d keyval %d value %d finalized %d rank %d\n",
           comm == MPI_COMM_SELF, keyval == self_keyval, *(int *)val, finalized, rank);
    fflush(stdout);
    return MPI_SUCCESS;
}

/* returning from main without MPI_Finalize: no delete function may run */
static int trap_delete(MPI_Comm comm, int keyval, void *val, void *extra)
{
    (void)comm, (void)keyval, (void)val, (void)extra;
    __builtin_trap();
}

/* Window keyvals and error handlers exist before any window does (windows: one-sided
 * communication); they are created and freed through the same machinery. */
static int win_copy_noop(MPI_Win w, int k, void *extra, void *in, void *out, int *flag)
{
    (void)w; (void)k; (void)extra; (void)in; (void)out;
    *flag = 0;
    return MPI_SUCCESS;
}
static void win_handler(MPI_Win *w, int *code, ...) { (void)w; (void)code; }

static void win_keyvals(MPI_Comm comm)
{
    (void)comm;
    int k1 = MPI_KEYVAL_INVALID, k2 = MPI_KEYVAL_INVALID, extra = 7;
    EXPECT_OK(MPI_Win_create_keyval(win_copy_noop, MPI_WIN_NULL_DELETE_FN, &k1, &extra));
    EXPECT_OK(MPI_Win_create_keyval(MPI_WIN_DUP_FN, MPI_WIN_NULL_DELETE_FN, &k2, NULL));
    EXPECT(k1 != MPI_KEYVAL_INVALID && k2 != MPI_KEYVAL_INVALID && k1 != k2,
           "window keyvals %d %d", k1, k2);
    /* a window keyval is not a communicator keyval */
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int kc = k1, cls = -1;
    MPI_Error_class(MPI_Comm_free_keyval(&kc), &cls);
    EXPECT(cls == MPI_ERR_KEYVAL, "Comm_free_keyval on a window keyval: class %d", cls);
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    EXPECT_OK(MPI_Win_free_keyval(&k1));
    EXPECT_OK(MPI_Win_free_keyval(&k2));
    EXPECT(k1 == MPI_KEYVAL_INVALID && k2 == MPI_KEYVAL_INVALID, "Win_free_keyval: %d %d", k1,
           k2);
    MPI_Errhandler eh = MPI_ERRHANDLER_NULL;
    EXPECT_OK(MPI_Win_create_errhandler(win_handler, &eh));
    EXPECT(eh != MPI_ERRHANDLER_NULL, "Win_create_errhandler gave MPI_ERRHANDLER_NULL");
    EXPECT_OK(MPI_Errhandler_free(&eh));
    EXPECT(eh == MPI_ERRHANDLER_NULL, "Errhandler_free did not null the handle");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    static int self_value = 42;
    if (argc > 1 && strcmp(argv[1], "no-finalize") == 0) {
        int key;
        MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, trap_delete, &key, NULL);
        MPI_Comm_set_attr(MPI_COMM_SELF, key, &self_value);
        printf("returning without MPI_Finalize\n");
        return 0;
    }
    for_each_comm(comm_callbacks, "comm_callbacks");
    for_each_comm(predefined_copy_functions, "predefined_copy_functions");
    for_each_comm(copy_error, "copy_error");
    for_each_comm(delete_error, "delete_error");
    for_each_comm(mpi1_names, "mpi1_names");
    for_each_comm(bad_keyvals, "bad_keyvals");
    run_case(type_callbacks, "type_callbacks", MPI_COMM_WORLD, "world");
    run_case(many_keyvals, "many_keyvals", MPI_COMM_SELF, "self");
    run_case(win_keyvals, "win_keyvals", MPI_COMM_SELF, "self");
    run_case(predefined_attributes, "predefined_attributes", MPI_COMM_WORLD, "world");
    MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, self_delete, &self_keyval, NULL);
    MPI_Comm_set_attr(MPI_COMM_SELF, self_keyval, &self_value);
    return finish();
}
