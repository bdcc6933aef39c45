/* td-cli-send.h: tidings-cli's sending: `send`, `outbox`, and the SMTP defaults of `account add`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-account-manager.h"
#include "td-store.h"

G_BEGIN_DECLS

typedef struct _TdCli TdCli;   /* td-cli-private.h */

/* The SMTP server to assume for an incoming @host: "imap.", "pop." or "pop3." become
 * "smtp."; any other host is taken as it is (one server for everything). */
char *td_cli_guess_smtp_host (const char *host);

/* The --smtp-host, --smtp-port, --smtp-security, --smtp-user, --smtp-password-stdin and
 * --sent-saved-by-server[=yes|no] options of `account add` and `account set`. */
typedef struct _TdCliSmtpOptions TdCliSmtpOptions;

TdCliSmtpOptions *td_cli_smtp_options_new    (void);
void              td_cli_smtp_options_free   (TdCliSmtpOptions *options);
/* A group to add to the command's GOptionContext (which takes it). */
GOptionGroup     *td_cli_smtp_options_group  (TdCliSmtpOptions *options);
/* Whether any of them was given. */
gboolean          td_cli_smtp_options_given  (TdCliSmtpOptions *options);
/* Checks them (a usage error on stderr and FALSE when one is wrong) and applies them to
 * @account: for a new account (@adding) what is not given gets its default (the host from
 * the incoming one, 587 with STARTTLS); for an existing one it stays. */
gboolean          td_cli_smtp_options_apply  (TdCliSmtpOptions *options,
                                              TdAccount        *account,
                                              gboolean          adding);

/* With --smtp-password-stdin: reads the SMTP password (the next line of standard input) and
 * stores it in the keyring for @account (saved already); FALSE after saying why. */
gboolean          td_cli_smtp_options_store_password (TdCliSmtpOptions *options,
                                                      TdAccountManager *manager,
                                                      TdAccount        *account);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdCliSmtpOptions, td_cli_smtp_options_free)

/* `send --account A --to X [--cc Y] [--bcc Z] --subject S [--attach FILE]...
 *  [--reply-to-message ID | --forward-message ID] < body`; @argv[0] is "send". */
int   td_cli_send            (TdCli *ctx,
                              int           argc,
                              char        **argv);
/* `outbox [--account A] [--send] [--retry ID] [--remove ID]`; @argv[0] is "outbox". */
int   td_cli_outbox          (TdCli *ctx,
                              int           argc,
                              char        **argv);

G_END_DECLS
