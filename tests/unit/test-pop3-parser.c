/* test-pop3-parser.c: the POP3 push parser, fed whole, byte-wise and in random splits
 *
 * Transcripts live in tests/data/pop3/NAME.txt (see the README there): the server's lines,
 * and the client's commands, which tell the parser what each answer will be. Each has a
 * NAME.expected with the canonical dump of its events (see dump_events());
 * TD_TEST_UPDATE_EXPECTED=1 rewrites those files from the parser's output, for review.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-pop3-parser.h"
#include "td-test-util.h"

/* ------------------------------------------------------------------------------------------ */
/* Expectations, as letters: S status, L listing, D body, A SASL */

static TdPop3Expect
expect_from_letter (char letter)
{
  switch (letter)
    {
    case 'S': return TD_POP3_EXPECT_STATUS;
    case 'L': return TD_POP3_EXPECT_LINES;
    case 'D': return TD_POP3_EXPECT_DATA;
    case 'A': return TD_POP3_EXPECT_SASL;
    default:
      g_error ("bad expectation letter '%c'", letter);
      return TD_POP3_EXPECT_STATUS;
    }
}

static void
queue_expects (TdPop3Parser *parser,
               const char   *expects)
{
  for (const char *p = expects; *p != '\0'; p++)
    td_pop3_parser_expect (parser, expect_from_letter (*p));
}

/* What a client command's answer will be, as the session tells the parser. */
static char
letter_for_command (const char *command)
{
  g_auto(GStrv) words = g_strsplit (command, " ", -1);
  guint n = g_strv_length (words);

  g_assert_cmpuint (n, >, 0);
  if (g_ascii_strcasecmp (words[0], "RETR") == 0 || g_ascii_strcasecmp (words[0], "TOP") == 0)
    return 'D';
  if (g_ascii_strcasecmp (words[0], "CAPA") == 0 ||
      (n == 1 && (g_ascii_strcasecmp (words[0], "LIST") == 0 ||
                  g_ascii_strcasecmp (words[0], "UIDL") == 0)))
    return 'L';
  if (g_ascii_strcasecmp (words[0], "AUTH") == 0)
    return 'A';
  return 'S';
}

typedef struct
{
  GBytes *wire;
  char   *expects;
} Transcript;

static void
transcript_clear (Transcript *t)
{
  g_clear_pointer (&t->wire, g_bytes_unref);
  g_clear_pointer (&t->expects, g_free);
}

static void
load_transcript (const char *name,
                 Transcript *out)
{
  g_autofree char *rel = g_build_filename ("pop3", name, NULL);
  g_autoptr(GBytes) raw = td_test_load_data (rel);
  g_autofree char *text = g_strndup (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  g_auto(GStrv) rows = g_strsplit (text, "\n", -1);
  GByteArray *wire = g_byte_array_new ();
  GString *expects = g_string_new ("S");      /* the greeting */

  for (guint i = 0; rows[i] != NULL; i++)
    {
      const char *row = rows[i];

      if (row[0] == '\0' || row[0] == '#')
        continue;
      if (strcmp (row, "S:") == 0)
        g_byte_array_append (wire, (const guint8 *) "\r\n", 2);
      else if (g_str_has_prefix (row, "S: "))
        {
          g_byte_array_append (wire, (const guint8 *) row + 3, strlen (row + 3));
          g_byte_array_append (wire, (const guint8 *) "\r\n", 2);
        }
      else if (g_str_has_prefix (row, "S+ "))
        {
          g_autofree char *bytes = g_strcompress (row + 3);

          g_byte_array_append (wire, (const guint8 *) bytes, strlen (bytes));
        }
      else if (g_str_has_prefix (row, "C: "))
        g_string_append_c (expects, letter_for_command (row + 3));
      else if (!g_str_has_prefix (row, "C+ "))
        g_error ("%s line %u: cannot read \"%s\"", name, i + 1, row);
    }

  out->wire = g_byte_array_free_to_bytes (wire);
  out->expects = g_string_free (expects, FALSE);
}

static GPtrArray *
transcript_names (void)
{
  g_autofree char *dir_path = td_test_data_path ("pop3");
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".txt"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_assert_cmpuint (names->len, >=, 5);
  return names;
}

/* ------------------------------------------------------------------------------------------ */
/* Dumps */

static void
escape_bytes (GString      *out,
              const guint8 *data,
              gsize         len)
{
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c < 0x20 || c >= 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_c (out, (char) c);
    }
}

static void
dump_bytes (GString      *out,
            const guint8 *data,
            gsize         len)
{
  if (len <= 100)
    {
      g_string_append_c (out, '"');
      escape_bytes (out, data, len);
      g_string_append_c (out, '"');
    }
  else
    {
      g_autofree char *sum = g_compute_checksum_for_data (G_CHECKSUM_SHA1, data, len);

      g_string_append_printf (out, "<%" G_GSIZE_FORMAT " bytes sha1:%.12s>", len, sum);
    }
}

static const char *
code_name (TdPop3Code code)
{
  static const char * const names[] = {
    "-", "IN-USE", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", "AUTH", "OTHER",
  };

  g_assert_cmpuint (code, <, G_N_ELEMENTS (names));
  return names[code];
}

static void
check_event (const TdPop3Event *e)
{
  switch (e->kind)
    {
    case TD_POP3_EVENT_STATUS:
      g_assert_nonnull (e->text);
      g_assert_true (g_utf8_validate (e->text, -1, NULL));
      g_assert_true ((e->code == TD_POP3_CODE_NONE) == (e->code_text == NULL));
      g_assert_null (e->data);
      break;
    case TD_POP3_EVENT_CONTINUATION:
      g_assert_nonnull (e->text);
      g_assert_true (g_utf8_validate (e->text, -1, NULL));
      g_assert_null (e->code_text);
      g_assert_null (e->data);
      break;
    case TD_POP3_EVENT_LINE:
      g_assert_nonnull (e->text);
      g_assert_null (e->data);
      break;
    case TD_POP3_EVENT_DATA:
      g_assert_nonnull (e->data);
      g_assert_cmpuint (g_bytes_get_size (e->data), >, 0);
      g_assert_null (e->text);
      break;
    case TD_POP3_EVENT_END:
      g_assert_null (e->text);
      g_assert_null (e->data);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* One line per event, the pieces of a body joined:
 *   +OK [CODE kind] "text"    -ERR [CODE kind] "text"    + "text"
 *   LINE "text"    DATA "bytes" or <N bytes sha1:...>    END
 * With @flat, bodies are written out in full, so that the dump of a cut input is a prefix of
 * the dump of the whole. */
static char *
dump_events_full (GPtrArray *events,
                  gboolean   flat)
{
  GString *out = g_string_new (NULL);
  g_autoptr(GByteArray) body = g_byte_array_new ();

  for (guint i = 0; i <= events->len; i++)
    {
      const TdPop3Event *e = i < events->len ? g_ptr_array_index (events, i) : NULL;

      if (e != NULL)
        check_event (e);
      if (e != NULL && e->kind == TD_POP3_EVENT_DATA)
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (e->data, &len);

          if (flat)
            {
              if (i == 0 || ((TdPop3Event *) g_ptr_array_index (events, i - 1))->kind !=
                            TD_POP3_EVENT_DATA)
                g_string_append (out, "DATA ");
              escape_bytes (out, data, len);
            }
          else
            g_byte_array_append (body, data, (guint) len);
          continue;
        }
      if (flat && e != NULL && i > 0 &&
          ((TdPop3Event *) g_ptr_array_index (events, i - 1))->kind == TD_POP3_EVENT_DATA)
        g_string_append_c (out, '\n');
      if (body->len > 0)
        {
          g_string_append (out, "DATA ");
          dump_bytes (out, body->data, body->len);
          g_string_append_c (out, '\n');
          g_byte_array_set_size (body, 0);
        }
      if (e == NULL)
        break;

      switch (e->kind)
        {
        case TD_POP3_EVENT_STATUS:
          g_string_append (out, e->ok ? "+OK" : "-ERR");
          if (e->code_text != NULL)
            g_string_append_printf (out, " [%s %s]", e->code_text, code_name (e->code));
          g_string_append_c (out, ' ');
          dump_bytes (out, (const guint8 *) e->text, strlen (e->text));
          break;
        case TD_POP3_EVENT_CONTINUATION:
          g_string_append (out, "+ ");
          dump_bytes (out, (const guint8 *) e->text, strlen (e->text));
          break;
        case TD_POP3_EVENT_LINE:
          g_string_append (out, "LINE ");
          dump_bytes (out, (const guint8 *) e->text, strlen (e->text));
          break;
        case TD_POP3_EVENT_END:
          g_string_append (out, "END");
          break;
        case TD_POP3_EVENT_DATA:
        default:
          g_assert_not_reached ();
        }
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

static char *
dump_events (GPtrArray *events)
{
  return dump_events_full (events, FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Feeding */

static GPtrArray *
events_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) td_pop3_event_free);
}

typedef enum
{
  SPLIT_WHOLE,
  SPLIT_BYTES,
  SPLIT_RANDOM,
} SplitMode;

/* Feeds @data in the given chunking; returns the events, *error on failure. */
static GPtrArray *
parse_split (TdPop3Parser  *parser,
             const guint8  *data,
             gsize          len,
             SplitMode      mode,
             guint32        seed,
             GError       **error)
{
  GPtrArray *events = events_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  gsize pos = 0;

  while (pos < len)
    {
      gsize n;

      switch (mode)
        {
        case SPLIT_WHOLE:
          n = len;
          break;
        case SPLIT_BYTES:
          n = 1;
          break;
        case SPLIT_RANDOM:
        default:
          /* mostly small pieces, sometimes big ones */
          n = g_rand_int_range (rand, 0, 4) == 0 ? (gsize) g_rand_int_range (rand, 1, 4096)
                                                 : (gsize) g_rand_int_range (rand, 1, 40);
          break;
        }
      n = MIN (n, len - pos);
      if (!td_pop3_parser_feed (parser, data + pos, n, events, error))
        break;
      pos += n;
    }

  return events;
}

/* Parses @text (of @len bytes) with @expects queued, whole, byte-wise and in random splits:
 * all must agree. Returns the events of the whole feed; the parser must be between
 * responses at the end. */
static GPtrArray *
parse_ok_len (const char *expects,
              const char *text,
              gsize       len)
{
  GPtrArray *first = NULL;
  g_autofree char *first_dump = NULL;

  for (guint run = 0; run < 2 + 10; run++)
    {
      g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
      g_autoptr(GError) error = NULL;
      SplitMode mode = run == 0 ? SPLIT_WHOLE : run == 1 ? SPLIT_BYTES : SPLIT_RANDOM;
      GPtrArray *events = NULL;
      g_autofree char *dump = NULL;

      queue_expects (parser, expects);
      events = parse_split (parser, (const guint8 *) text, len, mode, 17 + run, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (td_pop3_parser_get_pending (parser), ==, 0);
      g_assert_false (td_pop3_parser_in_multiline (parser));
      g_assert_true (td_pop3_parser_end (parser, &error));
      g_assert_no_error (error);
      dump = dump_events (events);
      if (first == NULL)
        {
          first = events;
          first_dump = g_steal_pointer (&dump);
        }
      else
        {
          g_assert_cmpstr (dump, ==, first_dump);
          g_ptr_array_unref (events);
        }
    }
  return first;
}

static GPtrArray *
parse_ok (const char *expects,
          const char *text)
{
  return parse_ok_len (expects, text, strlen (text));
}

static char *
dump_ok (const char *expects,
         const char *text)
{
  g_autoptr(GPtrArray) events = parse_ok (expects, text);

  return dump_events (events);
}

#define assert_dump(expects, text, expected) \
  G_STMT_START { \
    g_autofree char *dump__ = dump_ok ((expects), (text)); \
    g_assert_cmpstr (dump__, ==, (expected)); \
  } G_STMT_END

static TdPop3Event *
parse_one_status (const char *line)
{
  g_autoptr(GPtrArray) events = parse_ok ("S", line);

  g_assert_cmpuint (events->len, ==, 1);
  return g_ptr_array_steal_index (events, 0);
}

/* Feeds @text (of @len bytes) whole, byte-wise and in random splits with @expects queued;
 * each must fail with @code, in feed or at the end of the input. */
static void
assert_fails_len (const char *expects,
                  const char *text,
                  gsize       len,
                  int         code)
{
  for (guint run = 0; run < 2 + 3; run++)
    {
      g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) events = NULL;
      SplitMode mode = run == 0 ? SPLIT_WHOLE : run == 1 ? SPLIT_BYTES : SPLIT_RANDOM;

      queue_expects (parser, expects);
      events = parse_split (parser, (const guint8 *) text, len, mode, run, &error);
      if (error == NULL)
        td_pop3_parser_end (parser, &error);
      if (error == NULL)
        {
          g_autofree char *escaped = g_strescape (text, NULL);

          g_error ("expected error %d for \"%s\"", code, escaped);
        }
      g_assert_error (error, TD_ERROR, code);
    }
}

#define assert_fails(expects, text, code) \
  assert_fails_len ((expects), (text), strlen (text), (code))

/* ------------------------------------------------------------------------------------------ */
/* Transcripts */

static void
test_transcripts_expected (void)
{
  g_autoptr(GPtrArray) names = transcript_names ();

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *base = g_strndup (name, strlen (name) - 4);
      g_autofree char *expected_name = g_strconcat ("pop3/", base, ".expected", NULL);
      g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) events = NULL;
      g_autoptr(GBytes) expected = NULL;
      g_autofree char *dump = NULL;
      g_autofree char *expected_str = NULL;
      Transcript t = { NULL, };

      g_test_message ("transcript %s", name);
      load_transcript (name, &t);
      queue_expects (parser, t.expects);
      events = parse_split (parser, g_bytes_get_data (t.wire, NULL), g_bytes_get_size (t.wire),
                            SPLIT_WHOLE, 0, &error);
      g_assert_no_error (error);
      g_assert_true (td_pop3_parser_end (parser, &error));
      g_assert_no_error (error);
      /* every answer took its expectation */
      g_assert_cmpuint (td_pop3_parser_get_expected (parser), ==, 0);
      g_assert_cmpuint (events->len, >, 5);

      dump = dump_events (events);
      if (g_getenv ("TD_TEST_UPDATE_EXPECTED") != NULL)
        {
          /* Regenerating: review the diff of the .expected files before committing. */
          g_autofree char *path = td_test_data_path (expected_name);

          g_assert_true (g_file_set_contents (path, dump, -1, NULL));
        }
      expected = td_test_load_data (expected_name);
      expected_str = g_strndup (g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
      g_assert_cmpstr (dump, ==, expected_str);
      transcript_clear (&t);
    }
}

static void
test_transcripts_chunking (void)
{
  g_autoptr(GPtrArray) names = transcript_names ();

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *whole = NULL;
      Transcript t = { NULL, };
      const guint8 *data;
      gsize len;

      g_test_message ("transcript %s", name);
      load_transcript (name, &t);
      data = g_bytes_get_data (t.wire, &len);

      for (guint run = 0; run < 2 + 25; run++)
        {
          g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) events = NULL;
          g_autofree char *dump = NULL;
          SplitMode mode = run == 0 ? SPLIT_WHOLE : run == 1 ? SPLIT_BYTES : SPLIT_RANDOM;

          queue_expects (parser, t.expects);
          events = parse_split (parser, data, len, mode, 1000 + run, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (td_pop3_parser_get_pending (parser), ==, 0);
          dump = dump_events (events);
          if (whole == NULL)
            whole = g_steal_pointer (&dump);
          else
            g_assert_cmpstr (dump, ==, whole);
        }
      transcript_clear (&t);
    }
}

/* A transcript cut short anywhere gives a prefix of its events (a body cut in the middle gives
 * the first part of its bytes), and the end of the input is refused exactly when the cut falls
 * inside a response. */
static void
test_transcripts_truncated (void)
{
  g_autoptr(GPtrArray) names = transcript_names ();

  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr(TdPop3Parser) full_parser = td_pop3_parser_new ();
      g_autoptr(GPtrArray) all = NULL;
      g_autofree char *full = NULL;
      Transcript t = { NULL, };
      const guint8 *data;
      gsize len;

      load_transcript (g_ptr_array_index (names, i), &t);
      data = g_bytes_get_data (t.wire, &len);
      queue_expects (full_parser, t.expects);
      all = parse_split (full_parser, data, len, SPLIT_WHOLE, 0, NULL);
      full = dump_events_full (all, TRUE);

      for (gsize cut = 0; cut <= len; cut += 3)
        {
          g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
          g_autoptr(GError) error = NULL;
          g_autoptr(GError) end_error = NULL;
          g_autoptr(GPtrArray) events = NULL;
          g_autofree char *dump = NULL;
          gboolean between;

          queue_expects (parser, t.expects);
          events = parse_split (parser, data, cut, SPLIT_RANDOM, (guint32) cut, &error);
          g_assert_no_error (error);
          dump = dump_events_full (events, TRUE);
          g_assert_true (g_str_has_prefix (full, dump));
          g_assert_cmpuint (td_pop3_parser_get_pending (parser), <=, cut);

          between = td_pop3_parser_get_pending (parser) == 0 &&
                    !td_pop3_parser_in_multiline (parser);
          g_assert_true (td_pop3_parser_end (parser, &end_error) == between);
          if (!between)
            g_assert_error (end_error, TD_ERROR, TD_ERROR_PARSE);
          /* between responses only right after a line end */
          if (between && cut > 0)
            g_assert_cmpint (data[cut - 1], ==, '\n');
        }
      transcript_clear (&t);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Status lines */

static void
test_status_ok_err (void)
{
  struct {
    const char *line;
    gboolean    ok;
    const char *text;
  } cases[] = {
    { "+OK\r\n", TRUE, "" },
    { "+OK \r\n", TRUE, "" },
    { "+OK ready\r\n", TRUE, "ready" },
    { "+ok lower\r\n", TRUE, "lower" },
    { "+Ok mixed\r\n", TRUE, "mixed" },
    { "+OK\tafter a tab\r\n", TRUE, "after a tab" },
    { "+OK   many   spaces   \r\n", TRUE, "many   spaces" },
    { "+OK bare lf\n", TRUE, "bare lf" },
    { "-ERR\r\n", FALSE, "" },
    { "-ERR no such message\r\n", FALSE, "no such message" },
    { "-err lower\r\n", FALSE, "lower" },
    { "+OK caf\xc3\xa9 \xff bytes\r\n", TRUE, "caf\xc3\xa9 \xef\xbf\xbd bytes" },
    { "+OK text ] with [ brackets\r\n", TRUE, "text ] with [ brackets" },
    { "+OK a\rb\r\n", TRUE, "a\rb" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TdPop3Event) e = NULL;

      g_test_message ("%s", cases[i].line);
      e = parse_one_status (cases[i].line);
      g_assert_cmpint (e->kind, ==, TD_POP3_EVENT_STATUS);
      g_assert_cmpint (e->ok, ==, cases[i].ok);
      g_assert_cmpint (e->code, ==, TD_POP3_CODE_NONE);
      g_assert_null (e->code_text);
      g_assert_cmpstr (e->text, ==, cases[i].text);
    }
}

static void
test_status_codes (void)
{
  struct {
    const char *line;
    TdPop3Code  code;
    const char *code_text;
    const char *text;
  } cases[] = {
    { "-ERR [IN-USE] Mailbox locked\r\n", TD_POP3_CODE_IN_USE, "IN-USE", "Mailbox locked" },
    { "-ERR [LOGIN-DELAY] Wait\r\n", TD_POP3_CODE_LOGIN_DELAY, "LOGIN-DELAY", "Wait" },
    { "-ERR [SYS/TEMP] Later\r\n", TD_POP3_CODE_SYS_TEMP, "SYS/TEMP", "Later" },
    { "-ERR [SYS/PERM] Never\r\n", TD_POP3_CODE_SYS_PERM, "SYS/PERM", "Never" },
    { "-ERR [AUTH] Authentication failed.\r\n", TD_POP3_CODE_AUTH, "AUTH",
      "Authentication failed." },
    /* RFC 2449: unknown sub-levels are ignored */
    { "-ERR [IN-USE/LOCKED] x\r\n", TD_POP3_CODE_IN_USE, "IN-USE/LOCKED", "x" },
    { "-ERR [SYS/TEMP/DB] x\r\n", TD_POP3_CODE_SYS_TEMP, "SYS/TEMP/DB", "x" },
    { "-ERR [AUTH/EXPIRED] x\r\n", TD_POP3_CODE_AUTH, "AUTH/EXPIRED", "x" },
    { "-ERR [sys/perm] lower case\r\n", TD_POP3_CODE_SYS_PERM, "sys/perm", "lower case" },
    /* unknown codes are kept as text */
    { "-ERR [SYS] top level only\r\n", TD_POP3_CODE_OTHER, "SYS", "top level only" },
    { "-ERR [SYS/OTHER] x\r\n", TD_POP3_CODE_OTHER, "SYS/OTHER", "x" },
    { "+OK [UTF8] Logged in\r\n", TD_POP3_CODE_OTHER, "UTF8", "Logged in" },
    { "-ERR [X-VENDOR/A/B] x\r\n", TD_POP3_CODE_OTHER, "X-VENDOR/A/B", "x" },
    { "-ERR [IN-USE]\r\n", TD_POP3_CODE_IN_USE, "IN-USE", "" },
    { "-ERR [IN-USE]no space\r\n", TD_POP3_CODE_IN_USE, "IN-USE", "no space" },
    { "-ERR  [AUTH]  spaces \r\n", TD_POP3_CODE_AUTH, "AUTH", "spaces" },
    { "-ERR [IN-USE] [AUTH] only the first\r\n", TD_POP3_CODE_IN_USE, "IN-USE",
      "[AUTH] only the first" },
    /* not codes: left in the text */
    { "-ERR [unterminated\r\n", TD_POP3_CODE_NONE, NULL, "[unterminated" },
    { "-ERR [] empty\r\n", TD_POP3_CODE_NONE, NULL, "[] empty" },
    { "-ERR [TWO WORDS] x\r\n", TD_POP3_CODE_NONE, NULL, "[TWO WORDS] x" },
    { "-ERR [A//B] x\r\n", TD_POP3_CODE_NONE, NULL, "[A//B] x" },
    { "-ERR [/A] x\r\n", TD_POP3_CODE_NONE, NULL, "[/A] x" },
    { "-ERR [A/] x\r\n", TD_POP3_CODE_NONE, NULL, "[A/] x" },
    { "-ERR [\xc3\xa9] x\r\n", TD_POP3_CODE_NONE, NULL, "[\xc3\xa9] x" },
    { "-ERR text [IN-USE] later\r\n", TD_POP3_CODE_NONE, NULL, "text [IN-USE] later" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TdPop3Event) e = NULL;

      g_test_message ("%s", cases[i].line);
      e = parse_one_status (cases[i].line);
      g_assert_cmpint (e->kind, ==, TD_POP3_EVENT_STATUS);
      g_assert_cmpint (e->code, ==, cases[i].code);
      g_assert_cmpstr (e->code_text, ==, cases[i].code_text);
      g_assert_cmpstr (e->text, ==, cases[i].text);
    }
}

static void
test_continuation (void)
{
  /* only while an AUTH is current, and it stays current until its status line */
  assert_dump ("AS", "+ \r\n+\r\n+ dGVzdA==\r\n+OK Logged in.\r\n+OK 2 320\r\n",
               "+ \"\"\n"
               "+ \"\"\n"
               "+ \"dGVzdA==\"\n"
               "+OK \"Logged in.\"\n"
               "+OK \"2 320\"\n");
  assert_dump ("A", "+\t \r\n-ERR [AUTH] Authentication failed.\r\n",
               "+ \"\"\n"
               "-ERR [AUTH AUTH] \"Authentication failed.\"\n");
  /* "+OK" is a status also during SASL */
  assert_dump ("A", "+OK\r\n", "+OK \"\"\n");

  /* outside SASL, a "+" line is garbage */
  assert_fails ("S", "+ dGVzdA==\r\n", TD_ERROR_PARSE);
  assert_fails ("L", "+\r\n", TD_ERROR_PARSE);
  assert_fails ("", "+ x\r\n", TD_ERROR_PARSE);
  /* and during SASL, "+x" is no continuation */
  assert_fails ("A", "+x\r\n", TD_ERROR_PARSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Expectations */

static void
test_expect_pipelined (void)
{
  g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
  g_autoptr(GPtrArray) events = events_new ();
  g_autoptr(GError) error = NULL;

  /* STAT, LIST, RETR 1, UIDL 1, RETR 9 (refused), CAPA (refused), DELE 1 */
  assert_dump ("SLDSDLS",
               "+OK 2 320\r\n"
               "+OK\r\n1 120\r\n2 200\r\n.\r\n"
               "+OK\r\nbody\r\n.\r\n"
               "+OK 1 abc\r\n"
               "-ERR no such message\r\n"
               "-ERR unknown command\r\n"
               "+OK deleted\r\n",
               "+OK \"2 320\"\n"
               "+OK \"\"\n"
               "LINE \"1 120\"\n"
               "LINE \"2 200\"\n"
               "END\n"
               "+OK \"\"\n"
               "DATA \"body\\r\\n\"\n"
               "END\n"
               "+OK \"1 abc\"\n"
               "-ERR \"no such message\"\n"
               "-ERR \"unknown command\"\n"
               "+OK \"deleted\"\n");

  /* the count goes down as answers take their expectations */
  queue_expects (parser, "SLD");
  g_assert_cmpuint (td_pop3_parser_get_expected (parser), ==, 3);
  g_assert_true (td_pop3_parser_feed (parser, (const guint8 *) "+OK\r\n+OK\r\n1 2\r\n", 15,
                                      events, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (td_pop3_parser_get_expected (parser), ==, 1);
  g_assert_true (td_pop3_parser_in_multiline (parser));
  g_assert_true (td_pop3_parser_feed (parser, (const guint8 *) ".\r\n", 3, events, &error));
  g_assert_false (td_pop3_parser_in_multiline (parser));
  g_assert_cmpuint (td_pop3_parser_get_expected (parser), ==, 1);
  g_assert_cmpuint (events->len, ==, 4);
}

static void
test_expect_none (void)
{
  /* without an expectation a status line is one line: the listing after it is garbage */
  assert_dump ("", "+OK\r\n-ERR\r\n", "+OK \"\"\n-ERR \"\"\n");
  assert_fails ("", "+OK\r\n1 120\r\n", TD_ERROR_PARSE);
  /* as it is after one that expects a single line */
  assert_fails ("S", "+OK\r\n1 120\r\n.\r\n", TD_ERROR_PARSE);
}

static void
test_expect_err_multiline (void)
{
  /* "-ERR" to a command with a multi-line answer is one line */
  assert_dump ("LDS", "-ERR no CAPA\r\n-ERR no such message\r\n+OK\r\n",
               "-ERR \"no CAPA\"\n-ERR \"no such message\"\n+OK \"\"\n");
}

/* ------------------------------------------------------------------------------------------ */
/* Bodies and listings */

static void
test_lines_unstuffing (void)
{
  assert_dump ("L",
               "+OK\r\n"
               "..\r\n"
               "...\r\n"
               ".. leading\r\n"
               ".x\r\n"
               "x.\r\n"
               "\r\n"
               ". \r\n"
               "a.\r\n"
               ".\r\n",
               "+OK \"\"\n"
               "LINE \".\"\n"
               "LINE \"..\"\n"
               "LINE \". leading\"\n"
               "LINE \"x\"\n"
               "LINE \"x.\"\n"
               "LINE \"\"\n"
               "LINE \" \"\n"
               "LINE \"a.\"\n"
               "END\n");
  /* an empty listing */
  assert_dump ("L", "+OK 0 messages\r\n.\r\n", "+OK \"0 messages\"\nEND\n");
}

static void
test_data_unstuffing (void)
{
  assert_dump ("D",
               "+OK 100 octets\r\n"
               "Subject: dots\r\n"
               "\r\n"
               "..\r\n"
               "...\r\n"
               ".. x\r\n"
               ".y\r\n"
               "z.\r\n"
               "..\r\n"
               ".\r\n",
               "+OK \"100 octets\"\n"
               "DATA \"Subject: dots\\r\\n\\r\\n.\\r\\n..\\r\\n. x\\r\\ny\\r\\nz.\\r\\n.\\r\\n\"\n"
               "END\n");
  /* ".\r" and more on the line: the dot is stuffing, the CR stays */
  assert_dump ("D", "+OK\r\n.\rx\r\n.\r\n", "+OK \"\"\nDATA \"\\rx\\r\\n\"\nEND\n");
  /* a CR alone inside a line is data */
  assert_dump ("D", "+OK\r\na\rb\r\n.\r\n", "+OK \"\"\nDATA \"a\\rb\\r\\n\"\nEND\n");
  /* "CRLF.CRLF" only at the start of a line */
  assert_dump ("D", "+OK\r\nx.\r\n.\r\n", "+OK \"\"\nDATA \"x.\\r\\n\"\nEND\n");
}

static void
test_data_empty (void)
{
  assert_dump ("DD", "+OK\r\n.\r\n+OK\r\n\r\n.\r\n",
               "+OK \"\"\nEND\n+OK \"\"\nDATA \"\\r\\n\"\nEND\n");
}

static void
test_data_nul (void)
{
  static const char wire[] = "+OK\r\na\0b\r\n.\0\r\n.\r\n";
  g_autoptr(GPtrArray) events = parse_ok_len ("D", wire, sizeof wire - 1);
  g_autofree char *dump = dump_events (events);

  /* message data may hold NUL bytes (broken mail); they are passed on */
  g_assert_cmpstr (dump, ==, "+OK \"\"\nDATA \"a\\x00b\\r\\n\\x00\\r\\n\"\nEND\n");
}

/* The body reaches the caller as it arrives, in pieces that are slices of the input: no
 * event per line, nothing held back until the end. */
static void
test_data_streaming (void)
{
  g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
  g_autoptr(GPtrArray) events = events_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) body = g_string_new (NULL);
  g_autoptr(GString) wire = g_string_new ("+OK\r\n");
  g_autoptr(GByteArray) got = g_byte_array_new ();
  gsize pos = 0;
  guint feeds = 0;
  guint pieces = 0;
  guint stuffed = 0;

  for (guint i = 0; body->len < 4 * 1024 * 1024; i++)
    {
      if (i % 1000 == 0)
        {
          g_string_append (body, ".a line that starts with a dot\r\n");
          g_string_append (wire, "..a line that starts with a dot\r\n");
          stuffed++;
        }
      else
        {
          g_string_append_printf (body, "line %u of a large message, with some text\r\n", i);
          g_string_append_printf (wire, "line %u of a large message, with some text\r\n", i);
        }
    }
  g_string_append (wire, ".\r\n");

  td_pop3_parser_expect (parser, TD_POP3_EXPECT_DATA);
  while (pos < wire->len)
    {
      gsize n = MIN ((gsize) 64 * 1024, wire->len - pos);
      gsize before = got->len;

      g_ptr_array_set_size (events, 0);
      g_assert_true (td_pop3_parser_feed (parser, (const guint8 *) wire->str + pos, n, events,
                                          &error));
      g_assert_no_error (error);
      for (guint i = 0; i < events->len; i++)
        {
          const TdPop3Event *e = g_ptr_array_index (events, i);

          if (e->kind != TD_POP3_EVENT_DATA)
            continue;
          g_byte_array_append (got, g_bytes_get_data (e->data, NULL),
                               (guint) g_bytes_get_size (e->data));
          pieces++;
        }
      /* everything read so far came out at once but the status line, the stuffed dots and
       * at most the ".\r\n" of a line start (the final line) */
      g_assert_cmpuint (got->len + 5 + stuffed + 3, >=, pos + n);
      g_assert_cmpuint (got->len, >, before);
      g_assert_cmpuint (td_pop3_parser_get_pending (parser), ==, 0);
      pos += n;
      feeds++;
    }

  g_assert_false (td_pop3_parser_in_multiline (parser));
  g_assert_cmpuint (got->len, ==, body->len);
  g_assert_true (memcmp (got->data, body->str, body->len) == 0);
  /* one piece per read, one more per stuffed dot */
  g_assert_cmpuint (pieces, <=, feeds + stuffed);
}

static void
test_bare_lf (void)
{
  assert_dump ("LDS",
               "+OK\n1 120\n2 200\r\n.\n"
               "+OK\nline\n..dot\n\n.\n"
               "+OK done\n",
               "+OK \"\"\n"
               "LINE \"1 120\"\n"
               "LINE \"2 200\"\n"
               "END\n"
               "+OK \"\"\n"
               "DATA \"line\\n.dot\\n\\n\"\n"
               "END\n"
               "+OK \"done\"\n");
  /* ".\r" then a bare LF ends a body as well */
  assert_dump ("D", "+OK\nx\n.\r\n", "+OK \"\"\nDATA \"x\\n\"\nEND\n");
}

static void
test_blank_lines (void)
{
  /* blank lines between answers are ignored; inside a listing they are lines */
  assert_dump ("SL", "\r\n\n+OK\r\n\r\n+OK\r\n\r\n.\r\n\r\n",
               "+OK \"\"\n+OK \"\"\nLINE \"\"\nEND\n");
}

/* ------------------------------------------------------------------------------------------ */
/* The end of the input, hostile input */

static void
test_end (void)
{
  /* EOF between responses is fine, inside one is not */
  assert_fails ("S", "+OK no line end", TD_ERROR_PARSE);
  assert_fails ("D", "+OK\r\npart of a message\r\n", TD_ERROR_PARSE);
  assert_fails ("D", "+OK\r\npart of a message", TD_ERROR_PARSE);
  assert_fails ("D", "+OK\r\nlast line\r\n.", TD_ERROR_PARSE);
  assert_fails ("D", "+OK\r\nlast line\r\n.\r", TD_ERROR_PARSE);
  assert_fails ("L", "+OK\r\n1 120\r\n", TD_ERROR_PARSE);
  assert_fails ("L", "+OK\r\n.", TD_ERROR_PARSE);
  assert_dump ("SD", "+OK\r\n-ERR no such message\r\n", "+OK \"\"\n-ERR \"no such message\"\n");
}

/* Feeds @text to a parser with the given bounds, whole and in pieces of 4 KiB (one byte at a
 * time when @bytewise); each must fail with TD_ERROR_LIMIT. */
static void
assert_over_limit (const char *expects,
                   const char *text,
                   gsize       max_line,
                   gsize       max_multiline,
                   gboolean    bytewise)
{
  for (guint run = 0; run < 2; run++)
    {
      g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
      g_autoptr(GPtrArray) events = events_new ();
      g_autoptr(GError) error = NULL;
      gsize len = strlen (text);
      gsize piece = run == 0 ? len : bytewise ? 1 : 4096;

      td_pop3_parser_set_limits (parser, max_line, max_multiline);
      queue_expects (parser, expects);
      for (gsize pos = 0; pos < len && error == NULL; pos += piece)
        {
          g_ptr_array_set_size (events, 0);
          td_pop3_parser_feed (parser, (const guint8 *) text + pos, MIN (piece, len - pos),
                               events, &error);
        }
      g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
    }
}

static void
test_hostile_long_lines (void)
{
  gsize big = TD_POP3_MAX_LINE_DEFAULT + 1;
  g_autofree char *line = g_malloc (big + 16);

  /* a status line, a listing line and a body line one byte too long, without LF, with the
   * default bounds */
  memcpy (line, "+OK ", 4);
  memset (line + 4, 'x', big - 4);
  line[big] = '\0';
  assert_over_limit ("S", line, TD_POP3_MAX_LINE_DEFAULT, TD_POP3_MAX_MULTILINE_DEFAULT, FALSE);
  memcpy (line, "+OK\r\n", 5);
  memset (line + 5, 'x', big);
  line[5 + big] = '\0';
  assert_over_limit ("L", line, TD_POP3_MAX_LINE_DEFAULT, TD_POP3_MAX_MULTILINE_DEFAULT, FALSE);
  assert_over_limit ("D", line, TD_POP3_MAX_LINE_DEFAULT, TD_POP3_MAX_MULTILINE_DEFAULT, FALSE);
  /* also with a dot-stuffed start */
  line[5] = '.';
  assert_over_limit ("D", line, TD_POP3_MAX_LINE_DEFAULT, TD_POP3_MAX_MULTILINE_DEFAULT, FALSE);

  /* the same with a small bound, one byte at a time too */
  assert_over_limit ("S", "+OK 567890123\r\n", 12, 1024, TRUE);
  assert_over_limit ("L", "+OK\r\n1 345678901234\r\n.\r\n", 12, 1024, TRUE);
  assert_over_limit ("D", "+OK\r\nline 67890123\r\n.\r\n", 12, 1024, TRUE);
  assert_over_limit ("D", "+OK\r\n..ne 67890123\r\n.\r\n", 12, 1024, TRUE);
  assert_over_limit ("D", "+OK\r\n.\r6789012345\r\n.\r\n", 12, 1024, TRUE);

  /* exactly at the bound is fine (the CR counts, the LF does not) */
  {
    g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
    g_autoptr(GPtrArray) events = events_new ();
    g_autoptr(GError) error = NULL;
    gsize at = TD_POP3_MAX_LINE_DEFAULT;
    g_autofree char *ok = g_malloc (at + 1);

    memcpy (ok, "+OK ", 4);
    memset (ok + 4, 'y', at - 5);
    ok[at - 1] = '\r';
    ok[at] = '\n';
    td_pop3_parser_expect (parser, TD_POP3_EXPECT_STATUS);
    g_assert_true (td_pop3_parser_feed (parser, (const guint8 *) ok, at + 1, events, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (events->len, ==, 1);
  }
  for (guint i = 0; i < 3; i++)
    {
      static const char * const at_bound[] = {
        "+OK 5678901\r\n", "+OK\r\n1 345678901\r\n.\r\n", "+OK\r\n..ne 678901\r\n.\r\n",
      };
      g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
      g_autoptr(GPtrArray) events = NULL;
      g_autoptr(GError) error = NULL;

      td_pop3_parser_set_limits (parser, 12, 1024);
      queue_expects (parser, i == 0 ? "S" : i == 1 ? "L" : "D");
      events = parse_split (parser, (const guint8 *) at_bound[i], strlen (at_bound[i]),
                            SPLIT_BYTES, 0, &error);
      g_assert_no_error (error);
      g_assert_false (td_pop3_parser_in_multiline (parser));
      g_assert_cmpuint (td_pop3_parser_get_expected (parser), ==, 0);
    }
}

static void
test_hostile_huge_multiline (void)
{
  g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
  g_autoptr(TdPop3Parser) lines = td_pop3_parser_new ();
  g_autoptr(GPtrArray) events = events_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *chunk = g_strnfill (64 * 1024 - 2, 'z');
  g_autofree char *piece = g_strconcat (chunk, "\r\n", NULL);
  gsize fed = 0;

  /* a body that never ends stops at the bound, without holding what came before */
  td_pop3_parser_set_limits (parser, 1024 * 1024, 8 * 1024 * 1024);
  td_pop3_parser_expect (parser, TD_POP3_EXPECT_DATA);
  g_assert_true (td_pop3_parser_feed (parser, (const guint8 *) "+OK\r\n", 5, events, &error));
  for (;;)
    {
      g_ptr_array_set_size (events, 0);
      if (!td_pop3_parser_feed (parser, (const guint8 *) piece, strlen (piece), events, &error))
        break;
      fed += strlen (piece);
      g_assert_cmpuint (fed, <=, 8 * 1024 * 1024);
      g_assert_cmpuint (td_pop3_parser_get_pending (parser), ==, 0);
    }
  g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
  g_clear_error (&error);

  /* so does a listing */
  td_pop3_parser_set_limits (lines, 1024, 64 * 1024);
  td_pop3_parser_expect (lines, TD_POP3_EXPECT_LINES);
  g_assert_true (td_pop3_parser_feed (lines, (const guint8 *) "+OK\r\n", 5, events, &error));
  fed = 0;
  for (guint i = 1;; i++)
    {
      g_autofree char *entry = g_strdup_printf ("%u 4294967295\r\n", i);

      if (!td_pop3_parser_feed (lines, (const guint8 *) entry, strlen (entry), events, &error))
        break;
      fed += strlen (entry);
      g_assert_cmpuint (fed, <=, 64 * 1024);
    }
  g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);

  /* at the bound itself, the final "." included, it is fine */
  {
    g_autoptr(GPtrArray) ok = NULL;
    g_autoptr(TdPop3Parser) exact = td_pop3_parser_new ();
    g_autoptr(GError) exact_error = NULL;

    g_autoptr(GPtrArray) over = NULL;
    g_autoptr(TdPop3Parser) tight = td_pop3_parser_new ();
    g_autoptr(GError) tight_error = NULL;

    td_pop3_parser_set_limits (exact, 100, 9);
    td_pop3_parser_expect (exact, TD_POP3_EXPECT_DATA);
    ok = parse_split (exact, (const guint8 *) "+OK\r\nabcd\r\n.\r\n", 14, SPLIT_WHOLE, 0,
                      &exact_error);
    g_assert_no_error (exact_error);
    g_assert_cmpuint (ok->len, ==, 3);

    td_pop3_parser_set_limits (tight, 100, 8);
    td_pop3_parser_expect (tight, TD_POP3_EXPECT_DATA);
    over = parse_split (tight, (const guint8 *) "+OK\r\nabcd\r\n.\r\n", 14, SPLIT_BYTES, 0,
                        &tight_error);
    g_assert_error (tight_error, TD_ERROR, TD_ERROR_LIMIT);
  }
}

static void
test_hostile_nul (void)
{
  static const char status[] = "+OK a\0b\r\n";
  static const char listing[] = "+OK\r\n1 \0\r\n.\r\n";
  static const char err[] = "-ERR\0\r\n";
  static const char code[] = "-ERR [IN-\0USE]\r\n";

  assert_fails_len ("S", status, sizeof status - 1, TD_ERROR_PARSE);
  assert_fails_len ("L", listing, sizeof listing - 1, TD_ERROR_PARSE);
  assert_fails_len ("S", err, sizeof err - 1, TD_ERROR_PARSE);
  assert_fails_len ("S", code, sizeof code - 1, TD_ERROR_PARSE);
}

static void
test_hostile_garbage (void)
{
  static const char * const lines[] = {
    "OK\r\n",
    "+OKAY\r\n",
    "+OK[IN-USE]\r\n",
    "-ERROR\r\n",
    "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n",
    "220 smtp.example.org ESMTP\r\n",
    "HTTP/1.1 400 Bad Request\r\n",
    " +OK\r\n",
    "\x16\x03\x01\x02\x00\x01\r\n",
    "+\r\n",
    "-\r\n",
    ".\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_test_message ("%s", lines[i]);
      assert_fails ("S", lines[i], TD_ERROR_PARSE);
    }
}

static void
test_poisoned (void)
{
  g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
  g_autoptr(GPtrArray) events = events_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (td_pop3_parser_feed (parser, (const guint8 *) "garbage\r\n", 9, events,
                                       &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_false (td_pop3_parser_feed (parser, (const guint8 *) "+OK\r\n", 5, events, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_false (td_pop3_parser_end (parser, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_assert_cmpuint (events->len, ==, 0);
}

static void
test_custom_limits (void)
{
  g_autoptr(TdPop3Parser) parser = td_pop3_parser_new ();
  g_autoptr(GPtrArray) events = events_new ();
  g_autoptr(GError) error = NULL;

  /* a 12-byte line is fine with a bound of 12, a 13-byte one is not */
  td_pop3_parser_set_limits (parser, 12, 1024);
  queue_expects (parser, "SS");
  g_assert_true (td_pop3_parser_feed (parser, (const guint8 *) "+OK 4567890\r\n", 13, events,
                                      &error));
  g_assert_no_error (error);
  g_assert_false (td_pop3_parser_feed (parser, (const guint8 *) "+OK 45678901\r\n", 14, events,
                                       &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
  g_assert_cmpuint (events->len, ==, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* What the responses carry */

static void
test_parse_stat (void)
{
  guint32 count = 0;
  guint64 size = 0;
  g_autoptr(GError) error = NULL;
  static const char * const bad[] = {
    "", "2", "2 ", " 2 x", "x 2", "-1 2", "2 -1", "2,320", "4294967296 1",
    "1 18446744073709551616", "99999999999999999999999 1", "2 320x",
  };

  g_assert_true (td_pop3_parse_stat ("2 320", &count, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);
  g_assert_cmpuint (size, ==, 320);
  g_assert_true (td_pop3_parse_stat ("4294967295 18446744073709551615 octets", &count, &size,
                                     &error));
  g_assert_cmpuint (count, ==, G_MAXUINT32);
  g_assert_cmpuint (size, ==, G_MAXUINT64);
  g_assert_true (td_pop3_parse_stat ("0 0", &count, &size, &error));
  g_assert_cmpuint (count, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("STAT \"%s\"", bad[i]);
      g_assert_false (td_pop3_parse_stat (bad[i], &count, &size, &error));
      g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
      g_clear_error (&error);
    }
}

static void
test_parse_scan_listing (void)
{
  guint32 number = 0;
  guint64 size = 0;
  g_autoptr(GError) error = NULL;
  static const char * const bad[] = {
    "", "1", "0 100", "1 x", "x 1", "1 -5", "4294967296 1", "1 18446744073709551616",
    "1 100x", "1\0" "100",
  };

  g_assert_true (td_pop3_parse_scan_listing ("1 120", &number, &size, &error));
  g_assert_cmpuint (number, ==, 1);
  g_assert_cmpuint (size, ==, 120);
  g_assert_true (td_pop3_parse_scan_listing ("2  200 and more", &number, &size, &error));
  g_assert_cmpuint (number, ==, 2);
  g_assert_cmpuint (size, ==, 200);
  g_assert_true (td_pop3_parse_scan_listing ("4294967295 18446744073709551615", &number, &size,
                                             &error));
  g_assert_cmpuint (number, ==, G_MAXUINT32);
  g_assert_cmpuint (size, ==, G_MAXUINT64);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("LIST \"%s\"", bad[i]);
      g_assert_false (td_pop3_parse_scan_listing (bad[i], &number, &size, &error));
      g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
      g_clear_error (&error);
    }
}

static void
test_parse_uid_listing (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *long_uid = g_strnfill (TD_POP3_MAX_UID_LENGTH, 'u');
  g_autofree char *max_line = g_strconcat ("7 ", long_uid, NULL);
  g_autofree char *too_long = g_strconcat ("7 ", long_uid, "u", NULL);
  guint32 number = 0;
  char *uid = NULL;
  static const char * const bad[] = {
    "", "1", "1 ", "0 abc", "x abc", "1 two words", "1 caf\xc3\xa9", "1 tab\there",
    "1 del\x7f", "4294967296 abc", "-1 abc",
  };

  g_assert_true (td_pop3_parse_uid_listing ("1 000000016b162bca", &number, &uid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (number, ==, 1);
  g_assert_cmpstr (uid, ==, "000000016b162bca");
  g_clear_pointer (&uid, g_free);
  g_assert_true (td_pop3_parse_uid_listing ("2  QhdPYR:00WBw1Ph7x7  ", &number, &uid, &error));
  g_assert_cmpuint (number, ==, 2);
  g_assert_cmpstr (uid, ==, "QhdPYR:00WBw1Ph7x7");
  g_clear_pointer (&uid, g_free);
  g_assert_true (td_pop3_parse_uid_listing ("3 !~", &number, &uid, &error));
  g_assert_cmpstr (uid, ==, "!~");
  g_clear_pointer (&uid, g_free);
  g_assert_true (td_pop3_parse_uid_listing (max_line, &number, &uid, &error));
  g_assert_cmpstr (uid, ==, long_uid);
  g_clear_pointer (&uid, g_free);

  g_assert_false (td_pop3_parse_uid_listing (too_long, &number, &uid, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("UIDL \"%s\"", bad[i]);
      g_assert_false (td_pop3_parse_uid_listing (bad[i], &number, &uid, &error));
      g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
      g_assert_null (uid);
      g_clear_error (&error);
    }
}

static void
test_greeting_timestamp (void)
{
  struct {
    const char *text;
    const char *timestamp;
  } cases[] = {
    { "POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>" },
    { "<a@b> at the start", "<a@b>" },
    { "Dovecot (Debian) ready.", NULL },
    { "empty <> brackets", NULL },
    { "a < b and <c@d>", "<c@d>" },
    { "<with space@x>", NULL },
    { "<unterminated@x", NULL },
    { "<<x@y>>", "<x@y>" },
    { "<caf\xc3\xa9@x>", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *ts = td_pop3_greeting_timestamp (cases[i].text);

      g_test_message ("greeting \"%s\"", cases[i].text);
      g_assert_cmpstr (ts, ==, cases[i].timestamp);
    }
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

  g_test_add_func ("/pop3/parser/transcripts/expected", test_transcripts_expected);
  g_test_add_func ("/pop3/parser/transcripts/chunking", test_transcripts_chunking);
  g_test_add_func ("/pop3/parser/transcripts/truncated", test_transcripts_truncated);
  g_test_add_func ("/pop3/parser/status/ok-err", test_status_ok_err);
  g_test_add_func ("/pop3/parser/status/codes", test_status_codes);
  g_test_add_func ("/pop3/parser/continuation", test_continuation);
  g_test_add_func ("/pop3/parser/expect/pipelined", test_expect_pipelined);
  g_test_add_func ("/pop3/parser/expect/none", test_expect_none);
  g_test_add_func ("/pop3/parser/expect/err-multiline", test_expect_err_multiline);
  g_test_add_func ("/pop3/parser/lines/unstuffing", test_lines_unstuffing);
  g_test_add_func ("/pop3/parser/data/unstuffing", test_data_unstuffing);
  g_test_add_func ("/pop3/parser/data/empty", test_data_empty);
  g_test_add_func ("/pop3/parser/data/nul", test_data_nul);
  g_test_add_func ("/pop3/parser/data/streaming", test_data_streaming);
  g_test_add_func ("/pop3/parser/bare-lf", test_bare_lf);
  g_test_add_func ("/pop3/parser/blank-lines", test_blank_lines);
  g_test_add_func ("/pop3/parser/end", test_end);
  g_test_add_func ("/pop3/parser/hostile/long-lines", test_hostile_long_lines);
  g_test_add_func ("/pop3/parser/hostile/huge-multiline", test_hostile_huge_multiline);
  g_test_add_func ("/pop3/parser/hostile/nul", test_hostile_nul);
  g_test_add_func ("/pop3/parser/hostile/garbage", test_hostile_garbage);
  g_test_add_func ("/pop3/parser/poisoned", test_poisoned);
  g_test_add_func ("/pop3/parser/limits", test_custom_limits);
  g_test_add_func ("/pop3/parser/stat", test_parse_stat);
  g_test_add_func ("/pop3/parser/scan-listing", test_parse_scan_listing);
  g_test_add_func ("/pop3/parser/uid-listing", test_parse_uid_listing);
  g_test_add_func ("/pop3/parser/greeting-timestamp", test_greeting_timestamp);

  return g_test_run ();
}
