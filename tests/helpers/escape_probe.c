/*
 * escape_probe: one escape attempt per invocation, run INSIDE a sandbox by the escape
 * suite (tests/escape, list in tests/escape/README.md). It prints exactly one line:
 * "ok" when the attempt succeeded, the errno name (EPERM, EACCES...) when the call was
 * refused, or a result word documented per attempt below. Exit status 0 when the attempt
 * was made, 2 on a usage error. Standalone (no agentcage library): it is copied into the
 * sandbox's workdir, the one build-tree-independent path the sandbox may execute.
 *
 * Context: the sandboxed command (uid sandbox, Landlock, seccomp). Never touches any
 * address but loopback: every network target is given on the command line by the test.
 *
 *   socket F T P             socket(2), numeric arguments
 *   connect ADDR PORT        TCP connect (IPv4 or IPv6 literal)
 *   dns ADDR                 UDP DNS query to ADDR:53, 2 s for an answer:
 *                            "answer" | errno of sendto/recv | "timeout"
 *   ping ADDR                ICMP echo over an unprivileged ping socket
 *   unix PATH|@NAME          connect to a filesystem or abstract unix socket
 *   proxy ADDR PORT REQ      send REQ (\r \n escapes) to the proxy, print "STATUS WHAT":
 *                            WHAT is the JSON "error" of a refusal, "established" for a
 *                            200 to CONNECT, else the body's first line
 *   sendreq FD REQ           like proxy, on an already connected descriptor FD
 *   fdpass MODE PY SCRIPT    socket hand-over between this (unlisted) binary and PY
 *                            running SCRIPT (see fdpass() below)
 *   sys NAME [ARG]           one syscall the filter or the kernel must refuse (table)
 *   open PATH r|w|trunc|creat|make  open(2) with that intent (creat: O_EXCL, make: not)
 *   truncate PATH            truncate(2) to 0
 *   rename FROM TO | link FROM TO | symlink TARGET LINK | mkfifo PATH | chown PATH UID
 *   chmod PATH MODE          octal mode
 *   x32                      an x32 getpid in a child: "SIGSYS" when the filter kills it
 *   scan-secret              every /proc/PID/{environ,mem} this process can read, searched
 *                            for a PEM private-key header: "none" or "found PID FILE"
 *   ids                      "uid euid gid egid"
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define PROBE_IO_MS	  10000	  /* a proxy answer must come within this */
#define PROBE_DNS_MS	  2000	  /* a resolver answer must come within this */
#define PROBE_RESP_MAX	  65536	  /* bytes of a proxy answer kept */
#define PROBE_REQ_MAX	  8192	  /* bytes of a request after unescaping */
#define PROBE_MAP_CHUNK	  65536	  /* /proc/PID/mem read size */

static int
report(long rc)
{
	if (rc == -1)
		printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
	else
		printf("ok\n");
	return 0;
}

static long
num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s == '\0' || *end != '\0') {
		fprintf(stderr, "escape_probe: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

/* Fills *ss from an IPv4/IPv6 literal and port; 0 or -1 (not a literal). */
static int
sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*len = sizeof(*s4);
	return inet_pton(AF_INET, addr, &s4->sin_addr) == 1 ? 0 : -1;
}

static int
probe_connect(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (sockaddr_of(addr, port, &ss, &len) == -1)
		return 2;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return report(-1);
	return report(connect(fd, (struct sockaddr *)&ss, len));
}

/* A minimal DNS query for "example.com" A. Any answer at all counts as an escape. */
static int
probe_dns(const char *addr)
{
	static const unsigned char q[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
					   7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
					   3, 'c', 'o', 'm', 0, 0, 1, 0, 1 };
	struct sockaddr_storage ss;
	struct pollfd p;
	unsigned char buf[512];
	socklen_t len;
	int fd;

	if (sockaddr_of(addr, 53, &ss, &len) == -1)
		return 2;
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return report(-1);
	/* connect() so that an ICMP port-unreachable comes back as ECONNREFUSED. */
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 || send(fd, q, sizeof(q), 0) == -1)
		return report(-1);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, PROBE_DNS_MS) == 0) {
		printf("timeout\n");
		return 0;
	}
	if (recv(fd, buf, sizeof(buf), 0) == -1)
		return report(-1);
	printf("answer\n");
	return 0;
}

static int
probe_ping(const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned char echo[8] = { 8, 0, 0, 0, 0, 1, 0, 1 }; /* type 8, kernel fixes csum/id */
	int fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return 2;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP)) == -1)
		return report(-1);
	return report(sendto(fd, echo, sizeof(echo), 0, (struct sockaddr *)&sa, sizeof(sa)));
}

static int
probe_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 2;
	memcpy(sa.sun_path, path, strlen(path));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	else
		len++;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return report(-1);
	return report(connect(fd, (struct sockaddr *)&sa, len));
}

/* Turns the two-character escapes \r and \n into bytes; returns the length. */
static size_t
unescape(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in != '\0' && n + 1 < cap; in++) {
		if (in[0] == '\\' && (in[1] == 'r' || in[1] == 'n')) {
			out[n++] = in[1] == 'r' ? '\r' : '\n';
			in++;
		} else {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
	return n;
}

/* Reads until EOF, the deadline, or (for a 200) the end of the head. */
static size_t
read_answer(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, PROBE_IO_MS) <= 0)
			break;
		if ((r = read(fd, buf + n, cap - 1 - n)) <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if (strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "\r\n\r\n") != NULL &&
		    strstr(buf, "Content-Length") == NULL && strstr(buf, "onnection established"))
			break;
	}
	buf[n] = '\0';
	return n;
}

/* Prints "STATUS WHAT" for the answer in buf (see the usage at the top). */
static void
print_answer(const char *buf, size_t n)
{
	const char *body, *err, *sp;
	int status = 0;

	if (n == 0) {
		printf("closed\n");
		return;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		printf("garbage\n");
		return;
	}
	body = strstr(buf, "\r\n\r\n");
	body = body != NULL ? body + 4 : "";
	if ((err = strstr(body, "\"error\":\"")) != NULL) {
		err += 9;
		printf("%d %.*s\n", status, (int)strcspn(err, "\""), err);
	} else if (status == 200 && strstr(buf, "onnection established") != NULL) {
		printf("%d established\n", status);
	} else {
		sp = body;
		printf("%d %.*s\n", status, (int)strcspn(sp, "\r\n"), sp);
	}
}

static int
send_request(int fd, const char *req)
{
	static char buf[PROBE_RESP_MAX];
	char out[PROBE_REQ_MAX];
	size_t n = unescape(req, out, sizeof(out));

	if (write(fd, out, n) != (ssize_t)n)
		return report(-1);
	print_answer(buf, read_answer(fd, buf, sizeof(buf)));
	return 0;
}

static int
proxy_connect(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (sockaddr_of(addr, port, &ss, &len) == -1) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
probe_proxy(const char *addr, int port, const char *req)
{
	int fd = proxy_connect(addr, port);

	if (fd == -1)
		return report(-1);
	return send_request(fd, req);
}

static int
send_fd(int via, int fd)
{
	char c = 'F';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(via, &m, 0) == 1 ? 0 : -1;
}

static int
recv_fd(int via)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(via, &m, MSG_CMSG_CLOEXEC) != 1 || (cm = CMSG_FIRSTHDR(&m)) == NULL ||
	    cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * Socket hand-over between this binary (listed in no policy block) and PY (listed),
 * over a socketpair; PY is our child, so this binary is never PY's caller's ancestor.
 * PY SCRIPT MODE gets the pair's other end as fd 3 and speaks the same protocol.
 *   to-denied      PY connects and passes the socket here, then exits; we send REQ.
 *   tunnel-handoff PY opens an allowed CONNECT tunnel and passes it here, then exits;
 *                  we send REQ through the tunnel (origin-form).
 *   from-kept      we connect, pass the socket to PY, keep our copy; PY sends REQ.
 *   from-closed    we connect, pass the socket to PY, close ours; PY sends REQ.
 * Prints the answer of whoever sent REQ.
 */
static int
fdpass(const char *mode, const char *py, const char *script, const char *req)
{
	int sp[2], fd = -1, st;
	bool theirs = strcmp(mode, "to-denied") == 0 || strcmp(mode, "tunnel-handoff") == 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		return report(-1);
	fflush(stdout);
	if ((pid = fork()) == -1)
		return report(-1);
	if (pid == 0) {
		if (dup2(sp[1], 3) == -1)
			_exit(127);
		execl(py, py, script, mode, req, (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	if (theirs) {
		fd = recv_fd(sp[0]);
		waitpid(pid, &st, 0); /* PY's copy is gone: we are the only holder */
		if (fd == -1)
			return report(-1);
		return send_request(fd, req);
	}
	if ((fd = proxy_connect("127.0.0.1", 3128)) == -1 || send_fd(sp[0], fd) == -1)
		return report(-1);
	if (strcmp(mode, "from-closed") == 0)
		close(fd);
	waitpid(pid, &st, 0); /* PY prints the answer */
	return 0;
}

/* --- syscalls the sandbox must refuse --- */

static long
sys_clone3(void)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} a = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
	long r = syscall(SYS_clone3, &a, sizeof(a));

	if (r == 0)
		_exit(0);
	return r;
}

static long
sys_clone_newuser(void)
{
	long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);

	if (r == 0)
		_exit(0);
	return r;
}

static long
sys_execveat_empty(void)
{
	char *const argv[] = { "true", NULL };
	int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	return syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
}

static long
sys_tiocsti(void)
{
	char c = '#';

	return ioctl(STDIN_FILENO, TIOCSTI, &c);
}

static long
sys_open_by_handle(void)
{
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[8];
	} fh = { .bytes = 8, .type = 1 };

	return syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
}

static long
sys_seccomp_filter(void)
{
	return syscall(SYS_seccomp, 1 /* SET_MODE_FILTER */, 0, NULL);
}

static long
sys_rlimit_core(void)
{
	struct rlimit r = { .rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY };

	return setrlimit(RLIMIT_CORE, &r);
}

static long
sys_setuid0(void)
{
	return setresuid(0, 0, 0);
}

/* Syscalls with an optional numeric argument (pid, flags, personality). */
static long
run_sys(const char *name, long arg)
{
	if (strcmp(name, "mount") == 0)
		return mount("none", "/tmp", "tmpfs", 0, NULL);
	if (strcmp(name, "umount") == 0)
		return umount2("/tmp", MNT_DETACH);
	if (strcmp(name, "fsopen") == 0)
		return syscall(SYS_fsopen, "tmpfs", 0);
	if (strcmp(name, "open_tree") == 0)
		return syscall(SYS_open_tree, AT_FDCWD, "/tmp", 1 /* OPEN_TREE_CLONE */);
	if (strcmp(name, "chroot") == 0)
		return chroot("/tmp");
	if (strcmp(name, "pivot_root") == 0)
		return syscall(SYS_pivot_root, "/tmp", "/tmp");
	if (strcmp(name, "unshare") == 0)
		return unshare((int)arg);
	if (strcmp(name, "clone-newuser") == 0)
		return sys_clone_newuser();
	if (strcmp(name, "clone3") == 0)
		return sys_clone3();
	if (strcmp(name, "setns-net") == 0) {
		int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		return fd == -1 ? -1 : setns(fd, 0);
	}
	if (strcmp(name, "keyctl") == 0)
		return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0);
	if (strcmp(name, "add_key") == 0)
		return syscall(SYS_add_key, "user", "agentcage-esc", "x", 1, KEY_SPEC_USER_KEYRING);
	if (strcmp(name, "io_uring_setup") == 0) {
		unsigned char params[120] = { 0 };
		return syscall(SYS_io_uring_setup, 4, params);
	}
	if (strcmp(name, "bpf") == 0) {
		unsigned char attr[128] = { 0 };
		return syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr));
	}
	if (strcmp(name, "perf_event_open") == 0) {
		unsigned char attr[128] = { 0 };
		return syscall(SYS_perf_event_open, attr, 0, -1, -1, 0);
	}
	if (strcmp(name, "userfaultfd") == 0)
		return syscall(SYS_userfaultfd, 0);
	if (strcmp(name, "memfd_create") == 0)
		return syscall(SYS_memfd_create, "x", 0);
	if (strcmp(name, "execveat-empty") == 0)
		return sys_execveat_empty();
	if (strcmp(name, "personality") == 0)
		return personality((unsigned long)arg) == -1 ? -1 : 0;
	if (strcmp(name, "ptrace-traceme") == 0)
		return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	if (strcmp(name, "ptrace-attach") == 0)
		return ptrace(PTRACE_ATTACH, (pid_t)arg, NULL, NULL);
	if (strcmp(name, "process_vm_readv") == 0) {
		char b[8];
		struct iovec l = { b, sizeof(b) }, r = { (void *)0x400000, sizeof(b) };
		return process_vm_readv((pid_t)arg, &l, 1, &r, 1, 0);
	}
	if (strcmp(name, "pidfd_open") == 0)
		return syscall(SYS_pidfd_open, (pid_t)arg, 0);
	if (strcmp(name, "kill") == 0)
		return kill((pid_t)arg, SIGTERM);
	if (strcmp(name, "seccomp-filter") == 0)
		return sys_seccomp_filter();
	if (strcmp(name, "prctl-seccomp") == 0)
		return prctl(PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, 0, 0, 0);
	if (strcmp(name, "tiocsti") == 0)
		return sys_tiocsti();
	if (strcmp(name, "open_by_handle_at") == 0)
		return sys_open_by_handle();
	if (strcmp(name, "setuid0") == 0)
		return sys_setuid0();
	if (strcmp(name, "rlimit-core") == 0)
		return sys_rlimit_core();
	if (strcmp(name, "syslog") == 0)
		return syscall(SYS_syslog, 3 /* READ_ALL */, NULL, 0);
	if (strcmp(name, "mknod-blk") == 0)
		return mknod("/tmp/esc-blk", S_IFBLK | 0600, makedev(253, 0));
	fprintf(stderr, "escape_probe: unknown syscall attempt %s\n", name);
	exit(2);
}

static int
probe_open(const char *path, const char *how)
{
	int fl = O_RDONLY;

	if (strcmp(how, "w") == 0)
		fl = O_WRONLY;
	else if (strcmp(how, "trunc") == 0)
		fl = O_WRONLY | O_TRUNC;
	else if (strcmp(how, "creat") == 0)
		fl = O_WRONLY | O_CREAT | O_EXCL;
	else if (strcmp(how, "make") == 0)
		fl = O_WRONLY | O_CREAT; /* follows a symbolic link to a new file */
	return report(open(path, fl | O_CLOEXEC, 0644));
}

static int
probe_x32(void)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return report(-1);
	if (pid == 0) {
		syscall(0x40000000L | SYS_getpid);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) == -1)
		return report(-1);
	if (WIFSIGNALED(st))
		printf("%s\n", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "signal");
	else
		printf("exit %d\n", WEXITSTATUS(st));
	return 0;
}

/* The needle is assembled at run time so this program's own text never matches. */
static bool
has_needle(const char *buf, size_t n, const char *needle)
{
	return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static bool
scan_environ(int pid, const char *needle)
{
	char path[64], buf[PROBE_MAP_CHUNK];
	ssize_t n;
	int fd;
	bool hit;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf));
	hit = n > 0 && has_needle(buf, (size_t)n, needle);
	close(fd);
	return hit;
}

static bool
scan_mem(int pid, const char *needle)
{
	static char buf[PROBE_MAP_CHUNK + 64];
	char path[64], line[512];
	FILE *maps;
	int mem;
	bool hit = false;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if ((maps = fopen(path, "re")) == NULL)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	if ((mem = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fclose(maps);
		return false;
	}
	while (!hit && fgets(line, sizeof(line), maps) != NULL) {
		uintmax_t lo, hi;
		char perm[5];

		if (sscanf(line, "%jx-%jx %4s", &lo, &hi, perm) != 3 || perm[0] != 'r')
			continue;
		for (uintmax_t off = lo; off < hi && !hit; off += PROBE_MAP_CHUNK) {
			size_t want = hi - off < PROBE_MAP_CHUNK ? (size_t)(hi - off) : PROBE_MAP_CHUNK;
			ssize_t n = pread(mem, buf, want, (off_t)off);
			if (n <= 0)
				break;
			hit = has_needle(buf, (size_t)n, needle);
		}
	}
	close(mem);
	fclose(maps);
	return hit;
}

static int
scan_secret(void)
{
	char needle[32];
	struct dirent *de;
	DIR *d = opendir("/proc");
	int self = getpid(), nscanned = 0;

	snprintf(needle, sizeof(needle), "%s %s", "PRIVATE", "KEY-----");
	if (d == NULL)
		return report(-1);
	while ((de = readdir(d)) != NULL) {
		int pid = (int)strtol(de->d_name, NULL, 10);

		if (pid <= 0 || pid == self)
			continue;
		nscanned++;
		if (scan_environ(pid, needle)) {
			printf("found %d environ\n", pid);
			return 0;
		}
		if (scan_mem(pid, needle)) {
			printf("found %d mem\n", pid);
			return 0;
		}
	}
	closedir(d);
	printf("none\n");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *w = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(w, "socket") == 0 && argc == 5)
		return report(socket((int)num(argv[2]), (int)num(argv[3]) | SOCK_CLOEXEC,
				     (int)num(argv[4])));
	if (strcmp(w, "connect") == 0 && argc == 4)
		return probe_connect(argv[2], (int)num(argv[3]));
	if (strcmp(w, "dns") == 0 && argc == 3)
		return probe_dns(argv[2]);
	if (strcmp(w, "ping") == 0 && argc == 3)
		return probe_ping(argv[2]);
	if (strcmp(w, "unix") == 0 && argc == 3)
		return probe_unix(argv[2]);
	if (strcmp(w, "proxy") == 0 && argc == 5)
		return probe_proxy(argv[2], (int)num(argv[3]), argv[4]);
	if (strcmp(w, "sendreq") == 0 && argc == 4)
		return send_request((int)num(argv[2]), argv[3]);
	if (strcmp(w, "fdpass") == 0 && argc == 6)
		return fdpass(argv[2], argv[3], argv[4], argv[5]);
	if (strcmp(w, "sys") == 0 && (argc == 3 || argc == 4))
		return report(run_sys(argv[2], argc == 4 ? num(argv[3]) : 0));
	if (strcmp(w, "open") == 0 && argc == 4)
		return probe_open(argv[2], argv[3]);
	if (strcmp(w, "truncate") == 0 && argc == 3)
		return report(truncate(argv[2], 0));
	if (strcmp(w, "rename") == 0 && argc == 4)
		return report(rename(argv[2], argv[3]));
	if (strcmp(w, "link") == 0 && argc == 4)
		return report(link(argv[2], argv[3]));
	if (strcmp(w, "symlink") == 0 && argc == 4)
		return report(symlink(argv[2], argv[3]));
	if (strcmp(w, "mkfifo") == 0 && argc == 3)
		return report(mkfifo(argv[2], 0666));
	if (strcmp(w, "chown") == 0 && argc == 4)
		return report(chown(argv[2], (uid_t)num(argv[3]), (gid_t)-1));
	if (strcmp(w, "chmod") == 0 && argc == 4)
		return report(chmod(argv[2], (mode_t)strtol(argv[3], NULL, 8)));
	if (strcmp(w, "x32") == 0)
		return probe_x32();
	if (strcmp(w, "scan-secret") == 0)
		return scan_secret();
	if (strcmp(w, "ids") == 0) {
		printf("%u %u %u %u\n", (unsigned)getuid(), (unsigned)geteuid(), (unsigned)getgid(),
		       (unsigned)getegid());
		return 0;
	}
	fprintf(stderr, "usage: escape_probe socket|connect|dns|ping|unix|proxy|sendreq|fdpass|"
			"sys|open|truncate|rename|link|symlink|mkfifo|chown|chmod|x32|scan-secret|"
			"ids ...\n");
	return 2;
}
