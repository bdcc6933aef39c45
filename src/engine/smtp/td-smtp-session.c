/* td-smtp-session.c: one connection to an SMTP submission server
 *
 * Commands go out through one write queue; each command that wants an answer pushes a reply
 * handler, and answers are given to the handlers in order (SMTP answers in order, also with
 * PIPELINING). The input is read only while an answer is awaited, so that nothing is read from
 * the plaintext stream after the answer to STARTTLS, and the handshake starts on a clean one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-smtp"

#include "config.h"

#include "td-smtp-session.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-smtp-session-private.h"
#include "td-trace.h"

enum { SIGNAL_CLOSED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TdSmtpSession, td_smtp_session, G_TYPE_OBJECT)

static void send_ehlo (TdSmtpSession *self);

void
td_smtp_refusal_free (TdSmtpRefusal *refusal)
{
  if (refusal == NULL)
    return;
  g_free (refusal->address);
  g_free (refusal->text);
  g_free (refusal);
}

/* --- Failing and closing --- */

static void
clear_cancel_source (TdSmtpSession *self)
{
  if (self->cancel_source != NULL)
    {
      g_source_destroy (self->cancel_source);
      g_clear_pointer (&self->cancel_source, g_source_unref);
    }
}

static void
close_streams (TdSmtpSession *self)
{
  g_cancellable_cancel (self->io_cancel);
  if (self->connection != NULL)
    td_connection_close (self->connection);
  else if (self->stream != NULL && !g_io_stream_is_closed (self->stream))
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

/* Ends the session: the operation running fails with @error (taken), "closed" is emitted. */
void
_td_smtp_session_fail (TdSmtpSession *self,
      GError        *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);
  gboolean was_open = self->state != TD_SMTP_STATE_CLOSED;

  g_assert (error != NULL);
  clear_cancel_source (self);
  self->state = TD_SMTP_STATE_CLOSED;
  g_queue_clear (&self->handlers);
  g_queue_clear_full (&self->writes, (GDestroyNotify) g_bytes_unref);
  close_streams (self);

  if (was_open)
    g_signal_emit (self, signals[SIGNAL_CLOSED], 0, error);
  if (task != NULL)
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

/* The running operation, taken out to be completed. */
GTask *
_td_smtp_session_take_task (TdSmtpSession *self)
{
  clear_cancel_source (self);
  return g_steal_pointer (&self->task);
}

void
_td_smtp_session_complete_boolean (TdSmtpSession *self)
{
  g_autoptr(GTask) task = _td_smtp_session_take_task (self);

  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static GError *
io_error (TdSmtpSession *self,
          GError        *error)
{
  if (self->connection != NULL)
    return td_connection_translate_error (self->connection, error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || error->domain == TD_ERROR)
    return error;
  {
    GError *mapped = g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                                  _("The connection to the mail server failed: %s"),
                                  error->message);
    g_error_free (error);
    return mapped;
  }
}

const char *
_td_smtp_session_server_name (TdSmtpSession *self)
{
  return self->connection != NULL ? td_connection_get_host (self->connection) : "localhost";
}

/* An error for a reply that says no: 4xx try later, 5xx permanent, with the server's words. */
GError *
_td_smtp_session_reply_error (TdSmtpReply *reply,
             const char  *what)
{
  g_autofree char *text = td_smtp_reply_text (reply);
  TdError code = reply->code >= 500 ? TD_ERROR_PERMANENT : TD_ERROR_TRY_LATER;

  if (reply->code >= 500)
    return g_error_new (TD_ERROR, code, _("%s: the mail server refused (%u %s)."), what,
                        reply->code, text);
  return g_error_new (TD_ERROR, code,
                      _("%s: the mail server cannot now (%u %s). Tidings will try again later."),
                      what, reply->code, text);
}

/* --- Writing --- */

static void write_next (TdSmtpSession *self);

static void
write_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(TdSmtpSession) self = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->writing, g_bytes_unref);
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      if (self->state != TD_SMTP_STATE_CLOSED)
        _td_smtp_session_fail (self, io_error (self, g_steal_pointer (&error)));
      return;
    }
  write_next (self);
}

static void
write_next (TdSmtpSession *self)
{
  gsize len;
  gconstpointer data;

  if (self->writing != NULL || self->state == TD_SMTP_STATE_CLOSED)
    return;
  self->writing = g_queue_pop_head (&self->writes);
  if (self->writing == NULL)
    return;
  data = g_bytes_get_data (self->writing, &len);
  g_output_stream_write_all_async (self->output, data, len, G_PRIORITY_DEFAULT,
                                   self->io_cancel, write_cb, g_object_ref (self));
}

void
_td_smtp_session_write_bytes (TdSmtpSession *self,
             GBytes        *bytes)
{
  g_queue_push_tail (&self->writes, bytes);
  write_next (self);
}

/* A command line (CRLF added), traced with credentials redacted; @handler gets its reply. */
void
_td_smtp_session_command (TdSmtpSession *self,
         ReplyFunc      handler,
         gboolean       sasl,
         const char    *format,
         ...) G_GNUC_PRINTF (4, 5);

void
_td_smtp_session_command (TdSmtpSession *self,
         ReplyFunc      handler,
         gboolean       sasl,
         const char    *format,
         ...)
{
  va_list args;
  GString *line;

  va_start (args, format);
  line = g_string_new (NULL);
  g_string_append_vprintf (line, format, args);
  va_end (args);

  td_trace_line (G_LOG_DOMAIN, TD_TRACE_SMTP, TRUE, sasl, line->str, line->len);
  g_string_append (line, "\r\n");
  if (handler != NULL)
    g_queue_push_tail (&self->handlers, (gpointer) handler);
  _td_smtp_session_write_bytes (self, g_string_free_to_bytes (line));
  _td_smtp_session_start_reading (self);
}

/* --- Reading --- */

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(TdSmtpSession) self = user_data;
  g_autoptr(GError) error = NULL;
  TdSmtpReply *reply;
  gssize n;

  self->reading = FALSE;
  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (self->state == TD_SMTP_STATE_CLOSED)
    return;
  if (n < 0)
    {
      _td_smtp_session_fail (self, io_error (self, g_steal_pointer (&error)));
      return;
    }
  if (n == 0)
    {
      _td_smtp_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                               _("The mail server %s closed the connection."),
                               _td_smtp_session_server_name (self)));
      return;
    }
  if (!td_smtp_parser_feed (self->parser, (const char *) self->buffer, (gsize) n, &error))
    {
      _td_smtp_session_fail (self, g_steal_pointer (&error));
      return;
    }

  while (self->state != TD_SMTP_STATE_CLOSED && (reply = td_smtp_parser_pop (self->parser)))
    {
      g_autoptr(TdSmtpReply) owned = reply;
      ReplyFunc handler = (ReplyFunc) g_queue_pop_head (&self->handlers);

      for (guint i = 0; i < reply->lines->len; i++)
        td_trace_line (G_LOG_DOMAIN, TD_TRACE_SMTP, FALSE, FALSE,
                       g_ptr_array_index (reply->lines, i), -1);
      if (handler == NULL)
        {
          g_autofree char *text = td_smtp_reply_text (reply);

          if (reply->code == 421)
            _td_smtp_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                                     _("The mail server %s closed the connection (%s). Tidings "
                                       "will try again later."), _td_smtp_session_server_name (self), text));
          else
            _td_smtp_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                                     _("The mail server %s sent a reply nobody asked for: %u %s"),
                                     _td_smtp_session_server_name (self), reply->code, text));
          return;
        }
      if (reply->code == 421)
        {
          /* "service not available, closing": whatever was asked, the session is over */
          g_autofree char *text = td_smtp_reply_text (reply);

          _td_smtp_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                                   _("The mail server %s is not available now (%s). Tidings "
                                     "will try again later."), _td_smtp_session_server_name (self), text));
          return;
        }
      handler (self, reply);
    }
  _td_smtp_session_start_reading (self);
}

void
_td_smtp_session_start_reading (TdSmtpSession *self)
{
  if (self->reading || self->state == TD_SMTP_STATE_CLOSED ||
      g_queue_is_empty (&self->handlers))
    return;
  self->reading = TRUE;
  g_input_stream_read_async (self->input, self->buffer, sizeof self->buffer,
                             G_PRIORITY_DEFAULT, self->io_cancel, read_cb, g_object_ref (self));
}

/* --- Connecting: greeting, EHLO, STARTTLS --- */

static gboolean
wants_starttls (TdSmtpSession *self)
{
  return self->connection != NULL &&
         td_connection_get_security (self->connection) == TD_SECURITY_STARTTLS &&
         !self->tls_done;
}

static void
tls_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(TdSmtpSession) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_connection_start_tls_finish (TD_CONNECTION (source), result, &error))
    {
      if (self->state != TD_SMTP_STATE_CLOSED)
        _td_smtp_session_fail (self, io_error (self, g_steal_pointer (&error)));
      return;
    }
  if (self->state == TD_SMTP_STATE_CLOSED)
    return;
  g_set_object (&self->input, td_connection_get_input_stream (self->connection));
  g_set_object (&self->output, td_connection_get_output_stream (self->connection));
  self->tls_done = TRUE;
  /* RFC 3207 4.2: forget what was learnt in plaintext and ask again */
  g_hash_table_remove_all (self->caps);
  send_ehlo (self);
}

static void
starttls_reply (TdSmtpSession *self,
                TdSmtpReply   *reply)
{
  if (reply->code != 220)
    {
      g_autofree char *text = td_smtp_reply_text (reply);

      _td_smtp_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                               _("The mail server %s refused to start encryption (%u %s). "
                                 "The password was not sent."),
                               _td_smtp_session_server_name (self), reply->code, text));
      return;
    }
  /* Anything after the 220 came in plaintext: an injection (CVE-2011-0411), not to be read
   * as if it were encrypted. */
  if (td_smtp_parser_has_buffered (self->parser) || !g_queue_is_empty (&self->handlers))
    {
      _td_smtp_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                               _("The mail server %s sent more after agreeing to start "
                                 "encryption; the connection was closed."),
                               _td_smtp_session_server_name (self)));
      return;
    }
  td_connection_start_tls_async (self->connection, self->io_cancel, tls_cb,
                                 g_object_ref (self));
}

static void
take_capabilities (TdSmtpSession *self,
                   TdSmtpReply   *reply)
{
  g_hash_table_remove_all (self->caps);
  /* the first line is the server's greeting; each other line one keyword and its arguments */
  for (guint i = 1; i < reply->lines->len; i++)
    {
      const char *line = g_ptr_array_index (reply->lines, i);
      gsize n = strcspn (line, " =");
      g_autofree char *keyword = g_ascii_strup (line, n);
      const char *args = line[n] != '\0' ? line + n + 1 : "";

      if (*keyword == '\0')
        continue;
      g_hash_table_replace (self->caps, g_steal_pointer (&keyword), g_strstrip (g_strdup (args)));
    }
}

static void
ehlo_reply (TdSmtpSession *self,
            TdSmtpReply   *reply)
{
  if (reply->code != 250)
    {
      g_autofree char *text = td_smtp_reply_text (reply);

      _td_smtp_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The mail server %s does not accept EHLO (%u %s), so it "
                                 "cannot be used for sending mail securely."),
                               _td_smtp_session_server_name (self), reply->code, text));
      return;
    }
  take_capabilities (self, reply);

  if (wants_starttls (self))
    {
      if (!g_hash_table_contains (self->caps, "STARTTLS"))
        {
          _td_smtp_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                   _("The mail server %s does not offer STARTTLS, so the "
                                     "connection cannot be encrypted. Nothing was sent; use "
                                     "port 465 with TLS if the server has it."),
                                   _td_smtp_session_server_name (self)));
          return;
        }
      _td_smtp_session_command (self, starttls_reply, FALSE, "STARTTLS");
      return;
    }

  self->state = TD_SMTP_STATE_CONNECTED;
  _td_smtp_session_complete_boolean (self);
}

static void
send_ehlo (TdSmtpSession *self)
{
  _td_smtp_session_command (self, ehlo_reply, FALSE, "EHLO %s", self->helo_name);
}

static void
greeting_reply (TdSmtpSession *self,
                TdSmtpReply   *reply)
{
  if (reply->code != 220)
    {
      g_autofree char *what = g_strdup_printf (_("Connecting to %s"), _td_smtp_session_server_name (self));

      _td_smtp_session_fail (self, _td_smtp_session_reply_error (reply, what));
      return;
    }
  send_ehlo (self);
}

static void
start_session (TdSmtpSession *self)
{
  g_queue_push_tail (&self->handlers, (gpointer) greeting_reply);
  _td_smtp_session_start_reading (self);
}

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TdSmtpSession) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_connection_connect_finish (TD_CONNECTION (source), result, &error))
    {
      if (self->state != TD_SMTP_STATE_CLOSED)
        _td_smtp_session_fail (self, io_error (self, g_steal_pointer (&error)));
      return;
    }
  if (self->state == TD_SMTP_STATE_CLOSED)
    return;
  g_set_object (&self->input, td_connection_get_input_stream (self->connection));
  g_set_object (&self->output, td_connection_get_output_stream (self->connection));
  start_session (self);
}

static void
ev_connect (TdSmtpSession *self,
            GTask         *task)
{
  if (self->stream_mode)
    start_session (self);
  else
    td_connection_connect_async (self->connection, self->io_cancel, connect_cb,
                                 g_object_ref (self));
}

/* --- QUIT --- */

static void
quit_reply (TdSmtpSession *self,
            TdSmtpReply   *reply)
{
  g_autoptr(GTask) task = _td_smtp_session_take_task (self);

  self->state = TD_SMTP_STATE_CLOSED;
  g_queue_clear (&self->handlers);
  close_streams (self);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
ev_quit (TdSmtpSession *self,
         GTask         *task)
{
  _td_smtp_session_command (self, quit_reply, FALSE, "QUIT");
}

/* --- The state table --- */

static const EventFunc table[][N_EVENTS] = {
  [TD_SMTP_STATE_NOT_CONNECTED] = { [EV_CONNECT] = ev_connect },
  [TD_SMTP_STATE_CONNECTED] = { [EV_AUTH] = _td_smtp_session_ev_auth, [EV_SEND] = _td_smtp_session_ev_send, [EV_QUIT] = ev_quit },
  [TD_SMTP_STATE_AUTHENTICATED] = { [EV_SEND] = _td_smtp_session_ev_send, [EV_QUIT] = ev_quit },
  [TD_SMTP_STATE_CLOSED] = { NULL },
};

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  TdSmtpSession *self = user_data;

  _td_smtp_session_fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   _("Sending was cancelled.")));
  return G_SOURCE_REMOVE;
}

static void
dispatch (TdSmtpSession *self,
          Event          event,
          GTask         *task)
{
  EventFunc handler = table[self->state][event];

  if (handler == NULL || self->task != NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               self->task != NULL ?
                                 _("The SMTP connection is busy with another operation.") :
                               self->state == TD_SMTP_STATE_CLOSED ?
                                 _("The connection to the mail server is closed.") :
                                 _("The SMTP connection cannot do that now."));
      g_object_unref (task);
      return;
    }
  self->task = task;   /* the reference of the caller's task */
  if (g_task_get_cancellable (task) != NULL)
    {
      /* a cancelled operation leaves the protocol in between: the session ends */
      self->cancel_source = g_cancellable_source_new (g_task_get_cancellable (task));
      g_source_set_callback (self->cancel_source, G_SOURCE_FUNC (on_cancelled), self, NULL);
      g_source_attach (self->cancel_source, g_task_get_context (task));
    }
  handler (self, task);
}

/* --- GObject --- */

static void
td_smtp_session_dispose (GObject *object)
{
  TdSmtpSession *self = TD_SMTP_SESSION (object);

  if (self->state != TD_SMTP_STATE_CLOSED)
    {
      g_cancellable_cancel (self->io_cancel);
      self->state = TD_SMTP_STATE_CLOSED;
      close_streams (self);
    }
  g_queue_clear (&self->handlers);
  g_queue_clear_full (&self->writes, (GDestroyNotify) g_bytes_unref);
  g_clear_pointer (&self->writing, g_bytes_unref);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->stream);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (td_smtp_session_parent_class)->dispose (object);
}

static void
td_smtp_session_finalize (GObject *object)
{
  TdSmtpSession *self = TD_SMTP_SESSION (object);

  g_assert (self->task == NULL);
  clear_cancel_source (self);
  td_smtp_parser_free (self->parser);
  g_hash_table_unref (self->caps);
  g_free (self->helo_name);
  g_object_unref (self->io_cancel);

  G_OBJECT_CLASS (td_smtp_session_parent_class)->finalize (object);
}

static void
td_smtp_session_class_init (TdSmtpSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_smtp_session_dispose;
  object_class->finalize = td_smtp_session_finalize;

  /* closed (const GError *error): NULL after QUIT, else why */
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
td_smtp_session_init (TdSmtpSession *self)
{
  self->parser = td_smtp_parser_new ();
  self->caps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->helo_name = g_strdup ("[127.0.0.1]");
  self->io_cancel = g_cancellable_new ();
  g_queue_init (&self->handlers);
  g_queue_init (&self->writes);
}

TdSmtpSession *
td_smtp_session_new (TdConnection *connection)
{
  TdSmtpSession *self;

  g_return_val_if_fail (TD_IS_CONNECTION (connection), NULL);

  self = g_object_new (TD_TYPE_SMTP_SESSION, NULL);
  self->connection = g_object_ref (connection);
  return self;
}

TdSmtpSession *
td_smtp_session_new_for_stream (GIOStream *stream)
{
  TdSmtpSession *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (TD_TYPE_SMTP_SESSION, NULL);
  self->stream_mode = TRUE;
  self->stream = g_object_ref (stream);
  self->input = g_object_ref (g_io_stream_get_input_stream (stream));
  self->output = g_object_ref (g_io_stream_get_output_stream (stream));
  return self;
}

TdSmtpState
td_smtp_session_get_state (TdSmtpSession *self)
{
  g_return_val_if_fail (TD_IS_SMTP_SESSION (self), TD_SMTP_STATE_CLOSED);
  return self->state;
}

void
td_smtp_session_set_helo_name (TdSmtpSession *self,
                               const char    *name)
{
  g_return_if_fail (TD_IS_SMTP_SESSION (self));
  g_return_if_fail (name != NULL && *name != '\0' && strpbrk (name, " \r\n") == NULL);
  g_free (self->helo_name);
  self->helo_name = g_strdup (name);
}

gboolean
td_smtp_session_has_capability (TdSmtpSession *self,
                                const char    *keyword)
{
  return td_smtp_session_get_capability (self, keyword) != NULL;
}

const char *
td_smtp_session_get_capability (TdSmtpSession *self,
                                const char    *keyword)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TD_IS_SMTP_SESSION (self), NULL);
  g_return_val_if_fail (keyword != NULL, NULL);
  upper = g_ascii_strup (keyword, -1);
  return g_hash_table_lookup (self->caps, upper);
}

guint64
td_smtp_session_get_size_limit (TdSmtpSession *self)
{
  const char *size;
  guint64 value = 0;

  g_return_val_if_fail (TD_IS_SMTP_SESSION (self), 0);
  size = g_hash_table_lookup (self->caps, "SIZE");
  if (size == NULL || !g_ascii_string_to_unsigned (size, 10, 0, G_MAXUINT64, &value, NULL))
    return 0;
  return value;
}

static GTask *
new_task (TdSmtpSession       *self,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data,
          gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  return task;
}

void
td_smtp_session_connect_async (TdSmtpSession       *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (TD_IS_SMTP_SESSION (self));
  dispatch (self, EV_CONNECT, new_task (self, cancellable, callback, user_data,
                                        td_smtp_session_connect_async));
}

gboolean
td_smtp_session_connect_finish (TdSmtpSession  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_smtp_session_authenticate_async (TdSmtpSession       *self,
                                    const char          *username,
                                    const char          *password,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GTask *task;
  AuthData *d;

  g_return_if_fail (TD_IS_SMTP_SESSION (self));
  g_return_if_fail (username != NULL && password != NULL);

  task = new_task (self, cancellable, callback, user_data, td_smtp_session_authenticate_async);
  d = g_new0 (AuthData, 1);
  d->username = g_strdup (username);
  d->password = g_strdup (password);
  g_task_set_task_data (task, d, _td_smtp_session_auth_data_free);
  dispatch (self, EV_AUTH, task);
}

gboolean
td_smtp_session_authenticate_finish (TdSmtpSession  *self,
                                     GAsyncResult   *result,
                                     GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_smtp_session_send_async (TdSmtpSession       *self,
                            const char          *from,
                            const char * const  *recipients,
                            GBytes              *message,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  SendData *d;
  gsize len;
  const guint8 *data;

  g_return_if_fail (TD_IS_SMTP_SESSION (self));
  g_return_if_fail (from != NULL && recipients != NULL && message != NULL);

  task = new_task (self, cancellable, callback, user_data, td_smtp_session_send_async);
  if (!_td_smtp_session_valid_address (from) || recipients[0] == NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_INVALID,
                               recipients[0] == NULL ? _("The message has no recipient.")
                                                     : _("“%s” is not an email address."),
                               from);
      g_object_unref (task);
      return;
    }
  for (guint i = 0; recipients[i] != NULL; i++)
    if (!_td_smtp_session_valid_address (recipients[i]))
      {
        g_task_return_new_error (task, TD_ERROR, TD_ERROR_INVALID,
                                 _("“%s” is not an email address."), recipients[i]);
        g_object_unref (task);
        return;
      }

  d = g_new0 (SendData, 1);
  d->from = g_strdup (from);
  d->recipients = g_strdupv ((GStrv) recipients);
  d->message = g_bytes_ref (message);
  d->refused = g_ptr_array_new_with_free_func ((GDestroyNotify) td_smtp_refusal_free);
  data = g_bytes_get_data (message, &len);
  for (gsize i = 0; i < len && !d->eight_bit; i++)
    d->eight_bit = data[i] >= 0x80;
  g_task_set_task_data (task, d, _td_smtp_session_send_data_free);
  dispatch (self, EV_SEND, task);
}

gboolean
td_smtp_session_send_finish (TdSmtpSession  *self,
                             GAsyncResult   *result,
                             GPtrArray     **refused,
                             GError        **error)
{
  g_autoptr(GPtrArray) list = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  list = g_task_propagate_pointer (G_TASK (result), error);
  if (list == NULL)
    return FALSE;
  if (refused != NULL)
    *refused = g_steal_pointer (&list);
  return TRUE;
}

void
td_smtp_session_quit_async (TdSmtpSession       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_SMTP_SESSION (self));
  dispatch (self, EV_QUIT, new_task (self, cancellable, callback, user_data,
                                     td_smtp_session_quit_async));
}

gboolean
td_smtp_session_quit_finish (TdSmtpSession  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_smtp_session_close (TdSmtpSession *self)
{
  g_return_if_fail (TD_IS_SMTP_SESSION (self));

  if (self->state == TD_SMTP_STATE_CLOSED)
    return;
  _td_smtp_session_fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   _("The connection to the mail server was closed.")));
}
