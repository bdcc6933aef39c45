/* td-test-mailutils.c: a real, throwaway GNU Mailutils imap4d for one test binary
 *
 * imap4d reads only the config file written here (--config-file implies --no-config). The
 * user lives in a virtual domain: the "virtdomain" module reads DIR/pw/localhost, a passwd(5)
 * file of its own whose password field is a crypt(3) hash, so no system account is needed;
 * the user's uid and gid are ours, so the server may keep running as us. imap4d gives a
 * virtual user the mailbox HOME/INBOX; the other folders are Maildirs under HOME/Mail.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-mailutils.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define START_TIMEOUT_US (15 * G_USEC_PER_SEC)
#define STOP_TIMEOUT_US  (10 * G_USEC_PER_SEC)
#define IO_TIMEOUT_S     20

#define USER_LOCAL  "alice"
#define USER_DOMAIN "localhost"
#define PASSWORD    "secret"
/* crypt ("secret", "$6$tidings$"): made once with "openssl passwd -6 -salt tidings secret" */
#define PASSWORD_HASH "$6$tidings$QSEpYZ5hzqsRYIUOIQDqhrvWxaKRWJlwVPwSnb7Ddv9rrhlWC6cZHn3vkt8C" \
                      "x/F0ybTA0Y0Ak5rgHSgY.yxfs1"

struct _TdTestMailutils
{
  char        *dir;
  char        *home;
  char        *fingerprint;
  guint16      imap_port;
  guint16      imaps_port;
  GSubprocess *process;
  GSubprocess *watchdog;
  GPid         pid;
  guint        generated;
  gboolean     stopped;
};

struct _TdTestImap
{
  GSocketClient     *client;
  GSocketConnection *connection;
  GDataInputStream  *input;
  GOutputStream     *output;
  guint              tag;
};

static GSList *running;

/* --- Processes --- */

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
  /* "PID (COMM) STATE PPID ...": COMM may contain anything, so look after the last ')'. */
  end = strrchr (stat, ')');
  if (end != NULL && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X'))
    return FALSE;
  return TRUE;
}

/* The processes whose parent is @parent: imap4d forks one per connection. */
static GArray *
children_of (GPid parent)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (GPid));
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *stat_path = NULL;
      g_autofree char *stat = NULL;
      guint64 pid = 0;
      const char *end;

      if (!g_ascii_string_to_unsigned (name, 10, 1, G_MAXINT, &pid, NULL))
        continue;
      stat_path = g_build_filename ("/proc", name, "stat", NULL);
      if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
        continue;
      end = strrchr (stat, ')');
      /* ") S PPID" */
      if (end != NULL && strlen (end) > 4 && g_ascii_strtoll (end + 4, NULL, 10) == parent)
        {
          GPid child = (GPid) pid;

          g_array_append_val (pids, child);
        }
    }
  return pids;
}

static void
terminate_pids (GArray *pids)
{
  gint64 deadline = g_get_monotonic_time () + STOP_TIMEOUT_US;
  gboolean any_alive;

  for (guint i = 0; i < pids->len; i++)
    if (pid_alive (g_array_index (pids, GPid, i)))
      kill (g_array_index (pids, GPid, i), SIGTERM);

  do
    {
      any_alive = FALSE;
      for (guint i = 0; i < pids->len; i++)
        any_alive |= pid_alive (g_array_index (pids, GPid, i));
      if (any_alive)
        g_usleep (20 * 1000);
    }
  while (any_alive && g_get_monotonic_time () < deadline);

  for (guint i = 0; any_alive && i < pids->len; i++)
    if (pid_alive (g_array_index (pids, GPid, i)))
      {
        g_printerr ("td-test-mailutils: process %d ignored SIGTERM, killing it\n",
                    (int) g_array_index (pids, GPid, i));
        kill (g_array_index (pids, GPid, i), SIGKILL);
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

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
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
    td_test_mailutils_stop (running->data);
}

/* Runs @argv and waits; its stdout goes to @out (may be NULL). */
static gboolean
run (const char * const  *argv,
     char               **out,
     GError             **error)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out_text = NULL;
  g_autofree char *err_text = NULL;

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            error);
  if (proc == NULL || !g_subprocess_communicate_utf8 (proc, NULL, NULL, &out_text, &err_text,
                                                      error))
    return FALSE;
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "“%s” failed: %s", argv[0],
                   err_text != NULL ? err_text : "");
      return FALSE;
    }
  if (out != NULL)
    *out = g_steal_pointer (&out_text);
  return TRUE;
}

static guint16
free_port (GError **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL || !g_socket_bind (socket, any, FALSE, error))
    return 0;
  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
make_dirs (const char  *path,
           GError     **error)
{
  if (g_mkdir_with_parents (path, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "cannot make %s: %s",
                   path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_maildir (const char  *path,
              GError     **error)
{
  static const char *subdirs[] = { "cur", "new", "tmp" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *sub = g_build_filename (path, subdirs[i], NULL);

      if (!make_dirs (sub, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
write_config (TdTestMailutils  *self,
              const char       *conf_path,
              GError          **error)
{
  g_autofree char *pw_dir = g_build_filename (self->dir, "pw", NULL);
  g_autofree char *pw_path = g_build_filename (pw_dir, USER_DOMAIN, NULL);
  g_autofree char *passwd = NULL;
  g_autofree char *conf = NULL;

  if (!make_dirs (pw_dir, error))
    return FALSE;
  passwd = g_strdup_printf ("%s:%s:%u:%u:Alice:%s:/bin/sh\n", USER_LOCAL, PASSWORD_HASH,
                            (guint) getuid (), (guint) getgid (), self->home);
  if (!g_file_set_contents (pw_path, passwd, -1, error))
    return FALSE;

  conf = g_strdup_printf (
    "logging { syslog no; severity info; };\n"
    "auth {\n"
    "  authorization virtdomain;\n"
    "  authentication generic;\n"
    "};\n"
    "virtdomain { passwd-dir \"%s\"; };\n"
    "mailbox { mailbox-type maildir; };\n"
    "namespace personal {\n"
    "  prefix \"\" {\n"
    "    directory \"%s/Mail\";\n"
    "    delimiter \"/\";\n"
    "    mailbox-type maildir;\n"
    "  };\n"
    "};\n"
    "mode daemon;\n"
    "foreground yes;\n"
    "max-children 40;\n"
    "tls {\n"
    "  ssl-certificate-file \"%s/cert.pem\";\n"
    "  ssl-key-file \"%s/key.pem\";\n"
    "};\n"
    "server 127.0.0.1:%u {\n"
    "  tls-mode stls;\n"
    "};\n"
    "server 127.0.0.1:%u {\n"
    "  tls-mode connection;\n"
    "};\n",
    pw_dir, self->home, self->dir, self->dir, self->imap_port, self->imaps_port);
  return g_file_set_contents (conf_path, conf, -1, error);
}

static gboolean
make_certificate (TdTestMailutils  *self,
                  GError          **error)
{
  g_autofree char *cert = g_build_filename (self->dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (self->dir, "key.pem", NULL);
  g_autofree char *out = NULL;
  const char *req[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "3650", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out",
                        cert, NULL };
  const char *fp[] = { "openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256",
                       NULL };
  const char *eq;

  if (!run (req, NULL, error) || !run (fp, &out, error))
    return FALSE;
  /* "sha256 Fingerprint=AB:CD:..." */
  eq = strchr (out, '=');
  if (eq == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "openssl printed no fingerprint: %s",
                   out);
      return FALSE;
    }
  self->fingerprint = g_strstrip (g_strdup (eq + 1));
  return TRUE;
}

static gboolean
port_open (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  g_socket_client_set_timeout (client, 2);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return connection != NULL;
}

static void
free_self (TdTestMailutils *self)
{
  g_clear_object (&self->process);
  g_clear_object (&self->watchdog);
  g_free (self->fingerprint);
  g_free (self->home);
  g_free (self->dir);
  g_free (self);
}

TdTestMailutils *
td_test_mailutils_start (GError **error)
{
  static gboolean atexit_done;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *imap4d = g_find_program_in_path ("imap4d");
  g_autofree char *conf_path = NULL;
  g_autofree char *conf_arg = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *inbox = NULL;
  g_autofree char *mail = NULL;
  g_autofree char *tmp_dir = NULL;
  TdTestMailutils *self;
  gint64 deadline;
  const char *pid_text;

  /* Debian installs it in /usr/sbin, which is not on every PATH */
  if (imap4d == NULL && g_file_test ("/usr/sbin/imap4d", G_FILE_TEST_IS_EXECUTABLE))
    imap4d = g_strdup ("/usr/sbin/imap4d");
  if (imap4d == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "imap4d is not installed (Debian: mailutils-imap4d; "
                           "build-aux/install-deps.sh installs it)");
      return NULL;
    }

  tmp_dir = g_dir_make_tmp ("tidings-mailutils-XXXXXX", error);
  if (tmp_dir == NULL)
    return NULL;

  self = g_new0 (TdTestMailutils, 1);
  self->dir = g_steal_pointer (&tmp_dir);
  self->home = g_build_filename (self->dir, "home", USER_LOCAL, NULL);
  self->stopped = TRUE;
  conf_path = g_build_filename (self->dir, "imap4d.conf", NULL);
  log_path = g_build_filename (self->dir, "imap4d.log", NULL);
  inbox = g_build_filename (self->home, "INBOX", NULL);
  mail = g_build_filename (self->home, "Mail", NULL);

  if ((self->imap_port = free_port (error)) == 0)
    {
      free_self (self);
      return NULL;
    }
  do
    self->imaps_port = free_port (error);
  while (self->imaps_port == self->imap_port);
  if (self->imaps_port == 0 ||
      !make_maildir (inbox, error) || !make_dirs (mail, error) ||
      !make_certificate (self, error) || !write_config (self, conf_path, error))
    {
      g_prefix_error (error, "could not set up imap4d in %s: ", self->dir);
      free_self (self);
      return NULL;
    }

  conf_arg = g_strconcat ("--config-file=", conf_path, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  self->process = g_subprocess_launcher_spawn (launcher, error, imap4d, conf_arg, NULL);
  if (self->process == NULL)
    {
      free_self (self);
      return NULL;
    }
  pid_text = g_subprocess_get_identifier (self->process);
  self->pid = pid_text != NULL ? (GPid) g_ascii_strtoll (pid_text, NULL, 10) : 0;
  self->stopped = FALSE;

  /* A test that aborts on an assertion runs no atexit(): a watchdog waits on a pipe that
   * only this process writes to, and stops the server when it reads end-of-file, as it does
   * when this process is gone. (PR_SET_PDEATHSIG would not do: imap4d changes its group,
   * which clears it.) */
  {
    g_autofree char *pid_arg = g_strdup_printf ("%d", (int) self->pid);
    const char *argv[] = { "/bin/sh", "-c", "read _; kill -TERM \"$0\" 2>/dev/null", pid_arg,
                           NULL };

    self->watchdog = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE, error);
    if (self->watchdog == NULL)
      {
        running = g_slist_prepend (running, self);
        td_test_mailutils_free (self);
        return NULL;
      }
  }

  if (!atexit_done)
    {
      atexit (stop_all_at_exit);
      atexit_done = TRUE;
    }
  running = g_slist_prepend (running, self);

  deadline = g_get_monotonic_time () + START_TIMEOUT_US;
  while (!port_open (self->imap_port) || !port_open (self->imaps_port))
    {
      if (!pid_alive (self->pid) || g_get_monotonic_time () > deadline)
        {
          g_autofree char *log = NULL;

          g_file_get_contents (log_path, &log, NULL, NULL);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "imap4d in %s did not start: %s",
                       self->dir, log != NULL ? log : "(no log)");
          td_test_mailutils_free (self);
          return NULL;
        }
      g_usleep (50 * 1000);
    }

  g_test_message ("imap4d in %s: imap %u, imaps %u", self->dir, self->imap_port,
                  self->imaps_port);
  return self;
}

guint16
td_test_mailutils_get_port (TdTestMailutils *self,
                            const char      *service)
{
  g_return_val_if_fail (self != NULL, 0);
  if (g_strcmp0 (service, "imap") == 0)
    return self->imap_port;
  if (g_strcmp0 (service, "imaps") == 0)
    return self->imaps_port;
  g_return_val_if_reached (0);
}

const char *
td_test_mailutils_get_username (TdTestMailutils *self)
{
  return USER_LOCAL "@" USER_DOMAIN;
}

const char *
td_test_mailutils_get_password (TdTestMailutils *self)
{
  return PASSWORD;
}

const char *
td_test_mailutils_get_dir (TdTestMailutils *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->dir;
}

const char *
td_test_mailutils_get_fingerprint (TdTestMailutils *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->fingerprint;
}

char *
td_test_mailutils_get_maildir (TdTestMailutils *self,
                               const char      *folder)
{
  g_return_val_if_fail (self != NULL && folder != NULL, NULL);
  g_return_val_if_fail (folder[0] != '/' && strstr (folder, "..") == NULL, NULL);

  if (g_ascii_strcasecmp (folder, "INBOX") == 0)
    return g_build_filename (self->home, "INBOX", NULL);
  return g_build_filename (self->home, "Mail", folder, NULL);
}

void
td_test_mailutils_stop (TdTestMailutils *self)
{
  g_autoptr(GArray) pids = NULL;

  g_return_if_fail (self != NULL);

  running = g_slist_remove (running, self);
  if (self->stopped)
    return;
  self->stopped = TRUE;

  /* the watchdog first, so that it does not stop the server while we do */
  if (self->watchdog != NULL)
    {
      g_subprocess_send_signal (self->watchdog, SIGTERM);
      g_subprocess_wait (self->watchdog, NULL, NULL);
    }

  /* the sessions first (found before the master goes, while they are still its children) */
  pids = children_of (self->pid);
  g_array_prepend_val (pids, self->pid);
  terminate_pids (pids);
}

void
td_test_mailutils_free (TdTestMailutils *self)
{
  if (self == NULL)
    return;

  td_test_mailutils_stop (self);

  if (g_strcmp0 (g_getenv ("TD_TEST_MAILUTILS_KEEP"), "1") == 0 || g_test_failed ())
    g_printerr ("td-test-mailutils: kept %s\n", self->dir);
  else
    remove_tree (self->dir);
  free_self (self);
}

/* --- A raw IMAP connection --- */

/* Reads one response line, literals inline ("{N}\r\n" and the N bytes), "\r\n" stripped. */
static char *
read_logical_line (TdTestImap  *self,
                   GError     **error)
{
  g_autoptr(GString) line = g_string_new (NULL);

  for (;;)
    {
      g_autofree char *chunk = NULL;
      gsize len = 0;
      const char *brace;
      guint64 size = 0;

      chunk = g_data_input_stream_read_line (self->input, &len, NULL, error);
      if (chunk == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                                 "the server closed the connection");
          return NULL;
        }
      if (len > 0 && chunk[len - 1] == '\r')
        chunk[--len] = '\0';
      g_string_append_len (line, chunk, (gssize) len);

      brace = len > 0 && chunk[len - 1] == '}' ? strrchr (chunk, '{') : NULL;
      if (brace != NULL)
        {
          /* "{N}" or, from a client, "{N+}" */
          g_autofree char *digits = g_strndup (brace + 1, (gsize) (chunk + len - 1 - brace - 1));

          if (!g_ascii_string_to_unsigned (digits, 10, 0, 64 * 1024 * 1024, &size, NULL))
            brace = NULL;
        }
      if (brace == NULL)
        break;
      {
        g_autofree char *data = g_malloc (size + 1);
        gsize got = 0;

        if (!g_input_stream_read_all (G_INPUT_STREAM (self->input), data, size, &got, NULL,
                                      error))
          return NULL;
        if (got != size)
          {
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "a literal was cut off");
            return NULL;
          }
        g_string_append (line, "\r\n");
        g_string_append_len (line, data, (gssize) size);
      }
    }
  return g_string_free (g_steal_pointer (&line), FALSE);
}

/* Reads up to the tagged answer to @tag; the lines go to @lines (may be NULL). */
static gboolean
read_answer (TdTestImap  *self,
             const char  *tag,
             GPtrArray   *lines,
             GError     **error)
{
  g_autofree char *prefix = g_strconcat (tag, " ", NULL);

  for (;;)
    {
      char *line = read_logical_line (self, error);
      gboolean tagged;

      if (line == NULL)
        return FALSE;
      tagged = g_str_has_prefix (line, prefix);
      if (tagged && !g_str_has_prefix (line + strlen (prefix), "OK"))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "imap4d answered: %s", line);
          g_free (line);
          return FALSE;
        }
      if (lines != NULL)
        g_ptr_array_add (lines, line);
      else
        g_free (line);
      if (tagged)
        return TRUE;
    }
}

static gboolean
send_text (TdTestImap  *self,
           const char  *text,
           gsize        len,
           GError     **error)
{
  return g_output_stream_write_all (self->output, text, len, NULL, NULL, error) &&
         g_output_stream_flush (self->output, NULL, error);
}

static char *
next_tag (TdTestImap *self)
{
  return g_strdup_printf ("t%u", ++self->tag);
}

static GPtrArray *
command_lines (TdTestImap  *self,
               const char  *command,
               GError     **error)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *tag = next_tag (self);
  g_autofree char *text = g_strdup_printf ("%s %s\r\n", tag, command);

  if (!send_text (self, text, strlen (text), error) || !read_answer (self, tag, lines, error))
    {
      g_prefix_error (error, "“%s”: ", command);
      return NULL;
    }
  return g_steal_pointer (&lines);
}

TdTestImap *
td_test_imap_connect (TdTestMailutils  *server,
                      GError          **error)
{
  g_autoptr(TdTestImap) self = g_new0 (TdTestImap, 1);
  g_autofree char *greeting = NULL;
  g_autofree char *login = NULL;
  g_autoptr(GPtrArray) lines = NULL;

  g_return_val_if_fail (server != NULL && !server->stopped, NULL);

  self->client = g_socket_client_new ();
  g_socket_client_set_timeout (self->client, IO_TIMEOUT_S);
  self->connection = g_socket_client_connect_to_host (self->client, "127.0.0.1",
                                                      server->imap_port, NULL, error);
  if (self->connection == NULL)
    return NULL;
  self->input =
    g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (self->connection)));
  g_data_input_stream_set_newline_type (self->input, G_DATA_STREAM_NEWLINE_TYPE_LF);
  self->output = g_object_ref (g_io_stream_get_output_stream (G_IO_STREAM (self->connection)));

  greeting = read_logical_line (self, error);
  if (greeting == NULL)
    return NULL;
  if (!g_str_has_prefix (greeting, "* OK"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "imap4d greeted with: %s", greeting);
      return NULL;
    }
  login = g_strdup_printf ("LOGIN %s %s", td_test_mailutils_get_username (server), PASSWORD);
  lines = command_lines (self, login, error);
  if (lines == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

char *
td_test_imap_command (TdTestImap  *self,
                      GError     **error,
                      const char  *format,
                      ...)
{
  g_autofree char *command = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  GString *all = g_string_new (NULL);
  va_list ap;

  va_start (ap, format);
  command = g_strdup_vprintf (format, ap);
  va_end (ap);

  lines = command_lines (self, command, error);
  if (lines == NULL)
    {
      g_string_free (all, TRUE);
      return NULL;
    }
  for (guint i = 0; i < lines->len; i++)
    {
      g_string_append (all, g_ptr_array_index (lines, i));
      g_string_append (all, "\r\n");
    }
  return g_string_free (all, FALSE);
}

/* @s as an IMAP quoted string. */
static char *
quote (const char *s)
{
  GString *q = g_string_new ("\"");

  for (; *s != '\0'; s++)
    {
      if (*s == '"' || *s == '\\')
        g_string_append_c (q, '\\');
      g_string_append_c (q, *s);
    }
  g_string_append_c (q, '"');
  return g_string_free (q, FALSE);
}

gboolean
td_test_imap_append (TdTestImap  *self,
                     const char  *folder,
                     const char  *flags,
                     GBytes      *message,
                     GError     **error)
{
  g_autofree char *tag = next_tag (self);
  g_autofree char *quoted = quote (folder);
  g_autofree char *head = NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data (message, &len);

  /* LITERAL+: no wait for the continuation */
  head = g_strdup_printf ("%s APPEND %s (%s) {%" G_GSIZE_FORMAT "+}\r\n", tag, quoted,
                          flags != NULL ? flags : "", len);
  if (!send_text (self, head, strlen (head), error) || !send_text (self, data, len, error) ||
      !send_text (self, "\r\n", 2, error) || !read_answer (self, tag, NULL, error))
    {
      g_prefix_error (error, "APPEND to %s: ", folder);
      return FALSE;
    }
  return TRUE;
}

void
td_test_imap_free (TdTestImap *self)
{
  if (self == NULL)
    return;
  if (self->output != NULL)
    {
      const char *logout = "z LOGOUT\r\n";

      /* best effort: imap4d logs an I/O error for a session that just goes away */
      g_output_stream_write_all (self->output, logout, strlen (logout), NULL, NULL, NULL);
      g_output_stream_flush (self->output, NULL, NULL);
    }
  if (self->connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->connection);
  g_clear_object (&self->client);
  g_free (self);
}

static void
message_free (TdTestImapMessage *m)
{
  g_free (m->flags);
  g_free (m->subject);
  g_free (m);
}

/* The value of the header @name (case-insensitive) in @text, up to the end of its line. */
static char *
header_value (const char *text,
              const char *name)
{
  gsize name_len = strlen (name);

  for (const char *p = text; p != NULL && *p != '\0'; p = strchr (p, '\n'))
    {
      const char *end;

      if (*p == '\n')
        p++;
      if (g_ascii_strncasecmp (p, name, name_len) != 0 || p[name_len] != ':')
        continue;
      p += name_len + 1;
      while (*p == ' ')
        p++;
      end = p;
      while (*end != '\0' && *end != '\r' && *end != '\n')
        end++;
      return g_strndup (p, (gsize) (end - p));
    }
  return NULL;
}

GPtrArray *
td_test_imap_list_messages (TdTestImap  *self,
                            const char  *folder,
                            GError     **error)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func ((GDestroyNotify) message_free);
  g_autofree char *quoted = quote (folder);
  g_autofree char *examine = g_strdup_printf ("EXAMINE %s", quoted);
  g_autoptr(GPtrArray) lines = NULL;
  guint64 exists = 0;

  lines = command_lines (self, examine, error);
  if (lines == NULL)
    return NULL;
  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = g_ptr_array_index (lines, i);

      if (g_str_has_prefix (line, "* ") && g_str_has_suffix (line, " EXISTS"))
        exists = g_ascii_strtoull (line + 2, NULL, 10);
    }
  if (exists == 0)
    return g_steal_pointer (&messages);

  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = command_lines (self, "UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
                         error);
  if (lines == NULL)
    return NULL;
  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = g_ptr_array_index (lines, i);
      const char *uid = strstr (line, "UID ");
      const char *flags = strstr (line, "FLAGS (");
      const char *body = strstr (line, "BODY[");
      TdTestImapMessage *m;

      if (!g_str_has_prefix (line, "* ") || strstr (line, " FETCH (") == NULL || uid == NULL)
        continue;
      m = g_new0 (TdTestImapMessage, 1);
      m->uid = (guint32) g_ascii_strtoull (uid + 4, NULL, 10);
      if (flags != NULL)
        {
          const char *end = strchr (flags, ')');

          flags += strlen ("FLAGS (");
          m->flags = end != NULL ? g_strndup (flags, (gsize) (end - flags)) : g_strdup ("");
        }
      else
        m->flags = g_strdup ("");
      m->subject = body != NULL ? header_value (body, "Subject") : NULL;
      if (m->subject == NULL)
        m->subject = g_strdup ("");
      g_ptr_array_add (messages, m);
    }
  return g_steal_pointer (&messages);
}

GStrv
td_test_imap_list_folders (TdTestImap  *self,
                           GError     **error)
{
  g_autoptr(GPtrArray) lines = command_lines (self, "LIST \"\" \"*\"", error);
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();

  if (lines == NULL)
    return NULL;
  for (guint i = 0; i < lines->len; i++)
    {
      const char *p = g_ptr_array_index (lines, i);
      GString *name;

      if (!g_str_has_prefix (p, "* LIST (") || (p = strchr (p, ')')) == NULL)
        continue;
      p++;
      while (*p == ' ')
        p++;
      /* the delimiter: NIL or a quoted character */
      if (g_str_has_prefix (p, "NIL"))
        p += 3;
      else if (*p == '"')
        {
          p++;
          if (*p == '\\')
            p++;
          p += 2;
        }
      while (*p == ' ')
        p++;
      name = g_string_new (NULL);
      if (*p == '"')
        {
          for (p++; *p != '\0' && *p != '"'; p++)
            {
              if (*p == '\\' && p[1] != '\0')
                p++;
              g_string_append_c (name, *p);
            }
        }
      else if (*p == '{' && strstr (p, "\r\n") != NULL)
        g_string_append (name, strstr (p, "\r\n") + 2);
      else
        g_string_append (name, p);
      g_strv_builder_add (names, name->str);
      g_string_free (name, TRUE);
    }
  return g_strv_builder_end (names);
}

/* --- Seeding --- */

static char *
generated_message (const char *prefix,
                   guint       n,
                   guint       serial)
{
  /* Distinct, increasing dates: one minute apart from a fixed start. */
  g_autoptr(GDateTime) base = g_date_time_new_utc (2024, 1, 1, 8, 0, 0);
  g_autoptr(GDateTime) date = g_date_time_add_minutes (base, serial);
  g_autofree char *date_str = g_date_time_format (date, "%a, %d %b %Y %H:%M:%S +0000");

  return g_strdup_printf ("Date: %s\r\n"
                          "From: Sender %u <sender%u@example.org>\r\n"
                          "To: Alice <alice@localhost>\r\n"
                          "Subject: %s %u\r\n"
                          "Message-ID: <mu.%u.%d@tidings.test>\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n"
                          "\r\n"
                          "This is generated message number %u (\"%s %u\").\r\n"
                          "It has a second line.\r\n",
                          date_str, n % 7, n % 7, prefix, n, serial, (int) getpid (), n, prefix,
                          n);
}

gboolean
td_test_mailutils_append_generated (TdTestMailutils  *self,
                                    const char       *folder,
                                    const char       *subject_prefix,
                                    guint             count,
                                    GError          **error)
{
  g_autoptr(TdTestImap) imap = NULL;

  g_return_val_if_fail (self != NULL && folder != NULL && subject_prefix != NULL, FALSE);

  imap = td_test_imap_connect (self, error);
  if (imap == NULL)
    return FALSE;
  for (guint n = 1; n <= count; n++)
    {
      g_autofree char *text = generated_message (subject_prefix, n, ++self->generated);
      g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));

      if (!td_test_imap_append (imap, folder, "", bytes, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
td_test_mailutils_create_folder (TdTestMailutils  *self,
                                 const char       *folder,
                                 GError          **error)
{
  g_autoptr(TdTestImap) imap = NULL;
  g_autofree char *quoted = quote (folder);
  g_autofree char *out = NULL;

  g_return_val_if_fail (self != NULL && folder != NULL, FALSE);

  imap = td_test_imap_connect (self, error);
  if (imap == NULL)
    return FALSE;
  out = td_test_imap_command (imap, error, "CREATE %s", quoted);
  return out != NULL;
}
