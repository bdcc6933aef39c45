/* test-trace.c: protocol traces never show a password
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-trace.h"
#include "td-test-util.h"

#define PASSWORD "S3cr3t-Pw"
/* base64 of "\0alice\0S3cr3t-Pw" (SASL PLAIN) and of "S3cr3t-Pw" (SASL LOGIN) */
#define PLAIN_B64 "AGFsaWNlAFMzY3IzdC1Qdw=="
#define LOGIN_B64 "UzNjcjN0LVB3"

#define TRACE_DOMAIN "td-test-trace"

typedef struct
{
  TdTraceProtocol  protocol;
  gboolean         sasl_continuation;
  const char      *line;
  gsize            len;        /* 0: strlen */
  const char      *expected;   /* NULL: only check that no secret shows */
} Case;

static void
assert_no_secret (const char *output,
                  const char *input)
{
  if (strstr (output, PASSWORD) != NULL || strstr (output, "S3cr3t") != NULL ||
      strstr (output, PLAIN_B64) != NULL || strstr (output, LOGIN_B64) != NULL ||
      strstr (output, "UzNjcjN0") != NULL || strstr (output, "AGFsaWNl") != NULL)
    g_error ("secret in trace output \"%s\" (input \"%s\")", output, input);
}

static void
run_cases (const Case *cases,
           guint       n_cases)
{
  for (guint i = 0; i < n_cases; i++)
    {
      gsize len = cases[i].len != 0 ? cases[i].len : strlen (cases[i].line);
      g_autofree char *output = td_trace_redact (cases[i].protocol, TRUE,
                                                 cases[i].sasl_continuation,
                                                 cases[i].line, len);

      g_test_message ("%s", output);
      assert_no_secret (output, cases[i].line);
      if (cases[i].expected != NULL)
        g_assert_cmpstr (output, ==, cases[i].expected);
    }
}

static void
test_imap_login (void)
{
  static const Case cases[] = {
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN alice " PASSWORD "\r\n", 0, "a1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN alice " PASSWORD, 0, "a1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "a1 login alice " PASSWORD "\r\n", 0, "a1 login *** ***" },
    { TD_TRACE_IMAP, FALSE, "A0001 LoGiN alice " PASSWORD "\r\n", 0, "A0001 LoGiN *** ***" },
    { TD_TRACE_IMAP, FALSE, "a1\tLOGIN\talice\t" PASSWORD "\r\n", 0, "a1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "  a1   LOGIN   alice   " PASSWORD "  \r\n", 0, "a1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "a1\vLOGIN\falice " PASSWORD, 0, "a1 LOGIN *** ***" },
    /* quoted strings, with escapes and spaces */
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN \"alice\" \"" PASSWORD "\"\r\n", 0, "a1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN \"al\\\"ice\" \"S3cr\\\"3t-Pw \\\\ S3cr3t\"\r\n", 0,
      "a1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN \"alice smith\" \"S3cr3t with spaces\"", 0,
      "a1 LOGIN *** ***" },
    /* literals: the command line alone, LITERAL+ in one chunk, and a synchronising literal */
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN {5}\r\n", 0, "a1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN {5+}\r\nalice {9+}\r\n" PASSWORD "\r\n", 0,
      "a1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN alice {9}\r\n", 0, "a1 LOGIN *** ***" },
    { TD_TRACE_IMAP, TRUE, PASSWORD "\r\n", 0, "***" },
    { TD_TRACE_IMAP, TRUE, "alice {9}\r\n", 0, "***" },
    /* another command first in the same write */
    { TD_TRACE_IMAP, FALSE, "a0 CAPABILITY\r\na1 LOGIN alice " PASSWORD "\r\n", 0,
      "a0 CAPABILITY\\r\\na1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "\r\na1 LOGIN alice " PASSWORD, 0, "\\r\\na1 LOGIN *** ***" },
    { TD_TRACE_IMAP, FALSE, "\na1 LOGIN alice " PASSWORD, 0, "\\na1 LOGIN *** ***" },
    /* no tag at all */
    { TD_TRACE_IMAP, FALSE, "LOGIN alice " PASSWORD, 0, "LOGIN *** ***" },
    /* a NUL in the middle */
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN alice\0 " PASSWORD, 25, "a1 LOGIN *** ***" },
    /* bare LOGIN: nothing to hide */
    { TD_TRACE_IMAP, FALSE, "a1 LOGIN\r\n", 0, "a1 LOGIN" },
  };

  run_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_imap_authenticate (void)
{
  static const Case cases[] = {
    { TD_TRACE_IMAP, FALSE, "a2 AUTHENTICATE PLAIN " PLAIN_B64 "\r\n", 0,
      "a2 AUTHENTICATE PLAIN ***" },
    { TD_TRACE_IMAP, FALSE, "a2 authenticate plain " PLAIN_B64 "\r\n", 0,
      "a2 authenticate plain ***" },
    { TD_TRACE_IMAP, FALSE, "a2\tAuthenticate\tPLAIN\t" PLAIN_B64, 0,
      "a2 Authenticate PLAIN ***" },
    { TD_TRACE_IMAP, FALSE, "a2 AUTHENTICATE PLAIN\r\n", 0, "a2 AUTHENTICATE PLAIN" },
    { TD_TRACE_IMAP, FALSE, "a2 AUTHENTICATE PLAIN\r\n" PLAIN_B64 "\r\n", 0,
      "a2 AUTHENTICATE PLAIN ***" },
    { TD_TRACE_IMAP, FALSE, "a2 AUTHENTICATE LOGIN " LOGIN_B64, 0, "a2 AUTHENTICATE LOGIN ***" },
    { TD_TRACE_IMAP, FALSE, "a2 AUTHENTICATE\r\n", 0, "a2 AUTHENTICATE" },
    { TD_TRACE_IMAP, TRUE, PLAIN_B64 "\r\n", 0, "***" },
    { TD_TRACE_IMAP, TRUE, LOGIN_B64, 0, "***" },
    { TD_TRACE_IMAP, TRUE, "*\r\n", 0, "***" },
  };

  run_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_pop3 (void)
{
  static const Case cases[] = {
    { TD_TRACE_POP3, FALSE, "PASS " PASSWORD "\r\n", 0, "PASS ***" },
    { TD_TRACE_POP3, FALSE, "pass " PASSWORD "\r\n", 0, "pass ***" },
    { TD_TRACE_POP3, FALSE, "Pass\t" PASSWORD, 0, "Pass ***" },
    { TD_TRACE_POP3, FALSE, "PASS S3cr3t with spaces\r\n", 0, "PASS ***" },
    { TD_TRACE_POP3, FALSE, "PASS \"" PASSWORD "\"", 0, "PASS ***" },
    { TD_TRACE_POP3, FALSE, "USER alice\r\nPASS " PASSWORD "\r\n", 0,
      "USER alice\\r\\nPASS ***" },
    { TD_TRACE_POP3, FALSE, "APOP alice S3cr3t0123456789abcdef0123456789\r\n", 0,
      "APOP alice ***" },
    { TD_TRACE_POP3, FALSE, "apop alice S3cr3t0123456789abcdef0123456789", 0, "apop alice ***" },
    { TD_TRACE_POP3, FALSE, "APOP S3cr3t0123456789abcdef0123456789", 0, "APOP ***" },
    { TD_TRACE_POP3, FALSE, "AUTH PLAIN " PLAIN_B64 "\r\n", 0, "AUTH PLAIN ***" },
    { TD_TRACE_POP3, FALSE, "auth plain " PLAIN_B64, 0, "auth plain ***" },
    { TD_TRACE_POP3, FALSE, "AUTH PLAIN\r\n", 0, "AUTH PLAIN" },
    { TD_TRACE_POP3, FALSE, "AUTH PLAIN\r\n" PLAIN_B64 "\r\n", 0, "AUTH PLAIN ***" },
    { TD_TRACE_POP3, TRUE, PLAIN_B64 "\r\n", 0, "***" },
    /* commands without secrets are left alone */
    { TD_TRACE_POP3, FALSE, "USER alice\r\n", 0, "USER alice" },
    { TD_TRACE_POP3, FALSE, "RETR 1\r\n", 0, "RETR 1" },
  };

  run_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_smtp (void)
{
  static const Case cases[] = {
    { TD_TRACE_SMTP, FALSE, "AUTH PLAIN " PLAIN_B64 "\r\n", 0, "AUTH PLAIN ***" },
    { TD_TRACE_SMTP, FALSE, "auth plain " PLAIN_B64 "\r\n", 0, "auth plain ***" },
    { TD_TRACE_SMTP, FALSE, "AUTH LOGIN " LOGIN_B64 "\r\n", 0, "AUTH LOGIN ***" },
    { TD_TRACE_SMTP, FALSE, "Auth\tLogin\t" LOGIN_B64, 0, "Auth Login ***" },
    { TD_TRACE_SMTP, FALSE, "AUTH LOGIN\r\n", 0, "AUTH LOGIN" },
    { TD_TRACE_SMTP, TRUE, "YWxpY2U=\r\n", 0, "***" },
    { TD_TRACE_SMTP, TRUE, LOGIN_B64 "\r\n", 0, "***" },
    { TD_TRACE_SMTP, FALSE, "EHLO client.example.org\r\n", 0, "EHLO client.example.org" },
    { TD_TRACE_SMTP, FALSE, "MAIL FROM:<alice@example.org> SIZE=1200\r\n", 0,
      "MAIL FROM:<alice@example.org> SIZE=1200" },
  };

  run_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_server_lines (void)
{
  /* Server lines are shown as they are (a server never echoes a password). */
  g_autofree char *imap = td_trace_redact (TD_TRACE_IMAP, FALSE, FALSE,
                                           "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi\r\n",
                                           (gsize) -1);
  g_autofree char *pop3 = td_trace_redact (TD_TRACE_POP3, FALSE, FALSE,
                                           "+OK <1896.697170952@dbc.mtview.ca.us>\r\n",
                                           (gsize) -1);
  g_autofree char *smtp = td_trace_redact (TD_TRACE_SMTP, FALSE, FALSE,
                                           "334 VXNlcm5hbWU6\r\n", (gsize) -1);
  g_autofree char *login = td_trace_redact (TD_TRACE_IMAP, FALSE, FALSE,
                                            "a1 OK LOGIN completed", (gsize) -1);

  g_assert_cmpstr (imap, ==, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi");
  g_assert_cmpstr (pop3, ==, "+OK <1896.697170952@dbc.mtview.ca.us>");
  g_assert_cmpstr (smtp, ==, "334 VXNlcm5hbWU6");
  g_assert_cmpstr (login, ==, "a1 OK LOGIN completed");
}

static void
test_escaping (void)
{
  static const char raw[] = "* 1 FETCH (BODY[] {3}\r\n\x01\xff\\\t)";
  g_autofree char *output = td_trace_redact (TD_TRACE_IMAP, FALSE, FALSE, raw,
                                             sizeof raw - 1);
  g_autofree char *with_nul = td_trace_redact (TD_TRACE_IMAP, FALSE, FALSE, "a\0b", 3);
  g_autofree char *empty = td_trace_redact (TD_TRACE_IMAP, TRUE, FALSE, "", 0);
  g_autofree char *null_line = td_trace_redact (TD_TRACE_IMAP, TRUE, FALSE, NULL, 0);
  g_autofree char *only_crlf = td_trace_redact (TD_TRACE_POP3, TRUE, FALSE, "\r\n", 2);

  g_assert_cmpstr (output, ==, "* 1 FETCH (BODY[] {3}\\r\\n\\x01\\xff\\\\\\t)");
  g_assert_cmpstr (with_nul, ==, "a\\x00b");
  g_assert_cmpstr (empty, ==, "");
  g_assert_cmpstr (null_line, ==, "");
  g_assert_cmpstr (only_crlf, ==, "");
  for (const char *p = output; *p != '\0'; p++)
    g_assert_true (*p >= 0x20 && *p < 0x7f);
}

static void
test_long_lines (void)
{
  g_autoptr(GString) line = g_string_new (NULL);
  g_autofree char *server = NULL;
  g_autofree char *client = NULL;
  g_autofree char *long_tag = NULL;
  g_autofree char *late_login = NULL;
  g_autofree char *binary = NULL;

  for (guint i = 0; i < 5000; i++)
    g_string_append_c (line, 'x');

  server = td_trace_redact (TD_TRACE_IMAP, FALSE, FALSE, line->str, line->len);
  g_assert_true (g_str_has_prefix (server, "xxxxxxxxxx"));
  g_assert_cmpuint (strspn (server, "x"), ==, 1000);
  g_assert_cmpuint (strlen (server), <, 1100);
  g_assert_nonnull (strstr (server, "5000"));

  client = td_trace_redact (TD_TRACE_SMTP, TRUE, FALSE, line->str, line->len);
  g_assert_cmpuint (strspn (client, "x"), ==, 1000);
  g_assert_cmpuint (strlen (client), <, 1100);

  /* A huge tag in front of LOGIN: cut, and still no password. */
  g_string_append (line, " LOGIN alice " PASSWORD);
  long_tag = td_trace_redact (TD_TRACE_IMAP, TRUE, FALSE, line->str, line->len);
  assert_no_secret (long_tag, "long tag");
  g_assert_cmpuint (strlen (long_tag), <, 1100);

  /* A long harmless line, then LOGIN beyond the cut in the same chunk. */
  g_string_assign (line, "a0 NOOP ");
  for (guint i = 0; i < 990; i++)
    g_string_append_c (line, 'y');
  g_string_append (line, "\r\na1 LOGIN alice " PASSWORD "\r\n");
  late_login = td_trace_redact (TD_TRACE_IMAP, TRUE, FALSE, line->str, line->len);
  assert_no_secret (late_login, "late login");
  g_assert_cmpuint (strlen (late_login), <, 1100);

  /* Escaping makes bytes longer, but never more than 1000 input bytes are shown. */
  g_string_truncate (line, 0);
  for (guint i = 0; i < 3000; i++)
    g_string_append_c (line, '\x80');
  binary = td_trace_redact (TD_TRACE_IMAP, FALSE, FALSE, line->str, line->len);
  g_assert_cmpuint (strlen (binary), <=, 4 * 1000 + 64);
}

/* Every split of a LOGIN line into words, in every protocol's spelling, with random case. */
static void
test_random_variants (void)
{
  static const char * const separators[] = { " ", "\t", "  ", " \t " };
  static const char * const passwords[] = {
    PASSWORD, "\"" PASSWORD "\"", "\"S3cr3t\\\"-Pw\"", "{9}\r\n" PASSWORD, "{9+}\r\n" PASSWORD,
  };
  GRand *rand = g_rand_new_with_seed (20261123);

  for (guint round = 0; round < 2000; round++)
    {
      const char *sep = separators[g_rand_int_range (rand, 0, G_N_ELEMENTS (separators))];
      const char *pass = passwords[g_rand_int_range (rand, 0, G_N_ELEMENTS (passwords))];
      g_autofree char *command = NULL;
      g_autofree char *line = NULL;
      g_autofree char *output = NULL;
      TdTraceProtocol protocol;

      switch (round % 5)
        {
        case 0:
          protocol = TD_TRACE_IMAP;
          command = g_strdup ("login");
          line = g_strdup_printf ("t%u%sLOGIN%salice%s%s\r\n", round, sep, sep, sep, pass);
          break;
        case 1:
          protocol = TD_TRACE_IMAP;
          command = g_strdup ("authenticate");
          line = g_strdup_printf ("t%u%sAUTHENTICATE%sPLAIN%s" PLAIN_B64 "\r\n",
                                  round, sep, sep, sep);
          break;
        case 2:
          protocol = TD_TRACE_POP3;
          command = g_strdup ("pass");
          line = g_strdup_printf ("PASS%s%s\r\n", sep, pass);
          break;
        case 3:
          protocol = TD_TRACE_POP3;
          command = g_strdup ("auth");
          line = g_strdup_printf ("AUTH%sPLAIN%s" PLAIN_B64 "\r\n", sep, sep);
          break;
        default:
          protocol = TD_TRACE_SMTP;
          command = g_strdup ("auth");
          line = g_strdup_printf ("AUTH%sLOGIN%s" LOGIN_B64 "\r\n", sep, sep);
          break;
        }

      /* Randomise the case of the command words only (the secret keeps its case). */
      for (char *p = line; *p != '\0' && strncmp (p, "S3cr3t", 6) != 0 &&
                           strncmp (p, "AGFs", 4) != 0 && strncmp (p, "UzNj", 4) != 0; p++)
        if (g_ascii_isalpha (*p) && g_rand_boolean (rand))
          *p = g_ascii_isupper (*p) ? g_ascii_tolower (*p) : g_ascii_toupper (*p);

      output = td_trace_redact (protocol, TRUE, FALSE, line, strlen (line));
      assert_no_secret (output, line);
      g_assert_nonnull (strstr (output, "***"));
    }

  g_rand_free (rand);
}

/* --- td_trace_line --- */

static GPtrArray *captured;

static GLogWriterOutput
capture_writer (GLogLevelFlags   log_level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (strcmp (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }

  if (g_strcmp0 (domain, TRACE_DOMAIN) == 0)
    {
      if (!g_log_writer_default_would_drop (log_level, domain))
        g_ptr_array_add (captured, g_strdup (message));
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static void
test_trace_line (void)
{
  const char *old = g_getenv ("G_MESSAGES_DEBUG");
  g_autofree char *saved = g_strdup (old);

  g_ptr_array_set_size (captured, 0);

  /* Debugging off: nothing at all. */
  g_unsetenv ("G_MESSAGES_DEBUG");
  td_trace_line (TRACE_DOMAIN, TD_TRACE_IMAP, TRUE, FALSE, "a1 NOOP\r\n", (gsize) -1);
  g_assert_cmpuint (captured->len, ==, 0);

  /* Debugging for another domain: nothing either. */
  g_setenv ("G_MESSAGES_DEBUG", "td-imap", TRUE);
  td_trace_line (TRACE_DOMAIN, TD_TRACE_IMAP, TRUE, FALSE, "a1 NOOP\r\n", (gsize) -1);
  g_assert_cmpuint (captured->len, ==, 0);

  g_setenv ("G_MESSAGES_DEBUG", "td-imap " TRACE_DOMAIN, TRUE);
  td_trace_line (TRACE_DOMAIN, TD_TRACE_IMAP, TRUE, FALSE,
                 "a1 LOGIN alice " PASSWORD "\r\n", (gsize) -1);
  td_trace_line (TRACE_DOMAIN, TD_TRACE_IMAP, FALSE, FALSE, "a1 OK done\r\n", 12);
  td_trace_line (TRACE_DOMAIN, TD_TRACE_SMTP, TRUE, TRUE, LOGIN_B64 "\r\n", (gsize) -1);
  g_assert_cmpuint (captured->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (captured, 0), ==, "C: a1 LOGIN *** ***");
  g_assert_cmpstr (g_ptr_array_index (captured, 1), ==, "S: a1 OK done");
  g_assert_cmpstr (g_ptr_array_index (captured, 2), ==, "C: ***");

  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  td_trace_line (TRACE_DOMAIN, TD_TRACE_POP3, TRUE, FALSE, "PASS " PASSWORD, (gsize) -1);
  g_assert_cmpuint (captured->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (captured, 3), ==, "C: PASS ***");

  for (guint i = 0; i < captured->len; i++)
    assert_no_secret (g_ptr_array_index (captured, i), "trace line");

  if (saved != NULL)
    g_setenv ("G_MESSAGES_DEBUG", saved, TRUE);
  else
    g_unsetenv ("G_MESSAGES_DEBUG");
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);
  captured = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);

  g_test_add_func ("/net/trace/imap-login", test_imap_login);
  g_test_add_func ("/net/trace/imap-authenticate", test_imap_authenticate);
  g_test_add_func ("/net/trace/pop3", test_pop3);
  g_test_add_func ("/net/trace/smtp", test_smtp);
  g_test_add_func ("/net/trace/server-lines", test_server_lines);
  g_test_add_func ("/net/trace/escaping", test_escaping);
  g_test_add_func ("/net/trace/long-lines", test_long_lines);
  g_test_add_func ("/net/trace/random-variants", test_random_variants);
  g_test_add_func ("/net/trace/line", test_trace_line);

  return g_test_run ();
}
