/* td-imap-sync.h: one sync of an IMAP account into the store
 *
 * Connects, logs in, lists the folders and makes the store's folders match, then for each
 * folder: SELECT, a UIDVALIDITY check, the server's uids (new ones get their headers,
 * newest first; vanished ones are removed here), the flags of known messages (CHANGEDSINCE
 * with CONDSTORE), and then the full bodies, newest first, in pipelined UID ranges — all of
 * them, or those dated inside the account's sync window (td_account_get_sync_days). Every
 * batch is one store transaction, so a sync cut at any point leaves a whole store and the
 * next sync carries on where it stopped. The folder's sync state (UIDVALIDITY, UIDNEXT,
 * HIGHESTMODSEQ) is saved only after the folder synced completely.
 *
 * Before any folder, the journal of local actions is replayed (td-imap-replay.h), so the
 * server has every change made here before its state is read back. With QRESYNC (RFC 7162)
 * a folder synced before is opened with SELECT (QRESYNC ...): the server says what vanished
 * and which flags changed since, and only uids above the last UIDNEXT are asked for, so a
 * resync without changes costs one round trip per folder. With CONDSTORE alone, flags come
 * with CHANGEDSINCE; without either, all uids and flags are compared. Where the server offers
 * LIST-STATUS (RFC 5819) and CONDSTORE, the folder list brings each folder's STATUS, and a
 * folder whose UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and message count all match the last
 * complete sync is not selected at all: a resync without changes is one round trip in all.
 *
 * "Connects, logs in" is taking a session from a TdImapClient (td-imap-client.h): a pooled
 * one when the account's client has one, given back when the sync ends.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"
#include "td-connection.h"
#include "td-imap-client.h"
#include "td-store.h"

G_BEGIN_DECLS

#define TD_TYPE_IMAP_SYNC (td_imap_sync_get_type ())

G_DECLARE_FINAL_TYPE (TdImapSync, td_imap_sync, TD, IMAP_SYNC, GObject)

/* A sync over a connection of its own, logged out when the sync ends. */
TdImapSync *td_imap_sync_new                  (TdStore             *store,
                                               TdAccount           *account);
/* A sync with a session of @client (its account's), given back when the sync ends: a
 * sync, a replay and a body fetch one after the other log in once. */
TdImapSync *td_imap_sync_new_for_client       (TdStore             *store,
                                               TdImapClient        *client);
/* @password goes to the client for new connections; NULL (with a client of its own: never)
 * uses the one the client has. */
void        td_imap_sync_run_async            (TdImapSync          *self,
                                               const char          *password,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean    td_imap_sync_run_finish           (TdImapSync          *self,
                                               GAsyncResult        *result,
                                               GError             **error);
/* Instead of a sync: fetch the body of one message (@uid in the folder @folder_id, path
 * @folder_path) and store it — for a message outside the sync window that the user opens. */
void        td_imap_sync_set_fetch_body       (TdImapSync          *self,
                                               gint64               folder_id,
                                               const char          *folder_path,
                                               guint32              uid);
/* Only send the journal of local actions (a session, the replay, the session back). */
void        td_imap_sync_set_replay_only      (TdImapSync          *self,
                                               gboolean             replay_only);
/* After a TD_ERROR_CERTIFICATE failure: the refused certificate. */
const TdCertificateInfo *td_imap_sync_get_certificate_info (TdImapSync *self);

/* Signals:
 *   "progress" (const char *what, guint done, guint total): translated, e.g.
 *              "Downloading messages in Inbox"; total 0 when unknown. */

G_END_DECLS
