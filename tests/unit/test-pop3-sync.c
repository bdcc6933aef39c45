/* test-pop3-sync.c: TdPop3Sync against scripted servers: a server without UIDL, a mailbox in
 * use, a connection cut in the middle of a download, the RFC 2449/3206 codes and the waits
 * they ask for, and hostile or broken lines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-pop3-sync.h"

#include <string.h>

#include "td-error.h"
#include "td-store-pop3.h"
#include "td-test-script-server.h"
#include "td-test-util.h"

#define WAIT_MS 30000

typedef struct
{
  TdStore   *store;
  TdAccount *account;
  gint64     now;           /* the clock of every check */
  guint      retry_after;   /* of the last check */
  gsize      max_line;      /* the bounds of every check; 0: the defaults */
  gsize      max_multiline;
  char      *received;      /* what the client sent in the last check */
} Fixture;

#define T0 ((gint64) 1800000000)

static gint64
test_clock (gpointer user_data)
{
  Fixture *f = user_data;

  return f->now;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *dir = td_test_make_tempdir ("pop3-sync");
  g_autofree char *path = g_build_filename (dir, "tidings.db", NULL);
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(GAsyncResult) added = NULL;
  g_autoptr(GError) error = NULL;

  f->now = T0;
  f->store = td_store_new (path);
  td_store_open_async (f->store, NULL, td_test_store_result, &opened);
  g_assert_true (td_store_open_finish (f->store, td_test_wait_result (&opened, WAIT_MS), &error));
  f->account = td_account_new (TD_ACCOUNT_KIND_POP3, "alice@example.org", "localhost", 995,
                               TD_SECURITY_TLS, "alice");
  td_account_set_pop3_policy (f->account, TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD);
  td_store_add_account_async (f->store, f->account, NULL, td_test_store_result, &added);
  g_assert_true (td_store_add_account_finish (f->store, td_test_wait_result (&added, WAIT_MS),
                                              &error));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_object (&f->account);
  g_free (f->received);
}

/* One check against @script; FALSE with @error when it failed. */
static gboolean
check (Fixture     *f,
       const char  *script,
       guint        batch_size,
       GError     **error)
{
  g_autoptr(TdTestScriptServer) server = td_test_script_server_new (script);
  g_autoptr(GIOStream) stream = td_test_script_server_connect (server);
  g_autoptr(TdPop3Sync) sync = td_pop3_sync_new (f->store, f->account);
  g_autoptr(GAsyncResult) result = NULL;
  gboolean ok;

  td_pop3_sync_set_stream (sync, stream);
  td_pop3_sync_set_batch_size (sync, batch_size);
  td_pop3_sync_set_clock (sync, test_clock, f);
  if (f->max_line > 0)
    td_pop3_sync_set_limits (sync, f->max_line, f->max_multiline);
  td_pop3_sync_run_async (sync, "secret", NULL, td_test_store_result, &result);
  ok = td_pop3_sync_run_finish (sync, td_test_wait_result (&result, WAIT_MS), error);
  if (!ok)
    g_test_message ("check failed: %s", (*error)->message);
  f->retry_after = td_pop3_sync_get_retry_after (sync);
  g_io_stream_close (stream, NULL, NULL);   /* a check that did not connect left it open */
  td_test_script_server_wait_finished (server, WAIT_MS);
  td_test_script_server_assert_finished (server);
  g_free (f->received);
  f->received = g_strdup (td_test_script_server_get_received (server, NULL));
  return ok;
}

static GPtrArray *
list_uidls (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  td_store_pop3_list_uidls_async (f->store, td_account_get_id (f->account), NULL,
                                  td_test_store_result, &result);
  rows = td_store_pop3_list_uidls_finish (f->store, td_test_wait_result (&result, WAIT_MS),
                                          &error);
  g_assert_no_error (error);
  return rows;
}

static guint
inbox_count (Fixture *f)
{
  g_autoptr(GPtrArray) folders = td_store_list_folders (f->store, td_account_get_id (f->account),
                                                        NULL);

  for (guint i = 0; i < folders->len; i++)
    if (td_folder_get_role (g_ptr_array_index (folders, i)) == TD_FOLDER_ROLE_INBOX)
      return td_store_count_messages (f->store,
                                      td_folder_get_id (g_ptr_array_index (folders, i)));
  g_assert_not_reached ();
}

#define LOGIN_WITH(caps) \
  "S: +OK ready\n" \
  "C: CAPA\n" \
  "S: +OK\n" \
  "S: USER\n" \
  "S: PIPELINING\n" \
  caps \
  "S: .\n" \
  "C: USER alice\n" \
  "S: +OK\n" \
  "C: PASS secret\n" \
  "S: +OK Logged in.\n" \
  "C: CAPA\n" \
  "S: +OK\n" \
  "S: USER\n" \
  "S: PIPELINING\n" \
  caps \
  "S: .\n"
#define LOGIN LOGIN_WITH ("")
#define LOGIN_UIDL LOGIN_WITH ("S: UIDL\n")

/* No UIDL in CAPA: messages are known by a hash of TOP n 0 and their size; identical ones
 * are told apart; the next check downloads nothing again and DELE goes by the hash. */
static void
test_no_uidl (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  const char *tops =
    "C: LIST\n"
    "S: +OK 3 messages\n"
    "S: 1 30\n"
    "S: 2 30\n"
    "S: 3 31\n"
    "S: .\n"
    "C: TOP 1 0\n"
    "C: TOP 2 0\n"
    "C: TOP 3 0\n"
    "S+ +OK\\r\\nSubject: same\\r\\n\\r\\n.\\r\\n\n"
    "S+ +OK\\r\\nSubject: same\\r\\n\\r\\n.\\r\\n\n"
    "S+ +OK\\r\\nSubject: other\\r\\n\\r\\n.\\r\\n\n";
  g_autofree char *first = g_strconcat (LOGIN, tops,
    "C: RETR 1\n"
    "C: RETR 2\n"
    "C: RETR 3\n"
    "S+ +OK\\r\\nSubject: same\\r\\n\\r\\nbody\\r\\n.\\r\\n\n"
    "S+ +OK\\r\\nSubject: same\\r\\n\\r\\nbody\\r\\n.\\r\\n\n"
    "S+ +OK\\r\\nSubject: other\\r\\n\\r\\nbody\\r\\n.\\r\\n\n"
    "C: DELE 1\n"
    "C: DELE 2\n"
    "S: +OK\n"
    "S: -ERR no\n"
    "C: DELE 3\n"
    "S: +OK\n"
    "C: QUIT\n"
    "S: +OK bye\n"
    "C! close\n", NULL);
  g_autofree char *second = g_strconcat (LOGIN,
    "C: LIST\n"
    "S: +OK 1 message\n"
    "S: 1 30\n"
    "S: .\n"
    "C: TOP 1 0\n"
    "S+ +OK\\r\\nSubject: same\\r\\n\\r\\n.\\r\\n\n"
    "C: DELE 1\n"
    "S: +OK\n"
    "C: QUIT\n"
    "S: +OK bye\n"
    "C! close\n", NULL);

  g_assert_true (check (f, first, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (inbox_count (f), ==, 3);
  rows = list_uidls (f);
  g_assert_cmpuint (rows->len, ==, 3);
  for (guint i = 0; i < rows->len; i++)
    g_assert_true (g_str_has_prefix (((TdPop3UidlRow *) g_ptr_array_index (rows, i))->uidl,
                                     "top:"));

  /* the one the server would not delete is still there, and known */
  g_assert_true (check (f, second, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (inbox_count (f), ==, 3);
}

#define REFUSED_WITH(caps, refusal) \
  "S: +OK ready\n" \
  "C: CAPA\n" \
  "S: +OK\n" \
  "S: USER\n" \
  "S: RESP-CODES\n" \
  caps \
  "S: .\n" \
  "C: USER alice\n" \
  "S: +OK\n" \
  "C: PASS secret\n" \
  "S: " refusal "\n" \
  "C! close\n"

/* A check that connects, finds nothing and quits. */
#define EMPTY_CHECK \
  LOGIN_UIDL \
  "C: UIDL\n" \
  "S: +OK\n" \
  "S: .\n" \
  "C: QUIT\n" \
  "S: +OK bye\n" \
  "C! close\n"

/* A check that must not connect: the client closes the stream without a word. */
#define NO_CONNECTION "C! close\n"

static void
get_retry (Fixture *f,
           gint64  *not_before,
           guint   *failures)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_pop3_get_retry_async (f->store, td_account_get_id (f->account), NULL,
                                 td_test_store_result, &result);
  g_assert_true (td_store_pop3_get_retry_finish (f->store, td_test_wait_result (&result, WAIT_MS),
                                                 not_before, failures, &error));
  g_assert_no_error (error);
}

/* [IN-USE]: a clear error to try later, a retry suggested in a minute but not enforced (the
 * user may close the other program and check at once); nothing stored, nothing deleted. */
static void
test_in_use (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *script =
    REFUSED_WITH ("", "-ERR [IN-USE] Mailbox locked by another session");
  gint64 not_before = -1;

  g_assert_false (check (f, script, 8, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
  g_assert_nonnull (strstr (error->message, "in use"));
  g_assert_cmpuint (f->retry_after, ==, TD_POP3_SYNC_IN_USE_RETRY);
  g_assert_cmpuint (inbox_count (f), ==, 0);
  get_retry (f, &not_before, NULL);
  g_assert_cmpint (not_before, ==, 0);
  g_clear_error (&error);

  f->now += 1;
  g_assert_true (check (f, EMPTY_CHECK, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->retry_after, ==, 0);
}

/* [LOGIN-DELAY] with "LOGIN-DELAY 900" in CAPA: no check connects for 900 seconds (not even
 * from another TdPop3Sync, as another process would make), then one does, and its success
 * clears the wait. */
static void
test_login_delay (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *refused =
    REFUSED_WITH ("S: LOGIN-DELAY 900\n", "-ERR [LOGIN-DELAY] wait a while");
  gint64 not_before = 0;
  guint failures = 1;

  g_assert_false (check (f, refused, 8, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
  g_assert_nonnull (strstr (error->message, "wait a while"));
  g_assert_nonnull (strstr (error->message, "15 minutes"));
  g_assert_cmpuint (f->retry_after, ==, 900);
  get_retry (f, &not_before, &failures);
  g_assert_cmpint (not_before, ==, T0 + 900);
  g_assert_cmpuint (failures, ==, 0);
  g_clear_error (&error);

  /* too early: refused here, the server never hears of it */
  f->now = T0 + 899;
  g_assert_false (check (f, NO_CONNECTION, 8, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
  g_assert_nonnull (strstr (error->message, "1 second"));
  g_assert_cmpuint (f->retry_after, ==, 1);
  g_clear_error (&error);

  f->now = T0 + 900;
  g_assert_true (check (f, EMPTY_CHECK, 8, &error));
  g_assert_no_error (error);
  get_retry (f, &not_before, NULL);
  g_assert_cmpint (not_before, ==, 0);
}

/* [LOGIN-DELAY] without a LOGIN-DELAY in CAPA waits the default; a server that announces
 * LOGIN-DELAY (here after logging in) gets no check sooner after a successful one either. */
static void
test_login_delay_announced (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *refused = REFUSED_WITH ("", "-ERR [LOGIN-DELAY] too soon");
  const char *announced =
    LOGIN_WITH ("S: UIDL\nS: LOGIN-DELAY 300 USER\n")
    "C: UIDL\n"
    "S: +OK\n"
    "S: .\n"
    "C: QUIT\n"
    "S: +OK bye\n"
    "C! close\n";

  g_assert_false (check (f, refused, 8, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
  g_assert_cmpuint (f->retry_after, ==, TD_POP3_SYNC_LOGIN_DELAY_DEFAULT);
  g_clear_error (&error);

  f->now = T0 + TD_POP3_SYNC_LOGIN_DELAY_DEFAULT;
  g_assert_true (check (f, announced, 8, &error));
  g_assert_no_error (error);

  f->now += 10;
  g_assert_false (check (f, NO_CONNECTION, 8, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
  g_assert_cmpuint (f->retry_after, ==, 290);
  g_clear_error (&error);

  f->now += 290;
  g_assert_true (check (f, EMPTY_CHECK, 8, &error));
  g_assert_no_error (error);
}

/* [SYS/TEMP]: 1, then 2, then 4 minutes after each one in a row; none of the checks in
 * between connects; a success resets the count. */
static void
test_sys_temp (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *refused = REFUSED_WITH ("", "-ERR [SYS/TEMP] disk trouble");
  const guint waits[] = { 60, 120, 240 };
  gint64 not_before = 0;
  guint failures = 0;

  for (guint i = 0; i < G_N_ELEMENTS (waits); i++)
    {
      g_assert_false (check (f, refused, 8, &error));
      g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
      g_assert_nonnull (strstr (error->message, "disk trouble"));
      g_assert_cmpuint (f->retry_after, ==, waits[i]);
      get_retry (f, &not_before, &failures);
      g_assert_cmpint (not_before, ==, f->now + waits[i]);
      g_assert_cmpuint (failures, ==, i + 1);
      g_clear_error (&error);

      f->now += waits[i] - 1;
      g_assert_false (check (f, NO_CONNECTION, 8, &error));
      g_assert_error (error, TD_ERROR, TD_ERROR_TRY_LATER);
      g_assert_nonnull (strstr (error->message, "temporary problem"));
      g_clear_error (&error);
      f->now += 1;
    }

  g_assert_true (check (f, EMPTY_CHECK, 8, &error));
  g_assert_no_error (error);
  get_retry (f, &not_before, &failures);
  g_assert_cmpint (not_before, ==, 0);
  g_assert_cmpuint (failures, ==, 0);

  g_assert_false (check (f, refused, 8, &error));
  g_assert_cmpuint (f->retry_after, ==, 60);
}

/* [AUTH] and [SYS/PERM]: no retry suggested and none blocked: they need the user. */
static void
test_no_retry (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 not_before = -1;

  g_assert_false (check (f, REFUSED_WITH ("", "-ERR [AUTH] wrong password"), 8, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_AUTH);
  g_assert_cmpuint (f->retry_after, ==, 0);
  g_clear_error (&error);

  g_assert_false (check (f, REFUSED_WITH ("", "-ERR [SYS/PERM] account disabled"), 8, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_PERMANENT);
  g_assert_nonnull (strstr (error->message, "account disabled"));
  g_assert_cmpuint (f->retry_after, ==, 0);
  get_retry (f, &not_before, NULL);
  g_assert_cmpint (not_before, ==, 0);
  g_clear_error (&error);

  g_assert_true (check (f, EMPTY_CHECK, 8, &error));
  g_assert_no_error (error);
}

/* The connection is cut in the middle of the second batch: what arrived whole is stored, no
 * DELE was sent (no QUIT either), and the next check downloads only the rest. */
static void
test_cut (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *uidl =
    "C: UIDL\n"
    "S: +OK\n"
    "S: 1 a\n"
    "S: 2 b\n"
    "S: 3 c\n"
    "S: .\n";
  g_autofree char *first = g_strconcat (LOGIN_UIDL, uidl,
    "C: RETR 1\n"
    "C: RETR 2\n"
    "S+ +OK\\r\\nSubject: a\\r\\n\\r\\none\\r\\n.\\r\\n\n"
    "S+ +OK\\r\\nSubject: b\\r\\n\\r\\ntwo\\r\\n.\\r\\n\n"
    "C: RETR 3\n"
    "S+ +OK\\r\\nSubject: c\\r\\n\\r\\nonly a part of thr\n"
    "S! close\n", NULL);
  g_autofree char *second = g_strconcat (LOGIN_UIDL, uidl,
    "C: RETR 3\n"
    "S+ +OK\\r\\nSubject: c\\r\\n\\r\\nthree\\r\\n.\\r\\n\n"
    "C: DELE 1\n"
    "C: DELE 2\n"
    "C: DELE 3\n"
    "S: +OK\n"
    "S: +OK\n"
    "S: +OK\n"
    "C: QUIT\n"
    "S: +OK bye\n"
    "C! close\n", NULL);
  g_autoptr(GPtrArray) rows = NULL;

  g_assert_false (check (f, first, 2, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_clear_error (&error);
  g_assert_cmpuint (inbox_count (f), ==, 2);

  g_assert_true (check (f, second, 2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (inbox_count (f), ==, 3);
  rows = list_uidls (f);
  g_assert_cmpuint (rows->len, ==, 3);
  for (guint i = 0; i < rows->len; i++)
    g_assert_cmpint (((TdPop3UidlRow *) g_ptr_array_index (rows, i))->deleted_from_server, >, 0);
}

/* --- Hostile and broken servers: a clear error, and the store stays whole --- */

static void
check_integrity (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_check_integrity_async (f->store, NULL, td_test_store_result, &result);
  g_assert_true (td_store_check_integrity_finish (f->store, td_test_wait_result (&result, WAIT_MS),
                                                  &error));
  g_assert_no_error (error);
}

/* A failed check: @code, nothing stored beyond @stored messages, no DELE sent, the store
 * whole. */
static void
assert_failed_safely (Fixture      *f,
                      const GError *error,
                      gint          code,
                      guint         stored)
{
  g_autoptr(GPtrArray) rows = list_uidls (f);

  g_assert_error ((GError *) error, TD_ERROR, code);
  g_assert_cmpstr (error->message, !=, "");
  g_assert_cmpuint (inbox_count (f), ==, stored);
  g_assert_cmpuint (rows->len, ==, stored);
  g_assert_null (strstr (f->received, "DELE"));
  g_assert_null (strstr (f->received, "QUIT"));
  check_integrity (f);
}

#define UIDL_ABC \
  "C: UIDL\n" \
  "S: +OK\n" \
  "S: 1 a\n" \
  "S: 2 b\n" \
  "S: 3 c\n" \
  "S: .\n"

/* The second check of the cases below: a good server; all three come, then DELE. */
#define GOOD_RETR_AFTER_A \
  LOGIN_UIDL UIDL_ABC \
  "C: RETR 2\n" \
  "C: RETR 3\n" \
  "S+ +OK\\r\\nSubject: b\\r\\n\\r\\ntwo\\r\\n.\\r\\n\n" \
  "S+ +OK\\r\\nSubject: c\\r\\n\\r\\nthree\\r\\n.\\r\\n\n" \
  "C: DELE 1\n" \
  "C: DELE 2\n" \
  "C: DELE 3\n" \
  "S: +OK\n" \
  "S: +OK\n" \
  "S: +OK\n" \
  "C: QUIT\n" \
  "S: +OK bye\n" \
  "C! close\n"

/* A status line that is neither +OK nor -ERR: as a greeting (not a POP3 server), and in the
 * middle of a batch of RETR, where the message that came whole before it is kept and
 * nothing is deleted; the next check against a good server completes. */
static void
test_bad_status (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *imap = "S: * OK [CAPABILITY IMAP4rev1] Dovecot ready.\nC! close\n";
  g_autofree char *mid = g_strconcat (LOGIN_UIDL, UIDL_ABC,
    "C: RETR 1\n"
    "C: RETR 2\n"
    "C: RETR 3\n"
    "S+ +OK\\r\\nSubject: a\\r\\n\\r\\none\\r\\n.\\r\\n\n"
    "S: OK here it comes\n"
    "C! close\n", NULL);

  g_assert_false (check (f, imap, 8, &error));
  assert_failed_safely (f, error, TD_ERROR_PARSE, 0);
  g_test_message ("not POP3: %s", error->message);
  g_clear_error (&error);

  g_assert_false (check (f, mid, 8, &error));
  assert_failed_safely (f, error, TD_ERROR_PARSE, 1);
  g_clear_error (&error);

  g_assert_true (check (f, GOOD_RETR_AFTER_A, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (inbox_count (f), ==, 3);
  check_integrity (f);
}

/* RETR refused for one message of a batch (another client took it meanwhile): the others
 * are stored, and DELE goes only to what is stored here. */
static void
test_retr_refused (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *script = g_strconcat (LOGIN_UIDL, UIDL_ABC,
    "C: RETR 1\n"
    "C: RETR 2\n"
    "C: RETR 3\n"
    "S+ +OK\\r\\nSubject: a\\r\\n\\r\\none\\r\\n.\\r\\n\n"
    "S: -ERR [SYS/TEMP] no such message right now\n"
    "S+ +OK\\r\\nSubject: c\\r\\n\\r\\nthree\\r\\n.\\r\\n\n"
    "C: DELE 1\n"
    "C: DELE 3\n"
    "S: +OK\n"
    "S: +OK\n"
    "C: QUIT\n"
    "S: +OK bye\n"
    "C! close\n", NULL);

  g_assert_true (check (f, script, 8, &error));
  g_assert_no_error (error);
  g_assert_null (strstr (f->received, "DELE 2"));
  g_assert_cmpuint (inbox_count (f), ==, 2);
  rows = list_uidls (f);
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpstr (((TdPop3UidlRow *) g_ptr_array_index (rows, 0))->uidl, ==, "a");
  g_assert_cmpstr (((TdPop3UidlRow *) g_ptr_array_index (rows, 1))->uidl, ==, "c");
  check_integrity (f);
}

/* A line over the bound: in the UIDL listing nothing is downloaded; inside a message the
 * ones before it are kept; either way no DELE. */
static void
test_long_line (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *long_uid = g_strnfill (300, 'u');
  g_autofree char *long_text = g_strnfill (300, 'x');
  g_autofree char *in_uidl = g_strconcat (LOGIN_UIDL,
    "C: UIDL\n"
    "S: +OK\n"
    "S: 1 a\n"
    "S: 2 ", long_uid, "\n"
    "C! close\n", NULL);
  g_autofree char *in_message = g_strconcat (LOGIN_UIDL, UIDL_ABC,
    "C: RETR 1\n"
    "C: RETR 2\n"
    "C: RETR 3\n"
    "S+ +OK\\r\\nSubject: a\\r\\n\\r\\none\\r\\n.\\r\\n\n"
    "S+ +OK\\r\\nSubject: b\\r\\n\\r\\n", long_text, "\n"
    "C! close\n", NULL);

  f->max_line = 256;
  f->max_multiline = 64 * 1024;
  g_assert_false (check (f, in_uidl, 8, &error));
  assert_failed_safely (f, error, TD_ERROR_LIMIT, 0);
  g_clear_error (&error);

  g_assert_false (check (f, in_message, 8, &error));
  assert_failed_safely (f, error, TD_ERROR_LIMIT, 1);
  g_clear_error (&error);

  g_assert_true (check (f, GOOD_RETR_AFTER_A, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (inbox_count (f), ==, 3);
}

/* A multi-line answer that does not end: one that goes on past its bound, and ones the
 * connection cuts before their "." (a listing; a message cut at the end of a line, which
 * looks complete but is not). */
static void
test_unended (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) endless = g_string_new ("S+ +OK\\r\\nSubject: endless\\r\\n\\r\\n");
  g_autofree char *past_bound = NULL;
  g_autofree char *listing_cut = g_strconcat (LOGIN_UIDL,
    "C: UIDL\n"
    "S: +OK\n"
    "S: 1 a\n"
    "S: 2 b\n"
    "S! close\n", NULL);
  g_autofree char *message_cut = g_strconcat (LOGIN_UIDL, UIDL_ABC,
    "C: RETR 1\n"
    "C: RETR 2\n"
    "C: RETR 3\n"
    "S+ +OK\\r\\nSubject: a\\r\\n\\r\\none\\r\\n.\\r\\n\n"
    "S+ +OK\\r\\nSubject: b\\r\\n\\r\\ntwo\\r\\n\n"
    "S! close\n", NULL);

  for (guint i = 0; i < 200; i++)
    g_string_append (endless, "more and more and more\\r\\n");
  past_bound = g_strconcat (LOGIN_UIDL, UIDL_ABC,
                            "C: RETR 1\n"
                            "C: RETR 2\n"
                            "C: RETR 3\n",
                            endless->str, "\n"
                            "C! close\n", NULL);

  f->max_line = 1024;
  f->max_multiline = 4096;
  g_assert_false (check (f, past_bound, 8, &error));
  assert_failed_safely (f, error, TD_ERROR_LIMIT, 0);
  g_clear_error (&error);

  g_assert_false (check (f, listing_cut, 8, &error));
  g_assert_null (strstr (f->received, "RETR"));
  assert_failed_safely (f, error, TD_ERROR_CONNECTION, 0);
  g_clear_error (&error);

  g_assert_false (check (f, message_cut, 8, &error));
  assert_failed_safely (f, error, TD_ERROR_CONNECTION, 1);
  g_clear_error (&error);

  g_assert_true (check (f, GOOD_RETR_AFTER_A, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (inbox_count (f), ==, 3);
}

/* Garbage in UIDL and LIST lines: a clear error, nothing downloaded, nothing deleted. A
 * number listed twice would pair a message with another's unique-id (and a later DELE
 * with a message never stored here): refused too. */
static void
test_garbage_listing (Fixture       *f,
                      gconstpointer  data)
{
  const char *uidl_lines[] = {
    "S: x a\n",                 /* no number */
    "S: 1\n",                   /* no unique-id */
    "S: 0 a\n",                 /* message 0 */
    "S: -1 a\n",
    "S: 99999999999 a\n",       /* beyond 32 bits */
    "S: 1 a\\001b\n",           /* a control character (S: sends it as is) */
    "S: 1 a\nS: 1 b\n",         /* one number twice */
  };
  const char *list_lines[] = {
    "S: 1 big\n",
    "S: 1\n",
    "S: 0 30\n",
    "S: 1 30\nS: 1 31\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (uidl_lines); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *line = g_strcompress (uidl_lines[i]);
      g_autofree char *script = g_strconcat (LOGIN_UIDL,
                                             "C: UIDL\n"
                                             "S: +OK\n", line,
                                             "S: .\n"
                                             "C! close\n", NULL);

      g_test_message ("UIDL line %s", uidl_lines[i]);
      g_assert_false (check (f, script, 8, &error));
      g_assert_null (strstr (f->received, "RETR"));
      assert_failed_safely (f, error, TD_ERROR_PARSE, 0);
    }
  for (guint i = 0; i < G_N_ELEMENTS (list_lines); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *script = g_strconcat (LOGIN,
                                             "C: LIST\n"
                                             "S: +OK\n", list_lines[i],
                                             "S: .\n"
                                             "C! close\n", NULL);

      g_test_message ("LIST line %s", list_lines[i]);
      g_assert_false (check (f, script, 8, &error));
      g_assert_null (strstr (f->received, "TOP"));
      assert_failed_safely (f, error, TD_ERROR_PARSE, 0);
    }
}

/* RETR gives more (or fewer) bytes than LIST said: the message is what RETR gave, stored
 * whole with its real size; the next check knows it (by the hash of TOP and LIST's size). */
static void
test_size_differs (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GPtrArray) page = NULL;
  const char *listing =
    "C: LIST\n"
    "S: +OK 2 messages\n"
    "S: 1 10\n"
    "S: 2 5000\n"
    "S: .\n"
    "C: TOP 1 0\n"
    "C: TOP 2 0\n"
    "S+ +OK\\r\\nSubject: bigger\\r\\n\\r\\n.\\r\\n\n"
    "S+ +OK\\r\\nSubject: smaller\\r\\n\\r\\n.\\r\\n\n";
  g_autofree char *first = g_strconcat (LOGIN, listing,
    "C: RETR 1\n"
    "C: RETR 2\n"
    "S+ +OK\\r\\nSubject: bigger\\r\\n\\r\\nfar more than ten bytes of text\\r\\n.\\r\\n\n"
    "S+ +OK\\r\\nSubject: smaller\\r\\n\\r\\nshort\\r\\n.\\r\\n\n"
    "C: DELE 1\n"
    "C: DELE 2\n"
    "S: -ERR not now\n"
    "S: -ERR not now\n"
    "C: QUIT\n"
    "S: +OK bye\n"
    "C! close\n", NULL);
  g_autofree char *second = g_strconcat (LOGIN, listing,
    "C: DELE 1\n"
    "C: DELE 2\n"
    "S: +OK\n"
    "S: +OK\n"
    "C: QUIT\n"
    "S: +OK bye\n"
    "C! close\n", NULL);
  guint64 sizes = 0;

  g_assert_true (check (f, first, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (inbox_count (f), ==, 2);
  folders = td_store_list_folders (f->store, td_account_get_id (f->account), NULL);
  for (guint i = 0; i < folders->len; i++)
    if (td_folder_get_role (g_ptr_array_index (folders, i)) == TD_FOLDER_ROLE_INBOX)
      page = td_store_page_messages (f->store, td_folder_get_id (g_ptr_array_index (folders, i)),
                                     0, 10, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < page->len; i++)
    {
      TdMessage *message = g_ptr_array_index (page, i);

      if (g_strcmp0 (td_message_get_subject (message), "bigger") == 0)
        g_assert_cmpuint (td_message_get_size (message), ==,
                          strlen ("Subject: bigger\r\n\r\nfar more than ten bytes of text\r\n"));
      else
        g_assert_cmpuint (td_message_get_size (message), ==,
                          strlen ("Subject: smaller\r\n\r\nshort\r\n"));
      sizes += td_message_get_size (message);
    }
  g_assert_cmpuint (sizes, >, 0);

  g_assert_true (check (f, second, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (inbox_count (f), ==, 2);
  check_integrity (f);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/pop3/sync/no-uidl", test_no_uidl);
  ADD ("/pop3/sync/in-use", test_in_use);
  ADD ("/pop3/sync/login-delay", test_login_delay);
  ADD ("/pop3/sync/login-delay-announced", test_login_delay_announced);
  ADD ("/pop3/sync/sys-temp", test_sys_temp);
  ADD ("/pop3/sync/no-retry", test_no_retry);
  ADD ("/pop3/sync/cut", test_cut);
  ADD ("/pop3/sync/bad-status", test_bad_status);
  ADD ("/pop3/sync/retr-refused", test_retr_refused);
  ADD ("/pop3/sync/long-line", test_long_line);
  ADD ("/pop3/sync/unended", test_unended);
  ADD ("/pop3/sync/garbage-listing", test_garbage_listing);
  ADD ("/pop3/sync/size-differs", test_size_differs);
#undef ADD

  return g_test_run ();
}
