/* td-imap-sync.h: one sync of an IMAP account into the store
 *
 * Connects, logs in, lists the folders and makes the store's folders match, then for each
 * folder: EXAMINE, a UIDVALIDITY check, the server's uids (new ones get their headers,
 * newest first; vanished ones are removed here), the flags of known messages (CHANGEDSINCE
 * with CONDSTORE), and then the full bodies, newest first, in pipelined UID ranges. Every
 * batch is one store transaction, so a sync cut at any point leaves a whole store and the
 * next sync carries on where it stopped. The folder's sync state (UIDVALIDITY, UIDNEXT,
 * HIGHESTMODSEQ) is saved only after the folder synced completely.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"
#include "td-connection.h"
#include "td-store.h"

G_BEGIN_DECLS

#define TD_TYPE_IMAP_SYNC (td_imap_sync_get_type ())

G_DECLARE_FINAL_TYPE (TdImapSync, td_imap_sync, TD, IMAP_SYNC, GObject)

TdImapSync *td_imap_sync_new                  (TdStore             *store,
                                               TdAccount           *account);
void        td_imap_sync_run_async            (TdImapSync          *self,
                                               const char          *password,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean    td_imap_sync_run_finish           (TdImapSync          *self,
                                               GAsyncResult        *result,
                                               GError             **error);
/* After a TD_ERROR_CERTIFICATE failure: the refused certificate. */
const TdCertificateInfo *td_imap_sync_get_certificate_info (TdImapSync *self);

/* Signals:
 *   "progress" (const char *what, guint done, guint total): translated, e.g.
 *              "Downloading messages in Inbox"; total 0 when unknown. */

G_END_DECLS
