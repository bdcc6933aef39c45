/* td-account-manager.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-account"

#include "config.h"

#include "td-account-manager-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"
#include "td-imap-client.h"
#include "td-imap-sync.h"
#include "td-imap-watch.h"
#include "td-pop3-sync.h"

G_DEFINE_FINAL_TYPE (TdAccountManager, td_account_manager, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SYNCING,
  N_PROPS
};

enum {
  SIGNAL_ONLINE_CHANGED,
  SIGNAL_SYNC_STARTED,
  SIGNAL_SYNC_PROGRESS,
  SIGNAL_SYNC_FINISHED,
  SIGNAL_NEW_MAIL,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* --- Connections --- */

static void
client_shutdown_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!td_imap_client_shutdown_finish (TD_IMAP_CLIENT (source), result, &error))
    g_debug ("Closing the connections failed: %s", error->message);
}

static void
close_one_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  guint *pending = g_task_get_task_data (task);

  if (source != NULL)
    client_shutdown_cb (source, result, NULL);
  if (--(*pending) == 0)
    g_task_return_boolean (task, TRUE);
}

static TdAccount *account_by_id (TdAccountManager *self,
                                 gint64            id);

/* The client of @account, made on first use: every sync, watch and body of the account
 * goes through it, so they share its logged-in sessions and its bound. It connects as the
 * manager's own object for the account (kept up to date by reload_accounts()). */
static TdImapClient *
client_for (TdAccountManager *self,
            TdAccount        *account)
{
  gint64 id = td_account_get_id (account);
  TdImapClient *client = g_hash_table_lookup (self->clients, &id);
  g_autoptr(TdAccount) listed = NULL;
  gint64 *key;

  if (client != NULL)
    return client;
  listed = account_by_id (self, id);
  client = td_imap_client_new (listed != NULL ? listed : account);
  key = g_new (gint64, 1);
  *key = id;
  g_hash_table_insert (self->clients, key, client);
  return client;
}

/* Closes the connections of accounts that are no longer in the list. */
static void
drop_stale_clients (TdAccountManager *self)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr(TdAccount) listed = account_by_id (self, *(gint64 *) key);

      if (listed != NULL)
        continue;
      td_imap_client_shutdown_async (value, NULL, client_shutdown_cb, NULL);
      g_hash_table_iter_remove (&iter);
    }
}

/* Shuts every client down; @task (if any) gets its boolean once all are done. */
static void
shutdown_clients (TdAccountManager *self,
                  GTask            *task)
{
  GHashTableIter iter;
  gpointer value;
  guint *pending = g_new (guint, 1);

  *pending = 1;
  if (task != NULL)
    g_task_set_task_data (task, pending, g_free);
  else
    g_free (pending);
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      if (task == NULL)
        {
          td_imap_client_shutdown_async (value, NULL, client_shutdown_cb, NULL);
          continue;
        }
      (*pending)++;
      td_imap_client_shutdown_async (value, NULL, close_one_cb, g_object_ref (task));
    }
  g_hash_table_remove_all (self->clients);
  if (task != NULL)
    close_one_cb (NULL, NULL, g_object_ref (task));
}

static void
reload_accounts (TdAccountManager *self)
{
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;
  guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  g_autoptr(GPtrArray) merged = g_ptr_array_new_with_free_func (g_object_unref);

  accounts = td_store_list_accounts (self->store, &error);
  if (accounts == NULL)
    {
      g_warning ("Could not read the accounts: %s", error->message);
      return;
    }

  /* Keep the existing objects (the UI and running syncs hold them) and update them. */
  for (guint i = 0; i < accounts->len; i++)
    {
      TdAccount *fresh = g_ptr_array_index (accounts, i);
      TdAccount *keep = NULL;

      for (guint j = 0; j < n_old; j++)
        {
          g_autoptr(TdAccount) old = g_list_model_get_item (G_LIST_MODEL (self->accounts), j);

          if (td_account_get_id (old) == td_account_get_id (fresh))
            {
              keep = g_steal_pointer (&old);
              break;
            }
        }
      if (keep != NULL)
        {
          td_account_set_name (keep, td_account_get_name (fresh));
          td_account_set_pinned_fingerprint (keep, td_account_get_pinned_fingerprint (fresh));
          td_account_set_quota (keep, td_account_get_quota_usage (fresh),
                                td_account_get_quota_limit (fresh));
          g_ptr_array_add (merged, keep);
        }
      else
        g_ptr_array_add (merged, g_object_ref (fresh));
    }

  g_list_store_splice (self->accounts, 0, n_old, merged->pdata, merged->len);
  drop_stale_clients (self);
}

static void
td_account_manager_dispose (GObject *object)
{
  TdAccountManager *self = (TdAccountManager *) object;

  if (self->store != NULL && self->accounts_changed_id != 0)
    g_clear_signal_handler (&self->accounts_changed_id, self->store);
  g_clear_object (&self->sender);
  g_clear_object (&self->store);
  g_clear_object (&self->credentials);
  g_clear_object (&self->accounts);
  g_clear_pointer (&self->running, g_hash_table_unref);
  g_clear_pointer (&self->refused, g_hash_table_unref);
  g_clear_pointer (&self->resend, g_hash_table_unref);
  g_clear_pointer (&self->resync, g_hash_table_unref);
  if (self->watches != NULL)
    td_account_manager_stop_push (self);
  g_clear_pointer (&self->watches, g_hash_table_unref);
  if (self->clients != NULL)
    shutdown_clients (self, NULL);
  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_pointer (&self->viewed_path, g_free);
  g_clear_pointer (&self->check, _td_mail_check_free);
  g_clear_object (&self->monitor);

  G_OBJECT_CLASS (td_account_manager_parent_class)->dispose (object);
}

static void
td_account_manager_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  TdAccountManager *self = TD_ACCOUNT_MANAGER (object);

  switch (prop_id)
    {
    case PROP_SYNCING:
      g_value_set_boolean (value, td_account_manager_is_syncing (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_account_manager_class_init (TdAccountManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_account_manager_dispose;
  object_class->get_property = td_account_manager_get_property;

  properties[PROP_SYNCING] =
    g_param_spec_boolean ("syncing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_ONLINE_CHANGED] =
    g_signal_new ("online-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, TD_TYPE_ACCOUNT, G_TYPE_BOOLEAN);
  signals[SIGNAL_SYNC_STARTED] =
    g_signal_new ("sync-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, TD_TYPE_ACCOUNT);
  signals[SIGNAL_SYNC_PROGRESS] =
    g_signal_new ("sync-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 4,
                  TD_TYPE_ACCOUNT, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT);
  signals[SIGNAL_SYNC_FINISHED] =
    g_signal_new ("sync-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2,
                  TD_TYPE_ACCOUNT, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_NEW_MAIL] =
    g_signal_new ("new-mail", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, TD_TYPE_ACCOUNT, G_TYPE_UINT);
}

static void
td_account_manager_init (TdAccountManager *self)
{
  self->accounts = g_list_store_new (TD_TYPE_ACCOUNT);
  self->running = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
  self->resend = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->resync = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->watches = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
  self->clients = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->poll_interval = 300;
  self->check = _td_mail_check_new (self);
  self->refused = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                         (GDestroyNotify) td_certificate_info_free);
}

TdAccountManager *
td_account_manager_new (TdStore       *store,
                        TdCredentials *credentials)
{
  TdAccountManager *self;

  g_return_val_if_fail (TD_IS_STORE (store), NULL);
  g_return_val_if_fail (TD_IS_CREDENTIALS (credentials), NULL);

  self = g_object_new (TD_TYPE_ACCOUNT_MANAGER, NULL);
  self->store = g_object_ref (store);
  self->credentials = g_object_ref (credentials);
  self->sender = td_sender_new (store, credentials);
  self->accounts_changed_id = g_signal_connect_swapped (store, "accounts-changed",
                                                        G_CALLBACK (reload_accounts), self);
  reload_accounts (self);
  return self;
}

TdStore *
td_account_manager_get_store (TdAccountManager *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), NULL);
  return self->store;
}

TdSender *
td_account_manager_get_sender (TdAccountManager *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), NULL);
  return self->sender;
}

TdCredentials *
td_account_manager_get_credentials (TdAccountManager *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), NULL);
  return self->credentials;
}

GListModel *
td_account_manager_get_accounts (TdAccountManager *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), NULL);
  return G_LIST_MODEL (self->accounts);
}

TdAccount *
td_account_manager_find_account (TdAccountManager *self,
                                 const char       *id_or_address)
{
  GListModel *model;
  char *end = NULL;
  gint64 id;

  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), NULL);
  g_return_val_if_fail (id_or_address != NULL, NULL);

  model = G_LIST_MODEL (self->accounts);
  id = g_ascii_strtoll (id_or_address, &end, 10);
  if (end == id_or_address || *end != '\0')
    id = -1;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(TdAccount) account = g_list_model_get_item (model, i);

      if (td_account_get_id (account) == id ||
          g_ascii_strcasecmp (td_account_get_address (account), id_or_address) == 0 ||
          g_strcmp0 (td_account_get_name (account), id_or_address) == 0)
        return account;  /* the list store keeps a ref */
    }
  return NULL;
}

/* --- Adding an account --- */

typedef struct
{
  TdAccount *account;
  char      *password;
} AddData;

static void
add_data_free (AddData *data)
{
  g_clear_object (&data->account);
  td_credentials_free_password (data->password);
  g_free (data);
}

static void
add_rollback_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error;

  td_store_remove_account_finish (TD_STORE (source), result, NULL);
  error = g_object_steal_data (G_OBJECT (task), "td-error");
  g_task_return_error (task, error);
}

static void
add_password_stored_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TdAccountManager *self = g_task_get_source_object (task);
  AddData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!td_credentials_store_finish (TD_CREDENTIALS (source), result, &error))
    {
      /* Without its password the account is useless: take it out again. */
      g_object_set_data_full (G_OBJECT (task), "td-error", error, NULL);
      td_store_remove_account_async (self->store, td_account_get_id (data->account), NULL,
                                     add_rollback_cb, g_steal_pointer (&task));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
add_stored_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TdAccountManager *self = g_task_get_source_object (task);
  AddData *data = g_task_get_task_data (task);
  GCancellable *cancellable;
  GError *error = NULL;

  if (!td_store_add_account_finish (self->store, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  reload_accounts (self);
  if (data->password == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  td_credentials_store_async (self->credentials, data->account, data->password, cancellable,
                              add_password_stored_cb, g_steal_pointer (&task));
}

void
td_account_manager_add_account_async (TdAccountManager    *self,
                                      TdAccount           *account,
                                      const char          *password,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AddData *data;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_account_manager_add_account_async);
  data = g_new0 (AddData, 1);
  data->account = g_object_ref (account);
  data->password = g_strdup (password);
  g_task_set_task_data (task, data, (GDestroyNotify) add_data_free);

  td_store_add_account_async (self->store, account, cancellable, add_stored_cb,
                              g_steal_pointer (&task));
}

gboolean
td_account_manager_add_account_finish (TdAccountManager  *self,
                                       GAsyncResult      *result,
                                       GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- Trusting a certificate --- */

/* Also the end of td_account_manager_update_account_async(). */
static void
trust_saved_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!td_store_update_account_finish (TD_STORE (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
td_account_manager_trust_certificate_async (TdAccountManager    *self,
                                            TdAccount           *account,
                                            const char          *fingerprint,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *normalized = NULL;
  gint64 id;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));
  g_return_if_fail (fingerprint != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_account_manager_trust_certificate_async);

  normalized = td_fingerprint_normalize (fingerprint);
  if (normalized == NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_FAILED,
                               _("“%s” is not a SHA-256 fingerprint"), fingerprint);
      return;
    }

  id = td_account_get_id (account);
  g_hash_table_remove (self->refused, &id);
  td_account_set_pinned_fingerprint (account, normalized);
  td_store_update_account_async (self->store, account, cancellable, trust_saved_cb,
                                 g_steal_pointer (&task));
}

gboolean
td_account_manager_trust_certificate_finish (TdAccountManager  *self,
                                             GAsyncResult      *result,
                                             GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- Changed settings --- */

void
td_account_manager_update_account_async (TdAccountManager    *self,
                                         TdAccount           *account,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_account_manager_update_account_async);
  td_store_update_account_async (self->store, account, cancellable, trust_saved_cb, task);
}

gboolean
td_account_manager_update_account_finish (TdAccountManager  *self,
                                          GAsyncResult      *result,
                                          GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

const TdCertificateInfo *
td_account_manager_get_refused_certificate (TdAccountManager *self,
                                            TdAccount        *account)
{
  gint64 id;

  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), NULL);
  g_return_val_if_fail (TD_IS_ACCOUNT (account), NULL);

  id = td_account_get_id (account);
  return g_hash_table_lookup (self->refused, &id);
}

/* --- Closing --- */

void
td_account_manager_close_async (TdAccountManager    *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_account_manager_close_async);
  td_account_manager_stop_push (self);
  shutdown_clients (self, task);
}

gboolean
td_account_manager_close_finish (TdAccountManager  *self,
                                 GAsyncResult      *result,
                                 GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- Syncing --- */

gboolean
td_account_manager_is_syncing (TdAccountManager *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), FALSE);
  return g_hash_table_size (self->running) > 0;
}

typedef struct
{
  TdAccountManager *self;
  TdAccount        *account;
  TdImapSync       *sync;
  TdPop3Sync       *pop3;
  GCancellable     *cancellable;
  gboolean          replay_only;
} OneSync;

static void
one_sync_free (OneSync *one)
{
  g_clear_object (&one->self);
  g_clear_object (&one->account);
  g_clear_object (&one->sync);
  g_clear_object (&one->pop3);
  g_clear_object (&one->cancellable);
  g_free (one);
}

static void sync_one (TdAccountManager *self,
                      TdAccount        *account,
                      gboolean          replay_only,
                      GCancellable     *cancellable,
                      GTask            *task);

static void
one_sync_complete (OneSync      *one,
                   const GError *error)
{
  TdAccountManager *self = one->self;
  gint64 id = td_account_get_id (one->account);
  g_autoptr(TdAccountManager) keep = g_object_ref (self);
  g_autoptr(TdAccount) account = g_object_ref (one->account);
  GPtrArray *waiters;

  waiters = g_hash_table_lookup (self->running, &id);
  g_assert (waiters != NULL);
  g_ptr_array_ref (waiters);
  g_hash_table_remove (self->running, &id);

  g_signal_emit (self, signals[SIGNAL_SYNC_FINISHED], 0, one->account, error);
  if (g_hash_table_size (self->running) == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNCING]);

  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (waiters, i);

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
    }
  g_ptr_array_unref (waiters);
  one_sync_free (one);

  /* The server changed while it ran (a push came in): sync again. Else changes made here
   * while it ran went to the journal after its replay: send them now. */
  if (g_hash_table_remove (self->resync, &id) && error == NULL)
    {
      g_hash_table_remove (self->resend, &id);
      sync_one (self, account, FALSE, NULL, g_task_new (self, NULL, NULL, NULL));
    }
  else if (g_hash_table_remove (self->resend, &id) && error == NULL)
    sync_one (self, account, TRUE, NULL, g_task_new (self, NULL, NULL, NULL));
}

static void
sync_progress_cb (TdImapSync *sync,
                  const char *what,
                  guint       done,
                  guint       total,
                  OneSync    *one)
{
  g_signal_emit (one->self, signals[SIGNAL_SYNC_PROGRESS], 0, one->account, what, done, total);
}

static void
remember_refused (OneSync                 *one,
                  const TdCertificateInfo *info)
{
  gint64 *key = g_new (gint64, 1);

  *key = td_account_get_id (one->account);
  g_hash_table_replace (one->self->refused, key, td_certificate_info_copy (info));
}

static void
pop3_progress_cb (TdPop3Sync *sync,
                  const char *what,
                  guint       done,
                  guint       total,
                  OneSync    *one)
{
  g_signal_emit (one->self, signals[SIGNAL_SYNC_PROGRESS], 0, one->account, what, done, total);
}

static void
pop3_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  OneSync *one = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_pop3_sync_run_finish (one->pop3, result, &error) &&
      g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE) &&
      td_pop3_sync_get_certificate_info (one->pop3) != NULL)
    remember_refused (one, td_pop3_sync_get_certificate_info (one->pop3));
  g_signal_handlers_disconnect_by_data (one->pop3, one);
  /* what was stored before a failure is here too: it is new all the same */
  if (td_pop3_sync_get_downloaded (one->pop3) > 0)
    g_signal_emit (one->self, signals[SIGNAL_NEW_MAIL], 0, one->account,
                   td_pop3_sync_get_downloaded (one->pop3));
  one_sync_complete (one, error);
}

static void
sync_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  OneSync *one = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_imap_sync_run_finish (one->sync, result, &error) &&
      g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE))
    {
      const TdCertificateInfo *info = td_imap_sync_get_certificate_info (one->sync);

      if (info != NULL)
        {
          gint64 *key = g_new (gint64, 1);

          *key = td_account_get_id (one->account);
          g_hash_table_replace (one->self->refused, key, td_certificate_info_copy (info));
        }
    }
  g_signal_handlers_disconnect_by_data (one->sync, one);
  one_sync_complete (one, error);
}

static void
password_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  OneSync *one = user_data;
  g_autoptr(GError) error = NULL;
  char *password;

  password = td_credentials_lookup_finish (TD_CREDENTIALS (source), result, &error);
  if (password == NULL)
    {
      one_sync_complete (one, error);
      return;
    }

  if (td_account_get_kind (one->account) == TD_ACCOUNT_KIND_POP3)
    {
      /* a POP3 account has no client, no journal and no push: one check */
      one->pop3 = td_pop3_sync_new (one->self->store, one->account);
      g_signal_connect (one->pop3, "progress", G_CALLBACK (pop3_progress_cb), one);
      td_pop3_sync_run_async (one->pop3, password, one->cancellable, pop3_done_cb, one);
      td_credentials_free_password (password);
      return;
    }

  one->sync = td_imap_sync_new_for_client (one->self->store,
                                           client_for (one->self, one->account));
  td_imap_sync_set_replay_only (one->sync, one->replay_only);
  g_signal_connect (one->sync, "progress", G_CALLBACK (sync_progress_cb), one);
  td_imap_sync_run_async (one->sync, password, one->cancellable, sync_done_cb, one);
  td_credentials_free_password (password);
}

/* Starts (or joins) the sync of one account; @task (taken) completes when it ends. With
 * @replay_only, only the journal is sent; joining a running sync then also sends the journal
 * again once it ends (what was added meanwhile). */
static void
sync_one (TdAccountManager *self,
          TdAccount        *account,
          gboolean          replay_only,
          GCancellable     *cancellable,
          GTask            *task)
{
  gint64 id = td_account_get_id (account);
  GPtrArray *waiters = g_hash_table_lookup (self->running, &id);
  gint64 *key;
  OneSync *one;

  if (waiters != NULL)
    {
      if (replay_only)
        {
          key = g_new (gint64, 1);
          *key = id;
          g_hash_table_add (self->resend, key);
        }
      g_ptr_array_add (waiters, task);
      return;
    }

  if (td_account_get_kind (account) == TD_ACCOUNT_KIND_POP3 && replay_only)
    {
      /* its changes are local: nothing to send */
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (waiters, task);
  key = g_new (gint64, 1);
  *key = id;
  g_hash_table_insert (self->running, key, waiters);
  if (g_hash_table_size (self->running) == 1)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNCING]);

  one = g_new0 (OneSync, 1);
  one->self = g_object_ref (self);
  one->account = g_object_ref (account);
  one->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  one->replay_only = replay_only;

  g_signal_emit (self, signals[SIGNAL_SYNC_STARTED], 0, account);
  td_credentials_lookup_async (self->credentials, account, cancellable, password_cb, one);
}

typedef struct
{
  GPtrArray *accounts;
  guint      next;
  GError    *first_error;
} AllData;

static void
all_data_free (AllData *data)
{
  g_ptr_array_unref (data->accounts);
  g_clear_error (&data->first_error);
  g_free (data);
}

static void sync_next_of_all (GTask *task);

static void
all_one_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AllData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (data->first_error == NULL)
        data->first_error = error;
      else
        g_error_free (error);
    }
  sync_next_of_all (g_steal_pointer (&task));
}

static void
sync_next_of_all (GTask *task)
{
  TdAccountManager *self = g_task_get_source_object (task);
  AllData *data = g_task_get_task_data (task);
  GTask *one;

  if (data->next >= data->accounts->len)
    {
      if (data->first_error != NULL)
        g_task_return_error (task, g_steal_pointer (&data->first_error));
      else
        g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  one = g_task_new (self, g_task_get_cancellable (task), all_one_done_cb, task);
  sync_one (self, g_ptr_array_index (data->accounts, data->next++), FALSE,
            g_task_get_cancellable (task), one);
}

void
td_account_manager_sync_async (TdAccountManager    *self,
                               TdAccount           *account,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  AllData *data;
  GListModel *model;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (account == NULL || TD_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_account_manager_sync_async);

  if (account != NULL)
    {
      sync_one (self, account, FALSE, cancellable, task);
      return;
    }

  data = g_new0 (AllData, 1);
  data->accounts = g_ptr_array_new_with_free_func (g_object_unref);
  model = G_LIST_MODEL (self->accounts);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    g_ptr_array_add (data->accounts, g_list_model_get_item (model, i));
  g_task_set_task_data (task, data, (GDestroyNotify) all_data_free);
  sync_next_of_all (task);
}

gboolean
td_account_manager_sync_finish (TdAccountManager  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_account_manager_send_changes_async (TdAccountManager    *self,
                                       TdAccount           *account,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_account_manager_send_changes_async);
  if (td_account_get_kind (account) != TD_ACCOUNT_KIND_IMAP ||
      td_store_count_journal (self->store, td_account_get_id (account)) == 0)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  sync_one (self, account, TRUE, cancellable, task);
}

gboolean
td_account_manager_send_changes_finish (TdAccountManager  *self,
                                        GAsyncResult      *result,
                                        GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- Push --- */

static void
push_sync_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* "sync-finished" told the window already */
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_debug ("Sync after a push failed: %s", error->message);
}

static void
watch_changed_cb (TdImapWatch      *watch,
                  TdAccountManager *self)
{
  TdAccount *account = g_object_get_data (G_OBJECT (watch), "td-account");
  gint64 id = td_account_get_id (account);

  if (g_hash_table_contains (self->running, &id))
    {
      gint64 *key = g_new (gint64, 1);

      *key = id;
      g_hash_table_add (self->resync, key);
      return;
    }
  sync_one (self, account, FALSE, NULL, g_task_new (self, NULL, push_sync_done_cb, NULL));
}

gboolean
td_account_manager_is_online (TdAccountManager *self,
                              TdAccount        *account)
{
  gint64 id;
  GPtrArray *watches;

  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), FALSE);
  g_return_val_if_fail (TD_IS_ACCOUNT (account), FALSE);

  id = td_account_get_id (account);
  watches = g_hash_table_lookup (self->watches, &id);
  for (guint i = 0; watches != NULL && i < watches->len; i++)
    if (td_imap_watch_get_online (g_ptr_array_index (watches, i)))
      return TRUE;
  return FALSE;
}

static void
watch_online_cb (TdImapWatch      *watch,
                 GParamSpec       *pspec,
                 TdAccountManager *self)
{
  TdAccount *account = g_object_get_data (G_OBJECT (watch), "td-account");

  g_signal_emit (self, signals[SIGNAL_ONLINE_CHANGED], 0, account,
                 td_account_manager_is_online (self, account));
}

static void
watch_failed_cb (TdImapWatch      *watch,
                 const GError     *error,
                 TdAccountManager *self)
{
  TdAccount *account = g_object_get_data (G_OBJECT (watch), "td-account");

  /* a sync says why (password or certificate) the way the window already shows */
  sync_one (self, account, FALSE, NULL, g_task_new (self, NULL, push_sync_done_cb, NULL));
}

static TdImapWatch *
add_watch (TdAccountManager *self,
           TdAccount        *account,
           const char       *path,
           const char       *password)
{
  gint64 id = td_account_get_id (account);
  GPtrArray *watches = g_hash_table_lookup (self->watches, &id);
  TdImapWatch *watch;

  if (watches == NULL)
    {
      gint64 *key = g_new (gint64, 1);

      *key = id;
      watches = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->watches, key, watches);
    }
  watch = td_imap_watch_new_for_client (client_for (self, account), path);
  g_object_set_data_full (G_OBJECT (watch), "td-account", g_object_ref (account),
                          g_object_unref);
  td_imap_watch_set_poll_interval (watch, self->poll_interval);
  if (self->monitor != NULL)
    td_imap_watch_set_network_monitor (watch, self->monitor);
  g_signal_connect (watch, "changed", G_CALLBACK (watch_changed_cb), self);
  g_signal_connect (watch, "notify::online", G_CALLBACK (watch_online_cb), self);
  g_signal_connect (watch, "failed", G_CALLBACK (watch_failed_cb), self);
  g_ptr_array_add (watches, watch);
  td_imap_watch_start (watch, password);
  return watch;
}

static gboolean
listed_account (TdAccountManager *self,
                gint64            id)
{
  g_autoptr(TdAccount) listed = account_by_id (self, id);

  return listed != NULL;
}

typedef struct
{
  TdAccountManager *self;
  TdAccount        *account;
} PushStart;

static void
push_password_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PushStart *start = user_data;
  g_autoptr(TdAccountManager) self = start->self;
  g_autoptr(TdAccount) account = start->account;
  g_autoptr(GError) error = NULL;
  char *password;

  g_free (start);
  password = td_credentials_lookup_finish (TD_CREDENTIALS (source), result, &error);
  if (password == NULL)
    {
      /* the sync on start asks the user; push starts again with the next start_push */
      g_debug ("No push for %s: %s", td_account_get_address (account), error->message);
      return;
    }
  /* an account removed meanwhile gets no watch */
  if (self->pushing && listed_account (self, td_account_get_id (account)))
    {
      gint64 id = td_account_get_id (account);

      add_watch (self, account, "INBOX", password);
      if (self->viewed_path != NULL && self->viewed_account == id &&
          g_ascii_strcasecmp (self->viewed_path, "INBOX") != 0)
        add_watch (self, account, self->viewed_path, password);
    }
  td_credentials_free_password (password);
}

void
td_account_manager_start_push (TdAccountManager *self)
{
  GListModel *accounts;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));

  self->pushing = TRUE;
  _td_mail_check_start (self->check);
  accounts = G_LIST_MODEL (self->accounts);
  td_sender_start (self->sender, accounts, NULL);
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TdAccount) account = g_list_model_get_item (accounts, i);
      gint64 id = td_account_get_id (account);
      PushStart *start;

      if (td_account_get_kind (account) != TD_ACCOUNT_KIND_IMAP ||
          g_hash_table_contains (self->watches, &id))
        continue;
      start = g_new0 (PushStart, 1);
      start->self = g_object_ref (self);
      start->account = g_object_ref (account);
      td_credentials_lookup_async (self->credentials, account, NULL, push_password_cb, start);
    }
}

void
_td_account_manager_stop_watches (TdAccountManager *self,
                                  gint64            account_id)
{
  GPtrArray *watches = g_hash_table_lookup (self->watches, &account_id);

  for (guint i = 0; watches != NULL && i < watches->len; i++)
    {
      TdImapWatch *watch = g_ptr_array_index (watches, i);

      g_signal_handlers_disconnect_by_data (watch, self);
      td_imap_watch_stop (watch);
    }
  g_hash_table_remove (self->watches, &account_id);
}

GPtrArray *
_td_account_manager_get_waiters (TdAccountManager *self,
                                 gint64            account_id)
{
  return g_hash_table_lookup (self->running, &account_id);
}

void
td_account_manager_stop_push (TdAccountManager *self)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));

  self->pushing = FALSE;
  _td_mail_check_stop (self->check);
  if (self->sender != NULL)
    td_sender_stop (self->sender);
  g_hash_table_iter_init (&iter, self->watches);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GPtrArray *watches = value;

      for (guint i = 0; i < watches->len; i++)
        {
          TdImapWatch *watch = g_ptr_array_index (watches, i);

          g_signal_handlers_disconnect_by_data (watch, self);
          td_imap_watch_stop (watch);
        }
    }
  g_hash_table_remove_all (self->watches);
}

static TdAccount *
account_by_id (TdAccountManager *self,
               gint64            id)
{
  GListModel *accounts = G_LIST_MODEL (self->accounts);

  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TdAccount) account = g_list_model_get_item (accounts, i);

      if (td_account_get_id (account) == id)
        return g_steal_pointer (&account);
    }
  return NULL;
}

void
td_account_manager_set_viewed_folder (TdAccountManager *self,
                                      TdFolder         *folder)
{
  g_autoptr(TdAccount) account = NULL;
  GPtrArray *watches;
  gint64 id;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (folder == NULL || TD_IS_FOLDER (folder));

  /* the old viewed folder's watch goes (the Inbox watch stays) */
  if (self->viewed_path != NULL)
    {
      watches = g_hash_table_lookup (self->watches, &self->viewed_account);
      for (guint i = 0; watches != NULL && i < watches->len; i++)
        {
          TdImapWatch *watch = g_ptr_array_index (watches, i);

          if (g_strcmp0 (td_imap_watch_get_folder_path (watch), self->viewed_path) == 0 &&
              g_ascii_strcasecmp (self->viewed_path, "INBOX") != 0)
            {
              g_signal_handlers_disconnect_by_data (watch, self);
              td_imap_watch_stop (watch);
              g_ptr_array_remove_index (watches, i);
              break;
            }
        }
    }
  g_clear_pointer (&self->viewed_path, g_free);
  self->viewed_account = 0;
  if (folder == NULL)
    return;

  self->viewed_path = g_strdup (td_folder_get_path (folder));
  self->viewed_account = td_folder_get_account_id (folder);
  if (!self->pushing || g_ascii_strcasecmp (self->viewed_path, "INBOX") == 0)
    return;
  id = self->viewed_account;
  if (!g_hash_table_contains (self->watches, &id))
    return;                             /* its password is being looked up: added then */
  watches = g_hash_table_lookup (self->watches, &id);
  for (guint i = 0; watches != NULL && i < watches->len; i++)
    if (td_imap_watch_get_watches_all (g_ptr_array_index (watches, i)))
      return;                           /* NOTIFY: the Inbox watch covers every folder */
  account = account_by_id (self, id);
  if (account != NULL)
    add_watch (self, account, self->viewed_path, NULL);   /* the client has the password */
}

void
td_account_manager_set_poll_interval (TdAccountManager *self,
                                      guint             seconds)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));

  self->poll_interval = MAX (seconds, 1);
  g_hash_table_iter_init (&iter, self->watches);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GPtrArray *watches = value;

      for (guint i = 0; i < watches->len; i++)
        td_imap_watch_set_poll_interval (g_ptr_array_index (watches, i), self->poll_interval);
    }
}

guint
td_account_manager_get_poll_interval (TdAccountManager *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), 0);
  return self->poll_interval;
}

void
td_account_manager_set_check_interval (TdAccountManager *self,
                                       guint             seconds)
{
  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  _td_mail_check_set_interval (self->check, seconds);
}

guint
td_account_manager_get_check_interval (TdAccountManager *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (self), 0);
  return _td_mail_check_get_interval (self->check);
}

void
td_account_manager_set_network_monitor (TdAccountManager *self,
                                        GNetworkMonitor  *monitor)
{
  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (monitor == NULL || G_IS_NETWORK_MONITOR (monitor));

  g_set_object (&self->monitor, monitor);
  _td_mail_check_set_network_monitor (self->check, monitor);
}

/* --- One body on demand --- */

typedef struct
{
  TdImapSync *sync;
  gint64      folder_id;
  char       *path;
  guint32     uid;
} FetchBody;

static void
fetch_body_free (FetchBody *data)
{
  g_clear_object (&data->sync);
  g_free (data->path);
  g_free (data);
}

static void
fetch_body_done_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!td_imap_sync_run_finish (TD_IMAP_SYNC (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
fetch_body_password_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchBody *data = g_task_get_task_data (task);
  GError *error = NULL;
  char *password;

  password = td_credentials_lookup_finish (TD_CREDENTIALS (source), result, &error);
  if (password == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  td_imap_sync_run_async (data->sync, password, g_task_get_cancellable (task),
                          fetch_body_done_cb, g_object_ref (task));
  td_credentials_free_password (password);
}

void
td_account_manager_fetch_body_async (TdAccountManager    *self,
                                     gint64               message_id,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(TdMessage) message = NULL;
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(TdAccount) account = NULL;
  GError *error = NULL;
  FetchBody *data;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_account_manager_fetch_body_async);

  if ((message = td_store_get_message (self->store, message_id, &error)) == NULL ||
      (folder = td_store_get_folder (self->store, td_message_get_folder_id (message),
                                     &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  account = account_by_id (self, td_folder_get_account_id (folder));
  if (account == NULL || td_account_get_kind (account) != TD_ACCOUNT_KIND_IMAP ||
      td_message_get_uid (message) == 0)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_NOT_FOUND,
                               _("This message is not on a server Tidings can ask for it."));
      return;
    }

  data = g_new0 (FetchBody, 1);
  data->sync = td_imap_sync_new_for_client (self->store, client_for (self, account));
  td_imap_sync_set_fetch_body (data->sync, td_folder_get_id (folder), td_folder_get_path (folder),
                               td_message_get_uid (message));
  g_task_set_task_data (task, data, (GDestroyNotify) fetch_body_free);
  td_credentials_lookup_async (self->credentials, account, cancellable, fetch_body_password_cb,
                               g_object_ref (task));
}

gboolean
td_account_manager_fetch_body_finish (TdAccountManager  *self,
                                      GAsyncResult      *result,
                                      GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
