/* td-cli.c: tidings-cli, the Tidings engine without a window: global options, the commands
 * and what they share (td-cli-private.h says which file has which command)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-cli"

#include "config.h"

#include "td-cli-private.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "td-cli-send.h"
#include "td-secret-credentials.h"

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

int
td_cli_usage_error (const char *message)
{
  if (message != NULL)
    g_printerr ("tidings-cli: %s\n", message);
  g_printerr (_("Try “tidings-cli --help”.\n"));
  return 2;
}

/* --- Running async calls to completion --- */

void
td_cli_store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

GAsyncResult *
td_cli_wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

void
td_cli_print_error (const char *what,
             GError     *error)
{
  if (what != NULL)
    g_printerr ("tidings-cli: %s: %s\n", what, error->message);
  else
    g_printerr ("tidings-cli: %s\n", error->message);
}

/* Opens the profile's store and the engine; says why on stderr when it cannot. */
gboolean
td_cli_open_profile (TdCli *cli)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(TdCredentials) credentials = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (cli->profile, "tidings.db", NULL);

  cli->store = td_store_new (path);
  td_store_open_async (cli->store, NULL, td_cli_store_result_cb, &result);
  if (!td_store_open_finish (cli->store, td_cli_wait_result (&result), &error))
    {
      td_cli_print_error (_("Could not open the profile"), error);
      return FALSE;
    }

  credentials = td_secret_credentials_new ();
  cli->manager = td_account_manager_new (cli->store, credentials);
  return TRUE;
}

TdAccount *
td_cli_find_account (TdCli      *cli,
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

/* --- send, outbox (td-cli-send.c) --- */

static int
cmd_send_or_outbox (TdCli  *cli,
                    int     argc,
                    char  **argv)
{
  if (!td_cli_open_profile (cli))
    return 1;
  return g_strcmp0 (argv[0], "send") == 0 ? td_cli_send (cli, argc, argv)
                                          : td_cli_outbox (cli, argc, argv);
}

void
td_cli_print_certificate (const TdCertificateInfo *info)
{
  g_autofree char *text = td_certificate_info_to_string (info);

  g_printerr ("%s\n", text);
}

void
td_cli_print_message_line (TdMessage *m)
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

static const struct {
  const char  *name;
  TdCliCommand  func;
} commands[] = {
  { "send", cmd_send_or_outbox },
  { "outbox", cmd_send_or_outbox },
  { "account", td_cli_account },
  { "sync", td_cli_sync },
  { "folders", td_cli_folders },
  { "ls", td_cli_ls },
  { "show", td_cli_show },
  { "search", td_cli_search },
  { "flag", td_cli_flag },
  { "move", td_cli_move },
  { "copy", td_cli_copy },
  { "delete", td_cli_delete },
  { "archive", td_cli_archive },
  { "folder", td_cli_folder },
  { "watch", td_cli_watch },
};

int
main (int    argc,
      char **argv)
{
  TdCli cli = { NULL };
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
        return td_cli_usage_error (_("Unknown option"));
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
    status = td_cli_usage_error (_("Unknown command"));

  if (cli.manager != NULL)
    {
      g_autoptr(GAsyncResult) result = NULL;

      /* log out of the pooled connections rather than cutting them */
      td_account_manager_close_async (cli.manager, NULL, td_cli_store_result_cb, &result);
      td_account_manager_close_finish (cli.manager, td_cli_wait_result (&result), NULL);
    }
  g_clear_object (&cli.manager);
  if (cli.store != NULL)
    td_store_close (cli.store);
  g_clear_object (&cli.store);
  g_free (cli.profile);
  return status;
}
