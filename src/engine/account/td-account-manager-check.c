/* td-account-manager-check.c: checking POP3 accounts for new mail at an interval
 *
 * An IMAP account announces new mail through its watch (IDLE, else polling). A POP3 server
 * cannot: the check syncs each POP3 account every interval instead (ten minutes unless the
 * user chose otherwise), skips a round while the network is known to be gone, and checks at
 * once when it comes back. A check that fails is reported like any sync ("sync-finished")
 * and the next round tries again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-account"

#include "config.h"

#include "td-account-manager-private.h"

struct _TdMailCheck
{
  TdAccountManager *manager;      /* owns the check */
  GNetworkMonitor  *monitor;
  gulong            network_changed_id;
  guint             interval;     /* seconds */
  guint             timeout_id;
  gboolean          running;
  gboolean          network_lost;
};

static void
check_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* "sync-finished" told the window (or the CLI) already */
  if (!td_account_manager_sync_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    g_debug ("Checking for new mail failed: %s", error->message);
}

static void
check_now (TdMailCheck *self)
{
  GListModel *accounts = td_account_manager_get_accounts (self->manager);

  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TdAccount) account = g_list_model_get_item (accounts, i);

      /* a sync already running for the account is joined, not started twice */
      if (td_account_get_kind (account) == TD_ACCOUNT_KIND_POP3)
        td_account_manager_sync_async (self->manager, account, NULL, check_done_cb, NULL);
    }
}

static gboolean
timeout_cb (gpointer user_data)
{
  TdMailCheck *self = user_data;

  if (!self->network_lost)
    check_now (self);
  return G_SOURCE_CONTINUE;
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    TdMailCheck     *self)
{
  if (!available)
    {
      self->network_lost = TRUE;
      return;
    }
  if (self->network_lost)
    {
      self->network_lost = FALSE;
      check_now (self);
    }
}

static void
disconnect_monitor (TdMailCheck *self)
{
  if (self->monitor != NULL && self->network_changed_id != 0)
    g_clear_signal_handler (&self->network_changed_id, self->monitor);
}

static void
schedule (TdMailCheck *self)
{
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  if (self->running)
    self->timeout_id = g_timeout_add_seconds (self->interval, timeout_cb, self);
}

TdMailCheck *
_td_mail_check_new (TdAccountManager *manager)
{
  TdMailCheck *self = g_new0 (TdMailCheck, 1);

  self->manager = manager;
  self->interval = 600;
  return self;
}

void
_td_mail_check_free (TdMailCheck *self)
{
  if (self == NULL)
    return;
  _td_mail_check_stop (self);
  g_clear_object (&self->monitor);
  g_free (self);
}

void
_td_mail_check_start (TdMailCheck *self)
{
  if (self->running)
    return;
  self->running = TRUE;
  if (self->monitor == NULL)
    self->monitor = g_object_ref (g_network_monitor_get_default ());
  self->network_lost = !g_network_monitor_get_network_available (self->monitor);
  self->network_changed_id = g_signal_connect (self->monitor, "network-changed",
                                               G_CALLBACK (network_changed_cb), self);
  schedule (self);
}

void
_td_mail_check_stop (TdMailCheck *self)
{
  self->running = FALSE;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  disconnect_monitor (self);
}

void
_td_mail_check_set_interval (TdMailCheck *self,
                             guint        seconds)
{
  seconds = MAX (seconds, 1);
  if (seconds == self->interval)
    return;
  self->interval = seconds;
  schedule (self);
}

guint
_td_mail_check_get_interval (TdMailCheck *self)
{
  return self->interval;
}

void
_td_mail_check_set_network_monitor (TdMailCheck     *self,
                                    GNetworkMonitor *monitor)
{
  gboolean running = self->running;

  _td_mail_check_stop (self);
  g_set_object (&self->monitor, monitor);
  if (running)
    _td_mail_check_start (self);
}
