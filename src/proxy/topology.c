/* proxy/topology: the sandbox's network namespace and the proxy's listeners (topology.h). */
#include "proxy/topology.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include "sandbox/netns.h"
#include "util/util.h"

static int
topo_ns_ino(int fd, ino_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return -1;
	*ino = st.st_ino;
	return 0;
}

int
topo_return(struct topo *t, char *err, size_t errlen)
{
	ino_t now;
	int fd;

	if (setns(t->host_ns, CLONE_NEWNET) == -1) {
		snprintf(err, errlen, "returning to the host network namespace: setns: %s",
			 strerror(errno));
		return -1;
	}
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd == -1 || topo_ns_ino(fd, &now) == -1 || now != t->host_ino) {
		const int e = fd == -1 ? errno : EIO;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "returning to the host network namespace: still elsewhere "
				      "after setns (inode check failed)");
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

int
topo_enter(struct topo *t, char *err, size_t errlen)
{
	t->sandbox_ns = -1;
	t->l.fd[0] = t->l.fd[1] = -1;
	t->l.n = 0;
	if ((t->host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1 ||
	    topo_ns_ino(t->host_ns, &t->host_ino) == -1) {
		snprintf(err, errlen, "opening /proc/self/ns/net: %s", strerror(errno));
		goto fail;
	}
	if (unshare(CLONE_NEWNET) == -1) {
		const int e = errno;
		snprintf(err, errlen, "creating the sandbox's network namespace: unshare: %s%s",
			 strerror(e), e == EPERM ? "\nhint: agentcage run must run as root" : "");
		errno = e;
		goto fail;
	}
	if (netns_lo_up() == -1) {
		snprintf(err, errlen, "bringing lo up in the sandbox's network namespace: %s",
			 strerror(errno));
		goto back;
	}
	if ((t->sandbox_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "opening the sandbox's /proc/self/ns/net: %s", strerror(errno));
		goto back;
	}
	if (proxy_listen(&t->l, PROXY_PORT, err, errlen) == -1)
		goto back;
	return 0;
back: {
	const int e = errno;
	char err2[256];
	if (topo_return(t, err2, sizeof(err2)) == -1) /* appended: the caller must exit */
		snprintf(err + strlen(err), errlen - strlen(err), "; and %s", err2);
	errno = e;
}
fail:
	topo_close(t);
	return -1;
}

void
topo_close(struct topo *t)
{
	ut_close(&t->host_ns);
	ut_close(&t->sandbox_ns);
	proxy_listeners_close(&t->l);
}
