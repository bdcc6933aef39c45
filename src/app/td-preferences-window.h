/* td-preferences-window.h: the settings a user changes: mark as read on open and how often
 * to check for new mail (bound to GSettings), for each IMAP account which messages are
 * downloaded whole (its sync window), and for each POP3 account what stays on the server
 * (both saved with the account)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "td-account-manager.h"

G_BEGIN_DECLS

#define TD_TYPE_PREFERENCES_WINDOW (td_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (TdPreferencesWindow, td_preferences_window, TD, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* @settings: the application's (org.tidings.Tidings); @manager may be NULL (no accounts). */
GtkWidget *td_preferences_window_new (GtkWindow        *parent,
                                      GSettings        *settings,
                                      TdAccountManager *manager);
/* The row that picks the sync window of an account, or NULL (for tests). */
AdwComboRow *td_preferences_window_get_sync_row (TdPreferencesWindow *self,
                                                 gint64               account_id);
/* What a POP3 account keeps on the server: its choice, the days of "Delete After Some Days"
 * and "Also Delete From the Server When Deleted Here"; NULL for other accounts (for tests). */
AdwComboRow   *td_preferences_window_get_pop3_policy_row (TdPreferencesWindow *self,
                                                          gint64               account_id);
GtkSpinButton *td_preferences_window_get_pop3_days_spin  (TdPreferencesWindow *self,
                                                          gint64               account_id);
GtkSwitch     *td_preferences_window_get_pop3_deleted_here_switch (TdPreferencesWindow *self,
                                                                   gint64       account_id);
/* The button of the accounts page that removes the account (after asking), or NULL. */
GtkWidget     *td_preferences_window_get_remove_button   (TdPreferencesWindow *self,
                                                          gint64               account_id);

G_END_DECLS
