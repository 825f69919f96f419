/* WASI preview1 for the LLVM engine tier: the host side of the guest's
 * `wasi_snapshot_preview1` imports (wasm2c -n guest), with the same grants and confinement
 * as the wasmtime tier's `--dir HOST::GUEST[:ro]` and `--env`. See docs/engines.md. */
#ifndef WASMPI_LLVM_WASI_H
#define WASMPI_LLVM_WASI_H

#include <stddef.h>

#include "wasm-rt.h"

typedef struct { const char *host; const char *guest; int readonly; } wasi_grant;
typedef struct {
    int argc; const char *const *argv;      /* argv[0]: the program name the guest sees */
    int envc; const char *const *envp;      /* "K=V" strings: the whole guest environment */
    int ngrants; const wasi_grant *grants;  /* preopened as fds 3, 4, ... in this order */
    int no_openat2;                         /* 1: resolve paths by the component walk */
} wasi_config;
struct w2c_wasi__snapshot__preview1;        /* defined in wasi.c: what the module imports */
/* NULL with a one-line message in err if a grant cannot be opened */
struct w2c_wasi__snapshot__preview1 *wasi_new(const wasi_config *cfg, char *err, size_t errlen);
void wasi_set_memory(struct w2c_wasi__snapshot__preview1 *w, wasm_rt_memory_t *memory);
/* proc_exit calls this; the runner defines it (finish or abort the rank); never returns */
_Noreturn void wasmpi_runner_exit(int status);

#endif
