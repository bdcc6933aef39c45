/* td-pop3-parser.h: push parser for POP3 server responses (RFC 1939, 2449, 5034)
 *
 * POP3 cannot tell from the wire whether a "+OK" opens a multi-line response: the caller
 * says so. Before each command it sends, it queues what the answer will be with
 * td_pop3_parser_expect(), in sending order (pipelined commands queue several); each status
 * line takes the oldest expectation. Without one, a status line is taken as a single line.
 *
 * The parser yields events: status lines ("+OK" / "-ERR" with the RFC 2449 response code
 * parsed), SASL continuations ("+ base64"), and multi-line bodies up to their "CRLF.CRLF",
 * dot-unstuffed, either line by line (listings: CAPA, LIST, UIDL) or as pieces of the raw
 * body (RETR, TOP), so that a large message can be passed on while it arrives and never has
 * to be held whole. Bare LF line ends from broken servers are accepted everywhere.
 *
 * Server input is hostile: every bound below is enforced and a violation is a GError
 * (TD_ERROR_LIMIT or TD_ERROR_PARSE), never a crash; the parser is then poisoned. Any chunking
 * of the input gives the same events (DATA pieces may be cut at other places, their
 * concatenation is the same) and the same error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bounds (defaults; td_pop3_parser_set_limits() changes them) */
#define TD_POP3_MAX_LINE_DEFAULT      (1024 * 1024)        /* bytes of one line, any line */
#define TD_POP3_MAX_MULTILINE_DEFAULT (256 * 1024 * 1024)  /* bytes of one multi-line body */
/* RFC 1939: a unique-id is 1 to 70 characters 0x21-0x7e; a little more is tolerated. */
#define TD_POP3_MAX_UID_LENGTH        255

/* What the answer to a command will be. */
typedef enum
{
  TD_POP3_EXPECT_STATUS,  /* one status line (USER, PASS, STAT, DELE, QUIT, the greeting ...) */
  TD_POP3_EXPECT_LINES,   /* after +OK a listing, one LINE event per line (CAPA, LIST, UIDL) */
  TD_POP3_EXPECT_DATA,    /* after +OK a body, in DATA pieces (RETR, TOP) */
  TD_POP3_EXPECT_SASL,    /* "+ challenge" lines, then a status line (AUTH) */
} TdPop3Expect;

typedef enum
{
  TD_POP3_EVENT_STATUS,        /* "+OK ..." or "-ERR ..." */
  TD_POP3_EVENT_CONTINUATION,  /* "+ base64" (only while a TD_POP3_EXPECT_SASL is current) */
  TD_POP3_EVENT_LINE,          /* one line of a listing */
  TD_POP3_EVENT_DATA,          /* a piece of a body */
  TD_POP3_EVENT_END,           /* the "." that ends a multi-line response */
} TdPop3EventKind;

/* RFC 2449 extended response codes (RFC 2449 IN-USE and LOGIN-DELAY, RFC 3206 SYS/TEMP,
 * SYS/PERM and AUTH). Unknown sub-levels are ignored as RFC 2449 asks ("IN-USE/FOO" is
 * IN-USE); anything else is OTHER, with the text kept. */
typedef enum
{
  TD_POP3_CODE_NONE,
  TD_POP3_CODE_IN_USE,
  TD_POP3_CODE_LOGIN_DELAY,
  TD_POP3_CODE_SYS_TEMP,
  TD_POP3_CODE_SYS_PERM,
  TD_POP3_CODE_AUTH,
  TD_POP3_CODE_OTHER,
} TdPop3Code;

typedef struct
{
  TdPop3EventKind kind;
  gboolean        ok;         /* STATUS: "+OK" (TRUE) or "-ERR" */
  TdPop3Code      code;       /* STATUS */
  char           *code_text;  /* STATUS: what was between the brackets, as sent
                               * ("SYS/TEMP", "UTF8"), or NULL */
  char           *text;       /* STATUS, CONTINUATION: the rest of the line (valid UTF-8, may
                               * be empty, trailing blanks dropped). LINE: the line as sent,
                               * dot-unstuffed, without its line end (never a NUL byte, not
                               * necessarily UTF-8) */
  GBytes         *data;       /* DATA: dot-unstuffed bytes of the body, line ends as sent
                               * (CRLF, or LF from a broken server), the last line's end
                               * included. May contain NUL bytes. */
} TdPop3Event;

void            td_pop3_event_free          (TdPop3Event *event);

typedef struct _TdPop3Parser TdPop3Parser;

TdPop3Parser   *td_pop3_parser_new          (void);
void            td_pop3_parser_free         (TdPop3Parser *self);
/* @max_line: bytes of one line without its LF (status, listing and body lines alike);
 * @max_multiline: bytes of one multi-line body on the wire, its final "." line included. */
void            td_pop3_parser_set_limits   (TdPop3Parser *self,
                                             gsize         max_line,
                                             gsize         max_multiline);
/* Queues what the next response not yet expected will be. */
void            td_pop3_parser_expect       (TdPop3Parser *self,
                                             TdPop3Expect  expect);
/* Expectations queued and not yet taken by a status line (the current multi-line response
 * does not count). */
guint           td_pop3_parser_get_expected (TdPop3Parser *self);
/* Feed bytes. Each event is appended to @events (TdPop3Event*, the array's free func must be
 * td_pop3_event_free). Returns FALSE with @error set on a violation; the parser is then
 * poisoned and every later call fails too. */
gboolean        td_pop3_parser_feed         (TdPop3Parser *self,
                                             const guint8 *data,
                                             gsize         len,
                                             GPtrArray    *events,
                                             GError      **error);
/* The input ended (EOF). FALSE with TD_ERROR_PARSE when that cuts a response: a line without
 * its end, or a multi-line body without its final ".". */
gboolean        td_pop3_parser_end          (TdPop3Parser *self,
                                             GError      **error);
/* TRUE between a "+OK" that opened a multi-line response and its final ".". */
gboolean        td_pop3_parser_in_multiline (TdPop3Parser *self);
/* Bytes of the current line that are buffered (for tests and the STLS check). */
gsize           td_pop3_parser_get_pending  (TdPop3Parser *self);

/* --- Reading what the responses carry (all refuse garbage with TD_ERROR_PARSE) --- */

/* "+OK nn mm ...": number of messages and their total size. Text after them is ignored. */
gboolean        td_pop3_parse_stat          (const char   *text,
                                             guint32      *count,
                                             guint64      *size,
                                             GError      **error);
/* A scan listing "n size ...", of LIST or of the "+OK" of LIST n. Message numbers start at 1. */
gboolean        td_pop3_parse_scan_listing  (const char   *text,
                                             guint32      *number,
                                             guint64      *size,
                                             GError      **error);
/* A unique-id listing "n uid", of UIDL or of the "+OK" of UIDL n; *@uid newly allocated. */
gboolean        td_pop3_parse_uid_listing   (const char   *text,
                                             guint32      *number,
                                             char        **uid,
                                             GError      **error);
/* The APOP timestamp "<...>" in a greeting's text (newly allocated, brackets included), or
 * NULL when it has none. */
char           *td_pop3_greeting_timestamp  (const char   *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdPop3Event, td_pop3_event_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdPop3Parser, td_pop3_parser_free)

G_END_DECLS
