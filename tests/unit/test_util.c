/* Unit tests for util/: numbers, bounded strings, JSON escaping, arena. */
#include "t.h"
#include "util/arena.h"
#include "util/sbuf.h"
#include "util/util.h"

static void
test_strtonum(void)
{
	const char *err;

	T_OK(ut_strtonum("443", 1, 65535, &err) == 443 && err == NULL, "strtonum parses 443");
	ut_strtonum("0", 1, 65535, &err);
	T_STREQ(err, "too small", "strtonum refuses 0 below min");
	ut_strtonum("70000", 1, 65535, &err);
	T_STREQ(err, "too large", "strtonum refuses 70000 above max");
	ut_strtonum(" 1", 0, 10, &err);
	T_STREQ(err, "invalid", "strtonum refuses leading blank");
	ut_strtonum("+1", 0, 10, &err);
	T_STREQ(err, "invalid", "strtonum refuses '+'");
	ut_strtonum("1x", 0, 10, &err);
	T_STREQ(err, "invalid", "strtonum refuses trailing garbage");
	ut_strtonum("", 0, 10, &err);
	T_STREQ(err, "invalid", "strtonum refuses empty");
}

static void
test_json(void)
{
	struct sbuf b = { 0 };
	struct json_obj o;

	json_begin(&o, &b);
	json_kv_str(&o, "a", "q\"\\\n\x01");
	json_kv_int(&o, "n", -3);
	json_kv_bool(&o, "t", true);
	json_kv_str(&o, "bad", "\xff\xc3\xa9");
	json_end(&o);
	T_STREQ(sbuf_str(&b), "{\"a\":\"q\\\"\\\\\\n\\u0001\",\"n\":-3,\"t\":true,\"bad\":\"\\u00ff\xc3\xa9\"}",
		"json escapes quotes, controls and invalid UTF-8, keeps valid UTF-8");
	sbuf_free(&b);
}

static void
test_arena(void)
{
	struct arena a = { 0 };
	int *arr = NULL;
	size_t n = 0;

	for (int i = 0; i < 1000; i++)
		*(int *)arena_push(&a, &arr, &n, sizeof(int)) = i;
	int ok = n == 1000;
	for (int i = 0; i < 1000 && ok; i++)
		ok = arr[i] == i;
	T_OK(ok, "arena_push keeps 1000 elements in order");
	T_STREQ(arena_strndup(&a, "hello", 4), "hell", "arena_strndup copies n bytes");
	arena_free(&a);
}

static void
test_snprintf(void)
{
	char buf[4];

	T_OK(ut_snprintf(buf, sizeof(buf), "%s", "abc") == 3, "snprintf fits");
	T_OK(ut_snprintf(buf, sizeof(buf), "%s", "abcd") == -1 && errno == ENAMETOOLONG,
	     "snprintf reports truncation");
}

int
main(void)
{
	test_strtonum();
	test_json();
	test_arena();
	test_snprintf();
	return t_done();
}
