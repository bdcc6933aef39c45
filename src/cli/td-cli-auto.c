/* td-cli-auto.c: `tidings-cli account add --auto ADDRESS`: discovery, then the usual add
 *
 * TdDiscovery runs headless: each step is said on stderr as it runs, then what was chosen and
 * why. Nothing is sent to a server but the probes' CAPABILITY/CAPA/EHLO; the password is read
 * afterwards by the usual `account add imap|pop3` path, which logs in to test the chosen
 * server and adds the account (password to the keyring only). The SMTP server found is
 * printed; accounts do not keep SMTP settings yet.
 *
 * Test hooks, compiled in only for the test build (tests/integration: tidings-cli-test,
 * TD_CLI_TEST_HOOKS): TD_TEST_RESOLVE="name=address;…" answers host names from that table
 * (everything else is not found, SRV included) and TD_TEST_PROBE_PORTS="imap=TLS/STARTTLS;
 * pop3=…;smtp=…" sets the ports probed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-cli"

#include "config.h"

#include "td-cli-auto.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "td-discovery.h"
#include "td-error.h"

#ifdef TD_CLI_TEST_HOOKS
#include "td-test-resolver.h"
#endif

gboolean
td_cli_auto_wanted (int    argc,
                    char **argv)
{
  for (int i = 1; i < argc; i++)
    if (g_strcmp0 (argv[i], "--auto") == 0 || g_str_has_prefix (argv[i], "--auto="))
      return TRUE;
  return FALSE;
}

#ifdef TD_CLI_TEST_HOOKS
static void
install_test_hooks (TdDiscovery *discovery)
{
  const char *resolve = g_getenv ("TD_TEST_RESOLVE");
  const char *ports = g_getenv ("TD_TEST_PROBE_PORTS");

  if (resolve != NULL)
    {
      g_autoptr(TdTestResolver) resolver = td_test_resolver_new ();
      g_auto(GStrv) entries = g_strsplit (resolve, ";", -1);

      for (guint i = 0; entries[i] != NULL; i++)
        {
          g_auto(GStrv) pair = g_strsplit (entries[i], "=", 2);

          if (pair[0] != NULL && pair[1] != NULL)
            td_test_resolver_add_host (resolver, pair[0], pair[1]);
        }
      g_resolver_set_default (G_RESOLVER (resolver));
    }
  if (ports != NULL)
    {
      g_auto(GStrv) entries = g_strsplit (ports, ";", -1);

      for (guint i = 0; entries[i] != NULL; i++)
        {
          g_auto(GStrv) pair = g_strsplit (entries[i], "=", 2);
          guint tls = 0, starttls = 0;
          TdServerProtocol protocol;

          if (pair[0] == NULL || pair[1] == NULL || sscanf (pair[1], "%u/%u", &tls, &starttls) != 2)
            continue;
          if (strcmp (pair[0], "imap") == 0)
            protocol = TD_SERVER_PROTOCOL_IMAP;
          else if (strcmp (pair[0], "pop3") == 0)
            protocol = TD_SERVER_PROTOCOL_POP3;
          else if (strcmp (pair[0], "smtp") == 0)
            protocol = TD_SERVER_PROTOCOL_SMTP;
          else
            continue;
          td_discovery_set_probe_ports (discovery, protocol, (guint16) tls, (guint16) starttls);
        }
    }
}
#endif

static void
step_cb (TdDiscovery *discovery,
         int          source,
         int          state,
         const char  *detail,
         gpointer     user_data)
{
  const char *what = td_discovery_source_describe (source);

  switch ((TdDiscoveryState) state)
    {
    case TD_DISCOVERY_STATE_RUNNING:
      if (*detail == '\0')
        g_printerr (_("  %s: looking…\n"), what);
      else
        g_printerr ("  %s: %s\n", what, detail);
      break;
    case TD_DISCOVERY_STATE_FOUND:
      g_printerr (_("  %s: found %s\n"), what, detail);
      break;
    case TD_DISCOVERY_STATE_NOTHING:
      if (*detail == '\0')
        g_printerr (_("  %s: nothing\n"), what);
      else
        g_printerr (_("  %s: nothing (%s)\n"), what, detail);
      break;
    case TD_DISCOVERY_STATE_FAILED:
      g_printerr (_("  %s: failed: %s\n"), what, detail);
      break;
    case TD_DISCOVERY_STATE_TIMED_OUT:
      g_printerr (_("  %s: no answer in time\n"), what);
      break;
    case TD_DISCOVERY_STATE_SKIPPED:
      g_printerr (_("  %s: not needed\n"), what);
      break;
    default:
      break;
    }
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
print_candidate_line (const char              *label,
                      const TdServerCandidate *c)
{
  g_printerr ("%s %s:%u (%s), %s: %s\n", label, c->host, c->port,
              td_candidate_security_to_string (c->security),
              td_discovery_source_describe (c->source), c->origin != NULL ? c->origin : "");
}

int
td_cli_auto_discover (int     argc,
                      char  **argv,
                      char ***add_argv)
{
  g_autofree char *address = NULL;
  g_autofree char *prefer_str = NULL;
  g_autofree char *name = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *pinned = NULL;
  g_autofree char *reason = NULL;
  gboolean password_stdin = FALSE;
  int time_limit = 0;
  /* for the usual path, which checks them: -1 / FALSE = not given */
  int sync_days = -1;
  int delete_after_days = -1;
  gboolean leave_on_server = FALSE;
  gboolean delete_after_download = FALSE;
  gboolean delete_when_deleted_here = FALSE;
  GOptionEntry entries[] = {
    { "auto", 0, 0, G_OPTION_ARG_STRING, &address, N_("Find the servers of this email address"), "ADDRESS" },
    { "prefer", 0, 0, G_OPTION_ARG_STRING, &prefer_str, N_("imap or pop3, when the provider offers both (default imap)"), "KIND" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("A name for the account"), "N" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin, N_("Read the password from standard input"), NULL },
    { "trust-fingerprint", 0, 0, G_OPTION_ARG_STRING, &fingerprint, N_("Trust the server certificate with this SHA-256 fingerprint"), "SHA256" },
    { "time-limit", 0, 0, G_OPTION_ARG_INT, &time_limit, N_("Seconds to look for the servers (default 15)"), "S" },
    { "sync-days", 0, 0, G_OPTION_ARG_INT, &sync_days, N_("IMAP: download message bodies of the last N days only"), "N" },
    { "leave-on-server", 0, 0, G_OPTION_ARG_NONE, &leave_on_server, N_("POP3: keep all mail on the server"), NULL },
    { "delete-after-days", 0, 0, G_OPTION_ARG_INT, &delete_after_days, N_("POP3: delete mail from the server N days after downloading it (default 14)"), "N" },
    { "delete-after-download", 0, 0, G_OPTION_ARG_NONE, &delete_after_download, N_("POP3: delete mail from the server once it is downloaded"), NULL },
    { "delete-when-deleted-here", 0, 0, G_OPTION_ARG_NONE, &delete_when_deleted_here, N_("POP3: also delete from the server what you delete here for good"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TdDiscovery) discovery = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_autofree char *port = NULL;
  TdServerProtocol prefer = TD_SERVER_PROTOCOL_IMAP;
  const TdServerCandidate *incoming;
  const TdServerCandidate *smtp;
  TdSecurity security;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("tidings-cli: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr (_("tidings-cli: “account add --auto ADDRESS” finds the kind itself; “%s” "
                    "is not an option\n"), argv[1]);
      return 2;
    }
  if (address == NULL || (discovery = td_discovery_new (address)) == NULL)
    {
      g_printerr (_("tidings-cli: --auto needs an email address, like alice@example.org\n"));
      return 2;
    }
  if (prefer_str != NULL && strcmp (prefer_str, "imap") != 0 && strcmp (prefer_str, "pop3") != 0)
    {
      g_printerr (_("tidings-cli: --prefer must be “imap” or “pop3”\n"));
      return 2;
    }
  if (prefer_str != NULL && strcmp (prefer_str, "pop3") == 0)
    prefer = TD_SERVER_PROTOCOL_POP3;
  if (fingerprint != NULL && (pinned = td_fingerprint_normalize (fingerprint)) == NULL)
    {
      g_printerr (_("tidings-cli: --trust-fingerprint must be a SHA-256 fingerprint "
                    "(64 hex digits)\n"));
      return 2;
    }
  if (time_limit < 0 || time_limit > 600)
    {
      g_printerr (_("tidings-cli: --time-limit must be a number of seconds up to 600\n"));
      return 2;
    }

#ifdef TD_CLI_TEST_HOOKS
  install_test_hooks (discovery);
#endif
  if (time_limit > 0)
    td_discovery_set_time_limit (discovery, (guint) time_limit * 1000);
  td_discovery_set_pinned_fingerprint (discovery, pinned);
  g_signal_connect (discovery, "step", G_CALLBACK (step_cb), NULL);

  g_printerr (_("Looking for the mail servers of %s (no password is sent)…\n"),
              td_discovery_get_domain (discovery));
  td_discovery_run_async (discovery, NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!td_discovery_run_finish (discovery, result, &error))
    {
      g_printerr ("tidings-cli: %s\n", error->message);
      return 1;
    }

  incoming = td_discovery_choose_incoming (discovery, prefer_str != NULL ? &prefer : NULL,
                                           &reason, &error);
  if (incoming == NULL)
    {
      g_printerr ("tidings-cli: %s\n", error->message);
      return 1;
    }
  g_printerr (_("Incoming: %s\n"), reason);
  g_printerr (_("User name: %s\n"), incoming->username);
  smtp = td_discovery_get_best (discovery, TD_SERVER_PROTOCOL_SMTP);
  if (smtp != NULL)
    print_candidate_line (_("Outgoing (SMTP), not saved with the account yet:"), smtp);
  else
    g_printerr (_("Outgoing (SMTP): none found\n"));

  /* A certificate that does not verify is shown before any password is asked for. */
  if (incoming->certificate != NULL && incoming->certificate->errors != 0 &&
      g_strcmp0 (incoming->certificate->fingerprint, pinned) != 0)
    {
      g_autofree char *text = td_certificate_info_to_string (incoming->certificate);

      g_printerr (_("tidings-cli: The certificate of %s could not be verified:\n%s"),
                  incoming->host, text);
      g_printerr (_("If you trust this certificate, add the account again with:\n"
                    "  --trust-fingerprint %s\n"),
                  incoming->certificate->fingerprint != NULL ? incoming->certificate->fingerprint
                                                             : "");
      return 1;
    }

  if (!td_server_candidate_get_security (incoming, &security))
    g_assert_not_reached ();  /* choose_incoming never takes a plaintext one */
  port = g_strdup_printf ("%u", incoming->port);
  builder = g_strv_builder_new ();
  g_strv_builder_add_many (builder, "add", td_server_protocol_to_string (incoming->protocol),
                           "--address", address, "--host", incoming->host, "--port", port,
                           "--security", td_security_to_string (security),
                           "--user", incoming->username, NULL);
  if (name != NULL)
    g_strv_builder_add_many (builder, "--name", name, NULL);
  if (password_stdin)
    g_strv_builder_add (builder, "--password-stdin");
  if (pinned != NULL)
    g_strv_builder_add_many (builder, "--trust-fingerprint", pinned, NULL);
  if (sync_days >= 0)
    {
      g_autofree char *days = g_strdup_printf ("%d", sync_days);

      g_strv_builder_add_many (builder, "--sync-days", days, NULL);
    }
  if (delete_after_days >= 0)
    {
      g_autofree char *days = g_strdup_printf ("%d", delete_after_days);

      g_strv_builder_add_many (builder, "--delete-after-days", days, NULL);
    }
  if (leave_on_server)
    g_strv_builder_add (builder, "--leave-on-server");
  if (delete_after_download)
    g_strv_builder_add (builder, "--delete-after-download");
  if (delete_when_deleted_here)
    g_strv_builder_add (builder, "--delete-when-deleted-here");
  *add_argv = g_strv_builder_end (builder);
  return 0;
}
