/*
 * proxy/topology: the sandbox's network namespace, made by the supervisor itself so the
 * proxy's listeners exist before the command runs (design.md "Topology"):
 *
 *   topo_enter():  fd on our own (host) namespace; unshare(CLONE_NEWNET); lo up;
 *                  127.0.0.1:3128 and [::1]:3128 listeners; fd on the new namespace.
 *                  The calling thread is now IN the sandbox namespace: clone init
 *                  WITHOUT CLONE_NEWNET and it inherits it.
 *   topo_return(): setns() back to the host namespace, verified by comparing the inode
 *                  of /proc/self/ns/net with the one saved before (a silent failure
 *                  would dial upstream from inside the sandbox, where nothing routes).
 *
 * Context: supervisor, single-threaded (setns and unshare act on the calling thread
 * only; no other thread may exist yet). Errors: 0 / -1 with errno and a message + hint
 * in <err>. Ownership: struct topo owns both namespace fds and the listeners until
 * they are taken (proxy_new() takes the listeners); topo_close() frees the rest.
 */
#ifndef AGENTCAGE_PROXY_TOPOLOGY_H
#define AGENTCAGE_PROXY_TOPOLOGY_H

#include <stddef.h>
#include <sys/types.h>

#include "proxy/proxy.h"

struct topo {
	int host_ns;                 /* the supervisor's namespace, -1 when closed */
	int sandbox_ns;              /* the sandbox's, -1 when closed */
	ino_t host_ino;              /* inode of host_ns, to verify the return */
	struct proxy_listeners l;
};

/* See above. On failure the thread is back in the host namespace (or the error says it
 * could not return: the caller must then exit). <t> needs no initialisation. */
int topo_enter(struct topo *t, char *err, size_t errlen);

/* Back to the host namespace, verified. */
int topo_return(struct topo *t, char *err, size_t errlen);

/* Closes the namespace fds and any listeners still held. */
void topo_close(struct topo *t);

#endif
