/* td-imap-parser.h: push tokenizer and parser for IMAP4rev1 server responses
 *
 * Server input is hostile: every bound below is enforced and a violation is a GError
 * (TD_ERROR_LIMIT or TD_ERROR_PARSE), never a crash. The parser accepts any chunking of its
 * input: feeding the same bytes whole, one byte at a time or in random splits gives the same
 * responses.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bounds (defaults; td_imap_parser_set_limits() changes them) */
#define TD_IMAP_MAX_LINE_DEFAULT    (1024 * 1024)        /* bytes outside literals per response */
#define TD_IMAP_MAX_LITERAL_DEFAULT (256 * 1024 * 1024)  /* bytes of one literal */
#define TD_IMAP_MAX_DEPTH_DEFAULT   64                   /* nesting of parenthesised lists */
#define TD_IMAP_MAX_ITEMS_DEFAULT   (1024 * 1024)        /* values in one response */

typedef enum
{
  TD_IMAP_VALUE_ATOM,    /* atom or number, also flags like \Seen and BODY[HEADER] sections */
  TD_IMAP_VALUE_STRING,  /* quoted string or literal: raw bytes, may contain NUL */
  TD_IMAP_VALUE_NIL,
  TD_IMAP_VALUE_LIST,    /* ( ... ) */
} TdImapValueType;

typedef struct _TdImapValue TdImapValue;

struct _TdImapValue
{
  TdImapValueType type;
  union {
    char      *atom;     /* NUL-terminated, as sent (case preserved) */
    GBytes    *string;
    GPtrArray *list;     /* of TdImapValue*, owned */
  };
};

typedef enum
{
  TD_IMAP_RESPONSE_UNTAGGED,      /* "* ..." */
  TD_IMAP_RESPONSE_TAGGED,        /* "A001 OK ..." */
  TD_IMAP_RESPONSE_CONTINUATION,  /* "+ ..." */
} TdImapResponseKind;

typedef enum
{
  TD_IMAP_STATUS_NONE,     /* not a status response (e.g. "* 3 EXISTS", "* CAPABILITY ...") */
  TD_IMAP_STATUS_OK,
  TD_IMAP_STATUS_NO,
  TD_IMAP_STATUS_BAD,
  TD_IMAP_STATUS_BYE,
  TD_IMAP_STATUS_PREAUTH,
} TdImapStatus;

typedef struct
{
  TdImapResponseKind kind;
  char         *tag;          /* TAGGED only */
  TdImapStatus  status;       /* OK/NO/BAD/BYE/PREAUTH, tagged or untagged */

  /* Status responses: the optional response code "[NAME args]" and the human text. */
  char         *code;         /* upper-cased, e.g. "UIDVALIDITY", "CAPABILITY", or NULL */
  GPtrArray    *code_args;    /* TdImapValue* after the code name (may be empty), or NULL */
  char         *text;         /* the rest of the line (valid UTF-8, may be empty); also the
                               * text of a continuation request */

  /* Other untagged data: "* 12 FETCH (...)" has number 12, name "FETCH";
   * "* CAPABILITY IMAP4rev1 ..." has has_number FALSE, name "CAPABILITY". */
  gboolean      has_number;
  guint32       number;
  char         *name;         /* upper-cased */
  GPtrArray    *values;       /* TdImapValue* after the name, never NULL for data responses */
} TdImapResponse;

void            td_imap_value_free       (TdImapValue *value);
void            td_imap_response_free    (TdImapResponse *response);

/* Convenience accessors; all return FALSE/NULL on a type mismatch, never abort. */
gboolean        td_imap_value_is_atom    (const TdImapValue *value,
                                          const char        *atom);   /* ASCII case-insensitive */
gboolean        td_imap_value_get_uint32 (const TdImapValue *value,
                                          guint32           *out);
gboolean        td_imap_value_get_uint64 (const TdImapValue *value,
                                          guint64           *out);
/* atom or string as a newly allocated NUL-terminated string (NUL bytes refused) or NULL */
char           *td_imap_value_dup_string (const TdImapValue *value);

typedef struct _TdImapParser TdImapParser;

TdImapParser   *td_imap_parser_new        (void);
void            td_imap_parser_free       (TdImapParser *self);
void            td_imap_parser_set_limits (TdImapParser *self,
                                           gsize         max_line,
                                           gsize         max_literal,
                                           guint         max_depth,
                                           gsize         max_items);
/* Feed bytes. Each complete response is appended to @responses (TdImapResponse*, the
 * array's free func must be td_imap_response_free). Returns FALSE with @error set on a
 * violation; the parser is then poisoned and every later feed fails too. */
gboolean        td_imap_parser_feed       (TdImapParser *self,
                                           const guint8 *data,
                                           gsize         len,
                                           GPtrArray    *responses,
                                           GError      **error);
/* Bytes of the response currently being parsed that are buffered (for tests / progress). */
gsize           td_imap_parser_get_pending (TdImapParser *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdImapResponse, td_imap_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdImapParser, td_imap_parser_free)

G_END_DECLS
