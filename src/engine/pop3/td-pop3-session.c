/* td-pop3-session.c: one POP3 connection, driven by one explicit state table
 *
 * Every public operation and every parsed server event is an event of the table;
 * handlers[state][event] names what to do, and an event without an entry is refused
 * (TD_ERROR_WRONG_STATE for an operation, a protocol error for server input).
 *
 * Operations keep their state (arguments, the commands not finished, results) in an Op, the
 * data of their GTask. Cancelling drops the commands not yet written; the answers to the
 * written ones still arrive and are dropped quietly (what they do to the state still applies).
 *
 * This file holds the object, the table, the tasks of the operations, the errors the server's
 * refusals become, and the shutdown. The command queue (pipelining, reading, writing, matching
 * answers to commands) is td-pop3-session-queue.c; the operations live by area in
 * td-pop3-session-connect.c, -auth.c, -list.c, -retr.c and -dele.c;
 * td-pop3-session-private.h is what they share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-pop3"

#include "config.h"

#include "td-pop3-session.h"
#include "td-pop3-session-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-pop3-parser.h"

static const char * const state_names[N_STATES] = {
  [ST_NEW] = N_("not connected"),
  [ST_CONNECTING] = N_("connecting"),
  [ST_GREETING] = N_("waiting for the server’s greeting"),
  [ST_NEGOTIATING] = N_("setting up the connection"),
  [ST_STLS] = N_("starting encryption"),
  [ST_AUTHORIZATION] = N_("not logged in"),
  [ST_AUTHENTICATING] = N_("logging in"),
  [ST_TRANSACTION] = N_("logged in"),
  [ST_UPDATE] = N_("quitting"),
  [ST_CLOSED] = N_("closed"),
};

static const char * const event_names[N_EVENTS] = {
  [EV_CONNECT] = N_("connect"),
  [EV_CAPA] = N_("ask for the server’s capabilities"),
  [EV_LOGIN] = N_("log in"),
  [EV_APOP] = N_("log in"),
  [EV_AUTH] = N_("log in"),
  [EV_STAT] = N_("ask for the size of the mailbox"),
  [EV_LIST] = N_("list the messages"),
  [EV_UIDL] = N_("list the messages"),
  [EV_TOP] = N_("fetch the start of a message"),
  [EV_RETR] = N_("fetch messages"),
  [EV_DELE] = N_("delete messages"),
  [EV_RSET] = N_("undo deletions"),
  [EV_NOOP] = N_("check the connection"),
  [EV_QUIT] = N_("quit"),
  [EV_CLOSE] = N_("close"),
  [EV_STATUS] = "status line",
  [EV_CONTINUATION] = "continuation",
  [EV_LINE] = "listing line",
  [EV_DATA] = "message data",
  [EV_END] = "end of a multi-line answer",
};

G_DEFINE_FINAL_TYPE (TdPop3Session, td_pop3_session, G_TYPE_OBJECT)

enum {
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------------------------------ */
/* Small helpers */

void
_td_pop3_session_secure_clear (gpointer data,
                               gsize    len)
{
  volatile guint8 *p = data;

  while (len-- > 0)
    *p++ = 0;
}

void
_td_pop3_session_secure_free (char *str)
{
  if (str != NULL)
    _td_pop3_session_secure_clear (str, strlen (str));
  g_free (str);
}

void
_td_pop3_session_source_destroy (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static TdPop3State
public_state (State state)
{
  switch (state)
    {
    case ST_AUTHORIZATION:
    case ST_AUTHENTICATING:
      return TD_POP3_STATE_AUTHORIZATION;
    case ST_TRANSACTION:
      return TD_POP3_STATE_TRANSACTION;
    case ST_UPDATE:
      return TD_POP3_STATE_UPDATE;
    case ST_NEW:
    case ST_CONNECTING:
    case ST_GREETING:
    case ST_NEGOTIATING:
    case ST_STLS:
    case ST_CLOSED:
    case N_STATES:
    default:
      return TD_POP3_STATE_NOT_CONNECTED;
    }
}

gboolean
_td_pop3_session_has_cap (TdPop3Session *self,
                          const char    *upper)
{
  return self->caps != NULL && g_hash_table_contains (self->caps, upper);
}

/* The server's words for a refusal, for messages. */
const char *
_td_pop3_session_server_text (const TdPop3Event *status)
{
  return status->text != NULL && status->text[0] != '\0' ? status->text
                                                          : (status->ok ? "+OK" : "-ERR");
}

static GError *
auth_error (const char *text)
{
  return g_error_new (TD_ERROR, TD_ERROR_AUTH,
                      _("The server refused the user name or password (%s). Check them in "
                        "the account settings."), text);
}

/* The error for a "-ERR": by its response code, else @fallback (TD_ERROR_AUTH for the
 * credentials, TD_ERROR_CONNECTION for the greeting, TD_ERROR_PROTOCOL for the rest). @what
 * says what was refused ("retrieve message 3"). */
GError *
_td_pop3_session_refused_error (const TdPop3Event *status,
                                TdError            fallback,
                                const char        *what)
{
  const char *text = _td_pop3_session_server_text (status);

  switch (status->code)
    {
    case TD_POP3_CODE_IN_USE:
      return g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                          _("The mailbox is in use by another connection, perhaps another mail "
                            "program (%s). Close it, or wait a few minutes and try again."),
                          text);
    case TD_POP3_CODE_LOGIN_DELAY:
      return g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                          _("The server allows logging in only every few minutes (%s). Try "
                            "again later, or check for new mail less often."), text);
    case TD_POP3_CODE_SYS_TEMP:
      return g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                          _("The server has a temporary problem (%s). Try again later."), text);
    case TD_POP3_CODE_SYS_PERM:
      return g_error_new (TD_ERROR, TD_ERROR_PERMANENT,
                          _("The server refused to %s, and trying again will not help (%s). "
                            "Ask your mail provider about the account."), what, text);
    case TD_POP3_CODE_AUTH:
      return auth_error (text);
    case TD_POP3_CODE_NONE:
    case TD_POP3_CODE_OTHER:
    default:
      break;
    }

  switch (fallback)
    {
    case TD_ERROR_AUTH:
      return auth_error (text);
    case TD_ERROR_CONNECTION:
      return g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                          _("The server refused the connection (%s). Try again later."), text);
    default:
      return g_error_new (TD_ERROR, TD_ERROR_PROTOCOL, _("The server refused to %s: %s"),
                          what, text);
    }
}

/* A read, write or connect error as the user should read it. */
GError *
_td_pop3_session_map_io_error (TdPop3Session *self,
                               const GError  *error)
{
  if (self->connection != NULL)
    return td_connection_translate_error (self->connection, g_error_copy (error));
  if (error->domain == TD_ERROR || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new_literal (TD_ERROR, TD_ERROR_TIMEOUT,
                                _("The server did not answer in time. Check your network "
                                  "connection and try again."));
  return g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                      _("The connection to the server was lost: %s"), error->message);
}

/* The refusal of an operation the state does not allow; @what ("log in") is translated. */
GError *
_td_pop3_session_wrong_state_error (TdPop3Session *self,
                                    const char    *what)
{
  return g_error_new (TD_ERROR, TD_ERROR_WRONG_STATE, _("Cannot %s now: the connection is %s."),
                      what, _(state_names[self->state]));
}

GError *
_td_pop3_session_cancelled_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The operation was cancelled"));
}

/* ------------------------------------------------------------------------------------------ */
/* Operations: their tasks */

static void
op_free (Op *op)
{
  _td_pop3_session_secure_free (op->username);
  _td_pop3_session_secure_free (op->password);
  g_clear_pointer (&op->numbers, g_array_unref);
  g_clear_pointer (&op->cancel_source, _td_pop3_session_source_destroy);
  g_clear_pointer (&op->refused, g_array_unref);
  g_queue_clear (&op->commands);
  g_free (op);
}

Op *
_td_pop3_session_task_op (GTask *task)
{
  return g_task_get_task_data (task);
}

/* Every result of an operation goes through one of these: the task is settled once, and a
 * cancellation after that does nothing. */
static gboolean
task_settle (GTask *task)
{
  Op *op = _td_pop3_session_task_op (task);   /* NULL for the connect task */

  if (op == NULL)
    return TRUE;
  if (op->returned)
    return FALSE;
  op->returned = TRUE;
  g_clear_pointer (&op->cancel_source, _td_pop3_session_source_destroy);
  return TRUE;
}

void
_td_pop3_session_task_return_error (GTask  *task,
                                    GError *error)      /* (transfer full) */
{
  if (task_settle (task))
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

void
_td_pop3_session_task_return_boolean (GTask    *task,
                                      gboolean  value)
{
  if (task_settle (task))
    g_task_return_boolean (task, value);
}

void
_td_pop3_session_task_return_pointer (GTask          *task,
                                      gpointer        result,
                                      GDestroyNotify  result_destroy)
{
  if (task_settle (task))
    g_task_return_pointer (task, result, result_destroy);
  else if (result_destroy != NULL)
    result_destroy (result);
}

GTask *
_td_pop3_session_op_task_new (TdPop3Session       *self,
                              gpointer             source_tag,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);
  g_queue_init (&op->commands);
  op->watch_cancel = TRUE;
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  return task;
}

/* Calls @func with @data, in the context of @task, once the cancellable of @task (not NULL) is
 * cancelled. */
GSource *
_td_pop3_session_watch_cancel (GTask                   *task,
                               GCancellableSourceFunc   func,
                               gpointer                 data)
{
  GSource *source = g_cancellable_source_new (g_task_get_cancellable (task));

  g_source_set_callback (source, G_SOURCE_FUNC (func), data, NULL);
  g_source_attach (source, g_task_get_context (task));
  return source;
}

static gboolean
auth_pending (TdPop3Session *self)
{
  GQueue *queues[] = { &self->outgoing, &self->inflight };

  for (guint i = 0; i < G_N_ELEMENTS (queues); i++)
    for (GList *l = queues[i]->head; l != NULL; l = l->next)
      {
        CommandKind kind = ((Command *) l->data)->kind;

        if (kind == CMD_USER || kind == CMD_PASS || kind == CMD_APOP || kind == CMD_AUTH)
          return TRUE;
      }
  return FALSE;
}

static gboolean
on_op_cancelled (GCancellable *cancellable,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = g_object_ref (user_data);
  TdPop3Session *self = g_task_get_source_object (task);
  Op *op = _td_pop3_session_task_op (task);
  Command *cmd;

  g_clear_pointer (&op->cancel_source, _td_pop3_session_source_destroy);
  while ((cmd = g_queue_pop_head (&op->commands)) != NULL)
    {
      g_clear_object (&cmd->task);
      if (cmd->next_part == 0)
        {
          /* never written: it simply leaves the queue */
          g_queue_remove (&self->outgoing, cmd);
          _td_pop3_session_command_free (cmd);
        }
      /* else: written; its answer will still come and is then dropped quietly */
    }
  if (self->state == ST_AUTHENTICATING && !auth_pending (self))
    self->state = ST_AUTHORIZATION;

  _td_pop3_session_task_return_error (task, _td_pop3_session_cancelled_error ());
  return G_SOURCE_REMOVE;
}

void
_td_pop3_session_run_operation (TdPop3Session *self,
                                Event          event,
                                GTask         *task)
{
  EventData data = { .task = task };
  GCancellable *cancellable = g_task_get_cancellable (task);
  Op *op = _td_pop3_session_task_op (task);

  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      _td_pop3_session_task_return_error (task, _td_pop3_session_cancelled_error ());
      return;
    }
  if (op != NULL && op->watch_cancel && cancellable != NULL)
    op->cancel_source = _td_pop3_session_watch_cancel (task, on_op_cancelled, task);
  _td_pop3_session_dispatch (self, event, &data);
}

void
_td_pop3_session_simple_operation (TdPop3Session       *self,
                                   Event                event,
                                   gpointer             source_tag,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  _td_pop3_session_number_operation (self, event, source_tag, 0, cancellable, callback,
                                     user_data);
}

void
_td_pop3_session_number_operation (TdPop3Session       *self,
                                   Event                event,
                                   gpointer             source_tag,
                                   guint32              number,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = _td_pop3_session_op_task_new (self, source_tag, cancellable, callback,
                                                        user_data);

  _td_pop3_session_task_op (task)->number = number;
  _td_pop3_session_run_operation (self, event, task);
}

static GArray *
numbers_copy (const guint32 *numbers,
              guint          n_numbers)
{
  GArray *array = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n_numbers);

  if (n_numbers > 0)
    g_array_append_vals (array, numbers, n_numbers);
  return array;
}

GTask *
_td_pop3_session_batch_task_new (TdPop3Session       *self,
                                 gpointer             source_tag,
                                 const guint32       *numbers,
                                 guint                n_numbers,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task = _td_pop3_session_op_task_new (self, source_tag, cancellable, callback, user_data);

  _td_pop3_session_task_op (task)->numbers = numbers_copy (numbers, n_numbers);
  return task;
}

gboolean
_td_pop3_session_numbers_valid (const guint32 *numbers,
                                guint          n_numbers)
{
  for (guint i = 0; i < n_numbers; i++)
    if (numbers[i] == 0)
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Shutdown */

static void
close_transport (TdPop3Session *self)
{
  g_cancellable_cancel (self->io_cancellable);
  g_clear_object (&self->io_cancellable);
  self->io_cancellable = g_cancellable_new ();
  g_clear_object (&self->input);
  g_clear_object (&self->output);

  if (self->connection != NULL)
    td_connection_close (self->connection);
  else if (self->stream != NULL && !g_io_stream_is_closed (self->stream))
    {
      /* A socket closes at once even with a read pending (it was cancelled above). */
      if (G_IS_SOCKET_CONNECTION (self->stream))
        g_socket_close (g_socket_connection_get_socket (G_SOCKET_CONNECTION (self->stream)), NULL);
      g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    }
}

/* Ends the connection: every pending operation fails with @task_error, "closed" is emitted with
 * @closed_error (NULL for a clean end). Reentrant: callbacks may call into the session. */
void
_td_pop3_session_shutdown (TdPop3Session *self,
                           const GError  *closed_error,
                           const GError  *task_error)
{
  G_GNUC_UNUSED g_autoptr(TdPop3Session) hold = g_object_ref (self);  /* alive to the end */
  g_autoptr(GTask) connect_task = NULL;
  GQueue commands = G_QUEUE_INIT;
  gboolean was_open = self->state != ST_NEW && self->state != ST_CLOSED;
  Command *cmd;

  g_assert (task_error != NULL);

  self->generation++;
  self->state = ST_CLOSED;
  self->reading = FALSE;
  self->writing = FALSE;
  self->stls_sent = FALSE;
  self->tls_pending = FALSE;
  close_transport (self);

  while ((cmd = g_queue_pop_head (&self->inflight)) != NULL)
    g_queue_push_tail (&commands, cmd);
  while ((cmd = g_queue_pop_head (&self->outgoing)) != NULL)
    if (cmd->next_part == 0)            /* a half-sent one is in inflight too */
      g_queue_push_tail (&commands, cmd);

  connect_task = g_steal_pointer (&self->connect_task);
  g_clear_pointer (&self->connect_cancel_source, _td_pop3_session_source_destroy);

  while ((cmd = g_queue_pop_head (&commands)) != NULL)
    {
      g_autoptr(GTask) task = _td_pop3_session_command_detach (cmd);

      _td_pop3_session_command_free (cmd);
      /* an operation of several commands fails once, with its last */
      if (task != NULL && g_queue_is_empty (&_td_pop3_session_task_op (task)->commands))
        _td_pop3_session_task_return_error (task, g_error_copy (task_error));
    }
  if (connect_task != NULL)
    g_task_return_error (connect_task, g_error_copy (task_error));

  if (was_open)
    g_signal_emit (self, signals[CLOSED], 0, closed_error);
}

void
_td_pop3_session_fail (TdPop3Session *self,
                       GError        *error)     /* (transfer full) */
{
  _td_pop3_session_shutdown (self, error, error);
  g_error_free (error);
}

void
_td_pop3_session_fail_protocol (TdPop3Session *self,
                                const char    *what)
{
  _td_pop3_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                                            _("The server broke the POP3 protocol (%s). The "
                                              "connection was closed; try again later."), what));
}

static GError *
server_closed_error (TdPop3Session *self)
{
  if (self->parser != NULL && td_pop3_parser_in_multiline (self->parser))
    return g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                _("The server closed the connection in the middle of an "
                                  "answer, so a message or a list is incomplete. Check your "
                                  "network connection and try again."));
  return g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                              _("The server closed the connection. Check your network "
                                "connection and try again."));
}

/* The QUIT is over: its answer came (@status), or the connection ended first (NULL). */
void
_td_pop3_session_finish_quit (TdPop3Session     *self,
                              GTask             *task,
                              gboolean           update,
                              const TdPop3Event *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) pending_error = server_closed_error (self);

  if (update && status == NULL)
    error = g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                 _("The server closed the connection before it confirmed "
                                   "removing the messages marked for deletion; they may still "
                                   "be on the server."));
  else if (update && !status->ok)
    error = _td_pop3_session_refused_error (status, TD_ERROR_PROTOCOL,
                                            _("remove the messages marked for deletion"));

  _td_pop3_session_shutdown (self, status == NULL ? error : NULL, pending_error);
  if (task == NULL)
    return;
  if (error != NULL)
    _td_pop3_session_task_return_error (task, g_steal_pointer (&error));
  else
    _td_pop3_session_task_return_boolean (task, TRUE);
}

/* The server ended the connection: the end of a QUIT, or a failure. */
void
_td_pop3_session_handle_eof (TdPop3Session *self)
{
  if (self->state == ST_UPDATE)
    {
      Command *quit = NULL;
      g_autoptr(GTask) task = NULL;

      for (GList *l = self->inflight.head; l != NULL && quit == NULL; l = l->next)
        if (((Command *) l->data)->kind == CMD_QUIT)
          quit = l->data;
      for (GList *l = self->outgoing.head; l != NULL && quit == NULL; l = l->next)
        if (((Command *) l->data)->kind == CMD_QUIT)
          quit = l->data;
      if (quit != NULL)
        {
          gboolean update = quit->update;

          task = _td_pop3_session_command_detach (quit);
          _td_pop3_session_finish_quit (self, task, update, NULL);
          return;
        }
    }
  _td_pop3_session_fail (self, server_closed_error (self));
}

/* ------------------------------------------------------------------------------------------ */
/* Closing */

void
_td_pop3_session_handle_close (TdPop3Session *self,
                               EventData     *data)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 _("The connection was closed"));

  _td_pop3_session_shutdown (self, NULL, error);
}

static void
handle_close_idle (TdPop3Session *self,
                   EventData     *data)
{
  /* explicitly nothing: not connected */
}

/* ------------------------------------------------------------------------------------------ */
/* The table */

#define SERVER_EVENTS \
  [EV_STATUS] = _td_pop3_session_handle_status, \
  [EV_CONTINUATION] = _td_pop3_session_handle_continuation, \
  [EV_LINE] = _td_pop3_session_handle_line, \
  [EV_DATA] = _td_pop3_session_handle_data, \
  [EV_END] = _td_pop3_session_handle_end

static const EventHandler handlers[N_STATES][N_EVENTS] = {
  [ST_NEW] = {
    [EV_CONNECT] = _td_pop3_session_handle_connect,
    [EV_QUIT] = _td_pop3_session_handle_quit_closed,
    [EV_CLOSE] = handle_close_idle,
  },
  [ST_CONNECTING] = {
    [EV_QUIT] = _td_pop3_session_handle_quit_abort,
    [EV_CLOSE] = _td_pop3_session_handle_close,
  },
  [ST_GREETING] = {
    [EV_QUIT] = _td_pop3_session_handle_quit_abort,
    [EV_CLOSE] = _td_pop3_session_handle_close,
    [EV_STATUS] = _td_pop3_session_handle_greeting,
  },
  [ST_NEGOTIATING] = {
    [EV_QUIT] = _td_pop3_session_handle_quit_abort,
    [EV_CLOSE] = _td_pop3_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_STLS] = {
    [EV_QUIT] = _td_pop3_session_handle_quit_abort,
    [EV_CLOSE] = _td_pop3_session_handle_close,
  },
  [ST_AUTHORIZATION] = {
    [EV_CAPA] = _td_pop3_session_handle_capa,
    [EV_LOGIN] = _td_pop3_session_handle_login,
    [EV_APOP] = _td_pop3_session_handle_apop,
    [EV_AUTH] = _td_pop3_session_handle_auth,
    [EV_QUIT] = _td_pop3_session_handle_quit,
    [EV_CLOSE] = _td_pop3_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_AUTHENTICATING] = {
    [EV_QUIT] = _td_pop3_session_handle_quit,
    [EV_CLOSE] = _td_pop3_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_TRANSACTION] = {
    [EV_CAPA] = _td_pop3_session_handle_capa,
    [EV_STAT] = _td_pop3_session_handle_stat,
    [EV_LIST] = _td_pop3_session_handle_list,
    [EV_UIDL] = _td_pop3_session_handle_uidl,
    [EV_TOP] = _td_pop3_session_handle_top,
    [EV_RETR] = _td_pop3_session_handle_retr,
    [EV_DELE] = _td_pop3_session_handle_dele,
    [EV_RSET] = _td_pop3_session_handle_rset,
    [EV_NOOP] = _td_pop3_session_handle_noop,
    [EV_QUIT] = _td_pop3_session_handle_quit,
    [EV_CLOSE] = _td_pop3_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_UPDATE] = {
    [EV_CLOSE] = _td_pop3_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_CLOSED] = {
    [EV_QUIT] = _td_pop3_session_handle_quit_closed,
    [EV_CLOSE] = handle_close_idle,
  },
};

void
_td_pop3_session_dispatch (TdPop3Session *self,
                           Event          event,
                           EventData     *data)
{
  EventHandler handler;

  g_assert (self->state < N_STATES && event < N_EVENTS);

  handler = handlers[self->state][event];
  if (handler != NULL)
    {
      handler (self, data);
      return;
    }

  if (data->task != NULL)
    _td_pop3_session_task_return_error (data->task,
                                        _td_pop3_session_wrong_state_error (self,
                                                                            _(event_names[event])));
  else
    {
      g_autofree char *what = g_strdup_printf ("a %s while %s", event_names[event],
                                               state_names[self->state]);

      _td_pop3_session_fail_protocol (self, what);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* GObject */

static void
td_pop3_session_dispose (GObject *object)
{
  TdPop3Session *self = (TdPop3Session *) object;

  if (self->state != ST_NEW && self->state != ST_CLOSED)
    {
      self->generation++;
      self->state = ST_CLOSED;
      close_transport (self);
    }
  g_clear_pointer (&self->connect_cancel_source, _td_pop3_session_source_destroy);

  G_OBJECT_CLASS (td_pop3_session_parent_class)->dispose (object);
}

static void
td_pop3_session_finalize (GObject *object)
{
  TdPop3Session *self = (TdPop3Session *) object;
  Command *cmd;

  /* pending operations hold a reference on the session: nothing is waiting any more */
  while ((cmd = g_queue_pop_head (&self->outgoing)) != NULL)
    if (cmd->next_part == 0)            /* a half-sent one is in inflight too */
      _td_pop3_session_command_free (cmd);
  while ((cmd = g_queue_pop_head (&self->inflight)) != NULL)
    _td_pop3_session_command_free (cmd);
  g_clear_object (&self->connect_task);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->io_cancellable);
  g_clear_object (&self->stream);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->parser, td_pop3_parser_free);
  g_clear_pointer (&self->caps, g_hash_table_unref);
  g_free (self->timestamp);

  G_OBJECT_CLASS (td_pop3_session_parent_class)->finalize (object);
}

static void
td_pop3_session_class_init (TdPop3SessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_pop3_session_dispose;
  object_class->finalize = td_pop3_session_finalize;

  /**
   * TdPop3Session::closed:
   * @error: (nullable): why the connection ended, or %NULL for a clean end
   */
  signals[CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
td_pop3_session_init (TdPop3Session *self)
{
  self->state = ST_NEW;
  self->io_cancellable = g_cancellable_new ();
  self->window = TD_POP3_PIPELINE_WINDOW_DEFAULT;
  g_queue_init (&self->outgoing);
  g_queue_init (&self->inflight);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

TdPop3Session *
td_pop3_session_new (TdConnection *connection)
{
  TdPop3Session *self;

  g_return_val_if_fail (TD_IS_CONNECTION (connection), NULL);

  self = g_object_new (TD_TYPE_POP3_SESSION, NULL);
  self->connection = g_object_ref (connection);
  return self;
}

TdPop3Session *
td_pop3_session_new_for_stream (GIOStream *stream)
{
  TdPop3Session *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (TD_TYPE_POP3_SESSION, NULL);
  self->stream = g_object_ref (stream);
  return self;
}

TdPop3State
td_pop3_session_get_state (TdPop3Session *self)
{
  g_return_val_if_fail (TD_IS_POP3_SESSION (self), TD_POP3_STATE_NOT_CONNECTED);

  return public_state (self->state);
}

const char *
td_pop3_session_get_capability (TdPop3Session *self,
                                const char    *capability)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TD_IS_POP3_SESSION (self), NULL);
  g_return_val_if_fail (capability != NULL, NULL);

  if (self->caps == NULL)
    return NULL;
  upper = g_ascii_strup (capability, -1);
  return g_hash_table_lookup (self->caps, upper);
}

gboolean
td_pop3_session_has_capability (TdPop3Session *self,
                                const char    *capability)
{
  g_return_val_if_fail (TD_IS_POP3_SESSION (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  return td_pop3_session_get_capability (self, capability) != NULL;
}

void
td_pop3_session_set_limits (TdPop3Session *self,
                            gsize          max_line,
                            gsize          max_multiline)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (max_line > 0 && max_multiline > 0);

  self->max_line = max_line;
  self->max_multiline = max_multiline;
  if (self->parser != NULL)
    td_pop3_parser_set_limits (self->parser, max_line, max_multiline);
}

TdPop3Code
td_pop3_session_get_refusal_code (TdPop3Session *self)
{
  g_return_val_if_fail (TD_IS_POP3_SESSION (self), TD_POP3_CODE_NONE);
  return self->refusal_code;
}

gboolean
td_pop3_session_get_capa_supported (TdPop3Session *self)
{
  g_return_val_if_fail (TD_IS_POP3_SESSION (self), FALSE);

  return self->capa_supported;
}

const char *
td_pop3_session_get_apop_timestamp (TdPop3Session *self)
{
  g_return_val_if_fail (TD_IS_POP3_SESSION (self), NULL);

  return self->timestamp;
}

void
td_pop3_session_set_pipeline_window (TdPop3Session *self,
                                     guint          window)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (window >= 1);

  self->window = window;
  _td_pop3_session_write_next (self);
}

void
td_pop3_session_close (TdPop3Session *self)
{
  EventData data = { 0, };

  g_return_if_fail (TD_IS_POP3_SESSION (self));

  _td_pop3_session_dispatch (self, EV_CLOSE, &data);
}
