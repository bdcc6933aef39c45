/* td-add-account-dialog.h: adds an IMAP account from settings the user types
 *
 * Signal "account-added" (TdAccount *account) once the account and its password are
 * stored; the dialog then closes. (Autodiscovery and a setup assistant come later.)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "td-account-manager.h"

G_BEGIN_DECLS

#define TD_TYPE_ADD_ACCOUNT_DIALOG (td_add_account_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TdAddAccountDialog, td_add_account_dialog, TD, ADD_ACCOUNT_DIALOG, AdwWindow)

GtkWidget *td_add_account_dialog_new      (TdAccountManager   *manager);
/* Whether the fields hold a complete account (the Add button is sensitive). */
gboolean   td_add_account_dialog_is_valid (TdAddAccountDialog *self);

G_END_DECLS
