/* fuzz-smtp-parser.c: libFuzzer entry point for the SMTP reply parser
 *
 * The input is the server's bytes. It is parsed fed whole, in random chunks (sizes drawn from
 * a hash of the input) and, for small inputs, one byte at a time; the three feeds must agree
 * exactly: the same replies (codes, enhanced codes, lines), the same error, the same partial
 * state at the end. Every reply must keep the parser's invariants (a code of 200-559, valid
 * UTF-8 lines, bounded counts). A disagreement or a broken invariant aborts, so the fuzzer
 * (or fuzz-driver.c) reports it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td-error.h"
#include "td-smtp-parser.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

#define BYTEWISE_MAX 8192

static void
fail (const char *what)
{
  fprintf (stderr, "fuzz-smtp-parser: invariant broken: %s\n", what);
  abort ();
}

static void
take_replies (TdSmtpParser *parser,
              GString      *out)
{
  TdSmtpReply *reply;

  while ((reply = td_smtp_parser_pop (parser)) != NULL)
    {
      char *text;

      if (reply->code < 200 || reply->code > 559)
        fail ("a code out of range");
      if (reply->lines->len == 0 || reply->lines->len > TD_SMTP_MAX_REPLY_LINES)
        fail ("a reply without lines, or with too many");
      g_string_append_printf (out, "\n%u[%s]", reply->code,
                              reply->enhanced != NULL ? reply->enhanced : "");
      for (guint i = 0; i < reply->lines->len; i++)
        {
          const char *line = g_ptr_array_index (reply->lines, i);

          if (!g_utf8_validate (line, -1, NULL) || strlen (line) > TD_SMTP_MAX_LINE)
            fail ("a line not UTF-8 or too long");
          g_string_append_printf (out, "|%s", line);
        }
      text = td_smtp_reply_text (reply);
      if (!g_utf8_validate (text, -1, NULL))
        fail ("the reply text is not UTF-8");
      g_free (text);
      td_smtp_reply_free (reply);
    }
}

/* Feeds @data in pieces of @chunk bytes (0: pieces drawn from @seed); the outcome as text. */
static char *
run (const uint8_t *data,
     size_t         size,
     size_t         chunk,
     guint32        seed)
{
  TdSmtpParser *parser = td_smtp_parser_new ();
  GString *out = g_string_new (NULL);
  GError *error = NULL;
  size_t pos = 0;

  while (pos < size)
    {
      size_t n = chunk;

      if (n == 0)
        {
          seed = seed * 1103515245u + 12345u;
          n = 1 + (seed >> 16) % 97;
        }
      n = MIN (n, size - pos);
      if (!td_smtp_parser_feed (parser, (const char *) data + pos, n, &error))
        {
          if (error == NULL || error->domain != TD_ERROR)
            fail ("a failure without a TD_ERROR");
          take_replies (parser, out);
          g_string_append_printf (out, "\nERROR %d", error->code);
          g_clear_error (&error);
          td_smtp_parser_free (parser);
          return g_string_free (out, FALSE);
        }
      pos += n;
      take_replies (parser, out);
    }
  g_string_append_printf (out, "\nEND %d", td_smtp_parser_has_buffered (parser));
  td_smtp_parser_free (parser);
  return g_string_free (out, FALSE);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  guint32 seed = 2166136261u;
  char *whole;
  char *chunks;

  for (size_t i = 0; i < size; i++)
    seed = (seed ^ data[i]) * 16777619u;

  whole = run (data, size, size > 0 ? size : 1, 0);
  chunks = run (data, size, 0, seed);
  /* an error may come at another place with other pieces only in what was not yet taken:
   * the replies before it and the error itself must be the same */
  if (strcmp (whole, chunks) != 0)
    fail ("whole and chunked feeds disagree");
  if (size <= BYTEWISE_MAX)
    {
      char *bytes = run (data, size, 1, 0);

      if (strcmp (whole, bytes) != 0)
        fail ("whole and bytewise feeds disagree");
      g_free (bytes);
    }
  g_free (whole);
  g_free (chunks);
  return 0;
}
