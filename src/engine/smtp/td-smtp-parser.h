/* td-smtp-parser.h: a push parser for SMTP replies (RFC 5321 4.2), multi-line included
 *
 * Bytes go in in any chunking; complete replies come out in order. Server input is hostile:
 * a line longer than TD_SMTP_MAX_LINE, a reply of more than TD_SMTP_MAX_REPLY_LINES lines,
 * a line that does not start with three digits (2-5, 0-5, 0-9) and ' ', '-' or its end, or a
 * continuation with another code fail with a GError; the parser is dead after that.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 5321 4.5.3.1.5 allows 512 for a reply line; real servers send longer texts. */
#define TD_SMTP_MAX_LINE        4096
#define TD_SMTP_MAX_REPLY_LINES 256

typedef struct
{
  guint       code;        /* 220, 250, 354, 535, ... */
  char       *enhanced;    /* RFC 3463 "5.7.8" at the start of the text, or NULL */
  GPtrArray  *lines;       /* the text of each line (char*, valid UTF-8, no code, no CRLF) */
} TdSmtpReply;

void          td_smtp_reply_free  (TdSmtpReply *reply);
/* All lines joined by a space, the enhanced code left off: for messages to people. */
char         *td_smtp_reply_text  (const TdSmtpReply *reply);

typedef struct _TdSmtpParser TdSmtpParser;

TdSmtpParser *td_smtp_parser_new  (void);
void          td_smtp_parser_free (TdSmtpParser *self);
/* FALSE (and the error) when the input is malformed or beyond a bound. */
gboolean      td_smtp_parser_feed (TdSmtpParser *self,
                                   const char   *data,
                                   gsize         len,
                                   GError      **error);
/* The next complete reply (yours), or NULL. */
TdSmtpReply  *td_smtp_parser_pop  (TdSmtpParser *self);
/* TRUE when anything is buffered: a reply not popped yet, or part of one. */
gboolean      td_smtp_parser_has_buffered (TdSmtpParser *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdSmtpReply, td_smtp_reply_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdSmtpParser, td_smtp_parser_free)

G_END_DECLS
