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
  g_autofree char *db_path = NULL;
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

  db_path = g_build_filename (profile, "tidings.db", NULL);
  for (guint round = 0; round < 6; round++)
    {
      g_autoptr(GSubprocess) proc = NULL;
      g_autoptr(TdStore) store = NULL;
      g_autoptr(GAsyncResult) opened = NULL;
      g_autoptr(GAsyncResult) checked = NULL;
      guint delay_ms = g_rand_int_range (rand, 50, 900);

      proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                               &error, cli, "--profile", profile, "sync", NULL);
      g_assert_no_error (error);
      g_usleep (delay_ms * 1000);
      g_subprocess_send_signal (proc, SIGKILL);
      g_subprocess_wait (proc, NULL, &error);
      g_assert_no_error (error);

      store = td_store_new (db_path);
      td_store_open_async (store, NULL, td_test_store_result, &opened);
      td_store_open_finish (store, td_test_wait_result (&opened, 30000), &error);
      g_assert_no_error (error);
      td_store_check_integrity_async (store, NULL, td_test_store_result, &checked);
      td_store_check_integrity_finish (store, td_test_wait_result (&checked, 30000), &error);
      g_assert_no_error (error);
      td_store_close (store);
    }
  g_rand_free (rand);

  run_cli (&sync, profile, NULL, "sync", NULL);
  g_assert_cmpint (sync.status, ==, 0);
  run_cli (&folders, profile, NULL, "folders", NULL);
  g_assert_nonnull (strstr (folders.out, "INBOX\tinbox\t600\t600\n"));
  g_assert_nonnull (strstr (folders.out, "Archive\tarchive\t200\t200\n"));
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

  status = g_test_run ();
  td_test_dovecot_free (server);
  return status;
}
