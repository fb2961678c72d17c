/* proxy/hostsfile: `--hosts FILE` in hosts(5) format (contract in hostsfile.h). */
#include "proxy/hostsfile.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include "policy/addr.h"
#include "util/util.h"

#define HOSTS_MAX_LINE 4096 /* bytes quoted back in an error are cut at this */

/* One parse in progress: where we are, for messages. */
struct hosts_parser {
	struct hosts *h;
	const char *path;
	size_t line;
	char *err;
	size_t errlen;
};

static int
hosts_fail(struct hosts_parser *p, int e, const char *what, const char *tok, size_t toklen,
	   const char *hint)
{
	snprintf(p->err, p->errlen, "%s:%zu: %s '%.*s'; hint: %s", p->path, p->line, what,
		 (int)(toklen > 64 ? 64 : toklen), tok, hint);
	errno = e;
	return -1;
}

static bool
hosts_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* Length of <s>[0..<len>) without one trailing dot. */
static size_t
hosts_trim_dot(const char *s, size_t len)
{
	return len > 1 && s[len - 1] == '.' ? len - 1 : len;
}

static bool
hosts_name_valid(const char *s, size_t len)
{
	len = hosts_trim_dot(s, len);
	if (len == 0 || len > HOSTS_MAX_NAME || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!hosts_name_char(s[i]) || (s[i] == '.' && i + 1 < len && s[i + 1] == '.'))
			return false;
	return true;
}

static int
hosts_add(struct hosts_parser *p, const char *name, size_t len, const struct addr *a)
{
	struct hosts *h = p->h;
	char *copy;

	if (h->n == HOSTS_MAX_ENTRIES)
		return hosts_fail(p, E2BIG, "too many entries at", name, len,
				  "a hosts file holds at most 65536 name/address pairs");
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct hosts_entry *v = reallocarray(h->v, cap, sizeof(*v));
		if (v == NULL)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	len = hosts_trim_dot(name, len);
	if ((copy = strndup(name, len)) == NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (copy[i] >= 'A' && copy[i] <= 'Z')
			copy[i] = (char)(copy[i] - 'A' + 'a');
	h->v[h->n].name = copy;
	addr_to_sockaddr(a, 0, &h->v[h->n].addr);
	h->n++;
	return 0;
}

/* Next blank-separated token of [*<pos>, <end>); false when none is left. */
static bool
hosts_token(const char **pos, const char *end, const char **tok, size_t *toklen)
{
	const char *s = *pos;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return false;
	*tok = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*toklen = (size_t)(s - *tok);
	*pos = s;
	return true;
}

static int
hosts_parse_line(struct hosts_parser *p, const char *s, const char *end)
{
	const char *hash = memchr(s, '#', (size_t)(end - s));
	const char *tok;
	size_t toklen, nnames = 0;
	struct addr a;

	if (hash != NULL)
		end = hash;
	if (end > s && end[-1] == '\r') /* a file written on Windows */
		end--;
	if (!hosts_token(&s, end, &tok, &toklen))
		return 0;
	if (addr_parse(tok, toklen, &a) == -1 || tok[0] == '[')
		return hosts_fail(p, EINVAL, "not an IP address:", tok, toklen,
				  "each line is ADDRESS NAME [ALIAS...], the address a dotted "
				  "quad or an IPv6 literal");
	while (hosts_token(&s, end, &tok, &toklen)) {
		if (!hosts_name_valid(tok, toklen))
			return hosts_fail(p, EINVAL, "not a host name:", tok, toklen,
					  "names use letters, digits, '-', '.' and '_', at most "
					  "253 bytes");
		if (hosts_add(p, tok, toklen, &a) == -1)
			return -1;
		nnames++;
	}
	if (nnames == 0)
		return hosts_fail(p, EINVAL, "address without a name:", "", 0,
				  "add the host name after the address");
	return 0;
}

int
hosts_parse(struct hosts *h, const char *path, const char *text, size_t len, char *err,
	    size_t errlen)
{
	struct hosts_parser p = { .h = h, .path = path, .line = 0, .err = err, .errlen = errlen };
	const char *s = text, *end = text + len;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: contains a NUL byte; hint: is it a text file?", path);
		errno = EINVAL;
		return -1;
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;

		p.line++;
		if (eol - s > HOSTS_MAX_LINE) {
			hosts_fail(&p, EINVAL, "line too long:", s, 16,
				   "lines are at most 4096 bytes");
			goto fail;
		}
		if (hosts_parse_line(&p, s, eol) == -1)
			goto fail;
		s = nl ? nl + 1 : end;
	}
	return 0;
fail: {
	const int e = errno;
	hosts_free(h);
	errno = e;
	return -1;
}
}

int
hosts_load(struct hosts *h, const char *path, char *err, size_t errlen)
{
	cleanup_free char *text = NULL;
	size_t len;

	if (ut_read_file(path, HOSTS_MAX_FILE, &text, &len) == -1) {
		const int e = errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(e),
			 e == EFBIG ? "; hint: a hosts file is at most 4 MiB" : "");
		errno = e;
		return -1;
	}
	return hosts_parse(h, path, text, len, err, errlen);
}

static bool
hosts_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* O(entries): a hosts file for a sandbox is short; a large one would want a hash. */
size_t
hosts_lookup(const struct hosts *h, const char *name, unsigned short port,
	     struct sockaddr_storage *out, size_t cap)
{
	size_t len = hosts_trim_dot(name, strlen(name)), n = 0;

	for (size_t i = 0; h != NULL && i < h->n && n < cap; i++) {
		bool dup = false;

		if (strlen(h->v[i].name) != len || strncasecmp(h->v[i].name, name, len) != 0)
			continue;
		for (size_t j = 0; j < n && !dup; j++)
			dup = hosts_same_addr(&out[j], &h->v[i].addr);
		if (dup)
			continue;
		out[n] = h->v[i].addr;
		if (out[n].ss_family == AF_INET)
			((struct sockaddr_in *)&out[n])->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&out[n])->sin6_port = htons(port);
		n++;
	}
	return n;
}

void
hosts_free(struct hosts *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].name);
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
