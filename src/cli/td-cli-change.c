/* td-cli-change.c: `tidings-cli flag`, `move`, `copy`, `delete`, `archive` and `folder`:
 * actions, journaled and sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-cli"

#include "config.h"

#include "td-cli-private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "td-error.h"

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

          td_cli_usage_error (msg);
          return NULL;
        }
      g_array_append_val (ids, id);
    }
  return g_steal_pointer (&ids);
}

/* The accounts the messages belong to (TdAccount*); says so and returns NULL when one of them
 * does not exist. */
static GPtrArray *
accounts_of (TdCli  *cli,
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
send_changes (TdCli     *cli,
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
      td_account_manager_send_changes_async (cli->manager, account, NULL, td_cli_store_result_cb,
                                             &result);
      if (!td_account_manager_send_changes_finish (cli->manager, td_cli_wait_result (&result),
                                                   &error))
        {
          if (g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE) ||
              g_error_matches (error, TD_ERROR, TD_ERROR_AUTH) ||
              g_error_matches (error, TD_ERROR, TD_ERROR_NO_PASSWORD))
            {
              td_cli_print_error (_("Could not send the change to the server"), error);
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
finish_action (TdCli        *cli,
               GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;

  if (!td_account_manager_action_finish (cli->manager, result, &error))
    {
      td_cli_print_error (NULL, error);
      return FALSE;
    }
  return TRUE;
}

int
td_cli_flag (TdCli  *cli,
             int     argc,
             char  **argv)
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
    return td_cli_usage_error (_("Usage: flag ID… +FLAG|-FLAG…"));
  for (int i = first_change; i < argc; i++)
    {
      const char *keyword = NULL;
      TdFlags flag = 0;

      if ((argv[i][0] != '+' && argv[i][0] != '-') ||
          !parse_flag_name (argv[i] + 1, &flag, &keyword))
        {
          g_autofree char *msg = g_strdup_printf (_("Unknown flag “%s”"), argv[i]);

          return td_cli_usage_error (msg);
        }
      if (keyword != NULL && ((argv[i][0] == '+' && keyword_add != NULL) ||
                              (argv[i][0] == '-' && keyword_remove != NULL)))
        return td_cli_usage_error (_("Only one keyword can be added and one removed at a time"));
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
  if (!td_cli_open_profile (cli) || (accounts = accounts_of (cli, ids)) == NULL)
    return 1;

  td_account_manager_flag_messages_async (cli->manager, ids, add, remove, keyword_add,
                                          keyword_remove, NULL, td_cli_store_result_cb, &result);
  if (!finish_action (cli, td_cli_wait_result (&result)))
    return 1;
  return send_changes (cli, accounts);
}

/* A folder by path in @account_name's account or, without it, the account of @ids. */
static TdFolder *
find_target_folder (TdCli      *cli,
                    const char *path,
                    const char *account_name,
                    GPtrArray  *accounts)
{
  TdAccount *account = NULL;
  TdFolder *folder;

  if (account_name != NULL)
    {
      if ((account = td_cli_find_account (cli, account_name)) == NULL)
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
move_or_copy (TdCli     *cli,
              int        argc,
              char     **argv,
              gboolean   copy)
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
    return td_cli_usage_error (error->message);
  if (argc < 3)
    return td_cli_usage_error (copy ? _("Usage: copy ID… FOLDER [--account A]")
                             : _("Usage: move ID… FOLDER [--account A]"));
  if ((ids = parse_ids (argv, 1, argc - 1)) == NULL)
    return 2;
  if (!td_cli_open_profile (cli) || (accounts = accounts_of (cli, ids)) == NULL)
    return 1;
  if ((folder = find_target_folder (cli, argv[argc - 1], account_name, accounts)) == NULL)
    return 1;

  td_account_manager_move_messages_async (cli->manager, ids, td_folder_get_id (folder), copy,
                                          NULL, td_cli_store_result_cb, &result);
  if (!finish_action (cli, td_cli_wait_result (&result)))
    return 1;
  return send_changes (cli, accounts);
}

int
td_cli_move (TdCli  *cli,
             int     argc,
             char  **argv)
{
  return move_or_copy (cli, argc, argv, FALSE);
}

int
td_cli_copy (TdCli  *cli,
             int     argc,
             char  **argv)
{
  return move_or_copy (cli, argc, argv, TRUE);
}

static int
delete_or_archive (TdCli     *cli,
                   int        argc,
                   char     **argv,
                   gboolean   archive)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  if (argc < 2)
    return td_cli_usage_error (archive ? _("Usage: archive ID…") : _("Usage: delete ID…"));
  if ((ids = parse_ids (argv, 1, argc)) == NULL)
    return 2;
  if (!td_cli_open_profile (cli) || (accounts = accounts_of (cli, ids)) == NULL)
    return 1;

  if (archive)
    td_account_manager_archive_messages_async (cli->manager, ids, NULL, td_cli_store_result_cb,
                                               &result);
  else
    td_account_manager_delete_messages_async (cli->manager, ids, NULL, td_cli_store_result_cb,
                                              &result);
  if (!finish_action (cli, td_cli_wait_result (&result)))
    return 1;
  return send_changes (cli, accounts);
}

int
td_cli_delete (TdCli  *cli,
               int     argc,
               char  **argv)
{
  return delete_or_archive (cli, argc, argv, FALSE);
}

int
td_cli_archive (TdCli  *cli,
                int     argc,
                char  **argv)
{
  return delete_or_archive (cli, argc, argv, TRUE);
}

int
td_cli_folder (TdCli  *cli,
               int     argc,
               char  **argv)
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
    return td_cli_usage_error (error->message);
  action = argc > 1 ? argv[1] : "";
  rename = g_strcmp0 (action, "rename") == 0;
  if ((rename && argc != 4) || (!rename && argc != 3) ||
      !g_strv_contains ((const char * const[]) { "create", "rename", "delete", "subscribe",
                                                 "unsubscribe", "empty", NULL }, action))
    return td_cli_usage_error (_("Usage: folder create|rename|delete|subscribe|unsubscribe|empty PATH "
                          "[NEW] [--account A]"));
  if (!td_cli_open_profile (cli) || (account = td_cli_find_account (cli, account_name)) == NULL)
    return 1;
  g_ptr_array_add (accounts, g_object_ref (account));

  if (strcmp (action, "create") == 0)
    td_account_manager_create_folder_async (cli->manager, account, argv[2], NULL,
                                            td_cli_store_result_cb, &result);
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
                                                argv[3], NULL, td_cli_store_result_cb, &result);
      else if (strcmp (action, "delete") == 0)
        td_account_manager_delete_folder_async (cli->manager, td_folder_get_id (folder), NULL,
                                                td_cli_store_result_cb, &result);
      else if (strcmp (action, "empty") == 0)
        td_account_manager_empty_folder_async (cli->manager, td_folder_get_id (folder), NULL,
                                               td_cli_store_result_cb, &result);
      else
        td_account_manager_subscribe_folder_async (cli->manager, td_folder_get_id (folder),
                                                   strcmp (action, "subscribe") == 0, NULL,
                                                   td_cli_store_result_cb, &result);
    }
  if (!finish_action (cli, td_cli_wait_result (&result)))
    return 1;
  return send_changes (cli, accounts);
}
