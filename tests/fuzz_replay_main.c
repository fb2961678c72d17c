/*
 * fuzz_replay_main: a libFuzzer-free driver, linked with one fuzz/<target>.c, that feeds
 * every file of fuzz/corpus/<target>/ to LLVMFuzzerTestOneInput() once, so `make test`
 * re-checks each target's seeds and past findings with the target's own assertions
 * (a failed check aborts, which tests/run reports). The target name comes from the
 * program name (replay_<target>). REPLAY_VERBOSE=1 prints each file before it runs,
 * to find the input behind a crash. Run from the repository root.
 */
#include <dirent.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (1024 * 1024)

int
main(int argc, char **argv)
{
	const char *target = strstr(basename(argv[0]), "replay_");
	const bool verbose = getenv("REPLAY_VERBOSE") != NULL;
	char dir[256], path[512];
	size_t n = 0;
	struct dirent *de;
	DIR *dh;

	(void)argc;
	if (target == NULL || ut_snprintf(dir, sizeof(dir), "fuzz/corpus/%s", target + 7) == -1) {
		printf("not ok 1 - cannot tell the fuzz target from the program name %s\n", argv[0]);
		return 1;
	}
	dh = opendir(dir);
	if (dh == NULL) {
		printf("not ok 1 - fuzz corpus %s: %s (run from the repository root)\n", dir,
		       strerror(errno));
		return 1;
	}
	while ((de = readdir(dh)) != NULL) {
		cleanup_free char *buf = NULL;
		size_t len = 0;

		if (de->d_name[0] == '.')
			continue;
		if (ut_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) == -1 ||
		    ut_read_file(path, REPLAY_MAX_INPUT, &buf, &len) == -1) {
			printf("not ok 1 - fuzz corpus: cannot read %s: %s\n", path, strerror(errno));
			closedir(dh);
			return 1;
		}
		if (verbose)
			fprintf(stderr, "replay %s\n", path);
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		n++;
	}
	closedir(dh);
	printf("%s 1 - fuzz corpus %s: %zu inputs replayed without a finding\n", n ? "ok" : "not ok",
	       dir, n);
	printf("1..1\n");
	return n ? 0 : 1;
}
