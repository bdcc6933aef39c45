/* td-pop3-session.h: one POP3 connection, driven by one explicit state table
 *
 * States (RFC 1939): the greeting, AUTHORIZATION, TRANSACTION, UPDATE (after QUIT) and closed.
 * Each public operation is an event; the table [state][event] names its handler, and an
 * event the table does not allow fails with TD_ERROR_WRONG_STATE. Answers come in the order of
 * the commands. When CAPA announces PIPELINING, up to the pipeline window of commands are in
 * flight at once (operations called one after the other, and the batches retr_many and
 * dele_many); otherwise one at a time.
 *
 * A refusal ("-ERR") fails the operation it answers with a translated message that says what
 * to do: the RFC 2449/3206 codes [IN-USE], [LOGIN-DELAY] and [SYS/TEMP] give TD_ERROR_TRY_LATER,
 * [SYS/PERM] TD_ERROR_PERMANENT, [AUTH] or any refusal of the credentials TD_ERROR_AUTH, other
 * refusals TD_ERROR_PROTOCOL; the connection stays. Server text is hostile: malformed input,
 * a bound passed or a cut connection fail every pending operation and close the session.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-connection.h"
#include "td-pop3-parser.h"

G_BEGIN_DECLS

typedef enum
{
  TD_POP3_STATE_NOT_CONNECTED,  /* not yet, setting up (greeting, CAPA, STLS), or no more */
  TD_POP3_STATE_AUTHORIZATION,  /* connected, not logged in (also while logging in) */
  TD_POP3_STATE_TRANSACTION,    /* logged in: the maildrop is ours */
  TD_POP3_STATE_UPDATE,         /* QUIT sent: the server removes what DELE marked */
} TdPop3State;

/* Commands in flight at most when the server offers PIPELINING. */
#define TD_POP3_PIPELINE_WINDOW_DEFAULT 16
/* Entries one LIST or UIDL answer may have (a hostile listing stops here). */
#define TD_POP3_MAX_LISTING             (1024 * 1024)

typedef struct
{
  guint32 number;
  guint64 size;
} TdPop3ListEntry;

typedef struct
{
  guint32  number;
  char    *uid;
} TdPop3UidlEntry;

void            td_pop3_uidl_entry_free              (TdPop3UidlEntry *entry);

/* A piece of a message (RETR, TOP) as it arrives: dot-unstuffed, line ends as the server sent
 * them. The pieces of one message, joined, are the message. When the operation fails, the
 * pieces it gave are to be thrown away. The chunk is borrowed. */
typedef void (*TdPop3ChunkFunc)   (guint32       number,
                                   GBytes       *chunk,
                                   gpointer      user_data);
/* retr_many: called once for each message, in order, after its last piece: @error NULL when
 * the message is complete, else why the server refused it (e.g. another client deleted it);
 * the batch goes on either way. */
typedef void (*TdPop3MessageFunc) (guint32       number,
                                   const GError *error,
                                   gpointer      user_data);

#define TD_TYPE_POP3_SESSION (td_pop3_session_get_type ())

G_DECLARE_FINAL_TYPE (TdPop3Session, td_pop3_session, TD, POP3_SESSION, GObject)

/* Over a TdConnection (not yet connected): connect_async connects it, reads the greeting, asks
 * CAPA and, when the connection's security is STARTTLS, does STLS (refusing a server that does
 * not offer it) and asks CAPA again. */
TdPop3Session  *td_pop3_session_new                  (TdConnection  *connection);
/* Over any stream that is already open (tests: a scripted in-process server). STLS is not
 * available in this mode, and credentials may be sent over it. */
TdPop3Session  *td_pop3_session_new_for_stream       (GIOStream     *stream);

TdPop3State     td_pop3_session_get_state            (TdPop3Session *self);
/* CAPA keywords, case-insensitive ("PIPELINING", "UIDL", "SASL"). */
gboolean        td_pop3_session_has_capability       (TdPop3Session *self,
                                                      const char    *capability);
/* The arguments of a capability ("PLAIN LOGIN" for SASL, "300" for LOGIN-DELAY), "" when it
 * has none, NULL when it is not offered. */
const char     *td_pop3_session_get_capability       (TdPop3Session *self,
                                                      const char    *capability);
/* FALSE when the server answered CAPA with -ERR (RFC 1939 only): nothing is known. */
gboolean        td_pop3_session_get_capa_supported   (TdPop3Session *self);
/* The RFC 2449/3206 response code of the last "-ERR" (the greeting's included):
 * TD_POP3_CODE_NONE when it had none or when nothing was refused. Tells TD_ERROR_TRY_LATER's
 * causes apart: [IN-USE], [LOGIN-DELAY] or [SYS/TEMP]. */
TdPop3Code      td_pop3_session_get_refusal_code     (TdPop3Session *self);
/* The APOP timestamp of the greeting ("<...>"), or NULL. */
const char     *td_pop3_session_get_apop_timestamp   (TdPop3Session *self);
/* The bounds of one line and of one multi-line answer (default TD_POP3_MAX_LINE_DEFAULT and
 * TD_POP3_MAX_MULTILINE_DEFAULT); before connecting. */
void            td_pop3_session_set_limits           (TdPop3Session *self,
                                                      gsize          max_line,
                                                      gsize          max_multiline);
/* Commands in flight at most with PIPELINING (default TD_POP3_PIPELINE_WINDOW_DEFAULT). */
void            td_pop3_session_set_pipeline_window  (TdPop3Session *self,
                                                      guint          window);

void            td_pop3_session_connect_async        (TdPop3Session       *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_connect_finish       (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* CAPA again (capabilities may change after logging in). A server without CAPA gives
 * TD_ERROR_UNSUPPORTED and an empty set. */
void            td_pop3_session_capa_async           (TdPop3Session       *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_capa_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

/* --- AUTHORIZATION. Each refuses to send credentials over a connection that is not TLS
 * (unless made for a test stream) and re-reads the capabilities once logged in. --- */

/* USER, then PASS. */
void            td_pop3_session_login_async          (TdPop3Session       *self,
                                                      const char          *username,
                                                      const char          *password,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_login_finish         (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* APOP with the greeting's timestamp (TD_ERROR_UNSUPPORTED when the greeting had none). */
void            td_pop3_session_apop_async           (TdPop3Session       *self,
                                                      const char          *username,
                                                      const char          *password,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_apop_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* AUTH PLAIN (RFC 5034) with the initial response on the command line, or after the server's
 * "+" when the line would pass 255 octets. TD_ERROR_UNSUPPORTED when CAPA lists SASL
 * mechanisms without PLAIN. */
void            td_pop3_session_auth_plain_async     (TdPop3Session       *self,
                                                      const char          *username,
                                                      const char          *password,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_auth_plain_finish    (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

/* --- TRANSACTION. Message numbers start at 1. --- */

void            td_pop3_session_stat_async           (TdPop3Session       *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_stat_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      guint32             *count,
                                                      guint64             *size,
                                                      GError             **error);
/* LIST: TdPop3ListEntry for every message not marked deleted, as the server lists them. */
void            td_pop3_session_list_async           (TdPop3Session       *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
GArray         *td_pop3_session_list_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* LIST n: the size of one message. */
void            td_pop3_session_list_one_async       (TdPop3Session       *self,
                                                      guint32              number,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_list_one_finish      (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      guint64             *size,
                                                      GError             **error);
/* UIDL: TdPop3UidlEntry* (the array frees them) for every message not marked deleted. */
void            td_pop3_session_uidl_async           (TdPop3Session       *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
GPtrArray      *td_pop3_session_uidl_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* UIDL n: the unique-id of one message. */
void            td_pop3_session_uidl_one_async       (TdPop3Session       *self,
                                                      guint32              number,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
char           *td_pop3_session_uidl_one_finish      (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* TOP n lines: the header and the first @lines lines of the body, streamed to @func. */
void            td_pop3_session_top_async            (TdPop3Session       *self,
                                                      guint32              number,
                                                      guint                lines,
                                                      TdPop3ChunkFunc      func,
                                                      gpointer             func_data,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_top_finish           (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* RETR n, streamed to @func as it arrives. */
void            td_pop3_session_retr_async           (TdPop3Session       *self,
                                                      guint32              number,
                                                      TdPop3ChunkFunc      func,
                                                      gpointer             func_data,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_retr_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* RETR of each of @numbers, pipelined when the server allows it; pieces to @chunk_func, the
 * end of each message to @message_func (may be NULL). FALSE only when the connection failed
 * or the batch was cancelled (the message being received then gets no @message_func call). */
void            td_pop3_session_retr_many_async      (TdPop3Session       *self,
                                                      const guint32       *numbers,
                                                      guint                n_numbers,
                                                      TdPop3ChunkFunc      chunk_func,
                                                      TdPop3MessageFunc    message_func,
                                                      gpointer             func_data,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_retr_many_finish     (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* DELE n: marks the message; QUIT removes it. */
void            td_pop3_session_dele_async           (TdPop3Session       *self,
                                                      guint32              number,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_dele_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* DELE of each of @numbers, pipelined when the server allows it. Returns the numbers the
 * server refused to mark (guint32, empty when none); NULL with @error when the connection
 * failed or the batch was cancelled. */
void            td_pop3_session_dele_many_async      (TdPop3Session       *self,
                                                      const guint32       *numbers,
                                                      guint                n_numbers,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
GArray         *td_pop3_session_dele_many_finish     (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* RSET: unmarks what DELE marked. */
void            td_pop3_session_rset_async           (TdPop3Session       *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_rset_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
void            td_pop3_session_noop_async           (TdPop3Session       *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_noop_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

/* QUIT, then the connection closes. From TRANSACTION the server removes the messages marked
 * deleted: success means it said so; a refusal, or a connection that ends before the answer,
 * is an error (the messages may still be there). Not connected (yet or any more): nothing to
 * do, TRUE. While setting up: the connection is dropped, TRUE. Once sent it is not
 * cancelled. */
void            td_pop3_session_quit_async           (TdPop3Session       *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        td_pop3_session_quit_finish          (TdPop3Session       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* Drops the connection at once (nothing is removed); pending operations fail with
 * G_IO_ERROR_CANCELLED. */
void            td_pop3_session_close                (TdPop3Session       *self);

/* RFC 1939 APOP: the lower-case hex MD5 of @timestamp followed by @secret. */
char           *td_pop3_apop_digest                  (const char          *timestamp,
                                                      const char          *secret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdPop3UidlEntry, td_pop3_uidl_entry_free)

G_END_DECLS
