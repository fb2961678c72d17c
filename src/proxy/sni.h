/*
 * sni: reads the server name a TLS client asks for (the ClientHello's server_name
 * extension, RFC 8446 §4.1.2 and RFC 6066 §3) from the first bytes of a CONNECT tunnel,
 * so the proxy can refuse a passthrough tunnel whose SNI names another host than the
 * CONNECT target (domain fronting, issue 5 "When to terminate").
 *
 * Context: proxy loop. Sans-I/O: no allocation, nothing global; the caller buffers the
 * tunnel's first bytes (at most SNI_MAX_HELLO) and calls again as more arrive. Every
 * length field is checked against its container before use; nothing past <len> is read.
 *
 * Errors: results are enum sni_status values; on SNI_BAD *<why> is a static reason a log
 * can print ("duplicate server_name extension"). errno is never set.
 *
 * Strictness: the record type must be handshake (22) with legacy version 0x0301..0x0304,
 * records at most 2^14 bytes, the handshake message a ClientHello (type 1) reassembled
 * across records; session_id <= 32 bytes, cipher_suites even and >= 2 bytes, at least one
 * compression method, extensions (if any) exactly filling the hello. The first host_name
 * of the first (only) server_name extension is taken: 1..253 bytes of letters, digits,
 * '-' and '.', lower-cased, one trailing dot stripped. An IPv4 literal passes as a name
 * (RFC 6066 forbids it, but the proxy compares it with the CONNECT target anyway, where a
 * mismatch is what matters); anything else (NUL, '_', ':', empty) is SNI_BAD.
 */
#ifndef AGENTCAGE_SNI_H
#define AGENTCAGE_SNI_H

#include <stddef.h>

/* Bytes of ClientHello buffered at most: one full record plus its header. A hello that
 * needs more is SNI_BAD ("ClientHello too large"). */
#define SNI_MAX_HELLO (16 * 1024 + 5)
/* Longest server name accepted (text form of a DNS name). */
#define SNI_MAX_NAME 253

enum sni_status {
	SNI_FOUND = 1,		/* <host> holds the name */
	SNI_ABSENT = 0,		/* a well-formed ClientHello without server_name */
	SNI_PARTIAL = -2,	/* need more bytes */
	SNI_NOT_TLS = -3,	/* not a TLS handshake record at all */
	SNI_BAD = -1,		/* TLS, but malformed or over a limit (*why) */
};

/*
 * Is <buf>[0..<len>) the start of a TLS handshake record (0x16 0x03 0x01..0x04)?
 * 1 yes, 0 no, -1 need more bytes (len < 3 and the bytes so far match).
 */
int sni_is_tls(const unsigned char *buf, size_t len);

/*
 * Reads the server_name (host_name) of the ClientHello at the start of <buf> (may span
 * several handshake records); lower-cased, without trailing dot, NUL-terminated in
 * <host> (<hostcap> bytes; a name that does not fit is SNI_BAD). Returns SNI_FOUND,
 * SNI_ABSENT, SNI_PARTIAL (need more; beyond SNI_MAX_HELLO it is SNI_BAD), SNI_NOT_TLS,
 * or SNI_BAD (*<why> set). <host> is written only on SNI_FOUND; <why> may be NULL.
 */
int sni_parse(const unsigned char *buf, size_t len, char *host, size_t hostcap,
	      const char **why);

#endif
