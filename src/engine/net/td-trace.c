/* td-trace.c: protocol traces for debugging, with secrets redacted
 *
 * The redaction is stateless and errs on the side of hiding: once a client line is known to
 * carry credentials, everything after the command (or after the part that is safe to show)
 * is replaced, whatever quoting, literals or line breaks it contains.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-net"

#include "config.h"

#include "td-trace.h"

#include <string.h>

#define TRACE_MAX_BYTES 1000
#define REDACTED "***"

/* A word of the line: [start, start + len). */
typedef struct
{
  const char *start;
  gsize       len;
} Word;

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* Splits off up to @max_words words separated by spaces or tabs; returns how many were
 * found. @rest_out: where the text after the last word found starts (blanks skipped). */
static guint
split_words (const char  *line,
             gsize        len,
             Word        *words,
             guint        max_words,
             const char **rest_out)
{
  const char *p = line;
  const char *end = line + len;
  guint n = 0;

  while (n < max_words)
    {
      while (p < end && is_blank (*p))
        p++;
      if (p >= end || *p == '\r' || *p == '\n')
        break;
      words[n].start = p;
      while (p < end && !is_blank (*p) && *p != '\r' && *p != '\n')
        p++;
      words[n].len = (gsize) (p - words[n].start);
      n++;
    }

  while (p < end && is_blank (*p))
    p++;
  *rest_out = p;
  return n;
}

static gboolean
word_is (const Word *word,
         const char *keyword)
{
  gsize klen = strlen (keyword);

  return word->len == klen && g_ascii_strncasecmp (word->start, keyword, klen) == 0;
}

/* Whether anything but line ends follows @rest. */
static gboolean
has_more (const char *rest,
          const char *end)
{
  for (const char *p = rest; p < end; p++)
    if (!is_blank (*p) && *p != '\r' && *p != '\n')
      return TRUE;
  return FALSE;
}

static void
append_words (GString    *out,
              const Word *words,
              guint       n)
{
  for (guint i = 0; i < n; i++)
    {
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append_len (out, words[i].start, (gssize) words[i].len);
    }
}

/* Each redactor looks at one physical line (no line end) and, when it carries credentials,
 * returns what may be shown of it. */

/* IMAP: "tag LOGIN user pass" -> "tag LOGIN *** ***"; "tag AUTHENTICATE MECH ir" ->
 * "tag AUTHENTICATE MECH ***". A missing tag is tolerated (the command may come first). */
static GString *
redact_imap (const char *line,
             gsize       len)
{
  const char *end = line + len;
  const char *rest = NULL;
  Word words[3];
  guint n = split_words (line, len, words, 3, &rest);
  GString *out;

  for (guint cmd = 0; cmd < MIN (n, 2u); cmd++)
    {
      if (word_is (&words[cmd], "LOGIN"))
        {
          out = g_string_new (NULL);
          append_words (out, words, cmd + 1);
          /* The user name goes as well: it may be quoted or a literal that runs into the
           * password, and a trace does not need it. */
          if (cmd + 1 < n)
            g_string_append (out, " " REDACTED " " REDACTED);
          return out;
        }
      if (word_is (&words[cmd], "AUTHENTICATE"))
        {
          out = g_string_new (NULL);
          if (cmd + 1 < n)
            {
              /* The mechanism name is safe to show; an initial response is not. */
              const char *after_mech = words[cmd + 1].start + words[cmd + 1].len;

              append_words (out, words, cmd + 2);
              if (has_more (after_mech, end))
                g_string_append (out, " " REDACTED);
            }
          else
            append_words (out, words, cmd + 1);
          return out;
        }
    }

  return NULL;
}

/* POP3 and SMTP: "PASS x", "APOP user digest", "AUTH MECH ir". */
static GString *
redact_pop3_smtp (TdTraceProtocol  protocol,
                  const char      *line,
                  gsize            len)
{
  const char *end = line + len;
  const char *rest = NULL;
  Word words[2];
  guint n = split_words (line, len, words, 2, &rest);
  GString *out;

  if (n == 0)
    return NULL;

  if (protocol == TD_TRACE_POP3 && word_is (&words[0], "PASS"))
    {
      out = g_string_new (NULL);
      append_words (out, words, 1);
      if (n > 1)
        g_string_append (out, " " REDACTED);
      return out;
    }

  if (protocol == TD_TRACE_POP3 && word_is (&words[0], "APOP"))
    {
      out = g_string_new (NULL);
      /* The user name may stay when a digest follows it; a lone argument may be either. */
      append_words (out, words, n > 1 && has_more (rest, end) ? 2 : 1);
      if (n > 1)
        g_string_append (out, " " REDACTED);
      return out;
    }

  if (word_is (&words[0], "AUTH"))
    {
      out = g_string_new (NULL);
      append_words (out, words, n);
      if (n > 1 && has_more (rest, end))
        g_string_append (out, " " REDACTED);
      return out;
    }

  return NULL;
}

static GString *
redact_one_line (TdTraceProtocol  protocol,
                 const char      *line,
                 gsize            len)
{
  switch (protocol)
    {
    case TD_TRACE_IMAP:
      return redact_imap (line, len);
    case TD_TRACE_POP3:
    case TD_TRACE_SMTP:
      return redact_pop3_smtp (protocol, line, len);
    default:
      /* An unknown protocol: nothing is known to be safe. */
      return g_string_new (REDACTED);
    }
}

/* A client chunk may hold several lines (pipelining, LITERAL+). Lines are redacted one by
 * one; once a line carries credentials, everything after it is hidden too (literals,
 * SASL responses sent in the same write). Copies at most TRACE_MAX_BYTES + 1 bytes, and
 * only of lines that were checked. */
static GString *
redact_client (TdTraceProtocol  protocol,
               const char      *text,
               gsize            len)
{
  GString *out = g_string_sized_new (MIN (len, (gsize) TRACE_MAX_BYTES) + 16);
  const char *p = text;
  const char *end = text + len;

  while (p < end && out->len <= TRACE_MAX_BYTES)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *next = nl != NULL ? nl + 1 : end;
      gsize line_len = (gsize) ((nl != NULL ? nl : end) - p);
      g_autoptr(GString) redacted = NULL;

      if (line_len > 0 && p[line_len - 1] == '\r')
        line_len--;

      redacted = redact_one_line (protocol, p, line_len);
      if (redacted != NULL)
        {
          g_string_append_len (out, redacted->str, (gssize) redacted->len);
          if (has_more (next, end) && !g_str_has_suffix (redacted->str, REDACTED))
            g_string_append (out, " " REDACTED);
          break;
        }

      /* The line with its own line end (the final one was taken off before). */
      g_string_append_len (out, p,
                           (gssize) MIN ((gsize) (next - p), TRACE_MAX_BYTES + 1 - out->len));
      p = next;
    }

  return out;
}

/* Appends @len bytes of @data with everything outside printable ASCII escaped. */
static void
append_escaped (GString    *out,
                const char *data,
                gsize       len)
{
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) data[i];

      switch (c)
        {
        case '\r': g_string_append (out, "\\r"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\\': g_string_append (out, "\\\\"); break;
        default:
          if (c >= 0x20 && c < 0x7f)
            g_string_append_c (out, (char) c);
          else
            g_string_append_printf (out, "\\x%02x", c);
        }
    }
}

char *
td_trace_redact (TdTraceProtocol  protocol,
                 gboolean         outgoing,
                 gboolean         sasl_continuation,
                 const char      *line,
                 gsize            len)
{
  g_autoptr(GString) text = NULL;
  GString *out;
  gsize shown;

  if (line == NULL)
    len = 0;
  else if (len == (gsize) -1)
    len = strlen (line);

  if (outgoing && sasl_continuation)
    return g_strdup (REDACTED);

  /* The final line end is the protocol's, not worth showing. */
  if (len > 0 && line[len - 1] == '\n')
    len--;
  if (len > 0 && line[len - 1] == '\r')
    len--;

  if (outgoing)
    text = redact_client (protocol, line, len);
  else
    text = g_string_new_len (line, (gssize) MIN (len, (gsize) TRACE_MAX_BYTES + 1));

  shown = MIN (text->len, (gsize) TRACE_MAX_BYTES);
  out = g_string_sized_new (shown + 48);
  append_escaped (out, text->str, shown);
  if (shown < text->len)
    g_string_append_printf (out, "... (cut, %" G_GSIZE_FORMAT " bytes in all)", len);

  return g_string_free (out, FALSE);
}

void
td_trace_line (const char      *log_domain,
               TdTraceProtocol  protocol,
               gboolean         outgoing,
               gboolean         sasl_continuation,
               const char      *line,
               gsize            len)
{
  g_autofree char *redacted = NULL;

  if (g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, log_domain))
    return;

  redacted = td_trace_redact (protocol, outgoing, sasl_continuation, line, len);
  g_log_structured (log_domain, G_LOG_LEVEL_DEBUG,
                    "MESSAGE", "%s %s", outgoing ? "C:" : "S:", redacted);
}
