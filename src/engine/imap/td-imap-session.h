/* td-imap-session.h: one IMAP connection, driven by one explicit state table
 *
 * States: NOT_CONNECTED -> NOT_AUTHENTICATED -> AUTHENTICATED <-> SELECTED -> LOGOUT.
 * Each public operation is an event; the table [state][event] names its handler, and an
 * event the table does not allow fails with TD_ERROR_WRONG_STATE. Commands are pipelined:
 * several may be in flight, each with its tag and its pending GTask; untagged responses
 * are routed to the oldest in-flight command that wants them.
 *
 * Server text is hostile: parse errors, limits, a BYE or a cut connection fail every
 * pending command with a GError and move the session to NOT_CONNECTED.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-connection.h"
#include "td-imap-response.h"

G_BEGIN_DECLS

typedef enum
{
  TD_IMAP_STATE_NOT_CONNECTED,
  TD_IMAP_STATE_NOT_AUTHENTICATED,
  TD_IMAP_STATE_AUTHENTICATED,
  TD_IMAP_STATE_SELECTED,
  TD_IMAP_STATE_LOGOUT,
  TD_IMAP_N_STATES
} TdImapState;

typedef struct
{
  guint32  exists;
  guint32  uidvalidity;
  guint32  uidnext;          /* 0 when the server did not say */
  guint64  highestmodseq;    /* 0 with NOMODSEQ or without CONDSTORE */
  gboolean read_only;
} TdImapMailbox;

#define TD_TYPE_IMAP_SESSION (td_imap_session_get_type ())

G_DECLARE_FINAL_TYPE (TdImapSession, td_imap_session, TD, IMAP_SESSION, GObject)

/* Over a TdConnection (not yet connected): connect_async connects it, reads the greeting,
 * does STARTTLS when the connection's security asks for it (refusing a server without
 * STARTTLS), and reads the capabilities. */
TdImapSession *td_imap_session_new             (TdConnection *connection);
/* Over any stream that is already open (tests: a scripted in-process server). STARTTLS is
 * not available in this mode. */
TdImapSession *td_imap_session_new_for_stream  (GIOStream    *stream);

TdImapState    td_imap_session_get_state       (TdImapSession *self);
/* Upper-case capability atoms; re-read after login. */
gboolean       td_imap_session_has_capability  (TdImapSession *self,
                                                const char    *capability);
/* The currently selected mailbox's facts, or NULL. */
const TdImapMailbox *td_imap_session_get_mailbox (TdImapSession *self);

void           td_imap_session_connect_async   (TdImapSession       *self,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean       td_imap_session_connect_finish  (TdImapSession       *self,
                                                GAsyncResult        *result,
                                                GError             **error);
/* AUTHENTICATE PLAIN (with SASL-IR when offered) or LOGIN; refuses to send a password over
 * a connection that is not TLS unless it was made for a test stream. A NO is
 * TD_ERROR_AUTH with the server's text. Capabilities are re-read afterwards. */
void           td_imap_session_login_async     (TdImapSession       *self,
                                                const char          *username,
                                                const char          *password,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean       td_imap_session_login_finish    (TdImapSession       *self,
                                                GAsyncResult        *result,
                                                GError             **error);
/* LIST "" "*" (with RETURN (SPECIAL-USE) when offered). TdImapListEntry*, roles filled
 * from attributes or else guessed by name. */
void           td_imap_session_list_async      (TdImapSession       *self,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
GPtrArray     *td_imap_session_list_finish     (TdImapSession       *self,
                                                GAsyncResult        *result,
                                                GError             **error);
/* SELECT (or EXAMINE with @read_only) a mailbox by its raw (wire) name, with (CONDSTORE)
 * when the server offers it. */
void           td_imap_session_select_async    (TdImapSession       *self,
                                                const char          *raw_path,
                                                gboolean             read_only,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
const TdImapMailbox *td_imap_session_select_finish (TdImapSession   *self,
                                                    GAsyncResult    *result,
                                                    GError         **error);

/* Called for each FETCH response of a UID FETCH, as it arrives. The fetch is borrowed. */
typedef void (*TdImapFetchFunc) (TdImapFetch *fetch,
                                 gpointer     user_data);

/* UID FETCH @uid_set (@items) [(CHANGEDSINCE @changed_since) when > 0]. @items is the
 * inner item list, e.g. "UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER]". */
void           td_imap_session_uid_fetch_async (TdImapSession       *self,
                                                const char          *uid_set,
                                                const char          *items,
                                                guint64              changed_since,
                                                TdImapFetchFunc      func,
                                                gpointer             func_data,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean       td_imap_session_uid_fetch_finish (TdImapSession      *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);
/* UID SEARCH @criteria ("ALL", "UID 1:500"); uids ascending (GArray of guint32). */
void           td_imap_session_uid_search_async  (TdImapSession       *self,
                                                  const char          *criteria,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
GArray        *td_imap_session_uid_search_finish (TdImapSession       *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);
/* LOGOUT, then closes the connection. Works (and just closes) in any state. */
void           td_imap_session_logout_async    (TdImapSession       *self,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean       td_imap_session_logout_finish   (TdImapSession       *self,
                                                GAsyncResult        *result,
                                                GError             **error);
/* Drops the connection at once; pending commands fail with G_IO_ERROR_CANCELLED. */
void           td_imap_session_close           (TdImapSession       *self);

/* Compact UID set for a sorted array of uids: "1:5,7,9:12". At most @max_len characters
 * are used; *@consumed tells how many uids went in. */
char          *td_imap_uid_set_build           (const guint32 *uids,
                                                guint          n_uids,
                                                gsize          max_len,
                                                guint         *consumed);

/* Signals: "closed" (GError *or NULL): the connection ended, cleanly or not. */

G_END_DECLS
