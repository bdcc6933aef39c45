/* td-cli-account.c: `tidings-cli account`: add (after checking the server), list, trust, set,
 * remove
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-cli"

#include "config.h"

#include "td-cli-private.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "td-cli-auto.h"
#include "td-cli-send.h"
#include "td-error.h"
#include "td-imap-session.h"
#include "td-pop3-session.h"

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

  td_pop3_session_connect_async (session, NULL, td_cli_store_result_cb, &r1);
  if (!td_pop3_session_connect_finish (session, td_cli_wait_result (&r1), error))
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
                                        NULL, td_cli_store_result_cb, &r2);
      ok = td_pop3_session_auth_plain_finish (session, td_cli_wait_result (&r2), error);
    }
  else
    {
      td_pop3_session_login_async (session, td_account_get_username (account), password, NULL,
                                   td_cli_store_result_cb, &r2);
      ok = td_pop3_session_login_finish (session, td_cli_wait_result (&r2), error);
    }
  if (!ok)
    return FALSE;

  td_pop3_session_quit_async (session, NULL, td_cli_store_result_cb, &r3);
  td_pop3_session_quit_finish (session, td_cli_wait_result (&r3), NULL);
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

  td_imap_session_connect_async (session, NULL, td_cli_store_result_cb, &r1);
  if (!td_imap_session_connect_finish (session, td_cli_wait_result (&r1), error))
    {
      const TdCertificateInfo *info = td_connection_get_certificate_info (connection);

      if (info != NULL && error != NULL && g_error_matches (*error, TD_ERROR, TD_ERROR_CERTIFICATE))
        *refused = td_certificate_info_copy (info);
      return FALSE;
    }

  td_imap_session_login_async (session, td_account_get_username (account), password, NULL,
                               td_cli_store_result_cb, &r2);
  if (!td_imap_session_login_finish (session, td_cli_wait_result (&r2), error))
    return FALSE;

  td_imap_session_logout_async (session, NULL, td_cli_store_result_cb, &r3);
  td_imap_session_logout_finish (session, td_cli_wait_result (&r3), NULL);
  return TRUE;
}

static int
cmd_account_add (TdCli  *cli,
                 int     argc,
                 char  **argv)
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
    return td_cli_usage_error (error->message);
  if (argc != 2 || !td_account_kind_from_string (argv[1], &kind))
    return td_cli_usage_error (_("Say the kind of account: “account add imap” or “account add pop3”"));
  if (kind == TD_ACCOUNT_KIND_IMAP &&
      (leave_on_server || delete_after_download || delete_when_deleted_here ||
       delete_after_days >= 0))
    return td_cli_usage_error (_("--leave-on-server, --delete-after-days, --delete-after-download and "
                          "--delete-when-deleted-here are for POP3 accounts"));
  if (kind == TD_ACCOUNT_KIND_POP3 && sync_days != 0)
    return td_cli_usage_error (_("--sync-days is for IMAP accounts"));
  if ((leave_on_server ? 1 : 0) + (delete_after_download ? 1 : 0) +
      (delete_after_days >= 0 ? 1 : 0) > 1)
    return td_cli_usage_error (_("Choose one of --leave-on-server, --delete-after-days and "
                          "--delete-after-download"));
  if (delete_after_days > TD_POP3_DELETE_DAYS_MAX)
    return td_cli_usage_error (_("--delete-after-days must be a number of days"));
  if (leave_on_server)
    policy = TD_POP3_POLICY_KEEP;
  else if (delete_after_download)
    policy = TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD;
  if (address == NULL || host == NULL)
    return td_cli_usage_error (_("--address and --host are required"));
  if (strchr (address, '@') == NULL)
    return td_cli_usage_error (_("--address must be an email address"));
  if (security_str != NULL && !td_security_from_string (security_str, &security))
    return td_cli_usage_error (_("--security must be “tls” or “starttls”"));
  if (port == 0 && kind == TD_ACCOUNT_KIND_POP3)
    port = security == TD_SECURITY_TLS ? 995 : 110;
  else if (port == 0)
    port = security == TD_SECURITY_TLS ? 993 : 143;
  if (port < 1 || port > 65535)
    return td_cli_usage_error (_("--port must be between 1 and 65535"));
  if (fingerprint != NULL && (pinned = td_fingerprint_normalize (fingerprint)) == NULL)
    return td_cli_usage_error (_("--trust-fingerprint must be a SHA-256 fingerprint (64 hex digits)"));
  if (sync_days < 0 || sync_days > TD_ACCOUNT_SYNC_DAYS_MAX)
    return td_cli_usage_error (_("--sync-days must be a number of days, or 0 for all mail"));

  if (!td_cli_open_profile (cli))
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
      return td_cli_usage_error (_("The password is empty"));
    }

  if (kind == TD_ACCOUNT_KIND_POP3)
    ok = check_pop3_server (account, password, &refused, &error);
  else
    ok = check_server (account, password, &refused, &error);
  if (!ok)
    {
      td_credentials_free_password (password);
      td_cli_print_error (NULL, error);
      if (refused != NULL)
        {
          td_cli_print_certificate (refused);
          g_printerr (_("If you trust this certificate, add the account again with:\n"
                        "  --trust-fingerprint %s\n"), refused->fingerprint);
        }
      return 1;
    }

  td_account_manager_add_account_async (cli->manager, account, password, NULL,
                                        td_cli_store_result_cb, &result);
  td_credentials_free_password (password);
  if (!td_account_manager_add_account_finish (cli->manager, td_cli_wait_result (&result), &error))
    {
      td_cli_print_error (_("Could not add the account"), error);
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
cmd_account_list (TdCli  *cli,
                  int     argc,
                  char  **argv)
{
  GListModel *accounts;

  if (argc != 1)
    return td_cli_usage_error (_("“account list” takes no arguments"));
  if (!td_cli_open_profile (cli))
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
cmd_account_trust (TdCli  *cli,
                   int     argc,
                   char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdAccount *account;

  if (argc != 3)
    return td_cli_usage_error (_("Usage: account trust ACCOUNT SHA256"));
  if (!td_cli_open_profile (cli))
    return 1;
  if ((account = td_cli_find_account (cli, argv[1])) == NULL)
    return 1;

  td_account_manager_trust_certificate_async (cli->manager, account, argv[2], NULL,
                                              td_cli_store_result_cb, &result);
  if (!td_account_manager_trust_certificate_finish (cli->manager, td_cli_wait_result (&result),
                                                    &error))
    {
      td_cli_print_error (NULL, error);
      return 1;
    }
  return 0;
}

static int
cmd_account_set (TdCli  *cli,
                 int     argc,
                 char  **argv)
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
    return td_cli_usage_error (error->message);
  if (argc != 2)
    return td_cli_usage_error (_("Usage: account set ACCOUNT --sync-days N, or for POP3 "
                          "--leave-on-server|--delete-after-days N|--delete-after-download "
                          "and --delete-when-deleted-here|--keep-when-deleted-here"));
  pop3_options = leave_on_server || delete_after_download || delete_after_days != -1 ||
                 delete_when_deleted_here || keep_when_deleted_here;
  if (sync_days == -1 && !pop3_options && !td_cli_smtp_options_given (smtp))
    return td_cli_usage_error (_("Say what to change, e.g. --sync-days 30 (IMAP) or "
                          "--leave-on-server (POP3)"));
  if (sync_days != -1 && (sync_days < 0 || sync_days > TD_ACCOUNT_SYNC_DAYS_MAX))
    return td_cli_usage_error (_("--sync-days must be a number of days, or 0 for all mail"));
  if ((leave_on_server ? 1 : 0) + (delete_after_download ? 1 : 0) +
      (delete_after_days != -1 ? 1 : 0) > 1)
    return td_cli_usage_error (_("Choose one of --leave-on-server, --delete-after-days and "
                          "--delete-after-download"));
  if (delete_after_days != -1 && (delete_after_days < 0 ||
                                  delete_after_days > TD_POP3_DELETE_DAYS_MAX))
    return td_cli_usage_error (_("--delete-after-days must be a number of days"));
  if (delete_when_deleted_here && keep_when_deleted_here)
    return td_cli_usage_error (_("Choose one of --delete-when-deleted-here and "
                          "--keep-when-deleted-here"));
  if (!td_cli_open_profile (cli))
    return 1;
  if ((account = td_cli_find_account (cli, argv[1])) == NULL)
    return 1;

  if (td_account_get_kind (account) == TD_ACCOUNT_KIND_POP3 && sync_days != -1)
    return td_cli_usage_error (_("--sync-days is for IMAP accounts: a POP3 account downloads all of "
                          "its mail. Choose what stays on the server with --leave-on-server, "
                          "--delete-after-days N or --delete-after-download"));
  if (td_account_get_kind (account) != TD_ACCOUNT_KIND_POP3 && pop3_options)
    return td_cli_usage_error (_("--leave-on-server, --delete-after-days, --delete-after-download, "
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

  td_account_manager_update_account_async (cli->manager, account, NULL, td_cli_store_result_cb,
                                           &result);
  if (!td_account_manager_update_account_finish (cli->manager, td_cli_wait_result (&result),
                                                 &error))
    {
      td_cli_print_error (_("Could not change the account"), error);
      return 1;
    }
  if (!td_cli_smtp_options_store_password (smtp, cli->manager, account))
    return 1;
  return 0;
}

/* Messages of the account on this computer. */
static guint
count_account_messages (TdCli     *cli,
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
cmd_account_remove (TdCli  *cli,
                    int     argc,
                    char  **argv)
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
    return td_cli_usage_error (error->message);
  if (argc != 2)
    return td_cli_usage_error (_("Usage: account remove ACCOUNT [--yes]"));
  if (!td_cli_open_profile (cli))
    return 1;
  if (td_cli_find_account (cli, argv[1]) == NULL)
    return 1;
  account = g_object_ref (td_cli_find_account (cli, argv[1]));
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

  td_account_manager_remove_account_async (cli->manager, account, NULL, td_cli_store_result_cb,
                                           &result);
  if (!td_account_manager_remove_account_finish (cli->manager, td_cli_wait_result (&result),
                                                 &error))
    {
      td_cli_print_error (_("Could not remove the account"), error);
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

int
td_cli_account (TdCli  *cli,
                int     argc,
                char  **argv)
{
  if (argc < 2)
    return td_cli_usage_error (_("Say what to do: account add, account list, account trust, account set "
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
  return td_cli_usage_error (_("Unknown account command"));
}
