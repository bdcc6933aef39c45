/* td-discovery.c: find the servers of an email address, without sending a password
 *
 * Every enabled source starts at once. Each ends with _td_discovery_source_done(); then the
 * sources are looked at in the order they are trusted: the first that found an incoming
 * server, with every source before it done, decides, and the ones still running are stopped
 * (SKIPPED). The time limit stops what still runs (TIMED_OUT). The provider database is
 * here; the other sources are in td-discovery-{http,srv,probe}.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-discovery"

#include "config.h"

#include "td-discovery.h"
#include "td-discovery-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-autoconfig.h"
#include "td-discovery-resources.h"
#include "td-error.h"

#define DEFAULT_TIME_LIMIT_MS   15000
#define DEFAULT_PROBE_TIMEOUT   8
#define PROVIDERS_RESOURCE      "/org/tidings/Tidings/discovery/tidings-providers.xml"

#define AUTOCONFIG_URL "https://autoconfig.%DOMAIN%/mail/config-v1.1.xml?emailaddress=%EMAILADDRESS%"
#define WELL_KNOWN_URL "https://%DOMAIN%/.well-known/autoconfig/mail/config-v1.1.xml"

struct _TdDiscovery
{
  GObject           parent_instance;

  char             *address;
  char             *domain;

  /* settings */
  guint             time_limit_ms;
  guint             probe_timeout;
  GFile            *provider_file;
  char             *urls[TD_DISCOVERY_N_SOURCES];   /* AUTOCONFIG, WELL_KNOWN */
  GTlsDatabase     *tls_database;
  guint16           probe_ports[3][2];              /* [protocol][tls ? 0 : 1] */
  char             *pinned;
  gboolean          enabled[TD_DISCOVERY_N_SOURCES];

  /* the run */
  gboolean          started;
  GTask            *task;
  GSource          *timer;
  GCancellable     *caller_cancellable;
  gulong            caller_handler;
  GCancellable     *cancellables[TD_DISCOVERY_N_SOURCES];
  gboolean          ended[TD_DISCOVERY_N_SOURCES];
  GPtrArray        *found[TD_DISCOVERY_N_SOURCES];  /* TdServerCandidate*, source order */
};

G_DEFINE_FINAL_TYPE (TdDiscovery, td_discovery, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (TdServerCandidate, td_server_candidate,
                     td_server_candidate_copy, td_server_candidate_free)

enum
{
  SIGNAL_STEP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- Candidates --- */

TdServerCandidate *
td_server_candidate_copy (const TdServerCandidate *candidate)
{
  TdServerCandidate *copy;

  g_return_val_if_fail (candidate != NULL, NULL);

  copy = g_new0 (TdServerCandidate, 1);
  *copy = *candidate;
  copy->host = g_strdup (candidate->host);
  copy->username = g_strdup (candidate->username);
  copy->origin = g_strdup (candidate->origin);
  copy->certificate = candidate->certificate != NULL ?
                        td_certificate_info_copy (candidate->certificate) : NULL;
  return copy;
}

void
td_server_candidate_free (TdServerCandidate *candidate)
{
  if (candidate == NULL)
    return;
  g_free (candidate->host);
  g_free (candidate->username);
  g_free (candidate->origin);
  td_certificate_info_free (candidate->certificate);
  g_free (candidate);
}

TdServerCandidate *
_td_server_candidate_new (TdServerProtocol     protocol,
                          const char          *host,
                          guint16              port,
                          TdCandidateSecurity  security,
                          const char          *address,
                          TdDiscoverySource    source,
                          const char          *origin)
{
  TdServerCandidate *candidate = g_new0 (TdServerCandidate, 1);

  candidate->protocol = protocol;
  candidate->host = g_ascii_strdown (host, -1);
  candidate->port = port;
  candidate->security = security;
  /* Nothing says otherwise: the address is the user name most servers take. */
  candidate->username_form = TD_USERNAME_ADDRESS;
  candidate->username = g_strdup (address);
  candidate->source = source;
  candidate->origin = g_strdup (origin);
  return candidate;
}

const char *
td_server_protocol_to_string (TdServerProtocol protocol)
{
  switch (protocol)
    {
    case TD_SERVER_PROTOCOL_IMAP:
      return "imap";
    case TD_SERVER_PROTOCOL_POP3:
      return "pop3";
    case TD_SERVER_PROTOCOL_SMTP:
      return "smtp";
    default:
      g_return_val_if_reached ("");
    }
}

const char *
td_candidate_security_to_string (TdCandidateSecurity security)
{
  switch (security)
    {
    case TD_CANDIDATE_SECURITY_TLS:
      return "tls";
    case TD_CANDIDATE_SECURITY_STARTTLS:
      return "starttls";
    case TD_CANDIDATE_SECURITY_PLAIN:
      return "plain";
    default:
      g_return_val_if_reached ("");
    }
}

const char *
td_discovery_source_describe (TdDiscoverySource source)
{
  switch (source)
    {
    case TD_DISCOVERY_SOURCE_PROVIDERS:
      return _("the provider database");
    case TD_DISCOVERY_SOURCE_AUTOCONFIG:
      return _("the provider’s autoconfig server");
    case TD_DISCOVERY_SOURCE_WELL_KNOWN:
      return _("the domain’s autoconfig file");
    case TD_DISCOVERY_SOURCE_SRV:
      return _("DNS SRV records");
    case TD_DISCOVERY_SOURCE_PROBE:
      return _("trying common server names");
    case TD_DISCOVERY_N_SOURCES:
    default:
      g_return_val_if_reached ("");
    }
}

gboolean
td_server_candidate_get_security (const TdServerCandidate *candidate,
                                  TdSecurity              *out)
{
  g_return_val_if_fail (candidate != NULL, FALSE);

  switch (candidate->security)
    {
    case TD_CANDIDATE_SECURITY_TLS:
      *out = TD_SECURITY_TLS;
      return TRUE;
    case TD_CANDIDATE_SECURITY_STARTTLS:
      *out = TD_SECURITY_STARTTLS;
      return TRUE;
    case TD_CANDIDATE_SECURITY_PLAIN:
    default:
      return FALSE;
    }
}

/* --- Settings --- */

TdDiscovery *
td_discovery_new (const char *address)
{
  TdDiscovery *self;
  const char *at;

  g_return_val_if_fail (address != NULL, NULL);

  at = strrchr (address, '@');
  if (at == NULL || at == address || !td_autoconfig_host_is_valid (at + 1) ||
      strchr (at + 1, '.') == NULL || strpbrk (address, " \t\r\n/\\") != NULL ||
      !g_utf8_validate (address, -1, NULL))
    return NULL;

  self = g_object_new (TD_TYPE_DISCOVERY, NULL);
  self->address = g_strdup (address);
  self->domain = g_ascii_strdown (at + 1, -1);
  return self;
}

const char *
td_discovery_get_address (TdDiscovery *self)
{
  g_return_val_if_fail (TD_IS_DISCOVERY (self), NULL);
  return self->address;
}

const char *
td_discovery_get_domain (TdDiscovery *self)
{
  g_return_val_if_fail (TD_IS_DISCOVERY (self), NULL);
  return self->domain;
}

void
td_discovery_set_time_limit (TdDiscovery *self,
                             guint        milliseconds)
{
  g_return_if_fail (TD_IS_DISCOVERY (self));
  g_return_if_fail (!self->started);
  self->time_limit_ms = milliseconds;
}

void
td_discovery_set_probe_timeout (TdDiscovery *self,
                                guint        seconds)
{
  g_return_if_fail (TD_IS_DISCOVERY (self));
  g_return_if_fail (!self->started);
  self->probe_timeout = seconds;
}

void
td_discovery_set_provider_file (TdDiscovery *self,
                                GFile       *file)
{
  g_return_if_fail (TD_IS_DISCOVERY (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));
  g_return_if_fail (!self->started);
  g_set_object (&self->provider_file, file);
}

void
td_discovery_set_autoconfig_urls (TdDiscovery *self,
                                  const char  *autoconfig,
                                  const char  *well_known)
{
  g_return_if_fail (TD_IS_DISCOVERY (self));
  g_return_if_fail (!self->started);

  g_free (self->urls[TD_DISCOVERY_SOURCE_AUTOCONFIG]);
  self->urls[TD_DISCOVERY_SOURCE_AUTOCONFIG] = g_strdup (autoconfig != NULL ? autoconfig
                                                                            : AUTOCONFIG_URL);
  g_free (self->urls[TD_DISCOVERY_SOURCE_WELL_KNOWN]);
  self->urls[TD_DISCOVERY_SOURCE_WELL_KNOWN] = g_strdup (well_known != NULL ? well_known
                                                                            : WELL_KNOWN_URL);
}

void
td_discovery_set_tls_database (TdDiscovery  *self,
                               GTlsDatabase *database)
{
  g_return_if_fail (TD_IS_DISCOVERY (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));
  g_return_if_fail (!self->started);
  g_set_object (&self->tls_database, database);
}

void
td_discovery_set_probe_ports (TdDiscovery      *self,
                              TdServerProtocol  protocol,
                              guint16           tls_port,
                              guint16           starttls_port)
{
  g_return_if_fail (TD_IS_DISCOVERY (self));
  g_return_if_fail (protocol <= TD_SERVER_PROTOCOL_SMTP);
  g_return_if_fail (!self->started);
  self->probe_ports[protocol][0] = tls_port;
  self->probe_ports[protocol][1] = starttls_port;
}

void
td_discovery_set_pinned_fingerprint (TdDiscovery *self,
                                     const char  *fingerprint)
{
  g_return_if_fail (TD_IS_DISCOVERY (self));
  g_return_if_fail (!self->started);
  g_free (self->pinned);
  self->pinned = td_fingerprint_normalize (fingerprint);
}

void
td_discovery_set_source_enabled (TdDiscovery       *self,
                                 TdDiscoverySource  source,
                                 gboolean           enabled)
{
  g_return_if_fail (TD_IS_DISCOVERY (self));
  g_return_if_fail (source < TD_DISCOVERY_N_SOURCES);
  g_return_if_fail (!self->started);
  self->enabled[source] = enabled;
}

const char *
_td_discovery_get_url (TdDiscovery       *self,
                       TdDiscoverySource  source)
{
  return self->urls[source];
}

GTlsDatabase *
_td_discovery_get_tls_database (TdDiscovery *self)
{
  return self->tls_database;
}

guint
_td_discovery_get_probe_timeout (TdDiscovery *self)
{
  return self->probe_timeout;
}

guint16
_td_discovery_get_probe_port (TdDiscovery      *self,
                              TdServerProtocol  protocol,
                              gboolean          tls)
{
  return self->probe_ports[protocol][tls ? 0 : 1];
}

const char *
_td_discovery_get_pinned (TdDiscovery *self)
{
  return self->pinned;
}

/* --- The run --- */

void
_td_discovery_report (TdDiscovery       *self,
                      TdDiscoverySource  source,
                      TdDiscoveryState   state,
                      const char        *detail)
{
  if (self->ended[source])
    return;
  g_signal_emit (self, signals[SIGNAL_STEP], 0, source, state, detail != NULL ? detail : "");
}

static gboolean
has_incoming (GPtrArray *candidates)
{
  for (guint i = 0; candidates != NULL && i < candidates->len; i++)
    {
      TdServerCandidate *c = g_ptr_array_index (candidates, i);

      if (c->protocol != TD_SERVER_PROTOCOL_SMTP && c->security != TD_CANDIDATE_SECURITY_PLAIN)
        return TRUE;
    }
  return FALSE;
}

/* Ends @source now (it may go on in the background, cancelled; its done is then ignored). */
static void
end_source (TdDiscovery       *self,
            TdDiscoverySource  source,
            TdDiscoveryState   state,
            const char        *detail)
{
  _td_discovery_report (self, source, state, detail);
  self->ended[source] = TRUE;
  if (self->cancellables[source] != NULL)
    g_cancellable_cancel (self->cancellables[source]);
}

static void
complete (TdDiscovery *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  if (self->caller_handler != 0)
    g_cancellable_disconnect (self->caller_cancellable, self->caller_handler);
  self->caller_handler = 0;
  g_clear_object (&self->caller_cancellable);
  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    if (!self->ended[s])
      end_source (self, s, TD_DISCOVERY_STATE_SKIPPED, NULL);

  if (!g_task_return_error_if_cancelled (task))
    g_task_return_boolean (task, TRUE);
}

/* Decides whether the result is known: see the top of the file. */
static void
check_complete (TdDiscovery *self)
{
  if (self->task == NULL)
    return;

  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    {
      if (!self->ended[s])
        return;
      if (has_incoming (self->found[s]))
        break;
    }
  complete (self);
}

void
_td_discovery_source_done (TdDiscovery       *self,
                           TdDiscoverySource  source,
                           GPtrArray         *candidates,
                           TdDiscoveryState   error_state,
                           GError            *error)
{
  g_autoptr(GPtrArray) owned = candidates;
  g_autoptr(GError) owned_error = error;

  if (self->ended[source])
    return;

  if (error != NULL)
    {
      g_debug ("Discovery of %s, %s: %s", self->domain, td_discovery_source_describe (source),
               error->message);
      end_source (self, source, error_state, error->message);
    }
  else if (candidates == NULL || candidates->len == 0)
    end_source (self, source, TD_DISCOVERY_STATE_NOTHING, NULL);
  else
    {
      g_autofree char *detail = NULL;
      GString *text = g_string_new (NULL);

      for (guint i = 0; i < candidates->len; i++)
        {
          TdServerCandidate *c = g_ptr_array_index (candidates, i);

          g_string_append_printf (text, "%s%s %s:%u (%s)", i > 0 ? ", " : "",
                                  td_server_protocol_to_string (c->protocol), c->host, c->port,
                                  td_candidate_security_to_string (c->security));
        }
      detail = g_string_free (text, FALSE);
      self->found[source] = g_steal_pointer (&owned);
      end_source (self, source, TD_DISCOVERY_STATE_FOUND, detail);
    }
  check_complete (self);
}

static gboolean
time_limit_cb (gpointer data)
{
  TdDiscovery *self = data;
  g_autofree char *detail = g_strdup_printf (_("No answer within %u ms"), self->time_limit_ms);

  g_clear_pointer (&self->timer, g_source_unref);
  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    if (!self->ended[s])
      end_source (self, s, TD_DISCOVERY_STATE_TIMED_OUT, detail);
  check_complete (self);
  return G_SOURCE_REMOVE;
}

/* The provider database: parsed from memory (the bundled one) or after an async load. */
static void
providers_parse (TdDiscovery *self,
                 const char  *text,
                 gsize        length)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) td_server_candidate_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;

  if (!td_autoconfig_parse (text, length, self->address, self->domain,
                            TD_DISCOVERY_SOURCE_PROVIDERS, NULL, found, &name, &error))
    {
      _td_discovery_source_done (self, TD_DISCOVERY_SOURCE_PROVIDERS, NULL,
                                 TD_DISCOVERY_STATE_FAILED, g_steal_pointer (&error));
      return;
    }
  _td_discovery_source_done (self, TD_DISCOVERY_SOURCE_PROVIDERS, g_steal_pointer (&found),
                             TD_DISCOVERY_STATE_FAILED, NULL);
}

static void
providers_loaded_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(TdDiscovery) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    {
      _td_discovery_source_done (self, TD_DISCOVERY_SOURCE_PROVIDERS, NULL,
                                 TD_DISCOVERY_STATE_FAILED, g_steal_pointer (&error));
      return;
    }
  providers_parse (self, contents, length);
}

static gboolean
providers_bundled_cb (gpointer data)
{
  TdDiscovery *self = data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;
  const char *text;

  bytes = g_resource_lookup_data (td_discovery_get_resource (), PROVIDERS_RESOURCE,
                                  G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (bytes == NULL)
    {
      _td_discovery_source_done (self, TD_DISCOVERY_SOURCE_PROVIDERS, NULL,
                                 TD_DISCOVERY_STATE_FAILED, g_steal_pointer (&error));
      return G_SOURCE_REMOVE;
    }
  text = g_bytes_get_data (bytes, &length);
  providers_parse (self, text, length);
  return G_SOURCE_REMOVE;
}

static void
run_providers (TdDiscovery  *self,
               GCancellable *cancellable)
{
  if (self->provider_file != NULL)
    {
      g_file_load_contents_async (self->provider_file, cancellable, providers_loaded_cb,
                                  g_object_ref (self));
      return;
    }
  /* Memory only, but answered from the main loop like every other source. */
  g_idle_add_full (G_PRIORITY_DEFAULT, providers_bundled_cb, g_object_ref (self),
                   g_object_unref);
}

/* The caller cancelled: the run ends now, whatever the sources still do. */
static gboolean
run_cancelled_idle_cb (gpointer data)
{
  TdDiscovery *self = data;

  if (self->task == NULL)
    return G_SOURCE_REMOVE;
  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    if (!self->ended[s])
      end_source (self, s, TD_DISCOVERY_STATE_FAILED, _("Cancelled"));
  complete (self);
  return G_SOURCE_REMOVE;
}

/* May run in another thread: the run is ended from its own main context. */
static void
run_cancelled_cb (GCancellable *cancellable,
                  gpointer      data)
{
  TdDiscovery *self = data;
  GSource *idle = g_idle_source_new ();

  g_source_set_callback (idle, run_cancelled_idle_cb, g_object_ref (self), g_object_unref);
  g_source_set_name (idle, "[tidings] discovery cancelled");
  g_source_attach (idle, g_task_get_context (self->task));
  g_source_unref (idle);
}

static void
caller_cancelled_cb (GCancellable *cancellable,
                     gpointer      data)
{
  GCancellable *source_cancellable = data;

  g_cancellable_cancel (source_cancellable);
}

void
td_discovery_run_async (TdDiscovery         *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_DISCOVERY (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_discovery_run_async);
  if (self->started)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               _("This discovery has already run"));
      return;
    }
  self->started = TRUE;
  self->task = g_steal_pointer (&task);
  if (cancellable != NULL)
    {
      self->caller_cancellable = g_object_ref (cancellable);
      self->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (run_cancelled_cb),
                                                    self, NULL);
    }

  if (self->time_limit_ms > 0)
    {
      self->timer = g_timeout_source_new (self->time_limit_ms);
      g_source_set_callback (self->timer, time_limit_cb, self, NULL);
      g_source_set_name (self->timer, "[tidings] discovery time limit");
      g_source_attach (self->timer, g_task_get_context (self->task));
    }

  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    {
      if (!self->enabled[s] ||
          ((s == TD_DISCOVERY_SOURCE_AUTOCONFIG || s == TD_DISCOVERY_SOURCE_WELL_KNOWN) &&
           (self->urls[s] == NULL || *self->urls[s] == '\0')))
        {
          self->ended[s] = TRUE;  /* not run: no step to show */
          continue;
        }
      self->cancellables[s] = g_cancellable_new ();
      if (cancellable != NULL)
        g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                               g_object_ref (self->cancellables[s]), g_object_unref);
    }

  /* Each may end at once (and the run with it): the task is checked before each start. */
  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES && self->task != NULL; s++)
    {
      if (self->ended[s])
        continue;
      _td_discovery_report (self, s, TD_DISCOVERY_STATE_RUNNING, NULL);
      switch (s)
        {
        case TD_DISCOVERY_SOURCE_PROVIDERS:
          run_providers (self, self->cancellables[s]);
          break;
        case TD_DISCOVERY_SOURCE_AUTOCONFIG:
        case TD_DISCOVERY_SOURCE_WELL_KNOWN:
          _td_discovery_run_http (self, s, self->cancellables[s]);
          break;
        case TD_DISCOVERY_SOURCE_SRV:
          _td_discovery_run_srv (self, self->cancellables[s]);
          break;
        case TD_DISCOVERY_SOURCE_PROBE:
          _td_discovery_run_probe (self, self->cancellables[s]);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  check_complete (self);
}

gboolean
td_discovery_run_finish (TdDiscovery   *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- The result --- */

static int
rank_within_source (const TdServerCandidate *c)
{
  /* unverified certificates last, then TLS, STARTTLS, plain */
  return (c->certificate != NULL && c->certificate->errors != 0 ? 10 : 0) + (int) c->security;
}

GPtrArray *
td_discovery_get_candidates (TdDiscovery      *self,
                             TdServerProtocol  protocol)
{
  GPtrArray *out;

  g_return_val_if_fail (TD_IS_DISCOVERY (self), NULL);

  out = g_ptr_array_new ();
  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    {
      /* a stable selection by rank, keeping the source's own order within a rank */
      for (int rank = 0; rank < 20; rank++)
        for (guint i = 0; self->found[s] != NULL && i < self->found[s]->len; i++)
          {
            TdServerCandidate *c = g_ptr_array_index (self->found[s], i);

            if (c->protocol == protocol && rank_within_source (c) == rank)
              g_ptr_array_add (out, c);
          }
    }
  return out;
}

const TdServerCandidate *
td_discovery_get_best (TdDiscovery      *self,
                       TdServerProtocol  protocol)
{
  g_autoptr(GPtrArray) all = NULL;

  g_return_val_if_fail (TD_IS_DISCOVERY (self), NULL);

  all = td_discovery_get_candidates (self, protocol);
  for (guint i = 0; i < all->len; i++)
    {
      const TdServerCandidate *c = g_ptr_array_index (all, i);

      if (c->security != TD_CANDIDATE_SECURITY_PLAIN)
        return c;
    }
  return NULL;
}

static char *
describe_choice (const TdServerCandidate *c)
{
  const char *security = c->security == TD_CANDIDATE_SECURITY_TLS ? _("TLS")
                                                                   : _("STARTTLS");

  return g_strdup_printf (_("%s:%u with %s, found by %s (%s)"), c->host, c->port, security,
                          td_discovery_source_describe (c->source),
                          c->origin != NULL ? c->origin : "");
}

const TdServerCandidate *
td_discovery_choose_incoming (TdDiscovery             *self,
                              const TdServerProtocol  *prefer,
                              char                   **reason,
                              GError                 **error)
{
  const TdServerCandidate *imap;
  const TdServerCandidate *pop3;
  g_autofree char *where = NULL;

  g_return_val_if_fail (TD_IS_DISCOVERY (self), NULL);
  g_return_val_if_fail (prefer == NULL || *prefer != TD_SERVER_PROTOCOL_SMTP, NULL);

  imap = td_discovery_get_best (self, TD_SERVER_PROTOCOL_IMAP);
  pop3 = td_discovery_get_best (self, TD_SERVER_PROTOCOL_POP3);

  if (prefer != NULL && *prefer == TD_SERVER_PROTOCOL_POP3 && pop3 == NULL && imap != NULL)
    {
      where = describe_choice (imap);
      g_set_error (error, TD_ERROR, TD_ERROR_NOT_FOUND,
                   _("No POP3 server was found for %s, only IMAP: %s."), self->domain, where);
      return NULL;
    }
  if (prefer != NULL && *prefer == TD_SERVER_PROTOCOL_IMAP && imap == NULL && pop3 != NULL)
    {
      where = describe_choice (pop3);
      g_set_error (error, TD_ERROR, TD_ERROR_NOT_FOUND,
                   _("No IMAP server was found for %s, only POP3: %s."), self->domain, where);
      return NULL;
    }
  if (imap == NULL && pop3 == NULL)
    {
      g_autoptr(GPtrArray) plain_imap = td_discovery_get_candidates (self, TD_SERVER_PROTOCOL_IMAP);
      g_autoptr(GPtrArray) plain_pop3 = td_discovery_get_candidates (self, TD_SERVER_PROTOCOL_POP3);

      if (plain_imap->len > 0 || plain_pop3->len > 0)
        g_set_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED,
                     _("The mail server of %s offers no encryption, so your password would "
                       "cross the network readable by anyone. Tidings does not use such a "
                       "server; ask your provider for its TLS settings."), self->domain);
      else
        g_set_error (error, TD_ERROR, TD_ERROR_NOT_FOUND,
                     _("No mail server was found for %s. Check the address, or enter the "
                       "server settings by hand."), self->domain);
      return NULL;
    }

  if (prefer != NULL && *prefer == TD_SERVER_PROTOCOL_POP3)
    {
      if (reason != NULL)
        {
          where = describe_choice (pop3);
          *reason = g_strdup_printf (_("POP3, as asked: %s"), where);
        }
      return pop3;
    }
  if (imap != NULL)
    {
      if (reason != NULL)
        {
          where = describe_choice (imap);
          if (prefer != NULL)
            *reason = g_strdup_printf (_("IMAP, as asked: %s"), where);
          else if (pop3 != NULL)
            *reason = g_strdup_printf (_("IMAP, because mail and folders then stay on the "
                                         "server for every device (POP3 was found too): %s"),
                                       where);
          else
            *reason = g_strdup_printf (_("IMAP, the only kind found: %s"), where);
        }
      return imap;
    }
  if (reason != NULL)
    {
      where = describe_choice (pop3);
      *reason = g_strdup_printf (_("POP3, the only kind found: %s"), where);
    }
  return pop3;
}

/* --- The object --- */

static void
td_discovery_dispose (GObject *object)
{
  TdDiscovery *self = TD_DISCOVERY (object);

  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    {
      if (self->cancellables[s] != NULL)
        g_cancellable_cancel (self->cancellables[s]);
      g_clear_object (&self->cancellables[s]);
    }
  g_clear_object (&self->provider_file);
  g_clear_object (&self->tls_database);

  G_OBJECT_CLASS (td_discovery_parent_class)->dispose (object);
}

static void
td_discovery_finalize (GObject *object)
{
  TdDiscovery *self = TD_DISCOVERY (object);

  g_assert (self->task == NULL);
  g_free (self->address);
  g_free (self->domain);
  g_free (self->pinned);
  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    {
      g_free (self->urls[s]);
      g_clear_pointer (&self->found[s], g_ptr_array_unref);
    }

  G_OBJECT_CLASS (td_discovery_parent_class)->finalize (object);
}

static void
td_discovery_class_init (TdDiscoveryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_discovery_dispose;
  object_class->finalize = td_discovery_finalize;

  /**
   * TdDiscovery::step:
   * @source: the TdDiscoverySource
   * @state: the TdDiscoveryState
   * @detail: translated text: what was found, or why nothing ("" when nothing to say)
   */
  signals[SIGNAL_STEP] =
    g_signal_new ("step", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT, G_TYPE_INT, G_TYPE_STRING);
}

static void
td_discovery_init (TdDiscovery *self)
{
  self->time_limit_ms = DEFAULT_TIME_LIMIT_MS;
  self->probe_timeout = DEFAULT_PROBE_TIMEOUT;
  self->urls[TD_DISCOVERY_SOURCE_AUTOCONFIG] = g_strdup (AUTOCONFIG_URL);
  self->urls[TD_DISCOVERY_SOURCE_WELL_KNOWN] = g_strdup (WELL_KNOWN_URL);
  self->probe_ports[TD_SERVER_PROTOCOL_IMAP][0] = 993;
  self->probe_ports[TD_SERVER_PROTOCOL_IMAP][1] = 143;
  self->probe_ports[TD_SERVER_PROTOCOL_POP3][0] = 995;
  self->probe_ports[TD_SERVER_PROTOCOL_POP3][1] = 110;
  self->probe_ports[TD_SERVER_PROTOCOL_SMTP][0] = 465;
  self->probe_ports[TD_SERVER_PROTOCOL_SMTP][1] = 587;
  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    self->enabled[s] = TRUE;
}
