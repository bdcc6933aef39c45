/* test-imap-sync.c: TdImapSync against a real Dovecot started by this test
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "td-error.h"
#include "td-imap-sync.h"
#include "td-store.h"
#include "td-test-dovecot.h"
#include "td-test-store.h"
#include "td-test-util.h"

typedef struct
{
  TdTestDovecot *server;
  TdStore       *store;
  char          *profile;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  /* data: "minimal" for a plain IMAP4rev1 server, else the hierarchy separator when not
   * the default "/" */
  if (g_strcmp0 (data, "minimal") == 0)
    g_setenv ("TD_MAIL_MINIMAL", "1", TRUE);
  else if (data != NULL)
    g_setenv ("TD_MAIL_SEPARATOR", data, TRUE);
  f->server = td_test_dovecot_start (&error);
  g_unsetenv ("TD_MAIL_SEPARATOR");
  g_unsetenv ("TD_MAIL_MINIMAL");
  g_assert_no_error (error);
  g_assert_nonnull (f->server);

  f->profile = td_test_make_tempdir ("profile");
  path = g_build_filename (f->profile, "tidings.db", NULL);
  f->store = td_test_store_open (path, 10000);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_pointer (&f->server, td_test_dovecot_free);
  g_free (f->profile);
}

static TdAccount *
add_account (Fixture    *f,
             TdSecurity  security,
             guint16     port,
             const char *pin)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdAccount *account;

  account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@localhost", "localhost", port,
                            security, "alice");
  td_account_set_pinned_fingerprint (account, pin);
  td_store_add_account_async (f->store, account, NULL, td_test_store_result, &result);
  td_store_add_account_finish (f->store, td_test_wait_result (&result, 10000), &error);
  g_assert_no_error (error);
  g_assert_cmpint (td_account_get_id (account), >, 0);
  return account;
}

static TdAccount *
add_tls_account (Fixture *f)
{
  return add_account (f, TD_SECURITY_TLS, td_test_dovecot_get_port (f->server, "imaps"),
                      td_test_dovecot_get_fingerprint (f->server));
}

/* Runs one sync; returns its error (NULL on success). */
static GError *
run_sync (Fixture    *f,
          TdAccount  *account,
          const char *password)
{
  g_autoptr(TdImapSync) sync = td_imap_sync_new (f->store, account);
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;

  td_imap_sync_run_async (sync, password, NULL, td_test_store_result, &result);
  td_imap_sync_run_finish (sync, td_test_wait_result (&result, 120000), &error);
  return error;
}

static void
sync_ok (Fixture   *f,
         TdAccount *account)
{
  GError *error = run_sync (f, account, td_test_dovecot_get_password (f->server));

  g_assert_no_error (error);
}

static guint
folder_total (Fixture    *f,
              TdAccount  *account,
              const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) folder = td_store_find_folder (f->store, td_account_get_id (account), path,
                                                     &error);

  g_assert_no_error (error);
  g_assert_nonnull (folder);
  g_assert_cmpuint (td_folder_get_total (folder), ==,
                    td_store_count_messages (f->store, td_folder_get_id (folder)));
  return td_folder_get_total (folder);
}

static GArray *
list_uids (Fixture   *f,
           gint64     folder_id,
           gboolean   without_body)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GArray *uids;

  td_store_list_uids_async (f->store, folder_id, without_body, NULL, td_test_store_result,
                            &result);
  uids = td_store_list_uids_finish (f->store, td_test_wait_result (&result, 10000), &error);
  g_assert_no_error (error);
  return uids;
}

static void
assert_all_bodies (Fixture   *f,
                   TdAccount *account)
{
  g_autoptr(GPtrArray) folders = td_store_list_folders (f->store, td_account_get_id (account),
                                                        NULL);

  g_assert_nonnull (folders);
  for (guint i = 0; i < folders->len; i++)
    {
      g_autoptr(GArray) missing = list_uids (f, td_folder_get_id (g_ptr_array_index (folders, i)),
                                             TRUE);

      g_assert_cmpuint (missing->len, ==, 0);
    }
}

static void
assert_integrity (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_check_integrity_async (f->store, NULL, td_test_store_result, &result);
  td_store_check_integrity_finish (f->store, td_test_wait_result (&result, 30000), &error);
  g_assert_no_error (error);
}

static void
seed_standard (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Inbox message", 40, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Sent", "Sent message", 7, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Archive/2025", "Old message", 5, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Entwürfe", "Draft", 3, &error);
  g_assert_no_error (error);
  td_test_dovecot_create_folder (f->server, "alice", "Empty", &error);
  g_assert_no_error (error);
}

static void
assert_standard_counts (Fixture   *f,
                        TdAccount *account)
{
  g_assert_cmpuint (folder_total (f, account, "INBOX"), ==, 40);
  g_assert_cmpuint (folder_total (f, account, "Sent"), ==, 7);
  g_assert_cmpuint (folder_total (f, account, "Archive/2025"), ==, 5);
  g_assert_cmpuint (folder_total (f, account, "Entwürfe"), ==, 3);
  g_assert_cmpuint (folder_total (f, account, "Empty"), ==, 0);
}

static void
test_sync_imaps (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_tls_account (f);
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(TdFolder) inbox = NULL;

  seed_standard (f);
  sync_ok (f, account);

  assert_standard_counts (f, account);
  assert_all_bodies (f, account);

  /* "Archive" holds no mail, only "Archive/2025": it is a container in the tree. */
  {
    g_autoptr(TdFolder) parent = td_store_find_folder (f->store, td_account_get_id (account),
                                                       "Archive", NULL);

    g_assert_nonnull (parent);
    g_assert_false (td_folder_get_selectable (parent));
  }

  inbox = td_store_find_folder (f->store, td_account_get_id (account), "INBOX", NULL);
  g_assert_cmpint (td_folder_get_role (inbox), ==, TD_FOLDER_ROLE_INBOX);
  g_assert_cmpuint (td_folder_get_unread (inbox), ==, 40);
  page = td_store_page_messages (f->store, td_folder_get_id (inbox), 0, 100, NULL);
  g_assert_cmpuint (page->len, ==, 40);
  for (guint i = 0; i < page->len; i++)
    {
      TdMessage *m = g_ptr_array_index (page, i);

      g_assert_true (g_str_has_prefix (td_message_get_subject (m), "Inbox message"));
      g_assert_true (td_message_get_has_body (m));
    }

  /* A second sync changes nothing. */
  sync_ok (f, account);
  assert_standard_counts (f, account);
  assert_integrity (f);

  /* Invariant 1: reading changes nothing on the server (nothing expunged, nothing marked
   * read by fetching bodies). */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *status = td_test_dovecot_doveadm_output (f->server, &error, "mailbox",
                                                              "status", "-u", "alice",
                                                              "messages unseen", "INBOX",
                                                              NULL);

    g_assert_no_error (error);
    g_assert_nonnull (strstr (status, "messages=40"));
    g_assert_nonnull (strstr (status, "unseen=40"));
  }
}

/* A server whose hierarchy separator is "." (Courier, Cyrus and many hosted servers). */
static void
test_sync_dot_separator (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_tls_account (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) year = NULL;

  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Inbox message", 4, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Archive.2025", "Old message", 3, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Entwürfe", "Draft", 2, &error);
  g_assert_no_error (error);

  sync_ok (f, account);
  g_assert_cmpuint (folder_total (f, account, "INBOX"), ==, 4);
  g_assert_cmpuint (folder_total (f, account, "Archive.2025"), ==, 3);
  g_assert_cmpuint (folder_total (f, account, "Entwürfe"), ==, 2);
  year = td_store_find_folder (f->store, td_account_get_id (account), "Archive.2025", NULL);
  g_assert_cmpstr (td_folder_get_name (year), ==, "2025");
  g_assert_cmpuint (td_folder_get_depth (year), ==, 1);
  g_assert_cmpint (td_folder_get_delimiter (year), ==, '.');
  assert_all_bodies (f, account);
}

/* A server with none of the extensions: roles are guessed from names, all flags are fetched
 * each time (no CHANGEDSINCE), uids come from a plain SEARCH. */
static void
test_sync_minimal_server (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_tls_account (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) sent = NULL;
  g_autoptr(TdFolder) trash = NULL;
  g_autoptr(TdFolder) inbox = NULL;
  g_autofree char *caps = NULL;

  seed_standard (f);
  td_test_dovecot_save_generated (f->server, "alice", "Trash", "Deleted", 2, &error);
  g_assert_no_error (error);

  sync_ok (f, account);
  assert_standard_counts (f, account);
  assert_all_bodies (f, account);

  sent = td_store_find_folder (f->store, td_account_get_id (account), "Sent", NULL);
  g_assert_cmpint (td_folder_get_role (sent), ==, TD_FOLDER_ROLE_SENT);
  trash = td_store_find_folder (f->store, td_account_get_id (account), "Trash", NULL);
  g_assert_cmpint (td_folder_get_role (trash), ==, TD_FOLDER_ROLE_TRASH);

  /* Flags changed elsewhere arrive without CONDSTORE too. */
  td_test_dovecot_doveadm (f->server, &error, "flags", "add", "-u", "alice", "\\Seen",
                           "mailbox", "INBOX", "uid", "1:5", NULL);
  g_assert_no_error (error);
  sync_ok (f, account);
  inbox = td_store_find_folder (f->store, td_account_get_id (account), "INBOX", NULL);
  g_assert_cmpuint (td_folder_get_unread (inbox), ==, 35);
}

static void
test_sync_starttls (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_account (f, TD_SECURITY_STARTTLS,
                                              td_test_dovecot_get_port (f->server, "imap"),
                                              td_test_dovecot_get_fingerprint (f->server));

  seed_standard (f);
  sync_ok (f, account);
  assert_standard_counts (f, account);
  assert_all_bodies (f, account);
}

static void
test_sync_changes (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_tls_account (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) inbox = NULL;
  g_autoptr(TdFolder) sent = NULL;

  seed_standard (f);
  sync_ok (f, account);

  /* Elsewhere: 5 new, 3 expunged, 4 read, 1 folder gone, 1 folder new. */
  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Later message", 5, &error);
  g_assert_no_error (error);
  td_test_dovecot_doveadm (f->server, &error, "expunge", "-u", "alice", "mailbox", "INBOX",
                           "uid", "1:3", NULL);
  g_assert_no_error (error);
  td_test_dovecot_doveadm (f->server, &error, "flags", "add", "-u", "alice", "\\Seen",
                           "mailbox", "INBOX", "uid", "10:13", NULL);
  g_assert_no_error (error);
  td_test_dovecot_doveadm (f->server, &error, "flags", "add", "-u", "alice", "\\Flagged",
                           "mailbox", "Sent", "uid", "1", NULL);
  g_assert_no_error (error);
  td_test_dovecot_doveadm (f->server, &error, "mailbox", "delete", "-u", "alice", "-s",
                           "Empty", NULL);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Lists/GNOME", "List mail", 2, &error);
  g_assert_no_error (error);

  sync_ok (f, account);

  inbox = td_store_find_folder (f->store, td_account_get_id (account), "INBOX", NULL);
  g_assert_cmpuint (td_folder_get_total (inbox), ==, 42);
  g_assert_cmpuint (td_folder_get_unread (inbox), ==, 38);
  sent = td_store_find_folder (f->store, td_account_get_id (account), "Sent", NULL);
  {
    g_autoptr(GPtrArray) page = td_store_page_messages (f->store, td_folder_get_id (sent), 0, 10,
                                                        NULL);
    guint flagged = 0;

    for (guint i = 0; i < page->len; i++)
      if (td_message_get_flags (g_ptr_array_index (page, i)) & TD_FLAG_FLAGGED)
        flagged++;
    g_assert_cmpuint (flagged, ==, 1);
  }
  g_assert_null (td_store_find_folder (f->store, td_account_get_id (account), "Empty", NULL));
  g_assert_cmpuint (folder_total (f, account, "Lists/GNOME"), ==, 2);
  assert_all_bodies (f, account);

  /* UIDVALIDITY changes when a folder is deleted and made again: fetched anew. */
  td_test_dovecot_doveadm (f->server, &error, "mailbox", "delete", "-u", "alice", "-s",
                           "Sent", NULL);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Sent", "New sent", 2, &error);
  g_assert_no_error (error);
  sync_ok (f, account);
  g_assert_cmpuint (folder_total (f, account, "Sent"), ==, 2);
  assert_all_bodies (f, account);
  assert_integrity (f);
}

static void
test_wrong_password (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_tls_account (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;
  g_autofree char *log_path = NULL;

  seed_standard (f);
  error = run_sync (f, account, "not-the-password");
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_clear_error (&error);

  {
    gint64 until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

    /* Give anything that would retry behind our back the time to do it. */
    while (g_get_monotonic_time () < until)
      g_main_context_iteration (NULL, FALSE);
  }

  /* Dovecot saw exactly one failed login: no retry storm. */
  log_path = g_build_filename (td_test_dovecot_get_dir (f->server), "dovecot.log", NULL);
  g_file_get_contents (log_path, &log, NULL, &error);
  g_assert_no_error (error);
  {
    guint failures = 0;

    for (const char *p = log; (p = strstr (p, "auth failed")) != NULL; p++)
      failures++;
    g_assert_cmpuint (failures, ==, 1);
  }
  g_assert_null (strstr (log, "not-the-password"));

  /* Nothing was stored, and the store is whole. */
  g_assert_null (td_store_find_folder (f->store, td_account_get_id (account), "INBOX", NULL));
  assert_integrity (f);
}

static void
test_untrusted_certificate (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_account (f, TD_SECURITY_TLS,
                                              td_test_dovecot_get_port (f->server, "imaps"),
                                              NULL);
  g_autoptr(TdAccount) starttls = add_account (f, TD_SECURITY_STARTTLS,
                                               td_test_dovecot_get_port (f->server, "imap"),
                                               NULL);
  g_autoptr(TdImapSync) sync = td_imap_sync_new (f->store, account);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const TdCertificateInfo *info;

  seed_standard (f);

  td_imap_sync_run_async (sync, td_test_dovecot_get_password (f->server), NULL,
                          td_test_store_result, &result);
  td_imap_sync_run_finish (sync, td_test_wait_result (&result, 30000), &error);
  g_assert_error (error, TD_ERROR, TD_ERROR_CERTIFICATE);
  g_clear_error (&error);
  info = td_imap_sync_get_certificate_info (sync);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->fingerprint, ==, td_test_dovecot_get_fingerprint (f->server));
  g_assert_null (td_store_find_folder (f->store, td_account_get_id (account), "INBOX", NULL));

  /* STARTTLS is refused the same way, before any password is sent. */
  error = run_sync (f, starttls, td_test_dovecot_get_password (f->server));
  g_assert_error (error, TD_ERROR, TD_ERROR_CERTIFICATE);
  g_clear_error (&error);

  /* A wrong pin is no better. */
  td_account_set_pinned_fingerprint (account, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                              "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  error = run_sync (f, account, td_test_dovecot_get_password (f->server));
  g_assert_error (error, TD_ERROR, TD_ERROR_CERTIFICATE);
  g_clear_error (&error);

  /* Pinned: accepted. */
  td_account_set_pinned_fingerprint (account, info->fingerprint);
  sync_ok (f, account);
  assert_standard_counts (f, account);
}

static void
test_offline (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_tls_account (f);
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;
  guint opened = 0;

  seed_standard (f);
  sync_ok (f, account);

  td_test_dovecot_stop (f->server);

  /* The server is gone: a sync fails clearly, and every message still opens. */
  error = run_sync (f, account, td_test_dovecot_get_password (f->server));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_clear_error (&error);

  folders = td_store_list_folders (f->store, td_account_get_id (account), NULL);
  for (guint i = 0; i < folders->len; i++)
    {
      TdFolder *folder = g_ptr_array_index (folders, i);
      g_autoptr(GPtrArray) page = td_store_page_messages (f->store, td_folder_get_id (folder),
                                                          0, 1000, NULL);

      for (guint j = 0; j < page->len; j++)
        {
          g_autoptr(GAsyncResult) result = NULL;
          g_autoptr(GBytes) raw = NULL;
          TdMessage *m = g_ptr_array_index (page, j);

          td_store_get_body_async (f->store, td_message_get_id (m), NULL, td_test_store_result,
                                   &result);
          raw = td_store_get_body_finish (f->store, td_test_wait_result (&result, 10000), &error);
          g_assert_no_error (error);
          g_assert_nonnull (strstr (g_bytes_get_data (raw, NULL), td_message_get_subject (m)));
          opened++;
        }
    }
  g_assert_cmpuint (opened, ==, 55);
}

static void
test_cut_mid_fetch (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_tls_account (f);
  g_autoptr(TdTestProxy) proxy = NULL;
  g_autoptr(GError) error = NULL;
  guint cuts = 0;

  seed_standard (f);
  td_test_dovecot_save_generated (f->server, "alice", "Big", "Bulk", 400, &error);
  g_assert_no_error (error);

  /* Cut the connection after 100 KB, then 300 KB, ...: each sync fails clearly and keeps
   * what it stored; the store stays whole. */
  for (guint64 cut = 100 * 1024; cut < 2 * 1024 * 1024; cut *= 3)
    {
      g_clear_pointer (&proxy, td_test_proxy_free);
      proxy = td_test_proxy_new (td_test_dovecot_get_port (f->server, "imaps"), cut);
      g_object_set (account, "port", (guint) td_test_proxy_get_port (proxy), NULL);

      error = run_sync (f, account, td_test_dovecot_get_password (f->server));
      if (error != NULL)
        {
          g_assert_true (error->domain == TD_ERROR);
          g_assert_true (error->code == TD_ERROR_CONNECTION || error->code == TD_ERROR_TIMEOUT);
          g_clear_error (&error);
          cuts++;
        }
      assert_integrity (f);
    }
  g_assert_cmpuint (cuts, >=, 2);

  /* Without the cuts, the next sync completes: every message exactly once. */
  g_object_set (account, "port", (guint) td_test_dovecot_get_port (f->server, "imaps"), NULL);
  sync_ok (f, account);
  assert_standard_counts (f, account);
  g_assert_cmpuint (folder_total (f, account, "Big"), ==, 400);
  assert_all_bodies (f, account);
  assert_integrity (f);
}

typedef struct
{
  gint64 last;
  gint64 max_gap;
} Ticks;

static gboolean
tick_cb (gpointer data)
{
  Ticks *ticks = data;
  gint64 now = g_get_monotonic_time ();

  if (ticks->last != 0)
    ticks->max_gap = MAX (ticks->max_gap, now - ticks->last);
  ticks->last = now;
  return G_SOURCE_CONTINUE;
}

/* Invariant 5: no blocking I/O on the main thread. While a sync downloads and stores
 * thousands of messages, the main loop keeps turning: a 10 ms timer never waits anywhere
 * near half a second (the bound is generous on purpose; a blocking store write or a synchronous
 * read of a whole folder would blow it). */
static void
test_main_loop_responsive (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_tls_account (f);
  g_autoptr(GError) error = NULL;
  Ticks ticks = { 0, 0 };
  guint id;

  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Busy message", 3000, &error);
  g_assert_no_error (error);

  id = g_timeout_add (10, tick_cb, &ticks);
  sync_ok (f, account);
  g_source_remove (id);

  g_test_message ("longest main loop stall during the sync: %" G_GINT64_FORMAT " ms",
                  ticks.max_gap / 1000);
  g_assert_cmpuint (folder_total (f, account, "INBOX"), ==, 3000);
  g_assert_cmpint (ticks.max_gap, <, G_USEC_PER_SEC / 2);
}

static void
test_mime_corpus (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(TdAccount) account = add_tls_account (f);
  g_autofree char *dir_path = td_test_data_path ("mime");
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GError) error = NULL;
  const char *name;
  guint count = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *rel = NULL;
      g_autoptr(GBytes) bytes = NULL;

      if (!g_str_has_suffix (name, ".eml"))
        continue;
      rel = g_build_filename ("mime", name, NULL);
      bytes = td_test_load_data (rel);
      if (!td_test_dovecot_save (f->server, "alice", "Corpus", bytes, &error))
        {
          /* Dovecot refuses some broken messages; that is the server's business. */
          g_test_message ("dovecot did not take %s: %s", name, error->message);
          g_clear_error (&error);
          continue;
        }
      count++;
    }
  g_assert_cmpuint (count, >, 10);

  sync_ok (f, account);
  g_assert_cmpuint (folder_total (f, account, "Corpus"), ==, count);
  assert_all_bodies (f, account);
  assert_integrity (f);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/imap/sync/imaps", test_sync_imaps);
  ADD ("/imap/sync/starttls", test_sync_starttls);
  g_test_add ("/imap/sync/dot-separator", Fixture, ".", fixture_setup, test_sync_dot_separator,
              fixture_teardown);
  g_test_add ("/imap/sync/minimal-server", Fixture, "minimal", fixture_setup,
              test_sync_minimal_server, fixture_teardown);
  ADD ("/imap/sync/changes", test_sync_changes);
  ADD ("/imap/sync/wrong-password", test_wrong_password);
  ADD ("/imap/sync/untrusted-certificate", test_untrusted_certificate);
  ADD ("/imap/sync/offline", test_offline);
  ADD ("/imap/sync/cut-mid-fetch", test_cut_mid_fetch);
  ADD ("/imap/sync/mime-corpus", test_mime_corpus);
  ADD ("/imap/sync/main-loop-responsive", test_main_loop_responsive);
#undef ADD

  return g_test_run ();
}
