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

struct _TdCredentialsInterface
{
  GTypeInterface parent_iface;

  void      (*lookup_async)  (TdCredentials *self, TdAccount *account, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
  char     *(*lookup_finish) (TdCredentials *self, GAsyncResult *result, GError **error);
  void      (*store_async)   (TdCredentials *self, TdAccount *account, const char *password,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
  gboolean  (*store_finish)  (TdCredentials *self, GAsyncResult *result, GError **error);
  void      (*clear_async)   (TdCredentials *self, TdAccount *account, GCancellable *cancellable,
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

G_END_DECLS
