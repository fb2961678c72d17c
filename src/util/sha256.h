/*
 * sha256: the one door to libcrypto's digest (house rule 16). Used for the policy file
 * hash (logs, `ps`) and for pinning sandbox binaries (proxy/tofu).
 *
 * Context: any but the pre-exec child. Errors: 0 / -1 with errno (EIO when libcrypto
 * fails, ENOMEM, or the read error).
 */
#ifndef AGENTCAGE_SHA256_H
#define AGENTCAGE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN      32
#define SHA256_HEX_LEN  (2 * SHA256_LEN + 1) /* with the NUL */
#define SHA256_FD_BLOCK (64 * 1024)          /* read size for sha256_fd() */

/* Digest of <buf>[0..<len>). */
int sha256_buf(const void *buf, size_t len, uint8_t out[SHA256_LEN]);

/* Digest of everything readable from <fd> starting at offset 0 (pread, so the fd's
 * offset is untouched). Cost: one pass over the file in SHA256_FD_BLOCK reads. */
int sha256_fd(int fd, uint8_t out[SHA256_LEN]);

/* Lower-case hex of <md>, NUL-terminated. */
void sha256_hex(const uint8_t md[SHA256_LEN], char hex[SHA256_HEX_LEN]);

#endif
