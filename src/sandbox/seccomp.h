/*
 * sandbox/seccomp: the syscall filter of the sandboxed command (spec/process.md §3,
 * docs/seccomp.md lists every entry and why it is there). The only user of libseccomp
 * (house rule 16): its types stay in seccomp.c.
 *
 * Context: seccomp_prepare() runs in the supervisor (after clone, while init builds the
 * mounts; seccomp_filter_send() hands the result to init) and may allocate; it gives
 * two classic-BPF programs: a clone3 -> ENOSYS filter (so glibc falls back to
 * clone(2), whose flags BPF can inspect) and the main deny-list filter (default allow,
 * EPERM for the listed syscalls, KILL_PROCESS for a foreign architecture or an x32 call).
 * On x86_64 they are libseccomp's output kept in sandbox/seccomp_prog.h (a test holds
 * them equal to what seccomp_compile() gives); elsewhere compiled at each start.
 * seccomp_apply() loads both in the pre-exec child: async-signal-safe, no allocation.
 *
 * Errors: 0 / -1 with errno. Ownership: struct sc_filter owns its programs;
 * seccomp_filter_release() frees them. A zero-filled struct is empty (apply refuses it).
 *
 * Naming: libseccomp exports seccomp_release(scmp_filter_ctx), so ours cannot have that
 * name: an executable defining it would interpose libseccomp's own calls.
 */
#ifndef AGENTCAGE_SANDBOX_SECCOMP_H
#define AGENTCAGE_SANDBOX_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

struct sc_filter {
	struct sock_filter *clone3_prog; /* malloc'd BPF instructions */
	unsigned short clone3_len;
	struct sock_filter *main_prog;
	unsigned short main_len;
};

/*
 * Both filters into *<f> (prior content overwritten; malloc'd, the caller releases them).
 * On an architecture with programs embedded at build time (sandbox/seccomp_prog.h:
 * x86_64), those, which are seccomp_compile()'s output for it byte for byte; elsewhere
 * seccomp_compile(). Returns 0, or -1 with errno and <err> as seccomp_compile().
 */
int seccomp_prepare(struct sc_filter *f, char *err, size_t errlen);

/*
 * Compiles both filters with libseccomp into *<f> (prior content overwritten). Returns 0,
 * or -1 with errno and <err> saying which step of libseccomp failed. What
 * seccomp_prepare() gives where no program is embedded; tests compare the two.
 */
int seccomp_compile(struct sc_filter *f, char *err, size_t errlen);

/*
 * Pre-exec child, last step before execve: sets no_new_privs, loads the clone3 filter, then
 * the main filter (which forbids loading any further filter). Refuses an unprepared <f>
 * with EINVAL. Returns 0, or -1 with errno. Async-signal-safe; no allocation.
 */
int seccomp_apply(const struct sc_filter *f);

/*
 * Hands a compiled filter from the supervisor to init over a pipe, so the supervisor can
 * compile it while init builds the mounts (both run at once on a multi-CPU machine).
 * seccomp_filter_send() writes both programs to <fd> (blocking); 0, or -1 with errno
 * (EPIPE: init is gone). seccomp_filter_recv() reads them into *<f> (prior content
 * overwritten; the caller releases it): 0, or -1 with errno: EPIPE at end of file (the
 * supervisor failed to compile and said why), EPROTO for a malformed message.
 */
int seccomp_filter_send(const struct sc_filter *f, int fd);
int seccomp_filter_recv(struct sc_filter *f, int fd);

/* Frees the programs; *<f> is then empty. */
void seccomp_filter_release(struct sc_filter *f);


#endif
