/* test-smtp-send.c: `tidings-cli send` through a real Dovecot submission to an SMTP sink
 *
 * Runs under tests/integration/keyring-session.sh (a private D-Bus with gnome-keyring). One
 * Dovecot for the binary (build-aux/dovecot/mail-server.sh): its submission service relays to
 * an aiosmtpd sink that writes each message into DIR/sink/new, with the envelope added as
 * X-MailFrom / X-RcptTo. What the sink received is parsed back with GMime. Each case has its
 * own profile; the CLI runs as a user runs it, a new process each time (a restart).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#include "td-mime-private.h"
#include "td-store.h"
#include "td-test-store.h"
#include "td-test-dovecot.h"
#include "td-test-util.h"

#define WAIT_MS 60000

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

/* Runs tidings-cli --profile PROFILE ARGS (a NULL-terminated array) with @input on stdin,
 * iterating the default main context meanwhile (a TdTestProxy of this process runs there). */
static void
run_cliv (Run                *run,
          const char         *profile,
          const char         *input,
          const char * const *argv)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *joined = g_strjoinv (" ", (char **) argv);

  g_ptr_array_add (args, g_build_filename (g_getenv ("TD_BUILD_ROOT"), "src", "cli",
                                           "tidings-cli", NULL));
  g_ptr_array_add (args, g_strdup ("--profile"));
  g_ptr_array_add (args, g_strdup (profile));
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (argv[i]));
  g_ptr_array_add (args, NULL);

  proc = g_subprocess_newv ((const char * const *) args->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                            G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (proc, input != NULL ? input : "", NULL,
                                       td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  g_subprocess_communicate_utf8_finish (proc, result, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_subprocess_wait (proc, NULL, NULL);
  run->status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  g_test_message ("tidings-cli %s → %d\nstdout: %s\nstderr: %s", joined, run->status, run->out,
                  run->err);
}

#define run_cli(run, profile, input, ...) \
  run_cliv ((run), (profile), (input), (const char * const[]) { __VA_ARGS__, NULL })

static char *
port_string (const char *service)
{
  return g_strdup_printf ("%u", td_test_dovecot_get_port (server, service));
}

/* Adds alice's IMAPS account, sending through @smtp_port with @security (and @smtp_user);
 * returns its profile. */
static char *
add_alice (guint16     smtp_port,
           const char *security,
           const char *smtp_user)
{
  g_autofree char *profile = td_test_make_tempdir ("profile");
  g_autofree char *imaps = port_string ("imaps");
  g_autofree char *smtp = g_strdup_printf ("%u", smtp_port);
  g_auto(Run) run = { 0 };

  run_cli (&run, profile, "secret\n", "account", "add", "imap", "--address", "alice@localhost",
           "--host", "localhost", "--port", imaps, "--user", "alice", "--name", "Alice Ärger",
           "--password-stdin", "--trust-fingerprint", td_test_dovecot_get_fingerprint (server),
           "--smtp-port", smtp, "--smtp-security", security, "--smtp-user", smtp_user);
  g_assert_cmpint (run.status, ==, 0);
  return g_steal_pointer (&profile);
}

static char *
sink_dir (void)
{
  return g_build_filename (td_test_dovecot_get_dir (server), "sink", "new", NULL);
}

/* The message the sink received with @needle in it (NULL when none). */
static GBytes *
sink_find (const char *needle)
{
  g_autofree char *dir_path = sink_dir ();
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      char *contents = NULL;
      gsize len = 0;

      if (!g_file_get_contents (path, &contents, &len, NULL))
        continue;
      if (memmem (contents, len, needle, strlen (needle)) != NULL)
        return g_bytes_new_take (contents, len);
      g_free (contents);
    }
  return NULL;
}

static guint
sink_count (const char *needle)
{
  g_autofree char *dir_path = sink_dir ();
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_get_contents (path, &contents, &len, NULL) &&
          memmem (contents, len, needle, strlen (needle)) != NULL)
        n++;
    }
  return n;
}

static GMimeMessage *
parse (GBytes *raw)
{
  gsize len;
  gconstpointer data = g_bytes_get_data (raw, &len);
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (data, len);
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);

  g_object_unref (parser);
  g_object_unref (stream);
  g_assert_nonnull (message);
  return message;
}

#define doveadm_out(error, ...) \
  (doveadm_out_check (td_test_dovecot_doveadm_output (server, (error), __VA_ARGS__, NULL), \
                      (error)))

static char *
doveadm_out_check (char    *out,
                   GError **error)
{
  g_assert_no_error (*error);
  g_assert_nonnull (out);
  return out;
}

/* --- The cases --- */

static const char body[] =
  "Hello Bob,\n"
  "\n"
  "here is the report. This first paragraph is long enough that format=flowed has to wrap it "
  "into more than one line on the wire.\n"
  ".a line that starts with a dot\n"
  "\n"
  "Grüße, Alice\n";

/* STARTTLS on 587: the sink gets a MIME message with the right headers, text, attachment and
 * envelope (Bcc only there); the copy is in Sent, read; the outbox is empty. */
static void
test_send (void)
{
  g_autofree char *profile = add_alice (td_test_dovecot_get_port (server, "submission"),
                                        "starttls", "alice");
  g_autofree char *dir = td_test_make_tempdir ("attach");
  g_autofree char *file = g_build_filename (dir, "Bericht März.pdf", NULL);
  g_autoptr(GBytes) received = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *from = NULL;
  g_autofree char *sent = NULL;
  g_autofree char *flags = NULL;
  g_auto(Run) send = { 0 };
  g_auto(Run) outbox = { 0 };
  GMimeObject *top;
  GMimeObject *text;
  GMimeObject *attachment;
  GMimeDataWrapper *content;
  g_autoptr(GMimeStream) decoded = g_mime_stream_mem_new ();
  static const char pdf[] = "%PDF-1.4\n\x01\x02\xff binary";
  GByteArray *bytes;

  g_assert_true (g_file_set_contents (file, pdf, sizeof pdf - 1, NULL));
  run_cli (&send, profile, body, "send", "--to", "Bob <bob@localhost>", "--cc",
           "carol@example.org", "--bcc", "dave@example.org", "--subject",
           "Überraschung: the report", "--attach", file);
  g_assert_cmpint (send.status, ==, 0);
  g_assert_nonnull (strstr (send.err, "Sent."));

  received = sink_find ("Subject: =?");
  g_assert_nonnull (received);
  message = parse (received);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==, "Überraschung: the report");
  from = internet_address_list_to_string (g_mime_message_get_from (message), NULL, FALSE);
  g_assert_cmpstr (from, ==, "Alice Ärger <alice@localhost>");
  g_assert_cmpint (internet_address_list_length (g_mime_message_get_to (message)), ==, 1);
  g_assert_cmpint (internet_address_list_length (g_mime_message_get_cc (message)), ==, 1);
  g_assert_null (g_mime_object_get_header (GMIME_OBJECT (message), "Bcc"));
  g_assert_nonnull (g_mime_message_get_message_id (message));
  g_assert_nonnull (g_mime_message_get_date (message));
  /* the envelope, as the sink saw it */
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (message), "X-MailFrom"), ==,
                   "alice@localhost");
  g_assert_nonnull (strstr (g_mime_object_get_header (GMIME_OBJECT (message), "X-RcptTo"),
                            "dave@example.org"));

  top = g_mime_message_get_mime_part (message);
  g_assert_true (GMIME_IS_MULTIPART (top));
  text = g_mime_multipart_get_part (GMIME_MULTIPART (top), 0);
  g_assert_cmpstr (g_mime_object_get_content_type_parameter (text, "format"), ==, "flowed");
  g_assert_cmpstr (g_mime_object_get_content_type_parameter (text, "charset"), ==, "utf-8");
  g_assert_nonnull (strstr (g_mime_text_part_get_text (GMIME_TEXT_PART (text)),
                            "\n.a line that starts with a dot\n"));   /* dot-stuffing undone */
  g_assert_nonnull (strstr (g_mime_text_part_get_text (GMIME_TEXT_PART (text)), "Grüße, Alice"));
  attachment = g_mime_multipart_get_part (GMIME_MULTIPART (top), 1);
  g_assert_cmpstr (g_mime_part_get_filename (GMIME_PART (attachment)), ==, "Bericht März.pdf");
  g_assert_cmpint (g_mime_part_get_content_encoding (GMIME_PART (attachment)), ==,
                   GMIME_CONTENT_ENCODING_BASE64);
  content = g_mime_part_get_content (GMIME_PART (attachment));
  g_mime_data_wrapper_write_to_stream (content, decoded);
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (decoded));
  g_assert_cmpmem (bytes->data, bytes->len, pdf, sizeof pdf - 1);

  /* the copy in Sent, read */
  sent = doveadm_out (&error, "search", "-u", "alice", "mailbox", "Sent", "subject", "report");
  {
    g_auto(GStrv) lines = g_strsplit (g_strstrip (sent), "\n", -1);

    g_assert_cmpuint (g_strv_length (lines), ==, 1);
    g_assert_cmpstr (lines[0], !=, "");
  }
  flags = doveadm_out (&error, "fetch", "-u", "alice", "flags", "mailbox", "Sent", "subject",
                       "report");
  g_assert_nonnull (strstr (flags, "\\Seen"));

  run_cli (&outbox, profile, NULL, "outbox");
  g_assert_cmpint (outbox.status, ==, 0);
  g_assert_cmpstr (outbox.out, ==, "");
  g_assert_nonnull (strstr (outbox.err, "empty"));
}

/* A reply (implicit TLS on 465): To is the original's From, In-Reply-To is set, and the
 * original is \Answered on the IMAP server. */
static void
test_reply (void)
{
  g_autofree char *profile = add_alice (td_test_dovecot_get_port (server, "submissions"),
                                        "tls", "alice");
  static const char original[] =
    "From: Bob <bob@localhost>\r\n"
    "To: alice@localhost\r\n"
    "Subject: Lunch on Friday?\r\n"
    "Date: Mon, 07 Dec 2026 11:30:00 +0000\r\n"
    "Message-ID: <lunch-friday@localhost>\r\n"
    "\r\n"
    "Shall we?\r\n";
  g_autoptr(GBytes) raw = g_bytes_new_static (original, sizeof original - 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) received = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autofree char *flags = NULL;
  g_autofree char *text = NULL;
  g_auto(Run) sync = { 0 };
  g_auto(Run) ls = { 0 };
  g_auto(Run) send = { 0 };
  g_auto(GStrv) fields = NULL;

  g_assert_true (td_test_dovecot_save (server, "alice", "INBOX", raw, &error));
  g_assert_no_error (error);
  run_cli (&sync, profile, NULL, "sync");
  g_assert_cmpint (sync.status, ==, 0);
  run_cli (&ls, profile, NULL, "ls", "INBOX");
  g_assert_cmpint (ls.status, ==, 0);
  g_assert_nonnull (strstr (ls.out, "Lunch on Friday?"));
  fields = g_strsplit (ls.out, "\t", 2);

  run_cli (&send, profile, "Yes, at noon.\n", "send", "--reply-to-message", fields[0]);
  g_assert_cmpint (send.status, ==, 0);

  received = sink_find ("In-Reply-To: <lunch-friday@localhost>");
  g_assert_nonnull (received);
  message = parse (received);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==, "Re: Lunch on Friday?");
  g_assert_nonnull (strstr (g_mime_object_get_header (GMIME_OBJECT (message), "X-RcptTo"),
                            "bob@localhost"));
  text = g_mime_text_part_get_text (GMIME_TEXT_PART (g_mime_message_get_mime_part (message)));
  g_assert_nonnull (strstr (text, "Bob wrote:"));
  g_assert_nonnull (strstr (text, "\n> Shall we?"));
  g_assert_nonnull (strstr (text, "\nYes, at noon."));

  flags = doveadm_out (&error, "fetch", "-u", "alice", "flags", "mailbox", "INBOX", "header",
                       "Message-ID", "lunch-friday");
  g_assert_nonnull (strstr (flags, "\\Answered"));
}

/* The server out of reach: the message waits in the outbox with the reason; a later run (a
 * new process) sends it, once. */
static void
test_server_down (void)
{
  g_autoptr(TdTestProxy) proxy = td_test_proxy_new (td_test_dovecot_get_port (server,
                                                                              "submission"), 0);
  g_autofree char *profile = NULL;
  g_auto(Run) send = { 0 };
  g_auto(Run) waiting = { 0 };
  g_auto(Run) later = { 0 };
  g_auto(Run) offline = { 0 };
  g_auto(Run) listed = { 0 };
  g_auto(Run) sent = { 0 };

  td_test_proxy_set_down (proxy, TRUE);
  profile = add_alice (td_test_proxy_get_port (proxy), "starttls", "alice");
  run_cli (&send, profile, "Wait for it.\n", "send", "--to", "bob@localhost", "--subject",
           "Through the outbox");
  g_assert_cmpint (send.status, ==, 1);
  g_assert_nonnull (strstr (send.err, "could not be sent now"));
  g_assert_nonnull (strstr (send.err, "outbox --send"));
  g_assert_cmpuint (sink_count ("Through the outbox"), ==, 0);

  run_cli (&waiting, profile, NULL, "outbox");
  g_assert_cmpint (waiting.status, ==, 0);
  g_assert_nonnull (strstr (waiting.out, "\tqueued\t1\tThrough the outbox\tbob@localhost\n"));

  td_test_proxy_set_down (proxy, FALSE);
  run_cli (&later, profile, NULL, "outbox", "--send");
  g_assert_cmpint (later.status, ==, 0);
  g_assert_cmpstr (later.out, ==, "");
  g_assert_cmpuint (sink_count ("Through the outbox"), ==, 1);

  /* --offline: only queued, sent by the next run */
  run_cli (&offline, profile, "Later.\n", "--offline", "send", "--to", "bob@localhost",
           "--subject", "Queued offline");
  g_assert_cmpint (offline.status, ==, 0);
  g_assert_nonnull (strstr (offline.err, "waits in the outbox"));
  g_assert_cmpuint (sink_count ("Queued offline"), ==, 0);
  run_cli (&listed, profile, NULL, "outbox");
  g_assert_nonnull (strstr (listed.out, "\tqueued\t0\tQueued offline\t"));
  run_cli (&sent, profile, NULL, "outbox", "--send");
  g_assert_cmpint (sent.status, ==, 0);
  g_assert_cmpuint (sink_count ("Queued offline"), ==, 1);
}

/* Refused credentials (535) and a message over the server's SIZE: clear errors, and the
 * message stays in the outbox as failed with the reason. */
static void
test_refusals (void)
{
  g_autofree char *wrong = add_alice (td_test_dovecot_get_port (server, "submissions"), "tls",
                                      "nobody");
  g_autofree char *profile = add_alice (td_test_dovecot_get_port (server, "submission"),
                                        "starttls", "alice");
  g_autofree char *dir = td_test_make_tempdir ("big");
  g_autofree char *file = g_build_filename (dir, "big.bin", NULL);
  g_autofree char *big = g_strnfill (3 * 1024 * 1024, 'x');
  g_auto(Run) denied = { 0 };
  g_auto(Run) listed = { 0 };
  g_auto(Run) fixed = { 0 };
  g_auto(Run) retried = { 0 };
  g_auto(Run) oversize = { 0 };

  run_cli (&denied, wrong, "x\n", "send", "--to", "bob@localhost", "--subject", "Denied");
  g_assert_cmpint (denied.status, ==, 1);
  g_assert_nonnull (strstr (denied.err, "refused the user name or password for nobody"));
  g_assert_nonnull (strstr (denied.err, "outbox --retry"));
  run_cli (&listed, wrong, NULL, "outbox");
  g_assert_nonnull (strstr (listed.out, "\tfailed\t1\tDenied\t"));
  g_assert_nonnull (strstr (listed.out, "refused the user name or password"));

  /* the user fixes it and says retry: sent */
  run_cli (&fixed, wrong, NULL, "account", "set", "alice@localhost", "--smtp-user", "alice");
  g_assert_cmpint (fixed.status, ==, 0);
  run_cli (&retried, wrong, NULL, "outbox", "--retry", "1");
  g_assert_cmpint (retried.status, ==, 0);
  g_assert_cmpuint (sink_count ("Subject: Denied"), ==, 1);

  g_assert_true (g_file_set_contents (file, big, -1, NULL));
  run_cli (&oversize, profile, "x\n", "send", "--to", "bob@localhost", "--subject", "Too big",
           "--attach", file);
  g_assert_cmpint (oversize.status, ==, 1);
  g_assert_nonnull (strstr (oversize.err, "2097152 bytes) the mail server localhost accepts"));
  g_assert_nonnull (strstr (oversize.err, "Remove attachments"));
  g_assert_cmpuint (sink_count ("Too big"), ==, 0);
}

/* An SMTP password of its own: used instead of the incoming one (a wrong one is refused),
 * and replaced with account set; with --sent-saved-by-server no copy is saved. */
static void
test_smtp_password (void)
{
  g_autofree char *profile = td_test_make_tempdir ("profile");
  g_autofree char *imaps = port_string ("imaps");
  g_autofree char *smtp = port_string ("submissions");
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  g_auto(Run) add = { 0 };
  g_auto(Run) denied = { 0 };
  g_auto(Run) set = { 0 };
  g_auto(Run) retried = { 0 };

  run_cli (&add, profile, "secret\nnot-the-password\n", "account", "add", "imap", "--address",
           "alice@localhost", "--host", "localhost", "--port", imaps, "--user", "alice",
           "--password-stdin", "--trust-fingerprint", td_test_dovecot_get_fingerprint (server),
           "--smtp-port", smtp, "--smtp-security", "tls", "--smtp-password-stdin",
           "--sent-saved-by-server");
  g_assert_cmpint (add.status, ==, 0);
  run_cli (&denied, profile, "x\n", "send", "--to", "bob@localhost", "--subject",
           "Own password");
  g_assert_cmpint (denied.status, ==, 1);
  g_assert_nonnull (strstr (denied.err, "refused the user name or password for alice"));

  run_cli (&set, profile, "secret\n", "account", "set", "alice@localhost",
           "--smtp-password-stdin");
  g_assert_cmpint (set.status, ==, 0);
  run_cli (&retried, profile, NULL, "outbox", "--retry", "1");
  g_assert_cmpint (retried.status, ==, 0);
  g_assert_cmpuint (sink_count ("Subject: Own password"), ==, 1);
  g_assert_null (strstr (retried.err, "Saving a copy"));
  /* (Sent exists when an earlier case made it; run alone, this makes it) */
  td_test_dovecot_create_folder (server, "alice", "Sent", NULL);
  sent = doveadm_out (&error, "search", "-u", "alice", "mailbox", "Sent", "subject",
                      "Own password");
  g_assert_cmpstr (g_strstrip (sent), ==, "");
}

/* A POP3 account: the copy goes to its local Sent folder, read. */
static void
test_pop3 (void)
{
  g_autofree char *profile = td_test_make_tempdir ("profile");
  g_autofree char *pop3s = port_string ("pop3s");
  g_autofree char *smtp = port_string ("submission");
  g_auto(Run) add = { 0 };
  g_auto(Run) send = { 0 };
  g_auto(Run) ls = { 0 };

  run_cli (&add, profile, "secret\n", "account", "add", "pop3", "--address", "alice@localhost",
           "--host", "localhost", "--port", pop3s, "--user", "alice", "--password-stdin",
           "--trust-fingerprint", td_test_dovecot_get_fingerprint (server), "--smtp-port", smtp);
  g_assert_cmpint (add.status, ==, 0);
  run_cli (&send, profile, "From POP3.\n", "send", "--to", "bob@localhost", "--subject",
           "Sent from a POP3 account");
  g_assert_cmpint (send.status, ==, 0);
  g_assert_cmpuint (sink_count ("Sent from a POP3 account"), ==, 1);

  run_cli (&ls, profile, NULL, "ls", "Sent");
  g_assert_cmpint (ls.status, ==, 0);
  g_assert_nonnull (strstr (ls.out, "Sent from a POP3 account"));
  g_assert_true (g_str_has_suffix (g_strchomp (ls.out), "\tS"));   /* read */
}

/* How many rows of the outbox at @db_path have @subject (-1: the store does not open). */
static int
outbox_rows (const char *db_path,
             const char *subject)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int n = -1;

  if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    {
      sqlite3_close (db);
      return -1;
    }
  sqlite3_busy_timeout (db, 10000);
  if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM outbox WHERE subject = ?", -1, &stmt,
                          NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, subject, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        n = sqlite3_column_int (stmt, 0);
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

/* Time passes (beyond TD_SENDER_SENDING_STALE): rows a killed process left "sending" are
 * old enough to be queued again. */
static void
age_sending_rows (const char *db_path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE outbox SET next_attempt = 1 WHERE state = 'sending'",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

/* tidings-cli send, killed (SIGKILL) at random instants of building, queueing and uploading a
 * message: the store passes integrity_check each time, and once the server is reached again
 * every message that made it into the outbox is delivered, at most twice (the window between
 * the server's 250 and the "sent" mark), none lost, and the outbox ends empty. */
static void
test_killed (void)
{
  g_autofree char *profile = add_alice (td_test_dovecot_get_port (server, "submissions"), "tls",
                                        "alice");
  g_autofree char *db_path = g_build_filename (profile, "tidings.db", NULL);
  g_autofree char *dir = td_test_make_tempdir ("killed");
  g_autofree char *big = g_build_filename (dir, "big.bin", NULL);
  g_autofree char *body_path = g_build_filename (dir, "body.txt", NULL);
  g_autofree char *cli = g_build_filename (g_getenv ("TD_BUILD_ROOT"), "src", "cli",
                                           "tidings-cli", NULL);
  g_autofree char *data = g_strnfill (1024 * 1024, 'k');
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  guint killed_in_outbox = 0;
  g_auto(Run) later = { 0 };

  g_assert_true (g_file_set_contents (big, data, -1, NULL));
  g_assert_true (g_file_set_contents (body_path, "Killed or not.\n", -1, NULL));

  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Killed %u", i);
      g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                   G_SUBPROCESS_FLAGS_STDERR_SILENCE);
      g_autoptr(GSubprocess) proc = NULL;
      g_autoptr(TdStore) store = NULL;
      g_autoptr(GAsyncResult) checked = NULL;
      g_autoptr(GError) error = NULL;
      guint delay_ms = (guint) g_test_rand_int_range (0, 600);
      int rows;

      g_subprocess_launcher_set_stdin_file_path (launcher, body_path);
      proc = g_subprocess_launcher_spawn (launcher, &error, cli, "--profile", profile, "send",
                                          "--to", "bob@localhost", "--subject", subject,
                                          "--attach", big, NULL);
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

      /* queued (or sent) before the kill: it must arrive; else it never got an id */
      rows = outbox_rows (db_path, subject);
      g_assert_cmpint (rows, >=, 0);
      if (rows > 0)
        killed_in_outbox++;
      if (rows > 0 || sink_count (subject) > 0)
        g_ptr_array_add (expected, g_steal_pointer (&subject));
      g_test_message ("killed after %u ms: %d in the outbox", delay_ms, rows);
    }
  g_assert_cmpuint (killed_in_outbox, >, 0);

  age_sending_rows (db_path);
  run_cli (&later, profile, NULL, "outbox", "--send");
  g_assert_cmpint (later.status, ==, 0);
  g_assert_cmpstr (later.out, ==, "");
  for (guint i = 0; i < expected->len; i++)
    {
      g_autofree char *needle = g_strdup_printf ("Subject: %s\n",
                                                 (char *) g_ptr_array_index (expected, i));
      guint n = sink_count (needle);

      g_test_message ("%s: delivered %u times", (char *) g_ptr_array_index (expected, i), n);
      g_assert_cmpuint (n, >=, 1);
      g_assert_cmpuint (n, <=, 2);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  td_test_init (&argc, &argv);
  g_mime_init ();

  server = td_test_dovecot_start (&error);
  g_assert_no_error (error);

  g_test_add_func ("/smtp-send/send", test_send);
  g_test_add_func ("/smtp-send/reply", test_reply);
  g_test_add_func ("/smtp-send/server-down", test_server_down);
  g_test_add_func ("/smtp-send/refusals", test_refusals);
  g_test_add_func ("/smtp-send/smtp-password", test_smtp_password);
  g_test_add_func ("/smtp-send/pop3", test_pop3);
  g_test_add_func ("/smtp-send/killed", test_killed);

  status = g_test_run ();
  td_test_dovecot_free (server);
  return status;
}
