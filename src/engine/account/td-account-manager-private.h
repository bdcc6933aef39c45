/* td-account-manager-private.h: what the files of the account manager share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-account-manager.h"
#include "td-sender.h"

G_BEGIN_DECLS

typedef struct _TdMailCheck TdMailCheck;

struct _TdAccountManager
{
  GObject         parent_instance;

  TdStore        *store;
  TdCredentials  *credentials;
  GListStore     *accounts;

  /* account id -> GTask of its running sync (joined by later callers: GPtrArray of GTask) */
  GHashTable     *running;
  /* account id -> TdCertificateInfo of the last refused certificate */
  GHashTable     *refused;
  /* account ids whose journal grew while their sync ran: sent again when it ends */
  GHashTable     *resend;
  /* account ids that changed on the server while their sync ran: synced again after it */
  GHashTable     *resync;
  /* account id -> TdImapClient: the pooled connections of an IMAP account, shared by its
   * syncs, watches and bodies fetched on demand (td-imap-client.h) */
  GHashTable     *clients;
  /* push: account id -> GPtrArray of TdImapWatch (the Inbox, and the folder being viewed) */
  GHashTable     *watches;
  gboolean        pushing;
  guint           poll_interval;
  GNetworkMonitor *monitor;       /* NULL: the default one */
  TdMailCheck    *check;          /* POP3 accounts checked at an interval */
  char           *viewed_path;
  gint64          viewed_account;
  gulong          accounts_changed_id;
  /* the outbox: sent by itself while pushing (td-sender.h) */
  TdSender       *sender;
};

/* --- td-account-manager.c --- */
/* Stops and forgets the push watches of one account. */
void         _td_account_manager_stop_watches (TdAccountManager *self,
                                               gint64            account_id);
/* The GPtrArray of GTask waiting for the running sync of the account, or NULL. */
GPtrArray   *_td_account_manager_get_waiters  (TdAccountManager *self,
                                               gint64            account_id);

/* --- td-account-manager-check.c: checking POP3 accounts for new mail ---
 * POP3 servers cannot announce new mail. While push runs, the check syncs every POP3
 * account of the manager every interval, and at once when the network comes back after it
 * was gone. It holds no reference on the manager, which owns it. */

TdMailCheck *_td_mail_check_new          (TdAccountManager *manager);
void         _td_mail_check_free         (TdMailCheck      *check);
void         _td_mail_check_start        (TdMailCheck      *check);
void         _td_mail_check_stop         (TdMailCheck      *check);
void         _td_mail_check_set_interval (TdMailCheck      *check,
                                          guint             seconds);
guint        _td_mail_check_get_interval (TdMailCheck      *check);
/* NULL: the default monitor. */
void         _td_mail_check_set_network_monitor (TdMailCheck     *check,
                                                 GNetworkMonitor *monitor);

G_END_DECLS
