/* td-smtp-session-private.h: what the files of TdSmtpSession share (not for other layers)
 *
 * TdSmtpSession spans td-smtp-session.c (the object, reading and writing, the state table,
 * connecting with greeting, EHLO and STARTTLS, QUIT) and td-smtp-session-send.c (AUTH, and
 * a message: MAIL, RCPT, DATA).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-smtp-parser.h"
#include "td-smtp-session.h"

G_BEGIN_DECLS

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

/* td-smtp-session.c */
/* Ends the session: the operation running fails with @error (taken), "closed" is emitted. */
void         _td_smtp_session_fail              (TdSmtpSession *self,
                                                 GError        *error);
/* The running operation, taken out to be completed. */
GTask       *_td_smtp_session_take_task         (TdSmtpSession *self);
void         _td_smtp_session_complete_boolean  (TdSmtpSession *self);
/* A command line (CRLF added), traced with credentials redacted; @handler gets its reply. */
void         _td_smtp_session_command           (TdSmtpSession *self,
                                                 ReplyFunc      handler,
                                                 gboolean       sasl,
                                                 const char    *format,
                                                 ...) G_GNUC_PRINTF (4, 5);
void         _td_smtp_session_write_bytes       (TdSmtpSession *self,
                                                 GBytes        *bytes);
/* Reads while an answer is awaited. */
void         _td_smtp_session_start_reading     (TdSmtpSession *self);
const char  *_td_smtp_session_server_name       (TdSmtpSession *self);
/* An error for a reply that says no: 4xx try later, 5xx permanent, with the server's words. */
GError      *_td_smtp_session_reply_error       (TdSmtpReply   *reply,
                                                 const char    *what);

/* td-smtp-session-send.c: the state table's handlers of EV_AUTH and EV_SEND */
void         _td_smtp_session_ev_auth           (TdSmtpSession *self,
                                                 GTask         *task);
void         _td_smtp_session_ev_send           (TdSmtpSession *self,
                                                 GTask         *task);
void         _td_smtp_session_send_data_free    (gpointer       data);
void         _td_smtp_session_auth_data_free    (gpointer       data);
gboolean     _td_smtp_session_valid_address     (const char    *address);

G_END_DECLS
