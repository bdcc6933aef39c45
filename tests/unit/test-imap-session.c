/* test-imap-session.c: TdImapSession against scripted servers (tests/data/imap-sessions)
 *
 * Each test plays one script in an in-process server on loopback; the session talks to it over
 * a plain GSocketClient stream (or over a TdConnection for the STARTTLS cases), and every
 * asynchronous operation quits the main loop from its callback.
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

#define WATCHDOG_SECONDS 20

typedef struct
{
  GMainLoop          *loop;
  TdTestScriptServer *server;
  TdImapSession      *session;
  guint               watchdog_id;
  TdTestClosed        closed;
  guint               fetch_count;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *path = g_strconcat ("imap-sessions/", (const char *) data, NULL);

  f->loop = g_main_loop_new (NULL, FALSE);
  f->server = td_test_script_server_new_from_data (path);
  f->watchdog_id = td_test_watchdog_add (WATCHDOG_SECONDS);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->session != NULL)
    {
      td_imap_session_close (f->session);
      g_clear_object (&f->session);
    }
  /* every line of the script must have been played */
  td_test_script_server_finish (f->server);
  td_test_closed_clear (&f->closed);
  g_source_remove (f->watchdog_id);
  g_main_loop_unref (f->loop);
}

static void
new_stream_session (Fixture *f)
{
  g_autoptr(GIOStream) stream = td_test_script_server_connect (f->server);

  f->session = td_imap_session_new_for_stream (stream);
  g_signal_connect (f->session, "closed", G_CALLBACK (td_test_closed_cb), &f->closed);
}

static gboolean
session_connect (Fixture  *f,
                 GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_imap_session_connect_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_imap_session_connect_finish (f->session, result, error);
}

/* A stream session, connected. */
static void
open_session (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_true (session_connect (f, &error));
  g_assert_no_error (error);
}

static gboolean
session_login (Fixture     *f,
               const char  *username,
               const char  *password,
               GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_imap_session_login_async (f->session, username, password, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_imap_session_login_finish (f->session, result, error);
}

static GPtrArray *
session_list (Fixture  *f,
              GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_imap_session_list_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_imap_session_list_finish (f->session, result, error);
}

static const TdImapMailbox *
session_select (Fixture     *f,
                const char  *raw_path,
                gboolean     read_only,
                GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_imap_session_select_async (f->session, raw_path, read_only, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_imap_session_select_finish (f->session, result, error);
}

static GArray *
session_search (Fixture     *f,
                const char  *criteria,
                GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_imap_session_uid_search_async (f->session, criteria, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_imap_session_uid_search_finish (f->session, result, error);
}

static gboolean
session_logout (Fixture  *f,
                GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  TdTestSlot slot = { f->loop, NULL };

  td_imap_session_logout_async (f->session, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  return td_imap_session_logout_finish (f->session, result, error);
}

/* FETCH responses as the callback saw them */
typedef struct
{
  TdTestScriptServer *server;
  GArray             *uids;
  GArray             *flags;
  GArray             *modseqs;
  GPtrArray          *bodies;           /* char*, "" when none */
  gboolean            server_was_done;  /* at the first callback */
} FetchLog;

static void
fetch_log_init (FetchLog           *log,
                TdTestScriptServer *server)
{
  log->server = server;
  log->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  log->flags = g_array_new (FALSE, FALSE, sizeof (TdFlags));
  log->modseqs = g_array_new (FALSE, FALSE, sizeof (guint64));
  log->bodies = g_ptr_array_new_with_free_func (g_free);
  log->server_was_done = FALSE;
}

static void
fetch_log_clear (FetchLog *log)
{
  g_array_unref (log->uids);
  g_array_unref (log->flags);
  g_array_unref (log->modseqs);
  g_ptr_array_unref (log->bodies);
}

static void
on_fetch (TdImapFetch *fetch,
          gpointer     user_data)
{
  FetchLog *log = user_data;

  if (log->uids->len == 0)
    log->server_was_done = td_test_script_server_is_finished (log->server);
  g_array_append_val (log->uids, fetch->uid);
  g_array_append_val (log->flags, fetch->flags);
  g_array_append_val (log->modseqs, fetch->modseq);
  if (fetch->body != NULL)
    g_ptr_array_add (log->bodies, g_strndup (g_bytes_get_data (fetch->body, NULL),
                                             g_bytes_get_size (fetch->body)));
  else
    g_ptr_array_add (log->bodies, g_strdup (""));
}

static void
on_fetch_unexpected (TdImapFetch *fetch,
                     gpointer     user_data)
{
  guint *count = user_data;

  (*count)++;
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

static const TdImapListEntry *
find_entry (GPtrArray  *entries,
            const char *path)
{
  for (guint i = 0; i < entries->len; i++)
    {
      const TdImapListEntry *entry = g_ptr_array_index (entries, i);

      if (strcmp (entry->path, path) == 0)
        return entry;
    }
  return NULL;
}

/* The entry for @path; fails the test when there is none. */
static const TdImapListEntry *
get_entry (GPtrArray  *entries,
           const char *path)
{
  const TdImapListEntry *entry = find_entry (entries, path);

  if (entry == NULL)
    g_error ("no LIST entry for \"%s\"", path);
  return entry;
}

/* ------------------------------------------------------------------------------------------ */
/* Greeting */

static void
test_greeting_capability (Fixture       *f,
                          gconstpointer  data)
{
  g_assert_cmpint (f->closed.count, ==, 0);
  open_session (f);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_AUTHENTICATED);
  g_assert_true (td_imap_session_has_capability (f->session, "IMAP4rev1"));
  g_assert_true (td_imap_session_has_capability (f->session, "auth=plain"));
  g_assert_true (td_imap_session_has_capability (f->session, "LITERAL+"));
  g_assert_false (td_imap_session_has_capability (f->session, "STARTTLS"));
  g_assert_null (td_imap_session_get_mailbox (f->session));
}

static void
test_greeting_plain (Fixture       *f,
                     gconstpointer  data)
{
  open_session (f);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_AUTHENTICATED);
  g_assert_true (td_imap_session_has_capability (f->session, "STARTTLS"));
  g_assert_true (td_imap_session_has_capability (f->session, "LOGINDISABLED"));
  td_test_script_server_wait_finished (f->server, 5000);
}

static void
test_greeting_preauth (Fixture       *f,
                       gconstpointer  data)
{
  open_session (f);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
  g_assert_true (td_imap_session_has_capability (f->session, "IDLE"));
}

static void
test_greeting_bye (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_false (session_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "Too many connections from your address"));
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_true (f->closed.with_error);
}

/* ------------------------------------------------------------------------------------------ */
/* Login */

static void
test_login (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_false (td_imap_session_has_capability (f->session, "CONDSTORE"));
  g_assert_true (session_login (f, "alice", "secret", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
  /* re-read from the tagged OK */
  g_assert_true (td_imap_session_has_capability (f->session, "CONDSTORE"));
  g_assert_true (td_imap_session_has_capability (f->session, "SPECIAL-USE"));
}

static void
test_login_literal (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_true (session_login (f, "alice", "p\"ss wörd", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
  /* re-read with CAPABILITY after the login */
  g_assert_true (td_imap_session_has_capability (f->session, "MOVE"));
  g_assert_false (td_imap_session_has_capability (f->session, "LITERAL+"));
}

static void
test_login_literal_plus (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_true (session_login (f, "bob\"one", "pass", &error));
  g_assert_no_error (error);
  g_assert_true (td_imap_session_has_capability (f->session, "IDLE"));
}

static void
test_login_literal_refused (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *received;

  open_session (f);
  g_assert_false (session_login (f, "alice", "p\"ss wörd", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_AUTHENTICATED);
  td_test_script_server_wait_finished (f->server, 5000);
  received = td_test_script_server_get_received (f->server, &len);
  g_assert_null (strstr (received, "wörd"));
}

static void
test_authenticate_sasl_ir (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_true (session_login (f, "alice", "secret", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
  g_assert_true (td_imap_session_has_capability (f->session, "CONDSTORE"));
  g_assert_false (td_imap_session_has_capability (f->session, "SASL-IR"));
}

static void
test_authenticate_continuation (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_true (session_login (f, "alice", "secret", &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
  g_assert_true (td_imap_session_has_capability (f->session, "IDLE"));
  g_assert_false (td_imap_session_has_capability (f->session, "AUTH=PLAIN"));
}

static void
test_login_no (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_false (session_login (f, "alice", "wrong", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, "Authentication failed."));
  /* the connection stays, not logged in */
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_AUTHENTICATED);
  g_assert_cmpuint (f->closed.count, ==, 0);
}

static void
test_login_disabled (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_false (session_login (f, "alice", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, "LOGINDISABLED"));
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_AUTHENTICATED);
  g_assert_null (strstr (td_test_script_server_get_received (f->server, NULL), "secret"));
}

/* ------------------------------------------------------------------------------------------ */
/* STARTTLS (a session over a TdConnection; the script server speaks plaintext only) */

static void
new_starttls_session (Fixture *f)
{
  g_autoptr(TdConnection) connection =
    td_connection_new ("127.0.0.1", td_test_script_server_get_port (f->server),
                       TD_SECURITY_STARTTLS);

  td_connection_set_timeout (connection, 10);
  f->session = td_imap_session_new (connection);
  g_signal_connect (f->session, "closed", G_CALLBACK (td_test_closed_cb), &f->closed);
}

static void
test_starttls_missing (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) login_error = NULL;
  gsize len;
  const char *received;

  new_starttls_session (f);
  g_assert_false (session_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED);
  g_assert_nonnull (strstr (error->message, "STARTTLS"));
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);

  /* and a login attempt now sends nothing either */
  g_assert_false (session_login (f, "alice", "secret", &login_error));
  g_assert_error (login_error, TD_ERROR, TD_ERROR_WRONG_STATE);

  td_test_script_server_wait_finished (f->server, 5000);
  td_test_script_server_assert_finished (f->server);
  received = td_test_script_server_get_received (f->server, &len);
  g_assert_cmpstr (received, ==, "A1 CAPABILITY\r\n");
  g_assert_null (strstr (received, "secret"));
  g_assert_null (strstr (received, "AGFsaWNlAHNlY3JldA"));
}

static void
test_starttls_injection (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_starttls_session (f);
  g_assert_false (session_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  td_test_script_server_wait_finished (f->server, 5000);
  g_assert_cmpstr (td_test_script_server_get_received (f->server, NULL), ==,
                   "A1 STARTTLS\r\n");
}

/* ------------------------------------------------------------------------------------------ */
/* LIST */

static void
test_list_special_use (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  const TdImapListEntry *entry;

  open_session (f);
  entries = session_list (f, &error);
  g_assert_no_error (error);
  g_assert_nonnull (entries);
  /* INBOX, Sent Messages, Deleted, Trash, Work, Drafts, Work/Sent: no Gone, no duplicate */
  g_assert_cmpuint (entries->len, ==, 7);

  entry = get_entry (entries, "INBOX");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_INBOX);
  entry = get_entry (entries, "Sent Messages");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_SENT);
  g_assert_cmpstr (entry->raw_path, ==, "Sent Messages");
  g_assert_cmpint (entry->delimiter, ==, '/');
  entry = get_entry (entries, "Deleted");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_TRASH);
  /* the server named its trash: no second one by guessing */
  entry = get_entry (entries, "Trash");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_NONE);
  entry = get_entry (entries, "Drafts");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_DRAFTS);
  entry = get_entry (entries, "Work");
  g_assert_true (entry->noselect);
  g_assert_true (entry->has_children);
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_NONE);
  entry = get_entry (entries, "Work/Sent");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_NONE);
  g_assert_null (find_entry (entries, "Gone"));
}

static void
test_list_guessed (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  const TdImapListEntry *entry;

  open_session (f);
  entries = session_list (f, &error);
  g_assert_no_error (error);
  /* "inbox" is the same mailbox as "INBOX" */
  g_assert_cmpuint (entries->len, ==, 6);

  entry = get_entry (entries, "INBOX");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_INBOX);
  g_assert_cmpint (entry->delimiter, ==, '.');
  entry = get_entry (entries, "INBOX.Sent");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_SENT);
  entry = get_entry (entries, "INBOX.Trash");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_TRASH);
  entry = get_entry (entries, "INBOX.Old");
  g_assert_true (entry->noselect);
  entry = get_entry (entries, "INBOX.Entwürfe");
  g_assert_cmpstr (entry->raw_path, ==, "INBOX.Entw&APw-rfe");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_DRAFTS);
  entry = get_entry (entries, "INBOX.日本語");
  g_assert_cmpstr (entry->raw_path, ==, "INBOX.&ZeVnLIqe-");
  g_assert_cmpint (entry->role, ==, TD_FOLDER_ROLE_NONE);
}

/* ------------------------------------------------------------------------------------------ */
/* SELECT */

static void
test_select_condstore (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const TdImapMailbox *mailbox;

  open_session (f);
  mailbox = session_select (f, "INBOX", FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (mailbox);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);
  g_assert_true (mailbox == td_imap_session_get_mailbox (f->session));
  g_assert_cmpuint (mailbox->exists, ==, 172);
  g_assert_cmpuint (mailbox->uidvalidity, ==, 3857529045u);
  g_assert_cmpuint (mailbox->uidnext, ==, 4392);
  g_assert_cmpuint (mailbox->highestmodseq, ==, G_GUINT64_CONSTANT (715194045007));
  g_assert_false (mailbox->read_only);
}

static void
test_select_plain (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const TdImapMailbox *mailbox;

  open_session (f);
  mailbox = session_select (f, "Archive/2023", TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);
  g_assert_cmpuint (mailbox->exists, ==, 3);
  g_assert_cmpuint (mailbox->uidvalidity, ==, 7);
  g_assert_cmpuint (mailbox->uidnext, ==, 0);
  g_assert_cmpuint (mailbox->highestmodseq, ==, 0);
  g_assert_true (mailbox->read_only);

  /* a failed SELECT leaves no mailbox selected */
  g_assert_null (session_select (f, "Missing", FALSE, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "Mailbox doesn't exist: Missing"));
  g_clear_error (&error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
  g_assert_null (td_imap_session_get_mailbox (f->session));

  /* a name with a quote goes as a literal */
  mailbox = session_select (f, "Quote\"d", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->exists, ==, 0);
  g_assert_cmpuint (mailbox->uidvalidity, ==, 9);
  g_assert_cmpuint (mailbox->uidnext, ==, 1);
  g_assert_false (mailbox->read_only);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);
}

/* ------------------------------------------------------------------------------------------ */
/* FETCH, SEARCH */

static void
test_fetch_streaming (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  FetchLog log;
  TdTestSlot slot = { f->loop, NULL };
  static const guint32 expected[] = { 1, 2 };

  open_session (f);
  session_select (f, "INBOX", FALSE, &error);
  g_assert_no_error (error);

  fetch_log_init (&log, f->server);
  td_imap_session_uid_fetch_async (f->session, "1:2", "UID FLAGS BODY.PEEK[]", 0,
                                   on_fetch, &log, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  g_assert_true (td_imap_session_uid_fetch_finish (f->session, result, &error));
  g_assert_no_error (error);

  assert_uids (log.uids, expected, 2);
  /* the first message reached the callback while the server was still sending */
  g_assert_false (log.server_was_done);
  g_assert_cmpstr (g_ptr_array_index (log.bodies, 0), ==, "Hello\r\nWorld\r\n");
  g_assert_cmpstr (g_ptr_array_index (log.bodies, 1), ==, "abcde");
  /* lower-case system flags are flags all the same */
  g_assert_cmpint (g_array_index (log.flags, TdFlags, 0), ==, TD_FLAG_SEEN | TD_FLAG_FLAGGED);
  g_assert_cmpint (g_array_index (log.flags, TdFlags, 1), ==, 0);
  fetch_log_clear (&log);
}

static void
test_fetch_pipelined (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result1 = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  FetchLog log1, log2;
  TdTestSlot slot1 = { f->loop, NULL };
  TdTestSlot slot2 = { f->loop, NULL };
  const TdImapMailbox *mailbox;
  static const guint32 expected1[] = { 1, 2 };
  static const guint32 expected2[] = { 3, 4 };

  open_session (f);
  mailbox = session_select (f, "INBOX", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailbox->highestmodseq, ==, 12400);

  fetch_log_init (&log1, f->server);
  fetch_log_init (&log2, f->server);
  td_imap_session_uid_fetch_async (f->session, "1:2", "UID FLAGS", 0,
                                   on_fetch, &log1, NULL, td_test_slot_done, &slot1);
  td_imap_session_uid_fetch_async (f->session, "3:4", "UID FLAGS", 12345,
                                   on_fetch, &log2, NULL, td_test_slot_done, &slot2);
  result1 = td_test_slot_wait (&slot1);
  result2 = td_test_slot_wait (&slot2);
  g_assert_true (td_imap_session_uid_fetch_finish (f->session, result1, &error));
  g_assert_no_error (error);
  g_assert_true (td_imap_session_uid_fetch_finish (f->session, result2, &error));
  g_assert_no_error (error);

  assert_uids (log1.uids, expected1, 2);
  assert_uids (log2.uids, expected2, 2);
  g_assert_cmpint (g_array_index (log1.flags, TdFlags, 0), ==, TD_FLAG_SEEN);
  g_assert_cmpint (g_array_index (log2.flags, TdFlags, 0), ==, TD_FLAG_ANSWERED);
  g_assert_cmpint (g_array_index (log2.flags, TdFlags, 1), ==, TD_FLAG_DELETED);
  g_assert_cmpuint (g_array_index (log2.modseqs, guint64, 1), ==, 12350);
  /* the unsolicited EXISTS in between updated the mailbox */
  g_assert_cmpuint (td_imap_session_get_mailbox (f->session)->exists, ==, 5);
  fetch_log_clear (&log1);
  fetch_log_clear (&log2);
}

static void
test_search (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) all = NULL;
  g_autoptr(GArray) esearch = NULL;
  g_autoptr(GArray) none = NULL;
  static const guint32 expected_all[] = { 3, 5, 9 };
  static const guint32 expected_esearch[] = { 1, 2, 3, 7, 9, 10 };

  open_session (f);
  session_select (f, "INBOX", FALSE, &error);
  g_assert_no_error (error);

  all = session_search (f, "ALL", &error);
  g_assert_no_error (error);
  assert_uids (all, expected_all, G_N_ELEMENTS (expected_all));

  esearch = session_search (f, "UID 1:*", &error);
  g_assert_no_error (error);
  assert_uids (esearch, expected_esearch, G_N_ELEMENTS (expected_esearch));

  none = session_search (f, "UNSEEN", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* States and failures */

static void
assert_wrong_state_fetch (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TdTestSlot slot = { f->loop, NULL };
  guint count = 0;

  td_imap_session_uid_fetch_async (f->session, "1:*", "UID FLAGS", 0, on_fetch_unexpected,
                                   &count, NULL, td_test_slot_done, &slot);
  result = td_test_slot_wait (&slot);
  g_assert_false (td_imap_session_uid_fetch_finish (f->session, result, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_assert_cmpuint (count, ==, 0);
}

static void
test_wrong_state (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GArray) uids = NULL;

  new_stream_session (f);
  /* before connecting */
  g_assert_false (session_login (f, "alice", "secret", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  g_assert_true (session_connect (f, &error));
  g_assert_no_error (error);

  /* connected, not logged in: list, select, fetch, search are refused */
  entries = session_list (f, &error);
  g_assert_null (entries);
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  g_assert_null (session_select (f, "INBOX", FALSE, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  assert_wrong_state_fetch (f);
  uids = session_search (f, "ALL", &error);
  g_assert_null (uids);
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  /* and connecting twice */
  g_assert_false (session_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);

  /* the refusals did not touch the connection */
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_AUTHENTICATED);
  g_assert_cmpuint (f->closed.count, ==, 0);
}

static void
test_wrong_state_fetch_before_select (Fixture       *f,
                                      gconstpointer  data)
{
  open_session (f);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
  assert_wrong_state_fetch (f);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_AUTHENTICATED);
}

static void
test_cut_mid_literal (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) fetch_result = NULL;
  g_autoptr(GAsyncResult) search_result = NULL;
  TdTestSlot fetch_slot = { f->loop, NULL };
  TdTestSlot search_slot = { f->loop, NULL };
  guint count = 0;
  GArray *uids;

  open_session (f);
  session_select (f, "INBOX", FALSE, &error);
  g_assert_no_error (error);

  td_imap_session_uid_fetch_async (f->session, "1", "UID BODY.PEEK[]", 0, on_fetch_unexpected,
                                   &count, NULL, td_test_slot_done, &fetch_slot);
  td_imap_session_uid_search_async (f->session, "ALL", NULL, td_test_slot_done, &search_slot);
  fetch_result = td_test_slot_wait (&fetch_slot);
  search_result = td_test_slot_wait (&search_slot);

  g_assert_false (td_imap_session_uid_fetch_finish (f->session, fetch_result, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_clear_error (&error);
  uids = td_imap_session_uid_search_finish (f->session, search_result, &error);
  g_assert_null (uids);
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "The server closed the connection"));

  g_assert_cmpuint (count, ==, 0);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_CONNECTION);
}

static void
test_bye (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;

  open_session (f);
  entries = session_list (f, &error);
  g_assert_null (entries);
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "Server shutting down for maintenance"));
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_true (f->closed.with_error);
  td_test_script_server_wait_finished (f->server, 5000);
}

static void
test_garbage (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;

  open_session (f);
  entries = session_list (f, &error);
  g_assert_null (entries);
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_PARSE);
  td_test_script_server_wait_finished (f->server, 5000);
}

static void
test_unknown_tag (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;

  open_session (f);
  entries = session_list (f, &error);
  g_assert_null (entries);
  g_assert_error (error, TD_ERROR, TD_ERROR_PROTOCOL);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  td_test_script_server_wait_finished (f->server, 5000);
}

static void
test_logout (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_true (session_logout (f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_false (f->closed.with_error);
  td_test_script_server_wait_finished (f->server, 5000);

  /* once closed, a logout just completes */
  g_assert_true (session_logout (f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->closed.count, ==, 1);
}

static void
test_logout_twice (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result1 = NULL;
  g_autoptr(GAsyncResult) result2 = NULL;
  TdTestSlot slot1 = { f->loop, NULL };
  TdTestSlot slot2 = { f->loop, NULL };

  open_session (f);
  td_imap_session_logout_async (f->session, NULL, td_test_slot_done, &slot1);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_LOGOUT);
  /* the second one does not wait for the server: both succeed, the connection is gone */
  td_imap_session_logout_async (f->session, NULL, td_test_slot_done, &slot2);
  result1 = td_test_slot_wait (&slot1);
  result2 = td_test_slot_wait (&slot2);
  g_assert_true (td_imap_session_logout_finish (f->session, result1, &error));
  g_assert_no_error (error);
  g_assert_true (td_imap_session_logout_finish (f->session, result2, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_false (f->closed.with_error);
  td_test_script_server_wait_finished (f->server, 5000);
}

static void
test_logout_eof (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  open_session (f);
  g_assert_true (session_logout (f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_false (f->closed.with_error);
}

static void
test_logout_not_connected (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  new_stream_session (f);
  g_assert_true (session_logout (f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 0);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GArray) uids = NULL;
  TdTestSlot slot = { f->loop, NULL };
  guint count = 0;
  static const guint32 expected[] = { 1 };

  open_session (f);
  session_select (f, "INBOX", FALSE, &error);
  g_assert_no_error (error);

  td_imap_session_uid_fetch_async (f->session, "1", "UID FLAGS", 0, on_fetch_unexpected,
                                   &count, cancellable, td_test_slot_done, &slot);
  g_cancellable_cancel (cancellable);
  result = td_test_slot_wait (&slot);
  g_assert_false (td_imap_session_uid_fetch_finish (f->session, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* the connection stays; the late answer is dropped and the next command works */
  uids = session_search (f, "ALL", &error);
  g_assert_no_error (error);
  assert_uids (uids, expected, 1);
  g_assert_cmpuint (count, ==, 0);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_SELECTED);
  g_assert_cmpuint (f->closed.count, ==, 0);
}

static void
test_close (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  TdTestSlot slot = { f->loop, NULL };

  open_session (f);
  td_imap_session_list_async (f->session, NULL, td_test_slot_done, &slot);
  td_imap_session_close (f->session);
  result = td_test_slot_wait (&slot);
  entries = td_imap_session_list_finish (f->session, result, &error);
  g_assert_null (entries);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_false (f->closed.with_error);
  td_test_script_server_wait_finished (f->server, 5000);
}

static void
on_fetch_close (TdImapFetch *fetch,
                gpointer     user_data)
{
  Fixture *f = user_data;

  f->fetch_count++;
  td_imap_session_close (f->session);
}

static void
test_close_in_callback (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) fetch_result = NULL;
  g_autoptr(GAsyncResult) search_result = NULL;
  g_autoptr(GArray) uids = NULL;
  TdTestSlot fetch_slot = { f->loop, NULL };
  TdTestSlot search_slot = { f->loop, NULL };

  open_session (f);
  session_select (f, "INBOX", FALSE, &error);
  g_assert_no_error (error);

  td_imap_session_uid_fetch_async (f->session, "1:2", "UID BODY.PEEK[]", 0, on_fetch_close, f,
                                   NULL, td_test_slot_done, &fetch_slot);
  td_imap_session_uid_search_async (f->session, "ALL", NULL, td_test_slot_done, &search_slot);
  fetch_result = td_test_slot_wait (&fetch_slot);
  search_result = td_test_slot_wait (&search_slot);

  /* nothing after the close was dispatched */
  g_assert_cmpuint (f->fetch_count, ==, 1);
  g_assert_false (td_imap_session_uid_fetch_finish (f->session, fetch_result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  uids = td_imap_session_uid_search_finish (f->session, search_result, &error);
  g_assert_null (uids);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_false (f->closed.with_error);
  td_test_script_server_wait_finished (f->server, 5000);
}

static void
test_connect_cancel (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TdTestSlot slot = { f->loop, NULL };

  new_stream_session (f);
  td_imap_session_connect_async (f->session, cancellable, td_test_slot_done, &slot);
  g_cancellable_cancel (cancellable);
  result = td_test_slot_wait (&slot);
  g_assert_false (td_imap_session_connect_finish (f->session, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  /* the connection is dropped */
  td_test_script_server_wait_finished (f->server, 5000);
}

static void
test_timeout (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(TdConnection) connection =
    td_connection_new ("127.0.0.1", td_test_script_server_get_port (f->server),
                       TD_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;

  td_connection_set_timeout (connection, 1);
  f->session = td_imap_session_new (connection);
  g_signal_connect (f->session, "closed", G_CALLBACK (td_test_closed_cb), &f->closed);
  g_assert_false (session_connect (f, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TIMEOUT);
  g_assert_cmpint (td_imap_session_get_state (f->session), ==, TD_IMAP_STATE_NOT_CONNECTED);
  g_assert_cmpuint (f->closed.count, ==, 1);
  g_assert_error (f->closed.error, TD_ERROR, TD_ERROR_TIMEOUT);
  td_test_script_server_wait_finished (f->server, 5000);
}

/* ------------------------------------------------------------------------------------------ */
/* UID sets */

static void
test_uid_set (void)
{
  static const guint32 uids[] = { 1, 2, 3, 5, 7, 8, 9, 12 };
  static const guint32 repeated[] = { 0, 4, 4, 5, 6, 6, 10, 4294967295u };
  guint consumed = 99;
  char *set;

  set = td_imap_uid_set_build (uids, G_N_ELEMENTS (uids), 100, &consumed);
  g_assert_cmpstr (set, ==, "1:3,5,7:9,12");
  g_assert_cmpuint (consumed, ==, 8);
  g_free (set);

  /* "1:3,5" fits in 6, ",7:9" does not */
  set = td_imap_uid_set_build (uids, G_N_ELEMENTS (uids), 6, &consumed);
  g_assert_cmpstr (set, ==, "1:3,5");
  g_assert_cmpuint (consumed, ==, 4);
  g_free (set);

  set = td_imap_uid_set_build (uids, G_N_ELEMENTS (uids), 2, &consumed);
  g_assert_cmpstr (set, ==, "");
  g_assert_cmpuint (consumed, ==, 0);
  g_free (set);

  set = td_imap_uid_set_build (uids, 0, 100, &consumed);
  g_assert_cmpstr (set, ==, "");
  g_assert_cmpuint (consumed, ==, 0);
  g_free (set);

  /* zeros are skipped, repeats folded, the top of the range is no overflow */
  set = td_imap_uid_set_build (repeated, G_N_ELEMENTS (repeated), 100, &consumed);
  g_assert_cmpstr (set, ==, "4:6,10,4294967295");
  g_assert_cmpuint (consumed, ==, G_N_ELEMENTS (repeated));
  g_free (set);

  set = td_imap_uid_set_build (uids, G_N_ELEMENTS (uids), 100, NULL);
  g_assert_cmpstr (set, ==, "1:3,5,7:9,12");
  g_free (set);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, script, func) \
  g_test_add (path, Fixture, script, fixture_setup, func, fixture_teardown)

  ADD ("/imap/session/greeting/capability-code", "greeting-capability.script",
       test_greeting_capability);
  ADD ("/imap/session/greeting/no-capability-code", "greeting-plain.script",
       test_greeting_plain);
  ADD ("/imap/session/greeting/preauth", "greeting-preauth.script", test_greeting_preauth);
  ADD ("/imap/session/greeting/bye", "greeting-bye.script", test_greeting_bye);
  ADD ("/imap/session/login/login", "login.script", test_login);
  ADD ("/imap/session/login/literal", "login-literal.script", test_login_literal);
  ADD ("/imap/session/login/literal-plus", "login-literal-plus.script", test_login_literal_plus);
  ADD ("/imap/session/login/literal-refused", "login-literal-refused.script",
       test_login_literal_refused);
  ADD ("/imap/session/login/authenticate-sasl-ir", "authenticate-sasl-ir.script",
       test_authenticate_sasl_ir);
  ADD ("/imap/session/login/authenticate-continuation", "authenticate-continuation.script",
       test_authenticate_continuation);
  ADD ("/imap/session/login/no", "login-no.script", test_login_no);
  ADD ("/imap/session/login/logindisabled", "login-disabled.script", test_login_disabled);
  ADD ("/imap/session/starttls/missing", "starttls-missing.script", test_starttls_missing);
  ADD ("/imap/session/starttls/injection", "starttls-injection.script",
       test_starttls_injection);
  ADD ("/imap/session/list/special-use", "list-special-use.script", test_list_special_use);
  ADD ("/imap/session/list/guessed", "list-guessed.script", test_list_guessed);
  ADD ("/imap/session/select/condstore", "select-condstore.script", test_select_condstore);
  ADD ("/imap/session/select/plain", "select-plain.script", test_select_plain);
  ADD ("/imap/session/fetch/streaming", "fetch-streaming.script", test_fetch_streaming);
  ADD ("/imap/session/fetch/pipelined", "fetch-pipelined.script", test_fetch_pipelined);
  ADD ("/imap/session/search", "search.script", test_search);
  ADD ("/imap/session/wrong-state/not-logged-in", "wrong-state.script", test_wrong_state);
  ADD ("/imap/session/wrong-state/fetch-before-select", "greeting-preauth.script",
       test_wrong_state_fetch_before_select);
  ADD ("/imap/session/error/cut-mid-literal", "cut-mid-literal.script", test_cut_mid_literal);
  ADD ("/imap/session/error/bye", "bye.script", test_bye);
  ADD ("/imap/session/error/garbage", "garbage.script", test_garbage);
  ADD ("/imap/session/error/unknown-tag", "unknown-tag.script", test_unknown_tag);
  ADD ("/imap/session/logout/bye-ok", "logout.script", test_logout);
  ADD ("/imap/session/logout/eof", "logout-eof.script", test_logout_eof);
  ADD ("/imap/session/logout/twice", "logout-twice.script", test_logout_twice);
  ADD ("/imap/session/logout/not-connected", "wrong-state.script", test_logout_not_connected);
  ADD ("/imap/session/cancel", "cancel.script", test_cancel);
  ADD ("/imap/session/close", "close.script", test_close);
  ADD ("/imap/session/close-in-callback", "close-in-callback.script", test_close_in_callback);
  ADD ("/imap/session/connect-cancel", "connect-cancel.script", test_connect_cancel);
  ADD ("/imap/session/error/timeout", "timeout.script", test_timeout);
  g_test_add_func ("/imap/session/uid-set", test_uid_set);

#undef ADD

  return g_test_run ();
}
