/* td-store-messages.c: the message rows of the store and their flags
 *
 * A message row holds what the list shows of a message: its header fields (parsed on the
 * parse thread, td-store-parse.c), flags and keywords; its body and full-text entry come with
 * td-store-bodies.c and td-store-search.c. Writes and unbounded reads run on the store
 * thread; a page of a folder, a count and one message are bounded reads on the read
 * connection of the opener's thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-store.h"
#include "td-store-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

/* A Date more than this far in the future is a lie; the server's INTERNALDATE wins. */
#define MAX_FUTURE_SECONDS (24 * 60 * 60)

TdMessageSpec *
td_message_spec_new (guint32  uid,
                     TdFlags  flags,
                     gint64   internaldate,
                     guint64  size,
                     GBytes  *header)
{
  TdMessageSpec *spec = g_new0 (TdMessageSpec, 1);

  spec->uid = uid;
  spec->flags = flags;
  spec->internaldate = internaldate;
  spec->size = size;
  spec->header = header != NULL ? g_bytes_ref (header) : NULL;
  return spec;
}

void
td_message_spec_free (TdMessageSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->keywords);
  g_clear_pointer (&spec->header, g_bytes_unref);
  g_free (spec);
}

/* --- Messages (writes) --- */

void
_td_store_messages_data_free (gpointer data)
{
  MessagesData *d = data;

  g_clear_pointer (&d->items, g_ptr_array_unref);
  g_clear_pointer (&d->array, g_array_unref);
  g_clear_pointer (&d->parse, _td_store_parse_state_unref);
  g_free (d);
}

static gint64
pick_date (gint64 header_date,
           gint64 internaldate,
           gint64 now)
{
  if ((header_date <= 0 || header_date > now + MAX_FUTURE_SECONDS) && internaldate > 0)
    return internaldate;
  return MAX (header_date, 0);
}

static gboolean
insert_message (TdStore        *self,
                gint64          folder_id,
                TdMessageSpec  *spec,
                ParsedHeader   *parsed,
                gint64          now,
                GError        **error)
{
  g_autofree char *addresses = NULL;
  TdDbStmt *stmt;
  gint64 date = pick_date (parsed->date, spec->internaldate, now);

  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO message (folder_id, uid, message_id, in_reply_to, refs,"
                        " date, from_name, from_address, to_list, cc_list, subject, size, flags,"
                        " keywords, modseq)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                        " ?15)",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  sqlite3_bind_int64 (stmt, 2, spec->uid);
  td_db_bind_text (stmt, 3, parsed->message_id);
  td_db_bind_text (stmt, 4, parsed->in_reply_to);
  td_db_bind_text (stmt, 5, parsed->refs);
  sqlite3_bind_int64 (stmt, 6, date);
  td_db_bind_text (stmt, 7, parsed->from_name);
  td_db_bind_text (stmt, 8, parsed->from_address);
  td_db_bind_text (stmt, 9, parsed->to);
  td_db_bind_text (stmt, 10, parsed->cc);
  td_db_bind_text (stmt, 11, parsed->subject);
  sqlite3_bind_int64 (stmt, 12, (sqlite3_int64) MIN (spec->size, G_MAXINT64));
  sqlite3_bind_int (stmt, 13, spec->flags & TD_FLAGS_STORED);
  sqlite3_bind_int64 (stmt, 15, (sqlite3_int64) MIN (spec->modseq, G_MAXINT64));
  if (spec->keywords != NULL && *spec->keywords != '\0')
    {
      g_autofree char *keywords = _td_store_clean_text (spec->keywords, MAX_SHORT_FIELD);

      td_db_bind_text (stmt, 14, keywords);
    }
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;

  /* Subject and addresses are searchable before the body is here. */
  addresses = _td_store_join_addresses (parsed->from_name, parsed->from_address, parsed->to,
                                        parsed->cc);
  return _td_store_fts_index (self, sqlite3_last_insert_rowid (td_db_get_handle (self->wdb)),
                              parsed->subject, addresses, NULL, FALSE, error);
}

static gboolean
add_messages_job (TdStore  *self,
                  Job      *job,
                  GError  **error)
{
  MessagesData *d = job->data;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gboolean changed = FALSE;
  GPtrArray *parsed;

  if (!_td_store_check_folder (self->wdb, d->folder_id, error))
    return FALSE;

  parsed = _td_store_wait_parse (d->parse);
  for (guint i = 0; i < d->items->len; i++)
    {
      TdMessageSpec *spec = g_ptr_array_index (d->items, i);
      const char *keywords = spec->keywords != NULL && *spec->keywords != '\0' ?
                             spec->keywords : NULL;
      TdDbStmt *stmt;
      int rc;

      stmt = td_db_prepare (self->wdb,
                            "SELECT id, flags, keywords FROM message"
                            " WHERE folder_id = ?1 AND uid = ?2", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, d->folder_id);
      sqlite3_bind_int64 (stmt, 2, spec->uid);
      rc = td_db_step (self->wdb, stmt, error);
      if (rc < 0)
        {
          td_db_stmt_release (stmt);
          return FALSE;
        }

      if (rc == SQLITE_ROW)
        {
          /* Known: only its flags may have changed. */
          gint64 id = sqlite3_column_int64 (stmt, 0);
          gboolean same = (TdFlags) sqlite3_column_int (stmt, 1) == (spec->flags & TD_FLAGS_STORED)
                          && g_strcmp0 (td_db_column_text (stmt, 2), keywords) == 0;

          td_db_stmt_release (stmt);
          if (same)
            continue;

          stmt = td_db_prepare (self->wdb,
                                "UPDATE message SET flags = ?2, keywords = ?3 WHERE id = ?1",
                                error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_int64 (stmt, 1, id);
          sqlite3_bind_int (stmt, 2, spec->flags & TD_FLAGS_STORED);
          td_db_bind_text (stmt, 3, keywords);
          if (!td_db_run (self->wdb, stmt, error))
            return FALSE;
        }
      else
        {
          td_db_stmt_release (stmt);
          if (!insert_message (self, d->folder_id, spec, g_ptr_array_index (parsed, i), now,
                               error))
            return FALSE;
        }
      changed = TRUE;
    }

  if (changed)
    _td_store_int64_array_add_unique (job->changes->folder_ids, d->folder_id);
  return TRUE;
}

void
td_store_add_messages_async (TdStore             *self,
                             gint64               folder_id,
                             GPtrArray           *specs,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  MessagesData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (specs != NULL);

  d = g_new0 (MessagesData, 1);
  d->folder_id = folder_id;
  d->items = g_ptr_array_new_full (specs->len, (GDestroyNotify) td_message_spec_free);
  for (guint i = 0; i < specs->len; i++)
    {
      TdMessageSpec *spec = g_ptr_array_index (specs, i);
      TdMessageSpec *copy;

      if (spec == NULL)
        continue;
      copy = td_message_spec_new (spec->uid, spec->flags, spec->internaldate, spec->size,
                                  spec->header);
      copy->keywords = g_strdup (spec->keywords);
      copy->modseq = spec->modseq;
      g_ptr_array_add (d->items, copy);
    }
  d->parse = _td_store_start_parse (self, d->items, _td_store_parse_header,
                                    (GDestroyNotify) _td_store_parsed_header_free);

  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, add_messages_job, d,
                                                _td_store_messages_data_free,
                                                td_store_add_messages_async, cancellable,
                                                callback, user_data));
}

gboolean
td_store_add_messages_finish (TdStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_uid_flags_clear (TdUidFlags *flags)
{
  g_clear_pointer (&flags->keywords, g_free);
}

GArray *
td_uid_flags_array_new (void)
{
  GArray *array = g_array_new (FALSE, FALSE, sizeof (TdUidFlags));

  g_array_set_clear_func (array, (GDestroyNotify) td_uid_flags_clear);
  return array;
}

static gboolean
update_flags_job (TdStore  *self,
                  Job      *job,
                  GError  **error)
{
  MessagesData *d = job->data;
  gboolean changed = FALSE;
  int local_flags = 0;
  TdDbStmt *folder_stmt;
  int rc;

  /* flags the folder cannot keep on the server stay as they are here */
  folder_stmt = td_db_prepare (self->wdb, "SELECT local_flags FROM folder WHERE id = ?", error);
  if (folder_stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (folder_stmt, 1, d->folder_id);
  rc = td_db_step (self->wdb, folder_stmt, error);
  if (rc == SQLITE_ROW)
    local_flags = sqlite3_column_int (folder_stmt, 0);
  td_db_stmt_release (folder_stmt);
  if (rc < 0)
    return FALSE;

  for (guint i = 0; i < d->array->len; i++)
    {
      TdUidFlags *change = &g_array_index (d->array, TdUidFlags, i);
      g_autofree char *keywords = NULL;
      gboolean keep_keywords;
      TdDbStmt *stmt;
      int flags = change->flags & TD_FLAGS_STORED;

      /* the server's keywords replace ours, unless it cannot keep keywords (those set here
       * then live only here) or did not say */
      keep_keywords = change->keywords == NULL || (local_flags & TD_FLAG_KEYWORDS) != 0;
      if (!keep_keywords && *change->keywords != '\0')
        keywords = _td_store_clean_text (change->keywords, MAX_SHORT_FIELD);
      stmt = td_db_prepare (self->wdb,
                            "UPDATE message SET flags = (?3 & ~?5) | (flags & ?5),"
                            " modseq = CASE WHEN ?4 > 0 THEN ?4 ELSE modseq END,"
                            " keywords = CASE WHEN ?6 THEN keywords ELSE ?7 END"
                            " WHERE folder_id = ?1 AND uid = ?2"
                            " AND (flags != ((?3 & ~?5) | (flags & ?5)) OR (?4 > 0 AND modseq != ?4)"
                            "      OR (NOT ?6 AND keywords IS NOT ?7))",
                            error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, d->folder_id);
      sqlite3_bind_int64 (stmt, 2, change->uid);
      sqlite3_bind_int (stmt, 3, flags);
      sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) MIN (change->modseq, G_MAXINT64));
      sqlite3_bind_int (stmt, 5, local_flags & TD_FLAGS_STORED);
      sqlite3_bind_int (stmt, 6, keep_keywords);
      td_db_bind_text (stmt, 7, keywords);
      if (!td_db_run (self->wdb, stmt, error))
        return FALSE;
      if (sqlite3_changes (td_db_get_handle (self->wdb)) > 0)
        changed = TRUE;
    }

  if (changed)
    _td_store_int64_array_add_unique (job->changes->folder_ids, d->folder_id);
  return TRUE;
}

void
td_store_update_flags_async (TdStore             *self,
                             gint64               folder_id,
                             GArray              *changes,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  MessagesData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (changes != NULL);
  g_return_if_fail (g_array_get_element_size (changes) == sizeof (TdUidFlags));

  d = g_new0 (MessagesData, 1);
  d->folder_id = folder_id;
  d->array = td_uid_flags_array_new ();
  for (guint i = 0; i < changes->len; i++)
    {
      TdUidFlags copy = g_array_index (changes, TdUidFlags, i);

      copy.keywords = g_strdup (copy.keywords);
      g_array_append_val (d->array, copy);
    }

  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, update_flags_job, d,
                                                _td_store_messages_data_free,
                                                td_store_update_flags_async, cancellable,
                                                callback, user_data));
}

gboolean
td_store_update_flags_finish (TdStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
remove_messages_job (TdStore  *self,
                     Job      *job,
                     GError  **error)
{
  MessagesData *d = job->data;
  gboolean changed = FALSE;

  for (guint i = 0; i < d->array->len; i++)
    {
      TdDbStmt *stmt;

      stmt = td_db_prepare (self->wdb, "DELETE FROM message WHERE folder_id = ?1 AND uid = ?2",
                            error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, d->folder_id);
      sqlite3_bind_int64 (stmt, 2, g_array_index (d->array, guint32, i));
      if (!td_db_run (self->wdb, stmt, error))
        return FALSE;
      if (sqlite3_changes (td_db_get_handle (self->wdb)) > 0)
        changed = TRUE;
    }

  if (changed)
    _td_store_int64_array_add_unique (job->changes->folder_ids, d->folder_id);
  return TRUE;
}

void
td_store_remove_messages_async (TdStore             *self,
                                gint64               folder_id,
                                GArray              *uids,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  MessagesData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (uids != NULL);
  g_return_if_fail (g_array_get_element_size (uids) == sizeof (guint32));

  d = g_new0 (MessagesData, 1);
  d->folder_id = folder_id;
  d->array = g_array_sized_new (FALSE, FALSE, sizeof (guint32), uids->len);
  g_array_append_vals (d->array, uids->data, uids->len);

  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, remove_messages_job, d,
                                                _td_store_messages_data_free,
                                                td_store_remove_messages_async, cancellable,
                                                callback, user_data));
}

gboolean
td_store_remove_messages_finish (TdStore       *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- Messages (unbounded reads, on the store thread) --- */

void
_td_store_read_data_free (gpointer data)
{
  ReadData *d = data;

  g_free (d->query);
  g_free (d);
}

static gboolean
list_uids_job (TdStore  *self,
               Job      *job,
               GError  **error)
{
  ReadData *d = job->data;
  g_autoptr(GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  TdDbStmt *stmt;
  int rc;

  if (d->flag)
    stmt = td_db_prepare (self->wdb,
                          "SELECT uid FROM message WHERE folder_id = ?1 AND has_body = 0"
                          " AND uid > 0 AND (date >= ?2 OR date <= 0) ORDER BY uid DESC", error);
  else
    stmt = td_db_prepare (self->wdb, "SELECT uid FROM message WHERE folder_id = ? AND uid > 0"
                          " ORDER BY uid",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  if (d->flag)
    sqlite3_bind_int64 (stmt, 2, d->since);
  while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
    {
      guint32 uid = (guint32) sqlite3_column_int64 (stmt, 0);

      g_array_append_val (uids, uid);
    }
  td_db_stmt_release (stmt);
  if (rc < 0)
    return FALSE;

  job->result = g_steal_pointer (&uids);
  job->result_free = (GDestroyNotify) g_array_unref;
  return TRUE;
}

void
td_store_list_uids_async (TdStore             *self,
                          gint64               folder_id,
                          gboolean             without_body,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  ReadData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = g_new0 (ReadData, 1);
  d->id = folder_id;
  d->flag = without_body;
  _td_store_queue_job (self, _td_store_job_new (self, JOB_READ, list_uids_job, d,
                                                _td_store_read_data_free, td_store_list_uids_async,
                                                cancellable, callback, user_data));
}

GArray *
td_store_list_uids_finish (TdStore       *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_store_list_missing_bodies_async (TdStore             *self,
                                    gint64               folder_id,
                                    gint64               since,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  ReadData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = g_new0 (ReadData, 1);
  d->id = folder_id;
  d->flag = TRUE;
  d->since = MAX (since, 0);
  _td_store_queue_job (self, _td_store_job_new (self, JOB_READ, list_uids_job, d,
                                                _td_store_read_data_free,
                                                td_store_list_missing_bodies_async, cancellable,
                                                callback, user_data));
}

GArray *
td_store_list_missing_bodies_finish (TdStore       *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return td_store_list_uids_finish (self, result, error);
}

TdMessage *
_td_store_message_from_row (TdDbStmt *stmt)
{
  TdMessageFields fields = {
    .id = sqlite3_column_int64 (stmt, 0),
    .folder_id = sqlite3_column_int64 (stmt, 1),
    /* a placeholder (moved or copied here offline) has no server uid yet */
    .uid = sqlite3_column_int64 (stmt, 2) > 0 ? (guint32) sqlite3_column_int64 (stmt, 2) : 0,
    .message_id = td_db_column_text (stmt, 3),
    .date = sqlite3_column_int64 (stmt, 4),
    .from = td_db_column_text (stmt, 5),
    .from_address = td_db_column_text (stmt, 6),
    .to = td_db_column_text (stmt, 7),
    .cc = td_db_column_text (stmt, 8),
    .subject = td_db_column_text (stmt, 9),
    .size = (guint64) MAX (sqlite3_column_int64 (stmt, 10), 0),
    .flags = (TdFlags) sqlite3_column_int (stmt, 11),
    .preview = td_db_column_text (stmt, 12),
    .has_attachment = sqlite3_column_int (stmt, 13) != 0,
    .has_body = sqlite3_column_int (stmt, 14) != 0,
    .keywords = td_db_column_text (stmt, 15),
  };

  if (fields.from != NULL && *fields.from == '\0')
    fields.from = NULL;
  if (fields.preview != NULL && !fields.has_body)
    fields.preview = NULL;
  return td_message_new (&fields);
}

/* --- Messages (bounded reads on the calling thread) --- */

GPtrArray *
td_store_page_messages (TdStore  *self,
                        gint64    folder_id,
                        guint     offset,
                        guint     limit,
                        GError  **error)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  TdDbStmt *stmt;
  TdDb *db;
  int rc;

  g_return_val_if_fail (TD_IS_STORE (self), NULL);

  if ((db = _td_store_read_begin (self, error)) == NULL)
    return NULL;
  stmt = td_db_prepare (db,
                        "SELECT " MESSAGE_COLUMNS " FROM message m"
                        " WHERE m.folder_id = ?1 ORDER BY m.date DESC, m.id DESC"
                        " LIMIT ?2 OFFSET ?3", error);
  if (stmt == NULL)
    {
      _td_store_read_end (self);
      return NULL;
    }
  sqlite3_bind_int64 (stmt, 1, folder_id);
  sqlite3_bind_int64 (stmt, 2, limit);
  sqlite3_bind_int64 (stmt, 3, offset);
  while ((rc = td_db_step (db, stmt, error)) == SQLITE_ROW)
    g_ptr_array_add (messages, _td_store_message_from_row (stmt));
  td_db_stmt_release (stmt);
  _td_store_read_end (self);

  return rc == SQLITE_DONE ? g_steal_pointer (&messages) : NULL;
}

guint
td_store_count_messages (TdStore *self,
                         gint64   folder_id)
{
  g_autoptr(GError) error = NULL;
  TdDbStmt *stmt;
  TdDb *db;
  guint count = 0;

  g_return_val_if_fail (TD_IS_STORE (self), 0);

  if ((db = _td_store_read_begin (self, &error)) == NULL)
    return 0;
  stmt = td_db_prepare (db, "SELECT total FROM folder WHERE id = ?", &error);
  if (stmt != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, folder_id);
      if (td_db_step (db, stmt, &error) == SQLITE_ROW)
        count = (guint) CLAMP (sqlite3_column_int64 (stmt, 0), 0, G_MAXUINT);
      td_db_stmt_release (stmt);
    }
  _td_store_read_end (self);

  if (error != NULL)
    g_debug ("counting messages of folder %" G_GINT64_FORMAT ": %s", folder_id, error->message);
  return count;
}

TdMessage *
td_store_get_message (TdStore  *self,
                      gint64    message_id,
                      GError  **error)
{
  TdMessage *message = NULL;
  TdDbStmt *stmt;
  TdDb *db;
  int rc;

  g_return_val_if_fail (TD_IS_STORE (self), NULL);

  if ((db = _td_store_read_begin (self, error)) == NULL)
    return NULL;
  stmt = td_db_prepare (db, "SELECT " MESSAGE_COLUMNS " FROM message m WHERE m.id = ?", error);
  if (stmt != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, message_id);
      rc = td_db_step (db, stmt, error);
      if (rc == SQLITE_ROW)
        message = _td_store_message_from_row (stmt);
      else if (rc == SQLITE_DONE)
        g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, _("No such message"));
      td_db_stmt_release (stmt);
    }
  _td_store_read_end (self);

  return message;
}

/* --- For td-store-pop3.c: a whole message into a local folder, on the store thread --- */

gboolean
_td_store_insert_whole_message (TdStore        *self,
                                gint64          folder_id,
                                TdMessageSpec  *spec,
                                GBytes         *raw,
                                GError        **error)
{
  TdBodySpec body = { .uid = spec->uid, .raw = raw };
  ParsedHeader *header = _td_store_parse_header (spec);
  ParsedBody *parsed;
  gboolean stored = FALSE;
  gboolean ok;

  ok = insert_message (self, folder_id, spec, header, g_get_real_time () / G_USEC_PER_SEC,
                       error);
  _td_store_parsed_header_free (header);
  if (ok)
    {
      parsed = _td_store_parse_body (&body);
      ok = _td_store_store_body (self, folder_id, &body, parsed, &stored, error);
      _td_store_parsed_body_free (parsed);
    }
  return ok;
}
