/* td-imap-client.c: the IMAP connections of one account, pooled
 *
 * Every session the client knows is a Slot: being opened (connect + login), handed out
 * (busy), or idle in the pool. Sessions being logged out are no slots any more; only their
 * number is kept, for shutdown. dispatch() is the one place that matches waiters with
 * sessions; everything that frees or adds a session calls it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-imap"

#include "config.h"

#include "td-imap-client.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

/* An idle session is logged out this long before its connection's read timeout would fail
 * it (the read waiting since the last answer keeps the deadline it started with). */
#define IDLE_MARGIN_MS 5000

typedef enum
{
  SLOT_OPENING,
  SLOT_BUSY,
  SLOT_IDLE,
} SlotState;

typedef struct
{
  TdImapClient        *client;       /* not a reference: slots go before the client does */
  TdImapSession       *session;
  TdConnection        *connection;
  TdImapClientPurpose  purpose;
  SlotState            state;
  GCancellable        *cancellable;  /* connect and login */
  gulong               closed_id;
  guint                timeout_id;   /* idle timeout */
  gint64               idle_since;   /* wall clock: a suspend does not stop it */
  guint                idle_ms;      /* how long it may stay idle */
} Slot;

/* A waiting acquire (task data). */
typedef struct
{
  TdImapClientPurpose  purpose;
  GSource             *cancel_source;
} Request;

/* What an acquire returns: the session goes back by itself unless _finish takes it. */
typedef struct
{
  TdImapClient  *client;
  TdImapSession *session;
} Lease;

struct _TdImapClient
{
  GObject            parent_instance;

  TdAccount         *account;
  char              *password;
  guint              max_sessions;
  guint              idle_timeout;

  GPtrArray         *slots;          /* Slot*: opening, busy, idle */
  GQueue             idle;           /* Slot*, least recently released first */
  GQueue             waiting[2];     /* GTask* per TdImapClientPurpose, FIFO */

  GHashTable        *caps_asked;     /* upper-case atoms to record at each login */
  GHashTable        *caps;           /* those the last login had */
  TdCertificateInfo *certificate_info;

  gboolean           shut_down;
  guint              n_logging_out;
  GPtrArray         *shutdown_tasks; /* GTask* waiting for the logouts */

  gboolean           dispatching;
  gboolean           dispatch_again;
  gboolean           disposing;
};

G_DEFINE_FINAL_TYPE (TdImapClient, td_imap_client, G_TYPE_OBJECT)

/* Recorded at every login: what the engine asks about. */
static const char * const engine_capabilities[] = {
  "IMAP4REV1", "IDLE", "CONDSTORE", "QRESYNC", "ENABLE", "UIDPLUS", "MOVE", "QUOTA",
  "ESEARCH", "SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "NAMESPACE", "NOTIFY", "LITERAL+",
  "LITERAL-", "SASL-IR", "ID", "UNSELECT", "AUTH=PLAIN",
};

static void dispatch (TdImapClient *self);

/* --- Slots --- */

static void
wipe_password (TdImapClient *self)
{
  if (self->password != NULL)
    {
      memset (self->password, 0, strlen (self->password));
      g_clear_pointer (&self->password, g_free);
    }
}

static Slot *
find_slot (TdImapClient  *self,
           TdImapSession *session)
{
  for (guint i = 0; i < self->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (self->slots, i);

      if (slot->session == session)
        return slot;
    }
  return NULL;
}

static guint
count_slots (TdImapClient        *self,
             TdImapClientPurpose  purpose,
             gboolean             opening_only)
{
  guint n = 0;

  for (guint i = 0; i < self->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (self->slots, i);

      if (slot->purpose == purpose && (!opening_only || slot->state == SLOT_OPENING))
        n++;
    }
  return n;
}

static gboolean
session_usable (TdImapSession *session)
{
  TdImapState state = td_imap_session_get_state (session);

  return state == TD_IMAP_STATE_AUTHENTICATED || state == TD_IMAP_STATE_SELECTED;
}

static void
logout_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(TdImapClient) self = user_data;

  /* a failed LOGOUT closed the connection all the same */
  td_imap_session_logout_finish (TD_IMAP_SESSION (source), result, NULL);
  g_assert (self->n_logging_out > 0);
  if (--self->n_logging_out == 0 && self->shutdown_tasks->len > 0)
    {
      g_autoptr(GPtrArray) tasks = g_steal_pointer (&self->shutdown_tasks);

      self->shutdown_tasks = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < tasks->len; i++)
        g_task_return_boolean (g_ptr_array_index (tasks, i), TRUE);
    }
}

/* Takes @slot out of the client and ends its session: LOGOUT with @logout, else at once. */
static void
retire (TdImapClient *self,
        Slot         *slot,
        gboolean      logout)
{
  g_autoptr(TdImapSession) session = g_steal_pointer (&slot->session);

  g_ptr_array_remove (self->slots, slot);
  g_queue_remove (&self->idle, slot);
  g_clear_handle_id (&slot->timeout_id, g_source_remove);
  g_clear_signal_handler (&slot->closed_id, session);
  if (slot->cancellable != NULL)
    g_cancellable_cancel (slot->cancellable);
  g_clear_object (&slot->cancellable);
  g_clear_object (&slot->connection);
  g_free (slot);

  if (logout && session_usable (session) && self->disposing)
    td_imap_session_logout_async (session, NULL, NULL, NULL);   /* the client is going */
  else if (logout && session_usable (session))
    {
      self->n_logging_out++;
      td_imap_session_logout_async (session, NULL, logout_cb, g_object_ref (self));
    }
  else
    td_imap_session_close (session);
}

static void
session_closed_cb (TdImapSession *session,
                   const GError  *error,
                   TdImapClient  *self)
{
  Slot *slot = find_slot (self, session);

  /* a busy session's holder finds out by itself, an opening one fails its login */
  if (slot == NULL || slot->state != SLOT_IDLE)
    return;
  g_debug ("A pooled connection to %s closed: %s", td_account_get_host (self->account),
           error != NULL ? error->message : "by the server");
  retire (self, slot, FALSE);
  dispatch (self);
}

static gboolean
idle_timeout_cb (gpointer user_data)
{
  Slot *slot = user_data;

  slot->timeout_id = 0;
  retire (slot->client, slot, TRUE);
  return G_SOURCE_REMOVE;
}

/* How long @slot may stay idle: the idle timeout, cut to what its connection's read
 * timeout leaves. */
static guint
idle_ms_for (TdImapClient *self,
             Slot         *slot)
{
  guint timeout_ms = td_connection_get_timeout (slot->connection) * 1000;
  guint ms = self->idle_timeout;

  if (timeout_ms > 0)
    ms = MIN (ms, timeout_ms > 2 * IDLE_MARGIN_MS ? timeout_ms - IDLE_MARGIN_MS : timeout_ms / 2);
  return ms;
}

static void
make_idle (TdImapClient *self,
           Slot         *slot)
{
  slot->state = SLOT_IDLE;
  slot->purpose = TD_IMAP_CLIENT_COMMANDS;
  slot->idle_since = g_get_real_time ();
  slot->idle_ms = idle_ms_for (self, slot);
  g_queue_push_tail (&self->idle, slot);
  slot->timeout_id = g_timeout_add (slot->idle_ms, idle_timeout_cb, slot);
}

/* The most recently released idle session that is still logged in and not past its time;
 * the others are ended on the way. */
static Slot *
take_idle (TdImapClient *self)
{
  Slot *slot;

  while ((slot = g_queue_pop_tail (&self->idle)) != NULL)
    {
      gint64 idle_for_ms = (g_get_real_time () - slot->idle_since) / 1000;

      g_clear_handle_id (&slot->timeout_id, g_source_remove);
      if (!session_usable (slot->session))
        retire (self, slot, FALSE);
      else if (idle_for_ms < 0 || idle_for_ms >= slot->idle_ms)
        retire (self, slot, TRUE);         /* the timer did not run: a suspend, a busy loop */
      else
        return slot;
    }
  return NULL;
}

/* --- Requests --- */

static void
request_free (Request *request)
{
  if (request->cancel_source != NULL)
    {
      g_source_destroy (request->cancel_source);
      g_source_unref (request->cancel_source);
    }
  g_free (request);
}

static void
lease_free (Lease *lease)
{
  if (lease->session != NULL)
    td_imap_client_release (lease->client, lease->session, TRUE);
  g_clear_object (&lease->session);
  g_clear_object (&lease->client);
  g_free (lease);
}

/* Hands @slot to the waiter @task (taken out of its queue already). */
static void
lease (TdImapClient *self,
       Slot         *slot,
       GTask        *task)
{
  Request *request = g_task_get_task_data (task);
  Lease *result = g_new0 (Lease, 1);

  slot->state = SLOT_BUSY;
  slot->purpose = request->purpose;
  g_queue_remove (&self->idle, slot);
  g_clear_handle_id (&slot->timeout_id, g_source_remove);
  if (request->cancel_source != NULL)
    {
      g_source_destroy (request->cancel_source);
      g_clear_pointer (&request->cancel_source, g_source_unref);
    }

  result->client = g_object_ref (self);
  result->session = g_object_ref (slot->session);
  g_task_return_pointer (task, result, (GDestroyNotify) lease_free);
  g_object_unref (task);
}

static void
fail_waiters (TdImapClient        *self,
              TdImapClientPurpose  purpose,
              const GError        *error)
{
  GTask *task;

  while ((task = g_queue_pop_head (&self->waiting[purpose])) != NULL)
    {
      g_task_return_error (task, g_error_copy (error));
      g_object_unref (task);
    }
}

static void
fail_head (TdImapClient        *self,
           TdImapClientPurpose  purpose,
           const GError        *error)
{
  GTask *task = g_queue_pop_head (&self->waiting[purpose]);

  if (task != NULL)
    {
      g_task_return_error (task, g_error_copy (error));
      g_object_unref (task);
    }
}

/* --- Opening a session --- */

static void
record_capabilities (TdImapClient  *self,
                     TdImapSession *session)
{
  GHashTableIter iter;
  gpointer atom;

  g_hash_table_remove_all (self->caps);
  g_hash_table_iter_init (&iter, self->caps_asked);
  while (g_hash_table_iter_next (&iter, &atom, NULL))
    if (td_imap_session_has_capability (session, atom))
      g_hash_table_add (self->caps, g_strdup (atom));
}

/* A new session is logged in: it serves the first waiter of its purpose, or the pool. */
static void
slot_ready (TdImapClient *self,
            Slot         *slot)
{
  GTask *task = g_queue_pop_head (&self->waiting[slot->purpose]);

  if (task != NULL)
    lease (self, slot, task);
  else if (!self->shut_down && self->idle_timeout > 0 &&
           (slot->purpose == TD_IMAP_CLIENT_COMMANDS ||
            count_slots (self, TD_IMAP_CLIENT_COMMANDS, FALSE) < self->max_sessions))
    make_idle (self, slot);
  else
    retire (self, slot, TRUE);
}

static void
opening_failed (TdImapClient *self,
                Slot         *slot,
                GError       *error)
{
  TdImapClientPurpose purpose = slot->purpose;

  if (g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE))
    {
      const TdCertificateInfo *info = td_connection_get_certificate_info (slot->connection);

      g_clear_pointer (&self->certificate_info, td_certificate_info_free);
      if (info != NULL)
        self->certificate_info = td_certificate_info_copy (info);
    }
  retire (self, slot, FALSE);

  g_debug ("Connecting to %s failed: %s", td_account_get_host (self->account), error->message);
  if (g_error_matches (error, TD_ERROR, TD_ERROR_AUTH) ||
      g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE) ||
      g_error_matches (error, TD_ERROR, TD_ERROR_TLS_REQUIRED))
    {
      /* the same again would only fail again (and lock the account on some servers) */
      if (g_error_matches (error, TD_ERROR, TD_ERROR_AUTH))
        wipe_password (self);
      fail_waiters (self, TD_IMAP_CLIENT_COMMANDS, error);
      fail_waiters (self, TD_IMAP_CLIENT_WATCH, error);
    }
  else
    fail_head (self, purpose, error);
  g_error_free (error);
}

static void
logged_in_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TdImapClient) self = user_data;
  TdImapSession *session = TD_IMAP_SESSION (source);
  Slot *slot = find_slot (self, session);
  GError *error = NULL;

  td_imap_session_login_finish (session, result, &error);
  if (slot == NULL)
    {
      /* shut down meanwhile */
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    opening_failed (self, slot, error);
  else
    {
      g_clear_object (&slot->cancellable);
      slot->state = SLOT_BUSY;
      record_capabilities (self, session);
      slot_ready (self, slot);
    }
  dispatch (self);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TdImapClient) self = user_data;
  TdImapSession *session = TD_IMAP_SESSION (source);
  Slot *slot = find_slot (self, session);
  GError *error = NULL;

  td_imap_session_connect_finish (session, result, &error);
  if (slot == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error == NULL && self->password == NULL)
    error = g_error_new (TD_ERROR, TD_ERROR_NO_PASSWORD, _("There is no password for %s"),
                         td_account_get_address (self->account));
  if (error != NULL)
    {
      opening_failed (self, slot, error);
      dispatch (self);
      return;
    }
  td_imap_session_login_async (session, td_account_get_username (self->account),
                               self->password, slot->cancellable, logged_in_cb,
                               g_object_ref (self));
}

static void
open_slot (TdImapClient        *self,
           TdImapClientPurpose  purpose)
{
  Slot *slot = g_new0 (Slot, 1);

  slot->client = self;
  slot->purpose = purpose;
  slot->state = SLOT_OPENING;
  slot->connection = td_connection_new (td_account_get_host (self->account),
                                        td_account_get_port (self->account),
                                        td_account_get_security (self->account));
  td_connection_set_pinned_fingerprint (slot->connection,
                                        td_account_get_pinned_fingerprint (self->account));
  slot->session = td_imap_session_new (slot->connection);
  slot->cancellable = g_cancellable_new ();
  slot->closed_id = g_signal_connect (slot->session, "closed", G_CALLBACK (session_closed_cb),
                                      self);
  g_ptr_array_add (self->slots, slot);

  td_imap_session_connect_async (slot->session, slot->cancellable, connected_cb,
                                 g_object_ref (self));
}

/* --- Matching waiters and sessions --- */

/* Serves (or starts serving) the first waiter of @purpose; FALSE when nothing could be done. */
static gboolean
serve_one (TdImapClient        *self,
           TdImapClientPurpose  purpose)
{
  GTask *head = g_queue_peek_head (&self->waiting[purpose]);
  guint n_watches = count_slots (self, TD_IMAP_CLIENT_WATCH, FALSE);
  gboolean room;
  Slot *slot;

  if (head == NULL)
    return FALSE;

  /* an idle pooled session first (a watch takes one only inside its own allowance) */
  if (purpose == TD_IMAP_CLIENT_COMMANDS || n_watches < TD_IMAP_CLIENT_MAX_WATCHES)
    {
      slot = take_idle (self);
      if (slot != NULL)
        {
          lease (self, slot, g_queue_pop_head (&self->waiting[purpose]));
          return TRUE;
        }
    }

  /* a new one, for the waiters that no connection being opened will serve */
  if (g_queue_get_length (&self->waiting[purpose]) <= count_slots (self, purpose, TRUE))
    return FALSE;
  if (purpose == TD_IMAP_CLIENT_COMMANDS)
    room = count_slots (self, TD_IMAP_CLIENT_COMMANDS, FALSE) < self->max_sessions;
  else
    room = n_watches < TD_IMAP_CLIENT_MAX_WATCHES;
  if (!room)
    return FALSE;

  if (self->password == NULL)
    {
      g_autoptr(GError) error = g_error_new (TD_ERROR, TD_ERROR_NO_PASSWORD,
                                             _("There is no password for %s"),
                                             td_account_get_address (self->account));

      fail_head (self, purpose, error);
      return TRUE;
    }
  open_slot (self, purpose);
  return TRUE;
}

static void
dispatch (TdImapClient *self)
{
  g_autoptr(TdImapClient) keep = NULL;

  /* a waiter's callback may call back in (release, acquire): it is served by the loop */
  if (self->dispatching)
    {
      self->dispatch_again = TRUE;
      return;
    }
  keep = g_object_ref (self);
  self->dispatching = TRUE;
  do
    {
      self->dispatch_again = FALSE;
      while (serve_one (self, TD_IMAP_CLIENT_COMMANDS) || serve_one (self, TD_IMAP_CLIENT_WATCH))
        ;
    }
  while (self->dispatch_again);
  self->dispatching = FALSE;
}

/* --- GObject --- */

static void
td_imap_client_dispose (GObject *object)
{
  TdImapClient *self = (TdImapClient *) object;

  /* Waiters and connections being opened hold a reference: only idle sessions (logged
   * out) and busy ones (a holder must keep the client until it releases) can be left. */
  self->disposing = TRUE;
  while (self->slots != NULL && self->slots->len > 0)
    {
      Slot *slot = g_ptr_array_index (self->slots, self->slots->len - 1);

      retire (self, slot, slot->state == SLOT_IDLE);
    }
  g_clear_object (&self->account);

  G_OBJECT_CLASS (td_imap_client_parent_class)->dispose (object);
}

static void
td_imap_client_finalize (GObject *object)
{
  TdImapClient *self = (TdImapClient *) object;

  wipe_password (self);
  g_clear_pointer (&self->slots, g_ptr_array_unref);
  g_clear_pointer (&self->shutdown_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->caps_asked, g_hash_table_unref);
  g_clear_pointer (&self->caps, g_hash_table_unref);
  g_clear_pointer (&self->certificate_info, td_certificate_info_free);

  G_OBJECT_CLASS (td_imap_client_parent_class)->finalize (object);
}

static void
td_imap_client_class_init (TdImapClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_imap_client_dispose;
  object_class->finalize = td_imap_client_finalize;
}

static void
td_imap_client_init (TdImapClient *self)
{
  self->max_sessions = TD_IMAP_CLIENT_DEFAULT_MAX_SESSIONS;
  self->idle_timeout = TD_IMAP_CLIENT_DEFAULT_IDLE_TIMEOUT;
  self->slots = g_ptr_array_new ();
  g_queue_init (&self->idle);
  g_queue_init (&self->waiting[TD_IMAP_CLIENT_COMMANDS]);
  g_queue_init (&self->waiting[TD_IMAP_CLIENT_WATCH]);
  self->shutdown_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->caps_asked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->caps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (engine_capabilities); i++)
    g_hash_table_add (self->caps_asked, g_strdup (engine_capabilities[i]));
}

/* --- Public --- */

TdImapClient *
td_imap_client_new (TdAccount *account)
{
  TdImapClient *self;

  g_return_val_if_fail (TD_IS_ACCOUNT (account), NULL);

  self = g_object_new (TD_TYPE_IMAP_CLIENT, NULL);
  self->account = g_object_ref (account);
  return self;
}

TdAccount *
td_imap_client_get_account (TdImapClient *self)
{
  g_return_val_if_fail (TD_IS_IMAP_CLIENT (self), NULL);
  return self->account;
}

void
td_imap_client_set_password (TdImapClient *self,
                             const char   *password)
{
  g_return_if_fail (TD_IS_IMAP_CLIENT (self));

  if (password != NULL && g_strcmp0 (password, self->password) == 0)
    return;
  wipe_password (self);
  self->password = g_strdup (password);
}

void
td_imap_client_set_max_sessions (TdImapClient *self,
                                 guint         max_sessions)
{
  g_return_if_fail (TD_IS_IMAP_CLIENT (self));

  self->max_sessions = MAX (max_sessions, 1);
  dispatch (self);
}

guint
td_imap_client_get_max_sessions (TdImapClient *self)
{
  g_return_val_if_fail (TD_IS_IMAP_CLIENT (self), 0);
  return self->max_sessions;
}

void
td_imap_client_set_idle_timeout (TdImapClient *self,
                                 guint         msec)
{
  g_return_if_fail (TD_IS_IMAP_CLIENT (self));
  self->idle_timeout = msec;
}

guint
td_imap_client_get_idle_timeout (TdImapClient *self)
{
  g_return_val_if_fail (TD_IS_IMAP_CLIENT (self), 0);
  return self->idle_timeout;
}

static gboolean
acquire_cancelled_cb (GCancellable *cancellable,
                      gpointer      user_data)
{
  GTask *task = user_data;
  TdImapClient *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);

  g_clear_pointer (&request->cancel_source, g_source_unref);
  if (g_queue_remove (&self->waiting[request->purpose], task))
    {
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
    }
  return G_SOURCE_REMOVE;
}

void
td_imap_client_acquire_async (TdImapClient        *self,
                              TdImapClientPurpose  purpose,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;
  Request *request;

  g_return_if_fail (TD_IS_IMAP_CLIENT (self));
  g_return_if_fail (purpose == TD_IMAP_CLIENT_COMMANDS || purpose == TD_IMAP_CLIENT_WATCH);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_client_acquire_async);
  request = g_new0 (Request, 1);
  request->purpose = purpose;
  g_task_set_task_data (task, request, (GDestroyNotify) request_free);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (self->shut_down)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               "The connections to %s are shut down",
                               td_account_get_host (self->account));
      g_object_unref (task);
      return;
    }

  if (cancellable != NULL)
    {
      request->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (request->cancel_source, G_SOURCE_FUNC (acquire_cancelled_cb), task,
                             NULL);
      g_source_set_name (request->cancel_source, "[tidings] IMAP client acquire cancelled");
      g_source_attach (request->cancel_source, g_task_get_context (task));
    }
  g_queue_push_tail (&self->waiting[purpose], task);
  dispatch (self);
}

TdImapSession *
td_imap_client_acquire_finish (TdImapClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  Lease *lease;
  TdImapSession *session;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  lease = g_task_propagate_pointer (G_TASK (result), error);
  if (lease == NULL)
    return NULL;
  session = g_steal_pointer (&lease->session);
  lease_free (lease);
  return session;
}

void
td_imap_client_release (TdImapClient  *self,
                        TdImapSession *session,
                        gboolean       reusable)
{
  Slot *slot;

  g_return_if_fail (TD_IS_IMAP_CLIENT (self));
  g_return_if_fail (TD_IS_IMAP_SESSION (session));

  slot = find_slot (self, session);
  g_return_if_fail (slot != NULL && slot->state == SLOT_BUSY);

  if (!reusable || !session_usable (session))
    retire (self, slot, FALSE);
  else if (slot->purpose == TD_IMAP_CLIENT_WATCH || self->shut_down)
    retire (self, slot, TRUE);
  else
    slot_ready (self, slot);
  dispatch (self);
}

TdConnection *
td_imap_client_get_connection (TdImapClient  *self,
                               TdImapSession *session)
{
  Slot *slot;

  g_return_val_if_fail (TD_IS_IMAP_CLIENT (self), NULL);

  slot = find_slot (self, session);
  return slot != NULL ? slot->connection : NULL;
}

void
td_imap_client_close_idle (TdImapClient *self)
{
  Slot *slot;

  g_return_if_fail (TD_IS_IMAP_CLIENT (self));

  while ((slot = g_queue_peek_head (&self->idle)) != NULL)
    retire (self, slot, TRUE);
  dispatch (self);
}

void
td_imap_client_shutdown_async (TdImapClient        *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GError) cancelled = NULL;
  g_autoptr(TdImapClient) keep = NULL;
  GTask *task;

  g_return_if_fail (TD_IS_IMAP_CLIENT (self));

  keep = g_object_ref (self);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_client_shutdown_async);

  self->shut_down = TRUE;
  cancelled = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "The connections to %s are shut down",
                           td_account_get_host (self->account));
  fail_waiters (self, TD_IMAP_CLIENT_COMMANDS, cancelled);
  fail_waiters (self, TD_IMAP_CLIENT_WATCH, cancelled);
  for (guint i = self->slots->len; i > 0; i--)
    {
      Slot *slot = g_ptr_array_index (self->slots, i - 1);

      if (slot->state == SLOT_OPENING)
        retire (self, slot, FALSE);
      else if (slot->state == SLOT_IDLE)
        retire (self, slot, TRUE);
    }

  if (self->n_logging_out == 0)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
  else
    g_ptr_array_add (self->shutdown_tasks, task);
}

gboolean
td_imap_client_shutdown_finish (TdImapClient  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
td_imap_client_has_capability (TdImapClient *self,
                               const char   *capability)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TD_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  upper = g_ascii_strup (capability, -1);
  if (!g_hash_table_contains (self->caps_asked, upper))
    {
      g_hash_table_add (self->caps_asked, g_strdup (upper));
      /* learnt from a logged-in session now, and at every login from now on */
      for (guint i = 0; i < self->slots->len; i++)
        {
          Slot *slot = g_ptr_array_index (self->slots, i);

          if (slot->state != SLOT_OPENING && session_usable (slot->session))
            {
              if (td_imap_session_has_capability (slot->session, upper))
                g_hash_table_add (self->caps, g_strdup (upper));
              break;
            }
        }
    }
  return g_hash_table_contains (self->caps, upper);
}

const TdCertificateInfo *
td_imap_client_get_certificate_info (TdImapClient *self)
{
  g_return_val_if_fail (TD_IS_IMAP_CLIENT (self), NULL);
  return self->certificate_info;
}

static guint
count_state (TdImapClient *self,
             SlotState     state)
{
  guint n = 0;

  for (guint i = 0; i < self->slots->len; i++)
    if (((Slot *) g_ptr_array_index (self->slots, i))->state == state)
      n++;
  return n;
}

guint
td_imap_client_get_n_busy (TdImapClient *self)
{
  g_return_val_if_fail (TD_IS_IMAP_CLIENT (self), 0);
  return count_state (self, SLOT_BUSY);
}

guint
td_imap_client_get_n_idle (TdImapClient *self)
{
  g_return_val_if_fail (TD_IS_IMAP_CLIENT (self), 0);
  return count_state (self, SLOT_IDLE);
}

guint
td_imap_client_get_n_opening (TdImapClient *self)
{
  g_return_val_if_fail (TD_IS_IMAP_CLIENT (self), 0);
  return count_state (self, SLOT_OPENING);
}
