/* test-imap-twoway.c: changes made here reach a real Dovecot, changes made there come back
 *
 * Each case starts its own Dovecot, syncs an account, then acts here (the store's local
 * actions, journaled) or there (doveadm), syncs again and compares both sides. The same cases
 * run against three kinds of server: Dovecot as it is (QRESYNC, CONDSTORE, MOVE, UIDPLUS),
 * one that announces CONDSTORE without QRESYNC or MOVE (COPY + \Deleted + UID EXPUNGE), and a
 * plain IMAP4rev1 server (no CONDSTORE, UIDPLUS, ESEARCH or SPECIAL-USE). A server without
 * IDLE is watched by polling.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "td-error.h"
#include "td-imap-client.h"
#include "td-imap-sync.h"
#include "td-imap-watch.h"
#include "td-store.h"
#include "td-test-dovecot.h"
#include "td-test-store.h"
#include "td-test-util.h"

/* CONDSTORE without QRESYNC and without MOVE: replay must copy, mark and expunge. */
#define CONDSTORE_CAPS "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE CONDSTORE UIDPLUS ESEARCH " \
                       "SPECIAL-USE LIST-EXTENDED NAMESPACE"

/* Dovecot's own capabilities but IDLE (and NOTIFY, which needs it): the watch must poll. */
#define NO_IDLE_CAPS "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE CONDSTORE QRESYNC UIDPLUS MOVE " \
                     "ESEARCH SPECIAL-USE LIST-EXTENDED LIST-STATUS NAMESPACE"

typedef struct
{
  TdTestDovecot *server;
  TdStore       *store;
  TdAccount     *account;
  TdTestProxy   *proxy;
  char          *profile;
  char          *path;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  if (g_strcmp0 (data, "minimal") == 0)
    g_setenv ("TD_MAIL_MINIMAL", "1", TRUE);
  else if (g_strcmp0 (data, "condstore") == 0)
    g_setenv ("TD_MAIL_CAPS", CONDSTORE_CAPS, TRUE);
  else if (g_strcmp0 (data, "no-idle") == 0)
    g_setenv ("TD_MAIL_CAPS", NO_IDLE_CAPS, TRUE);
  f->server = td_test_dovecot_start (&error);
  g_unsetenv ("TD_MAIL_MINIMAL");
  g_unsetenv ("TD_MAIL_CAPS");
  g_assert_no_error (error);

  /* every connection goes through a proxy, so a test can take the server away */
  f->proxy = td_test_proxy_new (td_test_dovecot_get_port (f->server, "imaps"), 0);

  f->profile = td_test_make_tempdir ("profile");
  f->path = g_build_filename (f->profile, "tidings.db", NULL);
  f->store = td_test_store_open (f->path, 10000);

  f->account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@localhost", "localhost",
                               td_test_proxy_get_port (f->proxy), TD_SECURITY_TLS, "alice");
  td_account_set_pinned_fingerprint (f->account, td_test_dovecot_get_fingerprint (f->server));
  td_store_add_account_async (f->store, f->account, NULL, td_test_store_result, &result);
  td_store_add_account_finish (f->store, td_test_wait_result (&result, 10000), &error);
  g_assert_no_error (error);

  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Inbox message", 12, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Archive", "Archived", 3, &error);
  g_assert_no_error (error);
  td_test_dovecot_create_folder (f->server, "alice", "Trash", &error);
  g_assert_no_error (error);
  td_test_dovecot_create_folder (f->server, "alice", "Projects", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_object (&f->account);
  g_clear_pointer (&f->proxy, td_test_proxy_free);
  g_clear_pointer (&f->server, td_test_dovecot_free);
  g_free (f->path);
  g_free (f->profile);
}

/* Closes and reopens the store, as a restart of the program does. */
static void
restart (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  gint64 id = td_account_get_id (f->account);

  td_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_object (&f->account);
  f->store = td_test_store_open (f->path, 10000);
  f->account = td_store_get_account (f->store, id, &error);
  g_assert_no_error (error);
}

static GError *
run_sync (Fixture *f)
{
  g_autoptr(TdImapSync) sync = td_imap_sync_new (f->store, f->account);
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;

  td_imap_sync_run_async (sync, td_test_dovecot_get_password (f->server), NULL,
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
  g_assert_nonnull (folder);
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

/* The local message with this subject in @path, or NULL. */
static TdMessage *
find_local (Fixture    *f,
            const char *path,
            const char *subject)
{
  g_autoptr(TdFolder) dir = folder (f, path);

  return td_test_store_find_subject (f->store, td_folder_get_id (dir), subject);
}

static GArray *
ids_of (Fixture    *f,
        const char *path,
        const char *subject)
{
  g_autoptr(TdMessage) m = find_local (f, path, subject);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 id;

  g_assert_nonnull (m);
  id = td_message_get_id (m);
  g_array_append_val (ids, id);
  return ids;
}

/* "doveadm fetch": the uids (and the flags of the last one) of the messages whose subject is
 * exactly @subject in @path (a mailbox that is gone has none). */
static GArray *
server_find (Fixture     *f,
             const char  *path,
             const char  *subject,
             char       **flags)
{
  g_autofree char *out = NULL;
  g_auto(GStrv) records = NULL;
  GArray *uids = g_array_new (FALSE, FALSE, sizeof (guint32));

  out = td_test_dovecot_doveadm_output (f->server, NULL, "fetch", "-u", "alice",
                                        "uid flags hdr.subject", "mailbox", path, "all", NULL);
  if (out == NULL)
    return uids;
  records = g_strsplit (out, "\f\n", -1);
  for (guint i = 0; records[i] != NULL; i++)
    {
      g_auto(GStrv) lines = g_strsplit (records[i], "\n", -1);
      const char *record_flags = NULL;
      guint32 uid = 0;
      gboolean match = FALSE;

      for (guint j = 0; lines[j] != NULL; j++)
        {
          if (g_str_has_prefix (lines[j], "uid: "))
            uid = (guint32) g_ascii_strtoull (lines[j] + 5, NULL, 10);
          else if (g_str_has_prefix (lines[j], "flags:"))
            record_flags = lines[j];
          else if (g_str_has_prefix (lines[j], "hdr.subject: "))
            match = g_strcmp0 (lines[j] + strlen ("hdr.subject: "), subject) == 0;
        }
      if (match && uid > 0)
        {
          g_array_append_val (uids, uid);
          if (flags != NULL)
            {
              g_free (*flags);
              *flags = g_strdup (record_flags != NULL ? record_flags : "flags:");
            }
        }
    }
  return uids;
}

/* The server uid of the one message @subject in @path, as text for doveadm (a small ring of
 * buffers: good for a few uses in one call). */
static const char *
uid_of (Fixture    *f,
        const char *path,
        const char *subject)
{
  static char buffers[8][16];
  static guint next;
  g_autoptr(GArray) uids = server_find (f, path, subject, NULL);
  char *buffer = buffers[next++ % G_N_ELEMENTS (buffers)];

  g_assert_cmpuint (uids->len, ==, 1);
  g_snprintf (buffer, sizeof buffers[0], "%u", g_array_index (uids, guint32, 0));
  return buffer;
}

static guint
server_count (Fixture    *f,
              const char *path,
              const char *subject)
{
  g_autoptr(GArray) uids = server_find (f, path, subject, NULL);

  return uids->len;
}

/* The server's flags of the one message @subject in @path, as doveadm prints them. */
static char *
server_flags (Fixture    *f,
              const char *path,
              const char *subject)
{
  char *flags = NULL;
  g_autoptr(GArray) uids = server_find (f, path, subject, &flags);

  g_assert_cmpuint (uids->len, ==, 1);
  return flags;
}

static void
assert_server_has_flag (Fixture    *f,
                        const char *path,
                        const char *subject,
                        const char *flag,
                        gboolean    has)
{
  g_autofree char *flags = server_flags (f, path, subject);
  g_autofree char *padded = g_strconcat (flags, " ", NULL);
  g_autofree char *needle = g_strconcat (" ", flag, " ", NULL);

  if (has && strstr (padded, needle) == NULL)
    g_error ("%s/%s should have %s on the server: %s", path, subject, flag, flags);
  if (!has && strstr (padded, needle) != NULL)
    g_error ("%s/%s should not have %s on the server: %s", path, subject, flag, flags);
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

static int
compare_words (const void *a,
               const void *b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* The message's other keywords, sorted and space-separated ("" for none). */
static char *
local_keywords (Fixture    *f,
                const char *path,
                const char *subject)
{
  g_autoptr(TdMessage) m = find_local (f, path, subject);
  g_auto(GStrv) words = NULL;

  g_assert_nonnull (m);
  words = g_strsplit (td_message_get_keywords (m) != NULL ? td_message_get_keywords (m) : "",
                      " ", -1);
  qsort (words, g_strv_length (words), sizeof (char *), compare_words);
  return g_strjoinv (" ", words);
}

static void
change_flags (Fixture    *f,
              GArray     *ids,
              TdFlags     add,
              TdFlags     remove)
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

static void
expunge (Fixture *f,
         GArray  *ids)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_expunge_messages_async (f->store, ids, NULL, td_test_store_result, &result);
  td_store_expunge_messages_finish (f->store, td_test_wait_result (&result, 10000), &error);
  g_assert_no_error (error);
}

/* doveadm with these arguments must succeed. */
#define DOVEADM_OK(f, ...) \
  G_STMT_START { \
    g_autoptr(GError) doveadm_error = NULL; \
    td_test_dovecot_doveadm ((f)->server, &doveadm_error, __VA_ARGS__, NULL); \
    g_assert_no_error (doveadm_error); \
  } G_STMT_END

/* --- Here -> server --- */

static void
test_flags_here (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GArray) one = NULL;
  g_autoptr(GArray) two = NULL;
  g_autoptr(GArray) both = NULL;

  sync_ok (f);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 12);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), ==, 0);

  one = ids_of (f, "INBOX", "Inbox message 1");
  two = ids_of (f, "INBOX", "Inbox message 2");
  both = g_array_copy (one);
  g_array_append_vals (both, two->data, 1);
  change_flags (f, both, TD_FLAG_SEEN | TD_FLAG_FLAGGED, 0);
  change_flags (f, two, TD_FLAG_ANSWERED | TD_FLAG_FORWARDED, TD_FLAG_FLAGGED);
  /* shown at once, before any server saw it */
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 2"), ==,
                    TD_FLAG_SEEN | TD_FLAG_ANSWERED | TD_FLAG_FORWARDED);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), >, 0);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Seen", FALSE);

  sync_ok (f);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), ==, 0);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Seen", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Flagged", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 2", "\\Seen", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 2", "\\Answered", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 2", "\\Flagged", FALSE);
  assert_server_has_flag (f, "INBOX", "Inbox message 2", "$Forwarded", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 3", "\\Seen", FALSE);
  /* and the next sync keeps them here */
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 2"), ==,
                    TD_FLAG_SEEN | TD_FLAG_ANSWERED | TD_FLAG_FORWARDED);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 12 - 0);

  /* \Draft and \Deleted (without an expunge) go there and come back the same */
  change_flags (f, one, TD_FLAG_DRAFT | TD_FLAG_DELETED, TD_FLAG_FLAGGED);
  sync_ok (f);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Draft", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Deleted", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Flagged", FALSE);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 1"), ==,
                    TD_FLAG_SEEN | TD_FLAG_DRAFT | TD_FLAG_DELETED);
  DOVEADM_OK (f, "flags", "remove", "-u", "alice", "\\Draft \\Deleted", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 1"));
  sync_ok (f);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 1"), ==, TD_FLAG_SEEN);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 12);
}

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
  move_to (f, moved, "Archive", FALSE);
  move_to (f, copied, "Projects", TRUE);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 11);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 4);
  g_assert_cmpuint (local_total (f, "Projects"), ==, 1);

  sync_ok (f);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 4"), ==, 0);
  g_assert_cmpuint (server_count (f, "Archive", "Inbox message 4"), ==, 1);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 5"), ==, 1);
  g_assert_cmpuint (server_count (f, "Projects", "Inbox message 5"), ==, 1);
  /* exactly once here too, with its real uid, and readable */
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 11);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 4);
  g_assert_cmpuint (local_total (f, "Projects"), ==, 1);
  there = find_local (f, "Archive", "Inbox message 4");
  g_assert_nonnull (there);
  g_assert_cmpuint (td_message_get_uid (there), >, 0);
  g_assert_true (td_message_get_has_body (there));

  /* a second sync changes nothing */
  sync_ok (f);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 4);
  g_assert_cmpuint (server_count (f, "Archive", "Inbox message 4"), ==, 1);
}

static void
test_expunge_here (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GArray) gone = NULL;

  sync_ok (f);
  /* another client marked a message \Deleted and has not expunged it (yet) */
  DOVEADM_OK (f, "flags", "add", "-u", "alice", "\\Deleted", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 9"));
  gone = ids_of (f, "INBOX", "Inbox message 6");
  expunge (f, gone);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 11);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 6"), ==, 1);

  sync_ok (f);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 6"), ==, 0);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 7"), ==, 1);
  /* ours went, theirs stays, still marked — also without UIDPLUS ("minimal") */
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 9"), ==, 1);
  assert_server_has_flag (f, "INBOX", "Inbox message 9", "\\Deleted", TRUE);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 11);
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
  g_autoptr(TdFolder) created = NULL;
  g_autofree char *list = NULL;
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
  created = folder (f, "Archive");
  td_store_delete_folder_async (f->store, td_folder_get_id (created), NULL,
                                td_test_store_result, &r3);
  td_store_delete_folder_finish (f->store, td_test_wait_result (&r3, 10000), &error);
  g_assert_no_error (error);

  sync_ok (f);
  list = td_test_dovecot_doveadm_output (f->server, &error, "mailbox", "list", "-u", "alice",
                                         NULL);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (list, "Reisen/2026 Köln\n"));
  g_assert_nonnull (strstr (list, "Work\n"));
  g_assert_null (strstr (list, "Projects\n"));
  g_assert_null (strstr (list, "Archive\n"));
  /* and the store agrees after listing the server again */
  g_clear_object (&created);
  created = td_store_find_folder (f->store, id, "Reisen/2026 Köln", NULL);
  g_assert_nonnull (created);
  g_assert_null (td_store_find_folder (f->store, id, "Archive", NULL));
}

/* A folder changed here (renamed to @new_path, or deleted when it is NULL) from the sync's
 * "progress" signal, the first time its text holds @when: while the sync runs. */
typedef struct
{
  Fixture      *f;
  gint64        folder_id;
  const char   *when;
  const char   *new_path;
  GAsyncResult *result;
} MidSync;

static void
change_folder_when_cb (TdImapSync *sync,
                       const char *what,
                       guint       done,
                       guint       total,
                       gpointer    data)
{
  MidSync *m = data;

  if (m->folder_id == 0 || strstr (what, m->when) == NULL)
    return;
  if (m->new_path != NULL)
    td_store_rename_folder_async (m->f->store, m->folder_id, m->new_path, NULL,
                                  td_test_store_result, &m->result);
  else
    td_store_delete_folder_async (m->f->store, m->folder_id, NULL, td_test_store_result,
                                  &m->result);
  m->folder_id = 0;
}

/* Runs a sync that changes the folder as @m says; both the sync and the change succeed. */
static void
sync_changing_folder (MidSync *m)
{
  g_autoptr(TdImapSync) sync = td_imap_sync_new (m->f->store, m->f->account);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean changed;

  g_signal_connect (sync, "progress", G_CALLBACK (change_folder_when_cb), m);
  td_imap_sync_run_async (sync, td_test_dovecot_get_password (m->f->server), NULL,
                          td_test_store_result, &result);
  td_imap_sync_run_finish (sync, td_test_wait_result (&result, 120000), &error);
  g_assert_no_error (error);
  g_assert_nonnull (m->result);
  td_test_wait_result (&m->result, 10000);
  changed = m->new_path != NULL
            ? td_store_rename_folder_finish (m->f->store, m->result, &error)
            : td_store_delete_folder_finish (m->f->store, m->result, &error);
  g_assert_no_error (error);
  g_assert_true (changed);
  g_clear_object (&m->result);
}

/* A folder renamed here while a sync runs: the sync does not stop on the old name it listed,
 * nor bring it back, and the next sync sends the rename. */
static void
test_folder_renamed_mid_sync (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) projects = NULL;
  g_autoptr(TdFolder) work = NULL;
  g_autofree char *list = NULL;
  /* the sync has listed the folders and applied the list: change them under it */
  MidSync m = { f, 0, "Inbox", "Work", NULL };
  gint64 id;

  sync_ok (f);
  id = td_account_get_id (f->account);
  projects = folder (f, "Projects");
  m.folder_id = td_folder_get_id (projects);
  sync_changing_folder (&m);

  /* still renamed here, the old name not back, the change waiting */
  g_assert_null (td_store_find_folder (f->store, id, "Projects", NULL));
  work = folder (f, "Work");
  g_assert_cmpint (td_folder_get_id (work), ==, td_folder_get_id (projects));
  g_assert_cmpuint (td_store_count_journal (f->store, id), ==, 1);

  sync_ok (f);
  list = td_test_dovecot_doveadm_output (f->server, &error, "mailbox", "list", "-u", "alice",
                                         NULL);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (list, "Work\n"));
  g_assert_null (strstr (list, "Projects\n"));
  g_assert_cmpuint (td_store_count_journal (f->store, id), ==, 0);
  g_clear_object (&work);
  work = folder (f, "Work");
  g_assert_cmpint (td_folder_get_id (work), ==, td_folder_get_id (projects));
}

/* A folder deleted here while the sync is inside it: the sync leaves it (what was in flight
 * for it is dropped), goes on with the other folders and succeeds; the next sync sends the
 * delete. */
static void
test_folder_deleted_mid_sync (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) archive = NULL;
  g_autoptr(TdMessage) later = NULL;
  g_autofree char *list = NULL;
  /* inside the folder: its new messages are being fetched and written */
  MidSync m = { f, 0, "in Archive", NULL, NULL };
  gint64 id;

  sync_ok (f);
  id = td_account_get_id (f->account);
  archive = folder (f, "Archive");
  m.folder_id = td_folder_get_id (archive);
  td_test_dovecot_save_generated (f->server, "alice", "Archive", "Filed", 200, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (f->server, "alice", "Projects", "Later", 1, &error);
  g_assert_no_error (error);

  sync_changing_folder (&m);

  /* gone here, the folders after it synced, the delete waiting */
  g_assert_null (td_store_find_folder (f->store, id, "Archive", NULL));
  later = find_local (f, "Projects", "Later 1");
  g_assert_nonnull (later);
  g_assert_cmpuint (td_store_count_journal (f->store, id), ==, 1);

  sync_ok (f);
  list = td_test_dovecot_doveadm_output (f->server, &error, "mailbox", "list", "-u", "alice",
                                         NULL);
  g_assert_no_error (error);
  g_assert_null (strstr (list, "Archive\n"));
  g_assert_cmpuint (td_store_count_journal (f->store, id), ==, 0);
  g_assert_null (td_store_find_folder (f->store, id, "Archive", NULL));
}

/* --- Server -> here --- */

/* How many messages with this subject the account has here, in all its folders. */
static guint
local_count_everywhere (Fixture    *f,
                        const char *subject)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) folders = td_store_list_folders (f->store, td_account_get_id (f->account),
                                                        &error);
  guint count = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < folders->len; i++)
    {
      TdFolder *dir = g_ptr_array_index (folders, i);
      g_autoptr(GPtrArray) page = td_store_page_messages (f->store, td_folder_get_id (dir), 0,
                                                          1000, &error);

      g_assert_no_error (error);
      for (guint j = 0; j < page->len; j++)
        if (g_strcmp0 (td_message_get_subject (g_ptr_array_index (page, j)), subject) == 0)
          count++;
    }
  return count;
}

/* A folder renamed on the server by another client: the next sync shows it under its new
 * name with all its messages (bodies too), the old name is gone, and nothing is there
 * twice; a sync after that changes nothing. */
static void
test_folder_renamed_there (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *list = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id = td_account_get_id (f->account);

  g_autoptr(TdFolder) archive = NULL;
  g_autoptr(TdMessage) first = NULL;
  /* with LIST-STATUS the folder is known by its UIDVALIDITY: its row follows the rename,
   * nothing is downloaded again */
  gboolean follows = g_strcmp0 (data, "qresync") == 0;

  sync_ok (f);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 3);
  archive = folder (f, "Archive");
  first = find_local (f, "Archive", "Archived 1");

  DOVEADM_OK (f, "mailbox", "rename", "-u", "alice", "Archive", "Stored");
  list = td_test_dovecot_doveadm_output (f->server, &error, "mailbox", "list", "-u", "alice",
                                         NULL);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (list, "Stored\n"));
  g_assert_null (strstr (list, "Archive\n"));

  for (guint round = 0; round < 2; round++)
    {
      sync_ok (f);
      g_assert_null (td_store_find_folder (f->store, id, "Archive", NULL));
      g_assert_cmpuint (local_total (f, "Stored"), ==, 3);
      for (guint n = 1; n <= 3; n++)
        {
          g_autofree char *subject = g_strdup_printf ("Archived %u", n);
          g_autoptr(TdMessage) m = find_local (f, "Stored", subject);

          g_assert_nonnull (m);
          g_assert_true (td_message_get_has_body (m));
          g_assert_cmpuint (local_count_everywhere (f, subject), ==, 1);
        }
      g_assert_cmpuint (local_total (f, "INBOX"), ==, 12);
      g_assert_cmpuint (td_store_count_journal (f->store, id), ==, 0);
      if (follows)
        {
          g_autoptr(TdFolder) stored = folder (f, "Stored");
          g_autoptr(TdMessage) again = find_local (f, "Stored", "Archived 1");

          g_assert_cmpint (td_folder_get_id (stored), ==, td_folder_get_id (archive));
          g_assert_cmpint (td_message_get_id (again), ==, td_message_get_id (first));
          g_assert_cmpint (td_folder_get_role (stored), ==, TD_FOLDER_ROLE_NONE);
        }
    }
}

/* Changes made here to messages of a folder that another client then renamed: they are
 * sent to the folder under its new name (found by its UIDVALIDITY, the messages by their
 * Message-ID), not dropped as if the folder were gone. */
static void
test_folder_renamed_there_pending (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GArray) flagged = NULL;
  g_autoptr(GArray) gone = NULL;
  gint64 id = td_account_get_id (f->account);

  sync_ok (f);
  flagged = ids_of (f, "Archive", "Archived 2");
  gone = ids_of (f, "Archive", "Archived 3");
  change_flags (f, flagged, TD_FLAG_FLAGGED, 0);
  expunge (f, gone);
  g_assert_cmpuint (td_store_count_journal (f->store, id), ==, 2);
  DOVEADM_OK (f, "mailbox", "rename", "-u", "alice", "Archive", "Stored");

  sync_ok (f);
  g_assert_cmpuint (td_store_count_journal (f->store, id), ==, 0);
  assert_server_has_flag (f, "Stored", "Archived 2", "\\Flagged", TRUE);
  assert_server_has_flag (f, "Stored", "Archived 1", "\\Flagged", FALSE);
  g_assert_cmpuint (server_count (f, "Stored", "Archived 3"), ==, 0);
  g_assert_cmpuint (server_count (f, "Stored", "Archived 1"), ==, 1);
  /* and here, under the new name */
  g_assert_null (td_store_find_folder (f->store, id, "Archive", NULL));
  g_assert_cmpuint (local_total (f, "Stored"), ==, 2);
  g_assert_cmpuint (local_flags (f, "Stored", "Archived 2") & TD_FLAG_FLAGGED, ==,
                    TD_FLAG_FLAGGED);
  g_assert_null (find_local (f, "Stored", "Archived 3"));
}

static void
test_changes_there (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  sync_ok (f);
  DOVEADM_OK (f, "flags", "add", "-u", "alice", "\\Flagged \\Seen", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 8"));
  DOVEADM_OK (f, "expunge", "-u", "alice", "mailbox", "INBOX", "uid",
              uid_of (f, "INBOX", "Inbox message 9"));
  DOVEADM_OK (f, "move", "-u", "alice", "Archive", "mailbox", "INBOX", "uid",
              uid_of (f, "INBOX", "Inbox message 10"));
  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Late arrival", 2, &error);
  g_assert_no_error (error);

  sync_ok (f);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 8"), ==,
                    TD_FLAG_SEEN | TD_FLAG_FLAGGED);
  g_assert_null (find_local (f, "INBOX", "Inbox message 9"));
  g_assert_null (find_local (f, "INBOX", "Inbox message 10"));
  g_assert_cmpuint (local_total (f, "Archive"), ==, 4);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 12 - 2 + 2);

  /* and a flag taken away there goes away here */
  DOVEADM_OK (f, "flags", "remove", "-u", "alice", "\\Flagged", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 8"));
  sync_ok (f);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 8"), ==, TD_FLAG_SEEN);

  /* keywords (a label, $NotJunk) set and taken away there follow here too */
  DOVEADM_OK (f, "flags", "add", "-u", "alice", "$NotJunk Work", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 8"));
  sync_ok (f);
  {
    g_autofree char *keywords = local_keywords (f, "INBOX", "Inbox message 8");

    g_assert_cmpstr (keywords, ==, "$NotJunk Work");
  }
  DOVEADM_OK (f, "flags", "remove", "-u", "alice", "Work", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 8"));
  sync_ok (f);
  {
    g_autofree char *keywords = local_keywords (f, "INBOX", "Inbox message 8");

    g_assert_cmpstr (keywords, ==, "$NotJunk");
  }
  DOVEADM_OK (f, "flags", "remove", "-u", "alice", "$NotJunk", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 8"));
  sync_ok (f);
  {
    g_autofree char *keywords = local_keywords (f, "INBOX", "Inbox message 8");

    g_assert_cmpstr (keywords, ==, "");
  }
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 8"), ==, TD_FLAG_SEEN);
}

/* Both sides changed one message: each side's change survives. */
static void
test_conflict (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GArray) ids = NULL;

  sync_ok (f);
  ids = ids_of (f, "INBOX", "Inbox message 3");
  change_flags (f, ids, TD_FLAG_SEEN, 0);
  DOVEADM_OK (f, "flags", "add", "-u", "alice", "\\Flagged", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 3"));

  sync_ok (f);
  assert_server_has_flag (f, "INBOX", "Inbox message 3", "\\Seen", TRUE);
  assert_server_has_flag (f, "INBOX", "Inbox message 3", "\\Flagged", TRUE);
  g_assert_cmpuint (local_flags (f, "INBOX", "Inbox message 3"), ==,
                    TD_FLAG_SEEN | TD_FLAG_FLAGGED);
}

/* --- Offline --- */

static void
test_offline (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GArray) read = NULL;
  g_autoptr(GArray) moved = NULL;
  g_autoptr(GArray) gone = NULL;
  GError *error = NULL;

  sync_ok (f);
  /* the server cannot be reached: every connection is dropped */
  td_test_proxy_set_cut_after (f->proxy, 1);
  td_test_proxy_set_cut_after (f->proxy, td_test_proxy_get_forwarded (f->proxy));

  read = ids_of (f, "INBOX", "Inbox message 1");
  moved = ids_of (f, "INBOX", "Inbox message 2");
  gone = ids_of (f, "INBOX", "Inbox message 3");
  change_flags (f, read, TD_FLAG_SEEN, 0);
  move_to (f, moved, "Archive", FALSE);
  expunge (f, gone);

  error = run_sync (f);
  g_assert_nonnull (error);
  g_assert_true (error->domain == TD_ERROR);
  g_clear_error (&error);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), ==, 3);
  /* still shown as done here */
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 10);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 4);

  /* the program is closed and started again while offline */
  restart (f);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), ==, 3);

  /* back online */
  td_test_proxy_set_cut_after (f->proxy, 0);
  sync_ok (f);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), ==, 0);
  assert_server_has_flag (f, "INBOX", "Inbox message 1", "\\Seen", TRUE);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 2"), ==, 0);
  g_assert_cmpuint (server_count (f, "Archive", "Inbox message 2"), ==, 1);
  g_assert_cmpuint (server_count (f, "INBOX", "Inbox message 3"), ==, 0);
  g_assert_cmpuint (local_total (f, "INBOX"), ==, 10);
  g_assert_cmpuint (local_total (f, "Archive"), ==, 4);
}

/* A message expunged elsewhere while a change to it waited here: the change is dropped, the
 * rest goes through. */
static void
test_expunged_elsewhere (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GArray) other = NULL;

  sync_ok (f);
  ids = ids_of (f, "INBOX", "Inbox message 11");
  other = ids_of (f, "INBOX", "Inbox message 12");
  change_flags (f, ids, TD_FLAG_FLAGGED, 0);
  move_to (f, other, "Projects", FALSE);
  DOVEADM_OK (f, "expunge", "-u", "alice", "mailbox", "INBOX", "uid",
              uid_of (f, "INBOX", "Inbox message 11"));
  DOVEADM_OK (f, "expunge", "-u", "alice", "mailbox", "INBOX", "uid",
              uid_of (f, "INBOX", "Inbox message 12"));

  sync_ok (f);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), ==, 0);
  g_assert_null (find_local (f, "INBOX", "Inbox message 11"));
  g_assert_null (find_local (f, "Projects", "Inbox message 12"));
  g_assert_cmpuint (local_total (f, "Projects"), ==, 0);
  g_assert_cmpuint (server_count (f, "Projects", "Inbox message 12"), ==, 0);
}

/* The mailbox was deleted and made again elsewhere (new UIDVALIDITY) while a flag change
 * waited: the folder is fetched again and the change lands on the same message, found by
 * its Message-ID. */
static void
save_list_posts (Fixture *f)
{
  for (guint n = 1; n <= 3; n++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL;
      g_autoptr(GBytes) raw = NULL;

      text = g_strdup_printf ("From: List <list@example.org>\r\n"
                              "To: alice@localhost\r\n"
                              "Subject: List post %u\r\n"
                              "Date: Mon, 2 Mar 2026 10:0%u:00 +0000\r\n"
                              "Message-ID: <post-%u@lists.example.org>\r\n"
                              "\r\n"
                              "Post number %u.\r\n", n, n, n, n);
      raw = g_bytes_new (text, strlen (text));
      td_test_dovecot_save (f->server, "alice", "Lists", raw, &error);
      g_assert_no_error (error);
    }
}

/* The mailbox was deleted and made again elsewhere (new UIDVALIDITY) while a flag change
 * waited: the folder is fetched again and the change lands on the same message, found by
 * its Message-ID. */
static void
test_uidvalidity (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(TdFolder) before = NULL;
  g_autoptr(TdFolder) after = NULL;
  g_autoptr(GError) error = NULL;
  TdFolderState old_state, new_state;

  save_list_posts (f);
  sync_ok (f);
  before = folder (f, "Lists");
  g_assert_true (td_store_get_folder_state (f->store, td_folder_get_id (before), &old_state,
                                            NULL));
  ids = ids_of (f, "Lists", "List post 2");
  change_flags (f, ids, TD_FLAG_FLAGGED, 0);

  DOVEADM_OK (f, "mailbox", "delete", "-u", "alice", "Lists");
  DOVEADM_OK (f, "mailbox", "create", "-u", "alice", "Lists");
  /* the same three messages, saved anew after one that is gone again: a new UIDVALIDITY,
   * and uids one higher, so that the old uid of post 2 is post 1's now */
  td_test_dovecot_save_generated (f->server, "alice", "Lists", "Throwaway", 1, &error);
  g_assert_no_error (error);
  DOVEADM_OK (f, "expunge", "-u", "alice", "mailbox", "Lists", "all");
  save_list_posts (f);
  g_assert_cmpstr (uid_of (f, "Lists", "List post 1"), ==, "2");
  g_assert_cmpstr (uid_of (f, "Lists", "List post 2"), ==, "3");

  sync_ok (f);
  after = folder (f, "Lists");
  g_assert_true (td_store_get_folder_state (f->store, td_folder_get_id (after), &new_state,
                                            NULL));
  g_assert_cmpuint (new_state.uidvalidity, !=, old_state.uidvalidity);
  g_assert_cmpuint (local_total (f, "Lists"), ==, 3);
  g_assert_cmpuint (td_store_count_journal (f->store, td_account_get_id (f->account)), ==, 0);
  assert_server_has_flag (f, "Lists", "List post 2", "\\Flagged", TRUE);
  assert_server_has_flag (f, "Lists", "List post 1", "\\Flagged", FALSE);
  assert_server_has_flag (f, "Lists", "List post 3", "\\Flagged", FALSE);
  g_assert_cmpuint (local_flags (f, "Lists", "List post 2") & TD_FLAG_FLAGGED, ==,
                    TD_FLAG_FLAGGED);
  g_assert_cmpuint (local_flags (f, "Lists", "List post 1") & TD_FLAG_FLAGGED, ==, 0);
}

/* --- Push --- */

static void
count_signal_cb (gpointer  instance,
                 guint    *count)
{
  (*count)++;
}

static void
failed_cb (TdImapWatch  *watch,
           const GError *error,
           guint        *count)
{
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  (*count)++;
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
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
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (*count <= above)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* New mail, a flag and an expunge made elsewhere are pushed (IDLE) without a manual sync;
 * a cut connection comes back by itself. */
static void
test_idle (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(TdImapWatch) watch = td_imap_watch_new (f->account, "INBOX");
  g_autoptr(GError) error = NULL;
  guint changed = 0, before;

  sync_ok (f);
  g_signal_connect (watch, "changed", G_CALLBACK (count_signal_cb), &changed);
  td_imap_watch_start (watch, td_test_dovecot_get_password (f->server));
  wait_until_online (watch, TRUE);
  /* every (re)connection asks for a sync: what happened offline */
  wait_count_above (&changed, 0);

  before = changed;
  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Pushed", 1, &error);
  g_assert_no_error (error);
  wait_count_above (&changed, before);
  sync_ok (f);
  g_assert_nonnull (find_local (f, "INBOX", "Pushed 1"));

  before = changed;
  DOVEADM_OK (f, "flags", "add", "-u", "alice", "\\Flagged", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 2"));
  wait_count_above (&changed, before);

  /* the connection drops: offline, then back after the first backoff step */
  td_test_proxy_set_cut_after (f->proxy, td_test_proxy_get_forwarded (f->proxy) + 1);
  DOVEADM_OK (f, "flags", "add", "-u", "alice", "\\Seen", "mailbox", "INBOX",
              "uid", uid_of (f, "INBOX", "Inbox message 3"));
  wait_until_online (watch, FALSE);
  td_test_proxy_set_cut_after (f->proxy, 0);
  before = changed;
  wait_until_online (watch, TRUE);
  wait_count_above (&changed, before);

  td_imap_watch_stop (watch);
  g_assert_false (td_imap_watch_get_online (watch));
}

/* NOTIFY where offered (Dovecot with all its capabilities): the one watch of the Inbox hears
 * of new mail in another folder, of flags changed there, and of a folder made elsewhere.
 * Without it only the watched folder is heard. */
static void
test_notify (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(TdImapWatch) watch = td_imap_watch_new (f->account, "INBOX");
  g_autoptr(GError) error = NULL;
  gboolean offered = g_strcmp0 (data, "qresync") == 0;
  guint changed = 0, before;

  sync_ok (f);
  g_signal_connect (watch, "changed", G_CALLBACK (count_signal_cb), &changed);
  td_imap_watch_start (watch, td_test_dovecot_get_password (f->server));
  wait_until_online (watch, TRUE);
  wait_count_above (&changed, 0);
  g_assert_cmpint (td_imap_watch_get_watches_all (watch), ==, offered);
  if (!offered)
    return;

  before = changed;
  td_test_dovecot_save_generated (f->server, "alice", "Projects", "Elsewhere", 1, &error);
  g_assert_no_error (error);
  wait_count_above (&changed, before);
  sync_ok (f);
  g_assert_nonnull (find_local (f, "Projects", "Elsewhere 1"));

  before = changed;
  DOVEADM_OK (f, "flags", "add", "-u", "alice", "\\Flagged", "mailbox", "Archive",
              "uid", uid_of (f, "Archive", "Archived 2"));
  wait_count_above (&changed, before);

  before = changed;
  DOVEADM_OK (f, "mailbox", "create", "-u", "alice", "Made elsewhere");
  wait_count_above (&changed, before);

  td_imap_watch_stop (watch);
  g_assert_false (td_imap_watch_get_watches_all (watch));
}

/* A wrong password is not tried again and again. */
static void
test_watch_refused (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(TdImapWatch) watch = td_imap_watch_new (f->account, "INBOX");
  guint failed = 0;

  g_signal_connect (watch, "failed", G_CALLBACK (failed_cb), &failed);
  td_imap_watch_start (watch, "not the password");
  wait_count_above (&failed, 0);
  g_assert_false (td_imap_watch_get_online (watch));
  /* no second attempt within the first backoff step */
  {
    gboolean waited = FALSE;

    g_timeout_add (1500, set_flag_cb, &waited);
    td_test_wait_for (&waited, 5000);
  }
  g_assert_cmpuint (failed, ==, 1);
}

static void
run_with_client (Fixture      *f,
                 TdImapClient *client,
                 TdMessage    *body_of)
{
  g_autoptr(TdImapSync) sync = td_imap_sync_new_for_client (f->store, client);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  if (body_of != NULL)
    td_imap_sync_set_fetch_body (sync, td_message_get_folder_id (body_of), "INBOX",
                                 td_message_get_uid (body_of));
  td_imap_sync_run_async (sync, NULL, NULL, td_test_store_result, &result);
  td_imap_sync_run_finish (sync, td_test_wait_result (&result, 120000), &error);
  g_assert_no_error (error);
}

/* The account's client serves its syncs, a body fetch and a watch one after another with
 * one login; only work at the same time opens another connection, and a watch that stops
 * closes its own. */
static void
test_shared_client (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(TdImapClient) client = td_imap_client_new (f->account);
  g_autoptr(TdImapWatch) watch = NULL;
  g_autoptr(TdMessage) message = NULL;
  guint changed = 0;
  gint64 deadline;

  td_imap_client_set_password (client, td_test_dovecot_get_password (f->server));
  run_with_client (f, client, NULL);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
  g_assert_cmpuint (td_imap_client_get_n_idle (client), ==, 1);

  /* a second sync and a body on demand: the pooled session, no new login */
  message = find_local (f, "INBOX", "Inbox message 4");
  g_assert_nonnull (message);
  run_with_client (f, client, NULL);
  run_with_client (f, client, message);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);

  /* the watch takes the idle session, logged in already */
  watch = td_imap_watch_new_for_client (client, "INBOX");
  g_signal_connect (watch, "changed", G_CALLBACK (count_signal_cb), &changed);
  td_imap_watch_start (watch, NULL);
  wait_until_online (watch, TRUE);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 1);
  g_assert_cmpuint (td_imap_client_get_n_idle (client), ==, 0);

  /* a sync while the watch idles needs a connection of its own, pooled afterwards */
  run_with_client (f, client, NULL);
  g_assert_cmpuint (td_test_proxy_get_accepted (f->proxy), ==, 2);
  g_assert_cmpuint (td_imap_client_get_n_idle (client), ==, 1);

  /* the watch's session is closed when it stops, never pooled */
  td_imap_watch_stop (watch);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (td_test_proxy_get_alive (f->proxy) != 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_cmpuint (td_imap_client_get_n_busy (client), ==, 0);
  g_assert_cmpuint (td_imap_client_get_n_idle (client), ==, 1);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

/* A Dovecot that does not announce IDLE: the watch polls every poll interval (1 s here), and
 * mail saved there is reported by the next poll and found by the sync it asks for. */
static void
test_poll (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(TdImapWatch) watch = td_imap_watch_new (f->account, "INBOX");
  g_autoptr(GError) error = NULL;
  guint changed = 0, before, online_changes = 0;
  gint64 saved;

  sync_ok (f);
  g_signal_connect (watch, "changed", G_CALLBACK (count_signal_cb), &changed);
  g_signal_connect (watch, "notify::online", G_CALLBACK (count_notify_cb), &online_changes);
  td_imap_watch_set_poll_interval (watch, 1);
  td_imap_watch_start (watch, td_test_dovecot_get_password (f->server));
  wait_until_online (watch, TRUE);
  wait_count_above (&changed, 0);
  g_assert_false (td_imap_watch_get_watches_all (watch));

  before = changed;
  saved = g_get_monotonic_time ();
  td_test_dovecot_save_generated (f->server, "alice", "INBOX", "Polled", 1, &error);
  g_assert_no_error (error);
  wait_count_above (&changed, before);
  /* within one poll interval (and a little) */
  g_assert_cmpint (g_get_monotonic_time () - saved, <, 3 * G_USEC_PER_SEC);
  sync_ok (f);
  g_assert_nonnull (find_local (f, "INBOX", "Polled 1"));

  /* and it goes on polling */
  before = changed;
  wait_count_above (&changed, before + 1);
  /* on the one connection all along: online once, never offline in between */
  g_assert_true (td_imap_watch_get_online (watch));
  g_assert_cmpuint (online_changes, ==, 1);
  td_imap_watch_stop (watch);
}

static void
add_cases (const char *kind)
{
  static const struct { const char *name; void (*func) (Fixture *, gconstpointer); } cases[] = {
    { "flags-here", test_flags_here },
    { "move-here", test_move_here },
    { "expunge-here", test_expunge_here },
    { "folders-here", test_folders_here },
    { "folder-renamed-mid-sync", test_folder_renamed_mid_sync },
    { "folder-deleted-mid-sync", test_folder_deleted_mid_sync },
    { "changes-there", test_changes_there },
    { "folder-renamed-there", test_folder_renamed_there },
    { "folder-renamed-there-pending", test_folder_renamed_there_pending },
    { "conflict", test_conflict },
    { "offline", test_offline },
    { "expunged-elsewhere", test_expunged_elsewhere },
    { "uidvalidity", test_uidvalidity },
    { "idle", test_idle },
    { "notify", test_notify },
    { "watch-refused", test_watch_refused },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/imap/twoway/%s/%s", kind, cases[i].name);

      g_test_add (path, Fixture, kind, fixture_setup, cases[i].func, fixture_teardown);
    }
}

int
main (int    argc,
      char **argv)
{
  td_test_init (&argc, &argv);

  add_cases ("qresync");
  add_cases ("condstore");
  add_cases ("minimal");
  g_test_add ("/imap/twoway/qresync/shared-client", Fixture, "qresync", fixture_setup,
              test_shared_client, fixture_teardown);
  g_test_add ("/imap/twoway/no-idle/poll", Fixture, "no-idle", fixture_setup, test_poll,
              fixture_teardown);

  return g_test_run ();
}
