/* fuzz-autoconfig.c: libFuzzer entry point for the autoconfig (clientConfig) reader
 *
 * Each input is read as an autoconfig answer (the first provider) and as a provider
 * database (the provider of example.test). Either it fails with TD_ERROR_PARSE or
 * TD_ERROR_LIMIT, or every candidate it gives is usable: a valid host name, a port, a known
 * protocol and security, a user name. A broken invariant aborts, so the fuzzer (or
 * fuzz-driver.c) reports it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "td-autoconfig.h"
#include "td-error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
fail (const char *what)
{
  fprintf (stderr, "fuzz-autoconfig: invariant broken: %s\n", what);
  abort ();
}

static void
check (const uint8_t *data,
       size_t         size,
       const char    *domain)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) td_server_candidate_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;

  if (!td_autoconfig_parse ((const char *) data, size, "alice@example.test", domain,
                            TD_DISCOVERY_SOURCE_AUTOCONFIG, domain == NULL ? "fuzz" : NULL,
                            found, &name, &error))
    {
      if (error == NULL || error->domain != TD_ERROR ||
          (error->code != TD_ERROR_PARSE && error->code != TD_ERROR_LIMIT))
        fail ("a failure without TD_ERROR_PARSE or TD_ERROR_LIMIT");
      if (name != NULL)
        fail ("a provider name after a failure");
      return;
    }
  if (error != NULL)
    fail ("success with an error");

  for (guint i = 0; i < found->len; i++)
    {
      const TdServerCandidate *c = g_ptr_array_index (found, i);

      if (!td_autoconfig_host_is_valid (c->host))
        fail ("an invalid host name");
      if (c->port == 0)
        fail ("port 0");
      if (c->protocol > TD_SERVER_PROTOCOL_SMTP || c->security > TD_CANDIDATE_SECURITY_PLAIN)
        fail ("an unknown protocol or security");
      if (c->username == NULL || !g_utf8_validate (c->username, -1, NULL))
        fail ("a user name missing or not UTF-8");
      if (c->username_form == TD_USERNAME_ADDRESS && g_strcmp0 (c->username,
                                                                 "alice@example.test") != 0)
        fail ("the address form is not the address");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  check (data, size, NULL);
  check (data, size, "example.test");
  return 0;
}
