/* Point-to-point special cases: probes with a flag (the status is written only when a message
 * is there) and the buffered-send buffer, which lives in guest memory. */
#include "bridge.h"

CALLBACK(MPI_Iprobe)
{
#define FN "MPI_Iprobe"
    COMM_ARG(comm, 2);
    CHECK_OUT(a[3].i32, 4);
    STATUS_ARG(st, 4);
    int flag = 0;
    int rc = MPI_Iprobe(in_rank(a[0].i32), in_tag(a[1].i32), comm, &flag,
                        st ? st : MPI_STATUS_IGNORE);
    if (rc == MPI_SUCCESS) {
        store_i32((uint32_t)a[3].i32, flag);
        if (flag)
            STATUS_DONE(st, rc);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Improbe)
{
#define FN "MPI_Improbe"
    COMM_ARG(comm, 2);
    CHECK_OUT(a[3].i32, 4);
    CHECK_OUT(a[4].i32, 4);
    STATUS_ARG(st, 5);
    int flag = 0;
    MPI_Message m = MPI_MESSAGE_NULL;
    int rc = MPI_Improbe(in_rank(a[0].i32), in_tag(a[1].i32), comm, &flag, &m,
                         st ? st : MPI_STATUS_IGNORE);
    if (rc == MPI_SUCCESS) {
        store_i32((uint32_t)a[3].i32, flag);
        if (flag) {
            store_i32((uint32_t)a[4].i32, new_handle(K_MESSAGE, (host_h){.message = m}));
            STATUS_DONE(st, rc);
        }
    }
    return done(a, rc, errslot, FN);
#undef FN
}

/* The attached buffer is guest memory (it never moves); remembered to give its guest address
 * back on detach. */
static uint32_t attached_ptr;

CALLBACK(MPI_Buffer_attach)
{
#define FN "MPI_Buffer_attach"
    ERRSLOT;
    int size = a[1].i32;
    if (size < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    CHECK_ARRAY(a[0].i32, size, 1, "buffer");
    int rc = MPI_Buffer_attach(GPTR(a[0].i32), size);
    if (rc == MPI_SUCCESS)
        attached_ptr = (uint32_t)a[0].i32;
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Buffer_detach)
{
#define FN "MPI_Buffer_detach"
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    CHECK_OUT(a[1].i32, 4);
    void *host = NULL;
    int size = 0;
    int rc = MPI_Buffer_detach(&host, &size);
    if (rc == MPI_SUCCESS) {
        store_i32((uint32_t)a[0].i32, host ? (int32_t)attached_ptr : 0);
        store_i32((uint32_t)a[1].i32, size);
        attached_ptr = 0;
    }
    return done(a, rc, errslot, FN);
#undef FN
}

/* MPI-4 large-count forms: the host's, or the int ones while the size fits */
CALLBACK(MPI_Buffer_attach_c)
{
#define FN "MPI_Buffer_attach_c"
    ERRSLOT;
    int64_t size = a[1].i64;
    if (size < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    CHECK_ARRAY(a[0].i32, size, 1, "buffer");
    int rc;
    if (host4_fn[H4_MPI_Buffer_attach_c])
        rc = HOST4(MPI_Buffer_attach_c)(GPTR(a[0].i32), (MPI_Count)size);
    else if (size == (int)size)
        rc = MPI_Buffer_attach(GPTR(a[0].i32), (int)size);
    else
        return host4_missing(a, H4_MPI_Buffer_attach_c, errslot, FN);
    if (rc == MPI_SUCCESS)
        attached_ptr = (uint32_t)a[0].i32;
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Buffer_detach_c)
{
#define FN "MPI_Buffer_detach_c"
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    CHECK_OUT(a[1].i32, 8);
    void *host = NULL;
    MPI_Count size = 0;
    int rc, isize = 0;
    if (host4_fn[H4_MPI_Buffer_detach_c]) {
        rc = HOST4(MPI_Buffer_detach_c)(&host, &size);
    } else {
        rc = MPI_Buffer_detach(&host, &isize);
        size = isize;
    }
    if (rc == MPI_SUCCESS) {
        store_i32((uint32_t)a[0].i32, host ? (int32_t)attached_ptr : 0);
        store_i64((uint32_t)a[1].i32, size);
        attached_ptr = 0;
    }
    return done(a, rc, errslot, FN);
#undef FN
}
