/* test-cli.c: tidings-cli as a user runs it, against a real Dovecot and a real keyring
 *
 * Runs under tests/integration/keyring-session.sh (a private D-Bus with gnome-keyring).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>

#include "td-error.h"
#include "td-store.h"
#include "td-test-dovecot.h"
#include "td-test-store.h"
#include "td-test-util.h"

static TdTestDovecot *server;

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static char *
cli_path (void)
{
  return g_build_filename (g_getenv ("TD_BUILD_ROOT"), "src", "cli", "tidings-cli", NULL);
}

/* Runs tidings-cli --profile PROFILE ARGS... with @input on stdin. */
static void
run_cli (Run         *run,
         const char  *profile,
         const char  *input,
         const char  *first,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  va_list ap;

  g_ptr_array_add (args, cli_path ());
  g_ptr_array_add (args, g_strdup ("--profile"));
  g_ptr_array_add (args, g_strdup (profile));
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (args, NULL);

  proc = g_subprocess_newv ((const char * const *) args->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                            G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, input != NULL ? input : "", NULL, &run->out, &run->err,
                                 &error);
  g_assert_no_error (error);
  run->status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  g_test_message ("tidings-cli %s → %d\nstdout: %s\nstderr: %s", first, run->status, run->out,
                  run->err);
}

static char *
new_profile (void)
{
  return td_test_make_tempdir ("profile");
}

static char *
port_string (const char *service)
{
  return g_strdup_printf ("%u", td_test_dovecot_get_port (server, service));
}

/* Adds alice's IMAPS account with the pinned fingerprint; returns its id. */
static char *
add_alice (const char *profile)
{
  g_auto(Run) run = { 0 };
  g_autofree char *port = port_string ("imaps");

  run_cli (&run, profile, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--name", "Alice",
           "--password-stdin", "--trust-fingerprint", td_test_dovecot_get_fingerprint (server),
           NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_strstrip (run.out);
  g_assert_cmpint (g_ascii_strtoll (run.out, NULL, 10), >, 0);
  return g_strdup (run.out);
}

static gboolean
file_contains (const char   *path,
               const char   *needle)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return FALSE;
  return memmem (contents, len, needle, strlen (needle)) != NULL;
}

static void
assert_no_file_contains (const char *dir_path,
                         const char *needle)
{
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir_path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        assert_no_file_contains (child, needle);
      else if (file_contains (child, needle))
        g_error ("%s contains the password", child);
    }
}

static void
test_add_untrusted (void)
{
  g_autofree char *profile = new_profile ();
  g_autofree char *port = port_string ("imaps");
  g_auto(Run) run = { 0 };
  g_auto(Run) list = { 0 };

  run_cli (&run, profile, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, td_test_dovecot_get_fingerprint (server)));
  g_assert_nonnull (strstr (run.err, "--trust-fingerprint"));

  run_cli (&list, profile, NULL, "account", "list", NULL);
  g_assert_cmpint (list.status, ==, 0);
  g_assert_cmpstr (list.out, ==, "");
}

static void
test_add_wrong_password (void)
{
  g_autofree char *profile = new_profile ();
  g_autofree char *port = port_string ("imaps");
  g_auto(Run) run = { 0 };

  run_cli (&run, profile, "wrong\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (server), NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_true (strlen (run.err) > 0);
}

static void
test_usage_errors (void)
{
  g_autofree char *profile = new_profile ();
  g_auto(Run) a = { 0 };
  g_auto(Run) b = { 0 };
  g_auto(Run) c = { 0 };
  g_auto(Run) help = { 0 };

  run_cli (&a, profile, NULL, "frobnicate", NULL);
  g_assert_cmpint (a.status, ==, 2);
  run_cli (&b, profile, NULL, "account", "add", "imap", "--host", "x", NULL);
  g_assert_cmpint (b.status, ==, 2);
  run_cli (&c, profile, NULL, "show", "not-a-number", NULL);
  g_assert_cmpint (c.status, ==, 2);
  run_cli (&help, profile, NULL, "--help", NULL);
  g_assert_cmpint (help.status, ==, 0);
  g_assert_nonnull (strstr (help.out, "account add imap"));
  g_assert_nonnull (strstr (help.out, "--trust-fingerprint"));
}

static void
test_sync_and_read (void)
{
  g_autofree char *profile = new_profile ();
  g_autofree char *id = add_alice (profile);
  g_autofree char *msg_id = NULL;
  g_auto(Run) list = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) folders = { 0 };
  g_auto(Run) ls = { 0 };
  g_auto(Run) show = { 0 };
  g_auto(Run) search = { 0 };
  g_auto(Run) hostile = { 0 };
  g_auto(Run) nothing = { 0 };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) fields = NULL;
  g_auto(GStrv) found = NULL;

  run_cli (&list, profile, NULL, "account", "list", NULL);
  g_assert_cmpint (list.status, ==, 0);
  g_assert_nonnull (strstr (list.out, "alice@localhost"));
  g_assert_true (g_str_has_prefix (list.out, id));

  /* The password is in the keyring, and in no file of the profile. */
  assert_no_file_contains (profile, "secret");

  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);
  g_assert_nonnull (strstr (sync.out, "Alice"));

  run_cli (&folders, profile, NULL, "folders", NULL);
  g_assert_cmpint (folders.status, ==, 0);
  g_assert_nonnull (strstr (folders.out, "INBOX\tinbox\t12\t12\n"));
  g_assert_nonnull (strstr (folders.out, "Sent\tsent\t3\t3\n"));

  run_cli (&ls, profile, NULL, "ls", "INBOX", "--limit", "5", NULL);
  g_assert_cmpint (ls.status, ==, 0);
  lines = g_strsplit (g_strstrip (ls.out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  fields = g_strsplit (lines[0], "\t", -1);
  g_assert_cmpuint (g_strv_length (fields), ==, 5);
  msg_id = g_strdup (fields[0]);
  g_assert_true (g_str_has_prefix (fields[3], "CLI message"));

  run_cli (&show, profile, NULL, "show", msg_id, NULL);
  g_assert_cmpint (show.status, ==, 0);
  g_assert_nonnull (strstr (show.out, "Subject: CLI message"));
  g_assert_nonnull (strstr (show.out, "From: "));

  run_cli (&search, profile, NULL, "search", "CLI", "sent", NULL);
  g_assert_cmpint (search.status, ==, 0);
  found = g_strsplit (g_strstrip (search.out), "\n", -1);
  g_assert_cmpuint (g_strv_length (found), ==, 3);
  g_assert_nonnull (strstr (found[0], "CLI sent"));

  run_cli (&hostile, profile, NULL, "search", "\"(AND", "NOT*", "OR", NULL);
  g_assert_cmpint (hostile.status, ==, 0);
  run_cli (&nothing, profile, NULL, "search", "zzzunfindable", NULL);
  g_assert_cmpint (nothing.status, ==, 0);
  g_assert_cmpstr (nothing.out, ==, "");
}

static void
test_offline (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *profile = new_profile ();
  g_autofree char *port = NULL;
  g_auto(Run) add = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) offline = { 0 };
  g_auto(Run) ls = { 0 };
  g_auto(Run) show = { 0 };
  g_auto(GStrv) lines = NULL;

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "Offline message", 6, &error);
  g_assert_no_error (error);
  port = g_strdup_printf ("%u", td_test_dovecot_get_port (own, "imaps"));

  run_cli (&add, profile, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (own), NULL);
  g_assert_cmpint (add.status, ==, 0);
  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);

  td_test_dovecot_stop (own);

  run_cli (&offline, profile, NULL, "sync", NULL);
  g_assert_cmpint (offline.status, ==, 1);
  g_assert_nonnull (strstr (offline.err, "localhost"));

  run_cli (&ls, profile, NULL, "ls", "INBOX", NULL);
  g_assert_cmpint (ls.status, ==, 0);
  lines = g_strsplit (g_strstrip (ls.out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 6);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(Run) one = { 0 };
      g_auto(GStrv) fields = g_strsplit (lines[i], "\t", -1);

      run_cli (&one, profile, NULL, "show", fields[0], NULL);
      g_assert_cmpint (one.status, ==, 0);
      g_assert_nonnull (strstr (one.out, "Offline message"));
    }
}

/* "sync" on @profile, killed after @delay_ms; the store it leaves opens and passes
 * integrity_check. */
static void
kill_sync_and_check (const char *cli,
                     const char *profile,
                     guint       delay_ms)
{
  g_autofree char *db_path = g_build_filename (profile, "tidings.db", NULL);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(TdStore) store = NULL;
  g_autoptr(GAsyncResult) checked = NULL;
  g_autoptr(GError) error = NULL;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                           &error, cli, "--profile", profile, "sync", NULL);
  g_assert_no_error (error);
  g_usleep (delay_ms * 1000);
  g_subprocess_send_signal (proc, SIGKILL);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);

  store = td_test_store_open (db_path, 30000);
  td_store_check_integrity_async (store, NULL, td_test_store_result, &checked);
  td_store_check_integrity_finish (store, td_test_wait_result (&checked, 30000), &error);
  g_assert_no_error (error);
  td_store_close (store);
}

/* ARCHITECTURE invariant 2: a sync killed at any instant leaves a store that opens, passes
 * integrity_check, and after the next sync holds every message exactly once. */
static void
test_killed_sync (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *profile = new_profile ();
  g_autofree char *port = NULL;
  g_autofree char *cli = cli_path ();
  g_auto(Run) add = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) folders = { 0 };
  GRand *rand = g_rand_new_with_seed (4242);

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "Crash message", 600, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "Archive", "Crash archive", 200, &error);
  g_assert_no_error (error);
  port = g_strdup_printf ("%u", td_test_dovecot_get_port (own, "imaps"));

  run_cli (&add, profile, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (own), NULL);
  g_assert_cmpint (add.status, ==, 0);

  for (guint round = 0; round < 6; round++)
    {
      guint delay_ms = g_rand_int_range (rand, 50, 900);

      kill_sync_and_check (cli, profile, delay_ms);
    }
  g_rand_free (rand);

  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);
  run_cli (&folders, profile, NULL, "folders", NULL);
  g_assert_nonnull (strstr (folders.out, "INBOX\tinbox\t600\t600\n"));
  g_assert_nonnull (strstr (folders.out, "Archive\tarchive\t200\t200\n"));
}

/* --- POP3 --- */

static void
add_pop3 (const char    *profile,
          TdTestDovecot *own,
          const char    *policy,
          ...) G_GNUC_NULL_TERMINATED;

/* Adds alice's POP3 account (POP3S, pinned) with the given policy flags. */
static void
add_pop3 (const char    *profile,
          TdTestDovecot *own,
          const char    *policy,
          ...)
{
  g_auto(Run) run = { 0 };
  g_autofree char *port = g_strdup_printf ("%u", td_test_dovecot_get_port (own, "pop3s"));
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cli = cli_path ();
  va_list ap;

  g_ptr_array_add (args, cli);
  g_ptr_array_add (args, (gpointer) "--profile");
  g_ptr_array_add (args, (gpointer) profile);
  g_ptr_array_add (args, (gpointer) "account");
  g_ptr_array_add (args, (gpointer) "add");
  g_ptr_array_add (args, (gpointer) "pop3");
  g_ptr_array_add (args, (gpointer) "--address");
  g_ptr_array_add (args, (gpointer) "alice@localhost");
  g_ptr_array_add (args, (gpointer) "--host");
  g_ptr_array_add (args, (gpointer) "localhost");
  g_ptr_array_add (args, (gpointer) "--port");
  g_ptr_array_add (args, port);
  g_ptr_array_add (args, (gpointer) "--user");
  g_ptr_array_add (args, (gpointer) "alice");
  g_ptr_array_add (args, (gpointer) "--password-stdin");
  g_ptr_array_add (args, (gpointer) "--trust-fingerprint");
  g_ptr_array_add (args, (gpointer) td_test_dovecot_get_fingerprint (own));
  va_start (ap, policy);
  for (const char *a = policy; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  proc = g_subprocess_newv ((const char * const *) args->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                            G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, "secret\n", NULL, &run.out, &run.err, &error);
  g_assert_no_error (error);
  g_test_message ("account add pop3 → stdout: %s stderr: %s", run.out, run.err);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_assert_cmpint (g_ascii_strtoll (run.out, NULL, 10), >, 0);
}

static guint
pop3_on_server (TdTestDovecot *own)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = td_test_dovecot_doveadm_output (own, &error, "mailbox", "status", "-u",
                                                         "alice", "messages", "INBOX", NULL);

  g_assert_no_error (error);
  g_assert_nonnull (strchr (out, '='));
  return (guint) g_ascii_strtoull (strchr (out, '=') + 1, NULL, 10);
}

/* The Inbox total the store has, read without connecting. */
static guint
local_inbox_total (const char *profile)
{
  g_auto(Run) folders = { 0 };
  const char *line;

  run_cli (&folders, profile, NULL, "--offline", "folders", NULL);
  g_assert_cmpint (folders.status, ==, 0);
  line = strstr (folders.out, "INBOX\tinbox\t");
  g_assert_nonnull (line);
  return (guint) g_ascii_strtoull (line + strlen ("INBOX\tinbox\t"), NULL, 10);
}

/* account add pop3, sync, the local folders, usage errors of the POP3 choices. */
static void
test_pop3 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *profile = new_profile ();
  g_auto(Run) list = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) again = { 0 };
  g_auto(Run) folders = { 0 };
  g_auto(Run) ls = { 0 };
  g_auto(Run) both = { 0 };
  g_auto(Run) imap_policy = { 0 };
  g_auto(Run) help = { 0 };

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "POP message", 5, &error);
  g_assert_no_error (error);

  /* refused before the password is read (so no input: it would not be read) */
  run_cli (&both, profile, NULL, "account", "add", "pop3", "--address", "a@localhost",
           "--host", "localhost", "--leave-on-server", "--delete-after-download", NULL);
  g_assert_cmpint (both.status, ==, 2);
  run_cli (&imap_policy, profile, NULL, "account", "add", "imap", "--address",
           "a@localhost", "--host", "localhost", "--delete-after-days", "3", NULL);
  g_assert_cmpint (imap_policy.status, ==, 2);
  run_cli (&help, profile, NULL, "--help", NULL);
  g_assert_nonnull (strstr (help.out, "account add pop3"));
  g_assert_nonnull (strstr (help.out, "--delete-when-deleted-here"));

  add_pop3 (profile, own, "--delete-after-download", NULL);
  run_cli (&list, profile, NULL, "account", "list", NULL);
  g_assert_nonnull (strstr (list.out, "\tpop3\talice@localhost\t"));
  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);
  g_assert_cmpuint (pop3_on_server (own), ==, 0);
  run_cli (&folders, profile, NULL, "folders", NULL);
  g_assert_nonnull (strstr (folders.out, "INBOX\tinbox\t5\t5\n"));
  g_assert_nonnull (strstr (folders.out, "Trash\ttrash\t0\t0\n"));
  g_assert_nonnull (strstr (folders.out, "Archive\tarchive\t0\t0\n"));
  run_cli (&ls, profile, NULL, "ls", "INBOX", NULL);
  g_assert_nonnull (strstr (ls.out, "POP message 5"));
  run_cli (&again, profile, NULL, "sync", NULL);
  g_assert_cmpint (again.status, ==, 0);
  g_assert_nonnull (strstr (again.out, "5 messages"));
}

/* account set for POP3: each choice shows in account list and applies on the next sync;
 * the IMAP and POP3 options are refused on the other kind with a clear message. */
static void
test_pop3_account_set (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *profile = new_profile ();
  g_autofree char *imap_profile = new_profile ();
  g_autofree char *imap_id = NULL;
  g_auto(Run) list = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) set = { 0 };
  g_auto(Run) list_after = { 0 };
  g_auto(Run) sync_after = { 0 };
  g_auto(Run) days = { 0 };
  g_auto(Run) list_days = { 0 };
  g_auto(Run) sync_days = { 0 };
  g_auto(Run) days_on_pop3 = { 0 };
  g_auto(Run) list_imap = { 0 };
  g_auto(Run) two = { 0 };
  g_auto(Run) both_here = { 0 };
  g_auto(Run) nothing = { 0 };
  g_auto(Run) list_unchanged = { 0 };

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "POP message", 3, &error);
  g_assert_no_error (error);

  add_pop3 (profile, own, "--leave-on-server", NULL);
  run_cli (&list, profile, NULL, "account", "list", NULL);
  g_assert_nonnull (strstr (list.out, "\tleave-on-server\n"));
  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);
  g_assert_cmpuint (local_inbox_total (profile), ==, 3);
  g_assert_cmpuint (pop3_on_server (own), ==, 3);

  /* refused: --sync-days on POP3, two policies, both answers for deleted-here, nothing */
  run_cli (&days_on_pop3, profile, NULL, "account", "set", "alice@localhost", "--sync-days", "30",
           NULL);
  g_assert_cmpint (days_on_pop3.status, ==, 2);
  g_assert_nonnull (strstr (days_on_pop3.err, "--sync-days is for IMAP accounts"));
  run_cli (&two, profile, NULL, "account", "set", "alice@localhost", "--leave-on-server",
           "--delete-after-download", NULL);
  g_assert_cmpint (two.status, ==, 2);
  run_cli (&both_here, profile, NULL, "account", "set", "alice@localhost",
           "--delete-when-deleted-here", "--keep-when-deleted-here", NULL);
  g_assert_cmpint (both_here.status, ==, 2);
  run_cli (&nothing, profile, NULL, "account", "set", "alice@localhost", NULL);
  g_assert_cmpint (nothing.status, ==, 2);
  run_cli (&list_unchanged, profile, NULL, "account", "list", NULL);
  g_assert_cmpstr (list_unchanged.out, ==, list.out);

  /* delete after 2 days: nothing goes yet (downloaded just now) */
  run_cli (&days, profile, NULL, "account", "set", "alice@localhost", "--delete-after-days", "2",
           "--delete-when-deleted-here", NULL);
  g_assert_cmpint (days.status, ==, 0);
  run_cli (&list_days, profile, NULL, "account", "list", NULL);
  g_assert_nonnull (strstr (list_days.out, "\tdelete-after-days=2,delete-when-deleted-here\n"));
  run_cli (&sync_days, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync_days.status, ==, 0);
  g_assert_cmpuint (pop3_on_server (own), ==, 3);

  /* delete right after download: the next sync empties the server, keeps everything here */
  run_cli (&set, profile, NULL, "account", "set", "alice@localhost", "--delete-after-download",
           "--keep-when-deleted-here", NULL);
  g_assert_cmpint (set.status, ==, 0);
  run_cli (&list_after, profile, NULL, "account", "list", NULL);
  g_assert_nonnull (strstr (list_after.out, "\tdelete-after-download\n"));
  run_cli (&sync_after, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync_after.status, ==, 0);
  g_assert_cmpuint (pop3_on_server (own), ==, 0);
  g_assert_cmpuint (local_inbox_total (profile), ==, 3);

  /* the POP3 choices on an IMAP account */
  imap_id = add_alice (imap_profile);
  {
    g_auto(Run) refused = { 0 };

    run_cli (&refused, imap_profile, NULL, "account", "set", imap_id, "--leave-on-server",
             NULL);
    g_assert_cmpint (refused.status, ==, 2);
    g_assert_nonnull (strstr (refused.err, "are for POP3 accounts"));
  }
  run_cli (&list_imap, imap_profile, NULL, "account", "list", NULL);
  g_assert_nonnull (strstr (list_imap.out, "\tsync-days=0\n"));
}

/* ARCHITECTURE invariants 1 and 2 for POP3: a sync that deletes right after downloading,
 * killed at random instants (a fixed seed), never loses a message and never stores one twice;
 * the store always passes integrity_check. */
static void
test_pop3_killed_sync (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *profile = new_profile ();
  g_autofree char *cli = cli_path ();
  g_auto(Run) sync = { 0 };
  g_auto(Run) again = { 0 };
  g_auto(Run) folders = { 0 };
  GRand *rand = g_rand_new_with_seed (7007);
  const guint total = 1500;
  const guint rounds = 50;
  guint killed_with_mail_left = 0;
  guint seeded = total;

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "Killed POP message", total, &error);
  g_assert_no_error (error);
  add_pop3 (profile, own, "--delete-after-download", NULL);

  for (guint round = 0; round < rounds; round++)
    {
      guint delay_ms = g_rand_int_range (rand, 10, 300);

      /* new mail keeps arriving, so most rounds have something to download */
      if (round % 5 == 4)
        {
          g_autofree char *prefix = g_strdup_printf ("Later POP message %u", round);

          td_test_dovecot_save_generated (own, "alice", "INBOX", prefix, 100, &error);
          g_assert_no_error (error);
        }
      seeded += round % 5 == 4 ? 100 : 0;
      if (pop3_on_server (own) > 0)
        killed_with_mail_left++;
      kill_sync_and_check (cli, profile, delay_ms);
      /* ARCHITECTURE invariant 1: whatever left the server is here (some may be in both) */
      g_assert_cmpuint (local_inbox_total (profile) + pop3_on_server (own), >=, seeded);
    }
  g_rand_free (rand);
  g_test_message ("%u of %u rounds were killed with mail still on the server",
                  killed_with_mail_left, rounds);

  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);
  g_assert_cmpuint (pop3_on_server (own), ==, 0);
  run_cli (&again, profile, NULL, "sync", NULL);
  g_assert_cmpint (again.status, ==, 0);
  run_cli (&folders, profile, NULL, "folders", NULL);
  /* every message once: 1500 and 10 batches of 100 that came meanwhile */
  g_assert_nonnull (strstr (folders.out, "INBOX\tinbox\t2500\t2500\n"));
}

/* --- Changing things: flag, move, delete, folder --- */

/* The proxy runs in a thread of its own: run_cli() blocks this one. */
typedef struct
{
  guint16       target;
  TdTestProxy  *proxy;
  GMainContext *context;
  GMainLoop    *loop;
  GThread      *thread;
  gboolean      ready;
  GMutex        mutex;
  GCond         cond;
  guint64       cut;
} ProxyThread;

static gpointer
proxy_thread_main (gpointer data)
{
  ProxyThread *pt = data;

  g_main_context_push_thread_default (pt->context);
  pt->proxy = td_test_proxy_new (pt->target, 0);
  g_mutex_lock (&pt->mutex);
  pt->ready = TRUE;
  g_cond_signal (&pt->cond);
  g_mutex_unlock (&pt->mutex);
  g_main_loop_run (pt->loop);
  td_test_proxy_free (pt->proxy);
  g_main_context_pop_thread_default (pt->context);
  return NULL;
}

static ProxyThread *
proxy_thread_start (guint16 target)
{
  ProxyThread *pt = g_new0 (ProxyThread, 1);

  pt->target = target;
  pt->context = g_main_context_new ();
  pt->loop = g_main_loop_new (pt->context, FALSE);
  g_mutex_init (&pt->mutex);
  g_cond_init (&pt->cond);
  pt->thread = g_thread_new ("proxy", proxy_thread_main, pt);
  g_mutex_lock (&pt->mutex);
  while (!pt->ready)
    g_cond_wait (&pt->cond, &pt->mutex);
  g_mutex_unlock (&pt->mutex);
  return pt;
}

static gboolean
proxy_set_cut_cb (gpointer data)
{
  ProxyThread *pt = data;

  /* 1 byte more than what went through: every new connection is dropped at once */
  td_test_proxy_set_cut_after (pt->proxy, pt->cut == 0 ? 0
                               : td_test_proxy_get_forwarded (pt->proxy) + 1);
  g_mutex_lock (&pt->mutex);
  pt->ready = TRUE;
  g_cond_signal (&pt->cond);
  g_mutex_unlock (&pt->mutex);
  return G_SOURCE_REMOVE;
}

/* Takes the server away (@online FALSE) or brings it back. */
static void
proxy_thread_set_online (ProxyThread *pt,
                         gboolean     online)
{
  g_mutex_lock (&pt->mutex);
  pt->ready = FALSE;
  pt->cut = online ? 0 : 1;
  g_mutex_unlock (&pt->mutex);
  g_main_context_invoke (pt->context, proxy_set_cut_cb, pt);
  g_mutex_lock (&pt->mutex);
  while (!pt->ready)
    g_cond_wait (&pt->cond, &pt->mutex);
  g_mutex_unlock (&pt->mutex);
}

static void
proxy_thread_stop (ProxyThread *pt)
{
  g_main_loop_quit (pt->loop);
  g_thread_join (pt->thread);
  g_main_loop_unref (pt->loop);
  g_main_context_unref (pt->context);
  g_mutex_clear (&pt->mutex);
  g_cond_clear (&pt->cond);
  g_free (pt);
}

/* The id "ls FOLDER" prints for the message with @subject. */
static char *
message_id_of (const char *profile,
               const char *folder,
               const char *subject)
{
  g_auto(Run) ls = { 0 };
  g_auto(GStrv) lines = NULL;

  run_cli (&ls, profile, NULL, "ls", folder, "--limit", "1000", NULL);
  g_assert_cmpint (ls.status, ==, 0);
  lines = g_strsplit (ls.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], "\t", -1);

      if (g_strv_length (fields) == 5 && g_strcmp0 (fields[3], subject) == 0)
        return g_strdup (fields[0]);
    }
  return NULL;
}

/* "doveadm fetch": how many messages in @folder have exactly @subject; the flags of the last */
static guint
server_find (TdTestDovecot  *own,
             const char     *folder,
             const char     *subject,
             char          **flags)
{
  g_autofree char *out = td_test_dovecot_doveadm_output (own, NULL, "fetch", "-u", "alice",
                                                         "flags hdr.subject", "mailbox", folder,
                                                         "all", NULL);
  g_auto(GStrv) records = NULL;
  guint n = 0;

  if (out == NULL)
    return 0;
  records = g_strsplit (out, "\f\n", -1);
  for (guint i = 0; records[i] != NULL; i++)
    {
      g_auto(GStrv) lines = g_strsplit (records[i], "\n", -1);
      const char *record_flags = "";
      gboolean match = FALSE;

      for (guint j = 0; lines[j] != NULL; j++)
        {
          if (g_str_has_prefix (lines[j], "flags:"))
            record_flags = lines[j];
          else if (g_str_has_prefix (lines[j], "hdr.subject: "))
            match = g_strcmp0 (lines[j] + strlen ("hdr.subject: "), subject) == 0;
        }
      if (match)
        {
          n++;
          if (flags != NULL)
            {
              g_free (*flags);
              *flags = g_strdup (record_flags);
            }
        }
    }
  return n;
}

static char *
server_flags_of (TdTestDovecot *own,
                 const char    *folder,
                 const char    *subject)
{
  char *flags = NULL;

  g_assert_cmpuint (server_find (own, folder, subject, &flags), ==, 1);
  return flags;
}

static guint
server_count_of (TdTestDovecot *own,
                 const char    *folder,
                 const char    *subject)
{
  return server_find (own, folder, subject, NULL);
}

static void
test_actions (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *profile = new_profile ();
  g_autofree char *port = NULL;
  g_autofree char *one = NULL, *two = NULL, *three = NULL;
  g_autofree char *flags = NULL;
  g_autofree char *list = NULL;
  g_auto(Run) add = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) flag = { 0 };
  g_auto(Run) bad_flag = { 0 };
  g_auto(Run) move = { 0 };
  g_auto(Run) del = { 0 };
  g_auto(Run) create = { 0 };
  g_auto(Run) rename = { 0 };
  g_auto(Run) folders = { 0 };
  g_auto(Run) unflag = { 0 };
  g_auto(Run) label = { 0 };
  g_auto(Run) show = { 0 };
  g_auto(Run) copy = { 0 };
  g_auto(Run) remove = { 0 };
  g_auto(Run) after = { 0 };

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "Act", 5, &error);
  g_assert_no_error (error);
  td_test_dovecot_create_folder (own, "alice", "Trash", &error);
  g_assert_no_error (error);
  td_test_dovecot_create_folder (own, "alice", "Archive", &error);
  g_assert_no_error (error);
  port = g_strdup_printf ("%u", td_test_dovecot_get_port (own, "imaps"));
  run_cli (&add, profile, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (own), NULL);
  g_assert_cmpint (add.status, ==, 0);
  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);

  one = message_id_of (profile, "INBOX", "Act 1");
  two = message_id_of (profile, "INBOX", "Act 2");
  three = message_id_of (profile, "INBOX", "Act 3");
  g_assert_nonnull (one);
  g_assert_nonnull (two);
  g_assert_nonnull (three);

  run_cli (&bad_flag, profile, NULL, "flag", one, "+shiny", NULL);
  g_assert_cmpint (bad_flag.status, ==, 2);

  run_cli (&flag, profile, NULL, "flag", one, "+seen", "+flagged", "+forwarded", NULL);
  g_assert_cmpint (flag.status, ==, 0);
  flags = server_flags_of (own, "INBOX", "Act 1");
  g_assert_nonnull (strstr (flags, "\\Seen"));
  g_assert_nonnull (strstr (flags, "\\Flagged"));
  g_assert_nonnull (strstr (flags, "$Forwarded"));
  g_clear_pointer (&flags, g_free);

  /* and taken away again */
  run_cli (&unflag, profile, NULL, "flag", one, "-flagged", "-seen", NULL);
  g_assert_cmpint (unflag.status, ==, 0);
  flags = server_flags_of (own, "INBOX", "Act 1");
  g_assert_null (strstr (flags, "\\Seen"));
  g_assert_null (strstr (flags, "\\Flagged"));
  g_assert_nonnull (strstr (flags, "$Forwarded"));

  /* a keyword of one's own goes there, and shows */
  run_cli (&label, profile, NULL, "flag", one, "+$Work", NULL);
  g_assert_cmpint (label.status, ==, 0);
  g_clear_pointer (&flags, g_free);
  flags = server_flags_of (own, "INBOX", "Act 1");
  g_assert_nonnull (strstr (flags, "$Work"));
  run_cli (&show, profile, NULL, "--offline", "show", one, NULL);
  g_assert_cmpint (show.status, ==, 0);
  g_assert_nonnull (strstr (show.out, "\nKeywords: $Work\n"));

  run_cli (&copy, profile, NULL, "copy", one, "Archive", NULL);
  g_assert_cmpint (copy.status, ==, 0);
  g_assert_cmpuint (server_count_of (own, "INBOX", "Act 1"), ==, 1);
  g_assert_cmpuint (server_count_of (own, "Archive", "Act 1"), ==, 1);

  run_cli (&move, profile, NULL, "move", two, "Archive", NULL);
  g_assert_cmpint (move.status, ==, 0);
  g_assert_cmpuint (server_count_of (own, "INBOX", "Act 2"), ==, 0);
  g_assert_cmpuint (server_count_of (own, "Archive", "Act 2"), ==, 1);

  run_cli (&del, profile, NULL, "delete", three, NULL);
  g_assert_cmpint (del.status, ==, 0);
  g_assert_cmpuint (server_count_of (own, "INBOX", "Act 3"), ==, 0);
  g_assert_cmpuint (server_count_of (own, "Trash", "Act 3"), ==, 1);

  run_cli (&create, profile, NULL, "folder", "create", "Projects", NULL);
  g_assert_cmpint (create.status, ==, 0);
  run_cli (&rename, profile, NULL, "folder", "rename", "Projects", "Projects 2026", NULL);
  g_assert_cmpint (rename.status, ==, 0);
  list = td_test_dovecot_doveadm_output (own, &error, "mailbox", "list", "-u", "alice", NULL);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (list, "Projects 2026\n"));

  run_cli (&folders, profile, NULL, "folders", NULL);
  g_assert_nonnull (strstr (folders.out, "INBOX\tinbox\t3\t3\n"));
  g_assert_nonnull (strstr (folders.out, "Archive\tarchive\t2\t2\n"));
  g_assert_nonnull (strstr (folders.out, "Trash\ttrash\t1\t1\n"));
  g_assert_nonnull (strstr (folders.out, "Projects 2026\t-\t0\t0\n"));

  run_cli (&remove, profile, NULL, "folder", "delete", "Projects 2026", NULL);
  g_assert_cmpint (remove.status, ==, 0);
  g_clear_pointer (&list, g_free);
  list = td_test_dovecot_doveadm_output (own, &error, "mailbox", "list", "-u", "alice", NULL);
  g_assert_no_error (error);
  g_assert_null (strstr (list, "Projects 2026"));
  run_cli (&after, profile, NULL, "folders", NULL);
  g_assert_null (strstr (after.out, "Projects 2026"));
}

/* ARCHITECTURE invariant 1 for IMAP: a message leaves the server's folder only after the local
 * change is committed (and journaled). Deletes killed at random instants with the server
 * reachable: before any further sync, a message gone from the server's Inbox is gone from
 * the Inbox here too. */
static void
test_delete_killed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *profile = new_profile ();
  g_autofree char *port = NULL;
  g_autofree char *cli = cli_path ();
  g_auto(Run) add = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) back = { 0 };
  GRand *rand = g_rand_new_with_seed (1201);
  guint on_server = 0, journaled = 0;

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "Gone", 8, &error);
  g_assert_no_error (error);
  td_test_dovecot_create_folder (own, "alice", "Trash", &error);
  g_assert_no_error (error);
  port = g_strdup_printf ("%u", td_test_dovecot_get_port (own, "imaps"));
  run_cli (&add, profile, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (own), NULL);
  g_assert_cmpint (add.status, ==, 0);
  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);

  for (guint round = 1; round <= 8; round++)
    {
      g_autofree char *subject = g_strdup_printf ("Gone %u", round);
      g_autofree char *id = message_id_of (profile, "INBOX", subject);
      g_autoptr(GSubprocess) proc = NULL;

      g_assert_nonnull (id);
      proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                               &error, cli, "--profile", profile, "delete", id, NULL);
      g_assert_no_error (error);
      /* from before the local commit to after the server's answer */
      g_usleep ((round * 20 + g_rand_int_range (rand, 0, 10)) * 1000);
      g_subprocess_send_signal (proc, SIGKILL);
      g_subprocess_wait (proc, NULL, &error);
      g_assert_no_error (error);
    }
  g_rand_free (rand);

  for (guint round = 1; round <= 8; round++)
    {
      g_autofree char *subject = g_strdup_printf ("Gone %u", round);
      g_autofree char *here = message_id_of (profile, "INBOX", subject);

      if (server_count_of (own, "INBOX", subject) == 0)
        {
          g_assert_null (here);
          on_server++;
        }
      else if (here == NULL)
        journaled++;
    }
  g_test_message ("killed deletes: %u reached the server, %u only journaled, %u not begun",
                  on_server, journaled, 8 - on_server - journaled);

  /* and the next sync finishes what was journaled: every message once, in one place */
  run_cli (&back, profile, NULL, "sync", NULL);
  g_assert_cmpint (back.status, ==, 0);
  for (guint round = 1; round <= 8; round++)
    {
      g_autofree char *subject = g_strdup_printf ("Gone %u", round);
      g_autofree char *here = message_id_of (profile, "INBOX", subject);

      g_assert_cmpuint (server_count_of (own, "INBOX", subject) +
                        server_count_of (own, "Trash", subject), ==, 1);
      g_assert_cmpuint (server_count_of (own, "INBOX", subject), ==, here != NULL ? 1 : 0);
    }
}

/* Changes made while the server cannot be reached are kept, also when the program is killed
 * right after, and reach the server with the next sync. */
static void
test_actions_offline (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *profile = new_profile ();
  g_autofree char *port = NULL;
  g_autofree char *cli = cli_path ();
  g_autofree char *flags = NULL;
  g_autofree char *id = NULL;
  g_auto(Run) add = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) flag = { 0 };
  g_auto(Run) queued = { 0 };
  g_auto(Run) back = { 0 };
  GRand *rand = g_rand_new_with_seed (77);
  ProxyThread *pt;

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "Away", 8, &error);
  g_assert_no_error (error);
  pt = proxy_thread_start (td_test_dovecot_get_port (own, "imaps"));
  port = g_strdup_printf ("%u", td_test_proxy_get_port (pt->proxy));
  run_cli (&add, profile, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (own), NULL);
  g_assert_cmpint (add.status, ==, 0);
  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);

  proxy_thread_set_online (pt, FALSE);

  /* unreachable: done here, kept for later, not an error */
  id = message_id_of (profile, "INBOX", "Away 1");
  run_cli (&flag, profile, NULL, "flag", id, "+flagged", NULL);
  g_assert_cmpint (flag.status, ==, 0);
  g_assert_nonnull (strstr (flag.err, "next sync"));
  run_cli (&queued, profile, NULL, "--offline", "flag", id, "+seen", NULL);
  g_assert_cmpint (queued.status, ==, 0);

  /* killed at random instants while it tries to send */
  for (guint round = 2; round <= 6; round++)
    {
      g_autofree char *subject = g_strdup_printf ("Away %u", round);
      g_autofree char *mid = message_id_of (profile, "INBOX", subject);
      g_autoptr(GSubprocess) proc = NULL;

      proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                               &error, cli, "--profile", profile, "flag", mid, "+answered",
                               NULL);
      g_assert_no_error (error);
      g_usleep (g_rand_int_range (rand, 5, 120) * 1000);
      g_subprocess_send_signal (proc, SIGKILL);
      g_subprocess_wait (proc, NULL, &error);
      g_assert_no_error (error);
    }
  g_rand_free (rand);

  proxy_thread_set_online (pt, TRUE);
  run_cli (&back, profile, NULL, "sync", NULL);
  g_assert_cmpint (back.status, ==, 0);
  flags = server_flags_of (own, "INBOX", "Away 1");
  g_assert_nonnull (strstr (flags, "\\Flagged"));
  g_assert_nonnull (strstr (flags, "\\Seen"));
  /* a killed one either never committed here (then its row shows no flag) or is on the server
   * now: never one without the other */
  for (guint round = 2; round <= 6; round++)
    {
      g_autofree char *subject = g_strdup_printf ("Away %u", round);
      g_autofree char *server_side = server_flags_of (own, "INBOX", subject);
      g_auto(Run) ls = { 0 };
      g_auto(GStrv) lines = NULL;
      gboolean here = FALSE;

      run_cli (&ls, profile, NULL, "ls", "INBOX", "--limit", "100", NULL);
      lines = g_strsplit (ls.out, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_auto(GStrv) fields = g_strsplit (lines[i], "\t", -1);

          if (g_strv_length (fields) == 5 && g_strcmp0 (fields[3], subject) == 0)
            here = strchr (fields[4], 'R') != NULL;
        }
      g_assert_cmpint (here, ==, strstr (server_side, "\\Answered") != NULL);
    }
  proxy_thread_stop (pt);
}

static GBytes *
dated_message (const char *subject,
               GDateTime  *date)
{
  g_autofree char *when = g_date_time_format (date, "%a, %d %b %Y %H:%M:%S %z");
  char *text;

  text = g_strdup_printf ("From: Bob <bob@localhost>\r\n"
                          "To: alice@localhost\r\n"
                          "Subject: %s\r\n"
                          "Date: %s\r\n"
                          "Message-ID: <%s@localhost>\r\n"
                          "\r\n"
                          "The text of %s.\r\n",
                          subject, when, subject, subject);
  return g_bytes_new_take (text, strlen (text));
}

/* The sync window: with --sync-days 30 only the bodies of recent mail are downloaded; an
 * older message has its headers, gets its body when shown, and keeps it. */
static void
test_sync_window (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) old_date = g_date_time_add_days (now, -400);
  g_autoptr(GBytes) recent = dated_message ("Recent", now);
  g_autoptr(GBytes) old = dated_message ("Old", old_date);
  g_autofree char *profile = new_profile ();
  g_autofree char *port = NULL;
  g_autofree char *recent_id = NULL, *old_id = NULL;
  g_auto(Run) add = { 0 };
  g_auto(Run) bad = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) ls = { 0 };
  g_auto(Run) show_recent = { 0 };
  g_auto(Run) show_old_offline = { 0 };
  g_auto(Run) show_old = { 0 };
  g_auto(Run) show_old_kept = { 0 };
  g_auto(Run) resync = { 0 };
  g_auto(Run) show_old_after = { 0 };
  g_auto(Run) set = { 0 };
  g_auto(Run) set_bad = { 0 };
  g_auto(Run) narrow_sync = { 0 };
  g_auto(Run) wide_sync = { 0 };
  g_auto(Run) show_older_missing = { 0 };
  g_auto(Run) show_older = { 0 };
  g_autoptr(GBytes) older = dated_message ("Older", old_date);
  g_autofree char *older_id = NULL;

  g_assert_no_error (error);
  td_test_dovecot_save (own, "alice", "INBOX", old, &error);
  g_assert_no_error (error);
  td_test_dovecot_save (own, "alice", "INBOX", recent, &error);
  g_assert_no_error (error);
  port = g_strdup_printf ("%u", td_test_dovecot_get_port (own, "imaps"));

  run_cli (&bad, profile, NULL, "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin",
           "--sync-days", "-3", NULL);
  g_assert_cmpint (bad.status, ==, 2);
  run_cli (&add, profile, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (own), "--sync-days", "30",
           NULL);
  g_assert_cmpint (add.status, ==, 0);
  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);

  /* headers of all mail */
  recent_id = message_id_of (profile, "INBOX", "Recent");
  old_id = message_id_of (profile, "INBOX", "Old");
  g_assert_nonnull (recent_id);
  g_assert_nonnull (old_id);

  run_cli (&show_recent, profile, NULL, "--offline", "show", recent_id, NULL);
  g_assert_cmpint (show_recent.status, ==, 0);
  g_assert_nonnull (strstr (show_recent.out, "The text of Recent."));

  /* outside the window: not downloaded by the sync */
  run_cli (&show_old_offline, profile, NULL, "--offline", "show", old_id, NULL);
  g_assert_cmpint (show_old_offline.status, ==, 1);
  g_assert_nonnull (strstr (show_old_offline.err, "not been downloaded"));

  /* opened: fetched now, and kept */
  run_cli (&show_old, profile, NULL, "show", old_id, NULL);
  g_assert_cmpint (show_old.status, ==, 0);
  g_assert_nonnull (strstr (show_old.out, "The text of Old."));
  run_cli (&show_old_kept, profile, NULL, "--offline", "show", old_id, NULL);
  g_assert_cmpint (show_old_kept.status, ==, 0);
  g_assert_nonnull (strstr (show_old_kept.out, "The text of Old."));
  run_cli (&resync, profile, NULL, "sync", NULL);
  g_assert_cmpint (resync.status, ==, 0);
  run_cli (&show_old_after, profile, NULL, "--offline", "show", old_id, NULL);
  g_assert_cmpint (show_old_after.status, ==, 0);

  run_cli (&set_bad, profile, NULL, "account", "set", "alice@localhost", NULL);
  g_assert_cmpint (set_bad.status, ==, 2);
  /* another old one, outside the window: its header only */
  td_test_dovecot_save (own, "alice", "INBOX", older, &error);
  g_assert_no_error (error);
  run_cli (&narrow_sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (narrow_sync.status, ==, 0);
  older_id = message_id_of (profile, "INBOX", "Older");
  g_assert_nonnull (older_id);
  run_cli (&show_older_missing, profile, NULL, "--offline", "show", older_id, NULL);
  g_assert_cmpint (show_older_missing.status, ==, 1);

  /* a wider window: the next sync downloads what it now takes in */
  run_cli (&set, profile, NULL, "account", "set", "alice@localhost", "--sync-days", "0", NULL);
  g_assert_cmpint (set.status, ==, 0);
  run_cli (&wide_sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (wide_sync.status, ==, 0);
  run_cli (&show_older, profile, NULL, "--offline", "show", older_id, NULL);
  g_assert_cmpint (show_older.status, ==, 0);
  g_assert_nonnull (strstr (show_older.out, "The text of Older."));
}

/* The uuid of the only account of @profile, read from its store. */
static char *
account_uuid (const char *profile)
{
  g_autofree char *path = g_build_filename (profile, "tidings.db", NULL);
  g_autoptr(TdStore) store = td_test_store_open (path, 30000);
  g_autoptr(GPtrArray) accounts = td_store_list_accounts (store, NULL);
  char *uuid;

  g_assert_nonnull (accounts);
  g_assert_cmpuint (accounts->len, ==, 1);
  uuid = g_strdup (td_account_get_uuid (g_ptr_array_index (accounts, 0)));
  td_store_close (store);
  return uuid;
}

/* `secret-tool lookup uuid UUID` finds the password. */
static gboolean
keyring_has (const char *uuid)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                           &error, "secret-tool", "lookup", "uuid", uuid, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  return out != NULL && strstr (out, "secret") != NULL;
}

/* account remove: refused while changes wait to be sent or POP3 mail would go, then done:
 * the account, its mail here and its password are gone; the server keeps its mail. */
static void
test_account_remove (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *imap = new_profile ();
  g_autofree char *pop3 = new_profile ();
  g_autofree char *port = NULL;
  g_autofree char *uuid = NULL;
  g_auto(Run) add = { 0 };
  g_auto(Run) sync = { 0 };
  g_auto(Run) ls = { 0 };
  g_auto(Run) flag = { 0 };
  g_auto(Run) refused = { 0 };
  g_auto(Run) sent = { 0 };
  g_auto(Run) removed = { 0 };
  g_auto(Run) list = { 0 };
  g_auto(Run) pop3_sync = { 0 };
  g_auto(Run) pop3_refused = { 0 };
  g_auto(Run) pop3_removed = { 0 };
  g_auto(GStrv) fields = NULL;

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "Kept", 3, &error);
  g_assert_no_error (error);
  port = g_strdup_printf ("%u", td_test_dovecot_get_port (own, "imaps"));
  run_cli (&add, imap, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", port, "--user", "alice", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (own), NULL);
  g_assert_cmpint (add.status, ==, 0);
  run_cli (&sync, imap, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);
  uuid = account_uuid (imap);
  g_assert_true (keyring_has (uuid));

  /* a change not yet sent: refused, nothing removed */
  run_cli (&ls, imap, NULL, "ls", "INBOX", NULL);
  fields = g_strsplit (ls.out, "\t", 2);
  run_cli (&flag, imap, NULL, "--offline", "flag", fields[0], "+flagged", NULL);
  g_assert_cmpint (flag.status, ==, 0);
  run_cli (&refused, imap, NULL, "account", "remove", "alice@localhost", NULL);
  g_assert_cmpint (refused.status, ==, 1);
  g_assert_nonnull (strstr (refused.err, "1 change made here"));
  g_assert_true (keyring_has (uuid));

  /* sent: removed */
  run_cli (&sent, imap, NULL, "sync", NULL);
  g_assert_cmpint (sent.status, ==, 0);
  run_cli (&removed, imap, NULL, "account", "remove", "alice@localhost", NULL);
  g_assert_cmpint (removed.status, ==, 0);
  g_assert_nonnull (strstr (removed.out, "its 3 messages on this computer"));
  run_cli (&list, imap, NULL, "account", "list", NULL);
  g_assert_cmpint (list.status, ==, 0);
  g_assert_cmpstr (list.out, ==, "");
  g_assert_false (keyring_has (uuid));
  g_assert_cmpuint (pop3_on_server (own), ==, 3);

  /* POP3 mail may be here only: refused without --yes */
  add_pop3 (pop3, own, "--leave-on-server", NULL);
  run_cli (&pop3_sync, pop3, NULL, "sync", NULL);
  g_assert_cmpint (pop3_sync.status, ==, 0);
  g_clear_pointer (&uuid, g_free);
  uuid = account_uuid (pop3);
  run_cli (&pop3_refused, pop3, NULL, "account", "remove", "alice@localhost", NULL);
  g_assert_cmpint (pop3_refused.status, ==, 1);
  g_assert_nonnull (strstr (pop3_refused.err, "is a POP3 account: its 3 messages"));
  g_assert_cmpuint (local_inbox_total (pop3), ==, 3);
  run_cli (&pop3_removed, pop3, NULL, "account", "remove", "alice@localhost", "--yes", NULL);
  g_assert_cmpint (pop3_removed.status, ==, 0);
  g_assert_false (keyring_has (uuid));
}

/* copy, move and delete in a POP3 account's local folders, as a user types them: nothing waits
 * for a server (sync has nothing to send), and with delete-when-deleted-here a message leaves
 * the server only once its last copy here is deleted for good. */
static void
test_pop3_copies (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdTestDovecot) own = td_test_dovecot_start (&error);
  g_autofree char *profile = new_profile ();
  g_autofree char *original = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *moved = NULL;
  g_auto(Run) sync = { 0 };
  g_auto(Run) set = { 0 };
  g_auto(Run) copied = { 0 };
  g_auto(Run) to_trash = { 0 };
  g_auto(Run) for_good = { 0 };
  g_auto(Run) sync_kept = { 0 };
  g_auto(Run) copy_to_trash = { 0 };
  g_auto(Run) copy_for_good = { 0 };
  g_auto(Run) sync_gone = { 0 };
  g_auto(Run) archive = { 0 };

  g_assert_no_error (error);
  td_test_dovecot_save_generated (own, "alice", "INBOX", "POP message", 3, &error);
  g_assert_no_error (error);
  add_pop3 (profile, own, "--leave-on-server", NULL);
  run_cli (&set, profile, NULL, "account", "set", "alice@localhost", "--delete-when-deleted-here",
           NULL);
  g_assert_cmpint (set.status, ==, 0);
  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);

  original = message_id_of (profile, "INBOX", "POP message 1");
  g_assert_nonnull (original);
  run_cli (&copied, profile, NULL, "copy", original, "Archive", NULL);
  g_assert_cmpint (copied.status, ==, 0);
  copy = message_id_of (profile, "Archive", "POP message 1");
  g_assert_nonnull (copy);
  g_assert_cmpstr (copy, !=, original);

  /* the original deleted for good: the copy keeps the message on the server */
  run_cli (&to_trash, profile, NULL, "delete", original, NULL);
  g_assert_cmpint (to_trash.status, ==, 0);
  moved = message_id_of (profile, "Trash", "POP message 1");
  g_assert_cmpstr (moved, ==, original);
  run_cli (&for_good, profile, NULL, "delete", original, NULL);
  g_assert_cmpint (for_good.status, ==, 0);
  g_assert_null (message_id_of (profile, "Trash", "POP message 1"));
  run_cli (&sync_kept, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync_kept.status, ==, 0);
  g_assert_cmpuint (pop3_on_server (own), ==, 3);

  /* the copy too: now it goes */
  run_cli (&copy_to_trash, profile, NULL, "delete", copy, NULL);
  g_assert_cmpint (copy_to_trash.status, ==, 0);
  run_cli (&copy_for_good, profile, NULL, "delete", copy, NULL);
  g_assert_cmpint (copy_for_good.status, ==, 0);
  run_cli (&sync_gone, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync_gone.status, ==, 0);
  g_assert_cmpuint (pop3_on_server (own), ==, 2);
  g_assert_cmpuint (local_inbox_total (profile), ==, 2);
  run_cli (&archive, profile, NULL, "ls", "Archive", NULL);
  g_assert_cmpstr (archive.out, ==, "");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  td_test_init (&argc, &argv);

  server = td_test_dovecot_start (&error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (server, "alice", "INBOX", "CLI message", 12, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (server, "alice", "Sent", "CLI sent", 3, &error);
  g_assert_no_error (error);

  g_test_add_func ("/cli/account/untrusted", test_add_untrusted);
  g_test_add_func ("/cli/account/wrong-password", test_add_wrong_password);
  g_test_add_func ("/cli/usage", test_usage_errors);
  g_test_add_func ("/cli/sync-and-read", test_sync_and_read);
  g_test_add_func ("/cli/offline", test_offline);
  g_test_add_func ("/cli/killed-sync", test_killed_sync);
  g_test_add_func ("/cli/actions", test_actions);
  g_test_add_func ("/cli/actions-offline", test_actions_offline);
  g_test_add_func ("/cli/delete-killed", test_delete_killed);
  g_test_add_func ("/cli/sync-window", test_sync_window);
  g_test_add_func ("/cli/pop3", test_pop3);
  g_test_add_func ("/cli/pop3/account-set", test_pop3_account_set);
  g_test_add_func ("/cli/pop3/copies", test_pop3_copies);
  g_test_add_func ("/cli/pop3/killed-sync", test_pop3_killed_sync);
  g_test_add_func ("/cli/account/remove", test_account_remove);

  status = g_test_run ();
  td_test_dovecot_free (server);
  return status;
}
