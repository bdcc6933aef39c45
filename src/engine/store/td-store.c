/* td-store.c: the one SQLite store of a profile
 *
 * The store thread pops jobs from a queue, in order, and runs each in one transaction on the
 * write connection. A finished job goes back to the caller's GMainContext through an idle
 * source (never g_main_context_invoke(), which may run the callback on the store thread when
 * the context is free); the signals for what it committed go, before it, to the context of
 * the thread that opened the store.
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

/* A Date more than this far in the future is a lie; the server's INTERNALDATE wins. */
#define MAX_FUTURE_SECONDS (24 * 60 * 60)

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

/* --- Specs --- */

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
