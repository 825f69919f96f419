/* Datatype special cases: addresses are guest addresses (MPI_BOTTOM is guest address 0, and a
 * buffer argument MPI_BOTTOM means the base of linear memory), and predefined types are the
 * guest's: their names, envelopes and sizes are those of the wasm32 types, even where the host
 * handle underneath is another host type (MPI_LONG is the host's MPI_INT) or a derived type
 * (binary128 long double is moved as bytes, see predefine_bytes). */
#include "bridge.h"

CALLBACK(MPI_Get_address)
{
#define FN "MPI_Get_address"
    CHECK_OUT(a[1].i32, 4);
    store_i32((uint32_t)a[1].i32, a[0].i32);
    return ok(a);
#undef FN
}

/* ---- names ---------------------------------------------------------------------------------- */

/* Names the guest gave its predefined types, by slot: kept in the bridge, because renaming
 * the guest's MPI_LONG must not rename the host's MPI_INT that it shares. */
static char (*renamed)[ABI_MAX_OBJECT_NAME];

CALLBACK(MPI_Type_set_name)
{
#define FN "MPI_Type_set_name"
    ERRSLOT;
    GET_TYPE(dt, 0);
    const char *name;
    CHECK_STR(name, a[1].i32);
    slot_t *s = TYPE_SLOT(dt);
    if (!s->predefined)
        return done(a, MPI_Type_set_name(dt, name), errslot, FN);
    if (s->guest == guest_null[K_DATATYPE])
        return fail(a, ABI_ERR_TYPE, errslot, FN);
    if (!renamed && !(renamed = calloc((size_t)T[K_DATATYPE].n_predefined, sizeof *renamed)))
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    char *own = renamed[ts_dt];
    snprintf(own, ABI_MAX_OBJECT_NAME, "%s", name);
    s->name = own;
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

/* ---- envelope and contents -------------------------------------------------------------- */

static int out_order(int x)
{
    return x == MPI_ORDER_C ? ABI_ORDER_C : x == MPI_ORDER_FORTRAN ? ABI_ORDER_FORTRAN : x;
}
static int out_distrib(int x)
{
    return x == MPI_DISTRIBUTE_NONE ? ABI_DISTRIBUTE_NONE
         : x == MPI_DISTRIBUTE_BLOCK ? ABI_DISTRIBUTE_BLOCK
         : x == MPI_DISTRIBUTE_CYCLIC ? ABI_DISTRIBUTE_CYCLIC : x;
}
static int out_darg(int x) { return x == MPI_DISTRIBUTE_DFLT_DARG ? ABI_DISTRIBUTE_DFLT_DARG : x; }

static int host_combiner(MPI_Datatype h)
{
    int ni, na, nd, comb = MPI_COMBINER_NAMED;
    MPI_Type_get_envelope(h, &ni, &na, &nd, &comb);
    return comb;
}

/* Is `h`, a derived host type that MPI_Type_get_contents returned, the host type of the
 * predefined guest type in slot `s` when that one is derived (binary128 long double)? MPICH
 * returns the same handle; Open MPI returns a duplicate named "Dup <name>", which is why
 * predefine_bytes names its host types. */
static int same_bytes_type(const slot_t *s, MPI_Datatype h, int comb)
{
    if (s->h.datatype == h)
        return 1;
    if (s->h.datatype == MPI_DATATYPE_NULL || host_combiner(s->h.datatype) != comb)
        return 0;
    MPI_Count lb, ext, tlb, text;
    MPI_Type_get_extent_x(h, &lb, &ext);
    MPI_Type_get_true_extent_x(h, &tlb, &text);
    if (lb != s->lb || ext != s->extent || tlb != s->true_lb || text != s->true_extent)
        return 0;
    char mine[MPI_MAX_OBJECT_NAME + 1] = "", got[MPI_MAX_OBJECT_NAME + 1] = "";
    int len;
    MPI_Type_get_name(s->h.datatype, mine, &len);
    MPI_Type_get_name(h, got, &len);
    return mine[0] && (!strcmp(got, mine) || (!strncmp(got, "Dup ", 4) && !strcmp(got + 4, mine)));
}

/* The guest handle of a datatype MPI_Type_get_contents returned: a predefined guest type is
 * its ABI value (the host reference that came with a derived host type underneath is dropped);
 * anything else is a new guest handle, which the caller frees as the standard says. */
static int32_t contents_type(MPI_Datatype h)
{
    int comb = host_combiner(h);
    table_t *t = &T[K_DATATYPE];
    for (int32_t i = 0; i < t->n_predefined; i++) {
        slot_t *s = &t->s[i];
        if (!s->live || s->guest == guest_null[K_DATATYPE])
            continue;
        if (comb == MPI_COMBINER_NAMED ? s->h.datatype == h : same_bytes_type(s, h, comb)) {
            if (comb != MPI_COMBINER_NAMED)
                MPI_Type_free(&h);
            return s->guest;
        }
    }
    /* The guest may use it at once (the bridge takes it as committed). Open MPI's is a copy
     * that keeps the original's state, and an uncommitted copy segfaulted in libmpi
     * (opal_convertor_prepare_for_recv, MPI_Gather, fuzz seed 933): the host commits it. */
    MPI_Type_commit(&h);
    return new_handle(K_DATATYPE, (host_h){.datatype = h});
}

CALLBACK(MPI_Type_get_envelope)
{
#define FN "MPI_Type_get_envelope"
    ERRSLOT;
    GET_TYPE(dt, 0);
    for (int i = 1; i <= 4; i++)
        CHECK_OUT(a[i].i32, 4);
    slot_t *s = TYPE_SLOT(dt);
    if (s->guest == guest_null[K_DATATYPE])
        return fail(a, ABI_ERR_TYPE, errslot, FN);
    int ni = 0, na = 0, nd = 0, comb = MPI_COMBINER_NAMED;
    if (!s->predefined) {
        int rc = MPI_Type_get_envelope(dt, &ni, &na, &nd, &comb);
        if (rc != MPI_SUCCESS)
            return done(a, rc, errslot, FN);
    }
    store_i32((uint32_t)a[1].i32, ni);
    store_i32((uint32_t)a[2].i32, na);
    store_i32((uint32_t)a[3].i32, nd);
    store_i32((uint32_t)a[4].i32, out_combiner(comb));
    return ok(a);
#undef FN
}

CALLBACK(MPI_Type_get_contents)
{
#define FN "MPI_Type_get_contents"
    ERRSLOT;
    SCRATCH_FRAME;
    GET_TYPE(dt, 0);
    /* predefined guest types are named, whatever the host type underneath */
    if (TYPE_SLOT(dt)->predefined)
        return fail(a, ABI_ERR_TYPE, errslot, FN);
    int ni, na, nd, comb;
    int rc = MPI_Type_get_envelope(dt, &ni, &na, &nd, &comb);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    if (a[1].i32 < ni || a[2].i32 < na || a[3].i32 < nd)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    /* only what MPI writes must be in guest memory; the host gets the exact counts, because
     * Open MPI 5 crashes when the arrays are larger than the contents */
    CHECK_ARRAY(a[4].i32, ni, 4, "array_of_integers array");
    CHECK_ARRAY(a[5].i32, na, 4, "array_of_addresses array");
    CHECK_ARRAY(a[6].i32, nd, 4, "array_of_datatypes array");
    SCRATCH(ints, int, ni);
    SCRATCH(addrs, MPI_Aint, na);
    SCRATCH(types, MPI_Datatype, nd);
    rc = MPI_Type_get_contents(dt, ni, na, nd, ints, addrs, types);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    int too_large = 0;
    for (int i = 0; i < na; i++)
        too_large |= addrs[i] != (int32_t)addrs[i];
    if (too_large) {
        for (int i = 0; i < nd; i++)
            if (host_combiner(types[i]) != MPI_COMBINER_NAMED)
                MPI_Type_free(&types[i]);
        return fail(a, ABI_ERR_VALUE_TOO_LARGE, errslot, FN);
    }
    /* the integers that are constants: order, distributions and distribution arguments */
    if (comb == MPI_COMBINER_SUBARRAY && ni > 0) {
        ints[ni - 1] = out_order(ints[ni - 1]);
    } else if (comb == MPI_COMBINER_DARRAY && ni >= 4 && ni == 4 * ints[2] + 4) {
        int n = ints[2]; /* size, rank, ndims, gsizes[n], distribs[n], dargs[n], psizes[n], order */
        for (int i = 0; i < n; i++) {
            ints[3 + n + i] = out_distrib(ints[3 + n + i]);
            ints[3 + 2 * n + i] = out_darg(ints[3 + 2 * n + i]);
        }
        ints[ni - 1] = out_order(ints[ni - 1]);
    }
    for (int i = 0; i < ni; i++)
        store_i32((uint32_t)a[4].i32 + 4 * (uint32_t)i, ints[i]);
    for (int i = 0; i < na; i++)
        store_i32((uint32_t)a[5].i32 + 4 * (uint32_t)i, (int32_t)addrs[i]);
    for (int i = 0; i < nd; i++)
        store_i32((uint32_t)a[6].i32 + 4 * (uint32_t)i, contents_type(types[i]));
    return ok(a);
#undef FN
}

/* ---- MPI_Type_match_size ------------------------------------------------------------------ */

/* The guest's C type of a (typeclass, size), by the wasm32 sizes: MPI_SIGNED_CHAR, MPI_SHORT,
 * MPI_INT (not MPI_LONG, also 4 bytes in ILP32), MPI_LONG_LONG; MPI_FLOAT, MPI_DOUBLE,
 * MPI_LONG_DOUBLE (binary128); MPI_C_FLOAT_COMPLEX, MPI_C_DOUBLE_COMPLEX,
 * MPI_C_LONG_DOUBLE_COMPLEX. Natively MPICH and Open MPI answer with Fortran types
 * (MPI_INTEGER4, ...), which a C guest may not have; C types need no Fortran in the host MPI.
 * Another size is MPI_ERR_ARG. */
CALLBACK(MPI_Type_match_size)
{
#define FN "MPI_Type_match_size"
    ERRSLOT;
    CHECK_OUT(a[2].i32, 4);
    static const struct { int typeclass; int32_t type; } candidates[] = {
        {ABI_TYPECLASS_INTEGER, ABI_SIGNED_CHAR}, {ABI_TYPECLASS_INTEGER, ABI_SHORT},
        {ABI_TYPECLASS_INTEGER, ABI_INT}, {ABI_TYPECLASS_INTEGER, ABI_LONG_LONG},
        {ABI_TYPECLASS_REAL, ABI_FLOAT}, {ABI_TYPECLASS_REAL, ABI_DOUBLE},
        {ABI_TYPECLASS_REAL, ABI_LONG_DOUBLE},
        {ABI_TYPECLASS_COMPLEX, ABI_C_FLOAT_COMPLEX}, {ABI_TYPECLASS_COMPLEX, ABI_C_DOUBLE_COMPLEX},
        {ABI_TYPECLASS_COMPLEX, ABI_C_LONG_DOUBLE_COMPLEX},
    };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        if (candidates[i].typeclass != a[0].i32)
            continue;
        slot_t *s = lookup(K_DATATYPE, candidates[i].type);
        int size = 0;
        if (s && MPI_Type_size(s->h.datatype, &size) == MPI_SUCCESS && size == a[1].i32) {
            store_i32((uint32_t)a[2].i32, candidates[i].type);
            return ok(a);
        }
    }
    return fail(a, ABI_ERR_ARG, errslot, FN);
#undef FN
}

/* The f90 constructors return the host's parameterized types, which the host keeps for the
 * life of the job (they cannot be freed): the same (p, r) gives the same guest handle. */
static wasm_trap_t *f90_type(wasmtime_val_raw_t *a, int rc, MPI_Datatype t, uint32_t out,
                             const char *fn)
{
    ERRSLOT;
    if (rc == MPI_SUCCESS) {
        int32_t g = guest_of(K_DATATYPE, (host_h){.datatype = t});
        store_i32(out, g != ABI_DATATYPE_NULL ? g : new_handle(K_DATATYPE, (host_h){.datatype = t}));
    }
    return done(a, rc, errslot, fn);
}

CALLBACK(MPI_Type_create_f90_integer)
{
#define FN "MPI_Type_create_f90_integer"
    CHECK_OUT(a[1].i32, 4);
    MPI_Datatype t = MPI_DATATYPE_NULL;
    int rc = MPI_Type_create_f90_integer(a[0].i32, &t);
    return f90_type(a, rc, t, (uint32_t)a[1].i32, FN);
#undef FN
}

CALLBACK(MPI_Type_create_f90_real)
{
#define FN "MPI_Type_create_f90_real"
    CHECK_OUT(a[2].i32, 4);
    MPI_Datatype t = MPI_DATATYPE_NULL;
    int rc = MPI_Type_create_f90_real(a[0].i32, a[1].i32, &t);
    return f90_type(a, rc, t, (uint32_t)a[2].i32, FN);
#undef FN
}

CALLBACK(MPI_Type_create_f90_complex)
{
#define FN "MPI_Type_create_f90_complex"
    CHECK_OUT(a[2].i32, 4);
    MPI_Datatype t = MPI_DATATYPE_NULL;
    int rc = MPI_Type_create_f90_complex(a[0].i32, a[1].i32, &t);
    return f90_type(a, rc, t, (uint32_t)a[2].i32, FN);
#undef FN
}

/* MPI-4.1: the predefined pair type of (value, index) for MINLOC/MAXLOC, or MPI_DATATYPE_NULL.
 * The pairs are the standard's, and guest predefined handles are their ABI values; the host's
 * answer could not be used as it is (the guest's MPI_LONG is the host's MPI_INT: wasm32). */
CALLBACK(MPI_Type_get_value_index)
{
#define FN "MPI_Type_get_value_index"
    ERRSLOT;
    static const int32_t pairs[][3] = {
        {ABI_FLOAT, ABI_INT, ABI_FLOAT_INT},
        {ABI_DOUBLE, ABI_INT, ABI_DOUBLE_INT},
        {ABI_LONG, ABI_INT, ABI_LONG_INT},
        {ABI_INT, ABI_INT, ABI_2INT},
        {ABI_SHORT, ABI_INT, ABI_SHORT_INT},
        {ABI_LONG_DOUBLE, ABI_INT, ABI_LONG_DOUBLE_INT},
        {ABI_REAL, ABI_REAL, ABI_2REAL},
        {ABI_DOUBLE_PRECISION, ABI_DOUBLE_PRECISION, ABI_2DOUBLE_PRECISION},
        {ABI_INTEGER, ABI_INTEGER, ABI_2INTEGER},
    };
    if (!lookup(K_DATATYPE, a[0].i32) || !lookup(K_DATATYPE, a[1].i32))
        return fail(a, ABI_ERR_TYPE, errslot, FN);
    CHECK_OUT(a[2].i32, 4);
    int32_t pair = ABI_DATATYPE_NULL;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i][0] == a[0].i32 && pairs[i][1] == a[1].i32)
            pair = pairs[i][2];
    store_i32((uint32_t)a[2].i32, pair);
    return ok(a);
#undef FN
}
