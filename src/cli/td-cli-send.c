/* td-cli-send.c: tidings-cli's sending: `send`, `outbox`, and the SMTP defaults of `account add`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-cli"

#include "config.h"

#include "td-cli-send.h"

#include <string.h>

char *
td_cli_guess_smtp_host (const char *host)
{
  static const char * const incoming[] = { "imap.", "imaps.", "pop3.", "pop.", "pop3s." };

  g_return_val_if_fail (host != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (incoming); i++)
    if (g_ascii_strncasecmp (host, incoming[i], strlen (incoming[i])) == 0 &&
        host[strlen (incoming[i])] != '\0')
      return g_strconcat ("smtp.", host + strlen (incoming[i]), NULL);
  return g_strdup (host);
}
