/* policy/emit: STUB until its helper writes it. */
#include <errno.h>

#include "policy/emit.h"

int
policy_emit(const struct policy *p, const char *extra_blocks, struct sbuf *out)
{
	(void)p;
	(void)extra_blocks;
	(void)out;
	errno = ENOSYS;
	return -1;
}
