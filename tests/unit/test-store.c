/* test-store.c: tests of src/engine/store/td-store.c, td-db.c, td-folder.c, td-message.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-store.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "td-error.h"
#include "td-test-util.h"

#define TIMEOUT_MS 60000

/* --- Helpers --- */

/* A small RFC 5322 message; @date NULL leaves the Date header out. */
static GBytes *
make_raw (const char *from,
          const char *to,
          const char *subject,
          const char *date,
          const char *message_id,
          const char *body)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "From: %s\r\n", from);
  g_string_append_printf (s, "To: %s\r\n", to);
  g_string_append_printf (s, "Subject: %s\r\n", subject);
  if (date != NULL)
    g_string_append_printf (s, "Date: %s\r\n", date);
  if (message_id != NULL)
    g_string_append_printf (s, "Message-ID: <%s>\r\n", message_id);
  g_string_append (s, "MIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: 8bit\r\n"
                      "\r\n");
  g_string_append (s, body);
  g_string_append (s, "\r\n");
  return g_string_free_to_bytes (s);
}

static GBytes *
make_raw_with_attachment (const char *subject,
                          const char *body)
{
  g_autofree char *text = g_strdup_printf (
    "From: Ann <ann@example.org>\r\n"
    "To: bob@example.org\r\n"
    "Subject: %s\r\n"
    "Date: Tue, 02 Jan 2024 10:00:00 +0000\r\n"
    "Message-ID: <att@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"
    "\r\n"
    "--XYZ\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "%s\r\n"
    "--XYZ\r\n"
    "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQKJcfsj6IK\r\n"
    "--XYZ--\r\n", subject, body);

  return g_bytes_new (text, strlen (text));
}

/* Header of message number @n: date n minutes after 2024-01-01 12:00 UTC. */
static GBytes *
make_numbered (guint n)
{
  g_autoptr(GDateTime) base = g_date_time_new_utc (2024, 1, 1, 12, 0, 0);
  g_autoptr(GDateTime) when = g_date_time_add_minutes (base, (int) n);
  g_autofree char *date = g_date_time_format (when, "%a, %d %b %Y %H:%M:%S +0000");
  g_autofree char *subject = g_strdup_printf ("Message number %u", n);
  g_autofree char *id = g_strdup_printf ("msg%u@example.org", n);

  return make_raw ("Sender <sender@example.org>", "me@example.org", subject, date, id,
                   "Hello there.");
}

static gint64
numbered_date (guint n)
{
  g_autoptr(GDateTime) base = g_date_time_new_utc (2024, 1, 1, 12, 0, 0);

  return g_date_time_to_unix (base) + 60 * (gint64) n;
}

static TdStore *
open_store (const char *path)
{
  g_autoptr(TdStore) store = td_store_new (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_open_async (store, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_open_finish (store, result, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&store);
}

static TdAccount *
add_account (TdStore    *store,
             const char *address)
{
  g_autoptr(TdAccount) account = td_account_new (TD_ACCOUNT_KIND_IMAP, address,
                                                 "imap.example.org", 993, TD_SECURITY_TLS, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_add_account_async (store, account, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_add_account_finish (store, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_account_get_id (account), >, 0);
  return g_steal_pointer (&account);
}

static void
sync_folders (TdStore   *store,
              gint64     account_id,
              GPtrArray *specs)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_sync_folders_async (store, account_id, specs, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_sync_folders_finish (store, result, &error));
  g_assert_no_error (error);
}

static gint64
folder_id (TdStore    *store,
           gint64      account_id,
           const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) folder = td_store_find_folder (store, account_id, path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (folder);
  return td_folder_get_id (folder);
}

static void
add_messages (TdStore   *store,
              gint64     folder,
              GPtrArray *specs)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_add_messages_async (store, folder, specs, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_add_messages_finish (store, result, &error));
  g_assert_no_error (error);
}

static void
add_one (TdStore *store,
         gint64   folder,
         guint32  uid,
         TdFlags  flags,
         gint64   internaldate,
         GBytes  *header)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);

  g_ptr_array_add (specs, td_message_spec_new (uid, flags, internaldate, g_bytes_get_size (header),
                                               header));
  add_messages (store, folder, specs);
}

static void
add_numbered (TdStore *store,
              gint64   folder,
              guint    first,
              guint    count)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);

  for (guint n = first; n < first + count; n++)
    {
      g_autoptr(GBytes) raw = make_numbered (n);

      g_ptr_array_add (specs, td_message_spec_new (n, 0, 0, g_bytes_get_size (raw), raw));
    }
  add_messages (store, folder, specs);
}

static void
set_bodies (TdStore   *store,
            gint64     folder,
            GPtrArray *bodies)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_set_bodies_async (store, folder, bodies, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_set_bodies_finish (store, result, &error));
  g_assert_no_error (error);
}

/* Takes @raw. */
static void
set_body (TdStore *store,
          gint64   folder,
          guint32  uid,
          GBytes  *raw)
{
  g_autoptr(GBytes) owned = raw;
  g_autoptr(GPtrArray) bodies = g_ptr_array_new_with_free_func ((GDestroyNotify) td_body_spec_free);

  g_ptr_array_add (bodies, td_body_spec_new (uid, raw));
  set_bodies (store, folder, bodies);
}

static void
update_flags (TdStore *store,
              gint64   folder,
              guint32  uid,
              TdFlags  flags)
{
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (TdUidFlags));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TdUidFlags change = { uid, flags };

  g_array_append_val (changes, change);
  td_store_update_flags_async (store, folder, changes, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_update_flags_finish (store, result, &error));
  g_assert_no_error (error);
}

static void
update_keywords (TdStore    *store,
                 gint64      folder,
                 guint32     uid,
                 TdFlags     flags,
                 const char *keywords)
{
  g_autoptr(GArray) changes = td_uid_flags_array_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TdUidFlags change = { uid, flags, 0, g_strdup (keywords) };

  g_array_append_val (changes, change);
  td_store_update_flags_async (store, folder, changes, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_update_flags_finish (store, result, &error));
  g_assert_no_error (error);
}

static void
remove_uids (TdStore       *store,
             gint64         folder,
             const guint32 *uids,
             guint          n)
{
  g_autoptr(GArray) array = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_array_append_vals (array, uids, n);
  td_store_remove_messages_async (store, folder, array, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_remove_messages_finish (store, result, &error));
  g_assert_no_error (error);
}

static GArray *
list_uids (TdStore  *store,
           gint64    folder,
           gboolean  without_body)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GArray *uids;

  td_store_list_uids_async (store, folder, without_body, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  uids = td_store_list_uids_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (uids);
  return uids;
}

static GPtrArray *
search (TdStore    *store,
        const char *query,
        guint       limit)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *found;

  td_store_search_async (store, query, limit, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  found = td_store_search_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (found);
  return found;
}

static void
check_integrity (TdStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_check_integrity_async (store, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_check_integrity_finish (store, result, &error));
  g_assert_no_error (error);
}

static TdMessage *
message_by_uid (TdStore *store,
                gint64   folder,
                guint32  uid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) page = td_store_page_messages (store, folder, 0, 100000, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < page->len; i++)
    if (td_message_get_uid (g_ptr_array_index (page, i)) == uid)
      return g_object_ref (g_ptr_array_index (page, i));
  return NULL;
}

/* An independent look at the file, with SQLite itself. */
static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
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

/* Folder counts must equal what the rows say; has_body must match the body table and every
 * message must be in the full-text index exactly once. Returns the number of messages. */
static gint64
assert_store_consistent (const char *path)
{
  sqlite3 *db = raw_open (path);
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT f.id, f.total, f.unread,"
                                       " (SELECT count(*) FROM message m WHERE m.folder_id = f.id),"
                                       " (SELECT count(*) FROM message m WHERE m.folder_id = f.id"
                                       "  AND (m.flags & 1) = 0)"
                                       " FROM folder f", -1, &stmt, NULL), ==, SQLITE_OK);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_assert_cmpint (sqlite3_column_int64 (stmt, 1), ==, sqlite3_column_int64 (stmt, 3));
      g_assert_cmpint (sqlite3_column_int64 (stmt, 2), ==, sqlite3_column_int64 (stmt, 4));
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM message m"
                                  " WHERE m.has_body != EXISTS (SELECT 1 FROM body b"
                                  " WHERE b.message_id = m.id)"), ==, 0);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM body b WHERE NOT EXISTS"
                                  " (SELECT 1 FROM message m WHERE m.id = b.message_id)"), ==, 0);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM message_fts"), ==,
                   raw_int (path, "SELECT count(*) FROM message"));
  return raw_int (path, "SELECT count(*) FROM message");
}

typedef struct
{
  char      *dir;
  char      *path;
  TdStore   *store;
  TdAccount *account;
  gint64     inbox;
  gint64     other;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_folder_spec_free);

  f->dir = td_test_make_tempdir ("store");
  f->path = g_build_filename (f->dir, "profile", "tidings.db", NULL);
  f->store = open_store (f->path);
  f->account = add_account (f->store, "alice@example.org");

  g_ptr_array_add (specs, td_folder_spec_new ("INBOX", '/', TD_FOLDER_ROLE_INBOX, TRUE));
  g_ptr_array_add (specs, td_folder_spec_new ("Other", '/', TD_FOLDER_ROLE_NONE, TRUE));
  sync_folders (f->store, td_account_get_id (f->account), specs);
  f->inbox = folder_id (f->store, td_account_get_id (f->account), "INBOX");
  f->other = folder_id (f->store, td_account_get_id (f->account), "Other");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_object (&f->account);
  assert_store_consistent (f->path);
  g_free (f->path);
  g_free (f->dir);
}

/* Counts the emissions of the store's signals and checks they come on the main thread. */
typedef struct
{
  GThread *thread;
  guint    accounts;
  guint    folders;
  gint64   folders_account;
  guint    folder;
  GArray  *folder_ids;
} Signals;

static void
accounts_changed_cb (TdStore *store,
                     Signals *s)
{
  g_assert_true (g_thread_self () == s->thread);
  s->accounts++;
}

static void
folders_changed_cb (TdStore *store,
                    gint64   account_id,
                    Signals *s)
{
  g_assert_true (g_thread_self () == s->thread);
  s->folders++;
  s->folders_account = account_id;
}

static void
folder_changed_cb (TdStore *store,
                   gint64   folder,
                   Signals *s)
{
  g_assert_true (g_thread_self () == s->thread);
  s->folder++;
  g_array_append_val (s->folder_ids, folder);
}

static void
signals_connect (Signals *s,
                 TdStore *store)
{
  memset (s, 0, sizeof *s);
  s->thread = g_thread_self ();
  s->folder_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_signal_connect (store, "accounts-changed", G_CALLBACK (accounts_changed_cb), s);
  g_signal_connect (store, "folders-changed", G_CALLBACK (folders_changed_cb), s);
  g_signal_connect (store, "folder-changed", G_CALLBACK (folder_changed_cb), s);
}

static void
signals_disconnect (Signals *s,
                    TdStore *store)
{
  g_signal_handlers_disconnect_by_data (store, s);
  g_clear_pointer (&s->folder_ids, g_array_unref);
}

static void
signals_reset (Signals *s)
{
  s->accounts = s->folders = s->folder = 0;
  s->folders_account = 0;
  g_array_set_size (s->folder_ids, 0);
}

/* --- Objects --- */

static void
test_folder_names (void)
{
  g_autoptr(TdFolder) inbox = td_folder_new (1, 1, "INBOX", '/', TD_FOLDER_ROLE_INBOX, TRUE, 3, 1);
  g_autoptr(TdFolder) lower = td_folder_new (2, 1, "inbox", '.', TD_FOLDER_ROLE_INBOX, TRUE, 0, 0);
  g_autoptr(TdFolder) sent = td_folder_new (3, 1, "INBOX.Sent", '.', TD_FOLDER_ROLE_SENT, TRUE, 0, 0);
  g_autoptr(TdFolder) deep = td_folder_new (4, 1, "Lists/gtk/devel", '/', TD_FOLDER_ROLE_NONE,
                                            FALSE, 0, 0);
  g_autoptr(TdFolder) flat = td_folder_new (5, 1, "a/b", '\0', TD_FOLDER_ROLE_NONE, TRUE, 0, 0);
  g_autoptr(TdFolder) trailing = td_folder_new (6, 1, "odd/", '/', TD_FOLDER_ROLE_NONE, TRUE, 0, 0);
  g_autoptr(TdFolder) utf8 = td_folder_new (7, 1, "Entwürfe/Ärger", '/', TD_FOLDER_ROLE_NONE,
                                            TRUE, 0, 0);

  g_assert_cmpstr (td_folder_get_name (inbox), ==, "Inbox");
  g_assert_cmpuint (td_folder_get_depth (inbox), ==, 0);
  g_assert_cmpuint (td_folder_get_total (inbox), ==, 3);
  g_assert_cmpuint (td_folder_get_unread (inbox), ==, 1);
  g_assert_cmpstr (td_folder_get_path (inbox), ==, "INBOX");
  g_assert_cmpint (td_folder_get_role (inbox), ==, TD_FOLDER_ROLE_INBOX);
  g_assert_cmpstr (td_folder_get_name (lower), ==, "Inbox");
  g_assert_cmpstr (td_folder_get_name (sent), ==, "Sent");
  g_assert_cmpuint (td_folder_get_depth (sent), ==, 1);
  g_assert_cmpint (td_folder_get_delimiter (sent), ==, '.');
  g_assert_cmpstr (td_folder_get_name (deep), ==, "devel");
  g_assert_cmpuint (td_folder_get_depth (deep), ==, 2);
  g_assert_false (td_folder_get_selectable (deep));
  g_assert_cmpstr (td_folder_get_name (flat), ==, "a/b");
  g_assert_cmpuint (td_folder_get_depth (flat), ==, 0);
  g_assert_cmpstr (td_folder_get_name (trailing), ==, "odd/");
  g_assert_cmpstr (td_folder_get_name (utf8), ==, "Ärger");
  g_assert_cmpuint (td_folder_get_depth (utf8), ==, 1);
}

static void
test_message_flags_string (void)
{
  static const struct {
    TdFlags     flags;
    const char *expected;
  } cases[] = {
    { 0, "-" },
    { TD_FLAG_SEEN, "S" },
    { TD_FLAG_SEEN | TD_FLAG_ANSWERED | TD_FLAG_FLAGGED, "SRF" },
    { TD_FLAG_FORWARDED | TD_FLAG_DRAFT | TD_FLAG_DELETED, "WDT" },
    { TD_FLAGS_STORED, "SRFWDT" },
    { TD_FLAG_JUNK | TD_FLAG_RECENT, "-" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TdMessageFields fields = { .id = 1, .flags = cases[i].flags, .from_address = "a@b" };
      g_autoptr(TdMessage) message = td_message_new (&fields);
      g_autofree char *str = td_message_dup_flags_string (message);

      g_assert_cmpstr (str, ==, cases[i].expected);
      /* "from" falls back to the address. */
      g_assert_cmpstr (td_message_get_from (message), ==, "a@b");
    }
}

/* --- Opening and migrations --- */

static void
test_migrations_fresh (void)
{
  g_autofree char *dir = td_test_make_tempdir ("fresh");
  g_autofree char *sub = g_build_filename (dir, "a", "b", NULL);
  g_autofree char *path = g_build_filename (sub, "tidings.db", NULL);
  g_autoptr(TdStore) store = td_store_new (path);
  GStatBuf st;

  /* No I/O before opening. */
  g_assert_false (g_file_test (sub, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (td_store_get_schema_version (store), ==, 0);
  g_assert_cmpstr (td_store_get_path (store), ==, path);
  g_clear_object (&store);

  store = open_store (path);
  g_assert_cmpuint (td_store_get_schema_version (store), >=, 1);
  g_assert_cmpint (raw_int (path, "PRAGMA user_version"), ==, td_store_get_schema_version (store));
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                  " ('account', 'folder', 'message', 'body', 'message_fts')"),
                   ==, 5);
  g_assert_cmpint (raw_int (path, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                  " AND name = 'message_folder_date'"), ==, 1);

  /* Private: the directory 0700, the file 0600, and write-ahead logging on. */
  g_assert_cmpint (g_stat (sub, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (raw_int (path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), ==, 1);

  check_integrity (store);
  td_store_close (store);
  td_store_close (store);   /* idempotent */
}

static void
test_migrations_reopen (void)
{
  g_autofree char *dir = td_test_make_tempdir ("reopen");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = open_store (path);
  g_autoptr(TdAccount) account = add_account (store, "bob@example.org");
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;
  guint version = td_store_get_schema_version (store);

  td_store_close (store);
  g_clear_object (&store);

  /* Opening an already migrated file applies nothing again and keeps the data. */
  store = open_store (path);
  g_assert_cmpuint (td_store_get_schema_version (store), ==, version);
  accounts = td_store_list_accounts (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (accounts->len, ==, 1);
  g_assert_cmpstr (td_account_get_address (g_ptr_array_index (accounts, 0)), ==, "bob@example.org");
  td_store_close (store);
  g_clear_object (&store);
  g_assert_cmpint (raw_int (path, "PRAGMA user_version"), ==, version);
}

static void
test_migrations_newer (void)
{
  g_autofree char *dir = td_test_make_tempdir ("newer");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = open_store (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  td_store_close (store);
  g_clear_object (&store);

  /* A file from a future version is refused, not damaged. */
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 999", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = td_store_new (path);
  td_store_open_async (store, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_false (td_store_open_finish (store, result, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_STORE);
  g_clear_error (&error);

  /* Nothing can be read or written through it. */
  g_assert_null (td_store_list_accounts (store, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_STORE);
  g_clear_error (&error);
  td_store_close (store);
  g_assert_cmpint (raw_int (path, "PRAGMA user_version"), ==, 999);
}

static void
test_not_open (void)
{
  g_autofree char *dir = td_test_make_tempdir ("notopen");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = td_store_new (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;

  td_store_search_async (store, "hello", 10, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  found = td_store_search_finish (store, result, &error);
  /* A search for a word needs the store; an empty one does not even ask. */
  g_assert_error (error, TD_ERROR, TD_ERROR_STORE);
  g_assert_null (found);
  g_assert_cmpuint (td_store_count_messages (store, 1), ==, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* --- Accounts --- */

static void
test_accounts (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(TdAccount) bob = td_account_new (TD_ACCOUNT_KIND_POP3, "bob@example.net",
                                             "pop.example.net", 995, TD_SECURITY_STARTTLS,
                                             "bobby");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(TdAccount) got = NULL;
  g_autofree char *alice_uuid = g_strdup (td_account_get_uuid (f->account));
  gint64 bob_id;
  Signals s;

  signals_connect (&s, f->store);

  g_assert_nonnull (alice_uuid);
  g_assert_true (g_uuid_string_is_valid (alice_uuid));

  td_store_add_account_async (f->store, bob, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_add_account_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  bob_id = td_account_get_id (bob);
  g_assert_cmpint (bob_id, >, td_account_get_id (f->account));
  g_assert_cmpstr (td_account_get_uuid (bob), !=, alice_uuid);
  g_assert_cmpuint (s.accounts, ==, 1);

  /* Adding it again is a mistake the store refuses. */
  td_store_add_account_async (f->store, bob, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_false (td_store_add_account_finish (f->store, result, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_clear_object (&result);

  accounts = td_store_list_accounts (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (accounts->len, ==, 2);
  got = g_object_ref (g_ptr_array_index (accounts, 1));
  g_assert_cmpint (td_account_get_id (got), ==, bob_id);
  g_assert_cmpstr (td_account_get_uuid (got), ==, td_account_get_uuid (bob));
  g_assert_cmpint (td_account_get_kind (got), ==, TD_ACCOUNT_KIND_POP3);
  g_assert_cmpstr (td_account_get_address (got), ==, "bob@example.net");
  g_assert_cmpstr (td_account_get_host (got), ==, "pop.example.net");
  g_assert_cmpuint (td_account_get_port (got), ==, 995);
  g_assert_cmpint (td_account_get_security (got), ==, TD_SECURITY_STARTTLS);
  g_assert_cmpstr (td_account_get_username (got), ==, "bobby");
  g_assert_null (td_account_get_pinned_fingerprint (got));
  g_assert_cmpstr (td_account_get_name (got), ==, "bob@example.net");
  g_clear_object (&got);

  /* Update: a name and a pinned fingerprint. */
  td_account_set_name (bob, "Bob at work");
  td_account_set_pinned_fingerprint (bob, "AB:CD:EF");
  td_store_update_account_async (f->store, bob, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_update_account_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (s.accounts, ==, 2);

  got = td_store_get_account (f->store, bob_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (td_account_get_name (got), ==, "Bob at work");
  g_assert_cmpstr (td_account_get_pinned_fingerprint (got), ==, "AB:CD:EF");
  g_assert_cmpuint (td_account_get_sync_days (got), ==, 0);
  g_clear_object (&got);

  /* The sync window is a setting of its own */
  td_account_set_sync_days (bob, 30);
  td_store_update_account_async (f->store, bob, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_update_account_finish (f->store, result, &error));
  g_clear_object (&result);
  got = td_store_get_account (f->store, bob_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (td_account_get_sync_days (got), ==, 30);
  /* no SMTP server yet: the defaults */
  g_assert_null (td_account_get_smtp_host (got));
  g_assert_cmpuint (td_account_get_smtp_port (got), ==, 587);
  g_assert_cmpint (td_account_get_smtp_security (got), ==, TD_SECURITY_STARTTLS);
  g_assert_cmpstr (td_account_get_smtp_username (got), ==, "bobby");
  g_assert_false (td_account_get_sent_saved_by_server (got));
  g_clear_object (&got);

  /* The SMTP settings: port 0 is the one of the security, the user name its own */
  td_account_set_smtp (bob, "smtp.example.net", 0, TD_SECURITY_TLS, "bob-out");
  td_account_set_sent_saved_by_server (bob, TRUE);
  td_store_update_account_async (f->store, bob, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_update_account_finish (f->store, result, &error));
  g_clear_object (&result);
  got = td_store_get_account (f->store, bob_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (td_account_get_smtp_host (got), ==, "smtp.example.net");
  g_assert_cmpuint (td_account_get_smtp_port (got), ==, 465);
  g_assert_cmpint (td_account_get_smtp_security (got), ==, TD_SECURITY_TLS);
  g_assert_cmpstr (td_account_get_smtp_username (got), ==, "bob-out");
  g_assert_true (td_account_get_sent_saved_by_server (got));
  g_clear_object (&got);

  /* Remove alice: her folders and messages go with her. */
  add_numbered (f->store, f->inbox, 1, 5);
  set_body (f->store, f->inbox, 1, make_numbered (1));
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM message"), ==, 5);
  signals_reset (&s);
  td_store_remove_account_async (f->store, td_account_get_id (f->account), NULL,
                                 td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_remove_account_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (s.accounts, ==, 1);
  g_assert_cmpuint (s.folders, ==, 1);
  g_assert_cmpint (s.folders_account, ==, td_account_get_id (f->account));
  g_assert_cmpuint (s.folder, ==, 2);   /* each of her folders */

  /* what is left are the local folders of bob's POP3 account */
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM folder"), ==, 6);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM folder f JOIN account a"
                                     " ON a.id = f.account_id WHERE a.kind = 'imap'"), ==, 0);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM message"), ==, 0);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM body"), ==, 0);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM message_fts"), ==, 0);
  got = td_store_get_account (f->store, td_account_get_id (f->account), &error);
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_assert_null (got);
  g_clear_error (&error);
  g_assert_null (td_store_get_folder (f->store, f->inbox, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Removing it twice says so. */
  td_store_remove_account_async (f->store, td_account_get_id (f->account), NULL,
                                 td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_false (td_store_remove_account_finish (f->store, result, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&result);

  g_clear_pointer (&accounts, g_ptr_array_unref);
  accounts = td_store_list_accounts (f->store, &error);
  g_assert_cmpuint (accounts->len, ==, 1);

  signals_disconnect (&s, f->store);
}

/* Invariant 3: no secret in the store. There is no API to hand one over; the schema has no
 * place for one; and what an account writes is only its settings. */
static void
test_accounts_no_secret (Fixture       *f,
                         gconstpointer  data)
{
  static const char * const allowed[] = {
    "id", "uuid", "kind", "name", "address", "host", "port", "security", "username",
    "pinned_fingerprint", "created", "quota_usage", "quota_limit", "sync_days", "pop3_policy",
    "pop3_delete_days", "pop3_delete_when_deleted_here", "smtp_host", "smtp_port",
    "smtp_security", "smtp_username", "sent_saved_by_server", NULL,
  };
  sqlite3 *db = raw_open (f->path);
  sqlite3_stmt *stmt = NULL;
  guint columns = 0;
  int rc;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT name FROM pragma_table_info('account')", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (stmt, 0);

      g_assert_true (g_strv_contains (allowed, name));
      columns++;
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  g_assert_cmpuint (columns, ==, g_strv_length ((char **) allowed));
  sqlite3_finalize (stmt);

  /* No column of any table is named like a secret. */
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT t.name, c.name FROM sqlite_master t,"
                                       " pragma_table_info(t.name) c WHERE t.type = 'table'", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  columns = 0;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autofree char *name = g_ascii_strdown ((const char *) sqlite3_column_text (stmt, 1), -1);

      g_assert_null (strstr (name, "pass"));
      g_assert_null (strstr (name, "secret"));
      g_assert_null (strstr (name, "token"));
      g_assert_null (strstr (name, "credential"));
      columns++;
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  g_assert_cmpuint (columns, >, 20);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* --- Folders --- */

static void
test_folders_sync (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_folder_spec_free);
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(GError) error = NULL;
  gint64 account_id = td_account_get_id (f->account);
  gint64 lists;
  TdFolderState state = { 0 };
  const char *expected[] = { "INBOX", "Sent", "Lists", "Lists/gtk", "Lists-old", "Other" };
  Signals s;

  signals_connect (&s, f->store);
  g_ptr_array_add (specs, td_folder_spec_new ("Other", '/', TD_FOLDER_ROLE_NONE, TRUE));
  g_ptr_array_add (specs, td_folder_spec_new ("Lists-old", '/', TD_FOLDER_ROLE_NONE, TRUE));
  g_ptr_array_add (specs, td_folder_spec_new ("Lists/gtk", '/', TD_FOLDER_ROLE_NONE, TRUE));
  g_ptr_array_add (specs, td_folder_spec_new ("Lists", '/', TD_FOLDER_ROLE_NONE, FALSE));
  g_ptr_array_add (specs, td_folder_spec_new ("Sent", '/', TD_FOLDER_ROLE_SENT, TRUE));
  g_ptr_array_add (specs, td_folder_spec_new ("INBOX", '/', TD_FOLDER_ROLE_INBOX, TRUE));
  g_ptr_array_add (specs, td_folder_spec_new ("INBOX", '/', TD_FOLDER_ROLE_INBOX, TRUE));
  sync_folders (f->store, account_id, specs);
  g_assert_cmpuint (s.folders, ==, 1);
  g_assert_cmpint (s.folders_account, ==, account_id);

  /* Display order: roles first, then paths as a tree. */
  folders = td_store_list_folders (f->store, account_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (folders->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < folders->len; i++)
    g_assert_cmpstr (td_folder_get_path (g_ptr_array_index (folders, i)), ==, expected[i]);
  folder = g_object_ref (g_ptr_array_index (folders, 3));
  g_assert_cmpstr (td_folder_get_name (folder), ==, "gtk");
  g_assert_cmpuint (td_folder_get_depth (folder), ==, 1);
  g_assert_false (td_folder_get_selectable (g_ptr_array_index (folders, 2)));
  g_clear_object (&folder);
  g_clear_pointer (&folders, g_ptr_array_unref);

  /* The same list again changes nothing and says nothing. */
  signals_reset (&s);
  sync_folders (f->store, account_id, specs);
  g_assert_cmpuint (s.folders, ==, 0);

  /* A role changes; "Lists/gtk" goes away with its messages; "Other" stays. */
  lists = folder_id (f->store, account_id, "Lists/gtk");
  add_numbered (f->store, lists, 1, 10);
  add_numbered (f->store, f->other, 1, 3);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM message"), ==, 13);
  g_ptr_array_remove_index (specs, 2);
  ((TdFolderSpec *) g_ptr_array_index (specs, 0))->role = TD_FOLDER_ROLE_ARCHIVE;
  signals_reset (&s);
  sync_folders (f->store, account_id, specs);
  g_assert_cmpuint (s.folders, ==, 1);
  g_assert_cmpuint (s.folder_ids->len, ==, 1);
  g_assert_cmpint (g_array_index (s.folder_ids, gint64, 0), ==, lists);

  g_assert_null (td_store_find_folder (f->store, account_id, "Lists/gtk", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM message"), ==, 3);
  folder = td_store_get_folder (f->store, f->other, &error);
  g_assert_no_error (error);
  g_assert_cmpint (td_folder_get_role (folder), ==, TD_FOLDER_ROLE_ARCHIVE);
  g_assert_cmpuint (td_folder_get_total (folder), ==, 3);
  g_assert_cmpuint (td_folder_get_unread (folder), ==, 3);
  g_assert_cmpint (td_folder_get_account_id (folder), ==, account_id);
  g_clear_object (&folder);

  /* Folder state round trip. */
  g_assert_true (td_store_get_folder_state (f->store, f->inbox, &state, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (state.uidvalidity, ==, 0);
  {
    TdFolderState set = { 1234567890u, 4000000000u, G_GUINT64_CONSTANT (9007199254740993) };
    g_autoptr(GAsyncResult) result = NULL;

    td_store_set_folder_state_async (f->store, f->inbox, &set, NULL, td_test_store_result,
                                     &result);
    td_test_wait_result (&result, TIMEOUT_MS);
    g_assert_true (td_store_set_folder_state_finish (f->store, result, &error));
    g_assert_no_error (error);
    g_assert_true (td_store_get_folder_state (f->store, f->inbox, &state, &error));
    g_assert_cmpuint (state.uidvalidity, ==, set.uidvalidity);
    g_assert_cmpuint (state.uidnext, ==, set.uidnext);
    g_assert_cmpuint (state.highestmodseq, ==, set.highestmodseq);
    g_clear_object (&result);

    td_store_set_folder_state_async (f->store, 999999, &set, NULL, td_test_store_result, &result);
    td_test_wait_result (&result, TIMEOUT_MS);
    g_assert_false (td_store_set_folder_state_finish (f->store, result, &error));
    g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  g_assert_false (td_store_get_folder_state (f->store, 999999, &state, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Folders of an unknown account cannot be made. */
  {
    g_autoptr(GAsyncResult) result = NULL;

    td_store_sync_folders_async (f->store, 999999, specs, NULL, td_test_store_result, &result);
    td_test_wait_result (&result, TIMEOUT_MS);
    g_assert_false (td_store_sync_folders_finish (f->store, result, &error));
    g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  signals_disconnect (&s, f->store);
}

static gboolean
has_folder (TdStore    *store,
            gint64      account_id,
            const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) folder = td_store_find_folder (store, account_id, path, &error);

  if (folder == NULL)
    g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  return folder != NULL;
}

static GPtrArray *
server_folders (const char * const *paths)
{
  GPtrArray *specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_folder_spec_free);

  for (guint i = 0; paths[i] != NULL; i++)
    g_ptr_array_add (specs, td_folder_spec_new (paths[i], '/',
                                                g_str_equal (paths[i], "INBOX")
                                                ? TD_FOLDER_ROLE_INBOX : TD_FOLDER_ROLE_NONE,
                                                TRUE));
  return specs;
}

static void
set_uidvalidity (TdStore *store,
                 gint64   folder,
                 guint32  uidvalidity)
{
  TdFolderState state = { .uidvalidity = uidvalidity, .uidnext = 5 };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_set_folder_state_async (store, folder, &state, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_set_folder_state_finish (store, result, &error));
  g_assert_no_error (error);
}

/* A folder the server no longer lists, and a new one with its UIDVALIDITY: renamed there.
 * The row follows with its messages, and changes waiting in the journal go to the new name;
 * a UIDVALIDITY that two folders share decides nothing. */
static void
test_folders_renamed_there (Fixture       *f,
                            gconstpointer  data)
{
  const char *before[] = { "INBOX", "Projects", "Twin A", "Twin B", NULL };
  const char *after[] = { "INBOX", "Work", "Twin C", NULL };
  g_autoptr(GPtrArray) specs = server_folders (before);
  g_autoptr(GPtrArray) renamed = server_folders (after);
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TdMessage) m = NULL;
  gint64 account_id = td_account_get_id (f->account);
  gint64 projects, twin_a;

  sync_folders (f->store, account_id, specs);
  projects = folder_id (f->store, account_id, "Projects");
  twin_a = folder_id (f->store, account_id, "Twin A");
  set_uidvalidity (f->store, projects, 1000);
  set_uidvalidity (f->store, twin_a, 2000);
  set_uidvalidity (f->store, folder_id (f->store, account_id, "Twin B"), 2000);
  add_numbered (f->store, projects, 1, 3);
  m = message_by_uid (f->store, projects, 2);
  g_array_append_val (ids, ((gint64) { td_message_get_id (m) }));
  td_store_change_flags_async (f->store, ids, TD_FLAG_FLAGGED, 0, NULL, NULL, NULL,
                               td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_change_flags_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  ((TdFolderSpec *) g_ptr_array_index (renamed, 1))->uidvalidity = 1000;
  ((TdFolderSpec *) g_ptr_array_index (renamed, 2))->uidvalidity = 2000;
  sync_folders (f->store, account_id, renamed);

  g_assert_false (has_folder (f->store, account_id, "Projects"));
  g_assert_cmpint (folder_id (f->store, account_id, "Work"), ==, projects);
  g_assert_cmpuint (td_store_count_messages (f->store, projects), ==, 3);
  /* two had 2000: neither is taken for Twin C, which is a new folder */
  g_assert_false (has_folder (f->store, account_id, "Twin A"));
  g_assert_false (has_folder (f->store, account_id, "Twin B"));
  g_assert_cmpint (folder_id (f->store, account_id, "Twin C"), !=, twin_a);

  td_store_list_journal_async (f->store, account_id, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  journal = td_store_list_journal_finish (f->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, ==, 1);
  g_assert_cmpstr (((TdJournalEntry *) g_ptr_array_index (journal, 0))->folder_path, ==, "Work");
}

/* A listing the server sent before it saw the folder changes made here (a sync that started
 * first, or the journal not replayed yet) neither undoes nor drops them; once the journal is
 * replayed, the server's list is the truth again. */
static void
test_folders_pending_changes (Fixture       *f,
                              gconstpointer  data)
{
  const char *before[] = { "INBOX", "Other", "Projects", "Projects/Q1", "Projects/Q1/Notes",
                           "Old", "Old/Sub", NULL };
  const char *after[] = { "INBOX", "Other", "Work", "Work/Q1", "Work/Q1/Notes", "New", NULL };
  const char *kept[] = { "Work", "Work/Q1", "Work/Q1/Notes", "New", NULL };
  const char *gone[] = { "Projects", "Projects/Q1", "Projects/Q1/Notes", "Old", "Old/Sub", NULL };
  g_autoptr(GPtrArray) specs = server_folders (before);
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GArray) done = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 account_id = td_account_get_id (f->account);
  gint64 q1;

  sync_folders (f->store, account_id, specs);
  q1 = folder_id (f->store, account_id, "Projects/Q1");
  add_numbered (f->store, q1, 1, 4);

  td_store_rename_folder_async (f->store, folder_id (f->store, account_id, "Projects"), "Work",
                                NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_rename_folder_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  td_store_delete_folder_async (f->store, folder_id (f->store, account_id, "Old"), NULL,
                                td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_delete_folder_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  td_store_create_folder_async (f->store, account_id, "New", '/', NULL, td_test_store_result,
                                &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_cmpint (td_store_create_folder_finish (f->store, result, &error), >, 0);
  g_assert_no_error (error);
  g_clear_object (&result);

  /* The server still lists the old names, twice. */
  for (guint round = 0; round < 2; round++)
    {
      sync_folders (f->store, account_id, specs);
      for (guint i = 0; kept[i] != NULL; i++)
        g_assert_true (has_folder (f->store, account_id, kept[i]));
      for (guint i = 0; gone[i] != NULL; i++)
        g_assert_false (has_folder (f->store, account_id, gone[i]));
    }
  /* the renamed folder kept its row and its messages */
  g_assert_cmpint (folder_id (f->store, account_id, "Work/Q1"), ==, q1);
  g_assert_cmpuint (td_store_count_messages (f->store, q1), ==, 4);

  /* Replayed: the server's listing decides. */
  td_store_list_journal_async (f->store, account_id, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  journal = td_store_list_journal_finish (f->store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (journal->len, >=, 3);
  for (guint i = 0; i < journal->len; i++)
    g_array_append_val (done, ((TdJournalEntry *) g_ptr_array_index (journal, i))->id);
  td_store_journal_done_async (f->store, done, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_journal_done_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  g_clear_pointer (&specs, g_ptr_array_unref);
  specs = server_folders (after);
  sync_folders (f->store, account_id, specs);
  for (guint i = 0; after[i] != NULL; i++)
    g_assert_true (has_folder (f->store, account_id, after[i]));
  for (guint i = 0; gone[i] != NULL; i++)
    g_assert_false (has_folder (f->store, account_id, gone[i]));
  g_assert_cmpint (folder_id (f->store, account_id, "Work/Q1"), ==, q1);

  /* and a folder gone from the server, with nothing waiting here, goes here too */
  g_clear_pointer (&specs, g_ptr_array_unref);
  specs = server_folders (before);
  sync_folders (f->store, account_id, specs);
  g_assert_false (has_folder (f->store, account_id, "Work"));
  g_assert_false (has_folder (f->store, account_id, "New"));
  g_assert_true (has_folder (f->store, account_id, "Projects/Q1/Notes"));
}

/* A folder the user unsubscribed says so in its snapshots (the sidebar's menu offers the other
 * choice); a new folder is subscribed. */
static void
test_folders_subscribed (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;
  gint64 account_id = td_account_get_id (f->account);

  folder = td_store_get_folder (f->store, f->other, &error);
  g_assert_no_error (error);
  g_assert_true (td_folder_get_subscribed (folder));
  g_clear_object (&folder);

  for (guint round = 0; round < 2; round++)
    {
      gboolean subscribe = round == 1;
      g_autoptr(GAsyncResult) result = NULL;
      gboolean seen = FALSE;

      td_store_subscribe_folder_async (f->store, f->other, subscribe, NULL, td_test_store_result,
                                       &result);
      td_store_subscribe_folder_finish (f->store, td_test_wait_result (&result, TIMEOUT_MS),
                                        &error);
      g_assert_no_error (error);

      folder = td_store_get_folder (f->store, f->other, &error);
      g_assert_no_error (error);
      g_assert_cmpint (td_folder_get_subscribed (folder), ==, subscribe);
      g_clear_object (&folder);

      folders = td_store_list_folders (f->store, account_id, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < folders->len; i++)
        {
          TdFolder *listed = g_ptr_array_index (folders, i);

          if (td_folder_get_id (listed) == f->other)
            {
              g_assert_cmpint (td_folder_get_subscribed (listed), ==, subscribe);
              seen = TRUE;
            }
          else
            g_assert_true (td_folder_get_subscribed (listed));
        }
      g_assert_true (seen);
      g_clear_pointer (&folders, g_ptr_array_unref);
    }
}

/* --- Messages --- */

static void
test_messages_add (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GBytes) plain = make_raw ("\"Ann Example\" <ann@example.org>",
                                      "Bob <bob@example.org>, carol@example.org",
                                      "=?UTF-8?B?R3LDvMOfZQ==?= from Ann",
                                      "Tue, 02 Jan 2024 10:00:00 +0000",
                                      "one@example.org", "Body one");
  g_autoptr(GBytes) undated = make_raw ("dave@example.org", "bob@example.org", "No date",
                                        NULL, "two@example.org", "Body two");
  g_autoptr(GBytes) future = make_raw ("eve@example.org", "bob@example.org", "From the future",
                                       "Fri, 01 Jan 2100 00:00:00 +0000", "three@example.org",
                                       "Body three");
  g_autoptr(GBytes) changed = make_raw ("mallory@example.org", "bob@example.org",
                                        "A different subject", NULL, "x@example.org", "x");
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
  g_autoptr(TdMessage) m = NULL;
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(GError) error = NULL;
  TdMessageSpec *spec;
  gint64 internaldate = 1700000000;

  g_ptr_array_add (specs, td_message_spec_new (10, TD_FLAG_SEEN | TD_FLAG_RECENT, internaldate,
                                               1234, plain));
  g_ptr_array_add (specs, td_message_spec_new (11, 0, internaldate, 0, undated));
  spec = td_message_spec_new (12, TD_FLAG_FLAGGED, internaldate, 0, future);
  spec->keywords = g_strdup ("$label1 custom");
  spec->modseq = 77;
  g_ptr_array_add (specs, spec);
  add_messages (f->store, f->inbox, specs);

  folder = td_store_get_folder (f->store, f->inbox, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (td_folder_get_total (folder), ==, 3);
  g_assert_cmpuint (td_folder_get_unread (folder), ==, 2);
  g_clear_object (&folder);
  g_assert_cmpuint (td_store_count_messages (f->store, f->inbox), ==, 3);
  g_assert_cmpuint (td_store_count_messages (f->store, f->other), ==, 0);

  m = message_by_uid (f->store, f->inbox, 10);
  g_assert_nonnull (m);
  g_assert_cmpstr (td_message_get_subject (m), ==, "Grüße from Ann");
  g_assert_cmpstr (td_message_get_from (m), ==, "Ann Example");
  g_assert_cmpstr (td_message_get_from_address (m), ==, "ann@example.org");
  g_assert_nonnull (strstr (td_message_get_to (m), "carol@example.org"));
  g_assert_cmpstr (td_message_get_message_id (m), ==, "one@example.org");
  g_assert_cmpint (td_message_get_date (m), ==, 1704189600);
  g_assert_cmpuint (td_message_get_size (m), ==, 1234);
  g_assert_cmpuint (td_message_get_flags (m), ==, TD_FLAG_SEEN);   /* \Recent is not stored */
  g_assert_false (td_message_get_has_body (m));
  g_assert_null (td_message_get_preview (m));
  g_assert_cmpint (td_message_get_folder_id (m), ==, f->inbox);
  g_clear_object (&m);

  /* No Date: the server's internal date. A date far in the future: the same. */
  m = message_by_uid (f->store, f->inbox, 11);
  g_assert_cmpint (td_message_get_date (m), ==, internaldate);
  g_assert_cmpstr (td_message_get_from (m), ==, "dave@example.org");
  g_clear_object (&m);
  m = message_by_uid (f->store, f->inbox, 12);
  g_assert_cmpint (td_message_get_date (m), ==, internaldate);
  g_clear_object (&m);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM message WHERE uid = 12"
                                     " AND keywords = '$label1 custom'"), ==, 1);
  /* its MODSEQ, for the UNCHANGEDSINCE of a flag change here */
  g_assert_cmpint (raw_int (f->path, "SELECT modseq FROM message WHERE uid = 12"), ==, 77);

  /* A uid already there: only the flags change, whatever the header says now. */
  g_ptr_array_set_size (specs, 0);
  g_ptr_array_add (specs, td_message_spec_new (10, 0, 1, 99, changed));
  g_ptr_array_add (specs, td_message_spec_new (11, TD_FLAG_SEEN, 1, 99, changed));
  g_ptr_array_add (specs, td_message_spec_new (13, 0, internaldate, 0, NULL));
  g_ptr_array_add (specs, td_message_spec_new (13, TD_FLAG_SEEN, internaldate, 0, NULL));
  add_messages (f->store, f->inbox, specs);

  m = message_by_uid (f->store, f->inbox, 10);
  g_assert_cmpstr (td_message_get_subject (m), ==, "Grüße from Ann");
  g_assert_cmpuint (td_message_get_size (m), ==, 1234);
  g_assert_cmpuint (td_message_get_flags (m), ==, 0);
  g_clear_object (&m);
  m = message_by_uid (f->store, f->inbox, 11);
  g_assert_cmpstr (td_message_get_subject (m), ==, "No date");
  g_assert_cmpuint (td_message_get_flags (m), ==, TD_FLAG_SEEN);
  g_clear_object (&m);
  /* A message without a header is still a row (and listed twice, the second wins). */
  m = message_by_uid (f->store, f->inbox, 13);
  g_assert_nonnull (m);
  g_assert_null (td_message_get_subject (m));
  g_assert_cmpuint (td_message_get_flags (m), ==, TD_FLAG_SEEN);
  g_clear_object (&m);

  folder = td_store_get_folder (f->store, f->inbox, &error);
  g_assert_cmpuint (td_folder_get_total (folder), ==, 4);
  g_assert_cmpuint (td_folder_get_unread (folder), ==, 2);   /* uids 10 and 12 */

  /* Into a folder that does not exist. */
  {
    g_autoptr(GAsyncResult) result = NULL;

    td_store_add_messages_async (f->store, 999999, specs, NULL, td_test_store_result, &result);
    td_test_wait_result (&result, TIMEOUT_MS);
    g_assert_false (td_store_add_messages_finish (f->store, result, &error));
    g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  }
}

/* Headers are hostile too: binary junk, huge fields, invalid UTF-8. */
static void
test_messages_hostile_headers (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
  g_autoptr(GString) huge = g_string_new ("Subject: ");
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(TdMessage) m = NULL;
  guchar junk[4096];
  const char latin1[] = "Subject: caf\xe9 cr\xe8me\r\nFrom: \xff\xfe <x@y>\r\n\r\n";

  for (guint i = 0; i < 200000; i++)
    g_string_append_c (huge, 'a' + (i % 26));
  g_string_append (huge, "\r\n\r\n");
  for (guint i = 0; i < sizeof junk; i++)
    junk[i] = (guchar) g_rand_int_range (rand, 0, 256);

  g_ptr_array_add (specs, td_message_spec_new (1, 0, 1, 0, g_bytes_new_static (junk, sizeof junk)));
  g_ptr_array_add (specs, td_message_spec_new (2, 0, 1, 0, g_bytes_new_static (huge->str,
                                                                               huge->len)));
  g_ptr_array_add (specs, td_message_spec_new (3, 0, 1, 0, g_bytes_new_static (latin1,
                                                                               sizeof latin1 - 1)));
  g_ptr_array_add (specs, td_message_spec_new (4, 0, 1, 0, g_bytes_new_static ("", 0)));
  for (guint i = 0; i < specs->len; i++)
    g_bytes_unref (((TdMessageSpec *) g_ptr_array_index (specs, i))->header);   /* new took a ref */
  add_messages (f->store, f->inbox, specs);

  g_assert_cmpuint (td_store_count_messages (f->store, f->inbox), ==, 4);
  for (guint uid = 1; uid <= 4; uid++)
    {
      g_clear_object (&m);
      m = message_by_uid (f->store, f->inbox, uid);
      g_assert_nonnull (m);
      if (td_message_get_subject (m) != NULL)
        {
          g_assert_true (g_utf8_validate (td_message_get_subject (m), -1, NULL));
          g_assert_cmpuint (strlen (td_message_get_subject (m)), <=, 4 * 1024);
        }
      if (td_message_get_from (m) != NULL)
        g_assert_true (g_utf8_validate (td_message_get_from (m), -1, NULL));
    }
  check_integrity (f->store);
}

static void
test_messages_bodies (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GBytes) one = make_raw ("Ann <ann@example.org>", "bob@example.org", "Quarterly numbers",
                                    "Tue, 02 Jan 2024 10:00:00 +0000", "one@example.org",
                                    "The   zeppelin\r\nlands   at noon.\r\nBring an umbrella.");
  g_autoptr(GBytes) two = make_raw_with_attachment ("The report", "See the attached xylophone.");
  g_autoptr(GBytes) three = make_numbered (3);
  g_autoptr(GPtrArray) bodies = g_ptr_array_new_with_free_func ((GDestroyNotify) td_body_spec_free);
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GArray) uids = NULL;
  g_autoptr(TdMessage) m = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  gint64 id;
  Signals s;

  add_one (f->store, f->inbox, 1, 0, 0, one);
  add_one (f->store, f->inbox, 2, 0, 0, two);
  add_one (f->store, f->inbox, 3, 0, 0, three);

  uids = list_uids (f->store, f->inbox, TRUE);
  g_assert_cmpuint (uids->len, ==, 3);
  g_clear_pointer (&uids, g_array_unref);

  /* Subject and addresses are searchable before the body comes. */
  found = search (f->store, "quarterly", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "zeppelin", 10);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);

  signals_connect (&s, f->store);
  g_ptr_array_add (bodies, td_body_spec_new (1, one));
  g_ptr_array_add (bodies, td_body_spec_new (2, two));
  g_ptr_array_add (bodies, td_body_spec_new (77, three));   /* unknown uid: ignored */
  set_bodies (f->store, f->inbox, bodies);
  g_assert_cmpuint (s.folder, ==, 1);
  signals_disconnect (&s, f->store);

  m = message_by_uid (f->store, f->inbox, 1);
  g_assert_true (td_message_get_has_body (m));
  g_assert_false (td_message_get_has_attachment (m));
  g_assert_nonnull (td_message_get_preview (m));
  g_assert_nonnull (strstr (td_message_get_preview (m), "zeppelin"));
  g_assert_cmpuint (g_utf8_strlen (td_message_get_preview (m), -1), <=, 200);
  id = td_message_get_id (m);
  g_clear_object (&m);

  m = message_by_uid (f->store, f->inbox, 2);
  g_assert_true (td_message_get_has_body (m));
  g_assert_true (td_message_get_has_attachment (m));
  g_assert_nonnull (strstr (td_message_get_preview (m), "xylophone"));
  g_clear_object (&m);

  m = message_by_uid (f->store, f->inbox, 3);
  g_assert_false (td_message_get_has_body (m));
  g_clear_object (&m);

  /* The raw bytes come back as they went in. */
  td_store_get_body_async (f->store, id, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  got = td_store_get_body_finish (f->store, result, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, one));
  g_clear_object (&result);

  m = message_by_uid (f->store, f->inbox, 3);
  td_store_get_body_async (f->store, td_message_get_id (m), NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_null (td_store_get_body_finish (f->store, result, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&result);
  g_clear_object (&m);

  /* Only uid 3 still lacks its body. */
  uids = list_uids (f->store, f->inbox, TRUE);
  g_assert_cmpuint (uids->len, ==, 1);
  g_assert_cmpuint (g_array_index (uids, guint32, 0), ==, 3);
  g_clear_pointer (&uids, g_array_unref);

  /* Body words, subject words, addresses, diacritics folded, prefixes. */
  found = search (f->store, "zeppelin", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpint (td_message_get_id (g_ptr_array_index (found, 0)), ==, id);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "umbrella noon", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "umbrella xylophone", 10);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "xyloph", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "ann@example.org", 10);
  g_assert_cmpuint (found->len, ==, 2);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* A body set again replaces the old one and its index entry. */
  set_body (f->store, f->inbox, 1, make_raw ("Ann <ann@example.org>", "bob@example.org",
                                             "Quarterly numbers", NULL, NULL, "Now about walruses."));
  found = search (f->store, "zeppelin", 10);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "walrus", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM body"), ==, 2);

  /* Removing a message takes its body and index entry along. */
  remove_uids (f->store, f->inbox, (guint32[]) { 1 }, 1);
  found = search (f->store, "walrus", 10);
  g_assert_cmpuint (found->len, ==, 0);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM body"), ==, 1);
}

static void
test_messages_flags (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(TdMessage) m = NULL;
  g_autoptr(GError) error = NULL;
  Signals s;

  add_numbered (f->store, f->inbox, 1, 10);
  g_assert_cmpint (raw_int (f->path, "SELECT unread FROM folder WHERE path = 'INBOX'"), ==, 10);

  signals_connect (&s, f->store);
  update_flags (f->store, f->inbox, 1, TD_FLAG_SEEN);
  update_flags (f->store, f->inbox, 2, TD_FLAG_SEEN | TD_FLAG_FLAGGED | TD_FLAG_RECENT);
  update_flags (f->store, f->inbox, 3, TD_FLAG_FLAGGED);
  g_assert_cmpuint (s.folder, ==, 3);

  folder = td_store_get_folder (f->store, f->inbox, &error);
  g_assert_cmpuint (td_folder_get_total (folder), ==, 10);
  g_assert_cmpuint (td_folder_get_unread (folder), ==, 8);
  g_clear_object (&folder);
  m = message_by_uid (f->store, f->inbox, 2);
  g_assert_cmpuint (td_message_get_flags (m), ==, TD_FLAG_SEEN | TD_FLAG_FLAGGED);
  g_clear_object (&m);

  /* Nothing changes: no signal. Unknown uid: nothing. */
  signals_reset (&s);
  update_flags (f->store, f->inbox, 1, TD_FLAG_SEEN);
  update_flags (f->store, f->inbox, 4242, TD_FLAG_SEEN);
  g_assert_cmpuint (s.folder, ==, 0);

  /* Unseen again. */
  update_flags (f->store, f->inbox, 1, TD_FLAG_ANSWERED);
  folder = td_store_get_folder (f->store, f->inbox, &error);
  g_assert_cmpuint (td_folder_get_unread (folder), ==, 9);
  g_clear_object (&folder);

  /* Keywords: the server's list replaces ours; unknown (NULL) keeps them; "" clears. */
  signals_reset (&s);
  update_keywords (f->store, f->inbox, 4, 0, "$NotJunk Work");
  g_assert_cmpuint (s.folder, ==, 1);
  m = message_by_uid (f->store, f->inbox, 4);
  g_assert_cmpstr (td_message_get_keywords (m), ==, "$NotJunk Work");
  g_clear_object (&m);
  signals_reset (&s);
  update_keywords (f->store, f->inbox, 4, 0, "$NotJunk Work");
  update_flags (f->store, f->inbox, 4, 0);
  g_assert_cmpuint (s.folder, ==, 0);
  m = message_by_uid (f->store, f->inbox, 4);
  g_assert_cmpstr (td_message_get_keywords (m), ==, "$NotJunk Work");
  g_clear_object (&m);
  update_keywords (f->store, f->inbox, 4, 0, "");
  m = message_by_uid (f->store, f->inbox, 4);
  g_assert_null (td_message_get_keywords (m));
  g_clear_object (&m);

  /* A folder that cannot keep keywords on the server keeps ours against its empty list. */
  update_keywords (f->store, f->inbox, 5, 0, "Work");
  {
    g_autoptr(GAsyncResult) result = NULL;

    td_store_set_folder_local_flags_async (f->store, f->inbox, TD_FLAG_KEYWORDS, NULL,
                                           td_test_store_result, &result);
    g_assert_true (td_store_set_folder_local_flags_finish (f->store,
                                                           td_test_wait_result (&result,
                                                                                TIMEOUT_MS),
                                                           &error));
    g_assert_no_error (error);
  }
  update_keywords (f->store, f->inbox, 5, TD_FLAG_SEEN, "");
  m = message_by_uid (f->store, f->inbox, 5);
  g_assert_cmpstr (td_message_get_keywords (m), ==, "Work");
  g_assert_cmpuint (td_message_get_flags (m), ==, TD_FLAG_SEEN);
  g_clear_object (&m);
  signals_disconnect (&s, f->store);
}

static void
test_messages_remove (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(GArray) uids = NULL;
  g_autoptr(GError) error = NULL;
  const guint32 gone[] = { 2, 4, 6, 99 };

  add_numbered (f->store, f->inbox, 1, 8);
  update_flags (f->store, f->inbox, 2, TD_FLAG_SEEN);
  update_flags (f->store, f->inbox, 3, TD_FLAG_SEEN);
  remove_uids (f->store, f->inbox, gone, G_N_ELEMENTS (gone));

  folder = td_store_get_folder (f->store, f->inbox, &error);
  g_assert_cmpuint (td_folder_get_total (folder), ==, 5);
  g_assert_cmpuint (td_folder_get_unread (folder), ==, 4);
  uids = list_uids (f->store, f->inbox, FALSE);
  g_assert_cmpuint (uids->len, ==, 5);
  g_assert_cmpuint (g_array_index (uids, guint32, 0), ==, 1);
  g_assert_cmpuint (g_array_index (uids, guint32, 1), ==, 3);
  g_assert_cmpuint (g_array_index (uids, guint32, 4), ==, 8);
}

static void
test_folders_reset (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) folder = NULL;
  TdFolderState state = { 777, 50, 12 };
  TdFolderState got = { 0 };
  Signals s;

  add_numbered (f->store, f->inbox, 1, 20);
  add_numbered (f->store, f->other, 1, 5);
  set_body (f->store, f->inbox, 1, make_numbered (1));

  signals_connect (&s, f->store);
  td_store_reset_folder_async (f->store, f->inbox, &state, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_true (td_store_reset_folder_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.folder, ==, 1);
  g_assert_cmpint (g_array_index (s.folder_ids, gint64, 0), ==, f->inbox);
  signals_disconnect (&s, f->store);

  folder = td_store_get_folder (f->store, f->inbox, &error);
  g_assert_cmpuint (td_folder_get_total (folder), ==, 0);
  g_assert_cmpuint (td_folder_get_unread (folder), ==, 0);
  g_assert_true (td_store_get_folder_state (f->store, f->inbox, &got, &error));
  g_assert_cmpuint (got.uidvalidity, ==, 777);
  g_assert_cmpuint (got.uidnext, ==, 50);
  g_assert_cmpuint (got.highestmodseq, ==, 12);
  g_assert_cmpuint (td_store_count_messages (f->store, f->other), ==, 5);
  g_assert_cmpint (raw_int (f->path, "SELECT count(*) FROM body"), ==, 0);
}

static void
test_messages_uids (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
  g_autoptr(GPtrArray) bodies = g_ptr_array_new_with_free_func ((GDestroyNotify) td_body_spec_free);
  g_autoptr(GArray) all = NULL;
  g_autoptr(GArray) without = NULL;
  g_autoptr(GArray) window = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const guint32 order[] = { 50, 7, 3000000000u, 12, 1, 999 };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      g_autoptr(GBytes) raw = make_numbered (i);

      g_ptr_array_add (specs, td_message_spec_new (order[i], 0, 0, 0, raw));
      if (order[i] == 12 || order[i] == 1)
        g_ptr_array_add (bodies, td_body_spec_new (order[i], raw));
    }
  add_messages (f->store, f->inbox, specs);
  set_bodies (f->store, f->inbox, bodies);

  all = list_uids (f->store, f->inbox, FALSE);
  g_assert_cmpuint (all->len, ==, 6);
  for (guint i = 1; i < all->len; i++)
    g_assert_cmpuint (g_array_index (all, guint32, i - 1), <, g_array_index (all, guint32, i));
  g_assert_cmpuint (g_array_index (all, guint32, 5), ==, 3000000000u);

  without = list_uids (f->store, f->inbox, TRUE);
  g_assert_cmpuint (without->len, ==, 4);
  g_assert_cmpuint (g_array_index (without, guint32, 0), ==, 3000000000u);
  g_assert_cmpuint (g_array_index (without, guint32, 1), ==, 999);
  g_assert_cmpuint (g_array_index (without, guint32, 2), ==, 50);
  g_assert_cmpuint (g_array_index (without, guint32, 3), ==, 7);

  /* The sync window: only those dated since, still newest first */
  td_store_list_missing_bodies_async (f->store, f->inbox, numbered_date (2), NULL,
                                      td_test_store_result, &result);
  window = td_store_list_missing_bodies_finish (f->store, td_test_wait_result (&result, TIMEOUT_MS),
                                                &error);
  g_assert_no_error (error);
  g_assert_cmpuint (window->len, ==, 2);
  g_assert_cmpuint (g_array_index (window, guint32, 0), ==, 3000000000u);
  g_assert_cmpuint (g_array_index (window, guint32, 1), ==, 999);

  g_clear_pointer (&all, g_array_unref);
  all = list_uids (f->store, f->other, FALSE);
  g_assert_cmpuint (all->len, ==, 0);
}

static void
test_messages_page (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
  g_autoptr(GError) error = NULL;
  guint seen = 0;

  /* 250 messages added in a shuffled order; then 3 with the same date. */
  for (guint i = 0; i < 250; i++)
    {
      guint n = (i * 7) % 250;
      g_autoptr(GBytes) raw = make_numbered (n);

      g_ptr_array_add (specs, td_message_spec_new (n + 1, 0, 0, 0, raw));
    }
  add_messages (f->store, f->inbox, specs);
  add_numbered (f->store, f->other, 5, 1);

  for (guint offset = 0; offset < 250; offset += 100)
    {
      page = td_store_page_messages (f->store, f->inbox, offset, 100, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (page->len, ==, MIN (100, 250 - offset));
      for (guint i = 0; i < page->len; i++)
        {
          TdMessage *m = g_ptr_array_index (page, i);

          /* Newest first: row k is message number 249 - k. */
          g_assert_cmpint (td_message_get_date (m), ==, numbered_date (249 - (offset + i)));
          g_assert_cmpint (td_message_get_folder_id (m), ==, f->inbox);
          seen++;
        }
      g_clear_pointer (&page, g_ptr_array_unref);
    }
  g_assert_cmpuint (seen, ==, 250);

  page = td_store_page_messages (f->store, f->inbox, 250, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 0);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = td_store_page_messages (f->store, f->inbox, G_MAXUINT, G_MAXUINT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 0);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = td_store_page_messages (f->store, f->inbox, 10, 0, &error);
  g_assert_cmpuint (page->len, ==, 0);
  g_clear_pointer (&page, g_ptr_array_unref);
  page = td_store_page_messages (f->store, 999999, 0, 10, &error);
  g_assert_cmpuint (page->len, ==, 0);
  g_clear_pointer (&page, g_ptr_array_unref);

  /* Same date: the later row (higher id) first. */
  g_ptr_array_set_size (specs, 0);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GBytes) raw = make_numbered (10000);

      g_ptr_array_add (specs, td_message_spec_new (1000 + i, 0, 0, 0, raw));
    }
  add_messages (f->store, f->inbox, specs);
  page = td_store_page_messages (f->store, f->inbox, 0, 3, &error);
  g_assert_cmpuint (page->len, ==, 3);
  g_assert_cmpuint (td_message_get_uid (g_ptr_array_index (page, 0)), ==, 1002);
  g_assert_cmpuint (td_message_get_uid (g_ptr_array_index (page, 1)), ==, 1001);
  g_assert_cmpuint (td_message_get_uid (g_ptr_array_index (page, 2)), ==, 1000);
  g_assert_cmpint (td_message_get_id (g_ptr_array_index (page, 0)), >,
                   td_message_get_id (g_ptr_array_index (page, 1)));

  {
    g_autoptr(TdMessage) m = td_store_get_message (f->store,
                                                   td_message_get_id (g_ptr_array_index (page, 0)),
                                                   &error);
    g_assert_no_error (error);
    g_assert_cmpuint (td_message_get_uid (m), ==, 1002);
    g_assert_null (td_store_get_message (f->store, -5, &error));
    g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  }
}

/* --- Search --- */

static void
test_search_hostile (Fixture       *f,
                     gconstpointer  data)
{
  static const char * const queries[] = {
    "\"", "\"\"", "\"\"\"", "AND OR NOT", "AND", "NOT foo", "foo*", "*", "(", ")", "(foo",
    "subject:x", "body:", "subject : x", "^foo", "NEAR(a b)", "a + b", "-foo", "'", "\\",
    "{subject}: x", "x\"y", "ü", "über", "🎉", "🎉 party", "\xff\xfe", "a\tb\nc", "%", "_",
    "foo\" OR \"bar", "\"foo", "foo\"*", "*foo",
  };
  g_autoptr(GBytes) raw = make_raw ("Ünal <unal@example.org>", "bob@example.org",
                                    "Über party 🎉 subject:x", "Tue, 02 Jan 2024 10:00:00 +0000",
                                    "p@example.org", "The foo\"bar feast: (food) AND drinks.");
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GPtrArray) found = NULL;
  GString *junk;

  add_one (f->store, f->inbox, 1, 0, 0, raw);
  set_body (f->store, f->inbox, 1, g_bytes_ref (raw));

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_test_message ("query %s", queries[i]);
      found = search (f->store, queries[i], 10);
      g_assert_cmpuint (found->len, <=, 1);
      g_clear_pointer (&found, g_ptr_array_unref);
    }

  /* Nothing to look for: nothing found, no error. */
  found = search (f->store, "", 10);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "  \t\n ", 10);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, NULL, 10);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* The words still work as words. */
  found = search (f->store, "AND", 10);   /* the body says "AND" */
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "subject:x", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "ü", 10);   /* prefix of "über", diacritics folded */
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "uber", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "unal", 10);   /* in the sender's name */
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "(food)", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "foo\"bar", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "NOT", 10);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "🎉", 10);   /* emoji are not words to the tokenizer */
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (f->store, "feast drinks nothere", 10);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* 10 KB of junk, several times. */
  for (guint round = 0; round < 5; round++)
    {
      junk = g_string_new (NULL);
      for (guint i = 0; i < 10 * 1024; i++)
        {
          static const char special[] = "\"*():^+-{}' \t\nANDORNOT";
          guint pick = g_rand_int_range (rand, 0, 3);

          if (pick == 0)
            g_string_append_c (junk, special[g_rand_int_range (rand, 0, sizeof special - 1)]);
          else
            g_string_append_c (junk, (char) g_rand_int_range (rand, 1, 256));
        }
      found = search (f->store, junk->str, 10);
      g_assert_cmpuint (found->len, <=, 1);
      g_clear_pointer (&found, g_ptr_array_unref);
      g_string_free (junk, TRUE);
    }
}

static void
test_search_order_limit (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GPtrArray) found = NULL;

  add_numbered (f->store, f->inbox, 1, 30);
  add_numbered (f->store, f->other, 100, 5);

  found = search (f->store, "message number", 10);
  g_assert_cmpuint (found->len, ==, 10);
  for (guint i = 1; i < found->len; i++)
    g_assert_cmpint (td_message_get_date (g_ptr_array_index (found, i - 1)), >,
                     td_message_get_date (g_ptr_array_index (found, i)));
  /* Across folders: the newest are in "Other". */
  g_assert_cmpint (td_message_get_folder_id (g_ptr_array_index (found, 0)), ==, f->other);
  g_clear_pointer (&found, g_ptr_array_unref);

  found = search (f->store, "message", 0);   /* 0: no limit */
  g_assert_cmpuint (found->len, ==, 35);
}

/* --- Signals and closing --- */

typedef struct
{
  guint   signals;
  guint   callbacks;
  guint   signals_at_callback;
  guint   count_in_signal;
  GError *error;
} Order;

static void
order_signal_cb (TdStore *store,
                 gint64   folder,
                 Order   *order)
{
  order->signals++;
  /* Emitted after the commit: the read connection already sees it. */
  order->count_in_signal = td_store_count_messages (store, folder);
}

static void
order_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Order *order = user_data;

  order->signals_at_callback = order->signals;
  td_store_add_messages_finish (TD_STORE (source), result, &order->error);
  order->callbacks++;
}

static void
test_signals_order (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
  g_autoptr(GBytes) raw = make_numbered (1);
  gulong id;
  Order order = { 0 };

  /* The signal comes after the commit (a read in the handler sees the row) and before the
   * caller's callback. */
  id = g_signal_connect (f->store, "folder-changed", G_CALLBACK (order_signal_cb), &order);
  g_ptr_array_add (specs, td_message_spec_new (1, 0, 0, 0, raw));
  td_store_add_messages_async (f->store, f->inbox, specs, NULL, order_done_cb, &order);
  g_assert_cmpuint (order.signals, ==, 0);   /* never from inside the call */
  while (order.callbacks == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (order.error);
  g_assert_cmpuint (order.signals_at_callback, ==, 1);
  g_assert_cmpuint (order.count_in_signal, ==, 1);
  g_assert_cmpuint (td_store_count_messages (f->store, f->inbox), ==, 1);

  /* Nothing changed: no signal. */
  order.callbacks = 0;
  td_store_add_messages_async (f->store, f->inbox, specs, NULL, order_done_cb, &order);
  while (order.callbacks == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (order.signals, ==, 1);
  g_signal_handler_disconnect (f->store, id);
}

typedef struct
{
  guint done;
  guint failed;
} Counter;

static void
count_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Counter *counter = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_store_add_messages_finish (TD_STORE (source), result, &error))
    counter->failed++;
  counter->done++;
}

static void
test_close_with_queued_jobs (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Counter counter = { 0 };
  TdStore *reopened;

  for (guint batch = 0; batch < 20; batch++)
    {
      g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);

      for (guint i = 0; i < 50; i++)
        {
          g_autoptr(GBytes) raw = make_numbered (batch * 50 + i);

          g_ptr_array_add (specs, td_message_spec_new (batch * 50 + i + 1, 0, 0, 0, raw));
        }
      td_store_add_messages_async (f->store, f->inbox, specs, NULL, count_done_cb, &counter);
    }
  /* Close waits for all of them; their callbacks come on the main loop as usual. */
  td_store_close (f->store);
  while (counter.done < 20)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (counter.failed, ==, 0);

  /* After closing, a job fails cleanly. */
  td_store_check_integrity_async (f->store, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_false (td_store_check_integrity_finish (f->store, result, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_STORE);
  g_assert_cmpuint (td_store_count_messages (f->store, f->inbox), ==, 0);

  reopened = open_store (f->path);
  g_assert_cmpuint (td_store_count_messages (reopened, f->inbox), ==, 1000);
  check_integrity (reopened);
  td_store_close (reopened);
  g_object_unref (reopened);
}

static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
  g_autoptr(GBytes) raw = make_numbered (1);

  g_ptr_array_add (specs, td_message_spec_new (1, 0, 0, 0, raw));
  g_cancellable_cancel (cancellable);
  td_store_add_messages_async (f->store, f->inbox, specs, cancellable, td_test_store_result,
                               &result);
  td_test_wait_result (&result, TIMEOUT_MS);
  g_assert_false (td_store_add_messages_finish (f->store, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (td_store_count_messages (f->store, f->inbox), ==, 0);
}

/* --- Crash safety (invariant 2) --- */

static int
wait_write (TdStore      *store,
            GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return 0;
}

/* The child: writes batches for ever until it is killed. */
static int
crash_writer_main (const char *path,
                   guint32     seed)
{
  g_autoptr(TdStore) store = td_store_new (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func ((GDestroyNotify) td_folder_spec_free);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(TdAccount) account = NULL;
  g_autoptr(GArray) uids = NULL;
  gint64 inbox, other;
  guint32 next_uid = 1;

  td_engine_init ();
  td_store_open_async (store, NULL, td_test_store_result, &result);
  wait_write (store, &result);
  if (!td_store_open_finish (store, result, NULL))
    return 1;
  g_clear_object (&result);

  accounts = td_store_list_accounts (store, NULL);
  if (accounts == NULL)
    return 1;
  if (accounts->len == 0)
    {
      account = td_account_new (TD_ACCOUNT_KIND_IMAP, "crash@example.org", "localhost", 993,
                                TD_SECURITY_TLS, NULL);
      td_store_add_account_async (store, account, NULL, td_test_store_result, &result);
      wait_write (store, &result);
      if (!td_store_add_account_finish (store, result, NULL))
        return 1;
      g_clear_object (&result);
    }
  else
    {
      account = g_object_ref (g_ptr_array_index (accounts, 0));
    }

  g_ptr_array_add (folders, td_folder_spec_new ("INBOX", '/', TD_FOLDER_ROLE_INBOX, TRUE));
  g_ptr_array_add (folders, td_folder_spec_new ("Other", '/', TD_FOLDER_ROLE_NONE, TRUE));
  td_store_sync_folders_async (store, td_account_get_id (account), folders, NULL,
                               td_test_store_result, &result);
  wait_write (store, &result);
  if (!td_store_sync_folders_finish (store, result, NULL))
    return 1;
  g_clear_object (&result);
  {
    g_autoptr(TdFolder) f1 = td_store_find_folder (store, td_account_get_id (account), "INBOX",
                                                   NULL);
    g_autoptr(TdFolder) f2 = td_store_find_folder (store, td_account_get_id (account), "Other",
                                                   NULL);

    if (f1 == NULL || f2 == NULL)
      return 1;
    inbox = td_folder_get_id (f1);
    other = td_folder_get_id (f2);
  }

  td_store_list_uids_async (store, inbox, FALSE, NULL, td_test_store_result, &result);
  wait_write (store, &result);
  uids = td_store_list_uids_finish (store, result, NULL);
  g_clear_object (&result);
  if (uids != NULL && uids->len > 0)
    next_uid = g_array_index (uids, guint32, uids->len - 1) + 1;

  for (;;)
    {
      g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
      g_autoptr(GPtrArray) bodies = g_ptr_array_new_with_free_func ((GDestroyNotify) td_body_spec_free);
      g_autoptr(GArray) flags = g_array_new (FALSE, FALSE, sizeof (TdUidFlags));
      g_autoptr(GArray) gone = g_array_new (FALSE, FALSE, sizeof (guint32));
      guint n = (guint) g_rand_int_range (rand, 10, 60);
      guint32 first = next_uid;

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(GBytes) raw = make_numbered (next_uid);

          g_ptr_array_add (specs, td_message_spec_new (next_uid, g_rand_boolean (rand) ? TD_FLAG_SEEN : 0,
                                                       0, 0, raw));
          if (g_rand_boolean (rand))
            g_ptr_array_add (bodies, td_body_spec_new (next_uid, raw));
          next_uid++;
        }
      for (guint i = 0; i < 10; i++)
        {
          TdUidFlags change = { (guint32) g_rand_int_range (rand, 1, (gint32) next_uid),
                                g_rand_boolean (rand) ? TD_FLAG_SEEN : TD_FLAG_FLAGGED };

          g_array_append_val (flags, change);
        }
      for (guint i = 0; i < 5; i++)
        {
          guint32 uid = (guint32) g_rand_int_range (rand, 1, (gint32) next_uid);

          g_array_append_val (gone, uid);
        }

      /* Queued back to back, so that the kill finds the store thread in any of them. */
      td_store_add_messages_async (store, inbox, specs, NULL, NULL, NULL);
      td_store_add_messages_async (store, other, specs, NULL, NULL, NULL);
      td_store_set_bodies_async (store, inbox, bodies, NULL, NULL, NULL);
      td_store_update_flags_async (store, inbox, flags, NULL, NULL, NULL);
      td_store_remove_messages_async (store, inbox, gone, NULL, NULL, NULL);
      if (first % 7 == 0)
        {
          TdFolderState state = { first, next_uid, 0 };

          td_store_reset_folder_async (store, other, &state, NULL, NULL, NULL);
        }
      td_store_set_bodies_async (store, other, bodies, NULL, td_test_store_result, &result);
      wait_write (store, &result);
      g_clear_object (&result);
    }

  return 0;
}

static void
test_crash_safety (void)
{
  g_autofree char *dir = td_test_make_tempdir ("crash");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr(GRand) rand = g_rand_new ();
  gint64 messages = 0;
  const guint rounds = 6;

  g_assert_nonnull (self_exe);
  for (guint round = 0; round < rounds; round++)
    {
      g_autofree char *seed = g_strdup_printf ("%u", g_rand_int (rand));
      const char *argv[] = { self_exe, "--crash-writer", path, seed, NULL };
      g_autoptr(GError) error = NULL;
      TdStore *store;
      GPid pid;
      int status = 0;
      /* The first rounds give the child time to get going; later ones cut in anywhere. */
      guint delay_ms = round < 2 ? 700 + g_rand_int_range (rand, 0, 300)
                                 : g_rand_int_range (rand, 20, 600);

      g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                    NULL, NULL, &pid, &error));
      g_assert_no_error (error);
      g_usleep (delay_ms * 1000);
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));
      g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
      g_spawn_close_pid (pid);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;

      /* It opens, passes the integrity check, and its counts add up. */
      store = open_store (path);
      check_integrity (store);
      td_store_close (store);
      g_object_unref (store);
      messages = assert_store_consistent (path);
      g_test_message ("round %u after %u ms: %" G_GINT64_FORMAT " messages", round, delay_ms,
                      messages);
    }

  /* The child did commit work before being killed. */
  g_assert_cmpint (messages, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 4 && g_strcmp0 (argv[1], "--crash-writer") == 0)
    return crash_writer_main (argv[2], (guint32) g_ascii_strtoull (argv[3], NULL, 10));

  td_test_init (&argc, &argv);

  g_test_add_func ("/store/folder/names", test_folder_names);
  g_test_add_func ("/store/message/flags-string", test_message_flags_string);
  g_test_add_func ("/store/migrations/fresh", test_migrations_fresh);
  g_test_add_func ("/store/migrations/reopen", test_migrations_reopen);
  g_test_add_func ("/store/migrations/newer", test_migrations_newer);
  g_test_add_func ("/store/not-open", test_not_open);
#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/store/accounts/add-list-update-remove", test_accounts);
  ADD ("/store/accounts/no-secret", test_accounts_no_secret);
  ADD ("/store/folders/sync", test_folders_sync);
  ADD ("/store/folders/reset", test_folders_reset);
  ADD ("/store/folders/subscribed", test_folders_subscribed);
  ADD ("/store/folders/pending-changes", test_folders_pending_changes);
  ADD ("/store/folders/renamed-there", test_folders_renamed_there);
  ADD ("/store/messages/add", test_messages_add);
  ADD ("/store/messages/hostile-headers", test_messages_hostile_headers);
  ADD ("/store/messages/bodies", test_messages_bodies);
  ADD ("/store/messages/flags", test_messages_flags);
  ADD ("/store/messages/remove", test_messages_remove);
  ADD ("/store/messages/uids", test_messages_uids);
  ADD ("/store/messages/page", test_messages_page);
  ADD ("/store/search/hostile", test_search_hostile);
  ADD ("/store/search/order-limit", test_search_order_limit);
  ADD ("/store/signals/order", test_signals_order);
  ADD ("/store/close/queued-jobs", test_close_with_queued_jobs);
  ADD ("/store/cancelled", test_cancelled);
#undef ADD
  g_test_add_func ("/store/crash-safety", test_crash_safety);

  return g_test_run ();
}
