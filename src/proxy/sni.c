/*
 * sni.c: see sni.h. Two steps: the handshake message is reassembled from the records'
 * fragments into a bounded local copy (a ClientHello may be split over records, and
 * padding or post-quantum key shares push real ones past one TCP segment), then walked
 * with a reader whose every take is checked against what remains of its container.
 */
#include "proxy/sni.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define TLS_RECORD_HEADER 5
#define TLS_RECORD_MAX (16 * 1024)	/* plaintext fragment limit, RFC 8446 §5.1 */
#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_HEADER 4
#define TLS_RANDOM_LEN 32
#define TLS_SESSION_ID_MAX 32
#define TLS_EXT_SERVER_NAME 0
#define SNI_NAME_TYPE_HOST 0
/* Handshake bytes that fit in SNI_MAX_HELLO input bytes with one record header. */
#define SNI_MAX_HS (SNI_MAX_HELLO - TLS_RECORD_HEADER)

/* A bounded view: take() and the u8/u16 readers fail instead of running past end. */
struct rd {
	const unsigned char *p;
	size_t left;
};

static bool
take(struct rd *r, size_t n, struct rd *out)
{
	if (n > r->left)
		return false;
	if (out != NULL)
		*out = (struct rd){ r->p, n };
	r->p += n;
	r->left -= n;
	return true;
}

static bool
get_u8(struct rd *r, size_t *v)
{
	if (r->left < 1)
		return false;
	*v = r->p[0];
	r->p++;
	r->left--;
	return true;
}

static bool
get_u16(struct rd *r, size_t *v)
{
	if (r->left < 2)
		return false;
	*v = (size_t)r->p[0] << 8 | r->p[1];
	r->p += 2;
	r->left -= 2;
	return true;
}

/* A length-prefixed vector (prefix of <width> bytes) whose body must fit in <r>. */
static bool
get_vec(struct rd *r, int width, struct rd *out)
{
	size_t n;

	if (!(width == 1 ? get_u8(r, &n) : get_u16(r, &n)))
		return false;
	return take(r, n, out);
}

static int
bad(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return SNI_BAD;
}

int
sni_is_tls(const unsigned char *buf, size_t len)
{
	if (len >= 1 && buf[0] != TLS_CT_HANDSHAKE)
		return 0;
	if (len >= 2 && buf[1] != 0x03)
		return 0;
	if (len >= 3 && (buf[2] < 0x01 || buf[2] > 0x04))
		return 0;
	return len >= 3 ? 1 : -1;
}

/*
 * Copies the handshake bytes of the records at the start of <buf> into <hs> (room for
 * SNI_MAX_HS bytes) until the first handshake message is complete. SNI_FOUND (used as "complete"; *<hslen> = message
 * length with its header), SNI_PARTIAL, SNI_NOT_TLS or SNI_BAD.
 */
static int
reassemble(const unsigned char *buf, size_t len, unsigned char *hs, size_t *hslen,
	   const char **why)
{
	size_t off = 0, have = 0, need = 0;

	/* Only the first SNI_MAX_HELLO bytes count: the caller buffers no more, so a hello
	 * that needs more must fail the same way however much has arrived. */
	if (len > SNI_MAX_HELLO)
		len = SNI_MAX_HELLO;
	for (;;) {
		size_t rlen, avail;
		int t;

		if (need != 0 && have >= need)
			break;
		t = sni_is_tls(buf + off, len - off);
		if (t == -1 || (t == 1 && len - off < TLS_RECORD_HEADER))
			return len >= SNI_MAX_HELLO ? bad(why, "ClientHello too large") : SNI_PARTIAL;
		if (t == 0)
			return off == 0 ? SNI_NOT_TLS
					: bad(why, "non-handshake record inside the ClientHello");
		rlen = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (rlen == 0)
			return bad(why, "empty handshake record");
		if (rlen > TLS_RECORD_MAX)
			return bad(why, "TLS record longer than 2^14 bytes");
		off += TLS_RECORD_HEADER;
		avail = len - off < rlen ? len - off : rlen;	/* have + avail <= len - 5 */
		memcpy(hs + have, buf + off, avail);
		have += avail;
		if (need == 0 && have >= TLS_HS_HEADER) {
			size_t mlen = (size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3];

			if (hs[0] != TLS_HS_CLIENT_HELLO)
				return bad(why, "first handshake message is not a ClientHello");
			if (mlen > SNI_MAX_HS - TLS_HS_HEADER)
				return bad(why, "ClientHello too large");
			need = TLS_HS_HEADER + mlen;
		}
		if (avail < rlen) {	/* this record is cut short by the buffer */
			if (need != 0 && have >= need)
				break;
			return len >= SNI_MAX_HELLO ? bad(why, "ClientHello too large") : SNI_PARTIAL;
		}
		off += rlen;
	}
	*hslen = need;
	return SNI_FOUND;
}

/* Checks and copies a host_name: letters, digits, '-', '.'; no empty label. */
static int
copy_name(struct rd name, char *host, size_t hostcap, const char **why)
{
	size_t n = name.left;

	if (n > 0 && name.p[n - 1] == '.')
		n--;	/* one trailing dot: the absolute form of the same name */
	if (n == 0)
		return bad(why, "empty server name");
	if (name.p[n - 1] == '.')
		return bad(why, "empty label in server name");	/* "a.." */
	if (n > SNI_MAX_NAME)
		return bad(why, "server name longer than 253 bytes");
	if (n + 1 > hostcap)
		return bad(why, "server name longer than the caller's buffer");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = name.p[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == '.' && (i == 0 || name.p[i - 1] == '.'))
			return bad(why, "empty label in server name");
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return bad(why, "byte other than letter, digit, '-' or '.' in server name");
		host[i] = (char)c;
	}
	host[n] = '\0';
	return SNI_FOUND;
}

/* The server_name extension body: ServerNameList; the first host_name is taken. */
static int
parse_server_name(struct rd ext, char *host, size_t hostcap, const char **why)
{
	struct rd list, name;
	bool found = false;
	int r = SNI_ABSENT;

	if (!get_vec(&ext, 2, &list) || ext.left != 0)
		return bad(why, "server_name list length does not match its extension");
	if (list.left == 0)
		return bad(why, "empty server_name list");
	while (list.left > 0) {
		size_t type;

		if (!get_u8(&list, &type) || !get_vec(&list, 2, &name))
			return bad(why, "server_name entry overruns its list");
		if (type != SNI_NAME_TYPE_HOST)
			continue;
		/* RFC 6066 §3: at most one name per type. Two would let the client show us
		 * one host and the server another. */
		if (found)
			return bad(why, "two host_names in server_name");
		found = true;
		r = copy_name(name, host, hostcap, why);
		if (r != SNI_FOUND)
			return r;
	}
	return r;
}

/* The ClientHello body (after the 4-byte handshake header). */
static int
parse_hello(struct rd h, char *host, size_t hostcap, const char **why)
{
	struct rd sid, suites, comp, exts, ext;
	bool seen_sni = false;
	int r = SNI_ABSENT;

	if (!take(&h, 2 + TLS_RANDOM_LEN, NULL))
		return bad(why, "ClientHello shorter than version and random");
	if (!get_vec(&h, 1, &sid))
		return bad(why, "session_id overruns the ClientHello");
	if (sid.left > TLS_SESSION_ID_MAX)
		return bad(why, "session_id longer than 32 bytes");
	if (!get_vec(&h, 2, &suites))
		return bad(why, "cipher_suites overrun the ClientHello");
	if (suites.left < 2 || suites.left % 2 != 0)
		return bad(why, "cipher_suites length is odd or zero");
	if (!get_vec(&h, 1, &comp))
		return bad(why, "compression_methods overrun the ClientHello");
	if (comp.left < 1)
		return bad(why, "no compression method");
	if (h.left == 0)
		return SNI_ABSENT;	/* no extensions at all (TLS 1.0-era clients) */
	if (!get_vec(&h, 2, &exts) || h.left != 0)
		return bad(why, "extensions length does not match the ClientHello");
	while (exts.left > 0) {
		size_t type;

		if (!get_u16(&exts, &type) || !get_vec(&exts, 2, &ext))
			return bad(why, "extension overruns the extensions block");
		if (type != TLS_EXT_SERVER_NAME)
			continue;
		if (seen_sni)
			return bad(why, "duplicate server_name extension");
		seen_sni = true;
		r = parse_server_name(ext, host, hostcap, why);
		if (r == SNI_BAD)
			return r;
	}
	return r;
}

int
sni_parse(const unsigned char *buf, size_t len, char *host, size_t hostcap, const char **why)
{
	unsigned char hs[SNI_MAX_HS];
	char name[SNI_MAX_NAME + 1];
	size_t hslen = 0;
	int r;

	r = reassemble(buf, len, hs, &hslen, why);
	if (r != SNI_FOUND)
		return r;
	/* Parse into a scratch name so <host> is written only on success. */
	r = parse_hello((struct rd){ hs + TLS_HS_HEADER, hslen - TLS_HS_HEADER }, name,
			hostcap < sizeof(name) ? hostcap : sizeof(name), why);
	if (r == SNI_FOUND)
		memcpy(host, name, strlen(name) + 1);
	return r;
}
