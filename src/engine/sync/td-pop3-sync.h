/* td-pop3-sync.h: one check of a POP3 account: download what is new, then apply the
 * account's leave-on-server policy
 *
 * Connects (TLS verified, or the account's pinned fingerprint), logs in (AUTH PLAIN when the
 * server offers it, else USER/PASS), and asks UIDL which messages the server has; a server
 * without UIDL gets each message identified by a hash of its header (TOP n 0) and its size.
 * What the account's UIDL table does not know is downloaded with pipelined RETR in batches;
 * each batch is one store transaction that holds every message together with its UIDL row
 * (td-store-pop3.h), so a sync killed at any point loses nothing and the next one stores
 * nothing twice. Only then, and only for messages whose UIDL row is committed, DELE is sent
 * as the policy says (td_account_get_pop3_policy: keep, delete after N days, delete right
 * after downloading; and with td_account_get_pop3_delete_when_deleted_here what was deleted
 * here for good), and QUIT makes the server remove them. A failure before QUIT drops the
 * connection, so nothing marked is removed. RFC 2449/3206 refusals ([IN-USE], [LOGIN-DELAY],
 * [SYS/TEMP], [SYS/PERM], [AUTH]) fail with TD_ERROR_TRY_LATER, TD_ERROR_PERMANENT or
 * TD_ERROR_AUTH and a translated message.
 *
 * Retries (td_pop3_sync_get_retry_after): a [LOGIN-DELAY] refusal waits the LOGIN-DELAY that
 * CAPA announced (else TD_POP3_SYNC_LOGIN_DELAY_DEFAULT), [SYS/TEMP] 1, 2, 4 ... minutes (at
 * most an hour) after each one in a row; both waits are kept in the store
 * (td_store_pop3_get_retry_async), and until they are over every check of the account, in
 * this process or another, fails at once with TD_ERROR_TRY_LATER without connecting. A server
 * that announces LOGIN-DELAY N gets no check within N seconds of a successful one either.
 * [IN-USE] suggests a retry after TD_POP3_SYNC_IN_USE_RETRY but does not block one (the user
 * may have closed the other program). [AUTH] and [SYS/PERM] suggest none: they need the user.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"
#include "td-connection.h"
#include "td-store.h"

G_BEGIN_DECLS

#define TD_TYPE_POP3_SYNC (td_pop3_sync_get_type ())

G_DECLARE_FINAL_TYPE (TdPop3Sync, td_pop3_sync, TD, POP3_SYNC, GObject)

/* Unix time now, for the "after N days" policy (tests inject their own). */
typedef gint64 (*TdPop3SyncClock) (gpointer user_data);

/* Messages per RETR batch and store transaction. */
#define TD_POP3_SYNC_BATCH_DEFAULT 32

/* Waits before the next check, in seconds (see above). */
#define TD_POP3_SYNC_LOGIN_DELAY_DEFAULT  (10 * 60)
#define TD_POP3_SYNC_TEMP_RETRY_FIRST     60
#define TD_POP3_SYNC_TEMP_RETRY_MAX       (60 * 60)
#define TD_POP3_SYNC_IN_USE_RETRY         60
#define TD_POP3_SYNC_RETRY_MIN            60
#define TD_POP3_SYNC_RETRY_MAX            (24 * 60 * 60)

TdPop3Sync *td_pop3_sync_new               (TdStore             *store,
                                            TdAccount           *account);
void        td_pop3_sync_set_clock         (TdPop3Sync          *self,
                                            TdPop3SyncClock      clock,
                                            gpointer             user_data);
void        td_pop3_sync_set_batch_size    (TdPop3Sync          *self,
                                            guint                batch_size);
/* Tests: smaller bounds of a line and of a multi-line answer (td_pop3_session_set_limits). */
void        td_pop3_sync_set_limits        (TdPop3Sync          *self,
                                            gsize                max_line,
                                            gsize                max_multiline);
/* Tests: a stream that is already open instead of a connection of its own (no TLS). */
void        td_pop3_sync_set_stream        (TdPop3Sync          *self,
                                            GIOStream           *stream);
/* One check; TD_ERROR_WRONG_STATE while one runs. */
void        td_pop3_sync_run_async         (TdPop3Sync          *self,
                                            const char          *password,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean    td_pop3_sync_run_finish        (TdPop3Sync          *self,
                                            GAsyncResult        *result,
                                            GError             **error);
/* What the last run did. */
guint       td_pop3_sync_get_downloaded    (TdPop3Sync          *self);
guint       td_pop3_sync_get_deleted       (TdPop3Sync          *self);
/* After a failed run: the seconds to wait before checking again (TD_ERROR_TRY_LATER), or 0:
 * no automatic retry sooner than usual (TD_ERROR_AUTH and TD_ERROR_PERMANENT need the user). */
guint       td_pop3_sync_get_retry_after   (TdPop3Sync          *self);
/* After a TD_ERROR_CERTIFICATE failure: the refused certificate. */
const TdCertificateInfo *td_pop3_sync_get_certificate_info (TdPop3Sync *self);

/* Signals:
 *   "progress" (const char *what, guint done, guint total): translated, e.g. "Downloading"
 *              with 3 of 10; total 0 when unknown. */

G_END_DECLS
