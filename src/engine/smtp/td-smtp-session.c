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
#include "td-smtp-parser.h"
#include "td-trace.h"

#define READ_SIZE 8192

typedef enum
{
  EV_CONNECT,
  EV_AUTH,
  EV_SEND,
  EV_QUIT,
  N_EVENTS
} Event;

typedef void (*ReplyFunc) (TdSmtpSession *self,
                           TdSmtpReply   *reply);
typedef void (*EventFunc) (TdSmtpSession *self,
                           GTask         *task);

typedef struct
{
  char       *from;
  GStrv       recipients;
  GBytes     *message;
  gboolean    eight_bit;
  guint       next_rcpt;      /* without PIPELINING: the next RCPT to send */
  guint       accepted;
  GPtrArray  *refused;        /* TdSmtpRefusal* */
  TdSmtpReply *mail_refusal;  /* MAIL FROM refused */
  GError     *error;          /* the failure to return once RSET is answered */
} SendData;

typedef struct
{
  char *username;
  char *password;
} AuthData;

struct _TdSmtpSession
{
  GObject         parent_instance;

  TdConnection   *connection;   /* NULL in stream mode */
  GIOStream      *stream;       /* stream mode */
  GInputStream   *input;
  GOutputStream  *output;
  gboolean        stream_mode;
  TdSmtpState     state;
  char           *helo_name;

  TdSmtpParser   *parser;
  GQueue          handlers;     /* ReplyFunc, in the order of the commands */
  GQueue          writes;       /* GBytes* waiting to be written */
  GBytes         *writing;      /* being written: kept alive until the write is done */
  gboolean        reading;
  guint8          buffer[READ_SIZE];
  GCancellable   *io_cancel;    /* cancelled by close */

  GTask          *task;         /* the operation running */
  GSource        *cancel_source; /* of the task's cancellable */
  GHashTable     *caps;         /* EHLO keyword (upper case) -> arguments */
  gboolean        tls_done;
};

enum { SIGNAL_CLOSED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TdSmtpSession, td_smtp_session, G_TYPE_OBJECT)

static void start_reading (TdSmtpSession *self);
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

static void
send_data_free (gpointer data)
{
  SendData *d = data;

  g_free (d->from);
  g_strfreev (d->recipients);
  g_bytes_unref (d->message);
  g_clear_pointer (&d->refused, g_ptr_array_unref);
  td_smtp_reply_free (d->mail_refusal);
  g_clear_error (&d->error);
  g_free (d);
}

static void
auth_data_free (gpointer data)
{
  AuthData *d = data;

  g_free (d->username);
  if (d->password != NULL)
    memset (d->password, 0, strlen (d->password));
  g_free (d->password);
  g_free (d);
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
static void
fail (TdSmtpSession *self,
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
static GTask *
take_task (TdSmtpSession *self)
{
  clear_cancel_source (self);
  return g_steal_pointer (&self->task);
}

static void
complete_boolean (TdSmtpSession *self)
{
  g_autoptr(GTask) task = take_task (self);

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

static const char *
server_name (TdSmtpSession *self)
{
  return self->connection != NULL ? td_connection_get_host (self->connection) : "localhost";
}

/* An error for a reply that says no: 4xx try later, 5xx permanent, with the server's words. */
static GError *
reply_error (TdSmtpReply *reply,
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
        fail (self, io_error (self, g_steal_pointer (&error)));
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

static void
write_bytes (TdSmtpSession *self,
             GBytes        *bytes)
{
  g_queue_push_tail (&self->writes, bytes);
  write_next (self);
}

/* A command line (CRLF added), traced with credentials redacted; @handler gets its reply. */
static void
command (TdSmtpSession *self,
         ReplyFunc      handler,
         gboolean       sasl,
         const char    *format,
         ...) G_GNUC_PRINTF (4, 5);

static void
command (TdSmtpSession *self,
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
  write_bytes (self, g_string_free_to_bytes (line));
  start_reading (self);
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
      fail (self, io_error (self, g_steal_pointer (&error)));
      return;
    }
  if (n == 0)
    {
      fail (self, g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                               _("The mail server %s closed the connection."),
                               server_name (self)));
      return;
    }
  if (!td_smtp_parser_feed (self->parser, (const char *) self->buffer, (gsize) n, &error))
    {
      fail (self, g_steal_pointer (&error));
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
            fail (self, g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                                     _("The mail server %s closed the connection (%s). Tidings "
                                       "will try again later."), server_name (self), text));
          else
            fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                                     _("The mail server %s sent a reply nobody asked for: %u %s"),
                                     server_name (self), reply->code, text));
          return;
        }
      if (reply->code == 421)
        {
          /* "service not available, closing": whatever was asked, the session is over */
          g_autofree char *text = td_smtp_reply_text (reply);

          fail (self, g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                                   _("The mail server %s is not available now (%s). Tidings "
                                     "will try again later."), server_name (self), text));
          return;
        }
      handler (self, reply);
    }
  start_reading (self);
}

static void
start_reading (TdSmtpSession *self)
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
        fail (self, io_error (self, g_steal_pointer (&error)));
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

      fail (self, g_error_new (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                               _("The mail server %s refused to start encryption (%u %s). "
                                 "The password was not sent."),
                               server_name (self), reply->code, text));
      return;
    }
  /* Anything after the 220 came in plaintext: an injection (CVE-2011-0411), not to be read
   * as if it were encrypted. */
  if (td_smtp_parser_has_buffered (self->parser) || !g_queue_is_empty (&self->handlers))
    {
      fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                               _("The mail server %s sent more after agreeing to start "
                                 "encryption; the connection was closed."),
                               server_name (self)));
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

      fail (self, g_error_new (TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The mail server %s does not accept EHLO (%u %s), so it "
                                 "cannot be used for sending mail securely."),
                               server_name (self), reply->code, text));
      return;
    }
  take_capabilities (self, reply);

  if (wants_starttls (self))
    {
      if (!g_hash_table_contains (self->caps, "STARTTLS"))
        {
          fail (self, g_error_new (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                   _("The mail server %s does not offer STARTTLS, so the "
                                     "connection cannot be encrypted. Nothing was sent; use "
                                     "port 465 with TLS if the server has it."),
                                   server_name (self)));
          return;
        }
      command (self, starttls_reply, FALSE, "STARTTLS");
      return;
    }

  self->state = TD_SMTP_STATE_CONNECTED;
  complete_boolean (self);
}

static void
send_ehlo (TdSmtpSession *self)
{
  command (self, ehlo_reply, FALSE, "EHLO %s", self->helo_name);
}

static void
greeting_reply (TdSmtpSession *self,
                TdSmtpReply   *reply)
{
  if (reply->code != 220)
    {
      g_autofree char *what = g_strdup_printf (_("Connecting to %s"), server_name (self));

      fail (self, reply_error (reply, what));
      return;
    }
  send_ehlo (self);
}

static void
start_session (TdSmtpSession *self)
{
  g_queue_push_tail (&self->handlers, (gpointer) greeting_reply);
  start_reading (self);
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
        fail (self, io_error (self, g_steal_pointer (&error)));
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

/* --- AUTH --- */

static void
auth_reply (TdSmtpSession *self,
            TdSmtpReply   *reply)
{
  AuthData *d = g_task_get_task_data (self->task);
  g_autofree char *text = NULL;

  if (reply->code == 235)
    {
      self->state = TD_SMTP_STATE_AUTHENTICATED;
      complete_boolean (self);
      return;
    }

  text = td_smtp_reply_text (reply);
  if (reply->code == 334)
    {
      /* a challenge where none belongs: cancel the exchange (RFC 4954 4) and give up */
      command (self, NULL, FALSE, "*");
      fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                               _("The mail server %s asked for more while signing in; "
                                 "Tidings gave up."), server_name (self)));
      return;
    }
  if (reply->code == 535 || reply->code == 534 || reply->code == 530 ||
      (reply->enhanced != NULL && g_str_has_prefix (reply->enhanced, "5.7.")))
    {
      g_autoptr(GTask) task = take_task (self);

      g_task_return_new_error (task, TD_ERROR, TD_ERROR_AUTH,
                               _("The mail server %s refused the user name or password for "
                                 "%s (%u %s). Check them in the account settings."),
                               server_name (self), d->username, reply->code, text);
      return;
    }
  {
    g_autoptr(GTask) task = take_task (self);

    g_task_return_error (task, reply_error (reply, _("Signing in to the mail server")));
  }
}

static void
login_password_reply (TdSmtpSession *self,
                      TdSmtpReply   *reply)
{
  AuthData *d = g_task_get_task_data (self->task);
  g_autofree char *b64 = NULL;

  if (reply->code != 334)
    {
      auth_reply (self, reply);
      return;
    }
  b64 = g_base64_encode ((const guchar *) d->password, strlen (d->password));
  command (self, auth_reply, TRUE, "%s", b64);
  memset (b64, 0, strlen (b64));
}

static void
login_user_reply (TdSmtpSession *self,
                  TdSmtpReply   *reply)
{
  AuthData *d = g_task_get_task_data (self->task);
  g_autofree char *b64 = NULL;

  if (reply->code != 334)
    {
      auth_reply (self, reply);
      return;
    }
  b64 = g_base64_encode ((const guchar *) d->username, strlen (d->username));
  command (self, login_password_reply, TRUE, "%s", b64);
}

static gboolean
offers_mechanism (TdSmtpSession *self,
                  const char    *mechanism)
{
  const char *mechs = g_hash_table_lookup (self->caps, "AUTH");
  g_auto(GStrv) list = NULL;

  if (mechs == NULL)
    return FALSE;
  list = g_strsplit_set (mechs, " \t", -1);
  for (guint i = 0; list[i] != NULL; i++)
    if (g_ascii_strcasecmp (list[i], mechanism) == 0)
      return TRUE;
  return FALSE;
}

static void
ev_auth (TdSmtpSession *self,
         GTask         *task)
{
  AuthData *d = g_task_get_task_data (task);

  if (!self->stream_mode && !td_connection_is_tls (self->connection))
    {
      g_autoptr(GTask) owned = take_task (self);

      g_task_return_new_error (owned, TD_ERROR, TD_ERROR_TLS_REQUIRED,
                               _("The connection to %s is not encrypted, so the password was "
                                 "not sent."), server_name (self));
      return;
    }

  if (offers_mechanism (self, "PLAIN"))
    {
      gsize ulen = strlen (d->username);
      gsize plen = strlen (d->password);
      g_autofree guchar *raw = g_malloc (ulen + plen + 2);
      g_autofree char *b64 = NULL;

      raw[0] = '\0';
      memcpy (raw + 1, d->username, ulen);
      raw[ulen + 1] = '\0';
      memcpy (raw + ulen + 2, d->password, plen);
      b64 = g_base64_encode (raw, ulen + plen + 2);
      memset (raw, 0, ulen + plen + 2);
      command (self, auth_reply, FALSE, "AUTH PLAIN %s", b64);
      memset (b64, 0, strlen (b64));
    }
  else if (offers_mechanism (self, "LOGIN"))
    command (self, login_user_reply, FALSE, "AUTH LOGIN");
  else
    {
      g_autoptr(GTask) owned = take_task (self);
      const char *mechs = g_hash_table_lookup (self->caps, "AUTH");

      g_task_return_new_error (owned, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The mail server %s offers no sign-in method Tidings knows "
                                 "(it offers: %s; Tidings knows PLAIN and LOGIN)."),
                               server_name (self), mechs != NULL ? mechs : _("none"));
    }
}

/* --- Sending --- */

static void send_rcpt (TdSmtpSession *self);

static void
send_fail_after_rset (TdSmtpSession *self,
                      TdSmtpReply   *reply)
{
  SendData *d = g_task_get_task_data (self->task);
  g_autoptr(GTask) task = take_task (self);

  /* whatever RSET answered, the transaction is over and the session goes on */
  g_task_return_error (task, g_steal_pointer (&d->error));
}

/* Ends the transaction with @error (taken): RSET, then the error. */
static void
send_abort (TdSmtpSession *self,
            GError        *error)
{
  SendData *d = g_task_get_task_data (self->task);

  g_clear_error (&d->error);
  d->error = error;
  command (self, send_fail_after_rset, FALSE, "RSET");
}

/* The error when nobody gets the message: each recipient and why. */
static GError *
recipients_error (SendData *d)
{
  GString *list = g_string_new (NULL);
  gboolean permanent = FALSE;
  GError *error;

  for (guint i = 0; i < d->refused->len; i++)
    {
      TdSmtpRefusal *r = g_ptr_array_index (d->refused, i);

      if (list->len > 0)
        g_string_append (list, "; ");
      g_string_append_printf (list, "%s (%u %s)", r->address, r->code, r->text);
      permanent = permanent || r->code >= 500;
    }
  error = g_error_new (TD_ERROR, permanent ? TD_ERROR_PERMANENT : TD_ERROR_TRY_LATER,
                       _("The mail server refused every recipient: %s"), list->str);
  g_string_free (list, TRUE);
  return error;
}

static void
data_end_reply (TdSmtpSession *self,
                TdSmtpReply   *reply)
{
  SendData *d = g_task_get_task_data (self->task);
  g_autoptr(GTask) task = NULL;

  if (d->mail_refusal != NULL || d->accepted == 0)
    {
      /* the empty data of a transaction that had failed (RFC 2920 3.1) */
      send_fail_after_rset (self, reply);
      return;
    }
  task = take_task (self);
  if (reply->code / 100 == 2)
    {
      g_task_return_pointer (task, g_steal_pointer (&d->refused),
                             (GDestroyNotify) g_ptr_array_unref);
      return;
    }
  if (reply->code == 552)
    {
      g_autofree char *text = td_smtp_reply_text (reply);

      g_task_return_new_error (task, TD_ERROR, TD_ERROR_LIMIT,
                               _("The message is too large for the mail server (%u %s). "
                                 "Remove attachments or send them another way."),
                               reply->code, text);
      return;
    }
  g_task_return_error (task, reply_error (reply, _("Sending the message")));
}

/* The message as DATA wants it: CRLF line ends, lines starting with a dot doubled, ending
 * in CRLF "." CRLF. */
static GBytes *
dot_stuff (GBytes *message)
{
  gsize len;
  const char *p = g_bytes_get_data (message, &len);
  const char *end = p + len;
  GByteArray *out = g_byte_array_sized_new (len + len / 50 + 8);
  gboolean line_start = TRUE;

  for (; p < end; p++)
    {
      if (line_start && *p == '.')
        g_byte_array_append (out, (const guint8 *) ".", 1);
      line_start = FALSE;
      if (*p == '\r')
        {
          if (p + 1 < end && p[1] == '\n')
            p++;
          g_byte_array_append (out, (const guint8 *) "\r\n", 2);
          line_start = TRUE;
        }
      else if (*p == '\n')
        {
          g_byte_array_append (out, (const guint8 *) "\r\n", 2);
          line_start = TRUE;
        }
      else
        g_byte_array_append (out, (const guint8 *) p, 1);
    }
  if (!line_start)
    g_byte_array_append (out, (const guint8 *) "\r\n", 2);
  g_byte_array_append (out, (const guint8 *) ".\r\n", 3);
  return g_byte_array_free_to_bytes (out);
}

static void
data_reply (TdSmtpSession *self,
            TdSmtpReply   *reply)
{
  SendData *d = g_task_get_task_data (self->task);

  if (reply->code != 354)
    {
      GError *error;

      if (d->mail_refusal != NULL)
        error = reply_error (d->mail_refusal, _("Sending the message"));
      else if (d->accepted == 0)
        error = recipients_error (d);
      else
        error = reply_error (reply, _("Sending the message"));
      send_abort (self, error);
      return;
    }
  if (d->mail_refusal != NULL || d->accepted == 0)
    {
      /* DATA went out in the batch although the transaction had failed: end it empty */
      d->error = d->mail_refusal != NULL ? reply_error (d->mail_refusal, _("Sending the message"))
                                         : recipients_error (d);
      g_queue_push_tail (&self->handlers, (gpointer) data_end_reply);
      write_bytes (self, g_bytes_new_static (".\r\n", 3));
      start_reading (self);
      return;
    }
  td_trace_line (G_LOG_DOMAIN, TD_TRACE_SMTP, TRUE, FALSE, "[message data]", -1);
  g_queue_push_tail (&self->handlers, (gpointer) data_end_reply);
  write_bytes (self, dot_stuff (d->message));
  start_reading (self);
}

static gboolean
pipelining (TdSmtpSession *self)
{
  return g_hash_table_contains (self->caps, "PIPELINING");
}

static void
rcpt_reply (TdSmtpSession *self,
            TdSmtpReply   *reply)
{
  SendData *d = g_task_get_task_data (self->task);
  guint index = d->accepted + d->refused->len;

  if (reply->code / 100 == 2)
    d->accepted++;
  else
    {
      TdSmtpRefusal *r = g_new0 (TdSmtpRefusal, 1);

      r->address = g_strdup (d->recipients[MIN (index, g_strv_length (d->recipients) - 1)]);
      r->code = reply->code;
      r->text = td_smtp_reply_text (reply);
      g_ptr_array_add (d->refused, r);
    }

  if (pipelining (self))
    return;  /* the next RCPT and DATA are on their way */
  if (d->recipients[d->next_rcpt] != NULL)
    send_rcpt (self);
  else if (d->accepted == 0)
    send_abort (self, recipients_error (d));
  else
    command (self, data_reply, FALSE, "DATA");
}

static void
send_rcpt (TdSmtpSession *self)
{
  SendData *d = g_task_get_task_data (self->task);

  command (self, rcpt_reply, FALSE, "RCPT TO:<%s>", d->recipients[d->next_rcpt++]);
}

static void
mail_reply (TdSmtpSession *self,
            TdSmtpReply   *reply)
{
  SendData *d = g_task_get_task_data (self->task);

  if (reply->code / 100 == 2)
    {
      if (!pipelining (self))
        send_rcpt (self);
      return;
    }
  if (pipelining (self))
    {
      /* the RCPTs and DATA that follow will be refused; data_reply reports this one */
      d->mail_refusal = g_new0 (TdSmtpReply, 1);
      d->mail_refusal->code = reply->code;
      d->mail_refusal->enhanced = g_strdup (reply->enhanced);
      d->mail_refusal->lines = g_ptr_array_ref (reply->lines);
      /* the RCPT replies of a failed MAIL are not the recipients' fault */
      return;
    }
  send_abort (self, reply_error (reply, _("Sending the message")));
}

/* A pipelined RCPT after a refused MAIL: not counted against the recipient. */
static void
rcpt_reply_pipelined (TdSmtpSession *self,
                      TdSmtpReply   *reply)
{
  SendData *d = g_task_get_task_data (self->task);

  if (d->mail_refusal != NULL)
    return;
  rcpt_reply (self, reply);
}

static gboolean
valid_address (const char *address)
{
  return address != NULL && *address != '\0' && strlen (address) <= 320 &&
         strpbrk (address, "<>\r\n \t") == NULL && g_utf8_validate (address, -1, NULL);
}

static void
ev_send (TdSmtpSession *self,
         GTask         *task)
{
  SendData *d = g_task_get_task_data (task);
  g_autoptr(GString) params = g_string_new (NULL);
  guint64 limit = td_smtp_session_get_size_limit (self);
  gsize size = g_bytes_get_size (d->message);

  if (limit > 0 && size > limit)
    {
      g_autoptr(GTask) owned = take_task (self);
      g_autofree char *have = g_format_size_full (size, G_FORMAT_SIZE_LONG_FORMAT);
      g_autofree char *most = g_format_size_full (limit, G_FORMAT_SIZE_LONG_FORMAT);

      g_task_return_new_error (owned, TD_ERROR, TD_ERROR_LIMIT,
                               _("The message is %s, more than the %s the mail server %s "
                                 "accepts. Remove attachments or send them another way."),
                               have, most, server_name (self));
      return;
    }
  if (d->eight_bit && !g_hash_table_contains (self->caps, "8BITMIME"))
    {
      g_autoptr(GTask) owned = take_task (self);

      g_task_return_new_error (owned, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The message has 8-bit text and the mail server %s does not "
                                 "accept it (no 8BITMIME)."), server_name (self));
      return;
    }

  if (g_hash_table_contains (self->caps, "SIZE"))
    g_string_append_printf (params, " SIZE=%" G_GSIZE_FORMAT, size);
  if (d->eight_bit)
    g_string_append (params, " BODY=8BITMIME");

  if (!pipelining (self))
    {
      command (self, mail_reply, FALSE, "MAIL FROM:<%s>%s", d->from, params->str);
      return;
    }

  /* RFC 2920: MAIL, every RCPT and DATA in one batch, the answers read in order */
  {
    GString *batch = g_string_new (NULL);

    g_string_append_printf (batch, "MAIL FROM:<%s>%s\r\n", d->from, params->str);
    g_queue_push_tail (&self->handlers, (gpointer) mail_reply);
    for (guint i = 0; d->recipients[i] != NULL; i++)
      {
        g_string_append_printf (batch, "RCPT TO:<%s>\r\n", d->recipients[i]);
        g_queue_push_tail (&self->handlers, (gpointer) rcpt_reply_pipelined);
      }
    g_string_append (batch, "DATA\r\n");
    g_queue_push_tail (&self->handlers, (gpointer) data_reply);
    td_trace_line (G_LOG_DOMAIN, TD_TRACE_SMTP, TRUE, FALSE, batch->str, batch->len);
    write_bytes (self, g_string_free_to_bytes (batch));
    start_reading (self);
  }
}

/* --- QUIT --- */

static void
quit_reply (TdSmtpSession *self,
            TdSmtpReply   *reply)
{
  g_autoptr(GTask) task = take_task (self);

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
  command (self, quit_reply, FALSE, "QUIT");
}

/* --- The state table --- */

static const EventFunc table[][N_EVENTS] = {
  [TD_SMTP_STATE_NOT_CONNECTED] = { [EV_CONNECT] = ev_connect },
  [TD_SMTP_STATE_CONNECTED] = { [EV_AUTH] = ev_auth, [EV_SEND] = ev_send, [EV_QUIT] = ev_quit },
  [TD_SMTP_STATE_AUTHENTICATED] = { [EV_SEND] = ev_send, [EV_QUIT] = ev_quit },
  [TD_SMTP_STATE_CLOSED] = { NULL },
};

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  TdSmtpSession *self = user_data;

  fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
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
  g_task_set_task_data (task, d, auth_data_free);
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
  if (!valid_address (from) || recipients[0] == NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_INVALID,
                               recipients[0] == NULL ? _("The message has no recipient.")
                                                     : _("“%s” is not an email address."),
                               from);
      g_object_unref (task);
      return;
    }
  for (guint i = 0; recipients[i] != NULL; i++)
    if (!valid_address (recipients[i]))
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
  g_task_set_task_data (task, d, send_data_free);
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
  fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   _("The connection to the mail server was closed.")));
}
