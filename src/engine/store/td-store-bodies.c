/* td-store-bodies.c: the raw bodies of messages, with their previews and full-text entries
 *
 * A body is kept as the RFC 5322 bytes the server sent. Storing it also fills in what the
 * message list shows of it (preview, attachment) and the body text of its full-text entry;
 * both are parsed on the parse thread (td-store-parse.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-store.h"
#include "td-store-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

TdBodySpec *
td_body_spec_new (guint32  uid,
                  GBytes  *raw)
{
  TdBodySpec *spec = g_new0 (TdBodySpec, 1);

  spec->uid = uid;
  spec->raw = raw != NULL ? g_bytes_ref (raw) : NULL;
  return spec;
}

void
td_body_spec_free (TdBodySpec *spec)
{
  if (spec == NULL)
    return;
  g_clear_pointer (&spec->raw, g_bytes_unref);
  g_free (spec);
}

gboolean
_td_store_store_body (TdStore     *self,
                      gint64       folder_id,
                      TdBodySpec  *spec,
                      ParsedBody  *parsed,
                      gboolean    *stored,
                      GError     **error)
{
  g_autofree char *addresses = NULL;
  g_autofree char *subject = NULL;
  const char *preview = parsed->preview;
  const char *text = parsed->text;
  gboolean attachment = parsed->attachment;
  TdDbStmt *stmt;
  gint64 id;
  gsize size;
  int rc;

  stmt = td_db_prepare (self->wdb,
                        "SELECT id, subject, from_name, from_address, to_list, cc_list"
                        " FROM message WHERE folder_id = ?1 AND uid = ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  sqlite3_bind_int64 (stmt, 2, spec->uid);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc != SQLITE_ROW)
    {
      td_db_stmt_release (stmt);
      return rc == SQLITE_DONE;   /* unknown uid: ignored */
    }
  id = sqlite3_column_int64 (stmt, 0);
  subject = g_strdup (td_db_column_text (stmt, 1));
  addresses = _td_store_join_addresses (td_db_column_text (stmt, 2), td_db_column_text (stmt, 3),
                                        td_db_column_text (stmt, 4), td_db_column_text (stmt, 5));
  td_db_stmt_release (stmt);

  size = g_bytes_get_size (spec->raw);

  stmt = td_db_prepare (self->wdb, "INSERT OR REPLACE INTO body (message_id, raw) VALUES (?1, ?2)",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_blob64 (stmt, 2, size > 0 ? g_bytes_get_data (spec->raw, NULL) : "", size,
                       SQLITE_STATIC);
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;

  stmt = td_db_prepare (self->wdb,
                        "UPDATE message SET preview = ?2, has_attachment = ?3, has_body = 1,"
                        " size = CASE WHEN size = 0 THEN ?4 ELSE size END"
                        " WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, preview != NULL ? preview : "", -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, attachment ? 1 : 0);
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) size);
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;

  if (!_td_store_fts_index (self, id, subject, addresses, text, TRUE, error))
    return FALSE;

  *stored = TRUE;
  return TRUE;
}

static gboolean
set_bodies_job (TdStore  *self,
                Job      *job,
                GError  **error)
{
  MessagesData *d = job->data;
  gboolean changed = FALSE;
  GPtrArray *parsed;

  if (!_td_store_check_folder (self->wdb, d->folder_id, error))
    return FALSE;

  parsed = _td_store_wait_parse (d->parse);
  for (guint i = 0; i < d->items->len; i++)
    if (!_td_store_store_body (self, d->folder_id, g_ptr_array_index (d->items, i),
                               g_ptr_array_index (parsed, i), &changed, error))
      return FALSE;

  if (changed)
    _td_store_int64_array_add_unique (job->changes->folder_ids, d->folder_id);
  return TRUE;
}

void
td_store_set_bodies_async (TdStore             *self,
                           gint64               folder_id,
                           GPtrArray           *bodies,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  MessagesData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (bodies != NULL);

  d = g_new0 (MessagesData, 1);
  d->folder_id = folder_id;
  d->items = g_ptr_array_new_full (bodies->len, (GDestroyNotify) td_body_spec_free);
  for (guint i = 0; i < bodies->len; i++)
    {
      TdBodySpec *spec = g_ptr_array_index (bodies, i);

      if (spec == NULL || spec->raw == NULL)
        continue;
      g_ptr_array_add (d->items, td_body_spec_new (spec->uid, spec->raw));
    }

  d->parse = _td_store_start_parse (self, d->items, _td_store_parse_body,
                                    (GDestroyNotify) _td_store_parsed_body_free);

  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, set_bodies_job, d,
                                                _td_store_messages_data_free,
                                                td_store_set_bodies_async, cancellable,
                                                callback, user_data));
}

gboolean
td_store_set_bodies_finish (TdStore       *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
get_body_job (TdStore  *self,
              Job      *job,
              GError  **error)
{
  ReadData *d = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;
  int rc;

  stmt = td_db_prepare (self->wdb, "SELECT raw FROM body WHERE message_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc < 0)
    return FALSE;
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, TD_ERROR, TD_ERROR_NOT_FOUND,
                   _("The message has not been downloaded yet"));
      return FALSE;
    }

  job->result = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));
  job->result_free = (GDestroyNotify) g_bytes_unref;
  return TRUE;
}

void
td_store_get_body_async (TdStore             *self,
                         gint64               message_id,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  ReadData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = g_new0 (ReadData, 1);
  d->id = message_id;
  _td_store_queue_job (self, _td_store_job_new (self, JOB_READ, get_body_job, d,
                                                _td_store_read_data_free, td_store_get_body_async,
                                                cancellable, callback, user_data));
}

GBytes *
td_store_get_body_finish (TdStore       *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
