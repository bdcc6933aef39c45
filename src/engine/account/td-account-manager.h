/* td-account-manager.h: the accounts of a profile and their sync services
 *
 * Owns the TdStore and the TdCredentials of a profile, keeps the list of accounts, and runs
 * their syncs (IMAP now; POP3 later through the same calls). The window and the CLI talk
 * to the engine through this object.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"
#include "td-connection.h"
#include "td-credentials.h"
#include "td-sender.h"
#include "td-store.h"

G_BEGIN_DECLS

#define TD_TYPE_ACCOUNT_MANAGER (td_account_manager_get_type ())

G_DECLARE_FINAL_TYPE (TdAccountManager, td_account_manager, TD, ACCOUNT_MANAGER, GObject)

/* @store must be open. */
TdAccountManager *td_account_manager_new          (TdStore          *store,
                                                   TdCredentials    *credentials);
TdStore          *td_account_manager_get_store    (TdAccountManager *self);
TdCredentials    *td_account_manager_get_credentials (TdAccountManager *self);
/* The outbox's sender: it runs by itself between start_push and stop_push (wake it after
 * queueing a message: td_sender_wake()). */
TdSender         *td_account_manager_get_sender   (TdAccountManager *self);
/* A GListModel of TdAccount, kept up to date. */
GListModel       *td_account_manager_get_accounts (TdAccountManager *self);
TdAccount        *td_account_manager_find_account (TdAccountManager *self,
                                                   const char       *id_or_address);

/* Stores the account (no secrets) and its password in the credentials. */
void      td_account_manager_add_account_async    (TdAccountManager    *self,
                                                   TdAccount           *account,
                                                   const char          *password,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean  td_account_manager_add_account_finish   (TdAccountManager    *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
/* Removes the account from this computer: its push and connections stop (a sync running for
 * it ends first), its password items leave the keyring, then its folders, messages and
 * journal leave the store. Mail on the server is not touched. Fails, keeping the account,
 * when the keyring cannot remove the password. */
void      td_account_manager_remove_account_async  (TdAccountManager    *self,
                                                    TdAccount           *account,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean  td_account_manager_remove_account_finish (TdAccountManager    *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);
/* Pins @fingerprint for the account (saved in the store). */
void      td_account_manager_trust_certificate_async  (TdAccountManager    *self,
                                                       TdAccount           *account,
                                                       const char          *fingerprint,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean  td_account_manager_trust_certificate_finish (TdAccountManager    *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Saves the changed settings of @account, one of the manager's (e.g. its sync window after
 * td_account_set_sync_days()); the next sync uses them. */
void      td_account_manager_update_account_async  (TdAccountManager    *self,
                                                    TdAccount           *account,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean  td_account_manager_update_account_finish (TdAccountManager    *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

/* Syncs one account, or every account when @account is NULL (one after another; the
 * first error is returned, the others still run). A sync already running for an account
 * is joined, not started twice. */
void      td_account_manager_sync_async           (TdAccountManager    *self,
                                                   TdAccount           *account,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean  td_account_manager_sync_finish          (TdAccountManager    *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
gboolean  td_account_manager_is_syncing           (TdAccountManager    *self);
/* After a sync failed with TD_ERROR_CERTIFICATE: the refused certificate, else NULL. */
const TdCertificateInfo *td_account_manager_get_refused_certificate (TdAccountManager *self,
                                                                     TdAccount        *account);

/* Sends the journal of local actions of @account to its server, without a full sync (done
 * at once when the journal is empty). A sync already running is joined, and the journal is
 * sent again when it ends. Fails like a sync when the server cannot be reached; the actions
 * then stay in the journal for the next attempt. */
void      td_account_manager_send_changes_async   (TdAccountManager    *self,
                                                   TdAccount           *account,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean  td_account_manager_send_changes_finish  (TdAccountManager    *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* --- Actions (td-account-manager-actions.c) ---
 * Each is applied to the store and journaled in one transaction: it shows at once, works
 * offline, and survives a restart. Send it with td_account_manager_send_changes_async().
 * @message_ids: GArray of gint64 (message rows, of any accounts). Every action finishes with
 * td_account_manager_action_finish(). */
gboolean  td_account_manager_action_finish        (TdAccountManager    *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
/* Adds and removes flags (and one keyword each, e.g. "$NotJunk"; may be NULL). */
void      td_account_manager_flag_messages_async  (TdAccountManager    *self,
                                                   GArray              *message_ids,
                                                   TdFlags              add,
                                                   TdFlags              remove,
                                                   const char          *keyword_add,
                                                   const char          *keyword_remove,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
/* Moves (or copies) to a folder of the same account. */
void      td_account_manager_move_messages_async  (TdAccountManager    *self,
                                                   GArray              *message_ids,
                                                   gint64               target_folder_id,
                                                   gboolean             copy,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
/* To the account's Trash; from Trash (or without one) removed for good. */
void      td_account_manager_delete_messages_async (TdAccountManager   *self,
                                                    GArray             *message_ids,
                                                    GCancellable       *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer            user_data);
/* To the account's Archive folder; TD_ERROR_NOT_FOUND when it has none. */
void      td_account_manager_archive_messages_async (TdAccountManager   *self,
                                                     GArray             *message_ids,
                                                     GCancellable       *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer            user_data);
/* Removes every message of the folder for good (Empty Trash). */
void      td_account_manager_empty_folder_async   (TdAccountManager    *self,
                                                   gint64               folder_id,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
/* @path: the full path, parts separated by the account's hierarchy separator. */
void      td_account_manager_create_folder_async  (TdAccountManager    *self,
                                                   TdAccount           *account,
                                                   const char          *path,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
void      td_account_manager_rename_folder_async  (TdAccountManager    *self,
                                                   gint64               folder_id,
                                                   const char          *new_path,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
void      td_account_manager_delete_folder_async  (TdAccountManager    *self,
                                                   gint64               folder_id,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
void      td_account_manager_subscribe_folder_async (TdAccountManager   *self,
                                                     gint64              folder_id,
                                                     gboolean            subscribe,
                                                     GCancellable       *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer            user_data);

/* Downloads and stores the body of one message now (one outside the sync window, opened by
 * the user); it is kept afterwards. */
void      td_account_manager_fetch_body_async     (TdAccountManager    *self,
                                                   gint64               message_id,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean  td_account_manager_fetch_body_finish    (TdAccountManager    *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* --- Push ---
 * Keeps the Inbox of every IMAP account watched (IDLE, else polling; td-imap-watch.h) and
 * syncs an account whenever its server reports a change and whenever the watch (re)connects,
 * so new mail shows without a manual sync and what happened offline comes in when the network
 * is back. The folder being viewed is watched too. */
void      td_account_manager_start_push           (TdAccountManager    *self);
void      td_account_manager_stop_push            (TdAccountManager    *self);
/* The folder the user is looking at (NULL: none); watched as well as the Inbox. */
void      td_account_manager_set_viewed_folder    (TdAccountManager    *self,
                                                   TdFolder            *folder);
/* Seconds between polls of servers without IDLE (default 300). */
void      td_account_manager_set_poll_interval    (TdAccountManager    *self,
                                                   guint                seconds);
guint     td_account_manager_get_poll_interval    (TdAccountManager    *self);
/* POP3 servers cannot announce new mail: while push runs, every POP3 account is checked
 * (synced) every @seconds (default 600), and at once when the network comes back. */
void      td_account_manager_set_check_interval   (TdAccountManager    *self,
                                                   guint                seconds);
guint     td_account_manager_get_check_interval   (TdAccountManager    *self);
/* The monitor push and the check follow (NULL: g_network_monitor_get_default()); for tests.
 * Watches started afterwards use it. */
void      td_account_manager_set_network_monitor  (TdAccountManager    *self,
                                                   GNetworkMonitor     *monitor);
/* TRUE while a watch of the account is connected. */
gboolean  td_account_manager_is_online            (TdAccountManager    *self,
                                                   TdAccount           *account);

/* Stops push and logs out every connection of every account, then completes (the server
 * sees a LOGOUT rather than a cut connection). A sync that holds a session finishes on it,
 * which is logged out then; one waiting for a connection fails. Later work opens new
 * connections. */
void      td_account_manager_close_async          (TdAccountManager    *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean  td_account_manager_close_finish         (TdAccountManager    *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* Properties: "syncing" (gboolean).
 * Signals:
 *   "online-changed" (TdAccount *account, gboolean online): push connection up or down
 *   "sync-started"  (TdAccount *account)
 *   "sync-progress" (TdAccount *account, const char *what, guint done, guint total)
 *                   what is translated, e.g. "Downloading messages in Inbox"
 *   "sync-finished" (TdAccount *account, const GError *error_or_null)
 *   "new-mail"      (TdAccount *account, guint count): a check of a POP3 account downloaded
 *                   @count messages into its Inbox (emitted before "sync-finished") */

G_END_DECLS
