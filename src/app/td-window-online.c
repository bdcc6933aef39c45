/* td-window-online.c: push, online and offline, and sending what was done here
 *
 * An account is offline for the window when its push connection went down or a sync could
 * not reach its server, and online again when the push connection is up or a sync worked.
 * While an account is offline the bar above the message list says so; actions still work
 * (they are journaled) and are sent when the connection is back, so a failure to send them
 * then is not an error to show.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-window-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

/* The server could not be reached (as opposed to refusing something). */
static gboolean
is_offline_error (const GError *error)
{
  return g_error_matches (error, TD_ERROR, TD_ERROR_CONNECTION) ||
         g_error_matches (error, TD_ERROR, TD_ERROR_TIMEOUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
         (error != NULL && error->domain == G_RESOLVER_ERROR);
}

static void
update_offline_bar (TdWindow *self)
{
  guint n_offline = g_hash_table_size (self->offline);
  guint n_accounts = 0;
  TdAccount *account = NULL;

  if (self->manager != NULL)
    n_accounts = g_list_model_get_n_items (td_account_manager_get_accounts (self->manager));

  if (n_offline == 1 && n_accounts > 1)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, self->offline);
      if (g_hash_table_iter_next (&iter, &key, NULL))
        account = _td_window_find_account (self, *(gint64 *) key);
    }

  if (account != NULL)
    {
      /* Translators: the argument is an account's name */
      g_autofree char *text = g_strdup_printf (_("%s is offline — changes will be sent when "
                                                 "the connection is back"),
                                               td_account_get_name (account));

      gtk_label_set_text (self->offline_label, text);
    }
  else if (n_offline > 0)
    gtk_label_set_text (self->offline_label,
                        _("Offline — changes will be sent when the connection is back"));
  gtk_revealer_set_reveal_child (self->offline_revealer, n_offline > 0);
}

static void
set_account_offline (TdWindow  *self,
                     TdAccount *account,
                     gboolean   offline)
{
  gint64 id = td_account_get_id (account);

  if (offline == g_hash_table_contains (self->offline, &id))
    return;
  if (offline)
    {
      gint64 *key = g_new (gint64, 1);

      *key = id;
      g_hash_table_add (self->offline, key);
    }
  else
    g_hash_table_remove (self->offline, &id);
  td_sidebar_set_account_offline (self->sidebar, id, offline);
  update_offline_bar (self);
}

static void
online_changed_cb (TdWindow         *self,
                   TdAccount        *account,
                   gboolean          online,
                   TdAccountManager *manager)
{
  set_account_offline (self, account, !online);
}

gboolean
_td_window_online_sync_finished (TdWindow     *self,
                                 TdAccount    *account,
                                 const GError *error)
{
  gint64 id = td_account_get_id (account);

  if (error == NULL)
    {
      set_account_offline (self, account, FALSE);
      _td_window_dismiss_error_toast (self);
      /* Push needs the password from the keyring: a sync that worked may have just got it. */
      td_account_manager_start_push (self->manager);
      return TRUE;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return TRUE;
  if (!is_offline_error (error))
    return FALSE;

  set_account_offline (self, account, TRUE);
  /* A send of what was done here: it stays in the journal, and the bar says so. */
  return g_hash_table_contains (self->sending, &id);
}

TdAccount *
_td_window_find_account (TdWindow *self,
                         gint64    account_id)
{
  GListModel *accounts;

  if (self->manager == NULL)
    return NULL;
  accounts = td_account_manager_get_accounts (self->manager);
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TdAccount) account = g_list_model_get_item (accounts, i);

      if (td_account_get_id (account) == account_id)
        return account;   /* the list keeps a reference */
    }
  return NULL;
}

gboolean
_td_window_is_account_offline (TdWindow *self,
                               gint64    account_id)
{
  return g_hash_table_contains (self->offline, &account_id);
}

/* --- Sending local changes --- */

typedef struct
{
  TdWindow *self;
  gint64    account_id;
} SendData;

static void
send_changes_done_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  SendData *data = user_data;
  g_autoptr(TdWindow) self = data->self;
  g_autoptr(GError) error = NULL;
  guint pending;

  /* Errors were reported through "sync-finished" (or, offline, deliberately not). */
  if (!td_account_manager_send_changes_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    g_debug ("Sending changes failed: %s", error->message);

  pending = GPOINTER_TO_UINT (g_hash_table_lookup (self->sending, &data->account_id));
  if (pending <= 1)
    g_hash_table_remove (self->sending, &data->account_id);
  else
    {
      gint64 *key = g_new (gint64, 1);

      *key = data->account_id;
      g_hash_table_replace (self->sending, key, GUINT_TO_POINTER (pending - 1));
    }
  g_free (data);
}

void
_td_window_send_changes (TdWindow  *self,
                         TdAccount *account)
{
  SendData *data;
  gint64 *key;
  guint pending;

  if (self->manager == NULL || account == NULL)
    return;

  data = g_new0 (SendData, 1);
  data->self = g_object_ref (self);
  data->account_id = td_account_get_id (account);
  key = g_new (gint64, 1);
  *key = data->account_id;
  pending = GPOINTER_TO_UINT (g_hash_table_lookup (self->sending, key));
  g_hash_table_replace (self->sending, key, GUINT_TO_POINTER (pending + 1));
  td_account_manager_send_changes_async (self->manager, account, self->cancellable,
                                         send_changes_done_cb, data);
}

/* --- Settings --- */

static void
poll_interval_changed_cb (TdWindow   *self,
                          const char *key,
                          GSettings  *settings)
{
  if (self->manager != NULL)
    td_account_manager_set_poll_interval (self->manager,
                                          g_settings_get_uint (settings, "poll-interval"));
}

static void
check_interval_changed_cb (TdWindow   *self,
                           const char *key,
                           GSettings  *settings)
{
  if (self->manager != NULL)
    td_account_manager_set_check_interval (self->manager,
                                           g_settings_get_uint (settings,
                                                                "pop3-check-interval"));
}

void
_td_window_online_init (TdWindow *self)
{
  if (self->settings == NULL)
    return;
  g_signal_connect_object (self->settings, "changed::poll-interval",
                           G_CALLBACK (poll_interval_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::pop3-check-interval",
                           G_CALLBACK (check_interval_changed_cb), self, G_CONNECT_SWAPPED);
}

void
_td_window_online_set_manager (TdWindow         *self,
                               TdAccountManager *manager)
{
  g_signal_connect_object (manager, "online-changed", G_CALLBACK (online_changed_cb), self,
                           G_CONNECT_SWAPPED);
  if (self->settings != NULL)
    {
      poll_interval_changed_cb (self, "poll-interval", self->settings);
      check_interval_changed_cb (self, "pop3-check-interval", self->settings);
    }
}
