/* td-folder-row.h: a folder in the sidebar (role icon, name, unread count)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "td-folder.h"

G_BEGIN_DECLS

#define TD_TYPE_FOLDER_ROW (td_folder_row_get_type ())

G_DECLARE_FINAL_TYPE (TdFolderRow, td_folder_row, TD, FOLDER_ROW, GtkListBoxRow)

GtkWidget  *td_folder_row_new            (TdFolder    *folder);
TdFolder   *td_folder_row_get_folder     (TdFolderRow *self);
/* Updates name, count and style from a newer snapshot of the same folder. */
void        td_folder_row_set_folder     (TdFolderRow *self,
                                          TdFolder    *folder);
/* What the row shows (for tests): the name, and the unread count ("" when none). */
const char *td_folder_row_get_name_text  (TdFolderRow *self);
const char *td_folder_row_get_count_text (TdFolderRow *self);
const char *td_folder_row_get_icon_name  (TdFolderRow *self);

/* The symbolic icon for a folder role. */
const char *td_folder_role_icon_name     (TdFolderRole role);

G_END_DECLS
