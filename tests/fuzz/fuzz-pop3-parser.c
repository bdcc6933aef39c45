/* fuzz-pop3-parser.c: libFuzzer entry point for the POP3 parser and its helpers
 *
 * An input is a line of expectations, then the server's bytes: each byte of the first line
 * (up to the first LF, at most 64) says what one answer will be (its value modulo 4: status,
 * listing, body, SASL). Each input is parsed with the default limits and with small ones,
 * each time fed whole, in random chunks (sizes drawn from a hash of the input) and, for small
 * inputs, one byte at a time. The three feeds must agree exactly: the same events (the pieces
 * of a body joined), the same error, the same answer to the end of the input. Every status and
 * listing line then goes through the helpers that read them. A disagreement or a broken
 * invariant aborts, so the fuzzer (or fuzz-driver.c) reports it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td-error.h"
#include "td-pop3-parser.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

#define BYTEWISE_MAX    8192
#define MAX_EXPECTS     64

static void
fail (const char *what)
{
  fprintf (stderr, "fuzz-pop3-parser: invariant broken: %s\n", what);
  abort ();
}

/* The events as one string: kinds, fields and bytes, the pieces of a body joined. */
static GString *
serialize (GPtrArray *events)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < events->len; i++)
    {
      const TdPop3Event *e = events->pdata[i];

      switch (e->kind)
        {
        case TD_POP3_EVENT_STATUS:
          if (e->text == NULL || !g_utf8_validate (e->text, -1, NULL))
            fail ("status text missing or not UTF-8");
          if ((e->code == TD_POP3_CODE_NONE) != (e->code_text == NULL))
            fail ("code and code text disagree");
          g_string_append_printf (out, "\nS%d%d[%s]%s", e->ok, e->code,
                                  e->code_text != NULL ? e->code_text : "", e->text);
          break;
        case TD_POP3_EVENT_CONTINUATION:
          if (e->text == NULL || !g_utf8_validate (e->text, -1, NULL))
            fail ("continuation text missing or not UTF-8");
          g_string_append_printf (out, "\nC%s", e->text);
          break;
        case TD_POP3_EVENT_LINE:
          if (e->text == NULL)
            fail ("listing line without text");
          g_string_append_printf (out, "\nL%s", e->text);
          break;
        case TD_POP3_EVENT_DATA:
          {
            gsize len;
            const char *bytes = g_bytes_get_data (e->data, &len);

            if (len == 0)
              fail ("empty body piece");
            if (i == 0 || ((TdPop3Event *) events->pdata[i - 1])->kind != TD_POP3_EVENT_DATA)
              g_string_append (out, "\nD");
            g_string_append_len (out, bytes, (gssize) len);
          }
          break;
        case TD_POP3_EVENT_END:
          g_string_append (out, "\nE");
          break;
        default:
          fail ("unknown event kind");
        }
    }
  return out;
}

static guint32
hash_input (const uint8_t *data,
            size_t         size)
{
  guint32 h = 2166136261u;

  for (size_t i = 0; i < size; i++)
    h = (h ^ data[i]) * 16777619u;
  return h != 0 ? h : 1;
}

typedef struct
{
  GString  *events;
  int       code;        /* -1: no error */
  gboolean  end_ok;
} Outcome;

/* @chunking: 0 whole, 1 random chunks, 2 byte-wise */
static Outcome
run_parser (const uint8_t *expects,
            size_t         n_expects,
            const uint8_t *data,
            size_t         size,
            gboolean       small_limits,
            int            chunking,
            guint32        seed)
{
  TdPop3Parser *parser = td_pop3_parser_new ();
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) td_pop3_event_free);
  GError *error = NULL;
  Outcome o = { NULL, -1, FALSE };
  size_t pos = 0;
  guint32 x = seed;

  if (small_limits)
    td_pop3_parser_set_limits (parser, 64, 512);
  for (size_t i = 0; i < n_expects; i++)
    td_pop3_parser_expect (parser, (TdPop3Expect) (expects[i] % 4));

  while (pos < size)
    {
      size_t n;

      if (chunking == 0)
        n = size;
      else if (chunking == 2)
        n = 1;
      else
        {
          x ^= x << 13;
          x ^= x >> 17;
          x ^= x << 5;
          n = 1 + x % ((x >> 8) % 4 == 0 ? 2048 : 24);
        }
      n = MIN (n, size - pos);
      if (!td_pop3_parser_feed (parser, data + pos, n, events, &error))
        break;
      if (td_pop3_parser_get_pending (parser) > pos + n)
        fail ("more bytes pending than fed");
      pos += n;
    }

  if (error != NULL)
    {
      if (error->domain != TD_ERROR ||
          (error->code != TD_ERROR_PARSE && error->code != TD_ERROR_LIMIT))
        fail ("unexpected error domain or code");
      o.code = error->code;
      g_clear_error (&error);

      /* poisoned: it stays failed, with the same code */
      if (td_pop3_parser_feed (parser, (const guint8 *) "+OK\r\n", 5, events, &error) ||
          error == NULL || error->code != o.code)
        fail ("parser not poisoned after an error");
      g_clear_error (&error);
    }
  else
    {
      o.end_ok = td_pop3_parser_end (parser, &error);
      if (o.end_ok != (error == NULL))
        fail ("end: result and error disagree");
      if (!o.end_ok && (error->domain != TD_ERROR || error->code != TD_ERROR_PARSE))
        fail ("end: unexpected error");
      if (o.end_ok && (td_pop3_parser_in_multiline (parser) ||
                       td_pop3_parser_get_pending (parser) != 0))
        fail ("end accepted inside a response");
      g_clear_error (&error);
    }

  o.events = serialize (events);
  g_ptr_array_unref (events);
  td_pop3_parser_free (parser);
  return o;
}

static void
exercise_text (const char *text)
{
  GError *error = NULL;
  guint32 n32;
  guint64 n64;
  char *uid = NULL;
  char *timestamp;

  if (td_pop3_parse_stat (text, &n32, &n64, &error) == (error != NULL))
    fail ("parse_stat: result and error disagree");
  g_clear_error (&error);
  if (td_pop3_parse_scan_listing (text, &n32, &n64, &error) == (error != NULL))
    fail ("parse_scan_listing: result and error disagree");
  if (error == NULL && n32 == 0)
    fail ("parse_scan_listing: message number 0");
  g_clear_error (&error);
  if (td_pop3_parse_uid_listing (text, &n32, &uid, &error) == (error != NULL))
    fail ("parse_uid_listing: result and error disagree");
  if (error == NULL && (uid == NULL || uid[0] == '\0' ||
                        strlen (uid) > TD_POP3_MAX_UID_LENGTH || strpbrk (uid, " \t") != NULL))
    fail ("parse_uid_listing: a bad unique-id accepted");
  g_clear_error (&error);
  g_free (uid);

  timestamp = td_pop3_greeting_timestamp (text);
  if (timestamp != NULL && (timestamp[0] != '<' || !g_str_has_suffix (timestamp, ">") ||
                            strstr (text, timestamp) == NULL))
    fail ("greeting_timestamp: not a part of the text in brackets");
  g_free (timestamp);
}

static void
exercise (const uint8_t *expects,
          size_t         n_expects,
          const uint8_t *data,
          size_t         size)
{
  TdPop3Parser *parser = td_pop3_parser_new ();
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) td_pop3_event_free);

  for (size_t i = 0; i < n_expects; i++)
    td_pop3_parser_expect (parser, (TdPop3Expect) (expects[i] % 4));
  td_pop3_parser_feed (parser, data, size, events, NULL);
  for (guint i = 0; i < events->len; i++)
    {
      const TdPop3Event *e = events->pdata[i];

      if (e->text != NULL)
        exercise_text (e->text);
    }
  g_ptr_array_unref (events);
  td_pop3_parser_free (parser);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const uint8_t *nl = memchr (data, '\n', MIN (size, (size_t) MAX_EXPECTS + 1));
  size_t n_expects = nl != NULL ? (size_t) (nl - data) : 0;
  const uint8_t *wire = nl != NULL ? nl + 1 : data;
  size_t wire_size = size - (size_t) (wire - data);
  guint32 seed = hash_input (data, size);

  for (int small = 0; small <= 1; small++)
    {
      Outcome whole = run_parser (data, n_expects, wire, wire_size, small, 0, seed);

      for (int chunking = 1; chunking <= 2; chunking++)
        {
          Outcome other;

          if (chunking == 2 && wire_size > BYTEWISE_MAX)
            continue;
          other = run_parser (data, n_expects, wire, wire_size, small, chunking, seed);
          if (other.code != whole.code)
            fail ("chunking changed the error");
          if (other.code == -1 && other.end_ok != whole.end_ok)
            fail ("chunking changed the end of the input");
          if (other.code == -1 && !g_string_equal (other.events, whole.events))
            fail ("chunking changed the events");
          /* before an error, a feed in pieces may have passed on more of a body */
          if (other.code != -1 &&
              (other.events->len < whole.events->len ||
               memcmp (other.events->str, whole.events->str, whole.events->len) != 0))
            fail ("chunking changed the events before the error");
          g_string_free (other.events, TRUE);
        }
      g_string_free (whole.events, TRUE);
    }

  exercise (data, n_expects, wire, wire_size);
  return 0;
}
