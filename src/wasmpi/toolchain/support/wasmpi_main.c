/* wasmpi guest support archive: how `main` is found, as a native linker finds it.
 *
 * wasi-libc's __main_void (called by _start) calls the program's main(argc, argv), which clang
 * names __main_argc_argv, through a *weak* reference in zig's wasi-libc: a program without
 * main links and traps when it starts, and a main in a static archive (-lmain) is never pulled
 * in. The support object references __main_argc_argv strongly, so the linker looks for it
 * everywhere, archives included. When the program's main takes no arguments, this member is
 * what resolves that reference; it is never called (clang then defines __main_void too), but
 * its strong reference to main makes the link fail, as ld does, when there is no main at all.
 *
 * The reference names the symbol `main` with the (argc, argv) signature: for main(void) clang
 * defines `main` as such a wrapper, while a C declaration of main would be renamed. */

extern int wasmpi_program_main(int argc, char **argv) __asm__("main");

__attribute__((__weak__)) int __main_argc_argv(int argc, char **argv)
{
    return wasmpi_program_main(argc, argv);
}
