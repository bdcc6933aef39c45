/* td-store.h: the one SQLite store of a profile
 *
 * One worker thread (the store thread) owns the write connection (WAL) and does every write
 * and every unbounded read. The thread that opened the store (the main thread) also has a
 * read-only connection for bounded, indexed reads (a page of a list, one row, the accounts).
 * Every *_async call runs its work on the store thread, in one transaction, and calls back
 * on the caller's thread-default GMainContext. Jobs run in the order they were queued. A job
 * whose GCancellable is cancelled before it starts does nothing and fails with
 * G_IO_ERROR_CANCELLED; a write that has committed reports success even if it was cancelled
 * meanwhile.
 *
 * The store parses what it is given (headers and bodies, with td-mime) on the store thread,
 * so the protocol engines hand it raw bytes and never block the main loop.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-types.h"
#include "td-account.h"
#include "td-folder.h"
#include "td-message.h"

G_BEGIN_DECLS

#define TD_TYPE_STORE (td_store_get_type ())

G_DECLARE_FINAL_TYPE (TdStore, td_store, TD, STORE, GObject)

/* A folder as a server lists it, for td_store_sync_folders_async(). */
typedef struct
{
  char         *path;        /* UTF-8, full path with the server's delimiter */
  char          delimiter;   /* 0 for a flat namespace */
  TdFolderRole  role;
  gboolean      selectable;  /* FALSE for \Noselect containers */
  guint32       uidvalidity; /* from LIST-STATUS, or 0: a folder here with the same one that
                              * is no longer listed was renamed there, and follows */
} TdFolderSpec;

TdFolderSpec *td_folder_spec_new  (const char   *path,
                                   char          delimiter,
                                   TdFolderRole  role,
                                   gboolean      selectable);
void          td_folder_spec_free (TdFolderSpec *spec);

/* A message's server-side facts and its header bytes, for td_store_add_messages_async(). */
typedef struct
{
  guint32   uid;
  TdFlags   flags;
  char     *keywords;      /* space-separated unknown keywords, or NULL */
  gint64    internaldate;  /* unix time; used when the Date header is missing or absurd */
  guint64   size;
  GBytes   *header;        /* the RFC 5322 header block (may be the whole message) */
  guint64   modseq;        /* RFC 7162 MODSEQ, 0 when not known */
} TdMessageSpec;

TdMessageSpec *td_message_spec_new  (guint32  uid,
                                     TdFlags  flags,
                                     gint64   internaldate,
                                     guint64  size,
                                     GBytes  *header);
void           td_message_spec_free (TdMessageSpec *spec);

/* A uid and its flags, for td_store_update_flags_async(). */
typedef struct
{
  guint32 uid;
  TdFlags flags;
  guint64 modseq;          /* 0: not known, the stored one stays */
  char   *keywords;        /* the other keywords, space-separated ("" for none); NULL: not
                            * known, the stored ones stay. Owned: td_uid_flags_clear() */
} TdUidFlags;

void           td_uid_flags_clear   (TdUidFlags *flags);
/* A new GArray of TdUidFlags that clears its elements. */
GArray        *td_uid_flags_array_new (void);

/* A full message body, for td_store_set_bodies_async(). */
typedef struct
{
  guint32  uid;
  GBytes  *raw;            /* the whole RFC 5322 message */
} TdBodySpec;

TdBodySpec   *td_body_spec_new  (guint32  uid,
                                 GBytes  *raw);
void          td_body_spec_free (TdBodySpec *spec);

/* A folder's IMAP sync state. */
typedef struct
{
  guint32 uidvalidity;     /* 0 = never synced */
  guint32 uidnext;
  guint64 highestmodseq;
  TdFlags local_flags;     /* read only: set with td_store_set_folder_local_flags_async() */
} TdFolderState;

/* --- Opening --- */

/* @path: the database file; its directory is created (0700). No I/O until opened. */
TdStore    *td_store_new                  (const char          *path);
const char *td_store_get_path             (TdStore             *self);
/* Opens the write connection on the store thread, runs the schema migrations (numbered
 * .sql files in the GResource /org/tidings/Tidings/store/), then opens the read connection
 * on the calling thread. */
void        td_store_open_async           (TdStore             *self,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    td_store_open_finish          (TdStore             *self,
                                           GAsyncResult        *result,
                                           GError             **error);
/* Current schema version (the number of the last migration applied). */
guint       td_store_get_schema_version   (TdStore             *self);
/* Runs "PRAGMA integrity_check" on the store thread; TRUE when it says "ok". */
void        td_store_check_integrity_async  (TdStore             *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean    td_store_check_integrity_finish (TdStore             *self,
                                             GAsyncResult        *result,
                                             GError             **error);
/* Waits for queued writes, closes both connections, stops the thread. Idempotent; also
 * done in dispose. */
void        td_store_close                (TdStore             *self);

/* --- Accounts (bounded reads on the calling thread, writes async) --- */

void        td_store_add_account_async    (TdStore             *self,
                                           TdAccount           *account,  /* gets id and uuid */
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    td_store_add_account_finish   (TdStore             *self,
                                           GAsyncResult        *result,
                                           GError             **error);
/* Saves the changed settings of an existing account (name, pinned fingerprint, ...). */
void        td_store_update_account_async (TdStore             *self,
                                           TdAccount           *account,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    td_store_update_account_finish (TdStore            *self,
                                            GAsyncResult       *result,
                                            GError            **error);
/* Removes the account with all its folders, messages and bodies. */
void        td_store_remove_account_async (TdStore             *self,
                                           gint64               account_id,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    td_store_remove_account_finish (TdStore            *self,
                                            GAsyncResult       *result,
                                            GError            **error);
GPtrArray  *td_store_list_accounts        (TdStore             *self,     /* TdAccount*, by id */
                                           GError             **error);
TdAccount  *td_store_get_account          (TdStore             *self,
                                           gint64               account_id,
                                           GError             **error);   /* TD_ERROR_NOT_FOUND */

/* --- Folders --- */

/* Makes the account's folders exactly @specs (TdFolderSpec*): adds new ones, updates role
 * and delimiter of known ones, deletes the ones no longer listed with their messages. */
void        td_store_sync_folders_async   (TdStore             *self,
                                           gint64               account_id,
                                           GPtrArray           *specs,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    td_store_sync_folders_finish  (TdStore             *self,
                                           GAsyncResult        *result,
                                           GError             **error);
/* TdFolder* of the account in display order (role order, then path). */
GPtrArray  *td_store_list_folders         (TdStore             *self,
                                           gint64               account_id,
                                           GError             **error);
TdFolder   *td_store_get_folder           (TdStore             *self,
                                           gint64               folder_id,
                                           GError             **error);
TdFolder   *td_store_find_folder          (TdStore             *self,
                                           gint64               account_id,
                                           const char          *path,
                                           GError             **error);
gboolean    td_store_get_folder_state     (TdStore             *self,
                                           gint64               folder_id,
                                           TdFolderState       *out,
                                           GError             **error);
void        td_store_set_folder_state_async  (TdStore             *self,
                                              gint64               folder_id,
                                              const TdFolderState *state,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    td_store_set_folder_state_finish (TdStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
/* UIDVALIDITY changed: deletes every message of the folder and sets the new state. */
void        td_store_reset_folder_async   (TdStore             *self,
                                           gint64               folder_id,
                                           const TdFolderState *state,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    td_store_reset_folder_finish  (TdStore             *self,
                                           GAsyncResult        *result,
                                           GError             **error);

/* --- Messages (writes) --- */

/* Inserts messages by uid from their headers (parsed here, on the store thread); a uid
 * already present gets its flags updated and is otherwise left alone. One transaction. */
void        td_store_add_messages_async   (TdStore             *self,
                                           gint64               folder_id,
                                           GPtrArray           *specs,    /* TdMessageSpec* */
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    td_store_add_messages_finish  (TdStore             *self,
                                           GAsyncResult        *result,
                                           GError             **error);
/* Stores full bodies of known uids, sets preview, attachment mark and the full-text index.
 * Unknown uids are ignored. One transaction. */
void        td_store_set_bodies_async     (TdStore             *self,
                                           gint64               folder_id,
                                           GPtrArray           *bodies,   /* TdBodySpec* */
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    td_store_set_bodies_finish    (TdStore             *self,
                                           GAsyncResult        *result,
                                           GError             **error);
void        td_store_update_flags_async   (TdStore             *self,
                                           gint64               folder_id,
                                           GArray              *changes,  /* TdUidFlags */
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    td_store_update_flags_finish  (TdStore             *self,
                                           GAsyncResult        *result,
                                           GError             **error);
/* Removes messages (expunged on the server) by uid. */
void        td_store_remove_messages_async  (TdStore             *self,
                                             gint64               folder_id,
                                             GArray              *uids,   /* guint32 */
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean    td_store_remove_messages_finish (TdStore             *self,
                                             GAsyncResult        *result,
                                             GError             **error);

/* --- Messages (unbounded reads, on the store thread) --- */

/* All uids of the folder, ascending (GArray of guint32). With @without_body, only those
 * whose body is not stored yet, descending (newest first). */
void        td_store_list_uids_async      (TdStore             *self,
                                           gint64               folder_id,
                                           gboolean             without_body,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
GArray     *td_store_list_uids_finish     (TdStore             *self,
                                           GAsyncResult        *result,
                                           GError             **error);
/* The sync window: the uids of the folder's messages without a stored body that are dated
 * @since (seconds since the epoch) or later, or have no date, descending (newest first);
 * @since 0 lists all of them. */
void        td_store_list_missing_bodies_async  (TdStore             *self,
                                                 gint64               folder_id,
                                                 gint64               since,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GArray     *td_store_list_missing_bodies_finish (TdStore             *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
/* The raw message; TD_ERROR_NOT_FOUND when the body is not stored yet. */
void        td_store_get_body_async       (TdStore             *self,
                                           gint64               message_id,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
GBytes     *td_store_get_body_finish      (TdStore             *self,
                                           GAsyncResult        *result,
                                           GError             **error);
/* Full-text search over subject, addresses and body text. Whatever the user typed is
 * searched as words (quoted for FTS5), never an FTS syntax error: every word must match, the
 * last one as a prefix. Newest first; @limit 0 means no limit. Subject and addresses are
 * searchable as soon as the header is stored, the text once the body is. */
void        td_store_search_async         (TdStore             *self,
                                           const char          *query,
                                           guint                limit,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
GPtrArray  *td_store_search_finish        (TdStore             *self,     /* TdMessage* */
                                           GAsyncResult        *result,
                                           GError             **error);

/* --- Messages (bounded reads on the calling thread) --- */

/* Messages of a folder, newest first, rows [offset, offset + limit). Uses the
 * (folder_id, date, id) index. */
GPtrArray  *td_store_page_messages        (TdStore             *self,     /* TdMessage* */
                                           gint64               folder_id,
                                           guint                offset,
                                           guint                limit,
                                           GError             **error);
guint       td_store_count_messages       (TdStore             *self,
                                           gint64               folder_id);
TdMessage  *td_store_get_message          (TdStore             *self,
                                           gint64               message_id,
                                           GError             **error);

/* --- Local actions and their journal (td-store-journal.c) ---
 * Each action is applied to the rows and written to the journal in one transaction, so it
 * shows at once, survives a crash or a restart, and is replayed to the server later, in
 * journal order (td-imap-replay.h). @message_ids: GArray of gint64 (rows of any folders and
 * accounts); unknown ids are skipped. A message moved or copied here keeps a placeholder until
 * the replay learns its server uid: TdMessage's uid is 0 meanwhile. The local folders of a
 * POP3 account have no server to replay to: nothing is journaled, and a message moved or
 * copied there gets the next free uid of its new folder at once (td-store-pop3.h). */

typedef enum
{
  TD_JOURNAL_FLAGS,
  TD_JOURNAL_MOVE,
  TD_JOURNAL_COPY,
  TD_JOURNAL_EXPUNGE,
  TD_JOURNAL_CREATE,
  TD_JOURNAL_RENAME,
  TD_JOURNAL_DELETE,
  TD_JOURNAL_SUBSCRIBE,
  TD_JOURNAL_UNSUBSCRIBE,
} TdJournalKind;

typedef struct
{
  gint64         id;
  gint64         account_id;
  TdJournalKind  kind;
  gint64         message_id;         /* the local row, 0 for folder changes */
  char          *message_id_header;  /* its Message-ID then, or NULL */
  char          *folder_path;        /* the folder (of the message) */
  guint32        uidvalidity;        /* of that folder then; 0 = do not check */
  guint32        uid;                /* the server uid then; 0 = it had none yet */
  guint64        modseq;
  TdFlags        flags_base;         /* the row's flags before the change */
  TdFlags        flags_add;
  TdFlags        flags_remove;
  char          *keywords_add;       /* space-separated, or NULL */
  char          *keywords_remove;
  char          *target_path;        /* move/copy target, rename's new path */
  gint64         target_message_id;  /* the placeholder row of a move or copy */
} TdJournalEntry;

void        td_journal_entry_free          (TdJournalEntry      *entry);

void        td_store_change_flags_async    (TdStore             *self,
                                            GArray              *message_ids,
                                            TdFlags              add,
                                            TdFlags              remove,
                                            const char          *keyword_add,
                                            const char          *keyword_remove,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean    td_store_change_flags_finish   (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
/* To a folder of the same account (else TD_ERROR_INVALID); a copy with @copy. */
void        td_store_move_messages_async   (TdStore             *self,
                                            GArray              *message_ids,
                                            gint64               target_folder_id,
                                            gboolean             copy,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean    td_store_move_messages_finish  (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
/* Removes for good (journals an expunge of the server's copy). */
void        td_store_expunge_messages_async  (TdStore             *self,
                                              GArray              *message_ids,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    td_store_expunge_messages_finish (TdStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);
/* Every message of the folder, for good (Empty Trash). */
void        td_store_expunge_folder_async  (TdStore             *self,
                                            gint64               folder_id,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean    td_store_expunge_folder_finish (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
/* A new folder @path (missing parents become containers); TD_ERROR_EXISTS if there is one. */
void        td_store_create_folder_async   (TdStore             *self,
                                            gint64               account_id,
                                            const char          *path,
                                            char                 delimiter,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gint64      td_store_create_folder_finish  (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
/* The folder and its children get the new path. */
void        td_store_rename_folder_async   (TdStore             *self,
                                            gint64               folder_id,
                                            const char          *new_path,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean    td_store_rename_folder_finish  (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
/* The folder, its children and their messages. */
void        td_store_delete_folder_async   (TdStore             *self,
                                            gint64               folder_id,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean    td_store_delete_folder_finish  (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
void        td_store_subscribe_folder_async  (TdStore             *self,
                                              gint64               folder_id,
                                              gboolean             subscribe,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    td_store_subscribe_folder_finish (TdStore             *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* The replayer's side: the entries of an account in order (TdJournalEntry*), how many there
 * are (a bounded read on the calling thread), removing replayed ones, and giving a replayed
 * move or copy its server uid (0: none known, the placeholder row goes and the next sync of
 * the target brings the message with its real uid). */
void        td_store_list_journal_async    (TdStore             *self,
                                            gint64               account_id,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
GPtrArray  *td_store_list_journal_finish   (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
guint       td_store_count_journal         (TdStore             *self,
                                            gint64               account_id);
void        td_store_journal_done_async    (TdStore             *self,
                                            GArray              *entry_ids,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean    td_store_journal_done_finish   (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
void        td_store_journal_moved_async   (TdStore             *self,
                                            gint64               entry_id,
                                            guint32              uid,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean    td_store_journal_moved_finish  (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
/* Flags the folder cannot keep on the server (TD_FLAG_KEYWORDS: nor its other keywords):
 * later server flag updates leave them alone. */
void        td_store_set_folder_local_flags_async  (TdStore             *self,
                                                    gint64               folder_id,
                                                    TdFlags              flags,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean    td_store_set_folder_local_flags_finish (TdStore             *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);
/* The server's storage quota in KiB (-1: not known); "accounts-changed" follows. */
void        td_store_set_account_quota_async  (TdStore             *self,
                                               gint64               account_id,
                                               gint64               usage_kib,
                                               gint64               limit_kib,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean    td_store_set_account_quota_finish (TdStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* Signals (emitted on the thread that opened the store, after the write committed):
 *   "folders-changed" (gint64 account_id): folders added, removed or renamed
 *   "folder-changed"  (gint64 folder_id): messages, flags or counts of a folder changed;
 *                     also for a folder that was removed (its list models then hold nothing)
 *   "accounts-changed" (): an account was added, changed or removed */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdFolderSpec, td_folder_spec_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdMessageSpec, td_message_spec_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdBodySpec, td_body_spec_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdJournalEntry, td_journal_entry_free)

G_END_DECLS
