/* td-autoconfig.c: the Thunderbird autoconfig format (clientConfig XML), read with GMarkup
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-discovery"

#include "config.h"

#include "td-autoconfig.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

#define MAX_DEPTH        16
#define MAX_TEXT         1024
#define MAX_SERVERS      64

typedef enum
{
  FIELD_NONE,
  FIELD_DOMAIN,
  FIELD_DISPLAY_NAME,
  FIELD_HOSTNAME,
  FIELD_PORT,
  FIELD_SOCKET_TYPE,
  FIELD_USERNAME,
} Field;

typedef struct
{
  gboolean          usable;        /* a type we know */
  TdServerProtocol  protocol;
  char             *hostname;
  char             *port;
  char             *socket_type;
  char             *username;
} Server;

typedef struct
{
  const char        *address;
  const char        *local_part;   /* of address, owned by parse */
  const char        *address_domain;
  const char        *domain;       /* to match, or NULL */
  TdDiscoverySource  source;
  const char        *origin;
  GPtrArray         *out;

  guint              depth;
  gboolean           root_seen;
  gboolean           done;         /* a provider was taken: ignore the rest */
  guint              n_servers;

  /* the provider being read */
  gboolean           in_provider;
  gboolean           provider_matches;
  char              *provider_name;
  GPtrArray         *provider_servers;  /* Server* */
  Server            *server;            /* being read, or NULL */
  Field              field;
  GString           *text;

  char              *taken_name;
} Parse;

static void
server_free (gpointer data)
{
  Server *server = data;

  g_free (server->hostname);
  g_free (server->port);
  g_free (server->socket_type);
  g_free (server->username);
  g_free (server);
}

gboolean
td_autoconfig_host_is_valid (const char *host)
{
  gsize len;
  gboolean label_start = TRUE;

  if (host == NULL || (len = strlen (host)) == 0 || len > 253)
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    {
      if (*p == '.')
        {
          if (label_start)
            return FALSE;  /* ".x", "x..y" */
          label_start = TRUE;
          continue;
        }
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
        return FALSE;
      if (label_start && *p == '-')
        return FALSE;
      label_start = FALSE;
    }
  return TRUE;
}

/* Replaces the placeholders of the format in @pattern. */
static char *
expand (Parse      *parse,
        const char *pattern)
{
  GString *out = g_string_new (NULL);

  for (const char *p = pattern; *p != '\0';)
    {
      if (g_str_has_prefix (p, "%EMAILADDRESS%"))
        {
          g_string_append (out, parse->address);
          p += strlen ("%EMAILADDRESS%");
        }
      else if (g_str_has_prefix (p, "%EMAILLOCALPART%"))
        {
          g_string_append (out, parse->local_part);
          p += strlen ("%EMAILLOCALPART%");
        }
      else if (g_str_has_prefix (p, "%EMAILDOMAIN%"))
        {
          g_string_append (out, parse->address_domain);
          p += strlen ("%EMAILDOMAIN%");
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

/* The candidate of @server, or NULL when it cannot be used. */
static TdServerCandidate *
server_to_candidate (Parse  *parse,
                     Server *server)
{
  g_autoptr(TdServerCandidate) candidate = g_new0 (TdServerCandidate, 1);
  g_autofree char *host = NULL;
  guint64 port = 0;

  if (!server->usable || server->hostname == NULL || server->port == NULL ||
      server->socket_type == NULL)
    return NULL;

  host = expand (parse, server->hostname);
  if (!td_autoconfig_host_is_valid (host))
    {
      g_debug ("Autoconfig: leaving out the host name “%s”", host);
      return NULL;
    }
  if (!g_ascii_string_to_unsigned (server->port, 10, 1, 65535, &port, NULL))
    {
      g_debug ("Autoconfig: leaving out the port “%s”", server->port);
      return NULL;
    }

  if (g_ascii_strcasecmp (server->socket_type, "SSL") == 0 ||
      g_ascii_strcasecmp (server->socket_type, "TLS") == 0)
    candidate->security = TD_CANDIDATE_SECURITY_TLS;
  else if (g_ascii_strcasecmp (server->socket_type, "STARTTLS") == 0)
    candidate->security = TD_CANDIDATE_SECURITY_STARTTLS;
  else if (g_ascii_strcasecmp (server->socket_type, "plain") == 0)
    candidate->security = TD_CANDIDATE_SECURITY_PLAIN;
  else
    {
      g_debug ("Autoconfig: leaving out the socket type “%s”", server->socket_type);
      return NULL;
    }

  candidate->protocol = server->protocol;
  candidate->host = g_ascii_strdown (host, -1);
  candidate->port = (guint16) port;
  if (server->username == NULL || strcmp (server->username, "%EMAILADDRESS%") == 0)
    candidate->username_form = TD_USERNAME_ADDRESS;
  else if (strcmp (server->username, "%EMAILLOCALPART%") == 0)
    candidate->username_form = TD_USERNAME_LOCAL_PART;
  else
    candidate->username_form = TD_USERNAME_OTHER;
  candidate->username = expand (parse, server->username != NULL ? server->username
                                                                : "%EMAILADDRESS%");
  candidate->source = parse->source;
  candidate->origin = g_strdup (parse->origin != NULL ? parse->origin : parse->provider_name);
  return g_steal_pointer (&candidate);
}

static gboolean
limit_error (GError **error)
{
  g_set_error_literal (error, TD_ERROR, TD_ERROR_LIMIT,
                       _("The server settings document is too large or too deeply nested"));
  return FALSE;
}

static void
start_element (GMarkupParseContext  *context,
               const char           *element,
               const char          **names,
               const char          **values,
               gpointer              user_data,
               GError              **error)
{
  Parse *parse = user_data;

  if (++parse->depth > MAX_DEPTH)
    {
      limit_error (error);
      return;
    }

  if (parse->depth == 1)
    {
      if (strcmp (element, "clientConfig") != 0)
        g_set_error (error, TD_ERROR, TD_ERROR_PARSE,
                     _("This is not a server settings document (it starts with <%s>, not "
                       "<clientConfig>)"), element);
      parse->root_seen = TRUE;
      return;
    }
  if (parse->done)
    return;

  if (parse->depth == 2 && strcmp (element, "emailProvider") == 0)
    {
      parse->in_provider = TRUE;
      parse->provider_matches = parse->domain == NULL;
      g_clear_pointer (&parse->provider_name, g_free);
      parse->provider_servers = g_ptr_array_new_with_free_func (server_free);
      return;
    }
  if (!parse->in_provider)
    return;

  if (parse->depth == 3)
    {
      if (strcmp (element, "domain") == 0)
        parse->field = FIELD_DOMAIN;
      else if (strcmp (element, "displayName") == 0)
        parse->field = FIELD_DISPLAY_NAME;
      else if (strcmp (element, "incomingServer") == 0 || strcmp (element, "outgoingServer") == 0)
        {
          const char *type = NULL;
          gboolean incoming = strcmp (element, "incomingServer") == 0;

          if (++parse->n_servers > MAX_SERVERS)
            {
              limit_error (error);
              return;
            }
          for (guint i = 0; names[i] != NULL; i++)
            if (strcmp (names[i], "type") == 0)
              type = values[i];

          parse->server = g_new0 (Server, 1);
          if (incoming && g_strcmp0 (type, "imap") == 0)
            parse->server->protocol = TD_SERVER_PROTOCOL_IMAP;
          else if (incoming && g_strcmp0 (type, "pop3") == 0)
            parse->server->protocol = TD_SERVER_PROTOCOL_POP3;
          else if (!incoming && g_strcmp0 (type, "smtp") == 0)
            parse->server->protocol = TD_SERVER_PROTOCOL_SMTP;
          else
            {
              parse->server->usable = FALSE;
              return;
            }
          parse->server->usable = TRUE;
        }
      return;
    }

  if (parse->depth == 4 && parse->server != NULL)
    {
      if (strcmp (element, "hostname") == 0)
        parse->field = FIELD_HOSTNAME;
      else if (strcmp (element, "port") == 0)
        parse->field = FIELD_PORT;
      else if (strcmp (element, "socketType") == 0)
        parse->field = FIELD_SOCKET_TYPE;
      else if (strcmp (element, "username") == 0)
        parse->field = FIELD_USERNAME;
    }
}

static void
text_cb (GMarkupParseContext  *context,
         const char           *text,
         gsize                 len,
         gpointer              user_data,
         GError              **error)
{
  Parse *parse = user_data;

  if (parse->field == FIELD_NONE)
    return;
  if (parse->text->len + len > MAX_TEXT)
    {
      limit_error (error);
      return;
    }
  g_string_append_len (parse->text, text, (gssize) len);
}

static void
take_provider (Parse *parse)
{
  for (guint i = 0; i < parse->provider_servers->len; i++)
    {
      TdServerCandidate *candidate =
        server_to_candidate (parse, g_ptr_array_index (parse->provider_servers, i));

      if (candidate != NULL)
        g_ptr_array_add (parse->out, candidate);
    }
  g_free (parse->taken_name);
  parse->taken_name = g_strdup (parse->provider_name);
  parse->done = TRUE;
}

static void
end_element (GMarkupParseContext  *context,
             const char           *element,
             gpointer              user_data,
             GError              **error)
{
  Parse *parse = user_data;
  g_autofree char *value = NULL;

  g_assert (parse->depth > 0);
  parse->depth--;

  if (parse->field != FIELD_NONE)
    {
      value = g_strstrip (g_string_free (g_steal_pointer (&parse->text), FALSE));
      parse->text = g_string_new (NULL);
      switch (parse->field)
        {
        case FIELD_DOMAIN:
          if (parse->domain != NULL && g_ascii_strcasecmp (value, parse->domain) == 0)
            parse->provider_matches = TRUE;
          break;
        case FIELD_DISPLAY_NAME:
          g_free (parse->provider_name);
          parse->provider_name = g_steal_pointer (&value);
          break;
        case FIELD_HOSTNAME:
          g_free (parse->server->hostname);
          parse->server->hostname = g_steal_pointer (&value);
          break;
        case FIELD_PORT:
          g_free (parse->server->port);
          parse->server->port = g_steal_pointer (&value);
          break;
        case FIELD_SOCKET_TYPE:
          g_free (parse->server->socket_type);
          parse->server->socket_type = g_steal_pointer (&value);
          break;
        case FIELD_USERNAME:
          g_free (parse->server->username);
          parse->server->username = g_steal_pointer (&value);
          break;
        case FIELD_NONE:
        default:
          g_assert_not_reached ();
        }
      parse->field = FIELD_NONE;
      return;
    }

  if (parse->depth == 2 && parse->server != NULL)
    {
      g_ptr_array_add (parse->provider_servers, g_steal_pointer (&parse->server));
      return;
    }
  if (parse->depth == 1 && parse->in_provider)
    {
      if (parse->provider_matches && !parse->done)
        take_provider (parse);
      g_clear_pointer (&parse->provider_servers, g_ptr_array_unref);
      parse->in_provider = FALSE;
    }
}

static const GMarkupParser parser = {
  start_element,
  end_element,
  text_cb,
  NULL,
  NULL,
};

gboolean
td_autoconfig_parse (const char         *text,
                     gsize               length,
                     const char         *address,
                     const char         *domain,
                     TdDiscoverySource   source,
                     const char         *origin,
                     GPtrArray          *out,
                     char              **provider_name,
                     GError            **error)
{
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autofree char *local_part = NULL;
  const char *at;
  Parse parse = { NULL };
  gboolean ok;

  g_return_val_if_fail (text != NULL || length == 0, FALSE);
  g_return_val_if_fail (address != NULL && (at = strrchr (address, '@')) != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (provider_name != NULL)
    *provider_name = NULL;
  if (length > TD_AUTOCONFIG_MAX_SIZE)
    return limit_error (error);
  if (length == 0)
    {
      g_set_error_literal (error, TD_ERROR, TD_ERROR_PARSE, _("The server settings document is empty"));
      return FALSE;
    }

  local_part = g_strndup (address, (gsize) (at - address));
  parse.address = address;
  parse.local_part = local_part;
  parse.address_domain = at + 1;
  parse.domain = domain;
  parse.source = source;
  parse.origin = origin;
  parse.out = out;
  parse.text = g_string_new (NULL);

  context = g_markup_parse_context_new (&parser, G_MARKUP_TREAT_CDATA_AS_TEXT, &parse, NULL);
  ok = g_markup_parse_context_parse (context, text, (gssize) length, error) &&
       g_markup_parse_context_end_parse (context, error);
  if (!ok && error != NULL && *error != NULL && (*error)->domain == G_MARKUP_ERROR)
    {
      GError *markup = *error;

      *error = g_error_new (TD_ERROR, TD_ERROR_PARSE,
                            _("The server settings document is not valid XML: %s"),
                            markup->message);
      g_error_free (markup);
    }
  else if (ok && !parse.root_seen)
    {
      g_set_error_literal (error, TD_ERROR, TD_ERROR_PARSE,
                           _("This is not a server settings document"));
      ok = FALSE;
    }

  if (ok && provider_name != NULL)
    *provider_name = g_steal_pointer (&parse.taken_name);
  if (parse.server != NULL)
    server_free (parse.server);
  g_clear_pointer (&parse.provider_servers, g_ptr_array_unref);
  g_free (parse.provider_name);
  g_free (parse.taken_name);
  g_string_free (parse.text, TRUE);
  return ok;
}
