/*
 * sandbox_probe: tries one forbidden (or allowed) thing and prints the result as "ok" or
 * the errno name (EPERM, ENETUNREACH...), so integration tests assert the exact errno
 * (house rule 17). Standalone: no agentcage library. Exit 0 when the attempt was made.
 *
 *   sandbox_probe socket FAMILY TYPE PROTO   socket(2) with numeric arguments
 *   sandbox_probe mount                      mount a tmpfs on /tmp
 *   sandbox_probe unshare-user               unshare(CLONE_NEWUSER)
 *   sandbox_probe clone-user                 clone(CLONE_NEWUSER) via the raw syscall
 *   sandbox_probe ptrace-child               fork a child and PTRACE_ATTACH to it
 *   sandbox_probe connect ADDR PORT          TCP connect to an IPv4 or IPv6 address
 *   sandbox_probe ids                        print "uid euid gid egid"
 *   sandbox_probe kill PID SIG               kill(2)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int
report(int rc)
{
	if (rc == -1)
		printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
	else
		printf("ok\n");
	return 0;
}

static int
num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s == '\0' || *end != '\0') {
		fprintf(stderr, "sandbox_probe: not a number: %s\n", s);
		exit(2);
	}
	return (int)v;
}

static int
probe_ptrace_child(void)
{
	pid_t pid = fork();
	int rc, e, st;

	if (pid == -1)
		return report(-1);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	rc = (int)ptrace(PTRACE_ATTACH, pid, NULL, NULL);
	e = errno;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	errno = e;
	return report(rc);
}

static int
probe_connect(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, fam;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = fam = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return 2;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = fam = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return 2;
		len = sizeof(*s4);
	}
	if ((fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return report(-1);
	return report(connect(fd, (struct sockaddr *)&ss, len));
}

int
main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(what, "socket") == 0 && argc == 5)
		return report(socket(num(argv[2]), num(argv[3]) | SOCK_CLOEXEC, num(argv[4])));
	if (strcmp(what, "mount") == 0)
		return report(mount("none", "/tmp", "tmpfs", 0, NULL));
	if (strcmp(what, "unshare-user") == 0)
		return report(unshare(CLONE_NEWUSER));
	if (strcmp(what, "clone-user") == 0) {
		long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return report(pid == -1 ? -1 : 0);
	}
	if (strcmp(what, "ptrace-child") == 0)
		return probe_ptrace_child();
	if (strcmp(what, "connect") == 0 && argc == 4)
		return probe_connect(argv[2], num(argv[3]));
	if (strcmp(what, "ids") == 0) {
		printf("%u %u %u %u\n", (unsigned)getuid(), (unsigned)geteuid(), (unsigned)getgid(),
		       (unsigned)getegid());
		return 0;
	}
	if (strcmp(what, "kill") == 0 && argc == 4)
		return report(kill(num(argv[2]), num(argv[3])));
	fprintf(stderr, "usage: sandbox_probe socket|mount|unshare-user|clone-user|ptrace-child|"
			"connect|ids|kill ...\n");
	return 2;
}
