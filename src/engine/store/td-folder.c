/* td-folder.c: a folder row of the store, as an immutable snapshot object
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-folder.h"

#include <glib/gi18n-lib.h>

struct _TdFolder
{
  GObject       parent_instance;

  gint64        id;
  gint64        account_id;
  char         *path;
  char         *name;
  char          delimiter;
  guint         depth;
  TdFolderRole  role;
  gboolean      selectable;
  guint         total;
  guint         unread;
  gboolean      subscribed;
};

G_DEFINE_FINAL_TYPE (TdFolder, td_folder, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_ACCOUNT_ID,
  PROP_PATH,
  PROP_NAME,
  PROP_DEPTH,
  PROP_ROLE,
  PROP_SELECTABLE,
  PROP_TOTAL,
  PROP_UNREAD,
  PROP_SUBSCRIBED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
td_folder_finalize (GObject *object)
{
  TdFolder *self = (TdFolder *) object;

  g_free (self->path);
  g_free (self->name);

  G_OBJECT_CLASS (td_folder_parent_class)->finalize (object);
}

static void
td_folder_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  TdFolder *self = TD_FOLDER (object);

  switch (prop_id)
    {
    case PROP_ID: g_value_set_int64 (value, self->id); break;
    case PROP_ACCOUNT_ID: g_value_set_int64 (value, self->account_id); break;
    case PROP_PATH: g_value_set_string (value, self->path); break;
    case PROP_NAME: g_value_set_string (value, self->name); break;
    case PROP_DEPTH: g_value_set_uint (value, self->depth); break;
    case PROP_ROLE: g_value_set_int (value, self->role); break;
    case PROP_SELECTABLE: g_value_set_boolean (value, self->selectable); break;
    case PROP_TOTAL: g_value_set_uint (value, self->total); break;
    case PROP_UNREAD: g_value_set_uint (value, self->unread); break;
    case PROP_SUBSCRIBED: g_value_set_boolean (value, self->subscribed); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_folder_class_init (TdFolderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = td_folder_finalize;
  object_class->get_property = td_folder_get_property;

  properties[PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_ACCOUNT_ID] = g_param_spec_int64 ("account-id", NULL, NULL,
                                                    0, G_MAXINT64, 0, flags);
  properties[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL, flags);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_DEPTH] = g_param_spec_uint ("depth", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_ROLE] = g_param_spec_int ("role", NULL, NULL,
                                            TD_FOLDER_ROLE_NONE, TD_FOLDER_ROLE_FLAGGED,
                                            TD_FOLDER_ROLE_NONE, flags);
  properties[PROP_SELECTABLE] = g_param_spec_boolean ("selectable", NULL, NULL, TRUE, flags);
  properties[PROP_TOTAL] = g_param_spec_uint ("total", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_UNREAD] = g_param_spec_uint ("unread", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_SUBSCRIBED] = g_param_spec_boolean ("subscribed", NULL, NULL, TRUE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
td_folder_init (TdFolder *self)
{
  self->subscribed = TRUE;
}

TdFolder *
td_folder_new (gint64        id,
               gint64        account_id,
               const char   *path,
               char          delimiter,
               TdFolderRole  role,
               gboolean      selectable,
               guint         total,
               guint         unread)
{
  TdFolder *self;
  const char *last;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (TD_TYPE_FOLDER, NULL);
  self->id = id;
  self->account_id = account_id;
  self->path = g_strdup (path);
  self->delimiter = delimiter;
  self->role = role;
  self->selectable = !!selectable;
  self->total = total;
  self->unread = unread;

  last = path;
  if (delimiter != '\0')
    {
      for (const char *p = path; *p != '\0'; p++)
        if (*p == delimiter)
          {
            self->depth++;
            last = p + 1;
          }
    }

  /* INBOX is case-insensitive in IMAP (RFC 3501 5.1) and the one name users see translated. */
  if (self->depth == 0 && g_ascii_strcasecmp (path, "INBOX") == 0)
    self->name = g_strdup (_("Inbox"));
  else if (*last == '\0')
    self->name = g_strdup (path);
  else
    self->name = g_strdup (last);

  return self;
}

gint64
td_folder_get_id (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), 0);
  return self->id;
}

gint64
td_folder_get_account_id (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), 0);
  return self->account_id;
}

const char *
td_folder_get_path (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), NULL);
  return self->path;
}

const char *
td_folder_get_name (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), NULL);
  return self->name;
}

char
td_folder_get_delimiter (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), '\0');
  return self->delimiter;
}

guint
td_folder_get_depth (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), 0);
  return self->depth;
}

TdFolderRole
td_folder_get_role (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), TD_FOLDER_ROLE_NONE);
  return self->role;
}

gboolean
td_folder_get_selectable (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), FALSE);
  return self->selectable;
}

guint
td_folder_get_total (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), 0);
  return self->total;
}

guint
td_folder_get_unread (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), 0);
  return self->unread;
}

gboolean
td_folder_get_subscribed (TdFolder *self)
{
  g_return_val_if_fail (TD_IS_FOLDER (self), TRUE);
  return self->subscribed;
}

void
td_folder_set_subscribed (TdFolder *self,
                          gboolean  subscribed)
{
  g_return_if_fail (TD_IS_FOLDER (self));
  self->subscribed = !!subscribed;
}
