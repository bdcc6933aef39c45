/* td-account-manager-actions.c: what a user does to messages and folders
 *
 * Each action is applied to the store and journaled in one transaction (td-store.h), so it
 * shows at once, works offline and survives a restart; td_account_manager_send_changes_async()
 * then takes the journal to the server. Delete and archive are moves to the account's Trash or
 * Archive folder; deleting from Trash (or where there is no Trash) removes for good.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-account"

#include "config.h"

#include "td-account-manager.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

/* One action may take several store writes (a delete across accounts: moves to each Trash
 * and expunges); the task returns when the last one did, with the first error. */
typedef struct
{
  guint   pending;
  GError *error;
} ActionData;

static void
action_data_free (ActionData *data)
{
  g_clear_error (&data->error);
  g_free (data);
}

static GTask *
action_task_new (TdAccountManager    *self,
                 gpointer             source_tag,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, g_new0 (ActionData, 1), (GDestroyNotify) action_data_free);
  return task;
}

/* Called with the task's own reference once every write was queued. */
static void
action_queued (GTask *task)
{
  ActionData *data = g_task_get_task_data (task);

  if (data->pending == 0)
    {
      if (data->error != NULL)
        g_task_return_error (task, g_steal_pointer (&data->error));
      else
        g_task_return_boolean (task, TRUE);
    }
  g_object_unref (task);
}

static void
write_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ActionData *data = g_task_get_task_data (task);
  GError *error = NULL;

  gpointer tag = g_task_get_source_tag (G_TASK (result));
  TdStore *store = TD_STORE (source);

  if (tag == td_store_change_flags_async)
    td_store_change_flags_finish (store, result, &error);
  else if (tag == td_store_move_messages_async)
    td_store_move_messages_finish (store, result, &error);
  else if (tag == td_store_expunge_messages_async)
    td_store_expunge_messages_finish (store, result, &error);
  else if (tag == td_store_expunge_folder_async)
    td_store_expunge_folder_finish (store, result, &error);
  else if (tag == td_store_create_folder_async)
    td_store_create_folder_finish (store, result, &error);
  else if (tag == td_store_rename_folder_async)
    td_store_rename_folder_finish (store, result, &error);
  else if (tag == td_store_delete_folder_async)
    td_store_delete_folder_finish (store, result, &error);
  else if (tag == td_store_subscribe_folder_async)
    td_store_subscribe_folder_finish (store, result, &error);
  else
    g_assert_not_reached ();
  if (error != NULL)
    {
      if (data->error == NULL)
        data->error = error;
      else
        g_error_free (error);
    }

  g_assert (data->pending > 0);
  if (--data->pending > 0)
    return;
  if (data->error != NULL)
    g_task_return_error (task, g_steal_pointer (&data->error));
  else
    g_task_return_boolean (task, TRUE);
}

/* The callback and user data for one more store write of @task. */
#define WRITE(task) write_done_cb, (((ActionData *) g_task_get_task_data (task))->pending++, \
                                    g_object_ref (task))

gboolean
td_account_manager_action_finish (TdAccountManager  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- Messages --- */

void
td_account_manager_flag_messages_async (TdAccountManager    *self,
                                        GArray              *message_ids,
                                        TdFlags              add,
                                        TdFlags              remove,
                                        const char          *keyword_add,
                                        const char          *keyword_remove,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (message_ids != NULL);

  task = action_task_new (self, td_account_manager_flag_messages_async, cancellable, callback,
                          user_data);
  td_store_change_flags_async (td_account_manager_get_store (self), message_ids,
                               add & TD_FLAGS_STORED, remove & TD_FLAGS_STORED,
                               keyword_add, keyword_remove, cancellable, WRITE (task));
  action_queued (task);
}

void
td_account_manager_move_messages_async (TdAccountManager    *self,
                                        GArray              *message_ids,
                                        gint64               target_folder_id,
                                        gboolean             copy,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (message_ids != NULL);

  task = action_task_new (self, td_account_manager_move_messages_async, cancellable, callback,
                          user_data);
  td_store_move_messages_async (td_account_manager_get_store (self), message_ids,
                                target_folder_id, copy, cancellable, WRITE (task));
  action_queued (task);
}

/* The folder of @account with @role, or NULL. */
static TdFolder *
find_role (TdStore      *store,
           gint64        account_id,
           TdFolderRole  role)
{
  g_autoptr(GPtrArray) folders = td_store_list_folders (store, account_id, NULL);

  for (guint i = 0; folders != NULL && i < folders->len; i++)
    {
      TdFolder *folder = g_ptr_array_index (folders, i);

      if (td_folder_get_role (folder) == role && td_folder_get_selectable (folder))
        return g_object_ref (folder);
    }
  return NULL;
}

typedef struct
{
  gint64  target;    /* folder to move to, 0 = expunge */
  GArray *ids;
} Bucket;

static void
bucket_free (Bucket *bucket)
{
  g_array_unref (bucket->ids);
  g_free (bucket);
}

/* Sorts @message_ids by where @role sends them: the role folder of their account, or
 * (already there, or the account has none) nowhere, when @expunge_there. FALSE with @error
 * when a message has nowhere to go. */
static GPtrArray *
sort_by_role (TdStore       *store,
              GArray        *message_ids,
              TdFolderRole   role,
              gboolean       expunge_there,
              GError       **error)
{
  g_autoptr(GPtrArray) buckets = g_ptr_array_new_with_free_func ((GDestroyNotify) bucket_free);
  g_autoptr(GHashTable) targets = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) folder_account = g_hash_table_new_full (g_int64_hash, g_int64_equal,
                                                                g_free, g_free);

  for (guint i = 0; i < message_ids->len; i++)
    {
      gint64 id = g_array_index (message_ids, gint64, i);
      g_autoptr(TdMessage) message = td_store_get_message (store, id, NULL);
      g_autoptr(TdFolder) target = NULL;
      gint64 folder_id, account_id, target_id = 0;
      gint64 *cached;
      Bucket *bucket = NULL;

      if (message == NULL)
        continue;
      folder_id = td_message_get_folder_id (message);
      cached = g_hash_table_lookup (folder_account, &folder_id);
      if (cached == NULL)
        {
          g_autoptr(TdFolder) folder = td_store_get_folder (store, folder_id, NULL);
          gint64 *key, *value;

          if (folder == NULL)
            continue;
          key = g_new (gint64, 1);
          value = g_new (gint64, 1);
          *key = folder_id;
          *value = td_folder_get_account_id (folder);
          g_hash_table_insert (folder_account, key, value);
          cached = value;
        }
      account_id = *cached;

      target = find_role (store, account_id, role);
      if (target != NULL && td_folder_get_id (target) != folder_id)
        target_id = td_folder_get_id (target);
      else if (!expunge_there)
        {
          g_set_error (error, TD_ERROR, TD_ERROR_NOT_FOUND,
                       target == NULL
                       ? _("This account has no archive folder. Choose a folder to move the "
                           "messages to instead.")
                       : _("The messages are in the archive already."));
          return NULL;
        }

      for (guint b = 0; b < buckets->len; b++)
        if (((Bucket *) g_ptr_array_index (buckets, b))->target == target_id)
          bucket = g_ptr_array_index (buckets, b);
      if (bucket == NULL)
        {
          bucket = g_new0 (Bucket, 1);
          bucket->target = target_id;
          bucket->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_ptr_array_add (buckets, bucket);
        }
      g_array_append_val (bucket->ids, id);
    }
  return g_steal_pointer (&buckets);
}

static void
move_by_role (TdAccountManager    *self,
              gpointer             source_tag,
              GArray              *message_ids,
              TdFolderRole         role,
              gboolean             expunge_there,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  TdStore *store = td_account_manager_get_store (self);
  g_autoptr(GPtrArray) buckets = NULL;
  GError *error = NULL;
  GTask *task;

  task = action_task_new (self, source_tag, cancellable, callback, user_data);
  buckets = sort_by_role (store, message_ids, role, expunge_there, &error);
  if (buckets == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  for (guint i = 0; i < buckets->len; i++)
    {
      Bucket *bucket = g_ptr_array_index (buckets, i);

      if (bucket->target != 0)
        td_store_move_messages_async (store, bucket->ids, bucket->target, FALSE, cancellable,
                                      WRITE (task));
      else
        td_store_expunge_messages_async (store, bucket->ids, cancellable, WRITE (task));
    }
  action_queued (task);
}

void
td_account_manager_delete_messages_async (TdAccountManager    *self,
                                          GArray              *message_ids,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (message_ids != NULL);

  move_by_role (self, td_account_manager_delete_messages_async, message_ids,
                TD_FOLDER_ROLE_TRASH, TRUE, cancellable, callback, user_data);
}

void
td_account_manager_archive_messages_async (TdAccountManager    *self,
                                           GArray              *message_ids,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (message_ids != NULL);

  move_by_role (self, td_account_manager_archive_messages_async, message_ids,
                TD_FOLDER_ROLE_ARCHIVE, FALSE, cancellable, callback, user_data);
}

void
td_account_manager_empty_folder_async (TdAccountManager    *self,
                                       gint64               folder_id,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  TdStore *store;
  GTask *task;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));

  store = td_account_manager_get_store (self);
  task = action_task_new (self, td_account_manager_empty_folder_async, cancellable, callback,
                          user_data);
  td_store_expunge_folder_async (store, folder_id, cancellable, WRITE (task));
  action_queued (task);
}

/* --- Folders --- */

void
td_account_manager_create_folder_async (TdAccountManager    *self,
                                        TdAccount           *account,
                                        const char          *path,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  TdStore *store;
  g_autoptr(GPtrArray) folders = NULL;
  char delimiter = '/';
  GTask *task;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));
  g_return_if_fail (path != NULL);

  store = td_account_manager_get_store (self);
  task = action_task_new (self, td_account_manager_create_folder_async, cancellable, callback,
                          user_data);
  if (*path == '\0' || !g_utf8_validate (path, -1, NULL))
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_INVALID,
                               _("A folder needs a name."));
      g_object_unref (task);
      return;
    }
  /* New folders use the hierarchy separator the server uses for the others. */
  folders = td_store_list_folders (store, td_account_get_id (account), NULL);
  for (guint i = 0; folders != NULL && i < folders->len; i++)
    {
      char d = td_folder_get_delimiter (g_ptr_array_index (folders, i));

      if (d != '\0')
        {
          delimiter = d;
          break;
        }
    }
  td_store_create_folder_async (store, td_account_get_id (account), path, delimiter,
                                cancellable, WRITE (task));
  action_queued (task);
}

void
td_account_manager_rename_folder_async (TdAccountManager    *self,
                                        gint64               folder_id,
                                        const char          *new_path,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (new_path != NULL);

  task = action_task_new (self, td_account_manager_rename_folder_async, cancellable, callback,
                          user_data);
  if (*new_path == '\0' || !g_utf8_validate (new_path, -1, NULL))
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_INVALID,
                               _("A folder needs a name."));
      g_object_unref (task);
      return;
    }
  td_store_rename_folder_async (td_account_manager_get_store (self), folder_id, new_path,
                                cancellable, WRITE (task));
  action_queued (task);
}

void
td_account_manager_delete_folder_async (TdAccountManager    *self,
                                        gint64               folder_id,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));

  task = action_task_new (self, td_account_manager_delete_folder_async, cancellable, callback,
                          user_data);
  td_store_delete_folder_async (td_account_manager_get_store (self), folder_id, cancellable,
                                WRITE (task));
  action_queued (task);
}

void
td_account_manager_subscribe_folder_async (TdAccountManager    *self,
                                           gint64               folder_id,
                                           gboolean             subscribe,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (TD_IS_ACCOUNT_MANAGER (self));

  task = action_task_new (self, td_account_manager_subscribe_folder_async, cancellable,
                          callback, user_data);
  td_store_subscribe_folder_async (td_account_manager_get_store (self), folder_id, subscribe,
                                   cancellable, WRITE (task));
  action_queued (task);
}
