/* td-imap-watch.c: keeps one IMAP folder watched for changes (IDLE, else polling)
 *
 * One session at a time, taken from the account's TdImapClient as a watch (td-imap-client.h):
 * a logged-in session the client has idle is used at once, else the client connects and logs
 * in. Every callback first checks that its session is still the current one: a session
 * replaced by a reconnect (or dropped by stop) is ignored.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-sync"

#include "config.h"

#include "td-imap-watch.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"
#include "td-imap-client.h"
#include "td-imap-session.h"

/* RFC 2177: servers may end an IDLE after 30 minutes; renew well before. */
#define IDLE_RENEW_SECONDS     (25 * 60)
#define BACKOFF_FIRST_SECONDS  1
#define BACKOFF_MAX_SECONDS    (5 * 60)
/* A connection that stayed up this long worked: the next reconnect starts from the first
 * step again. One that a server drops at once (after the login, say) does not reset it. */
#define BACKOFF_STABLE_SECONDS 60
#define DEFAULT_POLL_SECONDS   300
/* How long a renewal (DONE, then NOOP) or a poll may wait for its answer: the connection's
 * own timeout does not cover what is sent while a read with no timeout waits (IDLE). */
#define ANSWER_SECONDS         30
/* After the network changed: a connection that does not answer a NOOP this soon is taken
 * for dead (the old route is gone, and nothing may ever say so). */
#define CHECK_SECONDS          10

typedef enum
{
  WAIT_NONE,      /* connecting, or a command of the watch is under way */
  WAIT_IDLE,      /* in IDLE until the renewal */
  WAIT_POLL,      /* between two NOOPs */
} Waiting;

struct _TdImapWatch
{
  GObject          parent_instance;

  TdAccount       *account;
  char            *folder_path;
  TdImapClient    *client;
  gboolean         own_client;      /* made by td_imap_watch_new(), for this watch alone */

  TdImapSession   *session;         /* held from the client while set */
  GCancellable    *cancellable;     /* of the current session's operations */

  gboolean         running;
  gboolean         online;
  gboolean         notify;          /* NOTIFY accepted: every folder is watched */
  Waiting          waiting;
  guint            answer_id;       /* the deadline for the answer to a renewal or a poll */
  guint            saved_timeout;   /* the connection's read timeout, set aside while idling */
  gboolean         network_lost;    /* the monitor said the network is gone: no retries */
  guint            poll_interval;
  guint            backoff;         /* seconds before the next reconnect, without jitter */
  gint64           online_since;    /* monotonic µs when the watch last went online, or 0 */
  guint            timer_id;        /* reconnect, poll or IDLE renewal */
  gboolean         reconnect_pending;
  guint            retry_delay;     /* ms of the pending reconnect (with jitter), else 0 */
  double           time_scale;      /* every delay is multiplied by it (tests) */

  GNetworkMonitor *monitor;
  gulong           network_changed_id;
  GDBusConnection *system_bus;
  guint            sleep_subscription;
  GCancellable    *bus_cancellable;
};

G_DEFINE_FINAL_TYPE (TdImapWatch, td_imap_watch, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ONLINE,
  PROP_RETRY_DELAY,
  N_PROPS
};

enum {
  SIGNAL_CHANGED,
  SIGNAL_FAILED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void connect_now       (TdImapWatch *self);
static void wait_for_changes  (TdImapWatch *self);
static void restore_timeout   (TdImapWatch *self);

/* A client of this watch alone forgets the password when the watch stops; a shared one
 * keeps it for the account's other users. */
static void
clear_password (TdImapWatch *self)
{
  if (self->own_client && self->client != NULL)
    td_imap_client_set_password (self->client, NULL);
}

static void
set_online (TdImapWatch *self,
            gboolean     online)
{
  if (self->online == online)
    return;
  self->online = online;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ONLINE]);
}

static void
set_retry_delay (TdImapWatch *self,
                 guint        delay_ms)
{
  if (self->retry_delay == delay_ms && delay_ms == 0)
    return;
  /* notified at every scheduled reconnect, even with the same delay as the last one */
  self->retry_delay = delay_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_DELAY]);
}

static void
clear_timer (TdImapWatch *self)
{
  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->reconnect_pending = FALSE;
  set_retry_delay (self, 0);
}

/* A timeout of @ms on the watch's clock (scaled for tests). */
static guint
add_timeout (TdImapWatch *self,
             double       ms,
             GSourceFunc  func)
{
  double scaled = ms * self->time_scale;

  return g_timeout_add ((guint) CLAMP (scaled, 1.0, (double) G_MAXUINT), func, self);
}

/* Drops the current session (if any) without waiting for anything. */
static void
drop_session (TdImapWatch *self)
{
  self->notify = FALSE;
  self->waiting = WAIT_NONE;
  self->saved_timeout = 0;
  g_clear_handle_id (&self->answer_id, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      /* in the middle of IDLE or a SELECT: closed, never handed to anyone else */
      td_imap_client_release (self->client, self->session, FALSE);
    }
  g_clear_object (&self->session);
}

static void
td_imap_watch_dispose (GObject *object)
{
  TdImapWatch *self = (TdImapWatch *) object;

  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->reconnect_pending = FALSE;
  drop_session (self);
  if (self->bus_cancellable != NULL)
    g_cancellable_cancel (self->bus_cancellable);
  g_clear_object (&self->bus_cancellable);
  if (self->system_bus != NULL && self->sleep_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->system_bus, self->sleep_subscription);
  self->sleep_subscription = 0;
  g_clear_object (&self->system_bus);
  g_clear_signal_handler (&self->network_changed_id, self->monitor);
  g_clear_object (&self->monitor);
  clear_password (self);
  g_clear_object (&self->client);
  g_clear_object (&self->account);

  G_OBJECT_CLASS (td_imap_watch_parent_class)->dispose (object);
}

static void
td_imap_watch_finalize (GObject *object)
{
  TdImapWatch *self = (TdImapWatch *) object;

  g_free (self->folder_path);

  G_OBJECT_CLASS (td_imap_watch_parent_class)->finalize (object);
}

static void
td_imap_watch_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  TdImapWatch *self = TD_IMAP_WATCH (object);

  switch (prop_id)
    {
    case PROP_ONLINE:
      g_value_set_boolean (value, self->online);
      break;
    case PROP_RETRY_DELAY:
      g_value_set_uint (value, self->retry_delay);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_imap_watch_class_init (TdImapWatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_imap_watch_dispose;
  object_class->finalize = td_imap_watch_finalize;
  object_class->get_property = td_imap_watch_get_property;

  properties[PROP_ONLINE] =
    g_param_spec_boolean ("online", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RETRY_DELAY] =
    g_param_spec_uint ("retry-delay", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
td_imap_watch_init (TdImapWatch *self)
{
  self->poll_interval = DEFAULT_POLL_SECONDS;
  self->backoff = BACKOFF_FIRST_SECONDS;
  self->time_scale = 1.0;
}

/* --- Failing and coming back --- */

static gboolean
reconnect_cb (gpointer user_data)
{
  TdImapWatch *self = user_data;

  self->timer_id = 0;
  connect_now (self);
  return G_SOURCE_REMOVE;
}

/* The connection failed or ended: try again later, or give up for good. */
static void
session_failed (TdImapWatch  *self,
                const GError *error)
{
  guint delay_ms;

  drop_session (self);
  clear_timer (self);
  set_online (self, FALSE);
  if (!self->running)
    return;

  if (g_error_matches (error, TD_ERROR, TD_ERROR_AUTH) ||
      g_error_matches (error, TD_ERROR, TD_ERROR_NO_PASSWORD) ||
      g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE) ||
      g_error_matches (error, TD_ERROR, TD_ERROR_TLS_REQUIRED))
    {
      /* trying again would only fail again (and lock the account on some servers) */
      g_message ("Watching %s of %s stopped: %s", self->folder_path,
                 td_account_get_address (self->account), error->message);
      self->running = FALSE;
      clear_password (self);
      g_signal_emit (self, signals[SIGNAL_FAILED], 0, error);
      return;
    }

  if (self->online_since != 0 &&
      g_get_monotonic_time () - self->online_since >=
      (gint64) (BACKOFF_STABLE_SECONDS * G_USEC_PER_SEC * self->time_scale))
    self->backoff = BACKOFF_FIRST_SECONDS;
  self->online_since = 0;

  /* exponential backoff with up to 25% jitter */
  delay_ms = self->backoff * 1000;
  delay_ms += (guint) g_random_int_range (0, (gint32) (delay_ms / 4 + 1));
  self->backoff = MIN (self->backoff * 2, BACKOFF_MAX_SECONDS);
  g_debug ("Watching %s of %s: %s; again in %u ms", self->folder_path,
           td_account_get_address (self->account), error != NULL ? error->message : "closed",
           delay_ms);
  self->reconnect_pending = TRUE;
  self->timer_id = add_timeout (self, delay_ms, reconnect_cb);
  set_retry_delay (self, delay_ms);
}

/* TRUE when @session is the current one and @error is unset; handles the rest. */
static gboolean
check (TdImapWatch   *self,
       GObject       *session,
       GError        *error)
{
  g_autoptr(GError) owned = error;

  if (session != (GObject *) self->session || !self->running)
    return FALSE;
  if (owned != NULL)
    {
      session_failed (self, owned);
      return FALSE;
    }
  return TRUE;
}

static void
session_closed_cb (TdImapSession *session,
                   const GError  *error,
                   TdImapWatch   *self)
{
  g_autoptr(GError) copy = NULL;

  if (session != self->session || !self->running)
    return;
  copy = error != NULL ? g_error_copy (error)
                       : g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                              _("The server closed the connection"));
  session_failed (self, copy);
}

static void
mailbox_changed_cb (TdImapSession *session,
                    TdImapWatch   *self)
{
  if (session == self->session && self->running)
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* --- Waiting: IDLE, or NOOP every poll interval --- */

static gboolean
answer_timeout_cb (gpointer user_data)
{
  TdImapWatch *self = user_data;
  g_autoptr(GError) error = NULL;

  self->answer_id = 0;
  error = g_error_new_literal (TD_ERROR, TD_ERROR_TIMEOUT,
                               _("The server did not answer in time"));
  session_failed (self, error);
  return G_SOURCE_REMOVE;
}

/* The session must answer what the watch just sent within @seconds (of the watch's clock),
 * else it is taken for dead and replaced. A shorter deadline replaces a longer one. */
static void
expect_answer (TdImapWatch *self,
               guint        seconds)
{
  g_clear_handle_id (&self->answer_id, g_source_remove);
  self->answer_id = add_timeout (self, seconds * 1000.0, answer_timeout_cb);
}

static void
renew_noop_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(TdImapWatch) self = user_data;
  GError *error = NULL;

  td_imap_session_noop_finish (TD_IMAP_SESSION (source), result, &error);
  if (!check (self, source, error))
    return;
  /* Renewed: go on idling. A server need not say anything while idling (GNU Mailutils tells
   * of new mail only once the IDLE ends, of flags changed elsewhere never): each renewal asks
   * for a sync, as each poll does. */
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  /* unless a handler stopped or restarted the watch meanwhile */
  if (source == (GObject *) self->session && self->running)
    wait_for_changes (self);
}

static void
idle_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TdImapWatch) self = user_data;
  GError *error = NULL;

  td_imap_session_idle_finish (TD_IMAP_SESSION (source), result, &error);
  if (!check (self, source, error))
    return;
  restore_timeout (self);
  /* Some servers tell of new mail only in answer to a command, never during IDLE: a NOOP
   * between two IDLEs lets them ("mailbox-changed" says so if there is news). */
  td_imap_session_noop_async (self->session, self->cancellable, renew_noop_cb,
                              g_object_ref (self));
}

/* Ends the IDLE; idle_done_cb() goes on with a NOOP and a new IDLE. */
static void
end_idle (TdImapWatch *self,
          guint        answer_seconds)
{
  self->waiting = WAIT_NONE;
  td_imap_session_idle_done (self->session);
  expect_answer (self, answer_seconds);
}

static gboolean
renew_idle_cb (gpointer user_data)
{
  TdImapWatch *self = user_data;

  self->timer_id = 0;
  if (self->session != NULL)
    end_idle (self, ANSWER_SECONDS);
  return G_SOURCE_REMOVE;
}

static void
noop_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TdImapWatch) self = user_data;
  GError *error = NULL;

  td_imap_session_noop_finish (TD_IMAP_SESSION (source), result, &error);
  if (!check (self, source, error))
    return;
  /* without IDLE nothing tells what changed: each poll asks for a sync */
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (source == (GObject *) self->session && self->running)
    wait_for_changes (self);
}

static void
poll_now (TdImapWatch *self,
          guint        answer_seconds)
{
  self->waiting = WAIT_NONE;
  td_imap_session_noop_async (self->session, self->cancellable, noop_done_cb,
                              g_object_ref (self));
  expect_answer (self, answer_seconds);
}

static gboolean
poll_cb (gpointer user_data)
{
  TdImapWatch *self = user_data;

  self->timer_id = 0;
  if (self->session != NULL)
    poll_now (self, ANSWER_SECONDS);
  return G_SOURCE_REMOVE;
}

/* While idling the server may say nothing for as long as the renewal interval; the
 * connection's read timeout (30 s) would take that silence for a dead connection. The
 * renewal, with its answer deadline, bounds the silence instead. */
static void
lift_timeout (TdImapWatch *self)
{
  TdConnection *connection = td_imap_client_get_connection (self->client, self->session);

  if (connection == NULL || td_connection_get_timeout (connection) == 0)
    return;
  self->saved_timeout = td_connection_get_timeout (connection);
  td_connection_set_timeout (connection, 0);
}

static void
restore_timeout (TdImapWatch *self)
{
  TdConnection *connection = td_imap_client_get_connection (self->client, self->session);

  if (connection != NULL && self->saved_timeout != 0)
    td_connection_set_timeout (connection, self->saved_timeout);
  self->saved_timeout = 0;
}

static void
wait_for_changes (TdImapWatch *self)
{
  clear_timer (self);
  /* whatever was sent was answered */
  g_clear_handle_id (&self->answer_id, g_source_remove);
  if (td_imap_session_has_capability (self->session, "IDLE"))
    {
      self->waiting = WAIT_IDLE;
      lift_timeout (self);
      td_imap_session_idle_async (self->session, self->cancellable, idle_done_cb,
                                  g_object_ref (self));
      self->timer_id = add_timeout (self, td_imap_watch_get_renew_interval (self) * 1000.0,
                                    renew_idle_cb);
    }
  else
    {
      self->waiting = WAIT_POLL;
      self->timer_id = add_timeout (self, self->poll_interval * 1000.0, poll_cb);
    }
}

/* --- Connecting --- */

static void
watching_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapWatch) self = user_data;
  GError *error = NULL;

  if (result != NULL)
    {
      td_imap_session_notify_finish (TD_IMAP_SESSION (source), result, &error);
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          td_imap_session_get_state (TD_IMAP_SESSION (source)) == TD_IMAP_STATE_SELECTED)
        {
          /* refused: the folder alone is watched, as without NOTIFY */
          g_debug ("NOTIFY refused by %s: %s", td_account_get_host (self->account),
                   error->message);
          g_clear_error (&error);
        }
      if (!check (self, source, error))
        return;
      self->notify = error == NULL && td_imap_session_is_notifying (TD_IMAP_SESSION (source));
    }

  self->online_since = g_get_monotonic_time ();
  set_online (self, TRUE);
  /* whatever happened while we were away */
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (self->session != NULL && self->running)
    wait_for_changes (self);
}

static void
selected_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapWatch) self = user_data;
  GError *error = NULL;

  td_imap_session_select_finish (TD_IMAP_SESSION (source), result, &error);
  if (!check (self, source, error))
    return;

  /* NOTIFY, where offered, makes this one connection watch every folder */
  if (td_imap_session_has_capability (self->session, "NOTIFY"))
    td_imap_session_notify_async (self->session, self->cancellable, watching_cb,
                                  g_object_ref (self));
  else
    watching_cb (source, NULL, g_steal_pointer (&self));
}

static void
acquired_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapWatch) self = user_data;
  /* alive as long as the task: a newer acquire's cancellable is never at its address */
  GCancellable *cancellable = g_task_get_cancellable (G_TASK (result));
  g_autofree char *raw = NULL;
  GError *error = NULL;
  TdImapSession *session;

  session = td_imap_client_acquire_finish (TD_IMAP_CLIENT (source), result, &error);
  if (cancellable != self->cancellable || !self->running)
    {
      /* dropped or replaced meanwhile */
      if (session != NULL)
        td_imap_client_release (TD_IMAP_CLIENT (source), session, TRUE);
      g_clear_error (&error);
      return;
    }
  if (session == NULL)
    {
      session_failed (self, error);
      g_error_free (error);
      return;
    }

  self->session = session;
  g_signal_connect (session, "closed", G_CALLBACK (session_closed_cb), self);
  g_signal_connect (session, "mailbox-changed", G_CALLBACK (mailbox_changed_cb), self);
  raw = td_imap_utf7_encode (self->folder_path);
  td_imap_session_select_async (session, raw, TRUE, self->cancellable, selected_cb,
                                g_object_ref (self));
}

static void
connect_now (TdImapWatch *self)
{
  clear_timer (self);
  drop_session (self);
  set_online (self, FALSE);
  self->network_lost = FALSE;
  if (!self->running)
    return;

  self->cancellable = g_cancellable_new ();
  td_imap_client_acquire_async (self->client, TD_IMAP_CLIENT_WATCH, self->cancellable,
                                acquired_cb, g_object_ref (self));
}

/* --- The network and suspend --- */

/* After a change of network the connection may be dead without any error (its route is
 * gone; a TCP connection learns that only when it sends): ask the server something now and
 * replace the connection if it does not answer soon. */
static void
check_alive (TdImapWatch *self)
{
  if (self->session == NULL)
    return;                 /* connecting: the connection's own timeouts apply */
  switch (self->waiting)
    {
    case WAIT_IDLE:
      clear_timer (self);
      end_idle (self, CHECK_SECONDS);
      break;
    case WAIT_POLL:
      clear_timer (self);
      poll_now (self, CHECK_SECONDS);
      break;
    case WAIT_NONE:
      /* a command is under way: its answer shows whether the connection lives */
      if (self->answer_id != 0)
        expect_answer (self, CHECK_SECONDS);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    TdImapWatch     *self)
{
  if (!self->running)
    return;

  if (!available)
    {
      /* Offline until the network comes back: no connection can work, so no retries
       * either (td_imap_watch_reconnect_now() still tries). */
      if (self->network_lost)
        return;
      g_debug ("The network is gone: %s of %s is offline", self->folder_path,
               td_account_get_address (self->account));
      clear_timer (self);
      drop_session (self);
      set_online (self, FALSE);
      self->network_lost = TRUE;
      return;
    }

  if (self->network_lost || self->reconnect_pending)
    {
      g_debug ("The network is back: reconnecting to %s now",
               td_account_get_host (self->account));
      self->backoff = BACKOFF_FIRST_SECONDS;
      connect_now (self);
      return;
    }

  g_debug ("The network changed: checking the connection to %s",
           td_account_get_host (self->account));
  check_alive (self);
}

static void
prepare_for_sleep_cb (GDBusConnection *connection,
                      const char      *sender,
                      const char      *path,
                      const char      *interface,
                      const char      *signal,
                      GVariant        *parameters,
                      gpointer         user_data)
{
  TdImapWatch *self = user_data;
  gboolean going_to_sleep = FALSE;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (parameters, "(b)", &going_to_sleep);
  if (!going_to_sleep && self->running &&
      (!self->network_lost || g_network_monitor_get_network_available (self->monitor)))
    {
      /* the old connection is most likely dead after a suspend, even if nothing said so */
      g_debug ("Resumed from suspend: reconnecting to %s", td_account_get_host (self->account));
      self->backoff = BACKOFF_FIRST_SECONDS;
      connect_now (self);
    }
}

static void
subscribe_sleep (TdImapWatch     *self,
                 GDBusConnection *bus)
{
  self->sleep_subscription =
    g_dbus_connection_signal_subscribe (bus, "org.freedesktop.login1",
                                        "org.freedesktop.login1.Manager", "PrepareForSleep",
                                        "/org/freedesktop/login1", NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, prepare_for_sleep_cb, self,
                                        NULL);
}

static void
system_bus_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(TdImapWatch) self = user_data;
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish (result, &error);

  if (bus == NULL)
    {
      /* no system bus (a container, a test): suspend is simply not noticed */
      g_debug ("No system bus: %s", error->message);
      return;
    }
  if (self->account == NULL || self->system_bus != NULL)
    {
      /* disposed, or given a bus meanwhile */
      g_object_unref (bus);
      return;
    }
  self->system_bus = bus;
  subscribe_sleep (self, bus);
}

/* --- Public --- */

TdImapWatch *
td_imap_watch_new_for_client (TdImapClient *client,
                              const char   *folder_path)
{
  TdImapWatch *self;

  g_return_val_if_fail (TD_IS_IMAP_CLIENT (client), NULL);
  g_return_val_if_fail (folder_path != NULL, NULL);

  self = g_object_new (TD_TYPE_IMAP_WATCH, NULL);
  self->client = g_object_ref (client);
  self->account = g_object_ref (td_imap_client_get_account (client));
  self->folder_path = g_strdup (folder_path);
  return self;
}

TdImapWatch *
td_imap_watch_new (TdAccount  *account,
                   const char *folder_path)
{
  g_autoptr(TdImapClient) client = NULL;
  TdImapWatch *self;

  g_return_val_if_fail (TD_IS_ACCOUNT (account), NULL);

  client = td_imap_client_new (account);
  self = td_imap_watch_new_for_client (client, folder_path);
  self->own_client = TRUE;
  return self;
}

void
td_imap_watch_start (TdImapWatch *self,
                     const char  *password)
{
  g_return_if_fail (TD_IS_IMAP_WATCH (self));
  g_return_if_fail (password != NULL || !self->own_client);

  if (self->running)
    return;
  if (password != NULL)
    td_imap_client_set_password (self->client, password);
  self->running = TRUE;
  self->backoff = BACKOFF_FIRST_SECONDS;

  if (self->monitor == NULL)
    self->monitor = g_object_ref (g_network_monitor_get_default ());
  if (self->network_changed_id == 0)
    self->network_changed_id = g_signal_connect (self->monitor, "network-changed",
                                                 G_CALLBACK (network_changed_cb), self);
  if (self->system_bus != NULL)
    {
      if (self->sleep_subscription == 0)
        subscribe_sleep (self, self->system_bus);
    }
  else if (self->bus_cancellable == NULL)
    {
      self->bus_cancellable = g_cancellable_new ();
      g_bus_get (G_BUS_TYPE_SYSTEM, self->bus_cancellable, system_bus_cb, g_object_ref (self));
    }
  connect_now (self);
}

void
td_imap_watch_stop (TdImapWatch *self)
{
  g_return_if_fail (TD_IS_IMAP_WATCH (self));

  self->running = FALSE;
  self->network_lost = FALSE;
  clear_timer (self);
  drop_session (self);
  clear_password (self);
  set_online (self, FALSE);
}

const char *
td_imap_watch_get_folder_path (TdImapWatch *self)
{
  g_return_val_if_fail (TD_IS_IMAP_WATCH (self), NULL);
  return self->folder_path;
}

gboolean
td_imap_watch_get_online (TdImapWatch *self)
{
  g_return_val_if_fail (TD_IS_IMAP_WATCH (self), FALSE);
  return self->online;
}

void
td_imap_watch_set_poll_interval (TdImapWatch *self,
                                 guint        seconds)
{
  g_return_if_fail (TD_IS_IMAP_WATCH (self));
  self->poll_interval = MAX (seconds, 1);
}

void
td_imap_watch_reconnect_now (TdImapWatch *self)
{
  g_return_if_fail (TD_IS_IMAP_WATCH (self));

  if (self->running && (self->reconnect_pending || self->network_lost))
    {
      self->backoff = BACKOFF_FIRST_SECONDS;
      connect_now (self);
    }
}

gboolean
td_imap_watch_get_watches_all (TdImapWatch *self)
{
  g_return_val_if_fail (TD_IS_IMAP_WATCH (self), FALSE);
  return self->online && self->notify;
}

guint
td_imap_watch_get_renew_interval (TdImapWatch *self)
{
  g_return_val_if_fail (TD_IS_IMAP_WATCH (self), 0);
  return MIN (IDLE_RENEW_SECONDS, self->poll_interval);
}

guint
td_imap_watch_get_retry_delay (TdImapWatch *self)
{
  g_return_val_if_fail (TD_IS_IMAP_WATCH (self), 0);
  return self->retry_delay;
}

void
td_imap_watch_set_time_scale (TdImapWatch *self,
                              double       scale)
{
  g_return_if_fail (TD_IS_IMAP_WATCH (self));
  g_return_if_fail (scale > 0.0);
  self->time_scale = scale;
}

void
td_imap_watch_set_network_monitor (TdImapWatch     *self,
                                   GNetworkMonitor *monitor)
{
  g_return_if_fail (TD_IS_IMAP_WATCH (self));
  g_return_if_fail (G_IS_NETWORK_MONITOR (monitor));
  g_return_if_fail (!self->running);

  g_clear_signal_handler (&self->network_changed_id, self->monitor);
  g_set_object (&self->monitor, monitor);
}

void
td_imap_watch_set_system_bus (TdImapWatch     *self,
                              GDBusConnection *bus)
{
  g_return_if_fail (TD_IS_IMAP_WATCH (self));
  g_return_if_fail (G_IS_DBUS_CONNECTION (bus));
  g_return_if_fail (!self->running);

  if (self->bus_cancellable != NULL)
    g_cancellable_cancel (self->bus_cancellable);
  g_clear_object (&self->bus_cancellable);
  if (self->system_bus != NULL && self->sleep_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->system_bus, self->sleep_subscription);
  self->sleep_subscription = 0;
  g_set_object (&self->system_bus, bus);
}
