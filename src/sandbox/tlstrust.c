/* sandbox/tlstrust: the CA's way into the sandbox's trust store (contract in tlstrust.h). */
#include "sandbox/tlstrust.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "util/util.h"

#define TLSTRUST_COPY_CHUNK (64 * 1024) /* bytes per read of the system bundle */

static const char tlstrust_begin[] = "-----BEGIN CERTIFICATE-----";
static const char tlstrust_end[] = "-----END CERTIFICATE-----";

bool
tlstrust_policy_terminates(const struct policy *p)
{
	if (p == NULL)
		return false;
	for (size_t i = 0; i < p->nblocks; i++) {
		const struct pol_block *b = &p->blocks[i];
		for (size_t j = 0; j < b->nendpoints; j++) {
			const struct pol_endpoint *ep = &b->endpoints[j];
			/* Same two tests as engine.c's eng_compile_endpoint() (l7) and
			 * engine_decide_connect() (inspect = l7 && tls != skip). */
			bool l7 = ep->protocol != POL_PROTO_L4 && ep->protocol != POL_PROTO_TCP;
			if (l7 && ep->tls != POL_TLS_SKIP)
				return true;
		}
	}
	return false;
}

/* memmem() for a NUL-free needle in a bounded haystack. */
static bool
tlstrust_contains(const char *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

bool
tlstrust_pem_plausible(const char *pem, size_t len)
{
	size_t i = 0;

	if (pem == NULL || memchr(pem, '\0', len) != NULL)
		return false;
	while (i < len && (pem[i] == ' ' || pem[i] == '\t' || pem[i] == '\r' || pem[i] == '\n'))
		i++;
	if (len - i < strlen(tlstrust_begin) ||
	    memcmp(pem + i, tlstrust_begin, strlen(tlstrust_begin)) != 0)
		return false;
	return tlstrust_contains(pem + i, len - i, tlstrust_end);
}

int
tlstrust_send(int fd, const char *pem)
{
	struct tlstrust_wire_hdr h = { .magic = TLSTRUST_WIRE_MAGIC, .len = 0 };
	size_t len = pem != NULL ? strlen(pem) : 0;

	if (pem != NULL && (len > TLSTRUST_PEM_MAX || !tlstrust_pem_plausible(pem, len))) {
		errno = EINVAL;
		return -1;
	}
	h.len = (uint32_t)len;
	if (ut_write_all(fd, &h, sizeof(h)) == -1 || (len > 0 && ut_write_all(fd, pem, len) == -1))
		return -1;
	return 0;
}

int
tlstrust_recv(int fd, bool expect, char **pem)
{
	struct tlstrust_wire_hdr h;
	char *buf;

	*pem = NULL;
	if (ut_read_full(fd, &h, sizeof(h)) == -1)
		return -1;
	if (h.magic != TLSTRUST_WIRE_MAGIC || h.len > TLSTRUST_PEM_MAX || (h.len > 0) != expect) {
		errno = EPROTO;
		return -1;
	}
	if (h.len == 0)
		return 0;
	buf = ut_xmalloc((size_t)h.len + 1);
	if (ut_read_full(fd, buf, h.len) == -1) {
		const int e = errno;
		free(buf);
		errno = e;
		return -1;
	}
	buf[h.len] = '\0'; /* the receiver terminates */
	if (!tlstrust_pem_plausible(buf, h.len)) {
		free(buf);
		errno = EPROTO;
		return -1;
	}
	*pem = buf;
	return 0;
}

/* Fills <err> with "sandbox CA: <what> <path>: <errno text>[hint]"; keeps errno; -1. */
static int
tlstrust_fail(char *err, size_t errlen, const char *what, const char *path, const char *hint)
{
	const int e = errno;

	snprintf(err, errlen, "sandbox CA: %s %s: %s%s%s", what, path, strerror(e),
		 hint != NULL ? "\nhint: " : "", hint != NULL ? hint : "");
	errno = e;
	return -1;
}

/* Creates <name> in <dirfd> (never an existing file or a link), root-owned 0444 whatever
 * the umask. Returns the fd (O_CLOEXEC, for writing) or -1 with errno. */
static int
tlstrust_create(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);

	if (fd == -1)
		return -1;
	if (fchmod(fd, 0444) == -1) { /* whatever the umask was */
		const int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* tlstrust_copy_system() through a buffer, for a file system without splice support.
 * *<last> = the last byte copied (unchanged if none). 0 / -1. */
static int
tlstrust_copy_rw(int sys_fd, int out, char *last)
{
	char buf[TLSTRUST_COPY_CHUNK];
	size_t total = 0;

	for (;;) {
		ssize_t n = TEMP_FAILURE_RETRY_INT(read(sys_fd, buf, sizeof(buf)));
		if (n == -1)
			return -1;
		if (n == 0)
			return 0;
		total += (size_t)n;
		if (total > TLSTRUST_SYSTEM_MAX) {
			errno = EFBIG;
			return -1;
		}
		if (ut_write_all(out, buf, (size_t)n) == -1)
			return -1;
		*last = buf[n - 1];
	}
}

/* tlstrust_copy_system() inside the kernel: ~60 us for Debian's 220 KiB bundle here
 * against ~250 us through a 64 KiB buffer, on init's way to Landlock. Copies the size
 * fstat gave (a bundle is replaced by rename, not grown in place). *<last> as above.
 * 0, 1 when this file system cannot splice (nothing copied), -1 with errno. */
static int
tlstrust_copy_sendfile(int sys_fd, int out, char *last)
{
	struct stat st;
	off_t off = 0;

	if (fstat(sys_fd, &st) == -1)
		return -1;
	if (st.st_size > TLSTRUST_SYSTEM_MAX) {
		errno = EFBIG;
		return -1;
	}
	while (off < st.st_size) {
		ssize_t n = sendfile(out, sys_fd, &off, (size_t)(st.st_size - off));

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EINVAL || errno == ENOSYS) && off == 0)
			return 1;
		if (n == -1)
			return -1;
		if (n == 0)
			break; /* it shrank meanwhile: what was there is copied */
	}
	if (off > 0 && pread(sys_fd, last, 1, off - 1) != 1)
		return -1;
	return 0;
}

/* Copies the system bundle <sys_fd> to <out>; ends it with a newline when it had none, so
 * the CA's BEGIN line starts a line of its own. Refuses more than TLSTRUST_SYSTEM_MAX
 * (EFBIG). O(size of the bundle). */
static int
tlstrust_copy_system(int sys_fd, int out)
{
	char last = '\n';
	int rc = tlstrust_copy_sendfile(sys_fd, out, &last);

	if (rc == 1)
		rc = tlstrust_copy_rw(sys_fd, out, &last);
	if (rc == -1)
		return -1;
	return last == '\n' ? 0 : ut_write_all(out, "\n", 1);
}

/* Writes ca.crt and ca-bundle.crt into the open directory <dirfd>. */
static int
tlstrust_write_files(int dirfd, const char *pem, int sys_fd, char *err, size_t errlen)
{
	size_t len = strlen(pem);
	int fd;

	if ((fd = tlstrust_create(dirfd, "ca.crt")) == -1)
		return tlstrust_fail(err, errlen, "create", TLSTRUST_CA_FILE, NULL);
	if (ut_write_all(fd, pem, len) == -1) {
		close(fd);
		return tlstrust_fail(err, errlen, "write", TLSTRUST_CA_FILE, NULL);
	}
	close(fd);
	if ((fd = tlstrust_create(dirfd, "ca-bundle.crt")) == -1)
		return tlstrust_fail(err, errlen, "create", TLSTRUST_BUNDLE, NULL);
	if (sys_fd >= 0 && tlstrust_copy_system(sys_fd, fd) == -1) {
		const int e = errno;
		close(fd);
		errno = e;
		return tlstrust_fail(err, errlen, "copy the system bundle", TLSTRUST_SYSTEM_BUNDLE,
				     e == EFBIG ? "the host's CA bundle is larger than 16 MiB; "
						  "check /etc/ssl/certs/ca-certificates.crt"
						: NULL);
	}
	if (ut_write_all(fd, pem, len) == -1) {
		close(fd);
		return tlstrust_fail(err, errlen, "write", TLSTRUST_BUNDLE, NULL);
	}
	close(fd);
	return 0;
}

/* The read-only bind of the sandbox's bundle over the distribution's path, verified. */
static int
tlstrust_bind_bundle(char *err, size_t errlen)
{
	const unsigned long ro = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	struct statvfs sv;

	if (mount(TLSTRUST_BUNDLE, TLSTRUST_SYSTEM_BUNDLE, NULL, MS_BIND, NULL) == -1)
		return tlstrust_fail(err, errlen, "bind-mount the sandbox bundle over",
				     TLSTRUST_SYSTEM_BUNDLE, NULL);
	/* A bind takes the source mount's flags; read-only needs a remount of the bind. */
	if (mount(NULL, TLSTRUST_SYSTEM_BUNDLE, NULL, ro, NULL) == -1)
		return tlstrust_fail(err, errlen, "make read-only", TLSTRUST_SYSTEM_BUNDLE, NULL);
	if (statvfs(TLSTRUST_SYSTEM_BUNDLE, &sv) == -1)
		return tlstrust_fail(err, errlen, "statvfs", TLSTRUST_SYSTEM_BUNDLE, NULL);
	if (!(sv.f_flag & ST_RDONLY)) {
		errno = EROFS; /* the opposite of what we found: say it plainly */
		snprintf(err, errlen, "sandbox CA: the bind over %s is not read-only after the "
				      "remount; refusing to start",
			 TLSTRUST_SYSTEM_BUNDLE);
		return -1;
	}
	return 0;
}

/* Opens the system bundle as the sandbox sees it (the host's /etc, bound). *<fd> = -1
 * when it does not exist (a warning is logged). */
static int
tlstrust_open_system(int *fd, char *err, size_t errlen)
{
	struct stat st;

	*fd = open(TLSTRUST_SYSTEM_BUNDLE, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (*fd == -1 && (errno == ENOENT || errno == ENOTDIR)) {
		log_warnx("sandbox CA: no system bundle at %s: the sandbox's bundle %s holds only "
			  "the sandbox CA, so only terminated endpoints verify",
			  TLSTRUST_SYSTEM_BUNDLE, TLSTRUST_BUNDLE);
		return 0;
	}
	if (*fd == -1)
		return tlstrust_fail(err, errlen, "open", TLSTRUST_SYSTEM_BUNDLE, NULL);
	if (fstat(*fd, &st) == -1) {
		ut_close(fd);
		return tlstrust_fail(err, errlen, "stat", TLSTRUST_SYSTEM_BUNDLE, NULL);
	}
	if (!S_ISREG(st.st_mode)) {
		ut_close(fd);
		errno = EINVAL;
		return tlstrust_fail(err, errlen, "not a regular file:", TLSTRUST_SYSTEM_BUNDLE,
				     "the distribution's CA bundle should be a file "
				     "(update-ca-certificates)");
	}
	return 0;
}

int
tlstrust_install(const char *pem, char *err, size_t errlen)
{
	int dirfd = -1, sys_fd = -1, rc = -1;

	if (pem == NULL || !tlstrust_pem_plausible(pem, strlen(pem))) {
		errno = EINVAL;
		snprintf(err, errlen, "sandbox CA: no certificate to install");
		return -1;
	}
	if (tlstrust_open_system(&sys_fd, err, errlen) == -1)
		return -1;
	/* 0755 while filling it; 0555 once done. /run is the sandbox's own tmpfs. */
	if (mkdir(TLSTRUST_DIR, 0755) == -1) {
		tlstrust_fail(err, errlen, "mkdir", TLSTRUST_DIR, NULL);
		goto close_sys;
	}
	if ((dirfd = open(TLSTRUST_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		tlstrust_fail(err, errlen, "open", TLSTRUST_DIR, NULL);
		goto close_sys;
	}
	if (tlstrust_write_files(dirfd, pem, sys_fd, err, errlen) == -1)
		goto close_dir;
	if (chmod(TLSTRUST_DIR, 0555) == -1) {
		tlstrust_fail(err, errlen, "chmod 0555", TLSTRUST_DIR, NULL);
		goto close_dir;
	}
	if (sys_fd >= 0 && tlstrust_bind_bundle(err, errlen) == -1)
		goto close_dir;
	rc = 0;
close_dir:
	ut_close(&dirfd);
close_sys:
	ut_close(&sys_fd);
	return rc;
}
