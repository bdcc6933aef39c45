/* td-cli-private.h: what the files of tidings-cli share
 *
 * td-cli.c: the global options, the commands' table, the usage text and the helpers below;
 * td-cli-account.c: `account`; td-cli-sync.c: `sync` and `watch`; td-cli-read.c: `folders`,
 * `ls`, `show`, `search`; td-cli-change.c: `flag`, `move`, `copy`, `delete`, `archive`,
 * `folder`; td-cli-send.c: `send` and `outbox`; td-cli-auto.c: `account add --auto`.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-account-manager.h"
#include "td-store.h"
#include "td-cli-send.h"

G_BEGIN_DECLS

struct _TdCli
{
  char             *profile;
  TdStore          *store;
  TdAccountManager *manager;
  gboolean          progress_shown;
  gboolean          offline;

  /* TD_BENCH_TIMING=1: `sync` says on stderr where its time went (bench/resync.sh) */
  gboolean          timing;
  gint64            sync_started;     /* monotonic µs; 0 when not measuring */
  gint64            sync_connecting;  /* the first progress: the password is there */
  gint64            sync_connected;   /* the step after connecting: TCP, TLS and login done */
};

typedef int (*TdCliCommand) (TdCli *cli, int argc, char **argv);

/* --- td-cli.c --- */
/* Says @message (if any) and how to get help on stderr; returns 2, the exit status of a
 * usage error. */
int           td_cli_usage_error     (const char    *message);
/* A GAsyncReadyCallback that keeps the result in the GAsyncResult * at @user_data. */
void          td_cli_store_result_cb (GObject       *source,
                                      GAsyncResult  *result,
                                      gpointer       user_data);
/* Runs the main context until *@result is set (by td_cli_store_result_cb), and returns it. */
GAsyncResult *td_cli_wait_result     (GAsyncResult **result);
/* "tidings-cli: WHAT: MESSAGE" (or without WHAT) on stderr. */
void          td_cli_print_error     (const char    *what,
                                      GError        *error);
/* Opens the profile's store and the engine; says why on stderr when it cannot. */
gboolean      td_cli_open_profile    (TdCli         *cli);
/* The account named by @which (id, address or name), or the only one when NULL; NULL after
 * saying why on stderr. The manager's list keeps the reference. */
TdAccount    *td_cli_find_account    (TdCli         *cli,
                                      const char    *which);
/* The certificate a server showed, on stderr. */
void          td_cli_print_certificate  (const TdCertificateInfo *info);
/* One line of a listing: id, date, from, subject, flags. */
void          td_cli_print_message_line (TdMessage     *m);

/* The commands: @argv[0] is the command's name; they return the exit status. */
int td_cli_account (TdCli *cli, int argc, char **argv);   /* td-cli-account.c */
int td_cli_sync    (TdCli *cli, int argc, char **argv);   /* td-cli-sync.c */
int td_cli_watch   (TdCli *cli, int argc, char **argv);
int td_cli_folders (TdCli *cli, int argc, char **argv);   /* td-cli-read.c */
int td_cli_ls      (TdCli *cli, int argc, char **argv);
int td_cli_show    (TdCli *cli, int argc, char **argv);
int td_cli_search  (TdCli *cli, int argc, char **argv);
int td_cli_flag    (TdCli *cli, int argc, char **argv);   /* td-cli-change.c */
int td_cli_move    (TdCli *cli, int argc, char **argv);
int td_cli_copy    (TdCli *cli, int argc, char **argv);
int td_cli_delete  (TdCli *cli, int argc, char **argv);
int td_cli_archive (TdCli *cli, int argc, char **argv);
int td_cli_folder  (TdCli *cli, int argc, char **argv);

G_END_DECLS
