/* td-mime.h: reading mail as people really get it, with GMime
 *
 * Every function here takes hostile input: malformed, mislabelled or absurdly nested MIME
 * gives a best-effort result, never a crash. Charsets are decoded by their labels with the
 * fallbacks browsers and Thunderbird use (undeclared or wrongly declared 8-bit text is tried
 * as UTF-8, then windows-1252), RFC 2047 words and RFC 2231 parameters are decoded, and
 * format=flowed is unwrapped.
 *
 * Callers must have called td_engine_init().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The parts of a header block that the store keeps. All strings UTF-8, may be NULL. */
typedef struct
{
  char   *subject;
  char   *from_name;      /* display name of the first From, or NULL */
  char   *from_address;   /* addr-spec of the first From */
  char   *to;             /* display list: "Ann <a@x>, b@y" decoded */
  char   *cc;
  char   *message_id;     /* without < > */
  char   *in_reply_to;    /* without < > */
  char   *references;     /* space-separated ids without < > */
  gint64  date;           /* unix time, 0 when missing or unparsable */
} TdMimeHeaders;

/* Parses a header block (or a whole message; only its header is read). */
TdMimeHeaders *td_mime_headers_parse      (GBytes          *header);
void           td_mime_headers_free       (TdMimeHeaders   *headers);

typedef struct
{
  char   *filename;       /* decoded (RFC 2231/2047), never NULL: "attachment" or similar */
  char   *content_type;   /* "image/png" */
  gsize   size;           /* decoded size in bytes */
  char   *content_id;     /* without < >, or NULL */
  gboolean inline_part;   /* Content-Disposition inline (e.g. an image in HTML) */
  guint   index;          /* position among the message's attachments */
} TdAttachment;

void           td_attachment_free         (TdAttachment    *attachment);

#define TD_TYPE_MIME_MESSAGE (td_mime_message_get_type ())

G_DECLARE_FINAL_TYPE (TdMimeMessage, td_mime_message, TD, MIME_MESSAGE, GObject)

/* Parses a whole RFC 5322 message. Only an empty input is an error. */
TdMimeMessage *td_mime_message_new        (GBytes          *raw,
                                           GError         **error);
const TdMimeHeaders *td_mime_message_get_headers (TdMimeMessage *self);
/* The text to read: text/plain preferred (format=flowed unwrapped), else the HTML part
 * converted to text; "" when there is none. */
const char    *td_mime_message_get_text   (TdMimeMessage   *self);
/* The HTML body (decoded to UTF-8) if the message has one, else NULL. */
const char    *td_mime_message_get_html   (TdMimeMessage   *self);
/* TdAttachment*, in order. */
GPtrArray     *td_mime_message_get_attachments (TdMimeMessage *self);
/* Whether the message has an attachment to show a paper clip for: one that is not an inline
 * part the HTML shows by its Content-ID. Cheaper than td_mime_message_get_attachments(): it
 * decodes no content. */
gboolean       td_mime_message_has_attachment (TdMimeMessage *self);
/* Decoded content of attachment @index, or NULL. */
GBytes        *td_mime_message_get_attachment_data (TdMimeMessage *self,
                                                    guint          index);
/* The decoded content of the part with this Content-ID (for cid: images in HTML). */
GBytes        *td_mime_message_get_part_by_cid (TdMimeMessage *self,
                                                const char    *content_id,
                                                char         **content_type);

/* HTML to readable plain text (block elements become lines, entities decoded, scripts
 * and styles dropped). */
char          *td_mime_html_to_text       (const char      *html);
/* The first @max_chars characters of @text with white space folded: a list preview. */
char          *td_mime_make_preview       (const char      *text,
                                           guint            max_chars);
/* Does the HTML reference remote resources (http:, https:, //host) in src/href/url()? */
gboolean       td_mime_html_has_remote_content (const char *html);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdMimeHeaders, td_mime_headers_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdAttachment, td_attachment_free)

G_END_DECLS
