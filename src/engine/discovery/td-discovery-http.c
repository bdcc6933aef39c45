/* td-discovery-http.c: autoconfig over HTTPS (libsoup 3)
 *
 * GET the URL of the source, certificates verified (against the injected TLS database or the
 * system's), redirects followed only to https:// and at most MAX_REDIRECTS times (libsoup's
 * own following is off: it would follow one to plain HTTP), the answer read up to
 * TD_AUTOCONFIG_MAX_SIZE and parsed as a clientConfig for the address.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-discovery"

#include "config.h"

#include "td-discovery-private.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "td-autoconfig.h"
#include "td-error.h"

#define READ_CHUNK    16384
#define MAX_REDIRECTS 3

typedef struct
{
  TdDiscovery       *discovery;
  TdDiscoverySource  source;
  GCancellable      *cancellable;
  SoupSession       *session;
  SoupMessage       *message;
  GInputStream      *body;
  GByteArray        *data;
  char              *url;
  guint              redirects;
} Fetch;

static void
fetch_free (Fetch *fetch)
{
  g_object_unref (fetch->discovery);
  g_clear_object (&fetch->cancellable);
  g_clear_object (&fetch->session);
  g_clear_object (&fetch->message);
  g_clear_object (&fetch->body);
  g_clear_pointer (&fetch->data, g_byte_array_unref);
  g_free (fetch->url);
  g_free (fetch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fetch, fetch_free)

static void
fetch_fail (Fetch            *fetch,
            TdDiscoveryState  state,
            GError           *error)
{
  _td_discovery_source_done (fetch->discovery, fetch->source, NULL, state, error);
  fetch_free (fetch);
}

static void
fetch_parse (Fetch *fetch)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) td_server_candidate_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  TdDiscovery *discovery = fetch->discovery;

  if (!td_autoconfig_parse ((const char *) fetch->data->data, fetch->data->len,
                            td_discovery_get_address (discovery), NULL, fetch->source,
                            fetch->url, found, &name, &error))
    {
      GError *wrapped = g_error_new (error->domain, error->code, _("%s: %s"), fetch->url,
                                     error->message);

      fetch_fail (fetch, TD_DISCOVERY_STATE_FAILED, wrapped);
      return;
    }
  _td_discovery_source_done (discovery, fetch->source, g_steal_pointer (&found),
                             TD_DISCOVERY_STATE_FAILED, NULL);
  fetch_free (fetch);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fetch *fetch = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (bytes == NULL)
    {
      fetch_fail (fetch, TD_DISCOVERY_STATE_FAILED,
                  g_error_new (TD_ERROR, TD_ERROR_CONNECTION, _("%s: %s"), fetch->url,
                               error->message));
      return;
    }
  if (g_bytes_get_size (bytes) == 0)
    {
      fetch_parse (fetch);
      return;
    }
  if (fetch->data->len + g_bytes_get_size (bytes) > TD_AUTOCONFIG_MAX_SIZE)
    {
      fetch_fail (fetch, TD_DISCOVERY_STATE_FAILED,
                  g_error_new (TD_ERROR, TD_ERROR_LIMIT,
                               _("%s: the answer is larger than %u bytes"), fetch->url,
                               (guint) TD_AUTOCONFIG_MAX_SIZE));
      return;
    }
  g_byte_array_append (fetch->data, g_bytes_get_data (bytes, NULL),
                       (guint) g_bytes_get_size (bytes));
  g_input_stream_read_bytes_async (fetch->body, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   fetch->cancellable, read_cb, fetch);
}

static void send_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data);

static void
fetch_send (Fetch *fetch,
            GUri  *uri)
{
  g_clear_object (&fetch->message);
  fetch->message = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  soup_message_add_flags (fetch->message, SOUP_MESSAGE_NO_REDIRECT);
  soup_session_send_async (fetch->session, fetch->message, G_PRIORITY_DEFAULT,
                           fetch->cancellable, send_cb, fetch);
}

/* A 3xx: on to its https:// Location, or the error why not. */
static GError *
fetch_redirect (Fetch *fetch)
{
  const char *location =
    soup_message_headers_get_one (soup_message_get_response_headers (fetch->message),
                                  "Location");
  g_autoptr(GUri) target = NULL;

  if (location == NULL)
    return g_error_new (TD_ERROR, TD_ERROR_PROTOCOL, _("%s: a redirect without a Location"),
                        fetch->url);
  target = g_uri_parse_relative (soup_message_get_uri (fetch->message), location,
                                 G_URI_FLAGS_ENCODED, NULL);
  if (target == NULL || g_strcmp0 (g_uri_get_scheme (target), "https") != 0)
    return g_error_new (TD_ERROR, TD_ERROR_INVALID,
                        _("%s: not following a redirect to %s (only https:// is safe)"),
                        fetch->url, location);
  if (++fetch->redirects > MAX_REDIRECTS)
    return g_error_new (TD_ERROR, TD_ERROR_LIMIT, _("%s: more than %u redirects"), fetch->url,
                        (guint) MAX_REDIRECTS);

  g_debug ("Autoconfig: %s redirects to %s", fetch->url, location);
  g_clear_object (&fetch->body);
  fetch_send (fetch, target);
  return NULL;
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fetch *fetch = user_data;
  g_autoptr(GError) error = NULL;
  guint status;

  fetch->body = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (fetch->body == NULL)
    {
      /* No such host or no web server there is the usual case: nothing, not a failure. A
       * certificate that does not verify is worth saying. */
      gboolean tls = error->domain == G_TLS_ERROR ||
                     soup_message_get_tls_peer_certificate_errors (fetch->message) != 0;

      fetch_fail (fetch, tls ? TD_DISCOVERY_STATE_FAILED : TD_DISCOVERY_STATE_NOTHING,
                  g_error_new (TD_ERROR, tls ? TD_ERROR_CERTIFICATE : TD_ERROR_CONNECTION,
                               tls ? _("%s: the certificate of the web server could not be "
                                       "verified (%s)")
                                   : _("%s: %s"),
                               fetch->url, error->message));
      return;
    }

  status = soup_message_get_status (fetch->message);
  if (SOUP_STATUS_IS_REDIRECTION (status) && status != SOUP_STATUS_NOT_MODIFIED)
    {
      GError *redirect_error = fetch_redirect (fetch);

      if (redirect_error != NULL)
        fetch_fail (fetch, TD_DISCOVERY_STATE_FAILED, redirect_error);
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      const char *phrase = soup_message_get_reason_phrase (fetch->message);

      fetch_fail (fetch, TD_DISCOVERY_STATE_NOTHING,
                  g_error_new (TD_ERROR, TD_ERROR_NOT_FOUND, _("%s: HTTP %u %s"), fetch->url,
                               status, phrase != NULL ? phrase : ""));
      return;
    }

  fetch->data = g_byte_array_new ();
  g_input_stream_read_bytes_async (fetch->body, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   fetch->cancellable, read_cb, fetch);
}

/* @template with %DOMAIN% and %EMAILADDRESS% filled in (escaped for a URL). */
static char *
expand_url (const char *template,
            const char *domain,
            const char *address)
{
  g_autofree char *escaped_address = g_uri_escape_string (address, NULL, FALSE);
  g_autofree char *escaped_domain = g_uri_escape_string (domain, ".-", FALSE);
  GString *out = g_string_new (NULL);

  for (const char *p = template; *p != '\0';)
    {
      if (g_str_has_prefix (p, "%DOMAIN%"))
        {
          g_string_append (out, escaped_domain);
          p += strlen ("%DOMAIN%");
        }
      else if (g_str_has_prefix (p, "%EMAILADDRESS%"))
        {
          g_string_append (out, escaped_address);
          p += strlen ("%EMAILADDRESS%");
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

void
_td_discovery_run_http (TdDiscovery       *self,
                        TdDiscoverySource  source,
                        GCancellable      *cancellable)
{
  g_autoptr(Fetch) fetch = g_new0 (Fetch, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  GTlsDatabase *database;

  fetch->discovery = g_object_ref (self);
  fetch->source = source;
  fetch->cancellable = g_object_ref (cancellable);
  fetch->url = expand_url (_td_discovery_get_url (self, source), td_discovery_get_domain (self),
                           td_discovery_get_address (self));

  uri = g_uri_parse (fetch->url, G_URI_FLAGS_ENCODED, &error);
  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
    {
      GError *invalid = g_error_new (TD_ERROR, TD_ERROR_INVALID,
                                     _("%s is not an https:// address"), fetch->url);

      fetch_fail (g_steal_pointer (&fetch), TD_DISCOVERY_STATE_FAILED, invalid);
      return;
    }

  fetch->session = soup_session_new_with_options ("timeout", _td_discovery_get_probe_timeout (self),
                                                  "user-agent", "Tidings/" PACKAGE_VERSION,
                                                  NULL);
  database = _td_discovery_get_tls_database (self);
  if (database != NULL)
    soup_session_set_tls_database (fetch->session, database);
  fetch_send (g_steal_pointer (&fetch), uri);
}
