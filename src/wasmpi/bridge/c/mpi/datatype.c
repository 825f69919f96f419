/* Datatype special cases: addresses are guest addresses (MPI_BOTTOM is guest address 0, and a
 * buffer argument MPI_BOTTOM means the base of linear memory), and the names of predefined
 * types are the guest's (MPI_LONG is the host's MPI_INT underneath). */
#include "bridge.h"

CALLBACK(MPI_Get_address)
{
#define FN "MPI_Get_address"
    CHECK_OUT(a[1].i32, 4);
    store_i32((uint32_t)a[1].i32, a[0].i32);
    return ok(a);
#undef FN
}

CALLBACK(MPI_Type_get_name)
{
#define FN "MPI_Type_get_name"
    ERRSLOT;
    GET_TYPE(dt, 0);
    CHECK_OUT(a[1].i32, ABI_MAX_OBJECT_NAME);
    CHECK_OUT(a[2].i32, 4);
    slot_t *s = TYPE_SLOT(dt);
    char name[MPI_MAX_OBJECT_NAME + 1] = "";
    int len = 0, rc = MPI_SUCCESS;
    if (s->predefined)
        snprintf(name, sizeof name, "%s", s->name);
    else
        rc = MPI_Type_get_name(dt, name, &len);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[2].i32, put_string((uint32_t)a[1].i32, name, ABI_MAX_OBJECT_NAME));
    return done(a, rc, errslot, FN);
#undef FN
}
