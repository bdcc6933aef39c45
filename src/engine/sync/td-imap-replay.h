/* td-imap-replay.h: sends the journal of local actions to an IMAP server
 *
 * The journal (td-store.h, "The replayer's side") holds every action taken here — flag
 * changes, moves, copies, expunges, folder changes — in the order they were taken. A replay
 * walks it in that order over a logged-in session, groups consecutive entries that are the
 * same action on the same folder into one command, and removes each entry once the server
 * has it. Replay is idempotent: an entry whose command went out but whose removal did not
 * commit (a crash, a cut connection) is sent again, which adds a flag that is already set
 * or expunges a message that is already gone — no harm.
 *
 * Conflicts are settled per entry:
 *  - the message was expunged elsewhere: the entry is dropped (a move's placeholder with it);
 *  - the folder's UIDVALIDITY changed: the message is looked up again by its Message-ID,
 *    and the entry dropped when it cannot be found;
 *  - a flag change goes out with UNCHANGEDSINCE under CONDSTORE; for a message changed on
 *    the server meanwhile, the server's value wins for the flags it changed, ours for the rest;
 *  - the server refuses an action for good (NO): the entry is dropped and the next sync shows
 *    the server's state again. Keywords a folder cannot store ($Forwarded on a server without
 *    "\*" in PERMANENTFLAGS) are kept here only.
 * A connection error ends the replay; what was not sent stays in the journal.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"
#include "td-imap-session.h"
#include "td-store.h"

G_BEGIN_DECLS

#define TD_TYPE_IMAP_REPLAY (td_imap_replay_get_type ())

G_DECLARE_FINAL_TYPE (TdImapReplay, td_imap_replay, TD, IMAP_REPLAY, GObject)

/* @session must be logged in (AUTHENTICATED or SELECTED); the replay selects folders
 * read-write as it needs them and leaves the last one selected. */
TdImapReplay *td_imap_replay_new          (TdStore             *store,
                                           TdAccount           *account,
                                           TdImapSession       *session);
void          td_imap_replay_run_async    (TdImapReplay        *self,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean      td_imap_replay_run_finish   (TdImapReplay        *self,
                                           GAsyncResult        *result,
                                           GError             **error);
/* Entries the server took (sent, or settled as a conflict) in the last run. */
guint         td_imap_replay_get_replayed (TdImapReplay        *self);
/* Entries dropped in the last run (expunged elsewhere, refused, folder gone). */
guint         td_imap_replay_get_dropped  (TdImapReplay        *self);

/* Signals: "progress" (guint done, guint total) */

G_END_DECLS
