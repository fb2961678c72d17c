/* sandbox/pty: PTY pair, raw mode and window size (contract in pty.h). */
#include "sandbox/pty.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "util/util.h"

/* The user's terminal as it was before raw mode; one session per process (pty.h). */
static struct {
	bool saved;
	bool atexit_done;
	int fd;
	struct termios tio;
} pty_user;

int
pty_open(struct pty *p, int tty_fd)
{
	struct termios tio;
	struct winsize ws;
	int flags;

	p->master = p->slave = -1;
	if (tcgetattr(tty_fd, &tio) == -1)
		return -1;
	if (ioctl(tty_fd, TIOCGWINSZ, &ws) == -1 || ws.ws_row == 0 || ws.ws_col == 0) {
		ws = (struct winsize){ .ws_row = 24, .ws_col = 80 }; /* a terminal that has no size */
	}
	if (openpty(&p->master, &p->slave, NULL, &tio, &ws) == -1)
		return -1;
	if (fcntl(p->master, F_SETFD, FD_CLOEXEC) == -1 || fcntl(p->slave, F_SETFD, FD_CLOEXEC) == -1 ||
	    (flags = fcntl(p->master, F_GETFL)) == -1 ||
	    fcntl(p->master, F_SETFL, flags | O_NONBLOCK) == -1) {
		pty_close(p);
		return -1;
	}
	return 0;
}

int
pty_copy_winsize(const struct pty *p, int tty_fd)
{
	struct winsize ws;

	if (ioctl(tty_fd, TIOCGWINSZ, &ws) == -1)
		return -1;
	return ioctl(p->master, TIOCSWINSZ, &ws) == -1 ? -1 : 0;
}

static void
pty_restore_at_exit(void)
{
	pty_raw_restore();
}

int
pty_raw_enter(int tty_fd)
{
	struct termios raw;

	if (tcgetattr(tty_fd, &pty_user.tio) == -1)
		return -1;
	raw = pty_user.tio;
	cfmakeraw(&raw);
	if (!pty_user.atexit_done) {
		atexit(pty_restore_at_exit);
		pty_user.atexit_done = true;
	}
	if (tcsetattr(tty_fd, TCSAFLUSH, &raw) == -1)
		return -1;
	pty_user.fd = tty_fd;
	pty_user.saved = true;
	return 0;
}

void
pty_raw_restore(void)
{
	int saved = errno;

	if (pty_user.saved) {
		/* TCSADRAIN: the command's last output reaches the screen before cooked mode. */
		TEMP_FAILURE_RETRY_INT(tcsetattr(pty_user.fd, TCSADRAIN, &pty_user.tio));
		pty_user.saved = false;
	}
	errno = saved;
}

void
pty_close(struct pty *p)
{
	ut_close(&p->master);
	ut_close(&p->slave);
}
