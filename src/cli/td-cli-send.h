/* td-cli-send.h: tidings-cli's sending: `send`, `outbox`, and the SMTP defaults of `account add`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The SMTP server to assume for an incoming @host: "imap.", "pop." or "pop3." become
 * "smtp."; any other host is taken as it is (one server for everything). */
char *td_cli_guess_smtp_host (const char *host);

G_END_DECLS
