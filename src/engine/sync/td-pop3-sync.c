/* td-pop3-sync.c: one check of a POP3 account (see td-pop3-sync.h)
 *
 * One run is a chain of callbacks on the caller's main context: connect -> login -> UIDL
 * (or LIST + TOP n 0) -> the UIDL table -> RETR batches, each committed -> the UIDL table
 * again -> DELE by policy -> QUIT -> deleted_from_server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-sync"

#include "config.h"

#include "td-pop3-sync.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-pop3-session.h"
#include "td-store-pop3.h"

#define SECONDS_PER_DAY (24 * 60 * 60)

struct _TdPop3Sync
{
  GObject            parent_instance;

  TdStore           *store;
  TdAccount         *account;
  TdPop3SyncClock    clock;
  gpointer           clock_data;
  guint              batch_size;
  GIOStream         *stream;          /* tests */
  gsize              max_line;        /* tests; 0: the session's defaults */
  gsize              max_multiline;
  TdCertificateInfo *certificate_info;

  /* one run */
  GTask             *task;
  char              *password;
  TdConnection      *connection;
  TdPop3Session     *session;
  gint64             now;
  GArray            *numbers;         /* guint32: the server's messages */
  GPtrArray         *ids;             /* char*: their uidl (or "top:" hash), same order */
  GArray            *sizes;           /* guint64, no-UIDL mode */
  guint              tops_pending;
  GChecksum        **top_sums;        /* no-UIDL mode, one per message */
  GArray            *todo;            /* guint: indices into numbers of what is new */
  guint              todo_next;
  guint              batch_end;
  GByteArray        *current;
  GPtrArray         *batch;           /* TdPop3Download* */
  GPtrArray         *dele_ids;        /* char*: uidls to DELE */
  GArray            *dele_numbers;    /* guint32 */
  GPtrArray         *gone_ids;        /* char*: uidls no longer on the server */
  gboolean           retr_running;
  guint              commits_pending;
  guint              committed;       /* messages stored in this run's commits so far */
  GError            *download_error;  /* the first, reported once nothing is under way */
  guint              downloaded;
  guint              deleted;
  guint              failures;        /* [SYS/TEMP] in a row before this run */
  gboolean           had_retry;       /* the store had a wait for this account */
  guint              retry_after;     /* of the last run */
};

G_DEFINE_FINAL_TYPE (TdPop3Sync, td_pop3_sync, G_TYPE_OBJECT)

enum {
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
clear_run (TdPop3Sync *self)
{
  if (self->password != NULL)
    {
      memset (self->password, 0, strlen (self->password));
      g_clear_pointer (&self->password, g_free);
    }
  if (self->session != NULL)
    td_pop3_session_close (self->session);
  g_clear_object (&self->session);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->numbers, g_array_unref);
  g_clear_pointer (&self->ids, g_ptr_array_unref);
  g_clear_pointer (&self->sizes, g_array_unref);
  if (self->top_sums != NULL)
    {
      for (guint i = 0; self->top_sums[i] != NULL; i++)
        g_checksum_free (self->top_sums[i]);
      g_clear_pointer (&self->top_sums, g_free);
    }
  g_clear_pointer (&self->todo, g_array_unref);
  g_clear_pointer (&self->current, g_byte_array_unref);
  g_clear_pointer (&self->batch, g_ptr_array_unref);
  g_clear_pointer (&self->dele_ids, g_ptr_array_unref);
  g_clear_pointer (&self->dele_numbers, g_array_unref);
  g_clear_pointer (&self->gone_ids, g_ptr_array_unref);
  g_clear_error (&self->download_error);
  self->retr_running = FALSE;
  self->commits_pending = 0;
}

static void
td_pop3_sync_dispose (GObject *object)
{
  TdPop3Sync *self = (TdPop3Sync *) object;

  clear_run (self);
  g_clear_object (&self->store);
  g_clear_object (&self->account);
  g_clear_object (&self->stream);
  g_clear_pointer (&self->certificate_info, td_certificate_info_free);

  G_OBJECT_CLASS (td_pop3_sync_parent_class)->dispose (object);
}

static void
td_pop3_sync_class_init (TdPop3SyncClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_pop3_sync_dispose;

  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT);
}

static void
td_pop3_sync_init (TdPop3Sync *self)
{
  self->batch_size = TD_POP3_SYNC_BATCH_DEFAULT;
}

static gint64
real_clock (gpointer user_data)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

TdPop3Sync *
td_pop3_sync_new (TdStore   *store,
                  TdAccount *account)
{
  TdPop3Sync *self;

  g_return_val_if_fail (TD_IS_STORE (store), NULL);
  g_return_val_if_fail (TD_IS_ACCOUNT (account), NULL);

  self = g_object_new (TD_TYPE_POP3_SYNC, NULL);
  self->store = g_object_ref (store);
  self->account = g_object_ref (account);
  self->clock = real_clock;
  return self;
}

void
td_pop3_sync_set_clock (TdPop3Sync      *self,
                        TdPop3SyncClock  clock,
                        gpointer         user_data)
{
  g_return_if_fail (TD_IS_POP3_SYNC (self));
  self->clock = clock != NULL ? clock : real_clock;
  self->clock_data = user_data;
}

void
td_pop3_sync_set_batch_size (TdPop3Sync *self,
                             guint       batch_size)
{
  g_return_if_fail (TD_IS_POP3_SYNC (self));
  self->batch_size = MAX (batch_size, 1);
}

void
td_pop3_sync_set_limits (TdPop3Sync *self,
                         gsize       max_line,
                         gsize       max_multiline)
{
  g_return_if_fail (TD_IS_POP3_SYNC (self));
  g_return_if_fail (max_line > 0 && max_multiline > 0);
  self->max_line = max_line;
  self->max_multiline = max_multiline;
}

void
td_pop3_sync_set_stream (TdPop3Sync *self,
                         GIOStream  *stream)
{
  g_return_if_fail (TD_IS_POP3_SYNC (self));
  g_set_object (&self->stream, stream);
}

guint
td_pop3_sync_get_downloaded (TdPop3Sync *self)
{
  g_return_val_if_fail (TD_IS_POP3_SYNC (self), 0);
  return self->downloaded;
}

guint
td_pop3_sync_get_deleted (TdPop3Sync *self)
{
  g_return_val_if_fail (TD_IS_POP3_SYNC (self), 0);
  return self->deleted;
}

guint
td_pop3_sync_get_retry_after (TdPop3Sync *self)
{
  g_return_val_if_fail (TD_IS_POP3_SYNC (self), 0);
  return self->retry_after;
}

const TdCertificateInfo *
td_pop3_sync_get_certificate_info (TdPop3Sync *self)
{
  g_return_val_if_fail (TD_IS_POP3_SYNC (self), NULL);
  return self->certificate_info;
}

static void
progress (TdPop3Sync *self,
          const char *what,
          guint       done,
          guint       total)
{
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, what, done, total);
}

static GCancellable *
cancellable (TdPop3Sync *self)
{
  return g_task_get_cancellable (self->task);
}

/* --- The end of a run, and when the next may connect --- */

static void
return_task (GTask  *task,
             GError *error)
{
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* "5 minutes", "2 hours": how long a wait is, rounded up. */
static char *
wait_text (guint seconds)
{
  guint minutes = (seconds + 59) / 60;
  guint hours = (seconds + 3599) / 3600;

  if (seconds < 60)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u second", "%u seconds", seconds),
                            seconds);
  if (minutes < 120)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u minute", "%u minutes", minutes),
                            minutes);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u hour", "%u hours", hours), hours);
}

/* The LOGIN-DELAY the server announced in CAPA (RFC 2449 6.8: "LOGIN-DELAY 900", after
 * logging in perhaps for this user), bounded; 0 when none. */
static guint
announced_login_delay (TdPop3Session *session)
{
  const char *value = session != NULL ? td_pop3_session_get_capability (session, "LOGIN-DELAY")
                                      : NULL;
  guint64 seconds;

  if (value == NULL || !g_ascii_isdigit (*value))
    return 0;
  seconds = g_ascii_strtoull (value, NULL, 10);
  return (guint) MIN (seconds, TD_POP3_SYNC_RETRY_MAX);
}

/* After @failures [SYS/TEMP] in a row: 1, 2, 4 ... minutes, at most an hour. */
static guint
temporary_backoff (guint failures)
{
  guint seconds = TD_POP3_SYNC_TEMP_RETRY_FIRST;

  for (guint i = 1; i < failures && seconds < TD_POP3_SYNC_TEMP_RETRY_MAX; i++)
    seconds *= 2;
  return MIN (seconds, TD_POP3_SYNC_TEMP_RETRY_MAX);
}

typedef struct
{
  GTask  *task;
  GError *error;
} Ending;

static void
retry_saved_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Ending *ending = user_data;
  GError *error = NULL;

  /* the run's own outcome counts; a wait that could not be written only costs a refusal */
  if (!td_store_pop3_set_retry_finish (TD_STORE (source), result, &error))
    {
      g_warning ("could not remember when to check again: %s", error->message);
      g_clear_error (&error);
    }
  return_task (ending->task, ending->error);
  g_free (ending);
}

/* Ends the run: the connection is dropped without QUIT on failure, so nothing it marked
 * is removed. Takes @error. A server that asked to wait ([LOGIN-DELAY], [SYS/TEMP], or a
 * LOGIN-DELAY in CAPA) gets its wait written to the store first, so that no check connects
 * before then (RFC 2449: not a loop that hammers the server); [IN-USE] suggests a retry in a
 * minute; [AUTH] and [SYS/PERM] none (they need the user). */
static void
finish (TdPop3Sync *self,
        GError     *error)
{
  GTask *task = g_steal_pointer (&self->task);
  TdPop3Code code = self->session != NULL ? td_pop3_session_get_refusal_code (self->session)
                                          : TD_POP3_CODE_NONE;
  guint announced = announced_login_delay (self->session);
  gint64 now = self->clock (self->clock_data);
  gboolean save = FALSE;
  gint64 not_before = 0;
  guint failures = 0;

  clear_run (self);
  self->retry_after = 0;
  if (error == NULL)
    {
      /* a server that allows a login only every N seconds: the next check waits that long */
      if (announced > 0)
        {
          not_before = now + announced;
          save = TRUE;
        }
      else
        save = self->had_retry;
    }
  else if (g_error_matches (error, TD_ERROR, TD_ERROR_TRY_LATER))
    {
      switch (code)
        {
        case TD_POP3_CODE_LOGIN_DELAY:
          self->retry_after = announced > 0 ? MAX (announced, TD_POP3_SYNC_RETRY_MIN)
                                            : TD_POP3_SYNC_LOGIN_DELAY_DEFAULT;
          save = TRUE;
          break;
        case TD_POP3_CODE_SYS_TEMP:
          failures = self->failures + 1;
          self->retry_after = temporary_backoff (failures);
          save = TRUE;
          break;
        case TD_POP3_CODE_IN_USE:
        default:
          self->retry_after = TD_POP3_SYNC_IN_USE_RETRY;
          break;
        }
      if (save)
        {
          g_autofree char *wait = wait_text (self->retry_after);
          GError *waited = g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                                        _("%s Tidings waits %s before it checks again."),
                                        error->message, wait);

          g_error_free (error);
          error = waited;
          not_before = now + self->retry_after;
        }
    }

  if (save)
    {
      Ending *ending = g_new0 (Ending, 1);

      ending->task = task;
      ending->error = error;
      td_store_pop3_set_retry_async (self->store, td_account_get_id (self->account), not_before,
                                     failures, NULL, retry_saved_cb, ending);
      return;
    }
  return_task (task, error);
}

/* --- The end: DELE, QUIT, what left the server --- */

static void
gone_saved_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  GError *error = NULL;

  td_store_pop3_set_deleted_from_server_finish (self->store, result, &error);
  finish (self, error);
}

static void
quit_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  GError *error = NULL;

  if (!td_pop3_session_quit_finish (self->session, result, &error))
    {
      finish (self, error);
      return;
    }
  /* the server removed what DELE marked */
  self->deleted = self->dele_ids->len;
  g_ptr_array_extend_and_steal (self->gone_ids, g_steal_pointer (&self->dele_ids));
  self->dele_ids = g_ptr_array_new_with_free_func (g_free);
  if (self->gone_ids->len == 0)
    {
      finish (self, NULL);
      return;
    }
  td_store_pop3_set_deleted_from_server_async (self->store, td_account_get_id (self->account),
                                               self->gone_ids, self->now, NULL, gone_saved_cb,
                                               self);
}

static void
quit (TdPop3Sync *self)
{
  td_pop3_session_quit_async (self->session, NULL, quit_cb, self);
}

static void
dele_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  g_autoptr(GArray) refused = NULL;
  GError *error = NULL;

  refused = td_pop3_session_dele_many_finish (self->session, result, &error);
  if (refused == NULL)
    {
      finish (self, error);
      return;
    }
  /* a message the server would not mark stays here as it is there */
  for (guint r = 0; r < refused->len; r++)
    for (guint i = 0; i < self->dele_numbers->len; i++)
      if (g_array_index (self->dele_numbers, guint32, i) == g_array_index (refused, guint32, r))
        {
          g_array_remove_index (self->dele_numbers, i);
          g_ptr_array_remove_index (self->dele_ids, i);
          break;
        }
  quit (self);
}

static gboolean
should_delete (TdPop3Sync          *self,
               const TdPop3UidlRow *row)
{
  TdAccount *account = self->account;

  if (row->deleted_here != 0 && td_account_get_pop3_delete_when_deleted_here (account))
    return TRUE;
  switch (td_account_get_pop3_policy (account))
    {
    case TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD:
      return TRUE;
    case TD_POP3_POLICY_DELETE_AFTER_DAYS:
      return self->now - row->first_seen >=
             (gint64) td_account_get_pop3_delete_days (account) * SECONDS_PER_DAY;
    case TD_POP3_POLICY_KEEP:
    default:
      return FALSE;
    }
}

/* Invariant 1: DELE only for what has its UIDL row, i.e. is committed here. */
static void
policy_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GHashTable) known = NULL;
  g_autoptr(GHashTable) on_server = g_hash_table_new (g_str_hash, g_str_equal);
  GError *error = NULL;

  rows = td_store_pop3_list_uidls_finish (self->store, result, &error);
  if (rows == NULL)
    {
      finish (self, error);
      return;
    }
  known = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < rows->len; i++)
    {
      TdPop3UidlRow *row = g_ptr_array_index (rows, i);

      g_hash_table_insert (known, row->uidl, row);
    }

  self->dele_ids = g_ptr_array_new_with_free_func (g_free);
  self->dele_numbers = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->gone_ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < self->ids->len; i++)
    {
      const char *id = g_ptr_array_index (self->ids, i);
      TdPop3UidlRow *row = g_hash_table_lookup (known, id);

      g_hash_table_add (on_server, (gpointer) id);
      if (row == NULL || !should_delete (self, row))
        continue;
      g_ptr_array_add (self->dele_ids, g_strdup (id));
      g_array_append_val (self->dele_numbers, g_array_index (self->numbers, guint32, i));
    }
  for (guint i = 0; i < rows->len; i++)
    {
      TdPop3UidlRow *row = g_ptr_array_index (rows, i);

      if (row->deleted_from_server == 0 && !g_hash_table_contains (on_server, row->uidl))
        g_ptr_array_add (self->gone_ids, g_strdup (row->uidl));
    }

  if (self->dele_numbers->len == 0)
    {
      quit (self);
      return;
    }
  progress (self, _("Deleting from the server"), 0, self->dele_numbers->len);
  td_pop3_session_dele_many_async (self->session, (const guint32 *) self->dele_numbers->data,
                                   self->dele_numbers->len, cancellable (self), dele_cb, self);
}

static void
apply_policy (TdPop3Sync *self)
{
  td_store_pop3_list_uidls_async (self->store, td_account_get_id (self->account),
                                  cancellable (self), policy_cb, self);
}

/* --- Downloads --- */

static void download_next_batch (TdPop3Sync *self);

/* The next batch is downloaded while the one before is being committed: at most this many
 * commits wait at a time (each holds its batch in memory). */
#define COMMITS_IN_FLIGHT 2

/* Goes on with the downloads, or ends them: once every batch is in and committed, the policy
 * applies; after an error (of a RETR or of a commit), once what is under way has ended, the
 * run ends with the first error. */
static void
pump (TdPop3Sync *self)
{
  if (self->retr_running)
    return;
  if (self->download_error != NULL || self->todo_next >= self->todo->len)
    {
      if (self->commits_pending > 0)
        return;
      if (self->download_error != NULL)
        finish (self, g_steal_pointer (&self->download_error));
      else
        apply_policy (self);
      return;
    }
  if (self->commits_pending < COMMITS_IN_FLIGHT)
    download_next_batch (self);
}

static void
keep_error (TdPop3Sync *self,
            GError     *error)
{
  if (self->download_error == NULL)
    self->download_error = error;
  else
    g_error_free (error);
}

static void
committed_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  GError *error = NULL;
  guint added = 0;

  self->commits_pending--;
  if (!td_store_pop3_add_downloads_finish (self->store, result, &added, &error))
    keep_error (self, error);
  self->downloaded += added;
  self->committed += added;
  if (self->download_error == NULL)
    progress (self, _("Downloading"), MIN (self->committed, self->todo->len), self->todo->len);
  pump (self);
}

static void
chunk_cb (guint32  number,
          GBytes  *chunk,
          gpointer user_data)
{
  TdPop3Sync *self = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (chunk, &len);

  if (self->current == NULL)
    self->current = g_byte_array_new ();
  g_byte_array_append (self->current, data, (guint) len);
}

/* The number of which of the batch's messages is @number: the batch is todo[from, end). */
static const char *
id_of_number (TdPop3Sync *self,
              guint32     number)
{
  for (guint i = self->todo_next; i < self->batch_end; i++)
    {
      guint index = g_array_index (self->todo, guint, i);

      if (g_array_index (self->numbers, guint32, index) == number)
        return g_ptr_array_index (self->ids, index);
    }
  return NULL;
}

static void
message_cb (guint32       number,
            const GError *error,
            gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  g_autoptr(GByteArray) raw = g_steal_pointer (&self->current);
  const char *id = id_of_number (self, number);

  if (error != NULL)
    {
      /* e.g. another client removed it meanwhile: the next check sees */
      g_debug ("message %u was not downloaded: %s", number, error->message);
      return;
    }
  if (id == NULL)
    return;
  {
    g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes (raw != NULL ? g_steal_pointer (&raw)
                                                                       : g_byte_array_new ());

    g_ptr_array_add (self->batch, td_pop3_download_new (id, bytes, self->now));
  }
}

static void
retr_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  g_autoptr(GPtrArray) batch = g_steal_pointer (&self->batch);
  GError *error = NULL;

  self->retr_running = FALSE;
  if (!td_pop3_session_retr_many_finish (self->session, result, &error))
    keep_error (self, error);
  g_clear_pointer (&self->current, g_byte_array_unref);   /* a message cut in the middle */
  self->todo_next = self->batch_end;
  /* what arrived whole is stored even when the connection broke after it */
  self->commits_pending++;
  td_store_pop3_add_downloads_async (self->store, td_account_get_id (self->account), batch,
                                     NULL, committed_cb, self);
  pump (self);
}

static void
download_next_batch (TdPop3Sync *self)
{
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint32));

  self->batch_end = MIN (self->todo_next + self->batch_size, self->todo->len);
  for (guint i = self->todo_next; i < self->batch_end; i++)
    g_array_append_val (numbers, g_array_index (self->numbers, guint32,
                                                g_array_index (self->todo, guint, i)));
  self->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) td_pop3_download_free);
  self->retr_running = TRUE;
  td_pop3_session_retr_many_async (self->session, (const guint32 *) numbers->data, numbers->len,
                                   chunk_cb, message_cb, self, cancellable (self), retr_cb,
                                   self);
}

static void
known_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GHashTable) known = g_hash_table_new (g_str_hash, g_str_equal);
  GError *error = NULL;

  rows = td_store_pop3_list_uidls_finish (self->store, result, &error);
  if (rows == NULL)
    {
      finish (self, error);
      return;
    }
  for (guint i = 0; i < rows->len; i++)
    g_hash_table_add (known, ((TdPop3UidlRow *) g_ptr_array_index (rows, i))->uidl);

  self->todo = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < self->ids->len; i++)
    if (!g_hash_table_contains (known, g_ptr_array_index (self->ids, i)))
      g_array_append_val (self->todo, i);

  self->todo_next = 0;
  if (self->todo->len > 0)
    progress (self, _("Downloading"), 0, self->todo->len);
  pump (self);
}

/* Server ids must be unique here: a second message with the same id (a broken server, or two
 * identical messages without UIDL) gets "#2", "#3"... in listing order. */
static void
make_ids_unique (GPtrArray *ids)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < ids->len; i++)
    {
      char *id = g_ptr_array_index (ids, i);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (seen, id));

      g_hash_table_insert (seen, g_strdup (id), GUINT_TO_POINTER (n + 1));
      if (n > 0)
        {
          ids->pdata[i] = g_strdup_printf ("%s#%u", id, n + 1);
          g_free (id);
        }
    }
}

static void
have_ids (TdPop3Sync *self)
{
  make_ids_unique (self->ids);
  td_store_pop3_list_uidls_async (self->store, td_account_get_id (self->account),
                                  cancellable (self), known_cb, self);
}

/* --- Without UIDL: a hash of TOP n 0 and the size --- */

typedef struct
{
  TdPop3Sync *self;
  guint       index;
} Top;

static void
top_chunk_cb (guint32  number,
              GBytes  *chunk,
              gpointer user_data)
{
  Top *top = user_data;
  gsize len;
  const guchar *data = g_bytes_get_data (chunk, &len);

  g_checksum_update (top->self->top_sums[top->index], data, (gssize) len);
}

static void
top_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Top *top = user_data;
  TdPop3Sync *self = top->self;
  guint index = top->index;
  GError *error = NULL;

  g_free (top);
  if (self->task == NULL)
    return;   /* the run failed already */
  if (!td_pop3_session_top_finish (self->session, result, &error))
    {
      finish (self, error);
      return;
    }
  {
    g_autofree char *size = g_strdup_printf ("\n%" G_GUINT64_FORMAT,
                                             g_array_index (self->sizes, guint64, index));

    g_checksum_update (self->top_sums[index], (const guchar *) size, -1);
    g_ptr_array_index (self->ids, index) =
      g_strconcat ("top:", g_checksum_get_string (self->top_sums[index]), NULL);
  }
  if (--self->tops_pending == 0)
    have_ids (self);
}

static void
list_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  g_autoptr(GArray) list = NULL;
  GError *error = NULL;

  list = td_pop3_session_list_finish (self->session, result, &error);
  if (list == NULL)
    {
      finish (self, error);
      return;
    }
  self->sizes = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->top_sums = g_new0 (GChecksum *, list->len + 1);
  for (guint i = 0; i < list->len; i++)
    {
      TdPop3ListEntry *entry = &g_array_index (list, TdPop3ListEntry, i);

      g_array_append_val (self->numbers, entry->number);
      g_array_append_val (self->sizes, entry->size);
      g_ptr_array_add (self->ids, NULL);
      self->top_sums[i] = g_checksum_new (G_CHECKSUM_SHA256);
    }
  if (list->len == 0)
    {
      have_ids (self);
      return;
    }
  self->tops_pending = list->len;
  for (guint i = 0; i < list->len; i++)
    {
      Top *top = g_new0 (Top, 1);

      top->self = self;
      top->index = i;
      td_pop3_session_top_async (self->session, g_array_index (self->numbers, guint32, i), 0,
                                 top_chunk_cb, top, cancellable (self), top_cb, top);
    }
}

static void
identify_by_headers (TdPop3Sync *self)
{
  g_debug ("%s has no UIDL: messages are identified by their headers",
           td_account_get_host (self->account));
  td_pop3_session_list_async (self->session, cancellable (self), list_cb, self);
}

static void
uidl_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  g_autoptr(GPtrArray) entries = NULL;
  GError *error = NULL;

  entries = td_pop3_session_uidl_finish (self->session, result, &error);
  if (entries == NULL)
    {
      if (g_error_matches (error, TD_ERROR, TD_ERROR_PROTOCOL))
        {
          /* refused ("-ERR"): a server without UIDL; the connection is fine */
          g_clear_error (&error);
          identify_by_headers (self);
          return;
        }
      finish (self, error);
      return;
    }
  for (guint i = 0; i < entries->len; i++)
    {
      TdPop3UidlEntry *entry = g_ptr_array_index (entries, i);

      g_array_append_val (self->numbers, entry->number);
      g_ptr_array_add (self->ids, g_strdup (entry->uid));
    }
  have_ids (self);
}

/* --- Connecting and logging in --- */

static void
logged_in_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  GError *error = NULL;
  gboolean ok;

  if (g_async_result_is_tagged (result, td_pop3_session_auth_plain_async))
    ok = td_pop3_session_auth_plain_finish (self->session, result, &error);
  else
    ok = td_pop3_session_login_finish (self->session, result, &error);
  if (self->password != NULL)
    {
      memset (self->password, 0, strlen (self->password));
      g_clear_pointer (&self->password, g_free);
    }
  if (!ok)
    {
      finish (self, error);
      return;
    }

  progress (self, _("Checking for new mail"), 0, 0);
  self->numbers = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->ids = g_ptr_array_new_with_free_func (g_free);
  if (td_pop3_session_get_capa_supported (self->session) &&
      !td_pop3_session_has_capability (self->session, "UIDL"))
    identify_by_headers (self);
  else
    td_pop3_session_uidl_async (self->session, cancellable (self), uidl_cb, self);
}

static gboolean
offers_plain (TdPop3Session *session)
{
  const char *mechanisms = td_pop3_session_get_capability (session, "SASL");
  g_auto(GStrv) words = NULL;

  if (mechanisms == NULL)
    return FALSE;
  words = g_strsplit (mechanisms, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (g_ascii_strcasecmp (words[i], "PLAIN") == 0)
      return TRUE;
  return FALSE;
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  const char *user = td_account_get_username (self->account);
  GError *error = NULL;

  if (!td_pop3_session_connect_finish (self->session, result, &error))
    {
      const TdCertificateInfo *info = self->connection != NULL ?
        td_connection_get_certificate_info (self->connection) : NULL;

      if (g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE) && info != NULL)
        self->certificate_info = td_certificate_info_copy (info);
      finish (self, error);
      return;
    }

  progress (self, _("Logging in"), 0, 0);
  if (user == NULL)
    user = td_account_get_address (self->account);
  if (offers_plain (self->session))
    td_pop3_session_auth_plain_async (self->session, user, self->password, cancellable (self),
                                      logged_in_cb, self);
  else
    td_pop3_session_login_async (self->session, user, self->password, cancellable (self),
                                 logged_in_cb, self);
}

/* Whether the server asked to wait: then this check fails at once, without connecting. */
static void
retry_known_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  TdPop3Sync *self = user_data;
  GError *error = NULL;
  gint64 not_before = 0;
  guint failures = 0;

  if (!td_store_pop3_get_retry_finish (self->store, result, &not_before, &failures, &error))
    {
      finish (self, error);
      return;
    }
  self->had_retry = not_before > 0;
  self->failures = failures;
  if (not_before > self->now)
    {
      GTask *task = g_steal_pointer (&self->task);
      g_autofree char *wait = NULL;

      clear_run (self);
      self->retry_after = (guint) MIN (not_before - self->now, TD_POP3_SYNC_RETRY_MAX);
      wait = wait_text (self->retry_after);
      if (failures > 0)
        error = g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                             _("The server had a temporary problem at the last check and asked "
                               "to wait. Try again in %s."), wait);
      else
        error = g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                             _("The server allows checking for new mail only every so often, "
                               "and the last check was too recent. Try again in %s."), wait);
      return_task (task, error);
      return;
    }

  progress (self, _("Connecting"), 0, 0);
  if (self->stream != NULL)
    self->session = td_pop3_session_new_for_stream (self->stream);
  else
    {
      self->connection = td_connection_new (td_account_get_host (self->account),
                                            td_account_get_port (self->account),
                                            td_account_get_security (self->account));
      td_connection_set_pinned_fingerprint (self->connection,
                                            td_account_get_pinned_fingerprint (self->account));
      self->session = td_pop3_session_new (self->connection);
    }
  if (self->max_line > 0)
    td_pop3_session_set_limits (self->session, self->max_line, self->max_multiline);
  td_pop3_session_connect_async (self->session, cancellable (self), connected_cb, self);
}

void
td_pop3_sync_run_async (TdPop3Sync          *self,
                        const char          *password,
                        GCancellable        *cancellable_,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_POP3_SYNC (self));
  g_return_if_fail (password != NULL);

  task = g_task_new (self, cancellable_, callback, user_data);
  g_task_set_source_tag (task, td_pop3_sync_run_async);
  if (self->task != NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               _("This account is being checked already."));
      return;
    }
  if (td_account_get_kind (self->account) != TD_ACCOUNT_KIND_POP3)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_INVALID,
                               _("This is not a POP3 account."));
      return;
    }

  self->task = g_steal_pointer (&task);
  self->password = g_strdup (password);
  self->now = self->clock (self->clock_data);
  self->downloaded = 0;
  self->committed = 0;
  self->deleted = 0;
  self->failures = 0;
  self->had_retry = FALSE;
  self->retry_after = 0;
  g_clear_pointer (&self->certificate_info, td_certificate_info_free);

  td_store_pop3_get_retry_async (self->store, td_account_get_id (self->account),
                                 cancellable (self), retry_known_cb, self);
}

gboolean
td_pop3_sync_run_finish (TdPop3Sync    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
