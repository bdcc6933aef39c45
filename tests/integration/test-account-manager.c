/* test-account-manager.c: the account manager against a real Dovecot and a real keyring
 *
 * The manager gives each IMAP account one TdImapClient: its syncs, bodies fetched on demand
 * and push watches share the logged-in connections. Push (IDLE on the Inbox and on the folder
 * being viewed) syncs by itself when new mail arrives, and closing the manager logs every
 * connection out. The account connects through a proxy, which counts the connections.
 * A POP3 account beside it, which cannot be told of new mail, is checked at an interval, not
 * while the network is gone, and at once when it comes back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>

#include "td-account-manager.h"
#include "td-error.h"
#include "td-secret-credentials.h"
#include "td-store.h"
#include "td-test-dovecot.h"
#include "td-test-network-monitor.h"
#include "td-test-store.h"
#include "td-test-util.h"

#define TIMEOUT_MS 30000

/* Dovecot's own list without NOTIFY: the viewed folder then needs a watch of its own. */
#define NO_NOTIFY_CAPS "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE CONDSTORE QRESYNC UIDPLUS " \
                       "ESEARCH SPECIAL-USE LIST-EXTENDED LIST-STATUS NAMESPACE MOVE"

typedef struct
{
  TdTestDovecot    *server;
  TdTestProxy      *proxy;
  TdStore          *store;
  TdAccountManager *manager;
  TdAccount        *account;
  char             *profile;
  guint             synced;     /* "sync-finished" without an error */
  guint             started;    /* "sync-started" */
  guint             wanted_started;
  guint             new_mail;   /* the sum of the counts of "new-mail" */
  TdAccount        *new_mail_account;
} Fixture;

static void
sync_started_cb (TdAccountManager *manager,
                 TdAccount        *account,
                 Fixture          *f)
{
  f->started++;
}

static void
new_mail_cb (TdAccountManager *manager,
             TdAccount        *account,
             guint             count,
             Fixture          *f)
{
  f->new_mail += count;
  g_set_object (&f->new_mail_account, account);
}

static void
sync_finished_cb (TdAccountManager *manager,
                  TdAccount        *account,
                  const GError     *error,
                  Fixture          *f)
{
  if (error == NULL)
    f->synced++;
  else
    g_test_message ("sync failed: %s", error->message);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(TdCredentials) credentials = td_secret_credentials_new ();
  g_autofree char *path = NULL;

  g_setenv ("TD_MAIL_CAPS", NO_NOTIFY_CAPS, TRUE);
  f->server = td_test_dovecot_start (&error);
  g_unsetenv ("TD_MAIL_CAPS");
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Inbox message", 5, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Projects", "Project", 2, &error);
  g_assert_no_error (error);
  f->proxy = td_test_proxy_new (td_test_dovecot_get_port (f->server, "imaps"), 0);

  f->profile = td_test_make_tempdir ("profile");
  path = g_build_filename (f->profile, "tidings.db", NULL);
  f->store = td_test_store_open (path, TIMEOUT_MS);

  f->manager = td_account_manager_new (f->store, credentials);
  g_signal_connect (f->manager, "sync-finished", G_CALLBACK (sync_finished_cb), f);
  g_signal_connect (f->manager, "sync-started", G_CALLBACK (sync_started_cb), f);
  g_signal_connect (f->manager, "new-mail", G_CALLBACK (new_mail_cb), f);
  f->account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@localhost", "localhost",
                               td_test_proxy_get_port (f->proxy), TD_SECURITY_TLS, "alice");
  td_account_set_pinned_fingerprint (f->account, td_test_dovecot_get_fingerprint (f->server));
  td_account_manager_add_account_async (f->manager, f->account,
                                        td_test_dovecot_get_password (f->server), NULL,
                                        td_test_store_result, &result);
  td_account_manager_add_account_finish (f->manager,
                                         td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_signal_handlers_disconnect_by_data (f->manager, f);
  g_clear_object (&f->manager);
  td_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_object (&f->account);
  g_clear_object (&f->new_mail_account);
  g_clear_pointer (&f->proxy, td_test_proxy_free);
  g_clear_pointer (&f->server, td_test_dovecot_free);
  g_free (f->profile);
}

static void
sync_ok (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_account_manager_sync_async (f->manager, f->account, NULL, td_test_store_result, &result);
  td_account_manager_sync_finish (f->manager, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
}

static TdFolder *
local_folder (Fixture    *f,
              const char *path)
{
  g_autoptr(GPtrArray) folders = td_store_list_folders (f->store, td_account_get_id (f->account),
                                                        NULL);

  g_assert_nonnull (folders);
  for (guint i = 0; i < folders->len; i++)
    if (g_strcmp0 (td_folder_get_path (g_ptr_array_index (folders, i)), path) == 0)
      return g_object_ref (g_ptr_array_index (folders, i));
  g_error ("no local folder %s", path);
  return NULL;
}

static TdMessage *
find_local (Fixture    *f,
            const char *path,
            const char *subject)
{
  g_autoptr(TdFolder) dir = local_folder (f, path);

  return td_test_store_find_subject (f->store, td_folder_get_id (dir), subject);
}

typedef struct
{
  Fixture    *f;
  const char *path;
  const char *subject;
} Wanted;

static gboolean
has_local (gpointer data)
{
  Wanted *wanted = data;
  g_autoptr(TdMessage) message = find_local (wanted->f, wanted->path, wanted->subject);

  return message != NULL;
}

static gboolean
is_online (gpointer data)
{
  Fixture *f = data;

  return td_account_manager_is_online (f->manager, f->account);
}

static gboolean
proxy_alive_is (Fixture *f,
                guint    alive)
{
  return td_test_proxy_get_alive (f->proxy) == alive;
}

static gboolean
all_closed (gpointer data)
{
  return proxy_alive_is (data, 0);
}

/* Waits for a sync after @before finished ones (push syncs by itself). */
static void
wait_synced (Fixture *f,
             guint    before)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_MS * (gint64) 1000;

  while (f->synced <= before)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for a sync");
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Syncs and a body on demand share one login; push watches the Inbox and the folder being
 * viewed, syncs by itself when mail arrives in either, and closing logs everything out. */
static void
test_shared_connections (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(TdMessage) message = NULL;
  g_autoptr(TdFolder) projects = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Wanted wanted = { NULL, NULL, NULL };
  guint synced;

  sync_ok (f);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
  message = find_local (f, "INBOX", "Inbox message 3");
  g_assert_nonnull (message);

  /* the second sync and a body on demand take the pooled session: no new login */
  sync_ok (f);
  td_account_manager_fetch_body_async (f->manager, td_message_get_id (message), NULL,
                                       td_test_store_result, &result);
  td_account_manager_fetch_body_finish (f->manager, td_test_wait_result (&result, TIMEOUT_MS),
                                        &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);

  /* push: the Inbox watch takes the idle session; the sync it asks for (what happened
   * meanwhile) opens another one */
  synced = f->synced;
  td_account_manager_start_push (f->manager);
  td_test_wait_until (is_online, f, TIMEOUT_MS, "the Inbox watch");
  wait_synced (f, synced);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);

  /* the folder being viewed gets a watch of its own (no NOTIFY here): it takes the pooled
   * session, and its first sync opens a third */
  synced = f->synced;
  projects = local_folder (f, "Projects");
  td_account_manager_set_viewed_folder (f->manager, projects);
  wait_synced (f, synced);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 3);
  g_assert_cmpuint (td_test_proxy_get_alive (f->proxy), ==, 3);

  /* new mail in either folder shows up without a sync asked for */
  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Pushed", 1, &error);
  g_assert_no_error (error);
  wanted.f = f;
  wanted.path = "INBOX";
  wanted.subject = "Pushed 1";
  td_test_wait_until (has_local, &wanted, TIMEOUT_MS, "the pushed message in the Inbox");
  td_test_dovecot_save_generated (f->server, "alice", "Projects", "Viewed", 1, &error);
  g_assert_no_error (error);
  wanted.path = "Projects";
  wanted.subject = "Viewed 1";
  td_test_wait_until (has_local, &wanted, TIMEOUT_MS, "the pushed message in the viewed folder");
  /* and a second one into the same folder */
  td_test_dovecot_save_generated (f->server, "alice", "Projects", "Again", 1, &error);
  g_assert_no_error (error);
  wanted.subject = "Again 1";
  td_test_wait_until (has_local, &wanted, TIMEOUT_MS,
                      "the second pushed message in the viewed folder");
  /* the syncs pushed ran on the pooled session: still three connections */
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 3);

  /* closing logs out the watches and the pooled session */
  td_account_manager_close_async (f->manager, NULL, td_test_store_result, &result);
  g_assert_true (td_account_manager_close_finish (f->manager,
                                                  td_test_wait_result (&result, TIMEOUT_MS),
                                                  &error));
  g_assert_no_error (error);
  td_test_wait_until (all_closed, f, TIMEOUT_MS, "every connection to close");
  g_assert_false (td_account_manager_is_online (f->manager, f->account));

  /* and the manager still works afterwards, with a new connection */
  sync_ok (f);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 4);
}

static gboolean
new_mail_is (Fixture *f,
             guint    count)
{
  return f->new_mail == count;
}

static gboolean
one_new (gpointer data)
{
  return new_mail_is (data, 1);
}

static gboolean
two_new (gpointer data)
{
  return new_mail_is (data, 2);
}

static gboolean
started_enough (gpointer data)
{
  Fixture *f = data;

  return f->started >= f->wanted_started;
}

/* Runs the main loop for @ms milliseconds. */
static void
spin (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * (gint64) 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE), g_usleep (10000);
}

/* A POP3 account (bob's mailbox, beside alice's IMAP one) is checked every interval while push
 * runs, announces what it downloaded, skips its rounds while the network is gone and is
 * checked at once when it comes back. */
static void
test_pop3_check (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(TdTestNetworkMonitor) monitor = td_test_network_monitor_new (TRUE);
  g_autoptr(TdAccount) pop3 = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TdMessage) message = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  gint64 inbox_id = 0;
  guint started;

  pop3 = td_account_new (TD_ACCOUNT_KIND_POP3, "bob@localhost", "localhost",
                         td_test_dovecot_get_port (f->server, "pop3s"), TD_SECURITY_TLS, "bob");
  td_account_set_pinned_fingerprint (pop3, td_test_dovecot_get_fingerprint (f->server));
  td_account_manager_add_account_async (f->manager, pop3, td_test_dovecot_get_password (f->server),
                                        NULL, td_test_store_result, &result);
  td_account_manager_add_account_finish (f->manager, td_test_wait_result (&result, TIMEOUT_MS),
                                         &error);
  g_assert_no_error (error);
  g_assert_cmpuint (td_account_manager_get_check_interval (f->manager), ==, 600);

  td_account_manager_set_network_monitor (f->manager, G_NETWORK_MONITOR (monitor));
  td_account_manager_set_check_interval (f->manager, 1);
  td_account_manager_start_push (f->manager);

  /* the next round brings a message delivered meanwhile, and says so */
  td_test_dovecot_save_generated (f->server, "bob", "INBOX", "Checked", 1, &error);
  g_assert_no_error (error);
  td_test_wait_until (one_new, f, TIMEOUT_MS, "the POP3 check to bring the message");
  g_assert_cmpstr (td_account_get_address (f->new_mail_account), ==, "bob@localhost");
  folders = td_store_list_folders (f->store, td_account_get_id (pop3), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < folders->len; i++)
    if (td_folder_get_role (g_ptr_array_index (folders, i)) == TD_FOLDER_ROLE_INBOX)
      inbox_id = td_folder_get_id (g_ptr_array_index (folders, i));
  g_assert_cmpint (inbox_id, >, 0);
  message = td_test_store_find_subject (f->store, inbox_id, "Checked 1");
  g_assert_nonnull (message);

  /* a round finds nothing new: no announcement */
  started = f->started;
  f->wanted_started = started + 2;
  td_test_wait_until (started_enough, f, TIMEOUT_MS, "two more rounds");
  spin (200);
  g_assert_cmpuint (f->new_mail, ==, 1);

  /* no rounds while the network is gone */
  td_test_network_monitor_set_available (monitor, FALSE);
  spin (500);                           /* a round that had started ends */
  started = f->started;
  td_test_dovecot_save_generated (f->server, "bob", "INBOX", "Offline", 1, &error);
  g_assert_no_error (error);
  spin (2500);
  g_assert_cmpuint (f->started, ==, started);

  /* back: checked at once, not an interval later */
  td_account_manager_set_check_interval (f->manager, 3600);
  td_test_network_monitor_set_available (monitor, TRUE);
  td_test_wait_until (two_new, f, TIMEOUT_MS, "the check when the network is back");

  td_account_manager_stop_push (f->manager);
  started = f->started;
  td_account_manager_set_check_interval (f->manager, 1);
  spin (2500);
  g_assert_cmpuint (f->started, ==, started);
}

static gboolean
no_accounts (gpointer data)
{
  Fixture *f = data;

  return g_list_model_get_n_items (td_account_manager_get_accounts (f->manager)) == 0;
}

/* Removing an account while its push runs and a sync is under way: the sync ends first, the
 * connections close, the password leaves the keyring and the account's rows the store. */
static void
test_remove (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GAsyncResult) sync_result = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autofree char *password = NULL;
  g_autoptr(TdFolder) inbox = NULL;
  g_autoptr(TdMessage) message = NULL;
  gint64 id = td_account_get_id (f->account);

  sync_ok (f);
  inbox = local_folder (f, "INBOX");
  td_account_manager_start_push (f->manager);
  td_test_wait_until (is_online, f, TIMEOUT_MS, "the Inbox watch");
  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Late", 1, &error);
  g_assert_no_error (error);

  /* a sync under way when the removal is asked for */
  td_account_manager_sync_async (f->manager, f->account, NULL, td_test_store_result,
                                 &sync_result);
  g_assert_true (td_account_manager_is_syncing (f->manager));
  td_account_manager_remove_account_async (f->manager, f->account, NULL, td_test_store_result,
                                           &result);
  td_account_manager_remove_account_finish (f->manager,
                                            td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  /* the sync had ended (either way) before the rows went */
  g_assert_nonnull (sync_result);
  g_assert_false (td_account_manager_is_syncing (f->manager));

  td_test_wait_until (no_accounts, f, TIMEOUT_MS, "the account to leave the list");
  td_test_wait_until (all_closed, f, TIMEOUT_MS, "its connections to close");
  accounts = td_store_list_accounts (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (accounts->len, ==, 0);
  folders = td_store_list_folders (f->store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (folders->len, ==, 0);
  message = td_test_store_find_subject (f->store, td_folder_get_id (inbox), "Inbox message 1");
  g_assert_null (message);

  /* the password is gone from the real keyring */
  td_credentials_lookup_async (td_account_manager_get_credentials (f->manager), f->account, NULL,
                               td_test_store_result, &result);
  password = td_credentials_lookup_finish (td_account_manager_get_credentials (f->manager),
                                           td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_null (password);
  g_assert_error (error, TD_ERROR, TD_ERROR_NO_PASSWORD);
  g_clear_error (&error);

  /* nothing comes back: no watch, no sync */
  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "After", 1, &error);
  g_assert_no_error (error);
  spin (1500);
  g_assert_cmpuint (td_test_proxy_get_alive (f->proxy), ==, 0);
  g_assert_false (td_account_manager_is_syncing (f->manager));
}

int
main (int    argc,
      char **argv)
{
  td_test_init (&argc, &argv);

  g_test_add ("/account-manager/shared-connections", Fixture, NULL, fixture_setup,
              test_shared_connections, fixture_teardown);
  g_test_add ("/account-manager/pop3-check", Fixture, NULL, fixture_setup,
              test_pop3_check, fixture_teardown);
  g_test_add ("/account-manager/remove", Fixture, NULL, fixture_setup, test_remove,
              fixture_teardown);

  return g_test_run ();
}
