/* td-pop3-parser.c: push parser for POP3 server responses
 *
 * Three modes, all restartable at any byte:
 *
 *  - Status lines (and SASL continuations). Bytes are collected up to LF (a CR before it is
 *    dropped, so a bare LF ends a line too); a complete line takes the oldest expectation and
 *    becomes a STATUS or CONTINUATION event. A "+OK" whose expectation is LINES or DATA
 *    switches to that mode.
 *
 *  - Listings (LINES). Lines are collected the same way; "." ends the response, a leading dot
 *    of any other line is dropped (RFC 1939 3, byte-stuffing).
 *
 *  - Bodies (DATA). Nothing is buffered: a small state machine looks at the first bytes of
 *    each line only, and the runs of bytes between stuffed dots are copied straight out of the
 *    input into DATA events, one copy per byte.
 *
 * Bounds: bytes of a line (max_line) in every mode, bytes of a multi-line response
 * (max_multiline). They are checked before the bytes are taken, and a NUL byte in a status or
 * listing line is refused at its position, so the error is the same for any chunking.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-pop3"

#include "config.h"

#include "td-pop3-parser.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

/* A greeting's timestamp longer than this is not one. */
#define TIMESTAMP_MAX 1024

typedef enum
{
  MODE_STATUS,
  MODE_LINES,
  MODE_DATA,
} Mode;

typedef enum
{
  BODY_LINE_START,  /* at the first byte of a line */
  BODY_IN_LINE,     /* inside a line: bytes pass through up to the LF */
  BODY_DOT,         /* a line started with '.' */
  BODY_DOT_CR,      /* a line started with ".\r" */
} BodyState;

struct _TdPop3Parser
{
  gsize       max_line;
  gsize       max_multiline;

  GError     *poison;

  GQueue      expects;      /* GUINT_TO_POINTER (TdPop3Expect + 1), oldest first */
  Mode        mode;
  GByteArray *line;         /* STATUS, LINES: the incomplete line */
  gsize       line_len;     /* DATA: bytes of the current line so far, LF not counted */
  gsize       body_total;   /* LINES, DATA: bytes of this multi-line response so far */
  BodyState   body;
};

/* ------------------------------------------------------------------------------------------ */
/* Events */

void
td_pop3_event_free (TdPop3Event *event)
{
  if (event == NULL)
    return;

  g_free (event->code_text);
  g_free (event->text);
  g_clear_pointer (&event->data, g_bytes_unref);
  g_free (event);
}

static TdPop3Event *
event_new (TdPop3EventKind kind)
{
  TdPop3Event *event = g_new0 (TdPop3Event, 1);

  event->kind = kind;
  return event;
}

/* ------------------------------------------------------------------------------------------ */
/* Errors */

static gboolean
parse_error (GError     **error,
             const char  *detail)
{
  g_set_error (error, TD_ERROR, TD_ERROR_PARSE,
               _("The server sent a malformed POP3 response: %s"), detail);
  return FALSE;
}

static gboolean
limit_error (GError     **error,
             const char  *detail)
{
  g_set_error (error, TD_ERROR, TD_ERROR_LIMIT,
               _("The server sent a POP3 response beyond a safety limit: %s"), detail);
  return FALSE;
}

/* ------------------------------------------------------------------------------------------ */
/* The parser object */

TdPop3Parser *
td_pop3_parser_new (void)
{
  TdPop3Parser *self = g_new0 (TdPop3Parser, 1);

  self->max_line = TD_POP3_MAX_LINE_DEFAULT;
  self->max_multiline = TD_POP3_MAX_MULTILINE_DEFAULT;
  g_queue_init (&self->expects);
  self->mode = MODE_STATUS;
  self->line = g_byte_array_new ();
  return self;
}

void
td_pop3_parser_free (TdPop3Parser *self)
{
  if (self == NULL)
    return;

  g_clear_error (&self->poison);
  g_queue_clear (&self->expects);
  g_byte_array_unref (self->line);
  g_free (self);
}

void
td_pop3_parser_set_limits (TdPop3Parser *self,
                           gsize         max_line,
                           gsize         max_multiline)
{
  g_return_if_fail (self != NULL);

  /* a line is kept in a GByteArray, whose length is a guint */
  self->max_line = MIN (max_line, (gsize) G_MAXUINT32 - 1);
  self->max_multiline = max_multiline;
}

void
td_pop3_parser_expect (TdPop3Parser *self,
                       TdPop3Expect  expect)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (expect <= TD_POP3_EXPECT_SASL);

  g_queue_push_tail (&self->expects, GUINT_TO_POINTER ((guint) expect + 1));
}

guint
td_pop3_parser_get_expected (TdPop3Parser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return g_queue_get_length (&self->expects);
}

gboolean
td_pop3_parser_in_multiline (TdPop3Parser *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->mode != MODE_STATUS;
}

gsize
td_pop3_parser_get_pending (TdPop3Parser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->line->len;
}

static TdPop3Expect
current_expect (TdPop3Parser *self)
{
  gpointer head = g_queue_peek_head (&self->expects);

  return head != NULL ? (TdPop3Expect) (GPOINTER_TO_UINT (head) - 1) : TD_POP3_EXPECT_STATUS;
}

/* ------------------------------------------------------------------------------------------ */
/* Status lines */

static inline gboolean
is_blank (guint8 c)
{
  return c == ' ' || c == '\t';
}

static gboolean
has_word (const guint8 *line,
          gsize         len,
          const char   *word)
{
  gsize n = strlen (word);

  return len >= n && g_ascii_strncasecmp ((const char *) line, word, n) == 0 &&
         (len == n || is_blank (line[n]));
}

/* The text of a status or continuation: blanks around it dropped, made valid UTF-8. */
static char *
dup_text (const guint8 *p,
          const guint8 *end)
{
  while (p < end && is_blank (*p))
    p++;
  while (end > p && is_blank (end[-1]))
    end--;
  return g_utf8_make_valid ((const char *) p, end - p);
}

/* RFC 2449 rchar: %x21-2E / %x30-5C / %x5E-7F */
static inline gboolean
is_code_char (guint8 c)
{
  return c >= 0x21 && c <= 0x7f && c != '/' && c != ']';
}

static gboolean
level_is (const char *level,
          gsize       len,
          const char *name)
{
  return strlen (name) == len && g_ascii_strncasecmp (level, name, len) == 0;
}

static TdPop3Code
classify_code (const char *code)
{
  const char *slash = strchr (code, '/');
  gsize len = slash != NULL ? (gsize) (slash - code) : strlen (code);

  if (level_is (code, len, "IN-USE"))
    return TD_POP3_CODE_IN_USE;
  if (level_is (code, len, "LOGIN-DELAY"))
    return TD_POP3_CODE_LOGIN_DELAY;
  if (level_is (code, len, "AUTH"))
    return TD_POP3_CODE_AUTH;
  if (level_is (code, len, "SYS") && slash != NULL)
    {
      const char *sub = slash + 1;
      const char *next = strchr (sub, '/');
      gsize sub_len = next != NULL ? (gsize) (next - sub) : strlen (sub);

      if (level_is (sub, sub_len, "TEMP"))
        return TD_POP3_CODE_SYS_TEMP;
      if (level_is (sub, sub_len, "PERM"))
        return TD_POP3_CODE_SYS_PERM;
    }
  return TD_POP3_CODE_OTHER;
}

/* "[LEVEL/LEVEL...] text" after "+OK" or "-ERR". A code that does not follow the grammar is
 * left in the text. */
static void
parse_code_and_text (TdPop3Event  *event,
                     const guint8 *p,
                     const guint8 *end)
{
  while (p < end && is_blank (*p))
    p++;

  if (p < end && *p == '[')
    {
      const guint8 *q = p + 1;
      gboolean valid = TRUE;
      gboolean level_empty = TRUE;

      while (q < end && *q != ']')
        {
          if (*q == '/')
            {
              if (level_empty)
                valid = FALSE;
              level_empty = TRUE;
            }
          else if (is_code_char (*q))
            level_empty = FALSE;
          else
            valid = FALSE;
          q++;
        }
      if (q < end && valid && !level_empty)
        {
          event->code_text = g_strndup ((const char *) p + 1, q - (p + 1));
          event->code = classify_code (event->code_text);
          p = q + 1;
        }
    }

  event->text = dup_text (p, end);
}

static gboolean
process_status_line (TdPop3Parser  *self,
                     const guint8  *line,
                     gsize          len,
                     GPtrArray     *events,
                     GError       **error)
{
  TdPop3Expect expect = current_expect (self);
  TdPop3Event *event;
  gsize skip;

  if (len > 0 && line[len - 1] == '\r')
    len--;
  if (len == 0)
    return TRUE;                        /* a blank line between responses: ignored */

  if (has_word (line, len, "+OK"))
    skip = 3;
  else if (has_word (line, len, "-ERR"))
    skip = 4;
  else if (expect == TD_POP3_EXPECT_SASL && line[0] == '+' && (len == 1 || is_blank (line[1])))
    {
      /* RFC 5034: "+" SP base64; the AUTH goes on, its expectation stays */
      event = event_new (TD_POP3_EVENT_CONTINUATION);
      event->text = dup_text (line + 1, line + len);
      g_ptr_array_add (events, event);
      return TRUE;
    }
  else
    return parse_error (error, _("a line that is neither “+OK” nor “-ERR”"));

  g_queue_pop_head (&self->expects);
  event = event_new (TD_POP3_EVENT_STATUS);
  event->ok = skip == 3;
  parse_code_and_text (event, line + skip, line + len);
  g_ptr_array_add (events, event);

  if (event->ok && (expect == TD_POP3_EXPECT_LINES || expect == TD_POP3_EXPECT_DATA))
    {
      self->mode = expect == TD_POP3_EXPECT_LINES ? MODE_LINES : MODE_DATA;
      self->body = BODY_LINE_START;
      self->body_total = 0;
      self->line_len = 0;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Listings */

static void
end_multiline (TdPop3Parser *self,
               GPtrArray    *events)
{
  g_ptr_array_add (events, event_new (TD_POP3_EVENT_END));
  self->mode = MODE_STATUS;
  self->body_total = 0;
  self->line_len = 0;
}

static void
process_listing_line (TdPop3Parser *self,
                      const guint8 *line,
                      gsize         len,
                      GPtrArray    *events)
{
  TdPop3Event *event;

  if (len > 0 && line[len - 1] == '\r')
    len--;
  if (len == 1 && line[0] == '.')
    {
      end_multiline (self, events);
      return;
    }
  if (len > 0 && line[0] == '.')
    {
      line++;
      len--;
    }
  event = event_new (TD_POP3_EVENT_LINE);
  event->text = g_strndup ((const char *) line, len);
  g_ptr_array_add (events, event);
}

/* Status and listing lines: up to the LF, bounded, without NUL bytes. */
static gboolean
feed_lines (TdPop3Parser  *self,
            const guint8 **data,
            gsize         *len,
            GPtrArray     *events,
            GError       **error)
{
  const guint8 *nl = memchr (*data, '\n', *len);
  gsize chunk = nl != NULL ? (gsize) (nl - *data) : *len;
  gsize taken = chunk + (nl != NULL ? 1 : 0);
  gsize room = self->line->len < self->max_line ? self->max_line - self->line->len : 0;
  gsize total_room = G_MAXSIZE;
  gboolean ok = TRUE;

  if (self->mode == MODE_LINES)
    total_room = self->body_total < self->max_multiline ?
                 self->max_multiline - self->body_total : 0;

  if (memchr (*data, '\0', MIN (chunk, MIN (room, total_room))) != NULL)
    return parse_error (error, _("a NUL byte in a line"));
  if (chunk > room)
    return limit_error (error, _("a line too long"));
  if (taken > total_room)
    return limit_error (error, _("a multi-line response too large"));
  if (self->mode == MODE_LINES)
    self->body_total += taken;

  if (nl == NULL)
    {
      g_byte_array_append (self->line, *data, (guint) chunk);
    }
  else if (self->line->len == 0)
    {
      if (self->mode == MODE_STATUS)
        ok = process_status_line (self, *data, chunk, events, error);
      else
        process_listing_line (self, *data, chunk, events);
    }
  else
    {
      g_byte_array_append (self->line, *data, (guint) chunk);
      if (self->mode == MODE_STATUS)
        ok = process_status_line (self, self->line->data, self->line->len, events, error);
      else
        process_listing_line (self, self->line->data, self->line->len, events);
      g_byte_array_set_size (self->line, 0);
    }

  *data += taken;
  *len -= taken;
  return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* Bodies */

/* Takes @bytes more bytes of the body, @line_bytes of them in the current line. */
static gboolean
body_take (TdPop3Parser  *self,
           gsize          line_bytes,
           gsize          bytes,
           GError       **error)
{
  if (line_bytes > self->max_line - MIN (self->line_len, self->max_line))
    return limit_error (error, _("a line too long"));
  if (bytes > self->max_multiline - MIN (self->body_total, self->max_multiline))
    return limit_error (error, _("a multi-line response too large"));
  self->line_len += line_bytes;
  self->body_total += bytes;
  return TRUE;
}

static void
emit_data (GPtrArray    *events,
           const guint8 *start,
           gsize         len)
{
  TdPop3Event *event;

  if (len == 0)
    return;
  event = event_new (TD_POP3_EVENT_DATA);
  event->data = g_bytes_new (start, len);
  g_ptr_array_add (events, event);
}

static gboolean
feed_body (TdPop3Parser  *self,
           const guint8 **data,
           gsize         *len,
           GPtrArray     *events,
           GError       **error)
{
  const guint8 *p = *data;
  const guint8 *end = p + *len;
  const guint8 *run = NULL;            /* start of the bytes to pass on */
  gboolean ok = TRUE;

  while (p < end && self->mode == MODE_DATA && ok)
    {
      switch (self->body)
        {
        case BODY_LINE_START:
          if (*p != '.')
            {
              self->body = BODY_IN_LINE;
              break;
            }
          if (!(ok = body_take (self, 1, 1, error)))
            break;
          if (run != NULL)
            emit_data (events, run, p - run);
          run = NULL;
          self->body = BODY_DOT;
          p++;
          break;

        case BODY_IN_LINE:
          {
            const guint8 *nl = memchr (p, '\n', end - p);
            gsize n = (gsize) ((nl != NULL ? nl : end) - p);
            gsize taken = n + (nl != NULL ? 1 : 0);

            if (!(ok = body_take (self, n, taken, error)))
              break;
            if (run == NULL)
              run = p;
            p += taken;
            if (nl != NULL)
              {
                self->line_len = 0;
                self->body = BODY_LINE_START;
              }
          }
          break;

        case BODY_DOT:
          if (*p == '\n')
            {
              if ((ok = body_take (self, 0, 1, error)))
                {
                  p++;
                  end_multiline (self, events);
                }
            }
          else if (*p == '\r')
            {
              if ((ok = body_take (self, 1, 1, error)))
                {
                  p++;
                  self->body = BODY_DOT_CR;
                }
            }
          else
            self->body = BODY_IN_LINE;  /* a stuffed dot: dropped, the line follows */
          break;

        case BODY_DOT_CR:
          if (*p == '\n')
            {
              if ((ok = body_take (self, 0, 1, error)))
                {
                  p++;
                  end_multiline (self, events);
                }
            }
          else
            {
              /* ".\r" and more on the line: the dot was stuffing, the CR is data */
              emit_data (events, (const guint8 *) "\r", 1);
              self->body = BODY_IN_LINE;
            }
          break;

        default:
          g_assert_not_reached ();
        }
    }

  if (run != NULL)
    emit_data (events, run, p - run);
  *len -= (gsize) (p - *data);
  *data = p;
  return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* Feeding */

static gboolean
feed_internal (TdPop3Parser  *self,
               const guint8  *data,
               gsize          len,
               GPtrArray     *events,
               GError       **error)
{
  while (len > 0)
    {
      gboolean ok = self->mode == MODE_DATA ? feed_body (self, &data, &len, events, error)
                                            : feed_lines (self, &data, &len, events, error);

      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static gboolean
poisoned (TdPop3Parser  *self,
          GError       **error)
{
  if (self->poison == NULL)
    return FALSE;
  g_propagate_error (error, g_error_copy (self->poison));
  return TRUE;
}

gboolean
td_pop3_parser_feed (TdPop3Parser  *self,
                     const guint8  *data,
                     gsize          len,
                     GPtrArray     *events,
                     GError       **error)
{
  GError *local = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (events != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (poisoned (self, error))
    return FALSE;

  if (!feed_internal (self, data, len, events, &local))
    {
      self->poison = g_error_copy (local);
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

gboolean
td_pop3_parser_end (TdPop3Parser  *self,
                    GError       **error)
{
  GError *local = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (poisoned (self, error))
    return FALSE;

  if (self->mode != MODE_STATUS)
    parse_error (&local, _("the input ended inside a multi-line response"));
  else if (self->line->len > 0)
    parse_error (&local, _("the input ended inside a line"));
  else
    return TRUE;

  self->poison = g_error_copy (local);
  g_propagate_error (error, local);
  return FALSE;
}

/* ------------------------------------------------------------------------------------------ */
/* What the responses carry */

static void
skip_blanks (const char **p)
{
  while (is_blank (**p))
    (*p)++;
}

/* Decimal digits up to @max; moves *@p past them. */
static gboolean
take_number (const char **p,
             guint64      max,
             guint64     *out)
{
  const char *q = *p;
  guint64 v = 0;

  if (!g_ascii_isdigit (*q))
    return FALSE;
  for (; g_ascii_isdigit (*q); q++)
    {
      guint d = (guint) (*q - '0');

      if (v > (max - d) / 10)
        return FALSE;
      v = v * 10 + d;
    }
  *p = q;
  *out = v;
  return TRUE;
}

/* "n size" with anything after a blank ignored (RFC 1939 allows more in a scan listing). */
static gboolean
parse_two_numbers (const char  *text,
                   guint64      max_first,
                   guint64     *first,
                   guint64     *second)
{
  const char *p = text;

  skip_blanks (&p);
  if (!take_number (&p, max_first, first) || !is_blank (*p))
    return FALSE;
  skip_blanks (&p);
  if (!take_number (&p, G_MAXUINT64, second))
    return FALSE;
  return *p == '\0' || is_blank (*p);
}

gboolean
td_pop3_parse_stat (const char  *text,
                    guint32     *count,
                    guint64     *size,
                    GError     **error)
{
  guint64 n, s;

  g_return_val_if_fail (text != NULL, FALSE);

  if (!parse_two_numbers (text, G_MAXUINT32, &n, &s))
    return parse_error (error, _("a mailbox status that is not two numbers"));
  if (count != NULL)
    *count = (guint32) n;
  if (size != NULL)
    *size = s;
  return TRUE;
}

gboolean
td_pop3_parse_scan_listing (const char  *text,
                            guint32     *number,
                            guint64     *size,
                            GError     **error)
{
  guint64 n, s;

  g_return_val_if_fail (text != NULL, FALSE);

  if (!parse_two_numbers (text, G_MAXUINT32, &n, &s) || n == 0)
    return parse_error (error, _("a message size listing that is not a message number and "
                                 "a size"));
  if (number != NULL)
    *number = (guint32) n;
  if (size != NULL)
    *size = s;
  return TRUE;
}

gboolean
td_pop3_parse_uid_listing (const char  *text,
                           guint32     *number,
                           char       **uid,
                           GError     **error)
{
  const char *p = text;
  const char *start;
  const char *rest;
  guint64 n;

  g_return_val_if_fail (text != NULL, FALSE);

  skip_blanks (&p);
  if (!take_number (&p, G_MAXUINT32, &n) || n == 0 || (*p != '\0' && !is_blank (*p)))
    return parse_error (error, _("a unique-id listing without a message number"));
  skip_blanks (&p);
  if (*p == '\0')
    return parse_error (error, _("a unique-id listing without a unique-id"));
  start = p;
  while (*p >= 0x21 && *p <= 0x7e)
    p++;
  rest = p;
  skip_blanks (&rest);
  if (p == start || *rest != '\0')
    return parse_error (error, _("a unique-id that is empty or has characters a unique-id "
                                 "cannot have"));
  if ((gsize) (p - start) > TD_POP3_MAX_UID_LENGTH)
    return parse_error (error, _("a unique-id too long"));

  if (number != NULL)
    *number = (guint32) n;
  if (uid != NULL)
    *uid = g_strndup (start, p - start);
  return TRUE;
}

char *
td_pop3_greeting_timestamp (const char *text)
{
  g_return_val_if_fail (text != NULL, NULL);

  /* RFC 1939 7: the timestamp is a msg-id, "<" ... ">", somewhere in the greeting */
  for (const char *lt = strchr (text, '<'); lt != NULL; lt = strchr (lt + 1, '<'))
    {
      const char *p = lt + 1;

      while (*p >= 0x21 && *p <= 0x7e && *p != '<' && *p != '>')
        p++;
      if (*p == '>' && p > lt + 1 && (gsize) (p - lt) < TIMESTAMP_MAX)
        return g_strndup (lt, p - lt + 1);
    }
  return NULL;
}
