/* td-cli-auto.h: `tidings-cli account add --auto ADDRESS`: discovery, then the usual add
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when the arguments of `account add` (argv[0] = "add") ask for --auto. */
gboolean td_cli_auto_wanted   (int          argc,
                               char       **argv);
/* Finds the servers of the address, saying each step and what it chose (and why) on stderr,
 * without sending the password. On success returns 0 and the arguments of the usual
 * `account add imap|pop3 --address … --host … --port … --security … --user …` path in
 * @add_argv (which then checks the login and adds the account, password to the keyring);
 * otherwise the exit status (1: nothing usable found, 2: usage). */
int      td_cli_auto_discover (int          argc,
                               char       **argv,
                               char      ***add_argv);

G_END_DECLS
