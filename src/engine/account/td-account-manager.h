/* td-account-manager.h: the accounts of a profile and their sync services
 *
 * Owns the TdStore and the TdCredentials of a profile, keeps the list of accounts, and runs
 * their syncs (IMAP now; POP3 later through the same calls). The window and the CLI talk
 * to the engine through this object.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"
#include "td-connection.h"
#include "td-credentials.h"
#include "td-store.h"

G_BEGIN_DECLS

#define TD_TYPE_ACCOUNT_MANAGER (td_account_manager_get_type ())

G_DECLARE_FINAL_TYPE (TdAccountManager, td_account_manager, TD, ACCOUNT_MANAGER, GObject)

/* @store must be open. */
TdAccountManager *td_account_manager_new          (TdStore          *store,
                                                   TdCredentials    *credentials);
TdStore          *td_account_manager_get_store    (TdAccountManager *self);
TdCredentials    *td_account_manager_get_credentials (TdAccountManager *self);
/* A GListModel of TdAccount, kept up to date. */
GListModel       *td_account_manager_get_accounts (TdAccountManager *self);
TdAccount        *td_account_manager_find_account (TdAccountManager *self,
                                                   const char       *id_or_address);

/* Stores the account (no secrets) and its password in the credentials. */
void      td_account_manager_add_account_async    (TdAccountManager    *self,
                                                   TdAccount           *account,
                                                   const char          *password,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean  td_account_manager_add_account_finish   (TdAccountManager    *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
/* Pins @fingerprint for the account (saved in the store). */
void      td_account_manager_trust_certificate_async  (TdAccountManager    *self,
                                                       TdAccount           *account,
                                                       const char          *fingerprint,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean  td_account_manager_trust_certificate_finish (TdAccountManager    *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Syncs one account, or every account when @account is NULL (one after another; the
 * first error is returned, the others still run). A sync already running for an account
 * is joined, not started twice. */
void      td_account_manager_sync_async           (TdAccountManager    *self,
                                                   TdAccount           *account,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean  td_account_manager_sync_finish          (TdAccountManager    *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
gboolean  td_account_manager_is_syncing           (TdAccountManager    *self);
/* After a sync failed with TD_ERROR_CERTIFICATE: the refused certificate, else NULL. */
const TdCertificateInfo *td_account_manager_get_refused_certificate (TdAccountManager *self,
                                                                     TdAccount        *account);

/* Properties: "syncing" (gboolean).
 * Signals:
 *   "sync-started"  (TdAccount *account)
 *   "sync-progress" (TdAccount *account, const char *what, guint done, guint total)
 *                   what is translated, e.g. "Downloading messages in Inbox"
 *   "sync-finished" (TdAccount *account, const GError *error_or_null) */

G_END_DECLS
