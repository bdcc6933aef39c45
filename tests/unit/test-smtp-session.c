/* test-smtp-session.c: TdSmtpSession against scripted servers
 *
 * Each test plays one script in an in-process server on loopback; the session talks to it over
 * a plain stream (or over a TdConnection for the STARTTLS cases). The scripts compare every
 * line the client sends. A pipelined batch is checked by the script itself: its replies come
 * only after every line of the batch, so a client that waited for each reply would hang.
 * Sessions over real TLS are in tests/integration/test-smtp-send.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-smtp-session.h"
#include "td-test-script-server.h"
#include "td-test-session.h"
#include "td-test-util.h"

#define WATCHDOG_SECONDS 20

#define GREETING_PIPELINING \
  "S: 220 mail.example.org ESMTP\n" \
  "C: EHLO [127.0.0.1]\n" \
  "S: 250-mail.example.org\n" \
  "S: 250-PIPELINING\n" \
  "S: 250-SIZE 1000\n" \
  "S: 250-8BITMIME\n" \
  "S: 250 AUTH PLAIN LOGIN\n"

#define AUTH_PLAIN \
  "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n" \
  "S: 235 2.7.0 Authentication successful\n"

#define QUIT \
  "C: QUIT\n" \
  "S: 221 2.0.0 Bye\n" \
  "C! close\n"

static const char message_text[] =
  "From: alice@example.org\r\n"
  "To: bob@example.org\r\n"
  "Subject: dots\r\n"
  "\r\n"
  ".starts with a dot\n"
  "..two\r\n"
  ".\r\n"
  "last line without an end";

typedef struct
{
  GMainLoop          *loop;
  TdTestScriptServer *server;
  TdSmtpSession      *session;
  guint               watchdog_id;
  TdTestClosed        closed;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->loop = g_main_loop_new (NULL, FALSE);
  f->server = td_test_script_server_new (data);
  f->watchdog_id = td_test_watchdog_add (WATCHDOG_SECONDS);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->session != NULL)
    {
      td_smtp_session_close (f->session);
      g_clear_object (&f->session);
    }
  td_test_script_server_finish (f->server);
  td_test_closed_clear (&f->closed);
  g_source_remove (f->watchdog_id);
  g_main_loop_unref (f->loop);
}

static void
new_stream_session (Fixture *f)
{
  g_autoptr(GIOStream) stream = td_test_script_server_connect (f->server);

  f->session = td_smtp_session_new_for_stream (stream);
  g_signal_connect (f->session, "closed", G_CALLBACK (td_test_closed_cb), &f->closed);
}

static gboolean
do_connect (Fixture  *f,
            GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_smtp_session_connect_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_smtp_session_connect_finish (f->session, result, error);
}

static gboolean
do_auth (Fixture     *f,
         const char  *password,
         GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_smtp_session_authenticate_async (f->session, "alice", password, NULL, td_test_slot_done,
                                      &slot);
  result = td_test_slot_wait (&slot);
  return td_smtp_session_authenticate_finish (f->session, result, error);
}

static gboolean
do_send (Fixture             *f,
         const char * const  *recipients,
         const char          *text,
         GPtrArray          **refused,
         GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) message = g_bytes_new (text, strlen (text));
  TdTestSlot slot = { f->loop, NULL };

  td_smtp_session_send_async (f->session, "alice@example.org", recipients, message, NULL,
                              td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_smtp_session_send_finish (f->session, result, refused, error);
}

static void
do_quit (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_smtp_session_quit_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  g_assert_true (td_smtp_session_quit_finish (f->session, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_smtp_session_get_state (f->session), ==, TD_SMTP_STATE_CLOSED);
}

static void
open_authenticated (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_true (do_connect (f, &error));
  g_assert_no_error (error);
  g_assert_true (do_auth (f, "secret", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_smtp_session_get_state (f->session), ==, TD_SMTP_STATE_AUTHENTICATED);
}

/* --- Scripts and tests --- */

static const char script_pipelined[] =
  GREETING_PIPELINING
  AUTH_PLAIN
  "C: MAIL FROM:<alice@example.org> SIZE=116\n"
  "C: RCPT TO:<bob@example.org>\n"
  "C: RCPT TO:<carol@example.org>\n"
  "C: DATA\n"
  "S: 250 2.1.0 Ok\n"
  "S: 250 2.1.5 Ok\n"
  "S: 250 2.1.5 Ok\n"
  "S: 354 End data with <CR><LF>.<CR><LF>\n"
  "C: From: alice@example.org\n"
  "C: To: bob@example.org\n"
  "C: Subject: dots\n"
  "C: \n"
  "C: ..starts with a dot\n"
  "C: ...two\n"
  "C: ..\n"
  "C: last line without an end\n"
  "C: .\n"
  "S: 250 2.0.0 Ok: queued as 12345\n"
  QUIT;

static void
test_pipelined (Fixture       *f,
                gconstpointer  data)
{
  static const char * const to[] = { "bob@example.org", "carol@example.org", NULL };
  g_autoptr(GPtrArray) refused = NULL;
  g_autoptr(GError) error = NULL;

  open_authenticated (f);
  g_assert_true (td_smtp_session_has_capability (f->session, "pipelining"));
  g_assert_cmpstr (td_smtp_session_get_capability (f->session, "AUTH"), ==, "PLAIN LOGIN");
  g_assert_cmpuint (td_smtp_session_get_size_limit (f->session), ==, 1000);
  g_assert_true (do_send (f, to, message_text, &refused, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (refused->len, ==, 0);
  do_quit (f);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_false (f->closed.with_error);
}

/* Without PIPELINING each command waits for its reply; AUTH LOGIN; one recipient refused. */
static const char script_one_by_one[] =
  "S: 220 old.example.org\n"
  "C: EHLO [127.0.0.1]\n"
  "S: 250-old.example.org\n"
  "S: 250 AUTH LOGIN\n"
  "C: AUTH LOGIN\n"
  "S: 334 VXNlcm5hbWU6\n"
  "C: YWxpY2U=\n"
  "S: 334 UGFzc3dvcmQ6\n"
  "C: c2VjcmV0\n"
  "S: 235 ok\n"
  "C: MAIL FROM:<alice@example.org>\n"
  "S: 250 ok\n"
  "C: RCPT TO:<nobody@example.org>\n"
  "S: 550-5.1.1 No such user\n"
  "S: 550 5.1.1 here\n"
  "C: RCPT TO:<bob@example.org>\n"
  "S: 250 ok\n"
  "C: DATA\n"
  "S: 354 go\n"
  "C: Subject: hi\n"
  "C: \n"
  "C: body\n"
  "C: .\n"
  "S: 250 queued\n"
  QUIT;

static void
test_one_by_one (Fixture       *f,
                 gconstpointer  data)
{
  static const char * const to[] = { "nobody@example.org", "bob@example.org", NULL };
  g_autoptr(GPtrArray) refused = NULL;
  g_autoptr(GError) error = NULL;
  TdSmtpRefusal *r;

  open_authenticated (f);
  g_assert_true (do_send (f, to, "Subject: hi\n\nbody\n", &refused, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (refused->len, ==, 1);
  r = g_ptr_array_index (refused, 0);
  g_assert_cmpstr (r->address, ==, "nobody@example.org");
  g_assert_cmpuint (r->code, ==, 550);
  g_assert_cmpstr (r->text, ==, "No such user here");
  do_quit (f);
}

/* Every recipient refused (pipelined): DATA is refused too, RSET ends the transaction, the
 * error names each recipient, and the session sends the next message. */
static const char script_all_refused[] =
  GREETING_PIPELINING
  AUTH_PLAIN
  "C: MAIL FROM:<alice@example.org> SIZE=10\n"
  "C: RCPT TO:<x@example.org>\n"
  "C: RCPT TO:<y@example.org>\n"
  "C: DATA\n"
  "S: 250 ok\n"
  "S: 550 5.1.1 <x@example.org>: Recipient address rejected\n"
  "S: 450 4.2.0 <y@example.org>: greylisted\n"
  "S: 554 5.5.1 Error: no valid recipients\n"
  "C: RSET\n"
  "S: 250 ok\n"
  "C: MAIL FROM:<alice@example.org> SIZE=10\n"
  "C: RCPT TO:<x@example.org>\n"
  "C: DATA\n"
  "S: 451 4.3.0 try later\n"
  "S: 503 no sender\n"
  "S: 503 no recipients\n"
  "C: RSET\n"
  "S: 250 ok\n"
  QUIT;

static void
test_all_refused (Fixture       *f,
                  gconstpointer  data)
{
  static const char * const to[] = { "x@example.org", "y@example.org", NULL };
  static const char * const one[] = { "x@example.org", NULL };
  g_autoptr(GError) error = NULL;

  open_authenticated (f);
  g_assert_false (do_send (f, to, "Subject: a", NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PERMANENT);
  g_assert_nonnull (strstr (error->message, "x@example.org (550 <x@example.org>: Recipient "
                                            "address rejected)"));
  g_assert_nonnull (strstr (error->message, "y@example.org (450"));
  g_clear_error (&error);
  g_assert_cmpint (td_smtp_session_get_state (f->session), ==, TD_SMTP_STATE_AUTHENTICATED);

  /* MAIL refused for now: try later, the recipients are not blamed */
  g_assert_false (do_send (f, one, "Subject: a", NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
  g_assert_nonnull (strstr (error->message, "451"));
  do_quit (f);
}

/* Over the server's SIZE: refused before MAIL, with the limit; the session goes on. */
static const char script_size[] =
  GREETING_PIPELINING
  AUTH_PLAIN
  QUIT;

static void
test_size (Fixture       *f,
           gconstpointer  data)
{
  static const char * const to[] = { "bob@example.org", NULL };
  g_autofree char *big = g_strnfill (1001, 'x');
  g_autoptr(GError) error = NULL;

  open_authenticated (f);
  g_assert_false (do_send (f, to, big, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "1001 bytes"));   /* the message's size */
  g_assert_nonnull (strstr (error->message, "1000 bytes"));   /* the limit */
  do_quit (f);
}

/* 535: the credentials are refused, with the server's words; the session stays. */
static const char script_wrong_password[] =
  GREETING_PIPELINING
  "C: AUTH PLAIN AGFsaWNlAHdyb25n\n"
  "S: 535 5.7.8 Error: authentication failed: bad credentials\n"
  QUIT;

static void
test_wrong_password (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_true (do_connect (f, &error));
  g_assert_false (do_auth (f, "wrong", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, "bad credentials"));
  g_assert_nonnull (strstr (error->message, "alice"));
  g_assert_null (strstr (error->message, "wrong"));
  g_assert_cmpint (td_smtp_session_get_state (f->session), ==, TD_SMTP_STATE_CONNECTED);
  do_quit (f);
}

/* 8-bit bytes: BODY=8BITMIME when offered. */
static const char script_eight_bit[] =
  GREETING_PIPELINING
  AUTH_PLAIN
  "C: MAIL FROM:<alice@example.org> SIZE=16 BODY=8BITMIME\n"
  "C: RCPT TO:<bob@example.org>\n"
  "C: DATA\n"
  "S: 250 ok\n"
  "S: 250 ok\n"
  "S: 354 go\n"
  "C: Subject: \303\244\n"
  "C: \n"
  "C: \303\266\n"
  "C: .\n"
  "S: 250 ok\n"
  QUIT;

static void
test_eight_bit (Fixture       *f,
                gconstpointer  data)
{
  static const char * const to[] = { "bob@example.org", NULL };
  g_autoptr(GError) error = NULL;

  open_authenticated (f);
  g_assert_true (do_send (f, to, "Subject: \303\244\n\n\303\266\n", NULL, &error));
  g_assert_no_error (error);
  do_quit (f);
}

/* ...and refused, before anything is sent, by a server without 8BITMIME. */
static const char script_no_eight_bit[] =
  "S: 220 x\n"
  "C: EHLO [127.0.0.1]\n"
  "S: 250-x\n"
  "S: 250 AUTH PLAIN\n"
  QUIT;

static void
test_no_eight_bit (Fixture       *f,
                   gconstpointer  data)
{
  static const char * const to[] = { "bob@example.org", NULL };
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_true (do_connect (f, &error));
  g_assert_false (do_send (f, to, "Subject: \303\244\n\n", NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "8BITMIME"));
  do_quit (f);
}

/* The connection cut while the message is being accepted: the send fails, the session ends. */
static const char script_cut[] =
  GREETING_PIPELINING
  AUTH_PLAIN
  "C: MAIL FROM:<alice@example.org> SIZE=10\n"
  "C: RCPT TO:<bob@example.org>\n"
  "C: DATA\n"
  "S: 250 ok\n"
  "S: 250 ok\n"
  "S: 354 go\n"
  "C: Subject: a\n"
  "C: .\n"
  "S+ 250-almost\\r\\n25\n"
  "S! close\n";

static void
test_cut (Fixture       *f,
          gconstpointer  data)
{
  static const char * const to[] = { "bob@example.org", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) quit_error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  open_authenticated (f);
  g_assert_false (do_send (f, to, "Subject: a", NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_cmpint (td_smtp_session_get_state (f->session), ==, TD_SMTP_STATE_CLOSED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_true (f->closed.with_error);

  /* nothing more can be asked */
  td_smtp_session_quit_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  g_assert_false (td_smtp_session_quit_finish (f->session, result, &quit_error));
  g_assert_error (quit_error, TD_ERROR, TD_ERROR_WRONG_STATE);
}

/* Cancelled while the server takes its time with the data: the session ends. */
static const char script_cancel[] =
  GREETING_PIPELINING
  AUTH_PLAIN
  "C: MAIL FROM:<alice@example.org> SIZE=10\n"
  "C: RCPT TO:<bob@example.org>\n"
  "C: DATA\n"
  "S: 250 ok\n"
  "S: 250 ok\n"
  "S: 354 go\n"
  "C: Subject: a\n"
  "C: .\n"
  "C! close\n";

static gboolean
cancel_cb (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  static const char * const to[] = { "bob@example.org", NULL };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GBytes) message = g_bytes_new_static ("Subject: a", 10);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TdTestSlot slot = { f->loop, NULL };

  open_authenticated (f);
  g_timeout_add (200, cancel_cb, cancellable);
  td_smtp_session_send_async (f->session, "alice@example.org", to, message, cancellable,
                              td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  g_assert_false (td_smtp_session_send_finish (f->session, result, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (td_smtp_session_get_state (f->session), ==, TD_SMTP_STATE_CLOSED);
}

/* Replies that come one byte at a time, and several in one write: the same session. */
static const char script_split[] =
  "S1 220 x ESMTP\\r\\n\n"
  "C: EHLO [127.0.0.1]\n"
  "S1 250-x\\r\\n250-PIPELINING\\r\\n250-SIZE 100\\r\\n250 AUTH PLAIN\\r\\n\n"
  "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
  "S1 235 ok\\r\\n\n"
  "C: MAIL FROM:<alice@example.org> SIZE=10\n"
  "C: RCPT TO:<bob@example.org>\n"
  "C: DATA\n"
  "S+ 250 ok\\r\\n250 ok\\r\\n354 go\\r\\n\n"
  "C: Subject: a\n"
  "C: .\n"
  "S1 250 done\\r\\n\n"
  QUIT;

static void
test_split (Fixture       *f,
            gconstpointer  data)
{
  static const char * const to[] = { "bob@example.org", NULL };
  g_autoptr(GError) error = NULL;

  open_authenticated (f);
  g_assert_cmpuint (td_smtp_session_get_size_limit (f->session), ==, 100);
  g_assert_true (do_send (f, to, "Subject: a", NULL, &error));
  g_assert_no_error (error);
  do_quit (f);
}

/* Hostile replies: garbage, and a 421 in the middle. */
static const char script_garbage[] =
  "S: 220 x\n"
  "C: EHLO [127.0.0.1]\n"
  "S: hello there\n"
  "C! close\n";

static void
test_garbage (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_assert_cmpint (td_smtp_session_get_state (f->session), ==, TD_SMTP_STATE_CLOSED);
}

static const char script_421[] =
  GREETING_PIPELINING
  "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
  "S: 421 4.3.2 Shutting down\n"
  "C! close\n";

static void
test_421 (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_true (do_connect (f, &error));
  g_assert_false (do_auth (f, "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
  g_assert_nonnull (strstr (error->message, "Shutting down"));
}

static const char script_greeting_refused[] =
  "S: 554 5.7.1 No service for you\n"
  "C! close\n";

static void
test_greeting_refused (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PERMANENT);
  g_assert_nonnull (strstr (error->message, "No service for you"));
}

/* A STARTTLS account on a server that does not offer it: no AUTH, nothing after EHLO. */
static const char script_starttls_missing[] =
  "S: 220 x ESMTP\n"
  "C: EHLO [127.0.0.1]\n"
  "S: 250-x\n"
  "S: 250-PIPELINING\n"
  "S: 250 AUTH PLAIN LOGIN\n"
  "C! close\n";

static void
new_connection_session (Fixture *f)
{
  g_autoptr(TdConnection) connection =
    td_connection_new ("127.0.0.1", td_test_script_server_get_port (f->server),
                       TD_SECURITY_STARTTLS);

  td_connection_set_timeout (connection, 10);
  f->session = td_smtp_session_new (connection);
  g_signal_connect (f->session, "closed", G_CALLBACK (td_test_closed_cb), &f->closed);
}

static void
test_starttls_missing (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) auth_error = NULL;

  new_connection_session (f);
  g_assert_false (do_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED);
  g_assert_nonnull (strstr (error->message, "STARTTLS"));
  g_assert_false (do_auth (f, "secret", &auth_error));
  g_assert_error (auth_error, TD_ERROR, TD_ERROR_WRONG_STATE);
  td_test_script_server_wait_finished (f->server, 5000);
  g_assert_cmpstr (td_test_script_server_get_received (f->server, NULL), ==,
                   "EHLO [127.0.0.1]\r\n");
}

/* STARTTLS refused, and a reply injected in plaintext after the 220 (CVE-2011-0411). */
static const char script_starttls_refused[] =
  "S: 220 x ESMTP\n"
  "C: EHLO [127.0.0.1]\n"
  "S: 250-x\n"
  "S: 250 STARTTLS\n"
  "C: STARTTLS\n"
  "S: 454 4.7.0 TLS not available\n"
  "C! close\n";

static const char script_starttls_injection[] =
  "S: 220 x ESMTP\n"
  "C: EHLO [127.0.0.1]\n"
  "S: 250-x\n"
  "S: 250 STARTTLS\n"
  "C: STARTTLS\n"
  "S+ 220 go ahead\\r\\n250 injected\\r\\n\n"
  "C! close\n";

static void
test_starttls_refused (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_connection_session (f);
  g_assert_false (do_connect (f, &error));
  if (data == script_starttls_refused)
    {
      g_assert_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED);
      g_assert_nonnull (strstr (error->message, "TLS not available"));
    }
  else
    g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
}

/* The state table: nothing before connecting; one operation at a time; bad addresses. */
static const char script_states[] =
  GREETING_PIPELINING
  QUIT;

static void
test_states (Fixture       *f,
             gconstpointer  data)
{
  static const char * const bad[] = { "bob@example.org>\r\nRSET", NULL };
  static const char * const none[] = { NULL };
  static const char * const to[] = { "bob@example.org", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  TdTestSlot slot1 = { f->loop, NULL };
  TdTestSlot slot2 = { f->loop, NULL };

  new_stream_session (f);
  g_assert_false (do_send (f, to, "x", NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);

  td_smtp_session_connect_async (f->session, NULL, td_test_slot_done, &slot1);
  td_smtp_session_connect_async (f->session, NULL, td_test_slot_done, &slot2);
  r2 = td_test_slot_wait (&slot2);
  g_assert_false (td_smtp_session_connect_finish (f->session, r2, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  r1 = td_test_slot_wait (&slot1);
  g_assert_true (td_smtp_session_connect_finish (f->session, r1, &error));
  g_assert_no_error (error);

  g_assert_false (do_send (f, bad, "x", NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (do_send (f, none, "x", NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  do_quit (f);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, script, func) \
  g_test_add (path, Fixture, script, fixture_setup, func, fixture_teardown)

  ADD ("/smtp/session/pipelined", script_pipelined, test_pipelined);
  ADD ("/smtp/session/one-by-one", script_one_by_one, test_one_by_one);
  ADD ("/smtp/session/all-refused", script_all_refused, test_all_refused);
  ADD ("/smtp/session/size", script_size, test_size);
  ADD ("/smtp/session/wrong-password", script_wrong_password, test_wrong_password);
  ADD ("/smtp/session/8bitmime", script_eight_bit, test_eight_bit);
  ADD ("/smtp/session/no-8bitmime", script_no_eight_bit, test_no_eight_bit);
  ADD ("/smtp/session/cut", script_cut, test_cut);
  ADD ("/smtp/session/cancel", script_cancel, test_cancel);
  ADD ("/smtp/session/split", script_split, test_split);
  ADD ("/smtp/session/garbage", script_garbage, test_garbage);
  ADD ("/smtp/session/421", script_421, test_421);
  ADD ("/smtp/session/greeting-refused", script_greeting_refused, test_greeting_refused);
  ADD ("/smtp/session/starttls/missing", script_starttls_missing, test_starttls_missing);
  ADD ("/smtp/session/starttls/refused", script_starttls_refused, test_starttls_refused);
  ADD ("/smtp/session/starttls/injection", script_starttls_injection, test_starttls_refused);
  ADD ("/smtp/session/states", script_states, test_states);

#undef ADD

  return g_test_run ();
}
