/* td-folder.h: a folder row of the store, as an immutable snapshot object
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "td-types.h"

G_BEGIN_DECLS

#define TD_TYPE_FOLDER (td_folder_get_type ())

G_DECLARE_FINAL_TYPE (TdFolder, td_folder, TD, FOLDER, GObject)

/* Read-only properties: "id", "account-id", "path", "name" (last path component, INBOX
 * shown as "Inbox"), "depth" (number of ancestors), "role", "selectable", "total", "unread",
 * "subscribed" (TRUE unless the user unsubscribed it here). */
TdFolder     *td_folder_new             (gint64        id,
                                         gint64        account_id,
                                         const char   *path,
                                         char          delimiter,
                                         TdFolderRole  role,
                                         gboolean      selectable,
                                         guint         total,
                                         guint         unread);
gint64        td_folder_get_id          (TdFolder     *self);
gint64        td_folder_get_account_id  (TdFolder     *self);
const char   *td_folder_get_path        (TdFolder     *self);
const char   *td_folder_get_name        (TdFolder     *self);
char          td_folder_get_delimiter   (TdFolder     *self);
guint         td_folder_get_depth       (TdFolder     *self);
TdFolderRole  td_folder_get_role        (TdFolder     *self);
gboolean      td_folder_get_selectable  (TdFolder     *self);
guint         td_folder_get_total       (TdFolder     *self);
guint         td_folder_get_unread      (TdFolder     *self);
gboolean      td_folder_get_subscribed  (TdFolder     *self);
/* For the store, while it makes the snapshot (TRUE by default). */
void          td_folder_set_subscribed  (TdFolder     *self,
                                         gboolean      subscribed);

G_END_DECLS
