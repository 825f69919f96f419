/* Point-to-point special cases: probes with a flag (the status is written only when a message
 * is there) and the buffered-send buffer, which the host allocates. */
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

/* The host MPI keeps its own bookkeeping (MPICH: segment headers with pointers) inside the
 * attached buffer, so a guest buffer would let the guest forge pointers the host follows.
 * The host gets a buffer of its own of the same size; the guest's address is only remembered,
 * to be given back on detach. */
static uint32_t attached_ptr;
static void *attached_host;

/* attach: a host buffer of `size` bytes stands in for guest [p, p + size) */
static int attach_host(uint32_t p, int64_t size, int large)
{
    void *host = malloc(size > 0 ? (size_t)size : 1);
    if (!host)
        return MPI_ERR_NO_MEM;
    int rc;
    if (large)
        rc = HOST4(MPI_Buffer_attach_c)(host, (MPI_Count)size);
    else
        rc = MPI_Buffer_attach(host, (int)size);
    if (rc != MPI_SUCCESS) {
        free(host);
        return rc;
    }
    attached_ptr = p;
    attached_host = host;
    return rc;
}

/* after a successful detach: the guest's address (0 if nothing was attached) */
static int32_t detached(void *host)
{
    int32_t p = host ? (int32_t)attached_ptr : 0;
    if (host == attached_host) {
        free(attached_host);
        attached_host = NULL;
        attached_ptr = 0;
    }
    return p;
}

CALLBACK(MPI_Buffer_attach)
{
#define FN "MPI_Buffer_attach"
    ERRSLOT;
    int size = a[1].i32;
    if (size < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    CHECK_ARRAY(a[0].i32, size, 1, "buffer");
    return done(a, attach_host((uint32_t)a[0].i32, size, 0), errslot, FN);
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
        store_i32((uint32_t)a[0].i32, detached(host));
        store_i32((uint32_t)a[1].i32, size);
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
    int large = host4_fn[H4_MPI_Buffer_attach_c] != NULL;
    if (!large && size != (int)size)
        return host4_missing(a, H4_MPI_Buffer_attach_c, errslot, FN);
    return done(a, attach_host((uint32_t)a[0].i32, size, large), errslot, FN);
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
        store_i32((uint32_t)a[0].i32, detached(host));
        store_i64((uint32_t)a[1].i32, size);
    }
    return done(a, rc, errslot, FN);
#undef FN
}
