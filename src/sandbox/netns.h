/*
 * sandbox/netns: the sandbox's network namespace holds only `lo`, brought up here with one
 * ioctl (no `ip` helper to spawn). With no other interface there is no route: a connect()
 * to any non-loopback address fails at once with ENETUNREACH and no packet leaves.
 *
 * Context: sandbox init (pid 1), inside the new network namespace, still root.
 * Errors: 0 / -1 with errno.
 */
#ifndef AGENTCAGE_SANDBOX_NETNS_H
#define AGENTCAGE_SANDBOX_NETNS_H

/* Sets IFF_UP on "lo" of the calling task's network namespace. -1 and errno on error. */
int netns_lo_up(void);

#endif
