/* td-message-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-message-row.h"

#include <glib/gi18n-lib.h>

#include "td-format.h"

struct _TdMessageRow
{
  GtkWidget  parent_instance;

  TdMessage *message;

  GtkLabel  *sender_label;
  GtkLabel  *subject_label;
  GtkLabel  *preview_label;
  GtkLabel  *date_label;
  GtkWidget *attachment_icon;
  GtkWidget *flag_icon;
};

G_DEFINE_FINAL_TYPE (TdMessageRow, td_message_row, GTK_TYPE_WIDGET)

static void
td_message_row_dispose (GObject *object)
{
  TdMessageRow *self = TD_MESSAGE_ROW (object);
  GtkWidget *child;

  g_clear_object (&self->message);
  gtk_widget_dispose_template (GTK_WIDGET (self), TD_TYPE_MESSAGE_ROW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (td_message_row_parent_class)->dispose (object);
}

static void
td_message_row_class_init (TdMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = td_message_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tidings/Tidings/td-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, TdMessageRow, sender_label);
  gtk_widget_class_bind_template_child (widget_class, TdMessageRow, subject_label);
  gtk_widget_class_bind_template_child (widget_class, TdMessageRow, preview_label);
  gtk_widget_class_bind_template_child (widget_class, TdMessageRow, date_label);
  gtk_widget_class_bind_template_child (widget_class, TdMessageRow, attachment_icon);
  gtk_widget_class_bind_template_child (widget_class, TdMessageRow, flag_icon);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
td_message_row_init (TdMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
td_message_row_new (void)
{
  return g_object_new (TD_TYPE_MESSAGE_ROW, NULL);
}

TdMessage *
td_message_row_get_message (TdMessageRow *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_ROW (self), NULL);
  return self->message;
}

void
td_message_row_set_message (TdMessageRow *self,
                            TdMessage    *message)
{
  g_autofree char *date = NULL;
  const char *sender;
  const char *subject;
  const char *preview;
  TdFlags flags;

  g_return_if_fail (TD_IS_MESSAGE_ROW (self));
  g_return_if_fail (message == NULL || TD_IS_MESSAGE (message));

  if (!g_set_object (&self->message, message))
    return;

  if (message == NULL)
    {
      gtk_label_set_text (self->sender_label, "");
      gtk_label_set_text (self->subject_label, "");
      gtk_label_set_text (self->preview_label, "");
      gtk_label_set_text (self->date_label, "");
      gtk_widget_set_visible (self->attachment_icon, FALSE);
      gtk_widget_set_visible (self->flag_icon, FALSE);
      gtk_widget_remove_css_class (GTK_WIDGET (self), "unread");
      return;
    }

  flags = td_message_get_flags (message);
  sender = td_message_get_from (message);
  if (sender == NULL || *sender == '\0')
    sender = td_message_get_from_address (message);
  subject = td_message_get_subject (message);
  preview = td_message_get_preview (message);
  date = td_format_list_date (td_message_get_date (message), NULL);

  gtk_label_set_text (self->sender_label,
                      sender != NULL && *sender != '\0' ? sender : _("Unknown Sender"));
  gtk_label_set_text (self->subject_label,
                      subject != NULL && *subject != '\0' ? subject : _("(No Subject)"));
  gtk_label_set_text (self->preview_label, preview != NULL ? preview : "");
  gtk_widget_set_visible (GTK_WIDGET (self->preview_label), preview != NULL && *preview != '\0');
  gtk_label_set_text (self->date_label, date);
  gtk_widget_set_visible (self->attachment_icon, td_message_get_has_attachment (message));
  gtk_widget_set_visible (self->flag_icon, (flags & TD_FLAG_FLAGGED) != 0);

  if ((flags & TD_FLAG_SEEN) == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "unread");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "unread");
}
