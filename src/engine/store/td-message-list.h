/* td-message-list.h: a GListModel of one folder's messages, paged from the store
 *
 * Never holds a whole folder: rows are read in pages by index (newest first) as the view
 * asks for them, and a few pages are cached. When the store says the folder changed, the
 * cache is dropped and items-changed is emitted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-store.h"

G_BEGIN_DECLS

#define TD_TYPE_MESSAGE_LIST (td_message_list_get_type ())

G_DECLARE_FINAL_TYPE (TdMessageList, td_message_list, TD, MESSAGE_LIST, GObject)

/* Item type TdMessage. */
TdMessageList *td_message_list_new           (TdStore       *store,
                                              gint64         folder_id);
gint64         td_message_list_get_folder_id (TdMessageList *self);
/* Rows read from the store so far (for tests that check paging). */
guint          td_message_list_get_rows_loaded (TdMessageList *self);

G_END_DECLS
