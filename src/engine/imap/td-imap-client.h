/* td-imap-client.h: the IMAP connections of one account, pooled
 *
 * Everything the engine does on an IMAP server goes through the client of its account: it
 * hands out authenticated sessions (connected, TLS verified, logged in) and takes them back.
 *
 * Two kinds of use, counted apart:
 *
 *  - Commands (a sync, a replay of the journal, one body): at most max-sessions sessions at
 *    once (default 3). An acquire gets an idle pooled session that is still logged in (the
 *    most recently released first), else a new one while under the limit, else it waits in a
 *    FIFO queue until a session is released. Each holder runs one operation and releases its
 *    session when the operation ends, so a waiter waits for operations, never for a watch.
 *
 *  - Watches (IDLE): a separate allowance of at most TD_IMAP_CLIENT_MAX_WATCHES (2: the Inbox
 *    and the folder being viewed), outside the bound. A watch holds its session for as long
 *    as it runs, so counting it against max-sessions would let two IDLEs leave one slot for
 *    everything else, or none with a lower limit; and borrowing a session back from an IDLE
 *    would make every watch reconnect after each sync. A watch takes an idle pooled session
 *    when there is one (its login is not wasted), else a new one; a third watch waits until
 *    one of the two ends. A watch session is never pooled again: released, it is logged out
 *    (or closed, when not reusable).
 *
 * So an account has at most max-sessions + 2 connections, and a user viewing a folder while
 * the Inbox is watched, a sync runs and a body is fetched uses four of them, none waiting.
 *
 * A released session that is not reusable (the holder saw it fail, or left it in the middle
 * of something) is closed; one that is no longer logged in (BYE, a cut connection) is dropped
 * whatever the holder said, and so is a pooled one as soon as it closes. An idle pooled
 * session is logged out after idle-timeout (default 25 s: under the 30 s a connection waits
 * for the server, after which its pending read would fail and the session close without a
 * LOGOUT; longer timeouts are cut to the connection's timeout less 5 s); at once with
 * td_imap_client_close_idle() (push stopped, account removed) and td_imap_client_shutdown_async().
 *
 * A new connection serves the head of its queue when it is ready; when it fails, the head of
 * the queue gets the error. A refused password, certificate or TLS fails every waiter and
 * is not retried: the password is forgotten (set it again after asking the user), and the
 * refused certificate is kept for td_imap_client_get_certificate_info().
 *
 * Capabilities are cached per client: what the server announced after the last login, kept
 * while no session is connected (TdImapSession cannot list its capabilities, so the atoms
 * the engine uses are recorded, and any other atom asked for once while a session is logged
 * in).
 *
 * Cancelling a queued acquire takes it out of the queue at once (G_IO_ERROR_CANCELLED); a
 * connection being opened for it goes on and serves the next waiter or the pool.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"
#include "td-connection.h"
#include "td-imap-session.h"

G_BEGIN_DECLS

#define TD_IMAP_CLIENT_MAX_WATCHES          2
#define TD_IMAP_CLIENT_DEFAULT_MAX_SESSIONS 3
#define TD_IMAP_CLIENT_DEFAULT_IDLE_TIMEOUT 25000   /* ms */

typedef enum
{
  TD_IMAP_CLIENT_COMMANDS,   /* one operation, then released: bounded by max-sessions */
  TD_IMAP_CLIENT_WATCH,      /* held while watching (IDLE): TD_IMAP_CLIENT_MAX_WATCHES */
} TdImapClientPurpose;

#define TD_TYPE_IMAP_CLIENT (td_imap_client_get_type ())

G_DECLARE_FINAL_TYPE (TdImapClient, td_imap_client, TD, IMAP_CLIENT, GObject)

/* Connects to @account's host, port and security, pinning its fingerprint as it is at each
 * new connection (so a certificate trusted meanwhile is used), logging in as its user. */
TdImapClient  *td_imap_client_new               (TdAccount           *account);
TdAccount     *td_imap_client_get_account       (TdImapClient        *self);
/* Kept in memory (wiped when replaced, forgotten after the server refused it, and on
 * dispose) for the logins of new connections; NULL forgets it. */
void           td_imap_client_set_password      (TdImapClient        *self,
                                                 const char          *password);
/* At least 1; lowering it closes nothing, it only keeps new connections from opening. */
void           td_imap_client_set_max_sessions  (TdImapClient        *self,
                                                 guint                max_sessions);
guint          td_imap_client_get_max_sessions  (TdImapClient        *self);
/* Milliseconds an idle pooled session is kept; 0: logged out as soon as it is released and
 * nobody waits. Applies to sessions released from now on. */
void           td_imap_client_set_idle_timeout  (TdImapClient        *self,
                                                 guint                msec);
guint          td_imap_client_get_idle_timeout  (TdImapClient        *self);

/* An authenticated session (AUTHENTICATED, or SELECTED with whatever folder its last holder
 * left selected) for @purpose. The caller owns it until td_imap_client_release(); a session
 * that was handed out but never taken by _finish (the caller was cancelled meanwhile) goes
 * back by itself. Errors: those of connect and login, TD_ERROR_NO_PASSWORD (a new connection
 * was needed and there is no password), G_IO_ERROR_CANCELLED, TD_ERROR_WRONG_STATE after
 * td_imap_client_shutdown_async(). */
void           td_imap_client_acquire_async     (TdImapClient        *self,
                                                 TdImapClientPurpose  purpose,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
TdImapSession *td_imap_client_acquire_finish    (TdImapClient        *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
/* Gives back a session from td_imap_client_acquire_finish(). With @reusable (the holder's
 * last command finished and nothing is left half done) a command session serves the next
 * waiter or goes into the pool; else it is closed. A holder keeps a reference to the client
 * until it has released. */
void           td_imap_client_release           (TdImapClient        *self,
                                                 TdImapSession       *session,
                                                 gboolean             reusable);
/* The connection under a session of this client (e.g. to wait longer while idling), or
 * NULL for a session it does not know. */
TdConnection  *td_imap_client_get_connection    (TdImapClient        *self,
                                                 TdImapSession       *session);

/* Logs out every idle pooled session now. The client stays usable. */
void           td_imap_client_close_idle        (TdImapClient        *self);
/* For good: waiting acquires fail with G_IO_ERROR_CANCELLED and later ones with
 * TD_ERROR_WRONG_STATE, connections being opened are cancelled, idle sessions are logged
 * out, and sessions still held are logged out when released. Completes once the idle ones
 * are logged out. */
void           td_imap_client_shutdown_async    (TdImapClient        *self,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean       td_imap_client_shutdown_finish   (TdImapClient        *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* The server's capabilities after the last login (see above); FALSE before any login. */
gboolean       td_imap_client_has_capability    (TdImapClient        *self,
                                                 const char          *capability);
/* After an acquire failed with TD_ERROR_CERTIFICATE: the refused certificate, else NULL. */
const TdCertificateInfo *td_imap_client_get_certificate_info (TdImapClient *self);

/* Sessions by state, for tests and debugging: handed out (both purposes), idle in the pool,
 * and connections being opened. */
guint          td_imap_client_get_n_busy        (TdImapClient        *self);
guint          td_imap_client_get_n_idle        (TdImapClient        *self);
guint          td_imap_client_get_n_opening     (TdImapClient        *self);

G_END_DECLS
