/*
 * sandbox/landlock: builds the ruleset as root, enforces it in the pre-exec child.
 * See landlock.h for the contract and docs/landlock.md for the rights per ABI.
 */
#include "sandbox/landlock.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/landlock_abi.h"
#include "util/util.h"

/* The reference requests ABI 2 rights; hard_requirement refuses anything older. */
#define LL_MIN_HARD_ABI 2

/* Paths longer than this are cut in messages, so the reason and the hint always fit. */
#define LL_MSG_PATH_MAX 256

#define LL_RO_RIGHTS (LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR)

/* Rights each ABI added; anything newer than the running kernel is lost (with a warning). */
static const struct {
	int abi;
	uint64_t fs;
	const char *what;
	const char *kernel;
} ll_added[] = {
	{ 2, LL_FS_REFER, "cross-directory rename and link (refer)", "5.19" },
	{ 3, LL_FS_TRUNCATE, "truncate", "6.2" },
	{ 5, LL_FS_IOCTL_DEV, "device ioctl", "6.10" },
};

/* Scopes from ABI 6 (kernel 6.12): without them the command could reach an abstract unix
 * socket or signal a process outside the sandbox's domain. */
#define LL_SCOPE_ABI 6

static long
ll_create_ruleset(const struct ll_ruleset_attr *attr, size_t size, uint32_t flags)
{
	return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

static long
ll_add_rule(int fd, const struct ll_path_beneath_attr *attr)
{
	return syscall(SYS_landlock_add_rule, fd, LL_RULE_PATH_BENEATH, attr, 0);
}

/* Text for a failed probe, keyed by the errno the kernel gives (landlock(7)). */
static const char *
ll_probe_reason(int e)
{
	switch (e) {
	case ENOSYS:
		return "not implemented (kernel built without CONFIG_SECURITY_LANDLOCK); "
		       "hint: use a kernel >= 5.13 with Landlock enabled";
	case EOPNOTSUPP:
		return "not enabled (landlock is not in the active LSM list); hint: add "
		       "lsm=landlock,... to the kernel command line";
	case EPERM:
		return "blocked (a seccomp profile of the surrounding container denies the "
		       "Landlock syscalls); hint: allow landlock_* in the container's profile";
	default:
		return "unexpected probe error";
	}
}

int
landlock_abi(const char **why)
{
	long abi = ll_create_ruleset(NULL, 0, LL_CREATE_RULESET_VERSION);

	if (abi == -1) {
		const int e = errno;
		*why = ll_probe_reason(e);
		errno = e;
		return -1;
	}
	*why = NULL;
	return (int)abi;
}

/* spec/process.md §8.1.10: the reason a path could not be opened, as users read it. */
static const char *
ll_open_reason(int e)
{
	switch (e) {
	case ENOENT:
		return "path does not exist";
	case EACCES:
		return "permission denied";
	case ELOOP:
		return "too many symlink levels";
	case ENAMETOOLONG:
		return "path name too long";
	case ENOTDIR:
		return "path component is not a directory";
	case EXDEV:
		return "a symlink on the way is not owned by root";
	default:
		return "unexpected error";
	}
}

static void
ll_list_free(struct ll_path *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].path);
	free(l);
}

void
landlock_release(struct ll_ruleset *rs)
{
	ut_close(&rs->fd);
	ll_list_free(rs->rules, rs->nrules);
	rs->rules = NULL;
	rs->nrules = 0;
	ll_list_free(rs->skipped, rs->nskipped);
	rs->skipped = NULL;
	rs->nskipped = 0;
}

/* Appends an entry to <l>; landlock_prepare() sized it for every path of the policy. */
static void
ll_list_add(struct ll_path *l, size_t *n, const struct ll_path *e)
{
	l[*n] = *e;
	l[*n].path = ut_xstrdup(e->path);
	(*n)++;
}

/*
 * The rights for one path: RO or every handled right, masked to what the kernel accepts
 * for the inode type (directory-only rights on a file are EINVAL).
 */
static uint64_t
ll_rights_for(const struct ll_ruleset *rs, bool read_write, bool dir)
{
	uint64_t r = read_write ? rs->handled_fs : (LL_RO_RIGHTS & rs->handled_fs);

	return dir ? r : (r & LL_FS_FILE_RIGHTS);
}

#define LL_MAX_SYMLINKS 40 /* as the kernel's own limit for one lookup */

/* Moves the first component of <rest> (NUL-terminated, '/'-separated) into <comp> and
 * removes it from <rest>. 1 when moved, 0 when <rest> has none left, -1 with errno
 * ENAMETOOLONG when it does not fit <comp> (NAME_MAX + 1). */
static int
ll_next_component(char *rest, char *comp, size_t size)
{
	size_t skip = strspn(rest, "/"), len = strcspn(rest + skip, "/");

	if (len == 0)
		return 0;
	if (len >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(comp, rest + skip, len);
	comp[len] = '\0';
	memmove(rest, rest + skip + len, strlen(rest + skip + len) + 1);
	return 1;
}

/*
 * open(<path>, O_PATH) that follows a symbolic link only when root owns it. Rules are
 * opened as root, and a link the sandbox planted in one of its persistent writable trees
 * (/sandbox/.cache -> /) must not move a rule of the next run onto the host; system links
 * (/lib -> usr/lib, /etc/alternatives) are root's. Returns the fd, or -1 with errno: EXDEV
 * for a link root does not own, ELOOP past LL_MAX_SYMLINKS, or openat's own error.
 */
static int
ll_open_trusted(const char *path)
{
	char rest[2 * PATH_MAX], comp[NAME_MAX + 1], target[PATH_MAX];
	int dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), hops = 0;

	if (dfd == -1)
		return -1;
	if (ut_strlcpy(rest, path, sizeof(rest)) >= sizeof(rest)) {
		errno = ENAMETOOLONG;
		goto err_close;
	}
	for (;;) {
		int got = ll_next_component(rest, comp, sizeof(comp));
		struct stat st;
		ssize_t n;
		int fd = -1;

		if (got == 0)
			break;
		if (got == -1)
			goto err_close;
		if (strcmp(comp, ".") == 0)
			continue;
		fd = openat(dfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 || fstat(fd, &st) == -1)
			goto err_close_fd;
		if (!S_ISLNK(st.st_mode)) {
			close(dfd);
			dfd = fd;
			continue;
		}
		if (st.st_uid != 0) {
			errno = EXDEV;
			goto err_close_fd;
		}
		if (++hops > LL_MAX_SYMLINKS) {
			errno = ELOOP;
			goto err_close_fd;
		}
		n = readlinkat(fd, "", target, sizeof(target) - 1);
		close(fd);
		if (n == -1)
			goto err_close;
		target[n] = '\0';
		/* The link's target replaces it: <target>/<rest>, from / when absolute. */
		if (strlen(target) + 1 + strlen(rest) >= sizeof(rest)) {
			errno = ENAMETOOLONG;
			goto err_close;
		}
		memmove(rest + strlen(target) + 1, rest, strlen(rest) + 1);
		memcpy(rest, target, strlen(target));
		rest[strlen(target)] = '/';
		if (target[0] == '/') {
			close(dfd);
			if ((dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
				return -1;
		}
		continue;
err_close_fd:
		if (fd != -1) {
			int saved = errno;
			close(fd);
			errno = saved;
		}
		goto err_close;
	}
	return dfd;

err_close:
	{
		int saved = errno;
		close(dfd);
		errno = saved;
	}
	return -1;
}

/*
 * Opens <path> as the caller and adds its rule. A path that cannot be opened is skipped
 * (best_effort) or refused (hard_requirement). A rule the kernel refuses aborts the build
 * in both modes: that is a bug or a hostile race, not a missing path.
 */
static int
ll_add_path(struct ll_ruleset *rs, const char *path, bool read_write, char *err, size_t errlen)
{
	struct ll_path e = { .path = (char *)path, .read_write = read_write };
	struct ll_path_beneath_attr pb;
	struct stat st;
	int fd, saved;

	fd = ll_open_trusted(path);
	if (fd == -1) {
		saved = errno;
		e.reason = ll_open_reason(saved);
		if (rs->hard) {
			ut_snprintf(err, errlen,
				    "Landlock path unavailable in hard_requirement mode: %.*s%s (%s): "
				    "%s\nhint: create it, remove it from filesystem_policy, or set "
				    "landlock.compatibility: best_effort",
				    LL_MSG_PATH_MAX, path, strlen(path) > LL_MSG_PATH_MAX ? "..." : "",
				    e.reason, strerror(saved));
			errno = saved;
			return -1;
		}
		log_warnx("landlock: skipping %s %s (%s: %s); the rest of the ruleset applies",
			  read_write ? "read_write" : "read_only", path, e.reason, strerror(saved));
		ll_list_add(rs->skipped, &rs->nskipped, &e);
		return 0;
	}
	/* The type comes from the opened fd, never a second lookup of the name. */
	if (fstat(fd, &st) == -1)
		goto err_close;
	e.dir = S_ISDIR(st.st_mode);
	e.access = ll_rights_for(rs, read_write, e.dir);
	pb.allowed_access = e.access;
	pb.parent_fd = fd;
	if (ll_add_rule(rs->fd, &pb) == -1)
		goto err_close;
	close(fd);
	ll_list_add(rs->rules, &rs->nrules, &e);
	return 0;

err_close:
	saved = errno;
	close(fd);
	ut_snprintf(err, errlen, "landlock: adding the rule for %s failed: %s", path,
		    strerror(saved));
	errno = saved;
	return -1;
}

/* Landlock cannot be used at all. best_effort: loud warning, 0; hard: -1 with <err>. */
static int
ll_unavailable(struct ll_ruleset *rs, const char *reason, int e, char *err, size_t errlen)
{
	ut_close(&rs->fd);
	rs->why_off = reason;
	if (rs->hard) {
		ut_snprintf(err, errlen, "Landlock unavailable in hard_requirement mode: %s",
			    reason);
		landlock_release(rs); /* -1 leaves nothing for the caller to free */
		errno = e;
		return -1;
	}
	log_warnx("WARNING: Landlock unavailable: %s. The command runs WITHOUT filesystem "
		  "confinement (landlock.compatibility is best_effort)",
		  reason);
	return 0;
}

/* Chooses the handled rights and scopes for <abi>, warning about what this kernel lacks. */
static int
ll_handle_for_abi(struct ll_ruleset *rs, char *err, size_t errlen)
{
	rs->handled_fs = LL_FS_ALL;
	for (size_t i = 0; i < NELEM(ll_added); i++) {
		if (ll_added[i].abi <= rs->abi)
			continue;
		rs->handled_fs &= ~ll_added[i].fs;
		log_warnx("landlock: ABI %d cannot restrict %s (needs kernel >= %s); "
			  "it stays unrestricted",
			  rs->abi, ll_added[i].what, ll_added[i].kernel);
	}
	if (rs->abi >= LL_SCOPE_ABI)
		rs->scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
	else
		log_warnx("landlock: ABI %d cannot scope abstract unix sockets and signals "
			  "(needs kernel >= 6.12)",
			  rs->abi);
	if (rs->hard && rs->abi < LL_MIN_HARD_ABI) {
		ut_snprintf(err, errlen,
			    "Landlock ABI %d is too old in hard_requirement mode (need >= %d, "
			    "kernel >= 5.19)\nhint: upgrade the kernel or set "
			    "landlock.compatibility: best_effort",
			    rs->abi, LL_MIN_HARD_ABI);
		errno = EOPNOTSUPP;
		return -1;
	}
	return 0;
}

static bool
ll_in_list(char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

static int
ll_add_all(const struct policy *p, const char *workdir, struct ll_ruleset *rs, char *err,
	   size_t errlen)
{
	for (size_t i = 0; i < p->nread_only; i++)
		if (ll_add_path(rs, p->read_only[i], false, err, errlen) == -1)
			return -1;
	for (size_t i = 0; i < p->nread_write; i++)
		if (ll_add_path(rs, p->read_write[i], true, err, errlen) == -1)
			return -1;
	if (p->include_workdir && workdir != NULL &&
	    !ll_in_list(p->read_write, p->nread_write, workdir))
		if (ll_add_path(rs, workdir, true, err, errlen) == -1)
			return -1;
	return 0;
}

/* The implicit paths (landlock_prepare_implicit), read-only, after the policy's own. */
static int
ll_add_implicit(const char *const *implicit, struct ll_ruleset *rs, char *err, size_t errlen)
{
	for (size_t i = 0; implicit != NULL && implicit[i] != NULL; i++) {
		size_t before = rs->nrules;
		if (ll_add_path(rs, implicit[i], false, err, errlen) == -1)
			return -1;
		if (rs->nrules > before)
			rs->rules[before].implicit = true;
	}
	return 0;
}

int
landlock_prepare(const struct policy *p, const char *workdir, struct ll_ruleset *rs, char *err,
		 size_t errlen)
{
	return landlock_prepare_implicit(p, workdir, NULL, rs, err, errlen);
}

int
landlock_prepare_implicit(const struct policy *p, const char *workdir,
			  const char *const *implicit, struct ll_ruleset *rs, char *err,
			  size_t errlen)
{
	struct ll_ruleset_attr attr = { 0 };
	const char *why;
	size_t total, nimplicit = 0;
	int saved;
	bool want_workdir = p->include_workdir && workdir != NULL;

	while (implicit != NULL && implicit[nimplicit] != NULL)
		nimplicit++;

	memset(rs, 0, sizeof(*rs));
	rs->fd = -1;
	rs->hard = p->compat == POL_COMPAT_HARD_REQUIREMENT;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (nimplicit > LL_MAX_IMPLICIT) {
		ut_snprintf(err, errlen, "landlock: %zu implicit paths (at most %d)", nimplicit,
			    LL_MAX_IMPLICIT);
		errno = E2BIG;
		return -1;
	}

	/* Nothing listed: nothing asked for. The reference skips Landlock the same way
	 * (spec/process.md §2.1); the default policy always lists paths. */
	if (!p->has_filesystem || (p->nread_only == 0 && p->nread_write == 0 && !want_workdir)) {
		rs->why_off = "policy has no filesystem paths";
		log_info("landlock: not applied: the policy lists no filesystem paths");
		return 0;
	}

	rs->abi = landlock_abi(&why);
	if (rs->abi == -1) {
		const int e = errno;
		rs->abi = 0;
		return ll_unavailable(rs, why, e, err, errlen);
	}
	if (ll_handle_for_abi(rs, err, errlen) == -1)
		return -1;

	/* Every path of the policy, the workdir and the implicit paths: the lists never grow
	 * later. */
	total = p->nread_only + p->nread_write + 1 + nimplicit;
	rs->rules = ut_xcalloc(total, sizeof(*rs->rules));
	rs->skipped = ut_xcalloc(total, sizeof(*rs->skipped));
	attr.handled_access_fs = rs->handled_fs;
	attr.scoped = rs->scoped;
	/* Network rights stay unhandled: the sandbox's network namespace is the network
	 * boundary, and the command must reach the proxy. */
	rs->fd = (int)ll_create_ruleset(&attr, sizeof(attr), 0);
	if (rs->fd == -1) {
		const int e = errno;
		return ll_unavailable(rs, "landlock_create_ruleset failed", e, err, errlen);
	}
	if (ll_add_all(p, workdir, rs, err, errlen) == -1)
		goto err_release;
	if (rs->nrules == 0)
		return ll_unavailable(rs,
				      "zero usable paths in filesystem_policy; refusing to apply "
				      "an empty ruleset (it would deny every file)",
				      ENOENT, err, errlen);
	if (ll_add_implicit(implicit, rs, err, errlen) == -1)
		goto err_release;
	log_info("landlock: ABI %d, %zu rules applied, %zu paths skipped", rs->abi, rs->nrules,
		 rs->nskipped);
	return 0;

err_release:
	saved = errno;
	landlock_release(rs);
	errno = saved;
	return -1;
}

static void
ll_json_list(struct sbuf *b, const struct ll_path *l, size_t n, bool skipped)
{
	sbuf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		struct json_obj o;

		if (i > 0)
			sbuf_putc(b, ',');
		json_begin(&o, b);
		json_kv_str(&o, "path", l[i].path);
		json_kv_str(&o, "access", l[i].read_write ? "rw" : "ro");
		if (skipped)
			json_kv_str(&o, "reason", l[i].reason);
		else
			json_kv_str(&o, "type", l[i].dir ? "dir" : "file");
		if (l[i].implicit)
			json_kv_bool(&o, "implicit", true);
		json_end(&o);
	}
	sbuf_putc(b, ']');
}

void
landlock_summary_json(const struct ll_ruleset *rs, struct sbuf *b)
{
	struct json_obj o;
	struct sbuf rules = { 0 }, skipped = { 0 }, scoped = { 0 };

	ll_json_list(&rules, rs->rules, rs->nrules, false);
	ll_json_list(&skipped, rs->skipped, rs->nskipped, true);
	sbuf_putc(&scoped, '[');
	if (rs->scoped & LL_SCOPE_ABSTRACT_UNIX_SOCKET)
		sbuf_puts(&scoped, "\"abstract_unix_socket\"");
	if (rs->scoped & LL_SCOPE_SIGNAL)
		sbuf_puts(&scoped, (rs->scoped & LL_SCOPE_ABSTRACT_UNIX_SOCKET) ? ",\"signal\""
										 : "\"signal\"");
	sbuf_putc(&scoped, ']');

	json_begin(&o, b);
	json_kv_int(&o, "abi", rs->abi);
	json_kv_str(&o, "compat", rs->hard ? "hard_requirement" : "best_effort");
	json_kv_bool(&o, "applied", rs->fd != -1);
	if (rs->why_off != NULL)
		json_kv_str(&o, "why_off", rs->why_off);
	json_kv_raw(&o, "rules", sbuf_str(&rules));
	json_kv_raw(&o, "skipped", sbuf_str(&skipped));
	json_kv_raw(&o, "scoped", sbuf_str(&scoped));
	json_end(&o);
	sbuf_free(&rules);
	sbuf_free(&skipped);
	sbuf_free(&scoped);
}

/* Async-signal-safe message: strlcpy-like concatenation of up to three parts. */
static void
ll_msg(char *err, size_t errlen, const char *a, const char *b)
{
	size_t n;

	if (err == NULL || errlen == 0)
		return;
	n = ut_strlcpy(err, a, errlen);
	if (n < errlen)
		ut_strlcpy(err + n, b, errlen - n);
}

int
landlock_enforce(struct ll_ruleset *rs, char *err, size_t errlen)
{
	int e;

	if (rs->fd == -1)
		return 0;
	/* Landlock requires no_new_privs (or CAP_SYS_ADMIN, which we drop): the domain must
	 * not be escapable through a setuid binary. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		goto err_close;
	if (syscall(SYS_landlock_restrict_self, rs->fd, 0) == -1)
		goto err_close;
	ut_close(&rs->fd);
	return 0;

err_close:
	e = errno;
	ut_close(&rs->fd);
	if (!rs->hard) {
		static const char warn[] = "agentcage: WARNING: landlock_restrict_self failed; "
					   "the command runs WITHOUT filesystem confinement "
					   "(best_effort)\n";
		(void)!write(STDERR_FILENO, warn, sizeof(warn) - 1);
		return 0;
	}
	ll_msg(err, errlen, "landlock_restrict_self failed in hard_requirement mode: ",
	       strerrorname_np(e) ? strerrorname_np(e) : "unknown errno");
	errno = e;
	return -1;
}
