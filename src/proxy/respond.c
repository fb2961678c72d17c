/* proxy/respond: the proxy's own HTTP answers (contract in respond.h). */
#include "proxy/respond.h"

#include "util/sbuf.h"
#include "util/util.h"

static const struct {
	int status;
	const char *reason;
} respond_reasons[] = {
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 413, "Content Too Large" },
	{ 431, "Request Header Fields Too Large" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
};

const char *
respond_reason(int status)
{
	for (size_t i = 0; i < NELEM(respond_reasons); i++)
		if (respond_reasons[i].status == status)
			return respond_reasons[i].reason;
	return "Error";
}

int
respond_error_ex(char *buf, size_t cap, int status, const char *kind, const char *detail,
		 unsigned flags)
{
	struct sbuf body = { 0 };
	size_t dlen = strlen(detail);
	int n;

	if (dlen > RESPOND_MAX_DETAIL)
		dlen = RESPOND_MAX_DETAIL;
	if (flags & RESPOND_TEXT) {
		/* One line: a CR or LF in the detail would start a fake "remote:" line. */
		for (size_t i = 0; i < dlen; i++)
			sbuf_putc(&body, detail[i] == '\r' || detail[i] == '\n' ? ' ' : detail[i]);
		sbuf_putc(&body, '\n');
	} else {
		/* Written by hand rather than with json_kv_str so the detail can be cut by
		 * length. */
		sbuf_puts(&body, "{\"error\":");
		json_str(&body, kind, strlen(kind));
		sbuf_puts(&body, ",\"detail\":");
		json_str(&body, detail, dlen);
		sbuf_puts(&body, "}\n");
	}
	n = ut_snprintf(buf, cap,
			"HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			"Content-Length: %zu\r\n%s\r\n%s",
			status, respond_reason(status),
			(flags & RESPOND_TEXT) ? "text/plain; charset=utf-8" : "application/json",
			body.len, (flags & RESPOND_KEEP_ALIVE) ? "" : "Connection: close\r\n",
			sbuf_str(&body));
	sbuf_free(&body);
	return n;
}

int
respond_error(char *buf, size_t cap, int status, const char *kind, const char *detail)
{
	return respond_error_ex(buf, cap, status, kind, detail, 0);
}
