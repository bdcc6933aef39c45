/* td-credentials.h: where account passwords live (the keyring, and nowhere else)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-account.h"

G_BEGIN_DECLS

#define TD_TYPE_CREDENTIALS (td_credentials_get_type ())

G_DECLARE_INTERFACE (TdCredentials, td_credentials, TD, CREDENTIALS, GObject)

/* Which of an account's passwords: the incoming server's (IMAP or POP3) or the SMTP server's.
 * TD_CREDENTIALS_ALL only for clearing. */
typedef enum
{
  TD_CREDENTIALS_INCOMING,
  TD_CREDENTIALS_SMTP,
  TD_CREDENTIALS_ALL,
} TdCredentialsService;

struct _TdCredentialsInterface
{
  GTypeInterface parent_iface;

  void      (*lookup_async)  (TdCredentials *self, TdAccount *account,
                              TdCredentialsService service, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
  char     *(*lookup_finish) (TdCredentials *self, GAsyncResult *result, GError **error);
  void      (*store_async)   (TdCredentials *self, TdAccount *account,
                              TdCredentialsService service, const char *password,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
  gboolean  (*store_finish)  (TdCredentials *self, GAsyncResult *result, GError **error);
  void      (*clear_async)   (TdCredentials *self, TdAccount *account,
                              TdCredentialsService service, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
  gboolean  (*clear_finish)  (TdCredentials *self, GAsyncResult *result, GError **error);
};

/* The password of @account (keyed by its uuid), or NULL with TD_ERROR_NO_PASSWORD. Free
 * the result with td_credentials_free_password(), which wipes it. */
void      td_credentials_lookup_async   (TdCredentials       *self,
                                         TdAccount           *account,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
char     *td_credentials_lookup_finish  (TdCredentials       *self,
                                         GAsyncResult        *result,
                                         GError             **error);
void      td_credentials_store_async    (TdCredentials       *self,
                                         TdAccount           *account,
                                         const char          *password,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean  td_credentials_store_finish   (TdCredentials       *self,
                                         GAsyncResult        *result,
                                         GError             **error);
void      td_credentials_clear_async    (TdCredentials       *self,
                                         TdAccount           *account,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean  td_credentials_clear_finish   (TdCredentials       *self,
                                         GAsyncResult        *result,
                                         GError             **error);
void      td_credentials_free_password  (char                *password);

/* The same for one @service. Looking up TD_CREDENTIALS_SMTP falls back to the incoming
 * password when the account has no SMTP password of its own, so that a user whose two
 * passwords are the same types it once. The plain functions above are
 * TD_CREDENTIALS_INCOMING, except td_credentials_clear_async(), which clears every password of
 * the account (TD_CREDENTIALS_ALL). */
void      td_credentials_lookup_for_async (TdCredentials        *self,
                                           TdAccount            *account,
                                           TdCredentialsService  service,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
void      td_credentials_store_for_async  (TdCredentials        *self,
                                           TdAccount            *account,
                                           TdCredentialsService  service,
                                           const char           *password,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
void      td_credentials_clear_for_async  (TdCredentials        *self,
                                           TdAccount            *account,
                                           TdCredentialsService  service,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
/* Finish them with td_credentials_lookup_finish(), _store_finish() and _clear_finish(). */

G_END_DECLS
