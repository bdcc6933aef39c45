/* td-smtp-session.h: one connection to an SMTP submission server (RFC 5321, 6409)
 *
 * States: not connected, connected (greeting and EHLO done, and STARTTLS when the connection
 * asks for it: a server that does not offer it is refused before anything else is sent, never
 * used in plaintext), authenticated, closed. Each public operation is an event; the table
 * [state][event] names its handler, and an event it does not allow, or one while another
 * operation runs, fails with TD_ERROR_WRONG_STATE.
 *
 * Sending uses PIPELINING when offered (MAIL, every RCPT and DATA in one write), SIZE (a
 * message over the server's limit is refused before anything is sent, with the limit in the
 * message), 8BITMIME (BODY=8BITMIME for a message with 8-bit bytes; without it such a message
 * is refused), and dot-stuffing. Replies map to errors: 535 and other refusals of the
 * credentials TD_ERROR_AUTH, 4xx TD_ERROR_TRY_LATER, 5xx TD_ERROR_PERMANENT, 552 on the data
 * TD_ERROR_LIMIT. Server input is hostile: a malformed reply, a bound passed or a cut
 * connection fail the operation and close the session. Cancelling an operation closes the
 * session too (the protocol would be left in between); it fails with G_IO_ERROR_CANCELLED.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-connection.h"

G_BEGIN_DECLS

typedef enum
{
  TD_SMTP_STATE_NOT_CONNECTED,  /* not yet (also while connecting) */
  TD_SMTP_STATE_CONNECTED,      /* EHLO done (and STARTTLS): may authenticate or send */
  TD_SMTP_STATE_AUTHENTICATED,  /* AUTH accepted */
  TD_SMTP_STATE_CLOSED,         /* QUIT done, closed, or failed */
} TdSmtpState;

/* A recipient the server refused (RCPT TO answered with 4xx or 5xx). */
typedef struct
{
  char  *address;
  guint  code;
  char  *text;     /* the server's words */
} TdSmtpRefusal;

void              td_smtp_refusal_free          (TdSmtpRefusal *refusal);

#define TD_TYPE_SMTP_SESSION (td_smtp_session_get_type ())

G_DECLARE_FINAL_TYPE (TdSmtpSession, td_smtp_session, TD, SMTP_SESSION, GObject)

/* Over a TdConnection (not yet connected): connect_async connects it. */
TdSmtpSession    *td_smtp_session_new           (TdConnection  *connection);
/* Over any stream that is already open (tests: a scripted in-process server). STARTTLS is
 * not available in this mode, and credentials may be sent over it. */
TdSmtpSession    *td_smtp_session_new_for_stream (GIOStream    *stream);

TdSmtpState       td_smtp_session_get_state     (TdSmtpSession *self);
/* The name given in EHLO (default "[127.0.0.1]": nothing about this computer). */
void              td_smtp_session_set_helo_name (TdSmtpSession *self,
                                                 const char    *name);
/* EHLO keywords, case-insensitive ("PIPELINING", "AUTH"). */
gboolean          td_smtp_session_has_capability (TdSmtpSession *self,
                                                  const char    *keyword);
/* The arguments of a keyword ("PLAIN LOGIN" for AUTH), "" when none, NULL when not offered. */
const char       *td_smtp_session_get_capability (TdSmtpSession *self,
                                                  const char    *keyword);
/* SIZE: the largest message the server takes, in bytes; 0 when it did not say. */
guint64           td_smtp_session_get_size_limit (TdSmtpSession *self);

void              td_smtp_session_connect_async  (TdSmtpSession       *self,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean          td_smtp_session_connect_finish (TdSmtpSession       *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);
/* AUTH PLAIN when offered, else AUTH LOGIN. Refuses to send credentials over a connection
 * that is not TLS (unless made for a test stream). */
void              td_smtp_session_authenticate_async  (TdSmtpSession       *self,
                                                       const char          *username,
                                                       const char          *password,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean          td_smtp_session_authenticate_finish (TdSmtpSession       *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);
/* One message to @recipients (envelope addresses, no angle brackets). Succeeds when the
 * server accepted the message for at least one recipient; @refused then gets the others
 * (TdSmtpRefusal*, maybe none). When every recipient is refused the error names each one and
 * why. @message: RFC 5322 bytes, any line ends (sent as CRLF). The session stays usable after
 * a refusal. */
void              td_smtp_session_send_async     (TdSmtpSession       *self,
                                                  const char          *from,
                                                  const char * const  *recipients,
                                                  GBytes              *message,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean          td_smtp_session_send_finish    (TdSmtpSession       *self,
                                                  GAsyncResult        *result,
                                                  GPtrArray          **refused,
                                                  GError             **error);
void              td_smtp_session_quit_async     (TdSmtpSession       *self,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean          td_smtp_session_quit_finish    (TdSmtpSession       *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);
/* Closes at once (an operation running fails with G_IO_ERROR_CANCELLED). Idempotent. */
void              td_smtp_session_close          (TdSmtpSession       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdSmtpRefusal, td_smtp_refusal_free)

G_END_DECLS
