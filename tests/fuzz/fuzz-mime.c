/* fuzz-mime.c: libFuzzer target for the MIME layer (GMime and our choices on top of it)
 *
 * Every entry point that takes mail bytes: header parsing, the whole-message view (text,
 * HTML, attachments and their decoded data, cid lookups), HTML to text, the remote-content
 * check and previews. Results must be valid UTF-8.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>

#include "td-mime.h"
#include "td-types.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
check_utf8 (const char *text)
{
  if (text != NULL && !g_utf8_validate (text, -1, NULL))
    g_error ("invalid UTF-8 from the MIME layer");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(TdMimeHeaders) headers = NULL;
  g_autoptr(TdMimeMessage) message = NULL;
  g_autofree char *nul_terminated = g_strndup ((const char *) data, size);
  g_autofree char *as_text = NULL;
  g_autofree char *preview = NULL;

  td_engine_init ();

  headers = td_mime_headers_parse (bytes);
  g_assert_nonnull (headers);
  check_utf8 (headers->subject);
  check_utf8 (headers->from_name);
  check_utf8 (headers->from_address);
  check_utf8 (headers->to);
  check_utf8 (headers->cc);

  message = td_mime_message_new (bytes, NULL);
  if (message != NULL)
    {
      GPtrArray *attachments;
      const char *text = td_mime_message_get_text (message);
      const char *html = td_mime_message_get_html (message);

      g_assert_nonnull (text);
      check_utf8 (text);
      check_utf8 (html);
      if (html != NULL)
        td_mime_html_has_remote_content (html);
      preview = td_mime_make_preview (text, 200);
      check_utf8 (preview);

      attachments = td_mime_message_get_attachments (message);
      for (guint i = 0; attachments != NULL && i < attachments->len; i++)
        {
          TdAttachment *attachment = g_ptr_array_index (attachments, i);
          g_autoptr(GBytes) content = td_mime_message_get_attachment_data (message, i);

          g_assert_nonnull (attachment->filename);
          check_utf8 (attachment->filename);
          if (attachment->content_id != NULL)
            {
              g_autofree char *type = NULL;
              g_autoptr(GBytes) part = td_mime_message_get_part_by_cid (message,
                                                                        attachment->content_id,
                                                                        &type);
            }
        }
    }

  /* The same bytes as HTML. */
  as_text = td_mime_html_to_text (nul_terminated);
  check_utf8 (as_text);
  td_mime_html_has_remote_content (nul_terminated);
  return 0;
}
