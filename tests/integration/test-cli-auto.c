/* test-cli-auto.c: `tidings-cli account add --auto` against a real Dovecot and a real keyring
 *
 * Runs the test build of tidings-cli (tidings-cli-test, with the hooks of td-cli-auto.c): the
 * environment maps imap., pop3. and smtp.example.test to 127.0.0.1 and sets Dovecot's ports as
 * the probe ports. Runs under tests/integration/keyring-session.sh.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-account.h"
#include "td-test-dovecot.h"
#include "td-test-store.h"
#include "td-test-util.h"

#define ADDRESS "alice@example.test"

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

/* Runs tidings-cli-test --profile PROFILE ARGS... with @input on stdin; @resolve as
 * TD_TEST_RESOLVE (NULL: the three example.test names). */
static void
run_cli (Run         *run,
         const char  *profile,
         const char  *resolve,
         const char  *input,
         const char  *first,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ports = NULL;
  va_list ap;

  g_ptr_array_add (args, g_build_filename (g_getenv ("TD_BUILD_ROOT"), "tests", "integration",
                                           "tidings-cli-test", NULL));
  g_ptr_array_add (args, g_strdup ("--profile"));
  g_ptr_array_add (args, g_strdup (profile));
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (args, NULL);

  ports = g_strdup_printf ("imap=%u/%u;pop3=%u/%u;smtp=%u/%u",
                           td_test_dovecot_get_port (server, "imaps"),
                           td_test_dovecot_get_port (server, "imap"),
                           td_test_dovecot_get_port (server, "pop3s"),
                           td_test_dovecot_get_port (server, "pop3"),
                           td_test_dovecot_get_port (server, "submissions"),
                           td_test_dovecot_get_port (server, "submission"));
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "TD_TEST_RESOLVE",
                                resolve != NULL ? resolve
                                                : "imap.example.test=127.0.0.1;"
                                                  "pop3.example.test=127.0.0.1;"
                                                  "smtp.example.test=127.0.0.1", TRUE);
  g_subprocess_launcher_setenv (launcher, "TD_TEST_PROBE_PORTS", ports, TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, input != NULL ? input : "", NULL, &run->out, &run->err,
                                 &error);
  g_assert_no_error (error);
  run->status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  g_test_message ("tidings-cli %s → %d\nstdout: %s\nstderr: %s", first, run->status, run->out,
                  run->err);
}

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” not found in:\n%s", needle, haystack);
}

static char *
port_of (const char *service)
{
  return g_strdup_printf ("%u", td_test_dovecot_get_port (server, service));
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
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        assert_no_file_contains (child, needle);
      else if (g_file_get_contents (child, &contents, &len, NULL) &&
               memmem (contents, len, needle, strlen (needle)) != NULL)
        g_error ("%s contains the password", child);
    }
}

static char *
account_list (const char *profile)
{
  g_auto(Run) run = { 0 };

  run_cli (&run, profile, NULL, NULL, "account", "list", NULL);
  g_assert_cmpint (run.status, ==, 0);
  return g_steal_pointer (&run.out);
}

/* The one account of @profile, as stored. */
static TdAccount *
stored_account (const char *profile)
{
  g_autofree char *path = g_build_filename (profile, "tidings.db", NULL);
  g_autoptr(TdStore) store = td_test_store_open (path, 10000);
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;
  TdAccount *account;

  accounts = td_store_list_accounts (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (accounts->len, ==, 1);
  account = g_object_ref (g_ptr_array_index (accounts, 0));
  td_store_close (store);
  return account;
}

static void
test_imap (void)
{
  g_autofree char *profile = td_test_make_tempdir ("profile");
  g_autofree char *imaps = port_of ("imaps");
  g_autofree char *submissions = port_of ("submissions");
  g_autofree char *expected = NULL;
  g_autofree char *list = NULL;
  g_auto(Run) run = { 0 };

  run_cli (&run, profile, NULL, "secret\n", "account", "add", "--auto", ADDRESS,
           "--name", "Alice", "--sync-days", "30", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (server), NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_strstrip (run.out);
  g_assert_cmpint (g_ascii_strtoll (run.out, NULL, 10), >, 0);

  /* each step, what was chosen and why, and the SMTP server found */
  assert_contains (run.err, "no password is sent");
  assert_contains (run.err, "trying common server names: looking");
  expected = g_strdup_printf ("imap.example.test:%s answers IMAP over TLS", imaps);
  assert_contains (run.err, expected);
  g_free (expected);
  expected = g_strdup_printf ("Incoming: IMAP, because mail and folders then stay on the "
                              "server for every device (POP3 was found too): "
                              "imap.example.test:%s with TLS", imaps);
  assert_contains (run.err, expected);
  g_free (expected);
  expected = g_strdup_printf ("Outgoing (SMTP), not saved with the account yet: "
                              "smtp.example.test:%s (tls)", submissions);
  assert_contains (run.err, expected);
  assert_contains (run.err, "User name: " ADDRESS);

  /* added exactly like `account add imap`: the discovered settings, the password only in
   * the keyring */
  list = account_list (profile);
  g_free (expected);
  expected = g_strdup_printf ("\timap\t" ADDRESS "\timap.example.test:%s\ttls\tAlice", imaps);
  assert_contains (list, expected);
  {
    g_autoptr(TdAccount) account = stored_account (profile);

    g_assert_cmpstr (td_account_get_username (account), ==, ADDRESS);
    g_assert_cmpuint (td_account_get_sync_days (account), ==, 30);
    g_assert_cmpstr (td_account_get_pinned_fingerprint (account), ==,
                     td_test_dovecot_get_fingerprint (server));
  }
  assert_no_file_contains (profile, "secret");
  assert_no_file_contains (g_get_user_config_dir (), "secret");
}

static void
test_pop3 (void)
{
  g_autofree char *profile = td_test_make_tempdir ("profile");
  g_autofree char *pop3s = port_of ("pop3s");
  g_autofree char *expected = NULL;
  g_autofree char *list = NULL;
  g_auto(Run) run = { 0 };

  /* the POP3 options go through to the usual path */
  run_cli (&run, profile, NULL, "secret\n", "account", "add", "--auto", ADDRESS,
           "--prefer", "pop3", "--delete-after-days", "7", "--delete-when-deleted-here",
           "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (server), NULL);
  g_assert_cmpint (run.status, ==, 0);
  expected = g_strdup_printf ("Incoming: POP3, as asked: pop3.example.test:%s with TLS", pop3s);
  assert_contains (run.err, expected);

  list = account_list (profile);
  g_free (expected);
  expected = g_strdup_printf ("\tpop3\t" ADDRESS "\tpop3.example.test:%s\ttls", pop3s);
  assert_contains (list, expected);
  {
    g_autoptr(TdAccount) account = stored_account (profile);

    g_assert_cmpint (td_account_get_pop3_policy (account), ==, TD_POP3_POLICY_DELETE_AFTER_DAYS);
    g_assert_cmpuint (td_account_get_pop3_delete_days (account), ==, 7);
    g_assert_true (td_account_get_pop3_delete_when_deleted_here (account));
  }

  /* an IMAP account does not take POP3 options: the usual path says so */
  {
    g_autofree char *other = td_test_make_tempdir ("profile");
    g_auto(Run) imap = { 0 };

    run_cli (&imap, other, NULL, "secret\n", "account", "add", "--auto", ADDRESS,
             "--leave-on-server", "--password-stdin",
             "--trust-fingerprint", td_test_dovecot_get_fingerprint (server), NULL);
    g_assert_cmpint (imap.status, ==, 2);
    assert_contains (imap.err, "are for POP3 accounts");
  }
}

static void
test_untrusted (void)
{
  g_autofree char *profile = td_test_make_tempdir ("profile");
  g_autofree char *list = NULL;
  g_auto(Run) run = { 0 };

  /* Dovecot's certificate is for localhost: shown, with the flag to trust it, and no
   * password is asked for or sent */
  run_cli (&run, profile, NULL, "secret\n", "account", "add", "--auto", ADDRESS,
           "--password-stdin", NULL);
  g_assert_cmpint (run.status, ==, 1);
  assert_contains (run.err, "could not be verified");
  assert_contains (run.err, td_test_dovecot_get_fingerprint (server));
  assert_contains (run.err, "--trust-fingerprint");
  list = account_list (profile);
  g_assert_cmpstr (list, ==, "");
}

static void
test_wrong_password (void)
{
  g_autofree char *profile = td_test_make_tempdir ("profile");
  g_autofree char *list = NULL;
  g_auto(Run) run = { 0 };

  run_cli (&run, profile, NULL, "not the password\n", "account", "add", "--auto", ADDRESS,
           "--password-stdin", "--trust-fingerprint", td_test_dovecot_get_fingerprint (server),
           NULL);
  g_assert_cmpint (run.status, ==, 1);
  assert_contains (run.err, "Incoming: IMAP");
  list = account_list (profile);
  g_assert_cmpstr (list, ==, "");
}

static void
test_nothing (void)
{
  g_autofree char *profile = td_test_make_tempdir ("profile");
  g_auto(Run) run = { 0 };

  run_cli (&run, profile, "", "secret\n", "account", "add", "--auto", "bob@example.test",
           "--password-stdin", NULL);
  g_assert_cmpint (run.status, ==, 1);
  assert_contains (run.err, "No mail server was found for example.test");
}

static void
test_usage (void)
{
  g_autofree char *profile = td_test_make_tempdir ("profile");
  g_auto(Run) a = { 0 };
  g_auto(Run) b = { 0 };
  g_auto(Run) c = { 0 };
  g_auto(Run) d = { 0 };

  run_cli (&a, profile, NULL, NULL, "account", "add", "--auto", "not-an-address", NULL);
  g_assert_cmpint (a.status, ==, 2);
  run_cli (&b, profile, NULL, NULL, "account", "add", "--auto", ADDRESS, "--prefer", "smtp",
           NULL);
  g_assert_cmpint (b.status, ==, 2);
  assert_contains (b.err, "--prefer");
  run_cli (&c, profile, NULL, NULL, "account", "add", "--auto", ADDRESS, "imap", NULL);
  g_assert_cmpint (c.status, ==, 2);
  run_cli (&d, profile, NULL, NULL, "account", "add", "--auto", ADDRESS,
           "--trust-fingerprint", "12:34", NULL);
  g_assert_cmpint (d.status, ==, 2);
  {
    g_auto(Run) e = { 0 };

    run_cli (&e, profile, NULL, NULL, "account", "add", "--auto", ADDRESS, "--bogus", NULL);
    g_assert_cmpint (e.status, ==, 2);
  }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  td_test_init (&argc, &argv);
  server = td_test_dovecot_start (&error);
  g_assert_no_error (error);

  g_test_add_func ("/cli/auto/imap", test_imap);
  g_test_add_func ("/cli/auto/pop3", test_pop3);
  g_test_add_func ("/cli/auto/untrusted", test_untrusted);
  g_test_add_func ("/cli/auto/wrong-password", test_wrong_password);
  g_test_add_func ("/cli/auto/nothing", test_nothing);
  g_test_add_func ("/cli/auto/usage", test_usage);

  status = g_test_run ();
  td_test_dovecot_free (server);
  return status;
}
