/* test-pop3-session.c: TdPop3Session against scripted servers (tests/data/pop3-sessions)
 *
 * Each test plays one script in an in-process server on loopback; the session talks to it over
 * a plain GSocketClient stream (or over a TdConnection for the STLS and timeout cases). The
 * scripts compare every line the client sends, so what goes on the wire is checked as well as
 * what comes back; every asynchronous operation quits the main loop from its callback.
 * Sessions over real TLS (STLS and implicit) are in tests/integration/test-pop3-dovecot.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-pop3-session.h"
#include "td-test-script-server.h"
#include "td-test-session.h"
#include "td-test-util.h"

#define WATCHDOG_SECONDS 20

typedef struct
{
  GMainLoop          *loop;
  TdTestScriptServer *server;
  TdPop3Session      *session;
  guint               watchdog_id;
  TdTestClosed        closed;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->loop = g_main_loop_new (NULL, FALSE);
  if (data != NULL)
    {
      g_autofree char *path = g_strconcat ("pop3-sessions/", (const char *) data, NULL);

      f->server = td_test_script_server_new_from_data (path);
    }
  f->watchdog_id = td_test_watchdog_add (WATCHDOG_SECONDS);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->session != NULL)
    {
      td_pop3_session_close (f->session);
      g_clear_object (&f->session);
    }
  /* every line of the script was played, and nothing else was sent */
  if (f->server != NULL)
    {
      td_test_script_server_finish (f->server);
    }
  td_test_closed_clear (&f->closed);
  g_source_remove (f->watchdog_id);
  g_main_loop_unref (f->loop);
}

static const char *
received (Fixture *f)
{
  return td_test_script_server_get_received (f->server, NULL);
}

static void
new_stream_session (Fixture *f)
{
  g_autoptr(GIOStream) stream = td_test_script_server_connect (f->server);

  f->session = td_pop3_session_new_for_stream (stream);
  g_signal_connect (f->session, "closed", G_CALLBACK (td_test_closed_cb), &f->closed);
}

static void
new_connection_session (Fixture    *f,
                        const char *host,
                        TdSecurity  security,
                        guint       timeout)
{
  g_autoptr(TdConnection) connection =
    td_connection_new (host, td_test_script_server_get_port (f->server), security);

  td_connection_set_timeout (connection, timeout);
  f->session = td_pop3_session_new (connection);
  g_signal_connect (f->session, "closed", G_CALLBACK (td_test_closed_cb), &f->closed);
}

/* --- Synchronous wrappers --- */

static gboolean
do_connect (Fixture  *f,
            GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_pop3_session_connect_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_pop3_session_connect_finish (f->session, result, error);
}

/* A stream session, connected. */
static void
open_session (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_true (do_connect (f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_AUTHORIZATION);
}

typedef enum
{
  LOGIN_USER,
  LOGIN_APOP,
  LOGIN_AUTH_PLAIN,
} LoginKind;

static gboolean
do_login_kind (Fixture     *f,
               LoginKind    kind,
               const char  *username,
               const char  *password,
               GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  switch (kind)
    {
    case LOGIN_USER:
      td_pop3_session_login_async (f->session, username, password, NULL, td_test_slot_done, &slot);
      result = td_test_slot_wait (&slot);
      return td_pop3_session_login_finish (f->session, result, error);
    case LOGIN_APOP:
      td_pop3_session_apop_async (f->session, username, password, NULL, td_test_slot_done, &slot);
      result = td_test_slot_wait (&slot);
      return td_pop3_session_apop_finish (f->session, result, error);
    case LOGIN_AUTH_PLAIN:
    default:
      td_pop3_session_auth_plain_async (f->session, username, password, NULL, td_test_slot_done,
                                        &slot);
      result = td_test_slot_wait (&slot);
      return td_pop3_session_auth_plain_finish (f->session, result, error);
    }
}

static gboolean
do_login (Fixture     *f,
          const char  *username,
          const char  *password,
          GError     **error)
{
  return do_login_kind (f, LOGIN_USER, username, password, error);
}

/* Connected and logged in as alice/secret. */
static void
open_transaction (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_true (do_login (f, "alice", "secret", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_TRANSACTION);
}

static gboolean
do_stat (Fixture  *f,
         guint32  *count,
         guint64  *size,
         GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_pop3_session_stat_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_pop3_session_stat_finish (f->session, result, count, size, error);
}

static GArray *
do_list (Fixture  *f,
         GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_pop3_session_list_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_pop3_session_list_finish (f->session, result, error);
}

static gboolean
do_list_one (Fixture  *f,
             guint32   number,
             guint64  *size,
             GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_pop3_session_list_one_async (f->session, number, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_pop3_session_list_one_finish (f->session, result, size, error);
}

static GPtrArray *
do_uidl (Fixture  *f,
         GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_pop3_session_uidl_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_pop3_session_uidl_finish (f->session, result, error);
}

static char *
do_uidl_one (Fixture  *f,
             guint32   number,
             GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_pop3_session_uidl_one_async (f->session, number, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_pop3_session_uidl_one_finish (f->session, result, error);
}

typedef gboolean (*BooleanFinish) (TdPop3Session  *self,
                                   GAsyncResult   *result,
                                   GError        **error);

/* NOOP, RSET, QUIT, DELE n */
static gboolean
do_simple (Fixture   *f,
           char       what,
           guint32    number,
           GError   **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };
  BooleanFinish finish;

  switch (what)
    {
    case 'N':
      td_pop3_session_noop_async (f->session, NULL, td_test_slot_done, &slot);
      finish = td_pop3_session_noop_finish;
      break;
    case 'R':
      td_pop3_session_rset_async (f->session, NULL, td_test_slot_done, &slot);
      finish = td_pop3_session_rset_finish;
      break;
    case 'Q':
      td_pop3_session_quit_async (f->session, NULL, td_test_slot_done, &slot);
      finish = td_pop3_session_quit_finish;
      break;
    case 'D':
    default:
      td_pop3_session_dele_async (f->session, number, NULL, td_test_slot_done, &slot);
      finish = td_pop3_session_dele_finish;
      break;
    }
  result = td_test_slot_wait (&slot);
  return finish (f->session, result, error);
}

#define do_noop(f, error) do_simple ((f), 'N', 0, (error))
#define do_rset(f, error) do_simple ((f), 'R', 0, (error))
#define do_quit(f, error) do_simple ((f), 'Q', 0, (error))
#define do_dele(f, n, error) do_simple ((f), 'D', (n), (error))

/* What the chunk and message callbacks saw */
typedef struct
{
  Fixture    *f;
  GHashTable *bodies;            /* number -> GString */
  GArray     *done;              /* guint32: numbers, in the order message_func saw them */
  GPtrArray  *errors;            /* GError* or NULL, with done */
  guint       chunks;
  gboolean    server_was_done;   /* at the first chunk */
  gboolean    close_at_chunk;
  GCancellable *cancel_at_first_message;
  /* received() at each message_func call */
  GPtrArray  *received_at_done;
} Log;

static void
string_free (gpointer data)
{
  g_string_free (data, TRUE);
}

static void
error_free_nullable (gpointer data)
{
  if (data != NULL)
    g_error_free (data);
}

static void
log_init (Log     *log,
          Fixture *f)
{
  memset (log, 0, sizeof *log);
  log->f = f;
  log->bodies = g_hash_table_new_full (NULL, NULL, NULL, string_free);
  log->done = g_array_new (FALSE, FALSE, sizeof (guint32));
  log->errors = g_ptr_array_new_with_free_func (error_free_nullable);
  log->received_at_done = g_ptr_array_new_with_free_func (g_free);
}

static void
log_clear (Log *log)
{
  g_hash_table_unref (log->bodies);
  g_array_unref (log->done);
  g_ptr_array_unref (log->errors);
  g_ptr_array_unref (log->received_at_done);
}

static const char *
log_body (Log     *log,
          guint32  number)
{
  GString *body = g_hash_table_lookup (log->bodies, GUINT_TO_POINTER (number));

  return body != NULL ? body->str : NULL;
}

static void
on_chunk (guint32  number,
          GBytes  *chunk,
          gpointer user_data)
{
  Log *log = user_data;
  GString *body = g_hash_table_lookup (log->bodies, GUINT_TO_POINTER (number));
  gsize len;
  const char *data = g_bytes_get_data (chunk, &len);

  if (log->chunks++ == 0)
    log->server_was_done = td_test_script_server_is_finished (log->f->server);
  if (body == NULL)
    {
      body = g_string_new (NULL);
      g_hash_table_insert (log->bodies, GUINT_TO_POINTER (number), body);
    }
  g_assert_cmpuint (len, >, 0);
  g_string_append_len (body, data, (gssize) len);
  if (log->close_at_chunk)
    td_pop3_session_close (log->f->session);
}

static void
on_message (guint32       number,
            const GError *error,
            gpointer      user_data)
{
  Log *log = user_data;

  g_array_append_val (log->done, number);
  g_ptr_array_add (log->errors, error != NULL ? g_error_copy (error) : NULL);
  g_ptr_array_add (log->received_at_done, g_strdup (received (log->f)));
  if (log->cancel_at_first_message != NULL && log->done->len == 1)
    g_cancellable_cancel (log->cancel_at_first_message);
}

static gboolean
do_retr (Fixture  *f,
         guint32   number,
         Log      *log,
         GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_pop3_session_retr_async (f->session, number, on_chunk, log, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_pop3_session_retr_finish (f->session, result, error);
}

static gboolean
do_top (Fixture  *f,
        guint32   number,
        guint     lines,
        Log      *log,
        GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_pop3_session_top_async (f->session, number, lines, on_chunk, log, NULL, td_test_slot_done,
                             &slot);
  result = td_test_slot_wait (&slot);
  return td_pop3_session_top_finish (f->session, result, error);
}

static void
wait_closed (Fixture *f)
{
  while (f->closed.count == 0)
    g_main_context_iteration (NULL, TRUE);
}

/* ------------------------------------------------------------------------------------------ */
/* Greeting and CAPA */

static void
test_greeting_capa (Fixture       *f,
                    gconstpointer  data)
{
  open_session (f);
  g_assert_true (td_pop3_session_get_capa_supported (f->session));
  g_assert_true (td_pop3_session_has_capability (f->session, "PIPELINING"));
  g_assert_true (td_pop3_session_has_capability (f->session, "pipelining"));
  g_assert_true (td_pop3_session_has_capability (f->session, "USER"));
  g_assert_cmpstr (td_pop3_session_get_capability (f->session, "TOP"), ==, "");
  g_assert_cmpstr (td_pop3_session_get_capability (f->session, "SASL"), ==, "PLAIN LOGIN");
  g_assert_cmpstr (td_pop3_session_get_capability (f->session, "LOGIN-DELAY"), ==, "900");
  g_assert_cmpstr (td_pop3_session_get_capability (f->session, "EXPIRE"), ==, "30 USER");
  g_assert_false (td_pop3_session_has_capability (f->session, "STLS"));
  g_assert_null (td_pop3_session_get_capability (f->session, "STLS"));
  g_assert_cmpstr (td_pop3_session_get_apop_timestamp (f->session), ==,
                   "<1e1f.5f2c3d4e@localhost>");
  g_assert_cmpuint (f->closed.count, ==, 0);
}

static void
test_greeting_no_capa (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint32 count = 0;
  guint64 size = 0;

  open_session (f);
  g_assert_false (td_pop3_session_get_capa_supported (f->session));
  g_assert_false (td_pop3_session_has_capability (f->session, "USER"));
  g_assert_null (td_pop3_session_get_apop_timestamp (f->session));
  /* no CAPA again after the login: the script would fail on it */
  g_assert_true (do_login (f, "alice", "secret", &error));
  g_assert_no_error (error);
  g_assert_true (do_stat (f, &count, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);
  g_assert_cmpuint (size, ==, 320);
}

static void
test_greeting_sys_temp (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
  g_assert_nonnull (strstr (error->message, "Too many connections from your address"));
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_TRY_LATER);
}

static void
test_greeting_refused (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "Go away"));
}

static void
test_greeting_garbage (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
  g_assert_cmpstr (received (f), ==, "");
}

static void
test_capa_limit (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GString) script = g_string_new ("S: +OK ready\nC: CAPA\nS: +OK\n");
  g_autoptr(GError) error = NULL;

  /* more capabilities than anyone has: the connection is refused */
  for (guint i = 0; i < 300; i++)
    g_string_append_printf (script, "S: X-CAP-%u\n", i);
  g_string_append (script, "S: .\nC! close\n");
  f->server = td_test_script_server_new (script->str);
  new_stream_session (f);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
}

/* ------------------------------------------------------------------------------------------ */
/* Logging in */

static void
test_login (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_false (td_pop3_session_has_capability (f->session, "PIPELINING"));
  g_assert_true (do_login (f, "alice", "secret", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_TRANSACTION);
  /* asked again after the login */
  g_assert_true (td_pop3_session_has_capability (f->session, "PIPELINING"));
  g_assert_cmpstr (td_pop3_session_get_capability (f->session, "EXPIRE"), ==, "30");

  /* a second login is refused by the table, and sends nothing */
  g_assert_false (do_login (f, "alice", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
}

static void
test_login_refused (Fixture       *f,
                    gconstpointer  data)
{
  struct {
    const char *user;
    const char *password;
    int         code;
    const char *text;
  } tries[] = {
    { "alice", "wrong", TD_ERROR_AUTH, "Authentication failed." },
    { "alice", "wrong", TD_ERROR_AUTH, "Invalid password" },
    { "bob", "secret", TD_ERROR_AUTH, "No such user here" },
    { "alice", "secret", TD_ERROR_TRY_LATER, "Mailbox locked by another session" },
    { "alice", "secret", TD_ERROR_TRY_LATER, "Wait 900 seconds between logins" },
    { "alice", "secret", TD_ERROR_TRY_LATER, "Database unavailable" },
    { "alice", "secret", TD_ERROR_PERMANENT, "POP access is disabled for this account" },
  };
  g_autoptr(GError) error = NULL;

  open_session (f);
  for (guint i = 0; i < G_N_ELEMENTS (tries); i++)
    {
      g_test_message ("try %u", i);
      g_assert_false (do_login (f, tries[i].user, tries[i].password, &error));
      g_assert_error (error, TD_ERROR, tries[i].code);
      g_assert_nonnull (strstr (error->message, tries[i].text));
      g_clear_error (&error);
      /* the connection stays, not logged in */
      g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_AUTHORIZATION);
    }
  g_assert_true (do_login (f, "alice", "secret", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_TRANSACTION);
  g_assert_cmpuint (f->closed.count, ==, 0);
  /* no password after a refused user name */
  g_assert_null (strstr (received (f), "USER bob\r\nPASS"));
}

static void
test_login_invalid (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_false (do_login (f, "alice", "line\r\nbreak", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (do_login (f, "ali\nce", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_AUTHORIZATION);
}

static void
test_apop_digest (void)
{
  g_autofree char *rfc = td_pop3_apop_digest ("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf");
  g_autofree char *empty = td_pop3_apop_digest ("", "");

  /* RFC 1939, section 7 */
  g_assert_cmpstr (rfc, ==, "c4c9334bac560ecc979e58001b3e22fb");
  g_assert_cmpstr (empty, ==, "d41d8cd98f00b204e9800998ecf8427e");
}

static void
test_apop (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint32 count = 0;

  open_session (f);
  g_assert_cmpstr (td_pop3_session_get_apop_timestamp (f->session), ==,
                   "<1896.697170952@dbc.mtview.ca.us>");
  g_assert_true (do_login_kind (f, LOGIN_APOP, "mrose", "tanstaaf", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_TRANSACTION);
  g_assert_true (do_stat (f, &count, NULL, &error));
  g_assert_cmpuint (count, ==, 2);
  /* the secret never crossed the wire */
  g_assert_null (strstr (received (f), "tanstaaf"));
}

static void
test_apop_refused (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  /* a user name with a space cannot go into an APOP line */
  g_assert_false (do_login_kind (f, LOGIN_APOP, "ali ce", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (do_login_kind (f, LOGIN_APOP, "alice", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, "permission denied"));
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_AUTHORIZATION);
}

static void
test_apop_no_timestamp (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_false (do_login_kind (f, LOGIN_APOP, "alice", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_UNSUPPORTED);
  g_assert_cmpstr (received (f), ==, "CAPA\r\n");
}

static void
test_auth_plain (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_false (do_login_kind (f, LOGIN_AUTH_PLAIN, "alice", "wrong", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_clear_error (&error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_AUTHORIZATION);
  g_assert_true (do_login_kind (f, LOGIN_AUTH_PLAIN, "alice", "secret", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_TRANSACTION);
  g_assert_true (td_pop3_session_has_capability (f->session, "PIPELINING"));
}

static void
test_auth_plain_continuation (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password = g_strnfill (200, 'p');

  open_session (f);
  g_assert_true (do_login_kind (f, LOGIN_AUTH_PLAIN, "alice", password, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_TRANSACTION);
}

static void
test_auth_plain_unsupported (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_false (do_login_kind (f, LOGIN_AUTH_PLAIN, "alice", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_UNSUPPORTED);
  g_assert_cmpstr (received (f), ==, "CAPA\r\n");
}

/* ------------------------------------------------------------------------------------------ */
/* TRANSACTION */

static void
test_transaction (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) list = NULL;
  g_autoptr(GPtrArray) uidl = NULL;
  g_autofree char *uid = NULL;
  guint32 count = 0;
  guint64 size = 0;
  const TdPop3ListEntry *entry;
  const TdPop3UidlEntry *uentry;
  Log log;

  open_transaction (f);
  log_init (&log, f);

  g_assert_true (do_stat (f, &count, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);
  g_assert_cmpuint (size, ==, 268);

  list = do_list (f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  entry = &g_array_index (list, TdPop3ListEntry, 0);
  g_assert_cmpuint (entry->number, ==, 1);
  g_assert_cmpuint (entry->size, ==, 221);
  entry = &g_array_index (list, TdPop3ListEntry, 1);
  g_assert_cmpuint (entry->number, ==, 2);
  g_assert_cmpuint (entry->size, ==, 47);

  g_assert_true (do_list_one (f, 2, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (size, ==, 47);

  uidl = do_uidl (f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidl->len, ==, 2);
  uentry = g_ptr_array_index (uidl, 0);
  g_assert_cmpuint (uentry->number, ==, 1);
  g_assert_cmpstr (uentry->uid, ==, "000000016b162bca");
  uentry = g_ptr_array_index (uidl, 1);
  g_assert_cmpuint (uentry->number, ==, 2);
  g_assert_cmpstr (uentry->uid, ==, "000000026b162bca");

  uid = do_uidl_one (f, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (uid, ==, "000000016b162bca");

  g_assert_true (do_top (f, 1, 0, &log, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log_body (&log, 1), ==, "Subject: Dots\r\n\r\n");
  g_hash_table_remove_all (log.bodies);

  g_assert_true (do_retr (f, 1, &log, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log_body (&log, 1), ==,
                   "Subject: Dots\r\n\r\n.A line starting with a dot.\r\n..Two dots.\r\n.\r\n"
                   "After a lone dot.\r\n");

  g_assert_true (do_dele (f, 2, &error));
  g_assert_no_error (error);
  g_assert_false (do_retr (f, 2, &log, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "Message is deleted."));
  g_clear_error (&error);
  g_assert_null (log_body (&log, 2));
  g_assert_true (do_rset (f, &error));
  g_assert_no_error (error);
  g_assert_true (do_noop (f, &error));
  g_assert_no_error (error);

  g_assert_true (do_quit (f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_null (f->closed.error);
  log_clear (&log);
}

static void
test_retr_streaming (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Log log;

  open_transaction (f);
  log_init (&log, f);
  g_assert_true (do_retr (f, 1, &log, &error));
  g_assert_no_error (error);
  /* the first piece reached the callback while the server was still sending */
  g_assert_false (log.server_was_done);
  g_assert_cmpuint (log.chunks, >=, 2);
  g_assert_cmpstr (log_body (&log, 1), ==,
                   "Subject: stream\r\n\r\nfirst part\r\n.dotted\r\nsecond part\r\n");

  g_assert_true (do_retr (f, 2, &log, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log_body (&log, 2), ==, ".\r\nbyte by byte\n");
  log_clear (&log);
}

static void
test_retr_refused (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Log log;

  open_transaction (f);
  log_init (&log, f);
  g_assert_false (do_retr (f, 9, &log, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "There's no message 9."));
  g_clear_error (&error);
  g_assert_false (do_retr (f, 1, &log, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
  g_clear_error (&error);
  g_assert_false (do_top (f, 1, 5, &log, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PERMANENT);
  g_assert_nonnull (strstr (error->message, "Message unreadable"));
  g_clear_error (&error);
  g_assert_cmpuint (log.chunks, ==, 0);
  /* the connection stays */
  g_assert_true (do_noop (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->closed.count, ==, 0);
  log_clear (&log);
}

static void
test_retr_cut (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) noop_error = NULL;
  g_autoptr(GAsyncResult) retr_result = NULL;
  g_autoptr(GAsyncResult) noop_result = NULL;
  TdTestSlot retr_slot = { f->loop, NULL };
  TdTestSlot noop_slot = { f->loop, NULL };
  Log log;

  open_transaction (f);
  log_init (&log, f);
  td_pop3_session_retr_async (f->session, 1, on_chunk, &log, NULL, td_test_slot_done, &retr_slot);
  td_pop3_session_noop_async (f->session, NULL, td_test_slot_done, &noop_slot);
  retr_result = td_test_slot_wait (&retr_slot);
  noop_result = td_test_slot_wait (&noop_slot);

  g_assert_false (td_pop3_session_retr_finish (f->session, retr_result, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "in the middle"));
  g_assert_false (td_pop3_session_noop_finish (f->session, noop_result, &noop_error));
  g_assert_error (noop_error, TD_ERROR, TD_ERROR_CONNECTION);
  /* what came of the message came, and the caller learns it is incomplete */
  g_assert_true (g_str_has_prefix (log_body (&log, 1), "Subject: cut\r\n"));
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_CONNECTION);
  log_clear (&log);
}

/* ------------------------------------------------------------------------------------------ */
/* Pipelining */

static gboolean
do_retr_many (Fixture       *f,
              const guint32 *numbers,
              guint          n,
              Log           *log,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_pop3_session_retr_many_async (f->session, numbers, n, on_chunk, on_message, log,
                                   cancellable, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_pop3_session_retr_many_finish (f->session, result, error);
}

static void
test_pipeline_retr (Fixture       *f,
                    gconstpointer  data)
{
  static const guint32 numbers[] = { 1, 2, 3, 4, 5 };
  g_autoptr(GError) error = NULL;
  Log log;

  open_transaction (f);
  g_assert_true (td_pop3_session_has_capability (f->session, "PIPELINING"));
  td_pop3_session_set_pipeline_window (f->session, 3);
  log_init (&log, f);

  /* the script wants RETR 1, 2 and 3 before it answers anything */
  g_assert_true (do_retr_many (f, numbers, G_N_ELEMENTS (numbers), &log, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (log.done->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      const GError *message_error = g_ptr_array_index (log.errors, i);

      g_assert_cmpuint (g_array_index (log.done, guint32, i), ==, i + 1);
      if (i == 3)
        {
          g_assert_error (message_error, TD_ERROR, TD_ERROR_PROTOCOL);
          g_assert_nonnull (strstr (message_error->message, "There's no message 4."));
        }
      else
        g_assert_no_error (message_error);
    }
  g_assert_cmpstr (log_body (&log, 1), ==, "one\r\n");
  g_assert_cmpstr (log_body (&log, 2), ==, "two\r\n");
  g_assert_cmpstr (log_body (&log, 3), ==, ".three\r\n");
  g_assert_null (log_body (&log, 4));
  g_assert_cmpstr (log_body (&log, 5), ==, "five\r\n");

  /* never more than three in flight: RETR 4 only after the answer to 1, RETR 5 after 2 */
  g_assert_null (strstr (g_ptr_array_index (log.received_at_done, 0), "RETR 4"));
  g_assert_null (strstr (g_ptr_array_index (log.received_at_done, 1), "RETR 5"));

  g_assert_true (do_quit (f, &error));
  g_assert_no_error (error);
  log_clear (&log);
}

static void
test_no_pipeline_retr (Fixture       *f,
                       gconstpointer  data)
{
  static const guint32 numbers[] = { 1, 2 };
  g_autoptr(GError) error = NULL;
  Log log;

  open_transaction (f);
  g_assert_false (td_pop3_session_has_capability (f->session, "PIPELINING"));
  log_init (&log, f);
  g_assert_true (do_retr_many (f, numbers, 2, &log, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (log.done->len, ==, 2);
  g_assert_cmpstr (log_body (&log, 1), ==, "one\r\n");
  g_assert_cmpstr (log_body (&log, 2), ==, "two\r\n");
  /* one at a time */
  g_assert_null (strstr (g_ptr_array_index (log.received_at_done, 0), "RETR 2"));
  log_clear (&log);
}

static void
test_pipeline_empty (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) refused = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };
  Log log;

  /* nothing to do: done at once, nothing sent */
  open_transaction (f);
  log_init (&log, f);
  g_assert_true (do_retr_many (f, NULL, 0, &log, NULL, &error));
  g_assert_no_error (error);
  td_pop3_session_dele_many_async (f->session, NULL, 0, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  refused = td_pop3_session_dele_many_finish (f->session, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (refused->len, ==, 0);
  g_assert_cmpuint (log.done->len, ==, 0);
  log_clear (&log);
}

static void
test_pipeline_dele (Fixture       *f,
                    gconstpointer  data)
{
  static const guint32 numbers[] = { 1, 2, 3, 4 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) refused = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  open_transaction (f);
  td_pop3_session_dele_many_async (f->session, numbers, G_N_ELEMENTS (numbers), NULL,
                                   td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  refused = td_pop3_session_dele_many_finish (f->session, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (refused->len, ==, 2);
  g_assert_cmpuint (g_array_index (refused, guint32, 0), ==, 2);
  g_assert_cmpuint (g_array_index (refused, guint32, 1), ==, 4);

  g_assert_true (do_quit (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_null (f->closed.error);
}

static void
test_pipeline_ops (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) stat_result = NULL;
  g_autoptr(GAsyncResult) list_result = NULL;
  g_autoptr(GAsyncResult) uidl_result = NULL;
  g_autoptr(GAsyncResult) noop_result = NULL;
  g_autoptr(GArray) list = NULL;
  g_autofree char *uid = NULL;
  TdTestSlot stat_slot = { f->loop, NULL };
  TdTestSlot list_slot = { f->loop, NULL };
  TdTestSlot uidl_slot = { f->loop, NULL };
  TdTestSlot noop_slot = { f->loop, NULL };
  guint32 count = 0;

  open_transaction (f);
  td_pop3_session_stat_async (f->session, NULL, td_test_slot_done, &stat_slot);
  td_pop3_session_list_async (f->session, NULL, td_test_slot_done, &list_slot);
  td_pop3_session_uidl_one_async (f->session, 2, NULL, td_test_slot_done, &uidl_slot);
  td_pop3_session_noop_async (f->session, NULL, td_test_slot_done, &noop_slot);
  stat_result = td_test_slot_wait (&stat_slot);
  list_result = td_test_slot_wait (&list_slot);
  uidl_result = td_test_slot_wait (&uidl_slot);
  noop_result = td_test_slot_wait (&noop_slot);

  g_assert_true (td_pop3_session_stat_finish (f->session, stat_result, &count, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);
  list = td_pop3_session_list_finish (f->session, list_result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpuint (g_array_index (list, TdPop3ListEntry, 1).size, ==, 200);
  uid = td_pop3_session_uidl_one_finish (f->session, uidl_result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (uid, ==, "QhdPYR:00WBw1Ph7x7");
  g_assert_true (td_pop3_session_noop_finish (f->session, noop_result, &error));
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------------------------------ */
/* QUIT */

static void
test_quit_refused (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_transaction (f);
  g_assert_true (do_dele (f, 1, &error));
  g_assert_false (do_quit (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "some deleted messages not removed"));
  /* the connection ends all the same */
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
}

static void
test_quit_eof (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_transaction (f);
  g_assert_true (do_dele (f, 1, &error));
  g_assert_false (do_quit (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "may still be on the server"));
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_CONNECTION);
}

static void
test_quit_authorization (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_true (do_quit (f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
  g_assert_null (f->closed.error);
}

static void
test_quit_not_connected (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_true (do_quit (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->closed.count, ==, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* The state table */

static void
test_wrong_state (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) quit1 = NULL;
  g_autoptr(GAsyncResult) quit2 = NULL;
  TdTestSlot slot1 = { f->loop, NULL };
  TdTestSlot slot2 = { f->loop, NULL };
  Log log;

  /* before connecting */
  new_stream_session (f);
  g_assert_false (do_stat (f, NULL, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  g_assert_false (do_login (f, "alice", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);

  /* TRANSACTION commands before logging in */
  g_assert_true (do_connect (f, &error));
  g_assert_no_error (error);
  log_init (&log, f);
  g_assert_false (do_stat (f, NULL, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_assert_nonnull (strstr (error->message, "not logged in"));
  g_clear_error (&error);
  g_assert_false (do_retr (f, 1, &log, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  g_assert_false (do_noop (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  g_assert_false (do_dele (f, 1, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  g_assert_null (do_list (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);

  /* a second QUIT while the first waits for its answer */
  td_pop3_session_quit_async (f->session, NULL, td_test_slot_done, &slot1);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_UPDATE);
  g_assert_false (do_login (f, "alice", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  td_pop3_session_quit_async (f->session, NULL, td_test_slot_done, &slot2);
  quit2 = td_test_slot_wait (&slot2);
  g_assert_false (td_pop3_session_quit_finish (f->session, quit2, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  quit1 = td_test_slot_wait (&slot1);
  g_assert_true (td_pop3_session_quit_finish (f->session, quit1, &error));
  g_assert_no_error (error);

  /* once closed: nothing but QUIT, which just completes */
  g_assert_false (do_noop (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  g_assert_true (do_quit (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (log.chunks, ==, 0);
  log_clear (&log);
}

/* ------------------------------------------------------------------------------------------ */
/* Hostile servers */

static void
test_hostile_garbage (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_transaction (f);
  g_assert_false (do_noop (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_PARSE);
}

static void
test_hostile_unsolicited (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  /* the line may come in the same read as the answer to PASS: no state is asserted between */
  open_session (f);
  g_assert_true (do_login (f, "alice", "secret", &error));
  g_assert_no_error (error);
  wait_closed (f);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
}

static void
test_hostile_long_line (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GString) script = g_string_new ("S: +OK ready\nC: CAPA\nS: -ERR\n"
                                            "C: USER alice\nS: +OK\nC: PASS secret\nS: +OK\n"
                                            "C: RETR 1\nS: +OK\nS+ ");
  g_autoptr(GError) error = NULL;
  Log log;

  /* a body line of 2 MiB without a line end: refused at the bound, not held */
  for (guint i = 0; i < 2 * 1024; i++)
    g_string_append (script, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  g_string_append (script, "\nC! close\n");
  f->server = td_test_script_server_new (script->str);
  open_transaction (f);
  log_init (&log, f);
  g_assert_false (do_retr (f, 1, &log, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
  g_assert_cmpuint (f->closed.count, ==, 1);
  log_clear (&log);
}

static void
test_hostile_listings (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) list = NULL;
  g_autoptr(GPtrArray) uidl = NULL;
  g_autofree char *uid = NULL;
  guint64 size = 0;

  open_transaction (f);

  /* a size beyond 64 bits */
  list = do_list (f, &error);
  g_assert_null (list);
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  /* a unique-id with spaces */
  uidl = do_uidl (f, &error);
  g_assert_null (uidl);
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  /* more messages than 32 bits count */
  g_assert_false (do_stat (f, NULL, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  /* an answer about another message */
  g_assert_false (do_list_one (f, 2, &size, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  /* no unique-id */
  uid = do_uidl_one (f, 1, &error);
  g_assert_null (uid);
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  /* message number 0 */
  list = do_list (f, &error);
  g_assert_null (list);
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);

  /* none of it broke the connection */
  g_assert_true (do_noop (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->closed.count, ==, 0);
}

static void
test_hostile_continuation (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_false (do_login_kind (f, LOGIN_AUTH_PLAIN, "alice", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
}

/* ------------------------------------------------------------------------------------------ */
/* STLS, TLS, timeouts (sessions over a TdConnection) */

static void
test_stls_missing (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) login_error = NULL;

  new_connection_session (f, "127.0.0.1", TD_SECURITY_STARTTLS, 10);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED);
  g_assert_nonnull (strstr (error->message, "STLS"));
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);

  /* and a login attempt now sends nothing either */
  g_assert_false (do_login (f, "alice", "secret", &login_error));
  g_assert_error (login_error, TD_ERROR, TD_ERROR_WRONG_STATE);
  td_test_script_server_wait_finished (f->server, 5000);
  g_assert_cmpstr (received (f), ==, "CAPA\r\n");
}

static void
test_stls_refused (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_connection_session (f, "127.0.0.1", TD_SECURITY_STARTTLS, 10);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED);
  g_assert_nonnull (strstr (error->message, "Command not permitted now"));
  td_test_script_server_wait_finished (f->server, 5000);
  g_assert_cmpstr (received (f), ==, "CAPA\r\nSTLS\r\n");
}

static void
test_stls_no_capa (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_connection_session (f, "127.0.0.1", TD_SECURITY_STARTTLS, 10);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED);
}

static void
test_stls_injection (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_connection_session (f, "127.0.0.1", TD_SECURITY_STARTTLS, 10);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED);
  g_assert_nonnull (strstr (error->message, "unencrypted"));
  td_test_script_server_wait_finished (f->server, 5000);
  g_assert_cmpstr (received (f), ==, "CAPA\r\nSTLS\r\n");
}

static void
test_timeout (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_connection_session (f, "127.0.0.1", TD_SECURITY_STARTTLS, 1);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TIMEOUT);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_TIMEOUT);
}

/* ------------------------------------------------------------------------------------------ */
/* Cancelling and closing */

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) sent = g_cancellable_new ();
  g_autoptr(GCancellable) queued = g_cancellable_new ();
  g_autoptr(GAsyncResult) sent_result = NULL;
  g_autoptr(GAsyncResult) queued_result = NULL;
  g_autoptr(GAsyncResult) pre_result = NULL;
  TdTestSlot sent_slot = { f->loop, NULL };
  TdTestSlot queued_slot = { f->loop, NULL };
  TdTestSlot pre_slot = { f->loop, NULL };
  Log log;

  open_transaction (f);
  log_init (&log, f);

  /* cancelled before it starts: nothing happens at all */
  g_cancellable_cancel (queued);
  td_pop3_session_stat_async (f->session, queued, td_test_slot_done, &pre_slot);
  pre_result = td_test_slot_wait (&pre_slot);
  g_assert_false (td_pop3_session_stat_finish (f->session, pre_result, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_clear_object (&queued);
  queued = g_cancellable_new ();

  /* RETR 1 goes out at once (nothing else in flight), RETR 2 waits behind it */
  td_pop3_session_retr_async (f->session, 1, on_chunk, &log, sent, td_test_slot_done, &sent_slot);
  td_pop3_session_retr_async (f->session, 2, on_chunk, &log, queued, td_test_slot_done,
                              &queued_slot);
  g_cancellable_cancel (sent);
  g_cancellable_cancel (queued);
  sent_result = td_test_slot_wait (&sent_slot);
  queued_result = td_test_slot_wait (&queued_slot);
  g_assert_false (td_pop3_session_retr_finish (f->session, sent_result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (td_pop3_session_retr_finish (f->session, queued_result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* the late answer is dropped and the next command works; RETR 2 was never sent */
  g_assert_true (do_noop (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (log.chunks, ==, 0);
  g_assert_null (strstr (received (f), "RETR 2"));
  g_assert_cmpuint (f->closed.count, ==, 0);
  log_clear (&log);
}

static void
test_cancel_batch (Fixture       *f,
                   gconstpointer  data)
{
  static const guint32 numbers[] = { 1, 2, 3, 4 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Log log;

  open_transaction (f);
  td_pop3_session_set_pipeline_window (f->session, 2);
  log_init (&log, f);
  log.cancel_at_first_message = cancellable;
  g_assert_false (do_retr_many (f, numbers, G_N_ELEMENTS (numbers), &log, cancellable,
                                &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* the answers in flight are drained; RETR 4 was never sent */
  g_assert_true (do_noop (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (log.done->len, ==, 1);
  g_assert_cmpstr (log_body (&log, 1), ==, "one\r\n");
  g_assert_null (log_body (&log, 2));
  g_assert_null (strstr (received (f), "RETR 4"));
  g_assert_cmpuint (f->closed.count, ==, 0);
  log_clear (&log);
}

static void
test_close (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };
  Log log;

  open_transaction (f);
  log_init (&log, f);
  td_pop3_session_retr_async (f->session, 1, on_chunk, &log, NULL, td_test_slot_done, &slot);
  td_pop3_session_close (f->session);
  result = td_test_slot_wait (&slot);
  g_assert_false (td_pop3_session_retr_finish (f->session, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_null (f->closed.error);
  log_clear (&log);
}

static void
test_close_in_callback (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result1 = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  TdTestSlot slot1 = { f->loop, NULL };
  TdTestSlot slot2 = { f->loop, NULL };
  Log log;

  open_transaction (f);
  log_init (&log, f);
  log.close_at_chunk = TRUE;
  td_pop3_session_retr_async (f->session, 1, on_chunk, &log, NULL, td_test_slot_done, &slot1);
  td_pop3_session_retr_async (f->session, 2, on_chunk, &log, NULL, td_test_slot_done, &slot2);
  result1 = td_test_slot_wait (&slot1);
  result2 = td_test_slot_wait (&slot2);

  /* nothing after the close was dispatched */
  g_assert_cmpuint (log.chunks, ==, 1);
  g_assert_false (td_pop3_session_retr_finish (f->session, result1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (td_pop3_session_retr_finish (f->session, result2, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  log_clear (&log);
}

static void
test_connect_cancel (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TdTestSlot slot = { f->loop, NULL };

  new_stream_session (f);
  td_pop3_session_connect_async (f->session, cancellable, td_test_slot_done, &slot);
  g_cancellable_cancel (cancellable);
  result = td_test_slot_wait (&slot);
  g_assert_false (td_pop3_session_connect_finish (f->session, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (td_pop3_session_get_state (f->session), ==, TD_POP3_STATE_NOT_CONNECTED);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, script, func) \
  g_test_add (path, Fixture, script, fixture_setup, func, fixture_teardown)

  ADD ("/pop3/session/greeting/capa", "greeting-capa.script", test_greeting_capa);
  ADD ("/pop3/session/greeting/no-capa", "greeting-no-capa.script", test_greeting_no_capa);
  ADD ("/pop3/session/greeting/sys-temp", "greeting-sys-temp.script", test_greeting_sys_temp);
  ADD ("/pop3/session/greeting/refused", "greeting-refused.script", test_greeting_refused);
  ADD ("/pop3/session/greeting/garbage", "greeting-garbage.script", test_greeting_garbage);
  ADD ("/pop3/session/greeting/capa-limit", NULL, test_capa_limit);
  ADD ("/pop3/session/login/user-pass", "login.script", test_login);
  ADD ("/pop3/session/login/refused", "login-refused.script", test_login_refused);
  ADD ("/pop3/session/login/invalid", "apop-no-timestamp.script", test_login_invalid);
  g_test_add_func ("/pop3/session/apop/digest", test_apop_digest);
  ADD ("/pop3/session/apop/rfc1939", "apop.script", test_apop);
  ADD ("/pop3/session/apop/refused", "apop-refused.script", test_apop_refused);
  ADD ("/pop3/session/apop/no-timestamp", "apop-no-timestamp.script", test_apop_no_timestamp);
  ADD ("/pop3/session/auth-plain/initial-response", "auth-plain.script", test_auth_plain);
  ADD ("/pop3/session/auth-plain/continuation", "auth-plain-continuation.script",
       test_auth_plain_continuation);
  ADD ("/pop3/session/auth-plain/unsupported", "auth-plain-unsupported.script",
       test_auth_plain_unsupported);
  ADD ("/pop3/session/transaction", "transaction.script", test_transaction);
  ADD ("/pop3/session/retr/streaming", "retr-streaming.script", test_retr_streaming);
  ADD ("/pop3/session/retr/refused", "retr-refused.script", test_retr_refused);
  ADD ("/pop3/session/retr/cut", "retr-cut.script", test_retr_cut);
  ADD ("/pop3/session/pipeline/retr-many", "pipeline-retr.script", test_pipeline_retr);
  ADD ("/pop3/session/pipeline/without", "no-pipeline-retr.script", test_no_pipeline_retr);
  ADD ("/pop3/session/pipeline/empty", "transaction-empty.script", test_pipeline_empty);
  ADD ("/pop3/session/pipeline/dele-many", "pipeline-dele.script", test_pipeline_dele);
  ADD ("/pop3/session/pipeline/operations", "pipeline-ops.script", test_pipeline_ops);
  ADD ("/pop3/session/quit/refused", "quit-refused.script", test_quit_refused);
  ADD ("/pop3/session/quit/eof", "quit-eof.script", test_quit_eof);
  ADD ("/pop3/session/quit/authorization", "quit-authorization.script",
       test_quit_authorization);
  ADD ("/pop3/session/quit/not-connected", "connect-cancel.script", test_quit_not_connected);
  ADD ("/pop3/session/wrong-state", "wrong-state.script", test_wrong_state);
  ADD ("/pop3/session/hostile/garbage", "hostile-garbage.script", test_hostile_garbage);
  ADD ("/pop3/session/hostile/unsolicited", "hostile-unsolicited.script",
       test_hostile_unsolicited);
  ADD ("/pop3/session/hostile/long-line", NULL, test_hostile_long_line);
  ADD ("/pop3/session/hostile/listings", "hostile-listings.script", test_hostile_listings);
  ADD ("/pop3/session/hostile/continuation", "hostile-continuation.script",
       test_hostile_continuation);
  ADD ("/pop3/session/stls/missing", "stls-missing.script", test_stls_missing);
  ADD ("/pop3/session/stls/refused", "stls-refused.script", test_stls_refused);
  ADD ("/pop3/session/stls/no-capa", "stls-no-capa.script", test_stls_no_capa);
  ADD ("/pop3/session/stls/injection", "stls-injection.script", test_stls_injection);
  ADD ("/pop3/session/timeout", "timeout.script", test_timeout);
  ADD ("/pop3/session/cancel/single", "cancel.script", test_cancel);
  ADD ("/pop3/session/cancel/batch", "cancel-batch.script", test_cancel_batch);
  ADD ("/pop3/session/close", "close.script", test_close);
  ADD ("/pop3/session/close-in-callback", "close-in-callback.script", test_close_in_callback);
  ADD ("/pop3/session/connect-cancel", "connect-cancel.script", test_connect_cancel);

#undef ADD

  return g_test_run ();
}
