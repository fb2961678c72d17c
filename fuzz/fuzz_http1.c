/* fuzz_http1: libFuzzer target for the HTTP/1 request-head parser and its helpers
 * (proxy/http1.h). Any input must give a head length within the input and the limit,
 * PARTIAL or BAD with a reason; the same input fed in two pieces (with <seen>) must give
 * the same answer; slices must lie inside the input. Never crash, over-read or hang. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proxy/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_slice(const char *buf, size_t len, struct http1_slice s)
{
	if (s.p < buf || s.p + s.len > buf + len)
		__builtin_trap();
}

static void
exercise_helpers(const char *buf, size_t len, const struct http1_req *req,
		 const struct http1_hdr *hdrs, size_t nh)
{
	struct http1_framing fr;
	struct http1_authority au;
	struct http1_url url;
	const char *why = NULL;

	if (http1_body_framing(req, hdrs, nh, &fr, &why) == -1 && why == NULL)
		__builtin_trap();
	why = NULL;
	if (http1_parse_authority(req->target.p, req->target.len, &au, &why) == 0) {
		check_slice(buf, len, au.host);
		if (au.port == 0 || au.host.len == 0)
			__builtin_trap();
	} else if (why == NULL) {
		__builtin_trap();
	}
	why = NULL;
	if (http1_parse_absolute(req->target.p, req->target.len, &url, &why) == 0) {
		check_slice(buf, len, url.host);
		if (url.path.len == 0 || url.path.p[0] != '/')
			__builtin_trap();
	} else if (why == NULL) {
		__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http1_req req, req2;
	struct http1_hdr hdrs[HTTP1_MAX_HEADERS], hdrs2[HTTP1_MAX_HEADERS];
	size_t nh = HTTP1_MAX_HEADERS, nh2 = HTTP1_MAX_HEADERS, split = size / 2;
	int r = http1_parse_request(buf, size, 0, &req, hdrs, &nh);
	int r2;

	if (r == HTTP1_BAD && (req.err == NULL || req.err_off >= size ||
			       (req.err_status != 400 && req.err_status != 431)))
		__builtin_trap();
	if (r >= 0) {
		if ((size_t)r > size || r > HTTP1_MAX_HEAD || nh > HTTP1_MAX_HEADERS)
			__builtin_trap();
		check_slice(buf, (size_t)r, req.method);
		check_slice(buf, (size_t)r, req.target);
		for (size_t i = 0; i < nh; i++) {
			check_slice(buf, (size_t)r, hdrs[i].name);
			check_slice(buf, (size_t)r, hdrs[i].value);
		}
		exercise_helpers(buf, size, &req, hdrs, nh);
	}
	/* Incremental: the first half returned PARTIAL, then the whole with seen = split. */
	if (http1_parse_request(buf, split, 0, &req2, hdrs2, &nh2) == HTTP1_PARTIAL) {
		nh2 = HTTP1_MAX_HEADERS;
		r2 = http1_parse_request(buf, size, split, &req2, hdrs2, &nh2);
		if (r2 != r || (r >= 0 && nh2 != nh))
			__builtin_trap();
	}
	return 0;
}
