/* test-imap-session-commands.c: the commands two-way sync needs, against scripted servers
 *
 * ENABLE, SELECT (QRESYNC ...) with VANISHED (EARLIER), CONDSTORE's CHANGEDSINCE and
 * UNCHANGEDSINCE, COPY/MOVE with COPYUID, EXPUNGE, the folder commands, NOOP, IDLE,
 * GETQUOTAROOT and PERMANENTFLAGS: what goes on the wire (the scripts under
 * tests/data/imap-sessions/cmd-*.script compare every line) and what comes back, including
 * hostile answers, which must give a GError and leave the session in a known state.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-imap-session.h"
#include "td-test-script-server.h"
#include "td-test-session.h"
#include "td-test-util.h"

#define WAIT_MS 20000

typedef struct
{
  TdTestScriptServer *server;
  TdImapSession      *session;
  guint               changed;        /* "mailbox-changed" emissions */
  TdTestClosed        closed;
  guint               changed_quit_at; /* send DONE once this many changes came (0: no) */
} Fixture;

static void
on_mailbox_changed (TdImapSession *session,
                    gpointer       user_data)
{
  Fixture *f = user_data;

  f->changed++;
  if (f->changed_quit_at != 0 && f->changed == f->changed_quit_at)
    td_imap_session_idle_done (session);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *path = g_strconcat ("imap-sessions/", (const char *) data, NULL);
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  f->server = td_test_script_server_new_from_data (path);
  stream = td_test_script_server_connect (f->server);
  f->session = td_imap_session_new_for_stream (stream);
  g_signal_connect (f->session, "closed", G_CALLBACK (td_test_closed_cb), &f->closed);
  g_signal_connect (f->session, "mailbox-changed", G_CALLBACK (on_mailbox_changed), f);

  td_imap_session_connect_async (f->session, NULL, td_test_store_result, &result);
  g_assert_true (td_imap_session_connect_finish (f->session,
                                                 td_test_wait_result (&result, WAIT_MS),
                                                 &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_imap_session_close (f->session);
  g_clear_object (&f->session);
  /* every line of the script was played, and nothing else was sent */
  td_test_script_server_finish (f->server);
  td_test_closed_clear (&f->closed);
}

/* --- Synchronous wrappers over the async operations --- */

static gboolean
do_enable (Fixture     *f,
           const char  *capability,
           GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_enable_async (f->session, capability, NULL, td_test_store_result, &result);
  return td_imap_session_enable_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                        error);
}

static const TdImapMailbox *
do_select (Fixture     *f,
           const char  *raw_path,
           GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_select_async (f->session, raw_path, FALSE, NULL, td_test_store_result,
                                &result);
  return td_imap_session_select_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                        error);
}

/* What the callbacks of a QRESYNC select or of a fetch saw */
typedef struct
{
  GArray *vanished;      /* guint32 */
  guint   vanished_calls;
  GArray *uids;          /* guint32, of the FETCHes */
  GArray *modseqs;       /* guint64 */
  GArray *flags;         /* TdFlags */
} Seen;

static void
seen_init (Seen *seen)
{
  seen->vanished = g_array_new (FALSE, FALSE, sizeof (guint32));
  seen->vanished_calls = 0;
  seen->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  seen->modseqs = g_array_new (FALSE, FALSE, sizeof (guint64));
  seen->flags = g_array_new (FALSE, FALSE, sizeof (TdFlags));
}

static void
seen_clear (Seen *seen)
{
  g_array_unref (seen->vanished);
  g_array_unref (seen->uids);
  g_array_unref (seen->modseqs);
  g_array_unref (seen->flags);
}

static void
on_vanished (const guint32 *uids,
             guint          n_uids,
             gpointer       user_data)
{
  Seen *seen = user_data;

  g_assert_cmpuint (n_uids, >, 0);
  seen->vanished_calls++;
  g_array_append_vals (seen->vanished, uids, n_uids);
}

static void
on_fetch (TdImapFetch *fetch,
          gpointer     user_data)
{
  Seen *seen = user_data;

  g_array_append_val (seen->uids, fetch->uid);
  g_array_append_val (seen->modseqs, fetch->modseq);
  g_array_append_val (seen->flags, fetch->flags);
}

static const TdImapMailbox *
do_select_qresync (Fixture     *f,
                   const char  *raw_path,
                   gboolean     read_only,
                   guint32      uidvalidity,
                   guint64      modseq,
                   Seen        *seen,
                   GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_select_qresync_async (f->session, raw_path, read_only, uidvalidity, modseq,
                                        on_vanished, on_fetch, seen, NULL,
                                        td_test_store_result, &result);
  return td_imap_session_select_qresync_finish (f->session,
                                                td_test_wait_result (&result, WAIT_MS), error);
}

static gboolean
do_fetch (Fixture     *f,
          const char  *set,
          const char  *items,
          guint64      changed_since,
          Seen        *seen,
          GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_uid_fetch_async (f->session, set, items, changed_since, on_fetch, seen, NULL,
                                   td_test_store_result, &result);
  return td_imap_session_uid_fetch_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                           error);
}

static GArray *
do_store (Fixture     *f,
          const char  *set,
          gboolean     add,
          const char  *flags,
          guint64      unchanged_since,
          Seen        *seen,
          GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_uid_store_async (f->session, set, add, flags, unchanged_since,
                                   seen != NULL ? on_fetch : NULL, seen, NULL,
                                   td_test_store_result, &result);
  return td_imap_session_uid_store_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                           error);
}

static gboolean
do_copy (Fixture       *f,
         const char    *set,
         const char    *target,
         gboolean       move,
         TdImapCopyUid *out,
         GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_uid_copy_async (f->session, set, target, move, NULL, td_test_store_result,
                                  &result);
  return td_imap_session_uid_copy_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                          out, error);
}

static gboolean
do_expunge (Fixture     *f,
            const char  *set,
            GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_expunge_async (f->session, set, NULL, td_test_store_result, &result);
  return td_imap_session_expunge_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                         error);
}

static gboolean
do_mailbox (Fixture         *f,
            TdImapMailboxOp  op,
            const char      *path,
            const char      *new_path,
            GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_mailbox_op_async (f->session, op, path, new_path, NULL, td_test_store_result,
                                    &result);
  return td_imap_session_mailbox_op_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                            error);
}

static gboolean
do_noop (Fixture  *f,
         GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_noop_async (f->session, NULL, td_test_store_result, &result);
  return td_imap_session_noop_finish (f->session, td_test_wait_result (&result, WAIT_MS), error);
}

static gboolean
do_quota (Fixture  *f,
          guint64  *usage,
          guint64  *limit,
          GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_get_quota_async (f->session, "INBOX", NULL, td_test_store_result, &result);
  return td_imap_session_get_quota_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                           usage, limit, error);
}

static void
assert_uids (GArray        *uids,
             const guint32 *expected,
             guint          n)
{
  g_assert_nonnull (uids);
  g_assert_cmpuint (uids->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (g_array_index (uids, guint32, i), ==, expected[i]);
}

/* --- ENABLE --- */

static void
test_enable (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  g_assert_false (td_imap_session_is_enabled (f->session, "QRESYNC"));
  g_assert_true (do_enable (f, "QRESYNC", &error));
  g_assert_no_error (error);
  g_assert_true (td_imap_session_is_enabled (f->session, "QRESYNC"));
  g_assert_true (td_imap_session_is_enabled (f->session, "qresync"));

  /* OK without "* ENABLED UTF8=ACCEPT": not enabled, and no error */
  g_assert_false (do_enable (f, "UTF8=ACCEPT", &error));
  g_assert_no_error (error);
  g_assert_false (td_imap_session_is_enabled (f->session, "UTF8=ACCEPT"));

  g_assert_false (do_enable (f, "CONDSTORE", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "Not now"));
  g_clear_error (&error);

  /* not an atom: refused before anything is sent (the script has no line for it) */
  g_assert_false (do_enable (f, "QRESYNC\r\nA9 DELETE INBOX", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);

  /* QRESYNC selects need a known UIDVALIDITY and modseq */
  td_imap_session_select_qresync_async (f->session, "INBOX", TRUE, 0, 5, NULL, NULL, NULL, NULL,
                                        td_test_store_result, &result);
  g_assert_null (td_imap_session_select_qresync_finish (f->session,
                                                        td_test_wait_result (&result, WAIT_MS),
                                                        &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
}

/* --- SELECT (QRESYNC ...) --- */

static void
test_select_qresync (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const TdImapMailbox *mailbox;
  Seen seen;

  /* not ENABLEd yet: refused without a word to the server */
  seen_init (&seen);
  g_assert_null (do_select_qresync (f, "INBOX", FALSE, 67890007, 20050715194045000ULL, &seen,
                                    &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);

  g_assert_true (do_enable (f, "QRESYNC", &error));
  mailbox = do_select_qresync (f, "INBOX", FALSE, 67890007, 20050715194045000ULL, &seen, &error);
  g_assert_no_error (error);
  g_assert_nonnull (mailbox);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);
  g_assert_cmpuint (mailbox->exists, ==, 317);
  g_assert_cmpuint (mailbox->uidvalidity, ==, 67890007);
  g_assert_cmpuint (mailbox->uidnext, ==, 30013);
  g_assert_cmpuint (mailbox->highestmodseq, ==, 20050715194045319ULL);
  g_assert_false (mailbox->read_only);
  g_assert_true (mailbox->keywords_allowed);

  /* 41, 43:116, 118, 120:211 and 540:214 (an inverted range is the same range) */
  g_assert_cmpuint (seen.vanished_calls, ==, 2);
  g_assert_cmpuint (seen.vanished->len, ==, 1 + 74 + 1 + 92 + 327);
  g_assert_cmpuint (g_array_index (seen.vanished, guint32, 0), ==, 41);
  g_assert_cmpuint (g_array_index (seen.vanished, guint32, 1), ==, 43);
  g_assert_cmpuint (g_array_index (seen.vanished, guint32, 75), ==, 118);
  g_assert_cmpuint (g_array_index (seen.vanished, guint32, 76), ==, 120);
  g_assert_cmpuint (g_array_index (seen.vanished, guint32, 168), ==, 214);
  g_assert_cmpuint (g_array_index (seen.vanished, guint32, seen.vanished->len - 1), ==, 540);

  g_assert_cmpuint (seen.uids->len, ==, 2);
  g_assert_cmpuint (g_array_index (seen.uids, guint32, 0), ==, 117);
  g_assert_cmpuint (g_array_index (seen.modseqs, guint64, 0), ==, 90060115194045001ULL);
  g_assert_cmpuint (g_array_index (seen.flags, TdFlags, 0), ==, TD_FLAG_SEEN | TD_FLAG_ANSWERED);
  g_assert_cmpuint (g_array_index (seen.uids, guint32, 1), ==, 119);
  g_assert_cmpuint (g_array_index (seen.modseqs, guint64, 1), ==, 90060115194045308ULL);
  g_assert_cmpuint (g_array_index (seen.flags, TdFlags, 1), ==, TD_FLAG_DRAFT);
  /* what came with the SELECT was asked for, not news */
  g_assert_cmpuint (f->changed, ==, 0);
  seen_clear (&seen);
}

/* Each hostile VANISHED fails the SELECT with a GError; the session stays logged in. */
static void
test_vanished_hostile (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const TdImapMailbox *mailbox;
  Seen seen;

  seen_init (&seen);
  g_assert_true (do_enable (f, "QRESYNC", &error));
  mailbox = do_select_qresync (f, "INBOX", TRUE, 7, 100, &seen, &error);
  g_assert_null (mailbox);
  g_assert_nonnull (error);
  g_assert_true (g_error_matches (error, TD_ERROR, TD_ERROR_PARSE) ||
                 g_error_matches (error, TD_ERROR, TD_ERROR_LIMIT));
  g_assert_nonnull (strstr (error->message, "removed messages"));
  g_test_message ("%s: %s", (const char *) data, error->message);
  g_clear_error (&error);
  /* nothing of it reached the caller */
  g_assert_cmpuint (seen.vanished->len, ==, 0);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
  g_assert_null (td_imap_session_get_mailbox (f->session));

  g_assert_true (do_noop (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->closed.count, ==, 0);
  seen_clear (&seen);
}

/* Several VANISHED answers, each within the bound, together beyond it. */
static void
test_vanished_many (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Seen seen;

  seen_init (&seen);
  g_assert_true (do_enable (f, "QRESYNC", &error));
  g_assert_null (do_select_qresync (f, "INBOX", TRUE, 7, 100, &seen, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_LIMIT);
  /* what was passed on before the bound was reached stays below it */
  g_assert_cmpuint (seen.vanished->len, <=, 16 * 1024 * 1024);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
  seen_clear (&seen);
}

/* --- CONDSTORE --- */

static void
test_changedsince (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const TdImapMailbox *mailbox;
  Seen seen;

  mailbox = do_select (f, "INBOX", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->highestmodseq, ==, 715194045007ULL);

  seen_init (&seen);
  g_assert_true (do_fetch (f, "1:100", "UID FLAGS", 715194045000ULL, &seen, &error));
  g_assert_no_error (error);
  assert_uids (seen.uids, (const guint32[]) { 4, 9 }, 2);
  g_assert_cmpuint (g_array_index (seen.modseqs, guint64, 0), ==, 715194045001ULL);
  g_assert_cmpuint (g_array_index (seen.modseqs, guint64, 1), ==, 715194045007ULL);
  g_assert_cmpuint (g_array_index (seen.flags, TdFlags, 0), ==, TD_FLAG_SEEN | TD_FLAG_FLAGGED);
  g_assert_cmpuint (g_array_index (seen.flags, TdFlags, 1), ==, 0);
  /* answers to our FETCH are not news */
  g_assert_cmpuint (f->changed, ==, 0);
  seen_clear (&seen);
}

static void
test_modseq_garbage (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const TdImapMailbox *mailbox;
  Seen seen;

  /* not a number, or beyond 64 bits: as if NOMODSEQ, so the sync compares every flag */
  mailbox = do_select (f, "INBOX", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->uidvalidity, ==, 7);
  g_assert_cmpuint (mailbox->highestmodseq, ==, 0);
  mailbox = do_select (f, "Archive", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->uidvalidity, ==, 8);
  g_assert_cmpuint (mailbox->highestmodseq, ==, 0);

  seen_init (&seen);
  g_assert_false (do_fetch (f, "1:*", "UID FLAGS", 5, &seen, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "MODSEQ"));
  g_assert_cmpuint (seen.uids->len, ==, 0);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_PARSE);
  seen_clear (&seen);
}

/* --- STORE --- */

static void
test_store (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) modified = NULL;
  Seen seen;

  g_assert_nonnull (do_select (f, "INBOX", &error));
  seen_init (&seen);

  modified = do_store (f, "1:7", TRUE, "\\Seen $Forwarded", 200, &seen, &error);
  g_assert_no_error (error);
  assert_uids (modified, (const guint32[]) { 2, 4, 5, 7 }, 4);
  g_clear_pointer (&modified, g_array_unref);
  /* the FETCHes of a STORE carry the new MODSEQs */
  assert_uids (seen.uids, (const guint32[]) { 1, 3 }, 2);
  g_assert_cmpuint (g_array_index (seen.modseqs, guint64, 1), ==, 302);

  modified = do_store (f, "3", FALSE, "\\Flagged", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (modified->len, ==, 0);
  g_clear_pointer (&modified, g_array_unref);

  g_assert_null (do_store (f, "8", TRUE, "\\Deleted", 0, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "Read-only message"));
  g_clear_error (&error);

  /* a MODIFIED set that cannot be read, or is beyond every bound */
  g_assert_null (do_store (f, "9", TRUE, "\\Seen", 1, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_null (do_store (f, "9", TRUE, "\\Seen", 1, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_clear_error (&error);

  /* what could end the list or the line is refused before anything is sent */
  g_assert_null (do_store (f, "9", TRUE, "\\Seen) (X", 0, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (do_store (f, "9\r\nA9 LOGOUT", TRUE, "\\Seen", 0, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (do_store (f, "9", TRUE, "", 0, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);
  seen_clear (&seen);
}

/* --- COPY and MOVE --- */

static void
test_copy (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TdImapCopyUid copy_uid = { 0 };

  g_assert_nonnull (do_select (f, "INBOX", &error));

  g_assert_true (do_copy (f, "1:3,5", "Archive", FALSE, &copy_uid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (copy_uid.uidvalidity, ==, 38505);
  assert_uids (copy_uid.src_uids, (const guint32[]) { 1, 2, 3, 5 }, 4);
  /* "102:101" is 101, 102: pairs go by position in the ascending expansion */
  assert_uids (copy_uid.dst_uids, (const guint32[]) { 100, 101, 102, 110 }, 4);
  td_imap_copy_uid_clear (&copy_uid);

  g_assert_true (do_copy (f, "6", "Trash", TRUE, &copy_uid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (copy_uid.uidvalidity, ==, 432432);
  assert_uids (copy_uid.src_uids, (const guint32[]) { 6 }, 1);
  assert_uids (copy_uid.dst_uids, (const guint32[]) { 20 }, 1);
  td_imap_copy_uid_clear (&copy_uid);
  /* the EXPUNGE of the move */
  g_assert_cmpuint (td_imap_session_get_mailbox (f->session)->exists, ==, 5);

  /* COPYUID whose sets do not pair up, or beyond every bound: the copy happened on the
   * server, so it succeeds, but without uids (the next sync of the target finds them). An
   * error here would make the replay send the COPY again and duplicate the messages. */
  g_assert_true (do_copy (f, "1:3", "Archive", FALSE, &copy_uid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (copy_uid.uidvalidity, ==, 0);
  g_assert_null (copy_uid.src_uids);
  g_assert_null (copy_uid.dst_uids);
  g_assert_true (do_copy (f, "1:3", "Archive", FALSE, &copy_uid, &error));
  g_assert_no_error (error);
  g_assert_null (copy_uid.src_uids);

  /* no COPYUID at all */
  g_assert_true (do_copy (f, "2", "Archive", FALSE, &copy_uid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (copy_uid.uidvalidity, ==, 0);
  g_assert_null (copy_uid.src_uids);

  g_assert_false (do_copy (f, "4", "Gone", FALSE, &copy_uid, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "No such folder"));
  g_clear_error (&error);

  g_assert_false (do_copy (f, "4\n", "Archive", FALSE, &copy_uid, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
}

/* --- EXPUNGE --- */

static void
test_expunge (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (do_select (f, "INBOX", &error));
  g_assert_true (do_expunge (f, "3:5", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (td_imap_session_get_mailbox (f->session)->exists, ==, 3);
  g_assert_true (do_expunge (f, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (do_expunge (f, "9", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "Not now"));
}

static gboolean
do_append (Fixture     *f,
           const char  *mailbox,
           const char  *flags,
           GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("Subject: hi\r\n\r\nbody", 19);

  td_imap_session_append_async (f->session, mailbox, flags, message, NULL, td_test_store_result,
                                &result);
  return td_imap_session_append_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                        error);
}

/* APPEND in the authenticated state: the literal after the "+", a refusal with its reason. */
static void
test_append (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (do_append (f, "Sent", "\\Seen", &error));
  g_assert_no_error (error);
  g_assert_false (do_append (f, "Gone", NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "Mailbox doesn't exist"));
  g_clear_error (&error);
  g_assert_false (do_append (f, "Sent", "\\Seen)\r\nA9 LOGOUT", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
}

/* No IDLE, no UIDPLUS */
static void
test_without_extensions (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdImapCopyUid copy_uid = { 0 };
  guint64 usage = 1, limit = 1;

  g_assert_nonnull (do_select (f, "INBOX", &error));

  td_imap_session_idle_async (f->session, NULL, td_test_store_result, &result);
  g_assert_false (td_imap_session_idle_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                               &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);

  g_assert_false (do_copy (f, "1", "Trash", TRUE, &copy_uid, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  g_assert_false (do_quota (f, &usage, &limit, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_cmpuint (usage, ==, 1);

  /* without UIDPLUS a uid set cannot be given: a plain EXPUNGE */
  g_assert_true (do_expunge (f, "4", &error));
  g_assert_no_error (error);
}

/* --- Folders --- */

static void
test_mailbox_ops (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (do_mailbox (f, TD_IMAP_MAILBOX_CREATE, "Projects", NULL, &error));
  g_assert_no_error (error);
  /* sent twice by a replay: no failure */
  g_assert_true (do_mailbox (f, TD_IMAP_MAILBOX_CREATE, "Projects", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (do_mailbox (f, TD_IMAP_MAILBOX_RENAME, "Projects", "Work/2024", &error));
  g_assert_no_error (error);
  g_assert_true (do_mailbox (f, TD_IMAP_MAILBOX_SUBSCRIBE, "Work/2024", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (do_mailbox (f, TD_IMAP_MAILBOX_UNSUBSCRIBE, "Work/2024", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (do_mailbox (f, TD_IMAP_MAILBOX_DELETE, "Work/2024", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (do_mailbox (f, TD_IMAP_MAILBOX_DELETE, "Work/2024", NULL, &error));
  g_assert_no_error (error);

  /* only CREATE and DELETE may repeat: a RENAME of what is not there fails */
  g_assert_false (do_mailbox (f, TD_IMAP_MAILBOX_RENAME, "Gone", "Here", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "No such mailbox"));
  g_clear_error (&error);

  /* a RENAME needs the new name */
  g_assert_false (do_mailbox (f, TD_IMAP_MAILBOX_RENAME, "Gone", NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);

  /* raw (modified UTF-7) names go as they are */
  g_assert_true (do_mailbox (f, TD_IMAP_MAILBOX_CREATE, "Entw&APw-rfe", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
}

/* --- IDLE and NOOP --- */

static void
test_idle (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  g_assert_nonnull (do_select (f, "INBOX", &error));
  g_assert_cmpuint (f->changed, ==, 0);

  /* "* 3 EXISTS" repeats what is known; 4 EXISTS, EXPUNGE, FETCH and VANISHED are news. The
   * fourth change sends DONE (from the signal handler). */
  f->changed_quit_at = 4;
  td_imap_session_idle_async (f->session, NULL, td_test_store_result, &result);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);

  /* nothing else while idling */
  {
    g_autoptr(GAsyncResult) noop = NULL;

    td_imap_session_noop_async (f->session, NULL, td_test_store_result, &noop);
    g_assert_false (td_imap_session_noop_finish (f->session,
                                                 td_test_wait_result (&noop, WAIT_MS), &error));
    g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
    g_clear_error (&error);
  }

  g_assert_true (td_imap_session_idle_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                              &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->changed, ==, 4);
  g_assert_cmpuint (td_imap_session_get_mailbox (f->session)->exists, ==, 3);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);

  /* a NOOP that brings news */
  g_assert_true (do_noop (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->changed, ==, 5);
  g_assert_cmpuint (td_imap_session_get_mailbox (f->session)->exists, ==, 5);

  /* DONE asked for before the server's "+": it goes out after it */
  f->changed_quit_at = 0;
  g_clear_object (&result);
  td_imap_session_idle_async (f->session, NULL, td_test_store_result, &result);
  td_imap_session_idle_done (f->session);
  td_imap_session_idle_done (f->session);   /* once is enough */
  g_assert_true (td_imap_session_idle_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                              &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->changed, ==, 5);
  g_assert_cmpuint (f->closed.count, ==, 0);
}

static gboolean
do_notify (Fixture  *f,
           GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_imap_session_notify_async (f->session, NULL, td_test_store_result, &result);
  return td_imap_session_notify_finish (f->session, td_test_wait_result (&result, WAIT_MS), error);
}

/* NOTIFY: a refusal leaves the session as it was; once accepted, STATUS and LIST of other
 * folders say "mailbox-changed" — but a STATUS before it was accepted does not. */
static void
test_notify (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  g_assert_nonnull (do_select (f, "INBOX", &error));
  g_assert_false (td_imap_session_is_notifying (f->session));

  g_assert_false (do_notify (f, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (td_imap_session_is_notifying (f->session));
  g_assert_cmpuint (f->changed, ==, 0);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);

  g_assert_true (do_notify (f, &error));
  g_assert_no_error (error);
  g_assert_true (td_imap_session_is_notifying (f->session));

  f->changed_quit_at = 2;
  td_imap_session_idle_async (f->session, NULL, td_test_store_result, &result);
  g_assert_true (td_imap_session_idle_finish (f->session, td_test_wait_result (&result, WAIT_MS),
                                              &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->changed, ==, 2);
  g_assert_cmpuint (f->closed.count, ==, 0);
}

static void
test_notify_unsupported (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (do_select (f, "INBOX", &error));
  g_assert_false (do_notify (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_UNSUPPORTED);
  g_assert_false (td_imap_session_is_notifying (f->session));
}

static void
test_idle_cut (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  g_assert_nonnull (do_select (f, "INBOX", &error));
  td_imap_session_idle_async (f->session, NULL, td_test_store_result, &result);
  g_assert_false (td_imap_session_idle_finish (f->session,
                                               td_test_wait_result (&result, WAIT_MS), &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_cmpuint (f->changed, ==, 1);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  /* DONE after the end is harmless */
  td_imap_session_idle_done (f->session);
}

/* --- GETQUOTAROOT --- */

static void
test_quota (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint64 usage = 0, limit = 0;

  g_assert_true (do_quota (f, &usage, &limit, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (usage, ==, 120);
  g_assert_cmpuint (limit, ==, 10240);

  /* a root without STORAGE, and no root at all */
  g_assert_false (do_quota (f, &usage, &limit, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (do_quota (f, &usage, &limit, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
}

static void
test_quota_nonsense (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint64 usage = 7, limit = 7;

  g_assert_false (do_quota (f, &usage, &limit, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "quota"));
  g_test_message ("%s: %s", (const char *) data, error->message);
  g_clear_error (&error);
  g_assert_cmpuint (usage, ==, 7);
  g_assert_cmpuint (limit, ==, 7);
  g_assert_true (do_noop (f, &error));
  g_assert_no_error (error);
}

/* --- PERMANENTFLAGS --- */

static void
test_permanentflags (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const TdImapMailbox *mailbox;

  mailbox = do_select (f, "INBOX", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->permanent_flags, ==, TD_FLAG_SEEN | TD_FLAG_DELETED);
  g_assert_false (mailbox->keywords_allowed);

  mailbox = do_select (f, "Sent", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->permanent_flags, ==,
                    TD_FLAG_SEEN | TD_FLAG_ANSWERED | TD_FLAG_FORWARDED);
  g_assert_false (mailbox->keywords_allowed);

  mailbox = do_select (f, "Archive", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->permanent_flags, ==, TD_FLAGS_STORED);
  g_assert_true (mailbox->keywords_allowed);

  /* not said, or not a list: all of them (RFC 3501 7.1) */
  mailbox = do_select (f, "Other", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->permanent_flags, ==, 0);
  g_assert_false (mailbox->keywords_allowed);
  mailbox = do_select (f, "Junk", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->uidvalidity, ==, 11);
  g_assert_cmpuint (mailbox->permanent_flags, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, script, func) \
  g_test_add (path, Fixture, script, fixture_setup, func, fixture_teardown)

  ADD ("/imap/session-commands/enable", "cmd-enable.script", test_enable);
  ADD ("/imap/session-commands/select-qresync", "cmd-select-qresync.script",
       test_select_qresync);
  ADD ("/imap/session-commands/vanished/huge", "cmd-vanished-huge.script",
       test_vanished_hostile);
  ADD ("/imap/session-commands/vanished/zero", "cmd-vanished-zero.script",
       test_vanished_hostile);
  ADD ("/imap/session-commands/vanished/zero-range", "cmd-vanished-zero-range.script",
       test_vanished_hostile);
  ADD ("/imap/session-commands/vanished/garbage", "cmd-vanished-garbage.script",
       test_vanished_hostile);
  ADD ("/imap/session-commands/vanished/comma", "cmd-vanished-comma.script",
       test_vanished_hostile);
  ADD ("/imap/session-commands/vanished/missing", "cmd-vanished-missing.script",
       test_vanished_hostile);
  ADD ("/imap/session-commands/vanished/many", "cmd-vanished-many.script", test_vanished_many);
  ADD ("/imap/session-commands/changedsince", "cmd-changedsince.script", test_changedsince);
  ADD ("/imap/session-commands/modseq-garbage", "cmd-modseq-garbage.script",
       test_modseq_garbage);
  ADD ("/imap/session-commands/store", "cmd-store.script", test_store);
  ADD ("/imap/session-commands/copy", "cmd-copy.script", test_copy);
  ADD ("/imap/session-commands/expunge", "cmd-expunge.script", test_expunge);
  ADD ("/imap/session-commands/append", "cmd-append.script", test_append);
  ADD ("/imap/session-commands/without-extensions", "cmd-idle-unsupported.script",
       test_without_extensions);
  ADD ("/imap/session-commands/mailbox", "cmd-mailbox.script", test_mailbox_ops);
  ADD ("/imap/session-commands/idle", "cmd-idle.script", test_idle);
  ADD ("/imap/session-commands/idle-cut", "cmd-idle-cut.script", test_idle_cut);
  ADD ("/imap/session-commands/notify", "cmd-notify.script", test_notify);
  ADD ("/imap/session-commands/notify/unsupported", "cmd-notify-unsupported.script", test_notify_unsupported);
  ADD ("/imap/session-commands/quota", "cmd-quota.script", test_quota);
  ADD ("/imap/session-commands/quota/negative", "cmd-quota-negative.script",
       test_quota_nonsense);
  ADD ("/imap/session-commands/quota/word", "cmd-quota-word.script", test_quota_nonsense);
  ADD ("/imap/session-commands/quota/overflow", "cmd-quota-overflow.script",
       test_quota_nonsense);
  ADD ("/imap/session-commands/quota/int64", "cmd-quota-int64.script", test_quota_nonsense);
  ADD ("/imap/session-commands/quota/short", "cmd-quota-short.script", test_quota_nonsense);
  ADD ("/imap/session-commands/permanentflags", "cmd-permanentflags.script",
       test_permanentflags);

#undef ADD

  return g_test_run ();
}
