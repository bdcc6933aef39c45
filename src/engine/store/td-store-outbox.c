/* td-store-outbox.c: messages waiting to be sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-store-outbox.h"
#include "td-store-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

static const char * const state_names[] = {
  [TD_OUTBOX_QUEUED] = "queued",
  [TD_OUTBOX_SENDING] = "sending",
  [TD_OUTBOX_SENT] = "sent",
  [TD_OUTBOX_FAILED] = "failed",
};

static const char * const original_names[] = {
  [TD_OUTBOX_ORIGINAL_NONE] = "none",
  [TD_OUTBOX_ORIGINAL_REPLY] = "reply",
  [TD_OUTBOX_ORIGINAL_FORWARD] = "forward",
};

const char *
td_outbox_state_to_string (TdOutboxState state)
{
  return (guint) state < G_N_ELEMENTS (state_names) ? state_names[state] : "queued";
}

static guint
index_of (const char * const *names,
          guint               n,
          const char         *name)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (names[i], name) == 0)
      return i;
  return 0;
}

TdOutboxItem *
td_outbox_item_new (gint64              account_id,
                    const char         *mail_from,
                    const char * const *recipients,
                    GBytes             *raw)
{
  TdOutboxItem *item = g_new0 (TdOutboxItem, 1);

  item->account_id = account_id;
  item->mail_from = g_strdup (mail_from);
  item->recipients = g_strdupv ((GStrv) recipients);
  item->raw = raw != NULL ? g_bytes_ref (raw) : NULL;
  return item;
}

void
td_outbox_item_free (TdOutboxItem *item)
{
  if (item == NULL)
    return;
  g_free (item->mail_from);
  g_strfreev (item->recipients);
  g_free (item->subject);
  g_free (item->message_id_header);
  g_clear_pointer (&item->raw, g_bytes_unref);
  g_free (item->last_error);
  g_free (item);
}

static TdOutboxItem *
item_copy (const TdOutboxItem *item)
{
  TdOutboxItem *copy = td_outbox_item_new (item->account_id, item->mail_from,
                                           (const char * const *) item->recipients, item->raw);

  copy->id = item->id;
  copy->state = item->state;
  copy->subject = g_strdup (item->subject);
  copy->message_id_header = g_strdup (item->message_id_header);
  copy->original_id = item->original_id;
  copy->original_kind = item->original_kind;
  copy->attempts = item->attempts;
  copy->next_attempt = item->next_attempt;
  copy->last_error = g_strdup (item->last_error);
  copy->created = item->created;
  copy->sent_at = item->sent_at;
  return copy;
}

/* What the one-row operations carry. */
typedef struct
{
  gint64    id;
  gint64    number;     /* sent_at, next_attempt, the Sent folder, an account */
  gboolean  flag;
  char     *text;
} OpData;

static void
op_data_free (gpointer data)
{
  OpData *d = data;

  g_free (d->text);
  g_free (d);
}

static void
queue_op (TdStore             *self,
          JobFunc              func,
          OpData              *d,
          gpointer             source_tag,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, func, d, op_data_free,
                                                source_tag, cancellable, callback, user_data));
}

gboolean
td_store_outbox_op_finish (TdStore       *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* TD_ERROR_NOT_FOUND when the last statement changed no row. */
static gboolean
check_changed (TdStore  *self,
               GError  **error)
{
  if (sqlite3_changes (td_db_get_handle (self->wdb)) > 0)
    return TRUE;
  g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND,
                       _("The message is no longer in the outbox."));
  return FALSE;
}

/* --- add --- */

static gboolean
add_job (TdStore  *self,
         Job      *job,
         GError  **error)
{
  TdOutboxItem *item = job->data;
  g_autofree char *recipients = g_strjoinv ("\n", item->recipients);
  g_autoptr(TdDbStmt) stmt = NULL;
  gsize len;
  gconstpointer raw = g_bytes_get_data (item->raw, &len);

  if (!_td_store_check_account (self->wdb, item->account_id, error))
    return FALSE;
  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO outbox (account_id, mail_from, recipients, subject,"
                        " message_id_header, raw, original_id, original_kind, created)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, item->account_id);
  td_db_bind_text (stmt, 2, item->mail_from);
  td_db_bind_text (stmt, 3, recipients);
  td_db_bind_text (stmt, 4, item->subject);
  td_db_bind_text (stmt, 5, item->message_id_header);
  sqlite3_bind_blob64 (stmt, 6, raw, len, SQLITE_STATIC);
  if (item->original_id > 0)
    sqlite3_bind_int64 (stmt, 7, item->original_id);
  else
    sqlite3_bind_null (stmt, 7);
  td_db_bind_text (stmt, 8, original_names[item->original_kind]);
  sqlite3_bind_int64 (stmt, 9, g_get_real_time () / G_USEC_PER_SEC);
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;

  job->result = g_memdup2 (&(gint64) { sqlite3_last_insert_rowid (td_db_get_handle (self->wdb)) },
                           sizeof (gint64));
  job->result_free = g_free;
  return TRUE;
}

void
td_store_outbox_add_async (TdStore             *self,
                           const TdOutboxItem  *item,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  Job *job;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (item != NULL && item->raw != NULL && item->mail_from != NULL);
  g_return_if_fail ((guint) item->original_kind < G_N_ELEMENTS (original_names));

  job = _td_store_job_new (self, JOB_WRITE, add_job, item_copy (item),
                           (GDestroyNotify) td_outbox_item_free, td_store_outbox_add_async,
                           cancellable, callback, user_data);
  if (item->recipients == NULL || item->recipients[0] == NULL)
    {
      g_task_return_new_error (job->task, TD_ERROR, TD_ERROR_INVALID,
                               _("The message has no recipient."));
      _td_store_job_free (job);
      return;
    }
  _td_store_queue_job (self, job);
}

gint64
td_store_outbox_add_finish (TdStore       *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_autofree gint64 *id = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  id = g_task_propagate_pointer (G_TASK (result), error);
  return id != NULL ? *id : 0;
}

/* --- list --- */

static gboolean
list_job (TdStore  *self,
          Job      *job,
          GError  **error)
{
  OpData *d = job->data;
  GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify) td_outbox_item_free);
  g_autoptr(TdDbStmt) stmt = NULL;
  int rc;

  job->result = items;
  job->result_free = (GDestroyNotify) g_ptr_array_unref;
  stmt = td_db_prepare (self->wdb,
                        "SELECT id, account_id, state, mail_from, recipients, subject,"
                        " message_id_header, original_id, original_kind, attempts, next_attempt,"
                        " last_error, created, sent_at, CASE WHEN ?2 THEN raw END"
                        " FROM outbox WHERE ?1 = 0 OR account_id = ?1 ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->number);
  sqlite3_bind_int (stmt, 2, d->flag ? 1 : 0);
  while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
    {
      g_auto(GStrv) recipients = g_strsplit (td_db_column_text (stmt, 4) ?: "", "\n", -1);
      TdOutboxItem *item = td_outbox_item_new (sqlite3_column_int64 (stmt, 1),
                                               td_db_column_text (stmt, 3),
                                               (const char * const *) recipients, NULL);

      item->id = sqlite3_column_int64 (stmt, 0);
      item->state = index_of (state_names, G_N_ELEMENTS (state_names),
                              td_db_column_text (stmt, 2));
      item->subject = g_strdup (td_db_column_text (stmt, 5));
      item->message_id_header = g_strdup (td_db_column_text (stmt, 6));
      item->original_id = sqlite3_column_int64 (stmt, 7);
      item->original_kind = index_of (original_names, G_N_ELEMENTS (original_names),
                                      td_db_column_text (stmt, 8));
      item->attempts = (guint) MAX (sqlite3_column_int (stmt, 9), 0);
      item->next_attempt = sqlite3_column_int64 (stmt, 10);
      item->last_error = g_strdup (td_db_column_text (stmt, 11));
      item->created = sqlite3_column_int64 (stmt, 12);
      item->sent_at = sqlite3_column_int64 (stmt, 13);
      if (d->flag)
        item->raw = g_bytes_new (sqlite3_column_blob (stmt, 14),
                                 (gsize) sqlite3_column_bytes (stmt, 14));
      g_ptr_array_add (items, item);
    }
  return rc == SQLITE_DONE;
}

void
td_store_outbox_list_async (TdStore             *self,
                            gint64               account_id,
                            gboolean             with_raw,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  OpData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = g_new0 (OpData, 1);
  d->number = account_id;
  d->flag = with_raw;
  _td_store_queue_job (self, _td_store_job_new (self, JOB_READ, list_job, d, op_data_free,
                                                td_store_outbox_list_async, cancellable,
                                                callback, user_data));
}

GPtrArray *
td_store_outbox_list_finish (TdStore       *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- state changes --- */

static gboolean
mark_sending_job (TdStore  *self,
                  Job      *job,
                  GError  **error)
{
  OpData *d = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;
  g_autoptr(TdDbStmt) exists = NULL;

  stmt = td_db_prepare (self->wdb, "UPDATE outbox SET state = 'sending', next_attempt = ?2"
                                   " WHERE id = ?1 AND state = 'queued'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  sqlite3_bind_int64 (stmt, 2, d->number);
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;
  if (sqlite3_changes (td_db_get_handle (self->wdb)) > 0)
    return TRUE;

  exists = td_db_prepare (self->wdb, "SELECT 1 FROM outbox WHERE id = ?", error);
  if (exists == NULL)
    return FALSE;
  sqlite3_bind_int64 (exists, 1, d->id);
  if (td_db_step (self->wdb, exists, error) == SQLITE_ROW)
    g_set_error_literal (error, TD_ERROR, TD_ERROR_WRONG_STATE,
                         _("The message is not waiting to be sent (it is being sent, was "
                           "sent or failed)."));
  else
    g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND,
                         _("The message is no longer in the outbox."));
  return FALSE;
}

void
td_store_outbox_mark_sending_async (TdStore             *self,
                                    gint64               id,
                                    gint64               started,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  OpData *d;

  g_return_if_fail (TD_IS_STORE (self));
  d = g_new0 (OpData, 1);
  d->id = id;
  d->number = started;
  queue_op (self, mark_sending_job, d, td_store_outbox_mark_sending_async, cancellable,
            callback, user_data);
}

static gboolean
mark_sent_job (TdStore  *self,
               Job      *job,
               GError  **error)
{
  OpData *d = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;

  stmt = td_db_prepare (self->wdb, "UPDATE outbox SET state = 'sent', sent_at = ?2,"
                                   " last_error = ?3 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  sqlite3_bind_int64 (stmt, 2, d->number);
  td_db_bind_text (stmt, 3, d->text);
  return td_db_run (self->wdb, stmt, error) && check_changed (self, error);
}

void
td_store_outbox_mark_sent_async (TdStore             *self,
                                 gint64               id,
                                 gint64               sent_at,
                                 const char          *note,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  OpData *d;

  g_return_if_fail (TD_IS_STORE (self));
  d = g_new0 (OpData, 1);
  d->id = id;
  d->number = sent_at;
  d->text = g_strdup (note);
  queue_op (self, mark_sent_job, d, td_store_outbox_mark_sent_async, cancellable, callback,
            user_data);
}

static gboolean
mark_failed_job (TdStore  *self,
                 Job      *job,
                 GError  **error)
{
  OpData *d = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;

  /* a row that was sent meanwhile is left alone: it must never be sent again */
  stmt = td_db_prepare (self->wdb, "UPDATE outbox SET state = ?2, attempts = attempts + 1,"
                                   " next_attempt = ?3, last_error = ?4"
                                   " WHERE id = ?1 AND state IN ('queued', 'sending')", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  td_db_bind_text (stmt, 2, d->flag ? "queued" : "failed");
  sqlite3_bind_int64 (stmt, 3, d->flag ? d->number : 0);
  td_db_bind_text (stmt, 4, d->text);
  return td_db_run (self->wdb, stmt, error) && check_changed (self, error);
}

void
td_store_outbox_mark_failed_async (TdStore             *self,
                                   gint64               id,
                                   const char          *reason,
                                   gboolean             retry,
                                   gint64               next_attempt,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  OpData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (reason != NULL);
  d = g_new0 (OpData, 1);
  d->id = id;
  d->flag = retry;
  d->number = next_attempt;
  d->text = g_strdup (reason);
  queue_op (self, mark_failed_job, d, td_store_outbox_mark_failed_async, cancellable, callback,
            user_data);
}

static gboolean
retry_job (TdStore  *self,
           Job      *job,
           GError  **error)
{
  OpData *d = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;

  stmt = td_db_prepare (self->wdb, "UPDATE outbox SET state = 'queued', next_attempt = 0"
                                   " WHERE id = ? AND state IN ('queued', 'failed')", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  return td_db_run (self->wdb, stmt, error) && check_changed (self, error);
}

void
td_store_outbox_retry_async (TdStore             *self,
                             gint64               id,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  OpData *d;

  g_return_if_fail (TD_IS_STORE (self));
  d = g_new0 (OpData, 1);
  d->id = id;
  queue_op (self, retry_job, d, td_store_outbox_retry_async, cancellable, callback, user_data);
}

static gboolean
requeue_sending_job (TdStore  *self,
                     Job      *job,
                     GError  **error)
{
  OpData *d = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;

  stmt = td_db_prepare (self->wdb, "UPDATE outbox SET state = 'queued', next_attempt = 0"
                                   " WHERE state = 'sending' AND (?1 = 0 OR account_id = ?1)"
                                   " AND next_attempt < ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->number);
  sqlite3_bind_int64 (stmt, 2, d->id);
  return td_db_run (self->wdb, stmt, error);
}

void
td_store_outbox_requeue_sending_async (TdStore             *self,
                                       gint64               account_id,
                                       gint64               before,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  OpData *d;

  g_return_if_fail (TD_IS_STORE (self));
  d = g_new0 (OpData, 1);
  d->number = account_id;
  d->id = before;   /* (OpData's fields: the account and the time) */
  queue_op (self, requeue_sending_job, d, td_store_outbox_requeue_sending_async, cancellable,
            callback, user_data);
}

/* Stores the sent message @raw, read, as a new message of the local folder @folder_id. */
static gboolean
store_sent_copy (TdStore  *self,
                 Job      *job,
                 gint64    folder_id,
                 GBytes   *raw,
                 GError  **error)
{
  g_autoptr(TdMessageSpec) spec = NULL;
  gint64 uid;

  if (!_td_store_check_folder (self->wdb, folder_id, error))
    return FALSE;
  if ((uid = _td_store_next_local_uid (self, folder_id, error)) == 0)
    return FALSE;
  spec = td_message_spec_new ((guint32) uid, TD_FLAG_SEEN, g_get_real_time () / G_USEC_PER_SEC,
                              g_bytes_get_size (raw), raw);
  if (!_td_store_insert_whole_message (self, folder_id, spec, raw, error))
    return FALSE;
  _td_store_int64_array_add_unique (job->changes->folder_ids, folder_id);
  return TRUE;
}

static gboolean
finish_sent_job (TdStore  *self,
                 Job      *job,
                 GError  **error)
{
  OpData *d = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;

  if (d->number != 0)
    {
      g_autoptr(TdDbStmt) read = td_db_prepare (self->wdb, "SELECT raw FROM outbox"
                                                           " WHERE id = ? AND state = 'sent'",
                                                error);
      g_autoptr(GBytes) raw = NULL;
      int rc;

      if (read == NULL)
        return FALSE;
      sqlite3_bind_int64 (read, 1, d->id);
      rc = td_db_step (self->wdb, read, error);
      if (rc < 0)
        return FALSE;
      if (rc != SQLITE_ROW)
        {
          g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND,
                               _("The message is no longer in the outbox."));
          return FALSE;
        }
      raw = g_bytes_new (sqlite3_column_blob (read, 0), (gsize) sqlite3_column_bytes (read, 0));
      td_db_stmt_release (g_steal_pointer (&read));
      if (!store_sent_copy (self, job, d->number, raw, error))
        return FALSE;
    }

  stmt = td_db_prepare (self->wdb, "DELETE FROM outbox WHERE id = ? AND state = 'sent'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  return td_db_run (self->wdb, stmt, error) && check_changed (self, error);
}

void
td_store_outbox_finish_sent_async (TdStore             *self,
                                   gint64               id,
                                   gint64               sent_folder_id,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  OpData *d;

  g_return_if_fail (TD_IS_STORE (self));
  d = g_new0 (OpData, 1);
  d->id = id;
  d->number = sent_folder_id;
  queue_op (self, finish_sent_job, d, td_store_outbox_finish_sent_async, cancellable, callback,
            user_data);
}

static gboolean
remove_job (TdStore  *self,
            Job      *job,
            GError  **error)
{
  OpData *d = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;

  stmt = td_db_prepare (self->wdb, "DELETE FROM outbox WHERE id = ?"
                                   " AND state IN ('queued', 'failed')", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  return td_db_run (self->wdb, stmt, error) && check_changed (self, error);
}

void
td_store_outbox_remove_async (TdStore             *self,
                              gint64               id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  OpData *d;

  g_return_if_fail (TD_IS_STORE (self));
  d = g_new0 (OpData, 1);
  d->id = id;
  queue_op (self, remove_job, d, td_store_outbox_remove_async, cancellable, callback,
            user_data);
}
