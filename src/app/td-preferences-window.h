/* td-preferences-window.h: the settings a user changes (mark as read on open, how often to
 * check for new mail), bound to GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TD_TYPE_PREFERENCES_WINDOW (td_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (TdPreferencesWindow, td_preferences_window, TD, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* @settings: the application's (org.tidings.Tidings). */
GtkWidget *td_preferences_window_new (GtkWindow *parent,
                                      GSettings *settings);

G_END_DECLS
