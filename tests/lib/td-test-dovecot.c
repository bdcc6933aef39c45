/* td-test-dovecot.c: a real, throwaway Dovecot for one test binary
 *
 * Everything about running the server lives in build-aux/dovecot/mail-server.sh (shared with
 * `make demo` and `make bench`); this file starts it, reads what it wrote (ports, certificate
 * fingerprint, PIDs) and stops it by those PIDs. The script also leaves a watchdog that stops
 * the server when this process dies, so a test that aborts on an assertion (no atexit) cannot
 * leave a Dovecot behind.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-dovecot.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define STOP_TIMEOUT_US (10 * G_USEC_PER_SEC)

struct _TdTestDovecot
{
  char       *dir;
  char       *script;
  char       *cert_path;
  char       *fingerprint;
  GHashTable *ports;      /* service name -> port */
  GHashTable *folders;    /* "user\nfolder" known to exist */
  GPid        master_pid;
  GPid        sink_pid;
  GPid        watchdog_pid;
  guint       generated;  /* messages made by save_generated so far, for distinct dates */
  gboolean    stopped;
};

static GSList *running;

/* A process is gone when it does not exist or is a zombie nobody reaped yet. */
static gboolean
pid_alive (GPid pid)
{
  g_autofree char *stat_path = NULL;
  g_autofree char *stat = NULL;
  const char *end;

  if (pid <= 0)
    return FALSE;
  if (kill (pid, 0) != 0 && errno == ESRCH)
    return FALSE;

  stat_path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
    return FALSE;
  /* "PID (COMM) STATE ...": COMM may contain anything, so look after the last ')'. */
  end = strrchr (stat, ')');
  if (end != NULL && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X'))
    return FALSE;
  return TRUE;
}

static void
terminate_pids (const GPid *pids,
                guint       n_pids)
{
  gint64 deadline = g_get_monotonic_time () + STOP_TIMEOUT_US;
  gboolean any_alive;

  for (guint i = 0; i < n_pids; i++)
    if (pid_alive (pids[i]))
      kill (pids[i], SIGTERM);

  do
    {
      any_alive = FALSE;
      for (guint i = 0; i < n_pids; i++)
        any_alive |= pid_alive (pids[i]);
      if (any_alive)
        g_usleep (20 * 1000);
    }
  while (any_alive && g_get_monotonic_time () < deadline);

  if (any_alive)
    {
      for (guint i = 0; i < n_pids; i++)
        if (pid_alive (pids[i]))
          {
            g_printerr ("td-test-dovecot: process %d ignored SIGTERM, killing it\n", (int) pids[i]);
            kill (pids[i], SIGKILL);
          }
    }
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            unlink (child);
        }
    }
  rmdir (path);
}

static void
stop_all_at_exit (void)
{
  while (running != NULL)
    td_test_dovecot_stop (running->data);
}

/* Reads "key=value" lines into a new table of strings. */
static GHashTable *
read_key_file (const char  *path,
               GError     **error)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *table;

  if (!g_file_get_contents (path, &contents, NULL, error))
    return NULL;

  table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *eq = strchr (lines[i], '=');

      if (eq != NULL)
        g_hash_table_insert (table, g_strndup (lines[i], eq - lines[i]), g_strdup (eq + 1));
    }
  return table;
}

static GPid
parse_pid (GHashTable *table,
           const char *key)
{
  const char *value = g_hash_table_lookup (table, key);
  guint64 pid = 0;

  if (value == NULL || *value == '\0' || !g_ascii_string_to_unsigned (value, 10, 1, G_MAXINT,
                                                                       &pid, NULL))
    return 0;
  return (GPid) pid;
}

/* Runs the shared script with @args, feeding @input (may be NULL) to its stdin; what it
 * printed on stdout goes to @out (may be NULL). */
static gboolean
run_script (const char          *script,
            const char * const  *args,
            GBytes              *input,
            char               **out,
            GError             **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GBytes) out_bytes = NULL;
  g_autoptr(GBytes) err_bytes = NULL;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE;

  g_ptr_array_add (argv, (char *) script);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  if (input != NULL)
    flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;

  proc = g_subprocess_newv ((const char * const *) argv->pdata, flags, error);
  if (proc == NULL)
    return FALSE;
  if (!g_subprocess_communicate (proc, input, NULL, &out_bytes, &err_bytes, error))
    return FALSE;

  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_autofree char *command = g_strjoinv (" ", (char **) argv->pdata);
      gsize out_len = 0, err_len = 0;
      const char *out_text = g_bytes_get_data (out_bytes, &out_len);
      const char *err_text = g_bytes_get_data (err_bytes, &err_len);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "“%s” failed: %.*s%.*s", command,
                   (int) err_len, err_len > 0 ? err_text : "", (int) out_len,
                   out_len > 0 ? out_text : "");
      return FALSE;
    }

  if (out != NULL)
    {
      gsize len = 0;
      const char *text = g_bytes_get_data (out_bytes, &len);

      *out = g_strndup (len > 0 ? text : "", len);
    }
  return TRUE;
}

TdTestDovecot *
td_test_dovecot_start (GError **error)
{
  static gboolean atexit_done;
  const char *source_root = g_getenv ("TD_SOURCE_ROOT");
  g_autofree char *tmp_dir = NULL;
  g_autofree char *owner = NULL;
  g_autofree char *ports_path = NULL;
  g_autofree char *pids_path = NULL;
  g_autofree char *fp_path = NULL;
  g_autoptr(GHashTable) ports = NULL;
  g_autoptr(GHashTable) pids = NULL;
  TdTestDovecot *self;
  GHashTableIter iter;
  gpointer key, value;

  if (source_root == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "TD_SOURCE_ROOT is not set (run the tests through meson test)");
      return NULL;
    }

  /* Not under the test's private root: Dovecot runs as nobody when we are root, and needs
   * every parent directory to be searchable. */
  tmp_dir = g_dir_make_tmp ("tidings-dovecot-XXXXXX", error);
  if (tmp_dir == NULL)
    return NULL;

  self = g_new0 (TdTestDovecot, 1);
  self->dir = g_steal_pointer (&tmp_dir);
  self->script = g_build_filename (source_root, "build-aux", "dovecot", "mail-server.sh", NULL);
  self->cert_path = g_build_filename (self->dir, "cert.pem", NULL);
  self->ports = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  owner = g_strdup_printf ("%d", (int) getpid ());
  {
    const char *args[] = { "start", self->dir, "--owner-pid", owner, NULL };

    if (!run_script (self->script, args, NULL, NULL, error))
      {
        /* Whatever half-started is stopped by the script itself; keep the dir to look at. */
        g_prefix_error (error, "could not start dovecot in %s: ", self->dir);
        self->stopped = TRUE;
        g_hash_table_unref (self->ports);
        g_hash_table_unref (self->folders);
        g_free (self->cert_path);
        g_free (self->script);
        g_free (self->dir);
        g_free (self);
        return NULL;
      }
  }

  if (!atexit_done)
    {
      atexit (stop_all_at_exit);
      atexit_done = TRUE;
    }
  running = g_slist_prepend (running, self);

  pids_path = g_build_filename (self->dir, "pids", NULL);
  ports_path = g_build_filename (self->dir, "ports", NULL);
  fp_path = g_build_filename (self->dir, "fingerprint", NULL);
  if ((pids = read_key_file (pids_path, error)) == NULL ||
      (ports = read_key_file (ports_path, error)) == NULL ||
      !g_file_get_contents (fp_path, &self->fingerprint, NULL, error))
    {
      td_test_dovecot_free (self);
      return NULL;
    }
  g_strstrip (self->fingerprint);

  self->master_pid = parse_pid (pids, "master");
  self->sink_pid = parse_pid (pids, "sink");
  self->watchdog_pid = parse_pid (pids, "watchdog");

  g_hash_table_iter_init (&iter, ports);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint64 port = 0;

      if (g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT16, &port, NULL))
        g_hash_table_insert (self->ports, g_strdup (key), GUINT_TO_POINTER ((guint) port));
    }

  if (self->master_pid == 0 || g_hash_table_size (self->ports) < 7 ||
      strlen (self->fingerprint) != 95)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "mail-server.sh wrote incomplete state into %s", self->dir);
      td_test_dovecot_free (self);
      return NULL;
    }

  g_test_message ("dovecot in %s: imaps %u, imap %u, pop3s %u, submissions %u", self->dir,
                  td_test_dovecot_get_port (self, "imaps"), td_test_dovecot_get_port (self, "imap"),
                  td_test_dovecot_get_port (self, "pop3s"),
                  td_test_dovecot_get_port (self, "submissions"));
  return self;
}

guint16
td_test_dovecot_get_port (TdTestDovecot *self,
                          const char    *service)
{
  gpointer port;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (service != NULL, 0);

  port = g_hash_table_lookup (self->ports, service);
  g_return_val_if_fail (port != NULL, 0);
  return (guint16) GPOINTER_TO_UINT (port);
}

const char *
td_test_dovecot_get_password (TdTestDovecot *self)
{
  return "secret";
}

const char *
td_test_dovecot_get_dir (TdTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->dir;
}

const char *
td_test_dovecot_get_cert_path (TdTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->cert_path;
}

const char *
td_test_dovecot_get_fingerprint (TdTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->fingerprint;
}

static gboolean
doveadm_argv (TdTestDovecot  *self,
              GPtrArray      *args,
              GBytes         *input,
              char          **out,
              GError        **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (char *) "doveadm");
  g_ptr_array_add (argv, self->dir);
  for (guint i = 0; i < args->len; i++)
    g_ptr_array_add (argv, args->pdata[i]);
  g_ptr_array_add (argv, NULL);

  return run_script (self->script, (const char * const *) argv->pdata, input, out, error);
}

gboolean
td_test_dovecot_doveadm (TdTestDovecot  *self,
                         GError        **error,
                         const char     *first_arg,
                         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *arg;
  va_list ap;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (first_arg != NULL, FALSE);
  g_return_val_if_fail (!self->stopped, FALSE);

  va_start (ap, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);

  return doveadm_argv (self, args, NULL, NULL, error);
}

char *
td_test_dovecot_doveadm_output (TdTestDovecot  *self,
                                GError        **error,
                                const char     *first_arg,
                                ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *arg;
  char *out = NULL;
  va_list ap;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (first_arg != NULL, NULL);
  g_return_val_if_fail (!self->stopped, NULL);

  va_start (ap, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);

  if (!doveadm_argv (self, args, NULL, &out, error))
    return NULL;
  return out;
}

static gboolean
is_inbox (const char *folder)
{
  return g_ascii_strcasecmp (folder, "INBOX") == 0;
}

gboolean
td_test_dovecot_create_folder (TdTestDovecot  *self,
                               const char     *user,
                               const char     *folder,
                               GError        **error)
{
  g_autofree char *key = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (user != NULL && folder != NULL, FALSE);

  if (is_inbox (folder))
    return TRUE;

  key = g_strconcat (user, "\n", folder, NULL);
  if (!td_test_dovecot_doveadm (self, &local_error, "mailbox", "create", "-s", "-u", user,
                                folder, NULL))
    {
      /* Idempotent: a folder that is already there is what the caller wants. */
      if (strstr (local_error->message, "already exists") == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  g_hash_table_add (self->folders, g_steal_pointer (&key));
  return TRUE;
}

static gboolean
ensure_folder (TdTestDovecot  *self,
               const char     *user,
               const char     *folder,
               GError        **error)
{
  g_autofree char *key = g_strconcat (user, "\n", folder, NULL);

  if (is_inbox (folder) || g_hash_table_contains (self->folders, key))
    return TRUE;
  return td_test_dovecot_create_folder (self, user, folder, error);
}

gboolean
td_test_dovecot_save (TdTestDovecot  *self,
                      const char     *user,
                      const char     *folder,
                      GBytes         *message,
                      GError        **error)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (user != NULL && folder != NULL && message != NULL, FALSE);
  g_return_val_if_fail (!self->stopped, FALSE);

  if (!ensure_folder (self, user, folder, error))
    return FALSE;

  g_ptr_array_add (args, (char *) "save");
  g_ptr_array_add (args, (char *) "-u");
  g_ptr_array_add (args, (char *) user);
  g_ptr_array_add (args, (char *) "-m");
  g_ptr_array_add (args, (char *) folder);
  return doveadm_argv (self, args, message, NULL, error);
}

static char *
generated_message (const char *prefix,
                   guint       n,
                   guint       serial,
                   GPid        pid)
{
  /* Distinct, increasing dates: one minute apart from a fixed start. */
  g_autoptr(GDateTime) base = g_date_time_new_utc (2024, 1, 1, 8, 0, 0);
  g_autoptr(GDateTime) date = g_date_time_add_minutes (base, serial);
  g_autofree char *date_str = g_date_time_format (date, "%a, %d %b %Y %H:%M:%S +0000");

  return g_strdup_printf ("Date: %s\n"
                          "From: Sender %u <sender%u@example.org>\n"
                          "To: Test User <user@localhost>\n"
                          "Subject: %s %u\n"
                          "Message-ID: <gen.%u.%d@tidings.test>\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: text/plain; charset=utf-8\n"
                          "Content-Transfer-Encoding: 8bit\n"
                          "\n"
                          "This is generated message number %u (\"%s %u\").\n"
                          "It has a second line.\n",
                          date_str, n % 7, n % 7, prefix, n, serial, (int) pid, n, prefix, n);
}

gboolean
td_test_dovecot_save_generated (TdTestDovecot  *self,
                                const char     *user,
                                const char     *folder,
                                const char     *subject_prefix,
                                guint           count,
                                GError        **error)
{
  g_autofree char *tree = NULL;
  g_autofree char *folder_dir = NULL;
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (user != NULL && folder != NULL && subject_prefix != NULL, FALSE);
  g_return_val_if_fail (!self->stopped, FALSE);
  g_return_val_if_fail (folder[0] != '/' && strstr (folder, "..") == NULL, FALSE);

  if (count == 0)
    return TRUE;

  /* seed-tree takes a directory per folder ('/' between levels) of .eml files. */
  tree = g_build_filename (self->dir, "generated-XXXXXX", NULL);
  if (g_mkdtemp (tree) == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot make %s: %s", tree, g_strerror (saved_errno));
      return FALSE;
    }
  folder_dir = g_build_filename (tree, is_inbox (folder) ? "INBOX" : folder, NULL);
  if (g_mkdir_with_parents (folder_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot make %s: %s", folder_dir, g_strerror (saved_errno));
      remove_tree (tree);
      return FALSE;
    }

  for (guint n = 1; n <= count; n++)
    {
      g_autofree char *name = g_strdup_printf ("%08u.eml", n);
      g_autofree char *path = g_build_filename (folder_dir, name, NULL);
      g_autofree char *text = generated_message (subject_prefix, n, ++self->generated, getpid ());

      if (!g_file_set_contents (path, text, -1, error))
        {
          remove_tree (tree);
          return FALSE;
        }
    }

  {
    const char *args[] = { "seed-tree", self->dir, user, tree, NULL };

    ok = run_script (self->script, args, NULL, NULL, error);
  }
  remove_tree (tree);
  if (ok)
    {
      /* seed-tree created the folder if it was missing. */
      g_hash_table_add (self->folders, g_strconcat (user, "\n", folder, NULL));
    }
  return ok;
}

void
td_test_dovecot_stop (TdTestDovecot *self)
{
  GPid watchdog[1];
  GPid servers[2];

  g_return_if_fail (self != NULL);

  running = g_slist_remove (running, self);
  if (self->stopped)
    return;
  self->stopped = TRUE;

  /* The watchdog first, so that it does not run its own stop while we run ours. */
  watchdog[0] = self->watchdog_pid;
  terminate_pids (watchdog, 1);

  servers[0] = self->master_pid;
  servers[1] = self->sink_pid;
  terminate_pids (servers, 2);
}

void
td_test_dovecot_free (TdTestDovecot *self)
{
  if (self == NULL)
    return;

  td_test_dovecot_stop (self);

  if (g_strcmp0 (g_getenv ("TD_TEST_DOVECOT_KEEP"), "1") == 0 || g_test_failed ())
    g_printerr ("td-test-dovecot: kept %s\n", self->dir);
  else
    remove_tree (self->dir);

  g_hash_table_unref (self->ports);
  g_hash_table_unref (self->folders);
  g_free (self->fingerprint);
  g_free (self->cert_path);
  g_free (self->script);
  g_free (self->dir);
  g_free (self);
}
