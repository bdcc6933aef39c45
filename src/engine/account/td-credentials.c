/* td-credentials.c: where account passwords live (the keyring, and nowhere else)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-account"

#include "config.h"

#include "td-credentials.h"

#include <string.h>

G_DEFINE_INTERFACE (TdCredentials, td_credentials, G_TYPE_OBJECT)

static void
td_credentials_default_init (TdCredentialsInterface *iface)
{
}

void
td_credentials_lookup_async (TdCredentials       *self,
                             TdAccount           *account,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (TD_IS_CREDENTIALS (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  TD_CREDENTIALS_GET_IFACE (self)->lookup_async (self, account, TD_CREDENTIALS_INCOMING,
                                                 cancellable, callback, user_data);
}

char *
td_credentials_lookup_finish (TdCredentials  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (TD_IS_CREDENTIALS (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);

  return TD_CREDENTIALS_GET_IFACE (self)->lookup_finish (self, result, error);
}

void
td_credentials_store_async (TdCredentials       *self,
                            TdAccount           *account,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_CREDENTIALS (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));
  g_return_if_fail (password != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  TD_CREDENTIALS_GET_IFACE (self)->store_async (self, account, TD_CREDENTIALS_INCOMING, password,
                                                cancellable, callback, user_data);
}

gboolean
td_credentials_store_finish (TdCredentials  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (TD_IS_CREDENTIALS (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  return TD_CREDENTIALS_GET_IFACE (self)->store_finish (self, result, error);
}

void
td_credentials_clear_async (TdCredentials       *self,
                            TdAccount           *account,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_CREDENTIALS (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  TD_CREDENTIALS_GET_IFACE (self)->clear_async (self, account, TD_CREDENTIALS_ALL, cancellable,
                                                callback, user_data);
}

gboolean
td_credentials_clear_finish (TdCredentials  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (TD_IS_CREDENTIALS (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  return TD_CREDENTIALS_GET_IFACE (self)->clear_finish (self, result, error);
}

void
td_credentials_lookup_for_async (TdCredentials        *self,
                                 TdAccount            *account,
                                 TdCredentialsService  service,
                                 GCancellable         *cancellable,
                                 GAsyncReadyCallback   callback,
                                 gpointer              user_data)
{
  g_return_if_fail (TD_IS_CREDENTIALS (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));
  g_return_if_fail (service == TD_CREDENTIALS_INCOMING || service == TD_CREDENTIALS_SMTP);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  TD_CREDENTIALS_GET_IFACE (self)->lookup_async (self, account, service, cancellable, callback,
                                                 user_data);
}

void
td_credentials_store_for_async (TdCredentials        *self,
                                TdAccount            *account,
                                TdCredentialsService  service,
                                const char           *password,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data)
{
  g_return_if_fail (TD_IS_CREDENTIALS (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));
  g_return_if_fail (service == TD_CREDENTIALS_INCOMING || service == TD_CREDENTIALS_SMTP);
  g_return_if_fail (password != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  TD_CREDENTIALS_GET_IFACE (self)->store_async (self, account, service, password, cancellable,
                                                callback, user_data);
}

void
td_credentials_clear_for_async (TdCredentials        *self,
                                TdAccount            *account,
                                TdCredentialsService  service,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data)
{
  g_return_if_fail (TD_IS_CREDENTIALS (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));
  g_return_if_fail (service <= TD_CREDENTIALS_ALL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  TD_CREDENTIALS_GET_IFACE (self)->clear_async (self, account, service, cancellable, callback,
                                                user_data);
}

void
td_credentials_free_password (char *password)
{
  if (password == NULL)
    return;

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
  explicit_bzero (password, strlen (password));
#else
  {
    /* Writes through a volatile pointer are not optimised away. */
    volatile char *p = password;

    while (*p != '\0')
      *p++ = '\0';
  }
#endif
  g_free (password);
}
