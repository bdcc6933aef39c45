/* td-discovery-srv.c: RFC 6186 SRV records through the default GResolver
 *
 * The six services are asked at once. Targets are taken in RFC 2782 order: lowest priority
 * first, then (deterministically, rather than by the weighted draw) the heavier weight
 * first. A target of "." means the service is decidedly not offered (RFC 2782, RFC 6186 3.4).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-discovery"

#include "config.h"

#include "td-discovery-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-autoconfig.h"

static const struct
{
  const char          *service;
  TdServerProtocol     protocol;
  TdCandidateSecurity  security;
} services[] = {
  { "imaps", TD_SERVER_PROTOCOL_IMAP, TD_CANDIDATE_SECURITY_TLS },
  { "imap", TD_SERVER_PROTOCOL_IMAP, TD_CANDIDATE_SECURITY_STARTTLS },
  { "pop3s", TD_SERVER_PROTOCOL_POP3, TD_CANDIDATE_SECURITY_TLS },
  { "pop3", TD_SERVER_PROTOCOL_POP3, TD_CANDIDATE_SECURITY_STARTTLS },
  { "submissions", TD_SERVER_PROTOCOL_SMTP, TD_CANDIDATE_SECURITY_TLS },
  { "submission", TD_SERVER_PROTOCOL_SMTP, TD_CANDIDATE_SECURITY_STARTTLS },
};

#define N_SERVICES G_N_ELEMENTS (services)

typedef struct
{
  TdDiscovery *discovery;
  GList       *targets[N_SERVICES];   /* GSrvTarget*, as the resolver gave them */
  guint        pending;
} Lookup;

typedef struct
{
  Lookup *lookup;
  guint   index;
} One;

static int
compare_targets (gconstpointer a,
                 gconstpointer b)
{
  GSrvTarget *x = (GSrvTarget *) a;
  GSrvTarget *y = (GSrvTarget *) b;

  if (g_srv_target_get_priority (x) != g_srv_target_get_priority (y))
    return g_srv_target_get_priority (x) < g_srv_target_get_priority (y) ? -1 : 1;
  if (g_srv_target_get_weight (x) != g_srv_target_get_weight (y))
    return g_srv_target_get_weight (x) > g_srv_target_get_weight (y) ? -1 : 1;
  return 0;
}

static gboolean
is_not_offered (GSrvTarget *target)
{
  const char *host = g_srv_target_get_hostname (target);

  return host == NULL || *host == '\0' || g_strcmp0 (host, ".") == 0;
}

static void
lookup_finish (Lookup *lookup)
{
  TdDiscovery *self = lookup->discovery;
  const char *domain = td_discovery_get_domain (self);
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) td_server_candidate_free);

  for (guint s = 0; s < N_SERVICES; s++)
    {
      g_autofree char *name = g_strdup_printf ("_%s._tcp.%s", services[s].service, domain);
      GList *sorted = g_list_sort (g_list_copy (lookup->targets[s]), compare_targets);

      for (GList *l = sorted; l != NULL; l = l->next)
        {
          GSrvTarget *target = l->data;
          g_autofree char *host = NULL;

          if (is_not_offered (target))
            {
              g_autofree char *detail = g_strdup_printf (_("%s: not offered"), name);

              _td_discovery_report (self, TD_DISCOVERY_SOURCE_SRV, TD_DISCOVERY_STATE_RUNNING,
                                    detail);
              continue;
            }
          host = g_strdup (g_srv_target_get_hostname (target));
          if (g_str_has_suffix (host, "."))
            host[strlen (host) - 1] = '\0';
          if (!td_autoconfig_host_is_valid (host) || g_srv_target_get_port (target) == 0)
            {
              g_debug ("SRV %s: leaving out %s:%u", name, host, g_srv_target_get_port (target));
              continue;
            }
          g_ptr_array_add (found,
                           _td_server_candidate_new (services[s].protocol, host,
                                                     g_srv_target_get_port (target),
                                                     services[s].security,
                                                     td_discovery_get_address (self),
                                                     TD_DISCOVERY_SOURCE_SRV, name));
        }
      g_list_free (sorted);
      g_list_free_full (lookup->targets[s], (GDestroyNotify) g_srv_target_free);
    }

  _td_discovery_source_done (self, TD_DISCOVERY_SOURCE_SRV, found, TD_DISCOVERY_STATE_FAILED,
                             NULL);
  g_object_unref (lookup->discovery);
  g_free (lookup);
}

static void
service_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  One *one = user_data;
  Lookup *lookup = one->lookup;
  g_autoptr(GError) error = NULL;

  lookup->targets[one->index] = g_resolver_lookup_service_finish (G_RESOLVER (source), result,
                                                                  &error);
  if (error != NULL)
    g_debug ("SRV _%s._tcp: %s", services[one->index].service, error->message);
  g_free (one);
  if (--lookup->pending == 0)
    lookup_finish (lookup);
}

void
_td_discovery_run_srv (TdDiscovery  *self,
                       GCancellable *cancellable)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  Lookup *lookup = g_new0 (Lookup, 1);

  lookup->discovery = g_object_ref (self);
  lookup->pending = N_SERVICES;
  for (guint s = 0; s < N_SERVICES; s++)
    {
      One *one = g_new0 (One, 1);

      one->lookup = lookup;
      one->index = s;
      g_resolver_lookup_service_async (resolver, services[s].service, "tcp",
                                       td_discovery_get_domain (self), cancellable,
                                       service_cb, one);
    }
}
