/*
 * sandbox/seccomp: compiles the deny-list with libseccomp in the supervisor, exports it
 * as classic BPF and loads it in the pre-exec child with the bare syscall. See seccomp.h
 * for the contract and docs/seccomp.md for every entry and why it is there.
 */
#include "sandbox/seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/seccomp_prog.h"
#include "util/util.h"

#define SC_MAX_INSNS_EMBED 4096 /* BPF_MAXINSNS */
#define SC_MAX_PROG_BYTES (64 * 1024) /* BPF_MAXINSNS (4096) * 8 bytes, with room */
#define SC_LOW32          0xffffffffULL /* int arguments: the kernel reads the low half */

/* Syscalls that are denied outright. <nr> is the number to use when this libseccomp does
 * not know the name (syscalls from 424 on share one number on every architecture). */
struct sc_plain {
	const char *name;
	int nr;
};

static const struct sc_plain sc_denied[] = {
	/* mounts: the sandbox's view of the filesystem is fixed before exec */
	{ "mount", -1 }, { "umount2", -1 }, { "pivot_root", -1 }, { "chroot", -1 },
	{ "fsopen", 430 }, { "fsconfig", 431 }, { "fsmount", 432 }, { "fspick", 433 },
	{ "move_mount", 429 }, { "open_tree", 428 }, { "mount_setattr", 442 },
	{ "open_tree_attr", 467 },
	/* namespaces and other processes' memory */
	{ "setns", -1 }, { "ptrace", -1 }, { "process_vm_readv", -1 },
	{ "process_vm_writev", -1 }, { "process_madvise", 440 }, { "kcmp", -1 },
	{ "pidfd_open", 434 }, { "pidfd_getfd", 438 }, { "pidfd_send_signal", 424 },
	/* large kernel attack surface unprivileged code never needs */
	{ "bpf", -1 }, { "perf_event_open", -1 }, { "userfaultfd", -1 },
	{ "io_uring_setup", 425 }, { "io_uring_enter", 426 }, { "io_uring_register", 427 },
	{ "keyctl", -1 }, { "add_key", -1 }, { "request_key", -1 },
	/* fileless execution (spec/process.md §3.2) */
	{ "memfd_create", -1 },
	/* the kernel and the machine: capability-gated already, denied again */
	{ "kexec_load", -1 }, { "kexec_file_load", -1 }, { "init_module", -1 },
	{ "finit_module", -1 }, { "delete_module", -1 }, { "acct", -1 }, { "swapon", -1 },
	{ "swapoff", -1 }, { "reboot", -1 }, { "settimeofday", -1 }, { "clock_settime", -1 },
	{ "open_by_handle_at", -1 }, { "iopl", -1 }, { "ioperm", -1 }, { "syslog", -1 },
	{ "uselib", -1 }, { "vhangup", -1 }, { "quotactl", -1 },
};

/* socket(2) families the sandbox may use; every other one is EPERM. */
static const int sc_allowed_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
#define SC_FAMILY_LIMIT 64 /* families below this are denied one by one; >= it in one rule */

/* Namespace flags of clone(2)/unshare(2). CLONE_NEWTIME (0x80) is CSIGNAL for clone(). */
static const unsigned long long sc_clone_ns[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* personality(2) bits that weaken the address space (ASLR off, executable data, page 0). */
static const unsigned long long sc_personality_bits[] = {
	ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO,
};

static int
sc_fail(char *err, size_t errlen, const char *what, int rc)
{
	ut_snprintf(err, errlen, "seccomp: %s failed: %s", what, strerror(-rc));
	errno = -rc;
	return -1;
}

/* The number of <name>, or <fallback> when this libseccomp predates it; -1 if unknown. */
static int
sc_resolve(const char *name, int fallback)
{
	int nr = seccomp_syscall_resolve_name(name);

	return nr == __NR_SCMP_ERROR ? fallback : nr;
}

static int
sc_add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned int n,
       const struct scmp_arg_cmp *cmp)
{
	return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

/* A rule matching when (arg<arg> & <mask>) == <val>. */
static int
sc_add_masked(scmp_filter_ctx ctx, int nr, unsigned int arg, uint64_t mask, uint64_t val)
{
	const struct scmp_arg_cmp c = { arg, SCMP_CMP_MASKED_EQ, mask, val };

	return sc_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &c);
}

static bool
sc_family_allowed(int fam)
{
	for (size_t i = 0; i < NELEM(sc_allowed_families); i++)
		if (sc_allowed_families[i] == fam)
			return true;
	return false;
}

/*
 * socket(2): an allow-list of families, compared on the low 32 bits (the kernel truncates
 * the int; a 64-bit compare could be dodged with high bits set). Netlink: only
 * NETLINK_ROUTE (protocol 0, getifaddrs). Netlink protocols are < 32 (MAX_LINKS), so
 * "protocol != 0" is "one of its low five bits is set": one rule per bit.
 */
static int
sc_add_socket(scmp_filter_ctx ctx)
{
	const int nr = SCMP_SYS(socket);
	const struct scmp_arg_cmp high = { 0, SCMP_CMP_GE, SC_FAMILY_LIMIT, 0 };
	int rc;

	for (int fam = 0; fam < SC_FAMILY_LIMIT; fam++)
		if (!sc_family_allowed(fam) &&
		    (rc = sc_add_masked(ctx, nr, 0, SC_LOW32, (uint64_t)fam)) < 0)
			return rc;
	if ((rc = sc_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &high)) < 0)
		return rc;
	for (unsigned int bit = 0; bit < 5; bit++) {
		const struct scmp_arg_cmp c[2] = {
			{ 0, SCMP_CMP_MASKED_EQ, SC_LOW32, AF_NETLINK },
			{ 2, SCMP_CMP_MASKED_EQ, 1ULL << bit, 1ULL << bit },
		};
		if ((rc = sc_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 2, c)) < 0)
			return rc;
	}
	return 0;
}

/* clone/unshare with any namespace flag, execveat(AT_EMPTY_PATH), new seccomp filters,
 * dangerous personality bits, terminal input injection. */
static int
sc_add_conditional(scmp_filter_ctx ctx)
{
	int rc;

	for (size_t i = 0; i < NELEM(sc_clone_ns); i++) {
		if ((rc = sc_add_masked(ctx, SCMP_SYS(clone), 0, sc_clone_ns[i], sc_clone_ns[i])) < 0 ||
		    (rc = sc_add_masked(ctx, SCMP_SYS(unshare), 0, sc_clone_ns[i], sc_clone_ns[i])) < 0)
			return rc;
	}
	if ((rc = sc_add_masked(ctx, SCMP_SYS(unshare), 0, CLONE_NEWTIME, CLONE_NEWTIME)) < 0 ||
	    (rc = sc_add_masked(ctx, SCMP_SYS(execveat), 4, AT_EMPTY_PATH, AT_EMPTY_PATH)) < 0 ||
	    (rc = sc_add_masked(ctx, SCMP_SYS(seccomp), 0, SC_LOW32, SECCOMP_SET_MODE_FILTER)) < 0 ||
	    (rc = sc_add_masked(ctx, SCMP_SYS(prctl), 0, SC_LOW32, PR_SET_SECCOMP)) < 0 ||
	    /* CVE-2017-5226: TIOCSTI pushes input into a terminal shared with the host */
	    (rc = sc_add_masked(ctx, SCMP_SYS(ioctl), 1, SC_LOW32, TIOCSTI)) < 0 ||
	    (rc = sc_add_masked(ctx, SCMP_SYS(ioctl), 1, SC_LOW32, TIOCLINUX)) < 0)
		return rc;
	for (size_t i = 0; i < NELEM(sc_personality_bits); i++)
		if ((rc = sc_add_masked(ctx, SCMP_SYS(personality), 0, sc_personality_bits[i],
					sc_personality_bits[i])) < 0)
			return rc;
	return 0;
}

static int
sc_add_denied(scmp_filter_ctx ctx)
{
	int rc;

	for (size_t i = 0; i < NELEM(sc_denied); i++) {
		int nr = sc_resolve(sc_denied[i].name, sc_denied[i].nr);
		if (nr < 0) /* not on this architecture (e.g. iopl on arm64) */
			continue;
		if ((rc = sc_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0, NULL)) < 0)
			return rc;
	}
	return 0;
}

/* Default allow; a foreign architecture (i386 via int 0x80, x32 on x86_64) kills. */
static scmp_filter_ctx
sc_new_ctx(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (ctx == NULL)
		return NULL;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0) {
		seccomp_release(ctx);
		return NULL;
	}
	/* A sorted binary tree: fewer comparisons for the syscalls the kernel cannot cache. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	return ctx;
}

/* Exports <ctx> as BPF into a malloc'd program. Returns 0 or a negative errno. */
static int
sc_export(scmp_filter_ctx ctx, struct sock_filter **prog, unsigned short *len)
{
	struct stat st;
	ssize_t n;
	int rc, fd = memfd_create("agentcage-seccomp", MFD_CLOEXEC);

	if (fd == -1)
		return -errno;
	if ((rc = seccomp_export_bpf(ctx, fd)) < 0)
		goto out_close;
	if (fstat(fd, &st) == -1 || st.st_size <= 0 || st.st_size > SC_MAX_PROG_BYTES ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0) {
		rc = -EINVAL;
		goto out_close;
	}
	*prog = ut_xmalloc((size_t)st.st_size);
	n = pread(fd, *prog, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		free(*prog);
		*prog = NULL;
		rc = n == -1 ? -errno : -EIO;
		goto out_close;
	}
	*len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	rc = 0;
out_close:
	close(fd);
	return rc;
}

static int
sc_build_main(struct sc_filter *f, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = sc_new_ctx();
	int rc;

	if (ctx == NULL)
		return sc_fail(err, errlen, "seccomp_init", -ENOMEM);
	if ((rc = sc_add_denied(ctx)) < 0 || (rc = sc_add_socket(ctx)) < 0 ||
	    (rc = sc_add_conditional(ctx)) < 0) {
		seccomp_release(ctx);
		return sc_fail(err, errlen, "adding a rule to the main filter", rc);
	}
	rc = sc_export(ctx, &f->main_prog, &f->main_len);
	seccomp_release(ctx);
	return rc < 0 ? sc_fail(err, errlen, "exporting the main filter", rc) : 0;
}

/* clone3 -> ENOSYS: BPF cannot read struct clone_args, so glibc must fall back to clone(2),
 * whose flags the main filter checks. EPERM would not make glibc fall back. */
static int
sc_build_clone3(struct sc_filter *f, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = sc_new_ctx();
	int rc;

	if (ctx == NULL)
		return sc_fail(err, errlen, "seccomp_init", -ENOMEM);
	rc = sc_add(ctx, SCMP_ACT_ERRNO(ENOSYS), sc_resolve("clone3", 435), 0, NULL);
	if (rc == 0)
		rc = sc_export(ctx, &f->clone3_prog, &f->clone3_len);
	seccomp_release(ctx);
	return rc < 0 ? sc_fail(err, errlen, "building the clone3 filter", rc) : 0;
}

int
seccomp_compile(struct sc_filter *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (sc_build_clone3(f, err, errlen) == -1)
		return -1;
	if (sc_build_main(f, err, errlen) == -1) {
		const int e = errno;
		seccomp_filter_release(f);
		errno = e;
		return -1;
	}
	return 0;
}

#ifdef SC_EMBEDDED_ARCH
/* A malloc'd copy of <n> instructions at <src>, as seccomp_compile() would return them. */
static struct sock_filter *
sc_copy_prog(const struct sock_filter *src, size_t n)
{
	struct sock_filter *p = ut_xmalloc(n * sizeof(*p));

	memcpy(p, src, n * sizeof(*p));
	return p;
}
#endif

int
seccomp_prepare(struct sc_filter *f, char *err, size_t errlen)
{
#ifdef SC_EMBEDDED_ARCH
	/* The programs seccomp_compile() gives on this architecture, byte for byte
	 * (test_startup3_seccomp checks it against the installed libseccomp): compiling
	 * them again costs ~1.2 ms of every start, on its critical path. */
	_Static_assert(NELEM(sc_embedded_clone3) <= SC_MAX_INSNS_EMBED &&
	               NELEM(sc_embedded_main) <= SC_MAX_INSNS_EMBED, "BPF_MAXINSNS");
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	f->clone3_prog = sc_copy_prog(sc_embedded_clone3, NELEM(sc_embedded_clone3));
	f->clone3_len = (unsigned short)NELEM(sc_embedded_clone3);
	f->main_prog = sc_copy_prog(sc_embedded_main, NELEM(sc_embedded_main));
	f->main_len = (unsigned short)NELEM(sc_embedded_main);
	return 0;
#else
	return seccomp_compile(f, err, errlen);
#endif
}

static int
sc_load(struct sock_filter *insns, unsigned short len)
{
	struct sock_fprog prog = { .len = len, .filter = insns };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int
seccomp_apply(const struct sc_filter *f)
{
	if (f == NULL || f->main_prog == NULL || f->clone3_prog == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* An unprivileged task may only install a filter under no_new_privs. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	/* clone3 first: the main filter refuses every later filter. */
	if (sc_load(f->clone3_prog, f->clone3_len) == -1)
		return -1;
	return sc_load(f->main_prog, f->main_len);
}

/* The pipe message: this header, the clone3 program, then the main program. */
struct sc_wire_hdr {
	uint16_t clone3_len;
	uint16_t main_len;
};

#define SC_MAX_INSNS 4096 /* BPF_MAXINSNS: the kernel refuses longer programs */

int
seccomp_filter_send(const struct sc_filter *f, int fd)
{
	const struct sc_wire_hdr h = { .clone3_len = f->clone3_len, .main_len = f->main_len };

	if (f->clone3_prog == NULL || f->main_prog == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (ut_write_all(fd, &h, sizeof(h)) == -1 ||
	    ut_write_all(fd, f->clone3_prog, f->clone3_len * sizeof(struct sock_filter)) == -1 ||
	    ut_write_all(fd, f->main_prog, f->main_len * sizeof(struct sock_filter)) == -1)
		return -1;
	return 0;
}

int
seccomp_filter_recv(struct sc_filter *f, int fd)
{
	struct sc_wire_hdr h;
	int e;

	memset(f, 0, sizeof(*f));
	if (ut_read_full(fd, &h, sizeof(h)) == -1)
		return -1;
	if (h.clone3_len == 0 || h.clone3_len > SC_MAX_INSNS || h.main_len == 0 ||
	    h.main_len > SC_MAX_INSNS) {
		errno = EPROTO;
		return -1;
	}
	f->clone3_prog = ut_xmalloc(h.clone3_len * sizeof(struct sock_filter));
	f->main_prog = ut_xmalloc(h.main_len * sizeof(struct sock_filter));
	f->clone3_len = h.clone3_len;
	f->main_len = h.main_len;
	if (ut_read_full(fd, f->clone3_prog, f->clone3_len * sizeof(struct sock_filter)) == -1 ||
	    ut_read_full(fd, f->main_prog, f->main_len * sizeof(struct sock_filter)) == -1) {
		e = errno;
		seccomp_filter_release(f);
		errno = e;
		return -1;
	}
	return 0;
}

void
seccomp_filter_release(struct sc_filter *f)
{
	free(f->clone3_prog);
	f->clone3_prog = NULL;
	free(f->main_prog);
	f->main_prog = NULL;
	f->clone3_len = f->main_len = 0;
}
