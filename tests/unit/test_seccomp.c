/*
 * sandbox/seccomp: each check forks a child, loads the filter, tries one forbidden (or
 * needed) thing and exits with the errno it got; the parent asserts the exact errno and
 * that it is itself still unfiltered. Real programs (sh, git, python3, curl, node) run
 * under the filter too.
 */
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <linux/filter.h>

#include "sandbox/seccomp.h"
#include "t.h"
#include "util/util.h"

#define CHILD_CRASHED 255

static struct sc_filter filt;

/* Runs <attempt> in a filtered child; returns 0 if it succeeded, the errno it failed
 * with, or CHILD_CRASHED (or 1000 + signal when killed). */
static int
filtered_errno(long (*attempt)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == -1)
		return CHILD_CRASHED;
	if (pid == 0) {
		if (seccomp_apply(&filt) == -1)
			_exit(CHILD_CRASHED);
		errno = 0;
		long r = attempt();
		_exit(r == -1 ? (errno & 0xff) : 0);
	}
	if (waitpid(pid, &status, 0) == -1)
		return CHILD_CRASHED;
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* --- attempts; each returns the syscall's result (-1 with errno on failure) --- */
static long a_packet(void) { return socket(AF_PACKET, SOCK_RAW, 0); }
static long a_packet_high(void) { return syscall(SYS_socket, (1UL << 32) | AF_PACKET, SOCK_RAW, 0); }
static long a_vsock(void) { return socket(AF_VSOCK, SOCK_STREAM, 0); }
static long a_bluetooth(void) { return socket(AF_BLUETOOTH, SOCK_RAW, 0); }
static long a_alg(void) { return socket(AF_ALG, SOCK_SEQPACKET, 0); }
static long a_key(void) { return socket(AF_KEY, SOCK_RAW, 2); }
static long a_nl_audit(void) { return socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT); }
static long a_nl_diag(void) { return socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG); }
static long a_nl_route(void) { return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE); }
static long a_inet(void) { return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); }
static long a_inet6(void) { return socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0); }
static long a_unix(void) { return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); }
static long a_mount(void) { return mount("none", "/mnt", "tmpfs", 0, NULL); }
static long a_umount(void) { return umount2("/proc", MNT_DETACH); }
static long a_fsopen(void) { return syscall(430 /* fsopen */, "tmpfs", 0); }
static long a_userns(void) { return unshare(CLONE_NEWUSER); }
static long a_mntns(void) { return unshare(CLONE_NEWNS); }
static long a_netns(void) { return unshare(CLONE_NEWNET); }
static long a_clone_userns(void) { return syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0); }
static long a_setns(void) { return setns(-1, 0); }
static long a_ptrace(void) { return ptrace(PTRACE_TRACEME, 0, 0, 0); }
static long a_pvm(void) { return syscall(SYS_process_vm_writev, getppid(), NULL, 0, NULL, 0, 0); }
static long a_bpf(void) { return syscall(SYS_bpf, 0, NULL, 0); }
static long a_perf(void)
{
	struct perf_event_attr pe = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(pe),
				      .config = PERF_COUNT_SW_CPU_CLOCK };
	return syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
}
static long a_uffd(void) { return syscall(SYS_userfaultfd, O_CLOEXEC); }
static long a_iouring(void)
{
	struct io_uring_params p = { 0 };
	return syscall(425 /* io_uring_setup */, 4, &p);
}
static long a_keyctl(void) { return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0); }
static long a_add_key(void) { return syscall(SYS_add_key, "user", "x", "y", 1, -3); }
static long a_memfd(void) { return memfd_create("x", MFD_CLOEXEC); }
static long a_kexec(void) { return syscall(SYS_kexec_load, 0, 0, NULL, 0); }
static long a_init_module(void) { return syscall(SYS_init_module, NULL, 0, ""); }
static long a_pidfd_getfd(void) { return syscall(438, 0, 0, 0); }
static long a_clone3(void) { return syscall(435 /* clone3 */, NULL, 0); }
static long
a_execveat_empty(void)
{
	char *const argv[] = { "true", NULL };
	int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
	return syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
}
static long
a_second_filter(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog p = { .len = 1, .filter = &allow };
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p);
}
static long
a_prctl_filter(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog p = { .len = 1, .filter = &allow };
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p, 0, 0);
}
static long a_personality_aslr(void) { return personality(ADDR_NO_RANDOMIZE); }
static long a_personality_linux(void) { return personality(PER_LINUX); }
static long
a_tiocsti(void)
{
	char c = 'x';
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return ioctl(fd, TIOCSTI, &c);
}
static long
a_fork(void)
{
	int st;
	pid_t p = fork(); /* glibc tries clone3 (ENOSYS), then clone */
	if (p == 0)
		_exit(7);
	if (p == -1 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
		errno = EIO;
		return -1;
	}
	return 0;
}
static void *
thr(void *arg)
{
	return arg;
}
static long
a_thread(void)
{
	pthread_t t;
	void *ret = NULL;
	int rc = pthread_create(&t, NULL, thr, (void *)0x1);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	pthread_join(t, &ret);
	return ret == (void *)0x1 ? 0 : -1;
}
static long a_x32(void) { return syscall(0x40000000 | 39 /* x32 getpid */); }

struct deny_case {
	long (*fn)(void);
	int want;
	const char *what;
};

static void
test_denied(void)
{
	static const struct deny_case cases[] = {
		{ a_packet, EPERM, "socket(AF_PACKET) -> EPERM" },
		{ a_packet_high, EPERM, "socket(AF_PACKET | 1<<32) -> EPERM (32-bit compare)" },
		{ a_vsock, EPERM, "socket(AF_VSOCK) -> EPERM" },
		{ a_bluetooth, EPERM, "socket(AF_BLUETOOTH) -> EPERM" },
		{ a_alg, EPERM, "socket(AF_ALG) -> EPERM" },
		{ a_key, EPERM, "socket(AF_KEY) -> EPERM" },
		{ a_nl_audit, EPERM, "socket(AF_NETLINK, NETLINK_AUDIT) -> EPERM" },
		{ a_nl_diag, EPERM, "socket(AF_NETLINK, NETLINK_SOCK_DIAG) -> EPERM" },
		{ a_nl_route, 0, "socket(AF_NETLINK, NETLINK_ROUTE) allowed" },
		{ a_inet, 0, "socket(AF_INET) allowed" },
		{ a_inet6, 0, "socket(AF_INET6) allowed" },
		{ a_unix, 0, "socket(AF_UNIX) allowed" },
		{ a_mount, EPERM, "mount -> EPERM" },
		{ a_umount, EPERM, "umount2 -> EPERM" },
		{ a_fsopen, EPERM, "fsopen -> EPERM" },
		{ a_userns, EPERM, "unshare(CLONE_NEWUSER) -> EPERM" },
		{ a_mntns, EPERM, "unshare(CLONE_NEWNS) -> EPERM" },
		{ a_netns, EPERM, "unshare(CLONE_NEWNET) -> EPERM" },
		{ a_clone_userns, EPERM, "clone(CLONE_NEWUSER) -> EPERM" },
		{ a_setns, EPERM, "setns -> EPERM" },
		{ a_clone3, ENOSYS, "clone3 -> ENOSYS (glibc falls back to clone)" },
		{ a_ptrace, EPERM, "ptrace(TRACEME) -> EPERM" },
		{ a_pvm, EPERM, "process_vm_writev -> EPERM" },
		{ a_bpf, EPERM, "bpf -> EPERM" },
		{ a_perf, EPERM, "perf_event_open -> EPERM" },
		{ a_uffd, EPERM, "userfaultfd -> EPERM" },
		{ a_iouring, EPERM, "io_uring_setup -> EPERM" },
		{ a_keyctl, EPERM, "keyctl -> EPERM" },
		{ a_add_key, EPERM, "add_key -> EPERM" },
		{ a_memfd, EPERM, "memfd_create -> EPERM" },
		{ a_kexec, EPERM, "kexec_load -> EPERM" },
		{ a_init_module, EPERM, "init_module -> EPERM" },
		{ a_pidfd_getfd, EPERM, "pidfd_getfd -> EPERM" },
		{ a_execveat_empty, EPERM, "execveat(AT_EMPTY_PATH) -> EPERM" },
		{ a_second_filter, EPERM, "a further seccomp(SET_MODE_FILTER) -> EPERM" },
		{ a_prctl_filter, EPERM, "prctl(PR_SET_SECCOMP) -> EPERM" },
		{ a_personality_aslr, EPERM, "personality(ADDR_NO_RANDOMIZE) -> EPERM" },
		{ a_personality_linux, 0, "personality(PER_LINUX) allowed" },
		{ a_tiocsti, EPERM, "ioctl(TIOCSTI) -> EPERM" },
		{ a_fork, 0, "fork works under the filter" },
		{ a_thread, 0, "pthread_create works under the filter (clone3 fallback)" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		int got = filtered_errno(cases[i].fn);
		if (!T_OK(got == cases[i].want, "%s", cases[i].what))
			printf("#   got %d (%s), want %d\n", got, got < 256 ? strerrorname_np(got) : "signal",
			       cases[i].want);
	}
#if defined(__x86_64__)
	T_OK(filtered_errno(a_x32) == 1000 + SIGSYS, "x32 syscall kills the process (SIGSYS)");
#else
	t_skip("x32 check is x86_64-only");
#endif
}

/* The parent never loaded a filter: memfd_create and AF_PACKET still work here. */
static void
test_parent_free(void)
{
	int fd = memfd_create("x", MFD_CLOEXEC);
	T_OK(fd >= 0, "parent: memfd_create still works (filter stayed in the children)");
	if (fd >= 0)
		close(fd);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	T_OK(fd >= 0 || errno == EPROTONOSUPPORT, "parent: netlink audit socket still allowed");
	if (fd >= 0)
		close(fd);
}

/* Runs <argv> under the filter with stdout to a pipe; true when it exits 0 and its output
 * contains <want>. */
static bool
run_filtered(char *const argv[], const char *want)
{
	char out[4096];
	size_t len = 0;
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return false;
	pid = fork();
	if (pid == -1)
		return false;
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		if (seccomp_apply(&filt) == -1)
			_exit(CHILD_CRASHED);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while (len < sizeof(out) - 1 && (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) == -1)
		return false;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strstr(out, want) == NULL) {
		printf("#   %s: status %#x, output: %.300s\n", argv[0], status, out);
		return false;
	}
	return true;
}

static bool
have(const char *prog)
{
	char path[512];
	const char *dirs[] = { "/usr/bin", "/bin", "/usr/local/bin" };

	for (size_t i = 0; i < NELEM(dirs); i++) {
		if (ut_snprintf(path, sizeof(path), "%s/%s", dirs[i], prog) != -1 &&
		    access(path, X_OK) == 0)
			return true;
	}
	return false;
}

static void
test_programs(void)
{
	char *sh[] = { "/bin/sh", "-c", "echo sh-ok; ls / >/dev/null && echo ls-ok", NULL };
	char *git[] = { "git", "--version", NULL };
	char *py[] = { "python3", "-c",
		       "import subprocess, threading, asyncio, socket\n"
		       "subprocess.run(['true'], check=True)\n"
		       "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
		       "async def m():\n"
		       "  p = await asyncio.create_subprocess_exec('true'); await p.wait()\n"
		       "asyncio.run(m())\n"
		       "socket.if_nameindex()\n"
		       "print('py-ok')",
		       NULL };
	char *curl[] = { "curl", "--version", NULL };
	char *node[] = { "node", "-e",
			 "require('child_process').execSync('true');"
			 "new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0]));"
			 "require('os').networkInterfaces();"
			 "console.log('node-ok')",
			 NULL };

	T_OK(run_filtered(sh, "ls-ok"), "/bin/sh -c runs under the filter");
	if (have("git"))
		T_OK(run_filtered(git, "git version"), "git --version runs under the filter");
	else
		t_skip("git not installed");
	if (have("python3") || access("/root/.pyenv/shims/python3", X_OK) == 0)
		T_OK(run_filtered(py, "py-ok"),
		     "python3 (subprocess, threads, asyncio, if_nameindex) runs under the filter");
	else
		t_skip("python3 not installed");
	if (have("curl"))
		T_OK(run_filtered(curl, "curl"), "curl --version runs under the filter");
	else
		t_skip("curl not installed");
	if (have("node"))
		T_OK(run_filtered(node, "node-ok"),
		     "node (child_process, wasm, networkInterfaces) runs under the filter");
	else
		t_skip("node not installed");
}

int
main(void)
{
	char err[256];

	T_OK(seccomp_apply(&filt) == -1 && errno == EINVAL, "apply refuses an unprepared filter");
	if (!T_OK(seccomp_prepare(&filt, err, sizeof(err)) == 0, "seccomp_prepare: %s", err))
		return t_done();
	T_OK(filt.main_len > 10 && filt.clone3_len > 0, "both programs exported (%u + %u insns)",
	     filt.main_len, filt.clone3_len);
	test_denied();
	test_parent_free();
	test_programs();
	seccomp_filter_release(&filt);
	T_OK(filt.main_prog == NULL && filt.clone3_prog == NULL, "release empties the filter");
	return t_done();
}
