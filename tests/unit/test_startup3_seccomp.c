/*
 * sandbox/seccomp: the programs embedded for x86_64 (sandbox/seccomp_prog.h) must be
 * exactly what the installed libseccomp compiles from the rules in seccomp.c, or a start
 * would load a filter nobody reviewed. With AGENTCAGE_SECCOMP_PROG=FILE set, this
 * program (re)writes FILE from libseccomp's output instead of testing.
 */
#include <stdlib.h>

#include "sandbox/seccomp.h"
#include "t.h"
#include "util/util.h"

/* Writes one program as a C array named <name>. */
static void
write_prog(FILE *f, const char *name, const struct sock_filter *p, unsigned short n)
{
	fprintf(f, "static const struct sock_filter %s[%u] = {\n", name, n);
	for (unsigned short i = 0; i < n; i++)
		fprintf(f, "\t{ 0x%04x, %u, %u, 0x%08x },\n", p[i].code, p[i].jt, p[i].jf, p[i].k);
	fprintf(f, "};\n");
}

/* The generated header for <c>; 0, or 1 after saying why not. */
static int
write_header(const char *path, const struct sc_filter *c)
{
	FILE *f = fopen(path, "we");

	if (f == NULL) {
		perror(path);
		return 1;
	}
	fprintf(f, "/*\n"
		   " * sandbox/seccomp_prog: the BPF programs seccomp_compile() produces on x86_64, kept as\n"
		   " * data so that seccomp_prepare() need not run libseccomp at every start (seccomp.h).\n"
		   " * Generated, not written by hand: tests/unit/test_startup3_seccomp.c compares them with\n"
		   " * what the installed libseccomp compiles and fails on any difference; it rewrites this\n"
		   " * file when run as\n"
		   " *     AGENTCAGE_SECCOMP_PROG=src/sandbox/seccomp_prog.h BUILD/tests/test_startup3_seccomp\n"
		   " * (after any change to the rules in seccomp.c or to libseccomp). Included by seccomp.c only.\n"
		   " */\n"
		   "#ifndef AGENTCAGE_SANDBOX_SECCOMP_PROG_H\n"
		   "#define AGENTCAGE_SANDBOX_SECCOMP_PROG_H\n\n"
		   "#if defined(__x86_64__) && !defined(__ILP32__)\n"
		   "#define SC_EMBEDDED_ARCH \"x86_64\"\n\n");
	write_prog(f, "sc_embedded_clone3", c->clone3_prog, c->clone3_len);
	fprintf(f, "\n");
	write_prog(f, "sc_embedded_main", c->main_prog, c->main_len);
	fprintf(f, "#endif\n\n#endif\n");
	if (fclose(f) != 0) {
		perror(path);
		return 1;
	}
	printf("wrote %s: clone3 %u, main %u instructions\n", path, c->clone3_len, c->main_len);
	return 0;
}

static bool
prog_equal(const struct sock_filter *a, unsigned short na, const struct sock_filter *b,
	   unsigned short nb)
{
	return na == nb && a != NULL && b != NULL && memcmp(a, b, na * sizeof(*a)) == 0;
}

int
main(void)
{
	struct sc_filter compiled, prepared;
	const char *out = getenv("AGENTCAGE_SECCOMP_PROG");
	char err[256] = "";
	int rc;

	if (seccomp_compile(&compiled, err, sizeof(err)) == -1) {
		T_OK(0, "libseccomp compiles the filter (%s)", err);
		return t_done();
	}
	if (out != NULL) {
		rc = write_header(out, &compiled);
		seccomp_filter_release(&compiled);
		return rc;
	}
	T_OK(compiled.clone3_len > 0 && compiled.main_len > 0, "libseccomp compiles the filter");
	T_OK(seccomp_prepare(&prepared, err, sizeof(err)) == 0, "seccomp_prepare gives a filter");
	T_OK(prog_equal(prepared.clone3_prog, prepared.clone3_len, compiled.clone3_prog,
			compiled.clone3_len),
	     "the clone3 program is libseccomp's, byte for byte");
	if (!T_OK(prog_equal(prepared.main_prog, prepared.main_len, compiled.main_prog,
			     compiled.main_len),
		  "the main program is libseccomp's, byte for byte (%u and %u instructions)",
		  prepared.main_len, compiled.main_len))
		printf("# hint: the rules in src/sandbox/seccomp.c or libseccomp changed; review, "
		       "then AGENTCAGE_SECCOMP_PROG=src/sandbox/seccomp_prog.h %s\n",
		       "BUILD/tests/test_startup3_seccomp");
	T_OK(prepared.main_prog != compiled.main_prog, "each call owns its own copy");
	seccomp_filter_release(&prepared);
	T_OK(prepared.main_prog == NULL && prepared.main_len == 0, "released: empty");
	seccomp_filter_release(&compiled);
	return t_done();
}
