/*
 * sandbox/pty: the pseudo-terminal of an interactive run. The supervisor owns the master
 * and the user's terminal; the command gets the slave as its controlling terminal.
 *
 * Context: supervisor. Errors: 0 / -1 with errno.
 * Raw mode: pty_raw_enter() puts the user's terminal in raw mode so every key (Ctrl-C,
 * Ctrl-Z, ...) reaches the slave's line discipline, which turns it into a signal for the
 * command's foreground process group. The saved settings are restored by
 * pty_raw_restore(), which is also registered with atexit() so fatal() paths restore too.
 * Only one PTY session per process.
 */
#ifndef AGENTCAGE_SANDBOX_PTY_H
#define AGENTCAGE_SANDBOX_PTY_H

#include <stdbool.h>

struct pty {
	int master; /* -1 when closed; O_CLOEXEC, non-blocking */
	int slave;  /* -1 when closed; O_CLOEXEC (the child dup2()s it onto 0, 1, 2) */
};

/*
 * Opens a PTY whose slave starts with the settings and window size of the terminal on
 * <tty_fd> (the user's stdin). -1 and errno on error; <p> is then {-1, -1}.
 */
int pty_open(struct pty *p, int tty_fd);

/* Copies the window size of <tty_fd> to the master (the kernel then sends SIGWINCH to the
 * command's foreground group). -1 and errno on error. */
int pty_copy_winsize(const struct pty *p, int tty_fd);

/* Raw mode on <tty_fd>; remembers the previous settings. -1 and errno on error. */
int pty_raw_enter(int tty_fd);

/* Restores what pty_raw_enter() changed; harmless when nothing was changed. Keeps errno. */
void pty_raw_restore(void);

/* Closes both ends that are still open. */
void pty_close(struct pty *p);

#endif
