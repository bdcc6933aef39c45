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
 * "pinned-fingerprint" (SHA-256 "AB:CD:..." or NULL), "sync-days" (guint), and for POP3
 * accounts "pop3-policy" (TdPop3Policy), "pop3-delete-days" (guint) and
 * "pop3-delete-when-deleted-here" (gboolean); for sending, "smtp-host" (NULL: none set),
 * "smtp-port", "smtp-security", "smtp-username" (NULL: the incoming one) and
 * "sent-saved-by-server" (gboolean). All are readable and writable and notify on
 * change. */
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


/* What a POP3 account leaves on the server (td-pop3-sync.h applies it on every check). */
typedef enum
{
  TD_POP3_POLICY_KEEP,             /* leave everything on the server */
  TD_POP3_POLICY_DELETE_AFTER_DAYS,/* delete it pop3-delete-days days after downloading it */
  TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD, /* delete it right after it is stored here */
} TdPop3Policy;

#define TD_POP3_DELETE_DAYS_DEFAULT 14
#define TD_POP3_DELETE_DAYS_MAX     36500

const char    *td_pop3_policy_to_string          (TdPop3Policy   policy);  /* "keep", "days", "download" */
gboolean       td_pop3_policy_from_string        (const char    *str,
                                                  TdPop3Policy  *out);
/* The default is TD_POP3_POLICY_DELETE_AFTER_DAYS with 14 days, not deleting what is deleted
 * here. Saved with td_store_update_account_async. */
TdPop3Policy   td_account_get_pop3_policy        (TdAccount     *self);
void           td_account_set_pop3_policy        (TdAccount     *self,
                                                  TdPop3Policy   policy);
guint          td_account_get_pop3_delete_days   (TdAccount     *self);
void           td_account_set_pop3_delete_days   (TdAccount     *self,
                                                  guint          days);
/* Also delete from the server what is deleted here for good (deleted from the Trash). */
gboolean       td_account_get_pop3_delete_when_deleted_here (TdAccount *self);
void           td_account_set_pop3_delete_when_deleted_here (TdAccount *self,
                                                             gboolean   delete);

/* Outgoing mail (SMTP submission, RFC 6409). The password is in the keyring under the
 * protocol "smtp"; without one there, the incoming password is used (td-credentials.h). */
#define TD_SMTP_PORT_SUBMISSION  587   /* STARTTLS */
#define TD_SMTP_PORT_SUBMISSIONS 465   /* implicit TLS (RFC 8314) */

/* NULL until set: the account cannot send. */
const char    *td_account_get_smtp_host          (TdAccount     *self);
guint16        td_account_get_smtp_port          (TdAccount     *self);
TdSecurity     td_account_get_smtp_security      (TdAccount     *self);
/* Falls back to the incoming user name. */
const char    *td_account_get_smtp_username      (TdAccount     *self);
/* All at once. @port 0: 465 for TLS, 587 for STARTTLS; @username NULL: the incoming one. */
void           td_account_set_smtp               (TdAccount     *self,
                                                  const char    *host,
                                                  guint16        port,
                                                  TdSecurity     security,
                                                  const char    *username);
/* The SMTP server itself puts a copy of what is sent into the Sent folder (Gmail does): no
 * APPEND after sending. Saved with td_store_update_account_async. */
gboolean       td_account_get_sent_saved_by_server (TdAccount   *self);
void           td_account_set_sent_saved_by_server (TdAccount   *self,
                                                    gboolean     saved);

G_END_DECLS
