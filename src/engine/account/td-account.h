/* td-account.h: one mail account's settings (never its password)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "td-types.h"

G_BEGIN_DECLS

#define TD_TYPE_ACCOUNT (td_account_get_type ())

G_DECLARE_FINAL_TYPE (TdAccount, td_account, TD, ACCOUNT, GObject)

/* Properties: "id" (gint64, 0 until stored), "uuid" (string, keys the keyring item),
 * "kind", "name" (display name), "address", "host", "port", "security", "username",
 * "pinned-fingerprint" (SHA-256 "AB:CD:..." or NULL), "sync-days" (guint). All are readable and writable and
 * notify on change. */
TdAccount     *td_account_new                    (TdAccountKind  kind,
                                                  const char    *address,
                                                  const char    *host,
                                                  guint16        port,
                                                  TdSecurity     security,
                                                  const char    *username);
gint64         td_account_get_id                 (TdAccount     *self);
void           td_account_set_id                 (TdAccount     *self,
                                                  gint64         id);
const char    *td_account_get_uuid               (TdAccount     *self);
void           td_account_set_uuid               (TdAccount     *self,
                                                  const char    *uuid);
TdAccountKind  td_account_get_kind               (TdAccount     *self);
const char    *td_account_get_name               (TdAccount     *self);   /* falls back to address */
void           td_account_set_name               (TdAccount     *self,
                                                  const char    *name);
const char    *td_account_get_address            (TdAccount     *self);
const char    *td_account_get_host               (TdAccount     *self);
guint16        td_account_get_port               (TdAccount     *self);
TdSecurity     td_account_get_security           (TdAccount     *self);
const char    *td_account_get_username           (TdAccount     *self);
const char    *td_account_get_pinned_fingerprint (TdAccount     *self);
void           td_account_set_pinned_fingerprint (TdAccount     *self,
                                                  const char    *fingerprint);
/* The server's storage quota (RFC 9208) in KiB as last seen; -1 when not known. */
gint64         td_account_get_quota_usage        (TdAccount     *self);
gint64         td_account_get_quota_limit        (TdAccount     *self);
void           td_account_set_quota              (TdAccount     *self,
                                                  gint64         usage_kib,
                                                  gint64         limit_kib);
/* The sync window: bodies of messages dated within the last @days days are downloaded in the
 * background (headers of all mail always are); 0, the default, means all mail. A message
 * outside the window gets its body when it is opened. Saved with td_store_update_account_async. */
#define TD_ACCOUNT_SYNC_DAYS_MAX 36500
guint          td_account_get_sync_days          (TdAccount     *self);
void           td_account_set_sync_days          (TdAccount     *self,
                                                  guint          days);

G_END_DECLS
