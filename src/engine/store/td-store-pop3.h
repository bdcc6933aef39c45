/* td-store-pop3.h: the UIDL table of POP3 accounts and their downloads (part of TdStore)
 *
 * A POP3 server keeps only a maildrop; everything else of a POP3 account is local: its
 * folders (Inbox, Sent, Drafts, Trash, Junk and Archive are made with the account), its flags,
 * moves, copies and deletions (no journal: nothing is replayed to a server; a message moved
 * or copied gets the next free uid of its new folder at once). The table pop3_uidl
 * remembers each message by the server's unique-id: when it was downloaded, which row it
 * became (or, once that is gone, a copy of it that is kept), when it was deleted here for good
 * (set by the store itself when the last local copy is deleted: delete from the Trash, empty
 * the Trash, delete a folder) and when the server removed it. A download and its UIDL row are committed in one transaction, so a message is
 * never lost and never stored twice, and no DELE is ever sent for a message that is not
 * safely here (ARCHITECTURE invariants 1 and 2).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-store.h"

G_BEGIN_DECLS

typedef struct
{
  char   *uidl;
  gint64  first_seen;            /* unix time it was downloaded */
  gint64  message_id;            /* the local row; 0 once deleted here */
  gint64  deleted_here;          /* unix time it was deleted here for good; 0: it was not */
  gint64  deleted_from_server;   /* unix time the server removed it; 0: not known to */
} TdPop3UidlRow;

void            td_pop3_uidl_row_free  (TdPop3UidlRow *row);

/* A whole message as RETR gave it. */
typedef struct
{
  char   *uidl;
  GBytes *raw;
  gint64  received;              /* unix time: first_seen, and the date if the header has none */
} TdPop3Download;

TdPop3Download *td_pop3_download_new   (const char     *uidl,
                                        GBytes         *raw,
                                        gint64          received);
void            td_pop3_download_free  (TdPop3Download *download);

/* The UIDL rows of a POP3 account (TdPop3UidlRow*, by uidl). An unbounded read: store thread. */
void        td_store_pop3_list_uidls_async    (TdStore             *self,
                                               gint64               account_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray  *td_store_pop3_list_uidls_finish   (TdStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
/* Stores each download (TdPop3Download*) as a new message of the account's Inbox — its row,
 * its body, preview and full-text entry — together with its UIDL row, all in one
 * transaction. A uidl the table already has is skipped. @n_added: how many were stored.
 * TD_ERROR_INVALID for an account that is not POP3, TD_ERROR_NOT_FOUND for none. */
void        td_store_pop3_add_downloads_async  (TdStore             *self,
                                                gint64               account_id,
                                                GPtrArray           *downloads,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean    td_store_pop3_add_downloads_finish (TdStore             *self,
                                                GAsyncResult        *result,
                                                guint               *n_added,
                                                GError             **error);
/* The server no longer has these uidls (char*): it removed them after our DELE and QUIT, or
 * they went from its listing. Sets deleted_from_server to @when where it is not set. */
void        td_store_pop3_set_deleted_from_server_async  (TdStore             *self,
                                                          gint64               account_id,
                                                          GPtrArray           *uidls,
                                                          gint64               when,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
gboolean    td_store_pop3_set_deleted_from_server_finish (TdStore             *self,
                                                          GAsyncResult        *result,
                                                          GError             **error);

/* When the server asked this account to wait (RFC 2449 LOGIN-DELAY, RFC 3206 [SYS/TEMP]): no
 * check is to connect before @not_before (unix time; 0: no wait). @failures: the temporary
 * failures in a row ([SYS/TEMP]), 0 for a login delay. */
void        td_store_pop3_get_retry_async     (TdStore             *self,
                                               gint64               account_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean    td_store_pop3_get_retry_finish    (TdStore             *self,
                                               GAsyncResult        *result,
                                               gint64              *not_before,
                                               guint               *failures,
                                               GError             **error);
/* Sets them; @not_before 0 clears the wait and the count. */
void        td_store_pop3_set_retry_async     (TdStore             *self,
                                               gint64               account_id,
                                               gint64               not_before,
                                               guint                failures,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean    td_store_pop3_set_retry_finish    (TdStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdPop3UidlRow, td_pop3_uidl_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdPop3Download, td_pop3_download_free)

G_END_DECLS
