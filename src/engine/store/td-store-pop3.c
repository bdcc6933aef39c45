/* td-store-pop3.c: the UIDL table of POP3 accounts, their downloads and local folders
 *
 * See td-store-pop3.h. Each job runs on the store thread in one transaction.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-store-pop3.h"
#include "td-store-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

void
td_pop3_uidl_row_free (TdPop3UidlRow *row)
{
  if (row == NULL)
    return;
  g_free (row->uidl);
  g_free (row);
}

TdPop3Download *
td_pop3_download_new (const char *uidl,
                      GBytes     *raw,
                      gint64      received)
{
  TdPop3Download *download;

  g_return_val_if_fail (uidl != NULL, NULL);
  g_return_val_if_fail (raw != NULL, NULL);

  download = g_new0 (TdPop3Download, 1);
  download->uidl = g_strdup (uidl);
  download->raw = g_bytes_ref (raw);
  download->received = received;
  return download;
}

void
td_pop3_download_free (TdPop3Download *download)
{
  if (download == NULL)
    return;
  g_free (download->uidl);
  g_clear_pointer (&download->raw, g_bytes_unref);
  g_free (download);
}

/* --- Local folders --- */

static const struct
{
  const char   *path;
  TdFolderRole  role;
} local_folders[] = {
  { "INBOX", TD_FOLDER_ROLE_INBOX },
  { "Sent", TD_FOLDER_ROLE_SENT },
  { "Drafts", TD_FOLDER_ROLE_DRAFTS },
  { "Trash", TD_FOLDER_ROLE_TRASH },
  { "Junk", TD_FOLDER_ROLE_JUNK },
  { "Archive", TD_FOLDER_ROLE_ARCHIVE },
};

gboolean
_td_store_pop3_create_local_folders (TdStore  *self,
                                     gint64    account_id,
                                     Changes  *changes,
                                     GError  **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (local_folders); i++)
    {
      TdDbStmt *stmt = td_db_prepare (self->wdb,
                                      "INSERT OR IGNORE INTO folder (account_id, path, delimiter,"
                                      " role) VALUES (?1, ?2, ?3, ?4)", error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, account_id);
      sqlite3_bind_text (stmt, 2, local_folders[i].path, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 3, '/');
      sqlite3_bind_text (stmt, 4, td_folder_role_to_string (local_folders[i].role), -1,
                         SQLITE_STATIC);
      if (!td_db_run (self->wdb, stmt, error))
        return FALSE;
    }
  _td_store_int64_array_add_unique (changes->account_ids, account_id);
  return TRUE;
}

/* --- Jobs --- */

typedef struct
{
  gint64     account_id;
  GPtrArray *items;    /* TdPop3Download* or char* (copies) */
  gint64     when;
} Pop3Data;

static void
pop3_data_free (gpointer data)
{
  Pop3Data *d = data;

  g_clear_pointer (&d->items, g_ptr_array_unref);
  g_free (d);
}

static gboolean
check_pop3_account (TdStore  *self,
                    gint64    account_id,
                    GError  **error)
{
  TdDbStmt *stmt = td_db_prepare (self->wdb, "SELECT kind FROM account WHERE id = ?", error);
  gboolean pop3 = FALSE;
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc == SQLITE_ROW)
    pop3 = g_strcmp0 (td_db_column_text (stmt, 0), "pop3") == 0;
  td_db_stmt_release (stmt);
  if (rc == SQLITE_DONE)
    g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, _("No such account"));
  else if (rc == SQLITE_ROW && !pop3)
    g_set_error_literal (error, TD_ERROR, TD_ERROR_INVALID, _("This is not a POP3 account."));
  return rc == SQLITE_ROW && pop3;
}

static gboolean
list_uidls_job (TdStore  *self,
                Job      *job,
                GError  **error)
{
  Pop3Data *d = job->data;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) td_pop3_uidl_row_free);
  TdDbStmt *stmt;
  int rc;

  job->result = rows;
  job->result_free = (GDestroyNotify) g_ptr_array_unref;
  stmt = td_db_prepare (self->wdb,
                        "SELECT uidl, first_seen, message_id, deleted_here, deleted_from_server"
                        " FROM pop3_uidl WHERE account_id = ? ORDER BY uidl", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->account_id);
  while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
    {
      TdPop3UidlRow *row = g_new0 (TdPop3UidlRow, 1);

      row->uidl = g_strdup (td_db_column_text (stmt, 0));
      row->first_seen = sqlite3_column_int64 (stmt, 1);
      row->message_id = sqlite3_column_int64 (stmt, 2);
      row->deleted_here = sqlite3_column_int64 (stmt, 3);
      row->deleted_from_server = sqlite3_column_int64 (stmt, 4);
      g_ptr_array_add (rows, row);
    }
  td_db_stmt_release (stmt);
  return rc == SQLITE_DONE;
}

void
td_store_pop3_list_uidls_async (TdStore             *self,
                                gint64               account_id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  Pop3Data *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = g_new0 (Pop3Data, 1);
  d->account_id = account_id;
  _td_store_queue_job (self, _td_store_job_new (self, JOB_READ, list_uidls_job, d,
                                                pop3_data_free, td_store_pop3_list_uidls_async,
                                                cancellable, callback, user_data));
}

GPtrArray *
td_store_pop3_list_uidls_finish (TdStore       *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The account's Inbox, made again if the user deleted it. */
static gint64
find_inbox (TdStore  *self,
            Job      *job,
            gint64    account_id,
            GError  **error)
{
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      TdDbStmt *stmt = td_db_prepare (self->wdb,
                                      "SELECT id FROM folder WHERE account_id = ?"
                                      " AND role = 'inbox' ORDER BY id LIMIT 1", error);
      gint64 id = 0;
      int rc;

      if (stmt == NULL)
        return 0;
      sqlite3_bind_int64 (stmt, 1, account_id);
      rc = td_db_step (self->wdb, stmt, error);
      if (rc == SQLITE_ROW)
        id = sqlite3_column_int64 (stmt, 0);
      td_db_stmt_release (stmt);
      if (rc < 0)
        return 0;
      if (id > 0)
        return id;
      if (!_td_store_pop3_create_local_folders (self, account_id, job->changes, error))
        return 0;
    }
  g_set_error_literal (error, TD_ERROR, TD_ERROR_STORE, _("The Inbox could not be made."));
  return 0;
}

/* The next free local uid of a folder: local folders number their rows themselves. */
gint64
_td_store_next_local_uid (TdStore  *self,
                          gint64    folder_id,
                          GError  **error)
{
  TdDbStmt *stmt = td_db_prepare (self->wdb,
                                  "SELECT COALESCE(MAX(uid), 0) + 1 FROM message"
                                  " WHERE folder_id = ?", error);
  gint64 uid = 0;

  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  if (td_db_step (self->wdb, stmt, error) == SQLITE_ROW)
    uid = MAX (sqlite3_column_int64 (stmt, 0), 1);
  td_db_stmt_release (stmt);
  if (uid > G_MAXUINT32)
    {
      g_set_error_literal (error, TD_ERROR, TD_ERROR_STORE,
                           _("This folder has no room for more messages."));
      uid = 0;
    }
  return uid;
}

gboolean
_td_store_pop3_add_copy (TdStore  *self,
                         gint64    id,
                         gint64    copy,
                         GError  **error)
{
  TdDbStmt *stmt = td_db_prepare (self->wdb,
                                  "INSERT INTO pop3_copy (message_id, account_id, uidl)"
                                  " SELECT ?2, account_id, uidl FROM pop3_copy"
                                  " WHERE message_id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, copy);
  return td_db_run (self->wdb, stmt, error);
}

static int
uidl_known (TdStore     *self,
            gint64       account_id,
            const char  *uidl,
            GError     **error)
{
  TdDbStmt *stmt = td_db_prepare (self->wdb,
                                  "SELECT 1 FROM pop3_uidl WHERE account_id = ?1 AND uidl = ?2",
                                  error);
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, account_id);
  td_db_bind_text (stmt, 2, uidl);
  rc = td_db_step (self->wdb, stmt, error);
  td_db_stmt_release (stmt);
  return rc < 0 ? -1 : rc == SQLITE_ROW;
}

static gboolean
add_one (TdStore         *self,
         gint64           account_id,
         gint64           folder_id,
         gint64           uid,
         TdPop3Download  *download,
         GError         **error)
{
  g_autoptr(TdMessageSpec) spec = NULL;
  TdDbStmt *stmt;
  gint64 message_id = 0;
  int rc;

  spec = td_message_spec_new ((guint32) uid, 0, download->received,
                              g_bytes_get_size (download->raw), download->raw);
  if (!_td_store_insert_whole_message (self, folder_id, spec, download->raw, error))
    return FALSE;

  stmt = td_db_prepare (self->wdb, "SELECT id FROM message WHERE folder_id = ?1 AND uid = ?2",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  sqlite3_bind_int64 (stmt, 2, uid);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc == SQLITE_ROW)
    message_id = sqlite3_column_int64 (stmt, 0);
  td_db_stmt_release (stmt);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        g_set_error_literal (error, TD_ERROR, TD_ERROR_STORE, "the new message row is missing");
      return FALSE;
    }

  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO pop3_uidl (account_id, uidl, first_seen, message_id)"
                        " VALUES (?1, ?2, ?3, ?4)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  td_db_bind_text (stmt, 2, download->uidl);
  sqlite3_bind_int64 (stmt, 3, download->received);
  sqlite3_bind_int64 (stmt, 4, message_id);
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;

  /* its first local row; copies join it (td-store-journal.c) */
  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO pop3_copy (message_id, account_id, uidl)"
                        " VALUES (?1, ?2, ?3)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, message_id);
  sqlite3_bind_int64 (stmt, 2, account_id);
  td_db_bind_text (stmt, 3, download->uidl);
  return td_db_run (self->wdb, stmt, error);
}

static gboolean
add_downloads_job (TdStore  *self,
                   Job      *job,
                   GError  **error)
{
  Pop3Data *d = job->data;
  guint *added = g_new0 (guint, 1);
  gint64 folder_id;
  gint64 uid;

  job->result = added;
  job->result_free = g_free;
  if (!check_pop3_account (self, d->account_id, error))
    return FALSE;
  if ((folder_id = find_inbox (self, job, d->account_id, error)) == 0)
    return FALSE;
  if ((uid = _td_store_next_local_uid (self, folder_id, error)) == 0)
    return FALSE;

  for (guint i = 0; i < d->items->len; i++)
    {
      TdPop3Download *download = g_ptr_array_index (d->items, i);
      int known = uidl_known (self, d->account_id, download->uidl, error);

      if (known < 0)
        return FALSE;
      if (known)
        continue;   /* stored before (a run killed after its commit): never twice */
      if (!add_one (self, d->account_id, folder_id, uid, download, error))
        return FALSE;
      uid++;
      (*added)++;
    }

  if (*added > 0)
    _td_store_int64_array_add_unique (job->changes->folder_ids, folder_id);
  return TRUE;
}

void
td_store_pop3_add_downloads_async (TdStore             *self,
                                   gint64               account_id,
                                   GPtrArray           *downloads,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  Pop3Data *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (downloads != NULL);

  d = g_new0 (Pop3Data, 1);
  d->account_id = account_id;
  d->items = g_ptr_array_new_full (downloads->len, (GDestroyNotify) td_pop3_download_free);
  for (guint i = 0; i < downloads->len; i++)
    {
      TdPop3Download *download = g_ptr_array_index (downloads, i);

      if (download == NULL || download->uidl == NULL || download->raw == NULL)
        continue;
      g_ptr_array_add (d->items, td_pop3_download_new (download->uidl, download->raw,
                                                       download->received));
    }
  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, add_downloads_job, d,
                                                pop3_data_free, td_store_pop3_add_downloads_async,
                                                cancellable, callback, user_data));
}

gboolean
td_store_pop3_add_downloads_finish (TdStore       *self,
                                    GAsyncResult  *result,
                                    guint         *n_added,
                                    GError       **error)
{
  g_autofree guint *added = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  added = g_task_propagate_pointer (G_TASK (result), error);
  if (n_added != NULL)
    *n_added = added != NULL ? *added : 0;
  return added != NULL;
}

static gboolean
set_deleted_from_server_job (TdStore  *self,
                             Job      *job,
                             GError  **error)
{
  Pop3Data *d = job->data;

  for (guint i = 0; i < d->items->len; i++)
    {
      TdDbStmt *stmt = td_db_prepare (self->wdb,
                                      "UPDATE pop3_uidl SET deleted_from_server = ?3"
                                      " WHERE account_id = ?1 AND uidl = ?2"
                                      " AND deleted_from_server IS NULL", error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, d->account_id);
      td_db_bind_text (stmt, 2, g_ptr_array_index (d->items, i));
      sqlite3_bind_int64 (stmt, 3, d->when);
      if (!td_db_run (self->wdb, stmt, error))
        return FALSE;
    }
  return TRUE;
}

void
td_store_pop3_set_deleted_from_server_async (TdStore             *self,
                                             gint64               account_id,
                                             GPtrArray           *uidls,
                                             gint64               when,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  Pop3Data *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (uidls != NULL);

  d = g_new0 (Pop3Data, 1);
  d->account_id = account_id;
  d->when = when;
  d->items = g_ptr_array_new_full (uidls->len, g_free);
  for (guint i = 0; i < uidls->len; i++)
    if (g_ptr_array_index (uidls, i) != NULL)
      g_ptr_array_add (d->items, g_strdup (g_ptr_array_index (uidls, i)));
  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, set_deleted_from_server_job, d,
                                                pop3_data_free,
                                                td_store_pop3_set_deleted_from_server_async,
                                                cancellable, callback, user_data));
}

gboolean
td_store_pop3_set_deleted_from_server_finish (TdStore       *self,
                                              GAsyncResult  *result,
                                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- When the server asked to wait --- */

typedef struct
{
  gint64 account_id;
  gint64 not_before;
  guint  failures;
} RetryData;

static gboolean
get_retry_job (TdStore  *self,
               Job      *job,
               GError  **error)
{
  RetryData *d = job->data;
  RetryData *found = g_new0 (RetryData, 1);
  TdDbStmt *stmt;
  int rc;

  job->result = found;
  job->result_free = g_free;
  stmt = td_db_prepare (self->wdb,
                        "SELECT not_before, failures FROM pop3_retry WHERE account_id = ?",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->account_id);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc == SQLITE_ROW)
    {
      found->not_before = sqlite3_column_int64 (stmt, 0);
      found->failures = (guint) CLAMP (sqlite3_column_int64 (stmt, 1), 0, G_MAXUINT);
    }
  td_db_stmt_release (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

void
td_store_pop3_get_retry_async (TdStore             *self,
                               gint64               account_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  RetryData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = g_new0 (RetryData, 1);
  d->account_id = account_id;
  _td_store_queue_job (self, _td_store_job_new (self, JOB_READ, get_retry_job, d, g_free,
                                                td_store_pop3_get_retry_async, cancellable,
                                                callback, user_data));
}

gboolean
td_store_pop3_get_retry_finish (TdStore       *self,
                                GAsyncResult  *result,
                                gint64        *not_before,
                                guint         *failures,
                                GError       **error)
{
  g_autofree RetryData *d = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  if ((d = g_task_propagate_pointer (G_TASK (result), error)) == NULL)
    return FALSE;
  if (not_before != NULL)
    *not_before = d->not_before;
  if (failures != NULL)
    *failures = d->failures;
  return TRUE;
}

static gboolean
set_retry_job (TdStore  *self,
               Job      *job,
               GError  **error)
{
  RetryData *d = job->data;
  TdDbStmt *stmt;

  if (d->not_before == 0)
    {
      stmt = td_db_prepare (self->wdb, "DELETE FROM pop3_retry WHERE account_id = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, d->account_id);
      return td_db_run (self->wdb, stmt, error);
    }
  if (!check_pop3_account (self, d->account_id, error))
    return FALSE;
  stmt = td_db_prepare (self->wdb,
                        "INSERT OR REPLACE INTO pop3_retry (account_id, not_before, failures)"
                        " VALUES (?1, ?2, ?3)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->account_id);
  sqlite3_bind_int64 (stmt, 2, d->not_before);
  sqlite3_bind_int64 (stmt, 3, d->failures);
  return td_db_run (self->wdb, stmt, error);
}

void
td_store_pop3_set_retry_async (TdStore             *self,
                               gint64               account_id,
                               gint64               not_before,
                               guint                failures,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  RetryData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = g_new0 (RetryData, 1);
  d->account_id = account_id;
  d->not_before = MAX (not_before, 0);
  d->failures = d->not_before > 0 ? failures : 0;
  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, set_retry_job, d, g_free,
                                                td_store_pop3_set_retry_async, cancellable,
                                                callback, user_data));
}

gboolean
td_store_pop3_set_retry_finish (TdStore       *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
