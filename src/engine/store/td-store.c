/* td-store.c: the one SQLite store of a profile
 *
 * The store thread pops jobs from a queue, in order, and runs each in one transaction on the
 * write connection. A finished job goes back to the caller's GMainContext through an idle
 * source (never g_main_context_invoke(), which may run the callback on the store thread when
 * the context is free); the signals for what it committed go, before it, to the context of
 * the thread that opened the store. What the jobs do lives in the other td-store-*.c files,
 * one concept each (see td-store-private.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-store.h"
#include "td-store-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-db.h"
#include "td-error.h"
#include "td-store-resources.h"

#define MIGRATIONS_DIR "/org/tidings/Tidings/store"

G_DEFINE_FINAL_TYPE (TdStore, td_store, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_FOLDERS_CHANGED,
  SIGNAL_FOLDER_CHANGED,
  SIGNAL_ACCOUNTS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- Small helpers --- */

char *
_td_store_clean_text (const char *text,
                      gsize       max)
{
  g_autofree char *valid = NULL;
  const char *end;

  if (text == NULL)
    return NULL;

  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);

  if (strlen (text) <= max)
    return g_strdup (text);

  end = g_utf8_find_prev_char (text, text + max + 1);
  return g_strndup (text, end != NULL ? (gsize) (end - text) : 0);
}

void
_td_store_append_nonempty (GString    *str,
                           const char *text)
{
  if (text == NULL || *text == '\0')
    return;
  if (str->len > 0)
    g_string_append_c (str, ' ');
  g_string_append (str, text);
}

void
_td_store_int64_array_add_unique (GArray *array,
                        gint64  value)
{
  for (guint i = 0; i < array->len; i++)
    if (g_array_index (array, gint64, i) == value)
      return;
  g_array_append_val (array, value);
}

static gboolean
check_exists (TdDb        *db,
              const char  *sql,
              gint64       id,
              const char  *not_found,
              GError     **error)
{
  g_autoptr(TdDbStmt) stmt = td_db_prepare (db, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = td_db_step (db, stmt, error);
  if (rc == SQLITE_DONE)
    g_set_error_literal (error, TD_ERROR, TD_ERROR_NOT_FOUND, not_found);
  return rc == SQLITE_ROW;
}

gboolean
_td_store_check_account (TdDb    *db,
                         gint64   id,
                         GError **error)
{
  return check_exists (db, "SELECT 1 FROM account WHERE id = ?", id, _("No such account"), error);
}

gboolean
_td_store_check_folder (TdDb    *db,
                        gint64   id,
                        GError **error)
{
  return check_exists (db, "SELECT 1 FROM folder WHERE id = ?", id, _("No such folder"), error);
}

/* --- Jobs and the store thread --- */

static void
changes_free (Changes *changes)
{
  if (changes == NULL)
    return;
  g_clear_pointer (&changes->account_ids, g_array_unref);
  g_clear_pointer (&changes->folder_ids, g_array_unref);
  g_free (changes);
}

static Changes *
changes_new (void)
{
  Changes *changes = g_new0 (Changes, 1);

  changes->account_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  changes->folder_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  return changes;
}

static gboolean
changes_is_empty (Changes *changes)
{
  return !changes->accounts && changes->account_ids->len == 0 && changes->folder_ids->len == 0;
}

void
_td_store_job_free (Job *job)
{
  if (job->data_free != NULL)
    g_clear_pointer (&job->data, job->data_free);
  if (job->result_free != NULL)
    g_clear_pointer (&job->result, job->result_free);
  g_clear_error (&job->error);
  g_clear_pointer (&job->changes, changes_free);
  g_clear_object (&job->task);
  g_free (job);
}

Job *
_td_store_job_new (TdStore             *self,
         JobKind              kind,
         JobFunc              func,
         gpointer             data,
         GDestroyNotify       data_free,
         gpointer             source_tag,
         GCancellable        *cancellable,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->func = func;
  job->data = data;
  job->data_free = data_free;
  job->changes = changes_new ();
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, source_tag);
  /* A committed write reports success even when it was cancelled meanwhile. */
  if (kind == JOB_WRITE)
    g_task_set_check_cancellable (job->task, FALSE);
  return job;
}

void
_td_store_queue_job (TdStore *self,
           Job     *job)
{
  if (self->thread == NULL || self->closed)
    {
      g_task_return_new_error (job->task, TD_ERROR, TD_ERROR_STORE,
                               _("The mail store is not open"));
      _td_store_job_free (job);
      return;
    }
  g_async_queue_push (self->queue, job);
}

typedef struct
{
  TdStore *store;
  Changes *changes;
} Emission;

static void
emission_free (gpointer data)
{
  Emission *emission = data;

  g_object_unref (emission->store);
  changes_free (emission->changes);
  g_free (emission);
}

static gboolean
emit_changes_cb (gpointer data)
{
  Emission *emission = data;
  Changes *changes = emission->changes;

  if (changes->accounts)
    g_signal_emit (emission->store, signals[SIGNAL_ACCOUNTS_CHANGED], 0);
  for (guint i = 0; i < changes->account_ids->len; i++)
    g_signal_emit (emission->store, signals[SIGNAL_FOLDERS_CHANGED], 0,
                   g_array_index (changes->account_ids, gint64, i));
  for (guint i = 0; i < changes->folder_ids->len; i++)
    g_signal_emit (emission->store, signals[SIGNAL_FOLDER_CHANGED], 0,
                   g_array_index (changes->folder_ids, gint64, i));

  return G_SOURCE_REMOVE;
}

static gboolean
complete_job_cb (gpointer data)
{
  Job *job = data;
  TdStore *self = g_task_get_source_object (job->task);

  if (job->error == NULL && job->done != NULL)
    job->done (self, job, &job->error);

  if (job->error != NULL)
    g_task_return_error (job->task, g_steal_pointer (&job->error));
  else if (job->result_free != NULL)
    g_task_return_pointer (job->task, g_steal_pointer (&job->result), job->result_free);
  else
    g_task_return_boolean (job->task, TRUE);

  return G_SOURCE_REMOVE;
}

static void
attach_idle (GMainContext   *context,
             GSourceFunc     func,
             gpointer        data,
             GDestroyNotify  destroy)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, destroy);
  g_source_set_static_name (source, "[td-store] completion");
  g_source_attach (source, context);
}

static void
run_job (TdStore *self,
         Job     *job)
{
  GCancellable *cancellable = g_task_get_cancellable (job->task);
  gboolean ok = FALSE;

  if (g_cancellable_set_error_if_cancelled (cancellable, &job->error))
    {
      /* nothing done */
    }
  else if (job->kind != JOB_OPEN && self->wdb == NULL)
    {
      g_set_error (&job->error, TD_ERROR, TD_ERROR_STORE, _("The mail store is not open"));
    }
  else if (job->kind == JOB_OPEN || job->kind == JOB_PLAIN)
    {
      ok = job->func (self, job, &job->error);
    }
  else if (td_db_begin (self->wdb, job->kind == JOB_WRITE, &job->error))
    {
      ok = job->func (self, job, &job->error);
      if (ok)
        ok = td_db_commit (self->wdb, &job->error);
      if (!ok)
        td_db_rollback (self->wdb);
    }

  if (ok)
    g_clear_error (&job->error);
  else if (job->error == NULL)
    g_set_error (&job->error, TD_ERROR, TD_ERROR_STORE, "store job failed");

  if (ok && !changes_is_empty (job->changes))
    {
      Emission *emission = g_new0 (Emission, 1);

      emission->store = g_object_ref (self);
      emission->changes = g_steal_pointer (&job->changes);
      attach_idle (self->context, emit_changes_cb, emission, emission_free);
    }

  /* Same priority, attached later: when both go to one context, the signals come first. */
  attach_idle (g_task_get_context (job->task), complete_job_cb, job,
               (GDestroyNotify) _td_store_job_free);
}

static gpointer
store_thread_main (gpointer data)
{
  TdStore *self = data;

  for (;;)
    {
      Job *job = g_async_queue_pop (self->queue);

      if (job->kind == JOB_QUIT)
        {
          g_free (job);
          break;
        }
      run_job (self, job);
    }

  g_clear_pointer (&self->wdb, td_db_free);
  return NULL;
}

/* --- The read connection --- */

TdDb *
_td_store_read_begin (TdStore  *self,
            GError  **error)
{
  g_mutex_lock (&self->read_mutex);
  if (self->rdb == NULL)
    {
      g_mutex_unlock (&self->read_mutex);
      g_set_error (error, TD_ERROR, TD_ERROR_STORE, _("The mail store is not open"));
      return NULL;
    }
  return self->rdb;
}

void
_td_store_read_end (TdStore *self)
{
  g_mutex_unlock (&self->read_mutex);
}

/* --- GObject --- */

static void
td_store_dispose (GObject *object)
{
  TdStore *self = (TdStore *) object;

  td_store_close (self);

  G_OBJECT_CLASS (td_store_parent_class)->dispose (object);
}

static void
td_store_finalize (GObject *object)
{
  TdStore *self = (TdStore *) object;

  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->read_mutex);
  g_free (self->path);

  G_OBJECT_CLASS (td_store_parent_class)->finalize (object);
}

static void
td_store_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  TdStore *self = TD_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH: g_value_set_string (value, self->path); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_store_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  TdStore *self = TD_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH: self->path = g_value_dup_string (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_store_class_init (TdStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_store_dispose;
  object_class->finalize = td_store_finalize;
  object_class->get_property = td_store_get_property;
  object_class->set_property = td_store_set_property;

  properties[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL,
                                               G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                               G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_FOLDERS_CHANGED] = g_signal_new ("folders-changed",
                                                  G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST,
                                                  0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 1, G_TYPE_INT64);
  signals[SIGNAL_FOLDER_CHANGED] = g_signal_new ("folder-changed",
                                                 G_TYPE_FROM_CLASS (klass),
                                                 G_SIGNAL_RUN_LAST,
                                                 0, NULL, NULL, NULL,
                                                 G_TYPE_NONE, 1, G_TYPE_INT64);
  signals[SIGNAL_ACCOUNTS_CHANGED] = g_signal_new ("accounts-changed",
                                                   G_TYPE_FROM_CLASS (klass),
                                                   G_SIGNAL_RUN_LAST,
                                                   0, NULL, NULL, NULL,
                                                   G_TYPE_NONE, 0);
}

static void
td_store_init (TdStore *self)
{
  g_mutex_init (&self->read_mutex);
}

TdStore *
td_store_new (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (TD_TYPE_STORE, "path", path, NULL);
}

const char *
td_store_get_path (TdStore *self)
{
  g_return_val_if_fail (TD_IS_STORE (self), NULL);
  return self->path;
}

guint
td_store_get_schema_version (TdStore *self)
{
  g_return_val_if_fail (TD_IS_STORE (self), 0);
  return g_atomic_int_get (&self->schema_version);
}

/* --- Opening and closing --- */

static gboolean
open_job (TdStore  *self,
          Job      *job,
          GError  **error)
{
  g_autoptr(TdDb) db = NULL;
  guint version = 0;

  db = td_db_open (self->path, TD_DB_READ_WRITE, error);
  if (db == NULL)
    return FALSE;
  if (!td_db_migrate (db, td_store_get_resource (), MIGRATIONS_DIR, &version, error))
    return FALSE;

  g_atomic_int_set (&self->schema_version, version);
  self->wdb = g_steal_pointer (&db);
  return TRUE;
}

static gboolean
open_done (TdStore  *self,
           Job      *job,
           GError  **error)
{
  TdDb *rdb;

  if (self->closed)
    {
      g_set_error (error, TD_ERROR, TD_ERROR_STORE, _("The mail store is not open"));
      return FALSE;
    }

  rdb = td_db_open (self->path, TD_DB_READ_ONLY, error);
  if (rdb == NULL)
    return FALSE;

  g_mutex_lock (&self->read_mutex);
  g_clear_pointer (&self->rdb, td_db_free);
  self->rdb = rdb;
  g_mutex_unlock (&self->read_mutex);
  return TRUE;
}

void
td_store_open_async (TdStore             *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GError) error = NULL;
  Job *job;

  g_return_if_fail (TD_IS_STORE (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  job = _td_store_job_new (self, JOB_OPEN, open_job, NULL, NULL, td_store_open_async,
                 cancellable, callback, user_data);
  job->done = open_done;

  if (self->thread != NULL || self->closed)
    {
      g_task_return_new_error (job->task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               "the store was already opened");
      _td_store_job_free (job);
      return;
    }

  self->context = g_main_context_ref_thread_default ();
  self->queue = g_async_queue_new ();
  self->thread = g_thread_try_new ("td-store", store_thread_main, self, &error);
  if (self->thread == NULL)
    {
      g_task_return_new_error (job->task, TD_ERROR, TD_ERROR_STORE,
                               _("Could not start the mail store: %s"), error->message);
      _td_store_job_free (job);
      return;
    }

  _td_store_queue_job (self, job);
}

gboolean
td_store_open_finish (TdStore       *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_store_close (TdStore *self)
{
  g_return_if_fail (TD_IS_STORE (self));

  if (self->closed)
    return;
  self->closed = TRUE;

  g_mutex_lock (&self->read_mutex);
  g_clear_pointer (&self->rdb, td_db_free);
  g_mutex_unlock (&self->read_mutex);

  if (self->thread != NULL)
    {
      Job *quit = g_new0 (Job, 1);

      g_return_if_fail (g_thread_self () != self->thread);

      quit->kind = JOB_QUIT;
      g_async_queue_push (self->queue, quit);
      g_thread_join (g_steal_pointer (&self->thread));
    }

  /* Parses of batches whose jobs were cancelled may still run: wait for them. */
  if (self->parse_pool != NULL)
    g_thread_pool_free (g_steal_pointer (&self->parse_pool), FALSE, TRUE);
}

static gboolean
integrity_job (TdStore  *self,
               Job      *job,
               GError  **error)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;
  guint n = 0;
  int rc;

  if (sqlite3_prepare_v2 (td_db_get_handle (self->wdb), "PRAGMA integrity_check", -1,
                          &stmt, NULL) != SQLITE_OK)
    {
      td_db_set_error (self->wdb, error, "integrity_check");
      return FALSE;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *line = (const char *) sqlite3_column_text (stmt, 0);

      if (g_strcmp0 (line, "ok") == 0)
        continue;
      if (n++ < 10)
        _td_store_append_nonempty (problems, line);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      td_db_set_error (self->wdb, error, "integrity_check");
      return FALSE;
    }

  /* Foreign keys and the full-text index are checked too: each can be wrong while the
   * b-trees themselves are fine. */
  if (sqlite3_prepare_v2 (td_db_get_handle (self->wdb), "PRAGMA foreign_key_check", -1,
                          &stmt, NULL) != SQLITE_OK)
    {
      td_db_set_error (self->wdb, error, "foreign_key_check");
      return FALSE;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (n++ < 10)
        g_string_append_printf (problems, "%sforeign key violation in %s row %" G_GINT64_FORMAT,
                                problems->len > 0 ? " " : "",
                                (const char *) sqlite3_column_text (stmt, 0),
                                (gint64) sqlite3_column_int64 (stmt, 1));
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      td_db_set_error (self->wdb, error, "foreign_key_check");
      return FALSE;
    }

  if (n == 0)
    {
      g_autoptr(GError) fts_error = NULL;

      if (!td_db_exec (self->wdb, "INSERT INTO message_fts (message_fts) VALUES ('integrity-check')",
                       &fts_error))
        {
          n++;
          _td_store_append_nonempty (problems, fts_error->message);
        }
    }

  if (n > 0)
    {
      g_set_error (error, TD_ERROR, TD_ERROR_STORE, _("The mail store is damaged: %s"),
                   problems->str);
      return FALSE;
    }
  return TRUE;
}

void
td_store_check_integrity_async (TdStore             *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (TD_IS_STORE (self));

  _td_store_queue_job (self, _td_store_job_new (self, JOB_PLAIN, integrity_job, NULL, NULL,
                            td_store_check_integrity_async, cancellable, callback, user_data));
}

gboolean
td_store_check_integrity_finish (TdStore       *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
