/* td-cli-read.c: `tidings-cli folders`, `ls`, `show` and `search`: reading the store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-cli"

#include "config.h"

#include "td-cli-private.h"

#include <glib/gi18n.h>

#include "td-error.h"
#include "td-mime.h"

/* --- reading --- */

int
td_cli_folders (TdCli  *cli,
                int     argc,
                char  **argv)
{
  g_autoptr(GError) error = NULL;
  GListModel *accounts;

  if (argc > 2)
    return td_cli_usage_error (_("Usage: folders [ACCOUNT]"));
  if (!td_cli_open_profile (cli))
    return 1;

  accounts = td_account_manager_get_accounts (cli->manager);
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TdAccount) a = g_list_model_get_item (accounts, i);
      g_autoptr(GPtrArray) folders = NULL;

      if (argc == 2)
        {
          TdAccount *wanted = td_cli_find_account (cli, argv[1]);

          if (wanted == NULL)
            return 1;
          if (wanted != a)
            continue;
        }
      folders = td_store_list_folders (cli->store, td_account_get_id (a), &error);
      if (folders == NULL)
        {
          td_cli_print_error (NULL, error);
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


int
td_cli_ls (TdCli  *cli,
           int     argc,
           char  **argv)
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
    return td_cli_usage_error (error->message);
  if (argc != 2)
    return td_cli_usage_error (_("Usage: ls FOLDER [--account A] [--limit N]"));
  if (limit < 1)
    return td_cli_usage_error (_("--limit must be at least 1"));
  if (!td_cli_open_profile (cli))
    return 1;

  accounts = td_account_manager_get_accounts (cli->manager);
  for (guint i = 0; i < g_list_model_get_n_items (accounts) && folder == NULL; i++)
    {
      g_autoptr(TdAccount) a = g_list_model_get_item (accounts, i);

      if (account_name != NULL)
        {
          TdAccount *wanted = td_cli_find_account (cli, account_name);

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
      td_cli_print_error (NULL, error);
      return 1;
    }
  for (guint i = 0; i < messages->len; i++)
    td_cli_print_message_line (g_ptr_array_index (messages, i));
  return 0;
}

int
td_cli_show (TdCli  *cli,
             int     argc,
             char  **argv)
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
    return td_cli_usage_error (_("Usage: show ID"));
  id = g_ascii_strtoll (argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || id <= 0)
    return td_cli_usage_error (_("ID must be a message id as “ls” or “search” print it"));
  if (!td_cli_open_profile (cli))
    return 1;

  message = td_store_get_message (cli->store, id, &error);
  if (message == NULL)
    {
      td_cli_print_error (NULL, error);
      return 1;
    }

  td_store_get_body_async (cli->store, id, NULL, td_cli_store_result_cb, &result);
  raw = td_store_get_body_finish (cli->store, td_cli_wait_result (&result), &error);
  if (raw == NULL && g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND) && !cli->offline)
    {
      /* outside the sync window, or not downloaded yet: fetch it now; it is kept */
      g_clear_error (&error);
      g_clear_object (&result);
      td_account_manager_fetch_body_async (cli->manager, id, NULL, td_cli_store_result_cb, &result);
      if (td_account_manager_fetch_body_finish (cli->manager, td_cli_wait_result (&result), &error))
        {
          g_clear_object (&result);
          td_store_get_body_async (cli->store, id, NULL, td_cli_store_result_cb, &result);
          raw = td_store_get_body_finish (cli->store, td_cli_wait_result (&result), &error);
        }
      else
        {
          td_cli_print_error (_("Could not download the message"), error);
          return 1;
        }
    }
  if (raw == NULL)
    {
      if (g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
        g_printerr (_("tidings-cli: The text of this message has not been downloaded yet; "
                      "run “tidings-cli show” without --offline, or “tidings-cli sync”.\n"));
      else
        td_cli_print_error (NULL, error);
      return 1;
    }

  mime = td_mime_message_new (raw, &error);
  if (mime == NULL)
    {
      td_cli_print_error (NULL, error);
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

int
td_cli_search (TdCli  *cli,
               int     argc,
               char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autofree char *query = NULL;

  if (argc < 2)
    return td_cli_usage_error (_("Usage: search QUERY…"));
  query = g_strjoinv (" ", argv + 1);
  if (!td_cli_open_profile (cli))
    return 1;

  td_store_search_async (cli->store, query, 100, NULL, td_cli_store_result_cb, &result);
  messages = td_store_search_finish (cli->store, td_cli_wait_result (&result), &error);
  if (messages == NULL)
    {
      td_cli_print_error (_("Search failed"), error);
      return 1;
    }
  for (guint i = 0; i < messages->len; i++)
    td_cli_print_message_line (g_ptr_array_index (messages, i));
  return 0;
}
