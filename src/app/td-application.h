/* td-application.h: org.tidings.Tidings
 *
 * Opens the profile's store (never blocking), makes the account manager with the keyring
 * credentials, presents the window and syncs every account once. Announces new mail of POP3
 * accounts with a notification while the window is not looked at; "app.show-inbox" (the
 * account id) shows an account's Inbox.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "td-account-manager.h"

G_BEGIN_DECLS

#define TD_TYPE_APPLICATION (td_application_get_type ())

G_DECLARE_FINAL_TYPE (TdApplication, td_application, TD, APPLICATION, AdwApplication)

TdApplication    *td_application_new             (void);
/* The profile directory (property "profile-dir"): --profile DIR, by default
 * $XDG_DATA_HOME/tidings. The store is DIR/tidings.db. Can be set until the store opens. */
const char       *td_application_get_profile_dir (TdApplication *self);
void              td_application_set_profile_dir (TdApplication *self,
                                                  const char    *profile_dir);
/* NULL until the store is open (property "manager", notified). */
TdAccountManager *td_application_get_manager     (TdApplication *self);
/* The title and body ("title\nbody") of the last new-mail notification, "" before the
 * first (for tests). */
const char       *td_application_get_last_notification (TdApplication *self);

G_END_DECLS
