/* td-db.c: one SQLite connection with a statement cache and schema migrations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-db.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "td-error.h"

#define BUSY_TIMEOUT_MS 10000

struct _TdDb
{
  sqlite3    *handle;
  GHashTable *statements;   /* const char *sql -> sqlite3_stmt * */
  TdDbMode    mode;
};

void
td_db_set_error (TdDb        *db,
                 GError     **error,
                 const char  *what)
{
  const char *message = db != NULL && db->handle != NULL ? sqlite3_errmsg (db->handle) : "";

  g_set_error (error, TD_ERROR, TD_ERROR_STORE, "%s: %s", what, message);
}

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

/* Before the first connection of the process: SQLite counts every allocation under a global
 * mutex unless told not to. Nothing here reads those counts, and on the 10,000-message
 * benchmark the lock and unlock were about 3 % of the first sync's CPU, on the store thread
 * (FTS5 allocates for every token). Too late when something else in the process already
 * initialized SQLite; then nothing changes. */
static void
configure_sqlite (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      int rc = sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);

      if (rc != SQLITE_OK)
        g_debug ("SQLite keeps its memory statistics: %s", sqlite3_errstr (rc));
      g_once_init_leave (&done, 1);
    }
}

static gboolean
prepare_file (const char  *path,
              GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  GStatBuf st;
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, TD_ERROR, TD_ERROR_STORE,
                   _("Could not create the folder of the mail store %s: %s"),
                   dir, g_strerror (saved_errno));
      return FALSE;
    }

  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, TD_ERROR, TD_ERROR_STORE,
                   _("Could not open the mail store %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  /* Mail is private: whatever made the file, only its owner may read it. The -wal and -shm
   * files that SQLite makes copy these permissions. */
  if (fstat (fd, &st) == 0 && (st.st_mode & 077) != 0)
    {
      if (fchmod (fd, st.st_mode & 0700) != 0)
        g_debug ("could not chmod %s: %s", path, g_strerror (errno));
    }
  g_close (fd, NULL);

  return TRUE;
}

TdDb *
td_db_open (const char  *path,
            TdDbMode     mode,
            GError     **error)
{
  g_autofree TdDb *db = g_new0 (TdDb, 1);
  int flags = SQLITE_OPEN_NOMUTEX;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  configure_sqlite ();
  if (mode == TD_DB_READ_WRITE)
    {
      if (!prepare_file (path, error))
        return NULL;
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    }
  else
    {
      flags |= SQLITE_OPEN_READONLY;
    }

  db->mode = mode;
  rc = sqlite3_open_v2 (path, &db->handle, flags, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, TD_ERROR, TD_ERROR_STORE, _("Could not open the mail store %s: %s"),
                   path, db->handle != NULL ? sqlite3_errmsg (db->handle) : sqlite3_errstr (rc));
      sqlite3_close (db->handle);
      return NULL;
    }

  db->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          finalize_statement);
  sqlite3_extended_result_codes (db->handle, 1);
  sqlite3_busy_timeout (db->handle, BUSY_TIMEOUT_MS);

  if (mode == TD_DB_READ_WRITE)
    {
      g_autoptr(TdDbStmt) stmt = NULL;
      gboolean wal;

      /* Bodies are blobs of tens of kilobytes: larger pages mean shorter overflow chains.
       * Only takes effect on a new, empty file. */
      if (!td_db_exec (db, "PRAGMA page_size = 16384;"
                           "PRAGMA foreign_keys = ON;"
                           "PRAGMA synchronous = NORMAL;"
                           "PRAGMA temp_store = MEMORY;"
                           "PRAGMA cache_size = -4000;"
                           /* Bodies come in batches of megabytes: checkpoint (and fsync)
                            * every 8192 pages of log (128 MB with 16 KB pages) rather than
                            * every 1000. Replaying the 10,000-message benchmark's writes,
                            * 2048 or 32768 pages, a 16 MB cache or 200 bodies a transaction
                            * took about as long. */
                           "PRAGMA wal_autocheckpoint = 8192;", error))
        goto fail;

      stmt = td_db_prepare (db, "PRAGMA journal_mode = WAL", error);
      if (stmt == NULL || td_db_step (db, stmt, error) != SQLITE_ROW)
        goto fail;
      wal = g_ascii_strcasecmp (td_db_column_text (stmt, 0), "wal") == 0;
      td_db_stmt_release (g_steal_pointer (&stmt));
      if (!wal)
        {
          g_set_error (error, TD_ERROR, TD_ERROR_STORE,
                       _("The mail store %s cannot use write-ahead logging"), path);
          goto fail;
        }
    }
  else
    {
      if (!td_db_exec (db, "PRAGMA query_only = ON;", error))
        goto fail;
    }

  return g_steal_pointer (&db);

fail:
  td_db_free (g_steal_pointer (&db));
  return NULL;
}

void
td_db_free (TdDb *db)
{
  if (db == NULL)
    return;

  g_clear_pointer (&db->statements, g_hash_table_unref);
  if (db->handle != NULL)
    {
      int rc = sqlite3_close (db->handle);

      if (rc != SQLITE_OK)
        g_warning ("closing the store connection failed: %s", sqlite3_errstr (rc));
    }
  g_free (db);
}

sqlite3 *
td_db_get_handle (TdDb *db)
{
  return db->handle;
}

gboolean
td_db_exec (TdDb        *db,
            const char  *sql,
            GError     **error)
{
  char *message = NULL;

  if (sqlite3_exec (db->handle, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, TD_ERROR, TD_ERROR_STORE, "%s",
                   message != NULL ? message : sqlite3_errmsg (db->handle));
      sqlite3_free (message);
      return FALSE;
    }
  return TRUE;
}

TdDbStmt *
td_db_prepare (TdDb        *db,
               const char  *sql,
               GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (db->statements, sql);

  if (stmt != NULL)
    return stmt;

  if (sqlite3_prepare_v3 (db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL)
      != SQLITE_OK)
    {
      td_db_set_error (db, error, "prepare");
      return NULL;
    }
  g_hash_table_insert (db->statements, (gpointer) sql, stmt);
  return stmt;
}

void
td_db_stmt_release (TdDbStmt *stmt)
{
  if (stmt == NULL)
    return;
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

int
td_db_step (TdDb      *db,
            TdDbStmt  *stmt,
            GError   **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    return rc;

  td_db_set_error (db, error, "step");
  return -1;
}

gboolean
td_db_run (TdDb      *db,
           TdDbStmt  *stmt,
           GError   **error)
{
  int rc = td_db_step (db, stmt, error);

  td_db_stmt_release (stmt);
  if (rc == SQLITE_ROW)
    {
      g_set_error (error, TD_ERROR, TD_ERROR_STORE, "statement returned rows: %s",
                   sqlite3_sql (stmt));
      return FALSE;
    }
  return rc == SQLITE_DONE;
}

gboolean
td_db_begin (TdDb      *db,
             gboolean   immediate,
             GError   **error)
{
  return td_db_exec (db, immediate ? "BEGIN IMMEDIATE" : "BEGIN", error);
}

gboolean
td_db_commit (TdDb    *db,
              GError **error)
{
  return td_db_exec (db, "COMMIT", error);
}

void
td_db_rollback (TdDb *db)
{
  /* After some errors (SQLITE_FULL, SQLITE_IOERR, ...) SQLite has already rolled back. */
  if (!sqlite3_get_autocommit (db->handle))
    {
      g_autoptr(GError) error = NULL;

      if (!td_db_exec (db, "ROLLBACK", &error))
        g_warning ("rollback failed: %s", error->message);
    }
}

guint
td_db_get_user_version (TdDb    *db,
                        GError **error)
{
  g_autoptr(TdDbStmt) stmt = td_db_prepare (db, "PRAGMA user_version", error);

  if (stmt == NULL || td_db_step (db, stmt, error) != SQLITE_ROW)
    return G_MAXUINT;
  return (guint) sqlite3_column_int64 (stmt, 0);
}

typedef struct
{
  guint  number;
  char  *name;
} Migration;

static void
migration_clear (gpointer data)
{
  Migration *m = data;

  g_free (m->name);
}

static int
migration_compare (gconstpointer a,
                   gconstpointer b)
{
  const Migration *ma = a;
  const Migration *mb = b;

  return ma->number < mb->number ? -1 : ma->number > mb->number;
}

static GArray *
list_migrations (GResource   *resource,
                 const char  *dir,
                 GError     **error)
{
  g_auto(GStrv) names = g_resource_enumerate_children (resource, dir, 0, error);
  g_autoptr(GArray) migrations = NULL;

  if (names == NULL)
    return NULL;

  migrations = g_array_new (FALSE, TRUE, sizeof (Migration));
  g_array_set_clear_func (migrations, migration_clear);
  for (guint i = 0; names[i] != NULL; i++)
    {
      Migration m = { 0, NULL };
      char *end = NULL;
      guint64 number;

      if (!g_str_has_suffix (names[i], ".sql") || !g_ascii_isdigit (names[i][0]))
        continue;
      number = g_ascii_strtoull (names[i], &end, 10);
      if (end == NULL || *end != '-' || number == 0 || number > G_MAXINT32)
        continue;
      m.number = (guint) number;
      m.name = g_strdup (names[i]);
      g_array_append_val (migrations, m);
    }
  g_array_sort (migrations, migration_compare);

  for (guint i = 0; i < migrations->len; i++)
    if (g_array_index (migrations, Migration, i).number != i + 1)
      {
        g_set_error (error, TD_ERROR, TD_ERROR_STORE,
                     "schema migrations are not numbered 1, 2, 3...: %s",
                     g_array_index (migrations, Migration, i).name);
        return NULL;
      }

  return g_steal_pointer (&migrations);
}

static gboolean
apply_migration (TdDb        *db,
                 GResource   *resource,
                 const char  *dir,
                 Migration   *m,
                 GError     **error)
{
  g_autofree char *path = g_build_path ("/", dir, m->name, NULL);
  g_autofree char *sql = NULL;
  g_autofree char *set_version = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint version;

  bytes = g_resource_lookup_data (resource, path, 0, error);
  if (bytes == NULL)
    return FALSE;
  sql = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  if (!td_db_begin (db, TRUE, error))
    return FALSE;

  /* Another process may have migrated the file since we looked. */
  version = td_db_get_user_version (db, error);
  if (version == G_MAXUINT)
    goto fail;
  if (version >= m->number)
    return td_db_commit (db, error);

  g_debug ("applying schema migration %s", m->name);
  set_version = g_strdup_printf ("PRAGMA user_version = %u", m->number);
  if (!td_db_exec (db, sql, error) || !td_db_exec (db, set_version, error))
    {
      g_prefix_error (error, "%s: ", m->name);
      goto fail;
    }
  if (!td_db_commit (db, error))
    goto fail;
  return TRUE;

fail:
  td_db_rollback (db);
  return FALSE;
}

gboolean
td_db_migrate (TdDb        *db,
               GResource   *resource,
               const char  *dir,
               guint       *out_version,
               GError     **error)
{
  g_autoptr(GArray) migrations = list_migrations (resource, dir, error);
  guint version;

  if (migrations == NULL)
    return FALSE;

  version = td_db_get_user_version (db, error);
  if (version == G_MAXUINT)
    return FALSE;
  if (version > migrations->len)
    {
      g_set_error (error, TD_ERROR, TD_ERROR_STORE,
                   _("The mail store was made by a newer version of Tidings (schema %u, "
                     "this version knows %u)"), version, migrations->len);
      return FALSE;
    }

  for (guint i = version; i < migrations->len; i++)
    {
      if (!apply_migration (db, resource, dir, &g_array_index (migrations, Migration, i), error))
        return FALSE;
    }

  if (out_version != NULL)
    *out_version = migrations->len;
  return TRUE;
}

void
td_db_bind_text (TdDbStmt   *stmt,
                 int         index,
                 const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

const char *
td_db_column_text (TdDbStmt *stmt,
                   int       column)
{
  return (const char *) sqlite3_column_text (stmt, column);
}
