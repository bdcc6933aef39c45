/* td-store-accounts.c: the accounts of the store
 *
 * An account row keeps the settings of a TdAccount, never a secret (those live in the
 * keyring). Writes run on the store thread; the list and single reads are bounded and run on
 * the read connection of the opener's thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-store.h"
#include "td-store-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

typedef struct
{
  gint64         id;
  char          *uuid;
  TdAccountKind  kind;
  char          *name;
  char          *address;
  char          *host;
  guint16        port;
  TdSecurity     security;
  char          *username;
  char          *pinned_fingerprint;
  guint          sync_days;
  TdPop3Policy   pop3_policy;
  guint          pop3_delete_days;
  gboolean       pop3_delete_when_deleted_here;
  char          *smtp_host;
  guint16        smtp_port;
  TdSecurity     smtp_security;
  char          *smtp_username;   /* NULL: the incoming one */
  gboolean       sent_saved_by_server;
  TdAccount     *account;   /* to receive id and uuid; only touched in the caller's thread */
} AccountRow;

static void
account_row_free (gpointer data)
{
  AccountRow *row = data;

  g_free (row->uuid);
  g_free (row->name);
  g_free (row->address);
  g_free (row->host);
  g_free (row->username);
  g_free (row->pinned_fingerprint);
  g_free (row->smtp_host);
  g_free (row->smtp_username);
  g_clear_object (&row->account);
  g_free (row);
}

/* A copy of the settings (never a secret: TdAccount has none) for the store thread. */
static AccountRow *
account_row_new (TdAccount *account)
{
  AccountRow *row = g_new0 (AccountRow, 1);
  const char *name = td_account_get_name (account);

  row->account = g_object_ref (account);
  row->id = td_account_get_id (account);
  row->uuid = g_strdup (td_account_get_uuid (account));
  row->kind = td_account_get_kind (account);
  /* td_account_get_name() falls back to the address; keep that a fallback. */
  if (g_strcmp0 (name, td_account_get_address (account)) != 0)
    row->name = g_strdup (name);
  row->address = g_strdup (td_account_get_address (account));
  row->host = g_strdup (td_account_get_host (account));
  row->port = td_account_get_port (account);
  row->security = td_account_get_security (account);
  row->username = g_strdup (td_account_get_username (account));
  row->pinned_fingerprint = g_strdup (td_account_get_pinned_fingerprint (account));
  row->sync_days = td_account_get_sync_days (account);
  row->pop3_policy = td_account_get_pop3_policy (account);
  row->pop3_delete_days = td_account_get_pop3_delete_days (account);
  row->pop3_delete_when_deleted_here = td_account_get_pop3_delete_when_deleted_here (account);
  row->smtp_host = g_strdup (td_account_get_smtp_host (account));
  row->smtp_port = td_account_get_smtp_port (account);
  row->smtp_security = td_account_get_smtp_security (account);
  /* td_account_get_smtp_username() falls back to the incoming one; keep that a fallback. */
  if (g_strcmp0 (td_account_get_smtp_username (account), td_account_get_username (account)) != 0)
    row->smtp_username = g_strdup (td_account_get_smtp_username (account));
  row->sent_saved_by_server = td_account_get_sent_saved_by_server (account);
  return row;
}

/* The five SMTP columns from @first on. */
static void
bind_smtp (TdDbStmt   *stmt,
           int         first,
           AccountRow *row)
{
  td_db_bind_text (stmt, first, row->smtp_host);
  sqlite3_bind_int (stmt, first + 1, row->smtp_port);
  td_db_bind_text (stmt, first + 2, td_security_to_string (row->smtp_security));
  td_db_bind_text (stmt, first + 3, row->smtp_username);
  sqlite3_bind_int (stmt, first + 4, row->sent_saved_by_server ? 1 : 0);
}

static gboolean
add_account_job (TdStore  *self,
                 Job      *job,
                 GError  **error)
{
  AccountRow *row = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;

  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO account (uuid, kind, name, address, host, port, security,"
                        " username, pinned_fingerprint, created, sync_days, pop3_policy,"
                        " pop3_delete_days, pop3_delete_when_deleted_here, smtp_host, smtp_port,"
                        " smtp_security, smtp_username, sent_saved_by_server)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                        " ?15, ?16, ?17, ?18, ?19)",
                        error);
  if (stmt == NULL)
    return FALSE;
  td_db_bind_text (stmt, 1, row->uuid);
  td_db_bind_text (stmt, 2, td_account_kind_to_string (row->kind));
  td_db_bind_text (stmt, 3, row->name);
  td_db_bind_text (stmt, 4, row->address);
  td_db_bind_text (stmt, 5, row->host);
  sqlite3_bind_int (stmt, 6, row->port);
  td_db_bind_text (stmt, 7, td_security_to_string (row->security));
  td_db_bind_text (stmt, 8, row->username);
  td_db_bind_text (stmt, 9, row->pinned_fingerprint);
  sqlite3_bind_int64 (stmt, 10, g_get_real_time () / G_USEC_PER_SEC);
  sqlite3_bind_int (stmt, 11, (int) row->sync_days);
  td_db_bind_text (stmt, 12, td_pop3_policy_to_string (row->pop3_policy));
  sqlite3_bind_int (stmt, 13, (int) row->pop3_delete_days);
  sqlite3_bind_int (stmt, 14, row->pop3_delete_when_deleted_here ? 1 : 0);
  bind_smtp (stmt, 15, row);
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;

  row->id = sqlite3_last_insert_rowid (td_db_get_handle (self->wdb));
  job->changes->accounts = TRUE;
  /* a POP3 account's folders are local: they come with it (td-store-pop3.c) */
  if (row->kind == TD_ACCOUNT_KIND_POP3 &&
      !_td_store_pop3_create_local_folders (self, row->id, job->changes, error))
    return FALSE;
  return TRUE;
}

static gboolean
add_account_done (TdStore  *self,
                  Job      *job,
                  GError  **error)
{
  AccountRow *row = job->data;

  td_account_set_uuid (row->account, row->uuid);
  td_account_set_id (row->account, row->id);
  return TRUE;
}

void
td_store_add_account_async (TdStore             *self,
                            TdAccount           *account,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  AccountRow *row;
  Job *job;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));

  row = account_row_new (account);
  if (row->uuid == NULL)
    row->uuid = g_uuid_string_random ();
  job = _td_store_job_new (self, JOB_WRITE, add_account_job, row, account_row_free,
                 td_store_add_account_async, cancellable, callback, user_data);
  job->done = add_account_done;

  if (row->id != 0)
    {
      g_task_return_new_error (job->task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               "account %" G_GINT64_FORMAT " is already stored", row->id);
      _td_store_job_free (job);
      return;
    }

  _td_store_queue_job (self, job);
}

gboolean
td_store_add_account_finish (TdStore       *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
update_account_job (TdStore  *self,
                    Job      *job,
                    GError  **error)
{
  AccountRow *row = job->data;
  g_autoptr(TdDbStmt) stmt = NULL;

  stmt = td_db_prepare (self->wdb,
                        "UPDATE account SET name = ?2, address = ?3, host = ?4, port = ?5,"
                        " security = ?6, username = ?7, pinned_fingerprint = ?8, sync_days = ?9,"
                        " pop3_policy = ?10, pop3_delete_days = ?11,"
                        " pop3_delete_when_deleted_here = ?12, smtp_host = ?13, smtp_port = ?14,"
                        " smtp_security = ?15, smtp_username = ?16, sent_saved_by_server = ?17"
                        " WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, row->id);
  td_db_bind_text (stmt, 2, row->name);
  td_db_bind_text (stmt, 3, row->address);
  td_db_bind_text (stmt, 4, row->host);
  sqlite3_bind_int (stmt, 5, row->port);
  td_db_bind_text (stmt, 6, td_security_to_string (row->security));
  td_db_bind_text (stmt, 7, row->username);
  td_db_bind_text (stmt, 8, row->pinned_fingerprint);
  sqlite3_bind_int (stmt, 9, (int) row->sync_days);
  td_db_bind_text (stmt, 10, td_pop3_policy_to_string (row->pop3_policy));
  sqlite3_bind_int (stmt, 11, (int) row->pop3_delete_days);
  sqlite3_bind_int (stmt, 12, row->pop3_delete_when_deleted_here ? 1 : 0);
  bind_smtp (stmt, 13, row);
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;

  if (sqlite3_changes (td_db_get_handle (self->wdb)) == 0)
    {
      g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, _("No such account"));
      return FALSE;
    }
  job->changes->accounts = TRUE;
  return TRUE;
}

void
td_store_update_account_async (TdStore             *self,
                               TdAccount           *account,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));

  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, update_account_job, account_row_new (account),
                            account_row_free, td_store_update_account_async,
                            cancellable, callback, user_data));
}

gboolean
td_store_update_account_finish (TdStore       *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
remove_account_job (TdStore  *self,
                    Job      *job,
                    GError  **error)
{
  gint64 account_id = *(gint64 *) job->data;
  g_autoptr(GArray) folder_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  TdDbStmt *stmt;
  int rc;

  stmt = td_db_prepare (self->wdb, "SELECT id FROM folder WHERE account_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (folder_ids, id);
    }
  td_db_stmt_release (stmt);
  if (rc < 0)
    return FALSE;

  stmt = td_db_prepare (self->wdb, "DELETE FROM account WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  if (!td_db_run (self->wdb, stmt, error))
    return FALSE;
  if (sqlite3_changes (td_db_get_handle (self->wdb)) == 0)
    {
      g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, _("No such account"));
      return FALSE;
    }

  job->changes->accounts = TRUE;
  _td_store_int64_array_add_unique (job->changes->account_ids, account_id);
  for (guint i = 0; i < folder_ids->len; i++)
    _td_store_int64_array_add_unique (job->changes->folder_ids, g_array_index (folder_ids, gint64, i));
  return TRUE;
}

void
td_store_remove_account_async (TdStore             *self,
                               gint64               account_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (TD_IS_STORE (self));

  _td_store_queue_job (self, _td_store_job_new (self, JOB_WRITE, remove_account_job,
                            g_memdup2 (&account_id, sizeof account_id), g_free,
                            td_store_remove_account_async, cancellable, callback, user_data));
}

gboolean
td_store_remove_account_finish (TdStore       *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

#define ACCOUNT_COLUMNS \
  "id, uuid, kind, name, address, host, port, security, username, pinned_fingerprint," \
  " quota_usage, quota_limit, sync_days, pop3_policy, pop3_delete_days," \
  " pop3_delete_when_deleted_here, smtp_host, smtp_port, smtp_security, smtp_username," \
  " sent_saved_by_server"

static TdAccount *
account_from_row (TdDbStmt *stmt)
{
  TdAccountKind kind = TD_ACCOUNT_KIND_IMAP;
  TdSecurity security = TD_SECURITY_TLS;
  TdPop3Policy policy = TD_POP3_POLICY_DELETE_AFTER_DAYS;
  TdSecurity smtp_security = TD_SECURITY_STARTTLS;
  const char *address = td_db_column_text (stmt, 4);
  const char *host = td_db_column_text (stmt, 5);
  TdAccount *account;

  td_account_kind_from_string (td_db_column_text (stmt, 2), &kind);
  td_security_from_string (td_db_column_text (stmt, 7), &security);
  account = td_account_new (kind, address != NULL ? address : "", host != NULL ? host : "",
                            (guint16) CLAMP (sqlite3_column_int (stmt, 6), 0, G_MAXUINT16),
                            security, td_db_column_text (stmt, 8));
  td_account_set_id (account, sqlite3_column_int64 (stmt, 0));
  td_account_set_uuid (account, td_db_column_text (stmt, 1));
  td_account_set_name (account, td_db_column_text (stmt, 3));
  td_account_set_pinned_fingerprint (account, td_db_column_text (stmt, 9));
  td_account_set_quota (account, sqlite3_column_int64 (stmt, 10), sqlite3_column_int64 (stmt, 11));
  td_account_set_sync_days (account, (guint) MAX (sqlite3_column_int (stmt, 12), 0));
  td_pop3_policy_from_string (td_db_column_text (stmt, 13), &policy);
  td_account_set_pop3_policy (account, policy);
  td_account_set_pop3_delete_days (account, (guint) MAX (sqlite3_column_int (stmt, 14), 0));
  td_account_set_pop3_delete_when_deleted_here (account, sqlite3_column_int (stmt, 15) != 0);
  td_security_from_string (td_db_column_text (stmt, 18), &smtp_security);
  td_account_set_smtp (account, td_db_column_text (stmt, 16),
                       (guint16) CLAMP (sqlite3_column_int (stmt, 17), 0, G_MAXUINT16),
                       smtp_security, td_db_column_text (stmt, 19));
  td_account_set_sent_saved_by_server (account, sqlite3_column_int (stmt, 20) != 0);
  return account;
}

GPtrArray *
td_store_list_accounts (TdStore  *self,
                        GError  **error)
{
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(TdDbStmt) stmt = NULL;
  TdDb *db;
  int rc;

  g_return_val_if_fail (TD_IS_STORE (self), NULL);

  if ((db = _td_store_read_begin (self, error)) == NULL)
    return NULL;
  stmt = td_db_prepare (db, "SELECT " ACCOUNT_COLUMNS " FROM account ORDER BY id", error);
  if (stmt == NULL)
    {
      _td_store_read_end (self);
      return NULL;
    }
  while ((rc = td_db_step (db, stmt, error)) == SQLITE_ROW)
    g_ptr_array_add (accounts, account_from_row (stmt));
  td_db_stmt_release (g_steal_pointer (&stmt));
  _td_store_read_end (self);

  return rc == SQLITE_DONE ? g_steal_pointer (&accounts) : NULL;
}

TdAccount *
td_store_get_account (TdStore  *self,
                      gint64    account_id,
                      GError  **error)
{
  g_autoptr(TdDbStmt) stmt = NULL;
  TdAccount *account = NULL;
  TdDb *db;
  int rc;

  g_return_val_if_fail (TD_IS_STORE (self), NULL);

  if ((db = _td_store_read_begin (self, error)) == NULL)
    return NULL;
  stmt = td_db_prepare (db, "SELECT " ACCOUNT_COLUMNS " FROM account WHERE id = ?", error);
  if (stmt != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, account_id);
      rc = td_db_step (db, stmt, error);
      if (rc == SQLITE_ROW)
        account = account_from_row (stmt);
      else if (rc == SQLITE_DONE)
        g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, _("No such account"));
      td_db_stmt_release (g_steal_pointer (&stmt));
    }
  _td_store_read_end (self);

  return account;
}
