/* td-account.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-account"

#include "config.h"

#include "td-account.h"

struct _TdAccount
{
  GObject        parent_instance;

  gint64         id;
  char          *uuid;
  TdAccountKind  kind;
  char          *name;
  char          *address;
  char          *host;
  guint16        port;
  TdSecurity     security;
  char          *username;
  char          *pinned_fingerprint;
  gint64         quota_usage;    /* KiB, -1 unknown */
  gint64         quota_limit;
  guint          sync_days;      /* 0: bodies of all mail */
  TdPop3Policy   pop3_policy;
  guint          pop3_delete_days;
  gboolean       pop3_delete_when_deleted_here;
  char          *smtp_host;
  guint16        smtp_port;
  TdSecurity     smtp_security;
  char          *smtp_username;
  gboolean       sent_saved_by_server;
};

G_DEFINE_FINAL_TYPE (TdAccount, td_account, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_UUID,
  PROP_KIND,
  PROP_NAME,
  PROP_ADDRESS,
  PROP_HOST,
  PROP_PORT,
  PROP_SECURITY,
  PROP_USERNAME,
  PROP_PINNED_FINGERPRINT,
  PROP_SYNC_DAYS,
  PROP_POP3_POLICY,
  PROP_POP3_DELETE_DAYS,
  PROP_POP3_DELETE_WHEN_DELETED_HERE,
  PROP_SMTP_HOST,
  PROP_SMTP_PORT,
  PROP_SMTP_SECURITY,
  PROP_SMTP_USERNAME,
  PROP_SENT_SAVED_BY_SERVER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
td_account_finalize (GObject *object)
{
  TdAccount *self = (TdAccount *) object;

  g_free (self->uuid);
  g_free (self->name);
  g_free (self->address);
  g_free (self->host);
  g_free (self->username);
  g_free (self->pinned_fingerprint);
  g_free (self->smtp_host);
  g_free (self->smtp_username);

  G_OBJECT_CLASS (td_account_parent_class)->finalize (object);
}

static void
td_account_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  TdAccount *self = TD_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID: g_value_set_int64 (value, self->id); break;
    case PROP_UUID: g_value_set_string (value, self->uuid); break;
    case PROP_KIND: g_value_set_int (value, self->kind); break;
    case PROP_NAME: g_value_set_string (value, td_account_get_name (self)); break;
    case PROP_ADDRESS: g_value_set_string (value, self->address); break;
    case PROP_HOST: g_value_set_string (value, self->host); break;
    case PROP_PORT: g_value_set_uint (value, self->port); break;
    case PROP_SECURITY: g_value_set_int (value, self->security); break;
    case PROP_USERNAME: g_value_set_string (value, self->username); break;
    case PROP_PINNED_FINGERPRINT: g_value_set_string (value, self->pinned_fingerprint); break;
    case PROP_SYNC_DAYS: g_value_set_uint (value, self->sync_days); break;
    case PROP_POP3_POLICY: g_value_set_int (value, self->pop3_policy); break;
    case PROP_POP3_DELETE_DAYS: g_value_set_uint (value, self->pop3_delete_days); break;
    case PROP_POP3_DELETE_WHEN_DELETED_HERE:
      g_value_set_boolean (value, self->pop3_delete_when_deleted_here);
      break;
    case PROP_SMTP_HOST: g_value_set_string (value, self->smtp_host); break;
    case PROP_SMTP_PORT: g_value_set_uint (value, self->smtp_port); break;
    case PROP_SMTP_SECURITY: g_value_set_int (value, self->smtp_security); break;
    case PROP_SMTP_USERNAME: g_value_set_string (value, self->smtp_username); break;
    case PROP_SENT_SAVED_BY_SERVER: g_value_set_boolean (value, self->sent_saved_by_server); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_string (TdAccount  *self,
            char      **field,
            const char *value,
            guint       prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
td_account_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  TdAccount *self = TD_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID: td_account_set_id (self, g_value_get_int64 (value)); break;
    case PROP_UUID: td_account_set_uuid (self, g_value_get_string (value)); break;
    case PROP_KIND: self->kind = g_value_get_int (value); break;
    case PROP_NAME: td_account_set_name (self, g_value_get_string (value)); break;
    case PROP_ADDRESS: set_string (self, &self->address, g_value_get_string (value), prop_id); break;
    case PROP_HOST: set_string (self, &self->host, g_value_get_string (value), prop_id); break;
    case PROP_PORT: self->port = (guint16) g_value_get_uint (value); break;
    case PROP_SECURITY: self->security = g_value_get_int (value); break;
    case PROP_USERNAME: set_string (self, &self->username, g_value_get_string (value), prop_id); break;
    case PROP_PINNED_FINGERPRINT:
      td_account_set_pinned_fingerprint (self, g_value_get_string (value));
      break;
    case PROP_SYNC_DAYS: td_account_set_sync_days (self, g_value_get_uint (value)); break;
    case PROP_POP3_POLICY: td_account_set_pop3_policy (self, g_value_get_int (value)); break;
    case PROP_POP3_DELETE_DAYS:
      td_account_set_pop3_delete_days (self, g_value_get_uint (value));
      break;
    case PROP_POP3_DELETE_WHEN_DELETED_HERE:
      td_account_set_pop3_delete_when_deleted_here (self, g_value_get_boolean (value));
      break;
    case PROP_SMTP_HOST:
      set_string (self, &self->smtp_host, g_value_get_string (value), prop_id);
      break;
    case PROP_SMTP_PORT: self->smtp_port = (guint16) g_value_get_uint (value); break;
    case PROP_SMTP_SECURITY: self->smtp_security = g_value_get_int (value); break;
    case PROP_SMTP_USERNAME:
      set_string (self, &self->smtp_username, g_value_get_string (value), prop_id);
      break;
    case PROP_SENT_SAVED_BY_SERVER:
      td_account_set_sent_saved_by_server (self, g_value_get_boolean (value));
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_account_class_init (TdAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = td_account_finalize;
  object_class->get_property = td_account_get_property;
  object_class->set_property = td_account_set_property;

  properties[PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_UUID] = g_param_spec_string ("uuid", NULL, NULL, NULL, flags);
  properties[PROP_KIND] = g_param_spec_int ("kind", NULL, NULL,
                                            TD_ACCOUNT_KIND_IMAP, TD_ACCOUNT_KIND_POP3,
                                            TD_ACCOUNT_KIND_IMAP, flags);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_ADDRESS] = g_param_spec_string ("address", NULL, NULL, NULL, flags);
  properties[PROP_HOST] = g_param_spec_string ("host", NULL, NULL, NULL, flags);
  properties[PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0, flags);
  properties[PROP_SECURITY] = g_param_spec_int ("security", NULL, NULL,
                                                TD_SECURITY_TLS, TD_SECURITY_STARTTLS,
                                                TD_SECURITY_TLS, flags);
  properties[PROP_USERNAME] = g_param_spec_string ("username", NULL, NULL, NULL, flags);
  properties[PROP_PINNED_FINGERPRINT] = g_param_spec_string ("pinned-fingerprint", NULL, NULL,
                                                             NULL, flags);
  properties[PROP_SYNC_DAYS] = g_param_spec_uint ("sync-days", NULL, NULL,
                                                  0, TD_ACCOUNT_SYNC_DAYS_MAX, 0, flags);
  properties[PROP_POP3_POLICY] = g_param_spec_int ("pop3-policy", NULL, NULL,
                                                   TD_POP3_POLICY_KEEP,
                                                   TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD,
                                                   TD_POP3_POLICY_DELETE_AFTER_DAYS, flags);
  properties[PROP_POP3_DELETE_DAYS] = g_param_spec_uint ("pop3-delete-days", NULL, NULL,
                                                         0, TD_POP3_DELETE_DAYS_MAX,
                                                         TD_POP3_DELETE_DAYS_DEFAULT, flags);
  properties[PROP_POP3_DELETE_WHEN_DELETED_HERE] =
    g_param_spec_boolean ("pop3-delete-when-deleted-here", NULL, NULL, FALSE, flags);
  properties[PROP_SMTP_HOST] = g_param_spec_string ("smtp-host", NULL, NULL, NULL, flags);
  properties[PROP_SMTP_PORT] = g_param_spec_uint ("smtp-port", NULL, NULL, 0, G_MAXUINT16,
                                                  TD_SMTP_PORT_SUBMISSION, flags);
  properties[PROP_SMTP_SECURITY] = g_param_spec_int ("smtp-security", NULL, NULL,
                                                     TD_SECURITY_TLS, TD_SECURITY_STARTTLS,
                                                     TD_SECURITY_STARTTLS, flags);
  properties[PROP_SMTP_USERNAME] = g_param_spec_string ("smtp-username", NULL, NULL, NULL,
                                                        flags);
  properties[PROP_SENT_SAVED_BY_SERVER] = g_param_spec_boolean ("sent-saved-by-server", NULL,
                                                                NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
td_account_init (TdAccount *self)
{
  self->quota_usage = -1;
  self->quota_limit = -1;
  self->pop3_policy = TD_POP3_POLICY_DELETE_AFTER_DAYS;
  self->pop3_delete_days = TD_POP3_DELETE_DAYS_DEFAULT;
  self->smtp_port = TD_SMTP_PORT_SUBMISSION;
  self->smtp_security = TD_SECURITY_STARTTLS;
}

TdAccount *
td_account_new (TdAccountKind  kind,
                const char    *address,
                const char    *host,
                guint16        port,
                TdSecurity     security,
                const char    *username)
{
  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (host != NULL, NULL);

  return g_object_new (TD_TYPE_ACCOUNT,
                       "kind", kind,
                       "address", address,
                       "host", host,
                       "port", (guint) port,
                       "security", security,
                       "username", username != NULL ? username : address,
                       NULL);
}

gint64
td_account_get_id (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), 0);
  return self->id;
}

void
td_account_set_id (TdAccount *self,
                   gint64     id)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  if (self->id == id)
    return;
  self->id = id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

const char *
td_account_get_uuid (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), NULL);
  return self->uuid;
}

void
td_account_set_uuid (TdAccount  *self,
                     const char *uuid)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  set_string (self, &self->uuid, uuid, PROP_UUID);
}

TdAccountKind
td_account_get_kind (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), TD_ACCOUNT_KIND_IMAP);
  return self->kind;
}

const char *
td_account_get_name (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), NULL);
  return self->name != NULL && *self->name != '\0' ? self->name : self->address;
}

void
td_account_set_name (TdAccount  *self,
                     const char *name)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  set_string (self, &self->name, name, PROP_NAME);
}

const char *
td_account_get_address (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), NULL);
  return self->address;
}

const char *
td_account_get_host (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), NULL);
  return self->host;
}

guint16
td_account_get_port (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), 0);
  return self->port;
}

TdSecurity
td_account_get_security (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), TD_SECURITY_TLS);
  return self->security;
}

const char *
td_account_get_username (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), NULL);
  return self->username;
}

const char *
td_account_get_pinned_fingerprint (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), NULL);
  return self->pinned_fingerprint;
}

void
td_account_set_pinned_fingerprint (TdAccount  *self,
                                   const char *fingerprint)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  set_string (self, &self->pinned_fingerprint,
              fingerprint != NULL && *fingerprint != '\0' ? fingerprint : NULL,
              PROP_PINNED_FINGERPRINT);
}

gint64
td_account_get_quota_usage (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), -1);
  return self->quota_usage;
}

gint64
td_account_get_quota_limit (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), -1);
  return self->quota_limit;
}

void
td_account_set_quota (TdAccount *self,
                      gint64     usage_kib,
                      gint64     limit_kib)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  self->quota_usage = usage_kib;
  self->quota_limit = limit_kib;
}

guint
td_account_get_sync_days (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), 0);
  return self->sync_days;
}

void
td_account_set_sync_days (TdAccount *self,
                          guint      days)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  days = MIN (days, TD_ACCOUNT_SYNC_DAYS_MAX);
  if (self->sync_days == days)
    return;
  self->sync_days = days;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_DAYS]);
}

static const char * const pop3_policy_names[] = {
  [TD_POP3_POLICY_KEEP] = "keep",
  [TD_POP3_POLICY_DELETE_AFTER_DAYS] = "days",
  [TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD] = "download",
};

const char *
td_pop3_policy_to_string (TdPop3Policy policy)
{
  if ((guint) policy >= G_N_ELEMENTS (pop3_policy_names))
    policy = TD_POP3_POLICY_DELETE_AFTER_DAYS;
  return pop3_policy_names[policy];
}

gboolean
td_pop3_policy_from_string (const char   *str,
                            TdPop3Policy *out)
{
  for (guint i = 0; str != NULL && i < G_N_ELEMENTS (pop3_policy_names); i++)
    if (g_strcmp0 (str, pop3_policy_names[i]) == 0)
      {
        *out = (TdPop3Policy) i;
        return TRUE;
      }
  return FALSE;
}

TdPop3Policy
td_account_get_pop3_policy (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), TD_POP3_POLICY_DELETE_AFTER_DAYS);
  return self->pop3_policy;
}

void
td_account_set_pop3_policy (TdAccount    *self,
                            TdPop3Policy  policy)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  g_return_if_fail ((guint) policy <= TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD);
  if (self->pop3_policy == policy)
    return;
  self->pop3_policy = policy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POP3_POLICY]);
}

guint
td_account_get_pop3_delete_days (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), TD_POP3_DELETE_DAYS_DEFAULT);
  return self->pop3_delete_days;
}

void
td_account_set_pop3_delete_days (TdAccount *self,
                                 guint      days)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  days = MIN (days, TD_POP3_DELETE_DAYS_MAX);
  if (self->pop3_delete_days == days)
    return;
  self->pop3_delete_days = days;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POP3_DELETE_DAYS]);
}

gboolean
td_account_get_pop3_delete_when_deleted_here (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), FALSE);
  return self->pop3_delete_when_deleted_here;
}

void
td_account_set_pop3_delete_when_deleted_here (TdAccount *self,
                                              gboolean   delete)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  delete = !!delete;
  if (self->pop3_delete_when_deleted_here == delete)
    return;
  self->pop3_delete_when_deleted_here = delete;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POP3_DELETE_WHEN_DELETED_HERE]);
}

/* --- SMTP --- */

const char *
td_account_get_smtp_host (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), NULL);
  return self->smtp_host;
}

guint16
td_account_get_smtp_port (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), TD_SMTP_PORT_SUBMISSION);
  return self->smtp_port;
}

TdSecurity
td_account_get_smtp_security (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), TD_SECURITY_STARTTLS);
  return self->smtp_security;
}

const char *
td_account_get_smtp_username (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), NULL);
  return self->smtp_username != NULL ? self->smtp_username : self->username;
}

void
td_account_set_smtp (TdAccount  *self,
                     const char *host,
                     guint16     port,
                     TdSecurity  security,
                     const char *username)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  g_return_if_fail (security == TD_SECURITY_TLS || security == TD_SECURITY_STARTTLS);

  g_object_freeze_notify (G_OBJECT (self));
  set_string (self, &self->smtp_host, host != NULL && *host != '\0' ? host : NULL,
              PROP_SMTP_HOST);
  if (port == 0)
    port = security == TD_SECURITY_TLS ? TD_SMTP_PORT_SUBMISSIONS : TD_SMTP_PORT_SUBMISSION;
  if (self->smtp_port != port)
    {
      self->smtp_port = port;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMTP_PORT]);
    }
  if (self->smtp_security != security)
    {
      self->smtp_security = security;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMTP_SECURITY]);
    }
  set_string (self, &self->smtp_username,
              username != NULL && *username != '\0' ? username : NULL, PROP_SMTP_USERNAME);
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
td_account_get_sent_saved_by_server (TdAccount *self)
{
  g_return_val_if_fail (TD_IS_ACCOUNT (self), FALSE);
  return self->sent_saved_by_server;
}

void
td_account_set_sent_saved_by_server (TdAccount *self,
                                     gboolean   saved)
{
  g_return_if_fail (TD_IS_ACCOUNT (self));
  saved = !!saved;
  if (self->sent_saved_by_server == saved)
    return;
  self->sent_saved_by_server = saved;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SENT_SAVED_BY_SERVER]);
}
