/* td-sender.h: sends what waits in an account's outbox, and finishes what was sent
 *
 * One run for one account: rows left "sending" by a process that died (that started sending
 * more than TD_SENDER_SENDING_STALE seconds ago: another process may be sending one now) are
 * queued again; the
 * queued rows that are due (their next_attempt has come) go out over one SMTP connection
 * (TdSmtpSession, the SMTP password from the keyring, or the incoming one); after the server
 * accepted one, a copy goes to Sent (IMAP: APPEND with \Seen to the folder with the Sent role
 * unless the account says the server saves it; POP3: the local Sent folder) and the message
 * it answers or forwards gets \Answered or $Forwarded through the journal, so an IMAP server
 * learns it at the next replay.
 *
 * When a message counts as sent: the row is marked "sending" (committed) before MAIL FROM and
 * "sent" (committed) right after the server's 250 for the data. A crash between those two
 * leaves "sending", and the next run sends it again: the only window for a duplicate (it has
 * the same Message-ID), chosen over one in which an accepted message could be lost. A "sent"
 * row is never sent again; if saving the copy or setting the flag fails, the next run does
 * only that.
 *
 * A failure that may pass (the server is down or says 4xx, a cut connection, a timeout) puts
 * the row back in the queue with a later next_attempt (1 minute, doubling up to an hour, for
 * at most TD_SENDER_MAX_ATTEMPTS attempts); any other (a 5xx refusal, every recipient refused,
 * a wrong password, a message too large, no encryption) marks it failed with the reason,
 * until the user retries it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"
#include "td-credentials.h"
#include "td-store.h"

G_BEGIN_DECLS

#define TD_SENDER_MAX_ATTEMPTS  20
#define TD_SENDER_SENDING_STALE (10 * 60)

#define TD_TYPE_SENDER (td_sender_get_type ())

G_DECLARE_FINAL_TYPE (TdSender, td_sender, TD, SENDER, GObject)

/* Signals:
 *   "progress" (const char *what): a step, for people ("Connecting to smtp.example.org…")
 *   "message-sent" (gint64 outbox_id, const char *note): the server accepted it; @note names
 *     the recipients it refused and why, or is NULL
 *   "message-failed" (gint64 outbox_id, const GError *error, gboolean will_retry)
 *   "after-send-failed" (gint64 outbox_id, const GError *error): it was sent, but the copy in
 *     Sent or the original's flag is still to be done (the next run tries again)
 *   "round-finished": td_sender_start()'s sending went over every account once */
TdSender   *td_sender_new              (TdStore       *store,
                                        TdCredentials *credentials);
/* The seconds to wait before attempt @attempts + 1 after @attempts failed ones. */
guint       td_sender_backoff_seconds  (guint          attempts);
/* For tests: the time (unix seconds) the sender takes as now; 0: the clock. */
void        td_sender_set_now          (TdSender      *self,
                                        gint64         now);

/* One run for @account. With @force, queued rows that wait for a later attempt go now too.
 * Fails only when the store fails; what happened to each message is in the signals and in
 * the outbox. @n_sent: messages the server accepted in this run; @n_left: rows still in the
 * outbox (queued, failed, or sent with work left). */
void        td_sender_run_async        (TdSender             *self,
                                        TdAccount            *account,
                                        gboolean              force,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
gboolean    td_sender_run_finish       (TdSender             *self,
                                        GAsyncResult         *result,
                                        guint                *n_sent,
                                        guint                *n_left,
                                        GError              **error);

/* Sending by itself (the app): a round runs every account of @accounts (TdAccount*) now,
 * when @monitor (NULL: the default one) says the network is back, when td_sender_wake() is
 * called (a message was just queued), and when the earliest waiting attempt is due (a timer).
 * No round while the network is away. Until td_sender_stop() (also on dispose). */
void        td_sender_start            (TdSender             *self,
                                        GListModel           *accounts,
                                        GNetworkMonitor      *monitor);
void        td_sender_wake             (TdSender             *self);
void        td_sender_stop             (TdSender             *self);

G_END_DECLS
