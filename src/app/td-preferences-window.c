/* td-preferences-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-preferences-window.h"

#include <glib/gi18n-lib.h>

struct _TdPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;

  GtkSwitch            *mark_read_switch;
  GtkSpinButton        *poll_spin;
  GtkLabel             *minutes_label;
};

G_DEFINE_FINAL_TYPE (TdPreferencesWindow, td_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* "poll-interval" is in seconds; the window shows minutes. */
static gboolean
seconds_to_minutes (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  g_value_set_double (value, g_variant_get_uint32 (variant) / 60.0);
  return TRUE;
}

static GVariant *
minutes_to_seconds (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  double minutes = CLAMP (g_value_get_double (value), 1.0, 60.0);

  return g_variant_new_uint32 ((guint32) (minutes * 60.0 + 0.5));
}

static void
poll_value_changed_cb (TdPreferencesWindow *self,
                       GtkSpinButton       *spin)
{
  gulong minutes = (gulong) gtk_spin_button_get_value_as_int (spin);

  /* Translators: after a number, in "Check for New Mail Every [5] minutes" */
  gtk_label_set_text (self->minutes_label,
                      g_dngettext (GETTEXT_PACKAGE, "minute", "minutes", minutes));
}

static void
td_preferences_window_dispose (GObject *object)
{
  TdPreferencesWindow *self = TD_PREFERENCES_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), TD_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (td_preferences_window_parent_class)->dispose (object);
}

static void
td_preferences_window_class_init (TdPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = td_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tidings/Tidings/td-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, mark_read_switch);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, poll_spin);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, minutes_label);
  gtk_widget_class_bind_template_callback (widget_class, poll_value_changed_cb);
}

static void
td_preferences_window_init (TdPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  poll_value_changed_cb (self, self->poll_spin);
}

GtkWidget *
td_preferences_window_new (GtkWindow *parent,
                           GSettings *settings)
{
  TdPreferencesWindow *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (TD_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "modal", TRUE,
                       NULL);
  self->settings = g_object_ref (settings);
  g_settings_bind (settings, "mark-read-on-open", self->mark_read_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (settings, "poll-interval",
                                gtk_spin_button_get_adjustment (self->poll_spin), "value",
                                G_SETTINGS_BIND_DEFAULT, seconds_to_minutes, minutes_to_seconds,
                                NULL, NULL);
  return GTK_WIDGET (self);
}
