/* td-secret-credentials.c: TdCredentials in the Secret Service (libsecret)
 *
 * Only libsecret's async calls are used, so the main loop never waits on D-Bus. An item is
 * found by the account's uuid and its protocol: the incoming server's ("imap" or "pop3") or
 * "smtp"; username and host are stored with it so that people can recognise it in a keyring
 * manager (Seahorse). An account without an "smtp" item sends with its incoming password. Passwords come back from libsecret
 * in its non-pageable memory; they are copied once for the caller (who wipes the copy with
 * td_credentials_free_password()) and libsecret's buffer is wiped and freed at once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-account"

#include "config.h"

#include "td-secret-credentials.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "td-error.h"

struct _TdSecretCredentials
{
  GObject parent_instance;
};

static void td_secret_credentials_iface_init (TdCredentialsInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TdSecretCredentials, td_secret_credentials, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TD_TYPE_CREDENTIALS,
                                                      td_secret_credentials_iface_init))

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "org.tidings.Tidings.Account", SECRET_SCHEMA_NONE,
    {
      { "uuid", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
  };

  return &schema;
}

typedef struct
{
  TdAccount            *account;
  TdCredentialsService  service;
} TaskData;

static void
task_data_free (gpointer data)
{
  TaskData *d = data;

  g_object_unref (d->account);
  g_free (d);
}

static const char *
service_protocol (TdAccount            *account,
                  TdCredentialsService  service)
{
  switch (service)
    {
    case TD_CREDENTIALS_INCOMING: return td_account_kind_to_string (td_account_get_kind (account));
    case TD_CREDENTIALS_SMTP: return "smtp";
    case TD_CREDENTIALS_ALL:
    default: return NULL;
    }
}

/* The attributes that find the account's item for @service: its uuid and protocol (only the
 * uuid for TD_CREDENTIALS_ALL: every item of the account). */
static GHashTable *
lookup_attributes (TdAccount            *account,
                   TdCredentialsService  service)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);
  const char *protocol = service_protocol (account, service);

  g_hash_table_insert (attributes, (gpointer) "uuid", (gpointer) td_account_get_uuid (account));
  if (protocol != NULL)
    g_hash_table_insert (attributes, (gpointer) "protocol", (gpointer) protocol);
  return attributes;
}

static TdAccount *
task_account (GTask *task)
{
  return ((TaskData *) g_task_get_task_data (task))->account;
}

/* A task for @account, or NULL after failing it when the account has no uuid yet. */
static GTask *
account_task_new (TdSecretCredentials *self,
                  TdAccount           *account,
                  TdCredentialsService service,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data,
                  gpointer             source_tag)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  TaskData *d = g_new0 (TaskData, 1);

  g_task_set_source_tag (task, source_tag);

  d->account = g_object_ref (account);
  d->service = service;
  g_task_set_task_data (task, d, task_data_free);

  if (td_account_get_uuid (account) == NULL || *td_account_get_uuid (account) == '\0')
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_NOT_FOUND,
                               _("The account %s is not saved yet, so it has no password "
                                 "in the keyring"),
                               td_account_get_address (account));
      return NULL;
    }
  return g_steal_pointer (&task);
}

static gboolean
return_cancelled (GTask  *task,
                  GError *error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FALSE;
  g_task_return_error (task, error);
  return TRUE;
}

/* --- lookup --- */

static void
lookup_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TdAccount *account = task_account (task);
  GError *error = NULL;
  char *secret;
  char *password;

  secret = secret_password_lookup_finish (result, &error);
  if (error != NULL)
    {
      if (return_cancelled (task, error))
        return;
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_FAILED,
                               _("Could not read the password for %s from the keyring: %s"),
                               td_account_get_address (account), error->message);
      g_error_free (error);
      return;
    }
  if (secret == NULL && ((TaskData *) g_task_get_task_data (task))->service == TD_CREDENTIALS_SMTP)
    {
      g_autoptr(GHashTable) attributes = lookup_attributes (account, TD_CREDENTIALS_INCOMING);
      GCancellable *cancellable = g_task_get_cancellable (task);

      /* no SMTP password of its own: the incoming one */
      ((TaskData *) g_task_get_task_data (task))->service = TD_CREDENTIALS_INCOMING;
      secret_password_lookupv (get_schema (), attributes, cancellable, lookup_cb,
                               g_steal_pointer (&task));
      return;
    }
  if (secret == NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_NO_PASSWORD,
                               _("No password for %s in the keyring. Add the account again "
                                 "or enter the password."),
                               td_account_get_address (account));
      return;
    }

  password = g_strdup (secret);
  secret_password_free (secret);
  g_task_return_pointer (task, password, (GDestroyNotify) td_credentials_free_password);
}

static void
td_secret_credentials_lookup_async (TdCredentials       *credentials,
                                    TdAccount           *account,
                                    TdCredentialsService service,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  TdSecretCredentials *self = TD_SECRET_CREDENTIALS (credentials);
  g_autoptr(GHashTable) attributes = NULL;
  GTask *task;

  task = account_task_new (self, account, service, cancellable, callback, user_data,
                           td_secret_credentials_lookup_async);
  if (task == NULL)
    return;

  attributes = lookup_attributes (account, service);
  secret_password_lookupv (get_schema (), attributes, cancellable, lookup_cb, task);
}

static char *
td_secret_credentials_lookup_finish (TdCredentials  *credentials,
                                     GAsyncResult   *result,
                                     GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, credentials), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- store --- */

static void
store_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TdAccount *account = task_account (task);
  GError *error = NULL;

  if (!secret_password_store_finish (result, &error))
    {
      if (return_cancelled (task, error))
        return;
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_FAILED,
                               _("Could not save the password for %s in the keyring: %s"),
                               td_account_get_address (account), error->message);
      g_error_free (error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
store_password (GTask      *task,
                const char *password)
{
  TdAccount *account = task_account (task);
  TdCredentialsService service = ((TaskData *) g_task_get_task_data (task))->service;
  g_autoptr(GHashTable) attributes = lookup_attributes (account, service);
  g_autofree char *label = NULL;
  const char *username;
  const char *host;

  if (service == TD_CREDENTIALS_SMTP)
    {
      label = g_strdup_printf ("Tidings: %s (SMTP)", td_account_get_address (account));
      username = td_account_get_smtp_username (account);
      host = td_account_get_smtp_host (account);
    }
  else
    {
      label = g_strdup_printf ("Tidings: %s", td_account_get_address (account));
      username = td_account_get_username (account);
      host = td_account_get_host (account);
    }
  if (username != NULL)
    g_hash_table_insert (attributes, (gpointer) "username", (gpointer) username);
  if (host != NULL)
    g_hash_table_insert (attributes, (gpointer) "host", (gpointer) host);

  /* libsecret copies the password into its own secure memory at once. */
  secret_password_storev (get_schema (), attributes, SECRET_COLLECTION_DEFAULT, label, password,
                          g_task_get_cancellable (task), store_cb, task);
}

static void
store_clear_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  char *password = g_object_steal_data (G_OBJECT (task), "td-password");
  GError *error = NULL;

  /* An older item of the account for that protocol (stored with another user name or host)
   * is removed first, so that uuid and protocol find exactly one item. Not finding one is fine. */
  secret_password_clear_finish (result, &error);
  if (error != NULL && return_cancelled (task, error))
    {
      td_credentials_free_password (password);
      g_object_unref (task);
      return;
    }
  if (error != NULL)
    g_debug ("Clearing the old keyring item: %s", error->message);
  g_clear_error (&error);

  store_password (task, password);
  td_credentials_free_password (password);
}

static void
td_secret_credentials_store_async (TdCredentials       *credentials,
                                   TdAccount           *account,
                                   TdCredentialsService service,
                                   const char          *password,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  TdSecretCredentials *self = TD_SECRET_CREDENTIALS (credentials);
  g_autoptr(GHashTable) attributes = NULL;
  GTask *task;

  task = account_task_new (self, account, service, cancellable, callback, user_data,
                           td_secret_credentials_store_async);
  if (task == NULL)
    return;

  /* Kept only until the old item is cleared, and wiped then. */
  g_object_set_data_full (G_OBJECT (task), "td-password", g_strdup (password),
                          (GDestroyNotify) td_credentials_free_password);
  attributes = lookup_attributes (account, service);
  secret_password_clearv (get_schema (), attributes, cancellable, store_clear_cb, task);
}

static gboolean
td_secret_credentials_store_finish (TdCredentials  *credentials,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, credentials), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- clear --- */

static void
clear_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TdAccount *account = task_account (task);
  GError *error = NULL;

  /* FALSE without an error: there was nothing to remove, which is what was asked. */
  secret_password_clear_finish (result, &error);
  if (error != NULL)
    {
      if (return_cancelled (task, error))
        return;
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_FAILED,
                               _("Could not remove the password for %s from the keyring: %s"),
                               td_account_get_address (account), error->message);
      g_error_free (error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
td_secret_credentials_clear_async (TdCredentials       *credentials,
                                   TdAccount           *account,
                                   TdCredentialsService service,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  TdSecretCredentials *self = TD_SECRET_CREDENTIALS (credentials);
  g_autoptr(GHashTable) attributes = NULL;
  GTask *task;

  task = account_task_new (self, account, service, cancellable, callback, user_data,
                           td_secret_credentials_clear_async);
  if (task == NULL)
    return;

  attributes = lookup_attributes (account, service);
  secret_password_clearv (get_schema (), attributes, cancellable, clear_cb, task);
}

static gboolean
td_secret_credentials_clear_finish (TdCredentials  *credentials,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, credentials), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- The object --- */

static void
td_secret_credentials_iface_init (TdCredentialsInterface *iface)
{
  iface->lookup_async = td_secret_credentials_lookup_async;
  iface->lookup_finish = td_secret_credentials_lookup_finish;
  iface->store_async = td_secret_credentials_store_async;
  iface->store_finish = td_secret_credentials_store_finish;
  iface->clear_async = td_secret_credentials_clear_async;
  iface->clear_finish = td_secret_credentials_clear_finish;
}

static void
td_secret_credentials_class_init (TdSecretCredentialsClass *klass)
{
}

static void
td_secret_credentials_init (TdSecretCredentials *self)
{
}

TdCredentials *
td_secret_credentials_new (void)
{
  return g_object_new (TD_TYPE_SECRET_CREDENTIALS, NULL);
}
