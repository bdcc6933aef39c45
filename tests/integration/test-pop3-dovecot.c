/* test-pop3-dovecot.c: TdPop3Session against a real Dovecot
 *
 * Each case starts its own Dovecot with a few messages for alice (one with lines that start
 * with dots, one of several megabytes) and talks POP3 to it over STLS or implicit TLS: what
 * RETR gives must be what was saved, DELE and QUIT must remove exactly what was marked, and a
 * wrong password must give TD_ERROR_AUTH.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-pop3-session.h"
#include "td-test-dovecot.h"
#include "td-test-util.h"

#define WAIT_MS 30000

typedef struct
{
  TdTestDovecot *server;
  GPtrArray     *messages;   /* GBytes, as saved, in order */
} Fixture;

static GBytes *
make_message (guint i)
{
  GString *m = g_string_new (NULL);

  g_string_append_printf (m, "From: Bob <bob@example.org>\r\nTo: alice@localhost\r\n"
                             "Subject: message %u\r\nMessage-ID: <m%u@example.org>\r\n\r\n",
                          i, i);
  if (i == 1)
    g_string_append (m, "A line.\r\n.A line starting with a dot.\r\n..Two dots.\r\n.\r\n"
                        "After a lone dot.\r\n");
  else if (i == 2)
    {
      /* several megabytes: many reads, many pieces */
      for (guint line = 0; m->len < 3 * 1024 * 1024; line++)
        g_string_append_printf (m, "%sline %u of a large message, with some words in it\r\n",
                                line % 997 == 0 ? "." : "", line);
    }
  else
    g_string_append_printf (m, "Short message %u.\r\n", i);
  return g_string_free_to_bytes (m);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->server = td_test_dovecot_start (&error);
  g_assert_no_error (error);
  f->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 1; i <= 3; i++)
    {
      GBytes *message = make_message (i);

      td_test_dovecot_save (f->server, "alice", "INBOX", message, &error);
      g_assert_no_error (error);
      g_ptr_array_add (f->messages, message);
    }
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_ptr_array_unref (f->messages);
  td_test_dovecot_free (f->server);
}

/* A session over STLS ("pop3") or implicit TLS ("pop3s"), connected. */
static TdPop3Session *
open_session (Fixture    *f,
              const char *service)
{
  gboolean stls = strcmp (service, "pop3") == 0;
  g_autoptr(TdConnection) connection =
    td_connection_new ("localhost", td_test_dovecot_get_port (f->server, service),
                       stls ? TD_SECURITY_STARTTLS : TD_SECURITY_TLS);
  g_autoptr(TdPop3Session) session = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_connection_set_pinned_fingerprint (connection, td_test_dovecot_get_fingerprint (f->server));
  session = td_pop3_session_new (connection);
  td_pop3_session_connect_async (session, NULL, td_test_store_result, &result);
  g_assert_true (td_pop3_session_connect_finish (session, td_test_wait_result (&result, WAIT_MS),
                                                 &error));
  g_assert_no_error (error);
  g_assert_true (td_connection_is_tls (connection));
  g_assert_cmpint (td_pop3_session_get_state (session), ==, TD_POP3_STATE_AUTHORIZATION);
  return g_steal_pointer (&session);
}

static gboolean
login (TdPop3Session  *session,
       gboolean        auth_plain,
       const char     *password,
       GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  if (auth_plain)
    {
      td_pop3_session_auth_plain_async (session, "alice", password, NULL, td_test_store_result,
                                        &result);
      return td_pop3_session_auth_plain_finish (session, td_test_wait_result (&result, WAIT_MS),
                                                error);
    }
  td_pop3_session_login_async (session, "alice", password, NULL, td_test_store_result, &result);
  return td_pop3_session_login_finish (session, td_test_wait_result (&result, WAIT_MS), error);
}

static guint32
stat_count (TdPop3Session *session)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint32 count = 0;

  td_pop3_session_stat_async (session, NULL, td_test_store_result, &result);
  g_assert_true (td_pop3_session_stat_finish (session, td_test_wait_result (&result, WAIT_MS),
                                              &count, NULL, &error));
  g_assert_no_error (error);
  return count;
}

static GPtrArray *
uidl (TdPop3Session *session)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *entries;

  td_pop3_session_uidl_async (session, NULL, td_test_store_result, &result);
  entries = td_pop3_session_uidl_finish (session, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
  return entries;
}

static void
quit (TdPop3Session *session)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_pop3_session_quit_async (session, NULL, td_test_store_result, &result);
  g_assert_true (td_pop3_session_quit_finish (session, td_test_wait_result (&result, WAIT_MS),
                                              &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (session), ==, TD_POP3_STATE_NOT_CONNECTED);
}

/* Dovecot may keep a message with other line ends than it was saved with: compare by LF. */
static char *
lf_text (const guint8 *data,
         gsize         len)
{
  GString *out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
      g_string_append_c (out, (char) data[i]);
  return g_string_free (out, FALSE);
}

typedef struct
{
  GByteArray *bodies[4];
  guint       pieces;
  GArray     *done;
} Received;

static void
on_chunk (guint32  number,
          GBytes  *chunk,
          gpointer user_data)
{
  Received *r = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (chunk, &len);

  g_assert_cmpuint (number, >=, 1);
  g_assert_cmpuint (number, <=, 3);
  g_byte_array_append (r->bodies[number], data, (guint) len);
  r->pieces++;
}

static void
on_message (guint32       number,
            const GError *error,
            gpointer      user_data)
{
  Received *r = user_data;

  g_assert_no_error (error);
  g_array_append_val (r->done, number);
}

static void
assert_same_message (Fixture    *f,
                     guint       number,
                     GByteArray *got)
{
  GBytes *saved = g_ptr_array_index (f->messages, number - 1);
  gsize saved_len;
  const guint8 *saved_data = g_bytes_get_data (saved, &saved_len);
  g_autofree char *want = lf_text (saved_data, saved_len);
  g_autofree char *have = lf_text (got->data, got->len);

  g_assert_cmpuint (strlen (have), ==, strlen (want));
  g_assert_true (strcmp (have, want) == 0);
}

/* STLS, USER/PASS, listings, a pipelined batch of RETR and TOP, against Dovecot. */
static void
test_stls_retr (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(TdPop3Session) session = open_session (f, "pop3");
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GArray) list = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  static const guint32 numbers[] = { 1, 2, 3 };
  Received r = { { NULL, }, 0, g_array_new (FALSE, FALSE, sizeof (guint32)) };
  g_autoptr(GByteArray) top = g_byte_array_new ();
  g_autofree char *top_text = NULL;

  /* asked again over TLS (RFC 2595), and what Dovecot offers there */
  g_assert_true (td_pop3_session_has_capability (session, "PIPELINING"));
  g_assert_true (td_pop3_session_has_capability (session, "UIDL"));
  g_assert_nonnull (strstr (td_pop3_session_get_capability (session, "SASL"), "PLAIN"));

  g_assert_true (login (session, FALSE, td_test_dovecot_get_password (f->server), &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (session), ==, TD_POP3_STATE_TRANSACTION);
  g_assert_cmpuint (stat_count (session), ==, 3);

  entries = uidl (session);
  g_assert_cmpuint (entries->len, ==, 3);
  td_pop3_session_list_async (session, NULL, td_test_store_result, &result);
  list = td_pop3_session_list_finish (session, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_clear_object (&result);

  for (guint i = 1; i <= 3; i++)
    r.bodies[i] = g_byte_array_new ();
  td_pop3_session_set_pipeline_window (session, 2);
  td_pop3_session_retr_many_async (session, numbers, 3, on_chunk, on_message, &r, NULL,
                                   td_test_store_result, &result);
  g_assert_true (td_pop3_session_retr_many_finish (session,
                                                   td_test_wait_result (&result, WAIT_MS),
                                                   &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (r.done->len, ==, 3);
  for (guint i = 1; i <= 3; i++)
    {
      g_assert_cmpuint (g_array_index (r.done, guint32, i - 1), ==, i);
      /* the RFC 822 size LIST gave is what came (CRLF line ends, dots unstuffed) */
      g_assert_cmpuint (r.bodies[i]->len, ==, g_array_index (list, TdPop3ListEntry, i - 1).size);
      assert_same_message (f, i, r.bodies[i]);
    }
  /* the large one came in many pieces, not whole */
  g_assert_cmpuint (r.pieces, >, 10);

  td_pop3_session_top_async (session, 1, 0, on_chunk, &r, NULL,
                             td_test_store_result, &result);
  g_byte_array_set_size (r.bodies[1], 0);
  g_assert_true (td_pop3_session_top_finish (session, td_test_wait_result (&result, WAIT_MS),
                                             &error));
  g_assert_no_error (error);
  top_text = lf_text (r.bodies[1]->data, r.bodies[1]->len);
  g_assert_true (g_str_has_prefix (top_text, "From: Bob <bob@example.org>\n"));
  g_assert_true (g_str_has_suffix (top_text, "Message-ID: <m1@example.org>\n\n"));

  quit (session);
  for (guint i = 1; i <= 3; i++)
    g_byte_array_unref (r.bodies[i]);
  g_array_unref (r.done);
}

/* Implicit TLS, AUTH PLAIN, DELE of one that exists and one that does not, QUIT: exactly the
 * marked message is gone; RSET keeps the rest. */
static void
test_tls_dele (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(TdPop3Session) session = open_session (f, "pop3s");
  g_autoptr(TdPop3Session) again = NULL;
  g_autoptr(TdPop3Session) third = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GArray) refused = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  static const guint32 numbers[] = { 2, 99 };
  const TdPop3UidlEntry *entry;

  g_assert_true (login (session, TRUE, td_test_dovecot_get_password (f->server), &error));
  g_assert_no_error (error);
  before = uidl (session);
  td_pop3_session_dele_many_async (session, numbers, 2, NULL, td_test_store_result, &result);
  refused = td_pop3_session_dele_many_finish (session, td_test_wait_result (&result, WAIT_MS),
                                              &error);
  g_assert_no_error (error);
  g_assert_cmpuint (refused->len, ==, 1);
  g_assert_cmpuint (g_array_index (refused, guint32, 0), ==, 99);
  quit (session);

  again = open_session (f, "pop3s");
  g_assert_true (login (again, TRUE, td_test_dovecot_get_password (f->server), &error));
  g_assert_no_error (error);
  after = uidl (again);
  g_assert_cmpuint (after->len, ==, 2);
  entry = g_ptr_array_index (after, 0);
  g_assert_cmpstr (entry->uid, ==, ((TdPop3UidlEntry *) g_ptr_array_index (before, 0))->uid);
  entry = g_ptr_array_index (after, 1);
  g_assert_cmpstr (entry->uid, ==, ((TdPop3UidlEntry *) g_ptr_array_index (before, 2))->uid);

  /* DELE then RSET: nothing goes */
  g_clear_object (&result);
  td_pop3_session_dele_async (again, 1, NULL, td_test_store_result, &result);
  g_assert_true (td_pop3_session_dele_finish (again, td_test_wait_result (&result, WAIT_MS),
                                              &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  td_pop3_session_rset_async (again, NULL, td_test_store_result, &result);
  g_assert_true (td_pop3_session_rset_finish (again, td_test_wait_result (&result, WAIT_MS),
                                              &error));
  g_assert_no_error (error);
  quit (again);

  third = open_session (f, "pop3");
  g_assert_true (login (third, FALSE, td_test_dovecot_get_password (f->server), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stat_count (third), ==, 2);
  quit (third);
}

/* A wrong password is TD_ERROR_AUTH, and the right one works on the same connection. */
static void
test_wrong_password (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(TdPop3Session) session = open_session (f, "pop3s");
  g_autoptr(GError) error = NULL;

  g_assert_false (login (session, FALSE, "wrong", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_clear_error (&error);
  g_assert_false (login (session, TRUE, "wrong", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_clear_error (&error);
  g_assert_cmpint (td_pop3_session_get_state (session), ==, TD_POP3_STATE_AUTHORIZATION);
  g_assert_true (login (session, TRUE, td_test_dovecot_get_password (f->server), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stat_count (session), ==, 3);
  quit (session);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

  g_test_add ("/pop3/dovecot/stls-retr", Fixture, NULL, fixture_setup, test_stls_retr,
              fixture_teardown);
  g_test_add ("/pop3/dovecot/tls-dele", Fixture, NULL, fixture_setup, test_tls_dele,
              fixture_teardown);
  g_test_add ("/pop3/dovecot/wrong-password", Fixture, NULL, fixture_setup,
              test_wrong_password, fixture_teardown);

  return g_test_run ();
}
