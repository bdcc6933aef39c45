/* td-store-outbox.h: messages waiting to be sent (part of TdStore)
 *
 * A message to send is a row of the outbox until everything about it is done. Its state
 * (migration 005-outbox.sql says why each one) moves queued -> sending -> sent -> (row gone),
 * or to failed with the reason; a transient failure puts it back to queued with a later
 * next_attempt. Every change is one transaction on the store thread, so a restart finds each
 * message where it was: a row still "sending" was being handed to the server when the process
 * died and is queued again (td_store_outbox_requeue_sending_async); a "sent" row is never sent
 * again, only its after-send work (the copy in Sent, the original's flag) is finished.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-store.h"

G_BEGIN_DECLS

typedef enum
{
  TD_OUTBOX_QUEUED,
  TD_OUTBOX_SENDING,
  TD_OUTBOX_SENT,
  TD_OUTBOX_FAILED,
} TdOutboxState;

/* What the message does to the one it answers or forwards, once sent. */
typedef enum
{
  TD_OUTBOX_ORIGINAL_NONE,
  TD_OUTBOX_ORIGINAL_REPLY,     /* \Answered */
  TD_OUTBOX_ORIGINAL_FORWARD,   /* $Forwarded */
} TdOutboxOriginal;

const char *td_outbox_state_to_string (TdOutboxState state);   /* "queued", "sending", ... */

typedef struct
{
  gint64            id;                 /* 0 until added */
  gint64            account_id;
  TdOutboxState     state;
  char             *mail_from;          /* the envelope sender */
  GStrv             recipients;         /* the envelope recipients (To, Cc and Bcc) */
  char             *subject;
  char             *message_id_header;
  GBytes           *raw;                /* NULL in a listing without the messages */
  gint64            original_id;        /* the local message row answered or forwarded, or 0 */
  TdOutboxOriginal  original_kind;
  guint             attempts;
  gint64            next_attempt;       /* unix time; 0: at once (sending: when it started) */
  char             *last_error;         /* why it failed (or who did not get it), or NULL */
  gint64            created;
  gint64            sent_at;            /* unix time the server accepted it; 0: not yet */
} TdOutboxItem;

TdOutboxItem *td_outbox_item_new  (gint64               account_id,
                                   const char          *mail_from,
                                   const char * const  *recipients,
                                   GBytes              *raw);
void          td_outbox_item_free (TdOutboxItem        *item);

/* Queues @item (copied); returns its new id. TD_ERROR_INVALID without recipients. */
void        td_store_outbox_add_async      (TdStore             *self,
                                            const TdOutboxItem  *item,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gint64      td_store_outbox_add_finish     (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
/* The rows of @account_id (0: of every account) by id, TdOutboxItem*, with their bytes when
 * @with_raw. An unbounded read: store thread. */
void        td_store_outbox_list_async     (TdStore             *self,
                                            gint64               account_id,
                                            gboolean             with_raw,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
GPtrArray  *td_store_outbox_list_finish    (TdStore             *self,
                                            GAsyncResult        *result,
                                            GError             **error);
/* queued -> sending at @started (unix time, kept in next_attempt while sending), committed
 * before the first byte goes to the server. TD_ERROR_WRONG_STATE when the row is not queued
 * (another process took it), TD_ERROR_NOT_FOUND when it is gone. */
void        td_store_outbox_mark_sending_async (TdStore             *self,
                                                gint64               id,
                                                gint64               started,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
/* sending -> sent at @sent_at, committed as soon as the server accepted it; @note: the
 * recipients that did not get it and why, or NULL. */
void        td_store_outbox_mark_sent_async    (TdStore             *self,
                                                gint64               id,
                                                gint64               sent_at,
                                                const char          *note,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
/* A failed attempt: one more attempt counted, @reason kept; queued again for @next_attempt
 * (unix time) when @retry, else failed until the user retries it. */
void        td_store_outbox_mark_failed_async  (TdStore             *self,
                                                gint64               id,
                                                const char          *reason,
                                                gboolean             retry,
                                                gint64               next_attempt,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
/* The user's retry: a failed (or waiting) row is queued for now. */
void        td_store_outbox_retry_async        (TdStore             *self,
                                                gint64               id,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
/* At start: rows of @account_id (0: all) left "sending" by a process that died go back to
 * queued (sent again: maybe twice, never lost). Only those that started sending before
 * @before (unix time): one that another process (the app and tidings-cli at once) is sending
 * right now is left alone. */
void        td_store_outbox_requeue_sending_async (TdStore             *self,
                                                   gint64               account_id,
                                                   gint64               before,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
/* The end of a sent row, in one transaction: when @sent_folder_id is not 0 (a local folder:
 * POP3's Sent) its message is stored there, read; then the row goes. */
void        td_store_outbox_finish_sent_async  (TdStore             *self,
                                                gint64               id,
                                                gint64               sent_folder_id,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
/* Removes a row that is not being sent (the user deleted it). */
void        td_store_outbox_remove_async       (TdStore             *self,
                                                gint64               id,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
/* For every outbox operation above without its own finish. */
gboolean    td_store_outbox_op_finish          (TdStore             *self,
                                                GAsyncResult        *result,
                                                GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdOutboxItem, td_outbox_item_free)

G_END_DECLS
