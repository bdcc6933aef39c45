/* td-trace.h: protocol traces for debugging, with secrets redacted
 *
 * Traces go to g_debug() in the caller's log domain (G_MESSAGES_DEBUG=td-imap shows them).
 * Client lines carrying credentials (IMAP LOGIN / AUTHENTICATE and SASL continuations,
 * POP3 PASS / APOP / AUTH, SMTP AUTH and SASL continuations) are redacted before anything
 * is logged, so no password can reach a log.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  TD_TRACE_IMAP,
  TD_TRACE_POP3,
  TD_TRACE_SMTP,
} TdTraceProtocol;

/* The line as it may be logged: credentials replaced by "***". @sasl_continuation: the
 * client line answers a SASL challenge (always fully redacted); pass TRUE as well for the
 * literal data a LOGIN sends after a "+" continuation, which on its own does not look like
 * a secret. A chunk of several lines is hidden from the first line with credentials on.
 * Lines are cut after 1000 bytes and bytes outside printable ASCII are escaped (\r, \xNN).
 * @len may be -1 for a NUL-terminated line. */
char     *td_trace_redact  (TdTraceProtocol  protocol,
                            gboolean         outgoing,
                            gboolean         sasl_continuation,
                            const char      *line,
                            gsize            len);
/* Logs a redacted line with g_debug when debugging is on for @log_domain. */
void      td_trace_line    (const char      *log_domain,
                            TdTraceProtocol  protocol,
                            gboolean         outgoing,
                            gboolean         sasl_continuation,
                            const char      *line,
                            gsize            len);

G_END_DECLS
