/* test-imap-quirks.c: syncing with servers that are not Dovecot, replayed by a script server
 *
 * Each case drives the real TdImapSync (and TdImapWatch) into a real store in a temporary
 * directory, against scripts built here that play what such servers do; every line the
 * engine sends is compared, so a command it should not send fails the test:
 *  - LIST-STATUS: folders whose STATUS matches the last sync are not selected, others are;
 *  - a server that sends STATUS (unasked, as LIST-STATUS or NOTIFY servers do) with another
 *    UIDVALIDITY every time: only SELECT/EXAMINE's UIDVALIDITY may rebuild a folder;
 *  - PERMANENTFLAGS without "\*", and a server that refuses a STORE of $Forwarded: the
 *    keyword stays here (the folder's local flags) and is not sent again;
 *  - a server that reports new mail only in answer to a command, never during IDLE: the
 *    watch's NOOP between IDLEs finds it;
 *  - messages with broken line endings (CR CR LF, bare CR, bare LF): headers and body
 *    still read;
 *  - CONDSTORE: a flag change here is stored UNCHANGEDSINCE the MODSEQ it was made on, and
 *    what the server reports [MODIFIED] is merged with the other client's change;
 *  - UIDPLUS: a message moved here takes the uid of [COPYUID] and is not fetched again;
 *  - a folder renamed on the server while changes to it waited here: found again by its
 *    UIDVALIDITY, the changes sent there;
 *  - the resync paths: QRESYNC (SELECT/EXAMINE with (QRESYNC (...)), VANISHED (EARLIER)) and
 *    CONDSTORE (FETCH (CHANGEDSINCE n)) each send their commands, not the full UID/FLAGS
 *    diff of the plain path (which the cases above play).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-imap-session.h"
#include "td-imap-sync.h"
#include "td-imap-watch.h"
#include "td-mime.h"
#include "td-store.h"
#include "td-test-script-server.h"
#include "td-test-util.h"

#define WAIT_MS 30000

/* --- Scripts --- */

typedef struct
{
  GString *text;
  guint    tag;        /* of the last command */
} Script;

typedef struct
{
  guint32     uid;
  const char *flags;   /* IMAP flag list contents */
  const char *raw;     /* the whole message as the server keeps it */
  guint64     modseq;  /* sent with its headers when not 0 (CONDSTORE) */
} Msg;

static void
script_init (Script *sc)
{
  sc->text = g_string_new (NULL);
  sc->tag = 0;
}

static char *
script_free (Script *sc)
{
  return g_string_free (sc->text, FALSE);
}

static void script_s (Script *sc, const char *format, ...) G_GNUC_PRINTF (2, 3);
static void script_c (Script *sc, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
script_s (Script     *sc,
          const char *format,
          ...)
{
  va_list args;

  g_string_append (sc->text, "S: ");
  va_start (args, format);
  g_string_append_vprintf (sc->text, format, args);
  va_end (args);
  g_string_append_c (sc->text, '\n');
}

/* The next command, tagged A1, A2, ... */
static void
script_c (Script     *sc,
          const char *format,
          ...)
{
  va_list args;

  g_string_append_printf (sc->text, "C: A%u ", ++sc->tag);
  va_start (args, format);
  g_string_append_vprintf (sc->text, format, args);
  va_end (args);
  g_string_append_c (sc->text, '\n');
}

/* The tagged OK of the last command */
static void
script_ok (Script     *sc,
           const char *text)
{
  g_string_append_printf (sc->text, "S: A%u OK %s\n", sc->tag, text);
}

/* Raw bytes (any line endings) as one S+ line */
static void
script_raw (Script     *sc,
            const char *data,
            gsize       len)
{
  g_autofree char *copy = g_strndup (data, len);
  g_autofree char *escaped = g_strescape (copy, NULL);

  g_string_append_printf (sc->text, "S+ %s\n", escaped);
}

static void
script_login (Script     *sc,
              const char *caps)
{
  script_s (sc, "* OK [CAPABILITY IMAP4rev1] Not Dovecot ready");
  script_c (sc, "LOGIN \"alice\" \"secret\"");
  script_s (sc, "A%u OK [CAPABILITY %s] Logged in", sc->tag, caps);
}

static void
script_list_inbox (Script   *sc,
                   gboolean  status_noise)
{
  script_c (sc, "LIST \"\" \"*\"");
  script_s (sc, "* LIST (\\HasNoChildren) \"/\" \"INBOX\"");
  if (status_noise)
    script_s (sc, "* STATUS \"INBOX\" (MESSAGES 2 UIDNEXT 3 UIDVALIDITY %u)",
              g_random_int_range (1000, 100000));
  script_ok (sc, "List completed");
}

static void
script_examine (Script     *sc,
                guint       exists,
                guint32     uidvalidity,
                guint32     uidnext,
                gboolean    status_noise)
{
  /* the sync opens folders read-write (imap4d changes UIDVALIDITY on EXAMINE) */
  script_c (sc, "SELECT \"INBOX\"");
  script_s (sc, "* %u EXISTS", exists);
  script_s (sc, "* OK [UIDVALIDITY %u] UIDs valid", uidvalidity);
  script_s (sc, "* OK [UIDNEXT %u] Predicted next UID", uidnext);
  /* no PERMANENTFLAGS: what the folder keeps here stays as the replay found it */
  if (status_noise)
    script_s (sc, "* STATUS \"INBOX\" (UIDVALIDITY %u)", g_random_int_range (1000, 100000));
  script_ok (sc, "[READ-WRITE] Select completed");
}

static char *
uid_set (const Msg *msgs,
         guint      n)
{
  g_autofree guint32 *uids = g_new (guint32, n);
  guint consumed = 0;

  for (guint i = 0; i < n; i++)
    uids[i] = msgs[i].uid;
  return td_imap_uid_set_build (uids, n, 4000, &consumed);
}

static void
script_search (Script    *sc,
               const Msg *msgs,
               guint      n)
{
  GString *line = g_string_new ("* SEARCH");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (line, " %u", msgs[i].uid);
  script_c (sc, "UID SEARCH ALL");
  script_s (sc, "%s", line->str);
  script_ok (sc, "Search completed");
  g_string_free (line, TRUE);
}

/* The header section: up to the empty line, whatever the line ends are (tried from the
 * longest kind of line end: "\r\r" is also in the middle of "\r\r\n"). */
static gsize
header_length (const char *raw)
{
  static const char * const ends[] = { "\r\r\n\r\r\n", "\r\n\r\n", "\n\n", "\r\r" };

  for (guint i = 0; i < G_N_ELEMENTS (ends); i++)
    {
      const char *p = strstr (raw, ends[i]);

      if (p != NULL)
        return (gsize) (p - raw) + strlen (ends[i]);
    }
  return strlen (raw);
}

static void
script_fetch_literal (Script     *sc,
                      guint       seq,
                      const Msg  *msg,
                      gboolean    header)
{
  gsize len = header ? header_length (msg->raw) : strlen (msg->raw);
  GString *bytes = g_string_new (NULL);

  if (header && msg->modseq != 0)
    g_string_append_printf (bytes, "* %u FETCH (UID %u FLAGS (%s) "
                            "INTERNALDATE \"01-Jan-2024 10:00:00 +0000\" RFC822.SIZE %zu "
                            "MODSEQ (%" G_GUINT64_FORMAT ") BODY[HEADER] {%zu}\r\n",
                            seq, msg->uid, msg->flags, strlen (msg->raw), msg->modseq, len);
  else if (header)
    g_string_append_printf (bytes, "* %u FETCH (UID %u FLAGS (%s) "
                            "INTERNALDATE \"01-Jan-2024 10:00:00 +0000\" RFC822.SIZE %zu "
                            "BODY[HEADER] {%zu}\r\n",
                            seq, msg->uid, msg->flags, strlen (msg->raw), len);
  else
    g_string_append_printf (bytes, "* %u FETCH (UID %u BODY[] {%zu}\r\n", seq, msg->uid, len);
  g_string_append_len (bytes, msg->raw, (gssize) len);
  g_string_append (bytes, ")\r\n");
  script_raw (sc, bytes->str, bytes->len);
  g_string_free (bytes, TRUE);
}

/* New messages: their headers (and MODSEQ, from a folder with a HIGHESTMODSEQ), then their
 * bodies */
static void
script_fetch_new_full (Script    *sc,
                       const Msg *msgs,
                       guint      n,
                       gboolean   modseq)
{
  g_autofree char *set = uid_set (msgs, n);

  script_c (sc, "UID FETCH %s (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER]%s)", set,
            modseq ? " MODSEQ" : "");
  for (guint i = 0; i < n; i++)
    script_fetch_literal (sc, i + 1, &msgs[i], TRUE);
  script_ok (sc, "Fetch completed");
  script_c (sc, "UID FETCH %s (UID BODY.PEEK[])", set);
  for (guint i = 0; i < n; i++)
    script_fetch_literal (sc, i + 1, &msgs[i], FALSE);
  script_ok (sc, "Fetch completed");
}

static void
script_fetch_new (Script    *sc,
                  const Msg *msgs,
                  guint      n)
{
  script_fetch_new_full (sc, msgs, n, FALSE);
}

/* The flags of known messages (no CONDSTORE: all of them) */
static void
script_fetch_flags (Script    *sc,
                    const Msg *msgs,
                    guint      n)
{
  script_c (sc, "UID FETCH 1:%u (UID FLAGS)", msgs[n - 1].uid);
  for (guint i = 0; i < n; i++)
    script_s (sc, "* %u FETCH (UID %u FLAGS (%s))", i + 1, msgs[i].uid, msgs[i].flags);
  script_ok (sc, "Fetch completed");
}

static void
script_logout (Script *sc)
{
  script_c (sc, "LOGOUT");
  script_s (sc, "* BYE Logging out");
  script_ok (sc, "Logout completed");
}

/* --- The store, the account, a sync --- */

typedef struct
{
  char      *dir;
  TdStore   *store;
  gint64     account_id;
} Fixture;

/* The account, at the port of this run's server (each script server takes one connection) */
static TdAccount *
account_for (Fixture *f,
             guint16  port)
{
  TdAccount *account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@example.org", "localhost",
                                       port, TD_SECURITY_TLS, "alice");

  td_account_set_pinned_fingerprint (account, TD_TEST_SCRIPT_SERVER_FINGERPRINT);
  if (f->account_id != 0)
    td_account_set_id (account, f->account_id);
  return account;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TdAccount) account = NULL;

  f->dir = td_test_make_tempdir ("quirks");
  path = g_build_filename (f->dir, "tidings.db", NULL);
  f->store = td_store_new (path);
  td_store_open_async (f->store, NULL, td_test_store_result, &result);
  td_store_open_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  account = account_for (f, 993);
  td_store_add_account_async (f->store, account, NULL, td_test_store_result, &result);
  td_store_add_account_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
  f->account_id = td_account_get_id (account);
  g_assert_cmpint (f->account_id, >, 0);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_store_close (f->store);
  g_clear_object (&f->store);
  g_free (f->dir);
}

/* One sync against @script; the whole script must be played. */
static void
run_sync (Fixture    *f,
          const char *script)
{
  g_autoptr(TdTestScriptServer) server = td_test_script_server_new_tls (script);
  g_autoptr(TdAccount) account = account_for (f, td_test_script_server_get_port (server));
  g_autoptr(TdImapSync) sync = td_imap_sync_new (f->store, account);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_imap_sync_run_async (sync, "secret", NULL, td_test_store_result, &result);
  td_imap_sync_run_finish (sync, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_cmpstr (td_test_script_server_get_error (server), ==, NULL);
  g_assert_no_error (error);
  td_test_script_server_wait_finished (server, 5000);
  td_test_script_server_assert_finished (server);
}

static gint64
inbox_id (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) folder = td_store_find_folder (f->store, f->account_id, "INBOX", &error);

  g_assert_no_error (error);
  g_assert_nonnull (folder);
  return td_folder_get_id (folder);
}

/* The folder's messages, newest first */
static GPtrArray *
inbox_messages (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *messages = td_store_page_messages (f->store, inbox_id (f), 0, 100, &error);

  g_assert_no_error (error);
  return messages;
}

static TdMessage *
find_uid (GPtrArray *messages,
          guint32    uid)
{
  for (guint i = 0; i < messages->len; i++)
    if (td_message_get_uid (g_ptr_array_index (messages, i)) == uid)
      return g_ptr_array_index (messages, i);
  g_error ("no message with uid %u", uid);
  return NULL;
}

static GBytes *
get_body (Fixture   *f,
          TdMessage *message)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *body;

  td_store_get_body_async (f->store, td_message_get_id (message), NULL, td_test_store_result,
                           &result);
  body = td_store_get_body_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
  return body;
}

static void
change_flags (Fixture   *f,
              TdMessage *message,
              TdFlags    add,
              TdFlags    remove)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id = td_message_get_id (message);

  g_array_append_val (ids, id);
  td_store_change_flags_async (f->store, ids, add, remove, NULL, NULL, NULL,
                               td_test_store_result, &result);
  td_store_change_flags_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
}

#define MSG(n) \
  "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: Message " #n "\r\n" \
  "Message-ID: <" #n "@example.org>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n" \
  "Body of message " #n ".\r\n"

static const Msg two[] = {
  { 1, "\\Seen", MSG (1) },
  { 2, "", MSG (2) },
};

/* The first sync of an INBOX with @msgs */
static char *
first_sync_script (const Msg *msgs,
                   guint      n,
                   gboolean   status_noise)
{
  Script sc;

  script_init (&sc);
  script_login (&sc, "IMAP4rev1 UIDPLUS");
  script_list_inbox (&sc, status_noise);
  script_examine (&sc, n, 100, msgs[n - 1].uid + 1, status_noise);
  script_search (&sc, msgs, n);
  script_fetch_new (&sc, msgs, n);
  script_logout (&sc);
  return script_free (&sc);
}

/* A resync where nothing changed: the uids and flags are compared, nothing else is asked. */
static char *
resync_script (const Msg *msgs,
               guint      n,
               gboolean   status_noise)
{
  Script sc;

  script_init (&sc);
  script_login (&sc, "IMAP4rev1 UIDPLUS");
  script_list_inbox (&sc, status_noise);
  script_examine (&sc, n, 100, msgs[n - 1].uid + 1, status_noise);
  script_search (&sc, msgs, n);
  script_fetch_flags (&sc, msgs, n);
  script_logout (&sc);
  return script_free (&sc);
}

/* --- (a) STATUS with a new UIDVALIDITY every time --- */

static void
test_status_uidvalidity (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *first = first_sync_script (two, G_N_ELEMENTS (two), TRUE);
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  TdFolderState state;
  Script sc;
  g_autofree char *rebuild = NULL;
  static const Msg fresh[] = { { 7, "", MSG (7) } };

  run_sync (f, first);
  before = inbox_messages (f);
  g_assert_cmpuint (before->len, ==, 2);
  g_assert_true (td_store_get_folder_state (f->store, inbox_id (f), &state, NULL));
  g_assert_cmpuint (state.uidvalidity, ==, 100);

  /* twice more, each time with another UIDVALIDITY in STATUS: the same rows, no fetch of
   * headers or bodies (the script would not have them) */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *again = resync_script (two, G_N_ELEMENTS (two), TRUE);

      run_sync (f, again);
    }
  after = inbox_messages (f);
  g_assert_cmpuint (after->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpint (td_message_get_id (find_uid (after, two[i].uid)), ==,
                     td_message_get_id (find_uid (before, two[i].uid)));
  g_assert_true (td_store_get_folder_state (f->store, inbox_id (f), &state, NULL));
  g_assert_cmpuint (state.uidvalidity, ==, 100);

  /* SELECT's UIDVALIDITY changes: now the folder is downloaded again */
  script_init (&sc);
  script_login (&sc, "IMAP4rev1 UIDPLUS");
  script_list_inbox (&sc, TRUE);
  script_c (&sc, "SELECT \"INBOX\"");
  script_s (&sc, "* 1 EXISTS");
  script_s (&sc, "* OK [UIDVALIDITY 200] UIDs valid");
  script_s (&sc, "* OK [UIDNEXT 8] Predicted next UID");
  script_ok (&sc, "[READ-WRITE] Select completed");
  script_search (&sc, fresh, 1);
  script_fetch_new (&sc, fresh, 1);
  script_logout (&sc);
  rebuild = script_free (&sc);
  run_sync (f, rebuild);

  g_clear_pointer (&after, g_ptr_array_unref);
  after = inbox_messages (f);
  g_assert_cmpuint (after->len, ==, 1);
  g_assert_cmpuint (td_message_get_uid (g_ptr_array_index (after, 0)), ==, 7);
  g_assert_true (td_store_get_folder_state (f->store, inbox_id (f), &state, NULL));
  g_assert_cmpuint (state.uidvalidity, ==, 200);
}

/* --- (b) keywords the server does not keep --- */

/* The replay's SELECT, read-write, with these PERMANENTFLAGS (NULL: none said) */
static void
script_select_rw (Script     *sc,
                  const char *permanentflags)
{
  script_c (sc, "SELECT \"INBOX\"");
  script_s (sc, "* 2 EXISTS");
  script_s (sc, "* OK [UIDVALIDITY 100] UIDs valid");
  if (permanentflags != NULL)
    script_s (sc, "* OK [PERMANENTFLAGS (%s)] Limited", permanentflags);
  script_ok (sc, "[READ-WRITE] Selected");
}

static void
assert_forwarded_kept (Fixture *f,
                       TdFlags  expected)
{
  g_autoptr(GPtrArray) messages = inbox_messages (f);

  g_assert_cmpuint (td_message_get_flags (find_uid (messages, 1)) & TD_FLAGS_STORED, ==,
                    expected);
  g_assert_cmpuint (td_store_count_journal (f->store, f->account_id), ==, 0);
}

/* PERMANENTFLAGS without "\*": $Forwarded is never sent and stays here. */
static void
test_no_keywords (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *first = first_sync_script (two, G_N_ELEMENTS (two), FALSE);
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  Script sc;

  run_sync (f, first);
  messages = inbox_messages (f);
  change_flags (f, find_uid (messages, 1), TD_FLAG_FORWARDED, 0);
  g_assert_cmpuint (td_store_count_journal (f->store, f->account_id), ==, 1);

  /* the replay selects INBOX and sends no STORE (the script has none), then the sync
   * reads the flags back, without $Forwarded */
  script_init (&sc);
  script_login (&sc, "IMAP4rev1 UIDPLUS");
  script_select_rw (&sc, "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
  script_list_inbox (&sc, FALSE);
  script_examine (&sc, 2, 100, 3, FALSE);
  script_search (&sc, two, 2);
  script_fetch_flags (&sc, two, 2);
  script_logout (&sc);
  second = script_free (&sc);
  run_sync (f, second);
  assert_forwarded_kept (f, TD_FLAG_SEEN | TD_FLAG_FORWARDED);

  /* and again: the server's flags do not take it back, and nothing is sent */
  third = resync_script (two, G_N_ELEMENTS (two), FALSE);
  run_sync (f, third);
  assert_forwarded_kept (f, TD_FLAG_SEEN | TD_FLAG_FORWARDED);
}

/* A server that says nothing of PERMANENTFLAGS but refuses a STORE with $Forwarded: the rest
 * is sent once more without it, and $Forwarded stays here. */
static void
test_store_refused (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *first = first_sync_script (two, G_N_ELEMENTS (two), FALSE);
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  static const Msg answered[] = {
    { 1, "\\Seen \\Answered", MSG (1) },
    { 2, "", MSG (2) },
  };
  Script sc;

  run_sync (f, first);
  messages = inbox_messages (f);
  change_flags (f, find_uid (messages, 1), TD_FLAG_ANSWERED | TD_FLAG_FORWARDED, 0);

  script_init (&sc);
  script_login (&sc, "IMAP4rev1 UIDPLUS");
  script_select_rw (&sc, NULL);
  script_c (&sc, "UID STORE 1 +FLAGS.SILENT (\\Answered $Forwarded)");
  script_s (&sc, "A%u NO [CANNOT] Keywords are not supported", sc.tag);
  script_c (&sc, "UID STORE 1 +FLAGS.SILENT (\\Answered)");
  script_ok (&sc, "Store completed");
  script_list_inbox (&sc, FALSE);
  script_examine (&sc, 2, 100, 3, FALSE);
  script_search (&sc, answered, 2);
  script_fetch_flags (&sc, answered, 2);
  script_logout (&sc);
  second = script_free (&sc);
  run_sync (f, second);
  assert_forwarded_kept (f, TD_FLAG_SEEN | TD_FLAG_ANSWERED | TD_FLAG_FORWARDED);

  /* not sent again, not lost at the next flag sync */
  third = resync_script (answered, G_N_ELEMENTS (answered), FALSE);
  run_sync (f, third);
  assert_forwarded_kept (f, TD_FLAG_SEEN | TD_FLAG_ANSWERED | TD_FLAG_FORWARDED);
}

/* --- (c) news only after a command --- */

typedef struct
{
  guint    count;
  gboolean two;
} Changes;

static void
on_watch_changed (TdImapWatch *watch,
                  gpointer     user_data)
{
  Changes *changes = user_data;

  if (++changes->count >= 2)
    changes->two = TRUE;
}

static void
test_idle_needs_noop (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(TdTestScriptServer) server = NULL;
  g_autoptr(TdAccount) account = NULL;
  g_autoptr(TdImapWatch) watch = NULL;
  g_autofree char *script = NULL;
  Changes changes = { 0, FALSE };
  Script sc;

  script_init (&sc);
  script_login (&sc, "IMAP4rev1 IDLE");
  script_c (&sc, "EXAMINE \"INBOX\"");
  script_s (&sc, "* 1 EXISTS");
  script_s (&sc, "* OK [UIDVALIDITY 5] UIDs valid");
  script_ok (&sc, "[READ-ONLY] Examined");
  script_c (&sc, "IDLE");
  script_s (&sc, "+ idling");
  /* a message arrives now; this server says nothing until it is asked something */
  g_string_append (sc.text, "C: DONE\n");
  script_s (&sc, "A%u OK IDLE terminated", sc.tag);
  script_c (&sc, "NOOP");
  script_s (&sc, "* 2 EXISTS");
  script_ok (&sc, "NOOP completed");
  script_c (&sc, "IDLE");
  script_s (&sc, "+ idling");
  script = script_free (&sc);

  server = td_test_script_server_new_tls (script);
  account = account_for (f, td_test_script_server_get_port (server));
  watch = td_imap_watch_new (account, "INBOX");
  /* renew IDLE (with its NOOP) every second instead of every 5 minutes */
  td_imap_watch_set_poll_interval (watch, 1);
  g_signal_connect (watch, "changed", G_CALLBACK (on_watch_changed), &changes);
  td_imap_watch_start (watch, "secret");

  /* once for connecting, once for the EXISTS the NOOP brought */
  td_test_wait_for (&changes.two, WAIT_MS);
  g_assert_cmpuint (changes.count, ==, 2);
  td_test_script_server_wait_finished (server, 5000);
  td_test_script_server_assert_finished (server);
  g_assert_true (td_imap_watch_get_online (watch));
  td_imap_watch_stop (watch);
}

/* --- (d) broken line endings --- */

static void
test_line_endings (Fixture       *f,
                   gconstpointer  data)
{
  static const Msg broken[] = {
    { 1, "", "From: Carol <carol@example.org>\r\r\nSubject: Doubled CR\r\r\n"
             "Message-ID: <cr-cr-lf@example.org>\r\r\n\r\r\nText after CR CR LF.\r\r\n" },
    { 2, "", "From: Dave <dave@example.org>\rSubject: Bare CR\r"
             "Message-ID: <bare-cr@example.org>\r\rText after bare CR.\r" },
    { 3, "", "From: Erin <erin@example.org>\nSubject: Bare LF\n"
             "Message-ID: <bare-lf@example.org>\n\nText after bare LF.\n" },
    { 4, "", "From: Frank <frank@example.org>\r\nSubject: Mixed\n"
             "Message-ID: <mixed@example.org>\r\r\n\nText after mixed ends.\r\n" },
  };
  static const struct
  {
    const char *from;
    const char *subject;
    const char *text;
  } expected[] = {
    { "carol@example.org", "Doubled CR", "Text after CR CR LF." },
    { "dave@example.org", "Bare CR", "Text after bare CR." },
    { "erin@example.org", "Bare LF", "Text after bare LF." },
    { "frank@example.org", "Mixed", "Text after mixed ends." },
  };
  g_autofree char *script = first_sync_script (broken, G_N_ELEMENTS (broken), FALSE);
  g_autoptr(GPtrArray) messages = NULL;

  run_sync (f, script);
  messages = inbox_messages (f);
  g_assert_cmpuint (messages->len, ==, G_N_ELEMENTS (broken));

  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      TdMessage *message = find_uid (messages, broken[i].uid);
      g_autoptr(GBytes) body = NULL;
      g_autoptr(TdMimeMessage) mime = NULL;
      g_autoptr(GError) error = NULL;
      const TdMimeHeaders *headers;

      g_test_message ("uid %u", broken[i].uid);
      /* the list's columns, from the header fetch */
      g_assert_cmpstr (td_message_get_from_address (message), ==, expected[i].from);
      g_assert_cmpstr (td_message_get_subject (message), ==, expected[i].subject);
      g_assert_true (td_message_get_has_body (message));
      g_assert_nonnull (strstr (td_message_get_preview (message), expected[i].text));

      /* the body as the reader shows it: stored byte for byte, read through the MIME layer */
      body = get_body (f, message);
      g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                       broken[i].raw, strlen (broken[i].raw));
      mime = td_mime_message_new (body, &error);
      g_assert_no_error (error);
      headers = td_mime_message_get_headers (mime);
      g_assert_cmpstr (headers->subject, ==, expected[i].subject);
      g_assert_cmpstr (headers->from_address, ==, expected[i].from);
      g_assert_nonnull (strstr (td_mime_message_get_text (mime), expected[i].text));
      /* the header does not leak into the text */
      g_assert_null (strstr (td_mime_message_get_text (mime), "Subject:"));
    }
}

/* Folders known from an earlier complete sync, each with this state */
static void
seed_folders (Fixture             *f,
              const char * const  *paths,
              const TdFolderState *state)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_folder_spec_free);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; paths[i] != NULL; i++)
    g_ptr_array_add (specs, td_folder_spec_new (paths[i], '/', i == 0 ? TD_FOLDER_ROLE_INBOX
                                                                      : TD_FOLDER_ROLE_NONE,
                                                TRUE));
  td_store_sync_folders_async (f->store, f->account_id, specs, NULL, td_test_store_result,
                               &result);
  td_store_sync_folders_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);
  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr(TdFolder) folder = td_store_find_folder (f->store, f->account_id, paths[i],
                                                         &error);

      g_assert_no_error (error);
      g_clear_object (&result);
      td_store_set_folder_state_async (f->store, td_folder_get_id (folder), state, NULL,
                                       td_test_store_result, &result);
      td_store_set_folder_state_finish (f->store, td_test_wait_result (&result, WAIT_MS),
                                        &error);
      g_assert_no_error (error);
    }
}

/* LIST-STATUS (RFC 5819): a folder whose STATUS matches all that the last complete sync saw
 * is not selected at all; one whose HIGHESTMODSEQ moved is; and one whose UIDVALIDITY differs
 * in STATUS is selected too, where only SELECT's UIDVALIDITY counts (it did not change). */
static void
test_list_status (Fixture       *f,
                  gconstpointer  data)
{
  static const char * const paths[] = { "INBOX", "Lists", "Odd", NULL };
  const TdFolderState state = { .uidvalidity = 7, .uidnext = 5, .highestmodseq = 100 };
  Script sc;
  g_autofree char *script = NULL;

  seed_folders (f, paths, &state);
  script_init (&sc);
  script_login (&sc, "IMAP4rev1 CONDSTORE LIST-EXTENDED LIST-STATUS");
  script_c (&sc, "LIST \"\" \"*\" RETURN (STATUS (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ))");
  script_s (&sc, "* LIST (\\HasNoChildren) \"/\" \"INBOX\"");
  script_s (&sc, "* STATUS \"INBOX\" (MESSAGES 0 UIDNEXT 5 UIDVALIDITY 7 HIGHESTMODSEQ 100)");
  script_s (&sc, "* LIST (\\HasNoChildren) \"/\" \"Lists\"");
  script_s (&sc, "* STATUS \"Lists\" (MESSAGES 0 UIDNEXT 5 UIDVALIDITY 7 HIGHESTMODSEQ 101)");
  script_s (&sc, "* LIST (\\HasNoChildren) \"/\" \"Odd\"");
  script_s (&sc, "* STATUS \"Odd\" (MESSAGES 0 UIDNEXT 5 UIDVALIDITY 8 HIGHESTMODSEQ 100)");
  script_ok (&sc, "List completed");
  /* INBOX: unchanged, not selected */
  script_c (&sc, "SELECT \"Lists\" (CONDSTORE)");
  script_s (&sc, "* 0 EXISTS");
  script_s (&sc, "* OK [UIDVALIDITY 7] UIDs valid");
  script_s (&sc, "* OK [UIDNEXT 5] Predicted next UID");
  script_s (&sc, "* OK [HIGHESTMODSEQ 101] Highest");
  script_ok (&sc, "[READ-WRITE] Select completed");
  script_c (&sc, "SELECT \"Odd\" (CONDSTORE)");
  script_s (&sc, "* 0 EXISTS");
  script_s (&sc, "* OK [UIDVALIDITY 7] UIDs valid");
  script_s (&sc, "* OK [UIDNEXT 5] Predicted next UID");
  script_s (&sc, "* OK [HIGHESTMODSEQ 100] Highest");
  script_ok (&sc, "[READ-WRITE] Select completed");
  script_logout (&sc);
  script = script_free (&sc);
  run_sync (f, script);

  /* the folder whose STATUS said another UIDVALIDITY kept its state */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TdFolder) odd = td_store_find_folder (f->store, f->account_id, "Odd", &error);
    TdFolderState now;

    g_assert_true (td_store_get_folder_state (f->store, td_folder_get_id (odd), &now, &error));
    g_assert_cmpuint (now.uidvalidity, ==, 7);
  }
}

/* --- CONDSTORE and QRESYNC: the commands each path sends --- */

/* LIST of @paths (a NULL-terminated list), without STATUS */
static void
script_list (Script             *sc,
             const char * const *paths)
{
  script_c (sc, "LIST \"\" \"*\"");
  for (guint i = 0; paths[i] != NULL; i++)
    script_s (sc, "* LIST (\\HasNoChildren) \"/\" \"%s\"", paths[i]);
  script_ok (sc, "List completed");
}

/* @command ("SELECT", or "EXAMINE": read-only) of @path with @options (" (CONDSTORE)",
 * " (QRESYNC (...))" or ""); a HIGHESTMODSEQ when not 0. @extra: untagged lines before the
 * OK (QRESYNC's answers), or NULL. */
static void
script_select (Script             *sc,
               const char         *command,
               const char         *path,
               const char         *options,
               guint               exists,
               guint32             uidvalidity,
               guint32             uidnext,
               guint64             highestmodseq,
               const char * const *extra)
{
  script_c (sc, "%s \"%s\"%s", command, path, options);
  script_s (sc, "* %u EXISTS", exists);
  script_s (sc, "* OK [UIDVALIDITY %u] UIDs valid", uidvalidity);
  script_s (sc, "* OK [UIDNEXT %u] Predicted next UID", uidnext);
  if (highestmodseq != 0)
    script_s (sc, "* OK [HIGHESTMODSEQ %" G_GUINT64_FORMAT "] Highest", highestmodseq);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    script_s (sc, "%s", extra[i]);
  script_ok (sc, strcmp (command, "EXAMINE") == 0 ? "[READ-ONLY] Examine completed"
                                                 : "[READ-WRITE] Select completed");
}

#define CONDSTORE_CAPS "IMAP4rev1 CONDSTORE UIDPLUS"
#define QRESYNC_CAPS   "IMAP4rev1 CONDSTORE QRESYNC ENABLE UIDPLUS"

static const char * const inbox_only[] = { "INBOX", NULL };

/* The first sync of an INBOX (UIDVALIDITY 100) with @msgs under CONDSTORE (and QRESYNC,
 * enabled, when @qresync): the headers come with their MODSEQ. */
static char *
first_sync_condstore (const Msg *msgs,
                      guint      n,
                      guint64    highestmodseq,
                      gboolean   qresync)
{
  Script sc;

  script_init (&sc);
  script_login (&sc, qresync ? QRESYNC_CAPS : CONDSTORE_CAPS);
  if (qresync)
    {
      script_c (&sc, "ENABLE QRESYNC");
      script_s (&sc, "* ENABLED QRESYNC");
      script_ok (&sc, "Enabled");
    }
  script_list (&sc, inbox_only);
  /* nothing known yet: no QRESYNC parameters to give */
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", n, 100, msgs[n - 1].uid + 1,
                 highestmodseq, NULL);
  script_search (&sc, msgs, n);
  script_fetch_new_full (&sc, msgs, n, TRUE);
  script_logout (&sc);
  return script_free (&sc);
}

static TdFlags
flags_of (Fixture *f,
          guint32  uid)
{
  g_autoptr(GPtrArray) messages = inbox_messages (f);

  return td_message_get_flags (find_uid (messages, uid)) & TD_FLAGS_STORED;
}

/* A flag change here, while another client changed the same message there: the STORE is
 * conditional (UNCHANGEDSINCE the MODSEQ this change was made on); for what the server
 * reports [MODIFIED], the server's flags are fetched and merged, flag by flag: what the
 * other client changed stays as it made it, the rest of ours is sent without a condition. */
static void
test_unchanged_since (Fixture       *f,
                      gconstpointer  data)
{
  static const Msg msgs[] = {
    { 1, "\\Seen", MSG (1), 10 },
    { 2, "", MSG (2), 10 },
  };
  g_autofree char *first = first_sync_condstore (msgs, G_N_ELEMENTS (msgs), 10, FALSE);
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  Script sc;

  run_sync (f, first);
  messages = inbox_messages (f);
  g_assert_cmpuint (messages->len, ==, 2);

  /* read and flagged here, both in one action (1 was read already) */
  change_flags (f, find_uid (messages, 1), TD_FLAG_SEEN | TD_FLAG_FLAGGED, 0);
  change_flags (f, find_uid (messages, 2), TD_FLAG_SEEN | TD_FLAG_FLAGGED, 0);
  g_assert_cmpuint (td_store_count_journal (f->store, f->account_id), ==, 2);

  /* meanwhile another client marked 1 unread (MODSEQ 12) */
  script_init (&sc);
  script_login (&sc, CONDSTORE_CAPS);
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", 2, 100, 3, 12, NULL);
  script_c (&sc, "UID STORE 1:2 (UNCHANGEDSINCE 10) +FLAGS.SILENT (\\Seen \\Flagged)");
  script_s (&sc, "* 2 FETCH (UID 2 MODSEQ (13))");
  script_ok (&sc, "[MODIFIED 1] Conditional STORE failed");
  /* 1 was left alone: its flags now, and only the flag the other client did not touch */
  script_c (&sc, "UID FETCH 1 (UID FLAGS)");
  script_s (&sc, "* 1 FETCH (UID 1 FLAGS () MODSEQ (12))");
  script_ok (&sc, "Fetch completed");
  script_c (&sc, "UID STORE 1 +FLAGS.SILENT (\\Flagged)");
  script_s (&sc, "* 1 FETCH (UID 1 MODSEQ (14))");
  script_ok (&sc, "Store completed");
  script_list (&sc, inbox_only);
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", 2, 100, 3, 14, NULL);
  script_search (&sc, msgs, 2);
  script_c (&sc, "UID FETCH 1:2 (UID FLAGS) (CHANGEDSINCE 10)");
  script_s (&sc, "* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (14))");
  script_s (&sc, "* 2 FETCH (UID 2 FLAGS (\\Seen \\Flagged) MODSEQ (13))");
  script_ok (&sc, "Fetch completed");
  script_logout (&sc);
  second = script_free (&sc);
  run_sync (f, second);

  g_assert_cmpuint (td_store_count_journal (f->store, f->account_id), ==, 0);
  g_assert_cmpuint (flags_of (f, 1), ==, TD_FLAG_FLAGGED);
  g_assert_cmpuint (flags_of (f, 2), ==, TD_FLAG_SEEN | TD_FLAG_FLAGGED);

  /* the other way: 1 marked unread and unflagged here, while the other client read it
   * (MODSEQ 20): it stays read, and is unflagged */
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = inbox_messages (f);
  change_flags (f, find_uid (messages, 1), 0, TD_FLAG_SEEN | TD_FLAG_FLAGGED);
  script_init (&sc);
  script_login (&sc, CONDSTORE_CAPS);
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", 2, 100, 3, 20, NULL);
  script_c (&sc, "UID STORE 1 (UNCHANGEDSINCE 14) -FLAGS.SILENT (\\Seen \\Flagged)");
  script_ok (&sc, "[MODIFIED 1] Conditional STORE failed");
  script_c (&sc, "UID FETCH 1 (UID FLAGS)");
  script_s (&sc, "* 1 FETCH (UID 1 FLAGS (\\Seen \\Flagged) MODSEQ (20))");
  script_ok (&sc, "Fetch completed");
  script_c (&sc, "UID STORE 1 -FLAGS.SILENT (\\Flagged)");
  script_ok (&sc, "Store completed");
  script_list (&sc, inbox_only);
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", 2, 100, 3, 21, NULL);
  script_search (&sc, msgs, 2);
  script_c (&sc, "UID FETCH 1:2 (UID FLAGS) (CHANGEDSINCE 14)");
  script_s (&sc, "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (21))");
  script_ok (&sc, "Fetch completed");
  script_logout (&sc);
  third = script_free (&sc);
  run_sync (f, third);

  g_assert_cmpuint (td_store_count_journal (f->store, f->account_id), ==, 0);
  g_assert_cmpuint (flags_of (f, 1), ==, TD_FLAG_SEEN);
  g_assert_cmpuint (flags_of (f, 2), ==, TD_FLAG_SEEN | TD_FLAG_FLAGGED);
}

/* One action on messages of different MODSEQs: the STORE is conditional on the lowest, so a
 * change made elsewhere to the message with the lowest (1: 8, marked unread at 9) is seen
 * even though it is below the others' (10). Those reported only for being above it (2 and
 * 4) get our change as it was, in one STORE. */
static void
test_unchanged_since_lowest (Fixture       *f,
                             gconstpointer  data)
{
  static const Msg msgs[] = {
    { 1, "\\Seen", MSG (1), 8 },
    { 2, "", MSG (2), 10 },
    { 3, "", MSG (3), 8 },
    { 4, "", MSG (4), 10 },
  };
  g_autofree char *first = first_sync_condstore (msgs, G_N_ELEMENTS (msgs), 10, FALSE);
  g_autofree char *second = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  Script sc;

  run_sync (f, first);
  messages = inbox_messages (f);
  for (guint i = 0; i < G_N_ELEMENTS (msgs); i++)
    change_flags (f, find_uid (messages, msgs[i].uid), TD_FLAG_SEEN | TD_FLAG_FLAGGED, 0);

  script_init (&sc);
  script_login (&sc, CONDSTORE_CAPS);
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", 4, 100, 5, 10, NULL);
  script_c (&sc, "UID STORE 1:4 (UNCHANGEDSINCE 8) +FLAGS.SILENT (\\Seen \\Flagged)");
  script_s (&sc, "* 3 FETCH (UID 3 MODSEQ (11))");
  script_ok (&sc, "[MODIFIED 1:2,4] Conditional STORE failed");
  script_c (&sc, "UID FETCH 1:2,4 (UID FLAGS)");
  script_s (&sc, "* 1 FETCH (UID 1 FLAGS () MODSEQ (9))");
  script_s (&sc, "* 2 FETCH (UID 2 FLAGS () MODSEQ (10))");
  script_s (&sc, "* 4 FETCH (UID 4 FLAGS () MODSEQ (10))");
  script_ok (&sc, "Fetch completed");
  script_c (&sc, "UID STORE 1 +FLAGS.SILENT (\\Flagged)");
  script_c (&sc, "UID STORE 2,4 +FLAGS.SILENT (\\Seen \\Flagged)");
  script_s (&sc, "A%u OK Store completed", sc.tag - 1);
  script_ok (&sc, "Store completed");
  script_list (&sc, inbox_only);
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", 4, 100, 5, 13, NULL);
  script_search (&sc, msgs, G_N_ELEMENTS (msgs));
  script_c (&sc, "UID FETCH 1:4 (UID FLAGS) (CHANGEDSINCE 10)");
  script_s (&sc, "* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (12))");
  script_s (&sc, "* 2 FETCH (UID 2 FLAGS (\\Seen \\Flagged) MODSEQ (13))");
  script_s (&sc, "* 3 FETCH (UID 3 FLAGS (\\Seen \\Flagged) MODSEQ (11))");
  script_s (&sc, "* 4 FETCH (UID 4 FLAGS (\\Seen \\Flagged) MODSEQ (13))");
  script_ok (&sc, "Fetch completed");
  script_logout (&sc);
  second = script_free (&sc);
  run_sync (f, second);

  g_assert_cmpuint (td_store_count_journal (f->store, f->account_id), ==, 0);
  g_assert_cmpuint (flags_of (f, 1), ==, TD_FLAG_FLAGGED);
  for (guint32 uid = 2; uid <= 4; uid++)
    g_assert_cmpuint (flags_of (f, uid), ==, TD_FLAG_SEEN | TD_FLAG_FLAGGED);
}

/* A keyword set here (tidings-cli flag ID +$Work) on a message another client changed
 * meanwhile: the conditional STORE left the message alone, so the merged STORE carries the
 * keyword too. */
static void
test_unchanged_since_keywords (Fixture       *f,
                               gconstpointer  data)
{
  static const Msg msgs[] = { { 1, "", MSG (1), 10 } };
  g_autofree char *first = first_sync_condstore (msgs, G_N_ELEMENTS (msgs), 10, FALSE);
  g_autofree char *second = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;
  Script sc;

  run_sync (f, first);
  messages = inbox_messages (f);
  id = td_message_get_id (find_uid (messages, 1));
  g_array_append_val (ids, id);
  td_store_change_flags_async (f->store, ids, TD_FLAG_FLAGGED, 0, "$Work", NULL, NULL,
                               td_test_store_result, &result);
  td_store_change_flags_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);

  /* the other client read it meanwhile */
  script_init (&sc);
  script_login (&sc, CONDSTORE_CAPS);
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", 1, 100, 2, 11, NULL);
  script_c (&sc, "UID STORE 1 (UNCHANGEDSINCE 10) +FLAGS.SILENT (\\Flagged $Work)");
  script_ok (&sc, "[MODIFIED 1] Conditional STORE failed");
  script_c (&sc, "UID FETCH 1 (UID FLAGS)");
  script_s (&sc, "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (11))");
  script_ok (&sc, "Fetch completed");
  script_c (&sc, "UID STORE 1 +FLAGS.SILENT (\\Flagged $Work)");
  script_ok (&sc, "Store completed");
  script_list (&sc, inbox_only);
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", 1, 100, 2, 12, NULL);
  script_search (&sc, msgs, 1);
  script_c (&sc, "UID FETCH 1:1 (UID FLAGS) (CHANGEDSINCE 10)");
  script_s (&sc, "* 1 FETCH (UID 1 FLAGS (\\Seen \\Flagged $Work) MODSEQ (12))");
  script_ok (&sc, "Fetch completed");
  script_logout (&sc);
  second = script_free (&sc);
  run_sync (f, second);

  g_assert_cmpuint (td_store_count_journal (f->store, f->account_id), ==, 0);
  g_assert_cmpuint (flags_of (f, 1), ==, TD_FLAG_SEEN | TD_FLAG_FLAGGED);
}

/* --- UIDPLUS: a message moved here gets its new uid from COPYUID --- */

static gint64
folder_id_of (Fixture    *f,
              const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) folder = td_store_find_folder (f->store, f->account_id, path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (folder);
  return td_folder_get_id (folder);
}

/* A message moved here to Archive keeps its row (its id, its body) and takes the uid the
 * server's [COPYUID] names: the next sync of Archive finds it known, and fetches neither
 * its headers nor its body (the script has no FETCH of them). @data: "move" (UID MOVE, the
 * COPYUID untagged before the EXPUNGE) or "copy" (no MOVE: UID COPY with the COPYUID on its
 * tagged OK, then \Deleted and UID EXPUNGE). */
static void
test_copy_uid (Fixture       *f,
               gconstpointer  data)
{
  static const char * const paths[] = { "INBOX", "Archive", NULL };
  static const Msg moved[] = { { 7, "\\Seen", MSG (1) } };
  static const Msg left[] = { { 2, "", MSG (2) } };
  gboolean move = g_strcmp0 (data, "move") == 0;
  const char *caps = move ? "IMAP4rev1 UIDPLUS MOVE" : "IMAP4rev1 UIDPLUS";
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GPtrArray) archived = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  TdMessage *message;
  gint64 id;
  Script sc;

  script_init (&sc);
  script_login (&sc, caps);
  script_list (&sc, paths);
  script_select (&sc, "SELECT", "INBOX", "", 2, 100, 3, 0, NULL);
  script_search (&sc, two, 2);
  script_fetch_new (&sc, two, 2);
  script_select (&sc, "SELECT", "Archive", "", 0, 200, 7, 0, NULL);
  script_logout (&sc);
  first = script_free (&sc);
  run_sync (f, first);

  messages = inbox_messages (f);
  id = td_message_get_id (find_uid (messages, 1));
  g_array_append_val (ids, id);
  td_store_move_messages_async (f->store, ids, folder_id_of (f, "Archive"), FALSE, NULL,
                                td_test_store_result, &result);
  td_store_move_messages_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);

  script_init (&sc);
  script_login (&sc, caps);
  script_select (&sc, "SELECT", "INBOX", "", 2, 100, 3, 0, NULL);
  if (move)
    {
      script_c (&sc, "UID MOVE 1 \"Archive\"");
      script_s (&sc, "* OK [COPYUID 200 1 7] Moved");
      script_s (&sc, "* 1 EXPUNGE");
      script_ok (&sc, "Move completed");
    }
  else
    {
      script_c (&sc, "UID COPY 1 \"Archive\"");
      script_ok (&sc, "[COPYUID 200 1 7] Copy completed");
      script_c (&sc, "UID STORE 1 +FLAGS.SILENT (\\Deleted)");
      script_ok (&sc, "Store completed");
      script_c (&sc, "UID EXPUNGE 1");
      script_s (&sc, "* 1 EXPUNGE");
      script_ok (&sc, "Expunge completed");
    }
  script_list (&sc, paths);
  script_select (&sc, "SELECT", "INBOX", "", 1, 100, 3, 0, NULL);
  script_search (&sc, left, 1);
  script_fetch_flags (&sc, left, 1);
  script_select (&sc, "SELECT", "Archive", "", 1, 200, 8, 0, NULL);
  script_search (&sc, moved, 1);
  script_fetch_flags (&sc, moved, 1);
  script_logout (&sc);
  second = script_free (&sc);
  run_sync (f, second);

  /* the same row, with the server's uid and the body it had */
  g_assert_cmpuint (td_store_count_journal (f->store, f->account_id), ==, 0);
  archived = td_store_page_messages (f->store, folder_id_of (f, "Archive"), 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (archived->len, ==, 1);
  message = g_ptr_array_index (archived, 0);
  g_assert_cmpint (td_message_get_id (message), ==, id);
  g_assert_cmpuint (td_message_get_uid (message), ==, 7);
  g_assert_true (td_message_get_has_body (message));
  body = get_body (f, message);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   two[0].raw, strlen (two[0].raw));
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = inbox_messages (f);
  g_assert_cmpuint (messages->len, ==, 1);
  g_assert_cmpuint (td_message_get_uid (g_ptr_array_index (messages, 0)), ==, 2);
}

/* --- Which path a resync takes --- */

static const Msg three[] = {
  { 1, "", MSG (1), 10 },
  { 2, "", MSG (2), 11 },
  { 3, "", MSG (3), 12 },
};

/* On the server since the first sync: 2 was expunged, 1 read and flagged, 4 arrived. */
static const Msg arrived[] = { { 4, "", MSG (4), 30 } };

static void
assert_resynced (Fixture   *f,
                 GPtrArray *before)
{
  g_autoptr(GPtrArray) after = inbox_messages (f);
  TdFolderState state;

  g_assert_cmpuint (after->len, ==, 3);
  for (guint i = 0; i < after->len; i++)
    g_assert_cmpuint (td_message_get_uid (g_ptr_array_index (after, i)), !=, 2);
  /* the same rows for what was known */
  g_assert_cmpint (td_message_get_id (find_uid (after, 1)), ==,
                   td_message_get_id (find_uid (before, 1)));
  g_assert_cmpint (td_message_get_id (find_uid (after, 3)), ==,
                   td_message_get_id (find_uid (before, 3)));
  g_assert_cmpuint (td_message_get_flags (find_uid (after, 1)) & TD_FLAGS_STORED, ==,
                    TD_FLAG_SEEN | TD_FLAG_FLAGGED);
  g_assert_cmpuint (td_message_get_flags (find_uid (after, 3)) & TD_FLAGS_STORED, ==, 0);
  g_assert_true (td_message_get_has_body (find_uid (after, 4)));
  g_assert_true (td_store_get_folder_state (f->store, inbox_id (f), &state, NULL));
  g_assert_cmpuint (state.uidnext, ==, 5);
  g_assert_cmpuint (state.highestmodseq, ==, 30);
}

/* QRESYNC (RFC 7162 3.2.5): the resync opens the folder with (QRESYNC (uidvalidity
 * highestmodseq)) (EXAMINE: the sync only reads) and takes what is gone from VANISHED
 * (EARLIER) and the changed flags from the FETCHes of that answer: no UID SEARCH ALL, no
 * flag FETCH; only the new uids are searched. */
static void
test_path_qresync (Fixture       *f,
                   gconstpointer  data)
{
  static const char * const changes[] = {
    "* VANISHED (EARLIER) 2",
    "* 1 FETCH (UID 1 FLAGS (\\Seen \\Flagged) MODSEQ (25))",
    NULL
  };
  g_autofree char *first = first_sync_condstore (three, G_N_ELEMENTS (three), 20, TRUE);
  g_autofree char *second = NULL;
  g_autoptr(GPtrArray) before = NULL;
  Script sc;

  run_sync (f, first);
  before = inbox_messages (f);
  g_assert_cmpuint (before->len, ==, 3);

  script_init (&sc);
  script_login (&sc, QRESYNC_CAPS);
  script_c (&sc, "ENABLE QRESYNC");
  script_s (&sc, "* ENABLED QRESYNC");
  script_ok (&sc, "Enabled");
  script_list (&sc, inbox_only);
  script_select (&sc, "EXAMINE", "INBOX", " (QRESYNC (100 20))", 3, 100, 5, 30, changes);
  script_c (&sc, "UID SEARCH UID 4:*");
  script_s (&sc, "* SEARCH 4");
  script_ok (&sc, "Search completed");
  script_fetch_new_full (&sc, arrived, 1, TRUE);
  script_logout (&sc);
  second = script_free (&sc);
  run_sync (f, second);
  assert_resynced (f, before);
}

/* CONDSTORE without QRESYNC (RFC 7162 3.1): the resync lists the uids to see what is gone,
 * and fetches only the flags changed since the last HIGHESTMODSEQ: (CHANGEDSINCE 20). */
static void
test_path_condstore (Fixture       *f,
                     gconstpointer  data)
{
  static const Msg now[] = { { 1, "", NULL }, { 3, "", NULL }, { 4, "", NULL } };
  g_autofree char *first = first_sync_condstore (three, G_N_ELEMENTS (three), 20, FALSE);
  g_autofree char *second = NULL;
  g_autoptr(GPtrArray) before = NULL;
  Script sc;

  run_sync (f, first);
  before = inbox_messages (f);
  g_assert_cmpuint (before->len, ==, 3);

  script_init (&sc);
  script_login (&sc, CONDSTORE_CAPS);
  script_list (&sc, inbox_only);
  script_select (&sc, "SELECT", "INBOX", " (CONDSTORE)", 3, 100, 5, 30, NULL);
  script_search (&sc, now, G_N_ELEMENTS (now));
  script_c (&sc, "UID FETCH 4 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER] MODSEQ)");
  script_fetch_literal (&sc, 3, &arrived[0], TRUE);
  script_ok (&sc, "Fetch completed");
  script_c (&sc, "UID FETCH 1:3 (UID FLAGS) (CHANGEDSINCE 20)");
  script_s (&sc, "* 1 FETCH (UID 1 FLAGS (\\Seen \\Flagged) MODSEQ (25))");
  script_ok (&sc, "Fetch completed");
  script_c (&sc, "UID FETCH 4 (UID BODY.PEEK[])");
  script_fetch_literal (&sc, 3, &arrived[0], FALSE);
  script_ok (&sc, "Fetch completed");
  script_logout (&sc);
  second = script_free (&sc);
  run_sync (f, second);
  assert_resynced (f, before);
}

/* --- A folder renamed on the server while changes to it waited here --- */

/* The replay finds Archive gone, lists the server's folders, opens those the store does not
 * know until one has Archive's UIDVALIDITY, finds each message there by its Message-ID and
 * sends the change; the next change to Archive goes straight to the new name. With @data
 * "bare", the server finds nothing for the Message-ID in its angle brackets (a header
 * without them): it is searched once more without. */
static void
test_renamed_there (Fixture       *f,
                    gconstpointer  data)
{
  static const char * const before[] = { "INBOX", "Archive", NULL };
  static const char * const after[] = { "INBOX", "Other", "Stored", NULL };
  static const Msg stored[] = { { 1, "\\Seen \\Flagged", MSG (1) } };
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;
  Script sc;

  script_init (&sc);
  script_login (&sc, "IMAP4rev1 UIDPLUS");
  script_list (&sc, before);
  script_select (&sc, "SELECT", "INBOX", "", 0, 100, 1, 0, NULL);
  script_select (&sc, "SELECT", "Archive", "", 2, 200, 3, 0, NULL);
  script_search (&sc, two, 2);
  script_fetch_new (&sc, two, 2);
  script_logout (&sc);
  first = script_free (&sc);
  run_sync (f, first);

  messages = td_store_page_messages (f->store, folder_id_of (f, "Archive"), 0, 100, &error);
  g_assert_no_error (error);
  change_flags (f, find_uid (messages, 1), TD_FLAG_FLAGGED, 0);
  id = td_message_get_id (find_uid (messages, 2));
  g_array_append_val (ids, id);
  td_store_expunge_messages_async (f->store, ids, NULL, td_test_store_result, &result);
  td_store_expunge_messages_finish (f->store, td_test_wait_result (&result, WAIT_MS), &error);
  g_assert_no_error (error);

  script_init (&sc);
  script_login (&sc, "IMAP4rev1 UIDPLUS");
  script_c (&sc, "SELECT \"Archive\"");
  script_s (&sc, "A%u NO [NONEXISTENT] Mailbox doesn't exist: Archive", sc.tag);
  script_list (&sc, after);
  script_select (&sc, "SELECT", "Other", "", 0, 300, 1, 0, NULL);
  script_select (&sc, "SELECT", "Stored", "", 2, 200, 3, 0, NULL);
  script_c (&sc, "UID SEARCH HEADER Message-ID \"<1@example.org>\"");
  if (g_strcmp0 (data, "bare") == 0)
    {
      script_s (&sc, "* SEARCH");
      script_ok (&sc, "Search completed");
      script_c (&sc, "UID SEARCH HEADER Message-ID \"1@example.org\"");
    }
  script_s (&sc, "* SEARCH 1");
  script_ok (&sc, "Search completed");
  script_c (&sc, "UID STORE 1 +FLAGS.SILENT (\\Flagged)");
  script_ok (&sc, "Store completed");
  /* the expunge: Stored is selected already */
  script_c (&sc, "UID STORE 2 +FLAGS.SILENT (\\Deleted)");
  script_ok (&sc, "Store completed");
  script_c (&sc, "UID EXPUNGE 2");
  script_s (&sc, "* 2 EXPUNGE");
  script_ok (&sc, "Expunge completed");
  /* the sync: Archive goes here, Stored comes */
  script_list (&sc, after);
  script_select (&sc, "SELECT", "INBOX", "", 0, 100, 1, 0, NULL);
  script_select (&sc, "SELECT", "Other", "", 0, 300, 1, 0, NULL);
  script_select (&sc, "SELECT", "Stored", "", 1, 200, 3, 0, NULL);
  script_search (&sc, stored, 1);
  script_fetch_new (&sc, stored, 1);
  script_logout (&sc);
  second = script_free (&sc);
  run_sync (f, second);

  g_assert_cmpuint (td_store_count_journal (f->store, f->account_id), ==, 0);
  g_assert_null (td_store_find_folder (f->store, f->account_id, "Archive", NULL));
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = td_store_page_messages (f->store, folder_id_of (f, "Stored"), 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 1);
  g_assert_cmpuint (td_message_get_flags (find_uid (messages, 1)) & TD_FLAGS_STORED, ==,
                    TD_FLAG_SEEN | TD_FLAG_FLAGGED);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/imap/quirks/status-uidvalidity", test_status_uidvalidity);
  ADD ("/imap/quirks/no-keywords", test_no_keywords);
  ADD ("/imap/quirks/store-refused", test_store_refused);
  ADD ("/imap/quirks/idle-needs-noop", test_idle_needs_noop);
  ADD ("/imap/quirks/line-endings", test_line_endings);
  ADD ("/imap/quirks/list-status", test_list_status);
  ADD ("/imap/quirks/unchanged-since", test_unchanged_since);
  ADD ("/imap/quirks/unchanged-since-lowest", test_unchanged_since_lowest);
  ADD ("/imap/quirks/unchanged-since-keywords", test_unchanged_since_keywords);
  ADD ("/imap/quirks/path/qresync", test_path_qresync);
  ADD ("/imap/quirks/path/condstore", test_path_condstore);
  ADD ("/imap/quirks/renamed-there", test_renamed_there);
  g_test_add ("/imap/quirks/renamed-there/bare", Fixture, "bare", fixture_setup,
              test_renamed_there, fixture_teardown);
  g_test_add ("/imap/quirks/copy-uid/move", Fixture, "move", fixture_setup, test_copy_uid,
              fixture_teardown);
  g_test_add ("/imap/quirks/copy-uid/copy", Fixture, "copy", fixture_setup, test_copy_uid,
              fixture_teardown);

#undef ADD

  return g_test_run ();
}
