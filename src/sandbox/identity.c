/*
 * sandbox/identity: resolves run_as_user/run_as_group once in the supervisor, drops to
 * them in the pre-exec child. See identity.h for the contract.
 */
#include "sandbox/identity.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/util.h"

#define ID_MAX           4294967294LL /* (uid_t)-1 means "unchanged" to set*id() */
#define ID_NSS_BUF_START 16384
#define ID_NSS_BUF_MAX   (1024 * 1024)
#define ID_CAP_PROBE_MAX 64 /* capability numbers tried; the kernel stops us at the last */

static const char id_setup_hint[] = "hint: run `agentcage setup` to create the sandbox user "
				    "and group, or set process.run_as_user/run_as_group";

/* Parses a decimal id; 1 and the id on success, 0 when <s> is not all digits. -1 when it is
 * a number out of [0, ID_MAX] (errno ERANGE). */
static int
id_parse_number(const char *s, long long *out)
{
	const char *errstr;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
		return 0;
	*out = ut_strtonum(s, 0, ID_MAX, &errstr);
	if (errstr != NULL) {
		errno = ERANGE;
		return -1;
	}
	return 1;
}

/*
 * Account lookups: the local files first, NSS second. The sandbox user is a local system
 * account (`agentcage setup` creates it), and going through NSS first loads every module
 * nsswitch.conf names (libnss_systemd: ~1.5 ms on each `agentcage run`); directory users
 * (LDAP, sssd) still resolve through NSS. <buf> is the caller's (freed by it); <local>
 * says the entry came from /etc/passwd or /etc/group. Each returns 0 (found), or -1 with
 * errno ENOENT (no entry) or another errno.
 */
#define ID_PASSWD_FILE "/etc/passwd"
#define ID_GROUP_FILE  "/etc/group"

struct id_lookup {
	char *buf;
	struct passwd pw;
	struct group gr;
	bool local;
};

/* Scans <path> with fgetpwent_r (passwd) or fgetgrent_r (group) until <match> accepts an
 * entry; the buffer grows on ERANGE (the stream is left before the long entry). */
static int
id_files_scan(struct id_lookup *l, const char *path, bool passwd,
	      bool (*match)(const struct id_lookup *, const void *), const void *key)
{
	FILE *f = fopen(path, "re");
	size_t len = ID_NSS_BUF_START;
	int rc;

	if (f == NULL)
		return -1;
	free(l->buf);
	l->buf = ut_xmalloc(len);
	for (;;) {
		struct passwd *pres = NULL;
		struct group *gres = NULL;

		rc = passwd ? fgetpwent_r(f, &l->pw, l->buf, len, &pres)
			    : fgetgrent_r(f, &l->gr, l->buf, len, &gres);
		if (rc == ERANGE && len < ID_NSS_BUF_MAX) {
			len *= 2;
			free(l->buf);
			l->buf = ut_xmalloc(len);
			continue;
		}
		if (rc != 0)
			break;
		if (match(l, key)) {
			fclose(f);
			l->local = true;
			return 0;
		}
	}
	fclose(f);
	errno = rc == ENOENT || rc == 0 ? ENOENT : rc;
	return -1;
}

struct id_pw_key {
	const char *name;
	uid_t uid;
};

static bool
id_pw_match(const struct id_lookup *l, const void *key)
{
	const struct id_pw_key *k = key;

	return k->name ? strcmp(l->pw.pw_name, k->name) == 0 : l->pw.pw_uid == k->uid;
}

static bool
id_gr_match(const struct id_lookup *l, const void *key)
{
	return strcmp(l->gr.gr_name, key) == 0;
}

/* The *_r lookups report "no entry" as 0 with a NULL result, failures as the return. */
static int
id_nss_result(int rc, const void *res)
{
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	if (res == NULL) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static int
id_getpw(struct id_lookup *l, const char *name, uid_t uid)
{
	const struct id_pw_key key = { name, uid };
	struct passwd *res = NULL;
	size_t len = ID_NSS_BUF_START;
	int rc;

	if (id_files_scan(l, ID_PASSWD_FILE, true, id_pw_match, &key) == 0)
		return 0;
	for (;;) {
		free(l->buf);
		l->buf = ut_xmalloc(len);
		rc = name ? getpwnam_r(name, &l->pw, l->buf, len, &res)
			  : getpwuid_r(uid, &l->pw, l->buf, len, &res);
		if (rc != ERANGE || len >= ID_NSS_BUF_MAX)
			break;
		len *= 2;
	}
	return id_nss_result(rc, res);
}

static int
id_getgr(struct id_lookup *l, const char *name)
{
	struct group *res = NULL;
	size_t len = ID_NSS_BUF_START;
	int rc;

	if (id_files_scan(l, ID_GROUP_FILE, false, id_gr_match, name) == 0)
		return 0;
	for (;;) {
		free(l->buf);
		l->buf = ut_xmalloc(len);
		rc = getgrnam_r(name, &l->gr, l->buf, len, &res);
		if (rc != ERANGE || len >= ID_NSS_BUF_MAX)
			break;
		len *= 2;
	}
	return id_nss_result(rc, res);
}

static int
id_copy(char *dst, size_t size, const char *src, char *err, size_t errlen, const char *what)
{
	if (ut_strlcpy(dst, src, size) >= size) {
		ut_snprintf(err, errlen, "identity: %s '%s' is too long (max %zu bytes)", what, src,
			    size - 1);
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Fills uid, name, home, shell; *<pw_gid> is the passwd primary group or -1 (no entry). */
static int
id_resolve_user(const char *user, struct identity *id, long long *pw_gid, bool *named,
		bool *local, char *err, size_t errlen)
{
	struct id_lookup l = { 0 };
	long long n;
	int rc = -1, num = id_parse_number(user, &n);

	*pw_gid = -1;
	*named = num == 0;
	if (num == -1) {
		ut_snprintf(err, errlen, "run_as_user '%s': out of range (1..%lld)", user, ID_MAX);
		return -1;
	}
	if (num == 1 && n == 0)
		goto err_root;
	if (id_getpw(&l, num ? NULL : user, num ? (uid_t)n : 0) == -1) {
		const int e = errno;
		if (num) { /* a numeric user needs no passwd entry */
			id->uid = (uid_t)n;
			rc = ut_snprintf(id->name, sizeof(id->name), "%lld", n) == -1 ? -1 : 0;
			goto out;
		}
		ut_snprintf(err, errlen, "run_as_user '%s': %s%s%s", user,
			    e == ENOENT ? "no such user" : strerror(e),
			    strcmp(user, IDENTITY_DEFAULT) == 0 ? "\n" : "",
			    strcmp(user, IDENTITY_DEFAULT) == 0 ? id_setup_hint : "");
		errno = e;
		goto out;
	}
	id->uid = l.pw.pw_uid;
	if (id->uid == 0)
		goto err_root;
	*pw_gid = l.pw.pw_gid;
	*local = l.local;
	if (id_copy(id->name, sizeof(id->name), num ? l.pw.pw_name : user, err, errlen,
		    "user name") == -1 ||
	    id_copy(id->home, sizeof(id->home), l.pw.pw_dir ? l.pw.pw_dir : "", err, errlen,
		    "home") == -1 ||
	    id_copy(id->shell, sizeof(id->shell), l.pw.pw_shell ? l.pw.pw_shell : "", err, errlen,
		    "shell") == -1)
		goto out;
	rc = 0;
	goto out;

err_root:
	ut_snprintf(err, errlen,
		    "run_as_user '%s' is uid 0: the sandbox never runs as root\n"
		    "hint: name an unprivileged user (default: sandbox)",
		    user);
	errno = EPERM;
out:
	free(l.buf);
	return rc;
}

static int
id_resolve_group(const char *group, long long pw_gid, const char *user, struct identity *id,
		 char *err, size_t errlen)
{
	struct id_lookup l = { 0 };
	long long n;
	int num;

	if (group == NULL && pw_gid >= 0) {
		id->gid = (gid_t)pw_gid;
		goto check_root;
	}
	if (group == NULL) {
		ut_snprintf(err, errlen,
			    "run_as_user '%s' has no passwd entry, so it has no primary group\n"
			    "hint: set process.run_as_group",
			    user);
		errno = ENOENT;
		return -1;
	}
	num = id_parse_number(group, &n);
	if (num == -1) {
		ut_snprintf(err, errlen, "run_as_group '%s': out of range (1..%lld)", group, ID_MAX);
		return -1;
	}
	if (num == 1) {
		id->gid = (gid_t)n;
		goto check_root;
	}
	if (id_getgr(&l, group) == -1) {
		const int e = errno;
		ut_snprintf(err, errlen, "run_as_group '%s': %s%s%s", group,
			    e == ENOENT ? "no such group" : strerror(e),
			    strcmp(group, IDENTITY_DEFAULT) == 0 ? "\n" : "",
			    strcmp(group, IDENTITY_DEFAULT) == 0 ? id_setup_hint : "");
		free(l.buf);
		errno = e;
		return -1;
	}
	id->gid = l.gr.gr_gid;
	free(l.buf);
check_root:
	if (id->gid == 0) {
		ut_snprintf(err, errlen,
			    "run_as_group '%s' is gid 0: the sandbox never runs with the root "
			    "group\nhint: name an unprivileged group (default: sandbox)",
			    group ? group : "(the user's primary group)");
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* getgrouplist() semantics over /etc/group only (a local user, see id_getpw): <gid>
 * first, then every group listing <name> as a member. -1 when more than *<n> (set to
 * the count needed), 0 otherwise with *<n> the count. An unreadable file is no groups. */
static int
id_files_grouplist(const char *name, gid_t gid, gid_t *list, int *n)
{
	FILE *f = fopen(ID_GROUP_FILE, "re");
	struct group gr, *res;
	char buf[ID_NSS_BUF_START];
	int cap = *n, cnt = 0;

	if (cap > 0)
		list[0] = gid;
	cnt = 1;
	while (f != NULL && fgetgrent_r(f, &gr, buf, sizeof(buf), &res) == 0) {
		bool member = false;

		for (char **m = gr.gr_mem; m && *m && !member; m++)
			member = strcmp(*m, name) == 0;
		if (!member || gr.gr_gid == gid)
			continue;
		if (cnt < cap)
			list[cnt] = gr.gr_gid;
		cnt++;
	}
	if (f != NULL)
		fclose(f);
	*n = cnt;
	return cnt > cap ? -1 : 0;
}

/* Supplementary groups: the target gid first, then the named user's other groups from
 * getgrouplist(), without gid 0 and without duplicates. Never inherited from root. */
static int
id_resolve_groups(struct identity *id, bool named, bool local, char *err, size_t errlen)
{
	gid_t list[NGROUPS_BOUND + 1];
	int n = (int)NELEM(list);

	id->groups[0] = id->gid;
	id->ngroups = 1;
	if (!named)
		return 0;
	if ((local ? id_files_grouplist(id->name, id->gid, list, &n)
		   : getgrouplist(id->name, id->gid, list, &n)) == -1) {
		ut_snprintf(err, errlen,
			    "run_as_user '%s' is in %d groups; at most %d are supported\n"
			    "hint: remove the user from some groups",
			    id->name, n, NGROUPS_BOUND);
		errno = E2BIG;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		bool dup = false;

		if (list[i] == 0) {
			log_warnx("identity: user '%s' is a member of gid 0; not kept in the "
				  "sandbox",
				  id->name);
			continue;
		}
		for (size_t j = 0; j < id->ngroups; j++)
			dup = dup || id->groups[j] == list[i];
		if (dup)
			continue;
		if (id->ngroups == NGROUPS_BOUND) {
			ut_snprintf(err, errlen, "run_as_user '%s': more than %d groups", id->name,
				    NGROUPS_BOUND);
			errno = E2BIG;
			return -1;
		}
		id->groups[id->ngroups++] = list[i];
	}
	return 0;
}

int
identity_resolve(const char *user, const char *group, struct identity *id, char *err,
		 size_t errlen)
{
	long long pw_gid;
	bool named, local = false;

	memset(id, 0, sizeof(*id));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (user == NULL)
		user = IDENTITY_DEFAULT;
	/* The default group is "sandbox" when the default user is meant (spec §4.1: None
	 * identity fills both); an explicit user keeps its passwd primary group. */
	if (group == NULL && strcmp(user, IDENTITY_DEFAULT) == 0)
		group = IDENTITY_DEFAULT;
	if (id_resolve_user(user, id, &pw_gid, &named, &local, err, errlen) == -1 ||
	    id_resolve_group(group, pw_gid, user, id, err, errlen) == -1 ||
	    id_resolve_groups(id, named, local, err, errlen) == -1)
		return -1;
	return 0;
}

/* --- pre-exec child: async-signal-safe from here on (no stdio, no malloc, no NSS) --- */

/* err = "<step>: <errno name>" without snprintf. */
static int
id_fail(char *err, size_t errlen, const char *step, int e)
{
	const char *name = e ? strerrorname_np(e) : NULL;
	size_t n;

	if (err != NULL && errlen > 0) {
		n = ut_strlcpy(err, "privilege drop failed: ", errlen);
		if (n < errlen)
			n += ut_strlcpy(err + n, step, errlen - n);
		if (name != NULL && n < errlen) {
			n += ut_strlcpy(err + n, ": ", errlen - n);
			if (n < errlen)
				ut_strlcpy(err + n, name, errlen - n);
		}
	}
	errno = e ? e : EPERM;
	return -1;
}

/* Drops every capability from the bounding set (needs CAP_SETPCAP, so while root) and
 * checks that none is left. EPERM is tolerated only when the set is already empty. */
static int
id_clear_bounding(char *err, size_t errlen)
{
	int cap;

	for (cap = 0; cap < ID_CAP_PROBE_MAX; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r == -1 && errno == EINVAL)
			break; /* past the kernel's last capability */
		if (r == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			return id_fail(err, errlen, "clearing the capability bounding set", errno);
	}
	for (int c = 0; c < cap; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 0)
			return id_fail(err, errlen, "capabilities remain in the bounding set", 0);
	return 0;
}

static bool
id_groups_match(const struct identity *id)
{
	gid_t got[NGROUPS_BOUND + 1];
	int n = getgroups((int)NELEM(got), got);

	if (n == -1 || (size_t)n != id->ngroups)
		return false;
	/* The kernel sorts the list, so compare as sets (both are duplicate-free). */
	for (size_t i = 0; i < id->ngroups; i++) {
		bool found = false;
		for (int j = 0; j < n; j++)
			found = found || got[j] == id->groups[i];
		if (!found)
			return false;
	}
	return true;
}

/* After the uid change the kernel has cleared permitted and effective; inheritable
 * survives setuid, so it is cleared here, then all three are checked. */
static int
id_clear_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	if (syscall(SYS_capset, &hdr, data) == -1)
		return id_fail(err, errlen, "clearing capabilities (capset)", errno);
	if (syscall(SYS_capget, &hdr, data) == -1)
		return id_fail(err, errlen, "reading capabilities (capget)", errno);
	for (size_t i = 0; i < NELEM(data); i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return id_fail(err, errlen, "capabilities remain after the uid change", 0);
	return 0;
}

int
identity_drop(const struct identity *id, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (id == NULL || id->uid == 0 || id->gid == 0 || id->ngroups == 0)
		return id_fail(err, errlen, "refusing an unresolved or root identity", EINVAL);
	/* Bounding set first: CAP_SETPCAP is gone after the uid change. */
	if (id_clear_bounding(err, errlen) == -1)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		return id_fail(err, errlen, "clearing ambient capabilities", errno);
	/* Groups, then gid, then uid: after setresuid nothing else may change. Raw syscalls:
	 * glibc's wrappers broadcast to every thread it believes exists, and a child made by a
	 * raw clone(2) inherits a stale thread list; here only this thread must change. */
	if (syscall(SYS_setgroups, id->ngroups, id->groups) == -1)
		return id_fail(err, errlen, "setgroups", errno);
	if (!id_groups_match(id))
		return id_fail(err, errlen, "verifying supplementary groups", 0);
	if (syscall(SYS_setresgid, id->gid, id->gid, id->gid) == -1)
		return id_fail(err, errlen, "setresgid", errno);
	if (getresgid(&rg, &eg, &sg) == -1 || rg != id->gid || eg != id->gid || sg != id->gid)
		return id_fail(err, errlen, "verifying the gid", 0);
	if (syscall(SYS_setresuid, id->uid, id->uid, id->uid) == -1)
		return id_fail(err, errlen, "setresuid", errno);
	if (getresuid(&ru, &eu, &su) == -1 || ru != id->uid || eu != id->uid || su != id->uid)
		return id_fail(err, errlen, "verifying the uid", 0);
	if (id_clear_caps(err, errlen) == -1)
		return -1;
	/* Trust, then verify: regaining root must be impossible. */
	if (syscall(SYS_setuid, 0) != -1 || syscall(SYS_setgid, 0) != -1)
		return id_fail(err, errlen, "the process can still re-acquire root", 0);
	return 0;
}

void
identity_harden(void)
{
	const struct rlimit zero = { 0, 0 };

	/* No core file can leak the command's memory (tokens, keys). Survives execve. */
	(void)setrlimit(RLIMIT_CORE, &zero);
	/* Closes /proc/PID/{mem,environ} to same-uid processes until execve, which makes the
	 * task dumpable again (fs/exec.c); the rlimit is what survives. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
