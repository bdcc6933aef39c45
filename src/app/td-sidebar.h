/* td-sidebar.h: the accounts and their folders, with unread counts
 *
 * Reads the store (bounded reads: the accounts and each account's folders) and follows
 * its "accounts-changed", "folders-changed" and "folder-changed" signals. Under each account:
 * the space used on the server (quota), read again after each sync. Folders and accounts have
 * a context menu of win.* folder actions (td-window-folders.c).
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
/* Shows (or hides) that the account is offline, next to its name. */
void         td_sidebar_set_account_offline (TdSidebar        *self,
                                             gint64            account_id,
                                             gboolean          offline);
gboolean     td_sidebar_get_account_offline (TdSidebar        *self,
                                             gint64            account_id);
/* The quota line under an account ("1.2 GB of 2 GB used"), NULL when it is hidden (the
 * server does not say); @warning: whether it is shown as almost full. */
const char  *td_sidebar_get_quota_text      (TdSidebar        *self,
                                             gint64            account_id,
                                             gboolean         *warning);
/* Opens the context menu of a folder (right click, long press, Menu or Shift+F10 do). */
gboolean     td_sidebar_popup_folder_menu   (TdSidebar        *self,
                                             gint64            folder_id);
GtkPopover  *td_sidebar_get_menu_popover    (TdSidebar        *self);

G_END_DECLS
