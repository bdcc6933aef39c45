/* test-imap-parser.c: the IMAP push parser, fed whole, byte-wise and in random splits
 *
 * Transcripts live in tests/data/imap/NAME.txt: one server response stream per file, written
 * with LF line ends that stand for CRLF on the wire (literal sizes count the CRLF). Each has a
 * NAME.expected with the canonical dump of its responses (see dump_response());
 * TD_TEST_UPDATE_EXPECTED=1 rewrites those files from the parser's output, for review.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-imap-parser.h"
#include "td-test-util.h"

/* Helpers */

static GBytes *
load_transcript (const char *name)
{
  g_autofree char *rel = g_build_filename ("imap", name, NULL);
  g_autoptr(GBytes) raw = td_test_load_data (rel);
  gsize len;
  const char *data = g_bytes_get_data (raw, &len);
  GByteArray *wire = g_byte_array_sized_new (len + len / 16);

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\n')
        g_byte_array_append (wire, (const guint8 *) "\r\n", 2);
      else
        g_byte_array_append (wire, (const guint8 *) &data[i], 1);
    }
  return g_byte_array_free_to_bytes (wire);
}

static GPtrArray *
transcript_names (void)
{
  g_autofree char *dir_path = td_test_data_path ("imap");
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

static void
dump_bytes (GString      *out,
            const guint8 *data,
            gsize         len)
{
  if (len <= 100)
    {
      g_string_append_c (out, '"');
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
      g_string_append_c (out, '"');
    }
  else
    {
      g_autofree char *sum = g_compute_checksum_for_data (G_CHECKSUM_SHA1, data, len);

      g_string_append_printf (out, "<%" G_GSIZE_FORMAT " bytes sha1:%.12s>", len, sum);
    }
}

static void
dump_value (GString           *out,
            const TdImapValue *value)
{
  switch (value->type)
    {
    case TD_IMAP_VALUE_ATOM:
      g_string_append (out, value->atom);
      break;
    case TD_IMAP_VALUE_NIL:
      g_string_append (out, "NIL");
      break;
    case TD_IMAP_VALUE_STRING:
      {
        gsize len;
        const guint8 *data = g_bytes_get_data (value->string, &len);

        dump_bytes (out, data, len);
      }
      break;
    case TD_IMAP_VALUE_LIST:
      g_string_append_c (out, '(');
      for (guint i = 0; i < value->list->len; i++)
        {
          if (i > 0)
            g_string_append_c (out, ' ');
          dump_value (out, g_ptr_array_index (value->list, i));
        }
      g_string_append_c (out, ')');
      break;
    default:
      g_assert_not_reached ();
    }
}

static const char *
status_name (TdImapStatus status)
{
  static const char * const names[] = { "-", "OK", "NO", "BAD", "BYE", "PREAUTH" };

  g_assert_cmpuint (status, <, G_N_ELEMENTS (names));
  return names[status];
}

/* One line per response:
 *   KIND STATUS [CODE args] "text"       status responses (KIND: "*" or the tag)
 *   + [CODE args] "text"                 continuation requests
 *   * [N] NAME values...                 data
 */
static void
dump_response (GString              *out,
               const TdImapResponse *r)
{
  switch (r->kind)
    {
    case TD_IMAP_RESPONSE_UNTAGGED:
      g_assert_null (r->tag);
      g_string_append_c (out, '*');
      break;
    case TD_IMAP_RESPONSE_TAGGED:
      g_assert_nonnull (r->tag);
      g_string_append (out, r->tag);
      break;
    case TD_IMAP_RESPONSE_CONTINUATION:
      g_assert_null (r->tag);
      g_string_append_c (out, '+');
      break;
    default:
      g_assert_not_reached ();
    }

  g_assert_nonnull (r->values);
  if (r->status != TD_IMAP_STATUS_NONE || r->kind == TD_IMAP_RESPONSE_CONTINUATION)
    {
      g_assert_null (r->name);
      g_assert_false (r->has_number);
      g_assert_cmpuint (r->values->len, ==, 0);
      g_assert_nonnull (r->text);
      g_assert_true (g_utf8_validate (r->text, -1, NULL));
      if (r->status != TD_IMAP_STATUS_NONE)
        g_string_append_printf (out, " %s", status_name (r->status));
      if (r->code != NULL)
        {
          g_assert_nonnull (r->code_args);
          g_string_append_printf (out, " [%s", r->code);
          for (guint i = 0; i < r->code_args->len; i++)
            {
              g_string_append_c (out, ' ');
              dump_value (out, g_ptr_array_index (r->code_args, i));
            }
          g_string_append_c (out, ']');
        }
      else
        {
          g_assert_null (r->code_args);
        }
      g_string_append_c (out, ' ');
      dump_bytes (out, (const guint8 *) r->text, strlen (r->text));
    }
  else
    {
      g_assert_cmpint (r->kind, ==, TD_IMAP_RESPONSE_UNTAGGED);
      g_assert_nonnull (r->name);
      g_assert_null (r->text);
      g_assert_null (r->code);
      if (r->has_number)
        g_string_append_printf (out, " %u", r->number);
      g_string_append_printf (out, " %s", r->name);
      for (guint i = 0; i < r->values->len; i++)
        {
          g_string_append_c (out, ' ');
          dump_value (out, g_ptr_array_index (r->values, i));
        }
    }
  g_string_append_c (out, '\n');
}

static char *
dump_responses (GPtrArray *responses)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < responses->len; i++)
    dump_response (out, g_ptr_array_index (responses, i));
  return g_string_free (out, FALSE);
}

static GPtrArray *
responses_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) td_imap_response_free);
}

typedef enum
{
  SPLIT_WHOLE,
  SPLIT_BYTES,
  SPLIT_RANDOM,
} SplitMode;

/* Feeds @data in the given chunking; returns the responses, *error on failure. */
static GPtrArray *
parse_split (TdImapParser  *parser,
             const guint8  *data,
             gsize          len,
             SplitMode      mode,
             guint32        seed,
             GError       **error)
{
  GPtrArray *responses = responses_new ();
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
          /* Mostly small pieces, sometimes big ones. */
          n = g_rand_int_range (rand, 0, 4) == 0 ? (gsize) g_rand_int_range (rand, 1, 4096)
                                                 : (gsize) g_rand_int_range (rand, 1, 40);
          break;
        }
      n = MIN (n, len - pos);
      if (!td_imap_parser_feed (parser, data + pos, n, responses, error))
        break;
      pos += n;
    }

  return responses;
}

/* Parses @text (of @len bytes) whole, byte-wise and in random splits: all must agree. */
static GPtrArray *
parse_ok_len (const char *text,
              gsize       len)
{
  GPtrArray *first = NULL;
  g_autofree char *first_dump = NULL;

  for (int mode = SPLIT_WHOLE; mode <= SPLIT_RANDOM; mode++)
    {
      g_autoptr(TdImapParser) parser = td_imap_parser_new ();
      g_autoptr(GError) error = NULL;
      GPtrArray *responses = parse_split (parser, (const guint8 *) text, len, (SplitMode) mode,
                                          17, &error);
      g_autofree char *dump = NULL;

      g_assert_no_error (error);
      g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 0);
      dump = dump_responses (responses);
      if (first == NULL)
        {
          first = responses;
          first_dump = g_steal_pointer (&dump);
        }
      else
        {
          g_assert_cmpstr (dump, ==, first_dump);
          g_ptr_array_unref (responses);
        }
    }
  return first;
}

static GPtrArray *
parse_ok (const char *text)
{
  return parse_ok_len (text, strlen (text));
}

static TdImapResponse *
parse_one_len (const char *text,
               gsize       len)
{
  g_autoptr(GPtrArray) responses = parse_ok_len (text, len);

  g_assert_cmpuint (responses->len, ==, 1);
  return g_ptr_array_steal_index (responses, 0);
}

static TdImapResponse *
parse_one (const char *text)
{
  return parse_one_len (text, strlen (text));
}

/* Parses @text whole and byte-wise; both must fail with @code. */
static void
assert_fails (const char *text,
              gsize       len,
              int         code)
{
  for (int mode = SPLIT_WHOLE; mode <= SPLIT_BYTES; mode++)
    {
      g_autoptr(TdImapParser) parser = td_imap_parser_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) responses = parse_split (parser, (const guint8 *) text, len,
                                                    (SplitMode) mode, 0, &error);

      if (error == NULL)
        g_error ("expected error %d for %s", code, g_strescape (text, NULL));
      g_assert_error (error, TD_ERROR, code);
    }
}

#define assert_fails_str(text, code) assert_fails ((text), strlen (text), (code))

static char *
dump_one (const char *text)
{
  g_autoptr(GPtrArray) responses = parse_ok (text);

  return dump_responses (responses);
}

/* Transcripts */

static void
test_transcripts_expected (void)
{
  g_autoptr(GPtrArray) names = transcript_names ();

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autoptr(GBytes) wire = load_transcript (name);
      g_autofree char *base = g_strndup (name, strlen (name) - 4);
      g_autofree char *expected_name = g_strconcat ("imap/", base, ".expected", NULL);
      g_autoptr(GBytes) expected = NULL;
      g_autoptr(TdImapParser) parser = td_imap_parser_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) responses = NULL;
      g_autofree char *dump = NULL;
      g_autofree char *expected_str = NULL;

      g_test_message ("transcript %s", name);
      responses = parse_split (parser, g_bytes_get_data (wire, NULL), g_bytes_get_size (wire),
                               SPLIT_WHOLE, 0, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 0);
      g_assert_cmpuint (responses->len, >, 5);

      dump = dump_responses (responses);
      if (g_getenv ("TD_TEST_UPDATE_EXPECTED") != NULL)
        {
          /* Regenerating: review the diff of the .expected files before committing. */
          g_autofree char *path = td_test_data_path (expected_name);

          g_assert_true (g_file_set_contents (path, dump, -1, NULL));
        }
      expected = td_test_load_data (expected_name);
      expected_str = g_strndup (g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
      g_assert_cmpstr (dump, ==, expected_str);
    }
}

static void
test_transcripts_chunking (void)
{
  g_autoptr(GPtrArray) names = transcript_names ();

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autoptr(GBytes) wire = load_transcript (name);
      const guint8 *data = g_bytes_get_data (wire, NULL);
      gsize len = g_bytes_get_size (wire);
      g_autofree char *whole = NULL;

      g_test_message ("transcript %s", name);

      for (guint run = 0; run < 2 + 25; run++)
        {
          g_autoptr(TdImapParser) parser = td_imap_parser_new ();
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) responses = NULL;
          g_autofree char *dump = NULL;
          SplitMode mode = run == 0 ? SPLIT_WHOLE : run == 1 ? SPLIT_BYTES : SPLIT_RANDOM;

          responses = parse_split (parser, data, len, mode, 1000 + run, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 0);
          dump = dump_responses (responses);
          if (whole == NULL)
            whole = g_steal_pointer (&dump);
          else
            g_assert_cmpstr (dump, ==, whole);
        }
    }
}

/* A transcript cut short anywhere leaves only whole responses behind, and the cut part is
 * what get_pending() reports. */
static void
test_transcripts_truncated (void)
{
  g_autoptr(GPtrArray) names = transcript_names ();

  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr(GBytes) wire = load_transcript (g_ptr_array_index (names, i));
      const guint8 *data = g_bytes_get_data (wire, NULL);
      gsize len = g_bytes_get_size (wire);
      g_autoptr(TdImapParser) full_parser = td_imap_parser_new ();
      g_autoptr(GPtrArray) all = parse_split (full_parser, data, len, SPLIT_WHOLE, 0, NULL);
      g_autofree char *full = dump_responses (all);
      guint prev_count = 0;

      for (gsize cut = 0; cut <= len; cut += 5)
        {
          g_autoptr(TdImapParser) parser = td_imap_parser_new ();
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) responses = parse_split (parser, data, cut, SPLIT_WHOLE, 0, &error);
          g_autofree char *dump = dump_responses (responses);

          g_assert_no_error (error);
          g_assert_true (g_str_has_prefix (full, dump));
          g_assert_cmpuint (responses->len, >=, prev_count);
          prev_count = responses->len;
          g_assert_cmpuint (td_imap_parser_get_pending (parser), <=, cut);
          /* nothing pending only right after a complete response */
          if (td_imap_parser_get_pending (parser) == 0 && cut > 0)
            g_assert_cmpint (data[cut - 1], ==, '\n');
          if (td_imap_parser_get_pending (parser) > 0)
            g_assert_cmpuint (responses->len, <, all->len);
        }
    }
}

/* Status responses */

static void
test_status_tagged (void)
{
  g_autoptr(TdImapResponse) r = parse_one ("A0007 OK [READ-WRITE] Select completed (0.002 secs).\r\n");

  g_assert_cmpint (r->kind, ==, TD_IMAP_RESPONSE_TAGGED);
  g_assert_cmpstr (r->tag, ==, "A0007");
  g_assert_cmpint (r->status, ==, TD_IMAP_STATUS_OK);
  g_assert_cmpstr (r->code, ==, "READ-WRITE");
  g_assert_nonnull (r->code_args);
  g_assert_cmpuint (r->code_args->len, ==, 0);
  g_assert_cmpstr (r->text, ==, "Select completed (0.002 secs).");
  g_assert_null (r->name);
  g_assert_nonnull (r->values);
}

static void
test_status_codes (void)
{
  g_autoptr(TdImapResponse) uv = parse_one ("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
  g_autoptr(TdImapResponse) pf =
    parse_one ("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n");
  g_autoptr(TdImapResponse) no = parse_one ("a2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
  g_autoptr(TdImapResponse) bye = parse_one ("* BYE [UNAVAILABLE] Server shutting down\r\n");
  g_autoptr(TdImapResponse) pre = parse_one ("* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n");
  g_autoptr(TdImapResponse) bad = parse_one ("B1 BAD Error in IMAP command: Unknown command\r\n");
  guint32 n = 0;
  const TdImapValue *list;

  g_assert_cmpint (uv->status, ==, TD_IMAP_STATUS_OK);
  g_assert_cmpstr (uv->code, ==, "UIDVALIDITY");
  g_assert_cmpuint (uv->code_args->len, ==, 1);
  g_assert_true (td_imap_value_get_uint32 (g_ptr_array_index (uv->code_args, 0), &n));
  g_assert_cmpuint (n, ==, 3857529045u);
  g_assert_cmpstr (uv->text, ==, "UIDs valid");

  g_assert_cmpstr (pf->code, ==, "PERMANENTFLAGS");
  g_assert_cmpuint (pf->code_args->len, ==, 1);
  list = g_ptr_array_index (pf->code_args, 0);
  g_assert_cmpint (list->type, ==, TD_IMAP_VALUE_LIST);
  g_assert_cmpuint (list->list->len, ==, 3);
  g_assert_true (td_imap_value_is_atom (g_ptr_array_index (list->list, 2), "\\*"));

  g_assert_cmpint (no->status, ==, TD_IMAP_STATUS_NO);
  g_assert_cmpstr (no->code, ==, "AUTHENTICATIONFAILED");
  g_assert_cmpint (bye->status, ==, TD_IMAP_STATUS_BYE);
  g_assert_cmpstr (bye->code, ==, "UNAVAILABLE");
  g_assert_cmpint (pre->status, ==, TD_IMAP_STATUS_PREAUTH);
  g_assert_cmpstr (pre->code, ==, "CAPABILITY");
  g_assert_cmpint (bad->status, ==, TD_IMAP_STATUS_BAD);
  g_assert_null (bad->code);
  g_assert_null (bad->code_args);
  g_assert_cmpstr (bad->text, ==, "Error in IMAP command: Unknown command");
}

static void
test_status_free_text (void)
{
  struct {
    const char *line;
    const char *code;
    const char *text;
  } cases[] = {
    { "* OK\r\n", NULL, "" },
    { "* OK \r\n", NULL, "" },
    { "A1 OK\r\n", NULL, "" },
    { "* OK [ALERT]\r\n", "ALERT", "" },
    { "* ok hello\r\n", NULL, "hello" },
    { "* OK trailing space \r\n", NULL, "trailing space" },
    { "* OK   extra   spaces\r\n", NULL, "extra   spaces" },
    { "* OK text \"with unbalanced quote\r\n", NULL, "text \"with unbalanced quote" },
    { "* OK text ] with ) and ( and [\r\n", NULL, "text ] with ) and ( and [" },
    { "* OK [unbalanced code\r\n", NULL, "[unbalanced code" },
    { "* OK [ALERT \"open quote] x\r\n", NULL, "[ALERT \"open quote] x" },
    { "* OK [] empty\r\n", NULL, "[] empty" },
    { "* OK [CODE (unclosed] x\r\n", NULL, "[CODE (unclosed] x" },
    { "* NO [ALERT] Mailbox is 95% full [really]\r\n", "ALERT", "Mailbox is 95% full [really]" },
    { "* OK Text with {3} braces\r\n", NULL, "Text with {3} braces" },
    { "* OK ends in a literal-looking {3}\r\n", NULL, "ends in a literal-looking {3}" },
    { "* OK[ALERT]no space\r\n", "ALERT", "no space" },
    { "* OK [uidnext 5] lower\r\n", "UIDNEXT", "lower" },
    { "* OK bare lf\n", NULL, "bare lf" },
    { "* OK caf\xc3\xa9 \xff bytes\r\n", NULL, "caf\xc3\xa9 \xef\xbf\xbd bytes" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TdImapResponse) r = parse_one (cases[i].line);

      g_test_message ("%s", cases[i].line);
      g_assert_cmpint (r->status, !=, TD_IMAP_STATUS_NONE);
      g_assert_cmpstr (r->code, ==, cases[i].code);
      g_assert_cmpstr (r->text, ==, cases[i].text);
    }
}

static void
test_continuation (void)
{
  g_autoptr(TdImapResponse) plain = parse_one ("+\r\n");
  g_autoptr(TdImapResponse) idle = parse_one ("+ idling\r\n");
  g_autoptr(TdImapResponse) b64 = parse_one ("+ dGVzdA==\r\n");
  g_autoptr(TdImapResponse) code = parse_one ("+ [ALERT] go ahead\r\n");

  g_assert_cmpint (plain->kind, ==, TD_IMAP_RESPONSE_CONTINUATION);
  g_assert_cmpint (plain->status, ==, TD_IMAP_STATUS_NONE);
  g_assert_cmpstr (plain->text, ==, "");
  g_assert_cmpstr (idle->text, ==, "idling");
  g_assert_cmpstr (b64->text, ==, "dGVzdA==");
  g_assert_cmpstr (code->code, ==, "ALERT");
  g_assert_cmpstr (code->text, ==, "go ahead");
}

/* Data responses */

static void
test_data_responses (void)
{
  struct {
    const char *line;
    const char *dump;
  } cases[] = {
    { "* 3 EXISTS\r\n", "* 3 EXISTS\n" },
    { "* 0 RECENT\r\n", "* 0 RECENT\n" },
    { "* 44 EXPUNGE\r\n", "* 44 EXPUNGE\n" },
    { "* 4294967295 EXISTS\r\n", "* 4294967295 EXISTS\n" },
    { "*  3  exists \r\n", "* 3 EXISTS\n" },
    { "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n", "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\n" },
    { "* LIST (\\HasNoChildren) \"/\" INBOX\r\n", "* LIST (\\HasNoChildren) \"/\" INBOX\n" },
    { "* LIST (\\Noselect) NIL \"\"\r\n", "* LIST (\\Noselect) NIL \"\"\n" },
    { "* SEARCH 1 2 3\r\n", "* SEARCH 1 2 3\n" },
    { "* SEARCH\r\n", "* SEARCH\n" },
    { "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\n" },
    { "* ESEARCH (TAG \"A282\") UID MIN 2 COUNT 3\r\n",
      "* ESEARCH (TAG \"A282\") UID MIN 2 COUNT 3\n" },
    { "* VANISHED (EARLIER) 1:5\r\n", "* VANISHED (EARLIER) 1:5\n" },
    { "* VANISHED 41,43:116,118\r\n", "* VANISHED 41,43:116,118\n" },
    { "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
      "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\n" },
    { "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", "* NAMESPACE ((\"\" \"/\")) NIL NIL\n" },
    { "* 12 FETCH (FLAGS (\\Seen) UID 4827313 MODSEQ (12121231000))\r\n",
      "* 12 FETCH (FLAGS (\\Seen) UID 4827313 MODSEQ (12121231000))\n" },
    { "* 1 FETCH ((a (b (c)) ()) nil Nil)\r\n", "* 1 FETCH ((a (b (c)) ()) NIL NIL)\n" },
    { "* 1 FETCH ( UID  5 )\r\n", "* 1 FETCH (UID 5)\n" },
    { "* 1 FETCH (FLAGS (\\Seen)(\\Flagged))\r\n", "* 1 FETCH (FLAGS (\\Seen) (\\Flagged))\n" },
    { "* LIST () \"/\" foo]bar\r\n", "* LIST () \"/\" foo]bar\n" },
    { "* LIST () \"/\" Entw\xc3\xbcrfe\r\n", "* LIST () \"/\" Entw\xc3\xbcrfe\n" },
    { "* X-WEIRD a%b* ~x\r\n", "* X-WEIRD a%b* ~x\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dump = dump_one (cases[i].line);

      g_assert_cmpstr (dump, ==, cases[i].dump);
    }
}

static void
test_data_fields (void)
{
  g_autoptr(TdImapResponse) exists = parse_one ("* 3 EXISTS\r\n");
  g_autoptr(TdImapResponse) cap = parse_one ("* capability imap4rev1 idle\r\n");

  g_assert_cmpint (exists->kind, ==, TD_IMAP_RESPONSE_UNTAGGED);
  g_assert_cmpint (exists->status, ==, TD_IMAP_STATUS_NONE);
  g_assert_true (exists->has_number);
  g_assert_cmpuint (exists->number, ==, 3);
  g_assert_cmpstr (exists->name, ==, "EXISTS");
  g_assert_cmpuint (exists->values->len, ==, 0);
  g_assert_null (exists->text);

  g_assert_false (cap->has_number);
  g_assert_cmpstr (cap->name, ==, "CAPABILITY");
  g_assert_cmpuint (cap->values->len, ==, 2);
  /* values keep their case; only the name is upper-cased */
  g_assert_cmpstr (((TdImapValue *) g_ptr_array_index (cap->values, 0))->atom, ==, "imap4rev1");
}

static void
test_sections (void)
{
  g_autoptr(TdImapResponse) r =
    parse_one ("* 1 FETCH (BODY[HEADER.FIELDS (FROM TO)] {5}\r\nFrom:"
               " BODY[]<0> \"x\" BODY[HEADER.FIELDS (\"X-A]\" TO)] NIL"
               " BODY[1.2.MIME] NIL BINARY.SIZE[1] 42 BODY[ ] NIL"
               " BODY[HEADER.FIELDS (\"a\\\"]\" b)] NIL)\r\n");
  const TdImapValue *items = g_ptr_array_index (r->values, 0);
  const TdImapValue *v;

  g_assert_cmpint (items->type, ==, TD_IMAP_VALUE_LIST);
  g_assert_cmpuint (items->list->len, ==, 14);

  v = g_ptr_array_index (items->list, 0);
  g_assert_cmpint (v->type, ==, TD_IMAP_VALUE_ATOM);
  g_assert_cmpstr (v->atom, ==, "BODY[HEADER.FIELDS (FROM TO)]");
  v = g_ptr_array_index (items->list, 1);
  g_assert_cmpint (v->type, ==, TD_IMAP_VALUE_STRING);
  g_assert_cmpmem (g_bytes_get_data (v->string, NULL), g_bytes_get_size (v->string), "From:", 5);
  g_assert_cmpstr (((TdImapValue *) g_ptr_array_index (items->list, 2))->atom, ==, "BODY[]<0>");
  g_assert_cmpstr (((TdImapValue *) g_ptr_array_index (items->list, 4))->atom, ==,
                   "BODY[HEADER.FIELDS (\"X-A]\" TO)]");
  g_assert_cmpstr (((TdImapValue *) g_ptr_array_index (items->list, 6))->atom, ==,
                   "BODY[1.2.MIME]");
  g_assert_cmpstr (((TdImapValue *) g_ptr_array_index (items->list, 8))->atom, ==,
                   "BINARY.SIZE[1]");
  g_assert_cmpstr (((TdImapValue *) g_ptr_array_index (items->list, 10))->atom, ==, "BODY[ ]");
  /* an escaped quote inside a quoted name in the section does not end the quote */
  g_assert_cmpstr (((TdImapValue *) g_ptr_array_index (items->list, 12))->atom, ==,
                   "BODY[HEADER.FIELDS (\"a\\\"]\" b)]");
}

static void
test_quoted (void)
{
  g_autoptr(TdImapResponse) r =
    parse_one ("* X (\"\" \"plain\" \"a \\\"quote\\\"\" \"back\\\\slash\" \"odd\\x\" \"(not a list)\""
               " \"caf\xc3\xa9\" \"{5}\")\r\n");
  const TdImapValue *list = g_ptr_array_index (r->values, 0);
  const char *expected[] = { "", "plain", "a \"quote\"", "back\\slash", "oddx", "(not a list)",
                             "caf\xc3\xa9", "{5}" };

  g_assert_cmpuint (list->list->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const TdImapValue *v = g_ptr_array_index (list->list, i);
      g_autofree char *s = td_imap_value_dup_string (v);

      g_assert_cmpint (v->type, ==, TD_IMAP_VALUE_STRING);
      g_assert_cmpstr (s, ==, expected[i]);
    }
}

/* Literals */

static void
assert_string_value (const TdImapValue *v,
                     const void        *data,
                     gsize              len)
{
  g_assert_nonnull (v);
  g_assert_cmpint (v->type, ==, TD_IMAP_VALUE_STRING);
  g_assert_cmpmem (g_bytes_get_data (v->string, NULL), g_bytes_get_size (v->string), data, len);
}

static void
test_literals (void)
{
  static const char stream[] =
    "* 1 FETCH (UID 1 BODY[] {12}\r\nhello\r\nworld)\r\n"
    "* 2 FETCH (UID 2 BODY[] {5+}\r\n((((()\r\n"
    "* 3 FETCH (UID 3 BINARY[] ~{6}\r\na\0b\r\nc)\r\n"
    "* 4 FETCH (UID 4 BODY[] {0}\r\n)\r\n"
    "* 5 FETCH (BODY[HEADER] {3}\r\nabc BODY[TEXT] {4}\r\n)\r\n))\r\n"
    "* LIST () \"/\" {5}\r\nINBOX\r\n"
    "* 6 FETCH (BODY[] {2}  \r\n\"\")\r\n"
    "* 7 FETCH (BODY[] {3}\n{1})\n";
  gsize len = sizeof stream - 1;

  for (int mode = SPLIT_WHOLE; mode <= SPLIT_RANDOM; mode++)
    {
      g_autoptr(TdImapParser) parser = td_imap_parser_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rs = parse_split (parser, (const guint8 *) stream, len,
                                             (SplitMode) mode, 7, &error);
      const TdImapValue *items;

      g_assert_no_error (error);
      g_assert_cmpuint (rs->len, ==, 8);

      items = g_ptr_array_index (((TdImapResponse *) rs->pdata[0])->values, 0);
      assert_string_value (g_ptr_array_index (items->list, 3), "hello\r\nworld", 12);
      items = g_ptr_array_index (((TdImapResponse *) rs->pdata[1])->values, 0);
      assert_string_value (g_ptr_array_index (items->list, 3), "(((((", 5);
      g_assert_cmpuint (items->list->len, ==, 4);
      items = g_ptr_array_index (((TdImapResponse *) rs->pdata[2])->values, 0);
      assert_string_value (g_ptr_array_index (items->list, 3), "a\0b\r\nc", 6);
      g_assert_null (td_imap_value_dup_string (g_ptr_array_index (items->list, 3)));
      items = g_ptr_array_index (((TdImapResponse *) rs->pdata[3])->values, 0);
      assert_string_value (g_ptr_array_index (items->list, 3), "", 0);
      items = g_ptr_array_index (((TdImapResponse *) rs->pdata[4])->values, 0);
      g_assert_cmpuint (items->list->len, ==, 4);
      assert_string_value (g_ptr_array_index (items->list, 1), "abc", 3);
      assert_string_value (g_ptr_array_index (items->list, 3), ")\r\n)", 4);
      assert_string_value (g_ptr_array_index (((TdImapResponse *) rs->pdata[5])->values, 2),
                           "INBOX", 5);
      items = g_ptr_array_index (((TdImapResponse *) rs->pdata[6])->values, 0);
      assert_string_value (g_ptr_array_index (items->list, 1), "\"\"", 2);
      g_assert_cmpuint (items->list->len, ==, 2);
      items = g_ptr_array_index (((TdImapResponse *) rs->pdata[7])->values, 0);
      assert_string_value (g_ptr_array_index (items->list, 1), "{1}", 3);
    }
}

/* The literal's bytes are kept in one GBytes that the parser allocated for it. */
static void
test_literal_large_split (void)
{
  gsize body_len = 3 * 1024 * 1024 + 17;
  g_autofree guint8 *body = g_malloc (body_len);
  g_autofree char *head = g_strdup_printf ("* 9 FETCH (UID 99 BODY[] {%" G_GSIZE_FORMAT "}\r\n",
                                           body_len);
  g_autoptr(TdImapParser) parser = td_imap_parser_new ();
  g_autoptr(GPtrArray) rs = responses_new ();
  g_autoptr(GError) error = NULL;
  const TdImapValue *items;
  gsize pos;

  for (gsize i = 0; i < body_len; i++)
    body[i] = (guint8) (i * 7 + (i >> 9));

  g_assert_true (td_imap_parser_feed (parser, (const guint8 *) head, strlen (head), rs, &error));
  g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, strlen (head));
  for (pos = 0; pos < body_len; pos += 4093)
    {
      gsize n = MIN (4093, body_len - pos);

      g_assert_true (td_imap_parser_feed (parser, body + pos, n, rs, &error));
      g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, strlen (head) + pos + n);
    }
  g_assert_cmpuint (rs->len, ==, 0);
  g_assert_true (td_imap_parser_feed (parser, (const guint8 *) ")\r\n", 3, rs, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rs->len, ==, 1);
  g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 0);

  items = g_ptr_array_index (((TdImapResponse *) rs->pdata[0])->values, 0);
  assert_string_value (g_ptr_array_index (items->list, 3), body, body_len);
}

static void
test_bare_lf (void)
{
  static const char crlf[] =
    "* OK [CAPABILITY IMAP4rev1] hi\r\n* 1 FETCH (UID 1 BODY[] {4}\r\na\r\nb)\r\nA1 OK done\r\n";
  static const char lf[] =
    "* OK [CAPABILITY IMAP4rev1] hi\n* 1 FETCH (UID 1 BODY[] {4}\na\r\nb)\nA1 OK done\n";
  static const char mixed[] =
    "* OK [CAPABILITY IMAP4rev1] hi\r\n* 1 FETCH (UID 1 BODY[] {4}\na\r\nb)\r\nA1 OK done\n";
  g_autofree char *a = dump_one (crlf);
  g_autofree char *b = dump_one (lf);
  g_autofree char *c = dump_one (mixed);

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, ==, c);
  g_assert_cmpstr (a, ==,
                   "* OK [CAPABILITY IMAP4rev1] \"hi\"\n"
                   "* 1 FETCH (UID 1 BODY[] \"a\\r\\nb\")\n"
                   "A1 OK \"done\"\n");
}

static void
test_blank_lines (void)
{
  g_autofree char *dump = dump_one ("\r\n* 1 EXISTS\r\n\r\n   \r\n\n* 2 EXISTS\r\n");

  g_assert_cmpstr (dump, ==, "* 1 EXISTS\n* 2 EXISTS\n");
}

static void
test_pending (void)
{
  g_autoptr(TdImapParser) parser = td_imap_parser_new ();
  g_autoptr(GPtrArray) rs = responses_new ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 0);
  g_assert_true (td_imap_parser_feed (parser, (const guint8 *) "* 1 FE", 6, rs, &error));
  g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 6);
  g_assert_true (td_imap_parser_feed (parser, (const guint8 *) "TCH (BODY[] {3}\r\nab", 19, rs,
                                      &error));
  g_assert_cmpuint (rs->len, ==, 0);
  g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 6 + 17 + 2);
  g_assert_true (td_imap_parser_feed (parser, (const guint8 *) "c)\r\n* 2 EX", 10, rs, &error));
  g_assert_cmpuint (rs->len, ==, 1);
  g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 6);
  g_assert_true (td_imap_parser_feed (parser, NULL, 0, rs, &error));
  g_assert_no_error (error);
}

/* Hostile input */

static void
test_hostile_huge_literal (void)
{
  /* A 2 GB literal announcement fails at once, before any of it is read or allocated. */
  assert_fails_str ("* 1 FETCH (BODY[] {2147483648}\r\n", TD_ERROR_LIMIT);
  assert_fails_str ("* 1 FETCH (BODY[] {2147483648+}\r\n", TD_ERROR_LIMIT);
  assert_fails_str ("* 1 FETCH (BINARY[] ~{4294967296}\r\n", TD_ERROR_LIMIT);
  /* a size that overflows 64 bits */
  assert_fails_str ("* 1 FETCH (BODY[] {99999999999999999999999999999999}\r\n", TD_ERROR_LIMIT);
  assert_fails_str ("* 1 FETCH (BODY[] {18446744073709551616}\r\n", TD_ERROR_LIMIT);
  /* just within the default bound is accepted (and stays pending) */
  {
    g_autoptr(TdImapParser) parser = td_imap_parser_new ();
    g_autoptr(GPtrArray) rs = responses_new ();
    g_autoptr(GError) error = NULL;
    g_autofree char *line = g_strdup_printf ("* 1 FETCH (BODY[] {%u}\r\nabc",
                                             TD_IMAP_MAX_LITERAL_DEFAULT);

    g_assert_true (td_imap_parser_feed (parser, (const guint8 *) line, strlen (line), rs, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (rs->len, ==, 0);
  }
}

static void
test_hostile_endless_line (void)
{
  g_autoptr(TdImapParser) parser = td_imap_parser_new ();
  g_autoptr(GPtrArray) rs = responses_new ();
  g_autoptr(GError) error = NULL;
  guint8 chunk[65536];
  gsize fed = 0;
  gboolean ok = TRUE;

  memset (chunk, 'a', sizeof chunk);
  g_assert_true (td_imap_parser_feed (parser, (const guint8 *) "* OK ", 5, rs, &error));
  while (ok && fed < 64 * 1024 * 1024)
    {
      ok = td_imap_parser_feed (parser, chunk, sizeof chunk, rs, &error);
      fed += sizeof chunk;
    }
  g_assert_false (ok);
  g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
  /* failed as soon as the line went past the bound, not later */
  g_assert_cmpuint (fed, <=, TD_IMAP_MAX_LINE_DEFAULT + sizeof chunk);
  g_assert_cmpuint (td_imap_parser_get_pending (parser), <=, TD_IMAP_MAX_LINE_DEFAULT);

  /* also in a response that is split by literals: the bound is per response */
  {
    g_autoptr(TdImapParser) p2 = td_imap_parser_new ();
    g_autoptr(GPtrArray) rs2 = responses_new ();
    g_autoptr(GError) e2 = NULL;
    GString *s = g_string_new ("* 1 FETCH (");

    td_imap_parser_set_limits (p2, 1000, 1000, 10, 1000);
    for (int i = 0; i < 200; i++)
      g_string_append (s, "X {1}\r\nY ");
    g_assert_false (td_imap_parser_feed (p2, (const guint8 *) s->str, s->len, rs2, &e2));
    g_assert_error (e2, TD_ERROR, TD_ERROR_LIMIT);
    g_string_free (s, TRUE);
  }
}

static void
test_hostile_deep_nesting (void)
{
  GString *s = g_string_new ("* 1 FETCH ");

  for (int i = 0; i < 10000; i++)
    g_string_append_c (s, '(');
  for (int i = 0; i < 10000; i++)
    g_string_append_c (s, ')');
  g_string_append (s, "\r\n");
  assert_fails (s->str, s->len, TD_ERROR_LIMIT);
  g_string_free (s, TRUE);

  /* in a response code too */
  s = g_string_new ("* OK [X ");
  for (int i = 0; i < 10000; i++)
    g_string_append_c (s, '(');
  g_string_append (s, "] text\r\n");
  assert_fails (s->str, s->len, TD_ERROR_LIMIT);
  g_string_free (s, TRUE);

  /* exactly at the default bound is fine */
  s = g_string_new ("* 1 FETCH ");
  for (int i = 0; i < TD_IMAP_MAX_DEPTH_DEFAULT; i++)
    g_string_append_c (s, '(');
  for (int i = 0; i < TD_IMAP_MAX_DEPTH_DEFAULT; i++)
    g_string_append_c (s, ')');
  g_string_append (s, "\r\n");
  g_ptr_array_unref (parse_ok (s->str));
  g_string_free (s, TRUE);
}

static void
test_hostile_items (void)
{
  g_autoptr(TdImapParser) parser = td_imap_parser_new ();
  g_autoptr(GPtrArray) rs = responses_new ();
  g_autoptr(GError) error = NULL;
  GString *s = g_string_new ("* SEARCH");

  for (int i = 0; i < 101; i++)
    g_string_append (s, " 1");
  g_string_append (s, "\r\n");

  td_imap_parser_set_limits (parser, 4096, 4096, 8, 100);
  g_assert_false (td_imap_parser_feed (parser, (const guint8 *) s->str, s->len, rs, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
  g_string_free (s, TRUE);

  /* the count is per response: many small responses are fine */
  {
    g_autoptr(TdImapParser) p2 = td_imap_parser_new ();
    g_autoptr(GPtrArray) rs2 = responses_new ();

    td_imap_parser_set_limits (p2, 4096, 4096, 8, 3);
    for (int i = 0; i < 100; i++)
      g_assert_true (td_imap_parser_feed (p2, (const guint8 *) "* SEARCH 1 2 3\r\n", 16, rs2,
                                          NULL));
    g_assert_cmpuint (rs2->len, ==, 100);
  }
}

static void
test_hostile_syntax (void)
{
  static const char * const parse_errors[] = {
    "* 1 FETCH (UID 1\r\n",
    "* 1 FETCH UID 1)\r\n",
    "* 1 FETCH (UID 1))\r\n",
    "A1 FOO bar\r\n",
    "A1\r\n",
    "A1 \r\n",
    "*\r\n",
    "* \r\n",
    "*OK hello\r\n",
    "+OK hello\r\n" /* a continuation: accepted, see below */,
    "* 99999999999 EXISTS\r\n",
    "* 1\r\n",
    "* 12abc EXISTS\r\n",
    "* 1 FETCH ({5} x)\r\n",
    "* 1 FETCH (BODY[] {5)\r\n",
    "* 1 FETCH (BODY[] {}\r\n",
    "* 1 FETCH (BODY[] {5+x}\r\n",
    "* 1 FETCH (BODY[] {-5}\r\n",
    "* LIST () \"/\" \"unterminated\r\n",
    "* LIST () \"/\" \"escaped at end\\\r\n",
    "* LIST () \"/\" \x01\r\n",
    "(\\Seen)\r\n",
    "a(b OK x\r\n",
    "\"tag\" OK x\r\n",
    "* 1 FETCH (\x7f)\r\n",
    "* 1 FETCH (UID 1\r)\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (parse_errors); i++)
    {
      if (g_str_has_prefix (parse_errors[i], "+"))
        {
          g_autoptr(TdImapResponse) r = parse_one (parse_errors[i]);

          g_assert_cmpint (r->kind, ==, TD_IMAP_RESPONSE_CONTINUATION);
          g_assert_cmpstr (r->text, ==, "OK hello");
          continue;
        }
      g_test_message ("%s", parse_errors[i]);
      assert_fails_str (parse_errors[i], TD_ERROR_PARSE);
    }
}

static void
test_hostile_nul (void)
{
  static const char nul_text[] = "* OK hello\0world\r\n";
  static const char nul_atom[] = "* 1 FETCH (UID 1\0)\r\n";
  static const char nul_tag[] = "A\0 OK\r\n";
  static const char nul_after_literal[] = "* 1 FETCH (BODY[] {1}\r\n\0 UID\0 1)\r\n";

  assert_fails (nul_text, sizeof nul_text - 1, TD_ERROR_PARSE);
  assert_fails (nul_atom, sizeof nul_atom - 1, TD_ERROR_PARSE);
  assert_fails (nul_tag, sizeof nul_tag - 1, TD_ERROR_PARSE);
  /* the first NUL is literal data (fine), the second is in the line */
  assert_fails (nul_after_literal, sizeof nul_after_literal - 1, TD_ERROR_PARSE);

  /* a NUL beyond the line bound is a LIMIT, before it a PARSE, whatever the chunking */
  {
    g_autofree char *s = g_malloc0 (3000);

    memset (s, 'a', 2999);
    memcpy (s, "* OK ", 5);
    s[2500] = '\0';
    for (int mode = SPLIT_WHOLE; mode <= SPLIT_RANDOM; mode++)
      {
        g_autoptr(TdImapParser) parser = td_imap_parser_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) rs = NULL;

        td_imap_parser_set_limits (parser, 2000, 100, 4, 100);
        rs = parse_split (parser, (const guint8 *) s, 2999, (SplitMode) mode, 3, &error);
        g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
      }
    s[2500] = 'a';
    s[1500] = '\0';
    for (int mode = SPLIT_WHOLE; mode <= SPLIT_RANDOM; mode++)
      {
        g_autoptr(TdImapParser) parser = td_imap_parser_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) rs = NULL;

        td_imap_parser_set_limits (parser, 2000, 100, 4, 100);
        rs = parse_split (parser, (const guint8 *) s, 2999, (SplitMode) mode, 3, &error);
        g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
      }
  }
}

static void
test_hostile_garbage (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (4242);
  static const char alphabet[] = "* ()[]{}\"\\+~0123456789ABCNIL\r\n\r\n  \x00\xff";
  guint errors = 0, oks = 0;

  for (guint round = 0; round < 600; round++)
    {
      gsize len = (gsize) g_rand_int_range (rand, 1, 600);
      g_autofree guint8 *buf = g_malloc (len);
      g_autofree char *first = NULL;
      int first_code = -1;

      for (gsize i = 0; i < len; i++)
        buf[i] = round % 2 == 0 ? (guint8) g_rand_int_range (rand, 0, 256)
                                : (guint8) alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];

      for (int mode = SPLIT_WHOLE; mode <= SPLIT_RANDOM; mode++)
        {
          g_autoptr(TdImapParser) parser = td_imap_parser_new ();
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) rs = NULL;
          g_autofree char *dump = NULL;
          int code;

          td_imap_parser_set_limits (parser, 400, 300, 6, 50);
          rs = parse_split (parser, buf, len, (SplitMode) mode, round, &error);
          if (error != NULL)
            {
              g_assert_true (g_error_matches (error, TD_ERROR, TD_ERROR_PARSE) ||
                             g_error_matches (error, TD_ERROR, TD_ERROR_LIMIT));
              code = error->code;
              /* poisoned */
              g_clear_error (&error);
              g_assert_false (td_imap_parser_feed (parser, (const guint8 *) "* OK\r\n", 6, rs,
                                                   &error));
              g_assert_cmpint (error->code, ==, code);
            }
          else
            {
              code = -1;
            }
          dump = dump_responses (rs);
          if (mode == SPLIT_WHOLE)
            {
              first = g_steal_pointer (&dump);
              first_code = code;
              if (code >= 0)
                errors++;
              else
                oks++;
            }
          else
            {
              g_assert_cmpstr (dump, ==, first);
              g_assert_cmpint (code, ==, first_code);
            }
        }
    }

  /* the generator makes both kinds */
  g_assert_cmpuint (errors, >, 10);
  g_assert_cmpuint (oks, >, 10);
}

static void
test_poisoned (void)
{
  g_autoptr(TdImapParser) parser = td_imap_parser_new ();
  g_autoptr(GPtrArray) rs = responses_new ();
  g_autoptr(GError) error = NULL;

  static const char stream[] = "* 1 EXISTS\r\n* 1 FETCH (\"x)\r\n* 2 EXISTS\r\n";

  g_assert_false (td_imap_parser_feed (parser, (const guint8 *) stream, strlen (stream), rs,
                                       &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  /* what came before the error is delivered */
  g_assert_cmpuint (rs->len, ==, 1);
  g_clear_error (&error);

  for (int i = 0; i < 3; i++)
    {
      g_assert_false (td_imap_parser_feed (parser, (const guint8 *) "* 3 EXISTS\r\n", 12, rs,
                                           &error));
      g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
      g_clear_error (&error);
    }
  g_assert_false (td_imap_parser_feed (parser, (const guint8 *) "x", 1, rs, NULL));
  g_assert_cmpuint (rs->len, ==, 1);
}

static void
test_custom_limits (void)
{
  struct {
    const char *text;
    gboolean    ok;
  } cases[] = {
    /* max_line 40, max_literal 8, depth 2, items 6 */
    { "* 1 FETCH (BODY[] {8}\r\n12345678)\r\n", TRUE },
    { "* 1 FETCH (BODY[] {9}\r\n123456789)\r\n", FALSE },
    { "* OK 3456789012345678901234567890123456\r\n", TRUE },   /* 39 bytes + CR = 40 */
    { "* OK 34567890123456789012345678901234567\r\n", FALSE }, /* 41 */
    { "* 1 FETCH ((x))\r\n", TRUE },
    { "* 1 FETCH (((x)))\r\n", FALSE },
    { "* SEARCH 1 2 3 4 5 6\r\n", TRUE },
    { "* SEARCH 1 2 3 4 5 6 7\r\n", FALSE },
    /* literals of one response together at most 4 x max_literal */
    { "* 1 X {8}\r\n12345678 {8}\r\n12345678 {8}\r\n12345678 {8}\r\n12345678\r\n", TRUE },
    { "* 1 X {8}\r\n12345678 {8}\r\n12345678 {8}\r\n12345678 {8}\r\n12345678 {1}\r\nx\r\n",
      FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      for (int mode = SPLIT_WHOLE; mode <= SPLIT_BYTES; mode++)
        {
          g_autoptr(TdImapParser) parser = td_imap_parser_new ();
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) rs = NULL;

          td_imap_parser_set_limits (parser, 40, 8, 2, 6);
          rs = parse_split (parser, (const guint8 *) cases[i].text, strlen (cases[i].text),
                            (SplitMode) mode, 0, &error);
          g_test_message ("case %u", i);
          if (cases[i].ok)
            {
              g_assert_no_error (error);
              g_assert_cmpuint (rs->len, ==, 1);
            }
          else
            {
              g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
            }
        }
    }
}

/* Accessors */

static void
test_accessors (void)
{
  static const char line[] =
    "* X (0 4294967295 4294967296 18446744073709551615 18446744073709551616 -1 +1"
    " 1a \"7\" NIL () Seen {4}\r\na\0bc)\r\n";
  g_autoptr(TdImapResponse) r = parse_one_len (line, sizeof line - 1);
  GPtrArray *l = ((TdImapValue *) g_ptr_array_index (r->values, 0))->list;
  guint32 u32 = 99;
  guint64 u64 = 99;
  char *s;

  g_assert_true (td_imap_value_get_uint32 (l->pdata[0], &u32));
  g_assert_cmpuint (u32, ==, 0);
  g_assert_true (td_imap_value_get_uint32 (l->pdata[1], &u32));
  g_assert_cmpuint (u32, ==, G_MAXUINT32);
  g_assert_false (td_imap_value_get_uint32 (l->pdata[2], &u32));
  g_assert_true (td_imap_value_get_uint64 (l->pdata[2], &u64));
  g_assert_cmpuint (u64, ==, G_GUINT64_CONSTANT (4294967296));
  g_assert_true (td_imap_value_get_uint64 (l->pdata[3], &u64));
  g_assert_cmpuint (u64, ==, G_MAXUINT64);
  g_assert_false (td_imap_value_get_uint64 (l->pdata[4], &u64));
  for (guint i = 5; i <= 10; i++)
    {
      g_assert_false (td_imap_value_get_uint32 (l->pdata[i], &u32));
      g_assert_false (td_imap_value_get_uint64 (l->pdata[i], &u64));
    }
  g_assert_false (td_imap_value_get_uint32 (NULL, &u32));

  g_assert_true (td_imap_value_is_atom (l->pdata[11], "seen"));
  g_assert_true (td_imap_value_is_atom (l->pdata[11], "SEEN"));
  g_assert_false (td_imap_value_is_atom (l->pdata[8], "7"));   /* a string, not an atom */
  g_assert_false (td_imap_value_is_atom (l->pdata[9], "NIL")); /* NIL is its own type */
  g_assert_false (td_imap_value_is_atom (NULL, "x"));
  g_assert_cmpint (((TdImapValue *) l->pdata[9])->type, ==, TD_IMAP_VALUE_NIL);

  s = td_imap_value_dup_string (l->pdata[8]);
  g_assert_cmpstr (s, ==, "7");
  g_free (s);
  s = td_imap_value_dup_string (l->pdata[11]);
  g_assert_cmpstr (s, ==, "Seen");
  g_free (s);
  g_assert_null (td_imap_value_dup_string (l->pdata[9]));
  g_assert_null (td_imap_value_dup_string (l->pdata[10]));
  g_assert_null (td_imap_value_dup_string (l->pdata[12])); /* contains NUL */
  g_assert_null (td_imap_value_dup_string (NULL));
}

/* Throughput: a FETCH stream of ~50 MB of literals, fed in 16 KiB reads like the network
 * gives them. Only correctness is asserted; the rate is reported as a TAP comment. */
static void
test_throughput (void)
{
  const guint n_messages = 1000;
  const gsize body_len = 50 * 1024;
  g_autofree guint8 *body = g_malloc (body_len);
  GByteArray *stream = g_byte_array_new ();
  g_autoptr(GBytes) wire = NULL;
  g_autoptr(TdImapParser) parser = td_imap_parser_new ();
  g_autoptr(GPtrArray) rs = responses_new ();
  g_autoptr(GError) error = NULL;
  const guint8 *data;
  gsize len, pos;
  gint64 start, elapsed;
  guint seen = 0;

  for (gsize i = 0; i < body_len; i++)
    body[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' : (guint8) ('!' + (i * 31) % 90);

  for (guint i = 1; i <= n_messages; i++)
    {
      g_autofree char *head =
        g_strdup_printf ("* %u FETCH (UID %u FLAGS (\\Seen) RFC822.SIZE %" G_GSIZE_FORMAT
                         " BODY[] {%" G_GSIZE_FORMAT "}\r\n", i, i + 1000, body_len, body_len);

      g_byte_array_append (stream, (const guint8 *) head, (guint) strlen (head));
      body[0] = (guint8) ('A' + i % 26);
      g_byte_array_append (stream, body, (guint) body_len);
      g_byte_array_append (stream, (const guint8 *) ")\r\n", 3);
    }
  g_byte_array_append (stream, (const guint8 *) "A1 OK done\r\n", 12);
  wire = g_byte_array_free_to_bytes (stream);
  data = g_bytes_get_data (wire, &len);

  start = g_get_monotonic_time ();
  for (pos = 0; pos < len; pos += 16384)
    {
      g_assert_true (td_imap_parser_feed (parser, data + pos, MIN (16384, len - pos), rs, &error));

      /* consume as the session would, so memory stays flat */
      for (guint i = 0; i < rs->len; i++)
        {
          TdImapResponse *r = rs->pdata[i];
          const TdImapValue *items, *v;
          guint32 uid;

          if (r->kind == TD_IMAP_RESPONSE_TAGGED)
            continue;
          seen++;
          g_assert_cmpuint (r->number, ==, seen);
          items = g_ptr_array_index (r->values, 0);
          g_assert_cmpuint (items->list->len, ==, 8);
          g_assert_true (td_imap_value_get_uint32 (items->list->pdata[1], &uid));
          g_assert_cmpuint (uid, ==, seen + 1000);
          v = items->list->pdata[7];
          g_assert_cmpint (v->type, ==, TD_IMAP_VALUE_STRING);
          g_assert_cmpuint (g_bytes_get_size (v->string), ==, body_len);
          g_assert_cmpint (((const guint8 *) g_bytes_get_data (v->string, NULL))[0], ==,
                           'A' + seen % 26);
          g_assert_cmpmem ((const guint8 *) g_bytes_get_data (v->string, NULL) + 1, body_len - 1,
                           body + 1, body_len - 1);
        }
      g_ptr_array_set_size (rs, 0);
    }
  elapsed = MAX (g_get_monotonic_time () - start, 1);
  g_assert_no_error (error);
  g_assert_cmpuint (seen, ==, n_messages);
  g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 0);

  g_test_message ("throughput: %.1f MB in %.3f s = %.0f MB/s (16 KiB reads, checks included)",
                  len / 1e6, elapsed / 1e6, (len / 1e6) / (elapsed / 1e6));

  /* the parser alone, one big feed */
  {
    g_autoptr(TdImapParser) p2 = td_imap_parser_new ();
    g_autoptr(GPtrArray) rs2 = responses_new ();

    start = g_get_monotonic_time ();
    g_assert_true (td_imap_parser_feed (p2, data, len, rs2, &error));
    elapsed = MAX (g_get_monotonic_time () - start, 1);
    g_assert_cmpuint (rs2->len, ==, n_messages + 1);
    g_test_message ("throughput: parser alone, one feed: %.0f MB/s", (len / 1e6) / (elapsed / 1e6));
  }
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

  g_test_add_func ("/imap/parser/transcripts/expected", test_transcripts_expected);
  g_test_add_func ("/imap/parser/transcripts/chunking", test_transcripts_chunking);
  g_test_add_func ("/imap/parser/transcripts/truncated", test_transcripts_truncated);
  g_test_add_func ("/imap/parser/status/tagged", test_status_tagged);
  g_test_add_func ("/imap/parser/status/codes", test_status_codes);
  g_test_add_func ("/imap/parser/status/free-text", test_status_free_text);
  g_test_add_func ("/imap/parser/continuation", test_continuation);
  g_test_add_func ("/imap/parser/data/responses", test_data_responses);
  g_test_add_func ("/imap/parser/data/fields", test_data_fields);
  g_test_add_func ("/imap/parser/data/sections", test_sections);
  g_test_add_func ("/imap/parser/quoted", test_quoted);
  g_test_add_func ("/imap/parser/literal", test_literals);
  g_test_add_func ("/imap/parser/literal-split", test_literal_large_split);
  g_test_add_func ("/imap/parser/bare-lf", test_bare_lf);
  g_test_add_func ("/imap/parser/blank-lines", test_blank_lines);
  g_test_add_func ("/imap/parser/pending", test_pending);
  g_test_add_func ("/imap/parser/hostile/huge-literal", test_hostile_huge_literal);
  g_test_add_func ("/imap/parser/hostile/endless-line", test_hostile_endless_line);
  g_test_add_func ("/imap/parser/hostile/deep-nesting", test_hostile_deep_nesting);
  g_test_add_func ("/imap/parser/hostile/items", test_hostile_items);
  g_test_add_func ("/imap/parser/hostile/syntax", test_hostile_syntax);
  g_test_add_func ("/imap/parser/hostile/nul", test_hostile_nul);
  g_test_add_func ("/imap/parser/hostile/garbage", test_hostile_garbage);
  g_test_add_func ("/imap/parser/poisoned", test_poisoned);
  g_test_add_func ("/imap/parser/limits", test_custom_limits);
  g_test_add_func ("/imap/parser/accessors", test_accessors);
  g_test_add_func ("/imap/parser/throughput", test_throughput);

  return g_test_run ();
}
