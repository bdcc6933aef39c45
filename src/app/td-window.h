/* td-window.h: the main window: folders, the message list, one message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "td-account-manager.h"
#include "td-message-view.h"
#include "td-sidebar.h"

G_BEGIN_DECLS

#define TD_TYPE_WINDOW (td_window_get_type ())

G_DECLARE_FINAL_TYPE (TdWindow, td_window, TD, WINDOW, AdwApplicationWindow)

/* @manager may be NULL while the store is being opened (the window shows it is loading);
 * set it later with td_window_set_manager(). */
TdWindow         *td_window_new                (GtkApplication   *application,
                                                TdAccountManager *manager);
TdAccountManager *td_window_get_manager        (TdWindow         *self);
void              td_window_set_manager        (TdWindow         *self,
                                                TdAccountManager *manager);
/* The profile could not be opened: says so instead of the mail. */
void              td_window_show_error         (TdWindow         *self,
                                                const char       *title,
                                                const char       *description);
/* Syncs @account, or every account when NULL, showing progress and errors. */
void              td_window_sync               (TdWindow         *self,
                                                TdAccount        *account);
/* Opens the dialog that adds an IMAP account. */
void              td_window_add_account        (TdWindow         *self);

/* Parts, for tests. */
TdSidebar          *td_window_get_sidebar      (TdWindow         *self);
GtkListView        *td_window_get_message_list_view (TdWindow    *self);
GtkSingleSelection *td_window_get_selection    (TdWindow         *self);
TdMessageView      *td_window_get_message_view (TdWindow         *self);
/* "loading", "error", "welcome" or "mail" */
const char         *td_window_get_page         (TdWindow         *self);
/* The sync status line under the sidebar ("" when hidden). */
const char         *td_window_get_status_text  (TdWindow         *self);
/* The bar above the message list that says an account is offline ("" when hidden). */
const char         *td_window_get_offline_text (TdWindow         *self);
/* The text of the last toast shown ("" before the first). */
const char         *td_window_get_last_toast   (TdWindow         *self);
/* Whether the last move or delete can be undone (its toast offers Undo). */
gboolean            td_window_can_undo         (TdWindow         *self);

G_END_DECLS
