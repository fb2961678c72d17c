/*
 * tofu: trust-on-first-use pinning of the SHA-256 of each binary that makes a network
 * decision (network.md §3.5). The first time a path is seen, the running image's hash is
 * pinned; later uses of the same path must hash the same, or the binary is denied for the
 * rest of the sandbox's life (the pin is never replaced).
 *
 * Context: proxy (supervisor side). The image is read through /proc/PID/exe, so a file
 * replaced or unlinked on disk after exec does not matter: what runs is what is hashed.
 * Hashing a large exe costs milliseconds (a 124 MB node ~0.3 s), so results are cached
 * per path with a fingerprint (st_dev, st_ino, size, mtime, ctime) taken with fstat on
 * the same open /proc/PID/exe fd; an unchanged fingerprint skips the hash.
 *
 * Errors: 0, or -1 with a reason a user can act on in the caller's buffer (errno is also
 * set: EPERM for a changed or deleted binary, else the failing call's errno).
 * Ownership: the cache owns copies of the paths; free it with tofu_free().
 */
#ifndef AGENTCAGE_TOFU_H
#define AGENTCAGE_TOFU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "util/sha256.h"

/* 64 hex digits and a NUL. */
#define TOFU_HEX_LEN SHA256_HEX_LEN
/* Pinned binaries per sandbox; beyond it a new binary is refused, never a pin dropped. */
#define TOFU_MAX_ENTRIES 4096
/* Largest image hashed. Hashing runs on the proxy loop: 512 MiB is ~0.4 s once per binary
 * (a bundled agent binary is ~0.2 GB); a bigger or sparse file planted to stall the
 * proxy for seconds is refused instead. */
#define TOFU_MAX_IMAGE (512LL << 20)

struct tofu;
struct stat;

/* What identifies an image without hashing it: an unchanged fingerprint is the same bytes
 * for TOFU's purposes (a rewrite in place changes mtime and ctime). */
struct tofu_fp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

/* The fingerprint of the file <st> describes. */
void tofu_fp_from_stat(struct tofu_fp *fp, const struct stat *st);

/* true when every field of <a> and <b> is equal. */
bool tofu_fp_equal(const struct tofu_fp *a, const struct tofu_fp *b);

/* An empty cache, or NULL with errno ENOMEM. */
struct tofu *tofu_new(void);

/* Frees <t> and every pin. NULL is accepted. */
void tofu_free(struct tofu *t);

/*
 * Checks the binary that <pid> runs, known to the caller as <path> (readlink of
 * /proc/<pid>/exe with " (deleted)" stripped, as ident gives it), against its pin.
 * <deleted>: the kernel marked the exe deleted; refused ("binary X was deleted or
 * replaced on disk while running") because its on-disk identity can no longer be
 * checked by anyone. On success fills <hex> (TOFU_HEX_LEN bytes) with the hash.
 * Refuses (-1, <reason>): a hash different from the pin ("binary /x changed since first
 * use (pinned sha256 ab12…, now cd34…)"), a process that is gone, an unreadable exe,
 * an image larger than TOFU_MAX_IMAGE (EFBIG), TOFU_MAX_ENTRIES reached.
 */
int tofu_check_pid(struct tofu *t, pid_t pid, const char *path, bool deleted,
		   char hex[TOFU_HEX_LEN], char *reason, size_t reason_len);

/*
 * The same for an already open <fd> on the image (tests, and callers that opened
 * /proc/PID/exe themselves). <fd> is read from offset 0 with pread; it stays open.
 */
int tofu_check_fd(struct tofu *t, int fd, const char *path, char hex[TOFU_HEX_LEN],
		  char *reason, size_t reason_len);

/* How many times an image was actually hashed (cache misses); for tests and benches. */
unsigned long tofu_hash_count(const struct tofu *t);

#endif
