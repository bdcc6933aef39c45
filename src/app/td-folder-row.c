/* td-folder-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-folder-row.h"

#include <glib/gi18n-lib.h>

struct _TdFolderRow
{
  GtkListBoxRow  parent_instance;

  TdFolder      *folder;

  GtkWidget     *box;
  GtkImage      *icon;
  GtkLabel      *name_label;
  GtkLabel      *count_label;
};

G_DEFINE_FINAL_TYPE (TdFolderRow, td_folder_row, GTK_TYPE_LIST_BOX_ROW)

#define INDENT_PER_LEVEL 18

const char *
td_folder_role_icon_name (TdFolderRole role)
{
  switch (role)
    {
    case TD_FOLDER_ROLE_INBOX: return "tidings-inbox-symbolic";
    case TD_FOLDER_ROLE_DRAFTS: return "document-edit-symbolic";
    case TD_FOLDER_ROLE_SENT: return "mail-send-symbolic";
    case TD_FOLDER_ROLE_TRASH: return "user-trash-symbolic";
    case TD_FOLDER_ROLE_JUNK: return "mail-mark-junk-symbolic";
    case TD_FOLDER_ROLE_ARCHIVE: return "tidings-archive-symbolic";
    case TD_FOLDER_ROLE_ALL: return "mail-read-symbolic";
    case TD_FOLDER_ROLE_FLAGGED: return "starred-symbolic";
    case TD_FOLDER_ROLE_NONE:
    default: return "folder-symbolic";
    }
}

static void
td_folder_row_dispose (GObject *object)
{
  TdFolderRow *self = TD_FOLDER_ROW (object);

  g_clear_object (&self->folder);

  G_OBJECT_CLASS (td_folder_row_parent_class)->dispose (object);
}

static void
td_folder_row_class_init (TdFolderRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = td_folder_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tidings/Tidings/td-folder-row.ui");
  gtk_widget_class_bind_template_child (widget_class, TdFolderRow, box);
  gtk_widget_class_bind_template_child (widget_class, TdFolderRow, icon);
  gtk_widget_class_bind_template_child (widget_class, TdFolderRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, TdFolderRow, count_label);
}

static void
td_folder_row_init (TdFolderRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
td_folder_row_new (TdFolder *folder)
{
  TdFolderRow *self;

  g_return_val_if_fail (TD_IS_FOLDER (folder), NULL);

  self = g_object_new (TD_TYPE_FOLDER_ROW, NULL);
  td_folder_row_set_folder (self, folder);
  return GTK_WIDGET (self);
}

TdFolder *
td_folder_row_get_folder (TdFolderRow *self)
{
  g_return_val_if_fail (TD_IS_FOLDER_ROW (self), NULL);
  return self->folder;
}

void
td_folder_row_set_folder (TdFolderRow *self,
                          TdFolder    *folder)
{
  g_autofree char *count = NULL;
  g_autofree char *tooltip = NULL;
  guint unread;
  guint total;

  g_return_if_fail (TD_IS_FOLDER_ROW (self));
  g_return_if_fail (TD_IS_FOLDER (folder));

  g_set_object (&self->folder, folder);
  unread = td_folder_get_unread (folder);
  total = td_folder_get_total (folder);

  gtk_image_set_from_icon_name (self->icon,
                                td_folder_role_icon_name (td_folder_get_role (folder)));
  gtk_label_set_text (self->name_label, td_folder_get_name (folder));
  gtk_widget_set_margin_start (self->box,
                               INDENT_PER_LEVEL * (int) MIN (td_folder_get_depth (folder), 8));

  count = unread > 0 ? g_strdup_printf ("%u", unread) : g_strdup ("");
  gtk_label_set_text (self->count_label, count);
  gtk_widget_set_visible (GTK_WIDGET (self->count_label), unread > 0);

  if (unread > 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "unread");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "unread");

  /* Translators: tooltip of a folder: its path, then counts of messages */
  tooltip = g_strdup_printf (_("%s\n%u messages, %u unread"),
                             td_folder_get_path (folder), total, unread);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), tooltip);

  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (self), td_folder_get_selectable (folder));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self), td_folder_get_selectable (folder));
  if (td_folder_get_selectable (folder))
    gtk_widget_remove_css_class (GTK_WIDGET (self), "dim-label");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self), "dim-label");
}

const char *
td_folder_row_get_name_text (TdFolderRow *self)
{
  g_return_val_if_fail (TD_IS_FOLDER_ROW (self), NULL);
  return gtk_label_get_text (self->name_label);
}

const char *
td_folder_row_get_count_text (TdFolderRow *self)
{
  g_return_val_if_fail (TD_IS_FOLDER_ROW (self), NULL);
  return gtk_label_get_text (self->count_label);
}

const char *
td_folder_row_get_icon_name (TdFolderRow *self)
{
  g_return_val_if_fail (TD_IS_FOLDER_ROW (self), NULL);
  return gtk_image_get_icon_name (self->icon);
}
