/* td-db.h: one SQLite connection with a statement cache and schema migrations (internal)
 *
 * A TdDb is used by one thread at a time: the store thread owns the write connection, the
 * thread that opened the store owns the read-only one. Errors are TD_ERROR_STORE.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

typedef struct _TdDb TdDb;

/* A cached prepared statement; g_autoptr(TdDbStmt) resets it (and clears its bindings) at
 * the end of the scope, which also ends the implicit read transaction it may hold. */
typedef sqlite3_stmt TdDbStmt;

typedef enum
{
  TD_DB_READ_WRITE,   /* creates the file (0600) and its directory (0700) */
  TD_DB_READ_ONLY,    /* SQLITE_OPEN_READONLY; the file must exist */
} TdDbMode;

TdDb       *td_db_open            (const char   *path,
                                   TdDbMode      mode,
                                   GError      **error);
void        td_db_free            (TdDb         *db);
sqlite3    *td_db_get_handle      (TdDb         *db);

/* Sets @error from the connection's last error: "@what: sqlite message". */
void        td_db_set_error       (TdDb         *db,
                                   GError      **error,
                                   const char   *what);
/* Runs statements without results. */
gboolean    td_db_exec            (TdDb         *db,
                                   const char   *sql,
                                   GError      **error);
/* The cached statement for @sql (prepared once, persistent); NULL and @error on failure.
 * @sql must be a string that outlives the connection (a literal). */
TdDbStmt   *td_db_prepare         (TdDb         *db,
                                   const char   *sql,
                                   GError      **error);
void        td_db_stmt_release    (TdDbStmt     *stmt);
/* sqlite3_step(): SQLITE_ROW or SQLITE_DONE, or -1 with @error set. */
int         td_db_step            (TdDb         *db,
                                   TdDbStmt     *stmt,
                                   GError      **error);
/* Steps a statement that returns no rows, then resets it. */
gboolean    td_db_run             (TdDb         *db,
                                   TdDbStmt     *stmt,
                                   GError      **error);

gboolean    td_db_begin           (TdDb         *db,
                                   gboolean      immediate,
                                   GError      **error);
gboolean    td_db_commit          (TdDb         *db,
                                   GError      **error);
void        td_db_rollback        (TdDb         *db);

/* Applies the migrations NNN-name.sql found under @dir in @resource whose number is above
 * PRAGMA user_version, in order, each in its own transaction that also sets user_version.
 * Fails when the file is newer than every migration we know. */
gboolean    td_db_migrate         (TdDb         *db,
                                   GResource    *resource,
                                   const char   *dir,
                                   guint        *out_version,
                                   GError      **error);
guint       td_db_get_user_version (TdDb        *db,
                                    GError     **error);

/* Helpers for binding and reading UTF-8 text. */
void        td_db_bind_text       (TdDbStmt     *stmt,
                                   int           index,
                                   const char   *text);
const char *td_db_column_text     (TdDbStmt     *stmt,
                                   int           column);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdDbStmt, td_db_stmt_release)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdDb, td_db_free)

G_END_DECLS
