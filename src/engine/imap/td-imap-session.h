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
  /* PERMANENTFLAGS: the flags this folder keeps (0 and FALSE when the server did not say,
   * which means all of them, RFC 3501 7.1); keywords_allowed when it lists "\*" */
  TdFlags  permanent_flags;
  gboolean keywords_allowed;
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

/* --- Changing things (td-imap-session-mailbox.c, -messages.c) --- */

/* ENABLE @capability (e.g. "QRESYNC") when logged in; afterwards td_imap_session_is_enabled()
 * tells whether the server answered "* ENABLED" with it. */
void      td_imap_session_enable_async   (TdImapSession       *self,
                                          const char          *capability,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean  td_imap_session_enable_finish  (TdImapSession       *self,
                                          GAsyncResult        *result,
                                          GError             **error);
gboolean  td_imap_session_is_enabled     (TdImapSession       *self,
                                          const char          *capability);

/* SELECT/EXAMINE with RFC 7162 "(QRESYNC (uidvalidity modseq))", only once QRESYNC is enabled
 * (else TD_ERROR_WRONG_STATE). Each "* VANISHED (EARLIER) set" goes to @vanished_func
 * expanded (bounded like search results), each FETCH (changed flags) to @fetch_func. With a
 * different UIDVALIDITY the server sends neither; the mailbox returned says so. */
typedef void (*TdImapVanishedFunc) (const guint32 *uids,
                                    guint          n_uids,
                                    gpointer       user_data);
void      td_imap_session_select_qresync_async (TdImapSession       *self,
                                                const char          *raw_path,
                                                gboolean             read_only,
                                                guint32              uidvalidity,
                                                guint64              modseq,
                                                TdImapVanishedFunc   vanished_func,
                                                TdImapFetchFunc      fetch_func,
                                                gpointer             func_data,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
const TdImapMailbox *td_imap_session_select_qresync_finish (TdImapSession  *self,
                                                            GAsyncResult   *result,
                                                            GError        **error);

/* UID STORE @uid_set +FLAGS.SILENT (@flags) (or -FLAGS.SILENT); @flags is the inner list,
 * "\\Seen $Forwarded" (flags and atoms only, else TD_ERROR_INVALID). With @unchanged_since
 * (CONDSTORE) "(UNCHANGEDSINCE n)" and the uids of [MODIFIED ...] are returned (an empty
 * array when every message changed). FETCH responses meanwhile go to @fetch_func (may be
 * NULL). */
void      td_imap_session_uid_store_async  (TdImapSession       *self,
                                            const char          *uid_set,
                                            gboolean             add,
                                            const char          *flags,
                                            guint64              unchanged_since,
                                            TdImapFetchFunc      fetch_func,
                                            gpointer             func_data,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
GArray   *td_imap_session_uid_store_finish (TdImapSession       *self,
                                            GAsyncResult        *result,
                                            GError             **error);

/* The COPYUID response code (RFC 4315): uidvalidity 0 when the server gave none. */
typedef struct
{
  guint32  uidvalidity;
  GArray  *src_uids;   /* guint32, paired with dst_uids */
  GArray  *dst_uids;
} TdImapCopyUid;

void      td_imap_copy_uid_clear          (TdImapCopyUid       *copy_uid);
/* UID COPY, or UID MOVE (RFC 6851) with @move (TD_ERROR_UNSUPPORTED without MOVE). */
void      td_imap_session_uid_copy_async  (TdImapSession       *self,
                                           const char          *uid_set,
                                           const char          *raw_target,
                                           gboolean             move,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean  td_imap_session_uid_copy_finish (TdImapSession       *self,
                                           GAsyncResult        *result,
                                           TdImapCopyUid       *out,
                                           GError             **error);
/* APPEND (RFC 3501 6.3.11) of @message to @raw_mailbox with @flags ("\\Seen", or NULL for
 * none); the message goes as a literal (LITERAL+ when offered). */
void      td_imap_session_append_async    (TdImapSession       *self,
                                           const char          *raw_mailbox,
                                           const char          *flags,
                                           GBytes              *message,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean  td_imap_session_append_finish   (TdImapSession       *self,
                                           GAsyncResult        *result,
                                           GError             **error);
/* UID EXPUNGE @uid_set (UIDPLUS); with @uid_set NULL a plain EXPUNGE. */
void      td_imap_session_expunge_async   (TdImapSession       *self,
                                           const char          *uid_set,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean  td_imap_session_expunge_finish  (TdImapSession       *self,
                                           GAsyncResult        *result,
                                           GError             **error);

typedef enum
{
  TD_IMAP_MAILBOX_CREATE,
  TD_IMAP_MAILBOX_DELETE,
  TD_IMAP_MAILBOX_RENAME,
  TD_IMAP_MAILBOX_SUBSCRIBE,
  TD_IMAP_MAILBOX_UNSUBSCRIBE,
} TdImapMailboxOp;

/* CREATE, DELETE, RENAME (to @raw_new_path), SUBSCRIBE or UNSUBSCRIBE by raw name. CREATE of
 * a mailbox that exists ([ALREADYEXISTS]) and DELETE of one that does not ([NONEXISTENT])
 * succeed: a replay may send them twice. */
void      td_imap_session_mailbox_op_async  (TdImapSession       *self,
                                             TdImapMailboxOp      op,
                                             const char          *raw_path,
                                             const char          *raw_new_path,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  td_imap_session_mailbox_op_finish (TdImapSession       *self,
                                             GAsyncResult        *result,
                                             GError             **error);
/* NOOP, when logged in. */
void      td_imap_session_noop_async        (TdImapSession       *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  td_imap_session_noop_finish       (TdImapSession       *self,
                                             GAsyncResult        *result,
                                             GError             **error);
/* IDLE (RFC 2177) with a folder selected (TD_ERROR_UNSUPPORTED without IDLE). Completes when
 * the server ends it after td_imap_session_idle_done() sent DONE, or with an error. While it
 * runs, other commands fail with TD_ERROR_WRONG_STATE. */
void      td_imap_session_idle_async        (TdImapSession       *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  td_imap_session_idle_finish       (TdImapSession       *self,
                                             GAsyncResult        *result,
                                             GError             **error);
void      td_imap_session_idle_done         (TdImapSession       *self);
/* NOTIFY SET (RFC 5465) with a folder selected (TD_ERROR_UNSUPPORTED without NOTIFY): besides
 * the selected folder, the server then reports changes in every other folder of the user and
 * folders made, renamed or removed, all as "mailbox-changed". */
void      td_imap_session_notify_async      (TdImapSession       *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  td_imap_session_notify_finish     (TdImapSession       *self,
                                             GAsyncResult        *result,
                                             GError             **error);
gboolean  td_imap_session_is_notifying      (TdImapSession       *self);
/* GETQUOTAROOT @raw_path (QUOTA): the STORAGE use and limit in KiB; TD_ERROR_NOT_FOUND when
 * no root has a storage limit. */
void      td_imap_session_get_quota_async   (TdImapSession       *self,
                                             const char          *raw_path,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  td_imap_session_get_quota_finish  (TdImapSession       *self,
                                             GAsyncResult        *result,
                                             guint64             *usage_kib,
                                             guint64             *limit_kib,
                                             GError             **error);

/* Signals:
 *   "closed" (GError *or NULL): the connection ended, cleanly or not.
 *   "mailbox-changed" (): the server reported, unasked, a change of the selected folder
 *                     (EXISTS, EXPUNGE, FETCH, VANISHED), e.g. during IDLE; after NOTIFY
 *                     also of any other folder (STATUS, LIST). */

G_END_DECLS
