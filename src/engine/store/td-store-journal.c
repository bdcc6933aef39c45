/* td-store-journal.c: local actions on messages and folders, and their journal
 *
 * Each action changes the rows and writes journal entries in the same transaction on the
 * store thread (invariant 1: nothing is expunged on the server that is not journaled here
 * first; invariant 2: a crash leaves either both or neither). A message moved or copied here
 * gets a placeholder uid -(row id) in its new folder until the replay learns the real one;
 * in the local folders of a POP3 account, which wait for no server, it gets the next free
 * uid of its new folder at once, and nothing is journaled.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-store.h"
#include "td-store-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

static const char * const kind_names[] = {
  [TD_JOURNAL_FLAGS] = "flags",
  [TD_JOURNAL_MOVE] = "move",
  [TD_JOURNAL_COPY] = "copy",
  [TD_JOURNAL_EXPUNGE] = "expunge",
  [TD_JOURNAL_CREATE] = "create",
  [TD_JOURNAL_RENAME] = "rename",
  [TD_JOURNAL_DELETE] = "delete",
  [TD_JOURNAL_SUBSCRIBE] = "subscribe",
  [TD_JOURNAL_UNSUBSCRIBE] = "unsubscribe",
};

void
td_journal_entry_free (TdJournalEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->message_id_header);
  g_free (entry->folder_path);
  g_free (entry->keywords_add);
  g_free (entry->keywords_remove);
  g_free (entry->target_path);
  g_free (entry);
}

/* What every action job carries. */
typedef struct
{
  GArray  *ids;        /* gint64: messages, or journal entries */
  gint64   id;         /* account, folder or entry */
  gint64   target;     /* target folder */
  gboolean flag;       /* copy / subscribe */
  TdFlags  add;
  TdFlags  remove;
  char    *text;       /* keyword to add, path */
  char    *text2;      /* keyword to remove */
  char     delimiter;
  guint32  uid;
} ActionData;

static void
action_data_free (ActionData *d)
{
  g_clear_pointer (&d->ids, g_array_unref);
  g_free (d->text);
  g_free (d->text2);
  g_free (d);
}

static ActionData *
action_data_new (GArray *ids)
{
  ActionData *d = g_new0 (ActionData, 1);

  d->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (ids != NULL)
    g_array_append_vals (d->ids, ids->data, ids->len);
  return d;
}

static void
queue (TdStore             *self,
       gpointer             func,
       ActionData          *d,
       gpointer             source_tag,
       GCancellable        *cancellable,
       GAsyncReadyCallback  callback,
       gpointer             user_data)
{
  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, func, d,
                                                (GDestroyNotify) action_data_free, source_tag,
                                                cancellable, callback, user_data));
}

static gboolean
finish_boolean (TdStore       *self,
                GAsyncResult  *result,
                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- Rows --- */

typedef struct
{
  gint64   id;
  gint64   folder_id;
  gint64   account_id;
  gint64   uid;           /* < 0: a placeholder */
  guint64  modseq;
  TdFlags  flags;
  char    *keywords;
  char    *message_id;
  char    *folder_path;
  guint32  uidvalidity;
} Row;

static void
row_clear (Row *row)
{
  g_free (row->keywords);
  g_free (row->message_id);
  g_free (row->folder_path);
  memset (row, 0, sizeof *row);
}

/* FALSE with @error unset when there is no such row. */
static gboolean
read_row (TdStore  *self,
          gint64    id,
          Row      *row,
          GError  **error)
{
  TdDbStmt *stmt;
  int rc;

  stmt = td_db_prepare (self->wdb,
                        "SELECT m.folder_id, f.account_id, m.uid, m.modseq, m.flags, m.keywords,"
                        " m.message_id, f.path, f.uidvalidity"
                        " FROM message m JOIN folder f ON f.id = m.folder_id WHERE m.id = ?",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc == SQLITE_ROW)
    {
      row->id = id;
      row->folder_id = sqlite3_column_int64 (stmt, 0);
      row->account_id = sqlite3_column_int64 (stmt, 1);
      row->uid = sqlite3_column_int64 (stmt, 2);
      row->modseq = (guint64) MAX (sqlite3_column_int64 (stmt, 3), 0);
      row->flags = (TdFlags) sqlite3_column_int (stmt, 4) & TD_FLAGS_STORED;
      row->keywords = g_strdup (td_db_column_text (stmt, 5));
      row->message_id = g_strdup (td_db_column_text (stmt, 6));
      row->folder_path = g_strdup (td_db_column_text (stmt, 7));
      row->uidvalidity = (guint32) sqlite3_column_int64 (stmt, 8);
    }
  td_db_stmt_release (stmt);
  return rc == SQLITE_ROW;
}

typedef struct
{
  gint64  id;
  gint64  account_id;
  char   *path;
  char    delimiter;
} FolderRow;

static void
folder_row_clear (FolderRow *row)
{
  g_free (row->path);
  memset (row, 0, sizeof *row);
}

static gboolean
read_folder (TdStore    *self,
             gint64      id,
             FolderRow  *row,
             GError    **error)
{
  TdDbStmt *stmt;
  int rc;

  stmt = td_db_prepare (self->wdb, "SELECT account_id, path, delimiter FROM folder WHERE id = ?",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc == SQLITE_ROW)
    {
      row->id = id;
      row->account_id = sqlite3_column_int64 (stmt, 0);
      row->path = g_strdup (td_db_column_text (stmt, 1));
      row->delimiter = (char) sqlite3_column_int (stmt, 2);
    }
  td_db_stmt_release (stmt);
  if (rc == SQLITE_DONE && error != NULL && *error == NULL)
    g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, _("There is no such folder."));
  return rc == SQLITE_ROW;
}

typedef struct
{
  TdJournalKind  kind;
  gint64         account_id;
  const Row     *row;          /* message entries */
  const char    *folder_path;  /* folder entries */
  TdFlags        add;
  TdFlags        remove;
  const char    *keywords_add;
  const char    *keywords_remove;
  const char    *target_path;
  gint64         target_message_id;
} NewEntry;

/* TRUE for a POP3 account: its folders and flags are local, there is nothing to replay. */
static int
account_is_local (TdStore  *self,
                  gint64    account_id,
                  GError  **error)
{
  TdDbStmt *stmt = td_db_prepare (self->wdb, "SELECT kind = 'pop3' FROM account WHERE id = ?",
                                  error);
  int local = 0;
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, account_id);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc == SQLITE_ROW)
    local = sqlite3_column_int (stmt, 0);
  td_db_stmt_release (stmt);
  return rc < 0 ? -1 : local;
}

/* Writes the entry; for a POP3 account nothing (the change is local only, and a deletion
 * for good is recorded in its UIDL table by the store's trigger, td-store-pop3.h). */
static gboolean
journal_add (TdStore         *self,
             const NewEntry  *e,
             GError         **error)
{
  TdDbStmt *stmt;
  int local = account_is_local (self, e->account_id, error);

  if (local < 0)
    return FALSE;
  if (local)
    return TRUE;

  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO journal (account_id, kind, message_id, message_id_header,"
                        " folder_path, uidvalidity, uid, modseq, flags_base, flags_add,"
                        " flags_remove, keywords_add, keywords_remove, target_path,"
                        " target_message_id, created)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                        " ?15, ?16)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, e->account_id);
  sqlite3_bind_text (stmt, 2, kind_names[e->kind], -1, SQLITE_STATIC);
  if (e->row != NULL)
    {
      sqlite3_bind_int64 (stmt, 3, e->row->id);
      td_db_bind_text (stmt, 4, e->row->message_id);
      td_db_bind_text (stmt, 5, e->row->folder_path);
      sqlite3_bind_int64 (stmt, 6, e->row->uidvalidity);
      sqlite3_bind_int64 (stmt, 7, MAX (e->row->uid, 0));
      sqlite3_bind_int64 (stmt, 8, (sqlite3_int64) MIN (e->row->modseq, G_MAXINT64));
      sqlite3_bind_int (stmt, 9, e->row->flags);
    }
  else
    {
      td_db_bind_text (stmt, 5, e->folder_path);
      for (int column = 6; column <= 9; column++)
        sqlite3_bind_int (stmt, column, 0);
    }
  sqlite3_bind_int (stmt, 10, e->add);
  sqlite3_bind_int (stmt, 11, e->remove);
  td_db_bind_text (stmt, 12, e->keywords_add);
  td_db_bind_text (stmt, 13, e->keywords_remove);
  td_db_bind_text (stmt, 14, e->target_path);
  if (e->target_message_id > 0)
    sqlite3_bind_int64 (stmt, 15, e->target_message_id);
  sqlite3_bind_int64 (stmt, 16, g_get_real_time () / G_USEC_PER_SEC);
  return td_db_run (self->wdb, stmt, error);
}

/* --- Flags --- */

/* @keywords with @add added and @remove taken away (space-separated, case-insensitive). */
static char *
edit_keywords (const char *keywords,
               const char *add,
               const char *remove)
{
  g_auto(GStrv) words = g_strsplit (keywords != NULL ? keywords : "", " ", -1);
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean have_add = FALSE;

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0' || (remove != NULL && g_ascii_strcasecmp (words[i], remove) == 0))
        continue;
      if (add != NULL && g_ascii_strcasecmp (words[i], add) == 0)
        have_add = TRUE;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, words[i]);
    }
  if (add != NULL && !have_add)
    {
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, add);
    }
  return out->len > 0 ? g_strdup (out->str) : NULL;
}

static gboolean
change_flags_job (TdStore  *self,
                  Job      *job,
                  GError  **error)
{
  ActionData *d = job->data;

  for (guint i = 0; i < d->ids->len; i++)
    {
      Row row = { 0 };
      g_autofree char *keywords = NULL;
      TdFlags flags;
      TdDbStmt *stmt;
      NewEntry e = { 0 };
      gboolean ok;

      if (!read_row (self, g_array_index (d->ids, gint64, i), &row, error))
        {
          if (error != NULL && *error != NULL)
            return FALSE;
          continue;
        }
      flags = (row.flags | d->add) & ~d->remove;
      keywords = edit_keywords (row.keywords, d->text, d->text2);
      if (flags == row.flags && g_strcmp0 (keywords, row.keywords) == 0)
        {
          row_clear (&row);
          continue;
        }
      stmt = td_db_prepare (self->wdb, "UPDATE message SET flags = ?2, keywords = ?3 WHERE id = ?1",
                            error);
      ok = stmt != NULL;
      if (ok)
        {
          sqlite3_bind_int64 (stmt, 1, row.id);
          sqlite3_bind_int (stmt, 2, flags);
          td_db_bind_text (stmt, 3, keywords);
          ok = td_db_run (self->wdb, stmt, error);
        }
      if (ok)
        {
          e.kind = TD_JOURNAL_FLAGS;
          e.account_id = row.account_id;
          e.row = &row;
          e.add = d->add;
          e.remove = d->remove;
          e.keywords_add = d->text;
          e.keywords_remove = d->text2;
          ok = journal_add (self, &e, error);
        }
      if (ok)
        _td_store_int64_array_add_unique (job->changes->folder_ids, row.folder_id);
      row_clear (&row);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

void
td_store_change_flags_async (TdStore             *self,
                             GArray              *message_ids,
                             TdFlags              add,
                             TdFlags              remove,
                             const char          *keyword_add,
                             const char          *keyword_remove,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (message_ids != NULL);
  g_return_if_fail (g_array_get_element_size (message_ids) == sizeof (gint64));

  d = action_data_new (message_ids);
  d->add = add & TD_FLAGS_STORED;
  d->remove = remove & TD_FLAGS_STORED;
  d->text = keyword_add != NULL && *keyword_add != '\0' ? g_strdup (keyword_add) : NULL;
  d->text2 = keyword_remove != NULL && *keyword_remove != '\0' ? g_strdup (keyword_remove) : NULL;
  queue (self, change_flags_job, d, td_store_change_flags_async, cancellable, callback,
         user_data);
}

gboolean
td_store_change_flags_finish (TdStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return finish_boolean (self, result, error);
}

/* --- Moves and copies --- */

static gboolean
set_placeholder_uid (TdStore  *self,
                     gint64    id,
                     gint64    folder_id,
                     GError  **error)
{
  TdDbStmt *stmt = td_db_prepare (self->wdb,
                                  "UPDATE message SET folder_id = ?2, uid = -?1 WHERE id = ?1",
                                  error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, folder_id);
  return td_db_run (self->wdb, stmt, error);
}

/* A local folder (POP3): the row goes to @folder_id with the next free uid there. */
static gboolean
set_local_uid (TdStore  *self,
               gint64    id,
               gint64    folder_id,
               GError  **error)
{
  gint64 uid = _td_store_next_local_uid (self, folder_id, error);
  TdDbStmt *stmt;

  if (uid == 0)
    return FALSE;
  stmt = td_db_prepare (self->wdb, "UPDATE message SET folder_id = ?2, uid = ?3 WHERE id = ?1",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, folder_id);
  sqlite3_bind_int64 (stmt, 3, uid);
  return td_db_run (self->wdb, stmt, error);
}

/* A copy of the row (with its body and its full-text entry) into @folder_id; its id. In a
 * local folder (@local) it gets a real uid and is one more local row of its server message. */
static gint64
copy_row (TdStore   *self,
          gint64     id,
          gint64     folder_id,
          gboolean   local,
          GError   **error)
{
  sqlite3 *db = td_db_get_handle (self->wdb);
  TdDbStmt *stmt;
  gint64 copy;

  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO message (folder_id, uid, message_id, in_reply_to, refs, date,"
                        " from_name, from_address, to_list, cc_list, subject, size, flags,"
                        " keywords, preview, has_attachment, has_body, modseq)"
                        " SELECT ?2, 0, message_id, in_reply_to, refs, date, from_name,"
                        " from_address, to_list, cc_list, subject, size, flags, keywords, preview,"
                        " has_attachment, has_body, 0 FROM message WHERE id = ?1", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, folder_id);
  if (!td_db_run (self->wdb, stmt, error))
    return 0;
  copy = sqlite3_last_insert_rowid (db);
  if (local ? !set_local_uid (self, copy, folder_id, error) ||
              !_td_store_pop3_add_copy (self, id, copy, error)
            : !set_placeholder_uid (self, copy, folder_id, error))
    return 0;

  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO body (message_id, raw) SELECT ?2, raw FROM body"
                        " WHERE message_id = ?1", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, copy);
  if (!td_db_run (self->wdb, stmt, error))
    return 0;
  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO message_fts (rowid, subject, addresses, body)"
                        " SELECT ?2, subject, addresses, body FROM message_fts WHERE rowid = ?1",
                        error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, copy);
  if (!td_db_run (self->wdb, stmt, error))
    return 0;
  return copy;
}

static gboolean
move_messages_job (TdStore  *self,
                   Job      *job,
                   GError  **error)
{
  ActionData *d = job->data;
  FolderRow target = { 0 };
  gboolean ok = TRUE;
  int local;

  if (!read_folder (self, d->target, &target, error))
    return FALSE;
  if ((local = account_is_local (self, target.account_id, error)) < 0)
    {
      folder_row_clear (&target);
      return FALSE;
    }

  for (guint i = 0; ok && i < d->ids->len; i++)
    {
      Row row = { 0 };
      NewEntry e = { 0 };

      if (!read_row (self, g_array_index (d->ids, gint64, i), &row, error))
        {
          ok = error == NULL || *error == NULL;
          continue;
        }
      if (row.account_id != target.account_id)
        {
          g_set_error (error, TD_ERROR, TD_ERROR_INVALID,
                       _("Messages can only be moved to folders of their own account."));
          ok = FALSE;
        }
      else if (row.folder_id == target.id && !d->flag)
        ;                               /* already there */
      else if (d->flag)
        {
          gint64 copy = copy_row (self, row.id, target.id, local, error);

          e.kind = TD_JOURNAL_COPY;
          e.account_id = row.account_id;
          e.row = &row;
          e.target_path = target.path;
          e.target_message_id = copy;
          ok = copy > 0 && journal_add (self, &e, error);
        }
      else if (local)
        ok = set_local_uid (self, row.id, target.id, error);   /* nothing waits for a server */
      else if (row.uid < 0)
        {
          /* moved here offline and not sent yet: the pending move or copy goes further */
          TdDbStmt *stmt = td_db_prepare (self->wdb,
                                          "UPDATE journal SET target_path = ?2"
                                          " WHERE target_message_id = ?1", error);

          ok = stmt != NULL;
          if (ok)
            {
              sqlite3_bind_int64 (stmt, 1, row.id);
              sqlite3_bind_text (stmt, 2, target.path, -1, SQLITE_TRANSIENT);
              ok = td_db_run (self->wdb, stmt, error) &&
                   set_placeholder_uid (self, row.id, target.id, error);
            }
        }
      else
        {
          e.kind = TD_JOURNAL_MOVE;
          e.account_id = row.account_id;
          e.row = &row;
          e.target_path = target.path;
          e.target_message_id = row.id;
          ok = journal_add (self, &e, error) &&
               set_placeholder_uid (self, row.id, target.id, error);
        }
      if (ok && (row.folder_id != target.id || d->flag))
        {
          _td_store_int64_array_add_unique (job->changes->folder_ids, row.folder_id);
          _td_store_int64_array_add_unique (job->changes->folder_ids, target.id);
        }
      row_clear (&row);
    }
  folder_row_clear (&target);
  return ok;
}

void
td_store_move_messages_async (TdStore             *self,
                              GArray              *message_ids,
                              gint64               target_folder_id,
                              gboolean             copy,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (message_ids != NULL);

  d = action_data_new (message_ids);
  d->target = target_folder_id;
  d->flag = copy;
  queue (self, move_messages_job, d, td_store_move_messages_async, cancellable, callback,
         user_data);
}

gboolean
td_store_move_messages_finish (TdStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return finish_boolean (self, result, error);
}

/* --- Expunges --- */

static gboolean
expunge_row (TdStore  *self,
             Job      *job,
             gint64    id,
             GError  **error)
{
  Row row = { 0 };
  TdDbStmt *stmt;
  gboolean ok;

  if (!read_row (self, id, &row, error))
    return error == NULL || *error == NULL;

  if (row.uid > 0)
    {
      NewEntry e = { .kind = TD_JOURNAL_EXPUNGE, .account_id = row.account_id, .row = &row };

      ok = journal_add (self, &e, error);
    }
  else
    {
      /* a placeholder: a pending copy simply does not happen; a pending move becomes an
       * expunge of the original, which is still where it was on the server */
      stmt = td_db_prepare (self->wdb,
                            "DELETE FROM journal WHERE target_message_id = ?1 AND kind = 'copy'",
                            error);
      ok = stmt != NULL;
      if (ok)
        {
          sqlite3_bind_int64 (stmt, 1, row.id);
          ok = td_db_run (self->wdb, stmt, error);
        }
      stmt = ok ? td_db_prepare (self->wdb,
                                 "UPDATE journal SET kind = 'expunge', target_path = NULL,"
                                 " target_message_id = NULL"
                                 " WHERE target_message_id = ?1 AND kind = 'move'", error)
                : NULL;
      ok = ok && stmt != NULL;
      if (ok)
        {
          sqlite3_bind_int64 (stmt, 1, row.id);
          ok = td_db_run (self->wdb, stmt, error);
        }
    }

  stmt = ok ? td_db_prepare (self->wdb, "DELETE FROM message WHERE id = ?", error) : NULL;
  ok = ok && stmt != NULL;
  if (ok)
    {
      sqlite3_bind_int64 (stmt, 1, row.id);
      ok = td_db_run (self->wdb, stmt, error);
    }
  if (ok)
    _td_store_int64_array_add_unique (job->changes->folder_ids, row.folder_id);
  row_clear (&row);
  return ok;
}

static gboolean
expunge_messages_job (TdStore  *self,
                      Job      *job,
                      GError  **error)
{
  ActionData *d = job->data;

  for (guint i = 0; i < d->ids->len; i++)
    if (!expunge_row (self, job, g_array_index (d->ids, gint64, i), error))
      return FALSE;
  return TRUE;
}

void
td_store_expunge_messages_async (TdStore             *self,
                                 GArray              *message_ids,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (message_ids != NULL);

  queue (self, expunge_messages_job, action_data_new (message_ids),
         td_store_expunge_messages_async, cancellable, callback, user_data);
}

gboolean
td_store_expunge_messages_finish (TdStore       *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return finish_boolean (self, result, error);
}

static gboolean
expunge_folder_job (TdStore  *self,
                    Job      *job,
                    GError  **error)
{
  ActionData *d = job->data;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  TdDbStmt *stmt;
  int rc;

  stmt = td_db_prepare (self->wdb, "SELECT id FROM message WHERE folder_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }
  td_db_stmt_release (stmt);
  if (rc < 0)
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    if (!expunge_row (self, job, g_array_index (ids, gint64, i), error))
      return FALSE;
  return TRUE;
}

void
td_store_expunge_folder_async (TdStore             *self,
                               gint64               folder_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = action_data_new (NULL);
  d->id = folder_id;
  queue (self, expunge_folder_job, d, td_store_expunge_folder_async, cancellable, callback,
         user_data);
}

gboolean
td_store_expunge_folder_finish (TdStore       *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return finish_boolean (self, result, error);
}

/* --- Folders --- */

static gint64
find_folder_id (TdStore     *self,
                gint64       account_id,
                const char  *path,
                GError     **error)
{
  TdDbStmt *stmt;
  gint64 id = 0;
  int rc;

  stmt = td_db_prepare (self->wdb, "SELECT id FROM folder WHERE account_id = ? AND path = ?",
                        error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, account_id);
  td_db_bind_text (stmt, 2, path);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  td_db_stmt_release (stmt);
  return rc < 0 ? -1 : id;
}

static gboolean
insert_folder (TdStore     *self,
               gint64       account_id,
               const char  *path,
               char         delimiter,
               gboolean     selectable,
               GError     **error)
{
  TdDbStmt *stmt = td_db_prepare (self->wdb,
                                  "INSERT INTO folder (account_id, path, delimiter, selectable)"
                                  " VALUES (?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  td_db_bind_text (stmt, 2, path);
  sqlite3_bind_int (stmt, 3, (guchar) delimiter);
  sqlite3_bind_int (stmt, 4, selectable);
  return td_db_run (self->wdb, stmt, error);
}

static gboolean
create_folder_job (TdStore  *self,
                   Job      *job,
                   GError  **error)
{
  ActionData *d = job->data;
  NewEntry e = { .kind = TD_JOURNAL_CREATE, .account_id = d->id, .folder_path = d->text };
  gint64 existing, *result;

  existing = find_folder_id (self, d->id, d->text, error);
  if (existing < 0)
    return FALSE;
  if (existing > 0)
    {
      g_set_error (error, TD_ERROR, TD_ERROR_EXISTS, _("There is a folder “%s” already."),
                   d->text);
      return FALSE;
    }
  /* the parents a server creates with it, as containers until the next listing */
  if (d->delimiter != '\0')
    for (const char *p = strchr (d->text, d->delimiter); p != NULL;
         p = strchr (p + 1, d->delimiter))
      {
        g_autofree char *parent = g_strndup (d->text, (gsize) (p - d->text));

        if (*parent == '\0')
          continue;
        existing = find_folder_id (self, d->id, parent, error);
        if (existing < 0 ||
            (existing == 0 && !insert_folder (self, d->id, parent, d->delimiter, FALSE, error)))
          return FALSE;
      }
  if (!insert_folder (self, d->id, d->text, d->delimiter, TRUE, error) ||
      !journal_add (self, &e, error))
    return FALSE;

  result = g_new (gint64, 1);
  *result = find_folder_id (self, d->id, d->text, error);
  job->result = result;
  job->result_free = g_free;
  _td_store_int64_array_add_unique (job->changes->account_ids, d->id);
  return *result > 0;
}

void
td_store_create_folder_async (TdStore             *self,
                              gint64               account_id,
                              const char          *path,
                              char                 delimiter,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (path != NULL && *path != '\0');

  d = action_data_new (NULL);
  d->id = account_id;
  d->text = g_strdup (path);
  d->delimiter = delimiter;
  queue (self, create_folder_job, d, td_store_create_folder_async, cancellable, callback,
         user_data);
}

gint64
td_store_create_folder_finish (TdStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_autofree gint64 *id = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);

  id = g_task_propagate_pointer (G_TASK (result), error);
  return id != NULL ? *id : 0;
}

static gboolean
rename_folder_job (TdStore  *self,
                   Job      *job,
                   GError  **error)
{
  ActionData *d = job->data;
  FolderRow folder = { 0 };
  g_autofree char *prefix = NULL;
  TdDbStmt *stmt;
  gint64 existing;
  gboolean ok;
  NewEntry e = { .kind = TD_JOURNAL_RENAME };

  if (!read_folder (self, d->id, &folder, error))
    return FALSE;
  existing = find_folder_id (self, folder.account_id, d->text, error);
  if (existing != 0)
    {
      if (existing > 0)
        g_set_error (error, TD_ERROR, TD_ERROR_EXISTS, _("There is a folder “%s” already."),
                     d->text);
      folder_row_clear (&folder);
      return FALSE;
    }

  e.account_id = folder.account_id;
  e.folder_path = folder.path;
  e.target_path = d->text;
  ok = journal_add (self, &e, error);

  stmt = ok ? td_db_prepare (self->wdb, "UPDATE folder SET path = ?2 WHERE id = ?1", error) : NULL;
  ok = ok && stmt != NULL;
  if (ok)
    {
      sqlite3_bind_int64 (stmt, 1, folder.id);
      td_db_bind_text (stmt, 2, d->text);
      ok = td_db_run (self->wdb, stmt, error);
    }
  /* the children move with it */
  if (ok && folder.delimiter != '\0')
    {
      prefix = g_strdup_printf ("%s%c", folder.path, folder.delimiter);
      stmt = td_db_prepare (self->wdb,
                            "UPDATE folder SET path = ?3 || substr (path, length (?2) + 1)"
                            " WHERE account_id = ?1 AND substr (path, 1, length (?2)) = ?2",
                            error);
      ok = stmt != NULL;
      if (ok)
        {
          g_autofree char *new_prefix = g_strdup_printf ("%s%c", d->text, folder.delimiter);

          sqlite3_bind_int64 (stmt, 1, folder.account_id);
          td_db_bind_text (stmt, 2, prefix);
          td_db_bind_text (stmt, 3, new_prefix);
          ok = td_db_run (self->wdb, stmt, error);
        }
    }
  if (ok)
    _td_store_int64_array_add_unique (job->changes->account_ids, folder.account_id);
  folder_row_clear (&folder);
  return ok;
}

void
td_store_rename_folder_async (TdStore             *self,
                              gint64               folder_id,
                              const char          *new_path,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (new_path != NULL && *new_path != '\0');

  d = action_data_new (NULL);
  d->id = folder_id;
  d->text = g_strdup (new_path);
  queue (self, rename_folder_job, d, td_store_rename_folder_async, cancellable, callback,
         user_data);
}

gboolean
td_store_rename_folder_finish (TdStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return finish_boolean (self, result, error);
}

static gboolean
delete_folder_job (TdStore  *self,
                   Job      *job,
                   GError  **error)
{
  ActionData *d = job->data;
  FolderRow folder = { 0 };
  g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *prefix = NULL;
  TdDbStmt *stmt;
  gboolean ok = TRUE;
  int rc;

  if (!read_folder (self, d->id, &folder, error))
    return FALSE;

  /* children first, deepest first: servers refuse to delete a folder that has some */
  if (folder.delimiter != '\0')
    {
      prefix = g_strdup_printf ("%s%c", folder.path, folder.delimiter);
      stmt = td_db_prepare (self->wdb,
                            "SELECT path FROM folder WHERE account_id = ?1"
                            " AND substr (path, 1, length (?2)) = ?2 ORDER BY length (path) DESC",
                            error);
      ok = stmt != NULL;
      if (ok)
        {
          sqlite3_bind_int64 (stmt, 1, folder.account_id);
          td_db_bind_text (stmt, 2, prefix);
          while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
            g_ptr_array_add (children, g_strdup (td_db_column_text (stmt, 0)));
          td_db_stmt_release (stmt);
          ok = rc >= 0;
        }
    }
  g_ptr_array_add (children, g_strdup (folder.path));

  for (guint i = 0; ok && i < children->len; i++)
    {
      NewEntry e = { .kind = TD_JOURNAL_DELETE, .account_id = folder.account_id,
                     .folder_path = g_ptr_array_index (children, i) };

      ok = journal_add (self, &e, error);
      stmt = ok ? td_db_prepare (self->wdb,
                                 "DELETE FROM folder WHERE account_id = ? AND path = ?", error)
                : NULL;
      ok = ok && stmt != NULL;
      if (ok)
        {
          sqlite3_bind_int64 (stmt, 1, folder.account_id);
          td_db_bind_text (stmt, 2, g_ptr_array_index (children, i));
          ok = td_db_run (self->wdb, stmt, error);
        }
    }
  if (ok)
    {
      _td_store_int64_array_add_unique (job->changes->account_ids, folder.account_id);
      _td_store_int64_array_add_unique (job->changes->folder_ids, folder.id);
    }
  folder_row_clear (&folder);
  return ok;
}

void
td_store_delete_folder_async (TdStore             *self,
                              gint64               folder_id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = action_data_new (NULL);
  d->id = folder_id;
  queue (self, delete_folder_job, d, td_store_delete_folder_async, cancellable, callback,
         user_data);
}

gboolean
td_store_delete_folder_finish (TdStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return finish_boolean (self, result, error);
}

static gboolean
subscribe_folder_job (TdStore  *self,
                      Job      *job,
                      GError  **error)
{
  ActionData *d = job->data;
  FolderRow folder = { 0 };
  NewEntry e = { 0 };
  TdDbStmt *stmt;
  gboolean ok;

  if (!read_folder (self, d->id, &folder, error))
    return FALSE;
  stmt = td_db_prepare (self->wdb, "UPDATE folder SET subscribed = ?2 WHERE id = ?1", error);
  ok = stmt != NULL;
  if (ok)
    {
      sqlite3_bind_int64 (stmt, 1, folder.id);
      sqlite3_bind_int (stmt, 2, d->flag);
      ok = td_db_run (self->wdb, stmt, error);
    }
  e.kind = d->flag ? TD_JOURNAL_SUBSCRIBE : TD_JOURNAL_UNSUBSCRIBE;
  e.account_id = folder.account_id;
  e.folder_path = folder.path;
  ok = ok && journal_add (self, &e, error);
  if (ok)
    _td_store_int64_array_add_unique (job->changes->account_ids, folder.account_id);
  folder_row_clear (&folder);
  return ok;
}

void
td_store_subscribe_folder_async (TdStore             *self,
                                 gint64               folder_id,
                                 gboolean             subscribe,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = action_data_new (NULL);
  d->id = folder_id;
  d->flag = subscribe;
  queue (self, subscribe_folder_job, d, td_store_subscribe_folder_async, cancellable, callback,
         user_data);
}

gboolean
td_store_subscribe_folder_finish (TdStore       *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return finish_boolean (self, result, error);
}

/* --- The replayer's side --- */

static TdJournalKind
kind_from_string (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (kind_names[i], name) == 0)
      return (TdJournalKind) i;
  return TD_JOURNAL_FLAGS;
}

static gboolean
list_journal_job (TdStore  *self,
                  Job      *job,
                  GError  **error)
{
  ActionData *d = job->data;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (
    (GDestroyNotify) td_journal_entry_free);
  TdDbStmt *stmt;
  int rc;

  stmt = td_db_prepare (self->wdb,
                        "SELECT id, kind, message_id, message_id_header, folder_path, uidvalidity,"
                        " uid, modseq, flags_base, flags_add, flags_remove, keywords_add,"
                        " keywords_remove, target_path, target_message_id"
                        " FROM journal WHERE account_id = ? ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
    {
      TdJournalEntry *entry = g_new0 (TdJournalEntry, 1);

      entry->id = sqlite3_column_int64 (stmt, 0);
      entry->account_id = d->id;
      entry->kind = kind_from_string (td_db_column_text (stmt, 1));
      entry->message_id = sqlite3_column_int64 (stmt, 2);
      entry->message_id_header = g_strdup (td_db_column_text (stmt, 3));
      entry->folder_path = g_strdup (td_db_column_text (stmt, 4));
      entry->uidvalidity = (guint32) sqlite3_column_int64 (stmt, 5);
      entry->uid = (guint32) MAX (sqlite3_column_int64 (stmt, 6), 0);
      entry->modseq = (guint64) MAX (sqlite3_column_int64 (stmt, 7), 0);
      entry->flags_base = (TdFlags) sqlite3_column_int (stmt, 8);
      entry->flags_add = (TdFlags) sqlite3_column_int (stmt, 9);
      entry->flags_remove = (TdFlags) sqlite3_column_int (stmt, 10);
      entry->keywords_add = g_strdup (td_db_column_text (stmt, 11));
      entry->keywords_remove = g_strdup (td_db_column_text (stmt, 12));
      entry->target_path = g_strdup (td_db_column_text (stmt, 13));
      entry->target_message_id = sqlite3_column_int64 (stmt, 14);
      g_ptr_array_add (entries, entry);
    }
  td_db_stmt_release (stmt);
  if (rc < 0)
    return FALSE;
  job->result = g_steal_pointer (&entries);
  job->result_free = (GDestroyNotify) g_ptr_array_unref;
  return TRUE;
}

void
td_store_list_journal_async (TdStore             *self,
                             gint64               account_id,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = action_data_new (NULL);
  d->id = account_id;
  _td_store_queue_job (self, _td_store_job_new (self, JOB_READ, list_journal_job, d,
                                                (GDestroyNotify) action_data_free,
                                                td_store_list_journal_async, cancellable,
                                                callback, user_data));
}

GPtrArray *
td_store_list_journal_finish (TdStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
td_store_count_journal (TdStore *self,
                        gint64   account_id)
{
  g_autoptr(GError) error = NULL;
  TdDb *db;
  TdDbStmt *stmt;
  guint count = 0;

  g_return_val_if_fail (TD_IS_STORE (self), 0);

  if ((db = _td_store_read_begin (self, &error)) == NULL)
    return 0;
  stmt = td_db_prepare (db, "SELECT count(*) FROM journal WHERE account_id = ?", &error);
  if (stmt != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, account_id);
      if (td_db_step (db, stmt, &error) == SQLITE_ROW)
        count = (guint) sqlite3_column_int64 (stmt, 0);
      td_db_stmt_release (stmt);
    }
  _td_store_read_end (self);
  if (error != NULL)
    g_warning ("Could not count the journal: %s", error->message);
  return count;
}

static gboolean
journal_done_job (TdStore  *self,
                  Job      *job,
                  GError  **error)
{
  ActionData *d = job->data;

  for (guint i = 0; i < d->ids->len; i++)
    {
      TdDbStmt *stmt = td_db_prepare (self->wdb, "DELETE FROM journal WHERE id = ?", error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, g_array_index (d->ids, gint64, i));
      if (!td_db_run (self->wdb, stmt, error))
        return FALSE;
    }
  return TRUE;
}

void
td_store_journal_done_async (TdStore             *self,
                             GArray              *entry_ids,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (entry_ids != NULL);

  queue (self, journal_done_job, action_data_new (entry_ids), td_store_journal_done_async,
         cancellable, callback, user_data);
}

gboolean
td_store_journal_done_finish (TdStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return finish_boolean (self, result, error);
}

static gboolean
journal_moved_job (TdStore  *self,
                   Job      *job,
                   GError  **error)
{
  ActionData *d = job->data;
  TdDbStmt *stmt;
  gint64 placeholder = 0, folder_id = 0;
  gboolean taken = FALSE;
  int rc;

  stmt = td_db_prepare (self->wdb,
                        "SELECT j.target_message_id, m.folder_id FROM journal j"
                        " JOIN message m ON m.id = j.target_message_id AND m.uid < 0"
                        " WHERE j.id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  rc = td_db_step (self->wdb, stmt, error);
  if (rc == SQLITE_ROW)
    {
      placeholder = sqlite3_column_int64 (stmt, 0);
      folder_id = sqlite3_column_int64 (stmt, 1);
    }
  td_db_stmt_release (stmt);
  if (rc < 0)
    return FALSE;

  if (placeholder > 0 && d->uid > 0)
    {
      /* unless a sync of the target brought the message with that uid already */
      stmt = td_db_prepare (self->wdb, "SELECT 1 FROM message WHERE folder_id = ? AND uid = ?",
                            error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, folder_id);
      sqlite3_bind_int64 (stmt, 2, d->uid);
      rc = td_db_step (self->wdb, stmt, error);
      td_db_stmt_release (stmt);
      if (rc < 0)
        return FALSE;
      if (rc == SQLITE_DONE)
        {
          stmt = td_db_prepare (self->wdb, "UPDATE message SET uid = ?2 WHERE id = ?1", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_int64 (stmt, 1, placeholder);
          sqlite3_bind_int64 (stmt, 2, d->uid);
          if (!td_db_run (self->wdb, stmt, error))
            return FALSE;
          taken = TRUE;
        }
    }
  if (placeholder > 0 && !taken)
    {
      stmt = td_db_prepare (self->wdb, "DELETE FROM message WHERE id = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, placeholder);
      if (!td_db_run (self->wdb, stmt, error))
        return FALSE;
    }
  if (placeholder > 0)
    _td_store_int64_array_add_unique (job->changes->folder_ids, folder_id);

  stmt = td_db_prepare (self->wdb, "DELETE FROM journal WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  return td_db_run (self->wdb, stmt, error);
}

void
td_store_journal_moved_async (TdStore             *self,
                              gint64               entry_id,
                              guint32              uid,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = action_data_new (NULL);
  d->id = entry_id;
  d->uid = uid;
  queue (self, journal_moved_job, d, td_store_journal_moved_async, cancellable, callback,
         user_data);
}

gboolean
td_store_journal_moved_finish (TdStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return finish_boolean (self, result, error);
}

static gboolean
set_folder_local_flags_job (TdStore  *self,
                            Job      *job,
                            GError  **error)
{
  ActionData *d = job->data;
  TdDbStmt *stmt = td_db_prepare (self->wdb, "UPDATE folder SET local_flags = ?2 WHERE id = ?1",
                                  error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  sqlite3_bind_int (stmt, 2, d->add & (TD_FLAGS_STORED | TD_FLAG_KEYWORDS));
  return td_db_run (self->wdb, stmt, error);
}

void
td_store_set_folder_local_flags_async (TdStore             *self,
                                       gint64               folder_id,
                                       TdFlags              flags,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = action_data_new (NULL);
  d->id = folder_id;
  d->add = flags;
  queue (self, set_folder_local_flags_job, d, td_store_set_folder_local_flags_async,
         cancellable, callback, user_data);
}

gboolean
td_store_set_folder_local_flags_finish (TdStore       *self,
                                        GAsyncResult  *result,
                                        GError       **error)
{
  return finish_boolean (self, result, error);
}

static gboolean
set_account_quota_job (TdStore  *self,
                       Job      *job,
                       GError  **error)
{
  ActionData *d = job->data;
  TdDbStmt *stmt = td_db_prepare (self->wdb,
                                  "UPDATE account SET quota_usage = ?2, quota_limit = ?3"
                                  " WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->id);
  sqlite3_bind_int64 (stmt, 2, d->target);
  sqlite3_bind_int64 (stmt, 3, g_array_index (d->ids, gint64, 0));
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;
  job->changes->accounts = TRUE;
  return TRUE;
}

void
td_store_set_account_quota_async (TdStore             *self,
                                  gint64               account_id,
                                  gint64               usage_kib,
                                  gint64               limit_kib,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  ActionData *d;

  g_return_if_fail (TD_IS_STORE (self));

  d = action_data_new (NULL);
  d->id = account_id;
  d->target = usage_kib;
  g_array_append_val (d->ids, limit_kib);
  queue (self, set_account_quota_job, d, td_store_set_account_quota_async, cancellable,
         callback, user_data);
}

gboolean
td_store_set_account_quota_finish (TdStore       *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return finish_boolean (self, result, error);
}
