/* td-pop3-session-connect.c: connecting to a POP3 server, and quitting
 *
 * The greeting (and its APOP timestamp), CAPA, STLS (a STARTTLS account never falls back to
 * plaintext, and nothing the server sent in plaintext after its +OK is read), NOOP and QUIT.
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

static void connect_continue (TdPop3Session *self);

/* ------------------------------------------------------------------------------------------ */
/* Capabilities */

/* capabilities one CAPA answer may give (a hostile listing stops here) */
#define MAX_CAPABILITIES  256

/* A line of the CAPA answer: a keyword, then its arguments. */
void
_td_pop3_session_capa_line (Command    *cmd,
                            const char *line)
{
  const char *p = line;
  const char *space;
  g_autofree char *keyword = NULL;
  g_autofree char *args = NULL;

  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0')
    return;
  if (g_hash_table_size (cmd->caps) >= MAX_CAPABILITIES)
    {
      g_set_error (&cmd->error, TD_ERROR, TD_ERROR_LIMIT,
                   _("The server sent more capabilities than is safe to accept."));
      return;
    }
  space = p + strcspn (p, " \t");
  keyword = g_ascii_strup (p, space - p);
  args = g_utf8_make_valid (space, -1);
  g_hash_table_replace (cmd->caps, g_utf8_make_valid (keyword, -1), g_strdup (g_strstrip (args)));
}

void
_td_pop3_session_take_capabilities (TdPop3Session     *self,
                                    Command           *cmd,
                                    const TdPop3Event *status)
{
  g_clear_pointer (&self->caps, g_hash_table_unref);
  if (status->ok && cmd->error == NULL)
    {
      self->caps = g_steal_pointer (&cmd->caps);
      self->capa_supported = TRUE;
    }
  else
    {
      /* no CAPA (RFC 1939 only), or a broken listing: nothing is known */
      self->caps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      self->capa_supported = FALSE;
    }
}

Command *
_td_pop3_session_capa_command_new (CommandDone  done,
                                   GTask       *task)
{
  Command *cmd = _td_pop3_session_command_new (CMD_CAPA, TD_POP3_EXPECT_LINES, done, task);

  cmd->caps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  _td_pop3_session_command_add_line (cmd, "CAPA");
  return cmd;
}

/* ------------------------------------------------------------------------------------------ */
/* Connecting: greeting, CAPA, STLS */

static void
connect_complete (TdPop3Session *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->connect_task);

  g_clear_pointer (&self->connect_cancel_source, _td_pop3_session_source_destroy);
  self->state = ST_AUTHORIZATION;
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static void
connect_capa_done (TdPop3Session     *self,
                   Command           *cmd,
                   const TdPop3Event *status)
{
  if (status->ok && cmd->error != NULL)
    {
      _td_pop3_session_fail (self, g_error_copy (cmd->error));
      return;
    }
  _td_pop3_session_take_capabilities (self, cmd, status);
  connect_continue (self);
}

/* The end of connecting or of the TLS handshake: frees @op; the session (a new reference) when
 * it is still there and the step worked, else NULL (a failure has failed the session). */
static TdPop3Session *
io_step_done (IoOp         *op,
              gboolean      ok,
              const GError *error)
{
  TdPop3Session *self = _td_pop3_session_io_op_get_session (op);

  _td_pop3_session_io_op_free (op);
  if (self != NULL && !ok)
    {
      _td_pop3_session_fail (self, _td_pop3_session_map_io_error (self, error));
      g_clear_object (&self);
    }
  return self;
}

/* Reads and writes go through the connection's streams (new ones after the handshake). */
static void
take_connection_streams (TdPop3Session *self)
{
  g_set_object (&self->input, td_connection_get_input_stream (self->connection));
  g_set_object (&self->output, td_connection_get_output_stream (self->connection));
}

static void
on_tls_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = td_connection_start_tls_finish (TD_CONNECTION (source), result, &error);
  g_autoptr(TdPop3Session) self = io_step_done (user_data, ok, error);

  if (self == NULL)
    return;

  g_assert (self->state == ST_STLS);
  take_connection_streams (self);
  self->tls_done = TRUE;
  self->stls_sent = FALSE;
  /* RFC 2595 4: forget what was learnt in plaintext and ask again */
  g_clear_pointer (&self->caps, g_hash_table_unref);
  self->capa_supported = FALSE;
  self->state = ST_NEGOTIATING;
  _td_pop3_session_start_reading (self);
  connect_continue (self);
}

void
_td_pop3_session_maybe_start_tls (TdPop3Session *self)
{
  if (self->state != ST_STLS || !self->tls_pending || self->writing)
    return;
  self->tls_pending = FALSE;
  td_connection_start_tls_async (self->connection,
                                 self->connect_task != NULL ?
                                   g_task_get_cancellable (self->connect_task) : NULL,
                                 on_tls_done, _td_pop3_session_io_op_new (self));
}

static void
stls_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  if (!status->ok)
    {
      _td_pop3_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                _("The server refused to start encryption "
                                                  "(%s). The password was not sent."),
                                                _td_pop3_session_server_text (status)));
      return;
    }
  /* The handshake starts once the input is known to hold nothing more (process_input) and
   * the last write is done (_td_pop3_session_maybe_start_tls). */
  self->state = ST_STLS;
  self->tls_pending = TRUE;
}

static void
connect_continue (TdPop3Session *self)
{
  gboolean want_tls = self->connection != NULL &&
                      td_connection_get_security (self->connection) == TD_SECURITY_STARTTLS &&
                      !self->tls_done;

  g_assert (self->state == ST_NEGOTIATING);

  if (self->caps == NULL)
    {
      _td_pop3_session_queue (self, _td_pop3_session_capa_command_new (connect_capa_done, NULL));
      return;
    }

  if (want_tls)
    {
      /* without CAPA nothing is known: STLS is tried, and a refusal is final */
      if (self->capa_supported && !_td_pop3_session_has_cap (self, "STLS"))
        {
          _td_pop3_session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                            _("The server does not offer "
                                                              "STLS, so the connection cannot "
                                                              "be encrypted and the password "
                                                              "was not sent. Choose TLS "
                                                              "(usually port 995) or check "
                                                              "the server settings.")));
          return;
        }
      self->stls_sent = TRUE;
      _td_pop3_session_queue_line (self, CMD_STLS, TD_POP3_EXPECT_STATUS, stls_done, NULL, "STLS");
      return;
    }

  connect_complete (self);
}

static gboolean
on_connect_cancelled (GCancellable *cancellable,
                      gpointer      user_data)
{
  TdPop3Session *self = user_data;
  g_autoptr(GError) error = _td_pop3_session_cancelled_error ();

  g_clear_pointer (&self->connect_cancel_source, _td_pop3_session_source_destroy);
  _td_pop3_session_shutdown (self, error, error);
  return G_SOURCE_REMOVE;
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = td_connection_connect_finish (TD_CONNECTION (source), result, &error);
  g_autoptr(TdPop3Session) self = io_step_done (user_data, ok, error);

  if (self == NULL)
    return;
  take_connection_streams (self);
  if (self->input == NULL || self->output == NULL)
    {
      _td_pop3_session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                                        _("The connection to the server "
                                                          "could not be opened.")));
      return;
    }
  self->state = ST_GREETING;
  _td_pop3_session_start_reading (self);
}

void
_td_pop3_session_handle_connect (TdPop3Session *self,
                                 EventData     *data)
{
  GCancellable *cancellable = g_task_get_cancellable (data->task);

  self->connect_task = g_object_ref (data->task);
  if (cancellable != NULL)
    self->connect_cancel_source = _td_pop3_session_watch_cancel (data->task, on_connect_cancelled,
                                                                 self);
  g_clear_pointer (&self->parser, td_pop3_parser_free);
  self->parser = td_pop3_parser_new ();
  if (self->max_line > 0)
    td_pop3_parser_set_limits (self->parser, self->max_line, self->max_multiline);
  td_pop3_parser_expect (self->parser, TD_POP3_EXPECT_STATUS);   /* the greeting */

  if (self->connection != NULL)
    {
      self->state = ST_CONNECTING;
      td_connection_connect_async (self->connection, cancellable, on_connected,
                                   _td_pop3_session_io_op_new (self));
      return;
    }

  self->input = g_object_ref (g_io_stream_get_input_stream (self->stream));
  self->output = g_object_ref (g_io_stream_get_output_stream (self->stream));
  self->state = ST_GREETING;
  _td_pop3_session_start_reading (self);
}

void
_td_pop3_session_handle_greeting (TdPop3Session *self,
                                  EventData     *data)
{
  const TdPop3Event *event = data->event;

  if (!event->ok)
    {
      self->refusal_code = event->code;
      _td_pop3_session_fail (self, _td_pop3_session_refused_error (event, TD_ERROR_CONNECTION,
                                                                   _("connect")));
      return;
    }
  g_free (self->timestamp);
  self->timestamp = td_pop3_greeting_timestamp (event->text);
  self->state = ST_NEGOTIATING;
  connect_continue (self);
}

/* ------------------------------------------------------------------------------------------ */
/* CAPA */

static void
capa_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = _td_pop3_session_command_detach (cmd);

  if (status->ok && cmd->error != NULL)
    {
      /* a broken listing: what was known stays */
      if (task != NULL)
        _td_pop3_session_task_return_error (task, g_error_copy (cmd->error));
      return;
    }
  _td_pop3_session_take_capabilities (self, cmd, status);
  if (task == NULL)
    return;
  if (!status->ok)
    _td_pop3_session_task_return_error (task, g_error_new (TD_ERROR, TD_ERROR_UNSUPPORTED,
                                                           _("The server does not tell its "
                                                             "capabilities (%s)."),
                                                           _td_pop3_session_server_text (status)));
  else
    _td_pop3_session_task_return_boolean (task, TRUE);
}

void
_td_pop3_session_handle_capa (TdPop3Session *self,
                              EventData     *data)
{
  _td_pop3_session_queue (self, _td_pop3_session_capa_command_new (capa_done, data->task));
}

/* ------------------------------------------------------------------------------------------ */
/* NOOP */

static void
noop_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  _td_pop3_session_boolean_done (cmd, status, _("check the connection"));
}

void
_td_pop3_session_handle_noop (TdPop3Session *self,
                              EventData     *data)
{
  _td_pop3_session_queue_line (self, CMD_NOOP, TD_POP3_EXPECT_STATUS, noop_done, data->task,
                               "NOOP");
}

/* ------------------------------------------------------------------------------------------ */
/* QUIT */

static void
quit_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  gboolean update = cmd->update;
  g_autoptr(GTask) task = _td_pop3_session_command_detach (cmd);

  /* the command is out of the queues already: this ends the connection */
  _td_pop3_session_finish_quit (self, task, update, status);
}

void
_td_pop3_session_handle_quit (TdPop3Session *self,
                              EventData     *data)
{
  Command *cmd = _td_pop3_session_command_new (CMD_QUIT, TD_POP3_EXPECT_STATUS, quit_done,
                                               data->task);

  cmd->update = self->state == ST_TRANSACTION;
  _td_pop3_session_command_add_line (cmd, "QUIT");
  self->state = ST_UPDATE;
  _td_pop3_session_queue (self, cmd);
}

/* Not connected (yet or any more): there is nothing to quit. */
void
_td_pop3_session_handle_quit_closed (TdPop3Session *self,
                                     EventData     *data)
{
  _td_pop3_session_task_return_boolean (data->task, TRUE);
}

/* Still setting up: nothing to say to the server, just drop the connection. */
void
_td_pop3_session_handle_quit_abort (TdPop3Session *self,
                                    EventData     *data)
{
  _td_pop3_session_handle_close (self, data);
  _td_pop3_session_task_return_boolean (data->task, TRUE);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

void
td_pop3_session_connect_async (TdPop3Session       *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* the connect task watches its cancellable itself (the whole connection goes) */
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_pop3_session_connect_async);
  _td_pop3_session_run_operation (self, EV_CONNECT, task);
}

gboolean
td_pop3_session_connect_finish (TdPop3Session  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_capa_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  _td_pop3_session_simple_operation (self, EV_CAPA, td_pop3_session_capa_async, cancellable,
                                     callback, user_data);
}

gboolean
td_pop3_session_capa_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_noop_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  _td_pop3_session_simple_operation (self, EV_NOOP, td_pop3_session_noop_async, cancellable,
                                     callback, user_data);
}

gboolean
td_pop3_session_noop_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_quit_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_POP3_SESSION (self));

  task = _td_pop3_session_op_task_new (self, td_pop3_session_quit_async, cancellable, callback,
                                       user_data);
  _td_pop3_session_task_op (task)->watch_cancel = FALSE;   /* once sent, its answer decides */
  _td_pop3_session_run_operation (self, EV_QUIT, task);
}

gboolean
td_pop3_session_quit_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
