/* fuzz_policy_load: libFuzzer target for the policy loader (policy/load.h). Any input
 * must either load or be refused with diagnostics; never crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>

#include "policy/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { 0 };
	struct policy *p = NULL;
	int rc = policy_load_buffer("<fuzz>", (const char *)data, size, &d, &p);

	/* the result convention: a policy and no error, or errors and no policy */
	if ((rc == 0) != (p != NULL) || (rc == 0) != (d.nerrors == 0))
		__builtin_trap();
	policy_free(p);
	diag_free(&d);
	return 0;
}
