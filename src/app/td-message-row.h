/* td-message-row.h: one row of the message list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "td-message.h"

G_BEGIN_DECLS

#define TD_TYPE_MESSAGE_ROW (td_message_row_get_type ())

G_DECLARE_FINAL_TYPE (TdMessageRow, td_message_row, TD, MESSAGE_ROW, GtkWidget)

GtkWidget  *td_message_row_new         (void);
TdMessage  *td_message_row_get_message (TdMessageRow *self);
void        td_message_row_set_message (TdMessageRow *self,
                                        TdMessage    *message);

G_END_DECLS
