/* td-imap-session-connect.c: connecting to an IMAP server, logging in and out
 *
 * The greeting (OK or PREAUTH), CAPABILITY, STARTTLS (a STARTTLS account never falls back to
 * plaintext), AUTHENTICATE PLAIN or LOGIN (never over a connection that is not TLS), ENABLE
 * (RFC 5161) and LOGOUT.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-imap"

#include "config.h"

#include "td-imap-session.h"
#include "td-imap-session-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

static void connect_continue (TdImapSession *self);

/* ------------------------------------------------------------------------------------------ */
/* Capabilities */

static void
session_set_caps_from_values (TdImapSession *self,
                              GPtrArray     *values)
{
  g_autoptr(GHashTable) caps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; values != NULL && i < values->len; i++)
    {
      const TdImapValue *value = g_ptr_array_index (values, i);

      if (value->type == TD_IMAP_VALUE_ATOM && value->atom != NULL)
        g_hash_table_add (caps, g_ascii_strup (value->atom, -1));
    }
  g_clear_pointer (&self->caps, g_hash_table_unref);
  self->caps = g_steal_pointer (&caps);
  self->caps_serial++;
}

/* Asks for the capabilities; @done can tell by the command's caps_serial whether the set was
 * replaced meanwhile (by an untagged CAPABILITY or a [CAPABILITY] code). */
static void
queue_capability (TdImapSession *self,
                  CommandDone    done,
                  GTask         *task)
{
  Command *cmd = _td_imap_session_command_new (self, CMD_CAPABILITY, done, task);

  cmd->caps_serial = self->caps_serial;
  _td_imap_session_command_append (cmd, "CAPABILITY");
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* "* CAPABILITY ..." or any status response with a [CAPABILITY ...] code. */
void
_td_imap_session_take_capabilities (TdImapSession        *self,
                                    const TdImapResponse *response)
{
  if (response->status == TD_IMAP_STATUS_NONE &&
      _td_imap_session_response_is (response, "CAPABILITY"))
    session_set_caps_from_values (self, response->values);
  else if (response->status != TD_IMAP_STATUS_NONE && response->code != NULL &&
           strcmp (response->code, "CAPABILITY") == 0)
    session_set_caps_from_values (self, response->code_args);
}

/* ------------------------------------------------------------------------------------------ */
/* Connect */

static void
connect_complete (TdImapSession *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->connect_task);

  g_clear_pointer (&self->connect_cancel_source, _td_imap_session_source_destroy);
  self->state = self->preauth ? ST_AUTHENTICATED : ST_NOT_AUTHENTICATED;
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static void
connect_capability_done (TdImapSession        *self,
                         Command              *cmd,
                         const TdImapResponse *tagged)
{
  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      _td_imap_session_fail (self, _td_imap_session_refused_error (tagged,
                                                                   _("tell its capabilities")));
      return;
    }
  if (self->caps == NULL)               /* answered without any: an empty set, no loop */
    session_set_caps_from_values (self, NULL);
  connect_continue (self);
}

static void
on_tls_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdImapSession) self = _td_imap_session_io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gboolean ok = td_connection_start_tls_finish (TD_CONNECTION (source), result, &error);

  _td_imap_session_io_op_free (op);
  if (self == NULL)
    return;
  if (!ok)
    {
      _td_imap_session_fail (self, _td_imap_session_map_io_error (self, error));
      return;
    }

  g_assert (self->state == ST_STARTTLS);
  g_set_object (&self->input, td_connection_get_input_stream (self->connection));
  g_set_object (&self->output, td_connection_get_output_stream (self->connection));
  self->tls_done = TRUE;
  self->starttls_sent = FALSE;
  /* RFC 3501 6.2.1: forget what was learnt in plaintext and ask again */
  g_clear_pointer (&self->caps, g_hash_table_unref);
  self->caps_serial++;
  self->state = ST_NEGOTIATING;
  _td_imap_session_start_reading (self);
  connect_continue (self);
}

void
_td_imap_session_maybe_start_tls (TdImapSession *self)
{
  if (self->state != ST_STARTTLS || !self->tls_pending || self->writing)
    return;
  self->tls_pending = FALSE;
  td_connection_start_tls_async (self->connection,
                                 self->connect_task != NULL ?
                                   g_task_get_cancellable (self->connect_task) : NULL,
                                 on_tls_done, _td_imap_session_io_op_new (self));
}

static void
starttls_done (TdImapSession        *self,
               Command              *cmd,
               const TdImapResponse *tagged)
{
  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      _td_imap_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                _("The server refused to start encryption "
                                                  "(%s). The password was not sent."),
                                                _td_imap_session_response_text (tagged)));
      return;
    }
  /* The handshake starts once the input is known to hold nothing more (process_input) and
   * the last write is done (_td_imap_session_maybe_start_tls). */
  self->state = ST_STARTTLS;
  self->tls_pending = TRUE;
}

static void
connect_continue (TdImapSession *self)
{
  gboolean want_tls = self->connection != NULL &&
                      td_connection_get_security (self->connection) == TD_SECURITY_STARTTLS &&
                      !self->tls_done;
  Command *cmd;

  g_assert (self->state == ST_NEGOTIATING);

  if (want_tls && self->preauth)
    {
      _td_imap_session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                        _("The server logged in before the "
                                                          "connection was encrypted, so STARTTLS "
                                                          "is impossible. Use TLS on the server’s "
                                                          "secure port instead.")));
      return;
    }

  if (self->caps == NULL)
    {
      queue_capability (self, connect_capability_done, NULL);
      return;
    }

  if (want_tls)
    {
      if (!_td_imap_session_has_cap (self, "STARTTLS"))
        {
          _td_imap_session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                            _("The server does not offer STARTTLS, "
                                                              "so the connection cannot be "
                                                              "encrypted and the password was not "
                                                              "sent. Choose TLS (usually port 993) "
                                                              "or check the server settings.")));
          return;
        }
      cmd = _td_imap_session_command_new (self, CMD_STARTTLS, starttls_done, NULL);
      _td_imap_session_command_append (cmd, "STARTTLS");
      _td_imap_session_command_end (cmd);
      self->starttls_sent = TRUE;
      _td_imap_session_queue (self, cmd);
      return;
    }

  connect_complete (self);
}

static gboolean
on_connect_cancelled (GCancellable *cancellable,
                      gpointer      user_data)
{
  TdImapSession *self = user_data;
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 _("The operation was cancelled"));

  g_clear_pointer (&self->connect_cancel_source, _td_imap_session_source_destroy);
  _td_imap_session_shutdown (self, error, error);
  return G_SOURCE_REMOVE;
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdImapSession) self = _td_imap_session_io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gboolean ok = td_connection_connect_finish (TD_CONNECTION (source), result, &error);

  _td_imap_session_io_op_free (op);
  if (self == NULL)
    return;
  if (!ok)
    {
      _td_imap_session_fail (self, _td_imap_session_map_io_error (self, error));
      return;
    }
  g_set_object (&self->input, td_connection_get_input_stream (self->connection));
  g_set_object (&self->output, td_connection_get_output_stream (self->connection));
  if (self->input == NULL || self->output == NULL)
    {
      _td_imap_session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                                        _("The connection to the server could not "
                                                          "be opened.")));
      return;
    }
  self->state = ST_GREETING;
  _td_imap_session_start_reading (self);
}

void
_td_imap_session_handle_connect (TdImapSession *self,
                                 EventData     *data)
{
  GCancellable *cancellable = g_task_get_cancellable (data->task);

  self->connect_task = g_object_ref (data->task);
  if (cancellable != NULL)
    {
      self->connect_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->connect_cancel_source, G_SOURCE_FUNC (on_connect_cancelled),
                             self, NULL);
      g_source_attach (self->connect_cancel_source, g_task_get_context (data->task));
    }
  g_clear_pointer (&self->parser, td_imap_parser_free);
  self->parser = td_imap_parser_new ();

  if (self->connection != NULL)
    {
      self->state = ST_CONNECTING;
      td_connection_connect_async (self->connection, cancellable, on_connected,
                                   _td_imap_session_io_op_new (self));
      return;
    }

  self->input = g_object_ref (g_io_stream_get_input_stream (self->stream));
  self->output = g_object_ref (g_io_stream_get_output_stream (self->stream));
  self->state = ST_GREETING;
  _td_imap_session_start_reading (self);
}

void
_td_imap_session_handle_greeting (TdImapSession *self,
                                  EventData     *data)
{
  const TdImapResponse *response = data->response;

  switch (response->status)
    {
    case TD_IMAP_STATUS_OK:
      self->preauth = FALSE;
      break;
    case TD_IMAP_STATUS_PREAUTH:
      self->preauth = TRUE;
      break;
    case TD_IMAP_STATUS_BYE:
      _td_imap_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                                                _("The server refused the connection: %s"),
                                                _td_imap_session_response_text (response)));
      return;
    case TD_IMAP_STATUS_NO:
    case TD_IMAP_STATUS_BAD:
    case TD_IMAP_STATUS_NONE:
    default:
      _td_imap_session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_PROTOCOL,
                                                        _("The server did not greet like an IMAP "
                                                          "server. Check the host name and "
                                                          "port.")));
      return;
    }

  _td_imap_session_take_capabilities (self, response);
  self->state = ST_NEGOTIATING;
  connect_continue (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Login */

static void
secure_free (gpointer data)
{
  if (data != NULL)
    _td_imap_session_secure_clear (data, strlen (data));
  g_free (data);
}

typedef struct
{
  char *username;
  char *password;
} LoginArgs;

static void
login_args_free (LoginArgs *args)
{
  secure_free (args->username);
  secure_free (args->password);
  g_free (args);
}

static void
login_capability_done (TdImapSession        *self,
                       Command              *cmd,
                       const TdImapResponse *tagged)
{
  if (tagged->status == TD_IMAP_STATUS_OK && self->caps_serial == cmd->caps_serial)
    session_set_caps_from_values (self, NULL);   /* answered without any */
  _td_imap_session_boolean_done (self, cmd, tagged, _("tell its capabilities"));
}

static void
login_done (TdImapSession        *self,
            Command              *cmd,
            const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_steal_task (cmd);

  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      if (self->state == ST_AUTHENTICATING)
        self->state = ST_NOT_AUTHENTICATED;
      if (task == NULL)
        return;
      if (tagged->status == TD_IMAP_STATUS_NO)
        g_task_return_new_error (task, TD_ERROR, TD_ERROR_AUTH,
                                 _("The server refused the user name or password: %s"),
                                 _td_imap_session_response_text (tagged));
      else
        g_task_return_error (task, _td_imap_session_refused_error (tagged, _("log in")));
      return;
    }

  self->state = ST_AUTHENTICATED;
  /* capabilities change after login: take them from the OK (already done), an untagged
   * CAPABILITY meanwhile, or ask */
  if (self->caps_serial != cmd->caps_serial)
    {
      if (task != NULL)
        g_task_return_boolean (task, TRUE);
      return;
    }
  queue_capability (self, login_capability_done, task);
}

void
_td_imap_session_handle_login (TdImapSession *self,
                               EventData     *data)
{
  LoginArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (self->connection != NULL && !td_connection_is_tls (self->connection))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_TLS_REQUIRED,
                               _("The connection is not encrypted, so the password was not "
                                 "sent. Check the security settings of the account."));
      return;
    }

  cmd = _td_imap_session_command_new (self, CMD_LOGIN, login_done, data->task);
  cmd->secret = TRUE;
  cmd->caps_serial = self->caps_serial;

  if (_td_imap_session_has_cap (self, "AUTH=PLAIN"))
    {
      gsize ulen = strlen (args->username);
      gsize plen = strlen (args->password);
      gsize len = ulen + plen + 2;
      g_autofree guint8 *raw = g_malloc (len);
      char *b64;

      raw[0] = '\0';
      memcpy (raw + 1, args->username, ulen);
      raw[1 + ulen] = '\0';
      memcpy (raw + 2 + ulen, args->password, plen);
      b64 = g_base64_encode (raw, len);
      _td_imap_session_secure_clear (raw, len);

      _td_imap_session_command_append (cmd, "AUTHENTICATE PLAIN");
      if (_td_imap_session_has_cap (self, "SASL-IR"))
        _td_imap_session_command_append (cmd, " ");
      else
        _td_imap_session_command_break (cmd);
      _td_imap_session_command_append (cmd, b64);
      _td_imap_session_command_end (cmd);
      secure_free (b64);
    }
  else if (_td_imap_session_has_cap (self, "LOGINDISABLED"))
    {
      _td_imap_session_command_free (cmd);
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_AUTH,
                               _("The server does not allow logging in with a password on "
                                 "this connection (LOGINDISABLED). Check that the account "
                                 "uses an encrypted connection."));
      return;
    }
  else
    {
      _td_imap_session_command_append (cmd, "LOGIN ");
      _td_imap_session_command_append_astring (self, cmd, args->username);
      _td_imap_session_command_append (cmd, " ");
      _td_imap_session_command_append_astring (self, cmd, args->password);
      _td_imap_session_command_end (cmd);
    }

  self->state = ST_AUTHENTICATING;
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* ENABLE */

void
_td_imap_session_enable_untagged (TdImapSession        *self,
                                  const TdImapResponse *response)
{
  for (guint i = 0; i < response->values->len; i++)
    {
      const TdImapValue *v = g_ptr_array_index (response->values, i);

      if (v->type == TD_IMAP_VALUE_ATOM && v->atom != NULL)
        g_hash_table_add (self->enabled, g_ascii_strup (v->atom, -1));
    }
}

static void
enable_done (TdImapSession        *self,
             Command              *cmd,
             const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_accepted (cmd, tagged,
                                                              _("turn on a server extension"));
  g_autofree char *upper = g_ascii_strup (cmd->capability, -1);

  if (task != NULL)
    g_task_return_boolean (task, g_hash_table_contains (self->enabled, upper));
}

void
_td_imap_session_handle_enable (TdImapSession *self,
                                EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (!_td_imap_session_is_atom_text (args->text))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID,
                               "Not a capability name: %s", args->text);
      return;
    }
  cmd = _td_imap_session_command_new (self, CMD_ENABLE, enable_done, data->task);
  cmd->capability = g_strdup (args->text);
  g_string_append_printf (cmd->line, "ENABLE %s", args->text);
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* Logout */

static void
logout_done (TdImapSession        *self,
             Command              *cmd,
             const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_steal_task (cmd);

  /* the command is out of the queues already: this only ends the connection */
  _td_imap_session_finish_logout (self);
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

void
_td_imap_session_handle_logout (TdImapSession *self,
                                EventData     *data)
{
  Command *cmd = _td_imap_session_command_new (self, CMD_LOGOUT, logout_done, data->task);

  _td_imap_session_command_append (cmd, "LOGOUT");
  _td_imap_session_command_end (cmd);
  self->state = ST_LOGOUT;
  _td_imap_session_queue (self, cmd);
}

/* Not connected (yet or any more): there is nothing to log out of. */
void
_td_imap_session_handle_logout_closed (TdImapSession *self,
                                       EventData     *data)
{
  g_task_return_boolean (data->task, TRUE);
}

/* Still setting up: nothing to say to the server, just drop the connection. */
void
_td_imap_session_handle_logout_abort (TdImapSession *self,
                                      EventData     *data)
{
  _td_imap_session_handle_close (self, data);
  g_task_return_boolean (data->task, TRUE);
}

/* A second LOGOUT while one is under way: stop waiting for the server. Both complete. */
void
_td_imap_session_handle_logout_again (TdImapSession *self,
                                      EventData     *data)
{
  _td_imap_session_finish_logout (self);
  g_task_return_boolean (data->task, TRUE);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

void
td_imap_session_connect_async (TdImapSession       *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_connect_async);
  _td_imap_session_run_operation (self, EV_CONNECT, task);
}

gboolean
td_imap_session_connect_finish (TdImapSession  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_imap_session_login_async (TdImapSession       *self,
                             const char          *username,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoginArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_login_async);
  args = g_new0 (LoginArgs, 1);
  args->username = g_strdup (username);
  args->password = g_strdup (password);
  g_task_set_task_data (task, args, (GDestroyNotify) login_args_free);
  _td_imap_session_run_operation (self, EV_LOGIN, task);
}

gboolean
td_imap_session_login_finish (TdImapSession  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_imap_session_enable_async (TdImapSession       *self,
                              const char          *capability,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  OpArgs *args;
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (capability != NULL);

  args = g_new0 (OpArgs, 1);
  args->text = g_strdup (capability);
  task = _td_imap_session_op_task_new (self, td_imap_session_enable_async, args, cancellable,
                                       callback, user_data);
  _td_imap_session_run_operation (self, EV_ENABLE, task);
}

gboolean
td_imap_session_enable_finish (TdImapSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
td_imap_session_is_enabled (TdImapSession *self,
                            const char    *capability)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TD_IS_IMAP_SESSION (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  upper = g_ascii_strup (capability, -1);
  return g_hash_table_contains (self->enabled, upper);
}

void
td_imap_session_logout_async (TdImapSession       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_logout_async);
  _td_imap_session_run_operation (self, EV_LOGOUT, task);
}

gboolean
td_imap_session_logout_finish (TdImapSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
