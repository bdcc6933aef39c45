/* td-imap-watch.h: keeps one IMAP folder watched for changes (IDLE, else polling)
 *
 * A watch holds one session, logged in with the folder EXAMINEd, and says
 * "changed" whenever the server reports something new there (RFC 2177 IDLE: EXISTS, EXPUNGE,
 * FETCH, VANISHED), so its owner syncs. IDLE is renewed every poll-interval seconds, at most
 * every 25 minutes (servers may end it after 30), with a NOOP between the two IDLEs (some
 * servers report new mail only in answer to a command), and each renewal says "changed"
 * (some report nothing while idling). A server without IDLE is polled with NOOP every
 * poll-interval seconds, and each poll says "changed". Where the server offers NOTIFY
 * (RFC 5465), the watch asks for news of every folder of the account, so changes anywhere
 * say "changed" as they happen.
 *
 * The connection is kept: when it fails, the watch reconnects after 1, 2, 4, … seconds (at
 * most 5 minutes), each with up to 25% random jitter so that many clients do not come back at
 * once; the steps start again from 1 s after a connection that worked. While idling the
 * connection's read timeout is lifted (a quiet IDLE is no failure) and restored after it; a
 * renewal or a poll not answered within 30 s counts as a failure. The network (GNetworkMonitor): when it goes
 * away the watch drops its connection, is offline and tries nothing until it is back, then
 * connects at once; when it changes while connected (another Wi-Fi, a VPN), the old TCP
 * connection may be dead without any error, so the watch ends its IDLE (or polls) at once
 * and replaces the connection if that is not answered within 10 s. On waking from suspend
 * (logind's PrepareForSleep(false)) it reconnects at once. Every (re)connection says
 * "changed" too: whatever happened while offline is fetched. "online" tells whether the
 * connection is up.
 *
 * A refused password or certificate is not retried: the watch stops and says "failed".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"
#include "td-imap-client.h"

G_BEGIN_DECLS

#define TD_TYPE_IMAP_WATCH (td_imap_watch_get_type ())

G_DECLARE_FINAL_TYPE (TdImapWatch, td_imap_watch, TD, IMAP_WATCH, GObject)

/* @folder_path: the UTF-8 path ("INBOX"). A watch with a client of its own: one connection,
 * closed when the watch stops. */
TdImapWatch *td_imap_watch_new               (TdAccount    *account,
                                              const char   *folder_path);
/* A watch that takes its session from @client, the account's: a session the client has
 * idle is used without a new login, and the watch counts against the client's allowance
 * for watches, not against its bound for commands. */
TdImapWatch *td_imap_watch_new_for_client    (TdImapClient *client,
                                              const char   *folder_path);
/* Starts watching; @password goes to the client for new connections (kept in memory, wiped
 * when replaced or disposed); NULL, only with a shared client, uses the one it has.
 * Idempotent; a stopped or failed watch starts again. */
void         td_imap_watch_start             (TdImapWatch  *self,
                                              const char   *password);
void         td_imap_watch_stop              (TdImapWatch *self);
const char  *td_imap_watch_get_folder_path   (TdImapWatch *self);
gboolean     td_imap_watch_get_online        (TdImapWatch *self);
/* Seconds between polls when the server has no IDLE, and between IDLE renewals (at most 25
 * minutes) when it has (default 300, at least 1): each asks for a sync ("changed"). */
void         td_imap_watch_set_poll_interval (TdImapWatch *self,
                                              guint        seconds);
/* TRUE while connected with NOTIFY (RFC 5465) accepted: the server then reports changes in
 * every folder of the account here, not only in the watched one. */
gboolean     td_imap_watch_get_watches_all   (TdImapWatch *self);
/* Tries to connect now if it is waiting to reconnect. */
void         td_imap_watch_reconnect_now     (TdImapWatch *self);
/* Seconds between two IDLE renewals: the poll interval, at most 25 minutes. */
guint        td_imap_watch_get_renew_interval (TdImapWatch *self);
/* Milliseconds from the last failure to the reconnect now pending (the backoff step with its
 * jitter, on the watch's clock), 0 when no reconnect is pending ("retry-delay"). */
guint        td_imap_watch_get_retry_delay   (TdImapWatch *self);

/* For tests only. Every delay of the watch (polls, IDLE renewals, reconnects, waiting for an
 * answer) is multiplied by @scale (default 1.0, must be > 0), so that a test sees minutes of
 * the watch pass in milliseconds; what the watch reports (retry-delay, the renew interval)
 * stays on its own unscaled clock. */
void         td_imap_watch_set_time_scale    (TdImapWatch     *self,
                                              double           scale);
/* For tests only, before td_imap_watch_start(): follow @monitor instead of
 * g_network_monitor_get_default(), and hear logind's PrepareForSleep on @bus (a connection
 * to a message bus) instead of the system bus. */
void         td_imap_watch_set_network_monitor (TdImapWatch     *self,
                                                GNetworkMonitor *monitor);
void         td_imap_watch_set_system_bus    (TdImapWatch     *self,
                                              GDBusConnection *bus);

/* Properties: "online" (gboolean); "retry-delay" (guint, notified at every reconnect
 * scheduled, also when its delay is the same as the last one's).
 * Signals:
 *   "changed" (): the folder changed on the server, or the watch (re)connected
 *   "failed"  (const GError *): stopped for good (password or certificate refused) */

G_END_DECLS
