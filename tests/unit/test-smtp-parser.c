/* test-smtp-parser.c: the SMTP reply parser, fed whole, byte-wise and in random splits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-smtp-parser.h"
#include "td-test-util.h"

/* The replies of @input fed in pieces of @split bytes (0: random pieces), as "CODE|line|line"
 * strings joined by "\n"; NULL and @error on a failure. */
static char *
parse (const char  *input,
       gsize        split,
       GError     **error)
{
  g_autoptr(TdSmtpParser) parser = td_smtp_parser_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  gsize len = strlen (input);
  gsize pos = 0;
  TdSmtpReply *reply;

  while (pos < len)
    {
      gsize n = split > 0 ? split : (gsize) g_test_rand_int_range (1, 8);

      n = MIN (n, len - pos);
      if (!td_smtp_parser_feed (parser, input + pos, n, error))
        return NULL;
      pos += n;
      while ((reply = td_smtp_parser_pop (parser)) != NULL)
        {
          g_string_append_printf (out, "%s%u", out->len > 0 ? "\n" : "", reply->code);
          if (reply->enhanced != NULL)
            g_string_append_printf (out, "[%s]", reply->enhanced);
          for (guint i = 0; i < reply->lines->len; i++)
            g_string_append_printf (out, "|%s", (char *) g_ptr_array_index (reply->lines, i));
          td_smtp_reply_free (reply);
        }
    }
  if (td_smtp_parser_has_buffered (parser))
    g_string_append (out, "\n(partial)");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
check_all_splits (const char *input,
                  const char *expected)
{
  static const gsize splits[] = { G_MAXSIZE / 2, 1, 2, 3, 0, 0, 0, 0 };

  for (guint i = 0; i < G_N_ELEMENTS (splits); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *got = parse (input, splits[i], &error);

      g_assert_no_error (error);
      g_assert_cmpstr (got, ==, expected);
    }
}

static void
test_single (void)
{
  check_all_splits ("220 mail.example.org ESMTP ready\r\n", "220|mail.example.org ESMTP ready");
  /* a bare LF, a code without text */
  check_all_splits ("250\n354 go\r\n", "250|\n354|go");
}

static void
test_multiline (void)
{
  check_all_splits ("250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
                    "250 AUTH PLAIN LOGIN\r\n221 bye\r\n",
                    "250|mail.example.org|PIPELINING|SIZE 1000|AUTH PLAIN LOGIN\n221|bye");
}

static void
test_enhanced (void)
{
  g_autoptr(TdSmtpParser) parser = td_smtp_parser_new ();
  g_autoptr(TdSmtpReply) reply = NULL;
  g_autofree char *text = NULL;
  const char *input = "550-5.1.1 No such\r\n550 5.1.1 user\r\n";

  check_all_splits ("535 5.7.8 Authentication failed\r\n",
                    "535[5.7.8]|5.7.8 Authentication failed");
  /* a class that does not match the code is no enhanced code */
  check_all_splits ("550 2.1.5 odd\r\n", "550|2.1.5 odd");
  check_all_splits ("250 2.0.0\r\n", "250[2.0.0]|2.0.0");

  g_assert_true (td_smtp_parser_feed (parser, input, strlen (input), NULL));
  reply = td_smtp_parser_pop (parser);
  g_assert_nonnull (reply);
  text = td_smtp_reply_text (reply);
  g_assert_cmpstr (text, ==, "No such user");
}

static void
test_partial (void)
{
  check_all_splits ("250-first\r\n", "\n(partial)");
  check_all_splits ("250 done\r\n25", "250|done\n(partial)");
}

static void
expect_error (const char *input,
              gint        code)
{
  for (gsize split = 0; split < 3; split++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *got = parse (input, split == 2 ? G_MAXSIZE / 2 : split, &error);

      g_assert_null (got);
      g_assert_error (error, TD_ERROR, code);
    }
}

static void
test_hostile (void)
{
  g_autofree char *long_line = NULL;
  g_autoptr(GString) many = g_string_new (NULL);
  g_autoptr(TdSmtpParser) parser = td_smtp_parser_new ();
  g_autoptr(GError) error = NULL;

  expect_error ("hello\r\n", TD_ERROR_PARSE);
  expect_error ("25\r\n", TD_ERROR_PARSE);
  expect_error ("2500 x\r\n", TD_ERROR_PARSE);
  expect_error ("600 x\r\n", TD_ERROR_PARSE);
  expect_error ("190 x\r\n", TD_ERROR_PARSE);
  expect_error ("260 x\r\n", TD_ERROR_PARSE);
  expect_error ("250-a\r\n251 b\r\n", TD_ERROR_PARSE);
  expect_error ("\r\n", TD_ERROR_PARSE);

  long_line = g_strnfill (TD_SMTP_MAX_LINE + 10, 'x');
  memcpy (long_line, "250 ", 4);
  expect_error (long_line, TD_ERROR_LIMIT);

  for (guint i = 0; i <= TD_SMTP_MAX_REPLY_LINES; i++)
    g_string_append (many, "250-x\r\n");
  expect_error (many->str, TD_ERROR_LIMIT);

  /* a NUL byte, and nothing after a failure */
  g_assert_false (td_smtp_parser_feed (parser, "250 a\0b\r\n", 9, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_false (td_smtp_parser_feed (parser, "250 ok\r\n", 8, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
}

/* Random bytes never crash it, and it either fails or gives replies. */
static void
test_random (void)
{
  for (guint round = 0; round < 2000; round++)
    {
      g_autoptr(TdSmtpParser) parser = td_smtp_parser_new ();
      char buf[64];
      gsize len = (gsize) g_test_rand_int_range (1, sizeof buf);
      static const char alphabet[] = "0123456789 -\r\n25x.\0";

      for (gsize i = 0; i < len; i++)
        buf[i] = alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)];
      if (td_smtp_parser_feed (parser, buf, len, NULL))
        {
          TdSmtpReply *reply;

          while ((reply = td_smtp_parser_pop (parser)) != NULL)
            {
              g_assert_cmpuint (reply->code, >=, 200);
              g_assert_cmpuint (reply->code, <=, 559);
              td_smtp_reply_free (reply);
            }
        }
    }
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

  g_test_add_func ("/smtp/parser/single", test_single);
  g_test_add_func ("/smtp/parser/multiline", test_multiline);
  g_test_add_func ("/smtp/parser/enhanced", test_enhanced);
  g_test_add_func ("/smtp/parser/partial", test_partial);
  g_test_add_func ("/smtp/parser/hostile", test_hostile);
  g_test_add_func ("/smtp/parser/random", test_random);

  return g_test_run ();
}
