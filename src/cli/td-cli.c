/* td-cli.c: tidings-cli, the Tidings engine without a window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "td-account-manager.h"
#include "td-cli-auto.h"
#include "td-error.h"
#include "td-imap-session.h"
#include "td-pop3-session.h"
#include "td-mime.h"
#include "td-secret-credentials.h"
#include "td-store.h"
#include "td-cli-send.h"

typedef struct
{
  char             *profile;
  TdStore          *store;
  TdAccountManager *manager;
  gboolean          progress_shown;
  gboolean          offline;

  /* TD_BENCH_TIMING=1: `sync` says on stderr where its time went (bench/resync.sh) */
  gboolean          timing;
  gint64            sync_started;     /* monotonic µs; 0 when not measuring */
  gint64            sync_connecting;  /* the first progress: the password is there */
  gint64            sync_connected;   /* the step after connecting: TCP, TLS and login done */
} Cli;

typedef int (*CommandFunc) (Cli *cli, int argc, char **argv);

static const char *usage_text =
  N_("Usage: tidings-cli [--profile DIR] COMMAND [ARGS…]\n"
     "\n"
     "Commands:\n"
     "  account add imap --address A --host H [--port N] [--security tls|starttls]\n"
     "                   [--user U] [--name N] [--password-stdin]\n"
     "                   [--trust-fingerprint SHA256] [--sync-days N]\n"
     "                   [--smtp-host H] [--smtp-port N] [--smtp-security tls|starttls]\n"
     "                   [--smtp-user U] [--smtp-password-stdin]\n"
     "                   [--sent-saved-by-server[=yes|no]]\n"
     "                                Check the server, then add an IMAP account; prints its id.\n"
     "                                Mail is sent through --smtp-host (default: the host with\n"
     "                                “smtp.” for “imap.” or “pop.”), port 587 with STARTTLS\n"
     "  account add pop3 --address A --host H [--port N] [--security tls|starttls]\n"
     "                   [--user U] [--name N] [--password-stdin]\n"
     "                   [--trust-fingerprint SHA256]\n"
     "                   [--leave-on-server|--delete-after-days N|--delete-after-download]\n"
     "                   [--delete-when-deleted-here] [--smtp-… as for imap]\n"
     "                                Check the server, then add a POP3 account; prints its id.\n"
     "                                Mail is downloaded into local folders and deleted from\n"
     "                                the server 14 days later unless you choose otherwise\n"
     "  account add --auto ADDRESS [--prefer imap|pop3] [--name N] [--password-stdin]\n"
     "                   [--trust-fingerprint SHA256] [--time-limit SECONDS] [POP3 options]\n"
     "                                Find the servers of the address (provider database,\n"
     "                                autoconfig, DNS SRV, common names), say what was chosen\n"
     "                                and why, then check it and add the account as above\n"
     "  account list                  List the accounts: id, kind, address, server,\n"
     "                                security, name, and what is downloaded (IMAP) or\n"
     "                                left on the server (POP3)\n"
     "  account trust ACCOUNT SHA256  Trust (pin) a server certificate for an account\n"
     "  account set ACCOUNT --sync-days N\n"
     "                                IMAP: download bodies of the last N days only (0: all)\n"
     "  account set ACCOUNT [--smtp-… as for account add]\n"
     "                                Change how mail is sent\n"
     "  account set ACCOUNT [--leave-on-server|--delete-after-days N|--delete-after-download]\n"
     "                      [--delete-when-deleted-here|--keep-when-deleted-here]\n"
     "                                POP3: change what stays on the server; the next sync\n"
     "                                applies it\n"
     "  account remove ACCOUNT [--yes] Remove an account, its password and its mail on this\n"
     "                                computer (not on the server); --yes when that would lose\n"
     "                                POP3 mail or changes not yet sent\n"
     "  sync [ACCOUNT]                Download new mail of one account, or of all\n"
     "  folders [ACCOUNT]             List folders: path, role, total, unread\n"
     "  ls FOLDER [--account A] [--limit N]\n"
     "                                List messages: id, date, from, subject, flags\n"
     "  show ID                       Show a message: headers and text (downloads it first\n"
     "                                when it is outside the sync window)\n"
     "  search QUERY…                 Search subjects, addresses and text\n"
     "  flag ID… +FLAG|-FLAG…         Change flags: seen, answered, flagged, forwarded, draft,\n"
     "                                junk, notjunk, deleted, or a $keyword\n"
     "  move ID… FOLDER [--account A] Move messages to a folder of their account\n"
     "  copy ID… FOLDER [--account A] Copy messages to a folder of their account\n"
     "  delete ID…                    Move messages to the Trash (from the Trash: for good)\n"
     "  archive ID…                   Move messages to the Archive folder\n"
     "  folder create|rename|delete|subscribe|unsubscribe|empty PATH [NEW] [--account A]\n"
     "                                Manage folders (rename takes the new path)\n"
     "  send --account A --to X [--cc Y] [--bcc Z] --subject S [--attach FILE]…\n"
     "       [--reply-to-message ID|--forward-message ID] < body\n"
     "                                Send a message (it waits in the outbox until it is sent)\n"
     "  outbox [--account A] [--send] [--retry ID] [--remove ID]\n"
     "                                List the messages not sent yet, and why\n"
     "  watch [ACCOUNT] [--poll-interval SECONDS]\n"
     "                                Sync, then stay connected (IDLE) and print a line for\n"
     "                                each new message in an Inbox as it arrives; Ctrl+C ends\n"
     "\n"
     "Changes are made here at once and sent to the server right after; when it cannot be\n"
     "reached they are kept and sent by the next “sync”.\n"
     "\n"
     "Global options:\n"
     "  --profile DIR                 The profile directory (default: $XDG_DATA_HOME/tidings)\n"
     "  --offline                     Do not connect: changes wait for the next sync\n"
     "  --help, --version\n"
     "\n"
     "ACCOUNT is an account id, its address or its name. Passwords are kept in the\n"
     "system keyring, never in the profile.\n"
     "Flags in listings: S seen, R answered, F flagged, W forwarded, D draft, T deleted.\n");

static int
usage_error (const char *message)
{
  if (message != NULL)
    g_printerr ("tidings-cli: %s\n", message);
  g_printerr (_("Try “tidings-cli --help”.\n"));
  return 2;
}

/* --- Running async calls to completion --- */

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

static void
print_error (const char *what,
             GError     *error)
{
  if (what != NULL)
    g_printerr ("tidings-cli: %s: %s\n", what, error->message);
  else
    g_printerr ("tidings-cli: %s\n", error->message);
}

/* Opens the profile's store and the engine; says why on stderr when it cannot. */
static gboolean
open_profile (Cli *cli)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(TdCredentials) credentials = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (cli->profile, "tidings.db", NULL);

  cli->store = td_store_new (path);
  td_store_open_async (cli->store, NULL, store_result_cb, &result);
  if (!td_store_open_finish (cli->store, wait_result (&result), &error))
    {
      print_error (_("Could not open the profile"), error);
      return FALSE;
    }

  credentials = td_secret_credentials_new ();
  cli->manager = td_account_manager_new (cli->store, credentials);
  return TRUE;
}

static TdAccount *
find_account (Cli        *cli,
              const char *which)
{
  GListModel *accounts = td_account_manager_get_accounts (cli->manager);
  TdAccount *account;

  if (which == NULL)
    {
      if (g_list_model_get_n_items (accounts) == 1)
        {
          account = g_list_model_get_item (accounts, 0);
          g_object_unref (account);  /* the list keeps it */
          return account;
        }
      if (g_list_model_get_n_items (accounts) == 0)
        g_printerr (_("tidings-cli: There is no account yet. Add one with “tidings-cli account "
                      "add imap …”.\n"));
      else
        g_printerr (_("tidings-cli: There are several accounts; say which one (see “tidings-cli "
                      "account list”).\n"));
      return NULL;
    }

  account = td_account_manager_find_account (cli->manager, which);
  if (account == NULL)
    g_printerr (_("tidings-cli: No account “%s” (see “tidings-cli account list”).\n"), which);
  return account;
}

/* --- account add --- */

static char *
read_password (gboolean from_stdin)
{
  GString *line = g_string_new (NULL);
  struct termios old, quiet;
  gboolean tty = !from_stdin && isatty (STDIN_FILENO);
  int c;

  if (tty)
    {
      g_printerr ("%s", _("Password: "));
      tcgetattr (STDIN_FILENO, &old);
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (STDIN_FILENO, TCSANOW, &quiet);
    }

  while ((c = getchar ()) != EOF && c != '\n')
    g_string_append_c (line, (char) c);
  if (line->len > 0 && line->str[line->len - 1] == '\r')
    g_string_truncate (line, line->len - 1);

  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSANOW, &old);
      g_printerr ("\n");
    }
  return g_string_free (line, FALSE);
}

static void
print_certificate (const TdCertificateInfo *info)
{
  g_autofree char *text = td_certificate_info_to_string (info);

  g_printerr ("%s\n", text);
}

/* POP3: connects, logs in (AUTH PLAIN when offered, else USER/PASS) and quits. */
static gboolean
check_pop3_server (TdAccount          *account,
                   const char         *password,
                   TdCertificateInfo **refused,
                   GError            **error)
{
  g_autoptr(TdConnection) connection = NULL;
  g_autoptr(TdPop3Session) session = NULL;
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;
  const char *sasl;
  gboolean plain;
  gboolean ok;

  connection = td_connection_new (td_account_get_host (account), td_account_get_port (account),
                                  td_account_get_security (account));
  td_connection_set_pinned_fingerprint (connection, td_account_get_pinned_fingerprint (account));
  session = td_pop3_session_new (connection);

  td_pop3_session_connect_async (session, NULL, store_result_cb, &r1);
  if (!td_pop3_session_connect_finish (session, wait_result (&r1), error))
    {
      const TdCertificateInfo *info = td_connection_get_certificate_info (connection);

      if (info != NULL && error != NULL && g_error_matches (*error, TD_ERROR, TD_ERROR_CERTIFICATE))
        *refused = td_certificate_info_copy (info);
      return FALSE;
    }

  sasl = td_pop3_session_get_capability (session, "SASL");
  plain = sasl != NULL && strstr (sasl, "PLAIN") != NULL;
  if (plain)
    {
      td_pop3_session_auth_plain_async (session, td_account_get_username (account), password,
                                        NULL, store_result_cb, &r2);
      ok = td_pop3_session_auth_plain_finish (session, wait_result (&r2), error);
    }
  else
    {
      td_pop3_session_login_async (session, td_account_get_username (account), password, NULL,
                                   store_result_cb, &r2);
      ok = td_pop3_session_login_finish (session, wait_result (&r2), error);
    }
  if (!ok)
    return FALSE;

  td_pop3_session_quit_async (session, NULL, store_result_cb, &r3);
  td_pop3_session_quit_finish (session, wait_result (&r3), NULL);
  return TRUE;
}

/* Connects and logs in once, so a wrong host, password or certificate is said now. */
static gboolean
check_server (TdAccount          *account,
              const char         *password,
              TdCertificateInfo **refused,
              GError            **error)
{
  g_autoptr(TdConnection) connection = NULL;
  g_autoptr(TdImapSession) session = NULL;
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;

  connection = td_connection_new (td_account_get_host (account), td_account_get_port (account),
                                  td_account_get_security (account));
  td_connection_set_pinned_fingerprint (connection, td_account_get_pinned_fingerprint (account));
  session = td_imap_session_new (connection);

  td_imap_session_connect_async (session, NULL, store_result_cb, &r1);
  if (!td_imap_session_connect_finish (session, wait_result (&r1), error))
    {
      const TdCertificateInfo *info = td_connection_get_certificate_info (connection);

      if (info != NULL && error != NULL && g_error_matches (*error, TD_ERROR, TD_ERROR_CERTIFICATE))
        *refused = td_certificate_info_copy (info);
      return FALSE;
    }

  td_imap_session_login_async (session, td_account_get_username (account), password, NULL,
                               store_result_cb, &r2);
  if (!td_imap_session_login_finish (session, wait_result (&r2), error))
    return FALSE;

  td_imap_session_logout_async (session, NULL, store_result_cb, &r3);
  td_imap_session_logout_finish (session, wait_result (&r3), NULL);
  return TRUE;
}

static int
cmd_account_add (Cli   *cli,
                 int    argc,
                 char **argv)
{
  g_autofree char *address = NULL;
  g_autofree char *host = NULL;
  g_autofree char *security_str = NULL;
  g_autofree char *user = NULL;
  g_autofree char *name = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *pinned = NULL;
  gboolean password_stdin = FALSE;
  int port = 0;
  int sync_days = 0;
  gboolean leave_on_server = FALSE;
  gboolean delete_after_download = FALSE;
  gboolean delete_when_deleted_here = FALSE;
  int delete_after_days = -1;
  g_autoptr(TdCliSmtpOptions) smtp = td_cli_smtp_options_new ();
  GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, N_("Email address"), "A" },
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, N_("IMAP or POP3 server"), "H" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, N_("Port (default 993/995 for tls, 143/110 for starttls)"), "N" },
    { "security", 0, 0, G_OPTION_ARG_STRING, &security_str, N_("tls (default) or starttls"), "S" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, N_("User name (default: the address)"), "U" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("A name for the account"), "N" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin, N_("Read the password from standard input"), NULL },
    { "trust-fingerprint", 0, 0, G_OPTION_ARG_STRING, &fingerprint, N_("Trust the server certificate with this SHA-256 fingerprint"), "SHA256" },
    { "sync-days", 0, 0, G_OPTION_ARG_INT, &sync_days, N_("Download message bodies of the last N days only (default 0: all mail)"), "N" },
    { "leave-on-server", 0, 0, G_OPTION_ARG_NONE, &leave_on_server, N_("POP3: keep all mail on the server"), NULL },
    { "delete-after-days", 0, 0, G_OPTION_ARG_INT, &delete_after_days, N_("POP3: delete mail from the server N days after downloading it (default 14)"), "N" },
    { "delete-after-download", 0, 0, G_OPTION_ARG_NONE, &delete_after_download, N_("POP3: delete mail from the server once it is downloaded"), NULL },
    { "delete-when-deleted-here", 0, 0, G_OPTION_ARG_NONE, &delete_when_deleted_here, N_("POP3: also delete from the server what you delete here for good"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("imap|pop3");
  g_autoptr(GError) error = NULL;
  g_autoptr(TdAccount) account = NULL;
  g_autoptr(TdCertificateInfo) refused = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdSecurity security = TD_SECURITY_TLS;
  TdAccountKind kind = TD_ACCOUNT_KIND_IMAP;
  TdPop3Policy policy = TD_POP3_POLICY_DELETE_AFTER_DAYS;
  g_auto(GStrv) auto_argv = NULL;
  g_autofree char **auto_args = NULL;
  char *password;
  gboolean ok;

  /* --auto: discovery (td-cli-auto.c) gives the arguments of the path below */
  if (td_cli_auto_wanted (argc, argv))
    {
      int status = td_cli_auto_discover (argc, argv, &auto_argv);

      if (status != 0)
        return status;
      argc = (int) g_strv_length (auto_argv);
      /* parsing reorders the array: a shallow copy, so auto_argv still frees every string */
      argv = auto_args = g_memdup2 (auto_argv, sizeof (char *) * ((gsize) argc + 1));
    }

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_group (context, td_cli_smtp_options_group (smtp));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2 || !td_account_kind_from_string (argv[1], &kind))
    return usage_error (_("Say the kind of account: “account add imap” or “account add pop3”"));
  if (kind == TD_ACCOUNT_KIND_IMAP &&
      (leave_on_server || delete_after_download || delete_when_deleted_here ||
       delete_after_days >= 0))
    return usage_error (_("--leave-on-server, --delete-after-days, --delete-after-download and "
                          "--delete-when-deleted-here are for POP3 accounts"));
  if (kind == TD_ACCOUNT_KIND_POP3 && sync_days != 0)
    return usage_error (_("--sync-days is for IMAP accounts"));
  if ((leave_on_server ? 1 : 0) + (delete_after_download ? 1 : 0) +
      (delete_after_days >= 0 ? 1 : 0) > 1)
    return usage_error (_("Choose one of --leave-on-server, --delete-after-days and "
                          "--delete-after-download"));
  if (delete_after_days > TD_POP3_DELETE_DAYS_MAX)
    return usage_error (_("--delete-after-days must be a number of days"));
  if (leave_on_server)
    policy = TD_POP3_POLICY_KEEP;
  else if (delete_after_download)
    policy = TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD;
  if (address == NULL || host == NULL)
    return usage_error (_("--address and --host are required"));
  if (strchr (address, '@') == NULL)
    return usage_error (_("--address must be an email address"));
  if (security_str != NULL && !td_security_from_string (security_str, &security))
    return usage_error (_("--security must be “tls” or “starttls”"));
  if (port == 0 && kind == TD_ACCOUNT_KIND_POP3)
    port = security == TD_SECURITY_TLS ? 995 : 110;
  else if (port == 0)
    port = security == TD_SECURITY_TLS ? 993 : 143;
  if (port < 1 || port > 65535)
    return usage_error (_("--port must be between 1 and 65535"));
  if (fingerprint != NULL && (pinned = td_fingerprint_normalize (fingerprint)) == NULL)
    return usage_error (_("--trust-fingerprint must be a SHA-256 fingerprint (64 hex digits)"));
  if (sync_days < 0 || sync_days > TD_ACCOUNT_SYNC_DAYS_MAX)
    return usage_error (_("--sync-days must be a number of days, or 0 for all mail"));

  if (!open_profile (cli))
    return 1;

  account = td_account_new (kind, address, host, (guint16) port, security, user);
  if (name != NULL)
    td_account_set_name (account, name);
  td_account_set_pinned_fingerprint (account, pinned);
  td_account_set_sync_days (account, (guint) sync_days);
  td_account_set_pop3_policy (account, policy);
  if (delete_after_days >= 0)
    td_account_set_pop3_delete_days (account, (guint) delete_after_days);
  td_account_set_pop3_delete_when_deleted_here (account, delete_when_deleted_here);
  if (!td_cli_smtp_options_apply (smtp, account, TRUE))
    return 2;

  password = read_password (password_stdin);
  if (*password == '\0')
    {
      td_credentials_free_password (password);
      return usage_error (_("The password is empty"));
    }

  if (kind == TD_ACCOUNT_KIND_POP3)
    ok = check_pop3_server (account, password, &refused, &error);
  else
    ok = check_server (account, password, &refused, &error);
  if (!ok)
    {
      td_credentials_free_password (password);
      print_error (NULL, error);
      if (refused != NULL)
        {
          print_certificate (refused);
          g_printerr (_("If you trust this certificate, add the account again with:\n"
                        "  --trust-fingerprint %s\n"), refused->fingerprint);
        }
      return 1;
    }

  td_account_manager_add_account_async (cli->manager, account, password, NULL,
                                        store_result_cb, &result);
  td_credentials_free_password (password);
  if (!td_account_manager_add_account_finish (cli->manager, wait_result (&result), &error))
    {
      print_error (_("Could not add the account"), error);
      return 1;
    }
  if (!td_cli_smtp_options_store_password (smtp, cli->manager, account))
    return 1;

  g_print ("%" G_GINT64_FORMAT "\n", td_account_get_id (account));
  return 0;
}

/* What a POP3 account leaves on the server, as the options of `account add` and
 * `account set` say it ("delete-after-days=14,delete-when-deleted-here"). */
static char *
pop3_policy_text (TdAccount *account)
{
  GString *text = g_string_new (NULL);

  switch (td_account_get_pop3_policy (account))
    {
    case TD_POP3_POLICY_KEEP:
      g_string_append (text, "leave-on-server");
      break;
    case TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD:
      g_string_append (text, "delete-after-download");
      break;
    case TD_POP3_POLICY_DELETE_AFTER_DAYS:
    default:
      g_string_append_printf (text, "delete-after-days=%u",
                              td_account_get_pop3_delete_days (account));
      break;
    }
  if (td_account_get_pop3_delete_when_deleted_here (account))
    g_string_append (text, ",delete-when-deleted-here");
  return g_string_free (text, FALSE);
}

static int
cmd_account_list (Cli   *cli,
                  int    argc,
                  char **argv)
{
  GListModel *accounts;

  if (argc != 1)
    return usage_error (_("“account list” takes no arguments"));
  if (!open_profile (cli))
    return 1;

  accounts = td_account_manager_get_accounts (cli->manager);
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TdAccount) a = g_list_model_get_item (accounts, i);

      g_autofree char *keeps = NULL;

      if (td_account_get_kind (a) == TD_ACCOUNT_KIND_POP3)
        keeps = pop3_policy_text (a);
      else
        keeps = g_strdup_printf ("sync-days=%u", td_account_get_sync_days (a));
      g_print ("%" G_GINT64_FORMAT "\t%s\t%s\t%s:%u\t%s\t%s\t%s\n",
               td_account_get_id (a),
               td_account_kind_to_string (td_account_get_kind (a)),
               td_account_get_address (a),
               td_account_get_host (a), td_account_get_port (a),
               td_security_to_string (td_account_get_security (a)),
               td_account_get_name (a), keeps);
    }
  return 0;
}

static int
cmd_account_trust (Cli   *cli,
                   int    argc,
                   char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdAccount *account;

  if (argc != 3)
    return usage_error (_("Usage: account trust ACCOUNT SHA256"));
  if (!open_profile (cli))
    return 1;
  if ((account = find_account (cli, argv[1])) == NULL)
    return 1;

  td_account_manager_trust_certificate_async (cli->manager, account, argv[2], NULL,
                                              store_result_cb, &result);
  if (!td_account_manager_trust_certificate_finish (cli->manager, wait_result (&result), &error))
    {
      print_error (NULL, error);
      return 1;
    }
  return 0;
}

static int
cmd_account_set (Cli   *cli,
                 int    argc,
                 char **argv)
{
  int sync_days = -1;
  gboolean leave_on_server = FALSE;
  gboolean delete_after_download = FALSE;
  int delete_after_days = -1;
  gboolean delete_when_deleted_here = FALSE;
  gboolean keep_when_deleted_here = FALSE;
  GOptionEntry entries[] = {
    { "sync-days", 0, 0, G_OPTION_ARG_INT, &sync_days, N_("IMAP: download message bodies of the last N days only (0: all mail)"), "N" },
    { "leave-on-server", 0, 0, G_OPTION_ARG_NONE, &leave_on_server, N_("POP3: keep all mail on the server"), NULL },
    { "delete-after-days", 0, 0, G_OPTION_ARG_INT, &delete_after_days, N_("POP3: delete mail from the server N days after downloading it"), "N" },
    { "delete-after-download", 0, 0, G_OPTION_ARG_NONE, &delete_after_download, N_("POP3: delete mail from the server once it is downloaded"), NULL },
    { "delete-when-deleted-here", 0, 0, G_OPTION_ARG_NONE, &delete_when_deleted_here, N_("POP3: also delete from the server what you delete here for good"), NULL },
    { "keep-when-deleted-here", 0, 0, G_OPTION_ARG_NONE, &keep_when_deleted_here, N_("POP3: what you delete here stays on the server (by the choice above)"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("ACCOUNT");
  g_autoptr(TdCliSmtpOptions) smtp = td_cli_smtp_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  gboolean pop3_options;
  TdAccount *account;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_group (context, td_cli_smtp_options_group (smtp));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error (_("Usage: account set ACCOUNT --sync-days N, or for POP3 "
                          "--leave-on-server|--delete-after-days N|--delete-after-download "
                          "and --delete-when-deleted-here|--keep-when-deleted-here"));
  pop3_options = leave_on_server || delete_after_download || delete_after_days != -1 ||
                 delete_when_deleted_here || keep_when_deleted_here;
  if (sync_days == -1 && !pop3_options && !td_cli_smtp_options_given (smtp))
    return usage_error (_("Say what to change, e.g. --sync-days 30 (IMAP) or "
                          "--leave-on-server (POP3)"));
  if (sync_days != -1 && (sync_days < 0 || sync_days > TD_ACCOUNT_SYNC_DAYS_MAX))
    return usage_error (_("--sync-days must be a number of days, or 0 for all mail"));
  if ((leave_on_server ? 1 : 0) + (delete_after_download ? 1 : 0) +
      (delete_after_days != -1 ? 1 : 0) > 1)
    return usage_error (_("Choose one of --leave-on-server, --delete-after-days and "
                          "--delete-after-download"));
  if (delete_after_days != -1 && (delete_after_days < 0 ||
                                  delete_after_days > TD_POP3_DELETE_DAYS_MAX))
    return usage_error (_("--delete-after-days must be a number of days"));
  if (delete_when_deleted_here && keep_when_deleted_here)
    return usage_error (_("Choose one of --delete-when-deleted-here and "
                          "--keep-when-deleted-here"));
  if (!open_profile (cli))
    return 1;
  if ((account = find_account (cli, argv[1])) == NULL)
    return 1;

  if (td_account_get_kind (account) == TD_ACCOUNT_KIND_POP3 && sync_days != -1)
    return usage_error (_("--sync-days is for IMAP accounts: a POP3 account downloads all of "
                          "its mail. Choose what stays on the server with --leave-on-server, "
                          "--delete-after-days N or --delete-after-download"));
  if (td_account_get_kind (account) != TD_ACCOUNT_KIND_POP3 && pop3_options)
    return usage_error (_("--leave-on-server, --delete-after-days, --delete-after-download, "
                          "--delete-when-deleted-here and --keep-when-deleted-here are for POP3 "
                          "accounts: an IMAP account keeps its mail on the server"));

  if (sync_days != -1)
    td_account_set_sync_days (account, (guint) sync_days);
  if (leave_on_server)
    td_account_set_pop3_policy (account, TD_POP3_POLICY_KEEP);
  else if (delete_after_download)
    td_account_set_pop3_policy (account, TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD);
  else if (delete_after_days != -1)
    {
      td_account_set_pop3_policy (account, TD_POP3_POLICY_DELETE_AFTER_DAYS);
      td_account_set_pop3_delete_days (account, (guint) delete_after_days);
    }
  if (delete_when_deleted_here || keep_when_deleted_here)
    td_account_set_pop3_delete_when_deleted_here (account, delete_when_deleted_here);
  if (td_cli_smtp_options_given (smtp) && !td_cli_smtp_options_apply (smtp, account, FALSE))
    return 2;

  td_account_manager_update_account_async (cli->manager, account, NULL, store_result_cb, &result);
  if (!td_account_manager_update_account_finish (cli->manager, wait_result (&result), &error))
    {
      print_error (_("Could not change the account"), error);
      return 1;
    }
  if (!td_cli_smtp_options_store_password (smtp, cli->manager, account))
    return 1;
  return 0;
}

/* Messages of the account on this computer. */
static guint
count_account_messages (Cli       *cli,
                        TdAccount *account)
{
  g_autoptr(GPtrArray) folders = td_store_list_folders (cli->store, td_account_get_id (account),
                                                        NULL);
  guint total = 0;

  for (guint i = 0; folders != NULL && i < folders->len; i++)
    total += td_store_count_messages (cli->store,
                                      td_folder_get_id (g_ptr_array_index (folders, i)));
  return total;
}

static int
cmd_account_remove (Cli   *cli,
                    int    argc,
                    char **argv)
{
  gboolean yes = FALSE;
  GOptionEntry entries[] = {
    { "yes", 0, 0, G_OPTION_ARG_NONE, &yes, N_("Remove it even when mail or changes would be lost"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("ACCOUNT");
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(TdAccount) account = NULL;
  g_autofree char *name = NULL;
  guint n_messages, n_changes;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error (_("Usage: account remove ACCOUNT [--yes]"));
  if (!open_profile (cli))
    return 1;
  if (find_account (cli, argv[1]) == NULL)
    return 1;
  account = g_object_ref (find_account (cli, argv[1]));
  name = g_strdup (td_account_get_name (account));

  n_messages = count_account_messages (cli, account);
  n_changes = td_store_count_journal (cli->store, td_account_get_id (account));
  if (!yes && td_account_get_kind (account) == TD_ACCOUNT_KIND_POP3 && n_messages > 0)
    {
      g_printerr (g_dngettext (GETTEXT_PACKAGE,
                               "tidings-cli: “%s” is a POP3 account: its %u message is kept on "
                               "this computer and may no longer be on the server. Removing the "
                               "account deletes it. Run again with --yes to remove it.\n",
                               "tidings-cli: “%s” is a POP3 account: its %u messages are kept on "
                               "this computer and may no longer be on the server. Removing the "
                               "account deletes them. Run again with --yes to remove it.\n",
                               n_messages), name, n_messages);
      return 1;
    }
  if (!yes && n_changes > 0)
    {
      g_printerr (g_dngettext (GETTEXT_PACKAGE,
                               "tidings-cli: %u change made here to “%s” has not reached the "
                               "server yet; removing the account drops it. Run “tidings-cli sync” "
                               "first, or again with --yes.\n",
                               "tidings-cli: %u changes made here to “%s” have not reached the "
                               "server yet; removing the account drops them. Run “tidings-cli "
                               "sync” first, or again with --yes.\n",
                               n_changes), n_changes, name);
      return 1;
    }

  td_account_manager_remove_account_async (cli->manager, account, NULL, store_result_cb, &result);
  if (!td_account_manager_remove_account_finish (cli->manager, wait_result (&result), &error))
    {
      print_error (_("Could not remove the account"), error);
      return 1;
    }
  if (td_account_get_kind (account) == TD_ACCOUNT_KIND_IMAP)
    g_print (g_dngettext (GETTEXT_PACKAGE,
                          "Removed “%s”: its password and its %u message on this computer. The "
                          "mail on the server is still there.\n",
                          "Removed “%s”: its password and its %u messages on this computer. The "
                          "mail on the server is still there.\n", n_messages),
             name, n_messages);
  else
    g_print (g_dngettext (GETTEXT_PACKAGE,
                          "Removed “%s”: its password and its %u message on this computer.\n",
                          "Removed “%s”: its password and its %u messages on this computer.\n",
                          n_messages),
             name, n_messages);
  return 0;
}

static int
cmd_account (Cli   *cli,
             int    argc,
             char **argv)
{
  if (argc < 2)
    return usage_error (_("Say what to do: account add, account list, account trust, account set "
                          "or account remove"));
  if (g_strcmp0 (argv[1], "add") == 0)
    return cmd_account_add (cli, argc - 1, argv + 1);
  if (g_strcmp0 (argv[1], "list") == 0)
    return cmd_account_list (cli, argc - 1, argv + 1);
  if (g_strcmp0 (argv[1], "trust") == 0)
    return cmd_account_trust (cli, argc - 1, argv + 1);
  if (g_strcmp0 (argv[1], "set") == 0)
    return cmd_account_set (cli, argc - 1, argv + 1);
  if (g_strcmp0 (argv[1], "remove") == 0)
    return cmd_account_remove (cli, argc - 1, argv + 1);
  return usage_error (_("Unknown account command"));
}

/* --- sync --- */

static void
sync_progress_cb (TdAccountManager *manager,
                  TdAccount        *account,
                  const char       *what,
                  guint             done,
                  guint             total,
                  Cli              *cli)
{
  if (!isatty (STDERR_FILENO))
    return;
  if (total > 0)
    g_printerr ("\r\033[K%s: %s %u/%u", td_account_get_name (account), what, done, total);
  else
    g_printerr ("\r\033[K%s: %s", td_account_get_name (account), what);
  cli->progress_shown = TRUE;
}

/* --- TD_BENCH_TIMING --- */

static void
timing_started_cb (TdAccountManager *manager,
                   TdAccount        *account,
                   Cli              *cli)
{
  cli->sync_started = g_get_monotonic_time ();
  cli->sync_connecting = cli->sync_connected = 0;
}

static void
timing_progress_cb (TdAccountManager *manager,
                    TdAccount        *account,
                    const char       *what,
                    guint             done,
                    guint             total,
                    Cli              *cli)
{
  gint64 now = g_get_monotonic_time ();

  /* the sync says "Connecting to …" first, and the next step once the account's client
   * has handed it a logged-in session */
  if (cli->sync_connecting == 0)
    cli->sync_connecting = now;
  else if (cli->sync_connected == 0)
    cli->sync_connected = now;
}

static void
timing_finished_cb (TdAccountManager *manager,
                    TdAccount        *account,
                    const GError     *error,
                    Cli              *cli)
{
  gint64 now = g_get_monotonic_time ();

  if (cli->sync_started == 0)
    return;
  if (cli->sync_connected == 0)
    cli->sync_connecting = cli->sync_connected = now;
  g_printerr ("tidings-cli: timing: %s: password %.1f ms, connect %.1f ms, "
              "after connecting %.1f ms, total %.1f ms%s\n",
              td_account_get_name (account),
              (cli->sync_connecting - cli->sync_started) / 1000.0,
              (cli->sync_connected - cli->sync_connecting) / 1000.0,
              (now - cli->sync_connected) / 1000.0,
              (now - cli->sync_started) / 1000.0,
              error != NULL ? " (failed)" : "");
  cli->sync_started = 0;
}

static int
cmd_sync (Cli   *cli,
          int    argc,
          char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdAccount *account = NULL;
  GListModel *accounts;
  gboolean ok;
  gint64 t_start = g_get_monotonic_time (), t_opened, t_synced;

  if (argc > 2)
    return usage_error (_("Usage: sync [ACCOUNT]"));
  if (!open_profile (cli))
    return 1;
  t_opened = g_get_monotonic_time ();
  accounts = td_account_manager_get_accounts (cli->manager);
  if (argc == 2 && (account = find_account (cli, argv[1])) == NULL)
    return 1;
  if (account == NULL && g_list_model_get_n_items (accounts) == 0)
    {
      find_account (cli, NULL);
      return 1;
    }

  g_signal_connect (cli->manager, "sync-progress", G_CALLBACK (sync_progress_cb), cli);
  if (cli->timing)
    {
      g_signal_connect (cli->manager, "sync-started", G_CALLBACK (timing_started_cb), cli);
      g_signal_connect (cli->manager, "sync-progress", G_CALLBACK (timing_progress_cb), cli);
      g_signal_connect (cli->manager, "sync-finished", G_CALLBACK (timing_finished_cb), cli);
    }
  td_account_manager_sync_async (cli->manager, account, NULL, store_result_cb, &result);
  ok = td_account_manager_sync_finish (cli->manager, wait_result (&result), &error);
  t_synced = g_get_monotonic_time ();
  if (cli->progress_shown)
    g_printerr ("\r\033[K");

  if (!ok)
    {
      print_error (_("Sync failed"), error);
      if (g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE))
        {
          for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
            {
              g_autoptr(TdAccount) a = g_list_model_get_item (accounts, i);
              const TdCertificateInfo *info =
                td_account_manager_get_refused_certificate (cli->manager, a);
              g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, td_account_get_id (a));

              if (info == NULL)
                continue;
              print_certificate (info);
              g_printerr (_("If you trust this certificate, run:\n"
                            "  tidings-cli account trust %s %s\n"), id, info->fingerprint);
            }
        }
      return 1;
    }

  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TdAccount) a = g_list_model_get_item (accounts, i);
      g_autoptr(GPtrArray) folders = NULL;
      guint total = 0, unread = 0;

      if (account != NULL && a != account)
        continue;
      folders = td_store_list_folders (cli->store, td_account_get_id (a), NULL);
      for (guint j = 0; folders != NULL && j < folders->len; j++)
        {
          total += td_folder_get_total (g_ptr_array_index (folders, j));
          unread += td_folder_get_unread (g_ptr_array_index (folders, j));
        }
      g_print (_("%s: %u messages (%u unread) in %u folders\n"), td_account_get_name (a),
               total, unread, folders != NULL ? folders->len : 0);
    }
  if (cli->timing)
    g_printerr ("tidings-cli: timing: opening the profile %.1f ms, sync %.1f ms, "
                "counting %.1f ms\n", (t_opened - t_start) / 1000.0,
                (t_synced - t_opened) / 1000.0, (g_get_monotonic_time () - t_synced) / 1000.0);
  return 0;
}

/* --- reading --- */

static int
cmd_folders (Cli   *cli,
             int    argc,
             char **argv)
{
  g_autoptr(GError) error = NULL;
  GListModel *accounts;

  if (argc > 2)
    return usage_error (_("Usage: folders [ACCOUNT]"));
  if (!open_profile (cli))
    return 1;

  accounts = td_account_manager_get_accounts (cli->manager);
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TdAccount) a = g_list_model_get_item (accounts, i);
      g_autoptr(GPtrArray) folders = NULL;

      if (argc == 2)
        {
          TdAccount *wanted = find_account (cli, argv[1]);

          if (wanted == NULL)
            return 1;
          if (wanted != a)
            continue;
        }
      folders = td_store_list_folders (cli->store, td_account_get_id (a), &error);
      if (folders == NULL)
        {
          print_error (NULL, error);
          return 1;
        }
      for (guint j = 0; j < folders->len; j++)
        {
          TdFolder *f = g_ptr_array_index (folders, j);
          const char *role = td_folder_role_to_string (td_folder_get_role (f));

          g_print ("%s\t%s\t%u\t%u", td_folder_get_path (f), *role ? role : "-",
                   td_folder_get_total (f), td_folder_get_unread (f));
          if (g_list_model_get_n_items (accounts) > 1 && argc < 2)
            g_print ("\t%s", td_account_get_address (a));
          g_print ("\n");
        }
    }
  return 0;
}

static void
print_message_line (TdMessage *m)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_local (td_message_get_date (m));
  g_autofree char *when = date != NULL ? g_date_time_format (date, "%Y-%m-%d %H:%M")
                                       : g_strdup ("-");
  g_autofree char *flags = td_message_dup_flags_string (m);
  const char *from = td_message_get_from (m);
  const char *subject = td_message_get_subject (m);

  g_print ("%" G_GINT64_FORMAT "\t%s\t%s\t%s\t%s\n", td_message_get_id (m), when,
           from != NULL ? from : "", subject != NULL ? subject : "", flags);
}

static int
cmd_ls (Cli   *cli,
        int    argc,
        char **argv)
{
  g_autofree char *account_name = NULL;
  int limit = 50;
  GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_name, N_("The account of the folder"), "A" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("At most this many messages (default 50)"), "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FOLDER");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(TdFolder) folder = NULL;
  GListModel *accounts;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error (_("Usage: ls FOLDER [--account A] [--limit N]"));
  if (limit < 1)
    return usage_error (_("--limit must be at least 1"));
  if (!open_profile (cli))
    return 1;

  accounts = td_account_manager_get_accounts (cli->manager);
  for (guint i = 0; i < g_list_model_get_n_items (accounts) && folder == NULL; i++)
    {
      g_autoptr(TdAccount) a = g_list_model_get_item (accounts, i);

      if (account_name != NULL)
        {
          TdAccount *wanted = find_account (cli, account_name);

          if (wanted == NULL)
            return 1;
          if (wanted != a)
            continue;
        }
      folder = td_store_find_folder (cli->store, td_account_get_id (a), argv[1], NULL);
      if (folder == NULL && g_ascii_strcasecmp (argv[1], "inbox") == 0)
        folder = td_store_find_folder (cli->store, td_account_get_id (a), "INBOX", NULL);
    }
  if (folder == NULL)
    {
      g_printerr (_("tidings-cli: No folder “%s” (see “tidings-cli folders”).\n"), argv[1]);
      return 1;
    }

  messages = td_store_page_messages (cli->store, td_folder_get_id (folder), 0, (guint) limit,
                                     &error);
  if (messages == NULL)
    {
      print_error (NULL, error);
      return 1;
    }
  for (guint i = 0; i < messages->len; i++)
    print_message_line (g_ptr_array_index (messages, i));
  return 0;
}

static int
cmd_show (Cli   *cli,
          int    argc,
          char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdMessage) message = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(TdMimeMessage) mime = NULL;
  g_autoptr(GDateTime) date = NULL;
  g_autofree char *when = NULL;
  g_autofree char *from = NULL;
  GPtrArray *attachments;
  char *end = NULL;
  gint64 id;

  if (argc != 2)
    return usage_error (_("Usage: show ID"));
  id = g_ascii_strtoll (argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || id <= 0)
    return usage_error (_("ID must be a message id as “ls” or “search” print it"));
  if (!open_profile (cli))
    return 1;

  message = td_store_get_message (cli->store, id, &error);
  if (message == NULL)
    {
      print_error (NULL, error);
      return 1;
    }

  td_store_get_body_async (cli->store, id, NULL, store_result_cb, &result);
  raw = td_store_get_body_finish (cli->store, wait_result (&result), &error);
  if (raw == NULL && g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND) && !cli->offline)
    {
      /* outside the sync window, or not downloaded yet: fetch it now; it is kept */
      g_clear_error (&error);
      g_clear_object (&result);
      td_account_manager_fetch_body_async (cli->manager, id, NULL, store_result_cb, &result);
      if (td_account_manager_fetch_body_finish (cli->manager, wait_result (&result), &error))
        {
          g_clear_object (&result);
          td_store_get_body_async (cli->store, id, NULL, store_result_cb, &result);
          raw = td_store_get_body_finish (cli->store, wait_result (&result), &error);
        }
      else
        {
          print_error (_("Could not download the message"), error);
          return 1;
        }
    }
  if (raw == NULL)
    {
      if (g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
        g_printerr (_("tidings-cli: The text of this message has not been downloaded yet; "
                      "run “tidings-cli show” without --offline, or “tidings-cli sync”.\n"));
      else
        print_error (NULL, error);
      return 1;
    }

  mime = td_mime_message_new (raw, &error);
  if (mime == NULL)
    {
      print_error (NULL, error);
      return 1;
    }

  date = g_date_time_new_from_unix_local (td_message_get_date (message));
  when = date != NULL ? g_date_time_format (date, "%a, %d %b %Y %H:%M:%S %z") : NULL;
  if (td_message_get_from_address (message) != NULL &&
      g_strcmp0 (td_message_get_from (message), td_message_get_from_address (message)) != 0)
    from = g_strdup_printf ("%s <%s>", td_message_get_from (message),
                            td_message_get_from_address (message));
  else
    from = g_strdup (td_message_get_from (message) != NULL ? td_message_get_from (message) : "");
  g_print (_("From: %s\n"), from);
  if (td_message_get_to (message) != NULL && *td_message_get_to (message))
    g_print (_("To: %s\n"), td_message_get_to (message));
  if (td_message_get_cc (message) != NULL && *td_message_get_cc (message))
    g_print (_("Cc: %s\n"), td_message_get_cc (message));
  if (when != NULL)
    g_print (_("Date: %s\n"), when);
  g_print (_("Subject: %s\n"), td_message_get_subject (message) != NULL
           ? td_message_get_subject (message) : "");
  if (td_message_get_keywords (message) != NULL)
    /* Translators: the IMAP keywords (labels) of a message, e.g. "$NotJunk work" */
    g_print (_("Keywords: %s\n"), td_message_get_keywords (message));
  g_print ("\n%s\n", td_mime_message_get_text (mime));

  attachments = td_mime_message_get_attachments (mime);
  if (attachments != NULL && attachments->len > 0)
    {
      g_print ("\n%s\n", _("Attachments:"));
      for (guint i = 0; i < attachments->len; i++)
        {
          TdAttachment *a = g_ptr_array_index (attachments, i);
          g_autofree char *size = g_format_size (a->size);

          g_print ("  %s (%s, %s)\n", a->filename, a->content_type, size);
        }
    }
  return 0;
}

static int
cmd_search (Cli   *cli,
            int    argc,
            char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autofree char *query = NULL;

  if (argc < 2)
    return usage_error (_("Usage: search QUERY…"));
  query = g_strjoinv (" ", argv + 1);
  if (!open_profile (cli))
    return 1;

  td_store_search_async (cli->store, query, 100, NULL, store_result_cb, &result);
  messages = td_store_search_finish (cli->store, wait_result (&result), &error);
  if (messages == NULL)
    {
      print_error (_("Search failed"), error);
      return 1;
    }
  for (guint i = 0; i < messages->len; i++)
    print_message_line (g_ptr_array_index (messages, i));
  return 0;
}

/* --- changing: flags, moves, folders --- */

/* Message ids from @argv[first..last), each as "ls" prints it; NULL after a usage error. */
static GArray *
parse_ids (char **argv,
           int    first,
           int    last)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (int i = first; i < last; i++)
    {
      char *end = NULL;
      gint64 id = g_ascii_strtoll (argv[i], &end, 10);

      if (end == argv[i] || *end != '\0' || id <= 0)
        {
          g_autofree char *msg = g_strdup_printf (_("“%s” is not a message id as “ls” or "
                                                    "“search” print it"), argv[i]);

          usage_error (msg);
          return NULL;
        }
      g_array_append_val (ids, id);
    }
  return g_steal_pointer (&ids);
}

/* The accounts the messages belong to (TdAccount*); says so and returns NULL when one of them
 * does not exist. */
static GPtrArray *
accounts_of (Cli    *cli,
             GArray *ids)
{
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      g_autoptr(TdMessage) message = td_store_get_message (cli->store, id, NULL);
      g_autoptr(TdFolder) folder = NULL;
      g_autoptr(TdAccount) account = NULL;

      if (message == NULL)
        {
          g_printerr (_("tidings-cli: There is no message %" G_GINT64_FORMAT ".\n"), id);
          return NULL;
        }
      folder = td_store_get_folder (cli->store, td_message_get_folder_id (message), NULL);
      if (folder == NULL)
        continue;
      account = td_store_get_account (cli->store, td_folder_get_account_id (folder), NULL);
      if (account == NULL)
        continue;
      for (guint j = 0; j < accounts->len && account != NULL; j++)
        if (td_account_get_id (g_ptr_array_index (accounts, j)) == td_account_get_id (account))
          g_clear_object (&account);
      if (account != NULL)
        g_ptr_array_add (accounts, g_steal_pointer (&account));
    }
  return g_steal_pointer (&accounts);
}

/* After a local action: sends the journal of each account (unless --offline). A server that
 * cannot be reached is not a failure: the change is kept and goes with the next sync. */
static int
send_changes (Cli       *cli,
              GPtrArray *accounts)
{
  for (guint i = 0; i < accounts->len; i++)
    {
      TdAccount *listed = g_ptr_array_index (accounts, i);
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, td_account_get_id (listed));
      TdAccount *account = td_account_manager_find_account (cli->manager, id);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      guint pending;

      if (account == NULL)
        continue;
      if (cli->offline)
        {
          pending = td_store_count_journal (cli->store, td_account_get_id (account));
          g_printerr (g_dngettext (GETTEXT_PACKAGE,
                                   "%s: %u change waits for the next sync\n",
                                   "%s: %u changes wait for the next sync\n", pending),
                      td_account_get_name (account), pending);
          continue;
        }
      td_account_manager_send_changes_async (cli->manager, account, NULL, store_result_cb,
                                             &result);
      if (!td_account_manager_send_changes_finish (cli->manager, wait_result (&result), &error))
        {
          if (g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE) ||
              g_error_matches (error, TD_ERROR, TD_ERROR_AUTH) ||
              g_error_matches (error, TD_ERROR, TD_ERROR_NO_PASSWORD))
            {
              print_error (_("Could not send the change to the server"), error);
              g_printerr (_("It is saved here and will be sent by the next sync that "
                            "succeeds.\n"));
              return 1;
            }
          g_printerr (_("tidings-cli: %s: the server cannot be reached now (%s); the change is "
                        "saved here and will be sent by the next sync.\n"),
                      td_account_get_name (account), error->message);
        }
    }
  return 0;
}

/* "seen" -> TD_FLAG_SEEN; a "$keyword" goes to @keyword; FALSE for an unknown name. */
static gboolean
parse_flag_name (const char  *name,
                 TdFlags     *flag,
                 const char **keyword)
{
  static const struct { const char *name; TdFlags flag; const char *keyword; } names[] = {
    { "seen", TD_FLAG_SEEN, NULL },
    { "read", TD_FLAG_SEEN, NULL },
    { "answered", TD_FLAG_ANSWERED, NULL },
    { "replied", TD_FLAG_ANSWERED, NULL },
    { "flagged", TD_FLAG_FLAGGED, NULL },
    { "starred", TD_FLAG_FLAGGED, NULL },
    { "forwarded", TD_FLAG_FORWARDED, NULL },
    { "draft", TD_FLAG_DRAFT, NULL },
    { "deleted", TD_FLAG_DELETED, NULL },
    { "junk", TD_FLAG_JUNK, NULL },
    { "notjunk", 0, "$NotJunk" },
  };

  *flag = 0;
  *keyword = NULL;
  if (name[0] == '$' && name[1] != '\0')
    {
      for (const char *p = name + 1; *p != '\0'; p++)
        if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
          return FALSE;
      *keyword = name;
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (name, names[i].name) == 0)
      {
        *flag = names[i].flag;
        *keyword = names[i].keyword;
        return TRUE;
      }
  return FALSE;
}

static gboolean
finish_action (Cli          *cli,
               GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;

  if (!td_account_manager_action_finish (cli->manager, result, &error))
    {
      print_error (NULL, error);
      return FALSE;
    }
  return TRUE;
}

static int
cmd_flag (Cli   *cli,
          int    argc,
          char **argv)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  const char *keyword_add = NULL, *keyword_remove = NULL;
  TdFlags add = 0, remove = 0;
  int first_change = 1;

  while (first_change < argc && argv[first_change][0] != '+' && argv[first_change][0] != '-')
    first_change++;
  if (first_change == 1 || first_change == argc)
    return usage_error (_("Usage: flag ID… +FLAG|-FLAG…"));
  for (int i = first_change; i < argc; i++)
    {
      const char *keyword = NULL;
      TdFlags flag = 0;

      if ((argv[i][0] != '+' && argv[i][0] != '-') ||
          !parse_flag_name (argv[i] + 1, &flag, &keyword))
        {
          g_autofree char *msg = g_strdup_printf (_("Unknown flag “%s”"), argv[i]);

          return usage_error (msg);
        }
      if (keyword != NULL && ((argv[i][0] == '+' && keyword_add != NULL) ||
                              (argv[i][0] == '-' && keyword_remove != NULL)))
        return usage_error (_("Only one keyword can be added and one removed at a time"));
      if (argv[i][0] == '+')
        {
          add |= flag;
          remove &= ~flag;
          if (keyword != NULL)
            keyword_add = keyword;
        }
      else
        {
          remove |= flag;
          add &= ~flag;
          if (keyword != NULL)
            keyword_remove = keyword;
        }
    }
  if ((ids = parse_ids (argv, 1, first_change)) == NULL)
    return 2;
  if (!open_profile (cli) || (accounts = accounts_of (cli, ids)) == NULL)
    return 1;

  td_account_manager_flag_messages_async (cli->manager, ids, add, remove, keyword_add,
                                          keyword_remove, NULL, store_result_cb, &result);
  if (!finish_action (cli, wait_result (&result)))
    return 1;
  return send_changes (cli, accounts);
}

/* A folder by path in @account_name's account or, without it, the account of @ids. */
static TdFolder *
find_target_folder (Cli        *cli,
                    const char *path,
                    const char *account_name,
                    GPtrArray  *accounts)
{
  TdAccount *account = NULL;
  TdFolder *folder;

  if (account_name != NULL)
    {
      if ((account = find_account (cli, account_name)) == NULL)
        return NULL;
    }
  else if (accounts->len == 1)
    account = g_ptr_array_index (accounts, 0);
  else
    {
      g_printerr (_("tidings-cli: The messages are in several accounts; say which with "
                    "--account.\n"));
      return NULL;
    }

  folder = td_store_find_folder (cli->store, td_account_get_id (account), path, NULL);
  if (folder == NULL && g_ascii_strcasecmp (path, "inbox") == 0)
    folder = td_store_find_folder (cli->store, td_account_get_id (account), "INBOX", NULL);
  if (folder == NULL)
    g_printerr (_("tidings-cli: No folder “%s” (see “tidings-cli folders”).\n"), path);
  return folder;
}

static int
move_or_copy (Cli      *cli,
              int       argc,
              char    **argv,
              gboolean  copy)
{
  g_autofree char *account_name = NULL;
  GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_name, N_("The account of the folder"), "A" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("ID… FOLDER");
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc < 3)
    return usage_error (copy ? _("Usage: copy ID… FOLDER [--account A]")
                             : _("Usage: move ID… FOLDER [--account A]"));
  if ((ids = parse_ids (argv, 1, argc - 1)) == NULL)
    return 2;
  if (!open_profile (cli) || (accounts = accounts_of (cli, ids)) == NULL)
    return 1;
  if ((folder = find_target_folder (cli, argv[argc - 1], account_name, accounts)) == NULL)
    return 1;

  td_account_manager_move_messages_async (cli->manager, ids, td_folder_get_id (folder), copy,
                                          NULL, store_result_cb, &result);
  if (!finish_action (cli, wait_result (&result)))
    return 1;
  return send_changes (cli, accounts);
}

static int
cmd_move (Cli   *cli,
          int    argc,
          char **argv)
{
  return move_or_copy (cli, argc, argv, FALSE);
}

static int
cmd_copy (Cli   *cli,
          int    argc,
          char **argv)
{
  return move_or_copy (cli, argc, argv, TRUE);
}

static int
delete_or_archive (Cli      *cli,
                   int       argc,
                   char    **argv,
                   gboolean  archive)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  if (argc < 2)
    return usage_error (archive ? _("Usage: archive ID…") : _("Usage: delete ID…"));
  if ((ids = parse_ids (argv, 1, argc)) == NULL)
    return 2;
  if (!open_profile (cli) || (accounts = accounts_of (cli, ids)) == NULL)
    return 1;

  if (archive)
    td_account_manager_archive_messages_async (cli->manager, ids, NULL, store_result_cb, &result);
  else
    td_account_manager_delete_messages_async (cli->manager, ids, NULL, store_result_cb, &result);
  if (!finish_action (cli, wait_result (&result)))
    return 1;
  return send_changes (cli, accounts);
}

static int
cmd_delete (Cli   *cli,
            int    argc,
            char **argv)
{
  return delete_or_archive (cli, argc, argv, FALSE);
}

static int
cmd_archive (Cli   *cli,
             int    argc,
             char **argv)
{
  return delete_or_archive (cli, argc, argv, TRUE);
}

static int
cmd_folder (Cli   *cli,
            int    argc,
            char **argv)
{
  g_autofree char *account_name = NULL;
  GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_name, N_("The account of the folder"), "A" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("ACTION PATH [NEW]");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdAccount *account;
  const char *action;
  gboolean rename;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  action = argc > 1 ? argv[1] : "";
  rename = g_strcmp0 (action, "rename") == 0;
  if ((rename && argc != 4) || (!rename && argc != 3) ||
      !g_strv_contains ((const char * const[]) { "create", "rename", "delete", "subscribe",
                                                 "unsubscribe", "empty", NULL }, action))
    return usage_error (_("Usage: folder create|rename|delete|subscribe|unsubscribe|empty PATH "
                          "[NEW] [--account A]"));
  if (!open_profile (cli) || (account = find_account (cli, account_name)) == NULL)
    return 1;
  g_ptr_array_add (accounts, g_object_ref (account));

  if (strcmp (action, "create") == 0)
    td_account_manager_create_folder_async (cli->manager, account, argv[2], NULL,
                                            store_result_cb, &result);
  else
    {
      folder = td_store_find_folder (cli->store, td_account_get_id (account), argv[2], NULL);
      if (folder == NULL)
        {
          g_printerr (_("tidings-cli: No folder “%s” (see “tidings-cli folders”).\n"), argv[2]);
          return 1;
        }
      if (rename)
        td_account_manager_rename_folder_async (cli->manager, td_folder_get_id (folder),
                                                argv[3], NULL, store_result_cb, &result);
      else if (strcmp (action, "delete") == 0)
        td_account_manager_delete_folder_async (cli->manager, td_folder_get_id (folder), NULL,
                                                store_result_cb, &result);
      else if (strcmp (action, "empty") == 0)
        td_account_manager_empty_folder_async (cli->manager, td_folder_get_id (folder), NULL,
                                               store_result_cb, &result);
      else
        td_account_manager_subscribe_folder_async (cli->manager, td_folder_get_id (folder),
                                                   strcmp (action, "subscribe") == 0, NULL,
                                                   store_result_cb, &result);
    }
  if (!finish_action (cli, wait_result (&result)))
    return 1;
  return send_changes (cli, accounts);
}

/* --- watch --- */

typedef struct
{
  Cli        *cli;
  TdAccount  *account;    /* NULL: all */
  gint64      max_seen;   /* highest message id printed or known at the start */
  GMainLoop  *loop;
  int         status;
} Watch;

/* Prints the Inbox messages above max_seen; with @quiet only moves max_seen. */
static void
watch_scan (Watch    *w,
            gboolean  quiet)
{
  GListModel *accounts = td_account_manager_get_accounts (w->cli->manager);
  gint64 max = w->max_seen;

  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TdAccount) a = g_list_model_get_item (accounts, i);
      g_autoptr(TdFolder) inbox = NULL;
      g_autoptr(GPtrArray) page = NULL;

      if (w->account != NULL && td_account_get_id (a) != td_account_get_id (w->account))
        continue;
      inbox = td_store_find_folder (w->cli->store, td_account_get_id (a), "INBOX", NULL);
      if (inbox == NULL)
        continue;
      page = td_store_page_messages (w->cli->store, td_folder_get_id (inbox), 0, 200, NULL);
      for (guint j = 0; page != NULL && j < page->len; j++)
        {
          TdMessage *m = g_ptr_array_index (page, j);

          if (td_message_get_id (m) <= w->max_seen)
            continue;
          max = MAX (max, td_message_get_id (m));
          if (!quiet)
            print_message_line (m);
        }
    }
  w->max_seen = max;
  fflush (stdout);
}

static void
watch_sync_finished_cb (TdAccountManager *manager,
                        TdAccount        *account,
                        const GError     *error,
                        Watch            *w)
{
  if (error != NULL)
    g_printerr (_("tidings-cli: %s: %s\n"), td_account_get_name (account), error->message);
  watch_scan (w, FALSE);
}

static void
watch_online_cb (TdAccountManager *manager,
                 TdAccount        *account,
                 gboolean          online,
                 Watch            *w)
{
  g_printerr (online ? _("%s: connected, waiting for new mail\n")
                     : _("%s: offline, trying again\n"),
              td_account_get_name (account));
}

static gboolean
watch_quit_cb (gpointer user_data)
{
  Watch *w = user_data;

  g_main_loop_quit (w->loop);
  return G_SOURCE_CONTINUE;
}

static int
cmd_watch (Cli   *cli,
           int    argc,
           char **argv)
{
  int poll_interval = 300;
  GOptionEntry entries[] = {
    { "poll-interval", 0, 0, G_OPTION_ARG_INT, &poll_interval,
      N_("Seconds between checks: polls of servers without IDLE, renewals of IDLE "
         "(default 300)"), "SECONDS" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("[ACCOUNT]");
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  Watch w = { cli, NULL, 0, NULL, 0 };
  guint sigint, sigterm;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc > 2 || poll_interval < 1)
    return usage_error (_("Usage: watch [ACCOUNT] [--poll-interval SECONDS]"));
  if (!open_profile (cli))
    return 1;
  if (argc == 2 && (w.account = find_account (cli, argv[1])) == NULL)
    return 1;
  if (w.account == NULL &&
      g_list_model_get_n_items (td_account_manager_get_accounts (cli->manager)) == 0)
    {
      find_account (cli, NULL);
      return 1;
    }

  /* what is there now is not news */
  td_account_manager_sync_async (cli->manager, w.account, NULL, store_result_cb, &result);
  if (!td_account_manager_sync_finish (cli->manager, wait_result (&result), &error))
    {
      print_error (_("Sync failed"), error);
      return 1;
    }
  watch_scan (&w, TRUE);

  w.loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect (cli->manager, "sync-finished", G_CALLBACK (watch_sync_finished_cb), &w);
  g_signal_connect (cli->manager, "online-changed", G_CALLBACK (watch_online_cb), &w);
  td_account_manager_set_poll_interval (cli->manager, (guint) poll_interval);
  td_account_manager_start_push (cli->manager);
  sigint = g_unix_signal_add (SIGINT, watch_quit_cb, &w);
  sigterm = g_unix_signal_add (SIGTERM, watch_quit_cb, &w);
  g_main_loop_run (w.loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  td_account_manager_stop_push (cli->manager);
  g_signal_handlers_disconnect_by_data (cli->manager, &w);
  g_main_loop_unref (w.loop);
  return w.status;
}

/* --- send, outbox (td-cli-send.c) --- */

static int
cmd_send_or_outbox (Cli   *cli,
                    int    argc,
                    char **argv)
{
  TdCliContext ctx = { NULL };

  if (!open_profile (cli))
    return 1;
  ctx.store = cli->store;
  ctx.manager = cli->manager;
  ctx.offline = cli->offline;
  return g_strcmp0 (argv[0], "send") == 0 ? td_cli_send (&ctx, argc, argv)
                                          : td_cli_outbox (&ctx, argc, argv);
}

static const struct {
  const char  *name;
  CommandFunc  func;
} commands[] = {
  { "send", cmd_send_or_outbox },
  { "outbox", cmd_send_or_outbox },
  { "account", cmd_account },
  { "sync", cmd_sync },
  { "folders", cmd_folders },
  { "ls", cmd_ls },
  { "show", cmd_show },
  { "search", cmd_search },
  { "flag", cmd_flag },
  { "move", cmd_move },
  { "copy", cmd_copy },
  { "delete", cmd_delete },
  { "archive", cmd_archive },
  { "folder", cmd_folder },
  { "watch", cmd_watch },
};

int
main (int    argc,
      char **argv)
{
  Cli cli = { NULL };
  int i = 1;
  int status = -1;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("tidings-cli");
  td_engine_init ();

  /* Global options come before the command. */
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      if (g_strcmp0 (argv[i], "--help") == 0 || g_strcmp0 (argv[i], "-h") == 0)
        {
          g_print ("%s", _(usage_text));
          return 0;
        }
      else if (g_strcmp0 (argv[i], "--version") == 0)
        {
          g_print ("tidings-cli %s\n", PACKAGE_VERSION);
          return 0;
        }
      else if (g_strcmp0 (argv[i], "--profile") == 0 && i + 1 < argc)
        {
          g_free (cli.profile);
          cli.profile = g_strdup (argv[++i]);
        }
      else if (g_strcmp0 (argv[i], "--offline") == 0)
        cli.offline = TRUE;
      else if (g_str_has_prefix (argv[i], "--profile="))
        {
          g_free (cli.profile);
          cli.profile = g_strdup (argv[i] + strlen ("--profile="));
        }
      else
        return usage_error (_("Unknown option"));
    }

  if (i >= argc)
    {
      g_printerr ("%s", _(usage_text));
      return 2;
    }

  if (cli.profile == NULL)
    cli.profile = g_build_filename (g_get_user_data_dir (), "tidings", NULL);
  cli.timing = g_strcmp0 (g_getenv ("TD_BENCH_TIMING"), "1") == 0;

  for (guint c = 0; c < G_N_ELEMENTS (commands); c++)
    if (g_strcmp0 (argv[i], commands[c].name) == 0)
      {
        status = commands[c].func (&cli, argc - i, argv + i);
        break;
      }
  if (status == -1)
    status = usage_error (_("Unknown command"));

  if (cli.manager != NULL)
    {
      g_autoptr(GAsyncResult) result = NULL;

      /* log out of the pooled connections rather than cutting them */
      td_account_manager_close_async (cli.manager, NULL, store_result_cb, &result);
      td_account_manager_close_finish (cli.manager, wait_result (&result), NULL);
    }
  g_clear_object (&cli.manager);
  if (cli.store != NULL)
    td_store_close (cli.store);
  g_clear_object (&cli.store);
  g_free (cli.profile);
  return status;
}
