/* test-pop3-sync-dovecot.c: TdPop3Sync against a real Dovecot, over POP3S and STLS
 *
 * Each case starts its own Dovecot with a few messages for alice and a fresh store with her
 * POP3 account (its certificate pinned). It checks what arrives in the store, that a second
 * check downloads nothing twice, and what each leave-on-server policy leaves on the server,
 * with an injected clock for "after N days".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-pop3-sync.h"
#include "td-store-pop3.h"
#include "td-test-dovecot.h"
#include "td-test-store.h"
#include "td-test-util.h"

#define WAIT_MS 60000
#define DAY     (24 * 60 * 60)
#define T0      ((gint64) 1800000000)

typedef struct
{
  TdTestDovecot *server;
  TdStore       *store;
  TdAccount     *account;
  gint64         now;
  guint          saved;
} Fixture;

static void
save_message (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) message = NULL;

  f->saved++;
  text = g_strdup_printf ("From: Bob <bob@example.org>\r\nTo: alice@localhost\r\n"
                          "Subject: POP message %u\r\nMessage-ID: <pop%u@example.org>\r\n"
                          "\r\nThe text of POP message %u.\r\n..A line with a dot.\r\n",
                          f->saved, f->saved, f->saved);
  message = g_bytes_new (text, strlen (text));
  td_test_dovecot_save (f->server, "alice", "INBOX", message, &error);
  g_assert_no_error (error);
}

/* How many messages alice's INBOX has on the server. */
static guint
on_server (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = td_test_dovecot_doveadm_output (f->server, &error, "mailbox", "status",
                                                         "-u", "alice", "messages", "INBOX",
                                                         NULL);
  const char *eq;

  g_assert_no_error (error);
  eq = strchr (out, '=');
  g_assert_nonnull (eq);
  return (guint) g_ascii_strtoull (eq + 1, NULL, 10);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const char *service = data;
  gboolean stls = g_strcmp0 (service, "pop3") == 0;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = td_test_make_tempdir ("pop3-sync");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(GAsyncResult) added = NULL;

  f->server = td_test_dovecot_start (&error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    save_message (f);
  f->now = T0;

  f->store = td_test_store_open (path, WAIT_MS);
  f->account = td_account_new (TD_ACCOUNT_KIND_POP3, "alice@localhost", "localhost",
                               td_test_dovecot_get_port (f->server, service),
                               stls ? TD_SECURITY_STARTTLS : TD_SECURITY_TLS, "alice");
  td_account_set_pinned_fingerprint (f->account, td_test_dovecot_get_fingerprint (f->server));
  td_account_set_pop3_policy (f->account, TD_POP3_POLICY_KEEP);
  td_store_add_account_async (f->store, f->account, NULL, td_test_store_result, &added);
  g_assert_true (td_store_add_account_finish (f->store, td_test_wait_result (&added, WAIT_MS),
                                              &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_object (&f->account);
  td_test_dovecot_free (f->server);
}

static gint64
test_clock (gpointer user_data)
{
  Fixture *f = user_data;

  return f->now;
}

/* One check at f->now; returns what it downloaded, or fails the test. */
static guint
check (Fixture *f,
       guint   *deleted)
{
  g_autoptr(TdPop3Sync) sync = td_pop3_sync_new (f->store, f->account);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_pop3_sync_set_clock (sync, test_clock, f);
  td_pop3_sync_set_batch_size (sync, 2);
  td_pop3_sync_run_async (sync, td_test_dovecot_get_password (f->server), NULL,
                          td_test_store_result, &result);
  g_assert_true (td_pop3_sync_run_finish (sync, td_test_wait_result (&result, WAIT_MS), &error));
  g_assert_no_error (error);
  if (deleted != NULL)
    *deleted = td_pop3_sync_get_deleted (sync);
  return td_pop3_sync_get_downloaded (sync);
}

static TdFolder *
folder_of_role (Fixture      *f,
                TdFolderRole  role)
{
  g_autoptr(GPtrArray) folders = td_store_list_folders (f->store, td_account_get_id (f->account),
                                                        NULL);

  for (guint i = 0; folders != NULL && i < folders->len; i++)
    if (td_folder_get_role (g_ptr_array_index (folders, i)) == role)
      return g_object_ref (g_ptr_array_index (folders, i));
  g_assert_not_reached ();
}

static guint
in_folder (Fixture      *f,
           TdFolderRole  role)
{
  g_autoptr(TdFolder) folder = folder_of_role (f, role);

  return td_store_count_messages (f->store, td_folder_get_id (folder));
}

/* Downloads all three whole (dot-unstuffed), then nothing on the next check. */
static void
test_download (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(TdFolder) inbox = NULL;
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(GAsyncResult) body_result = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  TdMessage *first;

  g_assert_cmpuint (check (f, NULL), ==, 3);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_INBOX), ==, 3);
  inbox = folder_of_role (f, TD_FOLDER_ROLE_INBOX);
  page = td_store_page_messages (f->store, td_folder_get_id (inbox), 0, 10, &error);
  g_assert_no_error (error);
  first = g_ptr_array_index (page, 2);
  g_assert_cmpstr (td_message_get_subject (first), ==, "POP message 1");
  td_store_get_body_async (f->store, td_message_get_id (first), NULL, td_test_store_result,
                           &body_result);
  body = td_store_get_body_finish (f->store, td_test_wait_result (&body_result, WAIT_MS), &error);
  g_assert_no_error (error);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                  "\n..A line with a dot.\r\n"));

  /* nothing twice; a new one only */
  g_assert_cmpuint (check (f, NULL), ==, 0);
  save_message (f);
  g_assert_cmpuint (check (f, NULL), ==, 1);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_INBOX), ==, 4);
  g_assert_cmpuint (on_server (f), ==, 4);   /* kept */
}

static void
test_delete_after_download (Fixture       *f,
                            gconstpointer  data)
{
  guint deleted = 0;

  td_account_set_pop3_policy (f->account, TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD);
  g_assert_cmpuint (check (f, &deleted), ==, 3);
  g_assert_cmpuint (deleted, ==, 3);
  g_assert_cmpuint (on_server (f), ==, 0);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_INBOX), ==, 3);

  save_message (f);
  g_assert_cmpuint (check (f, &deleted), ==, 1);
  g_assert_cmpuint (deleted, ==, 1);
  g_assert_cmpuint (on_server (f), ==, 0);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_INBOX), ==, 4);
}

/* The default: deleted from the server 14 days after it was downloaded. */
static void
test_delete_after_days (Fixture       *f,
                        gconstpointer  data)
{
  td_account_set_pop3_policy (f->account, TD_POP3_POLICY_DELETE_AFTER_DAYS);
  g_assert_cmpuint (td_account_get_pop3_delete_days (f->account), ==, 14);

  g_assert_cmpuint (check (f, NULL), ==, 3);
  g_assert_cmpuint (on_server (f), ==, 3);
  f->now = T0 + 13 * DAY;
  save_message (f);
  g_assert_cmpuint (check (f, NULL), ==, 1);
  g_assert_cmpuint (on_server (f), ==, 4);
  f->now = T0 + 14 * DAY - 1;
  g_assert_cmpuint (check (f, NULL), ==, 0);
  g_assert_cmpuint (on_server (f), ==, 4);
  f->now = T0 + 14 * DAY;
  g_assert_cmpuint (check (f, NULL), ==, 0);
  g_assert_cmpuint (on_server (f), ==, 1);    /* the one seen on day 13 stays */
  f->now = T0 + 27 * DAY;
  g_assert_cmpuint (check (f, NULL), ==, 0);
  g_assert_cmpuint (on_server (f), ==, 0);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_INBOX), ==, 4);

  /* a changed choice applies on the next check */
  save_message (f);
  td_account_set_pop3_delete_days (f->account, 0);
  g_assert_cmpuint (check (f, NULL), ==, 1);
  g_assert_cmpuint (on_server (f), ==, 0);
}

static void
expunge (Fixture *f,
         gint64   id)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(TdFolder) trash = folder_of_role (f, TD_FOLDER_ROLE_TRASH);
  g_autoptr(GAsyncResult) moved = NULL;
  g_autoptr(GAsyncResult) emptied = NULL;
  g_autoptr(GError) error = NULL;

  /* delete: to the Trash; then empty the Trash */
  g_array_append_val (ids, id);
  td_store_move_messages_async (f->store, ids, td_folder_get_id (trash), FALSE, NULL,
                                td_test_store_result, &moved);
  g_assert_true (td_store_move_messages_finish (f->store, td_test_wait_result (&moved, WAIT_MS),
                                                &error));
  td_store_expunge_folder_async (f->store, td_folder_get_id (trash), NULL, td_test_store_result,
                                 &emptied);
  g_assert_true (td_store_expunge_folder_finish (f->store,
                                                 td_test_wait_result (&emptied, WAIT_MS), &error));
  g_assert_no_error (error);
}

static gint64
inbox_message (Fixture *f,
               guint    index)
{
  g_autoptr(TdFolder) inbox = folder_of_role (f, TD_FOLDER_ROLE_INBOX);
  g_autoptr(GPtrArray) page = td_store_page_messages (f->store, td_folder_get_id (inbox), 0, 100,
                                                      NULL);

  return td_message_get_id (g_ptr_array_index (page, index));
}

/* Deleted here for good: gone from the server too when the account says so, and never
 * downloaded again either way. */
static void
test_delete_when_deleted_here (Fixture       *f,
                               gconstpointer  data)
{
  guint deleted = 0;

  g_assert_cmpuint (check (f, NULL), ==, 3);

  /* keep, without delete-when-deleted-here: it stays there, and is not brought back */
  expunge (f, inbox_message (f, 0));
  g_assert_cmpuint (check (f, &deleted), ==, 0);
  g_assert_cmpuint (deleted, ==, 0);
  g_assert_cmpuint (on_server (f), ==, 3);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_INBOX), ==, 2);

  /* in the Trash only: not deleted yet */
  td_account_set_pop3_delete_when_deleted_here (f->account, TRUE);
  {
    g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
    g_autoptr(TdFolder) trash = folder_of_role (f, TD_FOLDER_ROLE_TRASH);
    g_autoptr(GAsyncResult) moved = NULL;
    g_autoptr(GError) error = NULL;
    gint64 id = inbox_message (f, 0);

    g_array_append_val (ids, id);
    td_store_move_messages_async (f->store, ids, td_folder_get_id (trash), FALSE, NULL,
                                  td_test_store_result, &moved);
    g_assert_true (td_store_move_messages_finish (f->store,
                                                  td_test_wait_result (&moved, WAIT_MS), &error));
  }
  g_assert_cmpuint (check (f, &deleted), ==, 0);
  g_assert_cmpuint (on_server (f), ==, 2);   /* the one deleted earlier goes now */
  g_assert_cmpuint (deleted, ==, 1);

  /* empty the Trash: that one goes too */
  {
    g_autoptr(TdFolder) trash = folder_of_role (f, TD_FOLDER_ROLE_TRASH);
    g_autoptr(GAsyncResult) emptied = NULL;
    g_autoptr(GError) error = NULL;

    td_store_expunge_folder_async (f->store, td_folder_get_id (trash), NULL,
                                   td_test_store_result, &emptied);
    g_assert_true (td_store_expunge_folder_finish (f->store,
                                                   td_test_wait_result (&emptied, WAIT_MS),
                                                   &error));
  }
  g_assert_cmpuint (check (f, &deleted), ==, 0);
  g_assert_cmpuint (deleted, ==, 1);
  g_assert_cmpuint (on_server (f), ==, 1);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_INBOX), ==, 1);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_TRASH), ==, 0);
}

/* A copy kept here keeps the server's message: with delete-when-deleted-here, deleting the
 * original for good deletes nothing on the server while its copy is in the Archive; deleting
 * the copy for good too does. Moves and copies wait for no server (no journal). */
static void
test_copy_kept (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(TdFolder) archive = folder_of_role (f, TD_FOLDER_ROLE_ARCHIVE);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) copied = NULL;
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(GError) error = NULL;
  guint deleted = 0;
  gint64 id;

  td_account_set_pop3_delete_when_deleted_here (f->account, TRUE);
  g_assert_cmpuint (check (f, NULL), ==, 3);
  id = inbox_message (f, 0);
  g_array_append_val (ids, id);
  td_store_move_messages_async (f->store, ids, td_folder_get_id (archive), TRUE, NULL,
                                td_test_store_result, &copied);
  g_assert_true (td_store_move_messages_finish (f->store, td_test_wait_result (&copied, WAIT_MS),
                                                &error));
  g_assert_no_error (error);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), ==, 0);
  page = td_store_page_messages (f->store, td_folder_get_id (archive), 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 1);
  g_assert_cmpuint (td_message_get_uid (g_ptr_array_index (page, 0)), ==, 1);

  expunge (f, id);
  g_assert_cmpuint (check (f, &deleted), ==, 0);
  g_assert_cmpuint (deleted, ==, 0);
  g_assert_cmpuint (on_server (f), ==, 3);

  expunge (f, td_message_get_id (g_ptr_array_index (page, 0)));
  g_assert_cmpuint (check (f, &deleted), ==, 0);
  g_assert_cmpuint (deleted, ==, 1);
  g_assert_cmpuint (on_server (f), ==, 2);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_INBOX), ==, 2);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_ARCHIVE), ==, 0);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), ==, 0);
}

/* A wrong password: TD_ERROR_AUTH, nothing stored. */
static void
test_wrong_password (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(TdPop3Sync) sync = td_pop3_sync_new (f->store, f->account);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_pop3_sync_run_async (sync, "wrong", NULL, td_test_store_result, &result);
  g_assert_false (td_pop3_sync_run_finish (sync, td_test_wait_result (&result, WAIT_MS), &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_assert_cmpuint (in_folder (f, TD_FOLDER_ROLE_INBOX), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, service, func) \
  g_test_add (path, Fixture, service, fixture_setup, func, fixture_teardown)
  ADD ("/pop3-sync/pop3s/download", "pop3s", test_download);
  ADD ("/pop3-sync/stls/download", "pop3", test_download);
  ADD ("/pop3-sync/pop3s/delete-after-download", "pop3s", test_delete_after_download);
  ADD ("/pop3-sync/stls/delete-after-days", "pop3", test_delete_after_days);
  ADD ("/pop3-sync/pop3s/delete-when-deleted-here", "pop3s", test_delete_when_deleted_here);
  ADD ("/pop3-sync/pop3s/copy-kept", "pop3s", test_copy_kept);
  ADD ("/pop3-sync/stls/wrong-password", "pop3", test_wrong_password);
#undef ADD

  return g_test_run ();
}
