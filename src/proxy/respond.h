/*
 * proxy/respond: the proxy's own HTTP answers to a client: "200 Connection established"
 * and the JSON error responses (docs/proxy.md "Responses"):
 *
 *   HTTP/1.1 <status> <reason>\r\n
 *   Content-Type: application/json\r\n
 *   Content-Length: <n>\r\n
 *   Connection: close\r\n
 *   \r\n
 *   {"error":"<kind>","detail":"<text>"}
 *
 * Context: proxy loop. No I/O: responses are built into a caller's buffer.
 * Errors: the builders return the length written, or -1 with ENAMETOOLONG when <cap> is
 * too small (RESPOND_MAX always suffices, the detail is cut to RESPOND_MAX_DETAIL first).
 */
#ifndef AGENTCAGE_PROXY_RESPOND_H
#define AGENTCAGE_PROXY_RESPOND_H

#include <stddef.h>

#define RESPOND_MAX_DETAIL 1200 /* bytes of detail text kept (a reason is <= 1024) */
#define RESPOND_MAX        4096 /* a whole error response, JSON escaping included */

#define RESPOND_ESTABLISHED "HTTP/1.1 200 Connection established\r\n\r\n"

/* The values of "error" (stable: clients and tests match on them). */
#define RESPOND_POLICY_DENIED        "policy_denied"
#define RESPOND_DESTINATION_DENIED   "destination_denied"
#define RESPOND_BAD_REQUEST          "bad_request"
#define RESPOND_DNS_FAILURE          "dns_failure"
#define RESPOND_UPSTREAM_UNREACHABLE "upstream_unreachable"
#define RESPOND_UPSTREAM_TIMEOUT     "upstream_timeout"
#define RESPOND_REQUEST_TIMEOUT      "request_timeout"
#define RESPOND_OVERLOADED           "overloaded"
#define RESPOND_SNI_MISMATCH         "sni_mismatch"   /* logged only: the tunnel is closed */
#define RESPOND_UPSTREAM_TLS         "upstream_tls"
#define RESPOND_UPSTREAM_BAD         "upstream_bad_response"

/* Reason phrase of <status> ("Forbidden"), "Error" for one this proxy never sends. */
const char *respond_reason(int status);

/*
 * Builds the JSON error response for <status> with "error" = <kind> and "detail" =
 * <detail> (escaped; cut to RESPOND_MAX_DETAIL bytes) into <buf>[0..<cap>). Returns the
 * length, or -1/ENAMETOOLONG.
 */
int respond_error(char *buf, size_t cap, int status, const char *kind, const char *detail);

/* Flags of respond_error_ex(). */
#define RESPOND_KEEP_ALIVE 1u /* no "Connection: close": the connection stays usable */
#define RESPOND_TEXT       2u /* text/plain body "<detail>\n" instead of JSON: git prints a
			       * text/plain error body to its user ("remote: ..."), a JSON one
			       * not at all */

/*
 * respond_error() for a response inside an opened (terminated or plain HTTP) tunnel, where
 * the connection may stay open: <flags> RESPOND_KEEP_ALIVE and/or RESPOND_TEXT. Same
 * returns as respond_error().
 */
int respond_error_ex(char *buf, size_t cap, int status, const char *kind, const char *detail,
		     unsigned flags);

#endif
