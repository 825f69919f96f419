/* wasmpi guest support archive: how `main` is found, as a native linker finds it.
 *
 * wasi-libc's __main_void (called by _start) calls the program's main(argc, argv), which clang
 * names __main_argc_argv, through a *weak* reference: a program without main links and traps
 * when it starts, and a main in a static archive (-lmain) is never pulled in. The support
 * object references __main_argc_argv strongly, so the linker looks for it everywhere, archives
 * included. If the program's main takes no arguments (clang defines __main_void, main and
 * __original_main for it), this member is what resolves that reference: it is never called,
 * but its own strong reference to main makes the link fail when there is no main at all. */

int main(void); /* clang names this reference __original_main */

__attribute__((__weak__)) int __main_argc_argv(int argc, char **argv)
{
    (void)argc; (void)argv;
    return main();
}
