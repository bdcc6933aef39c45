/* td-cli-sync.c: `tidings-cli sync` (with progress, and TD_BENCH_TIMING) and `watch`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-cli"

#include "config.h"

#include "td-cli-private.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <stdio.h>
#include <unistd.h>

#include "td-error.h"

/* --- sync --- */

static void
sync_progress_cb (TdAccountManager *manager,
                  TdAccount        *account,
                  const char       *what,
                  guint             done,
                  guint             total,
                  TdCli            *cli)
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
                   TdCli            *cli)
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
                    TdCli            *cli)
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
                    TdCli            *cli)
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

int
td_cli_sync (TdCli  *cli,
             int     argc,
             char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  TdAccount *account = NULL;
  GListModel *accounts;
  gboolean ok;
  gint64 t_start = g_get_monotonic_time (), t_opened, t_synced;

  if (argc > 2)
    return td_cli_usage_error (_("Usage: sync [ACCOUNT]"));
  if (!td_cli_open_profile (cli))
    return 1;
  t_opened = g_get_monotonic_time ();
  accounts = td_account_manager_get_accounts (cli->manager);
  if (argc == 2 && (account = td_cli_find_account (cli, argv[1])) == NULL)
    return 1;
  if (account == NULL && g_list_model_get_n_items (accounts) == 0)
    {
      td_cli_find_account (cli, NULL);
      return 1;
    }

  g_signal_connect (cli->manager, "sync-progress", G_CALLBACK (sync_progress_cb), cli);
  if (cli->timing)
    {
      g_signal_connect (cli->manager, "sync-started", G_CALLBACK (timing_started_cb), cli);
      g_signal_connect (cli->manager, "sync-progress", G_CALLBACK (timing_progress_cb), cli);
      g_signal_connect (cli->manager, "sync-finished", G_CALLBACK (timing_finished_cb), cli);
    }
  td_account_manager_sync_async (cli->manager, account, NULL, td_cli_store_result_cb, &result);
  ok = td_account_manager_sync_finish (cli->manager, td_cli_wait_result (&result), &error);
  t_synced = g_get_monotonic_time ();
  if (cli->progress_shown)
    g_printerr ("\r\033[K");

  if (!ok)
    {
      td_cli_print_error (_("Sync failed"), error);
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
              td_cli_print_certificate (info);
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

/* --- watch --- */

typedef struct
{
  TdCli        *cli;
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
            td_cli_print_message_line (m);
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

int
td_cli_watch (TdCli  *cli,
              int     argc,
              char  **argv)
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
    return td_cli_usage_error (error->message);
  if (argc > 2 || poll_interval < 1)
    return td_cli_usage_error (_("Usage: watch [ACCOUNT] [--poll-interval SECONDS]"));
  if (!td_cli_open_profile (cli))
    return 1;
  if (argc == 2 && (w.account = td_cli_find_account (cli, argv[1])) == NULL)
    return 1;
  if (w.account == NULL &&
      g_list_model_get_n_items (td_account_manager_get_accounts (cli->manager)) == 0)
    {
      td_cli_find_account (cli, NULL);
      return 1;
    }

  /* what is there now is not news */
  td_account_manager_sync_async (cli->manager, w.account, NULL, td_cli_store_result_cb, &result);
  if (!td_account_manager_sync_finish (cli->manager, td_cli_wait_result (&result), &error))
    {
      td_cli_print_error (_("Sync failed"), error);
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
