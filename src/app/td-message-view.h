/* td-message-view.h: one message: headers, body (text or HTML), attachments
 *
 * The body comes from the store with td_store_get_body_async() and is parsed off the main
 * thread; HTML is shown in a TdWebView that loads nothing remote unless the user asks,
 * once, for this message. A body not in the store yet is downloaded when the message is
 * opened (td_account_manager_fetch_body_async()); offline, that is tried again when the
 * account is back online.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>
#include <webkit/webkit.h>

#include "td-account-manager.h"
#include "td-message.h"
#include "td-store.h"

G_BEGIN_DECLS

#define TD_TYPE_MESSAGE_VIEW (td_message_view_get_type ())

G_DECLARE_FINAL_TYPE (TdMessageView, td_message_view, TD, MESSAGE_VIEW, GtkWidget)

GtkWidget     *td_message_view_new                (void);
void           td_message_view_set_store          (TdMessageView *self,
                                                   TdStore       *store);
/* Sets the store too; with a manager, bodies not in the store are downloaded. */
void           td_message_view_set_manager        (TdMessageView    *self,
                                                   TdAccountManager *manager);
/* Shows @message (NULL: nothing). A newer snapshot of the message shown only updates the
 * headers, unless its body has just been downloaded. */
void           td_message_view_set_message        (TdMessageView *self,
                                                   TdMessage     *message);
TdMessage     *td_message_view_get_message        (TdMessageView *self);
/* Shows the remote images of the current HTML message, this time only. */
void           td_message_view_show_remote_content (TdMessageView *self);

/* What is shown in place of the body ("body-state" property, notified): "none", "loading",
 * "downloading" (from the server), "missing" (not downloaded yet), "error", "text" or
 * "html". */
const char    *td_message_view_get_body_state     (TdMessageView *self);
gboolean       td_message_view_get_remote_blocked (TdMessageView *self);

/* Writes the decoded attachment @index of the current message into @file, without
 * blocking (the Save button does this after asking where). */
void           td_message_view_save_attachment_async  (TdMessageView       *self,
                                                       guint                index,
                                                       GFile               *file,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean       td_message_view_save_attachment_finish (TdMessageView       *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Inner widgets, for tests. */
GtkTextView   *td_message_view_get_text_view      (TdMessageView *self);
WebKitWebView *td_message_view_get_web_view       (TdMessageView *self);
GtkWidget     *td_message_view_get_remote_banner  (TdMessageView *self);
GtkListBox    *td_message_view_get_attachment_list (TdMessageView *self);
const char    *td_message_view_get_subject_text   (TdMessageView *self);
/* The explanation shown while the state is "missing". */
const char    *td_message_view_get_missing_text   (TdMessageView *self);

G_END_DECLS
