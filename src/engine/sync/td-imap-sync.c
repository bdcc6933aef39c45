/* td-imap-sync.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-sync"

#include "config.h"

#include "td-imap-sync.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"
#include "td-imap-client.h"
#include "td-imap-replay.h"
#include "td-imap-session.h"

/* Tuned on the 10,000-message benchmark (bench/): enough in flight to keep the connection
 * busy while the store thread writes, few enough to bound memory. The store thread is the
 * slowest stage and stalls now and then (a WAL checkpoint waits for the disk): four queued
 * writes let the connection and the parse thread work on meanwhile, so the store thread
 * finds its next batch parsed. With two, it sat idle or waited for the parse thread about
 * 1.0-1.4 s of a 3.3-4.7 s sync; with four, 0.4-0.8 s, for about 5 MB more peak RSS. */
#define HEADER_UIDS_PER_FETCH  500
#define BODY_UIDS_PER_FETCH    25
#define BODY_FLUSH_BYTES       (4 * 1024 * 1024)
#define MAX_FETCHES_IN_FLIGHT  3
#define MAX_WRITES_IN_FLIGHT   4
#define UID_SET_MAX_LEN        4000

#define HEADER_ITEMS "UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER]"
#define HEADER_ITEMS_MODSEQ HEADER_ITEMS " MODSEQ"
#define BODY_ITEMS   "UID BODY.PEEK[]"

typedef enum
{
  PHASE_HEADERS,
  PHASE_BODIES,
} Phase;

struct _TdImapSync
{
  GObject            parent_instance;

  TdStore           *store;
  TdAccount         *account;
  TdImapClient      *client;
  gboolean           own_client;       /* made by td_imap_sync_new(), for this sync alone */
  TdImapSession     *session;          /* from the client; kept after release (late callbacks) */
  gboolean           session_held;     /* not released to the client yet */
  TdImapReplay      *replay;
  TdCertificateInfo *certificate_info;

  /* The running sync; NULL once it returned. */
  GTask             *task;
  GCancellable      *cancellable;
  gboolean           replay_only;      /* send the journal, then log out */
  gint64             fetch_folder_id;  /* fetch one body (set_fetch_body), else 0 */
  char              *fetch_folder_path;
  guint32            fetch_uid;

  GPtrArray         *folders;          /* TdImapListEntry*, selectable, in sync order */
  guint              folder_index;
  guint              folders_skipped;  /* unchanged by LIST-STATUS: not selected */
  guint32            listed_while_selected; /* UIDVALIDITY of the folder selected then */

  /* The folder being synced */
  gint64             folder_id;
  char              *folder_name;
  TdImapMailbox      mailbox;
  TdFolderState      local_state;
  gboolean           uidvalidity_changed;
  gboolean           qresync;          /* selected with QRESYNC: changes came with the SELECT */
  gboolean           folder_gone;      /* deleted or renamed here meanwhile: being left */
  GArray            *vanished;         /* QRESYNC: uids expunged on the server */
  GArray            *local_uids;       /* ascending */
  GArray            *server_uids;      /* ascending */
  GArray            *flag_changes;     /* TdUidFlags */

  /* The fetch pump, for headers then bodies */
  Phase              phase;
  GArray            *queue;            /* uids to fetch, newest first */
  guint              queue_pos;
  guint              fetches_in_flight;
  guint              writes_in_flight;
  GPtrArray         *pending;          /* TdMessageSpec* or TdBodySpec* not yet written */
  gsize              pending_bytes;
  guint              done;
  guint              total;
};

G_DEFINE_FINAL_TYPE (TdImapSync, td_imap_sync, G_TYPE_OBJECT)

enum {
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void next_folder (TdImapSync *self);
static void pump        (TdImapSync *self);

/* Gives the session back to the client: for the next user, or closed when it is not
 * @reusable (a sync that failed may have left anything in flight). */
static void
release_session (TdImapSync *self,
                 gboolean    reusable)
{
  if (!self->session_held)
    return;
  self->session_held = FALSE;
  td_imap_client_release (self->client, self->session, reusable);
}

static void
td_imap_sync_dispose (GObject *object)
{
  TdImapSync *self = (TdImapSync *) object;

  release_session (self, FALSE);
  g_clear_object (&self->replay);
  g_clear_object (&self->session);
  g_clear_object (&self->client);
  g_clear_object (&self->store);
  g_clear_object (&self->account);
  g_clear_object (&self->task);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (td_imap_sync_parent_class)->dispose (object);
}

static void
clear_folder_state (TdImapSync *self)
{
  g_clear_pointer (&self->folder_name, g_free);
  g_clear_pointer (&self->local_uids, g_array_unref);
  g_clear_pointer (&self->server_uids, g_array_unref);
  g_clear_pointer (&self->flag_changes, g_array_unref);
  g_clear_pointer (&self->vanished, g_array_unref);
  g_clear_pointer (&self->queue, g_array_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  self->queue_pos = 0;
  self->pending_bytes = 0;
  self->done = 0;
  self->total = 0;
  self->folder_id = 0;
  self->uidvalidity_changed = FALSE;
  self->qresync = FALSE;
  self->folder_gone = FALSE;
}

static void
td_imap_sync_finalize (GObject *object)
{
  TdImapSync *self = (TdImapSync *) object;

  clear_folder_state (self);
  g_clear_pointer (&self->folders, g_ptr_array_unref);
  g_clear_pointer (&self->certificate_info, td_certificate_info_free);
  g_free (self->fetch_folder_path);

  G_OBJECT_CLASS (td_imap_sync_parent_class)->finalize (object);
}

static void
td_imap_sync_class_init (TdImapSyncClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_imap_sync_dispose;
  object_class->finalize = td_imap_sync_finalize;

  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT);
}

static void
td_imap_sync_init (TdImapSync *self)
{
}

TdImapSync *
td_imap_sync_new_for_client (TdStore      *store,
                             TdImapClient *client)
{
  TdImapSync *self;

  g_return_val_if_fail (TD_IS_STORE (store), NULL);
  g_return_val_if_fail (TD_IS_IMAP_CLIENT (client), NULL);

  self = g_object_new (TD_TYPE_IMAP_SYNC, NULL);
  self->store = g_object_ref (store);
  self->client = g_object_ref (client);
  self->account = g_object_ref (td_imap_client_get_account (client));
  return self;
}

TdImapSync *
td_imap_sync_new (TdStore   *store,
                  TdAccount *account)
{
  g_autoptr(TdImapClient) client = NULL;
  TdImapSync *self;

  g_return_val_if_fail (TD_IS_STORE (store), NULL);
  g_return_val_if_fail (TD_IS_ACCOUNT (account), NULL);

  /* one connection, logged out as soon as the sync ends */
  client = td_imap_client_new (account);
  td_imap_client_set_max_sessions (client, 1);
  td_imap_client_set_idle_timeout (client, 0);
  self = td_imap_sync_new_for_client (store, client);
  self->own_client = TRUE;
  return self;
}

void
td_imap_sync_set_fetch_body (TdImapSync *self,
                             gint64      folder_id,
                             const char *folder_path,
                             guint32     uid)
{
  g_return_if_fail (TD_IS_IMAP_SYNC (self));
  g_return_if_fail (folder_path != NULL && uid > 0);

  self->fetch_folder_id = folder_id;
  g_free (self->fetch_folder_path);
  self->fetch_folder_path = g_strdup (folder_path);
  self->fetch_uid = uid;
}

void
td_imap_sync_set_replay_only (TdImapSync *self,
                              gboolean    replay_only)
{
  g_return_if_fail (TD_IS_IMAP_SYNC (self));
  self->replay_only = replay_only;
}

const TdCertificateInfo *
td_imap_sync_get_certificate_info (TdImapSync *self)
{
  g_return_val_if_fail (TD_IS_IMAP_SYNC (self), NULL);
  return self->certificate_info;
}

static void
progress (TdImapSync *self,
          const char *what,
          guint       done,
          guint       total)
{
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, what, done, total);
}

/* Ends the sync with @error (taken). Later callbacks of operations still in flight see
 * self->task == NULL and do nothing. */
static void
fail (TdImapSync *self,
      GError     *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  g_assert (error != NULL);

  if (task == NULL)
    {
      g_error_free (error);
      return;
    }

  if (g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE))
    {
      const TdCertificateInfo *info = td_imap_client_get_certificate_info (self->client);

      g_clear_pointer (&self->certificate_info, td_certificate_info_free);
      if (info != NULL)
        self->certificate_info = td_certificate_info_copy (info);
    }

  g_debug ("Sync of %s failed: %s", td_account_get_address (self->account), error->message);
  /* closed: commands may still be in flight on it */
  release_session (self, FALSE);
  g_task_return_error (task, error);
}

/* TRUE when the sync is still running and @error is unset; otherwise ends it. */
static gboolean
check (TdImapSync *self,
       GError     *error)
{
  if (self->task == NULL)
    {
      g_clear_error (&error);
      return FALSE;
    }
  if (error != NULL)
    {
      fail (self, error);
      return FALSE;
    }
  return TRUE;
}

/* --- Per folder --- */

/* Goes on with the next folder once nothing of the gone one is in flight. */
static void
leave_gone_folder (TdImapSync *self)
{
  if (self->task == NULL || self->fetches_in_flight > 0 || self->writes_in_flight > 0)
    return;
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  self->folder_index++;
  next_folder (self);
}

/* Like check(), for what the store answers about the folder being synced. The user may
 * delete or rename it here while the sync is inside it (the change waits in the journal):
 * the store then has no such folder. That ends this folder's sync, not the account's: what
 * is still in flight is let finish and dropped, and the sync goes on with the next folder.
 * FALSE then, as for an error. */
static gboolean
check_store (TdImapSync *self,
             GError     *error)
{
  if (self->task != NULL && self->fetch_uid == 0 &&
      g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
    {
      if (!self->folder_gone)
        g_debug ("Sync: %s is gone from the store meanwhile, left", self->folder_name);
      g_error_free (error);
      self->folder_gone = TRUE;
      leave_gone_folder (self);
      return FALSE;
    }
  return check (self, error);
}

static void
folder_state_saved_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_store_set_folder_state_finish (self->store, result, &error);
  if (!check_store (self, error))
    return;

  self->folder_index++;
  next_folder (self);
}

static void finish (TdImapSync *self);

static void
folder_done (TdImapSync *self)
{
  TdFolderState state = {
    .uidvalidity = self->mailbox.uidvalidity,
    .uidnext = self->mailbox.uidnext,
    .highestmodseq = self->mailbox.highestmodseq,
  };

  if (self->fetch_uid != 0)
    {
      /* one body fetched: the folder's state is the sync's to advance, not ours */
      finish (self);
      return;
    }
  if (state.uidvalidity == self->local_state.uidvalidity &&
      state.uidnext == self->local_state.uidnext &&
      state.highestmodseq == self->local_state.highestmodseq)
    {
      /* nothing to write: the no-change resync of a large account stays one round trip per
       * folder */
      self->folder_index++;
      next_folder (self);
      return;
    }
  td_store_set_folder_state_async (self->store, self->folder_id, &state, self->cancellable,
                                   folder_state_saved_cb, g_object_ref (self));
}

static void
bodies_listed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;
  GArray *uids;

  uids = td_store_list_missing_bodies_finish (self->store, result, &error);
  if (!check_store (self, error))
    {
      g_clear_pointer (&uids, g_array_unref);
      return;
    }

  g_clear_pointer (&self->queue, g_array_unref);
  self->queue = uids;
  self->queue_pos = 0;
  self->phase = PHASE_BODIES;
  self->done = 0;
  self->total = uids->len;
  if (uids->len > 0)
    {
      g_autofree char *what = g_strdup_printf (_("Downloading messages in %s"), self->folder_name);

      progress (self, what, 0, self->total);
    }
  pump (self);
}

/* The first second of the account's sync window; 0: all mail. */
static gint64
window_start (TdImapSync *self)
{
  guint days = td_account_get_sync_days (self->account);

  if (days == 0)
    return 0;
  return g_get_real_time () / G_USEC_PER_SEC - (gint64) days * 24 * 60 * 60;
}

/* The bodies inside the account's sync window, newest first; older ones wait to be opened. */
static void
start_bodies (TdImapSync *self)
{
  td_store_list_missing_bodies_async (self->store, self->folder_id, window_start (self),
                                      self->cancellable, bodies_listed_cb, g_object_ref (self));
}

static void
flags_written_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_store_update_flags_finish (self->store, result, &error);
  if (!check_store (self, error))
    return;
  start_bodies (self);
}

/* The keywords of a FETCH, space-separated ("" for none). */
static char *
join_keywords (GPtrArray *keywords)
{
  GString *joined = g_string_new (NULL);

  for (guint i = 0; keywords != NULL && i < keywords->len; i++)
    {
      if (joined->len > 0)
        g_string_append_c (joined, ' ');
      g_string_append (joined, g_ptr_array_index (keywords, i));
    }
  return g_string_free (joined, FALSE);
}

static void
flags_item_cb (TdImapFetch *fetch,
               gpointer     user_data)
{
  TdImapSync *self = user_data;
  TdUidFlags change;

  if ((fetch->fields & TD_IMAP_FETCH_HAS_UID) == 0 || (fetch->fields & TD_IMAP_FETCH_HAS_FLAGS) == 0)
    return;
  memset (&change, 0, sizeof change);
  change.uid = fetch->uid;
  change.flags = fetch->flags & TD_FLAGS_STORED;
  if (fetch->fields & TD_IMAP_FETCH_HAS_MODSEQ)
    change.modseq = fetch->modseq;
  /* FLAGS is the whole set: keywords no longer listed were removed elsewhere */
  change.keywords = join_keywords (fetch->keywords);
  g_array_append_val (self->flag_changes, change);
}

static void
flags_fetched_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_imap_session_uid_fetch_finish (self->session, result, &error);
  if (!check (self, error))
    return;

  if (self->flag_changes->len == 0)
    {
      start_bodies (self);
      return;
    }
  td_store_update_flags_async (self->store, self->folder_id, self->flag_changes,
                               self->cancellable, flags_written_cb, g_object_ref (self));
}

/* Flags of the messages that were here before this sync. New ones came with their flags. */
static void
start_flags (TdImapSync *self)
{
  g_autofree char *set = NULL;
  guint32 last_known = 0;
  guint64 changed_since = 0;

  if (self->qresync)
    {
      /* the SELECT brought the changed flags already */
      start_bodies (self);
      return;
    }

  for (guint i = self->local_uids->len; i > 0; i--)
    {
      guint32 uid = g_array_index (self->local_uids, guint32, i - 1);

      last_known = uid;
      break;
    }

  if (last_known == 0 || self->uidvalidity_changed)
    {
      start_bodies (self);
      return;
    }

  if (self->mailbox.highestmodseq > 0 && self->local_state.highestmodseq > 0)
    {
      if (self->mailbox.highestmodseq == self->local_state.highestmodseq)
        {
          /* Nothing changed on the server since the last sync. */
          start_bodies (self);
          return;
        }
      changed_since = self->local_state.highestmodseq;
    }

  self->flag_changes = td_uid_flags_array_new ();
  set = g_strdup_printf ("1:%u", last_known);
  td_imap_session_uid_fetch_async (self->session, set, "UID FLAGS", changed_since,
                                   flags_item_cb, self, self->cancellable,
                                   flags_fetched_cb, g_object_ref (self));
}

/* --- The fetch pump: headers, then bodies --- */

typedef struct
{
  TdImapSync *self;
  guint       count;
} WriteData;

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  WriteData *data = user_data;
  g_autoptr(TdImapSync) self = data->self;
  GError *error = NULL;
  guint n = data->count;

  g_free (data);
  if (self->phase == PHASE_HEADERS)
    td_store_add_messages_finish (self->store, result, &error);
  else
    td_store_set_bodies_finish (self->store, result, &error);
  self->writes_in_flight--;
  if (!check_store (self, error))
    return;
  if (self->folder_gone)
    {
      leave_gone_folder (self);
      return;
    }

  self->done += n;
  if (self->total > 0)
    {
      g_autofree char *what = NULL;

      if (self->phase == PHASE_HEADERS)
        what = g_strdup_printf (_("Checking for new messages in %s"), self->folder_name);
      else
        what = g_strdup_printf (_("Downloading messages in %s"), self->folder_name);
      progress (self, what, MIN (self->done, self->total), self->total);
    }
  pump (self);
}

static void
flush (TdImapSync *self)
{
  g_autoptr(GPtrArray) batch = NULL;
  WriteData *data;

  if (self->pending == NULL || self->pending->len == 0)
    return;

  batch = g_steal_pointer (&self->pending);
  self->pending_bytes = 0;
  self->writes_in_flight++;
  data = g_new0 (WriteData, 1);
  data->self = g_object_ref (self);
  data->count = batch->len;

  if (self->phase == PHASE_HEADERS)
    td_store_add_messages_async (self->store, self->folder_id, batch, self->cancellable,
                                 written_cb, data);
  else
    td_store_set_bodies_async (self->store, self->folder_id, batch, self->cancellable,
                               written_cb, data);
}

static void
fetch_item_cb (TdImapFetch *fetch,
               gpointer     user_data)
{
  TdImapSync *self = user_data;

  if (self->task == NULL || self->folder_gone || (fetch->fields & TD_IMAP_FETCH_HAS_UID) == 0)
    return;

  if (self->pending == NULL)
    self->pending = g_ptr_array_new_with_free_func (self->phase == PHASE_HEADERS
                                                    ? (GDestroyNotify) td_message_spec_free
                                                    : (GDestroyNotify) td_body_spec_free);

  if (self->phase == PHASE_HEADERS)
    {
      TdMessageSpec *spec;

      if (fetch->header == NULL)
        return;
      spec = td_message_spec_new (fetch->uid, fetch->flags & TD_FLAGS_STORED,
                                  fetch->internaldate, fetch->size, fetch->header);
      if (fetch->fields & TD_IMAP_FETCH_HAS_MODSEQ)
        spec->modseq = fetch->modseq;
      if (fetch->keywords != NULL && fetch->keywords->len > 0)
        spec->keywords = join_keywords (fetch->keywords);
      g_ptr_array_add (self->pending, spec);
    }
  else
    {
      if (fetch->body == NULL)
        return;
      g_ptr_array_add (self->pending, td_body_spec_new (fetch->uid, fetch->body));
      self->pending_bytes += g_bytes_get_size (fetch->body);
      if (self->pending_bytes >= BODY_FLUSH_BYTES)
        flush (self);
    }
}

static void
fetched_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_imap_session_uid_fetch_finish (self->session, result, &error);
  if (!check (self, error))
    return;

  self->fetches_in_flight--;
  if (self->folder_gone)
    {
      leave_gone_folder (self);
      return;
    }
  flush (self);
  pump (self);
}

static int
compare_uid (gconstpointer a,
             gconstpointer b)
{
  guint32 x = *(const guint32 *) a;
  guint32 y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

static void
pump (TdImapSync *self)
{
  gboolean headers = self->phase == PHASE_HEADERS;
  guint per_fetch = headers ? HEADER_UIDS_PER_FETCH : BODY_UIDS_PER_FETCH;

  if (self->task == NULL || self->folder_gone)
    return;

  while (self->queue_pos < self->queue->len &&
         self->fetches_in_flight < MAX_FETCHES_IN_FLIGHT &&
         self->writes_in_flight < MAX_WRITES_IN_FLIGHT)
    {
      guint n = MIN (per_fetch, self->queue->len - self->queue_pos);
      g_autofree guint32 *chunk = g_new (guint32, n);
      g_autofree char *set = NULL;
      guint consumed = 0;

      memcpy (chunk, &g_array_index (self->queue, guint32, self->queue_pos), n * sizeof (guint32));
      qsort (chunk, n, sizeof (guint32), compare_uid);
      set = td_imap_uid_set_build (chunk, n, UID_SET_MAX_LEN, &consumed);
      if (consumed == 0)
        {
          fail (self, g_error_new (TD_ERROR, TD_ERROR_FAILED, "Could not build a UID set"));
          return;
        }
      /* The set holds the lowest @consumed uids of the chunk. When the length cap cut it,
       * reorder the window so the fetched uids come first and the rest (newest first) stay
       * queued. */
      if (consumed < n)
        {
          guint32 *window = &g_array_index (self->queue, guint32, self->queue_pos);

          memcpy (window, chunk, consumed * sizeof (guint32));
          for (guint i = consumed; i < n; i++)
            window[i] = chunk[n - 1 - (i - consumed)];
          n = consumed;
        }
      self->queue_pos += n;
      self->fetches_in_flight++;
      td_imap_session_uid_fetch_async (self->session, set,
                                       !headers ? BODY_ITEMS
                                       : self->mailbox.highestmodseq > 0 ? HEADER_ITEMS_MODSEQ
                                       : HEADER_ITEMS,
                                       0,
                                       fetch_item_cb, self, self->cancellable,
                                       fetched_cb, g_object_ref (self));
    }

  if (self->queue_pos >= self->queue->len &&
      self->fetches_in_flight == 0 &&
      self->writes_in_flight == 0 &&
      (self->pending == NULL || self->pending->len == 0))
    {
      if (headers)
        start_flags (self);
      else
        folder_done (self);
    }
}

/* --- A folder: EXAMINE, UIDVALIDITY, what is new and what is gone --- */

static void
start_headers (TdImapSync *self)
{
  GArray *fresh = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint li = 0;

  /* Server uids not known here, newest first. Both arrays are ascending. */
  for (guint si = 0; si < self->server_uids->len; si++)
    {
      guint32 uid = g_array_index (self->server_uids, guint32, si);

      while (li < self->local_uids->len && g_array_index (self->local_uids, guint32, li) < uid)
        li++;
      if (li < self->local_uids->len && g_array_index (self->local_uids, guint32, li) == uid)
        continue;
      g_array_append_val (fresh, uid);
    }
  for (guint i = 0; i < fresh->len / 2; i++)
    {
      guint32 t = g_array_index (fresh, guint32, i);

      g_array_index (fresh, guint32, i) = g_array_index (fresh, guint32, fresh->len - 1 - i);
      g_array_index (fresh, guint32, fresh->len - 1 - i) = t;
    }

  g_clear_pointer (&self->queue, g_array_unref);
  self->queue = fresh;
  self->queue_pos = 0;
  self->phase = PHASE_HEADERS;
  self->done = 0;
  self->total = fresh->len;
  if (fresh->len > 0)
    {
      g_autofree char *what = g_strdup_printf (_("Checking for new messages in %s"),
                                               self->folder_name);

      progress (self, what, 0, self->total);
    }
  pump (self);
}

static void
vanished_removed_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_store_remove_messages_finish (self->store, result, &error);
  if (!check_store (self, error))
    return;
  start_headers (self);
}

static void
got_server_uids (TdImapSync *self,
                 GArray     *server_uids)
{
  g_autoptr(GArray) vanished = g_array_new (FALSE, FALSE, sizeof (guint32));
  GArray *still_here = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint si = 0;

  g_array_sort (server_uids, compare_uid);
  self->server_uids = server_uids;

  /* Known here but gone from the server: expunged elsewhere. */
  for (guint li = 0; li < self->local_uids->len; li++)
    {
      guint32 uid = g_array_index (self->local_uids, guint32, li);

      while (si < server_uids->len && g_array_index (server_uids, guint32, si) < uid)
        si++;
      if (si < server_uids->len && g_array_index (server_uids, guint32, si) == uid)
        g_array_append_val (still_here, uid);
      else
        g_array_append_val (vanished, uid);
    }
  g_array_unref (self->local_uids);
  self->local_uids = still_here;

  if (vanished->len == 0)
    {
      start_headers (self);
      return;
    }

  g_debug ("%u messages of %s were removed on the server", vanished->len, self->folder_name);
  td_store_remove_messages_async (self->store, self->folder_id, vanished, self->cancellable,
                                  vanished_removed_cb, g_object_ref (self));
}

static void
searched_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;
  GArray *uids;

  uids = td_imap_session_uid_search_finish (self->session, result, &error);
  if (!check (self, error))
    {
      g_clear_pointer (&uids, g_array_unref);
      return;
    }
  got_server_uids (self, uids);
}

static void
local_uids_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;
  GArray *uids;

  uids = td_store_list_uids_finish (self->store, result, &error);
  if (!check_store (self, error))
    {
      g_clear_pointer (&uids, g_array_unref);
      return;
    }
  self->local_uids = uids;

  if (self->mailbox.exists == 0)
    {
      got_server_uids (self, g_array_new (FALSE, FALSE, sizeof (guint32)));
      return;
    }

  td_imap_session_uid_search_async (self->session,
                                    td_imap_session_has_capability (self->session, "ESEARCH")
                                    ? "RETURN (ALL) ALL" : "ALL",
                                    self->cancellable, searched_cb, g_object_ref (self));
}

static void
list_local_uids (TdImapSync *self)
{
  td_store_list_uids_async (self->store, self->folder_id, FALSE, self->cancellable,
                            local_uids_cb, g_object_ref (self));
}

static void
folder_reset_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_store_reset_folder_finish (self->store, result, &error);
  if (!check_store (self, error))
    return;
  list_local_uids (self);
}

/* --- A folder selected with QRESYNC: apply what the SELECT said, then fetch what is new --- */

static void
qresync_vanished_cb (const guint32 *uids,
                     guint          n_uids,
                     gpointer       user_data)
{
  TdImapSync *self = user_data;

  if (self->vanished != NULL)
    g_array_append_vals (self->vanished, uids, n_uids);
}

static void
qresync_new_uids_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  g_autoptr(GArray) found = NULL;
  GArray *fresh;
  GError *error = NULL;

  found = td_imap_session_uid_search_finish (self->session, result, &error);
  if (!check (self, error))
    return;

  /* "UID n:*" also matches the highest uid when it is below n (RFC 3501 6.4.8) */
  fresh = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint i = 0; i < found->len; i++)
    {
      guint32 uid = g_array_index (found, guint32, i);

      if (uid >= self->local_state.uidnext)
        g_array_append_val (fresh, uid);
    }
  g_clear_pointer (&self->local_uids, g_array_unref);
  self->local_uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_clear_pointer (&self->server_uids, g_array_unref);
  self->server_uids = fresh;
  start_headers (self);
}

static void
qresync_fetch_new (TdImapSync *self)
{
  g_autofree char *criteria = NULL;
  gboolean esearch = td_imap_session_has_capability (self->session, "ESEARCH");

  if (self->mailbox.uidnext != 0 && self->mailbox.uidnext <= self->local_state.uidnext)
    {
      /* nothing new: no round trip */
      g_clear_pointer (&self->local_uids, g_array_unref);
      self->local_uids = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_clear_pointer (&self->server_uids, g_array_unref);
      self->server_uids = g_array_new (FALSE, FALSE, sizeof (guint32));
      start_headers (self);
      return;
    }
  criteria = g_strdup_printf ("%sUID %u:*", esearch ? "RETURN (ALL) " : "",
                              MAX (self->local_state.uidnext, 1));
  td_imap_session_uid_search_async (self->session, criteria, self->cancellable,
                                    qresync_new_uids_cb, g_object_ref (self));
}

static void
qresync_flags_written_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_store_update_flags_finish (self->store, result, &error);
  if (!check_store (self, error))
    return;
  qresync_fetch_new (self);
}

static void
qresync_flags (TdImapSync *self)
{
  if (self->flag_changes->len == 0)
    {
      qresync_fetch_new (self);
      return;
    }
  td_store_update_flags_async (self->store, self->folder_id, self->flag_changes,
                               self->cancellable, qresync_flags_written_cb,
                               g_object_ref (self));
}

static void
qresync_vanished_removed_cb (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_store_remove_messages_finish (self->store, result, &error);
  if (!check_store (self, error))
    return;
  qresync_flags (self);
}

static void
qresync_apply (TdImapSync *self)
{
  if (self->vanished->len == 0)
    {
      qresync_flags (self);
      return;
    }
  g_debug ("%u messages of %s were removed on the server", self->vanished->len,
           self->folder_name);
  td_store_remove_messages_async (self->store, self->folder_id, self->vanished,
                                  self->cancellable, qresync_vanished_removed_cb,
                                  g_object_ref (self));
}

static void folder_selected (TdImapSync *self);

static void
local_flags_saved_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_store_set_folder_local_flags_finish (self->store, result, &error);
  if (!check_store (self, error))
    return;
  folder_selected (self);
}

static void
selected_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;
  const TdImapMailbox *mailbox;
  TdFlags local_flags;

  if (self->qresync)
    mailbox = td_imap_session_select_qresync_finish (self->session, result, &error);
  else
    mailbox = td_imap_session_select_finish (self->session, result, &error);
  if (!check (self, error))
    return;

  self->mailbox = *mailbox;

  /* Flags the folder cannot keep (PERMANENTFLAGS without them, e.g. $Forwarded without
   * "\*") live only here: the flags fetched from the server must not take them away. A
   * read-only folder (PERMANENTFLAGS (), or none) stores no flags at all: nothing to say;
   * nor does a server that does not say PERMANENTFLAGS (what the replay learned from a
   * refused STORE is kept). */
  local_flags = self->local_state.local_flags;
  if (!self->mailbox.read_only &&
      (self->mailbox.permanent_flags != 0 || self->mailbox.keywords_allowed))
    {
      local_flags = TD_FLAGS_STORED & ~self->mailbox.permanent_flags;
      if (!self->mailbox.keywords_allowed)
        local_flags |= TD_FLAG_KEYWORDS;     /* no "\*": other keywords stay here */
    }
  if (local_flags != self->local_state.local_flags)
    {
      self->local_state.local_flags = local_flags;
      td_store_set_folder_local_flags_async (self->store, self->folder_id, local_flags,
                                             self->cancellable, local_flags_saved_cb,
                                             g_object_ref (self));
      return;
    }
  folder_selected (self);
}

static void
folder_selected (TdImapSync *self)
{
  if (self->local_state.uidvalidity != 0 &&
      self->local_state.uidvalidity != self->mailbox.uidvalidity)
    {
      /* RFC 3501 2.3.1.1: the old uids mean nothing now; fetch the folder again. */
      TdFolderState state = { .uidvalidity = self->mailbox.uidvalidity };

      g_message ("UIDVALIDITY of %s changed (%u -> %u): downloading it again",
                 self->folder_name, self->local_state.uidvalidity, self->mailbox.uidvalidity);
      self->uidvalidity_changed = TRUE;
      self->qresync = FALSE;
      g_clear_pointer (&self->vanished, g_array_unref);
      g_clear_pointer (&self->flag_changes, g_array_unref);
      self->local_state = state;
      td_store_reset_folder_async (self->store, self->folder_id, &state, self->cancellable,
                                   folder_reset_cb, g_object_ref (self));
      return;
    }

  if (self->qresync)
    qresync_apply (self);
  else
    list_local_uids (self);
}

static void
select_folder (TdImapSync      *self,
               TdImapListEntry *entry)
{
  if (td_imap_session_is_enabled (self->session, "QRESYNC") &&
      self->local_state.uidvalidity != 0 && self->local_state.highestmodseq != 0)
    {
      /* RFC 7162 3.2.5: the server tells what changed since our HIGHESTMODSEQ (VANISHED
       * (EARLIER) and FETCH) in the answer to the SELECT itself */
      self->qresync = TRUE;
      self->vanished = g_array_new (FALSE, FALSE, sizeof (guint32));
      self->flag_changes = td_uid_flags_array_new ();
      td_imap_session_select_qresync_async (self->session, entry->raw_path, TRUE,
                                            self->local_state.uidvalidity,
                                            self->local_state.highestmodseq,
                                            qresync_vanished_cb, flags_item_cb, self,
                                            self->cancellable, selected_cb,
                                            g_object_ref (self));
      return;
    }
  /* Read-write, although the sync only reads (BODY.PEEK): a server may settle its mailbox
   * only then. GNU Mailutils gives a Maildir with mail in new/ a new UIDVALIDITY at every
   * EXAMINE (or STATUS) until a SELECT moves that mail to cur/, so each sync would download
   * the folder again. */
  td_imap_session_select_async (self->session, entry->raw_path, FALSE, self->cancellable,
                                selected_cb, g_object_ref (self));
}

/* LIST-STATUS (RFC 5819) told the folder's state with the list. Never STATUS alone: only a
 * full match with what the last complete sync of the folder saw counts (HIGHESTMODSEQ moves
 * with every flag change and expunge, UIDNEXT with every new message, MESSAGES with both);
 * any difference, or a server that hands out a new UIDVALIDITY with every STATUS, means a
 * SELECT as without it. */
static gboolean
unchanged_since_last_sync (TdImapSync            *self,
                           const TdImapListEntry *entry,
                           TdFolder              *folder)
{
  if (self->listed_while_selected != 0 &&
      entry->status_uidvalidity == self->listed_while_selected)
    return FALSE;   /* probably the folder the session had selected */
  return entry->has_status && entry->status_highestmodseq != 0 &&
         self->local_state.uidvalidity != 0 && self->local_state.highestmodseq != 0 &&
         entry->status_uidvalidity == self->local_state.uidvalidity &&
         entry->status_uidnext == self->local_state.uidnext &&
         entry->status_highestmodseq == self->local_state.highestmodseq &&
         entry->status_messages == td_folder_get_total (folder);
}

/* An unchanged folder is skipped unless bodies inside the sync window are still missing (the
 * window was widened, or an earlier sync was cut during them). */
static void
unchanged_bodies_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  g_autoptr(GArray) uids = NULL;
  GError *error = NULL;

  uids = td_store_list_missing_bodies_finish (self->store, result, &error);
  if (!check_store (self, error))
    return;
  if (uids->len > 0)
    {
      select_folder (self, g_ptr_array_index (self->folders, self->folder_index));
      return;
    }
  self->folders_skipped++;
  self->folder_index++;
  next_folder (self);
}

static void
next_folder (TdImapSync *self)
{
  TdImapListEntry *entry;
  g_autoptr(TdFolder) folder = NULL;
  GError *error = NULL;

  clear_folder_state (self);

  if (self->folder_index >= self->folders->len)
    {
      finish (self);
      return;
    }

  entry = g_ptr_array_index (self->folders, self->folder_index);
  folder = td_store_find_folder (self->store, td_account_get_id (self->account), entry->path,
                                 &error);
  if (folder == NULL && g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
    {
      /* renamed or deleted here since the listing, or not kept (a change waits in the
       * journal): nothing of it to sync now */
      g_debug ("Sync: %s is not in the store, skipped", entry->path);
      g_clear_error (&error);
      self->folder_index++;
      next_folder (self);
      return;
    }
  if (folder == NULL)
    {
      fail (self, error);
      return;
    }

  self->folder_id = td_folder_get_id (folder);
  self->folder_name = g_strdup (td_folder_get_name (folder));
  progress (self, td_folder_get_name (folder), self->folder_index, self->folders->len);

  if (!td_store_get_folder_state (self->store, self->folder_id, &self->local_state, &error))
    {
      fail (self, error);
      return;
    }
  if (unchanged_since_last_sync (self, entry, folder))
    {
      td_store_list_missing_bodies_async (self->store, self->folder_id, window_start (self),
                                          self->cancellable, unchanged_bodies_cb,
                                          g_object_ref (self));
      return;
    }
  select_folder (self, entry);
}

/* --- Connecting and listing --- */

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const TdImapListEntry *x = *(TdImapListEntry * const *) a;
  const TdImapListEntry *y = *(TdImapListEntry * const *) b;
  int kx = td_folder_role_sort_key (x->role);
  int ky = td_folder_role_sort_key (y->role);

  if (kx != ky)
    return kx - ky;
  return g_strcmp0 (x->path, y->path);
}

static void
folders_stored_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_store_sync_folders_finish (self->store, result, &error);
  if (!check (self, error))
    return;

  self->folder_index = 0;
  next_folder (self);
}

static void
listed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GPtrArray) specs = NULL;
  g_autoptr(GPtrArray) synthesized = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = NULL;
  GError *error = NULL;

  entries = td_imap_session_list_finish (self->session, result, &error);
  if (!check (self, error))
    return;

  specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_folder_spec_free);
  g_clear_pointer (&self->folders, g_ptr_array_unref);
  self->folders = g_ptr_array_new ();
  g_ptr_array_set_free_func (self->folders, (GDestroyNotify) td_imap_list_entry_free);

  seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < entries->len; i++)
    g_hash_table_add (seen, ((TdImapListEntry *) g_ptr_array_index (entries, i))->path);

  for (guint i = 0; i < entries->len; i++)
    {
      TdImapListEntry *entry = g_ptr_array_index (entries, i);

      g_ptr_array_add (specs, td_folder_spec_new (entry->path, entry->delimiter, entry->role,
                                                  !entry->noselect));
      if (entry->has_status)
        ((TdFolderSpec *) g_ptr_array_index (specs, specs->len - 1))->uidvalidity =
          entry->status_uidvalidity;

      /* A server need not list the parents of its folders ("Lists" of "Lists/GNOME", often
       * \NonExistent): keep the tree whole with containers that hold no mail. */
      if (entry->delimiter != '\0')
        {
          const char *p = entry->path;

          while ((p = strchr (p, entry->delimiter)) != NULL)
            {
              char *parent = g_strndup (entry->path, (gsize) (p - entry->path));

              p++;
              if (*parent == '\0' || g_hash_table_contains (seen, parent))
                {
                  g_free (parent);
                  continue;
                }
              g_ptr_array_add (specs, td_folder_spec_new (parent, entry->delimiter,
                                                          TD_FOLDER_ROLE_NONE, FALSE));
              g_ptr_array_add (synthesized, parent);
              g_hash_table_add (seen, parent);
            }
        }
    }

  for (guint i = 0; i < entries->len; i++)
    {
      TdImapListEntry *entry = g_ptr_array_index (entries, i);

      if (!entry->noselect)
        g_ptr_array_add (self->folders, g_ptr_array_steal_index (entries, i--));
    }
  g_ptr_array_sort (self->folders, compare_entries);

  td_store_sync_folders_async (self->store, td_account_get_id (self->account), specs,
                               self->cancellable, folders_stored_cb, g_object_ref (self));
}

/* Everything is stored: the session goes back to the client (which logs it out when nobody
 * needs it), and the sync is done. */
static void
finish (TdImapSync *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  g_debug ("Sync of %s: %u of %u folders unchanged (LIST-STATUS), not selected",
           td_account_get_address (self->account), self->folders_skipped,
           self->folders != NULL ? self->folders->len : 0);
  progress (self, _("Finishing"), 0, 0);
  release_session (self, TRUE);
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static void
start_listing (TdImapSync *self)
{
  const TdImapMailbox *selected = td_imap_session_get_mailbox (self->session);

  /* A session from the pool may still have a folder selected. A server answers STATUS for
   * the selected folder from that session's view, which (without a NOOP) misses what came
   * in since: that folder's LIST-STATUS is not to be trusted (RFC 3501 6.3.10). */
  self->listed_while_selected = 0;
  if (td_imap_session_get_state (self->session) == TD_IMAP_STATE_SELECTED && selected != NULL)
    self->listed_while_selected = selected->uidvalidity;
  progress (self, _("Listing folders"), 0, 0);
  td_imap_session_list_async (self->session, self->cancellable, listed_cb, g_object_ref (self));
}

static void
quota_saved_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_store_set_account_quota_finish (self->store, result, &error);
  if (!check (self, error))
    return;
  start_listing (self);
}

static void
quota_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  g_autoptr(GError) error = NULL;
  guint64 usage = 0, limit = 0;

  if (!td_imap_session_get_quota_finish (self->session, result, &usage, &limit, &error))
    {
      /* no storage quota, the server would not say, or said nonsense: not a reason to stop */
      if (!g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND) &&
          !g_error_matches (error, TD_ERROR, TD_ERROR_PROTOCOL) &&
          !g_error_matches (error, TD_ERROR, TD_ERROR_PARSE))
        {
          check (self, g_steal_pointer (&error));
          return;
        }
      start_listing (self);
      return;
    }
  if ((gint64) usage == td_account_get_quota_usage (self->account) &&
      (gint64) limit == td_account_get_quota_limit (self->account))
    {
      start_listing (self);
      return;
    }
  td_store_set_account_quota_async (self->store, td_account_get_id (self->account),
                                    (gint64) usage, (gint64) limit, self->cancellable,
                                    quota_saved_cb, g_object_ref (self));
}

/* The space used on the server (RFC 9208), shown with the account; then the folders. */
static void
list_folders (TdImapSync *self)
{
  if (self->replay_only)
    {
      finish (self);
      return;
    }
  if (td_imap_session_has_capability (self->session, "QUOTA"))
    {
      td_imap_session_get_quota_async (self->session, "INBOX", self->cancellable, quota_cb,
                                       g_object_ref (self));
      return;
    }
  start_listing (self);
}

static void
replay_progress_cb (TdImapReplay *replay,
                    guint         done,
                    guint         total,
                    gpointer      user_data)
{
  TdImapSync *self = user_data;

  progress (self, _("Sending your changes"), done, total);
}

static void
replayed_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;

  td_imap_replay_run_finish (self->replay, result, &error);
  if (!check (self, error))
    return;
  if (td_imap_replay_get_replayed (self->replay) + td_imap_replay_get_dropped (self->replay) > 0)
    g_debug ("Sent %u changes to %s (%u could not be applied)",
             td_imap_replay_get_replayed (self->replay), td_account_get_address (self->account),
             td_imap_replay_get_dropped (self->replay));
  list_folders (self);
}

/* Local actions first: the folders listed and the flags fetched afterwards then already hold
 * them, and nothing done here offline is overwritten by the server's older state. */
static void
start_replay (TdImapSync *self)
{
  if (td_store_count_journal (self->store, td_account_get_id (self->account)) == 0)
    {
      list_folders (self);
      return;
    }
  progress (self, _("Sending your changes"), 0, 0);
  g_clear_object (&self->replay);
  self->replay = td_imap_replay_new (self->store, self->account, self->session);
  g_signal_connect_object (self->replay, "progress", G_CALLBACK (replay_progress_cb), self, 0);
  td_imap_replay_run_async (self->replay, self->cancellable, replayed_cb, g_object_ref (self));
}

static void
enabled_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  g_autoptr(GError) error = NULL;

  /* Without QRESYNC the sync takes the CONDSTORE or the plain path: slower, not wrong. */
  if (!td_imap_session_enable_finish (self->session, result, &error) && error != NULL)
    {
      if (!g_error_matches (error, TD_ERROR, TD_ERROR_PROTOCOL))
        {
          check (self, g_steal_pointer (&error));
          return;
        }
      g_debug ("ENABLE QRESYNC refused: %s", error->message);
    }
  start_replay (self);
}

/* One body, for a message outside the sync window that the user opened. */
static void
fetch_selected_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  const TdImapMailbox *mailbox;
  GError *error = NULL;

  mailbox = td_imap_session_select_finish (self->session, result, &error);
  if (!check (self, error))
    return;

  self->mailbox = *mailbox;
  self->folder_id = self->fetch_folder_id;
  self->folder_name = g_strdup (self->fetch_folder_path);
  self->queue = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_array_append_val (self->queue, self->fetch_uid);
  self->queue_pos = 0;
  self->phase = PHASE_BODIES;
  self->done = 0;
  self->total = 1;
  pump (self);
}

static void
acquired_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapSync) self = user_data;
  GError *error = NULL;
  TdImapSession *session;

  session = td_imap_client_acquire_finish (self->client, result, &error);
  if (session != NULL)
    {
      g_clear_object (&self->session);
      self->session = session;
      self->session_held = TRUE;
    }
  /* a client of this sync alone needs the password no more */
  if (self->own_client)
    td_imap_client_set_password (self->client, NULL);
  if (!check (self, error))
    {
      release_session (self, TRUE);   /* cancelled meanwhile: nothing was sent on it */
      return;
    }

  if (self->fetch_uid != 0)
    {
      g_autofree char *raw = td_imap_utf7_encode (self->fetch_folder_path);

      progress (self, _("Downloading the message"), 0, 1);
      td_imap_session_select_async (self->session, raw, TRUE, self->cancellable,
                                    fetch_selected_cb, g_object_ref (self));
      return;
    }
  /* a session from the pool may have it enabled already */
  if (td_imap_session_has_capability (self->session, "QRESYNC") &&
      !td_imap_session_is_enabled (self->session, "QRESYNC"))
    td_imap_session_enable_async (self->session, "QRESYNC", self->cancellable, enabled_cb,
                                  g_object_ref (self));
  else
    start_replay (self);
}

void
td_imap_sync_run_async (TdImapSync          *self,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *what = NULL;

  g_return_if_fail (TD_IS_IMAP_SYNC (self));
  g_return_if_fail (password != NULL || !self->own_client);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_sync_run_async);

  if (self->task != NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               "A sync of this account is already running");
      return;
    }

  self->task = g_steal_pointer (&task);
  g_set_object (&self->cancellable, cancellable);
  g_clear_pointer (&self->certificate_info, td_certificate_info_free);
  if (password != NULL)
    td_imap_client_set_password (self->client, password);

  /* a logged-in session: from the pool, or connected and logged in for us */
  what = g_strdup_printf (_("Connecting to %s"), td_account_get_host (self->account));
  progress (self, what, 0, 0);
  td_imap_client_acquire_async (self->client, TD_IMAP_CLIENT_COMMANDS, self->cancellable,
                                acquired_cb, g_object_ref (self));
}

gboolean
td_imap_sync_run_finish (TdImapSync    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
