/* td-message.h: a message row of the store (no body), as an immutable snapshot object
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "td-types.h"

G_BEGIN_DECLS

#define TD_TYPE_MESSAGE (td_message_get_type ())

G_DECLARE_FINAL_TYPE (TdMessage, td_message, TD, MESSAGE, GObject)

/* Read-only properties mirror the getters. Strings are UTF-8 and already decoded
 * (RFC 2047); "from" is the display form ("Name" or the address when there is no name). */
typedef struct
{
  gint64      id;
  gint64      folder_id;
  guint32     uid;
  const char *message_id;
  gint64      date;          /* unix time */
  const char *from;          /* display name or address */
  const char *from_address;
  const char *to;            /* display list */
  const char *cc;
  const char *subject;
  guint64     size;
  TdFlags     flags;
  const char *preview;       /* first ~200 chars of the text, or NULL before the body */
  gboolean    has_attachment;
  gboolean    has_body;
  const char *keywords;      /* other keywords (e.g. "$NotJunk work"), space-separated */
} TdMessageFields;

TdMessage   *td_message_new               (const TdMessageFields *fields);
gint64       td_message_get_id            (TdMessage *self);
gint64       td_message_get_folder_id     (TdMessage *self);
guint32      td_message_get_uid           (TdMessage *self);
const char  *td_message_get_message_id    (TdMessage *self);
gint64       td_message_get_date          (TdMessage *self);
const char  *td_message_get_from          (TdMessage *self);
const char  *td_message_get_from_address  (TdMessage *self);
const char  *td_message_get_to            (TdMessage *self);
const char  *td_message_get_cc            (TdMessage *self);
const char  *td_message_get_subject       (TdMessage *self);
guint64      td_message_get_size          (TdMessage *self);
TdFlags      td_message_get_flags         (TdMessage *self);
const char  *td_message_get_preview       (TdMessage *self);
gboolean     td_message_get_has_attachment (TdMessage *self);
/* The keywords the flags do not name, space-separated, or NULL for none. */
const char  *td_message_get_keywords      (TdMessage *self);
gboolean     td_message_get_has_body      (TdMessage *self);
/* "SRF" style letters for the CLI: S seen, R answered, F flagged, W forwarded, D draft,
 * T deleted; "-" for none. */
char        *td_message_dup_flags_string  (TdMessage *self);

G_END_DECLS
