/* td-sidebar.h: the accounts and their folders, with unread counts
 *
 * Reads the store (bounded reads: the accounts and each account's folders) and follows
 * its "accounts-changed", "folders-changed" and "folder-changed" signals.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "td-account-manager.h"
#include "td-folder-row.h"

G_BEGIN_DECLS

#define TD_TYPE_SIDEBAR (td_sidebar_get_type ())

G_DECLARE_FINAL_TYPE (TdSidebar, td_sidebar, TD, SIDEBAR, GtkWidget)

GtkWidget   *td_sidebar_new                 (void);
void         td_sidebar_set_manager         (TdSidebar        *self,
                                             TdAccountManager *manager);
/* The selected folder, or NULL. Signal "folder-selected" (TdFolder *or_null) when the
 * selection moves to another folder. */
TdFolder    *td_sidebar_get_selected_folder (TdSidebar        *self);
gboolean     td_sidebar_select_folder       (TdSidebar        *self,
                                             gint64            folder_id);
/* The row of a folder, or NULL (for tests). */
TdFolderRow *td_sidebar_get_folder_row      (TdSidebar        *self,
                                             gint64            folder_id);
/* The heading shown for an account, or NULL (for tests). */
const char  *td_sidebar_get_account_title   (TdSidebar        *self,
                                             gint64            account_id);

G_END_DECLS
