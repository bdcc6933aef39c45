/* td-store-folders.c: the folders of the store's accounts and their sync state
 *
 * td_store_sync_folders_async() makes an account's folder rows what the server lists, except
 * for changes made here and not yet replayed (the journal) and for renames made elsewhere,
 * which the rows follow. The list and single reads are bounded and run on the read
 * connection of the opener's thread.
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

TdFolderSpec *
td_folder_spec_new (const char   *path,
                    char          delimiter,
                    TdFolderRole  role,
                    gboolean      selectable)
{
  TdFolderSpec *spec;

  g_return_val_if_fail (path != NULL, NULL);

  spec = g_new0 (TdFolderSpec, 1);
  spec->path = g_strdup (path);
  spec->delimiter = delimiter;
  spec->role = role;
  spec->selectable = selectable;
  return spec;
}

void
td_folder_spec_free (TdFolderSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->path);
  g_free (spec);
}

typedef struct
{
  gint64     account_id;
  GPtrArray *specs;   /* TdFolderSpec* (copies) */
} SyncFoldersData;

static void
sync_folders_data_free (gpointer data)
{
  SyncFoldersData *d = data;

  g_ptr_array_unref (d->specs);
  g_free (d);
}

typedef struct
{
  gint64        id;
  char          delimiter;
  TdFolderRole  role;
  gboolean      selectable;
  gboolean      listed;
  guint32       uidvalidity;
} KnownFolder;

/* A folder change made here and not yet replayed wins over what the server lists: a folder
 * created or renamed here is not dropped for being missing there, and the old name of a
 * rename or a folder deleted here is not brought back. @keep and @drop get the paths; a path
 * ending in the delimiter covers what is under it. @made gets those of @keep that the server
 * cannot have yet (created, or a rename's new name), not those kept for changes to their
 * messages. */
static gboolean
pending_folder_changes (TdStore     *self,
                        gint64       account_id,
                        GHashTable  *keep,
                        GHashTable  *made,
                        GHashTable  *drop,
                        GError     **error)
{
  TdDbStmt *stmt;
  int rc;

  stmt = td_db_prepare (self->wdb,
                        "SELECT j.kind, j.folder_path, j.target_path, f.delimiter FROM journal j"
                        " LEFT JOIN folder f ON f.account_id = j.account_id"
                        " AND f.path = coalesce (j.target_path, j.folder_path)"
                        " WHERE j.account_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
    {
      const char *kind = td_db_column_text (stmt, 0);
      const char *path = td_db_column_text (stmt, 1);
      const char *target = td_db_column_text (stmt, 2);
      char delimiter = (char) sqlite3_column_int (stmt, 3);

      if (g_strcmp0 (kind, "delete") == 0)
        {
          if (path != NULL)
            g_hash_table_add (drop, g_strdup (path));
          continue;
        }
      if (g_strcmp0 (kind, "rename") == 0 && path != NULL && target != NULL)
        {
          g_hash_table_add (drop, g_strdup (path));
          g_hash_table_add (keep, g_strdup (target));
          g_hash_table_add (made, g_strdup (target));
          if (delimiter != '\0')
            {
              g_hash_table_add (drop, g_strdup_printf ("%s%c", path, delimiter));
              g_hash_table_add (keep, g_strdup_printf ("%s%c", target, delimiter));
              g_hash_table_add (made, g_strdup_printf ("%s%c", target, delimiter));
            }
          continue;
        }
      if (g_strcmp0 (kind, "create") == 0 && path != NULL)
        g_hash_table_add (made, g_strdup (path));
      /* create, and any message change waiting for its folder */
      if (path != NULL)
        g_hash_table_add (keep, g_strdup (path));
      if (target != NULL)
        g_hash_table_add (keep, g_strdup (target));
    }
  td_db_stmt_release (stmt);
  return rc >= 0;
}

static gboolean
path_pending_in (GHashTable *set,
                 const char *path,
                 char        delimiter)
{
  const char *sep;

  if (g_hash_table_contains (set, path))
    return TRUE;
  if (delimiter == '\0')
    return FALSE;
  /* under a renamed or deleted parent: "A/B/C" is covered by "A/" and "A/B/" */
  for (sep = strchr (path, delimiter); sep != NULL; sep = strchr (sep + 1, delimiter))
    {
      g_autofree char *prefix = g_strndup (path, (gsize) (sep - path) + 1);

      if (g_hash_table_contains (set, prefix))
        return TRUE;
    }
  return FALSE;
}

/* A folder here that the server no longer lists, and a listed one new here with the same
 * UIDVALIDITY (LIST-STATUS), each the only one with it: another client renamed the folder.
 * Its row takes the new path (with its messages, bodies and sync state, so nothing is
 * downloaded again), and changes waiting in the journal follow it. */
static gboolean
follow_renames (TdStore         *self,
                SyncFoldersData *d,
                GHashTable      *known,
                GHashTable      *made,
                GError         **error)
{
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) fresh = g_hash_table_new (NULL, NULL);    /* uidvalidity -> spec */
  g_autoptr(GHashTable) gone = g_hash_table_new (NULL, NULL);     /* uidvalidity -> path */
  g_autoptr(GPtrArray) renames = g_ptr_array_new ();               /* old path, spec, ... */
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < d->specs->len; i++)
    g_hash_table_add (listed, ((TdFolderSpec *) g_ptr_array_index (d->specs, i))->path);

  /* the new ones, and the gone ones, by UIDVALIDITY; a value seen twice on a side is
   * ambiguous (NULL) */
  for (guint i = 0; i < d->specs->len; i++)
    {
      TdFolderSpec *spec = g_ptr_array_index (d->specs, i);
      gpointer v = GUINT_TO_POINTER (spec->uidvalidity);

      if (spec->uidvalidity == 0 || !spec->selectable ||
          g_hash_table_contains (known, spec->path))
        continue;
      g_hash_table_insert (fresh, v, g_hash_table_contains (fresh, v) ? NULL : spec);
    }
  if (g_hash_table_size (fresh) == 0)
    return TRUE;
  g_hash_table_iter_init (&iter, known);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      KnownFolder *folder = value;
      gpointer v = GUINT_TO_POINTER (folder->uidvalidity);

      if (folder->uidvalidity == 0 || !folder->selectable ||
          g_hash_table_contains (listed, key) || path_pending_in (made, key, folder->delimiter))
        continue;
      g_hash_table_insert (gone, v, g_hash_table_contains (gone, v) ? NULL : key);
    }

  g_hash_table_iter_init (&iter, gone);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      TdFolderSpec *spec = g_hash_table_lookup (fresh, key);

      if (value == NULL || spec == NULL)
        continue;
      g_ptr_array_add (renames, value);
      g_ptr_array_add (renames, spec);
    }

  for (guint i = 0; i < renames->len; i += 2)
    {
      const char *old_path = g_ptr_array_index (renames, i);
      TdFolderSpec *spec = g_ptr_array_index (renames, i + 1);
      char *old_key = NULL;
      KnownFolder *folder = NULL;
      TdDbStmt *stmt;

      g_hash_table_steal_extended (known, old_path, (gpointer *) &old_key, (gpointer *) &folder);
      g_debug ("Store: %s was renamed %s on the server", old_key, spec->path);
      stmt = td_db_prepare (self->wdb, "UPDATE folder SET path = ?2 WHERE id = ?1", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, folder->id);
      td_db_bind_text (stmt, 2, spec->path);
      if (!td_db_run (self->wdb, stmt, error))
        goto fail;
      for (guint column = 0; column < 2; column++)
        {
          stmt = td_db_prepare (self->wdb, column == 0
                                ? "UPDATE journal SET folder_path = ?3"
                                  " WHERE account_id = ?1 AND folder_path = ?2"
                                : "UPDATE journal SET target_path = ?3"
                                  " WHERE account_id = ?1 AND target_path = ?2"
                                  " AND kind IN ('move', 'copy')",
                                error);
          if (stmt == NULL)
            goto fail;
          sqlite3_bind_int64 (stmt, 1, d->account_id);
          td_db_bind_text (stmt, 2, old_key);
          td_db_bind_text (stmt, 3, spec->path);
          if (!td_db_run (self->wdb, stmt, error))
            goto fail;
        }
      /* the row now stands for the listed path: the caller updates what else differs */
      g_hash_table_insert (known, g_strdup (spec->path), folder);
      g_free (old_key);
      continue;

    fail:
      g_hash_table_insert (known, old_key, folder);
      return FALSE;
    }
  return TRUE;
}

static gboolean
sync_folders_job (TdStore  *self,
                  Job      *job,
                  GError  **error)
{
  SyncFoldersData *d = job->data;
  g_autoptr(GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) keep = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) drop = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) made = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  const char *path;
  KnownFolder *folder;
  TdDbStmt *stmt;
  gboolean changed = FALSE;
  int rc;

  if (!_td_store_check_account (self->wdb, d->account_id, error))
    return FALSE;
  if (!pending_folder_changes (self, d->account_id, keep, made, drop, error))
    return FALSE;

  stmt = td_db_prepare (self->wdb,
                        "SELECT id, path, delimiter, role, selectable, uidvalidity FROM folder"
                        " WHERE account_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->account_id);
  while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
    {
      folder = g_new0 (KnownFolder, 1);
      folder->id = sqlite3_column_int64 (stmt, 0);
      folder->delimiter = (char) sqlite3_column_int (stmt, 2);
      folder->role = td_folder_role_from_string (td_db_column_text (stmt, 3));
      folder->selectable = sqlite3_column_int (stmt, 4) != 0;
      folder->uidvalidity = (guint32) sqlite3_column_int64 (stmt, 5);
      g_hash_table_insert (known, g_strdup (td_db_column_text (stmt, 1)), folder);
    }
  td_db_stmt_release (stmt);
  if (rc < 0)
    return FALSE;

  if (!follow_renames (self, d, known, made, error))
    return FALSE;

  for (guint i = 0; i < d->specs->len; i++)
    {
      TdFolderSpec *spec = g_ptr_array_index (d->specs, i);

      folder = g_hash_table_lookup (known, spec->path);
      if (folder != NULL && folder->listed)
        continue;   /* listed twice */

      if (folder != NULL)
        {
          folder->listed = TRUE;
          if (folder->delimiter == spec->delimiter && folder->role == spec->role &&
              folder->selectable == !!spec->selectable)
            continue;

          stmt = td_db_prepare (self->wdb,
                                "UPDATE folder SET delimiter = ?2, role = ?3, selectable = ?4"
                                " WHERE id = ?1", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_int64 (stmt, 1, folder->id);
        }
      else
        {
          if (path_pending_in (drop, spec->path, spec->delimiter))
            continue;   /* renamed or deleted here, the server does not know yet */

          folder = g_new0 (KnownFolder, 1);
          folder->listed = TRUE;
          g_hash_table_insert (known, g_strdup (spec->path), folder);

          stmt = td_db_prepare (self->wdb,
                                "INSERT INTO folder (account_id, delimiter, role, selectable, path)"
                                " VALUES (?1, ?2, ?3, ?4, ?5)", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_int64 (stmt, 1, d->account_id);
          td_db_bind_text (stmt, 5, spec->path);
        }
      sqlite3_bind_int (stmt, 2, (guchar) spec->delimiter);
      td_db_bind_text (stmt, 3, td_folder_role_to_string (spec->role));
      sqlite3_bind_int (stmt, 4, spec->selectable ? 1 : 0);
      if (!td_db_run (self->wdb, stmt, error))
        return FALSE;
      changed = TRUE;
    }

  g_hash_table_iter_init (&iter, known);
  while (g_hash_table_iter_next (&iter, (gpointer *) &path, (gpointer *) &folder))
    {
      if (folder->listed || path_pending_in (keep, path, folder->delimiter))
        continue;

      stmt = td_db_prepare (self->wdb, "DELETE FROM folder WHERE id = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, folder->id);
      if (!td_db_run (self->wdb, stmt, error))
        return FALSE;
      _td_store_int64_array_add_unique (job->changes->folder_ids, folder->id);
      changed = TRUE;
    }

  if (changed)
    _td_store_int64_array_add_unique (job->changes->account_ids, d->account_id);
  return TRUE;
}

void
td_store_sync_folders_async (TdStore             *self,
                             gint64               account_id,
                             GPtrArray           *specs,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  SyncFoldersData *d;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (specs != NULL);

  d = g_new0 (SyncFoldersData, 1);
  d->account_id = account_id;
  d->specs = g_ptr_array_new_full (specs->len, (GDestroyNotify) td_folder_spec_free);
  for (guint i = 0; i < specs->len; i++)
    {
      TdFolderSpec *spec = g_ptr_array_index (specs, i);

      /* A path is a key: it must be text. Anything else from a server is dropped here. */
      if (spec == NULL || spec->path == NULL || *spec->path == '\0' ||
          !g_utf8_validate (spec->path, -1, NULL) || strlen (spec->path) > MAX_SHORT_FIELD)
        continue;
      g_ptr_array_add (d->specs, td_folder_spec_new (spec->path, spec->delimiter, spec->role,
                                                     spec->selectable));
      ((TdFolderSpec *) g_ptr_array_index (d->specs, d->specs->len - 1))->uidvalidity =
        spec->uidvalidity;
    }

  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, sync_folders_job, d, sync_folders_data_free,
                            td_store_sync_folders_async, cancellable, callback, user_data));
}

gboolean
td_store_sync_folders_finish (TdStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

#define FOLDER_COLUMNS "id, account_id, path, delimiter, role, selectable, total, unread, " \
                       "subscribed"

static TdFolder *
folder_from_row (TdDbStmt *stmt)
{
  const char *path = td_db_column_text (stmt, 2);
  TdFolder *folder;

  folder = td_folder_new (sqlite3_column_int64 (stmt, 0),
                          sqlite3_column_int64 (stmt, 1),
                          path != NULL ? path : "",
                          (char) sqlite3_column_int (stmt, 3),
                          td_folder_role_from_string (td_db_column_text (stmt, 4)),
                          sqlite3_column_int (stmt, 5) != 0,
                          (guint) CLAMP (sqlite3_column_int64 (stmt, 6), 0, G_MAXUINT),
                          (guint) CLAMP (sqlite3_column_int64 (stmt, 7), 0, G_MAXUINT));
  td_folder_set_subscribed (folder, sqlite3_column_int (stmt, 8) != 0);
  return folder;
}

/* Paths in tree order: a parent right before its children ("A" < "A/B" < "A-B"), letters
 * without regard to ASCII case. */
static int
path_compare (const char *a,
              const char *b,
              char        delimiter)
{
  const char *pa = a;
  const char *pb = b;

  for (; *pa != '\0' && *pb != '\0'; pa++, pb++)
    {
      int ca = *pa == delimiter ? 1 : g_ascii_tolower (*pa);
      int cb = *pb == delimiter ? 1 : g_ascii_tolower (*pb);

      if (ca != cb)
        return (guchar) ca - (guchar) cb;
    }
  if (*pa != *pb)
    return *pa == '\0' ? -1 : 1;
  return strcmp (a, b);
}

static int
folder_compare (gconstpointer a,
                gconstpointer b)
{
  TdFolder *fa = *(TdFolder **) a;
  TdFolder *fb = *(TdFolder **) b;
  int ka = td_folder_role_sort_key (td_folder_get_role (fa));
  int kb = td_folder_role_sort_key (td_folder_get_role (fb));

  if (ka != kb)
    return ka < kb ? -1 : 1;
  return path_compare (td_folder_get_path (fa), td_folder_get_path (fb),
                       td_folder_get_delimiter (fa));
}

GPtrArray *
td_store_list_folders (TdStore  *self,
                       gint64    account_id,
                       GError  **error)
{
  g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func (g_object_unref);
  TdDbStmt *stmt;
  TdDb *db;
  int rc;

  g_return_val_if_fail (TD_IS_STORE (self), NULL);

  if ((db = _td_store_read_begin (self, error)) == NULL)
    return NULL;
  stmt = td_db_prepare (db, "SELECT " FOLDER_COLUMNS " FROM folder WHERE account_id = ?", error);
  if (stmt == NULL)
    {
      _td_store_read_end (self);
      return NULL;
    }
  sqlite3_bind_int64 (stmt, 1, account_id);
  while ((rc = td_db_step (db, stmt, error)) == SQLITE_ROW)
    g_ptr_array_add (folders, folder_from_row (stmt));
  td_db_stmt_release (stmt);
  _td_store_read_end (self);

  if (rc != SQLITE_DONE)
    return NULL;
  g_ptr_array_sort (folders, folder_compare);
  return g_steal_pointer (&folders);
}

static TdFolder *
get_folder_where (TdStore     *self,
                  const char  *sql,
                  gint64       id,
                  const char  *path,
                  GError     **error)
{
  TdFolder *folder = NULL;
  TdDbStmt *stmt;
  TdDb *db;
  int rc;

  if ((db = _td_store_read_begin (self, error)) == NULL)
    return NULL;
  stmt = td_db_prepare (db, sql, error);
  if (stmt != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, id);
      if (path != NULL)
        td_db_bind_text (stmt, 2, path);
      rc = td_db_step (db, stmt, error);
      if (rc == SQLITE_ROW)
        folder = folder_from_row (stmt);
      else if (rc == SQLITE_DONE)
        g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, _("No such folder"));
      td_db_stmt_release (stmt);
    }
  _td_store_read_end (self);

  return folder;
}

TdFolder *
td_store_get_folder (TdStore  *self,
                     gint64    folder_id,
                     GError  **error)
{
  g_return_val_if_fail (TD_IS_STORE (self), NULL);

  return get_folder_where (self, "SELECT " FOLDER_COLUMNS " FROM folder WHERE id = ?",
                           folder_id, NULL, error);
}

TdFolder *
td_store_find_folder (TdStore     *self,
                      gint64       account_id,
                      const char  *path,
                      GError     **error)
{
  g_return_val_if_fail (TD_IS_STORE (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  return get_folder_where (self,
                           "SELECT " FOLDER_COLUMNS " FROM folder"
                           " WHERE account_id = ?1 AND path = ?2",
                           account_id, path, error);
}

gboolean
td_store_get_folder_state (TdStore        *self,
                           gint64          folder_id,
                           TdFolderState  *out,
                           GError        **error)
{
  TdDbStmt *stmt;
  TdDb *db;
  int rc = -1;

  g_return_val_if_fail (TD_IS_STORE (self), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if ((db = _td_store_read_begin (self, error)) == NULL)
    return FALSE;
  stmt = td_db_prepare (db, "SELECT uidvalidity, uidnext, highestmodseq, local_flags FROM folder"
                        " WHERE id = ?", error);
  if (stmt != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, folder_id);
      rc = td_db_step (db, stmt, error);
      if (rc == SQLITE_ROW)
        {
          out->uidvalidity = (guint32) sqlite3_column_int64 (stmt, 0);
          out->uidnext = (guint32) sqlite3_column_int64 (stmt, 1);
          out->highestmodseq = (guint64) sqlite3_column_int64 (stmt, 2);
          out->local_flags = (TdFlags) sqlite3_column_int (stmt, 3);
        }
      else if (rc == SQLITE_DONE)
        g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, _("No such folder"));
      td_db_stmt_release (stmt);
    }
  _td_store_read_end (self);

  return rc == SQLITE_ROW;
}

typedef struct
{
  gint64         folder_id;
  TdFolderState  state;
} FolderStateData;

static gboolean
write_folder_state (TdStore        *self,
                    FolderStateData *d,
                    GError        **error)
{
  g_autoptr(TdDbStmt) stmt = NULL;

  stmt = td_db_prepare (self->wdb,
                        "UPDATE folder SET uidvalidity = ?2, uidnext = ?3, highestmodseq = ?4"
                        " WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->folder_id);
  sqlite3_bind_int64 (stmt, 2, d->state.uidvalidity);
  sqlite3_bind_int64 (stmt, 3, d->state.uidnext);
  /* MODSEQ is an unsigned 63-bit number (RFC 7162), so it fits. */
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) MIN (d->state.highestmodseq, G_MAXINT64));
  if (!td_db_run (self->wdb, g_steal_pointer (&stmt), error))
    return FALSE;

  if (sqlite3_changes (td_db_get_handle (self->wdb)) == 0)
    {
      g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, _("No such folder"));
      return FALSE;
    }
  return TRUE;
}

/* The folder-state writes carry the same data: @state for @folder_id. */
static void
queue_folder_state_job (TdStore             *self,
                        JobFunc              func,
                        gpointer             source_tag,
                        gint64               folder_id,
                        const TdFolderState *state,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  FolderStateData *d = g_new0 (FolderStateData, 1);

  d->folder_id = folder_id;
  d->state = *state;
  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, func, d, g_free, source_tag,
                                                cancellable, callback, user_data));
}

static gboolean
set_folder_state_job (TdStore  *self,
                      Job      *job,
                      GError  **error)
{
  return write_folder_state (self, job->data, error);
}

void
td_store_set_folder_state_async (TdStore             *self,
                                 gint64               folder_id,
                                 const TdFolderState *state,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (state != NULL);

  queue_folder_state_job (self, set_folder_state_job, td_store_set_folder_state_async,
                          folder_id, state, cancellable, callback, user_data);
}

gboolean
td_store_set_folder_state_finish (TdStore       *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
reset_folder_job (TdStore  *self,
                  Job      *job,
                  GError  **error)
{
  FolderStateData *d = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;

  if (!_td_store_check_folder (self->wdb, d->folder_id, error))
    return FALSE;

  stmt = td_db_prepare (self->wdb, "DELETE FROM message WHERE folder_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, d->folder_id);
  if (!td_db_run (self->wdb, g_steal_pointer (&stmt), error))
    return FALSE;

  if (!write_folder_state (self, d, error))
    return FALSE;

  _td_store_int64_array_add_unique (job->changes->folder_ids, d->folder_id);
  return TRUE;
}

void
td_store_reset_folder_async (TdStore             *self,
                             gint64               folder_id,
                             const TdFolderState *state,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (state != NULL);

  queue_folder_state_job (self, reset_folder_job, td_store_reset_folder_async, folder_id, state,
                          cancellable, callback, user_data);
}

gboolean
td_store_reset_folder_finish (TdStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
