/* td-imap-parser.c: push tokenizer and parser for IMAP server responses
 *
 * Two layers, both restartable at any byte:
 *
 *  - Framing. Bytes are cut into line segments at LF (a CR before it is dropped, so a bare
 *    LF is accepted too) and literals. A segment is only looked at once it is complete, so
 *    the chunking of the input never matters. Literal bytes are copied in chunks straight
 *    into one buffer that becomes the GBytes of the string value: one copy, no per-byte work.
 *
 *  - Grammar. A complete segment is parsed with an explicit stack of open lists. A segment
 *    that ends in a literal announcement ("{N}", "{N+}", "~{N}") leaves the stack as it is;
 *    the framing then reads N bytes and the next segment continues where the list left off.
 *    Status responses (OK/NO/BAD/BYE/PREAUTH) and continuation requests are single lines:
 *    their text runs to the end of the line, whatever it contains.
 *
 * Bounds: bytes outside literals per response (max_line), size of one literal (max_literal),
 * literal bytes per response (4 x max_literal), list nesting (max_depth, at most
 * PARSER_DEPTH_CAP) and values per response (max_items). Going beyond one is TD_ERROR_LIMIT,
 * bad syntax is TD_ERROR_PARSE; after either the parser is poisoned. Errors are decided by the
 * position of the first offending byte, so they too are the same for any chunking.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-imap"

#include "config.h"

#include "td-imap-parser.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

/* Freeing a value tree recurses once per level; keep that far from any stack limit. */
#define PARSER_DEPTH_CAP 1024
/* First allocation for a literal; it then doubles up to the announced size, so a server
 * that announces a huge literal and sends nothing does not make us commit that memory. */
#define LITERAL_FIRST_ALLOC (1024 * 1024)

typedef enum
{
  FRAME_LINE,
  FRAME_LITERAL,
} FrameState;

struct _TdImapParser
{
  gsize           max_line;
  gsize           max_literal;
  guint           max_depth;
  gsize           max_items;

  GError         *poison;

  FrameState      frame;
  GByteArray     *line;           /* the incomplete line segment */
  gsize           line_total;     /* bytes outside literals in this response */
  gsize           literal_total;  /* literal bytes in this response (finished literals) */

  guint8         *literal;
  gsize           literal_len;    /* announced */
  gsize           literal_have;
  gsize           literal_alloc;

  TdImapResponse *response;       /* being built; NULL between responses */
  GPtrArray      *stack;          /* open lists, borrowed; [0] is response->values */
  gsize           items;
};

typedef struct
{
  const guint8 *p;
  const guint8 *end;
} Cursor;

typedef enum
{
  VALUES_END,      /* end of segment (data) or ']' (code) */
  VALUES_LITERAL,  /* a literal was announced; its bytes come next */
  VALUES_ERROR,
} ValuesResult;

/* Values */

void
td_imap_value_free (TdImapValue *value)
{
  if (value == NULL)
    return;

  switch (value->type)
    {
    case TD_IMAP_VALUE_ATOM:
      g_free (value->atom);
      break;
    case TD_IMAP_VALUE_STRING:
      g_bytes_unref (value->string);
      break;
    case TD_IMAP_VALUE_LIST:
      g_ptr_array_unref (value->list);
      break;
    case TD_IMAP_VALUE_NIL:
    default:
      break;
    }
  g_free (value);
}

static GPtrArray *
value_array_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) td_imap_value_free);
}

void
td_imap_response_free (TdImapResponse *response)
{
  if (response == NULL)
    return;

  g_free (response->tag);
  g_free (response->code);
  g_clear_pointer (&response->code_args, g_ptr_array_unref);
  g_free (response->text);
  g_free (response->name);
  g_clear_pointer (&response->values, g_ptr_array_unref);
  g_free (response);
}

gboolean
td_imap_value_is_atom (const TdImapValue *value,
                       const char        *atom)
{
  g_return_val_if_fail (atom != NULL, FALSE);

  return value != NULL && value->type == TD_IMAP_VALUE_ATOM &&
         g_ascii_strcasecmp (value->atom, atom) == 0;
}

static gboolean
parse_decimal (const char *str,
               guint64     max,
               guint64    *out)
{
  guint64 v = 0;

  if (str == NULL || *str == '\0')
    return FALSE;

  for (const char *p = str; *p != '\0'; p++)
    {
      guint d;

      if (!g_ascii_isdigit (*p))
        return FALSE;
      d = (guint) (*p - '0');
      if (v > (max - d) / 10)
        return FALSE;
      v = v * 10 + d;
    }

  *out = v;
  return TRUE;
}

gboolean
td_imap_value_get_uint32 (const TdImapValue *value,
                          guint32           *out)
{
  guint64 v;

  if (value == NULL || value->type != TD_IMAP_VALUE_ATOM ||
      !parse_decimal (value->atom, G_MAXUINT32, &v))
    return FALSE;
  if (out != NULL)
    *out = (guint32) v;
  return TRUE;
}

gboolean
td_imap_value_get_uint64 (const TdImapValue *value,
                          guint64           *out)
{
  guint64 v;

  if (value == NULL || value->type != TD_IMAP_VALUE_ATOM ||
      !parse_decimal (value->atom, G_MAXUINT64, &v))
    return FALSE;
  if (out != NULL)
    *out = v;
  return TRUE;
}

char *
td_imap_value_dup_string (const TdImapValue *value)
{
  gconstpointer data;
  gsize len;

  if (value == NULL)
    return NULL;

  switch (value->type)
    {
    case TD_IMAP_VALUE_ATOM:
      return g_strdup (value->atom);
    case TD_IMAP_VALUE_STRING:
      data = g_bytes_get_data (value->string, &len);
      if (len > 0 && memchr (data, '\0', len) != NULL)
        return NULL;
      return g_strndup (data, len);
    case TD_IMAP_VALUE_NIL:
    case TD_IMAP_VALUE_LIST:
    default:
      return NULL;
    }
}

/* Parser object */

TdImapParser *
td_imap_parser_new (void)
{
  TdImapParser *self = g_new0 (TdImapParser, 1);

  self->max_line = TD_IMAP_MAX_LINE_DEFAULT;
  self->max_literal = TD_IMAP_MAX_LITERAL_DEFAULT;
  self->max_depth = TD_IMAP_MAX_DEPTH_DEFAULT;
  self->max_items = TD_IMAP_MAX_ITEMS_DEFAULT;
  self->frame = FRAME_LINE;
  self->line = g_byte_array_new ();
  self->stack = g_ptr_array_new ();

  return self;
}

void
td_imap_parser_free (TdImapParser *self)
{
  if (self == NULL)
    return;

  g_clear_error (&self->poison);
  g_byte_array_unref (self->line);
  g_free (self->literal);
  g_ptr_array_unref (self->stack);
  td_imap_response_free (self->response);
  g_free (self);
}

void
td_imap_parser_set_limits (TdImapParser *self,
                           gsize         max_line,
                           gsize         max_literal,
                           guint         max_depth,
                           gsize         max_items)
{
  g_return_if_fail (self != NULL);

  self->max_line = max_line;
  self->max_literal = max_literal;
  self->max_depth = MIN (max_depth, PARSER_DEPTH_CAP);
  self->max_items = max_items;
}

gsize
td_imap_parser_get_pending (TdImapParser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->line_total + self->literal_total +
         (self->frame == FRAME_LITERAL ? self->literal_have : 0);
}

/* Errors */

static gboolean
parse_error (GError     **error,
             const char  *detail)
{
  g_set_error (error, TD_ERROR, TD_ERROR_PARSE,
               _("The server sent a malformed IMAP response: %s"), detail);
  return FALSE;
}

static gboolean
limit_error (GError     **error,
             const char  *detail)
{
  g_set_error (error, TD_ERROR, TD_ERROR_LIMIT,
               _("The server sent an IMAP response beyond a safety limit: %s"), detail);
  return FALSE;
}

/* Lexing helpers */

static inline gboolean
is_space (guint8 c)
{
  return c == ' ' || c == '\t';
}

static inline void
skip_spaces (Cursor *c)
{
  while (c->p < c->end && is_space (*c->p))
    c->p++;
}

/* Characters of an atom. Lenient: 8-bit bytes, '%', '*', '\\' and ']' are accepted (flags,
 * raw UTF-8 mailbox names, "\*"); in a response code ']' ends the atom and '{' is plain. */
static inline gboolean
is_atom_char (guint8   c,
              gboolean code_mode)
{
  if (c <= 0x20 || c == 0x7f)
    return FALSE;

  switch (c)
    {
    case '(':
    case ')':
    case '"':
      return FALSE;
    case '{':
      return code_mode;
    case ']':
      return !code_mode;
    default:
      return TRUE;
    }
}

/* A word at the start of a response: the status, the number or the name. */
static gsize
scan_word (const Cursor *c)
{
  const guint8 *p = c->p;

  while (p < c->end && is_atom_char (*p, FALSE) && *p != '[' && *p != '{')
    p++;
  return (gsize) (p - c->p);
}

static gboolean
word_equal (const guint8 *word,
            gsize         len,
            const char   *keyword)
{
  return strlen (keyword) == len && g_ascii_strncasecmp ((const char *) word, keyword, len) == 0;
}

static TdImapStatus
status_from_word (const guint8 *word,
                  gsize         len)
{
  if (word_equal (word, len, "OK"))
    return TD_IMAP_STATUS_OK;
  if (word_equal (word, len, "NO"))
    return TD_IMAP_STATUS_NO;
  if (word_equal (word, len, "BAD"))
    return TD_IMAP_STATUS_BAD;
  if (word_equal (word, len, "BYE"))
    return TD_IMAP_STATUS_BYE;
  if (word_equal (word, len, "PREAUTH"))
    return TD_IMAP_STATUS_PREAUTH;
  return TD_IMAP_STATUS_NONE;
}

static char *
dup_upper (const guint8 *p,
           gsize         len)
{
  char *s = g_strndup ((const char *) p, len);

  for (char *q = s; *q != '\0'; q++)
    *q = g_ascii_toupper (*q);
  return s;
}

/* Building values */

static gboolean
add_value (TdImapParser  *self,
           GPtrArray     *list,
           TdImapValue   *value,
           GError       **error)
{
  if (self->items >= self->max_items)
    {
      td_imap_value_free (value);
      return limit_error (error, _("too many values in one response"));
    }
  self->items++;
  g_ptr_array_add (list, value);
  return TRUE;
}

static inline GPtrArray *
stack_top (TdImapParser *self)
{
  g_assert (self->stack->len > 0);
  return g_ptr_array_index (self->stack, self->stack->len - 1);
}

/* '"' ... '"' with \" and \\ (any other escaped character stands for itself). */
static gboolean
parse_quoted (Cursor       *c,
              GBytes      **out,
              GError      **error)
{
  const guint8 *start = c->p + 1;
  const guint8 *p = start;
  gsize n = 0;
  guint8 *buf, *w;

  while (p < c->end && *p != '"')
    {
      if (*p == '\\')
        {
          p++;
          if (p == c->end)
            break;
        }
      p++;
      n++;
    }
  if (p >= c->end)
    return parse_error (error, _("unterminated quoted string"));

  buf = g_malloc (n + 1);
  w = buf;
  for (const guint8 *q = start; q < p; q++)
    {
      if (*q == '\\')
        q++;
      *w++ = *q;
    }
  *w = '\0';

  *out = g_bytes_new_take (buf, n);
  c->p = p + 1;
  return TRUE;
}

/* From '[' (inside an atom): the matching ']', skipping quoted strings; NULL if none. */
static const guint8 *
find_section_end (const guint8 *p,
                  const guint8 *end)
{
  gboolean quoted = FALSE;

  for (p++; p < end; p++)
    {
      if (quoted)
        {
          if (*p == '\\' && p + 1 < end)
            p++;
          else if (*p == '"')
            quoted = FALSE;
        }
      else if (*p == '"')
        quoted = TRUE;
      else if (*p == ']')
        return p;
    }
  return NULL;
}

static gsize
scan_atom (const Cursor *c,
           gboolean      code_mode)
{
  const guint8 *p = c->p;

  while (p < c->end)
    {
      if (*p == '[' && !code_mode)
        {
          /* A section "BODY[HEADER.FIELDS (FROM TO)]" stays inside the atom. */
          const guint8 *close = find_section_end (p, c->end);

          p = close != NULL ? close + 1 : p + 1;
          continue;
        }
      if (!is_atom_char (*p, code_mode))
        break;
      p++;
    }
  return (gsize) (p - c->p);
}

/* "{N}", "{N+}" or "~{N}" (binary) at the very end of the segment. */
static gboolean
parse_literal_announcement (TdImapParser  *self,
                            Cursor        *c,
                            GError       **error)
{
  guint64 size = 0;
  gboolean overflow = FALSE;
  const guint8 *digits;
  gsize cap;

  if (*c->p == '~')
    c->p++;
  g_assert (c->p < c->end && *c->p == '{');
  c->p++;

  digits = c->p;
  while (c->p < c->end && g_ascii_isdigit (*c->p))
    {
      guint d = (guint) (*c->p - '0');

      if (size > (G_MAXUINT64 - d) / 10)
        overflow = TRUE;
      else
        size = size * 10 + d;
      c->p++;
    }
  if (c->p == digits)
    return parse_error (error, _("literal without a size"));
  if (c->p < c->end && *c->p == '+')
    c->p++;
  if (c->p == c->end || *c->p != '}')
    return parse_error (error, _("malformed literal size"));
  c->p++;
  skip_spaces (c);
  if (c->p != c->end)
    return parse_error (error, _("literal not at the end of a line"));

  if (overflow || size > self->max_literal)
    return limit_error (error, _("literal too large"));
  cap = self->max_literal > G_MAXSIZE / 4 ? G_MAXSIZE : self->max_literal * 4;
  if (self->literal_total > cap || size > cap - self->literal_total)
    return limit_error (error, _("too much literal data in one response"));

  self->literal_len = (gsize) size;
  self->literal_have = 0;
  self->literal_alloc = MIN (self->literal_len, LITERAL_FIRST_ALLOC);
  self->literal = g_try_malloc (MAX (self->literal_alloc, 1));
  if (self->literal == NULL)
    return limit_error (error, _("literal too large"));
  self->frame = FRAME_LITERAL;
  return TRUE;
}

/* Values up to the end of the segment (data) or up to the closing ']' (response code). */
static ValuesResult
parse_values (TdImapParser  *self,
              Cursor        *c,
              gboolean       code_mode,
              GError       **error)
{
  for (;;)
    {
      TdImapValue *value;
      guint8 ch;

      skip_spaces (c);
      if (c->p == c->end)
        {
          if (code_mode)
            parse_error (error, _("unterminated response code"));
          else if (self->stack->len > 1)
            parse_error (error, _("unterminated list"));
          else
            return VALUES_END;
          return VALUES_ERROR;
        }

      ch = *c->p;
      if (ch == '(')
        {
          if (self->stack->len > self->max_depth)
            {
              limit_error (error, _("lists nested too deeply"));
              return VALUES_ERROR;
            }
          value = g_new0 (TdImapValue, 1);
          value->type = TD_IMAP_VALUE_LIST;
          value->list = value_array_new ();
          if (!add_value (self, stack_top (self), value, error))
            return VALUES_ERROR;
          g_ptr_array_add (self->stack, value->list);
          c->p++;
        }
      else if (ch == ')')
        {
          if (self->stack->len <= 1)
            {
              parse_error (error, _("unbalanced parenthesis"));
              return VALUES_ERROR;
            }
          g_ptr_array_set_size (self->stack, self->stack->len - 1);
          c->p++;
        }
      else if (ch == ']' && code_mode)
        {
          if (self->stack->len > 1)
            {
              parse_error (error, _("unterminated list"));
              return VALUES_ERROR;
            }
          c->p++;
          return VALUES_END;
        }
      else if (ch == '"')
        {
          GBytes *bytes = NULL;

          if (!parse_quoted (c, &bytes, error))
            return VALUES_ERROR;
          value = g_new0 (TdImapValue, 1);
          value->type = TD_IMAP_VALUE_STRING;
          value->string = bytes;
          if (!add_value (self, stack_top (self), value, error))
            return VALUES_ERROR;
        }
      else if (!code_mode && (ch == '{' || (ch == '~' && c->p + 1 < c->end && c->p[1] == '{')))
        {
          if (!parse_literal_announcement (self, c, error))
            return VALUES_ERROR;
          return VALUES_LITERAL;
        }
      else
        {
          gsize len = scan_atom (c, code_mode);

          if (len == 0)
            {
              parse_error (error, _("unexpected character"));
              return VALUES_ERROR;
            }
          value = g_new0 (TdImapValue, 1);
          if (word_equal (c->p, len, "NIL"))
            {
              value->type = TD_IMAP_VALUE_NIL;
            }
          else
            {
              value->type = TD_IMAP_VALUE_ATOM;
              value->atom = g_strndup ((const char *) c->p, len);
            }
          c->p += len;
          if (!add_value (self, stack_top (self), value, error))
            return VALUES_ERROR;
        }
    }
}

static gboolean
emit_response (TdImapParser *self,
               GPtrArray    *responses)
{
  g_ptr_array_add (responses, g_steal_pointer (&self->response));
  g_ptr_array_set_size (self->stack, 0);
  self->items = 0;
  self->line_total = 0;
  self->literal_total = 0;
  return TRUE;
}

/* The rest of a status response or continuation request: "[CODE args] text". A code that
 * does not parse is left in the text (servers put brackets in free text too). */
static gboolean
parse_resp_text (TdImapParser    *self,
                 Cursor          *c,
                 TdImapResponse  *response,
                 GError         **error)
{
  const guint8 *end;

  skip_spaces (c);

  if (c->p < c->end && *c->p == '[')
    {
      Cursor saved = *c;
      gsize saved_items = self->items;
      const guint8 *name = c->p + 1;
      const guint8 *q = name;

      while (q < c->end && *q > 0x20 && *q != 0x7f && *q != ']' && *q != '[' && *q != '(' &&
             *q != ')' && *q != '"')
        q++;

      if (q > name && q < c->end && (*q == ']' || is_space (*q)))
        {
          GPtrArray *args = value_array_new ();
          gboolean ok = TRUE;

          c->p = q;
          if (*q == ']')
            {
              c->p++;
            }
          else
            {
              g_autoptr(GError) local = NULL;

              g_ptr_array_set_size (self->stack, 0);
              g_ptr_array_add (self->stack, args);
              if (parse_values (self, c, TRUE, &local) != VALUES_END)
                {
                  ok = FALSE;
                  if (!g_error_matches (local, TD_ERROR, TD_ERROR_PARSE))
                    {
                      g_ptr_array_set_size (self->stack, 0);
                      g_ptr_array_unref (args);
                      g_propagate_error (error, g_steal_pointer (&local));
                      return FALSE;
                    }
                }
              g_ptr_array_set_size (self->stack, 0);
            }

          if (ok)
            {
              response->code = dup_upper (name, (gsize) (q - name));
              response->code_args = args;
              skip_spaces (c);
            }
          else
            {
              g_ptr_array_unref (args);
              *c = saved;
              self->items = saved_items;
            }
        }
    }

  end = c->end;
  while (end > c->p && (is_space (end[-1]) || end[-1] == '\r'))
    end--;
  response->text = g_utf8_make_valid ((const char *) c->p, end - c->p);
  return TRUE;
}

static gboolean
continue_values (TdImapParser  *self,
                 Cursor        *c,
                 GPtrArray     *responses,
                 GError       **error)
{
  switch (parse_values (self, c, FALSE, error))
    {
    case VALUES_END:
      return emit_response (self, responses);
    case VALUES_LITERAL:
      return TRUE;
    case VALUES_ERROR:
    default:
      return FALSE;
    }
}

static gboolean
start_response (TdImapParser  *self,
                Cursor        *c,
                GPtrArray     *responses,
                GError       **error)
{
  TdImapResponse *response;
  TdImapStatus status;
  gsize len;

  skip_spaces (c);
  if (c->p == c->end)
    {
      /* A blank line between responses: harmless, ignored. */
      self->line_total = 0;
      return TRUE;
    }

  response = g_new0 (TdImapResponse, 1);
  response->values = value_array_new ();
  self->response = response;
  self->items = 0;

  if (*c->p == '+')
    {
      response->kind = TD_IMAP_RESPONSE_CONTINUATION;
      c->p++;
      if (!parse_resp_text (self, c, response, error))
        return FALSE;
      return emit_response (self, responses);
    }

  if (*c->p == '*')
    {
      response->kind = TD_IMAP_RESPONSE_UNTAGGED;
      c->p++;
      if (c->p < c->end && !is_space (*c->p))
        return parse_error (error, _("no space after “*”"));
      skip_spaces (c);
    }
  else
    {
      const guint8 *tag = c->p;

      response->kind = TD_IMAP_RESPONSE_TAGGED;
      while (c->p < c->end && *c->p > 0x20 && *c->p < 0x7f && strchr ("(){%*\"\\+", *c->p) == NULL)
        c->p++;
      if (c->p == tag || c->p == c->end || !is_space (*c->p))
        return parse_error (error, _("bad tag"));
      response->tag = g_strndup ((const char *) tag, c->p - tag);
      skip_spaces (c);
    }

  len = scan_word (c);
  if (len == 0)
    return parse_error (error, _("missing response name"));

  status = status_from_word (c->p, len);
  if (status != TD_IMAP_STATUS_NONE)
    {
      response->status = status;
      c->p += len;
      if (!parse_resp_text (self, c, response, error))
        return FALSE;
      return emit_response (self, responses);
    }

  if (response->kind == TD_IMAP_RESPONSE_TAGGED)
    return parse_error (error, _("tagged response without a status"));

  if (g_ascii_isdigit (*c->p))
    {
      guint64 number = 0;

      for (gsize i = 0; i < len; i++)
        {
          if (!g_ascii_isdigit (c->p[i]))
            return parse_error (error, _("bad message number"));
          number = number * 10 + (guint) (c->p[i] - '0');
          if (number > G_MAXUINT32)
            return parse_error (error, _("bad message number"));
        }
      response->has_number = TRUE;
      response->number = (guint32) number;
      c->p += len;
      skip_spaces (c);
      len = scan_word (c);
      if (len == 0)
        return parse_error (error, _("missing response name"));
    }

  response->name = dup_upper (c->p, len);
  c->p += len;

  g_ptr_array_set_size (self->stack, 0);
  g_ptr_array_add (self->stack, response->values);
  return continue_values (self, c, responses, error);
}

static gboolean
process_line (TdImapParser  *self,
              const guint8  *data,
              gsize          len,
              GPtrArray     *responses,
              GError       **error)
{
  Cursor c = { data, data + len };

  if (c.end > c.p && c.end[-1] == '\r')
    c.end--;

  if (self->response == NULL)
    return start_response (self, &c, responses, error);
  return continue_values (self, &c, responses, error);
}

static gboolean
finish_literal (TdImapParser  *self,
                GError       **error)
{
  TdImapValue *value = g_new0 (TdImapValue, 1);

  value->type = TD_IMAP_VALUE_STRING;
  value->string = g_bytes_new_take (g_steal_pointer (&self->literal), self->literal_len);
  self->literal_total += self->literal_len;
  self->literal_len = self->literal_have = self->literal_alloc = 0;
  self->frame = FRAME_LINE;

  return add_value (self, stack_top (self), value, error);
}

static gboolean
feed_literal (TdImapParser  *self,
              const guint8 **data,
              gsize         *len,
              GError       **error)
{
  gsize n = MIN (*len, self->literal_len - self->literal_have);

  if (self->literal_have + n > self->literal_alloc)
    {
      gsize alloc = self->literal_alloc;
      guint8 *grown;

      while (alloc < self->literal_have + n)
        alloc = alloc > self->literal_len / 2 ? self->literal_len : alloc * 2;
      grown = g_try_realloc (self->literal, alloc);
      if (grown == NULL)
        return limit_error (error, _("literal too large"));
      self->literal = grown;
      self->literal_alloc = alloc;
    }

  if (n > 0)
    memcpy (self->literal + self->literal_have, *data, n);
  self->literal_have += n;
  *data += n;
  *len -= n;
  return TRUE;
}

static gboolean
feed_internal (TdImapParser  *self,
               const guint8  *data,
               gsize          len,
               GPtrArray     *responses,
               GError       **error)
{
  while (len > 0 || (self->frame == FRAME_LITERAL && self->literal_have == self->literal_len))
    {
      const guint8 *nl;
      gsize chunk, room;
      gboolean ok;

      if (self->frame == FRAME_LITERAL)
        {
          if (!feed_literal (self, &data, &len, error))
            return FALSE;
          if (self->literal_have == self->literal_len && !finish_literal (self, error))
            return FALSE;
          continue;
        }

      nl = memchr (data, '\n', len);
      chunk = nl != NULL ? (gsize) (nl - data) : len;
      room = self->line_total < self->max_line ? self->max_line - self->line_total : 0;
      if (memchr (data, '\0', MIN (chunk, room)) != NULL)
        return parse_error (error, _("NUL byte in a line"));
      if (chunk > room)
        return limit_error (error, _("line too long"));
      self->line_total += chunk;

      if (nl == NULL)
        {
          g_byte_array_append (self->line, data, (guint) chunk);
          return TRUE;
        }

      if (self->line->len == 0)
        {
          ok = process_line (self, data, chunk, responses, error);
        }
      else
        {
          g_byte_array_append (self->line, data, (guint) chunk);
          ok = process_line (self, self->line->data, self->line->len, responses, error);
          g_byte_array_set_size (self->line, 0);
        }
      if (!ok)
        return FALSE;
      /* the LF of a line that a literal or another line continues */
      if (self->response != NULL)
        self->line_total++;

      data += chunk + 1;
      len -= chunk + 1;
    }

  return TRUE;
}

gboolean
td_imap_parser_feed (TdImapParser  *self,
                     const guint8  *data,
                     gsize          len,
                     GPtrArray     *responses,
                     GError       **error)
{
  GError *local = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (responses != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->poison != NULL)
    {
      g_propagate_error (error, g_error_copy (self->poison));
      return FALSE;
    }

  if (!feed_internal (self, data, len, responses, &local))
    {
      self->poison = g_error_copy (local);
      g_propagate_error (error, local);
      return FALSE;
    }

  return TRUE;
}
