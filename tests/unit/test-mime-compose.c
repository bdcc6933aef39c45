/* test-mime-compose.c: messages built by td-mime-compose.c, parsed back with GMime
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-mime-private.h"
#include "td-mime-compose.h"
#include "td-test-util.h"
#include "td-types.h"

static const char body_text[] =
  "Grüße aus Köln!\n"
  "\n"
  "This line is long enough that it has to be wrapped somewhere before the seventy-second "
  "column, and then once more, because it goes on and on for a while longer than that.\n"
  "From here on a line that starts with From.\n"
  " an indented line\n"
  "trailing spaces   \n"
  "-- \n"
  "Alice\n";

static GMimeMessage *
parse (GBytes *raw)
{
  gsize len;
  gconstpointer data = g_bytes_get_data (raw, &len);
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (data, len);
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);

  g_object_unref (parser);
  g_object_unref (stream);
  g_assert_nonnull (message);
  return message;
}

static TdMimeCompose *
new_compose (void)
{
  TdMimeCompose *compose = td_mime_compose_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (td_mime_compose_set_from (compose, "Alice Ärger", "alice@example.org", &error));
  g_assert_no_error (error);
  return compose;
}

static void
test_flowed (void)
{
  g_autofree char *flowed = td_mime_flowed_encode (body_text);
  g_auto(GStrv) lines = g_strsplit (flowed, "\n", -1);
  guint soft = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_assert_cmpuint (strlen (lines[i]), <=, TD_MIME_FLOWED_WIDTH + 1);
      if (g_str_has_suffix (lines[i], " ") && strcmp (lines[i], "-- ") != 0)
        soft++;
    }
  g_assert_cmpuint (soft, ==, 2);   /* the long line went over three lines */
  g_assert_nonnull (strstr (flowed, "\n From here on"));   /* space-stuffed */
  g_assert_nonnull (strstr (flowed, "\n  an indented line\n"));
  g_assert_nonnull (strstr (flowed, "\ntrailing spaces\n"));   /* no soft break there */
  g_assert_nonnull (strstr (flowed, "\n-- \nAlice\n"));   /* the signature separator stays */

  /* a word longer than a line stays whole, quoted lines keep their quote */
  {
    g_autofree char *word = g_strnfill (100, 'x');
    g_autofree char *text = g_strdup_printf ("> %s and more words to wrap here please\n", word);
    g_autofree char *out = td_mime_flowed_encode (text);

    g_assert_true (g_str_has_prefix (out, "> xxxx"));
    g_assert_nonnull (strstr (out, "x \n> and"));
  }
}

static void
test_build (void)
{
  g_autoptr(TdMimeCompose) compose = new_compose ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GBytes) pdf = g_bytes_new_static ("%PDF-1.4\n\x01\x02\xff binary", 20);
  g_autoptr(GDateTime) date = g_date_time_new_utc (2026, 12, 7, 12, 0, 0);
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(TdMimeMessage) readable = NULL;
  g_auto(GStrv) recipients = NULL;
  g_autofree char *raw_text = NULL;
  g_autofree char *from = NULL;
  GPtrArray *attachments;
  TdAttachment *attachment;
  GMimeObject *body;
  GMimeObject *text;
  g_autoptr(GBytes) data = NULL;

  g_assert_true (td_mime_compose_add_recipients (compose, TD_MIME_TO,
                                                 "Bob <bob@example.org>, carol@example.org",
                                                 &error));
  g_assert_true (td_mime_compose_add_recipients (compose, TD_MIME_CC, "dave@example.org", &error));
  g_assert_true (td_mime_compose_add_recipients (compose, TD_MIME_BCC, "eve@example.org, "
                                                 "BOB@example.org", &error));
  g_assert_no_error (error);
  g_assert_false (td_mime_compose_add_recipients (compose, TD_MIME_TO, "not an address",
                                                  &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);

  td_mime_compose_set_subject (compose, "Überraschung – a test\r\nBcc: injected@example.org");
  td_mime_compose_set_body (compose, body_text);
  td_mime_compose_add_attachment (compose, "Bericht März.pdf", "application/pdf", pdf);
  td_mime_compose_set_date (compose, date);
  raw = td_mime_compose_build (compose, &error);
  g_assert_no_error (error);
  raw_text = g_strndup (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));

  /* 7-bit on the wire, CRLF, encoded words, RFC 2231, no Bcc */
  for (gsize i = 0; raw_text[i] != '\0'; i++)
    g_assert_cmpuint ((guchar) raw_text[i], <, 0x80);
  g_assert_nonnull (strstr (raw_text, "\r\n"));
  g_assert_nonnull (strstr (raw_text, "Subject: =?"));
  g_assert_nonnull (strstr (raw_text, "filename*="));
  g_assert_nonnull (strstr (raw_text, "Bericht%20M%"));
  g_assert_nonnull (strstr (raw_text, "Content-Transfer-Encoding: base64"));
  g_assert_null (strstr (raw_text, "\r\nBcc:"));
  g_assert_null (strstr (raw_text, "eve@example.org"));

  message = parse (raw);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==,
                   "Überraschung – a test  Bcc: injected@example.org");
  from = internet_address_list_to_string (g_mime_message_get_from (message), NULL, FALSE);
  g_assert_cmpstr (from, ==, "Alice Ärger <alice@example.org>");
  g_assert_cmpint (internet_address_list_length (g_mime_message_get_to (message)), ==, 2);
  g_assert_cmpint (internet_address_list_length (g_mime_message_get_cc (message)), ==, 1);
  g_assert_cmpint (internet_address_list_length (g_mime_message_get_bcc (message)), ==, 0);
  g_assert_cmpstr (g_mime_message_get_message_id (message), ==,
                   td_mime_compose_get_message_id (compose));
  g_assert_true (g_str_has_suffix (td_mime_compose_get_message_id (compose), "@example.org"));
  g_assert_true (g_date_time_equal (g_mime_message_get_date (message), date));

  body = g_mime_message_get_mime_part (message);
  g_assert_true (GMIME_IS_MULTIPART (body));
  g_assert_cmpint (g_mime_multipart_get_count (GMIME_MULTIPART (body)), ==, 2);
  text = g_mime_multipart_get_part (GMIME_MULTIPART (body), 0);
  g_assert_cmpstr (g_mime_object_get_content_type_parameter (text, "format"), ==, "flowed");
  g_assert_cmpstr (g_mime_object_get_content_type_parameter (text, "charset"), ==, "utf-8");
  g_assert_cmpint (g_mime_part_get_content_encoding (GMIME_PART (text)), ==,
                   GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);

  /* the text reads back as written (flowed unwrapped) */
  readable = td_mime_message_new (raw, &error);
  g_assert_no_error (error);
  {
    g_auto(GStrv) pieces = g_strsplit (body_text, "trailing spaces   \n", -1);
    /* what flowed cannot keep: a hard break's trailing spaces */
    g_autofree char *expected = g_strjoinv ("trailing spaces\n", pieces);
    g_autofree char *got = g_strdup (td_mime_message_get_text (readable));

    g_assert_cmpstr (g_strchomp (got), ==, g_strchomp (expected));
  }
  attachments = td_mime_message_get_attachments (readable);
  g_assert_cmpuint (attachments->len, ==, 1);
  attachment = g_ptr_array_index (attachments, 0);
  g_assert_cmpstr (attachment->filename, ==, "Bericht März.pdf");
  g_assert_cmpstr (attachment->content_type, ==, "application/pdf");
  data = td_mime_message_get_attachment_data (readable, 0);
  g_assert_true (g_bytes_equal (data, pdf));

  /* the envelope: every recipient once, Bcc included */
  recipients = td_mime_compose_get_recipients (compose);
  g_assert_cmpuint (g_strv_length (recipients), ==, 4);
  g_assert_true (g_strv_contains ((const char * const *) recipients, "eve@example.org"));
  g_assert_cmpstr (td_mime_compose_get_from_address (compose), ==, "alice@example.org");
}

static const char original_text[] =
  "From: Bob <bob@example.org>\r\n"
  "Reply-To: Bob at home <bob@home.example>\r\n"
  "To: alice@example.org\r\n"
  "Subject: Lunch?\r\n"
  "Date: Mon, 07 Dec 2026 11:30:00 +0000\r\n"
  "Message-ID: <lunch-2@example.org>\r\n"
  "References: <lunch-0@example.org> <lunch-1@example.org>\r\n"
  "Content-Type: text/plain; charset=utf-8\r\n"
  "\r\n"
  "Shall we?\r\n"
  "> an earlier quote\r\n";

static void
test_reply (void)
{
  g_autoptr(TdMimeCompose) compose = new_compose ();
  g_autoptr(GBytes) original = g_bytes_new_static (original_text, strlen (original_text));
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(TdMimeMessage) readable = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) recipients = NULL;
  const char *text;

  g_assert_true (td_mime_compose_set_reply_to (compose, original, &error));
  g_assert_no_error (error);
  td_mime_compose_set_body (compose, "Yes, at noon.\n");
  raw = td_mime_compose_build (compose, &error);
  g_assert_no_error (error);
  message = parse (raw);

  g_assert_cmpstr (g_mime_message_get_subject (message), ==, "Re: Lunch?");
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (message), "In-Reply-To"), ==,
                   "<lunch-2@example.org>");
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (message), "References"), ==,
                   "<lunch-0@example.org> <lunch-1@example.org> <lunch-2@example.org>");
  recipients = td_mime_compose_get_recipients (compose);
  g_assert_cmpstr (recipients[0], ==, "bob@home.example");
  g_assert_null (recipients[1]);

  readable = td_mime_message_new (raw, &error);
  text = td_mime_message_get_text (readable);
  g_assert_nonnull (strstr (text, "On Mon, 07 Dec 2026 11:30, Bob wrote:\n> Shall we?\n"
                                  ">> an earlier quote\n"));
  g_assert_nonnull (strstr (text, "\nYes, at noon."));

  /* "Re:" is not doubled */
  {
    g_autoptr(TdMimeCompose) again = new_compose ();
    g_autoptr(GBytes) second = NULL;
    g_autoptr(GMimeMessage) parsed = NULL;

    g_assert_true (td_mime_compose_set_reply_to (again, raw, &error));
    second = td_mime_compose_build (again, &error);
    g_assert_no_error (error);
    parsed = parse (second);
    g_assert_cmpstr (g_mime_message_get_subject (parsed), ==, "Re: Lunch?");
  }

  /* not a message */
  {
    g_autoptr(TdMimeCompose) bad = new_compose ();
    g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);

    g_assert_false (td_mime_compose_set_reply_to (bad, empty, &error));
    g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  }
}

static void
test_forward (void)
{
  g_autoptr(TdMimeCompose) compose = new_compose ();
  g_autoptr(GBytes) original = g_bytes_new_static (original_text, strlen (original_text));
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  GMimeObject *body;
  GMimeObject *part;
  GMimeMessage *inner;

  g_assert_true (td_mime_compose_add_recipients (compose, TD_MIME_TO, "carol@example.org",
                                                 &error));
  g_assert_true (td_mime_compose_set_forward_of (compose, original, &error));
  td_mime_compose_set_body (compose, "See below.\n");
  raw = td_mime_compose_build (compose, &error);
  g_assert_no_error (error);
  message = parse (raw);

  g_assert_cmpstr (g_mime_message_get_subject (message), ==, "Fwd: Lunch?");
  body = g_mime_message_get_mime_part (message);
  g_assert_true (GMIME_IS_MULTIPART (body));
  part = g_mime_multipart_get_part (GMIME_MULTIPART (body), 1);
  g_assert_true (GMIME_IS_MESSAGE_PART (part));
  inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (part));
  g_assert_cmpstr (g_mime_message_get_message_id (inner), ==, "lunch-2@example.org");
}

static void
test_invalid (void)
{
  g_autoptr(TdMimeCompose) compose = td_mime_compose_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (td_mime_compose_set_from (compose, NULL, "alice", &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (td_mime_compose_build (compose, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (td_mime_compose_set_from (compose, NULL, "alice@example.org", &error));
  g_assert_null (td_mime_compose_build (compose, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);

  /* Bcc only: the header says so */
  g_assert_true (td_mime_compose_add_recipients (compose, TD_MIME_BCC, "eve@example.org",
                                                 &error));
  {
    g_autoptr(GBytes) raw = td_mime_compose_build (compose, &error);
    g_autofree char *text = g_strndup (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));

    g_assert_no_error (error);
    g_assert_nonnull (strstr (text, "To: undisclosed-recipients: ;"));
    g_assert_null (strstr (text, "Cc:"));
    g_assert_null (strstr (text, "eve@"));
  }
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);
  td_engine_init ();

  g_test_add_func ("/mime/compose/flowed", test_flowed);
  g_test_add_func ("/mime/compose/build", test_build);
  g_test_add_func ("/mime/compose/reply", test_reply);
  g_test_add_func ("/mime/compose/forward", test_forward);
  g_test_add_func ("/mime/compose/invalid", test_invalid);

  return g_test_run ();
}
