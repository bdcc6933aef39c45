/* test-store-pop3.c: tests of src/engine/store/td-store-pop3.c and migrations 004-pop3.sql and
 * 005-pop3-copies.sql
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-store-pop3.h"

#include <sqlite3.h>
#include <string.h>

#include "td-error.h"
#include "td-test-util.h"

#define TIMEOUT_MS 60000

/* --- Helpers --- */

static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  return db;
}

/* A new database file at schema @version (the migrations up to it, as a profile of an
 * older Tidings has them). */
static sqlite3 *
raw_open_schema (const char *path,
                 guint       version)
{
  const char *names[] = { "001-initial.sql", "002-journal.sql", "003-sync-window.sql",
                          "004-pop3.sql" };
  g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %u;", version);
  sqlite3 *db = raw_open (path);

  g_assert_cmpuint (version, <=, G_N_ELEMENTS (names));
  for (guint i = 0; i < version; i++)
    {
      g_autofree char *name = g_strconcat ("/org/tidings/Tidings/store/", names[i], NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) sql = g_resources_lookup_data (name, 0, &error);
      g_autofree char *text = NULL;

      g_assert_no_error (error);
      text = g_strndup (g_bytes_get_data (sql, NULL), g_bytes_get_size (sql));
      g_assert_cmpint (sqlite3_exec (db, text, NULL, NULL, NULL), ==, SQLITE_OK);
    }
  g_assert_cmpint (sqlite3_exec (db, set_version, NULL, NULL, NULL), ==, SQLITE_OK);
  return db;
}

static gint64
raw_int (const char *path,
         const char *sql)
{
  sqlite3 *db = raw_open (path);
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static void
raw_exec (const char *path,
          const char *sql)
{
  sqlite3 *db = raw_open (path);
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  sqlite3_close (db);
}

static TdStore *
open_store (const char *path)
{
  g_autoptr(TdStore) store = td_store_new (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_open_async (store, NULL, td_test_store_result, &result);
  g_assert_true (td_store_open_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error));
  g_assert_no_error (error);
  return g_steal_pointer (&store);
}

static void
check_integrity (TdStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_check_integrity_async (store, NULL, td_test_store_result, &result);
  g_assert_true (td_store_check_integrity_finish (store, td_test_wait_result (&result, TIMEOUT_MS),
                                                  &error));
  g_assert_no_error (error);
}

static TdAccount *
add_account (TdStore       *store,
             TdAccountKind  kind,
             const char    *address)
{
  g_autoptr(TdAccount) account = td_account_new (kind, address, "mail.example.org", 995,
                                                 TD_SECURITY_TLS, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_add_account_async (store, account, NULL, td_test_store_result, &result);
  g_assert_true (td_store_add_account_finish (store, td_test_wait_result (&result, TIMEOUT_MS),
                                              &error));
  g_assert_no_error (error);
  return g_steal_pointer (&account);
}

static GBytes *
make_raw (const char *subject,
          const char *body)
{
  g_autofree char *text = g_strdup_printf ("From: Ann <ann@example.org>\r\n"
                                           "To: me@example.org\r\n"
                                           "Subject: %s\r\n"
                                           "Date: Tue, 02 Jan 2024 10:00:00 +0000\r\n"
                                           "Message-ID: <%s@example.org>\r\n"
                                           "\r\n"
                                           "%s\r\n", subject, subject, body);

  return g_bytes_new (text, strlen (text));
}

/* Stores downloads named by @uidls (NULL-terminated); returns how many were added, or -1
 * with @error. */
static int
add_downloads (TdStore     *store,
               TdAccount   *account,
               const char **uidls,
               GError     **error)
{
  g_autoptr(GPtrArray) downloads = g_ptr_array_new_with_free_func ((GDestroyNotify) td_pop3_download_free);
  g_autoptr(GAsyncResult) result = NULL;
  guint added = 0;

  for (guint i = 0; uidls[i] != NULL; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Subject of %s", uidls[i]);
      g_autoptr(GBytes) raw = make_raw (uidls[i], subject);

      g_ptr_array_add (downloads, td_pop3_download_new (uidls[i], raw, 1700000000 + i));
    }
  td_store_pop3_add_downloads_async (store, td_account_get_id (account), downloads, NULL,
                                     td_test_store_result, &result);
  if (!td_store_pop3_add_downloads_finish (store, td_test_wait_result (&result, TIMEOUT_MS),
                                           &added, error))
    return -1;
  return (int) added;
}

static GPtrArray *
list_uidls (TdStore   *store,
            TdAccount *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  td_store_pop3_list_uidls_async (store, td_account_get_id (account), NULL, td_test_store_result,
                                  &result);
  rows = td_store_pop3_list_uidls_finish (store, td_test_wait_result (&result, TIMEOUT_MS),
                                          &error);
  g_assert_no_error (error);
  return rows;
}

static TdFolder *
folder_of_role (TdStore      *store,
                TdAccount    *account,
                TdFolderRole  role)
{
  g_autoptr(GPtrArray) folders = td_store_list_folders (store, td_account_get_id (account), NULL);

  for (guint i = 0; folders != NULL && i < folders->len; i++)
    if (td_folder_get_role (g_ptr_array_index (folders, i)) == role)
      return g_object_ref (g_ptr_array_index (folders, i));
  return NULL;
}

static void
move_messages (TdStore *store,
               gint64   id,
               TdFolder *target,
               gboolean copy)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_array_append_val (ids, id);
  td_store_move_messages_async (store, ids, td_folder_get_id (target), copy, NULL,
                                td_test_store_result, &result);
  g_assert_true (td_store_move_messages_finish (store, td_test_wait_result (&result, TIMEOUT_MS),
                                                &error));
  g_assert_no_error (error);
}

static void
expunge_folder (TdStore  *store,
                TdFolder *folder)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_expunge_folder_async (store, td_folder_get_id (folder), NULL, td_test_store_result,
                                 &result);
  g_assert_true (td_store_expunge_folder_finish (store, td_test_wait_result (&result, TIMEOUT_MS),
                                                 &error));
  g_assert_no_error (error);
}

static gint64
uidl_int (const char *path,
          const char *column,
          const char *uidl)
{
  g_autofree char *sql = g_strdup_printf ("SELECT COALESCE(%s, 0) FROM pop3_uidl WHERE uidl = '%s'",
                                          column, uidl);

  return raw_int (path, sql);
}

/* --- Tests --- */

/* A new POP3 account comes with its local folders, each with its role; an IMAP one with none. */
static void
test_local_folders (void)
{
  g_autofree char *dir = td_test_make_tempdir ("folders");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = open_store (path);
  g_autoptr(TdAccount) pop3 = add_account (store, TD_ACCOUNT_KIND_POP3, "pop@example.org");
  g_autoptr(TdAccount) imap = add_account (store, TD_ACCOUNT_KIND_IMAP, "imap@example.org");
  g_autoptr(GPtrArray) folders = td_store_list_folders (store, td_account_get_id (pop3), NULL);
  g_autoptr(GPtrArray) none = td_store_list_folders (store, td_account_get_id (imap), NULL);
  const TdFolderRole roles[] = { TD_FOLDER_ROLE_INBOX, TD_FOLDER_ROLE_SENT, TD_FOLDER_ROLE_DRAFTS,
                                 TD_FOLDER_ROLE_TRASH, TD_FOLDER_ROLE_JUNK,
                                 TD_FOLDER_ROLE_ARCHIVE };

  g_assert_cmpuint (folders->len, ==, 6);
  g_assert_cmpuint (none->len, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    {
      g_autoptr(TdFolder) folder = folder_of_role (store, pop3, roles[i]);

      g_assert_nonnull (folder);
    }
  check_integrity (store);
}

/* The leave-on-server settings are stored with the account. */
static void
test_policy_settings (void)
{
  g_autofree char *dir = td_test_make_tempdir ("policy");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = open_store (path);
  g_autoptr(TdAccount) account = add_account (store, TD_ACCOUNT_KIND_POP3, "pop@example.org");
  g_autoptr(TdAccount) read = NULL;
  g_autoptr(TdAccount) reread = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  read = td_store_get_account (store, td_account_get_id (account), &error);
  g_assert_no_error (error);
  g_assert_cmpint (td_account_get_pop3_policy (read), ==, TD_POP3_POLICY_DELETE_AFTER_DAYS);
  g_assert_cmpuint (td_account_get_pop3_delete_days (read), ==, 14);
  g_assert_false (td_account_get_pop3_delete_when_deleted_here (read));

  td_account_set_pop3_policy (account, TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD);
  td_account_set_pop3_delete_days (account, 3);
  td_account_set_pop3_delete_when_deleted_here (account, TRUE);
  td_store_update_account_async (store, account, NULL, td_test_store_result, &result);
  g_assert_true (td_store_update_account_finish (store, td_test_wait_result (&result, TIMEOUT_MS),
                                                 &error));
  g_assert_no_error (error);
  reread = td_store_get_account (store, td_account_get_id (account), &error);
  g_assert_no_error (error);
  g_assert_cmpint (td_account_get_pop3_policy (reread), ==, TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD);
  g_assert_cmpuint (td_account_get_pop3_delete_days (reread), ==, 3);
  g_assert_true (td_account_get_pop3_delete_when_deleted_here (reread));
}

/* A download becomes a message of the Inbox (row, body, full-text entry) and a UIDL row; the
 * same uidl again stores nothing. */
static void
test_add_downloads (void)
{
  g_autofree char *dir = td_test_make_tempdir ("downloads");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = open_store (path);
  g_autoptr(TdAccount) account = add_account (store, TD_ACCOUNT_KIND_POP3, "pop@example.org");
  g_autoptr(TdAccount) imap = add_account (store, TD_ACCOUNT_KIND_IMAP, "imap@example.org");
  g_autoptr(TdFolder) inbox = folder_of_role (store, account, TD_FOLDER_ROLE_INBOX);
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GAsyncResult) body_result = NULL;
  g_autoptr(GAsyncResult) search_result = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  const char *first[] = { "uid-a", "uid-b", NULL };
  const char *again[] = { "uid-b", "uid-c", "uid-c", NULL };
  TdPop3UidlRow *row;

  g_assert_cmpint (add_downloads (store, account, first, &error), ==, 2);
  g_assert_no_error (error);
  g_assert_cmpint (add_downloads (store, account, again, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpuint (td_store_count_messages (store, td_folder_get_id (inbox)), ==, 3);
  g_assert_cmpint (raw_int (path, "SELECT count(DISTINCT uid) FROM message"), ==, 3);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM message WHERE has_body = 1"), ==, 3);

  rows = list_uidls (store, account);
  g_assert_cmpuint (rows->len, ==, 3);
  row = g_ptr_array_index (rows, 0);
  g_assert_cmpstr (row->uidl, ==, "uid-a");
  g_assert_cmpint (row->first_seen, ==, 1700000000);
  g_assert_cmpint (row->message_id, >, 0);
  g_assert_cmpint (row->deleted_here, ==, 0);
  g_assert_cmpint (row->deleted_from_server, ==, 0);

  td_store_get_body_async (store, row->message_id, NULL, td_test_store_result, &body_result);
  body = td_store_get_body_finish (store, td_test_wait_result (&body_result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                  "Subject of uid-a"));

  /* the text is searchable */
  td_store_search_async (store, "subject uid-c", 10, NULL, td_test_store_result, &search_result);
  found = td_store_search_finish (store, td_test_wait_result (&search_result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);

  page = td_store_page_messages (store, td_folder_get_id (inbox), 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 3);

  /* not for an IMAP account */
  g_assert_cmpint (add_downloads (store, imap, first, &error), ==, -1);
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  check_integrity (store);
}

/* A download and its UIDL row are one transaction: when any part of the batch fails,
 * nothing of it is stored. */
static void
test_add_downloads_atomic (void)
{
  g_autofree char *dir = td_test_make_tempdir ("atomic");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = open_store (path);
  g_autoptr(TdAccount) account = add_account (store, TD_ACCOUNT_KIND_POP3, "pop@example.org");
  g_autoptr(GError) error = NULL;
  const char *batch[] = { "fine", "boom", NULL };

  /* the UIDL row of "boom" cannot be written: its message row was, just before */
  raw_exec (path, "CREATE TRIGGER test_boom BEFORE INSERT ON pop3_uidl WHEN new.uidl = 'boom'"
                  " BEGIN SELECT RAISE(ABORT, 'boom'); END;");
  g_assert_cmpint (add_downloads (store, account, batch, &error), ==, -1);
  g_assert_error (error, TD_ERROR, TD_ERROR_STORE);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM message"), ==, 0);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM body"), ==, 0);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM message_fts"), ==, 0);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM pop3_uidl"), ==, 0);
  g_assert_cmpint (raw_int (path, "SELECT total FROM folder WHERE role = 'inbox'"), ==, 0);
  check_integrity (store);
}

/* Local actions on a POP3 account write no journal; a move keeps the UIDL row's message, a
 * deletion for good records deleted_here. */
static void
test_deleted_here (void)
{
  g_autofree char *dir = td_test_make_tempdir ("deleted");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = open_store (path);
  g_autoptr(TdAccount) account = add_account (store, TD_ACCOUNT_KIND_POP3, "pop@example.org");
  g_autoptr(TdFolder) trash = folder_of_role (store, account, TD_FOLDER_ROLE_TRASH);
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) flagged = NULL;
  g_autoptr(GAsyncResult) moved = NULL;
  g_autoptr(GAsyncResult) emptied = NULL;
  g_autoptr(GAsyncResult) gone = NULL;
  g_autoptr(GPtrArray) gone_uidls = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *uidls[] = { "one", "two", NULL };
  gint64 id;

  g_assert_cmpint (add_downloads (store, account, uidls, &error), ==, 2);
  before = list_uidls (store, account);
  id = ((TdPop3UidlRow *) g_ptr_array_index (before, 0))->message_id;
  g_array_append_val (ids, id);

  td_store_change_flags_async (store, ids, TD_FLAG_SEEN | TD_FLAG_FLAGGED, 0, NULL, NULL, NULL,
                               td_test_store_result, &flagged);
  g_assert_true (td_store_change_flags_finish (store, td_test_wait_result (&flagged, TIMEOUT_MS),
                                               &error));
  td_store_move_messages_async (store, ids, td_folder_get_id (trash), FALSE, NULL,
                                td_test_store_result, &moved);
  g_assert_true (td_store_move_messages_finish (store, td_test_wait_result (&moved, TIMEOUT_MS),
                                                &error));
  g_assert_no_error (error);
  g_assert_cmpuint (td_store_count_messages (store, td_folder_get_id (trash)), ==, 1);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM pop3_uidl WHERE message_id IS NOT NULL"
                                  " AND deleted_here IS NULL"), ==, 2);

  td_store_expunge_folder_async (store, td_folder_get_id (trash), NULL, td_test_store_result,
                                 &emptied);
  g_assert_true (td_store_expunge_folder_finish (store, td_test_wait_result (&emptied, TIMEOUT_MS),
                                                 &error));
  g_assert_no_error (error);
  g_assert_cmpuint (td_store_count_journal (store, td_account_get_id (account)), ==, 0);

  after = list_uidls (store, account);
  g_assert_cmpuint (after->len, ==, 2);
  g_assert_cmpstr (((TdPop3UidlRow *) g_ptr_array_index (after, 0))->uidl, ==, "one");
  g_assert_cmpint (((TdPop3UidlRow *) g_ptr_array_index (after, 0))->message_id, ==, 0);
  g_assert_cmpint (((TdPop3UidlRow *) g_ptr_array_index (after, 0))->deleted_here, >,
                   g_get_real_time () / G_USEC_PER_SEC - 60);
  g_assert_cmpint (((TdPop3UidlRow *) g_ptr_array_index (after, 1))->deleted_here, ==, 0);
  g_assert_cmpint (((TdPop3UidlRow *) g_ptr_array_index (after, 1))->message_id, >, 0);

  /* the server removed "one" */
  g_ptr_array_add (gone_uidls, (gpointer) "one");
  td_store_pop3_set_deleted_from_server_async (store, td_account_get_id (account), gone_uidls,
                                               1800000000, NULL, td_test_store_result, &gone);
  g_assert_true (td_store_pop3_set_deleted_from_server_finish (store,
                                                               td_test_wait_result (&gone, TIMEOUT_MS),
                                                               &error));
  g_assert_no_error (error);
  g_assert_cmpint (raw_int (path, "SELECT deleted_from_server FROM pop3_uidl WHERE uidl = 'one'"),
                   ==, 1800000000);
  g_assert_cmpint (raw_int (path, "SELECT deleted_from_server IS NULL FROM pop3_uidl"
                                  " WHERE uidl = 'two'"), ==, 1);
  check_integrity (store);
}

/* Moves and copies between local folders give real uids at once (no placeholder for a replay)
 * and write no journal. Deleting the original for good while a copy is kept is no deletion
 * here: the UIDL row follows the copy; only when the last copy goes is it deleted here. */
static void
test_copies (void)
{
  g_autofree char *dir = td_test_make_tempdir ("copies");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = open_store (path);
  g_autoptr(TdAccount) account = add_account (store, TD_ACCOUNT_KIND_POP3, "pop@example.org");
  g_autoptr(TdFolder) inbox = folder_of_role (store, account, TD_FOLDER_ROLE_INBOX);
  g_autoptr(TdFolder) archive = folder_of_role (store, account, TD_FOLDER_ROLE_ARCHIVE);
  g_autoptr(TdFolder) trash = folder_of_role (store, account, TD_FOLDER_ROLE_TRASH);
  g_autoptr(GError) error = NULL;
  const char *uidls[] = { "one", "two", NULL };
  g_autofree char *copy_sql = NULL;
  gint64 original, copy, second_copy;

  g_assert_cmpint (add_downloads (store, account, uidls, &error), ==, 2);
  original = uidl_int (path, "message_id", "one");

  /* a copy to the Archive, twice: uids 1 and 2 there, the original keeps uid 1 in the Inbox */
  move_messages (store, original, archive, TRUE);
  move_messages (store, original, archive, TRUE);
  copy_sql = g_strdup_printf ("SELECT min(id) FROM message WHERE folder_id = %" G_GINT64_FORMAT,
                              td_folder_get_id (archive));
  copy = raw_int (path, copy_sql);
  second_copy = copy + 1;
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM message WHERE uid <= 0"), ==, 0);
  g_assert_cmpuint (td_store_count_messages (store, td_folder_get_id (archive)), ==, 2);
  g_assert_cmpint (raw_int (path, "SELECT group_concat(uid) = '1,2' FROM (SELECT uid FROM message"
                                  " WHERE folder_id = (SELECT id FROM folder WHERE role = 'archive')"
                                  " ORDER BY uid)"), ==, 1);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM pop3_copy WHERE uidl = 'one'"),
                   ==, 3);

  /* the original to the Trash (a move: the next free uid there) and the Trash emptied */
  move_messages (store, original, trash, FALSE);
  g_assert_cmpint (raw_int (path, "SELECT uid FROM message WHERE folder_id ="
                                  " (SELECT id FROM folder WHERE role = 'trash')"), ==, 1);
  g_assert_cmpuint (td_store_count_journal (store, td_account_get_id (account)), ==, 0);
  expunge_folder (store, trash);
  g_assert_cmpint (uidl_int (path, "deleted_here", "one"), ==, 0);
  g_assert_cmpint (uidl_int (path, "message_id", "one"), ==, copy);

  /* the first copy too: the row follows the second */
  move_messages (store, copy, trash, FALSE);
  expunge_folder (store, trash);
  g_assert_cmpint (uidl_int (path, "deleted_here", "one"), ==, 0);
  g_assert_cmpint (uidl_int (path, "message_id", "one"), ==, second_copy);

  /* the last one: now it is deleted here */
  move_messages (store, second_copy, trash, FALSE);
  expunge_folder (store, trash);
  g_assert_cmpint (uidl_int (path, "deleted_here", "one"), >,
                   g_get_real_time () / G_USEC_PER_SEC - 60);
  g_assert_cmpint (uidl_int (path, "message_id", "one"), ==, 0);
  g_assert_cmpint (uidl_int (path, "deleted_here", "two"), ==, 0);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM pop3_copy"), ==, 1);
  g_assert_cmpuint (td_store_count_messages (store, td_folder_get_id (inbox)), ==, 1);
  g_assert_cmpuint (td_store_count_journal (store, td_account_get_id (account)), ==, 0);
  check_integrity (store);
}

/* A profile of schema 3 (before POP3 sync) is upgraded: its POP3 account gets the default
 * policy and its local folders, an IMAP account keeps its folders, the UIDL table is there. */
static void
test_migration (void)
{
  g_autofree char *dir = td_test_make_tempdir ("migration");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = NULL;
  g_autoptr(TdAccount) pop3 = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = raw_open_schema (path, 3);

  g_assert_cmpint (sqlite3_exec (db,
                                 "PRAGMA user_version = 3;"
                                 "INSERT INTO account (id, uuid, kind, address, host, port,"
                                 " security, created) VALUES"
                                 " (1, 'u1', 'imap', 'i@example.org', 'h', 993, 'tls', 1),"
                                 " (2, 'u2', 'pop3', 'p@example.org', 'h', 995, 'tls', 1);"
                                 "INSERT INTO folder (account_id, path, role) VALUES"
                                 " (1, 'INBOX', 'inbox');",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = open_store (path);
  g_assert_cmpuint (td_store_get_schema_version (store), >=, 4);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM folder WHERE account_id = 1"), ==, 1);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM folder WHERE account_id = 2"), ==, 6);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM folder WHERE account_id = 2 AND role IN"
                                  " ('inbox', 'sent', 'drafts', 'trash', 'junk', 'archive')"),
                   ==, 6);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM pop3_uidl"), ==, 0);
  pop3 = td_store_get_account (store, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (td_account_get_kind (pop3), ==, TD_ACCOUNT_KIND_POP3);
  g_assert_cmpint (td_account_get_pop3_policy (pop3), ==, TD_POP3_POLICY_DELETE_AFTER_DAYS);
  g_assert_cmpuint (td_account_get_pop3_delete_days (pop3), ==, TD_POP3_DELETE_DAYS_DEFAULT);
  {
    const char *uidls[] = { "after-upgrade", NULL };

    g_assert_cmpint (add_downloads (store, pop3, uidls, &error), ==, 1);
    g_assert_no_error (error);
  }
  check_integrity (store);
}

/* A profile of schema 4: messages of a POP3 account moved or copied then kept the negative
 * placeholder uid. After the upgrade they have real uids, the copy is known as a copy of its
 * download (found by its bytes), and deleting the original keeps the UIDL row. */
static void
test_migration_copies (void)
{
  g_autofree char *dir = td_test_make_tempdir ("migration-copies");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = NULL;
  g_autoptr(TdAccount) account = NULL;
  g_autoptr(TdFolder) trash = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = raw_open_schema (path, 4);

  /* folders 1-6 are the POP3 account's (the migration made them); 7 is the IMAP Inbox.
   * Message 1 was downloaded and copied into the Archive (3, uid -3); message 2 was moved
   * to the Archive (uid -2); message 4 is an IMAP placeholder and stays one. */
  g_assert_cmpint (sqlite3_exec (db,
                                 "INSERT INTO account (id, uuid, kind, address, host, port,"
                                 " security, created) VALUES"
                                 " (1, 'u1', 'pop3', 'p@example.org', 'h', 995, 'tls', 1);"
                                 "INSERT INTO folder (account_id, path, delimiter, role)"
                                 " VALUES (1, 'INBOX', 47, 'inbox'), (1, 'Archive', 47, 'archive'),"
                                 " (1, 'Trash', 47, 'trash');"
                                 "INSERT INTO account (id, uuid, kind, address, host, port,"
                                 " security, created) VALUES"
                                 " (2, 'u2', 'imap', 'i@example.org', 'h', 993, 'tls', 1);"
                                 "INSERT INTO folder (id, account_id, path, role)"
                                 " VALUES (100, 2, 'INBOX', 'inbox');"
                                 "INSERT INTO message (id, folder_id, uid, message_id, subject)"
                                 " VALUES (1, (SELECT id FROM folder WHERE path = 'INBOX'"
                                 "  AND account_id = 1), 1, '<a@x>', 'a'),"
                                 " (2, (SELECT id FROM folder WHERE path = 'Archive'), -2,"
                                 "  '<b@x>', 'b'),"
                                 " (3, (SELECT id FROM folder WHERE path = 'Archive'), -3,"
                                 "  '<a@x>', 'a'),"
                                 " (4, 100, -4, '<c@x>', 'c');"
                                 "INSERT INTO body (message_id, raw) VALUES (1, 'raw a'),"
                                 " (2, 'raw b'), (3, 'raw a'), (4, 'raw c');"
                                 "INSERT INTO pop3_uidl (account_id, uidl, first_seen, message_id)"
                                 " VALUES (1, 'a', 1, 1), (1, 'b', 1, 2);",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = open_store (path);
  g_assert_cmpuint (td_store_get_schema_version (store), >=, 5);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM message WHERE uid < 0"), ==, 1);
  g_assert_cmpint (raw_int (path, "SELECT uid FROM message WHERE id = 4"), ==, -4);
  g_assert_cmpint (raw_int (path, "SELECT uid FROM message WHERE id = 2"), ==, 1);
  g_assert_cmpint (raw_int (path, "SELECT uid FROM message WHERE id = 3"), ==, 2);
  g_assert_cmpint (raw_int (path, "SELECT group_concat(message_id || uidl, ' ') = '1a 2b 3a'"
                                  " FROM (SELECT * FROM pop3_copy ORDER BY message_id)"), ==, 1);

  account = td_store_get_account (store, 1, &error);
  g_assert_no_error (error);
  trash = folder_of_role (store, account, TD_FOLDER_ROLE_TRASH);
  move_messages (store, 1, trash, FALSE);
  expunge_folder (store, trash);
  g_assert_cmpint (uidl_int (path, "deleted_here", "a"), ==, 0);
  g_assert_cmpint (uidl_int (path, "message_id", "a"), ==, 3);
  check_integrity (store);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

  g_test_add_func ("/store/pop3/local-folders", test_local_folders);
  g_test_add_func ("/store/pop3/policy-settings", test_policy_settings);
  g_test_add_func ("/store/pop3/add-downloads", test_add_downloads);
  g_test_add_func ("/store/pop3/add-downloads-atomic", test_add_downloads_atomic);
  g_test_add_func ("/store/pop3/deleted-here", test_deleted_here);
  g_test_add_func ("/store/pop3/copies", test_copies);
  g_test_add_func ("/store/pop3/migration", test_migration);
  g_test_add_func ("/store/pop3/migration-copies", test_migration_copies);

  return g_test_run ();
}
