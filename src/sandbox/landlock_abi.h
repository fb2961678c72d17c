/*
 * sandbox/landlock_abi: the Landlock kernel UAPI up to ABI 7, for building against old
 * headers. Debian 12's <linux/landlock.h> (linux-libc-dev 6.1) stops at ABI 2: it has no
 * TRUNCATE, IOCTL_DEV, NET_* or SCOPE_* bits, and its struct landlock_ruleset_attr lacks
 * handled_access_net and scoped. Values are from the kernel's include/uapi/linux/landlock.h;
 * they are ABI and never change. Types only; included by sandbox/landlock.c and its tests.
 */
#ifndef AGENTCAGE_SANDBOX_LANDLOCK_ABI_H
#define AGENTCAGE_SANDBOX_LANDLOCK_ABI_H

#include <stdint.h>
#include <sys/syscall.h>

/* Syscall numbers: the same on every architecture (unified numbering since 5.1). */
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

/* landlock_create_ruleset() flags. */
#define LL_CREATE_RULESET_VERSION (1U << 0) /* ABI 1: return the ABI version */
#define LL_CREATE_RULESET_ERRATA  (1U << 1) /* ABI 7: return the fixed-errata bitmask */

/* landlock_add_rule() rule types. */
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT     2 /* ABI 4 */

/* Filesystem rights (handled_access_fs, allowed_access). */
#define LL_FS_EXECUTE     (1ULL << 0)
#define LL_FS_WRITE_FILE  (1ULL << 1)
#define LL_FS_READ_FILE   (1ULL << 2)
#define LL_FS_READ_DIR    (1ULL << 3)
#define LL_FS_REMOVE_DIR  (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR   (1ULL << 6)
#define LL_FS_MAKE_DIR    (1ULL << 7)
#define LL_FS_MAKE_REG    (1ULL << 8)
#define LL_FS_MAKE_SOCK   (1ULL << 9)
#define LL_FS_MAKE_FIFO   (1ULL << 10)
#define LL_FS_MAKE_BLOCK  (1ULL << 11)
#define LL_FS_MAKE_SYM    (1ULL << 12)
#define LL_FS_REFER       (1ULL << 13) /* ABI 2: link/rename across directories */
#define LL_FS_TRUNCATE    (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV   (1ULL << 15) /* ABI 5: ioctl on character/block devices */

#define LL_FS_ABI1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_FS_ALL  (LL_FS_ABI1 | LL_FS_REFER | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* Rights the kernel accepts on a rule for a non-directory (EINVAL otherwise). */
#define LL_FS_FILE_RIGHTS                                                                  \
	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* Network rights (ABI 4, handled_access_net). */
#define LL_NET_BIND_TCP    (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)

/* IPC scoping (ABI 6, scoped). */
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL               (1ULL << 1)

/* landlock_restrict_self() flags (ABI 7: audit logging control). */
#define LL_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)
#define LL_RESTRICT_SELF_LOG_NEW_EXEC_ON   (1U << 1)
#define LL_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)

/* struct landlock_ruleset_attr as of ABI 6. The kernel takes its size as an argument, so
 * passing the full struct to an older kernel works as long as the new fields are 0. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

/* struct landlock_path_beneath_attr (packed in the UAPI). */
struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* struct landlock_net_port_attr (ABI 4). */
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

#endif
