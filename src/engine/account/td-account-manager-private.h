/* td-account-manager-private.h: what the files of the account manager share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-account-manager.h"

G_BEGIN_DECLS

/* --- td-account-manager-check.c: checking POP3 accounts for new mail ---
 * POP3 servers cannot announce new mail. While push runs, the check syncs every POP3
 * account of the manager every interval, and at once when the network comes back after it
 * was gone. It holds no reference on the manager, which owns it. */
typedef struct _TdMailCheck TdMailCheck;

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
