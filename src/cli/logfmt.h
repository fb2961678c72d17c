/*
 * cli/logfmt: one log event (cli/logread.h) as one human line, for `agentcage logs`.
 *
 * Context: CLI. Errors: none (sbuf allocation failure aborts). Ownership: the event is
 * borrowed; the text is appended to the caller's buffer.
 */
#ifndef AGENTCAGE_CLI_LOGFMT_H
#define AGENTCAGE_CLI_LOGFMT_H

#include "cli/logread.h"
#include "util/sbuf.h"

/*
 * Appends the one-line human form of <ev> to <b> (with its newline). Layout, one event a
 * line, fields separated by single spaces so grep and awk work on it:
 *
 *   TIME NET  ALLOWED|DENIED|LEARN|AUDIT BINARY(PID) -> HOST:PORT [policy:BLOCK] DETAIL
 *   TIME HTTP ALLOWED|DENIED|LEARN|AUDIT BINARY(PID) -> METHOD HOST[:PORT]PATH [policy:BLOCK]
 * DETAIL TIME START NAME pid:PID policy:SOURCE -- COMMAND TIME EXIT NAME pid:PID status:N
 * [signal:SIG] [duration:SECs] TIME EXEC NAME pid:PID -- COMMAND TIME EXEC_EXIT NAME pid:PID
 * status:N [signal:SIG] [duration:SECs] TIME POLICY NAME generation:N RESULT policy:SOURCE [REASON]
 *   TIME EVENT (an event this version does not know: --json shows it whole)
 *
 * DETAIL is the reason for a denial or a learn line (plus "(error: KIND)" when the
 * refusal was not a policy decision), and "N up, N down" for an allowed net line, the
 * status and sizes for an allowed http line. "[policy:BLOCK gen:N]" when the line has a
 * generation. Unknown values print as "-" (block) or "?". Control bytes in logged
 * strings print as '?': a host name or path in the log must not drive the terminal.
 */
void logread_format(const struct logread_event *ev, struct sbuf *b);

#endif
