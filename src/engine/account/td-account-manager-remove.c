/* td-account-manager-remove.c: removing an account and everything of it on this computer
 *
 * The account's push watches stop and its connections are logged out; a sync running for it
 * is let finish first (it writes into the account's folders). Then its password items go
 * from the keyring, and only then its rows from the store, so that a process killed in
 * between leaves an account that asks for its password rather than a password nobody can
 * see or remove. Mail on the server is not touched.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-account"

#include "config.h"

#include "td-account-manager-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

static void
removed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!td_store_remove_account_finish (TD_STORE (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* the store's "accounts-changed" takes it out of the list and drops its client */
  g_task_return_boolean (task, TRUE);
}

static void
cleared_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TdAccountManager *self = g_task_get_source_object (task);
  TdAccount *account = g_task_get_task_data (task);
  GCancellable *cancellable;
  g_autoptr(GError) error = NULL;

  if (!td_credentials_clear_finish (TD_CREDENTIALS (source), result, &error) &&
      !g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_FAILED,
                               _("The password of %s could not be removed from the keyring, so "
                                 "the account was kept: %s. Unlock the keyring and try again."),
                               td_account_get_address (account), error->message);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  td_store_remove_account_async (self->store, td_account_get_id (account), cancellable,
                                 removed_cb, g_steal_pointer (&task));
}

static void
remove_now (GTask *task)
{
  TdAccountManager *self = g_task_get_source_object (task);
  TdAccount *account = g_task_get_task_data (task);

  td_credentials_clear_async (self->credentials, account, g_task_get_cancellable (task),
                              cleared_cb, task);
}

static void
sync_ended_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;

  /* how it ended does not matter: the account goes */
  g_task_propagate_boolean (G_TASK (result), NULL);
  remove_now (task);
}

void
td_account_manager_remove_account_async (TdAccountManager    *self,
                                         TdAccount           *account,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  GTask *task;
  GPtrArray *waiters;
  gint64 id;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_account_manager_remove_account_async);
  g_task_set_task_data (task, g_object_ref (account), g_object_unref);

  id = td_account_get_id (account);
  _td_account_manager_stop_watches (self, id);
  g_hash_table_remove (self->refused, &id);
  g_hash_table_remove (self->resync, &id);
  g_hash_table_remove (self->resend, &id);

  waiters = _td_account_manager_get_waiters (self, id);
  if (waiters != NULL)
    {
      g_ptr_array_add (waiters, g_task_new (self, NULL, sync_ended_cb, task));
      return;
    }
  remove_now (task);
}

gboolean
td_account_manager_remove_account_finish (TdAccountManager  *self,
                                          GAsyncResult      *result,
                                          GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
