/* td-message.c: a message row of the store, as an immutable snapshot object
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-message.h"

struct _TdMessage
{
  GObject   parent_instance;

  gint64    id;
  gint64    folder_id;
  guint32   uid;
  char     *message_id;
  gint64    date;
  char     *from;
  char     *from_address;
  char     *to;
  char     *cc;
  char     *subject;
  guint64   size;
  TdFlags   flags;
  char     *preview;
  char     *keywords;
  gboolean  has_attachment;
  gboolean  has_body;
};

G_DEFINE_FINAL_TYPE (TdMessage, td_message, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_FOLDER_ID,
  PROP_UID,
  PROP_MESSAGE_ID,
  PROP_DATE,
  PROP_FROM,
  PROP_FROM_ADDRESS,
  PROP_TO,
  PROP_CC,
  PROP_SUBJECT,
  PROP_SIZE,
  PROP_FLAGS,
  PROP_PREVIEW,
  PROP_HAS_ATTACHMENT,
  PROP_HAS_BODY,
  PROP_KEYWORDS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
td_message_finalize (GObject *object)
{
  TdMessage *self = (TdMessage *) object;

  g_free (self->message_id);
  g_free (self->from);
  g_free (self->from_address);
  g_free (self->to);
  g_free (self->cc);
  g_free (self->subject);
  g_free (self->preview);
  g_free (self->keywords);

  G_OBJECT_CLASS (td_message_parent_class)->finalize (object);
}

static void
td_message_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  TdMessage *self = TD_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ID: g_value_set_int64 (value, self->id); break;
    case PROP_FOLDER_ID: g_value_set_int64 (value, self->folder_id); break;
    case PROP_UID: g_value_set_uint (value, self->uid); break;
    case PROP_MESSAGE_ID: g_value_set_string (value, self->message_id); break;
    case PROP_DATE: g_value_set_int64 (value, self->date); break;
    case PROP_FROM: g_value_set_string (value, self->from); break;
    case PROP_FROM_ADDRESS: g_value_set_string (value, self->from_address); break;
    case PROP_TO: g_value_set_string (value, self->to); break;
    case PROP_CC: g_value_set_string (value, self->cc); break;
    case PROP_SUBJECT: g_value_set_string (value, self->subject); break;
    case PROP_SIZE: g_value_set_uint64 (value, self->size); break;
    case PROP_FLAGS: g_value_set_uint (value, self->flags); break;
    case PROP_KEYWORDS: g_value_set_string (value, self->keywords); break;
    case PROP_PREVIEW: g_value_set_string (value, self->preview); break;
    case PROP_HAS_ATTACHMENT: g_value_set_boolean (value, self->has_attachment); break;
    case PROP_HAS_BODY: g_value_set_boolean (value, self->has_body); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_message_class_init (TdMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = td_message_finalize;
  object_class->get_property = td_message_get_property;

  properties[PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_FOLDER_ID] = g_param_spec_int64 ("folder-id", NULL, NULL,
                                                   0, G_MAXINT64, 0, flags);
  properties[PROP_UID] = g_param_spec_uint ("uid", NULL, NULL, 0, G_MAXUINT32, 0, flags);
  properties[PROP_MESSAGE_ID] = g_param_spec_string ("message-id", NULL, NULL, NULL, flags);
  properties[PROP_DATE] = g_param_spec_int64 ("date", NULL, NULL,
                                              G_MININT64, G_MAXINT64, 0, flags);
  properties[PROP_FROM] = g_param_spec_string ("from", NULL, NULL, NULL, flags);
  properties[PROP_FROM_ADDRESS] = g_param_spec_string ("from-address", NULL, NULL, NULL, flags);
  properties[PROP_TO] = g_param_spec_string ("to", NULL, NULL, NULL, flags);
  properties[PROP_CC] = g_param_spec_string ("cc", NULL, NULL, NULL, flags);
  properties[PROP_SUBJECT] = g_param_spec_string ("subject", NULL, NULL, NULL, flags);
  properties[PROP_SIZE] = g_param_spec_uint64 ("size", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  properties[PROP_FLAGS] = g_param_spec_uint ("flags", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_PREVIEW] = g_param_spec_string ("preview", NULL, NULL, NULL, flags);
  properties[PROP_KEYWORDS] = g_param_spec_string ("keywords", NULL, NULL, NULL, flags);
  properties[PROP_HAS_ATTACHMENT] = g_param_spec_boolean ("has-attachment", NULL, NULL,
                                                          FALSE, flags);
  properties[PROP_HAS_BODY] = g_param_spec_boolean ("has-body", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
td_message_init (TdMessage *self)
{
}

TdMessage *
td_message_new (const TdMessageFields *fields)
{
  TdMessage *self;

  g_return_val_if_fail (fields != NULL, NULL);

  self = g_object_new (TD_TYPE_MESSAGE, NULL);
  self->id = fields->id;
  self->folder_id = fields->folder_id;
  self->uid = fields->uid;
  self->message_id = g_strdup (fields->message_id);
  self->date = fields->date;
  self->from = g_strdup (fields->from != NULL ? fields->from : fields->from_address);
  self->from_address = g_strdup (fields->from_address);
  self->to = g_strdup (fields->to);
  self->cc = g_strdup (fields->cc);
  self->subject = g_strdup (fields->subject);
  self->size = fields->size;
  self->flags = fields->flags;
  self->preview = g_strdup (fields->preview);
  self->keywords = fields->keywords != NULL && *fields->keywords != '\0'
                   ? g_strdup (fields->keywords) : NULL;
  self->has_attachment = fields->has_attachment;
  self->has_body = fields->has_body;

  return self;
}

gint64
td_message_get_id (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), 0);
  return self->id;
}

gint64
td_message_get_folder_id (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), 0);
  return self->folder_id;
}

guint32
td_message_get_uid (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), 0);
  return self->uid;
}

const char *
td_message_get_message_id (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), NULL);
  return self->message_id;
}

gint64
td_message_get_date (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), 0);
  return self->date;
}

const char *
td_message_get_from (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), NULL);
  return self->from;
}

const char *
td_message_get_from_address (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), NULL);
  return self->from_address;
}

const char *
td_message_get_to (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), NULL);
  return self->to;
}

const char *
td_message_get_cc (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), NULL);
  return self->cc;
}

const char *
td_message_get_subject (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), NULL);
  return self->subject;
}

guint64
td_message_get_size (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), 0);
  return self->size;
}

TdFlags
td_message_get_flags (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), 0);
  return self->flags;
}

const char *
td_message_get_preview (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), NULL);
  return self->preview;
}

const char *
td_message_get_keywords (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), NULL);
  return self->keywords;
}

gboolean
td_message_get_has_attachment (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), FALSE);
  return self->has_attachment;
}

gboolean
td_message_get_has_body (TdMessage *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE (self), FALSE);
  return self->has_body;
}

char *
td_message_dup_flags_string (TdMessage *self)
{
  static const struct {
    TdFlags flag;
    char    letter;
  } letters[] = {
    { TD_FLAG_SEEN, 'S' },
    { TD_FLAG_ANSWERED, 'R' },
    { TD_FLAG_FLAGGED, 'F' },
    { TD_FLAG_FORWARDED, 'W' },
    { TD_FLAG_DRAFT, 'D' },
    { TD_FLAG_DELETED, 'T' },
  };
  GString *str;

  g_return_val_if_fail (TD_IS_MESSAGE (self), NULL);

  str = g_string_sized_new (G_N_ELEMENTS (letters) + 1);
  for (guint i = 0; i < G_N_ELEMENTS (letters); i++)
    if (self->flags & letters[i].flag)
      g_string_append_c (str, letters[i].letter);
  if (str->len == 0)
    g_string_append_c (str, '-');

  return g_string_free (str, FALSE);
}
