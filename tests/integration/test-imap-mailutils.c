/* test-imap-mailutils.c: two-way sync against a second real server, GNU Mailutils imap4d
 *
 * imap4d is a plain IMAP4rev1 server, and a quirky one: no CONDSTORE, QRESYNC, ENABLE, MOVE,
 * UIDPLUS (so no UID EXPUNGE), ESEARCH or SPECIAL-USE; PERMANENTFLAGS without "\*" (a STORE
 * with $Forwarded is refused with BAD, the whole command); nothing is pushed during IDLE
 * (new mail shows only once the IDLE ends, flags changed by other sessions not even then);
 * and while mail delivered from outside sits in a Maildir's new/, every STATUS or EXAMINE
 * reports another UIDVALIDITY and UIDNEXT. Each case starts its own imap4d, syncs an account
 * over STARTTLS through the same engine API as test-imap-twoway.c, acts here (the store's
 * journaled actions) or there (a raw IMAP connection of the test, or files in the Maildir),
 * syncs again and compares both sides.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "td-account-manager.h"
#include "td-error.h"
#include "td-imap-sync.h"
#include "td-imap-response.h"
#include "td-imap-watch.h"
#include "td-secret-credentials.h"
#include "td-store.h"
#include "td-test-mailutils.h"
#include "td-test-store.h"
#include "td-test-util.h"

typedef struct
{
  TdTestMailutils *server;
  TdStore         *store;
  TdAccount       *account;
  char            *profile;
  char            *path;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  f->server = td_test_mailutils_start (&error);
  g_assert_no_error (error);

  f->profile = td_test_make_tempdir ("profile");
  f->path = g_build_filename (f->profile, "tidings.db", NULL);
  f->store = td_test_store_open (f->path, 10000);

  f->account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@localhost", "localhost",
                               td_test_mailutils_get_port (f->server, "imap"),
                               TD_SECURITY_STARTTLS,
                               td_test_mailutils_get_username (f->server));
  td_account_set_pinned_fingerprint (f->account, td_test_mailutils_get_fingerprint (f->server));
  td_store_add_account_async (f->store, f->account, NULL, td_test_store_result, &result);
  td_store_add_account_finish (f->store, td_test_wait_result (&result, 10000), &error);
  g_assert_no_error (error);

  td_test_mailutils_append_generated (f->server, "INBOX", "Inbox message", 8, &error);
  g_assert_no_error (error);
  td_test_mailutils_create_folder (f->server, "Archive", &error);
  g_assert_no_error (error);
  td_test_mailutils_append_generated (f->server, "Archive", "Archived", 2, &error);
  g_assert_no_error (error);
  td_test_mailutils_create_folder (f->server, "Trash", &error);
  g_assert_no_error (error);
  td_test_mailutils_create_folder (f->server, "Projects", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_object (&f->account);
  g_clear_pointer (&f->server, td_test_mailutils_free);
  g_free (f->path);
  g_free (f->profile);
}

static GError *
run_sync (Fixture *f)
{
  g_autoptr(TdImapSync) sync = td_imap_sync_new (f->store, f->account);
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;

  td_imap_sync_run_async (sync, td_test_mailutils_get_password (f->server), NULL,
                          td_test_store_result, &result);
  td_imap_sync_run_finish (sync, td_test_wait_result (&result, 120000), &error);
  return error;
}

static void
sync_ok (Fixture *f)
{
  GError *error = run_sync (f);

  g_assert_no_error (error);
}

static TdFolder *
folder (Fixture    *f,
        const char *path)
{
  g_autoptr(GError) error = NULL;
  TdFolder *folder = td_store_find_folder (f->store, td_account_get_id (f->account), path,
                                           &error);

  g_assert_no_error (error);
  if (folder == NULL)
    g_error ("no folder %s here", path);
  return folder;
}

static guint
local_total (Fixture    *f,
             const char *path)
{
  g_autoptr(TdFolder) dir = folder (f, path);

  g_assert_cmpuint (td_folder_get_total (dir), ==,
                    td_store_count_messages (f->store, td_folder_get_id (dir)));
  return td_folder_get_total (dir);
}

/* The local message with this subject in @path (there must be at most one), or NULL. */
static TdMessage *
find_local (Fixture    *f,
            const char *path,
            const char *subject)
{
  g_autoptr(TdFolder) dir = folder (f, path);
  g_autoptr(GPtrArray) page = td_store_page_messages (f->store, td_folder_get_id (dir), 0, 1000,
                                                      NULL);
  TdMessage *found = NULL;

  g_assert_nonnull (page);
  for (guint i = 0; i < page->len; i++)
    if (g_strcmp0 (td_message_get_subject (g_ptr_array_index (page, i)), subject) == 0)
      {
        if (found != NULL)
          g_error ("%s is in %s here twice", subject, path);
        found = g_ptr_array_index (page, i);
      }
  return found != NULL ? g_object_ref (found) : NULL;
}

static GArray *
ids_of (Fixture    *f,
        const char *path,
        const char *subject)
{
  g_autoptr(TdMessage) m = find_local (f, path, subject);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 id;

  if (m == NULL)
    g_error ("%s is not in %s here", subject, path);
  id = td_message_get_id (m);
  g_array_append_val (ids, id);
  return ids;
}

static TdFlags
local_flags (Fixture    *f,
             const char *path,
             const char *subject)
{
  g_autoptr(TdMessage) m = find_local (f, path, subject);

  g_assert_nonnull (m);
  return td_message_get_flags (m);
}

/* --- The server's side, over a raw connection --- */

static TdTestImap *
imap (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  TdTestImap *conn = td_test_imap_connect (f->server, &error);

  g_assert_no_error (error);
  return conn;
}

/* The messages of @path on the server (none when the folder is gone). */
static GPtrArray *
server_messages (Fixture    *f,
                 const char *path)
{
  g_autoptr(TdTestImap) conn = imap (f);
  g_autofree char *raw = td_imap_utf7_encode (path);
  GPtrArray *messages = td_test_imap_list_messages (conn, raw, NULL);

  return messages != NULL ? messages : g_ptr_array_new ();
}

static guint
server_count (Fixture    *f,
              const char *path,
              const char *subject)
{
  g_autoptr(GPtrArray) messages = server_messages (f, path);
  guint n = 0;

  for (guint i = 0; i < messages->len; i++)
    n += g_strcmp0 (((TdTestImapMessage *) g_ptr_array_index (messages, i))->subject,
                    subject) == 0;
  return n;
}

static guint
server_total (Fixture    *f,
              const char *path)
{
  g_autoptr(GPtrArray) messages = server_messages (f, path);

  return messages->len;
}

/* The uid and flags of the one message @subject in @path on the server. */
static guint32
server_find (Fixture     *f,
             const char  *path,
             const char  *subject,
             char       **flags)
{
  g_autoptr(GPtrArray) messages = server_messages (f, path);
  TdTestImapMessage *found = NULL;

  for (guint i = 0; i < messages->len; i++)
    {
      TdTestImapMessage *m = g_ptr_array_index (messages, i);

      if (g_strcmp0 (m->subject, subject) == 0)
        {
          if (found != NULL)
            g_error ("%s is in %s on the server twice", subject, path);
          found = m;
        }
    }
  if (found == NULL)
    g_error ("%s is not in %s on the server", subject, path);
  if (flags != NULL)
    *flags = g_strdup (found->flags);
  return found->uid;
}

static void
assert_server_has_flag (Fixture    *f,
                        const char *path,
                        const char *subject,
                        const char *flag,
                        gboolean    has)
{
  g_autofree char *flags = NULL;
  g_autofree char *padded = NULL;
  g_autofree char *needle = g_strconcat (" ", flag, " ", NULL);

  server_find (f, path, subject, &flags);
  padded = g_strconcat (" ", flags, " ", NULL);
  if (has && strstr (padded, needle) == NULL)
    g_error ("%s/%s should have %s on the server: (%s)", path, subject, flag, flags);
  if (!has && strstr (padded, needle) != NULL)
    g_error ("%s/%s should not have %s on the server: (%s)", path, subject, flag, flags);
}

/* Runs a command in @path (SELECTed read-write) on a connection of its own; must be OK. */
static void
server_run (Fixture    *f,
            const char *path,
            const char *command)
{
  g_autoptr(TdTestImap) conn = imap (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *selected = NULL;
  g_autofree char *out = NULL;

  selected = td_test_imap_command (conn, &error, "SELECT \"%s\"", path);
  g_assert_no_error (error);
  out = td_test_imap_command (conn, &error, "%s", command);
  g_assert_no_error (error);
}

static GStrv
server_folders (Fixture *f)
{
  g_autoptr(TdTestImap) conn = imap (f);
  g_autoptr(GError) error = NULL;
  GStrv names = td_test_imap_list_folders (conn, &error);

  g_assert_no_error (error);
  return names;
}

/* --- Local actions --- */

static void
change_flags (Fixture *f,
              GArray  *ids,
              TdFlags  add,
              TdFlags  remove)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_change_flags_async (f->store, ids, add, remove, NULL, NULL, NULL,
                               td_test_store_result, &result);
  td_store_change_flags_finish (f->store, td_test_wait_result (&result, 10000), &error);
  g_assert_no_error (error);
}

static void
move_to (Fixture    *f,
         GArray     *ids,
         const char *target,
         gboolean    copy)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) dir = folder (f, target);

  td_store_move_messages_async (f->store, ids, td_folder_get_id (dir), copy, NULL,
                                td_test_store_result, &result);
  td_store_move_messages_finish (f->store, td_test_wait_result (&result, 10000), &error);
  g_assert_no_error (error);
}

static guint
journal (Fixture *f)
{
  return td_store_count_journal (f->store, td_account_get_id (f->account));
}

/* --- First sync --- */

static void
test_first_sync (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(TdMessage) m = NULL;
  g_autoptr(TdMessage) again = NULL;
  g_autoptr(TdFolder) trash = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(TdTestImap) conn = NULL;
  g_autofree char *select = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *text = NULL;
  TdFolderState state;

  sync_ok (f);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 8);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 2);
  g_assert_cmpuint (local_total (f, "Trash"), ==, 0);
  g_assert_cmpuint (local_total (f, "Projects"), ==, 0);
  /* no SPECIAL-USE: the role comes from the name */
  trash = folder (f, "Trash");
  g_assert_cmpint (td_folder_get_role (trash), ==, TD_FOLDER_ROLE_TRASH);

  m = find_local (f, "INBOX", "Inbox message 3");
  g_assert_nonnull (m);
  g_assert_cmpstr (td_message_get_from_address (m), ==, "sender3@example.org");
  g_assert_cmpuint (td_message_get_uid (m), ==, server_find (f, "INBOX", "Inbox message 3",
                                                             NULL));
  g_assert_true (td_message_get_has_body (m));
  td_store_get_body_async (f->store, td_message_get_id (m), NULL, td_test_store_result, &result);
  body = td_store_get_body_finish (f->store, td_test_wait_result (&result, 10000), &error);
  g_assert_no_error (error);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_assert_nonnull (strstr (text, "This is generated message number 3 (\"Inbox message 3\")."));

  /* the folder's UIDVALIDITY is the one of the SELECT */
  g_assert_true (td_store_get_folder_state (f->store, td_folder_get_id (folder (f, "INBOX")),
                                            &state, NULL));
  conn = imap (f);
  select = td_test_imap_command (conn, &error, "EXAMINE INBOX");
  g_assert_no_error (error);
  expected = g_strdup_printf ("[UIDVALIDITY %u]", state.uidvalidity);
  if (strstr (select, expected) == NULL)
    g_error ("stored %s, server: %s", expected, select);

  /* a second sync changes nothing: the same rows, not the folder downloaded again */
  sync_ok (f);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 8);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 2);
  again = find_local (f, "INBOX", "Inbox message 3");
  g_assert_nonnull (again);
  g_assert_cmpint (td_message_get_id (again), ==, td_message_get_id (m));
}

/* --- Here -> server --- */

static void
test_flags_here (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GArray) one = NULL;
  g_autoptr(GArray) two = NULL;
  g_autoptr(GArray) three = NULL;
  g_autofree char *seen = NULL;

  sync_ok (f);
  one = ids_of (f, "INBOX", "Inbox message 1");
  two = ids_of (f, "INBOX", "Inbox message 2");
  three = ids_of (f, "INBOX", "Inbox message 3");
  change_flags (f, one, TD_FLAG_SEEN | TD_FLAG_FLAGGED, 0);
  /* $Forwarded is a keyword imap4d refuses (BAD for the whole STORE): kept here only */
  change_flags (f, two, TD_FLAG_ANSWERED | TD_FLAG_FORWARDED, 0);
  change_flags (f, three, TD_FLAG_FORWARDED, 0);
  g_assert_cmpuint (journal (f), >, 0);

  sync_ok (f);
  g_assert_cmpuint (journal (f), ==, 0);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Seen", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Flagged", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 2", "\\Answered", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 2", "$Forwarded", FALSE);
  assert_server_has_flag (f, "INBOX", "Inbox message 2", "\\Seen", FALSE);
  assert_server_has_flag (f, "INBOX", "Inbox message 3", "\\Answered", FALSE);
  /* the flags the server took, and the keyword it would not, stay here after the sync */
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 1"), ==,
                    TD_FLAG_SEEN | TD_FLAG_FLAGGED);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 2"), ==,
                    TD_FLAG_ANSWERED | TD_FLAG_FORWARDED);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 3"), ==, TD_FLAG_FORWARDED);

  /* a change there to a message with a local keyword keeps the keyword */
  seen = g_strdup_printf ("UID STORE %u +FLAGS.SILENT (\\Seen)",
                          server_find (f, "INBOX", "Inbox message 3", NULL));
  server_run (f, "INBOX", seen);
  sync_ok (f);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 3"), ==,
                    TD_FLAG_SEEN | TD_FLAG_FORWARDED);

  /* and taking flags away here takes them away there */
  change_flags (f, one, 0, TD_FLAG_FLAGGED);
  change_flags (f, two, 0, TD_FLAG_FORWARDED);
  sync_ok (f);
  g_assert_cmpuint (journal (f), ==, 0);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Flagged", FALSE);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Seen", TRUE);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 1"), ==, TD_FLAG_SEEN);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 2"), ==, TD_FLAG_ANSWERED);
}

/* No MOVE, no UIDPLUS: a move is COPY, STORE \Deleted and a plain EXPUNGE. */
static void
test_move_here (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GArray) moved = NULL;
  g_autoptr(GArray) copied = NULL;
  g_autoptr(TdMessage) there = NULL;

  sync_ok (f);
  moved = ids_of (f, "INBOX", "Inbox message 4");
  copied = ids_of (f, "INBOX", "Inbox message 5");
  change_flags (f, moved, TD_FLAG_FLAGGED, 0);
  move_to (f, moved, "Archive", FALSE);
  move_to (f, copied, "Projects", TRUE);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 7);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 3);
  g_assert_cmpuint (local_total (f, "Projects"), ==, 1);

  sync_ok (f);
  g_assert_cmpuint (journal (f), ==, 0);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 4"), ==, 0);
  g_assert_cmpuint (server_count (f, "Archive", "Inbox message 4"), ==, 1);
  assert_server_has_flag (f, "Archive", "Inbox message 4", "\\Flagged", TRUE);
  assert_server_has_flag (f, "Archive", "Inbox message 4", "\\Deleted", FALSE);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 5"), ==, 1);
  g_assert_cmpuint (server_count (f, "Projects", "Inbox message 5"), ==, 1);
  /* nothing else went */
  g_assert_cmpuint (server_total (f, "INBOX"), ==, 7);
  g_assert_cmpuint (server_total (f, "Archive"), ==, 3);
  /* exactly once here too, with its real uid, readable */
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 7);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 3);
  g_assert_cmpuint (local_total (f, "Projects"), ==, 1);
  there = find_local (f, "Archive", "Inbox message 4");
  g_assert_nonnull (there);
  g_assert_cmpuint (td_message_get_uid (there), ==,
                    server_find (f, "Archive", "Inbox message 4", NULL));
  g_assert_true (td_message_get_has_body (there));
  g_assert_cmpuint (td_message_get_flags (there), ==, TD_FLAG_FLAGGED);

  sync_ok (f);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 3);
  g_assert_cmpuint (server_count (f, "Archive", "Inbox message 4"), ==, 1);
}

/* Delete is a move to Trash; deleting in Trash removes for good. */
static void
test_delete_to_trash (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(TdCredentials) credentials = td_secret_credentials_new ();
  g_autoptr(TdAccountManager) manager = NULL;
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) gone = NULL;
  g_autoptr(GArray) for_good = NULL;

  sync_ok (f);
  manager = td_account_manager_new (f->store, credentials);
  gone = ids_of (f, "INBOX", "Inbox message 6");
  td_account_manager_delete_messages_async (manager, gone, NULL, td_test_store_result, &r1);
  td_account_manager_action_finish (manager, td_test_wait_result (&r1, 10000), &error);
  g_assert_no_error (error);
  g_assert_null (find_local (f, "INBOX", "Inbox message 6"));
  g_assert_cmpuint (local_total (f, "Trash"), ==, 1);

  sync_ok (f);
  g_assert_cmpuint (journal (f), ==, 0);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 6"), ==, 0);
  g_assert_cmpuint (server_count (f, "Trash", "Inbox message 6"), ==, 1);
  g_assert_cmpuint (server_total (f, "INBOX"), ==, 7);
  g_assert_cmpuint (local_total (f, "Trash"), ==, 1);

  for_good = ids_of (f, "Trash", "Inbox message 6");
  td_account_manager_delete_messages_async (manager, for_good, NULL, td_test_store_result, &r2);
  td_account_manager_action_finish (manager, td_test_wait_result (&r2, 10000), &error);
  g_assert_no_error (error);
  sync_ok (f);
  g_assert_cmpuint (journal (f), ==, 0);
  g_assert_cmpuint (server_total (f, "Trash"), ==, 0);
  g_assert_cmpuint (local_total (f, "Trash"), ==, 0);
  g_assert_cmpuint (server_total (f, "INBOX"), ==, 7);
}

static gboolean
strv_has (GStrv       names,
          const char *name)
{
  return g_strv_contains ((const char * const *) names, name);
}

static void
test_folders_here (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) projects = NULL;
  g_autoptr(TdFolder) archive = NULL;
  g_autoptr(TdFolder) created = NULL;
  g_auto(GStrv) names = NULL;
  g_autofree char *raw_created = td_imap_utf7_encode ("Reisen/2026 Köln");
  gint64 id;

  sync_ok (f);
  id = td_account_get_id (f->account);
  td_store_create_folder_async (f->store, id, "Reisen/2026 Köln", '/', NULL,
                                td_test_store_result, &r1);
  td_store_create_folder_finish (f->store, td_test_wait_result (&r1, 10000), &error);
  g_assert_no_error (error);
  projects = folder (f, "Projects");
  td_store_rename_folder_async (f->store, td_folder_get_id (projects), "Work", NULL,
                                td_test_store_result, &r2);
  td_store_rename_folder_finish (f->store, td_test_wait_result (&r2, 10000), &error);
  g_assert_no_error (error);
  archive = folder (f, "Archive");
  td_store_delete_folder_async (f->store, td_folder_get_id (archive), NULL,
                                td_test_store_result, &r3);
  td_store_delete_folder_finish (f->store, td_test_wait_result (&r3, 10000), &error);
  g_assert_no_error (error);

  sync_ok (f);
  g_assert_cmpuint (journal (f), ==, 0);
  names = server_folders (f);
  g_assert_true (strv_has (names, raw_created));
  g_assert_true (strv_has (names, "Work"));
  g_assert_false (strv_has (names, "Projects"));
  g_assert_false (strv_has (names, "Archive"));
  g_assert_true (strv_has (names, "Trash"));
  /* and the store agrees after listing the server again */
  created = td_store_find_folder (f->store, id, "Reisen/2026 Köln", NULL);
  g_assert_nonnull (created);
  g_assert_true (td_folder_get_selectable (created));
  g_assert_null (td_store_find_folder (f->store, id, "Archive", NULL));
  g_assert_null (td_store_find_folder (f->store, id, "Projects", NULL));
  g_assert_cmpuint (local_total (f, "Work"), ==, 0);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 8);
}

/* --- Server -> here --- */

static void
test_changes_there (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *store = NULL;
  g_autofree char *expunge = NULL;

  sync_ok (f);
  store = g_strdup_printf ("UID STORE %u +FLAGS.SILENT (\\Flagged \\Seen)",
                           server_find (f, "INBOX", "Inbox message 7", NULL));
  server_run (f, "INBOX", store);
  expunge = g_strdup_printf ("UID STORE %u +FLAGS.SILENT (\\Deleted)",
                             server_find (f, "INBOX", "Inbox message 8", NULL));
  server_run (f, "INBOX", expunge);
  server_run (f, "INBOX", "EXPUNGE");
  td_test_mailutils_append_generated (f->server, "INBOX", "Late arrival", 2, &error);
  g_assert_no_error (error);

  sync_ok (f);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 7"), ==,
                    TD_FLAG_SEEN | TD_FLAG_FLAGGED);
  g_assert_null (find_local (f, "INBOX", "Inbox message 8"));
  g_assert_nonnull (find_local (f, "INBOX", "Late arrival 2"));
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 8 - 1 + 2);

  g_clear_pointer (&store, g_free);
  store = g_strdup_printf ("UID STORE %u -FLAGS.SILENT (\\Flagged)",
                           server_find (f, "INBOX", "Inbox message 7", NULL));
  server_run (f, "INBOX", store);
  sync_ok (f);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 7"), ==, TD_FLAG_SEEN);
}

/* Mail delivered into the Maildir from outside (as an MDA does): while it sits in new/, each
 * STATUS reports another UIDVALIDITY and UIDNEXT. The sync must not believe STATUS, and end
 * with every message exactly once. */
static void
test_delivered (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(TdTestImap) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *inbox = td_test_mailutils_get_maildir (f->server, "INBOX");
  g_autoptr(GArray) kept = NULL;
  g_autoptr(TdMessage) delivered = NULL;

  sync_ok (f);
  kept = ids_of (f, "INBOX", "Inbox message 2");
  change_flags (f, kept, TD_FLAG_SEEN, 0);
  sync_ok (f);

  for (guint n = 1; n <= 2; n++)
    {
      g_autofree char *name = g_strdup_printf ("%d.delivered%u.tidings", (int) getpid (), n);
      g_autofree char *tmp = g_build_filename (inbox, "tmp", name, NULL);
      g_autofree char *path = g_build_filename (inbox, "new", name, NULL);
      g_autofree char *text = g_strdup_printf ("From: Outside <outside@example.org>\n"
                                               "To: alice@localhost\n"
                                               "Subject: Delivered %u\n"
                                               "Message-ID: <delivered-%u@example.org>\n"
                                               "Date: Tue, 3 Mar 2026 09:0%u:00 +0000\n"
                                               "\n"
                                               "Delivered straight into the Maildir.\n",
                                               n, n, n);

      g_assert_true (g_file_set_contents (tmp, text, -1, NULL));
      g_assert_cmpint (rename (tmp, path), ==, 0);
    }

  conn = imap (f);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *status = td_test_imap_command (conn, &error,
                                                      "STATUS INBOX (UIDVALIDITY UIDNEXT)");

      g_assert_no_error (error);
      g_test_message ("%s", status);
      if (i < 2)
        g_usleep (1100 * 1000);  /* imap4d's UIDVALIDITY counts seconds */
    }

  sync_ok (f);
  g_assert_nonnull (find_local (f, "INBOX", "Delivered 1"));
  g_assert_nonnull (find_local (f, "INBOX", "Delivered 2"));
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 10);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 2"), ==, TD_FLAG_SEEN);
  delivered = find_local (f, "INBOX", "Delivered 2");
  g_assert_cmpuint (td_message_get_uid (delivered), ==,
                    server_find (f, "INBOX", "Delivered 2", NULL));

  /* and once they are settled, a sync finds nothing new */
  sync_ok (f);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 10);
  g_assert_cmpuint (server_total (f, "INBOX"), ==, 10);
}

/* --- Push --- */

static void
count_signal_cb (gpointer  instance,
                 guint    *count)
{
  (*count)++;
}

static void
wait_until_online (TdImapWatch *watch,
                   gboolean     online)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (td_imap_watch_get_online (watch) != online)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
wait_count_above (guint *count,
                  guint  above)
{
  gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;

  while (*count <= above)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* imap4d announces IDLE but says nothing while idling: the watch must still notice new mail
 * and flags changed elsewhere within its poll interval. */
static void
test_idle (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(TdImapWatch) watch = td_imap_watch_new (f->account, "INBOX");
  g_autoptr(GError) error = NULL;
  g_autofree char *store = NULL;
  guint changed = 0, before;

  sync_ok (f);
  td_imap_watch_set_poll_interval (watch, 2);
  g_signal_connect (watch, "changed", G_CALLBACK (count_signal_cb), &changed);
  td_imap_watch_start (watch, td_test_mailutils_get_password (f->server));
  wait_until_online (watch, TRUE);
  wait_count_above (&changed, 0);

  before = changed;
  td_test_mailutils_append_generated (f->server, "INBOX", "Pushed", 1, &error);
  g_assert_no_error (error);
  wait_count_above (&changed, before);
  sync_ok (f);
  g_assert_nonnull (find_local (f, "INBOX", "Pushed 1"));

  before = changed;
  store = g_strdup_printf ("UID STORE %u +FLAGS.SILENT (\\Flagged)",
                           server_find (f, "INBOX", "Inbox message 2", NULL));
  server_run (f, "INBOX", store);
  wait_count_above (&changed, before);
  sync_ok (f);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 2"), ==, TD_FLAG_FLAGGED);
  g_assert_true (td_imap_watch_get_online (watch));

  td_imap_watch_stop (watch);
  g_assert_false (td_imap_watch_get_online (watch));
}

int
main (int    argc,
      char **argv)
{
  static const struct { const char *name; void (*func) (Fixture *, gconstpointer); } cases[] = {
    { "first-sync", test_first_sync },
    { "flags-here", test_flags_here },
    { "move-here", test_move_here },
    { "delete-to-trash", test_delete_to_trash },
    { "folders-here", test_folders_here },
    { "changes-there", test_changes_there },
    { "delivered", test_delivered },
    { "idle", test_idle },
  };

  td_test_init (&argc, &argv);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/imap/mailutils/%s", cases[i].name);

      g_test_add (path, Fixture, NULL, fixture_setup, cases[i].func, fixture_teardown);
    }
  return g_test_run ();
}
