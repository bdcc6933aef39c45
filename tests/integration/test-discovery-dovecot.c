/* test-discovery-dovecot.c: TdDiscovery probing a real Dovecot on loopback
 *
 * A TdTestResolver maps imap.example.test, pop3.example.test and smtp.example.test to
 * 127.0.0.1 (every other name is not found) and the probe ports are Dovecot's: the probes
 * must find IMAP, POP3 and SMTP submission, each over TLS and STARTTLS, prefer TLS, log in to
 * nothing, and tell a certificate that does not verify (Dovecot's is for "localhost") from
 * one the user pinned.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-discovery.h"
#include "td-error.h"
#include "td-test-dovecot.h"
#include "td-test-resolver.h"
#include "td-test-util.h"

typedef struct
{
  TdTestDovecot  *server;
  TdTestResolver *resolver;
  GResolver      *old_resolver;
  TdDiscovery    *discovery;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->server = td_test_dovecot_start (&error);
  g_assert_no_error (error);

  f->old_resolver = g_resolver_get_default ();
  f->resolver = td_test_resolver_new ();
  td_test_resolver_add_host (f->resolver, "imap.example.test", "127.0.0.1");
  td_test_resolver_add_host (f->resolver, "pop3.example.test", "127.0.0.1");
  td_test_resolver_add_host (f->resolver, "smtp.example.test", "127.0.0.1");
  g_resolver_set_default (G_RESOLVER (f->resolver));

  f->discovery = td_discovery_new ("alice@example.test");
  td_discovery_set_autoconfig_urls (f->discovery, "", "");
  td_discovery_set_source_enabled (f->discovery, TD_DISCOVERY_SOURCE_PROVIDERS, FALSE);
  td_discovery_set_probe_ports (f->discovery, TD_SERVER_PROTOCOL_IMAP,
                                td_test_dovecot_get_port (f->server, "imaps"),
                                td_test_dovecot_get_port (f->server, "imap"));
  td_discovery_set_probe_ports (f->discovery, TD_SERVER_PROTOCOL_POP3,
                                td_test_dovecot_get_port (f->server, "pop3s"),
                                td_test_dovecot_get_port (f->server, "pop3"));
  td_discovery_set_probe_ports (f->discovery, TD_SERVER_PROTOCOL_SMTP,
                                td_test_dovecot_get_port (f->server, "submissions"),
                                td_test_dovecot_get_port (f->server, "submission"));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->discovery);
  g_resolver_set_default (f->old_resolver);
  g_clear_object (&f->old_resolver);
  g_clear_object (&f->resolver);
  for (int i = 0; i < 50 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  td_test_dovecot_free (f->server);
}

static void
run (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_discovery_run_async (f->discovery, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, 30000);
  g_assert_true (td_discovery_run_finish (f->discovery, result, &error));
  g_assert_no_error (error);
}

static const TdServerCandidate *
candidate_at (Fixture          *f,
              TdServerProtocol  protocol,
              guint             index,
              guint             n_expected)
{
  g_autoptr(GPtrArray) all = td_discovery_get_candidates (f->discovery, protocol);

  g_assert_cmpuint (all->len, ==, n_expected);
  return g_ptr_array_index (all, index);
}

static void
assert_found (const TdServerCandidate *c,
              const char              *host,
              guint16                  port,
              TdCandidateSecurity      security,
              gboolean                 probed)
{
  g_assert_cmpstr (c->host, ==, host);
  g_assert_cmpuint (c->port, ==, port);
  g_assert_cmpint (c->security, ==, security);
  g_assert_cmpint (c->source, ==, TD_DISCOVERY_SOURCE_PROBE);
  g_assert_cmpint (c->probed, ==, probed);
  g_assert_cmpstr (c->username, ==, "alice@example.test");
}

/* No probe logged in or sent credentials: Dovecot's log has no login line of alice. */
static void
assert_no_login (Fixture *f)
{
  g_autofree char *log = g_build_filename (td_test_dovecot_get_dir (f->server), "dovecot.log",
                                           NULL);
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (log, &contents, NULL, NULL))
    return;
  g_assert_null (strstr (contents, "Login: user=<alice"));
  g_assert_null (strstr (contents, "auth failed"));
}

static void
test_pinned (Fixture       *f,
             gconstpointer  data)
{
  const TdServerCandidate *c;
  g_autofree char *reason = NULL;
  g_autoptr(GError) error = NULL;
  TdServerProtocol pop3 = TD_SERVER_PROTOCOL_POP3;

  td_discovery_set_pinned_fingerprint (f->discovery, td_test_dovecot_get_fingerprint (f->server));
  run (f);

  /* TLS first, then STARTTLS; only the names that resolve */
  c = candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 0, 2);
  assert_found (c, "imap.example.test", td_test_dovecot_get_port (f->server, "imaps"),
                TD_CANDIDATE_SECURITY_TLS, TRUE);
  /* accepted by the pin, and it says so */
  g_assert_nonnull (c->certificate);
  g_assert_cmpstr (c->certificate->fingerprint, ==, td_test_dovecot_get_fingerprint (f->server));
  assert_found (candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 1, 2), "imap.example.test",
                td_test_dovecot_get_port (f->server, "imap"), TD_CANDIDATE_SECURITY_STARTTLS,
                TRUE);

  assert_found (candidate_at (f, TD_SERVER_PROTOCOL_POP3, 0, 2), "pop3.example.test",
                td_test_dovecot_get_port (f->server, "pop3s"), TD_CANDIDATE_SECURITY_TLS, TRUE);
  assert_found (candidate_at (f, TD_SERVER_PROTOCOL_POP3, 1, 2), "pop3.example.test",
                td_test_dovecot_get_port (f->server, "pop3"), TD_CANDIDATE_SECURITY_STARTTLS,
                TRUE);

  assert_found (candidate_at (f, TD_SERVER_PROTOCOL_SMTP, 0, 2), "smtp.example.test",
                td_test_dovecot_get_port (f->server, "submissions"), TD_CANDIDATE_SECURITY_TLS,
                TRUE);
  assert_found (candidate_at (f, TD_SERVER_PROTOCOL_SMTP, 1, 2), "smtp.example.test",
                td_test_dovecot_get_port (f->server, "submission"),
                TD_CANDIDATE_SECURITY_STARTTLS, TRUE);

  c = td_discovery_choose_incoming (f->discovery, NULL, &reason, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->protocol, ==, TD_SERVER_PROTOCOL_IMAP);
  g_assert_cmpint (c->security, ==, TD_CANDIDATE_SECURITY_TLS);
  g_assert_nonnull (strstr (reason, "POP3 was found too"));
  c = td_discovery_choose_incoming (f->discovery, &pop3, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->protocol, ==, TD_SERVER_PROTOCOL_POP3);
  g_assert_cmpint (c->security, ==, TD_CANDIDATE_SECURITY_TLS);

  g_assert_cmpuint (td_test_resolver_get_lookups (f->resolver, "mail.example.test"), >=, 1);
  assert_no_login (f);
}

static void
test_untrusted (Fixture       *f,
                gconstpointer  data)
{
  const TdServerCandidate *c;

  /* Dovecot's certificate is for localhost: it does not verify for imap.example.test */
  run (f);

  /* found, with the certificate to show; over TLS the protocol was never reached */
  c = candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 0, 2);
  assert_found (c, "imap.example.test", td_test_dovecot_get_port (f->server, "imaps"),
                TD_CANDIDATE_SECURITY_TLS, FALSE);
  g_assert_nonnull (c->certificate);
  g_assert_true (c->certificate->errors & G_TLS_CERTIFICATE_BAD_IDENTITY);
  g_assert_cmpstr (c->certificate->fingerprint, ==, td_test_dovecot_get_fingerprint (f->server));
  /* over STARTTLS it answered IMAP before the certificate came */
  c = candidate_at (f, TD_SERVER_PROTOCOL_IMAP, 1, 2);
  assert_found (c, "imap.example.test", td_test_dovecot_get_port (f->server, "imap"),
                TD_CANDIDATE_SECURITY_STARTTLS, TRUE);
  g_assert_nonnull (c->certificate);

  c = candidate_at (f, TD_SERVER_PROTOCOL_SMTP, 1, 2);
  assert_found (c, "smtp.example.test", td_test_dovecot_get_port (f->server, "submission"),
                TD_CANDIDATE_SECURITY_STARTTLS, TRUE);
  g_assert_nonnull (c->certificate);
  assert_no_login (f);
}

int
main (int    argc,
      char **argv)
{
  td_test_init (&argc, &argv);

  g_test_add ("/discovery/dovecot/pinned", Fixture, NULL, fixture_setup, test_pinned,
              fixture_teardown);
  g_test_add ("/discovery/dovecot/untrusted", Fixture, NULL, fixture_setup, test_untrusted,
              fixture_teardown);

  return g_test_run ();
}
