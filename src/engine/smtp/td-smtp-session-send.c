/* td-smtp-session-send.c: signing in and sending a message over a TdSmtpSession
 *
 * AUTH PLAIN (with the initial response) or AUTH LOGIN, never over plaintext; then MAIL, RCPT
 * and DATA, in one batch with PIPELINING, and the message dot-stuffed with CRLF line ends.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-smtp"

#include "config.h"

#include "td-smtp-session.h"
#include "td-smtp-session-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-trace.h"

void
_td_smtp_session_send_data_free (gpointer data)
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

void
_td_smtp_session_auth_data_free (gpointer data)
{
  AuthData *d = data;

  g_free (d->username);
  if (d->password != NULL)
    memset (d->password, 0, strlen (d->password));
  g_free (d->password);
  g_free (d);
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
      _td_smtp_session_complete_boolean (self);
      return;
    }

  text = td_smtp_reply_text (reply);
  if (reply->code == 334)
    {
      /* a challenge where none belongs: cancel the exchange (RFC 4954 4) and give up */
      _td_smtp_session_command (self, NULL, FALSE, "*");
      _td_smtp_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                               _("The mail server %s asked for more while signing in; "
                                 "Tidings gave up."), _td_smtp_session_server_name (self)));
      return;
    }
  if (reply->code == 535 || reply->code == 534 || reply->code == 530 ||
      (reply->enhanced != NULL && g_str_has_prefix (reply->enhanced, "5.7.")))
    {
      g_autoptr(GTask) task = _td_smtp_session_take_task (self);

      g_task_return_new_error (task, TD_ERROR, TD_ERROR_AUTH,
                               _("The mail server %s refused the user name or password for "
                                 "%s (%u %s). Check them in the account settings."),
                               _td_smtp_session_server_name (self), d->username, reply->code, text);
      return;
    }
  {
    g_autoptr(GTask) task = _td_smtp_session_take_task (self);

    g_task_return_error (task, _td_smtp_session_reply_error (reply, _("Signing in to the mail server")));
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
  _td_smtp_session_command (self, auth_reply, TRUE, "%s", b64);
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
  _td_smtp_session_command (self, login_password_reply, TRUE, "%s", b64);
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

void
_td_smtp_session_ev_auth (TdSmtpSession *self,
         GTask         *task)
{
  AuthData *d = g_task_get_task_data (task);

  if (!self->stream_mode && !td_connection_is_tls (self->connection))
    {
      g_autoptr(GTask) owned = _td_smtp_session_take_task (self);

      g_task_return_new_error (owned, TD_ERROR, TD_ERROR_TLS_REQUIRED,
                               _("The connection to %s is not encrypted, so the password was "
                                 "not sent."), _td_smtp_session_server_name (self));
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
      _td_smtp_session_command (self, auth_reply, FALSE, "AUTH PLAIN %s", b64);
      memset (b64, 0, strlen (b64));
    }
  else if (offers_mechanism (self, "LOGIN"))
    _td_smtp_session_command (self, login_user_reply, FALSE, "AUTH LOGIN");
  else
    {
      g_autoptr(GTask) owned = _td_smtp_session_take_task (self);
      const char *mechs = g_hash_table_lookup (self->caps, "AUTH");

      g_task_return_new_error (owned, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The mail server %s offers no sign-in method Tidings knows "
                                 "(it offers: %s; Tidings knows PLAIN and LOGIN)."),
                               _td_smtp_session_server_name (self), mechs != NULL ? mechs : _("none"));
    }
}

/* --- Sending --- */

static void send_rcpt (TdSmtpSession *self);

static void
send_fail_after_rset (TdSmtpSession *self,
                      TdSmtpReply   *reply)
{
  SendData *d = g_task_get_task_data (self->task);
  g_autoptr(GTask) task = _td_smtp_session_take_task (self);

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
  _td_smtp_session_command (self, send_fail_after_rset, FALSE, "RSET");
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
  task = _td_smtp_session_take_task (self);
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
  g_task_return_error (task, _td_smtp_session_reply_error (reply, _("Sending the message")));
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
        error = _td_smtp_session_reply_error (d->mail_refusal, _("Sending the message"));
      else if (d->accepted == 0)
        error = recipients_error (d);
      else
        error = _td_smtp_session_reply_error (reply, _("Sending the message"));
      send_abort (self, error);
      return;
    }
  if (d->mail_refusal != NULL || d->accepted == 0)
    {
      /* DATA went out in the batch although the transaction had failed: end it empty */
      d->error = d->mail_refusal != NULL ? _td_smtp_session_reply_error (d->mail_refusal, _("Sending the message"))
                                         : recipients_error (d);
      g_queue_push_tail (&self->handlers, (gpointer) data_end_reply);
      _td_smtp_session_write_bytes (self, g_bytes_new_static (".\r\n", 3));
      _td_smtp_session_start_reading (self);
      return;
    }
  td_trace_line (G_LOG_DOMAIN, TD_TRACE_SMTP, TRUE, FALSE, "[message data]", -1);
  g_queue_push_tail (&self->handlers, (gpointer) data_end_reply);
  _td_smtp_session_write_bytes (self, dot_stuff (d->message));
  _td_smtp_session_start_reading (self);
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
    _td_smtp_session_command (self, data_reply, FALSE, "DATA");
}

static void
send_rcpt (TdSmtpSession *self)
{
  SendData *d = g_task_get_task_data (self->task);

  _td_smtp_session_command (self, rcpt_reply, FALSE, "RCPT TO:<%s>", d->recipients[d->next_rcpt++]);
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
  send_abort (self, _td_smtp_session_reply_error (reply, _("Sending the message")));
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

gboolean
_td_smtp_session_valid_address (const char *address)
{
  return address != NULL && *address != '\0' && strlen (address) <= 320 &&
         strpbrk (address, "<>\r\n \t") == NULL && g_utf8_validate (address, -1, NULL);
}

void
_td_smtp_session_ev_send (TdSmtpSession *self,
         GTask         *task)
{
  SendData *d = g_task_get_task_data (task);
  g_autoptr(GString) params = g_string_new (NULL);
  guint64 limit = td_smtp_session_get_size_limit (self);
  gsize size = g_bytes_get_size (d->message);

  if (limit > 0 && size > limit)
    {
      g_autoptr(GTask) owned = _td_smtp_session_take_task (self);
      g_autofree char *have = g_format_size_full (size, G_FORMAT_SIZE_LONG_FORMAT);
      g_autofree char *most = g_format_size_full (limit, G_FORMAT_SIZE_LONG_FORMAT);

      g_task_return_new_error (owned, TD_ERROR, TD_ERROR_LIMIT,
                               _("The message is %s, more than the %s the mail server %s "
                                 "accepts. Remove attachments or send them another way."),
                               have, most, _td_smtp_session_server_name (self));
      return;
    }
  if (d->eight_bit && !g_hash_table_contains (self->caps, "8BITMIME"))
    {
      g_autoptr(GTask) owned = _td_smtp_session_take_task (self);

      g_task_return_new_error (owned, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The message has 8-bit text and the mail server %s does not "
                                 "accept it (no 8BITMIME)."), _td_smtp_session_server_name (self));
      return;
    }

  if (g_hash_table_contains (self->caps, "SIZE"))
    g_string_append_printf (params, " SIZE=%" G_GSIZE_FORMAT, size);
  if (d->eight_bit)
    g_string_append (params, " BODY=8BITMIME");

  if (!pipelining (self))
    {
      _td_smtp_session_command (self, mail_reply, FALSE, "MAIL FROM:<%s>%s", d->from, params->str);
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
    _td_smtp_session_write_bytes (self, g_string_free_to_bytes (batch));
    _td_smtp_session_start_reading (self);
  }
}

