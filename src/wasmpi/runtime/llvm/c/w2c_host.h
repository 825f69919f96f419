/* The LLVM engine tier's runner: what its parts share (runner.c, w2c_host.c, gen/adapters.c).
 *
 * The module is C from wasm2c, compiled into a shared object the runner dlopens; its imports
 * are functions of this executable (exported with -rdynamic): the MPI adapters generated from
 * the ABI table (gen/adapters.c), the host services, and WASI (wasi.c). The bridge's callbacks
 * keep wasmtime's signature and reach the engine only through the `W` table (bridge.h), which
 * w2c_host.c implements for wasm2c. */
#ifndef WASMPI_W2C_HOST_H
#define WASMPI_W2C_HOST_H

#include "bridge.h"
#include "wasm-rt.h"

#ifndef WASM_RT_CORE_TYPES_DEFINED
#define WASM_RT_CORE_TYPES_DEFINED
typedef uint8_t u8;
typedef int8_t s8;
typedef uint16_t u16;
typedef int16_t s16;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;
typedef int64_t s64;
typedef float f32;
typedef double f64;
#endif

struct w2c_mpi;
struct w2c_wasmpi;

/* A non-NULL caller for the bridge's callbacks: upcalls are allowed while one runs. */
extern wasmtime_caller_t *const W2C_CALLER;

/* A callback returned this trap: report it as a wasm trap (never returns). */
_Noreturn void runner_bridge_trap(wasm_trap_t *t);

/* The module's glue (generated per module by runtime/llvm/build.py), through dlsym. */
typedef struct {
    size_t (*instance_size)(void);
    void (*instantiate)(void *inst, void *wasi);
    wasm_rt_memory_t *(*memory)(void *inst);
    wasm_rt_funcref_table_t *(*table)(void *inst);   /* NULL when not exported */
    void (*start)(void *inst);
    u32 (*malloc_)(void *inst, u32 n);                 /* NULL when not exported */
    void (*free_)(void *inst, u32 p);
    void (*flush)(void *inst);
    wasm_rt_func_type_t (*func_type)(uint32_t nparams, uint32_t nresults, ...);
    /* code addresses of the module's functions and their names (NULL: not a wasm function),
     * for backtraces */
    int nfuncs;
    const void *const *func_addr;
    const char *const *func_name;
    int needs_mpi;
} guest_glue;

/* W for wasm2c: the guest's exports handed to the bridge as wasmtime_func_t/table_t. */
void w2c_host_install(void *inst, const guest_glue *g);
void w2c_host_attach(void);
/* a trap inside an upcall: the frame that catches it (w2c_host.c) */
typedef struct trap_frame {
    sigjmp_buf jb;
    struct trap_frame *up;
} trap_frame;
extern trap_frame *volatile g_trap_frames;
/* the last trap's message and backtrace */
extern char g_trap_msg[1024];
void trap_format(char *out, size_t cap, const char *where);
extern volatile int g_upcall_depth;
/* proc_exit inside an upcall: back to the upcall, which reports it to the bridge */
_Noreturn void w2c_host_exit_in_upcall(int status);
extern const char *g_module_name; /* in backtraces, as wasmtime names frames: app.wasm!main */

#endif
