/* test-imap-watch.c: TdImapWatch against scripted servers, with its clock sped up
 *
 * Every connection of a watch goes through a TdTestProxy to a scripted server of its own
 * (td_test_proxy_push_target()), or to a closed port when it is to fail; the script compares
 * every line the watch sends, so a command it should not send (an IDLE to a server without
 * it, a reconnect that should not happen) fails the test. td_imap_watch_set_time_scale()
 * lets minutes of the watch pass in milliseconds; a TdTestNetworkMonitor and a private bus
 * with a fake logind stand in for the network and for suspend. Cases:
 *  - a server without IDLE is polled with NOOP at the poll interval, each poll says
 *    "changed", and IDLE is never sent;
 *  - the reconnect backoff doubles from 1 s to its cap of 5 minutes, with up to 25% jitter,
 *    and starts again from 1 s after a successful connection;
 *  - IDLE is renewed every poll interval, at most every 25 minutes;
 *  - the network goes away: offline, no retries until it is back, then a connection at
 *    once; another network while connected: the connection is checked with a NOOP at once
 *    and replaced when it does not answer;
 *  - a quiet IDLE outlives the connection's read timeout, which is back after the IDLE;
 *  - resume from suspend (PrepareForSleep(false) from org.freedesktop.login1) reconnects at
 *    once, going to sleep does nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-imap-client.h"
#include "td-imap-watch.h"
#include "td-test-bus.h"
#include "td-test-dovecot.h"
#include "td-test-network-monitor.h"
#include "td-test-script-server.h"
#include "td-test-util.h"

#define WAIT_MS 10000

/* --- Waiting --- */

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @cond holds; fails the test after @ms. */
#define WAIT_UNTIL(cond, ms)                                                              \
  G_STMT_START                                                                            \
  {                                                                                       \
    gint64 wait_deadline_ = g_get_monotonic_time () + (gint64) (ms) * 1000;               \
    guint wait_tick_ = g_timeout_add (10, tick_cb, NULL);                                 \
                                                                                          \
    while (!(cond))                                                                       \
      {                                                                                   \
        if (g_get_monotonic_time () > wait_deadline_)                                     \
          g_error ("%s:%d: still not %s after %d ms", __FILE__, __LINE__, #cond, (int) (ms)); \
        g_main_context_iteration (NULL, TRUE);                                            \
      }                                                                                   \
    g_source_remove (wait_tick_);                                                         \
  }                                                                                       \
  G_STMT_END

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms. */
static void
run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag_cb, &done);
  td_test_wait_for (&done, ms + WAIT_MS);
}

/* --- What a watch did --- */

typedef struct
{
  GArray *changed;       /* gint64: monotonic time of each "changed" */
  GArray *delays;        /* guint: each retry-delay scheduled (not 0) */
  guint   went_online;
  guint   went_offline;
  guint   failed;
} Events;

static void
on_changed (TdImapWatch *watch,
            Events      *ev)
{
  gint64 now = g_get_monotonic_time ();

  g_array_append_val (ev->changed, now);
}

static void
on_online (TdImapWatch *watch,
           GParamSpec  *pspec,
           Events      *ev)
{
  if (td_imap_watch_get_online (watch))
    ev->went_online++;
  else
    ev->went_offline++;
}

static void
on_retry_delay (TdImapWatch *watch,
                GParamSpec  *pspec,
                Events      *ev)
{
  guint delay = td_imap_watch_get_retry_delay (watch);

  if (delay != 0)
    g_array_append_val (ev->delays, delay);
}

static void
on_failed (TdImapWatch  *watch,
           const GError *error,
           Events       *ev)
{
  g_test_message ("watch failed: %s", error->message);
  ev->failed++;
}

static void
events_init (Events      *ev,
             TdImapWatch *watch)
{
  ev->changed = g_array_new (FALSE, FALSE, sizeof (gint64));
  ev->delays = g_array_new (FALSE, FALSE, sizeof (guint));
  ev->went_online = ev->went_offline = ev->failed = 0;
  g_signal_connect (watch, "changed", G_CALLBACK (on_changed), ev);
  g_signal_connect (watch, "notify::online", G_CALLBACK (on_online), ev);
  g_signal_connect (watch, "notify::retry-delay", G_CALLBACK (on_retry_delay), ev);
  g_signal_connect (watch, "failed", G_CALLBACK (on_failed), ev);
}

static void
events_clear (Events *ev)
{
  g_clear_pointer (&ev->changed, g_array_unref);
  g_clear_pointer (&ev->delays, g_array_unref);
}

static gint64
changed_at (Events *ev,
            guint   i)
{
  return g_array_index (ev->changed, gint64, i);
}

/* --- Servers and the watch --- */

/* A port where nothing listens: connections to it are refused. */
static guint16
closed_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);

  g_assert_no_error (error);
  g_socket_listener_close (listener);
  return port;
}

typedef struct
{
  TdTestProxy *proxy;        /* in front of every connection */
  TdAccount   *account;
  TdImapWatch *watch;
  Events       ev;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  /* without a script server pushed, a connection goes nowhere */
  f->proxy = td_test_proxy_new (closed_port (), 0);
  f->account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@example.org", "localhost",
                               td_test_proxy_get_port (f->proxy), TD_SECURITY_TLS, "alice");
  td_account_set_pinned_fingerprint (f->account, TD_TEST_SCRIPT_SERVER_FINGERPRINT);
  f->watch = td_imap_watch_new (f->account, "INBOX");
  events_init (&f->ev, f->watch);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_imap_watch_stop (f->watch);
  g_clear_object (&f->watch);
  events_clear (&f->ev);
  g_clear_object (&f->account);
  g_clear_pointer (&f->proxy, td_test_proxy_free);
}

/* The next connection goes to a new script server playing @script. */
static TdTestScriptServer *
next_server (Fixture    *f,
             const char *script)
{
  TdTestScriptServer *server = td_test_script_server_new_tls (script);

  td_test_proxy_push_target (f->proxy, td_test_script_server_get_port (server));
  return server;
}

/* Greeting, LOGIN (A1) and EXAMINE INBOX (A2) on a server with @caps; the next tag is A3. */
static char *
script_examined (const char *caps,
                 const char *more)
{
  return g_strdup_printf ("S: * OK [CAPABILITY IMAP4rev1] Scripted server ready\n"
                          "C: A1 LOGIN \"alice\" \"secret\"\n"
                          "S: A1 OK [CAPABILITY %s] Logged in\n"
                          "C: A2 EXAMINE \"INBOX\"\n"
                          "S: * 1 EXISTS\n"
                          "S: * OK [UIDVALIDITY 5] UIDs valid\n"
                          "S: A2 OK [READ-ONLY] Examined\n"
                          "%s",
                          caps, more);
}

/* --- Polling without IDLE --- */

/* A server without IDLE: NOOP every poll interval (here 1 s of real time), each poll says
 * "changed", new mail told in a NOOP's answer says so too, and IDLE is never sent (the
 * script would fail on it). */
static void
test_poll_without_idle (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *script = script_examined ("IMAP4rev1 UIDPLUS",
                                             "C: A3 NOOP\n"
                                             "S: A3 OK NOOP completed\n"
                                             "C: A4 NOOP\n"
                                             "S: * 2 EXISTS\n"
                                             "S: A4 OK NOOP completed\n"
                                             "C: A5 NOOP\n"
                                             "S: A5 OK NOOP completed\n");
  g_autoptr(TdTestScriptServer) server = next_server (f, script);
  gint64 started;

  td_imap_watch_set_poll_interval (f->watch, 1);
  started = g_get_monotonic_time ();
  td_imap_watch_start (f->watch, "secret");

  /* connected (1), first poll (2), the EXISTS (3) and second poll (4), third poll (5) */
  WAIT_UNTIL (f->ev.changed->len >= 5, WAIT_MS);
  td_test_script_server_assert_finished (server);
  g_assert_true (td_imap_watch_get_online (f->watch));
  g_assert_cmpuint (f->ev.changed->len, ==, 5);
  g_assert_null (strstr (td_test_script_server_get_received (server, NULL), "IDLE"));

  /* one poll a second: not sooner, and not much later */
  {
    gint64 polls[] = { changed_at (&f->ev, 0), changed_at (&f->ev, 1), changed_at (&f->ev, 3),
                       changed_at (&f->ev, 4) };

    for (guint i = 1; i < G_N_ELEMENTS (polls); i++)
      {
        gint64 gap = polls[i] - polls[i - 1];

        g_test_message ("poll %u after %" G_GINT64_FORMAT " ms", i, gap / 1000);
        g_assert_cmpint (gap, >=, 950 * 1000);
        g_assert_cmpint (gap, <, 1400 * 1000);
      }
    /* the EXISTS came with the second poll's answer, before it completed */
    g_assert_cmpint (changed_at (&f->ev, 3) - changed_at (&f->ev, 2), <, 200 * 1000);
    g_assert_cmpint (polls[3] - started, <, 5 * G_USEC_PER_SEC);
  }
  td_imap_watch_stop (f->watch);
  g_assert_false (td_imap_watch_get_online (f->watch));
}

/* --- Backoff --- */

static guint
backoff_base_ms (guint attempt)
{
  return MIN (1u << MIN (attempt, 16u), 300u) * 1000;
}

/* Every reconnect fails: 1, 2, 4, ... s up to 5 minutes, each with up to 25% jitter; after a
 * connection that worked, the next failure waits 1 s again. On the watch's clock, scaled
 * 1000 times, so the whole test takes seconds. */
static void
test_backoff (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *script = script_examined ("IMAP4rev1 IDLE",
                                             "C: A3 IDLE\n"
                                             "S: + idling\n"
                                             "S! close\n");
  g_autofree char *stable_script = script_examined ("IMAP4rev1 IDLE",
                                                    "C: A3 IDLE\n"
                                                    "S: + idling\n"
                                                    "S! pause 400\n"
                                                    "S! close\n");
  g_autoptr(TdTestScriptServer) server = NULL;
  const guint n = 14;   /* 9 doublings to the cap, then 5 at the cap */
  gboolean jittered = FALSE;
  guint distinct_at_cap = 0;
  guint after;

  td_imap_watch_set_time_scale (f->watch, 0.001);
  td_imap_watch_set_poll_interval (f->watch, 3600);
  td_imap_watch_start (f->watch, "secret");

  WAIT_UNTIL (f->ev.delays->len >= n, WAIT_MS);
  g_assert_cmpuint (f->ev.failed, ==, 0);
  g_assert_cmpuint (f->ev.went_online, ==, 0);
  for (guint i = 0; i < n; i++)
    {
      guint delay = g_array_index (f->ev.delays, guint, i);
      guint base = backoff_base_ms (i);

      g_test_message ("attempt %u: %u ms (step %u ms)", i + 1, delay, base);
      g_assert_cmpuint (delay, >=, base);
      g_assert_cmpuint (delay, <=, base + base / 4);
      if (delay != base)
        jittered = TRUE;
      if (i > 9 && delay != g_array_index (f->ev.delays, guint, i - 1))
        distinct_at_cap++;
    }
  g_assert_true (jittered);
  g_assert_cmpuint (distinct_at_cap, >, 0);

  /* a connection dropped as soon as it is up does not count as working: still the cap */
  server = next_server (f, script);
  WAIT_UNTIL (f->ev.went_online == 1, WAIT_MS);
  after = f->ev.delays->len;
  WAIT_UNTIL (td_test_script_server_is_finished (server) && f->ev.delays->len > after, WAIT_MS);
  td_test_script_server_assert_finished (server);
  g_clear_pointer (&server, td_test_script_server_free);
  g_test_message ("after a dropped connection: %u ms",
                  g_array_index (f->ev.delays, guint, after));
  g_assert_cmpuint (g_array_index (f->ev.delays, guint, after), >=, 300 * 1000);

  /* one that works for a while (60 s of the watch's clock, 60 ms here), then is lost: the
   * next wait is the first step again */
  server = next_server (f, stable_script);
  WAIT_UNTIL (f->ev.went_online == 2, WAIT_MS);
  after = f->ev.delays->len;
  WAIT_UNTIL (td_test_script_server_is_finished (server) && f->ev.delays->len > after, WAIT_MS);
  td_test_script_server_assert_finished (server);
  g_test_message ("after the connection: %u ms", g_array_index (f->ev.delays, guint, after));
  g_assert_cmpuint (g_array_index (f->ev.delays, guint, after), >=, 1000);
  g_assert_cmpuint (g_array_index (f->ev.delays, guint, after), <=, 1250);
  g_assert_cmpuint (f->ev.failed, ==, 0);
}

/* --- IDLE renewal --- */

/* The renewal is the poll interval, capped at 25 minutes: before the 29 after which
 * RFC 2177 lets a server end an IDLE. */
static void
test_renew_interval (Fixture       *f,
                     gconstpointer  data)
{
  static const struct { guint poll, renew; } cases[] = {
    { 1, 1 }, { 60, 60 }, { 300, 300 }, { 25 * 60 - 1, 25 * 60 - 1 }, { 25 * 60, 25 * 60 },
    { 25 * 60 + 1, 25 * 60 }, { 29 * 60, 25 * 60 }, { 3600, 25 * 60 }, { G_MAXUINT, 25 * 60 },
  };

  /* the default poll interval: 5 minutes */
  g_assert_cmpuint (td_imap_watch_get_renew_interval (f->watch), ==, 300);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      td_imap_watch_set_poll_interval (f->watch, cases[i].poll);
      g_assert_cmpuint (td_imap_watch_get_renew_interval (f->watch), ==, cases[i].renew);
      g_assert_cmpuint (td_imap_watch_get_renew_interval (f->watch), <, 29 * 60);
    }
}

/* With a poll interval of an hour the IDLE is still ended and renewed after 25 minutes (of
 * the watch's clock, 500 times faster here), with a NOOP between, and that renewal says
 * "changed". */
static void
test_renew_cap (Fixture       *f,
                gconstpointer  data)
{
  const double scale = 0.002;
  g_autofree char *script = script_examined ("IMAP4rev1 IDLE",
                                             "C: A3 IDLE\n"
                                             "S: + idling\n"
                                             "C: DONE\n"
                                             "S: A3 OK Idle completed\n"
                                             "C: A4 NOOP\n"
                                             "S: A4 OK NOOP completed\n"
                                             "C: A5 IDLE\n"
                                             "S: + idling\n");
  g_autoptr(TdTestScriptServer) server = next_server (f, script);
  gint64 renewed_after;

  td_imap_watch_set_time_scale (f->watch, scale);
  td_imap_watch_set_poll_interval (f->watch, 3600);
  td_imap_watch_start (f->watch, "secret");

  WAIT_UNTIL (f->ev.changed->len >= 2, WAIT_MS);
  td_test_script_server_wait_finished (server, WAIT_MS);
  td_test_script_server_assert_finished (server);
  renewed_after = changed_at (&f->ev, 1) - changed_at (&f->ev, 0);
  g_test_message ("renewed after %" G_GINT64_FORMAT " ms, %.0f s of the watch",
                  renewed_after / 1000, renewed_after / 1e6 / scale);
  g_assert_cmpint (renewed_after, >=, (gint64) (25 * 60 * scale * G_USEC_PER_SEC) - 50000);
  g_assert_cmpint (renewed_after, <, (gint64) (29 * 60 * scale * G_USEC_PER_SEC));
  g_assert_true (td_imap_watch_get_online (f->watch));
}

/* --- The network --- */

/* The network goes away: offline at once, the connection dropped, and no reconnect tried
 * while it is away (a retry would have come after 1 s). It comes back: a new connection at
 * once, sooner than any backoff step. */
static void
test_network_lost (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *first = script_examined ("IMAP4rev1 IDLE",
                                            "C: A3 IDLE\n"
                                            "S: + idling\n"
                                            "C! close\n");
  g_autofree char *second = script_examined ("IMAP4rev1 IDLE",
                                             "C: A3 IDLE\n"
                                             "S: + idling\n");
  g_autoptr(TdTestNetworkMonitor) monitor = td_test_network_monitor_new (TRUE);
  g_autoptr(TdTestScriptServer) server1 = next_server (f, first);
  g_autoptr(TdTestScriptServer) server2 = NULL;
  gint64 back;

  td_imap_watch_set_network_monitor (f->watch, G_NETWORK_MONITOR (monitor));
  td_imap_watch_set_poll_interval (f->watch, 3600);
  td_imap_watch_start (f->watch, "secret");
  WAIT_UNTIL (td_imap_watch_get_online (f->watch) && f->ev.changed->len == 1, WAIT_MS);

  td_test_network_monitor_set_available (monitor, FALSE);
  g_assert_false (td_imap_watch_get_online (f->watch));
  g_assert_cmpuint (td_imap_watch_get_retry_delay (f->watch), ==, 0);
  WAIT_UNTIL (td_test_script_server_is_finished (server1), WAIT_MS);
  td_test_script_server_assert_finished (server1);
  run_for (1500);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
  g_assert_cmpuint (f->ev.delays->len, ==, 0);
  g_assert_false (td_imap_watch_get_online (f->watch));
  /* told again while away: still nothing */
  td_test_network_monitor_set_available (monitor, FALSE);
  run_for (100);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);

  server2 = next_server (f, second);
  back = g_get_monotonic_time ();
  td_test_network_monitor_set_available (monitor, TRUE);
  WAIT_UNTIL (td_imap_watch_get_online (f->watch), WAIT_MS);
  g_assert_cmpint (g_get_monotonic_time () - back, <, 900 * 1000);
  td_test_script_server_wait_finished (server2, WAIT_MS);
  td_test_script_server_assert_finished (server2);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);
  g_assert_cmpuint (f->ev.delays->len, ==, 0);
  /* what happened while offline is fetched */
  g_assert_cmpuint (f->ev.changed->len, ==, 2);
}

/* Another network while connected, and the server still answers: the IDLE is ended and a
 * NOOP sent at once (not in an hour, at the renewal), the connection is kept. */
static void
test_network_changed_alive (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *script = script_examined ("IMAP4rev1 IDLE",
                                             "C: A3 IDLE\n"
                                             "S: + idling\n"
                                             "C: DONE\n"
                                             "S: A3 OK Idle completed\n"
                                             "C: A4 NOOP\n"
                                             "S: A4 OK NOOP completed\n"
                                             "C: A5 IDLE\n"
                                             "S: + idling\n");
  g_autoptr(TdTestNetworkMonitor) monitor = td_test_network_monitor_new (TRUE);
  g_autoptr(TdTestScriptServer) server = next_server (f, script);
  gint64 changed;

  td_imap_watch_set_network_monitor (f->watch, G_NETWORK_MONITOR (monitor));
  td_imap_watch_set_poll_interval (f->watch, 3600);
  td_imap_watch_start (f->watch, "secret");
  WAIT_UNTIL (td_imap_watch_get_online (f->watch) && f->ev.changed->len == 1, WAIT_MS);
  /* idling: the server has seen the IDLE */
  WAIT_UNTIL (strstr (td_test_script_server_get_received (server, NULL), "A3 IDLE") != NULL,
              WAIT_MS);

  changed = g_get_monotonic_time ();
  td_test_network_monitor_changed (monitor);
  td_test_script_server_wait_finished (server, WAIT_MS);
  td_test_script_server_assert_finished (server);
  WAIT_UNTIL (f->ev.changed->len == 2, WAIT_MS);
  g_assert_cmpint (g_get_monotonic_time () - changed, <, 2 * G_USEC_PER_SEC);
  g_assert_true (td_imap_watch_get_online (f->watch));
  g_assert_cmpuint (f->ev.went_offline, ==, 0);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
}

/* Another network while connected, and the old connection is dead without a word (the
 * server stops answering after the DONE): after CHECK_SECONDS (10 s of the watch, 100 ms
 * here) without an answer the watch replaces it. */
static void
test_network_changed_dead (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *first = script_examined ("IMAP4rev1 IDLE",
                                            "C: A3 IDLE\n"
                                            "S: + idling\n"
                                            "C: DONE\n"
                                            "S! pause 60000\n");
  g_autofree char *second = script_examined ("IMAP4rev1 IDLE",
                                             "C: A3 IDLE\n"
                                             "S: + idling\n");
  g_autoptr(TdTestNetworkMonitor) monitor = td_test_network_monitor_new (TRUE);
  g_autoptr(TdTestScriptServer) server1 = next_server (f, first);
  g_autoptr(TdTestScriptServer) server2 = NULL;

  td_imap_watch_set_network_monitor (f->watch, G_NETWORK_MONITOR (monitor));
  td_imap_watch_set_time_scale (f->watch, 0.01);
  td_imap_watch_set_poll_interval (f->watch, 3600);
  td_imap_watch_start (f->watch, "secret");
  WAIT_UNTIL (td_imap_watch_get_online (f->watch) && f->ev.changed->len == 1, WAIT_MS);
  WAIT_UNTIL (strstr (td_test_script_server_get_received (server1, NULL), "A3 IDLE") != NULL,
              WAIT_MS);

  server2 = next_server (f, second);
  td_test_network_monitor_changed (monitor);
  WAIT_UNTIL (f->ev.went_online == 2, WAIT_MS);
  g_assert_nonnull (strstr (td_test_script_server_get_received (server1, NULL), "DONE"));
  td_test_script_server_wait_finished (server2, WAIT_MS);
  td_test_script_server_assert_finished (server2);
  g_assert_cmpuint (f->ev.went_offline, ==, 1);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);
  g_assert_cmpuint (f->ev.failed, ==, 0);
}

/* --- A quiet IDLE --- */

static void
set_short_timeout_cb (TdImapWatch  *watch,
                      GParamSpec   *pspec,
                      TdConnection *connection)
{
  /* connected, and the IDLE not sent yet */
  if (td_imap_watch_get_online (watch))
    td_connection_set_timeout (connection, 1);
}

static void
record_timeout_cb (TdImapWatch *watch,
                   gpointer     user_data)
{
  TdConnection *connection = g_object_get_data (G_OBJECT (watch), "connection");

  *(guint *) user_data = td_connection_get_timeout (connection);
}

/* An IDLE may be quiet for far longer than a connection waits for an answer (30 s; 1 s
 * here): the watch's renewal, not the read timeout, decides when the server was quiet too
 * long. News after the quiet still arrive on the same connection, and the timeout is back
 * once the IDLE ended (for the NOOP after it, checked when that says "changed"). */
static void
test_idle_quiet (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *script = script_examined ("IMAP4rev1 IDLE",
                                             "C: A3 IDLE\n"
                                             "S: + idling\n"
                                             "S! pause 2500\n"
                                             "S: * 2 EXISTS\n"
                                             "C: DONE\n"
                                             "S: A3 OK Idle completed\n"
                                             "C: A4 NOOP\n"
                                             "S: A4 OK NOOP completed\n"
                                             "C: A5 IDLE\n"
                                             "S: + idling\n");
  g_autoptr(TdTestScriptServer) server = next_server (f, script);
  g_autoptr(TdImapClient) client = td_imap_client_new (f->account);
  g_autoptr(TdImapWatch) watch = NULL;
  g_autoptr(TdConnection) connection = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestNetworkMonitor) monitor = td_test_network_monitor_new (TRUE);
  TdImapSession *session;
  guint timeout_after_idle = 0;
  Events ev;

  /* a session in the client's pool, whose connection the test can reach */
  td_imap_client_set_password (client, "secret");
  td_imap_client_acquire_async (client, TD_IMAP_CLIENT_COMMANDS, NULL, td_test_store_result,
                                &result);
  session = td_imap_client_acquire_finish (client, td_test_wait_result (&result, WAIT_MS),
                                           &error);
  g_assert_no_error (error);
  connection = g_object_ref (td_imap_client_get_connection (client, session));
  td_imap_client_release (client, session, TRUE);
  g_object_unref (session);

  watch = td_imap_watch_new_for_client (client, "INBOX");
  events_init (&ev, watch);
  g_signal_connect (watch, "notify::online", G_CALLBACK (set_short_timeout_cb), connection);
  g_object_set_data (G_OBJECT (watch), "connection", connection);
  td_imap_watch_set_network_monitor (watch, G_NETWORK_MONITOR (monitor));
  td_imap_watch_set_poll_interval (watch, 3600);
  td_imap_watch_start (watch, NULL);
  WAIT_UNTIL (ev.changed->len == 2 || ev.went_offline > 0, WAIT_MS);
  g_assert_cmpuint (ev.went_offline, ==, 0);
  g_assert_true (td_imap_watch_get_online (watch));
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
  /* no read timeout while idling */
  g_assert_cmpuint (td_connection_get_timeout (connection), ==, 0);

  /* end the IDLE now (a network change does): the NOOP after it has its timeout again */
  g_signal_connect (watch, "changed", G_CALLBACK (record_timeout_cb), &timeout_after_idle);
  td_test_network_monitor_changed (monitor);
  td_test_script_server_wait_finished (server, WAIT_MS);
  td_test_script_server_assert_finished (server);
  WAIT_UNTIL (ev.changed->len == 3, WAIT_MS);
  g_assert_cmpuint (timeout_after_idle, ==, 1);
  g_assert_cmpuint (ev.went_offline, ==, 0);
  td_imap_watch_stop (watch);
  events_clear (&ev);
}

/* --- Suspend --- */

typedef struct
{
  TdTestBus       *bus;
  GDBusConnection *watch_bus;   /* the watch's connection */
  GDBusConnection *logind;      /* owns org.freedesktop.login1 */
} FakeLogind;

static void
fake_logind_start (FakeLogind *fl)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint32 result;

  fl->bus = td_test_bus_start (&error);
  g_assert_no_error (error);
  fl->watch_bus = td_test_bus_connect (fl->bus, &error);
  g_assert_no_error (error);
  fl->logind = td_test_bus_connect (fl->bus, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (fl->logind, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.login1", 0),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &result);
  g_assert_cmpuint (result, ==, 1);   /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
}

/* Everything the watch asked of the bus so far (its match rule) is done. */
static void
fake_logind_sync (FakeLogind *fl)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
    g_dbus_connection_call_sync (fl->watch_bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "GetId", NULL, G_VARIANT_TYPE ("(s)"),
                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

  g_assert_no_error (error);
}

static void
fake_logind_prepare_for_sleep (FakeLogind *fl,
                               gboolean    sleeping)
{
  g_autoptr(GError) error = NULL;

  g_dbus_connection_emit_signal (fl->logind, NULL, "/org/freedesktop/login1",
                                 "org.freedesktop.login1.Manager", "PrepareForSleep",
                                 g_variant_new ("(b)", sleeping), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (fl->logind, NULL, &error);
  g_assert_no_error (error);
}

static void
fake_logind_stop (FakeLogind *fl)
{
  if (fl->logind != NULL)
    g_dbus_connection_close_sync (fl->logind, NULL, NULL);
  if (fl->watch_bus != NULL)
    g_dbus_connection_close_sync (fl->watch_bus, NULL, NULL);
  g_clear_object (&fl->logind);
  g_clear_object (&fl->watch_bus);
  g_clear_pointer (&fl->bus, td_test_bus_free);
}

/* After a resume the old connection is most likely dead though nothing said so: the watch
 * reconnects at once (long before its renewal or any backoff). Going to sleep changes
 * nothing. */
static void
test_resume (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *first = script_examined ("IMAP4rev1 IDLE",
                                            "C: A3 IDLE\n"
                                            "S: + idling\n"
                                            "C! close\n");
  g_autofree char *second = script_examined ("IMAP4rev1 IDLE",
                                             "C: A3 IDLE\n"
                                             "S: + idling\n");
  g_autoptr(TdTestScriptServer) server1 = next_server (f, first);
  g_autoptr(TdTestScriptServer) server2 = NULL;
  FakeLogind fl = { 0 };
  gint64 resumed;

  fake_logind_start (&fl);
  td_imap_watch_set_system_bus (f->watch, fl.watch_bus);
  td_imap_watch_set_poll_interval (f->watch, 3600);
  td_imap_watch_start (f->watch, "secret");
  fake_logind_sync (&fl);
  WAIT_UNTIL (td_imap_watch_get_online (f->watch) && f->ev.changed->len == 1, WAIT_MS);

  /* going to sleep: nothing to do yet */
  fake_logind_prepare_for_sleep (&fl, TRUE);
  run_for (300);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
  g_assert_false (td_test_script_server_is_finished (server1));

  /* waking up: a new connection at once */
  server2 = next_server (f, second);
  resumed = g_get_monotonic_time ();
  fake_logind_prepare_for_sleep (&fl, FALSE);
  WAIT_UNTIL (td_test_script_server_is_finished (server2), WAIT_MS);
  td_test_script_server_assert_finished (server1);
  td_test_script_server_assert_finished (server2);
  g_assert_cmpint (g_get_monotonic_time () - resumed, <, 2 * G_USEC_PER_SEC);
  WAIT_UNTIL (td_imap_watch_get_online (f->watch), WAIT_MS);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);
  g_assert_cmpuint (f->ev.went_online, ==, 2);
  /* what happened while asleep is fetched */
  g_assert_cmpuint (f->ev.changed->len, ==, 2);

  td_imap_watch_stop (f->watch);
  fake_logind_stop (&fl);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/imap/watch/poll-without-idle", test_poll_without_idle);
  ADD ("/imap/watch/backoff", test_backoff);
  ADD ("/imap/watch/renew-interval", test_renew_interval);
  ADD ("/imap/watch/renew-cap", test_renew_cap);
  ADD ("/imap/watch/network-lost", test_network_lost);
  ADD ("/imap/watch/network-changed-alive", test_network_changed_alive);
  ADD ("/imap/watch/network-changed-dead", test_network_changed_dead);
  ADD ("/imap/watch/idle-quiet", test_idle_quiet);
  ADD ("/imap/watch/resume", test_resume);

#undef ADD

  return g_test_run ();
}
