/* td-mime-message.c: one parsed message: the text to read, its HTML, its attachments
 *
 * Parsing is GMime's; this file walks the tree it builds (never deeper than
 * TD_MIME_MAX_DEPTH, never more than TD_MIME_MAX_PARTS parts) and decides what a reader
 * sees. Everything past the parse is lazy: text, HTML and attachments are made when first
 * asked for.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-mime"

#include "config.h"

#include "td-mime.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-mime-private.h"

struct _TdMimeMessage
{
  GObject        parent_instance;

  GMimeMessage  *message;
  TdMimeHeaders *headers;
  char          *text;
  char          *html;
  gboolean       html_done;
  GPtrArray     *attachments;         /* TdAttachment * */
  GPtrArray     *attachment_objects;  /* GMimeObject *, parallel to attachments */
  gboolean       has_attachment;      /* set by note_attachment() */
};

G_DEFINE_FINAL_TYPE (TdMimeMessage, td_mime_message, G_TYPE_OBJECT)

typedef struct
{
  guint parts;   /* parts visited so far */
} Walk;

static gboolean
walk_enter (Walk        *walk,
            GMimeObject *object,
            guint        depth)
{
  return object != NULL && depth <= TD_MIME_MAX_DEPTH && ++walk->parts <= TD_MIME_MAX_PARTS;
}

/* ---------------------------------------------------------------------------------------- */
/* Parts                                                                                     */

static gboolean
is_attachment_disposition (GMimeObject *object)
{
  GMimeContentDisposition *disposition = g_mime_object_get_content_disposition (object);

  return disposition != NULL && g_mime_content_disposition_is_attachment (disposition);
}

static gboolean
is_type (GMimeObject *object,
         const char  *type,
         const char  *subtype)
{
  GMimeContentType *content_type = g_mime_object_get_content_type (object);

  if (content_type == NULL)
    return g_ascii_strcasecmp (type, "text") == 0 &&
           (g_strcmp0 (subtype, "*") == 0 || g_ascii_strcasecmp (subtype, "plain") == 0);
  return g_mime_content_type_is_type (content_type, type, subtype);
}

/* Text types that are files to open rather than text to read. */
static const char * const carried_text_types[] = {
  "calendar", "x-vcalendar", "rtf", "enriched", "richtext", "vcard", "x-vcard", "directory",
  "xml", "csv", "tab-separated-values",
};

/* Is this leaf part of what the message says (rather than something it carries)? */
static gboolean
leaf_is_body (GMimeObject *object)
{
  GMimeContentType *content_type = g_mime_object_get_content_type (object);
  const char *subtype;

  if (!GMIME_IS_PART (object) || is_attachment_disposition (object))
    return FALSE;
  if (content_type == NULL)
    return TRUE;
  /* the readable parts of bounces and receipts */
  if (g_mime_content_type_is_type (content_type, "message", "delivery-status") ||
      g_mime_content_type_is_type (content_type, "message", "disposition-notification"))
    return TRUE;
  if (!g_mime_content_type_is_type (content_type, "text", "*"))
    return FALSE;
  subtype = g_mime_content_type_get_media_subtype (content_type);
  for (guint i = 0; subtype != NULL && i < G_N_ELEMENTS (carried_text_types); i++)
    if (g_ascii_strcasecmp (subtype, carried_text_types[i]) == 0)
      return FALSE;
  return TRUE;
}

/* Writes the decoded content (transfer encoding undone) of a part or an attached message. */
static void
write_decoded (GMimeObject *object,
               GMimeStream *stream)
{
  if (GMIME_IS_PART (object))
    {
      GMimeDataWrapper *content = g_mime_part_get_content (GMIME_PART (object));

      if (content != NULL)
        g_mime_data_wrapper_write_to_stream (content, stream);
    }
  else if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      if (inner != NULL)
        g_mime_object_write_to_stream (GMIME_OBJECT (inner), NULL, stream);
    }
}

static GByteArray *
decoded_bytes (GMimeObject *object)
{
  GMimeStream *stream = g_mime_stream_mem_new ();
  GByteArray *array;

  write_decoded (object, stream);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
  g_object_unref (stream);
  return array;
}

static gsize
decoded_size (GMimeObject *object)
{
  GMimeStream *stream = g_mime_stream_null_new ();
  gsize size;

  write_decoded (object, stream);
  size = GMIME_STREAM_NULL (stream)->written;
  g_object_unref (stream);
  return size;
}

/* A text part's content as UTF-8; plain text with format=flowed comes unwrapped. */
static char *
part_get_text (GMimeObject *object,
               gboolean     is_html)
{
  GByteArray *bytes = decoded_bytes (object);
  const char *charset = g_mime_object_get_content_type_parameter (object, "charset");
  char *text = _td_mime_decode_charset ((const char *) bytes->data, bytes->len, charset, is_html);
  const char *format = g_mime_object_get_content_type_parameter (object, "format");
  g_autofree char *flowed = format != NULL ? g_strstrip (g_strdup (format)) : NULL;

  g_byte_array_unref (bytes);
  if (!is_html && flowed != NULL && g_ascii_strcasecmp (flowed, "flowed") == 0)
    {
      const char *delsp = g_mime_object_get_content_type_parameter (object, "delsp");
      char *unflowed = _td_mime_unflow (text, delsp != NULL &&
                                              g_ascii_strncasecmp (delsp, "yes", 3) == 0);

      g_free (text);
      text = unflowed;
    }
  return text;
}

static gboolean
is_blank (const char *text)
{
  for (; *text != '\0'; text++)
    if (!g_ascii_isspace (*text))
      return FALSE;
  return TRUE;
}

/* Appends a block of text, one blank line after what is there. */
static void
append_block (GString    *out,
              const char *text)
{
  gsize len = strlen (text);

  if (is_blank (text))
    return;
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\t'))
    len--;
  while (*text == '\n')
    {
      text++;
      len--;
    }
  if (out->len > 0)
    {
      while (out->len > 0 && out->str[out->len - 1] == '\n')
        g_string_truncate (out, out->len - 1);
      g_string_append (out, "\n\n");
    }
  g_string_append_len (out, text, len);
}

/* The root of a multipart/related: the part named by start=, else the first. */
static GMimeObject *
related_root (GMimeMultipart *multipart)
{
  const char *start = g_mime_object_get_content_type_parameter (GMIME_OBJECT (multipart),
                                                                "start");
  int n = g_mime_multipart_get_count (multipart);

  if (start != NULL)
    {
      g_autofree char *id = g_strdup (start);

      g_strstrip (g_strdelimit (id, "<>", ' '));
      for (int i = 0; i < n && i < TD_MIME_MAX_PARTS; i++)
        {
          GMimeObject *part = g_mime_multipart_get_part (multipart, i);

          if (g_strcmp0 (g_mime_object_get_content_id (part), id) == 0)
            return part;
        }
    }
  return n > 0 ? g_mime_multipart_get_part (multipart, 0) : NULL;
}

static gboolean
is_signed (GMimeObject *object)
{
  return GMIME_IS_MULTIPART_SIGNED (object) || is_type (object, "multipart", "signed");
}

/* ---------------------------------------------------------------------------------------- */
/* Text                                                                                      */

static void collect_text (Walk        *walk,
                          GMimeObject *object,
                          guint        depth,
                          GString     *out);

static char *
forward_header_text (GMimeMessage *inner)
{
  g_autoptr(TdMimeHeaders) headers = _td_mime_headers_from_object (GMIME_OBJECT (inner));
  const char *raw_date = _td_mime_object_raw_header (GMIME_OBJECT (inner), "Date");
  g_autofree char *date = raw_date != NULL ? _td_mime_decode_header_text (raw_date) : NULL;
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "---------- %s ----------\n", _("Forwarded message"));
  if (headers->from_address != NULL || headers->from_name != NULL)
    {
      if (headers->from_name != NULL && headers->from_address != NULL)
        g_string_append_printf (out, "%s: %s <%s>\n", _("From"), headers->from_name,
                                headers->from_address);
      else
        g_string_append_printf (out, "%s: %s\n", _("From"),
                                headers->from_address != NULL ? headers->from_address
                                                              : headers->from_name);
    }
  if (date != NULL)
    g_string_append_printf (out, "%s: %s\n", _("Date"), date);
  if (headers->subject != NULL)
    g_string_append_printf (out, "%s: %s\n", _("Subject"), headers->subject);
  if (headers->to != NULL)
    g_string_append_printf (out, "%s: %s\n", _("To"), headers->to);
  if (headers->cc != NULL)
    g_string_append_printf (out, "%s: %s\n", _("Cc"), headers->cc);
  return g_string_free (out, FALSE);
}

static void
collect_alternative (Walk           *walk,
                     GMimeMultipart *multipart,
                     guint           depth,
                     GString        *out)
{
  int n = MIN (g_mime_multipart_get_count (multipart), TD_MIME_MAX_PARTS);

  /* the plain text, unless it is empty */
  for (int i = 0; i < n; i++)
    {
      GMimeObject *child = g_mime_multipart_get_part (multipart, i);

      if (leaf_is_body (child) && is_type (child, "text", "plain"))
        {
          g_autofree char *text = part_get_text (child, FALSE);

          if (!is_blank (text))
            {
              append_block (out, text);
              return;
            }
        }
    }

  /* else the richest alternative (the last) that has any text */
  for (int i = n - 1; i >= 0; i--)
    {
      GMimeObject *child = g_mime_multipart_get_part (multipart, i);
      g_autoptr(GString) sub = NULL;

      if (leaf_is_body (child) && is_type (child, "text", "plain"))
        continue;
      sub = g_string_new (NULL);
      collect_text (walk, child, depth + 1, sub);
      if (!is_blank (sub->str))
        {
          append_block (out, sub->str);
          return;
        }
    }
}

static void
collect_text (Walk        *walk,
              GMimeObject *object,
              guint        depth,
              GString     *out)
{
  if (!walk_enter (walk, object, depth))
    return;

  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));
      g_autoptr(GString) sub = NULL;
      g_autofree char *header = NULL;

      if (inner == NULL)
        return;
      header = forward_header_text (inner);
      sub = g_string_new (NULL);
      collect_text (walk, g_mime_message_get_mime_part (inner), depth + 1, sub);
      g_string_prepend_c (sub, '\n');
      g_string_prepend (sub, header);
      append_block (out, sub->str);
      return;
    }

  if (GMIME_IS_MULTIPART_ENCRYPTED (object))
    return;

  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      int n = MIN (g_mime_multipart_get_count (multipart), TD_MIME_MAX_PARTS);

      if (n == 0)
        return;
      if (is_signed (object))
        collect_text (walk, g_mime_multipart_get_part (multipart, 0), depth + 1, out);
      else if (is_type (object, "multipart", "alternative"))
        collect_alternative (walk, multipart, depth, out);
      else if (is_type (object, "multipart", "related"))
        collect_text (walk, related_root (multipart), depth + 1, out);
      else
        for (int i = 0; i < n; i++)
          collect_text (walk, g_mime_multipart_get_part (multipart, i), depth + 1, out);
      return;
    }

  if (leaf_is_body (object))
    {
      g_autofree char *text = NULL;

      if (is_type (object, "text", "html"))
        {
          g_autofree char *html = part_get_text (object, TRUE);

          text = td_mime_html_to_text (html);
        }
      else
        text = part_get_text (object, FALSE);
      append_block (out, text);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* HTML                                                                                      */

static void
append_plain_as_html (GString    *out,
                      const char *text)
{
  if (is_blank (text))
    return;
  g_string_append (out, "<pre style=\"white-space: pre-wrap\">");
  _td_mime_html_escape (out, text);
  g_string_append (out, "</pre>\n");
}

/* Like collect_text, but HTML: HTML parts as they are, plain parts escaped. Sets *found
 * when an HTML part was used. */
static void
collect_html (Walk        *walk,
              GMimeObject *object,
              guint        depth,
              GString     *out,
              gboolean    *found)
{
  if (!walk_enter (walk, object, depth))
    return;

  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));
      g_autofree char *header = NULL;

      if (inner == NULL)
        return;
      header = forward_header_text (inner);
      g_string_append (out, "<hr>\n");
      append_plain_as_html (out, header);
      collect_html (walk, g_mime_message_get_mime_part (inner), depth + 1, out, found);
      return;
    }

  if (GMIME_IS_MULTIPART_ENCRYPTED (object))
    return;

  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      int n = MIN (g_mime_multipart_get_count (multipart), TD_MIME_MAX_PARTS);

      if (n == 0)
        return;
      if (is_signed (object))
        collect_html (walk, g_mime_multipart_get_part (multipart, 0), depth + 1, out, found);
      else if (is_type (object, "multipart", "alternative"))
        {
          g_autoptr(GString) fallback = NULL;

          for (int i = n - 1; i >= 0; i--)
            {
              g_autoptr(GString) sub = g_string_new (NULL);
              gboolean sub_found = FALSE;

              collect_html (walk, g_mime_multipart_get_part (multipart, i), depth + 1, sub,
                            &sub_found);
              if (sub_found)
                {
                  g_string_append_len (out, sub->str, sub->len);
                  *found = TRUE;
                  return;
                }
              if (fallback == NULL && sub->len > 0)
                fallback = g_steal_pointer (&sub);
            }
          if (fallback != NULL)
            g_string_append_len (out, fallback->str, fallback->len);
        }
      else if (is_type (object, "multipart", "related"))
        collect_html (walk, related_root (multipart), depth + 1, out, found);
      else
        for (int i = 0; i < n; i++)
          collect_html (walk, g_mime_multipart_get_part (multipart, i), depth + 1, out, found);
      return;
    }

  if (leaf_is_body (object))
    {
      if (is_type (object, "text", "html"))
        {
          g_autofree char *html = part_get_text (object, TRUE);

          g_string_append (out, html);
          g_string_append_c (out, '\n');
          *found = TRUE;
        }
      else
        {
          g_autofree char *text = part_get_text (object, FALSE);

          append_plain_as_html (out, text);
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Attachments                                                                               */

static const struct
{
  const char *type;
  const char *extension;
} extensions[] = {
  { "image/jpeg", ".jpg" }, { "image/jpg", ".jpg" }, { "image/pjpeg", ".jpg" },
  { "image/png", ".png" }, { "image/gif", ".gif" }, { "image/webp", ".webp" },
  { "image/svg+xml", ".svg" }, { "image/bmp", ".bmp" }, { "image/tiff", ".tif" },
  { "image/heic", ".heic" }, { "application/pdf", ".pdf" }, { "application/zip", ".zip" },
  { "application/x-zip-compressed", ".zip" }, { "application/gzip", ".gz" },
  { "application/x-gzip", ".gz" }, { "application/x-tar", ".tar" },
  { "application/x-7z-compressed", ".7z" }, { "application/msword", ".doc" },
  { "application/vnd.ms-excel", ".xls" }, { "application/vnd.ms-powerpoint", ".ppt" },
  { "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx" },
  { "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx" },
  { "application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx" },
  { "application/vnd.oasis.opendocument.text", ".odt" },
  { "application/vnd.oasis.opendocument.spreadsheet", ".ods" },
  { "application/vnd.oasis.opendocument.presentation", ".odp" },
  { "application/json", ".json" }, { "application/xml", ".xml" }, { "text/xml", ".xml" },
  { "application/octet-stream", ".bin" }, { "application/pgp-signature", ".asc" },
  { "application/pgp-encrypted", ".pgp" }, { "application/pgp-keys", ".asc" },
  { "application/pkcs7-signature", ".p7s" }, { "application/x-pkcs7-signature", ".p7s" },
  { "application/pkcs7-mime", ".p7m" }, { "application/x-pkcs7-mime", ".p7m" },
  { "application/ics", ".ics" }, { "text/calendar", ".ics" }, { "text/plain", ".txt" },
  { "text/html", ".html" }, { "text/csv", ".csv" }, { "text/vcard", ".vcf" },
  { "text/x-vcard", ".vcf" }, { "text/rtf", ".rtf" }, { "application/rtf", ".rtf" },
  { "message/rfc822", ".eml" }, { "audio/mpeg", ".mp3" }, { "audio/ogg", ".ogg" },
  { "audio/wav", ".wav" }, { "video/mp4", ".mp4" }, { "video/mpeg", ".mpg" },
  { "video/quicktime", ".mov" }, { "text/x-diff", ".diff" }, { "text/x-patch", ".patch" },
};

static const char *
extension_for (const char *mime_type)
{
  const char *slash;

  for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
    if (strcmp (mime_type, extensions[i].type) == 0)
      return extensions[i].extension;

  /* image/avif -> ".avif": a short plain subtype says it well enough */
  slash = strchr (mime_type, '/');
  if (slash != NULL && strlen (slash + 1) > 0 && strlen (slash + 1) <= 5)
    {
      for (const char *c = slash + 1; *c != '\0'; c++)
        if (!g_ascii_isalnum (*c))
          return "";
      return slash;   /* "/avif": turned into ".avif" by the caller */
    }
  return "";
}

/* A file name that is safe to offer for saving: no directories, no control characters,
 * not "." or "..", at most 255 bytes. NULL when nothing usable is left. */
static char *
sanitize_filename (const char *name)
{
  g_autofree char *decoded = NULL;
  g_autofree char *clean = NULL;
  const char *base;
  char *result;
  gsize len;

  if (name == NULL)
    return NULL;
  if (strstr (name, "=?") != NULL)
    name = decoded = _td_mime_decode_header_text (name);
  if (name == NULL)
    return NULL;

  clean = _td_mime_clean_utf8 (name, strlen (name));
  g_strdelimit (clean, "\t\n", ' ');
  base = clean;
  for (const char *c = clean; *c != '\0'; c++)
    if (*c == '/' || *c == '\\')
      base = c + 1;
  result = g_strstrip (g_strdup (base));
  if (*result == '\0' || strcmp (result, ".") == 0 || strcmp (result, "..") == 0)
    {
      g_free (result);
      return NULL;
    }
  len = strlen (result);
  if (len > 255)
    {
      const char *cut = g_utf8_find_prev_char (result, result + 255);

      result[cut != NULL ? cut - result : 0] = '\0';
    }
  return result;
}

static char *
attachment_filename (GMimeObject *object,
                     const char  *mime_type)
{
  const char *name = NULL;
  const char *extension;
  char *filename;

  if (GMIME_IS_PART (object))
    name = g_mime_part_get_filename (GMIME_PART (object));
  else
    {
      name = g_mime_object_get_content_disposition_parameter (object, "filename");
      if (name == NULL)
        name = g_mime_object_get_content_type_parameter (object, "name");
    }

  filename = sanitize_filename (name);
  if (filename != NULL)
    return filename;

  extension = extension_for (mime_type);
  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));
      g_autofree char *subject = NULL;
      g_autofree char *safe = NULL;

      if (inner != NULL)
        subject = _td_mime_decode_header_text (_td_mime_object_raw_header (GMIME_OBJECT (inner),
                                                                           "Subject"));
      safe = subject != NULL ? sanitize_filename (g_strdelimit (subject, "/\\", '_')) : NULL;
      if (safe != NULL)
        return g_strconcat (safe, ".eml", NULL);
    }

  if (extension[0] == '/')
    return g_strconcat (_("Attachment"), ".", extension + 1, NULL);
  return g_strconcat (_("Attachment"), extension, NULL);
}

/* An inline part that the HTML shows by its Content-ID (in a multipart/related without a
 * disposition, or with "inline"). */
static gboolean
is_inline_part (GMimeObject *object,
                gboolean     in_related)
{
  const char *disposition = g_mime_object_get_disposition (object);
  const char *content_id = g_mime_object_get_content_id (object);
  gboolean has_id = content_id != NULL && *content_id != '\0';

  if (disposition != NULL)
    return g_ascii_strcasecmp (disposition, "inline") == 0;
  return in_related && has_id;
}

static void
add_attachment (TdMimeMessage *self,
                GMimeObject   *object,
                gboolean       in_related)
{
  TdAttachment *attachment = g_new0 (TdAttachment, 1);
  GMimeContentType *content_type = g_mime_object_get_content_type (object);
  g_autofree char *mime_type = NULL;
  const char *content_id = g_mime_object_get_content_id (object);

  if (content_type != NULL)
    mime_type = g_mime_content_type_get_mime_type (content_type);
  attachment->content_type = g_ascii_strdown (mime_type != NULL ? mime_type
                                              : "application/octet-stream", -1);
  attachment->filename = attachment_filename (object, attachment->content_type);
  attachment->size = decoded_size (object);
  if (content_id != NULL && *content_id != '\0')
    attachment->content_id = _td_mime_clean_utf8 (content_id, strlen (content_id));
  attachment->inline_part = is_inline_part (object, in_related);
  attachment->index = self->attachments->len;

  g_ptr_array_add (self->attachments, attachment);
  g_ptr_array_add (self->attachment_objects, g_object_ref (object));
}

/* What collect_attachments() does with each attachment it finds. */
typedef void (*FoundFunc) (TdMimeMessage *self,
                           GMimeObject   *object,
                           gboolean       in_related);

static void
collect_attachments (TdMimeMessage *self,
                     Walk          *walk,
                     GMimeObject   *object,
                     guint          depth,
                     gboolean       in_related,
                     FoundFunc      found)
{
  if (!walk_enter (walk, object, depth))
    return;

  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      /* an attached message is one file; an inline one shows its own attachments */
      if (is_attachment_disposition (object))
        found (self, object, in_related);
      else if (inner != NULL)
        collect_attachments (self, walk, g_mime_message_get_mime_part (inner), depth + 1, FALSE,
                             found);
      return;
    }

  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      int n = MIN (g_mime_multipart_get_count (multipart), TD_MIME_MAX_PARTS);
      gboolean related = is_type (object, "multipart", "related");

      /* the signature of a signed part is not something to open */
      if (is_signed (object))
        n = MIN (n, 1);
      for (int i = 0; i < n; i++)
        collect_attachments (self, walk, g_mime_multipart_get_part (multipart, i), depth + 1,
                             related, found);
      return;
    }

  if (GMIME_IS_PART (object) && !leaf_is_body (object))
    found (self, object, in_related);
}

static void
ensure_attachments (TdMimeMessage *self)
{
  Walk walk = { 0, };

  if (self->attachments != NULL)
    return;
  self->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) td_attachment_free);
  self->attachment_objects = g_ptr_array_new_with_free_func (g_object_unref);
  collect_attachments (self, &walk, g_mime_message_get_mime_part (self->message), 0, FALSE,
                       add_attachment);
}

static void
note_attachment (TdMimeMessage *self,
                 GMimeObject   *object,
                 gboolean       in_related)
{
  const char *content_id = g_mime_object_get_content_id (object);

  if (!is_inline_part (object, in_related) || content_id == NULL || *content_id == '\0')
    self->has_attachment = TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Content-ID lookups                                                                        */

static GMimeObject *
find_by_cid (Walk        *walk,
             GMimeObject *object,
             guint        depth,
             const char  *id,
             gboolean     fold_case)
{
  if (!walk_enter (walk, object, depth))
    return NULL;

  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      return inner != NULL ? find_by_cid (walk, g_mime_message_get_mime_part (inner), depth + 1,
                                          id, fold_case)
                           : NULL;
    }
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      int n = MIN (g_mime_multipart_get_count (multipart), TD_MIME_MAX_PARTS);

      for (int i = 0; i < n; i++)
        {
          GMimeObject *found = find_by_cid (walk, g_mime_multipart_get_part (multipart, i),
                                            depth + 1, id, fold_case);

          if (found != NULL)
            return found;
        }
      return NULL;
    }
  if (GMIME_IS_PART (object))
    {
      const char *cid = g_mime_object_get_content_id (object);

      if (cid != NULL && (fold_case ? g_ascii_strcasecmp (cid, id) == 0 : strcmp (cid, id) == 0))
        return object;
    }
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* The object                                                                                */

static void
td_mime_message_finalize (GObject *object)
{
  TdMimeMessage *self = TD_MIME_MESSAGE (object);

  g_clear_object (&self->message);
  g_clear_pointer (&self->headers, td_mime_headers_free);
  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->html, g_free);
  g_clear_pointer (&self->attachments, g_ptr_array_unref);
  g_clear_pointer (&self->attachment_objects, g_ptr_array_unref);

  G_OBJECT_CLASS (td_mime_message_parent_class)->finalize (object);
}

static void
td_mime_message_class_init (TdMimeMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = td_mime_message_finalize;
}

static void
td_mime_message_init (TdMimeMessage *self)
{
}

/* Input GMime cannot read as a message (no header at all): one text/plain part of it all. */
static GMimeMessage *
message_from_plain_bytes (const char *data,
                          gsize       len)
{
  GMimeMessage *message = g_mime_message_new (FALSE);
  g_autoptr(GMimePart) part = g_mime_part_new_with_type ("text", "plain");
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer (data, len);
  g_autoptr(GMimeDataWrapper) content =
    g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_part_set_content (part, content);
  g_mime_message_set_mime_part (message, GMIME_OBJECT (part));
  return message;
}

TdMimeMessage *
td_mime_message_new (GBytes  *raw,
                     GError **error)
{
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  TdMimeMessage *self;
  const char *data;
  gsize len = 0;

  g_return_val_if_fail (raw != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (raw, &len);
  if (data == NULL || len == 0)
    {
      g_set_error_literal (error, TD_ERROR, TD_ERROR_PARSE, _("The message is empty"));
      return NULL;
    }

  self = g_object_new (TD_TYPE_MIME_MESSAGE, NULL);
  stream = _td_mime_stream_new (data, len, FALSE);
  parser = g_mime_parser_new_with_stream (stream);
  self->message = g_mime_parser_construct_message (parser, _td_mime_parser_options ());
  if (self->message == NULL)
    self->message = message_from_plain_bytes (data, len);
  return self;
}

const TdMimeHeaders *
td_mime_message_get_headers (TdMimeMessage *self)
{
  g_return_val_if_fail (TD_IS_MIME_MESSAGE (self), NULL);

  if (self->headers == NULL)
    self->headers = _td_mime_headers_from_object (GMIME_OBJECT (self->message));
  return self->headers;
}

const char *
td_mime_message_get_text (TdMimeMessage *self)
{
  g_return_val_if_fail (TD_IS_MIME_MESSAGE (self), NULL);

  if (self->text == NULL)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      Walk walk = { 0, };

      collect_text (&walk, g_mime_message_get_mime_part (self->message), 0, out);
      while (out->len > 0 && g_ascii_isspace (out->str[out->len - 1]))
        g_string_truncate (out, out->len - 1);
      /* every piece is clean UTF-8 already; this only guards against a mistake here */
      if (!g_utf8_validate_len (out->str, out->len, NULL))
        self->text = _td_mime_clean_utf8 (out->str, out->len);
      else
        self->text = g_string_free (g_steal_pointer (&out), FALSE);
    }
  return self->text;
}

const char *
td_mime_message_get_html (TdMimeMessage *self)
{
  g_return_val_if_fail (TD_IS_MIME_MESSAGE (self), NULL);

  if (!self->html_done)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      Walk walk = { 0, };
      gboolean found = FALSE;

      collect_html (&walk, g_mime_message_get_mime_part (self->message), 0, out, &found);
      while (out->len > 0 && g_ascii_isspace (out->str[out->len - 1]))
        g_string_truncate (out, out->len - 1);
      if (found)
        self->html = _td_mime_clean_utf8 (out->str, out->len);
      self->html_done = TRUE;
    }
  return self->html;
}

GPtrArray *
td_mime_message_get_attachments (TdMimeMessage *self)
{
  g_return_val_if_fail (TD_IS_MIME_MESSAGE (self), NULL);

  ensure_attachments (self);
  return self->attachments;
}

gboolean
td_mime_message_has_attachment (TdMimeMessage *self)
{
  Walk walk = { 0, };

  g_return_val_if_fail (TD_IS_MIME_MESSAGE (self), FALSE);

  if (self->attachments != NULL)
    {
      for (guint i = 0; i < self->attachments->len; i++)
        {
          TdAttachment *attachment = g_ptr_array_index (self->attachments, i);

          if (!attachment->inline_part || attachment->content_id == NULL)
            return TRUE;
        }
      return FALSE;
    }

  /* Only the structure: no content is decoded (sizes are what take the time). */
  self->has_attachment = FALSE;
  collect_attachments (self, &walk, g_mime_message_get_mime_part (self->message), 0, FALSE,
                       note_attachment);
  return self->has_attachment;
}

GBytes *
td_mime_message_get_attachment_data (TdMimeMessage *self,
                                     guint          index)
{
  g_return_val_if_fail (TD_IS_MIME_MESSAGE (self), NULL);

  ensure_attachments (self);
  if (index >= self->attachment_objects->len)
    return NULL;
  return g_byte_array_free_to_bytes (decoded_bytes (g_ptr_array_index (self->attachment_objects,
                                                                       index)));
}

GBytes *
td_mime_message_get_part_by_cid (TdMimeMessage *self,
                                 const char    *content_id,
                                 char         **content_type)
{
  g_autofree char *unescaped = NULL;
  g_autofree char *id = NULL;
  GMimeObject *root;
  GMimeObject *found;
  Walk walk = { 0, };

  g_return_val_if_fail (TD_IS_MIME_MESSAGE (self), NULL);
  g_return_val_if_fail (content_id != NULL, NULL);

  if (content_type != NULL)
    *content_type = NULL;

  /* "cid:part1%40example.org" (RFC 2392: URL-encoded), "<part1@example.org>" or bare */
  if (g_ascii_strncasecmp (content_id, "cid:", 4) == 0)
    content_id += 4;
  unescaped = g_uri_unescape_string (content_id, NULL);
  id = g_strdup (unescaped != NULL ? unescaped : content_id);
  g_strstrip (g_strdelimit (id, "<>", ' '));
  if (*id == '\0')
    return NULL;

  root = g_mime_message_get_mime_part (self->message);
  found = find_by_cid (&walk, root, 0, id, FALSE);
  if (found == NULL)
    {
      walk.parts = 0;
      found = find_by_cid (&walk, root, 0, id, TRUE);
    }
  if (found == NULL)
    return NULL;

  if (content_type != NULL)
    {
      GMimeContentType *type = g_mime_object_get_content_type (found);
      g_autofree char *mime_type = type != NULL ? g_mime_content_type_get_mime_type (type) : NULL;

      *content_type = g_ascii_strdown (mime_type != NULL ? mime_type
                                       : "application/octet-stream", -1);
    }
  return g_byte_array_free_to_bytes (decoded_bytes (found));
}
