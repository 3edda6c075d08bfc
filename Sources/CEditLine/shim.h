// libedit's readline interface (Debian's libedit-dev): line editing and history for the REPL.
// Only the CLI's LineEditor imports this, `internal`ly.
#include <stdio.h>
#include <editline/readline.h>

// Sets libedit's globals from one call (Swift 6 cannot touch C globals concurrency-safely):
// the program's name for ~/.editrc, and no signal handling of libedit's own (Ctrl-C belongs to
// the REPL, which stops a reply with it).
static inline void troupe_editline_setup(const char *name) {
    rl_readline_name = name;
    rl_catch_signals = 0;
}
