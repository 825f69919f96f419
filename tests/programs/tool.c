/* The MPI_T tool information interface, forwarded to the host MPI: every control and
 * performance variable and category the host exposes is queried, with the returned strings and
 * lengths checked against the MPI_T string convention; a control variable is read and written,
 * performance variables are started, read, reset and stopped in a session; bad indices and
 * handles give the MPI_T error codes. MPI_COMM_WORLD keeps MPI_ERRORS_ARE_FATAL throughout: an
 * MPI_T error that reached an error handler would abort the job. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

/* the tool interface's error codes are not MPI error classes: compare them as they are */
#define EXPECT_T(call, want) \
    do { \
        int rc_ = (call); \
        EXPECT(rc_ == (want), "%s returned %d, not %d", #call, rc_, (want)); \
    } while (0)

static int is_verbosity(int v)
{
    return v == MPI_T_VERBOSITY_USER_BASIC || v == MPI_T_VERBOSITY_USER_DETAIL
        || v == MPI_T_VERBOSITY_USER_ALL || v == MPI_T_VERBOSITY_TUNER_BASIC
        || v == MPI_T_VERBOSITY_TUNER_DETAIL || v == MPI_T_VERBOSITY_TUNER_ALL
        || v == MPI_T_VERBOSITY_MPIDEV_BASIC || v == MPI_T_VERBOSITY_MPIDEV_DETAIL
        || v == MPI_T_VERBOSITY_MPIDEV_ALL;
}
static int is_bind(int b) { return b >= MPI_T_BIND_NO_OBJECT && b <= MPI_T_BIND_MPI_INFO; }
static int is_scope(int s) { return s >= MPI_T_SCOPE_CONSTANT && s <= MPI_T_SCOPE_ALL_EQ; }
static int is_class(int c) { return c >= MPI_T_PVAR_CLASS_STATE && c <= MPI_T_PVAR_CLASS_GENERIC; }

/* A returned string and its length follow the MPI_T convention: the length counts the NUL. */
#define EXPECT_STRING(str, len, cap) \
    EXPECT((int)strlen(str) + 1 == (len) && (len) <= (cap), "%s: length %d for \"%.40s\"", \
           #str, (len), (str))

/* A datatype the guest can size: count * size is what a handle's read moves. */
static int type_size(MPI_Datatype dt)
{
    int sz = -1;
    if (dt == MPI_DATATYPE_NULL || MPI_Type_size(dt, &sz) != MPI_SUCCESS)
        return -1;
    return sz;
}

static void constants(MPI_Comm comm)
{
    (void)comm;
    /* MPI 5.0 standard ABI values */
    EXPECT(MPI_T_ENUM_NULL == (MPI_T_enum)0 && MPI_T_CVAR_HANDLE_NULL == (MPI_T_cvar_handle)0
           && MPI_T_PVAR_HANDLE_NULL == (MPI_T_pvar_handle)0
           && MPI_T_PVAR_SESSION_NULL == (MPI_T_pvar_session)0
           && MPI_T_PVAR_ALL_HANDLES == (MPI_T_pvar_handle)1, "null handles");
    EXPECT(MPI_T_VERBOSITY_USER_BASIC == 0x09 && MPI_T_VERBOSITY_TUNER_DETAIL == 0x12
           && MPI_T_VERBOSITY_MPIDEV_ALL == 0x24, "verbosity");
    EXPECT(MPI_T_BIND_NO_OBJECT == 1 && MPI_T_BIND_MPI_COMM == 2 && MPI_T_BIND_MPI_INFO == 11,
           "bind");
    EXPECT(MPI_T_SCOPE_CONSTANT == 1 && MPI_T_SCOPE_ALL_EQ == 7, "scope");
    EXPECT(MPI_T_PVAR_CLASS_STATE == 1 && MPI_T_PVAR_CLASS_GENERIC == 10, "class");
    EXPECT(MPI_T_ERR_MEMORY == 1005 && MPI_T_ERR_NOT_INITIALIZED == 1003
           && MPI_T_ERR_CANNOT_INIT == 1001 && MPI_T_ERR_INVALID_INDEX == 1007
           && MPI_T_ERR_INVALID_ITEM == 1008 && MPI_T_ERR_INVALID_HANDLE == 1010
           && MPI_T_ERR_OUT_OF_HANDLES == 1012 && MPI_T_ERR_OUT_OF_SESSIONS == 1013
           && MPI_T_ERR_INVALID_SESSION == 1009 && MPI_T_ERR_CVAR_SET_NOT_NOW == 1014
           && MPI_T_ERR_CVAR_SET_NEVER == 1015 && MPI_T_ERR_PVAR_NO_STARTSTOP == 1017
           && MPI_T_ERR_PVAR_NO_WRITE == 1016 && MPI_T_ERR_PVAR_NO_ATOMIC == 1018
           && MPI_T_ERR_INVALID_NAME == 1011 && MPI_T_ERR_INVALID == 1006, "error codes");
}

static void init_nesting(MPI_Comm comm)
{
    (void)comm;
    int provided = -1, n = -1;
    /* main() holds one initialization; two more nest on it */
    EXPECT_OK(MPI_T_init_thread(MPI_THREAD_FUNNELED, &provided));
    EXPECT(provided == MPI_THREAD_SINGLE || provided == MPI_THREAD_FUNNELED
           || provided == MPI_THREAD_SERIALIZED || provided == MPI_THREAD_MULTIPLE,
           "provided = %d", provided);
    EXPECT_OK(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided));
    EXPECT_OK(MPI_T_finalize());
    EXPECT_OK(MPI_T_finalize());
    EXPECT_OK(MPI_T_cvar_get_num(&n)); /* still initialized once */
    /* the last finalize ends the interface and every handle made in it */
    MPI_T_cvar_handle h = MPI_T_CVAR_HANDLE_NULL;
    MPI_T_pvar_session s = MPI_T_PVAR_SESSION_NULL;
    int count = 0;
    if (n > 0)
        EXPECT_OK(MPI_T_cvar_handle_alloc(0, NULL, &h, &count));
    EXPECT_OK(MPI_T_pvar_session_create(&s));
    EXPECT_OK(MPI_T_finalize());
    EXPECT_T(MPI_T_cvar_get_num(&n), MPI_T_ERR_NOT_INITIALIZED);
    EXPECT_T(MPI_T_cvar_get_info(0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             MPI_T_ERR_NOT_INITIALIZED);
    EXPECT_T(MPI_T_finalize(), MPI_T_ERR_NOT_INITIALIZED);
    EXPECT_T(MPI_T_pvar_session_free(&s), MPI_T_ERR_NOT_INITIALIZED);
    EXPECT_OK(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided));
    EXPECT_OK(MPI_T_cvar_get_num(&n));
    /* handles of an earlier initialization are gone */
    if (n > 0)
        EXPECT_T(MPI_T_cvar_handle_free(&h), MPI_T_ERR_INVALID_HANDLE);
    EXPECT_T(MPI_T_pvar_session_free(&s), MPI_T_ERR_INVALID_SESSION);
}

/* Every control variable: metadata, strings, the length query, truncation, the index of its
 * name, its enumeration. */
static void cvars(MPI_Comm comm)
{
    (void)comm;
    int num = -1;
    EXPECT_OK(MPI_T_cvar_get_num(&num));
    EXPECT(num >= 0, "cvar_get_num = %d", num);
    int described = 0;
    for (int i = 0; i < num; i++) {
        char name[512], desc[4096];
        int nlen = sizeof name, dlen = sizeof desc, verb = -1, bind = -1, scope = -1;
        MPI_Datatype dt = MPI_DATATYPE_NULL;
        MPI_T_enum en = MPI_T_ENUM_NULL;
        int rc = MPI_T_cvar_get_info(i, name, &nlen, &verb, &dt, &en, desc, &dlen, &bind,
                                     &scope);
        if (rc == MPI_T_ERR_INVALID_INDEX || rc == MPI_T_ERR_INVALID)
            continue; /* Open MPI retires the variables of the components it closed */
        if (rc != MPI_SUCCESS) {
            EXPECT(0, "cvar_get_info(%d) returned %d", i, rc);
            return;
        }
        EXPECT_STRING(name, nlen, (int)sizeof name);
        EXPECT_STRING(desc, dlen, (int)sizeof desc);
        described += dlen > 1;
        EXPECT(is_verbosity(verb) && is_bind(bind) && is_scope(scope),
               "cvar %s: verbosity %d bind %d scope %d", name, verb, bind, scope);
        EXPECT(type_size(dt) > 0, "cvar %s: datatype without a size", name);
        /* the length alone, then NULL everywhere: MPI_T returns only what was asked */
        int full = 0;
        EXPECT_OK(MPI_T_cvar_get_info(i, NULL, &full, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
        EXPECT(full == nlen, "cvar %s: length query %d, not %d", name, full, nlen);
        EXPECT_OK(MPI_T_cvar_get_info(i, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
        /* truncation: 3 characters and the NUL; nothing is written past the buffer */
        char small[8];
        memset(small, 'x', sizeof small);
        int slen = 4;
        EXPECT_OK(MPI_T_cvar_get_info(i, small, &slen, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
        if (nlen >= 4)
            EXPECT(slen == 4 && strncmp(small, name, 3) == 0 && small[3] == 0 && small[4] == 'x',
                   "cvar %s: truncated to \"%s\" (%d)", name, small, slen);
        int idx = -1;
        EXPECT_OK(MPI_T_cvar_get_index(name, &idx));
        char again[512];
        int alen = sizeof again;
        if (idx != i)  /* a name may be listed twice; the index found has that name */
            EXPECT_OK(MPI_T_cvar_get_info(idx, again, &alen, NULL, NULL, NULL, NULL, NULL,
                                          NULL, NULL));
        EXPECT(idx == i || strcmp(again, name) == 0, "cvar_get_index(%s) = %d", name, idx);
        if (en != MPI_T_ENUM_NULL) {
            MPI_T_enum en2 = MPI_T_ENUM_NULL;
            EXPECT_OK(MPI_T_cvar_get_info(i, NULL, NULL, NULL, NULL, &en2, NULL, NULL, NULL,
                                          NULL));
            EXPECT(en2 == en, "cvar %s: one enumeration, two handles", name);
            int items = -1;
            char ename[256];
            int elen = sizeof ename;
            EXPECT_OK(MPI_T_enum_get_info(en, &items, ename, &elen));
            EXPECT_STRING(ename, elen, (int)sizeof ename);
            EXPECT(items >= 0, "enum %s: %d items", ename, items);
            for (int k = 0; k < items; k++) {
                char iname[256];
                int ilen = sizeof iname, value = 0;
                EXPECT_OK(MPI_T_enum_get_item(en, k, &value, iname, &ilen));
                EXPECT_STRING(iname, ilen, (int)sizeof iname);
            }
            int value;
            EXPECT_T(MPI_T_enum_get_item(en, items, &value, NULL, NULL), MPI_T_ERR_INVALID_INDEX);
            EXPECT_T(MPI_T_enum_get_item(en, -1, &value, NULL, NULL), MPI_T_ERR_INVALID_INDEX);
        }
    }
    EXPECT(num == 0 || described > 0, "no cvar has a description");
    EXPECT_T(MPI_T_cvar_get_info(num, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             MPI_T_ERR_INVALID_INDEX);
    EXPECT_T(MPI_T_cvar_get_info(-1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             MPI_T_ERR_INVALID_INDEX);
    int idx, n;
    EXPECT_T(MPI_T_cvar_get_index("wasmpi_no_such_variable", &idx), MPI_T_ERR_INVALID_NAME);
    EXPECT_T(MPI_T_enum_get_info(MPI_T_ENUM_NULL, &n, NULL, NULL), MPI_T_ERR_INVALID_HANDLE);
    char name[8];
    int len = -1;
    EXPECT_T(MPI_T_cvar_get_info(0, name, &len, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             num > 0 ? MPI_T_ERR_INVALID : MPI_T_ERR_INVALID_INDEX);
}

/* Read every readable int, unsigned or string control variable; write one back. */
static void cvar_read_write(MPI_Comm comm)
{
    (void)comm;
    int num = 0, read = 0, written = 0;
    EXPECT_OK(MPI_T_cvar_get_num(&num));
    for (int i = 0; i < num; i++) {
        int bind, scope, count = -1;
        MPI_Datatype dt;
        int rc = MPI_T_cvar_get_info(i, NULL, NULL, NULL, &dt, NULL, NULL, NULL, &bind, &scope);
        if (rc == MPI_T_ERR_INVALID_INDEX || rc == MPI_T_ERR_INVALID)
            continue; /* retired (cvars) */
        EXPECT_OK(rc);
        if (bind != MPI_T_BIND_NO_OBJECT)
            continue;
        MPI_T_cvar_handle h = MPI_T_CVAR_HANDLE_NULL;
        EXPECT_OK(MPI_T_cvar_handle_alloc(i, NULL, &h, &count));
        EXPECT(h != MPI_T_CVAR_HANDLE_NULL && count >= 0, "cvar %d: handle, count %d", i, count);
        size_t bytes = (size_t)count * (size_t)type_size(dt);
        unsigned char *buf = malloc(bytes + 16);
        memset(buf, 0xa5, bytes + 16);
        rc = MPI_T_cvar_read(h, buf);
        if (rc == MPI_T_ERR_INVALID_INDEX) { /* retired since the handle was made */
            free(buf);
            EXPECT_OK(MPI_T_cvar_handle_free(&h));
            continue;
        }
        EXPECT_OK(rc);
        for (size_t k = bytes; k < bytes + 16; k++)
            EXPECT(buf[k] == 0xa5, "cvar %d: read past count * size (%zu)", i, bytes);
        if (dt == MPI_CHAR && count > 0)
            EXPECT(memchr(buf, 0, (size_t)count) != NULL, "cvar %d: string without NUL", i);
        read++;
        if (!written && (dt == MPI_INT || dt == MPI_UNSIGNED) && count == 1
                && scope != MPI_T_SCOPE_CONSTANT && scope != MPI_T_SCOPE_READONLY) {
            int rc = MPI_T_cvar_write(h, buf);  /* the value it has */
            EXPECT(rc == MPI_SUCCESS || rc == MPI_T_ERR_CVAR_SET_NOT_NOW
                   || rc == MPI_T_ERR_CVAR_SET_NEVER, "cvar_write returned %d", rc);
            int after = 0;
            EXPECT_OK(MPI_T_cvar_read(h, &after));
            EXPECT(memcmp(&after, buf, 4) == 0, "cvar %d changed by writing its value", i);
            written = 1;
        }
        free(buf);
        EXPECT_OK(MPI_T_cvar_handle_free(&h));
        EXPECT(h == MPI_T_CVAR_HANDLE_NULL, "cvar_handle_free left the handle");
    }
    EXPECT(num == 0 || read > 0, "no control variable could be read");
    int count, x = 0;
    MPI_T_cvar_handle h = MPI_T_CVAR_HANDLE_NULL;
    EXPECT_T(MPI_T_cvar_handle_alloc(num, NULL, &h, &count), MPI_T_ERR_INVALID_INDEX);
    EXPECT_T(MPI_T_cvar_read(MPI_T_CVAR_HANDLE_NULL, &x), MPI_T_ERR_INVALID_HANDLE);
    EXPECT_T(MPI_T_cvar_write(MPI_T_CVAR_HANDLE_NULL, &x), MPI_T_ERR_INVALID_HANDLE);
    EXPECT_T(MPI_T_cvar_handle_free(&h), MPI_T_ERR_INVALID_HANDLE);
}

/* Every category: metadata, its members' indices, the index of its name. */
static void categories(MPI_Comm comm)
{
    (void)comm;
    int num = -1, ncvar = 0, npvar = 0, stamp = -1, stamp2 = -2;
    EXPECT_OK(MPI_T_category_get_num(&num));
    EXPECT_OK(MPI_T_cvar_get_num(&ncvar));
    EXPECT_OK(MPI_T_pvar_get_num(&npvar));
    EXPECT_OK(MPI_T_category_changed(&stamp));
    for (int i = 0; i < num; i++) {
        char name[512], desc[4096];
        int nlen = sizeof name, dlen = sizeof desc, nc = -1, np = -1, ncat = -1;
        int rc = MPI_T_category_get_info(i, name, &nlen, desc, &dlen, &nc, &np, &ncat);
        if (rc == MPI_T_ERR_INVALID_INDEX || rc == MPI_T_ERR_INVALID)
            continue; /* retired (cvars) */
        EXPECT_OK(rc);
        EXPECT_STRING(name, nlen, (int)sizeof name);
        EXPECT_STRING(desc, dlen, (int)sizeof desc);
        EXPECT(nc >= 0 && np >= 0 && ncat >= 0, "category %s: %d %d %d", name, nc, np, ncat);
        int full = 0;
        EXPECT_OK(MPI_T_category_get_info(i, NULL, &full, NULL, NULL, NULL, NULL, NULL));
        EXPECT(full == nlen, "category %s: length query %d", name, full);
        int n = nc > np ? nc : np;
        n = n > ncat ? n : ncat;
        int *idx = malloc(sizeof(int) * (size_t)(n + 1));
        EXPECT_OK(MPI_T_category_get_cvars(i, nc, idx));
        for (int k = 0; k < nc; k++)
            EXPECT(idx[k] >= 0 && idx[k] < ncvar, "category %s: cvar %d", name, idx[k]);
        EXPECT_OK(MPI_T_category_get_pvars(i, np, idx));
        for (int k = 0; k < np; k++)
            EXPECT(idx[k] >= 0 && idx[k] < npvar, "category %s: pvar %d", name, idx[k]);
        EXPECT_OK(MPI_T_category_get_categories(i, ncat, idx));
        for (int k = 0; k < ncat; k++)
            EXPECT(idx[k] >= 0 && idx[k] < num, "category %s: category %d", name, idx[k]);
        free(idx);
        int found = -1;
        EXPECT_OK(MPI_T_category_get_index(name, &found));
        EXPECT(found >= 0 && found < num, "category_get_index(%s) = %d", name, found);
    }
    EXPECT_OK(MPI_T_category_changed(&stamp2));
    EXPECT(stamp == stamp2, "categories changed while only queried (%d, %d)", stamp, stamp2);
    int idx[1], found;
    EXPECT_T(MPI_T_category_get_info(num, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             MPI_T_ERR_INVALID_INDEX);
    EXPECT_T(MPI_T_category_get_cvars(num, 1, idx), MPI_T_ERR_INVALID_INDEX);
    EXPECT_T(MPI_T_category_get_pvars(-1, 1, idx), MPI_T_ERR_INVALID_INDEX);
    EXPECT_T(MPI_T_category_get_categories(num, 1, idx), MPI_T_ERR_INVALID_INDEX);
    EXPECT_T(MPI_T_category_get_index("wasmpi_no_such_category", &found),
             MPI_T_ERR_INVALID_NAME);
}

/* Every performance variable's metadata (a host may list variables that are not available
 * now: Open MPI answers MPI_T_ERR_INVALID for them). */
static void pvars(MPI_Comm comm)
{
    (void)comm;
    int num = -1, available = 0;
    EXPECT_OK(MPI_T_pvar_get_num(&num));
    for (int i = 0; i < num; i++) {
        char name[512], desc[4096];
        int nlen = sizeof name, dlen = sizeof desc, verb, cls, bind, ro, cont, atomic;
        MPI_Datatype dt;
        MPI_T_enum en;
        int rc = MPI_T_pvar_get_info(i, name, &nlen, &verb, &cls, &dt, &en, desc, &dlen, &bind,
                                     &ro, &cont, &atomic);
        if (rc == MPI_T_ERR_INVALID || rc == MPI_T_ERR_INVALID_INDEX)
            continue;
        EXPECT(rc == MPI_SUCCESS, "pvar_get_info(%d) returned %d", i, rc);
        available++;
        EXPECT_STRING(name, nlen, (int)sizeof name);
        EXPECT_STRING(desc, dlen, (int)sizeof desc);
        EXPECT(is_verbosity(verb) && is_class(cls) && is_bind(bind),
               "pvar %s: verbosity %d class %d bind %d", name, verb, cls, bind);
        EXPECT(type_size(dt) > 0, "pvar %s: datatype without a size", name);
        int found = -1;
        EXPECT_OK(MPI_T_pvar_get_index(name, cls, &found));
        EXPECT(found == i, "pvar_get_index(%s) = %d, not %d", name, found, i);
    }
    EXPECT(num == 0 || available > 0, "none of %d pvars is available", num);
    int found;
    EXPECT_T(MPI_T_pvar_get_info(num, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                 NULL, NULL, NULL), MPI_T_ERR_INVALID_INDEX);
    EXPECT_T(MPI_T_pvar_get_index("wasmpi_no_such_pvar", MPI_T_PVAR_CLASS_COUNTER, &found),
             MPI_T_ERR_INVALID_NAME);
}

/* Performance variables in a session: every available one not bound to an object, and those
 * bound to a communicator on the case's communicator. */
static void pvar_session(MPI_Comm comm)
{
    MPI_T_pvar_session s = MPI_T_PVAR_SESSION_NULL, other = MPI_T_PVAR_SESSION_NULL;
    EXPECT_OK(MPI_T_pvar_session_create(&s));
    EXPECT_OK(MPI_T_pvar_session_create(&other));
    EXPECT(s != MPI_T_PVAR_SESSION_NULL && s != other, "two sessions");
    int num = 0, used = 0;
    EXPECT_OK(MPI_T_pvar_get_num(&num));
    unsigned long long x[64];
    for (int i = 0; i < num; i++) {
        int cls, bind, ro, cont, atomic, count = -1;
        MPI_Datatype dt;
        if (MPI_T_pvar_get_info(i, NULL, NULL, NULL, &cls, &dt, NULL, NULL, NULL, &bind, &ro,
                                &cont, &atomic) != MPI_SUCCESS)
            continue;
        if (bind != MPI_T_BIND_NO_OBJECT && bind != MPI_T_BIND_MPI_COMM)
            continue;
        MPI_T_pvar_handle h = MPI_T_PVAR_HANDLE_NULL;
        int rc = MPI_T_pvar_handle_alloc(s, i, &comm, &h, &count);
        if (bind == MPI_T_BIND_MPI_COMM && rc != MPI_SUCCESS)
            continue;  /* a component's variable for a communicator it does not serve */
        EXPECT(rc == MPI_SUCCESS, "pvar_handle_alloc(%d) returned %d", i, rc);
        if (rc != MPI_SUCCESS)
            continue;
        used++;
        size_t bytes = (size_t)count * (size_t)type_size(dt);
        EXPECT(bytes <= sizeof x - 8, "pvar %d: %zu bytes", i, bytes);
        if (bytes > sizeof x - 8)
            continue;
        if (!cont)
            EXPECT_OK(MPI_T_pvar_start(s, h));
        memset(x, 0xa5, sizeof x);
        EXPECT_OK(MPI_T_pvar_read(s, h, x));
        EXPECT(((unsigned char *)x)[bytes] == 0xa5, "pvar %d: read past %zu bytes", i, bytes);
        if (!ro) {
            EXPECT_OK(MPI_T_pvar_reset(s, h));
            EXPECT_OK(MPI_T_pvar_readreset(s, h, x));
        } else {  /* Open MPI says MPI_T_ERR_INVALID where the standard says NO_WRITE */
            rc = MPI_T_pvar_write(s, h, x);
            EXPECT(rc == MPI_T_ERR_PVAR_NO_WRITE || rc == MPI_T_ERR_INVALID,
                   "pvar_write of a read-only variable returned %d", rc);
        }
        if (!cont)
            EXPECT_OK(MPI_T_pvar_stop(s, h));
        /* a handle belongs to its session */
        EXPECT_T(MPI_T_pvar_read(other, h, x), MPI_T_ERR_INVALID_HANDLE);
        if (used % 2)
            EXPECT_OK(MPI_T_pvar_handle_free(s, &h));
        EXPECT(used % 2 == 0 || h == MPI_T_PVAR_HANDLE_NULL, "pvar_handle_free left it");
    }
    /* every handle of the session at once; MPI_T_PVAR_ALL_HANDLES is no variable to read */
    int rc = MPI_T_pvar_start(s, MPI_T_PVAR_ALL_HANDLES);
    EXPECT(rc == MPI_SUCCESS || rc == MPI_T_ERR_PVAR_NO_STARTSTOP, "start all: %d", rc);
    rc = MPI_T_pvar_stop(s, MPI_T_PVAR_ALL_HANDLES);
    EXPECT(rc == MPI_SUCCESS || rc == MPI_T_ERR_PVAR_NO_STARTSTOP, "stop all: %d", rc);
    rc = MPI_T_pvar_reset(s, MPI_T_PVAR_ALL_HANDLES);
    EXPECT(rc == MPI_SUCCESS || rc == MPI_T_ERR_PVAR_NO_WRITE, "reset all: %d", rc);
    EXPECT_T(MPI_T_pvar_read(s, MPI_T_PVAR_ALL_HANDLES, x), MPI_T_ERR_INVALID_HANDLE);
    EXPECT_T(MPI_T_pvar_write(s, MPI_T_PVAR_HANDLE_NULL, x), MPI_T_ERR_INVALID_HANDLE);
    MPI_T_pvar_handle h = MPI_T_PVAR_HANDLE_NULL;
    int count;
    EXPECT_T(MPI_T_pvar_handle_alloc(s, num, NULL, &h, &count), MPI_T_ERR_INVALID_INDEX);
    EXPECT_T(MPI_T_pvar_handle_alloc(MPI_T_PVAR_SESSION_NULL, 0, NULL, &h, &count),
             MPI_T_ERR_INVALID_SESSION);
    /* freeing a session frees the handles left in it */
    EXPECT_OK(MPI_T_pvar_session_free(&s));
    EXPECT(s == MPI_T_PVAR_SESSION_NULL, "pvar_session_free left the session");
    EXPECT_OK(MPI_T_pvar_session_free(&other));
    EXPECT_T(MPI_T_pvar_session_free(&other), MPI_T_ERR_INVALID_SESSION);
    if (!used)
        SKIP_CASE("the host MPI has no performance variable to start here");
}

/* A variable bound to a communicator needs a live one: MPI_COMM_NULL is no object. */
static void pvar_bound(MPI_Comm comm)
{
    (void)comm;
    int num = 0, tried = 0;
    EXPECT_OK(MPI_T_pvar_get_num(&num));
    MPI_T_pvar_session s;
    EXPECT_OK(MPI_T_pvar_session_create(&s));
    for (int i = 0; i < num && !tried; i++) {
        int bind = 0, count;
        if (MPI_T_pvar_get_info(i, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &bind, NULL,
                                NULL, NULL) != MPI_SUCCESS || bind != MPI_T_BIND_MPI_COMM)
            continue;
        MPI_T_pvar_handle h;
        MPI_Comm null = MPI_COMM_NULL;
        EXPECT_T(MPI_T_pvar_handle_alloc(s, i, &null, &h, &count), MPI_T_ERR_INVALID_HANDLE);
        MPI_Comm freed;
        MPI_Comm_dup(MPI_COMM_SELF, &freed);
        MPI_Comm gone = freed;
        MPI_Comm_free(&freed);
        EXPECT_T(MPI_T_pvar_handle_alloc(s, i, &gone, &h, &count), MPI_T_ERR_INVALID_HANDLE);
        tried = 1;
    }
    EXPECT_OK(MPI_T_pvar_session_free(&s));
    if (!tried)
        SKIP_CASE("the host MPI has no performance variable bound to a communicator");
}

int main(int argc, char **argv)
{
    int provided;
    /* the tool interface may start before MPI */
    if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS)
        return 2;
    MPI_Init(&argc, &argv);
    run_case(constants, "constants", MPI_COMM_WORLD, "world");
    run_case(cvars, "cvars", MPI_COMM_WORLD, "world");
    run_case(cvar_read_write, "cvar_read_write", MPI_COMM_WORLD, "world");
    run_case(categories, "categories", MPI_COMM_WORLD, "world");
    run_case(pvars, "pvars", MPI_COMM_WORLD, "world");
    for_each_comm(pvar_session, "pvar_session");
    run_case(pvar_bound, "pvar_bound", MPI_COMM_WORLD, "world");
    /* last: Open MPI retires variables when the interface is finalized and started again */
    run_case(init_nesting, "init_nesting", MPI_COMM_WORLD, "world");
    int rc = finish();
    /* and outlives it */
    int n = -1;
    if (MPI_T_cvar_get_num(&n) != MPI_SUCCESS || n < 0 || MPI_T_finalize() != MPI_SUCCESS)
        return 3;
    return rc;
}
