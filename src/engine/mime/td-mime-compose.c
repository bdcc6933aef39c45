/* td-mime-compose.c: building a message to send, with GMime
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-mime"

#include "config.h"

#include "td-mime-compose.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-mime-private.h"

typedef struct
{
  char   *filename;
  char   *content_type;
  GBytes *data;
  gboolean rfc822;
} Attachment;

struct _TdMimeCompose
{
  InternetAddressList *from;
  InternetAddressList *lists[3];   /* To, Cc, Bcc */
  char                *subject;
  char                *body;
  GPtrArray           *attachments;   /* Attachment* */
  char                *in_reply_to;   /* without < > */
  char                *references;    /* "<a> <b>" */
  char                *quote;         /* attribution and quoted lines */
  GDateTime           *date;
  char                *message_id;
  char                *from_address;
  char                *built_subject;
};

static void
attachment_free (gpointer data)
{
  Attachment *a = data;

  g_free (a->filename);
  g_free (a->content_type);
  g_bytes_unref (a->data);
  g_free (a);
}

TdMimeCompose *
td_mime_compose_new (void)
{
  TdMimeCompose *self = g_new0 (TdMimeCompose, 1);

  self->from = internet_address_list_new ();
  for (guint i = 0; i < G_N_ELEMENTS (self->lists); i++)
    self->lists[i] = internet_address_list_new ();
  self->attachments = g_ptr_array_new_with_free_func (attachment_free);
  return self;
}

void
td_mime_compose_free (TdMimeCompose *self)
{
  if (self == NULL)
    return;
  g_object_unref (self->from);
  for (guint i = 0; i < G_N_ELEMENTS (self->lists); i++)
    g_object_unref (self->lists[i]);
  g_free (self->subject);
  g_free (self->body);
  g_ptr_array_unref (self->attachments);
  g_free (self->in_reply_to);
  g_free (self->references);
  g_free (self->quote);
  g_clear_pointer (&self->date, g_date_time_unref);
  g_free (self->message_id);
  g_free (self->from_address);
  g_free (self->built_subject);
  g_free (self);
}

static gboolean
valid_addr_spec (const char *addr)
{
  const char *at;

  if (addr == NULL || strlen (addr) > 320 || strpbrk (addr, " \t\r\n<>,;\"") != NULL)
    return FALSE;
  at = strrchr (addr, '@');
  return at != NULL && at != addr && at[1] != '\0' && g_utf8_validate (addr, -1, NULL);
}

gboolean
td_mime_compose_set_from (TdMimeCompose  *self,
                          const char     *name,
                          const char     *address,
                          GError        **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!valid_addr_spec (address))
    {
      g_set_error (error, TD_ERROR, TD_ERROR_INVALID, _("“%s” is not an email address."),
                   address != NULL ? address : "");
      return FALSE;
    }
  internet_address_list_clear (self->from);
  internet_address_list_add (self->from,
                             internet_address_mailbox_new (name != NULL ? name : "", address));
  g_object_unref (internet_address_list_get_address (self->from, 0));
  return TRUE;
}

gboolean
td_mime_compose_add_recipients (TdMimeCompose        *self,
                                TdMimeRecipientKind   kind,
                                const char           *list,
                                GError              **error)
{
  g_autoptr(InternetAddressList) parsed = NULL;
  int n;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (self->lists), FALSE);
  g_return_val_if_fail (list != NULL, FALSE);

  parsed = internet_address_list_parse (NULL, list);
  n = parsed != NULL ? internet_address_list_length (parsed) : 0;
  if (n == 0)
    {
      g_set_error (error, TD_ERROR, TD_ERROR_INVALID, _("“%s” is not an email address."), list);
      return FALSE;
    }
  for (int i = 0; i < n; i++)
    {
      InternetAddress *ia = internet_address_list_get_address (parsed, i);

      if (!INTERNET_ADDRESS_IS_MAILBOX (ia) ||
          !valid_addr_spec (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia))))
        {
          g_autofree char *shown = internet_address_to_string (ia, NULL, FALSE);

          g_set_error (error, TD_ERROR, TD_ERROR_INVALID, _("“%s” is not an email address."),
                       shown);
          return FALSE;
        }
    }
  internet_address_list_append (self->lists[kind], parsed);
  return TRUE;
}

void
td_mime_compose_set_subject (TdMimeCompose *self,
                             const char    *subject)
{
  g_return_if_fail (self != NULL);
  g_free (self->subject);
  self->subject = subject != NULL ? g_utf8_make_valid (subject, -1) : NULL;
  /* a header has no line breaks */
  if (self->subject != NULL)
    g_strdelimit (self->subject, "\r\n\t", ' ');
}

void
td_mime_compose_set_body (TdMimeCompose *self,
                          const char    *text)
{
  g_return_if_fail (self != NULL);
  g_free (self->body);
  self->body = g_utf8_make_valid (text != NULL ? text : "", -1);
}

void
td_mime_compose_add_attachment (TdMimeCompose *self,
                                const char    *filename,
                                const char    *content_type,
                                GBytes        *data)
{
  Attachment *a;

  g_return_if_fail (self != NULL);
  g_return_if_fail (filename != NULL && data != NULL);

  a = g_new0 (Attachment, 1);
  a->filename = g_utf8_make_valid (filename, -1);
  a->data = g_bytes_ref (data);
  if (content_type != NULL)
    a->content_type = g_strdup (content_type);
  else
    {
      gsize len;
      const guchar *bytes = g_bytes_get_data (data, &len);
      g_autofree char *guess = g_content_type_guess (filename, bytes, MIN (len, 4096), NULL);

      a->content_type = g_content_type_get_mime_type (guess);
      if (a->content_type == NULL)
        a->content_type = g_strdup ("application/octet-stream");
    }
  g_ptr_array_add (self->attachments, a);
}

static GMimeMessage *
parse_message (GBytes  *raw,
               GError **error)
{
  gsize len;
  gconstpointer data = g_bytes_get_data (raw, &len);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer (data, len);
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = len > 0 ? g_mime_parser_construct_message (parser, NULL) : NULL;

  if (message == NULL)
    g_set_error_literal (error, TD_ERROR, TD_ERROR_PARSE,
                         _("The original message could not be read."));
  return message;
}

/* "Re: " or "Fwd: " before @subject, unless it has it already. */
static char *
prefixed_subject (const char *subject,
                  const char *prefix)
{
  g_autofree char *clean = g_strstrip (g_strdup (subject != NULL ? subject : ""));
  gsize n = strlen (prefix);

  if (g_ascii_strncasecmp (clean, prefix, n - 1) == 0)
    return g_steal_pointer (&clean);
  return g_strconcat (prefix, clean, NULL);
}

gboolean
td_mime_compose_set_reply_to (TdMimeCompose  *self,
                              GBytes         *original,
                              GError        **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(TdMimeMessage) readable = NULL;
  g_autoptr(GString) quote = g_string_new (NULL);
  g_autofree char *who = NULL;
  g_autofree char *when = NULL;
  const char *id;
  const char *refs;
  InternetAddressList *from;
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (original != NULL, FALSE);

  if ((message = parse_message (original, error)) == NULL)
    return FALSE;
  readable = td_mime_message_new (original, NULL);

  id = g_mime_message_get_message_id (message);
  g_free (self->in_reply_to);
  self->in_reply_to = id != NULL ? g_strdup (id) : NULL;
  refs = g_mime_object_get_header (GMIME_OBJECT (message), "References");
  g_free (self->references);
  self->references = NULL;
  if (id != NULL)
    {
      GMimeReferences *list = refs != NULL ? g_mime_references_parse (NULL, refs) : NULL;
      GString *all = g_string_new (NULL);

      for (int i = 0; list != NULL && i < g_mime_references_length (list); i++)
        g_string_append_printf (all, "<%s> ", g_mime_references_get_message_id (list, i));
      g_string_append_printf (all, "<%s>", id);
      self->references = g_string_free (all, FALSE);
      if (list != NULL)
        g_mime_references_free (list);
    }

  if (self->subject == NULL)
    self->subject = prefixed_subject (g_mime_message_get_subject (message), "Re: ");

  /* reply to Reply-To, else From, when the caller chose nobody */
  from = g_mime_message_get_reply_to (message);
  if (from == NULL || internet_address_list_length (from) == 0)
    from = g_mime_message_get_from (message);
  if (internet_address_list_length (self->lists[TD_MIME_TO]) == 0 && from != NULL)
    internet_address_list_append (self->lists[TD_MIME_TO], from);

  /* the attribution: "On DATE, NAME wrote:" */
  from = g_mime_message_get_from (message);
  if (from != NULL && internet_address_list_length (from) > 0)
    {
      InternetAddress *ia = internet_address_list_get_address (from, 0);
      const char *name = internet_address_get_name (ia);

      who = g_strdup (name != NULL && *name != '\0' ? name :
                      INTERNET_ADDRESS_IS_MAILBOX (ia) ?
                        internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia)) : "");
    }
  if (g_mime_message_get_date (message) != NULL)
    when = g_date_time_format (g_mime_message_get_date (message), "%a, %d %b %Y %H:%M");
  if (who != NULL && when != NULL)
    /* Translators: the line above a quoted message: "On Mon, 07 Dec 2026 12:00, Ann wrote:" */
    g_string_append_printf (quote, _("On %s, %s wrote:"), when, who);
  else if (who != NULL)
    g_string_append_printf (quote, _("%s wrote:"), who);
  else
    g_string_append (quote, _("The original message:"));
  g_string_append_c (quote, '\n');

  lines = g_strsplit (readable != NULL ? td_mime_message_get_text (readable) : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      gsize len = strlen (line);

      if (len > 0 && line[len - 1] == '\r')
        len--;
      /* the last empty line of the text is no line */
      if (lines[i + 1] == NULL && len == 0)
        break;
      g_string_append (quote, len > 0 && line[0] == '>' ? ">" : len > 0 ? "> " : ">");
      g_string_append_len (quote, line, len);
      g_string_append_c (quote, '\n');
    }
  g_free (self->quote);
  self->quote = g_string_free (g_steal_pointer (&quote), FALSE);
  return TRUE;
}

gboolean
td_mime_compose_set_forward_of (TdMimeCompose  *self,
                                GBytes         *original,
                                GError        **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  Attachment *a;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (original != NULL, FALSE);

  if ((message = parse_message (original, error)) == NULL)
    return FALSE;
  if (self->subject == NULL)
    self->subject = prefixed_subject (g_mime_message_get_subject (message), "Fwd: ");

  a = g_new0 (Attachment, 1);
  a->filename = g_strdup_printf ("%s.eml", g_mime_message_get_subject (message) != NULL &&
                                           *g_mime_message_get_subject (message) != '\0' ?
                                             g_mime_message_get_subject (message) :
                                             "message");
  g_strdelimit (a->filename, "/\\", '_');
  a->content_type = g_strdup ("message/rfc822");
  a->data = g_bytes_ref (original);
  a->rfc822 = TRUE;
  g_ptr_array_add (self->attachments, a);
  return TRUE;
}

void
td_mime_compose_set_date (TdMimeCompose *self,
                          GDateTime     *date)
{
  g_return_if_fail (self != NULL);
  g_clear_pointer (&self->date, g_date_time_unref);
  self->date = date != NULL ? g_date_time_ref (date) : NULL;
}

void
td_mime_compose_set_message_id (TdMimeCompose *self,
                                const char    *message_id)
{
  g_return_if_fail (self != NULL);
  g_free (self->message_id);
  self->message_id = g_strdup (message_id);
}

/* --- format=flowed --- */

static void
append_flowed_line (GString    *out,
                    const char *prefix,
                    const char *content,
                    gsize       len)
{
  g_string_append (out, prefix);
  /* space-stuffing (RFC 3676 4.4) of unquoted lines */
  if (*prefix == '\0' && (content[0] == ' ' || content[0] == '>' ||
                          (len >= 5 && strncmp (content, "From ", 5) == 0)))
    g_string_append_c (out, ' ');
  g_string_append_len (out, content, len);
  g_string_append_c (out, '\n');
}

char *
td_mime_flowed_encode (const char *text)
{
  g_auto(GStrv) lines = NULL;
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_new (NULL);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      gsize len = strlen (line);
      gsize quote = 0;
      g_autofree char *prefix = NULL;
      const char *content;
      gsize avail;

      if (lines[i + 1] == NULL && len == 0)
        break;   /* the text's final line end */
      if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
      if (strcmp (line, "-- ") != 0)
        while (len > 0 && line[len - 1] == ' ')
          line[--len] = '\0';   /* a hard break ends without a space */

      while (quote < len && line[quote] == '>')
        quote++;
      if (quote > 0 && quote < len && line[quote] == ' ')
        prefix = g_strndup (line, quote + 1);
      else
        prefix = g_strndup (line, quote);
      content = line + strlen (prefix);
      len -= strlen (prefix);
      avail = TD_MIME_FLOWED_WIDTH > strlen (prefix) + 10 ? TD_MIME_FLOWED_WIDTH - strlen (prefix)
                                                          : 10;

      while (len > avail)
        {
          gssize cut = -1;

          /* the last space that fits, else the first one (a long word stays whole) */
          for (gsize j = avail; j > 0; j--)
            if (content[j - 1] == ' ' && j - 1 > 0)
              {
                cut = (gssize) j;
                break;
              }
          if (cut < 0)
            for (gsize j = avail; j < len; j++)
              if (content[j] == ' ')
                {
                  cut = (gssize) j + 1;
                  break;
                }
          if (cut < 0 || (gsize) cut >= len)
            break;
          /* the soft break: the line ends with the space */
          append_flowed_line (out, prefix, content, (gsize) cut);
          content += cut;
          len -= (gsize) cut;
        }
      append_flowed_line (out, prefix, content, len);
    }
  return g_string_free (out, FALSE);
}

/* --- building --- */

/* The text as UTF-8 (GMime's own set_text would pick a "best" charset such as Latin-1),
 * quoted-printable when it is not ASCII. */
static GMimeObject *
text_part (const char *text)
{
  GMimeTextPart *part = g_mime_text_part_new_with_subtype ("plain");
  g_autofree char *flowed = td_mime_flowed_encode (text);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer (flowed, strlen (flowed));
  g_autoptr(GMimeDataWrapper) wrapper =
    g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_part_set_content (GMIME_PART (part), wrapper);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset", "utf-8");
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "format", "flowed");
  g_mime_part_set_content_encoding (GMIME_PART (part),
                                    g_mime_part_get_best_content_encoding (
                                      GMIME_PART (part), GMIME_ENCODING_CONSTRAINT_7BIT));
  return GMIME_OBJECT (part);
}

static GMimeObject *
attachment_part (Attachment *a)
{
  gsize len;
  gconstpointer data = g_bytes_get_data (a->data, &len);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer (data, len);

  if (a->rfc822)
    {
      g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream (stream);
      g_autoptr(GMimeMessage) inner = g_mime_parser_construct_message (parser, NULL);

      if (inner != NULL)
        {
          GMimeMessagePart *part = g_mime_message_part_new_with_message ("rfc822", inner);

          g_mime_object_set_disposition (GMIME_OBJECT (part), GMIME_DISPOSITION_ATTACHMENT);
          return GMIME_OBJECT (part);
        }
      g_mime_stream_reset (stream);
    }

  {
    g_autoptr(GMimeContentType) type = g_mime_content_type_parse (NULL, a->content_type);
    GMimePart *part = g_mime_part_new_with_type (g_mime_content_type_get_media_type (type),
                                                 g_mime_content_type_get_media_subtype (type));
    g_autoptr(GMimeDataWrapper) wrapper =
      g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

    g_mime_part_set_content (part, wrapper);
    g_mime_part_set_filename (part, a->filename);   /* RFC 2231 when it is not ASCII */
    g_mime_object_set_disposition (GMIME_OBJECT (part), GMIME_DISPOSITION_ATTACHMENT);
    g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
    return GMIME_OBJECT (part);
  }
}

static void
set_addresses (GMimeMessage        *message,
               GMimeAddressType     type,
               InternetAddressList *list)
{
  internet_address_list_append (g_mime_message_get_addresses (message, type), list);
}

GBytes *
td_mime_compose_build (TdMimeCompose  *self,
                       GError        **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeObject) body = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  GMimeFormatOptions *options;
  GByteArray *array;
  guint n_recipients = 0;
  InternetAddress *sender;

  g_return_val_if_fail (self != NULL, NULL);

  if (internet_address_list_length (self->from) == 0)
    {
      g_set_error_literal (error, TD_ERROR, TD_ERROR_INVALID, _("The message has no sender."));
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (self->lists); i++)
    n_recipients += (guint) internet_address_list_length (self->lists[i]);
  if (n_recipients == 0)
    {
      g_set_error_literal (error, TD_ERROR, TD_ERROR_INVALID, _("The message has no recipient."));
      return NULL;
    }

  sender = internet_address_list_get_address (self->from, 0);
  g_free (self->from_address);
  self->from_address = g_strdup (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (sender)));
  if (self->message_id == NULL)
    self->message_id = g_mime_utils_generate_message_id (strrchr (self->from_address, '@') + 1);

  message = g_mime_message_new (TRUE);
  set_addresses (message, GMIME_ADDRESS_TYPE_FROM, self->from);
  set_addresses (message, GMIME_ADDRESS_TYPE_TO, self->lists[TD_MIME_TO]);
  set_addresses (message, GMIME_ADDRESS_TYPE_CC, self->lists[TD_MIME_CC]);
  /* Bcc only in the envelope (RFC 5322 3.6.3); a message for Bcc only says so */
  if (internet_address_list_length (self->lists[TD_MIME_TO]) == 0 &&
      internet_address_list_length (self->lists[TD_MIME_CC]) == 0)
    g_mime_object_set_header (GMIME_OBJECT (message), "To", "undisclosed-recipients:;", NULL);
  if (internet_address_list_length (self->lists[TD_MIME_CC]) == 0)
    g_mime_object_remove_header (GMIME_OBJECT (message), "Cc");
  g_mime_message_set_subject (message, self->subject != NULL ? self->subject : "", "utf-8");
  g_free (self->built_subject);
  self->built_subject = g_strdup (self->subject != NULL ? self->subject : "");
  if (self->date != NULL)
    g_mime_message_set_date (message, self->date);
  else
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();

      g_mime_message_set_date (message, now);
    }
  g_mime_message_set_message_id (message, self->message_id);
  if (self->in_reply_to != NULL)
    {
      g_autofree char *value = g_strdup_printf ("<%s>", self->in_reply_to);

      g_mime_object_set_header (GMIME_OBJECT (message), "In-Reply-To", value, NULL);
    }
  if (self->references != NULL)
    g_mime_object_set_header (GMIME_OBJECT (message), "References", self->references, NULL);

  if (self->quote != NULL)
    {
      g_string_append (text, self->quote);
      g_string_append_c (text, '\n');
    }
  g_string_append (text, self->body != NULL ? self->body : "");
  body = text_part (text->str);

  if (self->attachments->len > 0)
    {
      GMimeMultipart *mixed = g_mime_multipart_new_with_subtype ("mixed");

      g_mime_multipart_add (mixed, body);
      for (guint i = 0; i < self->attachments->len; i++)
        {
          g_autoptr(GMimeObject) part = attachment_part (g_ptr_array_index (self->attachments, i));

          g_mime_multipart_add (mixed, part);
        }
      g_clear_object (&body);
      body = GMIME_OBJECT (mixed);
    }
  g_mime_message_set_mime_part (message, body);

  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  g_mime_format_options_set_param_encoding_method (options, GMIME_PARAM_ENCODING_METHOD_RFC2231);
  stream = g_mime_stream_mem_new ();
  g_mime_object_write_to_stream (GMIME_OBJECT (message), options, stream);
  g_mime_format_options_free (options);

  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
  return g_byte_array_free_to_bytes (array);
}

const char *
td_mime_compose_get_message_id (TdMimeCompose *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->message_id;
}

const char *
td_mime_compose_get_from_address (TdMimeCompose *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->from_address;
}

const char *
td_mime_compose_get_subject (TdMimeCompose *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->built_subject;
}

GStrv
td_mime_compose_get_recipients (TdMimeCompose *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_return_val_if_fail (self != NULL, NULL);

  for (guint k = 0; k < G_N_ELEMENTS (self->lists); k++)
    for (int i = 0; i < internet_address_list_length (self->lists[k]); i++)
      {
        InternetAddress *ia = internet_address_list_get_address (self->lists[k], i);
        const char *addr;
        g_autofree char *key = NULL;

        if (!INTERNET_ADDRESS_IS_MAILBOX (ia))
          continue;
        addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia));
        key = g_ascii_strdown (addr, -1);
        if (g_hash_table_contains (seen, key))
          continue;
        g_hash_table_add (seen, g_steal_pointer (&key));
        g_strv_builder_add (builder, addr);
      }
  return g_strv_builder_end (builder);
}
