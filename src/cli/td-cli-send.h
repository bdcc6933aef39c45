/* td-cli-send.h: tidings-cli's sending: `send`, `outbox`, and the SMTP defaults of `account add`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-account-manager.h"
#include "td-store.h"

G_BEGIN_DECLS

/* What td-cli.c hands over: the opened profile. */
typedef struct
{
  TdStore          *store;
  TdAccountManager *manager;
  gboolean          offline;   /* --offline: queue only */
} TdCliContext;

/* The SMTP server to assume for an incoming @host: "imap.", "pop." or "pop3." become
 * "smtp."; any other host is taken as it is (one server for everything). */
char *td_cli_guess_smtp_host (const char *host);

/* `send --account A --to X [--cc Y] [--bcc Z] --subject S [--attach FILE]...
 *  [--reply-to-message ID | --forward-message ID] < body`; @argv[0] is "send". */
int   td_cli_send            (TdCliContext *ctx,
                              int           argc,
                              char        **argv);
/* `outbox [--account A] [--send] [--retry ID] [--remove ID]`; @argv[0] is "outbox". */
int   td_cli_outbox          (TdCliContext *ctx,
                              int           argc,
                              char        **argv);

G_END_DECLS
