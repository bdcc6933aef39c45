/* test-sender.c: TdSender against a scripted SMTP server over TLS, with a POP3 account
 *
 * The account is POP3, so that the after-send work is all local (the copy in the local Sent
 * folder, \Answered on the original) and the only server is the scripted one; the IMAP copy
 * (APPEND) is covered by tests/integration/test-smtp-send.c. The outbox state is checked in
 * the store after each run, runs follow each other like restarts, and the clock is the test's.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-sender.h"
#include "td-store-outbox.h"
#include "td-test-network-monitor.h"
#include "td-test-script-server.h"
#include "td-test-store.h"
#include "td-test-util.h"

#define WAIT_MS 20000
#define NOW     ((gint64) 1800000000)

/* --- A TdCredentials that knows one password --- */

#define TEST_TYPE_CREDENTIALS (test_credentials_get_type ())
G_DECLARE_FINAL_TYPE (TestCredentials, test_credentials, TEST, CREDENTIALS, GObject)

struct _TestCredentials
{
  GObject parent_instance;
  guint   smtp_lookups;
};

static void test_credentials_iface_init (TdCredentialsInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestCredentials, test_credentials, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TD_TYPE_CREDENTIALS,
                                                      test_credentials_iface_init))

static void
test_lookup_async (TdCredentials        *credentials,
                   TdAccount            *account,
                   TdCredentialsService  service,
                   GCancellable         *cancellable,
                   GAsyncReadyCallback   callback,
                   gpointer              user_data)
{
  g_autoptr(GTask) task = g_task_new (credentials, cancellable, callback, user_data);

  if (service == TD_CREDENTIALS_SMTP)
    TEST_CREDENTIALS (credentials)->smtp_lookups++;
  g_task_return_pointer (task, g_strdup ("secret"), g_free);
}

static char *
test_lookup_finish (TdCredentials  *credentials,
                    GAsyncResult   *result,
                    GError        **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_credentials_iface_init (TdCredentialsInterface *iface)
{
  iface->lookup_async = test_lookup_async;
  iface->lookup_finish = test_lookup_finish;
}

static void
test_credentials_class_init (TestCredentialsClass *klass)
{
}

static void
test_credentials_init (TestCredentials *self)
{
}

/* --- Fixture --- */

typedef struct
{
  TdStore         *store;
  TdAccount       *account;
  TestCredentials *credentials;
  TdSender        *sender;
  gint64           inbox;
  gint64           sent;
  guint            n_sent_signals;
  guint            n_failed_signals;
  gboolean         last_will_retry;
} Fixture;

static void
on_sent (TdSender   *sender,
         gint64      id,
         const char *note,
         Fixture    *f)
{
  f->n_sent_signals++;
}

static void
on_failed (TdSender     *sender,
           gint64        id,
           const GError *error,
           gboolean      will_retry,
           Fixture      *f)
{
  f->n_failed_signals++;
  f->last_will_retry = will_retry;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "sender.db", NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) folders = NULL;

  f->store = td_test_store_open (path, WAIT_MS);
  f->account = td_account_new (TD_ACCOUNT_KIND_POP3, "alice@example.org", "localhost", 995,
                               TD_SECURITY_TLS, "alice");
  td_account_set_pinned_fingerprint (f->account, TD_TEST_SCRIPT_SERVER_FINGERPRINT);
  td_store_add_account_async (f->store, f->account, NULL, td_test_store_result, &result);
  g_assert_true (td_store_add_account_finish (f->store, td_test_wait_result (&result, WAIT_MS),
                                              &error));
  folders = td_store_list_folders (f->store, td_account_get_id (f->account), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < folders->len; i++)
    {
      TdFolder *folder = g_ptr_array_index (folders, i);

      if (td_folder_get_role (folder) == TD_FOLDER_ROLE_SENT)
        f->sent = td_folder_get_id (folder);
      else if (td_folder_get_role (folder) == TD_FOLDER_ROLE_INBOX)
        f->inbox = td_folder_get_id (folder);
    }
  g_assert_cmpint (f->sent, >, 0);

  f->credentials = g_object_new (TEST_TYPE_CREDENTIALS, NULL);
  f->sender = td_sender_new (f->store, TD_CREDENTIALS (f->credentials));
  td_sender_set_now (f->sender, NOW);
  g_signal_connect (f->sender, "message-sent", G_CALLBACK (on_sent), f);
  g_signal_connect (f->sender, "message-failed", G_CALLBACK (on_failed), f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->sender);
  g_clear_object (&f->credentials);
  g_clear_object (&f->account);
  g_clear_object (&f->store);
}

/* SMTP on @server (or on a port where nothing listens, when NULL). */
static void
use_server (Fixture            *f,
            TdTestScriptServer *server)
{
  guint16 port = 9;   /* discard: nothing listens there */

  if (server != NULL)
    port = td_test_script_server_get_port (server);
  td_account_set_smtp (f->account, "localhost", port, TD_SECURITY_TLS, NULL);
}

static gint64
queue (Fixture    *f,
       const char *subject,
       gint64      original_id)
{
  static const char * const to[] = { "bob@example.org", NULL };
  g_autofree char *text = g_strdup_printf ("From: alice@example.org\r\nTo: bob@example.org\r\n"
                                           "Subject: %s\r\n\r\nHello\r\n", subject);
  g_autoptr(GBytes) raw = g_bytes_new (text, strlen (text));
  g_autoptr(TdOutboxItem) item = td_outbox_item_new (td_account_get_id (f->account),
                                                     "alice@example.org", to, raw);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  item->subject = g_strdup (subject);
  item->original_id = original_id;
  item->original_kind = original_id > 0 ? TD_OUTBOX_ORIGINAL_REPLY : TD_OUTBOX_ORIGINAL_NONE;
  td_store_outbox_add_async (f->store, item, NULL, td_test_store_result, &result);
  id = td_store_outbox_add_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
  return id;
}

static void
run (Fixture  *f,
     gboolean  force,
     guint     expect_sent,
     guint     expect_left)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint n_sent = 99, n_left = 99;

  td_sender_run_async (f->sender, f->account, force, NULL, td_test_store_result, &result);
  g_assert_true (td_sender_run_finish (f->sender, td_test_wait_result (&result, WAIT_MS),
                                       &n_sent, &n_left, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_sent, ==, expect_sent);
  g_assert_cmpuint (n_left, ==, expect_left);
}

static GPtrArray *
outbox (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *items;

  td_store_outbox_list_async (f->store, 0, FALSE, NULL, td_test_store_result, &result);
  items = td_store_outbox_list_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
  return items;
}

static void
store_op (Fixture      *f,
          GAsyncResult **result)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (td_store_outbox_op_finish (f->store, td_test_wait_result (result, WAIT_MS),
                                            &error));
  g_assert_no_error (error);
  g_clear_object (result);
}

#define SMTP_LOGIN \
  "S: 220 localhost ESMTP\n" \
  "C: EHLO [127.0.0.1]\n" \
  "S: 250-localhost\n" \
  "S: 250-PIPELINING\n" \
  "S: 250 AUTH PLAIN\n" \
  "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n" \
  "S: 235 ok\n"

#define SMTP_ACCEPT(subject) \
  "C: MAIL FROM:<alice@example.org>\n" \
  "C: RCPT TO:<bob@example.org>\n" \
  "C: DATA\n" \
  "S: 250 ok\n" \
  "S: 250 ok\n" \
  "S: 354 go\n" \
  "C: From: alice@example.org\n" \
  "C: To: bob@example.org\n" \
  "C: Subject: " subject "\n" \
  "C: \n" \
  "C: Hello\n" \
  "C: .\n" \
  "S: 250 queued\n"

#define SMTP_QUIT \
  "C: QUIT\n" \
  "S: 221 bye\n" \
  "C! close\n"

/* Sent: the row goes, a read copy is in Sent, the original is \Answered. A second run sends
 * nothing (it would connect to nothing). */
static void
test_send (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(TdTestScriptServer) server =
    td_test_script_server_new_tls (SMTP_LOGIN SMTP_ACCEPT ("first") SMTP_QUIT);
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(TdMessage) copy = NULL;
  g_autoptr(TdMessage) original = NULL;
  g_autoptr(GBytes) raw = g_bytes_new_static ("Subject: original\r\n\r\nx\r\n", 24);
  g_autoptr(GPtrArray) downloads = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 original_id;

  /* an original to answer: a local message of the Inbox */
  {
    g_autoptr(TdMessageSpec) spec = td_message_spec_new (1, 0, NOW, 24, raw);
    g_autoptr(GPtrArray) specs = g_ptr_array_new ();

    g_ptr_array_add (specs, spec);
    td_store_add_messages_async (f->store, f->inbox, specs, NULL, td_test_store_result, &result);
    g_assert_true (td_store_add_messages_finish (f->store,
                                                 td_test_wait_result (&result, WAIT_MS), &error));
    g_assert_no_error (error);
  }
  original = td_test_store_find_subject (f->store, f->inbox, "original");
  g_assert_nonnull (original);
  original_id = td_message_get_id (original);
  g_assert_false (td_message_get_flags (original) & TD_FLAG_ANSWERED);

  use_server (f, server);
  queue (f, "first", original_id);
  run (f, FALSE, 1, 0);
  td_test_script_server_wait_finished (server, 5000);
  td_test_script_server_assert_finished (server);
  g_assert_cmpuint (f->n_sent_signals, ==, 1);
  g_assert_cmpuint (f->credentials->smtp_lookups, ==, 1);

  items = outbox (f);
  g_assert_cmpuint (items->len, ==, 0);
  copy = td_test_store_find_subject (f->store, f->sent, "first");
  g_assert_nonnull (copy);
  g_assert_true (td_message_get_flags (copy) & TD_FLAG_SEEN);
  g_clear_object (&original);
  original = td_test_store_find_subject (f->store, f->inbox, "original");
  g_assert_true (td_message_get_flags (original) & TD_FLAG_ANSWERED);

  use_server (f, NULL);
  run (f, FALSE, 0, 0);
  g_assert_cmpuint (f->n_failed_signals, ==, 0);
}

/* 4xx: queued again for a minute later; not before (no connection), then sent. */
static void
test_retry_later (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(TdTestScriptServer) first =
    td_test_script_server_new_tls (SMTP_LOGIN
                                   "C: MAIL FROM:<alice@example.org>\n"
                                   "C: RCPT TO:<bob@example.org>\n"
                                   "C: DATA\n"
                                   "S: 451 4.3.0 try again later\n"
                                   "S: 503 no sender\n"
                                   "S: 503 no recipients\n"
                                   "C: RSET\n"
                                   "S: 250 ok\n"
                                   SMTP_QUIT);
  g_autoptr(TdTestScriptServer) second = NULL;
  g_autoptr(GPtrArray) items = NULL;
  TdOutboxItem *item;

  use_server (f, first);
  queue (f, "later", 0);
  run (f, FALSE, 0, 1);
  td_test_script_server_wait_finished (first, 5000);
  td_test_script_server_assert_finished (first);
  g_assert_true (f->last_will_retry);
  items = outbox (f);
  item = g_ptr_array_index (items, 0);
  g_assert_cmpint (item->state, ==, TD_OUTBOX_QUEUED);
  g_assert_cmpuint (item->attempts, ==, 1);
  g_assert_cmpint (item->next_attempt, ==, NOW + 60);
  g_assert_nonnull (strstr (item->last_error, "try again later"));
  g_clear_pointer (&items, g_ptr_array_unref);

  /* too early: nothing happens (nothing listens there) */
  use_server (f, NULL);
  td_sender_set_now (f->sender, NOW + 59);
  run (f, FALSE, 0, 1);
  items = outbox (f);
  g_assert_cmpuint (((TdOutboxItem *) g_ptr_array_index (items, 0))->attempts, ==, 1);
  g_clear_pointer (&items, g_ptr_array_unref);

  second = td_test_script_server_new_tls (SMTP_LOGIN SMTP_ACCEPT ("later") SMTP_QUIT);
  use_server (f, second);
  td_sender_set_now (f->sender, NOW + 60);
  run (f, FALSE, 1, 0);
  td_test_script_server_wait_finished (second, 5000);
  td_test_script_server_assert_finished (second);
}

/* The server down: every due row waits, with the reason and a doubled backoff per attempt. */
static void
test_server_down (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) items = NULL;

  use_server (f, NULL);
  queue (f, "a", 0);
  queue (f, "b", 0);
  run (f, FALSE, 0, 2);
  run (f, TRUE, 0, 2);   /* forced: the backoff is not waited for */
  items = outbox (f);
  g_assert_cmpuint (items->len, ==, 2);
  for (guint i = 0; i < items->len; i++)
    {
      TdOutboxItem *item = g_ptr_array_index (items, i);

      g_assert_cmpint (item->state, ==, TD_OUTBOX_QUEUED);
      g_assert_cmpuint (item->attempts, ==, 2);
      g_assert_cmpint (item->next_attempt, ==, NOW + 120);
      g_assert_nonnull (item->last_error);
    }
  g_assert_cmpuint (td_sender_backoff_seconds (1), ==, 60);
  g_assert_cmpuint (td_sender_backoff_seconds (3), ==, 240);
  g_assert_cmpuint (td_sender_backoff_seconds (30), ==, 3600);
}

/* 5xx for every recipient: failed with who and why, and not sent again by itself. */
static void
test_refused (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(TdTestScriptServer) server =
    td_test_script_server_new_tls (SMTP_LOGIN
                                   "C: MAIL FROM:<alice@example.org>\n"
                                   "C: RCPT TO:<bob@example.org>\n"
                                   "C: DATA\n"
                                   "S: 250 ok\n"
                                   "S: 550 5.1.1 no such user\n"
                                   "S: 554 no valid recipients\n"
                                   "C: RSET\n"
                                   "S: 250 ok\n"
                                   SMTP_QUIT);
  g_autoptr(GPtrArray) items = NULL;
  TdOutboxItem *item;

  use_server (f, server);
  queue (f, "refused", 0);
  run (f, FALSE, 0, 1);
  td_test_script_server_wait_finished (server, 5000);
  td_test_script_server_assert_finished (server);
  g_assert_false (f->last_will_retry);
  items = outbox (f);
  item = g_ptr_array_index (items, 0);
  g_assert_cmpint (item->state, ==, TD_OUTBOX_FAILED);
  g_assert_nonnull (strstr (item->last_error, "bob@example.org (550 no such user)"));

  use_server (f, NULL);
  run (f, TRUE, 0, 1);
  g_assert_cmpuint (f->n_failed_signals, ==, 1);
}

/* A restart after a crash: a row left "sending" is sent again (not one that started sending
 * just now: another process may be at it); a row "sent" is never sent again, only finished
 * (its copy saved). */
static void
test_restart (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(TdTestScriptServer) server =
    td_test_script_server_new_tls (SMTP_LOGIN SMTP_ACCEPT ("was sending") SMTP_QUIT);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(TdMessage) copy1 = NULL;
  g_autoptr(TdMessage) copy2 = NULL;
  gint64 sending = queue (f, "was sending", 0);
  gint64 sent = queue (f, "was sent", 0);

  /* what the dead process left */
  td_store_outbox_mark_sending_async (f->store, sending, NOW - TD_SENDER_SENDING_STALE - 1, NULL,
                                      td_test_store_result, &result);
  store_op (f, &result);
  td_store_outbox_mark_sending_async (f->store, sent, NOW - 10, NULL, td_test_store_result,
                                      &result);
  store_op (f, &result);
  td_store_outbox_mark_sent_async (f->store, sent, NOW - 5, NULL, NULL, td_test_store_result,
                                   &result);
  store_op (f, &result);

  /* one that another process is sending now stays as it is */
  {
    gint64 busy = queue (f, "busy elsewhere", 0);

    td_store_outbox_mark_sending_async (f->store, busy, NOW - 5, NULL, td_test_store_result,
                                        &result);
    store_op (f, &result);
  }

  use_server (f, server);
  run (f, FALSE, 1, 1);
  /* "was sent" did not go out again */
  td_test_script_server_wait_finished (server, 5000);
  td_test_script_server_assert_finished (server);
  items = outbox (f);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpint (((TdOutboxItem *) g_ptr_array_index (items, 0))->state, ==,
                   TD_OUTBOX_SENDING);
  copy1 = td_test_store_find_subject (f->store, f->sent, "was sending");
  copy2 = td_test_store_find_subject (f->store, f->sent, "was sent");
  g_assert_nonnull (copy1);
  g_assert_nonnull (copy2);
}

static gboolean
cancel_cb (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return G_SOURCE_REMOVE;
}

/* While the server sits on the data (it never answers): cancelled. */
static void
cancel_when_sending (TdSender     *sender,
                     const char   *what,
                     GCancellable *cancellable)
{
  if (g_str_has_prefix (what, "Sending"))
    g_timeout_add (300, cancel_cb, cancellable);
}

/* Cancelled while sending (the app quits): queued again for the next run, not failed. */
static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(TdTestScriptServer) server =
    td_test_script_server_new_tls (SMTP_LOGIN
                                   "C: MAIL FROM:<alice@example.org>\n"
                                   "C: RCPT TO:<bob@example.org>\n"
                                   "C: DATA\n"
                                   "C! close\n");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  TdOutboxItem *item;

  use_server (f, server);
  queue (f, "cancelled", 0);
  g_signal_connect (f->sender, "progress", G_CALLBACK (cancel_when_sending), cancellable);
  td_sender_run_async (f->sender, f->account, FALSE, cancellable, td_test_store_result,
                       &result);
  g_assert_false (td_sender_run_finish (f->sender, td_test_wait_result (&result, WAIT_MS), NULL,
                                        NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  td_test_script_server_wait_finished (server, 5000);
  td_test_script_server_assert_finished (server);
  items = outbox (f);
  item = g_ptr_array_index (items, 0);
  g_assert_cmpint (item->state, ==, TD_OUTBOX_QUEUED);
  g_assert_cmpint (item->next_attempt, ==, 0);
}

/* No SMTP server set: failed, saying what to do. */
static void
test_no_server (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) items = NULL;
  TdOutboxItem *item;

  queue (f, "nowhere", 0);
  run (f, FALSE, 0, 1);
  items = outbox (f);
  item = g_ptr_array_index (items, 0);
  g_assert_cmpint (item->state, ==, TD_OUTBOX_FAILED);
  g_assert_nonnull (strstr (item->last_error, "no outgoing (SMTP) server"));
}

/* Sending by itself: not while the network is away; when it comes back; when woken; and
 * when a waiting attempt is due (the timer). */
typedef struct
{
  Fixture            *f;
  guint               rounds;
  TdTestScriptServer *next;   /* the server for the round after a failed one */
} Watch;

static void
on_round (TdSender *sender,
          Watch    *w)
{
  w->rounds++;
  if (w->next != NULL)
    {
      /* a minute later, when the failed attempt is due: the timer fires in a second */
      td_sender_set_now (sender, NOW + 60);
      use_server (w->f, w->next);
    }
}

static gboolean
rounds_at_least (gpointer data)
{
  Watch *w = data;

  return w->rounds >= GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (w->f->sender), "want"));
}

static void
wait_rounds (Watch *w,
             guint  n)
{
  g_object_set_data (G_OBJECT (w->f->sender), "want", GUINT_TO_POINTER (n));
  td_test_wait_until (rounds_at_least, w, WAIT_MS, "a round of sending");
}

static void
test_watch (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(TdTestNetworkMonitor) monitor = td_test_network_monitor_new (FALSE);
  g_autoptr(GListStore) accounts = g_list_store_new (TD_TYPE_ACCOUNT);
  g_autoptr(TdTestScriptServer) first =
    td_test_script_server_new_tls (SMTP_LOGIN SMTP_ACCEPT ("one") SMTP_QUIT);
  g_autoptr(TdTestScriptServer) last = NULL;
  g_autoptr(GPtrArray) items = NULL;
  Watch w = { f, 0, NULL };

  g_list_store_append (accounts, f->account);
  g_signal_connect (f->sender, "round-finished", G_CALLBACK (on_round), &w);
  use_server (f, first);
  queue (f, "one", 0);

  td_sender_start (f->sender, G_LIST_MODEL (accounts), G_NETWORK_MONITOR (monitor));
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (w.rounds, ==, 0);   /* no network */

  td_test_network_monitor_set_available (monitor, TRUE);
  wait_rounds (&w, 1);
  td_test_script_server_wait_finished (first, 5000);
  td_test_script_server_assert_finished (first);
  items = outbox (f);
  g_assert_cmpuint (items->len, ==, 0);
  g_clear_pointer (&items, g_ptr_array_unref);

  /* woken for a new message, which fails for now; the timer sends it when it is due */
  use_server (f, NULL);
  queue (f, "two", 0);
  last = td_test_script_server_new_tls (SMTP_LOGIN SMTP_ACCEPT ("two") SMTP_QUIT);
  w.next = last;
  td_sender_wake (f->sender);
  wait_rounds (&w, 2);
  items = outbox (f);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpuint (((TdOutboxItem *) g_ptr_array_index (items, 0))->attempts, ==, 1);
  g_clear_pointer (&items, g_ptr_array_unref);
  w.next = NULL;
  wait_rounds (&w, 3);
  td_test_script_server_wait_finished (last, 5000);
  td_test_script_server_assert_finished (last);
  items = outbox (f);
  g_assert_cmpuint (items->len, ==, 0);
  td_sender_stop (f->sender);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);
  td_engine_init ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/sender/send", test_send);
  ADD ("/sender/retry-later", test_retry_later);
  ADD ("/sender/server-down", test_server_down);
  ADD ("/sender/refused", test_refused);
  ADD ("/sender/restart", test_restart);
  ADD ("/sender/no-server", test_no_server);
  ADD ("/sender/watch", test_watch);
  ADD ("/sender/cancelled", test_cancelled);

#undef ADD

  return g_test_run ();
}
