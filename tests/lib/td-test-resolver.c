/* td-test-resolver.c: a GResolver that answers from a table, for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "td-test-resolver.h"

struct _TdTestResolver
{
  GResolver   parent_instance;

  GMutex      mutex;
  GHashTable *hosts;     /* lower-case name -> GPtrArray of GInetAddress */
  GHashTable *records;   /* lower-case rrname -> GPtrArray of GSrvTarget */
  GHashTable *lookups;   /* lower-case name -> count */
  guint       delay_ms;
};

G_DEFINE_FINAL_TYPE (TdTestResolver, td_test_resolver, G_TYPE_RESOLVER)

static void
count_lookup (TdTestResolver *self,
              const char     *name)
{
  g_autofree char *key = g_ascii_strdown (name, -1);
  guint count;

  g_mutex_lock (&self->mutex);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->lookups, key));
  g_hash_table_insert (self->lookups, g_steal_pointer (&key), GUINT_TO_POINTER (count + 1));
  g_mutex_unlock (&self->mutex);
}

static GList *
lookup_name (TdTestResolver            *self,
             const char                *name,
             GResolverNameLookupFlags   flags,
             GError                   **error)
{
  g_autofree char *key = g_ascii_strdown (name, -1);
  GList *out = NULL;
  GPtrArray *addresses;

  count_lookup (self, name);
  g_mutex_lock (&self->mutex);
  addresses = g_hash_table_lookup (self->hosts, key);
  for (guint i = 0; addresses != NULL && i < addresses->len; i++)
    {
      GInetAddress *address = g_ptr_array_index (addresses, i);
      GSocketFamily family = g_inet_address_get_family (address);

      if ((flags & G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY) && family != G_SOCKET_FAMILY_IPV4)
        continue;
      if ((flags & G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY) && family != G_SOCKET_FAMILY_IPV6)
        continue;
      out = g_list_append (out, g_object_ref (address));
    }
  g_mutex_unlock (&self->mutex);

  if (out == NULL)
    g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                 "No test address for “%s”", name);
  return out;
}

static GList *
lookup_srv (TdTestResolver  *self,
            const char      *rrname,
            GError         **error)
{
  g_autofree char *key = g_ascii_strdown (rrname, -1);
  GList *out = NULL;
  GPtrArray *targets;

  count_lookup (self, rrname);
  g_mutex_lock (&self->mutex);
  targets = g_hash_table_lookup (self->records, key);
  for (guint i = 0; targets != NULL && i < targets->len; i++)
    out = g_list_append (out, g_srv_target_copy (g_ptr_array_index (targets, i)));
  g_mutex_unlock (&self->mutex);

  if (out == NULL)
    g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                 "No test SRV record for “%s”", rrname);
  return out;
}

/* --- GResolver --- */

static GList *
resolver_lookup_by_name (GResolver     *resolver,
                         const char    *hostname,
                         GCancellable  *cancellable,
                         GError       **error)
{
  return lookup_name (TD_TEST_RESOLVER (resolver), hostname,
                      G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT, error);
}

static GList *
resolver_lookup_by_name_with_flags (GResolver                 *resolver,
                                    const char                *hostname,
                                    GResolverNameLookupFlags   flags,
                                    GCancellable              *cancellable,
                                    GError                   **error)
{
  return lookup_name (TD_TEST_RESOLVER (resolver), hostname, flags, error);
}

typedef struct
{
  GTask          *task;
  GList          *result;
  GError         *error;
  GDestroyNotify  free_func;
} Delayed;

static gboolean
delayed_cb (gpointer data)
{
  Delayed *d = data;

  if (d->error != NULL)
    g_task_return_error (d->task, d->error);
  else
    g_task_return_pointer (d->task, d->result, d->free_func);
  g_object_unref (d->task);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static void
return_later (TdTestResolver *self,
              GTask          *task,
              GList          *result,
              GError         *error,
              GDestroyNotify  free_func)
{
  if (self->delay_ms == 0)
    {
      if (error != NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, result, free_func);
      return;
    }
  else
    {
      Delayed *d = g_new0 (Delayed, 1);
      GSource *source = g_timeout_source_new (self->delay_ms);

      d->task = g_object_ref (task);
      d->result = result;
      d->error = error;
      d->free_func = free_func;
      g_source_set_callback (source, delayed_cb, d, NULL);
      g_source_attach (source, g_task_get_context (task));
      g_source_unref (source);
    }
}

static void
resolver_lookup_by_name_with_flags_async (GResolver                 *resolver,
                                          const char                *hostname,
                                          GResolverNameLookupFlags   flags,
                                          GCancellable              *cancellable,
                                          GAsyncReadyCallback        callback,
                                          gpointer                   user_data)
{
  TdTestResolver *self = TD_TEST_RESOLVER (resolver);
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  GError *error = NULL;
  GList *result = lookup_name (self, hostname, flags, &error);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) g_resolver_free_addresses);
}

static void
resolver_lookup_by_name_async (GResolver           *resolver,
                               const char          *hostname,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  resolver_lookup_by_name_with_flags_async (resolver, hostname,
                                            G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT, cancellable,
                                            callback, user_data);
}

static GList *
resolver_lookup_finish (GResolver     *resolver,
                        GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static GList *
resolver_lookup_service (GResolver     *resolver,
                         const char    *rrname,
                         GCancellable  *cancellable,
                         GError       **error)
{
  return lookup_srv (TD_TEST_RESOLVER (resolver), rrname, error);
}

static void
free_targets (GList *targets)
{
  g_list_free_full (targets, (GDestroyNotify) g_srv_target_free);
}

static void
resolver_lookup_service_async (GResolver           *resolver,
                               const char          *rrname,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  TdTestResolver *self = TD_TEST_RESOLVER (resolver);
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  GError *error = NULL;
  GList *result = lookup_srv (self, rrname, &error);

  return_later (self, task, result, error, (GDestroyNotify) free_targets);
}

static char *
resolver_lookup_by_address (GResolver     *resolver,
                            GInetAddress  *address,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_set_error_literal (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                       "No reverse lookups in tests");
  return NULL;
}

static void
resolver_lookup_by_address_async (GResolver           *resolver,
                                  GInetAddress        *address,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);

  g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                           "No reverse lookups in tests");
}

static char *
resolver_lookup_by_address_finish (GResolver     *resolver,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
resolver_lookup_records_async (GResolver           *resolver,
                               const char          *rrname,
                               GResolverRecordType  record_type,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);

  g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                           "No records in tests");
}

static GList *
resolver_lookup_records (GResolver            *resolver,
                         const char           *rrname,
                         GResolverRecordType   record_type,
                         GCancellable         *cancellable,
                         GError              **error)
{
  g_set_error_literal (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                       "No records in tests");
  return NULL;
}

static GList *
resolver_lookup_records_finish (GResolver     *resolver,
                                GAsyncResult  *result,
                                GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
td_test_resolver_finalize (GObject *object)
{
  TdTestResolver *self = TD_TEST_RESOLVER (object);

  g_hash_table_unref (self->hosts);
  g_hash_table_unref (self->records);
  g_hash_table_unref (self->lookups);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (td_test_resolver_parent_class)->finalize (object);
}

static void
td_test_resolver_class_init (TdTestResolverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  object_class->finalize = td_test_resolver_finalize;
  resolver_class->lookup_by_name = resolver_lookup_by_name;
  resolver_class->lookup_by_name_async = resolver_lookup_by_name_async;
  resolver_class->lookup_by_name_finish = resolver_lookup_finish;
  resolver_class->lookup_by_name_with_flags = resolver_lookup_by_name_with_flags;
  resolver_class->lookup_by_name_with_flags_async = resolver_lookup_by_name_with_flags_async;
  resolver_class->lookup_by_name_with_flags_finish = resolver_lookup_finish;
  resolver_class->lookup_service = resolver_lookup_service;
  resolver_class->lookup_service_async = resolver_lookup_service_async;
  resolver_class->lookup_service_finish = resolver_lookup_finish;
  resolver_class->lookup_by_address = resolver_lookup_by_address;
  resolver_class->lookup_by_address_async = resolver_lookup_by_address_async;
  resolver_class->lookup_by_address_finish = resolver_lookup_by_address_finish;
  resolver_class->lookup_records = resolver_lookup_records;
  resolver_class->lookup_records_async = resolver_lookup_records_async;
  resolver_class->lookup_records_finish = resolver_lookup_records_finish;
}

static void
td_test_resolver_init (TdTestResolver *self)
{
  g_mutex_init (&self->mutex);
  self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_ptr_array_unref);
  self->records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
  self->lookups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

TdTestResolver *
td_test_resolver_new (void)
{
  return g_object_new (TD_TYPE_TEST_RESOLVER, NULL);
}

void
td_test_resolver_add_host (TdTestResolver *self,
                           const char     *name,
                           const char     *address)
{
  g_autofree char *key = g_ascii_strdown (name, -1);
  GInetAddress *inet = g_inet_address_new_from_string (address);
  GPtrArray *addresses;

  g_return_if_fail (inet != NULL);

  g_mutex_lock (&self->mutex);
  addresses = g_hash_table_lookup (self->hosts, key);
  if (addresses == NULL)
    {
      addresses = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->hosts, g_steal_pointer (&key), addresses);
    }
  g_ptr_array_add (addresses, inet);
  g_mutex_unlock (&self->mutex);
}

void
td_test_resolver_add_srv (TdTestResolver *self,
                          const char     *rrname,
                          guint16         priority,
                          guint16         weight,
                          guint16         port,
                          const char     *target)
{
  g_autofree char *key = g_ascii_strdown (rrname, -1);
  GPtrArray *targets;

  g_mutex_lock (&self->mutex);
  targets = g_hash_table_lookup (self->records, key);
  if (targets == NULL)
    {
      targets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_srv_target_free);
      g_hash_table_insert (self->records, g_steal_pointer (&key), targets);
    }
  g_ptr_array_add (targets, g_srv_target_new (target, port, priority, weight));
  g_mutex_unlock (&self->mutex);
}

guint
td_test_resolver_get_lookups (TdTestResolver *self,
                              const char     *name)
{
  g_autofree char *key = g_ascii_strdown (name, -1);
  guint count;

  g_mutex_lock (&self->mutex);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->lookups, key));
  g_mutex_unlock (&self->mutex);
  return count;
}

void
td_test_resolver_set_srv_delay (TdTestResolver *self,
                                guint           ms)
{
  self->delay_ms = ms;
}
