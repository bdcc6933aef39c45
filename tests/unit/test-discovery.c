/* test-discovery.c: TdDiscovery and the autoconfig reader, against local servers only
 *
 * The provider database (bundled and a test file), autoconfig documents from a local libsoup
 * HTTPS server (tests/data/tls), SRV answers and host names from a TdTestResolver, probes
 * against scripted servers, the time limit and cancelling. Probing a real Dovecot is in
 * tests/integration/test-discovery-dovecot.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "td-autoconfig.h"
#include "td-discovery.h"
#include "td-discovery-resources.h"
#include "td-error.h"
#include "td-test-resolver.h"
#include "td-test-script-server.h"
#include "td-test-util.h"

#define ADDRESS "alice@example.test"

/* --- Running a discovery --- */

typedef struct
{
  TdDiscovery    *discovery;
  TdTestResolver *resolver;
  GResolver      *old_resolver;
  GPtrArray      *steps;      /* "source state detail" */
  gint64          elapsed_ms;
} Fixture;

static void
step_cb (TdDiscovery *discovery,
         int          source,
         int          state,
         const char  *detail,
         gpointer     user_data)
{
  Fixture *f = user_data;
  static const char *const states[] = {
    "running", "found", "nothing", "failed", "timed-out", "skipped"
  };
  static const char *const sources[] = {
    "providers", "autoconfig", "well-known", "srv", "probe"
  };

  g_assert_cmpint (source, >=, 0);
  g_assert_cmpint (source, <, TD_DISCOVERY_N_SOURCES);
  g_assert_cmpint (state, >=, 0);
  g_assert_cmpint (state, <=, TD_DISCOVERY_STATE_SKIPPED);
  g_ptr_array_add (f->steps, g_strdup_printf ("%s %s %s", sources[source], states[state],
                                              detail));
  g_test_message ("step: %s", (char *) g_ptr_array_index (f->steps, f->steps->len - 1));
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->old_resolver = g_resolver_get_default ();
  f->resolver = td_test_resolver_new ();
  td_test_resolver_add_host (f->resolver, "localhost", "127.0.0.1");
  g_resolver_set_default (G_RESOLVER (f->resolver));
  f->steps = g_ptr_array_new_with_free_func (g_free);
  f->discovery = td_discovery_new (ADDRESS);
  g_assert_nonnull (f->discovery);
  g_signal_connect (f->discovery, "step", G_CALLBACK (step_cb), f);
  /* nothing leaves the machine: no standard autoconfig URLs, only what a test sets */
  td_discovery_set_autoconfig_urls (f->discovery, "", "");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->discovery);
  g_resolver_set_default (f->old_resolver);
  g_clear_object (&f->old_resolver);
  g_clear_object (&f->resolver);
  g_ptr_array_unref (f->steps);
  /* let closes in the background finish */
  for (int i = 0; i < 20 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static void
only_sources (Fixture           *f,
              TdDiscoverySource  first,
              ...)
{
  va_list ap;
  gboolean on[TD_DISCOVERY_N_SOURCES] = { FALSE };

  va_start (ap, first);
  for (int s = (int) first; s != -1; s = va_arg (ap, int))
    on[s] = TRUE;
  va_end (ap);
  for (guint s = 0; s < TD_DISCOVERY_N_SOURCES; s++)
    td_discovery_set_source_enabled (f->discovery, s, on[s]);
}

static gboolean
run (Fixture  *f,
     GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  gint64 start = g_get_monotonic_time ();
  gboolean ok;

  td_discovery_run_async (f->discovery, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, 30000);
  ok = td_discovery_run_finish (f->discovery, result, error);
  f->elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  return ok;
}

static gboolean
has_step (Fixture    *f,
          const char *pattern)
{
  for (guint i = 0; i < f->steps->len; i++)
    if (g_pattern_match_simple (pattern, g_ptr_array_index (f->steps, i)))
      return TRUE;
  return FALSE;
}

static const TdServerCandidate *
candidate_at (Fixture          *f,
              TdServerProtocol  protocol,
              guint             index)
{
  g_autoptr(GPtrArray) all = td_discovery_get_candidates (f->discovery, protocol);

  g_assert_cmpuint (index, <, all->len);
  return g_ptr_array_index (all, index);
}

static guint
n_candidates (Fixture          *f,
              TdServerProtocol  protocol)
{
  g_autoptr(GPtrArray) all = td_discovery_get_candidates (f->discovery, protocol);

  return all->len;
}

static void
assert_candidate (const TdServerCandidate *c,
                  const char              *host,
                  guint16                  port,
                  TdCandidateSecurity      security,
                  TdDiscoverySource        source)
{
  g_assert_nonnull (c);
  g_assert_cmpstr (c->host, ==, host);
  g_assert_cmpuint (c->port, ==, port);
  g_assert_cmpint (c->security, ==, security);
  g_assert_cmpint (c->source, ==, source);
}

/* --- The provider database --- */

static void
test_address (void)
{
  g_autoptr(TdDiscovery) d = NULL;
  const char *bad[] = { "", "alice", "@example.org", "alice@", "alice@localhost",
                        "alice@exa mple.org", "alice@example..org", "al ice@example.org",
                        "alice@-example.org", "alice@example.org/x" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      TdDiscovery *none = td_discovery_new (bad[i]);

      if (none != NULL)
        g_error ("“%s” was taken as an address", bad[i]);
    }
  d = td_discovery_new ("Alice.Smith+tag@Mail.Example.ORG");
  g_assert_nonnull (d);
  g_assert_cmpstr (td_discovery_get_domain (d), ==, "mail.example.org");
  g_assert_cmpstr (td_discovery_get_address (d), ==, "Alice.Smith+tag@Mail.Example.ORG");
}

static void
test_bundled (void)
{
  g_autoptr(GBytes) bytes = NULL;
  const char *text;
  gsize length;
  static const struct
  {
    const char *domain;
    const char *imap;
    const char *pop3;     /* NULL: none offered */
    const char *smtp;
    guint16     smtp_port;
    TdUsernameForm form;
  } expected[] = {
    { "gmail.com", "imap.gmail.com", "pop.gmail.com", "smtp.gmail.com", 465, TD_USERNAME_ADDRESS },
    { "googlemail.com", "imap.gmail.com", "pop.gmail.com", "smtp.gmail.com", 465, TD_USERNAME_ADDRESS },
    { "outlook.com", "outlook.office365.com", "outlook.office365.com", "smtp.office365.com", 587, TD_USERNAME_ADDRESS },
    { "hotmail.com", "outlook.office365.com", "outlook.office365.com", "smtp.office365.com", 587, TD_USERNAME_ADDRESS },
    { "live.com", "outlook.office365.com", "outlook.office365.com", "smtp.office365.com", 587, TD_USERNAME_ADDRESS },
    { "yahoo.com", "imap.mail.yahoo.com", "pop.mail.yahoo.com", "smtp.mail.yahoo.com", 465, TD_USERNAME_ADDRESS },
    { "icloud.com", "imap.mail.me.com", NULL, "smtp.mail.me.com", 587, TD_USERNAME_LOCAL_PART },
    { "me.com", "imap.mail.me.com", NULL, "smtp.mail.me.com", 587, TD_USERNAME_LOCAL_PART },
    { "gmx.net", "imap.gmx.net", "pop.gmx.net", "mail.gmx.net", 465, TD_USERNAME_ADDRESS },
    { "gmx.de", "imap.gmx.net", "pop.gmx.net", "mail.gmx.net", 465, TD_USERNAME_ADDRESS },
    { "gmx.com", "imap.gmx.com", "pop.gmx.com", "mail.gmx.com", 465, TD_USERNAME_ADDRESS },
    { "web.de", "imap.web.de", "pop3.web.de", "smtp.web.de", 587, TD_USERNAME_LOCAL_PART },
    { "fastmail.com", "imap.fastmail.com", "pop.fastmail.com", "smtp.fastmail.com", 465, TD_USERNAME_ADDRESS },
    { "posteo.de", "posteo.de", "posteo.de", "posteo.de", 465, TD_USERNAME_ADDRESS },
    { "mailbox.org", "imap.mailbox.org", NULL, "smtp.mailbox.org", 465, TD_USERNAME_ADDRESS },
    { "aol.com", "imap.aol.com", "pop.aol.com", "smtp.aol.com", 465, TD_USERNAME_ADDRESS },
    { "zoho.com", "imap.zoho.com", "pop.zoho.com", "smtp.zoho.com", 465, TD_USERNAME_ADDRESS },
    { "yandex.com", "imap.yandex.com", NULL, "smtp.yandex.com", 465, TD_USERNAME_ADDRESS },
  };

  bytes = g_resource_lookup_data (td_discovery_get_resource (),
                                  "/org/tidings/Tidings/discovery/tidings-providers.xml",
                                  G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_assert_nonnull (bytes);
  text = g_bytes_get_data (bytes, &length);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) td_server_candidate_free);
      g_autoptr(GError) error = NULL;
      g_autofree char *address = g_strconcat ("alice@", expected[i].domain, NULL);
      g_autofree char *name = NULL;
      const TdServerCandidate *imap = NULL, *pop3 = NULL, *smtp = NULL;

      g_assert_true (td_autoconfig_parse (text, length, address, expected[i].domain,
                                          TD_DISCOVERY_SOURCE_PROVIDERS, NULL, found, &name,
                                          &error));
      g_assert_no_error (error);
      g_assert_nonnull (name);
      for (guint j = 0; j < found->len; j++)
        {
          const TdServerCandidate *c = g_ptr_array_index (found, j);

          g_assert_cmpint (c->security, !=, TD_CANDIDATE_SECURITY_PLAIN);
          g_assert_cmpstr (c->origin, ==, name);
          if (c->protocol == TD_SERVER_PROTOCOL_IMAP && imap == NULL)
            imap = c;
          else if (c->protocol == TD_SERVER_PROTOCOL_POP3 && pop3 == NULL)
            pop3 = c;
          else if (c->protocol == TD_SERVER_PROTOCOL_SMTP && smtp == NULL)
            smtp = c;
        }
      g_test_message ("%s: %s", expected[i].domain, name);
      g_assert_nonnull (imap);
      g_assert_cmpstr (imap->host, ==, expected[i].imap);
      g_assert_cmpuint (imap->port, ==, 993);
      g_assert_cmpint (imap->security, ==, TD_CANDIDATE_SECURITY_TLS);
      g_assert_cmpint (imap->username_form, ==, expected[i].form);
      g_assert_cmpstr (imap->username, ==,
                       expected[i].form == TD_USERNAME_ADDRESS ? address : "alice");
      if (expected[i].pop3 == NULL)
        g_assert_null (pop3);
      else
        {
          g_assert_nonnull (pop3);
          g_assert_cmpstr (pop3->host, ==, expected[i].pop3);
          g_assert_cmpuint (pop3->port, ==, 995);
        }
      g_assert_nonnull (smtp);
      g_assert_cmpstr (smtp->host, ==, expected[i].smtp);
      g_assert_cmpuint (smtp->port, ==, expected[i].smtp_port);
    }
}

static void
test_bundled_run (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(TdDiscovery) gmail = td_discovery_new ("someone@gmail.com");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const TdServerCandidate *imap;

  /* the whole run, every source on: the database decides at once and stops the others */
  td_discovery_set_autoconfig_urls (gmail, "", "");
  td_test_resolver_set_srv_delay (f->resolver, 5000);
  td_discovery_run_async (gmail, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, 4000);
  g_assert_true (td_discovery_run_finish (gmail, result, &error));
  g_assert_no_error (error);

  imap = td_discovery_get_best (gmail, TD_SERVER_PROTOCOL_IMAP);
  assert_candidate (imap, "imap.gmail.com", 993, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_PROVIDERS);
  g_assert_cmpstr (imap->username, ==, "someone@gmail.com");
  g_assert_false (imap->probed);
  assert_candidate (td_discovery_get_best (gmail, TD_SERVER_PROTOCOL_SMTP), "smtp.gmail.com",
                    465, TD_CANDIDATE_SECURITY_TLS, TD_DISCOVERY_SOURCE_PROVIDERS);
  g_clear_object (&gmail);
}

static void
test_provider_file (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *path = td_test_data_path ("discovery/providers.xml");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  const TdServerCandidate *c;

  only_sources (f, TD_DISCOVERY_SOURCE_PROVIDERS, -1);
  td_discovery_set_provider_file (f->discovery, file);
  g_assert_true (run (f, &error));
  g_assert_no_error (error);

  /* TLS before STARTTLS; the unusable entries (exchange, a space in the name, port 99999,
   * an unknown socket type) are left out */
  g_assert_cmpuint (n_candidates (f, TD_SERVER_PROTOCOL_IMAP), ==, 2);
  c = candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 0);
  assert_candidate (c, "imap.example.test", 993, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_PROVIDERS);
  g_assert_cmpint (c->username_form, ==, TD_USERNAME_LOCAL_PART);
  g_assert_cmpstr (c->username, ==, "alice");
  g_assert_cmpstr (c->origin, ==, "Example Mail");
  c = candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 1);
  assert_candidate (c, "imap.example.test", 143, TD_CANDIDATE_SECURITY_STARTTLS,
                    TD_DISCOVERY_SOURCE_PROVIDERS);

  /* plaintext POP3 is listed, never chosen */
  g_assert_cmpuint (n_candidates (f, TD_SERVER_PROTOCOL_POP3), ==, 1);
  c = candidate_at (f, TD_SERVER_PROTOCOL_POP3, 0);
  g_assert_cmpint (c->security, ==, TD_CANDIDATE_SECURITY_PLAIN);
  g_assert_cmpint (c->username_form, ==, TD_USERNAME_OTHER);
  g_assert_cmpstr (c->username, ==, "mail-alice");
  g_assert_null (td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_POP3));

  c = td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_SMTP);
  assert_candidate (c, "smtp.example.test", 587, TD_CANDIDATE_SECURITY_STARTTLS,
                    TD_DISCOVERY_SOURCE_PROVIDERS);

  c = td_discovery_choose_incoming (f->discovery, NULL, &reason, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->port, ==, 993);
  g_assert_nonnull (strstr (reason, "imap.example.test:993"));
  g_assert_true (has_step (f, "providers running *"));
  g_assert_true (has_step (f, "providers found *imap imap.example.test:993 (tls)*"));

  {
    TdServerProtocol pop3 = TD_SERVER_PROTOCOL_POP3;

    g_assert_null (td_discovery_choose_incoming (f->discovery, &pop3, NULL, &error));
    g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "only IMAP"));
  }
}

static void
test_provider_file_missing (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GFile) file = g_file_new_for_path ("/nonexistent/tidings/providers.xml");
  g_autoptr(GError) error = NULL;

  only_sources (f, TD_DISCOVERY_SOURCE_PROVIDERS, -1);
  td_discovery_set_provider_file (f->discovery, file);
  g_assert_true (run (f, &error));
  g_assert_true (has_step (f, "providers failed *"));
  g_assert_null (td_discovery_choose_incoming (f->discovery, NULL, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
}

/* --- The autoconfig reader on hostile documents --- */

static void
assert_parse_fails (const char *text,
                    gsize       length,
                    int         code)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) td_server_candidate_free);
  g_autoptr(GError) error = NULL;

  g_assert_false (td_autoconfig_parse (text, length, ADDRESS, NULL,
                                       TD_DISCOVERY_SOURCE_AUTOCONFIG, "test", found, NULL,
                                       &error));
  g_assert_error (error, TD_ERROR, code);
  g_test_message ("%s", error->message);
}

static void
test_parse_hostile (void)
{
  g_autoptr(GString) deep = g_string_new ("<clientConfig>");
  g_autoptr(GString) many = g_string_new ("<clientConfig><emailProvider>");
  g_autoptr(GString) long_text = g_string_new ("<clientConfig><emailProvider><incomingServer "
                                               "type=\"imap\"><hostname>");
  g_autofree char *huge = g_malloc0 (TD_AUTOCONFIG_MAX_SIZE + 2);
  const char *truncated = "<clientConfig><emailProvider><incomingServer type=\"imap\">";
  const char *garbage = "\x01\x02<clientConfig>\xff\xfe</clientConfig>";

  assert_parse_fails ("", 0, TD_ERROR_PARSE);
  assert_parse_fails ("<html><body>Not here</body></html>", 34, TD_ERROR_PARSE);
  assert_parse_fails (truncated, strlen (truncated), TD_ERROR_PARSE);
  assert_parse_fails (garbage, strlen (garbage), TD_ERROR_PARSE);
  assert_parse_fails ("<clientConfig><a></b></clientConfig>", 36, TD_ERROR_PARSE);
  assert_parse_fails ("<clientConfig>&bogus;</clientConfig>", 36, TD_ERROR_PARSE);

  for (int i = 0; i < 40; i++)
    g_string_append (deep, "<emailProvider>");
  assert_parse_fails (deep->str, deep->len, TD_ERROR_LIMIT);

  for (int i = 0; i < 100; i++)
    g_string_append (many, "<incomingServer type=\"imap\"/>");
  g_string_append (many, "</emailProvider></clientConfig>");
  assert_parse_fails (many->str, many->len, TD_ERROR_LIMIT);

  for (int i = 0; i < 2000; i++)
    g_string_append_c (long_text, 'a');
  g_string_append (long_text, "</hostname></incomingServer></emailProvider></clientConfig>");
  assert_parse_fails (long_text->str, long_text->len, TD_ERROR_LIMIT);

  memset (huge, ' ', TD_AUTOCONFIG_MAX_SIZE + 1);
  assert_parse_fails (huge, TD_AUTOCONFIG_MAX_SIZE + 1, TD_ERROR_LIMIT);
}

static void
test_parse_placeholders (void)
{
  const char *doc =
    "<?xml version=\"1.0\"?>\n<!-- a comment -->\n"
    "<clientConfig version=\"1.1\"><emailProvider id=\"x\">"
    "<incomingServer type=\"imap\"><hostname>imap.%EMAILDOMAIN%</hostname><port>993</port>"
    "<socketType>SSL</socketType><username>%EMAILLOCALPART%@corp</username></incomingServer>"
    "<incomingServer type=\"pop3\"><hostname>%EMAILLOCALPART%.evil/x</hostname>"
    "<port>995</port><socketType>SSL</socketType></incomingServer>"
    "<outgoingServer type=\"imap\"><hostname>wrong.example.test</hostname><port>1</port>"
    "<socketType>SSL</socketType></outgoingServer>"
    "</emailProvider><emailProvider><incomingServer type=\"imap\"><hostname>second.test"
    "</hostname><port>993</port><socketType>SSL</socketType></incomingServer>"
    "</emailProvider></clientConfig>";
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) td_server_candidate_free);
  g_autoptr(GError) error = NULL;
  const TdServerCandidate *c;

  g_assert_true (td_autoconfig_parse (doc, strlen (doc), ADDRESS, NULL,
                                      TD_DISCOVERY_SOURCE_AUTOCONFIG, "https://x", found, NULL,
                                      &error));
  g_assert_no_error (error);
  /* the first provider only; a host name made into a path and an outgoing IMAP are out */
  g_assert_cmpuint (found->len, ==, 1);
  c = g_ptr_array_index (found, 0);
  assert_candidate (c, "imap.example.test", 993, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_AUTOCONFIG);
  g_assert_cmpint (c->username_form, ==, TD_USERNAME_OTHER);
  g_assert_cmpstr (c->username, ==, "alice@corp");
  g_assert_cmpstr (c->origin, ==, "https://x");
}

/* --- Autoconfig over HTTPS --- */

typedef struct
{
  SoupServer *server;
  guint16     port;
  GHashTable *bodies;    /* path -> body (404 when missing) */
  GHashTable *redirects; /* path -> Location of a 302 */
  char       *query_address;
  guint       requests;
} Web;

static void
web_handler (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Web *web = user_data;
  const char *body = g_hash_table_lookup (web->bodies, path);
  const char *location = g_hash_table_lookup (web->redirects, path);

  web->requests++;
  if (location != NULL)
    {
      soup_server_message_set_redirect (msg, SOUP_STATUS_FOUND, location);
      return;
    }
  if (query != NULL && g_hash_table_lookup (query, "emailaddress") != NULL)
    {
      g_free (web->query_address);
      web->query_address = g_strdup (g_hash_table_lookup (query, "emailaddress"));
    }
  if (body == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/xml", SOUP_MEMORY_COPY, body, strlen (body));
}

static Web *
web_new (void)
{
  Web *web = g_new0 (Web, 1);
  g_autofree char *cert = td_test_data_path ("tls/localhost-cert.pem");
  g_autofree char *key = td_test_data_path ("tls/localhost-key.pem");
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;
  GSList *uris;

  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  g_assert_no_error (error);
  web->server = soup_server_new ("tls-certificate", certificate, NULL);
  web->bodies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  web->redirects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  soup_server_add_handler (web->server, NULL, web_handler, web, NULL);
  soup_server_listen_local (web->server, 0,
                            SOUP_SERVER_LISTEN_HTTPS | SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (web->server);
  g_assert_nonnull (uris);
  web->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return web;
}

static gboolean
drained_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
web_free (Web *web)
{
  gboolean drained = FALSE;

  /* A fetch the discovery stopped (skipped, timed out) closes its connection from the main
   * loop; the server's disconnect closes synchronously and would wait for that TLS peer. */
  g_timeout_add (300, drained_cb, &drained);
  td_test_wait_for (&drained, 5000);
  soup_server_disconnect (web->server);
  g_object_unref (web->server);
  g_hash_table_unref (web->bodies);
  g_hash_table_unref (web->redirects);
  g_free (web->query_address);
  g_free (web);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Web, web_free)

static char *
web_url (Web        *web,
         const char *path)
{
  return g_strdup_printf ("https://localhost:%u%s", web->port, path);
}

/* Trust the test certificate for autoconfig (as a CA of its own). */
static void
trust_test_certificate (Fixture *f)
{
  g_autofree char *cert = td_test_data_path ("tls/localhost-cert.pem");
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GError) error = NULL;

  database = g_tls_file_database_new (cert, &error);
  g_assert_no_error (error);
  td_discovery_set_tls_database (f->discovery, database);
}

#define AUTOCONFIG_DOC \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
  "<clientConfig version=\"1.1\"><emailProvider id=\"example.test\">" \
  "<domain>example.test</domain><displayName>Example</displayName>" \
  "<incomingServer type=\"pop3\"><hostname>pop.example.test</hostname><port>995</port>" \
  "<socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer>" \
  "<incomingServer type=\"imap\"><hostname>mail.example.test</hostname><port>143</port>" \
  "<socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username></incomingServer>" \
  "<incomingServer type=\"imap\"><hostname>mail.example.test</hostname><port>993</port>" \
  "<socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer>" \
  "<outgoingServer type=\"smtp\"><hostname>mail.example.test</hostname><port>465</port>" \
  "<socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>" \
  "</emailProvider></clientConfig>\n"

static void
test_autoconfig (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(Web) web = web_new ();
  g_autofree char *url = NULL;
  g_autofree char *well_known = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  const TdServerCandidate *c;

  g_hash_table_insert (web->bodies, g_strdup ("/example.test/mail/config-v1.1.xml"),
                       g_strdup (AUTOCONFIG_DOC));
  url = web_url (web, "/%DOMAIN%/mail/config-v1.1.xml?emailaddress=%EMAILADDRESS%");
  well_known = web_url (web, "/never-asked");
  td_discovery_set_autoconfig_urls (f->discovery, url, well_known);
  trust_test_certificate (f);
  /* SRV may answer first, but autoconfig is trusted more */
  td_test_resolver_add_srv (f->resolver, "_imaps._tcp.example.test", 0, 0, 993,
                            "srv.example.test");
  only_sources (f, TD_DISCOVERY_SOURCE_PROVIDERS, TD_DISCOVERY_SOURCE_AUTOCONFIG,
                TD_DISCOVERY_SOURCE_WELL_KNOWN, TD_DISCOVERY_SOURCE_SRV, -1);

  g_assert_true (run (f, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (web->query_address, ==, ADDRESS);

  /* autoconfig is trusted more than SRV: its servers come first */
  c = td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_IMAP);
  assert_candidate (c, "mail.example.test", 993, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_AUTOCONFIG);
  g_assert_nonnull (strstr (c->origin, "/example.test/mail/config-v1.1.xml"));
  c = candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 1);
  assert_candidate (c, "mail.example.test", 143, TD_CANDIDATE_SECURITY_STARTTLS,
                    TD_DISCOVERY_SOURCE_AUTOCONFIG);
  assert_candidate (td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_POP3),
                    "pop.example.test", 995, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_AUTOCONFIG);
  assert_candidate (td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_SMTP),
                    "mail.example.test", 465, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_AUTOCONFIG);
  g_assert_true (has_step (f, "autoconfig found *"));

  /* both kinds found: IMAP, and the reason says why */
  c = td_discovery_choose_incoming (f->discovery, NULL, &reason, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->protocol, ==, TD_SERVER_PROTOCOL_IMAP);
  g_assert_nonnull (strstr (reason, "POP3 was found too"));
  {
    TdServerProtocol pop3 = TD_SERVER_PROTOCOL_POP3;

    c = td_discovery_choose_incoming (f->discovery, &pop3, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (c->protocol, ==, TD_SERVER_PROTOCOL_POP3);
  }
}

static void
test_autoconfig_precedence (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(Web) web = web_new ();
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;

  g_hash_table_insert (web->bodies, g_strdup ("/ac"), g_strdup (AUTOCONFIG_DOC));
  url = web_url (web, "/ac");
  td_discovery_set_autoconfig_urls (f->discovery, url, "");
  trust_test_certificate (f);
  /* SRV would only answer after 10 s: autoconfig decides, SRV is skipped */
  only_sources (f, TD_DISCOVERY_SOURCE_AUTOCONFIG, TD_DISCOVERY_SOURCE_SRV, -1);
  td_test_resolver_set_srv_delay (f->resolver, 10000);

  g_assert_true (run (f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (f->elapsed_ms, <, 10000);
  g_assert_true (has_step (f, "srv skipped *"));
  assert_candidate (td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_IMAP),
                    "mail.example.test", 993, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_AUTOCONFIG);
}

static void
test_autoconfig_404_then_well_known (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(Web) web = web_new ();
  g_autofree char *url = NULL;
  g_autofree char *well_known = NULL;
  g_autoptr(GError) error = NULL;

  g_hash_table_insert (web->bodies, g_strdup ("/.well-known/autoconfig/mail/config-v1.1.xml"),
                       g_strdup (AUTOCONFIG_DOC));
  url = web_url (web, "/missing");
  well_known = web_url (web, "/.well-known/autoconfig/mail/config-v1.1.xml");
  td_discovery_set_autoconfig_urls (f->discovery, url, well_known);
  trust_test_certificate (f);
  only_sources (f, TD_DISCOVERY_SOURCE_AUTOCONFIG, TD_DISCOVERY_SOURCE_WELL_KNOWN, -1);

  g_assert_true (run (f, &error));
  g_assert_no_error (error);
  g_assert_true (has_step (f, "autoconfig nothing *HTTP 404*"));
  g_assert_true (has_step (f, "well-known found *"));
  assert_candidate (td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_IMAP),
                    "mail.example.test", 993, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_WELL_KNOWN);
}

static void
test_autoconfig_hostile (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(Web) web = web_new ();
  g_autofree char *url = NULL;
  g_autofree char *well_known = NULL;
  g_autoptr(GError) error = NULL;
  GString *big = g_string_new ("<clientConfig>");

  while (big->len <= TD_AUTOCONFIG_MAX_SIZE)
    g_string_append (big, "<!-- padding padding padding padding padding padding -->");
  g_string_append (big, "</clientConfig>");
  g_hash_table_insert (web->bodies, g_strdup ("/broken"),
                       g_strdup ("<clientConfig><emailProvider><incomingServer type=\"imap\">"
                                 "<hostname>imap.example.test</hostname></emailProvider>"));
  g_hash_table_insert (web->bodies, g_strdup ("/big"), g_string_free (big, FALSE));
  url = web_url (web, "/broken");
  well_known = web_url (web, "/big");
  td_discovery_set_autoconfig_urls (f->discovery, url, well_known);
  trust_test_certificate (f);
  only_sources (f, TD_DISCOVERY_SOURCE_AUTOCONFIG, TD_DISCOVERY_SOURCE_WELL_KNOWN, -1);

  g_assert_true (run (f, &error));
  g_assert_no_error (error);
  g_assert_true (has_step (f, "autoconfig failed *not valid XML*"));
  g_assert_true (has_step (f, "well-known failed *larger than*"));
  g_assert_cmpuint (n_candidates (f, TD_SERVER_PROTOCOL_IMAP), ==, 0);
  g_assert_null (td_discovery_choose_incoming (f->discovery, NULL, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
}

static void
test_autoconfig_redirect (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(Web) web = web_new ();
  g_autofree char *url = NULL;
  g_autofree char *well_known = NULL;
  g_autoptr(GError) error = NULL;
  const TdServerCandidate *c;

  /* autoconfig: two redirects, relative then absolute, to the document; .well-known: a
   * redirect to plain http, not followed */
  g_hash_table_insert (web->redirects, g_strdup ("/first"), g_strdup ("/second"));
  g_hash_table_insert (web->redirects, g_strdup ("/second"),
                       g_strdup_printf ("https://localhost:%u/ac", web->port));
  g_hash_table_insert (web->bodies, g_strdup ("/ac"), g_strdup (AUTOCONFIG_DOC));
  g_hash_table_insert (web->redirects, g_strdup ("/to-http"),
                       g_strdup_printf ("http://localhost:%u/ac", web->port));
  url = web_url (web, "/first");
  well_known = web_url (web, "/to-http");
  td_discovery_set_autoconfig_urls (f->discovery, url, well_known);
  trust_test_certificate (f);
  only_sources (f, TD_DISCOVERY_SOURCE_AUTOCONFIG, TD_DISCOVERY_SOURCE_WELL_KNOWN, -1);

  g_assert_true (run (f, &error));
  g_assert_no_error (error);
  g_assert_true (has_step (f, "well-known failed *only https:// is safe*"));
  c = td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_IMAP);
  assert_candidate (c, "mail.example.test", 993, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_AUTOCONFIG);
  g_assert_cmpuint (web->requests, ==, 4);
}

static void
test_autoconfig_redirect_loop (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(Web) web = web_new ();
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;

  g_hash_table_insert (web->redirects, g_strdup ("/loop"), g_strdup ("/loop"));
  url = web_url (web, "/loop");
  td_discovery_set_autoconfig_urls (f->discovery, url, "");
  trust_test_certificate (f);
  only_sources (f, TD_DISCOVERY_SOURCE_AUTOCONFIG, -1);

  g_assert_true (run (f, &error));
  g_assert_true (has_step (f, "autoconfig failed *more than 3 redirects*"));
  g_assert_cmpuint (web->requests, ==, 4);
}

static void
test_autoconfig_untrusted (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(Web) web = web_new ();
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;

  g_hash_table_insert (web->bodies, g_strdup ("/ac"), g_strdup (AUTOCONFIG_DOC));
  url = web_url (web, "/ac");
  /* the system's authorities do not know the test certificate: nothing is read from it */
  td_discovery_set_autoconfig_urls (f->discovery, url, "");
  only_sources (f, TD_DISCOVERY_SOURCE_AUTOCONFIG, -1);

  g_assert_true (run (f, &error));
  g_assert_no_error (error);
  g_assert_true (has_step (f, "autoconfig failed *certificate*"));
  g_assert_cmpuint (n_candidates (f, TD_SERVER_PROTOCOL_IMAP), ==, 0);
}

static void
test_autoconfig_plain_http (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  td_discovery_set_autoconfig_urls (f->discovery, "http://localhost:1/x", "");
  only_sources (f, TD_DISCOVERY_SOURCE_AUTOCONFIG, -1);
  g_assert_true (run (f, &error));
  g_assert_true (has_step (f, "autoconfig failed *https://*"));
}

/* --- SRV --- */

static void
test_srv (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const TdServerCandidate *c;

  /* given out of order: lowest priority first, then the heavier weight */
  td_test_resolver_add_srv (f->resolver, "_imaps._tcp.example.test", 20, 0, 993,
                            "backup.example.test");
  td_test_resolver_add_srv (f->resolver, "_imaps._tcp.example.test", 10, 5, 993,
                            "light.example.test");
  td_test_resolver_add_srv (f->resolver, "_imaps._tcp.example.test", 10, 60, 9993,
                            "heavy.example.test.");
  td_test_resolver_add_srv (f->resolver, "_imap._tcp.example.test", 0, 0, 0, ".");
  td_test_resolver_add_srv (f->resolver, "_pop3s._tcp.example.test", 0, 0, 0, ".");
  td_test_resolver_add_srv (f->resolver, "_pop3._tcp.example.test", 0, 0, 110,
                            "bad host.example.test");
  td_test_resolver_add_srv (f->resolver, "_submission._tcp.example.test", 0, 1, 587,
                            "smtp.example.test");
  only_sources (f, TD_DISCOVERY_SOURCE_SRV, -1);

  g_assert_true (run (f, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (n_candidates (f, TD_SERVER_PROTOCOL_IMAP), ==, 3);
  c = candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 0);
  assert_candidate (c, "heavy.example.test", 9993, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_SRV);
  g_assert_cmpstr (c->origin, ==, "_imaps._tcp.example.test");
  g_assert_cmpstr (c->username, ==, ADDRESS);
  assert_candidate (candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 1), "light.example.test", 993,
                    TD_CANDIDATE_SECURITY_TLS, TD_DISCOVERY_SOURCE_SRV);
  assert_candidate (candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 2), "backup.example.test", 993,
                    TD_CANDIDATE_SECURITY_TLS, TD_DISCOVERY_SOURCE_SRV);
  /* "." is "not offered", a bad target is left out */
  g_assert_cmpuint (n_candidates (f, TD_SERVER_PROTOCOL_POP3), ==, 0);
  g_assert_true (has_step (f, "srv running _imap._tcp.example.test: not offered"));
  g_assert_true (has_step (f, "srv running _pop3s._tcp.example.test: not offered"));
  assert_candidate (td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_SMTP),
                    "smtp.example.test", 587, TD_CANDIDATE_SECURITY_STARTTLS,
                    TD_DISCOVERY_SOURCE_SRV);
  g_assert_cmpuint (td_test_resolver_get_lookups (f->resolver, "_submissions._tcp.example.test"),
                    ==, 1);
}

static void
test_srv_nothing (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  only_sources (f, TD_DISCOVERY_SOURCE_SRV, -1);
  g_assert_true (run (f, &error));
  g_assert_true (has_step (f, "srv nothing *"));
  g_assert_null (td_discovery_choose_incoming (f->discovery, NULL, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "example.test"));
}

/* --- The time limit and cancelling --- */

static void
test_time_limit (Fixture       *f,
                 gconstpointer  data)
{
  /* accepts, and then says nothing: the TLS handshake of autoconfig never ends */
  g_autoptr(TdTestScriptServer) silent = td_test_script_server_new ("S! pause 20000\n");
  g_autofree char *url = g_strdup_printf ("https://localhost:%u/x",
                                          td_test_script_server_get_port (silent));
  g_autoptr(GError) error = NULL;

  td_discovery_set_autoconfig_urls (f->discovery, url, "");
  td_discovery_set_time_limit (f->discovery, 1500);
  td_test_resolver_add_srv (f->resolver, "_imaps._tcp.example.test", 0, 0, 993,
                            "imap.example.test");
  only_sources (f, TD_DISCOVERY_SOURCE_AUTOCONFIG, TD_DISCOVERY_SOURCE_SRV, -1);

  g_assert_true (run (f, &error));
  g_assert_no_error (error);
  g_test_message ("finished after %" G_GINT64_FORMAT " ms", f->elapsed_ms);
  g_assert_cmpint (f->elapsed_ms, >=, 1400);
  g_assert_cmpint (f->elapsed_ms, <, 4000);
  g_assert_true (has_step (f, "autoconfig timed-out *"));
  g_assert_true (has_step (f, "srv found *"));
  assert_candidate (td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_IMAP),
                    "imap.example.test", 993, TD_CANDIDATE_SECURITY_TLS,
                    TD_DISCOVERY_SOURCE_SRV);
}

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) again = NULL;
  g_autoptr(GError) again_error = NULL;

  td_test_resolver_set_srv_delay (f->resolver, 10000);
  only_sources (f, TD_DISCOVERY_SOURCE_SRV, TD_DISCOVERY_SOURCE_PROBE, -1);
  td_discovery_run_async (f->discovery, cancellable, td_test_store_result, &result);
  g_timeout_add (100, cancel_cb, cancellable);
  td_test_wait_result (&result, 5000);
  g_assert_false (td_discovery_run_finish (f->discovery, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* it runs once */
  td_discovery_run_async (f->discovery, NULL, td_test_store_result, &again);
  td_test_wait_result (&again, 5000);
  g_assert_false (td_discovery_run_finish (f->discovery, again, &again_error));
  g_assert_error (again_error, TD_ERROR, TD_ERROR_WRONG_STATE);
}

/* --- Probing scripted servers (Dovecot: tests/integration/test-discovery-dovecot.c) --- */

static void
probe_only (Fixture          *f,
            TdServerProtocol  protocol,
            guint16           tls_port,
            guint16           starttls_port)
{
  only_sources (f, TD_DISCOVERY_SOURCE_PROBE, -1);
  for (guint p = TD_SERVER_PROTOCOL_IMAP; p <= TD_SERVER_PROTOCOL_SMTP; p++)
    td_discovery_set_probe_ports (f->discovery, p, 0, 0);
  td_discovery_set_probe_ports (f->discovery, protocol, tls_port, starttls_port);
}

static void
test_probe_imap_plaintext (Fixture       *f,
                           gconstpointer  data)
{
  /* answers IMAP, but offers no STARTTLS: flagged, never chosen, no password sent */
  g_autoptr(TdTestScriptServer) script =
    td_test_script_server_new ("S: * OK plain server ready\n"
                               "C: A1 CAPABILITY\n"
                               "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"
                               "S: A1 OK done\n"
                               "C! close\n");
  g_autoptr(GError) error = NULL;
  const TdServerCandidate *c;

  td_test_resolver_add_host (f->resolver, "imap.example.test", "127.0.0.1");
  probe_only (f, TD_SERVER_PROTOCOL_IMAP, 0, td_test_script_server_get_port (script));

  g_assert_true (run (f, &error));
  g_assert_no_error (error);
  td_test_script_server_wait_finished (script, 5000);
  td_test_script_server_assert_finished (script);

  g_assert_cmpuint (n_candidates (f, TD_SERVER_PROTOCOL_IMAP), ==, 1);
  c = candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 0);
  assert_candidate (c, "imap.example.test", td_test_script_server_get_port (script),
                    TD_CANDIDATE_SECURITY_PLAIN, TD_DISCOVERY_SOURCE_PROBE);
  g_assert_true (c->probed);
  g_assert_null (td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_IMAP));
  g_assert_true (has_step (f, "probe running *without encryption*"));
  g_assert_null (td_discovery_choose_incoming (f->discovery, NULL, NULL, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_TLS_REQUIRED);
  /* the other guessed names were asked for */
  g_assert_cmpuint (td_test_resolver_get_lookups (f->resolver, "mail.example.test"), >=, 1);
  g_assert_cmpuint (td_test_resolver_get_lookups (f->resolver, "example.test"), >=, 1);
}

static void
test_probe_smtp_plaintext (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(TdTestScriptServer) script =
    td_test_script_server_new ("S: 220-smtp.example.test ESMTP\n"
                               "S: 220 welcome\n"
                               "C: EHLO [127.0.0.1]\n"
                               "S: 250-smtp.example.test\n"
                               "S: 250-SIZE 1000000\n"
                               "S: 250 AUTH PLAIN LOGIN\n"
                               "C! close\n");
  g_autoptr(GError) error = NULL;
  const TdServerCandidate *c;

  td_test_resolver_add_host (f->resolver, "smtp.example.test", "127.0.0.1");
  probe_only (f, TD_SERVER_PROTOCOL_SMTP, 0, td_test_script_server_get_port (script));

  g_assert_true (run (f, &error));
  td_test_script_server_wait_finished (script, 5000);
  td_test_script_server_assert_finished (script);
  c = candidate_at (f, TD_SERVER_PROTOCOL_SMTP, 0);
  g_assert_cmpint (c->security, ==, TD_CANDIDATE_SECURITY_PLAIN);
  g_assert_true (c->probed);
  g_assert_null (td_discovery_get_best (f->discovery, TD_SERVER_PROTOCOL_SMTP));
}

static void
test_probe_not_smtp (Fixture       *f,
                     gconstpointer  data)
{
  /* something else on the port (here an IMAP greeting): not an SMTP server */
  g_autoptr(TdTestScriptServer) script =
    td_test_script_server_new ("S: * OK IMAP4rev1 ready\n"
                               "C! close\n");
  g_autoptr(GError) error = NULL;

  td_test_resolver_add_host (f->resolver, "smtp.example.test", "127.0.0.1");
  probe_only (f, TD_SERVER_PROTOCOL_SMTP, 0, td_test_script_server_get_port (script));
  g_assert_true (run (f, &error));
  td_test_script_server_wait_finished (script, 5000);
  g_assert_cmpuint (n_candidates (f, TD_SERVER_PROTOCOL_SMTP), ==, 0);
  g_assert_true (has_step (f, "probe nothing *"));
}

static void
test_probe_silent (Fixture       *f,
                   gconstpointer  data)
{
  /* a server that accepts and never greets: the probe's own timeout ends it */
  g_autoptr(TdTestScriptServer) script = td_test_script_server_new ("S! pause 20000\n");
  g_autoptr(GError) error = NULL;

  td_test_resolver_add_host (f->resolver, "imap.example.test", "127.0.0.1");
  probe_only (f, TD_SERVER_PROTOCOL_IMAP, td_test_script_server_get_port (script), 0);
  td_discovery_set_probe_timeout (f->discovery, 1);
  g_assert_true (run (f, &error));
  g_assert_cmpint (f->elapsed_ms, <, 5000);
  g_assert_cmpuint (n_candidates (f, TD_SERVER_PROTOCOL_IMAP), ==, 0);
  g_assert_true (has_step (f, "probe nothing *"));
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int    argc,
      char **argv)
{
  td_test_init (&argc, &argv);

  g_test_add_func ("/discovery/address", test_address);
  g_test_add_func ("/discovery/providers/bundled", test_bundled);
  ADD ("/discovery/providers/bundled-run", test_bundled_run);
  ADD ("/discovery/providers/file", test_provider_file);
  ADD ("/discovery/providers/file-missing", test_provider_file_missing);
  g_test_add_func ("/discovery/autoconfig/parse-hostile", test_parse_hostile);
  g_test_add_func ("/discovery/autoconfig/parse-placeholders", test_parse_placeholders);
  ADD ("/discovery/autoconfig/https", test_autoconfig);
  ADD ("/discovery/autoconfig/precedence", test_autoconfig_precedence);
  ADD ("/discovery/autoconfig/404-then-well-known", test_autoconfig_404_then_well_known);
  ADD ("/discovery/autoconfig/hostile", test_autoconfig_hostile);
  ADD ("/discovery/autoconfig/redirect", test_autoconfig_redirect);
  ADD ("/discovery/autoconfig/redirect-loop", test_autoconfig_redirect_loop);
  ADD ("/discovery/autoconfig/untrusted", test_autoconfig_untrusted);
  ADD ("/discovery/autoconfig/plain-http", test_autoconfig_plain_http);
  ADD ("/discovery/srv/priorities", test_srv);
  ADD ("/discovery/srv/nothing", test_srv_nothing);
  ADD ("/discovery/time-limit", test_time_limit);
  ADD ("/discovery/cancel", test_cancel);
  ADD ("/discovery/probe/imap-plaintext", test_probe_imap_plaintext);
  ADD ("/discovery/probe/smtp-plaintext", test_probe_smtp_plaintext);
  ADD ("/discovery/probe/not-smtp", test_probe_not_smtp);
  ADD ("/discovery/probe/silent", test_probe_silent);

  return g_test_run ();
}
