/* test-imap-client.c: TdImapClient, the session pool of an account, against scripted servers
 *
 * Each scripted server (TLS, tests/lib/td-test-script-server.h) takes one connection. The
 * account points at a proxy (tests/lib/td-test-proxy.c) that sends each new connection to the
 * next server queued for it and counts the connections: what the client opened is counted
 * at the server side, and a script tells what each connection saw (one LOGIN, a LOGOUT, a
 * close).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-imap-client.h"
#include "td-test-dovecot.h"
#include "td-test-script-server.h"
#include "td-test-util.h"

#define WAIT_MS 10000

/* The start of every connection: the greeting and the LOGIN (tags A1). */
#define LOGIN \
  "S: * OK [CAPABILITY IMAP4rev1] ready\n" \
  "C: A1 LOGIN \"alice\" \"secret\"\n" \
  "S: A1 OK [CAPABILITY IMAP4rev1 IDLE CONDSTORE] Logged in\n"
/* A clean end with tag @tag */
#define LOGOUT(tag) \
  "C: " tag " LOGOUT\n" \
  "S: * BYE Logging out\n" \
  "S: " tag " OK Logout completed\n" \
  "C! close\n"

typedef struct
{
  TdTestProxy  *proxy;
  TdAccount    *account;
  TdImapClient *client;
  GPtrArray    *servers;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 nowhere;

  /* a connection nobody expected goes to a closed port and fails */
  nowhere = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);

  f->proxy = td_test_proxy_new (nowhere, 0);
  f->servers = g_ptr_array_new_with_free_func ((GDestroyNotify) td_test_script_server_free);
  f->account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@example.org", "localhost",
                               td_test_proxy_get_port (f->proxy), TD_SECURITY_TLS, "alice");
  td_account_set_pinned_fingerprint (f->account, TD_TEST_SCRIPT_SERVER_FINGERPRINT);
  f->client = td_imap_client_new (f->account);
  td_imap_client_set_password (f->client, "secret");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->client);
  g_clear_object (&f->account);
  g_clear_pointer (&f->servers, g_ptr_array_unref);
  g_clear_pointer (&f->proxy, td_test_proxy_free);
}

/* The server for the next connection the client opens. */
static TdTestScriptServer *
expect_connection (Fixture    *f,
                   const char *script)
{
  TdTestScriptServer *server = td_test_script_server_new_tls (script);

  td_test_proxy_push_target (f->proxy, td_test_script_server_get_port (server));
  g_ptr_array_add (f->servers, server);
  return server;
}

static void
assert_played (TdTestScriptServer *server)
{
  td_test_script_server_wait_finished (server, WAIT_MS);
  td_test_script_server_assert_finished (server);
}

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms milliseconds. */
static void
spin_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static void
start_acquire (Fixture             *f,
               TdImapClientPurpose  purpose,
               GCancellable        *cancellable,
               GAsyncResult       **result)
{
  td_imap_client_acquire_async (f->client, purpose, cancellable, td_test_store_result, result);
}

static TdImapSession *
finish_acquire (Fixture       *f,
                GAsyncResult **result)
{
  g_autoptr(GError) error = NULL;
  TdImapSession *session;

  session = td_imap_client_acquire_finish (f->client, td_test_wait_result (result, WAIT_MS),
                                           &error);
  g_clear_object (result);
  g_assert_no_error (error);
  g_assert_nonnull (session);
  return session;
}

static void
assert_acquire_fails (Fixture       *f,
                      GAsyncResult **result,
                      GQuark         domain,
                      gint           code)
{
  g_autoptr(GError) error = NULL;
  TdImapSession *session;

  session = td_imap_client_acquire_finish (f->client, td_test_wait_result (result, WAIT_MS),
                                           &error);
  g_clear_object (result);
  g_assert_null (session);
  g_assert_error (error, domain, code);
}

static TdImapSession *
acquire (Fixture             *f,
         TdImapClientPurpose  purpose)
{
  g_autoptr(GAsyncResult) result = NULL;

  start_acquire (f, purpose, NULL, &result);
  return finish_acquire (f, &result);
}

static void
shutdown_client (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_imap_client_shutdown_async (f->client, NULL, td_test_store_result, &result);
  g_assert_true (td_imap_client_shutdown_finish (f->client, td_test_wait_result (&result, WAIT_MS),
                                                 &error));
  g_assert_no_error (error);
}

static guint
count_substrings (const char *haystack,
                  const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* --- The limit and the queue --- */

/* Three sessions at once; the fourth waits until one is released and then gets that one. */
static void
test_limit (Fixture       *f,
            gconstpointer  data)
{
  GAsyncResult *r[4] = { NULL };   /* each cleared by its finish */
  g_autoptr(TdImapSession) s0 = NULL;
  g_autoptr(TdImapSession) s1 = NULL;
  g_autoptr(TdImapSession) s2 = NULL;
  g_autoptr(TdImapSession) s3 = NULL;
  TdTestScriptServer *servers[3];

  g_assert_cmpuint (td_imap_client_get_max_sessions (f->client), ==, 3);
  for (guint i = 0; i < 3; i++)
    servers[i] = expect_connection (f, LOGIN LOGOUT ("A2"));

  for (guint i = 0; i < 4; i++)
    start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &r[i]);
  /* three connections are opened, not four */
  g_assert_cmpuint (td_imap_client_get_n_opening (f->client), ==, 3);
  s0 = finish_acquire (f, &r[0]);
  s1 = finish_acquire (f, &r[1]);
  s2 = finish_acquire (f, &r[2]);
  g_assert_true (s0 != s1 && s1 != s2 && s0 != s2);

  spin_ms (300);
  g_assert_null (r[3]);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 3);
  g_assert_cmpuint (td_imap_client_get_n_busy (f->client), ==, 3);
  g_assert_cmpuint (td_imap_client_get_n_opening (f->client), ==, 0);

  td_imap_client_release (f->client, s1, TRUE);
  s3 = finish_acquire (f, &r[3]);
  g_assert_true (s3 == s1);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 3);

  td_imap_client_release (f->client, s0, TRUE);
  td_imap_client_release (f->client, s2, TRUE);
  td_imap_client_release (f->client, s3, TRUE);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 3);
  shutdown_client (f);
  for (guint i = 0; i < 3; i++)
    assert_played (servers[i]);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 0);
}

/* Waiters are served in the order they came, one release each, all on one connection. */
static void
test_fifo (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GAsyncResult) rb = NULL;
  g_autoptr(GAsyncResult) rc = NULL;
  g_autoptr(GAsyncResult) rd = NULL;
  g_autoptr(TdImapSession) a = NULL;
  g_autoptr(TdImapSession) b = NULL;
  g_autoptr(TdImapSession) c = NULL;
  g_autoptr(TdImapSession) d = NULL;
  TdTestScriptServer *server = expect_connection (f, LOGIN LOGOUT ("A2"));

  td_imap_client_set_max_sessions (f->client, 1);
  a = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &rb);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &rc);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &rd);
  spin_ms (100);
  g_assert_true (rb == NULL && rc == NULL && rd == NULL);

  td_imap_client_release (f->client, a, TRUE);
  b = finish_acquire (f, &rb);
  spin_ms (50);
  g_assert_true (rc == NULL && rd == NULL);

  td_imap_client_release (f->client, b, TRUE);
  c = finish_acquire (f, &rc);
  spin_ms (50);
  g_assert_null (rd);

  td_imap_client_release (f->client, c, TRUE);
  d = finish_acquire (f, &rd);
  g_assert_true (a == b && b == c && c == d);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);

  td_imap_client_release (f->client, d, TRUE);
  shutdown_client (f);
  assert_played (server);
}

/* --- Reuse --- */

/* A second acquire after a release gets the same logged-in session: no new connection, one
 * LOGIN at the server; the capabilities stay known once it is gone. */
static void
test_reuse (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(TdImapSession) first = NULL;
  g_autoptr(TdImapSession) second = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TdTestScriptServer *server = expect_connection (f, LOGIN
                                                     "C: A2 NOOP\n"
                                                     "S: A2 OK NOOP completed\n"
                                                     LOGOUT ("A3"));

  g_assert_false (td_imap_client_has_capability (f->client, "IDLE"));
  first = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  g_assert_true (td_imap_client_has_capability (f->client, "idle"));
  td_imap_client_release (f->client, first, TRUE);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 1);

  second = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  g_assert_true (second == first);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 0);
  td_imap_session_noop_async (second, NULL, td_test_store_result, &result);
  td_imap_session_noop_finish (second, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
  td_imap_client_release (f->client, second, TRUE);

  shutdown_client (f);
  assert_played (server);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
  g_assert_cmpuint (count_substrings (td_test_script_server_get_received (server, NULL),
                                      "LOGIN"), ==, 1);
  /* the cache outlives the sessions */
  g_assert_true (td_imap_client_has_capability (f->client, "IDLE"));
  g_assert_true (td_imap_client_has_capability (f->client, "CONDSTORE"));
  g_assert_false (td_imap_client_has_capability (f->client, "QRESYNC"));
  g_assert_false (td_imap_client_has_capability (f->client, "XSOMETHING"));
}

/* Released as not reusable: closed, and the next acquire connects anew. */
static void
test_not_reusable (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(TdImapSession) first = NULL;
  g_autoptr(TdImapSession) second = NULL;
  TdTestScriptServer *one = expect_connection (f, LOGIN "C! close\n");
  TdTestScriptServer *two = expect_connection (f, LOGIN LOGOUT ("A2"));

  first = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  td_imap_client_release (f->client, first, FALSE);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 0);
  assert_played (one);

  second = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  g_assert_true (second != first);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);
  td_imap_client_release (f->client, second, TRUE);
  shutdown_client (f);
  assert_played (two);
}

/* A session that failed while held is dropped even when released as reusable. */
static void
test_broken_not_reused (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(TdImapSession) first = NULL;
  g_autoptr(TdImapSession) second = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TdTestScriptServer *one = expect_connection (f, LOGIN
                                                  "C: A2 NOOP\n"
                                                  "S: * BYE Going away\n"
                                                  "S! close\n");
  TdTestScriptServer *two = expect_connection (f, LOGIN LOGOUT ("A2"));

  first = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  td_imap_session_noop_async (first, NULL, td_test_store_result, &result);
  g_assert_false (td_imap_session_noop_finish (first, td_test_wait_result (&result, WAIT_MS),
                                               &error));
  g_assert_nonnull (error);
  assert_played (one);
  g_assert_cmpint (td_imap_session_get_state (first), ==, TD_IMAP_STATE_NOT_CONNECTED);

  td_imap_client_release (f->client, first, TRUE);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 0);
  second = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  g_assert_true (second != first);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);
  td_imap_client_release (f->client, second, TRUE);
  shutdown_client (f);
  assert_played (two);
}

/* A pooled session the server closes leaves the pool at once. */
static void
test_idle_closed_by_server (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(TdImapSession) first = NULL;
  g_autoptr(TdImapSession) second = NULL;
  TdTestScriptServer *one = expect_connection (f, LOGIN
                                                  "S! pause 200\n"
                                                  "S: * BYE Autologout; idle for too long\n"
                                                  "S! close\n");
  TdTestScriptServer *two = expect_connection (f, LOGIN LOGOUT ("A2"));

  first = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  td_imap_client_release (f->client, first, TRUE);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 1);
  assert_played (one);
  for (guint i = 0; i < 100 && td_imap_client_get_n_idle (f->client) > 0; i++)
    spin_ms (20);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 0);

  second = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  g_assert_true (second != first);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);
  td_imap_client_release (f->client, second, TRUE);
  shutdown_client (f);
  assert_played (two);
}

/* --- Cancelling --- */

static void
test_cancel_queued (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GAsyncResult) rb = NULL;
  g_autoptr(GAsyncResult) rc = NULL;
  g_autoptr(GAsyncResult) rx = NULL;
  g_autoptr(TdImapSession) a = NULL;
  g_autoptr(TdImapSession) c = NULL;
  TdTestScriptServer *server = expect_connection (f, LOGIN LOGOUT ("A2"));

  td_imap_client_set_max_sessions (f->client, 1);
  a = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, cancellable, &rb);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &rc);
  spin_ms (50);
  g_assert_true (rb == NULL && rc == NULL);

  /* out of the queue at once, without waiting for a release */
  g_cancellable_cancel (cancellable);
  assert_acquire_fails (f, &rb, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (rc);

  /* already cancelled: fails at once */
  g_cancellable_cancel (cancelled);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, cancelled, &rx);
  assert_acquire_fails (f, &rx, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* the next in the queue, not the cancelled one, gets the session */
  td_imap_client_release (f->client, a, TRUE);
  c = finish_acquire (f, &rc);
  g_assert_true (c == a);
  td_imap_client_release (f->client, c, TRUE);
  shutdown_client (f);
  assert_played (server);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
}

/* Cancelled while its connection is being opened: the connection goes on into the pool. */
static void
test_cancel_opening (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(TdImapSession) session = NULL;
  TdTestScriptServer *server = expect_connection (f, LOGIN LOGOUT ("A2"));

  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, cancellable, &result);
  g_assert_cmpuint (td_imap_client_get_n_opening (f->client), ==, 1);
  g_cancellable_cancel (cancellable);
  assert_acquire_fails (f, &result, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  for (guint i = 0; i < 250 && td_imap_client_get_n_idle (f->client) == 0; i++)
    spin_ms (20);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 1);
  session = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
  td_imap_client_release (f->client, session, TRUE);
  shutdown_client (f);
  assert_played (server);
}

/* --- Idle timeout --- */

static void
test_idle_timeout (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(TdImapSession) first = NULL;
  g_autoptr(TdImapSession) second = NULL;
  TdTestScriptServer *one = expect_connection (f, LOGIN LOGOUT ("A2"));
  TdTestScriptServer *two = expect_connection (f, LOGIN LOGOUT ("A2"));
  gint64 released;

  td_imap_client_set_idle_timeout (f->client, 300);
  first = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  td_imap_client_release (f->client, first, TRUE);
  released = g_get_monotonic_time ();
  spin_ms (100);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 1);
  g_assert_false (td_test_script_server_is_finished (one));

  /* logged out by the timeout, not before */
  assert_played (one);
  g_assert_cmpint (g_get_monotonic_time () - released, >=, 250 * 1000);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 0);

  second = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  g_assert_true (second != first);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);
  td_imap_client_release (f->client, second, TRUE);
  shutdown_client (f);
  assert_played (two);
}

/* Past its time by the clock even though the timer could not run (a suspend, a busy main
 * loop): not handed out, logged out, and a new connection instead. */
static void
test_idle_expired_by_clock (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(TdImapSession) first = NULL;
  g_autoptr(TdImapSession) second = NULL;
  TdTestScriptServer *one = expect_connection (f, LOGIN LOGOUT ("A2"));
  TdTestScriptServer *two = expect_connection (f, LOGIN LOGOUT ("A2"));

  td_imap_client_set_idle_timeout (f->client, 300);
  first = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  td_imap_client_release (f->client, first, TRUE);
  g_usleep (400 * 1000);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 1);

  second = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  g_assert_true (second != first);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);
  assert_played (one);
  td_imap_client_release (f->client, second, TRUE);
  shutdown_client (f);
  assert_played (two);
}

/* With no idle time, a session is logged out at release, unless someone waits for it. */
static void
test_idle_timeout_zero (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(TdImapSession) first = NULL;
  g_autoptr(TdImapSession) second = NULL;
  TdTestScriptServer *server = expect_connection (f, LOGIN LOGOUT ("A2"));

  td_imap_client_set_idle_timeout (f->client, 0);
  td_imap_client_set_max_sessions (f->client, 1);
  first = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &result);
  td_imap_client_release (f->client, first, TRUE);
  second = finish_acquire (f, &result);
  g_assert_true (second == first);

  td_imap_client_release (f->client, second, TRUE);
  g_assert_cmpuint (td_imap_client_get_n_idle (f->client), ==, 0);
  assert_played (server);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
}

/* --- Watches --- */

/* Watches are outside the bound, two at most; a third waits for one of them. A released
 * watch session is not pooled; a watch takes an idle pooled session when there is one. */
static void
test_watches (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GAsyncResult) r3 = NULL;
  g_autoptr(TdImapSession) command = NULL;
  g_autoptr(TdImapSession) w1 = NULL;
  g_autoptr(TdImapSession) w2 = NULL;
  g_autoptr(TdImapSession) w3 = NULL;
  g_autoptr(TdImapSession) w4 = NULL;
  TdTestScriptServer *s_command = expect_connection (f, LOGIN LOGOUT ("A2"));
  TdTestScriptServer *s_w1 = expect_connection (f, LOGIN LOGOUT ("A2"));
  TdTestScriptServer *s_w2 = expect_connection (f, LOGIN "C! close\n");
  TdTestScriptServer *s_w3 = expect_connection (f, LOGIN "C! close\n");

  td_imap_client_set_max_sessions (f->client, 1);
  command = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  w1 = acquire (f, TD_IMAP_CLIENT_WATCH);
  w2 = acquire (f, TD_IMAP_CLIENT_WATCH);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 3);
  g_assert_cmpuint (td_imap_client_get_n_busy (f->client), ==, 3);

  start_acquire (f, TD_IMAP_CLIENT_WATCH, NULL, &r3);
  spin_ms (200);
  g_assert_null (r3);
  g_assert_cmpuint (td_imap_client_get_n_opening (f->client), ==, 0);

  /* the first watch ends: logged out, and the third gets a connection of its own */
  td_imap_client_release (f->client, w1, TRUE);
  assert_played (s_w1);
  w3 = finish_acquire (f, &r3);
  g_assert_true (w3 != w1 && w3 != command);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 4);

  /* a watch takes the pooled command session */
  td_imap_client_release (f->client, command, TRUE);
  td_imap_client_release (f->client, w2, FALSE);
  assert_played (s_w2);
  w4 = acquire (f, TD_IMAP_CLIENT_WATCH);
  g_assert_true (w4 == command);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 4);

  td_imap_client_release (f->client, w3, FALSE);
  td_imap_client_release (f->client, w4, TRUE);
  assert_played (s_w3);
  assert_played (s_command);
  shutdown_client (f);
}

/* The Inbox watched, the viewed folder watched, a sync and a body fetch at once: all four
 * get a session at once with the default limit, none waits for another. */
static void
test_no_deadlock (Fixture       *f,
                  gconstpointer  data)
{
  GAsyncResult *r[4] = { NULL };   /* each cleared by its finish */
  TdImapSession *sessions[4];
  static const TdImapClientPurpose purposes[4] = {
    TD_IMAP_CLIENT_WATCH, TD_IMAP_CLIENT_WATCH, TD_IMAP_CLIENT_COMMANDS, TD_IMAP_CLIENT_COMMANDS
  };
  TdTestScriptServer *servers[4];

  for (guint i = 0; i < 4; i++)
    servers[i] = expect_connection (f, LOGIN "C! close\n");
  for (guint i = 0; i < 4; i++)
    start_acquire (f, purposes[i], NULL, &r[i]);
  for (guint i = 0; i < 4; i++)
    sessions[i] = finish_acquire (f, &r[i]);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      td_imap_client_release (f->client, sessions[i], FALSE);
      g_object_unref (sessions[i]);
    }
  for (guint i = 0; i < 4; i++)
    assert_played (servers[i]);
}

/* --- Failures --- */

/* A refused password fails every waiter and is not tried again. */
static void
test_auth_refused (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GAsyncResult) ra = NULL;
  g_autoptr(GAsyncResult) rb = NULL;
  g_autoptr(GAsyncResult) rc = NULL;
  TdTestScriptServer *server =
    expect_connection (f, "S: * OK [CAPABILITY IMAP4rev1] ready\n"
                          "C: A1 LOGIN \"alice\" \"secret\"\n"
                          "S: A1 NO [AUTHENTICATIONFAILED] Authentication failed.\n"
                          "C! close\n");

  td_imap_client_set_max_sessions (f->client, 1);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &ra);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &rb);
  assert_acquire_fails (f, &ra, TD_ERROR, TD_ERROR_AUTH);
  assert_acquire_fails (f, &rb, TD_ERROR, TD_ERROR_AUTH);
  assert_played (server);

  /* the password is forgotten: no new attempt with it */
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &rc);
  assert_acquire_fails (f, &rc, TD_ERROR, TD_ERROR_NO_PASSWORD);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
  g_assert_cmpuint (td_imap_client_get_n_opening (f->client), ==, 0);
}

/* A server that cannot be reached fails the waiter the connection was for. */
static void
test_connect_failed (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;

  /* no server queued: the proxy sends it to a closed port */
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &result);
  assert_acquire_fails (f, &result, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_cmpuint (td_imap_client_get_n_opening (f->client), ==, 0);
  g_assert_cmpuint (td_imap_client_get_n_busy (f->client), ==, 0);
}

/* Shutdown: waiters fail, held sessions are logged out when released, nothing new starts. */
static void
test_shutdown (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GAsyncResult) rb = NULL;
  g_autoptr(GAsyncResult) rc = NULL;
  g_autoptr(TdImapSession) a = NULL;
  TdTestScriptServer *server = expect_connection (f, LOGIN LOGOUT ("A2"));

  td_imap_client_set_max_sessions (f->client, 1);
  a = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &rb);
  shutdown_client (f);
  assert_acquire_fails (f, &rb, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  td_imap_client_release (f->client, a, TRUE);
  assert_played (server);
  start_acquire (f, TD_IMAP_CLIENT_COMMANDS, NULL, &rc);
  assert_acquire_fails (f, &rc, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
}

/* Disposing of the client logs its idle sessions out. */
static void
test_dispose_logs_out (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(TdImapSession) session = NULL;
  TdTestScriptServer *server = expect_connection (f, LOGIN LOGOUT ("A2"));

  session = acquire (f, TD_IMAP_CLIENT_COMMANDS);
  td_imap_client_release (f->client, session, TRUE);
  g_clear_object (&f->client);
  assert_played (server);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/imap/client/limit", test_limit);
  ADD ("/imap/client/fifo", test_fifo);
  ADD ("/imap/client/reuse", test_reuse);
  ADD ("/imap/client/not-reusable", test_not_reusable);
  ADD ("/imap/client/broken-not-reused", test_broken_not_reused);
  ADD ("/imap/client/idle-closed-by-server", test_idle_closed_by_server);
  ADD ("/imap/client/cancel/queued", test_cancel_queued);
  ADD ("/imap/client/cancel/opening", test_cancel_opening);
  ADD ("/imap/client/idle-timeout/timer", test_idle_timeout);
  ADD ("/imap/client/idle-timeout/clock", test_idle_expired_by_clock);
  ADD ("/imap/client/idle-timeout/zero", test_idle_timeout_zero);
  ADD ("/imap/client/watches", test_watches);
  ADD ("/imap/client/no-deadlock", test_no_deadlock);
  ADD ("/imap/client/auth-refused", test_auth_refused);
  ADD ("/imap/client/connect-failed", test_connect_failed);
  ADD ("/imap/client/shutdown", test_shutdown);
  ADD ("/imap/client/dispose-logs-out", test_dispose_logs_out);

  return g_test_run ();
}
