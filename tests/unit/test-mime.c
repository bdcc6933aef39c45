/* test-mime.c: reading mail as people really get it (src/engine/mime)
 *
 * A hand-written corpus (tests/data/mime) with the exact strings a reader must see, and
 * hostile input generated here: absurd nesting, huge headers, megabytes of junk, mutated
 * corpus files. Hostile cases must not crash and must finish quickly.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-mime.h"
#include "td-test-util.h"

/* The hostile inputs below are checked for what they produce, never for how fast: a
 * wall-clock bound fails on a loaded machine under AddressSanitizer.  A parser that went
 * quadratic on them would run for hours and be stopped by the suite's timeout; the time
 * each took is printed for whoever reads the log. */
static void
report_elapsed (const char *what,
                gint64      start)
{
  g_test_message ("%s: %.3f s", what, (g_get_monotonic_time () - start) / 1e6);
}

static GBytes *
bytes_from_string (const char *str)
{
  return g_bytes_new (str, strlen (str));
}

static TdMimeMessage *
message_from_string (const char *str)
{
  g_autoptr(GBytes) bytes = bytes_from_string (str);
  g_autoptr(GError) error = NULL;
  TdMimeMessage *message = td_mime_message_new (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

static TdMimeMessage *
load_message (const char *name)
{
  g_autofree char *relative = g_build_filename ("mime", name, NULL);
  g_autoptr(GBytes) bytes = td_test_load_data (relative);
  g_autoptr(GError) error = NULL;
  TdMimeMessage *message = td_mime_message_new (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

static char *
text_of (const char *raw)
{
  g_autoptr(TdMimeMessage) message = message_from_string (raw);

  return g_strdup (td_mime_message_get_text (message));
}

static void
assert_valid_utf8 (const char *str)
{
  if (str != NULL)
    g_assert_true (g_utf8_validate (str, -1, NULL));
}

/* Everything the API offers, on any input: must not crash, must give valid UTF-8. */
static void
exercise_everything (GBytes *bytes)
{
  g_autoptr(TdMimeHeaders) headers = td_mime_headers_parse (bytes);
  g_autoptr(TdMimeMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *preview = NULL;
  const TdMimeHeaders *mh;
  const char *html;
  GPtrArray *attachments;
  gboolean paper_clip = FALSE;
  gboolean cheap_paper_clip;

  assert_valid_utf8 (headers->subject);
  assert_valid_utf8 (headers->from_name);
  assert_valid_utf8 (headers->from_address);
  assert_valid_utf8 (headers->to);
  assert_valid_utf8 (headers->cc);
  assert_valid_utf8 (headers->message_id);
  assert_valid_utf8 (headers->in_reply_to);
  assert_valid_utf8 (headers->references);

  message = td_mime_message_new (bytes, &error);
  if (g_bytes_get_size (bytes) == 0)
    {
      g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
      return;
    }
  g_assert_no_error (error);

  mh = td_mime_message_get_headers (message);
  assert_valid_utf8 (mh->subject);
  assert_valid_utf8 (mh->from_name);
  assert_valid_utf8 (mh->to);
  g_assert_nonnull (td_mime_message_get_text (message));
  assert_valid_utf8 (td_mime_message_get_text (message));
  preview = td_mime_make_preview (td_mime_message_get_text (message), 140);
  assert_valid_utf8 (preview);
  html = td_mime_message_get_html (message);
  assert_valid_utf8 (html);
  if (html != NULL)
    {
      g_autofree char *text = td_mime_html_to_text (html);

      assert_valid_utf8 (text);
      td_mime_html_has_remote_content (html);
    }
  /* before the attachments are listed: from the structure alone */
  cheap_paper_clip = td_mime_message_has_attachment (message);
  attachments = td_mime_message_get_attachments (message);
  for (guint i = 0; i < attachments->len; i++)
    {
      TdAttachment *attachment = g_ptr_array_index (attachments, i);
      g_autoptr(GBytes) data = td_mime_message_get_attachment_data (message, i);

      if (!attachment->inline_part || attachment->content_id == NULL)
        paper_clip = TRUE;

      g_assert_nonnull (attachment->filename);
      g_assert_cmpstr (attachment->filename, !=, "");
      assert_valid_utf8 (attachment->filename);
      assert_valid_utf8 (attachment->content_type);
      assert_valid_utf8 (attachment->content_id);
      g_assert_cmpuint (attachment->index, ==, i);
      g_assert_nonnull (data);
      g_assert_cmpuint (g_bytes_get_size (data), ==, attachment->size);
    }
  g_assert_cmpint (cheap_paper_clip, ==, paper_clip);
  g_assert_cmpint (td_mime_message_has_attachment (message), ==, paper_clip);
}

/* ---------------------------------------------------------------------------------------- */
/* The corpus                                                                                */

typedef struct
{
  const char *filename;
  const char *content_type;
  gsize       size;
  const char *content_id;
  gboolean    inline_part;
} ExpectedAttachment;

typedef struct
{
  const char *file;
  const char *subject;
  const char *from_name;
  const char *from_address;
  const char *to;
  const char *cc;
  const char *message_id;
  const char *in_reply_to;
  const char *references;
  gint64      date;
  const char *text;
  const char *html_contains;   /* NULL: the message has no HTML */
  gboolean    remote;
  guint       n_attachments;
  ExpectedAttachment attachments[3];
} CorpusCase;

static const CorpusCase corpus[] = {
  {
    .file = "plain-ascii.eml",
    .subject = "Lunch on Thursday?",
    .from_name = "Alice Example", .from_address = "alice@example.org",
    .to = "Bob <bob@example.net>, carol@example.net",
    .cc = "Doe, Jane <jane@example.com>",
    .message_id = "20240514091240.4412@example.org",
    .date = 1715677960,
    .text = "Hi Bob,\n\nare you free for lunch on Thursday? The new place on Main Street\n"
            "opens at noon.\n\nAlice",
  },
  {
    .file = "utf8-rfc2047.eml",
    .subject = "Grüße aus München — Café € 50",
    .from_name = "Jürgen Müller", .from_address = "juergen@example.de",
    .to = "Françoise Dupont <francoise@example.fr>",
    .message_id = "cafe.50@example.de",
    .in_reply_to = "orig.1@example.fr",
    .references = "root.0@example.fr orig.1@example.fr",
    .date = 1715752800,
    .text = "Schöne Grüße — der Kaffee kostet 5 €.",
  },
  {
    .file = "latin1-cp1252.eml",
    .subject = "“Quarterly” report – € figures",
    .from_name = "Outlook User", .from_address = "user@example.com",
    .to = "list@example.org",
    .message_id = "outlook.1@example.com",
    .date = 1715869800,
    .text = "The “final” numbers are in: revenue € 1,200 – café budget unchanged…",
  },
  {
    .file = "mislabelled-us-ascii.eml",
    .subject = "Zażółć gęślą jaźń",
    .from_name = "Paweł", .from_address = "pawel@example.pl",
    .to = "team@example.org",
    .message_id = "lies@example.pl",
    .date = 1715940000,
    .text = "Zażółć gęślą jaźń — the label says ASCII.",
  },
  {
    .file = "no-charset-8bit.eml",
    .subject = "Resume for the café job",
    .from_address = "old-client@example.com",
    .to = "someone@example.org",
    .message_id = "nolabel@example.com",
    .date = 1716040800,
    .text = "Please find my résumé below. Naïve ½price».",
  },
  {
    .file = "koi8-r.eml",
    .subject = "Привет, мир",
    .from_name = "Сергей Петров", .from_address = "sergey@example.ru",
    .to = "ivan@example.ru",
    .message_id = "koi@example.ru",
    .date = 1716098400,
    .text = "Привет, мир!",
  },
  {
    .file = "shift-jis.eml",
    .subject = "会議の件",
    .from_name = "田中太郎", .from_address = "tanaka@example.jp",
    .to = "suzuki@example.jp",
    .message_id = "sjis@example.jp",
    .date = 1716166800,
    .text = "こんにちは世界。①番の資料です。",
  },
  {
    .file = "iso-2022-jp.eml",
    .subject = "お知らせ",
    .from_name = "山田花子", .from_address = "yamada@example.jp",
    .to = "sato@example.jp",
    .message_id = "jis@example.jp",
    .date = 1716253200,
    .text = "明日の会議は十時からです。\nよろしくお願いします。",
  },
  {
    .file = "gb2312.eml",
    .subject = "你好，世界",
    .from_name = "王小明", .from_address = "wang@example.cn",
    .to = "li@example.cn",
    .message_id = "gb@example.cn",
    .date = 1716343200,
    /* 喆 is GBK, not GB2312: the label is read as GB18030 */
    .text = "你好，世界！陶喆的新歌。",
  },
  {
    .file = "flowed-delsp.eml",
    .subject = "Re: flowed text",
    .from_name = "Thunder Bird", .from_address = "tb@example.org",
    .to = "someone@example.net",
    .message_id = "flowed@example.org",
    .date = 1716458400,
    .text = "This is a long paragraph that was wrapped by the sender's mail client so that no "
            "line is longer than seventy-eight characters, and it should come back as one "
            "line.\n"
            "From the start: a space-stuffed line.\n"
            "\n"
            "On Wed, Someone wrote:\n"
            "> Quoted text that was also wrapped by the client at the quote level one.\n"
            ">> Deeper quote split in two lines.\n"
            "\n"
            "Mit freundlichen Grüßen, this line ends with a space on delsp: yes, and the space "
            "goes.\n"
            "-- \n"
            "Thunder Bird",
  },
  {
    .file = "html-only.eml",
    .subject = "This week's offers",
    .from_name = "Newsletter", .from_address = "news@shop.example.com",
    .to = "customer@example.org",
    .message_id = "news.2024.21@shop.example.com",
    .date = 1716534000,
    .text = "Tom & Jerry’s “deals”\n"
            "\n"
            "Prices from € 9.99 — only this week…\n"
            "\n"
            "• Apples <fresh>\n"
            "• Pears & plums\n"
            "\n"
            "Visit our shop <https://shop.example.com/offers?a=1&b=2> or shop.example.com.",
    .html_contains = "<h1>Tom &amp; Jerry&#8217;s “deals”</h1>",
    .remote = TRUE,
  },
  {
    .file = "alternative.eml",
    .subject = "Both kinds",
    .from_name = "Alice Example", .from_address = "alice@example.org",
    .to = "bob@example.net",
    .message_id = "alt@example.org",
    .date = 1716631200,
    .text = "Plain version of the message.",
    .html_contains = "<p>HTML <b>version</b> of the message.</p>",
  },
  {
    .file = "related-cid.eml",
    .subject = "Logo draft",
    .from_name = "Designer", .from_address = "design@example.org",
    .to = "client@example.com",
    .message_id = "related@example.org",
    .date = 1716717600,
    .text = "Here is the logo draft.",
    .html_contains = "<img src=\"cid:logo.png@example.org\">",
    .n_attachments = 1,
    .attachments = { { "Attachment.png", "image/png", 70, "logo.png@example.org", TRUE } },
  },
  {
    .file = "mixed-rfc2231.eml",
    .subject = "Your invoice",
    .from_name = "Accounting", .from_address = "accounting@example.de",
    .to = "customer@example.com",
    .message_id = "invoice.2231@example.de",
    .date = 1716796800,
    .text = "Please find the invoice attached.",
    .n_attachments = 1,
    .attachments = { { "Rechnung März 2024 — Köln.pdf", "application/pdf", 77, NULL, FALSE } },
  },
  {
    .file = "mixed-rfc2047-name.eml",
    .subject = "Photos and notes",
    .from_name = "Sender", .from_address = "sender@example.com",
    .to = "receiver@example.org",
    .message_id = "photos.2047@example.com",
    .date = 1716890400,
    .text = "Two files attached.",
    .n_attachments = 2,
    .attachments = {
      { "été à Nice.png", "image/png", 70, NULL, FALSE },
      { "Attachment.bin", "application/octet-stream", 10, NULL, FALSE },
    },
  },
  {
    .file = "forwarded.eml",
    .subject = "Fwd: Lunch on Thursday?",
    .from_name = "Bob", .from_address = "bob@example.net",
    .to = "carol@example.net",
    .message_id = "fwd@example.net",
    .date = 1716976800,
    .text = "See below, are you coming too?\n"
            "\n"
            "---------- Forwarded message ----------\n"
            "From: Alice Example <alice@example.org>\n"
            "Date: Tue, 14 May 2024 11:12:40 +0200\n"
            "Subject: Lunch on Thursday?\n"
            "To: Bob <bob@example.net>\n"
            "\n"
            "Are you free for lunch on Thursday?",
    .n_attachments = 1,
    .attachments = { { "Attachment.ics", "text/calendar", 42, NULL, FALSE } },
  },
  {
    .file = "broken-boundary.eml",
    .subject = "Broken boundary",
    .from_name = "Broken Mailer", .from_address = "broken@example.com",
    .to = "someone@example.org",
    .message_id = "broken@example.com",
    .date = 1717063200,
    .text = "First part is fine.\n"
            "\n"
            "--declared-boundry\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "\n"
            "This delimiter is misspelt, so this stays in the first part.\n"
            "\n"
            "Trailing white space after the delimiter is allowed.",
  },
  {
    .file = "missing-final-boundary.eml",
    .subject = "No closing delimiter",
    .from_name = "Truncated", .from_address = "trunc@example.com",
    .to = "someone@example.org",
    .message_id = "trunc@example.com",
    .date = 1717149600,
    .text = "Body text before the attachment.",
    .n_attachments = 1,
    .attachments = { { "archive.zip", "application/zip", 10, NULL, FALSE } },
  },
  {
    .file = "bad-base64.eml",
    .subject = "Bad base64",
    .from_name = "Garbage", .from_address = "garbage@example.com",
    .to = "someone@example.org",
    .message_id = "b64@example.com",
    .date = 1717236000,
    .text = "Hello, base64 world!",
  },
  {
    .file = "bad-qp.eml",
    .subject = "Bad quoted-printable",
    .from_name = "QP", .from_address = "qp@example.com",
    .to = "someone@example.org",
    .message_id = "qp@example.com",
    .date = 1717322400,
    .text = "Price = 5 €, bad =ZZ escape, lower é ok, soft break, trailing",
  },
  {
    .file = "header-only.eml",
    .subject = "Just the headers, folded",
    .from_name = "Header, Only", .from_address = "header@example.com",
    .to = "undisclosed-recipients",
    .message_id = "header-only@example.com",
    .references = "a@example.com b@example.com",
    .date = 1717408800,
    .text = "",
  },
  {
    .file = "nul-bytes.eml",
    .subject = "Contains NULs",
    .from_name = "Nul Sender", .from_address = "nul@example.com",
    .to = "someone@example.org",
    .message_id = "nul@example.com",
    .date = 1717495200,
    .text = "Beforeafter, and  two more.",
  },
  {
    .file = "rfc2047-broken.eml",
    .subject = "Split € sign and café",
    .from_name = "Renée Smith", .from_address = "renee@example.org",
    .to = "王小明 <wang@example.cn>, Björk <bjork@example.is>",
    .cc = "José <jose@example.es>",
    .message_id = "broken2047@example.org",
    .date = 1717581600,
    .text = "Encoded words in broken forms.",
  },
  {
    .file = "duplicate-headers.eml",
    .subject = "First subject",
    .from_name = "First", .from_address = "first@example.com",
    .to = "a@example.com",
    .message_id = "no-brackets@example.com",
    .date = 0,
    .text = "Body of a message with duplicated headers.",
    /* GMime keeps the last Content-Type */
    .html_contains = "Body of a message with duplicated headers.",
  },
  {
    .file = "signed.eml",
    .subject = "Signed message",
    .from_name = "Signer", .from_address = "signer@example.org",
    .to = "someone@example.net",
    .message_id = "signed@example.org",
    .date = 1717668000,
    .text = "This text is signed.",
  },
  {
    .file = "invalid-utf8.eml",
    .subject = "Declared UTF-8, partly cp1252",
    .from_name = "Mixed Bytes", .from_address = "mixed@example.com",
    .to = "someone@example.org",
    .message_id = "invalid-utf8@example.com",
    .date = 1717754400,
    .text = "Valid café, then “quoted” in cp1252 and naïve.",
  },
  {
    .file = "mbox-from-line.eml",
    .subject = "Starts with an mbox From line",
    .from_name = "Mailer", .from_address = "mailer@example.com",
    .to = "someone@example.org",
    .message_id = "mbox@example.com",
    .date = 1717840800,
    .text = ">From the archive.",
  },
  {
    .file = "mixed-inline-parts.eml",
    .subject = "Inline parts",
    .from_name = "Apple Mail", .from_address = "apple@example.com",
    .to = "someone@example.org",
    .message_id = "inline-parts@example.com",
    .date = 1717927200,
    .text = "First inline text.\n\nSecond part in HTML.",
    .html_contains = "<div>Second part in <b>HTML</b>.</div>",
    .n_attachments = 2,
    .attachments = {
      { "photo.jpg", "image/jpeg", 10, NULL, TRUE },
      { "notes.txt", "text/plain", 46, NULL, FALSE },
    },
  },
};

static void
assert_headers_equal (const TdMimeHeaders *a,
                      const TdMimeHeaders *b)
{
  g_assert_cmpstr (a->subject, ==, b->subject);
  g_assert_cmpstr (a->from_name, ==, b->from_name);
  g_assert_cmpstr (a->from_address, ==, b->from_address);
  g_assert_cmpstr (a->to, ==, b->to);
  g_assert_cmpstr (a->cc, ==, b->cc);
  g_assert_cmpstr (a->message_id, ==, b->message_id);
  g_assert_cmpstr (a->in_reply_to, ==, b->in_reply_to);
  g_assert_cmpstr (a->references, ==, b->references);
  g_assert_cmpint (a->date, ==, b->date);
}

static void
test_corpus (gconstpointer data)
{
  const CorpusCase *c = data;
  g_autofree char *relative = g_build_filename ("mime", c->file, NULL);
  g_autoptr(GBytes) bytes = td_test_load_data (relative);
  g_autoptr(TdMimeHeaders) headers = td_mime_headers_parse (bytes);
  g_autoptr(TdMimeMessage) message = load_message (c->file);
  g_autoptr(TdMimeMessage) fresh = load_message (c->file);
  const char *html;
  GPtrArray *attachments;
  gboolean paper_clip = FALSE;

  /* The list's paper clip: any attachment but an inline part shown by its Content-ID. Asked
   * first, it decodes nothing; asked after the attachments were listed, the same. */
  for (guint i = 0; i < c->n_attachments; i++)
    if (!c->attachments[i].inline_part || c->attachments[i].content_id == NULL)
      paper_clip = TRUE;
  g_assert_cmpint (td_mime_message_has_attachment (fresh), ==, paper_clip);

  g_assert_cmpstr (headers->subject, ==, c->subject);
  g_assert_cmpstr (headers->from_name, ==, c->from_name);
  g_assert_cmpstr (headers->from_address, ==, c->from_address);
  g_assert_cmpstr (headers->to, ==, c->to);
  g_assert_cmpstr (headers->cc, ==, c->cc);
  g_assert_cmpstr (headers->message_id, ==, c->message_id);
  g_assert_cmpstr (headers->in_reply_to, ==, c->in_reply_to);
  g_assert_cmpstr (headers->references, ==, c->references);
  g_assert_cmpint (headers->date, ==, c->date);

  /* the message's own headers are the same */
  assert_headers_equal (td_mime_message_get_headers (message), headers);

  g_assert_cmpstr (td_mime_message_get_text (message), ==, c->text);

  html = td_mime_message_get_html (message);
  if (c->html_contains == NULL)
    g_assert_null (html);
  else
    {
      g_assert_nonnull (html);
      g_assert_nonnull (strstr (html, c->html_contains));
      g_assert_cmpint (td_mime_html_has_remote_content (html), ==, c->remote);
    }

  attachments = td_mime_message_get_attachments (message);
  g_assert_cmpuint (attachments->len, ==, c->n_attachments);
  for (guint i = 0; i < c->n_attachments; i++)
    {
      TdAttachment *attachment = g_ptr_array_index (attachments, i);
      const ExpectedAttachment *expected = &c->attachments[i];
      g_autoptr(GBytes) content = td_mime_message_get_attachment_data (message, i);

      g_assert_cmpstr (attachment->filename, ==, expected->filename);
      g_assert_cmpstr (attachment->content_type, ==, expected->content_type);
      g_assert_cmpuint (attachment->size, ==, expected->size);
      g_assert_cmpstr (attachment->content_id, ==, expected->content_id);
      g_assert_cmpint (attachment->inline_part, ==, expected->inline_part);
      g_assert_cmpuint (attachment->index, ==, i);
      g_assert_nonnull (content);
      g_assert_cmpuint (g_bytes_get_size (content), ==, expected->size);
    }
  g_assert_null (td_mime_message_get_attachment_data (message, c->n_attachments));
  g_assert_cmpint (td_mime_message_has_attachment (message), ==, paper_clip);
  g_assert_cmpint (td_mime_message_has_attachment (fresh), ==, paper_clip);

  exercise_everything (bytes);
}

/* The store hands over BODY[HEADER]: the header block alone must give the same fields. */
static void
test_headers_block_only (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      g_autofree char *relative = g_build_filename ("mime", corpus[i].file, NULL);
      g_autoptr(GBytes) whole = td_test_load_data (relative);
      gsize len = 0;
      const char *data = g_bytes_get_data (whole, &len);
      const char *blank = g_strstr_len (data, len, "\n\n");
      const char *crlf_blank = g_strstr_len (data, len, "\r\n\r\n");
      gsize header_len = len;
      g_autoptr(GBytes) block = NULL;
      g_autoptr(TdMimeHeaders) from_whole = td_mime_headers_parse (whole);
      g_autoptr(TdMimeHeaders) from_block = NULL;

      if (crlf_blank != NULL)
        header_len = crlf_blank - data + 4;
      else if (blank != NULL)
        header_len = blank - data + 2;
      block = g_bytes_new (data, header_len);
      from_block = td_mime_headers_parse (block);
      assert_headers_equal (from_block, from_whole);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Headers                                                                                   */

static void
test_headers_empty (void)
{
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(TdMimeHeaders) headers = td_mime_headers_parse (empty);

  g_assert_null (headers->subject);
  g_assert_null (headers->from_address);
  g_assert_null (headers->to);
  g_assert_null (headers->message_id);
  g_assert_cmpint (headers->date, ==, 0);
}

static void
test_headers_raw_8bit (void)
{
  g_autoptr(GBytes) bytes = bytes_from_string (
    "From: Ren\xe9 Dupr\xe9 <rene@example.fr>\n"
    "To: J\xc3\xbcrgen <j@example.de>, \"Smith, Ann\" <ann@example.com>\n"
    "Subject: =?UTF-8?Q?Caf=C3=A9?= and raw caf\xe9\n"
    "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
    "In-Reply-To: <parent@example.com> (Ann's message of Monday)\n"
    "\n");
  g_autoptr(TdMimeHeaders) headers = td_mime_headers_parse (bytes);

  g_assert_cmpstr (headers->from_name, ==, "René Dupré");
  g_assert_cmpstr (headers->from_address, ==, "rene@example.fr");
  g_assert_cmpstr (headers->to, ==, "Jürgen <j@example.de>, Smith, Ann <ann@example.com>");
  g_assert_cmpstr (headers->subject, ==, "Café and raw café");
  g_assert_cmpstr (headers->in_reply_to, ==, "parent@example.com");
  g_assert_cmpint (headers->date, ==, 1057049557);
}

static void
test_headers_encoded_words (void)
{
  static const struct
  {
    const char *raw;
    const char *expected;
  } cases[] = {
    /* a multibyte character split across two B words */
    { "=?utf-8?B?4oK=?= =?utf-8?B?rA==?=", "€" },
    /* and across two Q words */
    { "=?utf-8?Q?=E2=82?= =?utf-8?Q?=AC?=", "€" },
    /* no white space around the words */
    { "abc=?utf-8?Q?caf=C3=A9?=def", "abccafédef" },
    /* a label that lies: UTF-8 bytes said to be ASCII */
    { "=?us-ascii?Q?Jos=C3=A9?=", "José" },
    /* windows-1252 bytes said to be ISO-8859-1 */
    { "=?iso-8859-1?Q?=93hi=94_=80?=", "“hi” €" },
    /* GBK bytes said to be GB2312 */
    { "=?gb2312?B?0NXN9Ya0?=", "姓王喆" },
    /* Korean from Outlook */
    { "=?ks_c_5601-1987?B?vsiz58fPvLy/5A==?=", "안녕하세요" },
    /* an unknown charset: UTF-8 if it is, else windows-1252 */
    { "=?x-nonsense?Q?na=EFve?=", "naïve" },
    /* an RFC 2231 language tag inside a word */
    { "=?utf-8*fr?Q?=C3=A9t=C3=A9?=", "été" },
    /* broken words stay as they are */
    { "=?utf-8?X?abc?= and =?", "=?utf-8?X?abc?= and =?" },
    /* folding white space collapses */
    { "  a \t\n  b  ", "a b" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *raw = g_strdup_printf ("Subject: %s\n\n", cases[i].raw);
      g_autoptr(GBytes) bytes = bytes_from_string (raw);
      g_autoptr(TdMimeHeaders) headers = td_mime_headers_parse (bytes);

      g_assert_cmpstr (headers->subject, ==, cases[i].expected);
    }
}

static void
test_headers_addresses (void)
{
  g_autoptr(GBytes) bytes = bytes_from_string (
    "From: team: Ann <ann@example.com>, bob@example.com;\n"
    "To: \"=?utf-8?Q?M=C3=BCller=2C_Eva?=\" <eva@example.de>, plain@example.org, "
    "Group: one@example.org, two@example.org;, local-user\n"
    "Cc: undisclosed-recipients:;\n"
    "\n");
  g_autoptr(TdMimeHeaders) headers = td_mime_headers_parse (bytes);

  /* the first mailbox, even inside a group */
  g_assert_cmpstr (headers->from_name, ==, "Ann");
  g_assert_cmpstr (headers->from_address, ==, "ann@example.com");
  g_assert_cmpstr (headers->to, ==,
                   "Müller, Eva <eva@example.de>, plain@example.org, one@example.org, "
                   "two@example.org, local-user");
  g_assert_cmpstr (headers->cc, ==, "undisclosed-recipients");
}

static void
test_headers_references_bounded (void)
{
  g_autoptr(GString) raw = g_string_new ("References:");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TdMimeHeaders) headers = NULL;
  g_auto(GStrv) ids = NULL;

  for (guint i = 0; i < 5000; i++)
    g_string_append_printf (raw, " <id%u@example.com>\n", i);
  g_string_append (raw, "\n");
  bytes = g_bytes_new (raw->str, raw->len);
  headers = td_mime_headers_parse (bytes);

  ids = g_strsplit (headers->references, " ", -1);
  g_assert_cmpuint (g_strv_length (ids), ==, 100);
  g_assert_cmpstr (ids[0], ==, "id0@example.com");
  g_assert_cmpstr (ids[1], ==, "id4901@example.com");
  g_assert_cmpstr (ids[99], ==, "id4999@example.com");
}

static void
test_headers_dates (void)
{
  static const struct
  {
    const char *raw;
    gint64      expected;
  } cases[] = {
    { "Tue, 1 Jul 2003 10:52:37 +0200", 1057049557 },
    { "1 Jul 2003 10:52:37 GMT", 1057056757 },
    { "Tue, 01 Jul 2003 08:52:37 UT", 1057049557 },
    { "complete nonsense", 0 },
    { "", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *raw = g_strdup_printf ("Date: %s\nSubject: d\n\n", cases[i].raw);
      g_autoptr(GBytes) bytes = bytes_from_string (raw);
      g_autoptr(TdMimeHeaders) headers = td_mime_headers_parse (bytes);

      g_assert_cmpint (headers->date, ==, cases[i].expected);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Charsets of bodies                                                                        */

static char *
body_in_charset (const char *label,
                 const char *body)
{
  g_autofree char *raw = NULL;

  if (label != NULL)
    raw = g_strdup_printf ("Subject: c\nContent-Type: text/plain; charset=\"%s\"\n"
                           "Content-Transfer-Encoding: 8bit\n\n%s", label, body);
  else
    raw = g_strdup_printf ("Subject: c\nContent-Transfer-Encoding: 8bit\n\n%s", body);
  return text_of (raw);
}

static void
test_charset_labels (void)
{
  static const struct
  {
    const char *label;
    const char *body;
    const char *expected;
  } cases[] = {
    { NULL, "caf\xc3\xa9", "café" },
    { NULL, "caf\xe9 \x80", "café €" },
    { "us-ascii", "na\xc3\xafve", "naïve" },
    { "iso-8859-1", "\x93quoted\x94", "“quoted”" },
    { "latin1", "\xe0 la carte", "à la carte" },
    { "windows-1252", "\x85 \x99", "… ™" },
    /* windows-1252's five undefined bytes do not become C1 controls */
    { "windows-1252", "a\x81z", "a\xef\xbf\xbdz" },
    { "utf-8", "ok \xc3\xa9, bad \xe9", "ok é, bad é" },
    { "UTF8", "\xe2\x82\xac", "€" },
    { "x-no-such-charset", "\xc3\xa9t\xc3\xa9", "été" },
    { "x-no-such-charset", "\xe9t\xe9", "été" },
    { "iso-8859-2", "\xb1\xbf", "ąż" },
    { "iso-8859-9", "\x80 \xfd", "€ ı" },
    { "windows-1251", "\xcf\xf0\xe8\xe2\xe5\xf2", "Привет" },
    { "koi8-u", "\xa4", "є" },
    { "euc-kr", "\xbe\xc8\xb3\xe7", "안녕" },
    { "big5", "\xa4\xa4\xa4\xe5", "中文" },
    { "euc-jp", "\xc6\xfc\xcb\xdc", "日本" },
    { "gbk", "\xd6\xd0\xce\xc4", "中文" },
    { "'ISO-8859-15'", "\xa4", "€" },
    /* a truncated multibyte sequence at the end */
    { "shift_jis", "\x93\xfa\x96", "日\xef\xbf\xbd" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = body_in_charset (cases[i].label, cases[i].body);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_charset_utf16 (void)
{
  static const char raw[] =
    "Subject: utf-16\nContent-Type: text/plain; charset=utf-16le\n"
    "Content-Transfer-Encoding: base64\n\naABpACAArACsIA==\n";
  g_autofree char *text = text_of (raw);

  g_assert_cmpstr (text, ==, "hi ¬€");
}

static void
test_charset_html_meta (void)
{
  /* no MIME charset: the HTML says which */
  static const char raw[] =
    "Subject: meta\nContent-Type: text/html\nContent-Transfer-Encoding: 8bit\n\n"
    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\">"
    "</head><body><p>\xf0\xd2\xc9\xd7\xc5\xd4</p></body></html>";
  g_autoptr(TdMimeMessage) message = message_from_string (raw);

  g_assert_cmpstr (td_mime_message_get_text (message), ==, "Привет");
  g_assert_nonnull (strstr (td_mime_message_get_html (message), "<p>Привет</p>"));
}

static void
test_charset_line_endings (void)
{
  static const char raw[] =
    "Subject: crlf\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "one\r\ntwo\rthree\r\n\r\n\tfour\x1b\x07 five\x7f\r\n";
  g_autofree char *text = text_of (raw);

  /* CR LF and lone CR become LF; other control characters but tab go */
  g_assert_cmpstr (text, ==, "one\ntwo\nthree\n\n\tfour five");
}

/* ---------------------------------------------------------------------------------------- */
/* format=flowed                                                                             */

static char *
flowed_text (const char *params,
             const char *body)
{
  g_autofree char *raw = g_strdup_printf (
    "Subject: f\nContent-Type: text/plain; charset=utf-8; %s\n\n%s", params, body);

  return text_of (raw);
}

static void
test_flowed (void)
{
  g_autofree char *plain = flowed_text ("format=flowed", "one \ntwo \nthree\nfour\n");
  g_autofree char *delsp = flowed_text ("format=\"Flowed\"; delsp=\"yes\"",
                                        "Zusammen \ngesetzt\n");
  g_autofree char *no_delsp = flowed_text ("format=flowed; delsp=no", "two \nwords\n");
  g_autofree char *depth = flowed_text ("format=flowed",
                                        "> quoted \nnot quoted\n>> deep \n>> er\n");
  g_autofree char *stuffed = flowed_text ("format=flowed", " >not a quote\n  two spaces\n");
  g_autofree char *signature = flowed_text ("format=flowed", "text \n-- \nsig\n");
  g_autofree char *crlf = flowed_text ("format=flowed", "a \r\nb\r\n");
  g_autofree char *fixed = text_of ("Subject: f\nContent-Type: text/plain\n\none \ntwo\n");

  g_assert_cmpstr (plain, ==, "one two three\nfour");
  g_assert_cmpstr (delsp, ==, "Zusammengesetzt");
  g_assert_cmpstr (no_delsp, ==, "two words");
  /* a flowed line followed by a different quote depth ends there */
  g_assert_cmpstr (depth, ==, "> quoted \nnot quoted\n>> deep er");
  g_assert_cmpstr (stuffed, ==, ">not a quote\n two spaces");
  g_assert_cmpstr (signature, ==, "text \n-- \nsig");
  g_assert_cmpstr (crlf, ==, "a b");
  /* without format=flowed nothing is joined */
  g_assert_cmpstr (fixed, ==, "one \ntwo");
}

/* ---------------------------------------------------------------------------------------- */
/* Messages                                                                                  */

static void
test_message_empty (void)
{
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(TdMimeMessage) message = td_mime_message_new (empty, &error);

  g_assert_null (message);
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
}

static void
test_message_no_headers (void)
{
  g_autoptr(TdMimeMessage) message = message_from_string ("hello world\nsecond line\n");

  g_assert_cmpstr (td_mime_message_get_text (message), ==, "hello world\nsecond line");
  g_assert_null (td_mime_message_get_headers (message)->subject);
  g_assert_null (td_mime_message_get_html (message));
  g_assert_cmpuint (td_mime_message_get_attachments (message)->len, ==, 0);
}

static void
test_message_alternative_empty_plain (void)
{
  static const char raw[] =
    "Subject: a\nContent-Type: multipart/alternative; boundary=b\n\n"
    "--b\nContent-Type: text/plain\n\n  \n\n"
    "--b\nContent-Type: text/html\n\n<p>Only <i>here</i></p>\n"
    "--b--\n";
  g_autoptr(TdMimeMessage) message = message_from_string (raw);

  g_assert_cmpstr (td_mime_message_get_text (message), ==, "Only here");
  g_assert_cmpstr (td_mime_message_get_html (message), ==, "<p>Only <i>here</i></p>");
}

static void
test_message_related_start (void)
{
  static const char raw[] =
    "Subject: r\nContent-Type: multipart/related; boundary=r; start=\"<root@x>\"\n\n"
    "--r\nContent-Type: text/html\nContent-ID: <other@x>\n\n<p>not the root</p>\n"
    "--r\nContent-Type: text/html\nContent-ID: <root@x>\n\n<p>the root</p>\n"
    "--r--\n";
  g_autoptr(TdMimeMessage) message = message_from_string (raw);

  g_assert_cmpstr (td_mime_message_get_text (message), ==, "the root");
  g_assert_cmpstr (td_mime_message_get_html (message), ==, "<p>the root</p>");
}

static void
test_message_attachment_data (void)
{
  static const guchar png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0xfe, 0x02, 0xfe, 0x0d, 0xef,
    0x46, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
  };
  static const char pdf[] =
    "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
  static const char * const cids[] = {
    "logo.png@example.org", "cid:logo.png@example.org", "cid:logo.png%40example.org",
    "<logo.png@example.org>", "CID:LOGO.PNG@EXAMPLE.ORG",
  };
  g_autoptr(TdMimeMessage) related = load_message ("related-cid.eml");
  g_autoptr(TdMimeMessage) mixed = load_message ("mixed-rfc2231.eml");
  g_autoptr(GBytes) image = td_mime_message_get_attachment_data (related, 0);
  g_autoptr(GBytes) document = td_mime_message_get_attachment_data (mixed, 0);
  g_autoptr(GBytes) expected_png = g_bytes_new_static (png, sizeof png);
  g_autoptr(GBytes) expected_pdf = g_bytes_new_static (pdf, strlen (pdf));
  char *type = (char *) "unset";

  g_assert_true (g_bytes_equal (image, expected_png));
  g_assert_true (g_bytes_equal (document, expected_pdf));

  for (guint i = 0; i < G_N_ELEMENTS (cids); i++)
    {
      g_autoptr(GBytes) part = td_mime_message_get_part_by_cid (related, cids[i], &type);

      g_assert_nonnull (part);
      g_assert_true (g_bytes_equal (part, expected_png));
      g_assert_cmpstr (type, ==, "image/png");
      g_clear_pointer (&type, g_free);
    }

  type = (char *) "unset";
  g_assert_null (td_mime_message_get_part_by_cid (related, "cid:missing@example.org", &type));
  g_assert_null (type);
  g_assert_null (td_mime_message_get_part_by_cid (related, "cid:", NULL));
  g_assert_null (td_mime_message_get_attachment_data (related, 1));
  g_assert_null (td_mime_message_get_attachment_data (related, G_MAXUINT));
}

static void
test_message_attached_rfc822 (void)
{
  static const char raw[] =
    "Subject: with an attached message\n"
    "Content-Type: multipart/mixed; boundary=m\n\n"
    "--m\nContent-Type: text/plain\n\nThe mail you asked for.\n"
    "--m\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n"
    "From: Old <old@example.com>\nSubject: =?utf-8?Q?Le_caf=C3=A9/bar?=\n"
    "Content-Type: multipart/mixed; boundary=inner\n\n"
    "--inner\nContent-Type: text/plain\n\nOld body.\n"
    "--inner\nContent-Type: application/pdf\nContent-Disposition: attachment; "
    "filename=old.pdf\n\n%PDF\n"
    "--inner--\n"
    "--m--\n";
  g_autoptr(TdMimeMessage) message = message_from_string (raw);
  GPtrArray *attachments = td_mime_message_get_attachments (message);
  TdAttachment *attachment;
  g_autoptr(GBytes) data = NULL;
  g_autoptr(TdMimeHeaders) inner = NULL;

  g_assert_cmpstr (td_mime_message_get_text (message), ==,
                   "The mail you asked for.\n\n"
                   "---------- Forwarded message ----------\n"
                   "From: Old <old@example.com>\n"
                   "Subject: Le café/bar\n\n"
                   "Old body.");

  /* the attached message is one file; what it carries is inside it */
  g_assert_cmpuint (attachments->len, ==, 1);
  attachment = g_ptr_array_index (attachments, 0);
  g_assert_cmpstr (attachment->filename, ==, "Le café_bar.eml");
  g_assert_cmpstr (attachment->content_type, ==, "message/rfc822");

  data = td_mime_message_get_attachment_data (message, 0);
  g_assert_cmpuint (g_bytes_get_size (data), ==, attachment->size);
  inner = td_mime_headers_parse (data);
  g_assert_cmpstr (inner->subject, ==, "Le café/bar");
}

static void
test_message_filenames (void)
{
  static const char raw[] =
    "Subject: names\nContent-Type: multipart/mixed; boundary=n\n\n"
    "--n\nContent-Type: text/plain\n\nbody\n"
    "--n\nContent-Type: application/x-sh\nContent-Disposition: attachment; "
    "filename=\"../../etc/passwd\"\n\nx\n"
    "--n\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
    "filename=\"C:\\\\Windows\\\\evil.exe\"\n\nx\n"
    "--n\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"..\"\n\nx\n"
    "--n\nContent-Type: image/avif\n\nx\n"
    "--n\nContent-Type: application/x-unknown-thing\n\nx\n"
    "--n\nContent-Type: text/plain; name=\"from-type.txt\"\nContent-Disposition: attachment\n\nx\n"
    "--n\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\n"
    "--n--\n";
  static const char * const expected[] = {
    "passwd", "evil.exe", "Attachment.pdf", "Attachment.avif", "Attachment", "from-type.txt",
    "Attachment.ics",
  };
  g_autoptr(TdMimeMessage) message = message_from_string (raw);
  GPtrArray *attachments = td_mime_message_get_attachments (message);

  g_assert_cmpstr (td_mime_message_get_text (message), ==, "body");
  g_assert_cmpuint (attachments->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (((TdAttachment *) g_ptr_array_index (attachments, i))->filename, ==,
                     expected[i]);
}

static void
test_message_encrypted (void)
{
  static const char raw[] =
    "Subject: secret\nContent-Type: multipart/encrypted; "
    "protocol=\"application/pgp-encrypted\"; boundary=e\n\n"
    "--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
    "--e\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\n"
    "--e--\n";
  g_autoptr(TdMimeMessage) message = message_from_string (raw);

  g_assert_cmpstr (td_mime_message_get_text (message), ==, "");
  g_assert_null (td_mime_message_get_html (message));
  g_assert_cmpuint (td_mime_message_get_attachments (message)->len, ==, 2);
}

static void
test_message_bounce (void)
{
  static const char raw[] =
    "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n"
    "--r\nContent-Type: text/plain\n\nThe mail could not be delivered.\n"
    "--r\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; gone@example.org\n"
    "Status: 5.1.1\n"
    "--r\nContent-Type: text/rfc822-headers\n\nSubject: the original\n"
    "--r--\n";
  g_autoptr(TdMimeMessage) message = message_from_string (raw);

  g_assert_cmpstr (td_mime_message_get_text (message), ==,
                   "The mail could not be delivered.\n\n"
                   "Reporting-MTA: dns; mx.example.org\n\n"
                   "Final-Recipient: rfc822; gone@example.org\nStatus: 5.1.1\n\n"
                   "Subject: the original");
  g_assert_cmpuint (td_mime_message_get_attachments (message)->len, ==, 0);
}

static void
test_message_lazy_is_stable (void)
{
  g_autoptr(TdMimeMessage) message = load_message ("related-cid.eml");
  const char *text = td_mime_message_get_text (message);
  const char *html = td_mime_message_get_html (message);

  /* asking again gives the same strings, not new ones */
  g_assert_true (td_mime_message_get_text (message) == text);
  g_assert_true (td_mime_message_get_html (message) == html);
  g_assert_true (td_mime_message_get_attachments (message) ==
                 td_mime_message_get_attachments (message));
  g_assert_true (td_mime_message_get_headers (message) ==
                 td_mime_message_get_headers (message));
}

/* ---------------------------------------------------------------------------------------- */
/* HTML to text                                                                              */

static void
assert_html_text (const char *html,
                  const char *expected)
{
  g_autofree char *text = td_mime_html_to_text (html);

  g_assert_cmpstr (text, ==, expected);
}

static void
test_html_entities (void)
{
  assert_html_text ("&amp; &lt; &gt; &quot; &apos; &copy; &reg; &hellip; &mdash; &ndash;",
                    "& < > \" ' © ® … — –");
  assert_html_text ("&lsquo;a&rsquo; &ldquo;b&rdquo; &euro;5 &trade; &eacute;&Eacute;&szlig;",
                    "‘a’ “b” €5 ™ éÉß");
  assert_html_text ("&#65;&#x42;&#X43;&#100 &#x1F600;", "ABCd 😀");
  /* invalid code points become U+FFFD; 0x80..0x9F are read as windows-1252 */
  assert_html_text ("[&#0;][&#xD800;][&#x110000;][&#99999999999999999999;][&#150;]",
                    "[\xef\xbf\xbd][\xef\xbf\xbd][\xef\xbf\xbd][\xef\xbf\xbd][–]");
  /* unknown or broken entities stay as written */
  assert_html_text ("&nosuch; & &; &#; &#x; AT&T", "&nosuch; & &; &#; &#x; AT&T");
  /* legacy names without ';' in text */
  assert_html_text ("&copy 2024 &ampersand", "© 2024 &ersand");
  /* non-breaking spaces are spaces that do not collapse */
  assert_html_text ("a&nbsp;&nbsp;b", "a  b");
}

static void
test_html_blocks (void)
{
  assert_html_text ("<p>one</p><p>two</p>", "one\n\ntwo");
  assert_html_text ("<div>one</div><div>two</div>", "one\ntwo");
  assert_html_text ("a<br>b<br/><br />c", "a\nb\n\nc");
  assert_html_text ("<div>a<br></div><div>b</div>", "a\nb");
  assert_html_text ("<h1>Title</h1>text", "Title\n\ntext");
  assert_html_text ("  lots   of\n\twhite   space  ", "lots of white space");
  assert_html_text ("<span>in</span><b>line</b> <i>tags</i>", "inline tags");
  assert_html_text ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>",
                    "a b\nc d");
  assert_html_text ("<P>Upper</P><DIV>case</DIV>", "Upper\n\ncase");
}

static void
test_html_lists_quotes_pre (void)
{
  assert_html_text ("<ul><li>one</li><li>two<ul><li>inner</li></ul></li></ul>after",
                    "• one\n• two\n  • inner\n\nafter");
  assert_html_text ("<ol><li>first<li>second</ol>", "• first\n• second");
  assert_html_text ("<p>Reply</p><blockquote><p>quoted</p><blockquote>deeper</blockquote>"
                    "</blockquote><p>after</p>",
                    "Reply\n\n> quoted\n\n>> deeper\n\nafter");
  assert_html_text ("<pre>\n  code\n    indented  \n\ttab</pre>after",
                    "  code\n    indented\n\ttab\n\nafter");
  assert_html_text ("<pre>a &lt;b&gt;</pre>", "a <b>");
}

static void
test_html_dropped (void)
{
  assert_html_text ("<html><head><title>T</title><meta charset=utf-8>"
                    "<style>p { color: red }</style><script>var x = '<p>';</script></head>"
                    "<body>visible</body></html>",
                    "visible");
  assert_html_text ("a<!-- hidden <p> -->b<!---->c<!-->d", "abcd");
  assert_html_text ("<head><meta charset=utf-8>\n  Body text without a body tag",
                    "Body text without a body tag");
  assert_html_text ("<SCRIPT type=text/javascript>document.write('</p>')</SCRIPT>ok", "ok");
  assert_html_text ("<style>a</style >b", "b");
  assert_html_text ("<!DOCTYPE html><?xml version=\"1.0\"?>text", "text");
  assert_html_text ("<img src=\"x.png\" alt=\"an image\">only text", "only text");
  assert_html_text ("a < b and c > d", "a < b and c > d");
  assert_html_text ("<p title=\"a > b\">attr</p>", "attr");
  assert_html_text ("text <b", "text");
  assert_html_text ("text <!-- never closed", "text");
  assert_html_text ("text <a href=\"never closed>more", "text");
  assert_html_text ("x</>y</ p>z", "xyz");
}

static void
test_html_links (void)
{
  assert_html_text ("<a href=\"https://example.com/page\">Read more</a>",
                    "Read more <https://example.com/page>");
  assert_html_text ("<a href=\"https://example.com/\">https://example.com/</a>",
                    "https://example.com/");
  assert_html_text ("<a href=\"http://www.example.com/\">example.com</a>", "example.com");
  assert_html_text ("<a href=\"mailto:ann@example.com\">ann@example.com</a>", "ann@example.com");
  assert_html_text ("<a href=\"mailto:ann@example.com\">Ann</a>", "Ann <mailto:ann@example.com>");
  assert_html_text ("<a href=\"https://x.example/?a=1&amp;b=2\">x</a>",
                    "x <https://x.example/?a=1&b=2>");
  /* no target worth showing: relative, fragment, javascript:, or no text (an image) */
  assert_html_text ("<a href=\"/local\">local</a> <a href=\"#top\">top</a> "
                    "<a href=\"javascript:alert(1)\">js</a> <a href=\"https://e.com\"><img></a>",
                    "local top js");
  /* a link that is never closed still gets its target */
  assert_html_text ("<a href='https://open.example'>open", "open <https://open.example>");
}

static void
test_html_hostile (void)
{
  gsize size = 10 * 1024 * 1024;
  g_autofree char *angles = g_malloc (size + 1);
  g_autofree char *text = NULL;
  gint64 start;
  static const char * const prefixes[] = {
    "<a ", "<!--", "<p title=\"", "<script>", "<a href=\"https://x\">", "<blockquote>",
    "&#", "&amp", "<ul><li>",
  };

  memset (angles, '<', size);
  angles[size] = '\0';

  start = g_get_monotonic_time ();
  text = td_mime_html_to_text (angles);
  g_assert_cmpuint (strlen (text), ==, size);
  report_elapsed (G_STRFUNC, start);

  /* each prefix repeated over 4 MB: unterminated tags, comments, quotes, deep nesting */
  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      g_autoptr(GString) html = g_string_sized_new (4 * 1024 * 1024 + 64);
      g_autofree char *out = NULL;

      while (html->len < 4 * 1024 * 1024)
        {
          g_string_append (html, prefixes[i]);
          g_string_append (html, "x\n");
        }
      start = g_get_monotonic_time ();
      out = td_mime_html_to_text (html->str);
      assert_valid_utf8 (out);
      td_mime_html_has_remote_content (html->str);
      report_elapsed (G_STRFUNC, start);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Remote content                                                                            */

static void
test_remote_content (void)
{
  static const char * const remote[] = {
    "<img src=\"http://example.com/a.png\">",
    "<IMG SRC='https://example.com/a.png'>",
    "<img src=//example.com/a.png>",
    "<img src=\" \thttps://example.com/a.png\">",
    "<img src=\"&#104;ttps://example.com/a.png\">",
    "<img src=\"ht\ntps://example.com/a.png\">",
    "<img src=\"\\\\example.com/a.png\">",
    "<img srcset=\"data:image/png;base64,AAAA 1x, https://example.com/b.png 2x\">",
    "<picture><source srcset=\"https://example.com/c.webp\"></picture>",
    "<link rel=stylesheet href=\"https://example.com/s.css\">",
    "<script src=\"https://example.com/s.js\"></script>",
    "<iframe src=\"https://example.com/\"></iframe>",
    "<video poster=\"https://example.com/p.jpg\"></video>",
    "<audio src=\"http://example.com/a.mp3\"></audio>",
    "<input type=image src=\"https://example.com/b.png\">",
    "<object data=\"https://example.com/o.swf\"></object>",
    "<embed src=\"https://example.com/e\">",
    "<table background=\"https://example.com/bg.png\"><tr><td>x</td></tr></table>",
    "<body background=//example.com/bg.png>",
    "<div style=\"background-image: url('https://example.com/bg.png')\">x</div>",
    "<div style=\"background:URL( //example.com/bg.png )\">x</div>",
    "<style>p { background: url(https://example.com/p.png) }</style>",
    "<style>@import \"https://example.com/more.css\";</style>",
    "<svg><image href=\"https://example.com/i.png\"/></svg>",
    "<base href=\"https://example.com/\">",
    "<meta http-equiv=\"Refresh\" content=\"0; URL='https://example.com/'\">",
  };
  static const char * const local[] = {
    "<a href=\"https://example.com/\">a link is not a load</a>",
    "<area href=\"https://example.com/\">",
    "<img src=\"cid:logo@example.org\">",
    "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
    "<img src=\"images/relative.png\">",
    "<p>see https://example.com/ and //example.com</p>",
    "<!-- <img src=\"https://example.com/a.png\"> -->",
    "<script>document.write('<img src=\"https://example.com/a.png\">')</script>",
    "<div style=\"color: red\">x</div>",
    "<div data-src=\"https://example.com/lazy.png\">x</div>",
    "<p title=\"src=https://example.com\">x</p>",
    "<meta http-equiv=\"refresh\" content=\"30\">",
    "<meta name=\"url\" content=\"https://example.com/\">",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (remote); i++)
    {
      if (!td_mime_html_has_remote_content (remote[i]))
        g_error ("not seen as remote: %s", remote[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (local); i++)
    {
      if (td_mime_html_has_remote_content (local[i]))
        g_error ("seen as remote: %s", local[i]);
    }
  g_assert_false (td_mime_html_has_remote_content (NULL));
}

/* ---------------------------------------------------------------------------------------- */
/* Previews                                                                                  */

static void
assert_preview (const char *text,
                guint       max_chars,
                const char *expected)
{
  g_autofree char *preview = td_mime_make_preview (text, max_chars);

  g_assert_cmpstr (preview, ==, expected);
}

static void
test_preview (void)
{
  assert_preview ("Hello   there,\n\n  how\tare you?", 100, "Hello there, how are you?");
  assert_preview ("Thanks!\n\nOn Tue, 14 May 2024, Ann wrote:\n> earlier text\n>> older\nBye",
                  100, "Thanks! Bye");
  /* an "On ... wrote:" line without a quote after it stays */
  assert_preview ("He said he wrote:\nthe book", 100, "He said he wrote: the book");
  assert_preview ("Body\n-- \nSignature", 100, "Body");
  assert_preview ("abcdefghij", 10, "abcdefghij");
  assert_preview ("abcdefghijk", 10, "abcdefghij…");
  assert_preview ("one two three", 8, "one two…");
  assert_preview ("ééééé", 3, "ééé…");
  assert_preview ("日本語のテキスト", 4, "日本語の…");
  assert_preview ("anything", 0, "");
  assert_preview ("", 10, "");
  assert_preview (NULL, 10, "");
  assert_preview ("\xe2\x80\x8c\xc2\xa0\xe2\x80\x8c real start", 20, "real start");
  assert_preview ("bad \xff bytes", 20, "bad \xef\xbf\xbd bytes");
}

static void
test_preview_long (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *preview = NULL;

  for (guint i = 0; i < 200000; i++)
    g_string_append (text, "> quoted line\n");
  g_string_append (text, "finally the text");
  preview = td_mime_make_preview (text->str, 200);
  g_assert_cmpstr (preview, ==, "finally the text");
}

/* ---------------------------------------------------------------------------------------- */
/* Hostile messages                                                                          */

static GBytes *
deep_multipart (guint levels)
{
  GString *s = g_string_new ("From: deep@example.com\nSubject: deep\nMIME-Version: 1.0\n");

  for (guint i = 0; i < levels; i++)
    g_string_append_printf (s, "Content-Type: multipart/mixed; boundary=\"b%u\"\n\n--b%u\n",
                            i, i);
  g_string_append (s, "Content-Type: text/plain\n\nhello from the bottom\n");
  for (guint i = levels; i > 0; i--)
    g_string_append_printf (s, "--b%u--\n", i - 1);
  return g_string_free_to_bytes (s);
}

static GBytes *
deep_rfc822 (guint levels)
{
  GString *s = g_string_new ("From: deep@example.com\nSubject: level top\n");

  for (guint i = 0; i < levels; i++)
    g_string_append_printf (s, "Content-Type: message/rfc822\n\nSubject: level %u\n", i);
  g_string_append (s, "Content-Type: text/plain\n\nhello from the bottom\n");
  return g_string_free_to_bytes (s);
}

static void
test_hostile_deep_multipart (void)
{
  g_autoptr(GBytes) bytes = deep_multipart (10000);
  gint64 start = g_get_monotonic_time ();
  g_autoptr(TdMimeMessage) message = td_mime_message_new (bytes, NULL);

  g_assert_nonnull (message);
  /* the text is too deep to be shown: nothing, rather than a crash */
  g_assert_cmpstr (td_mime_message_get_text (message), ==, "");
  g_assert_null (td_mime_message_get_html (message));
  g_assert_cmpuint (td_mime_message_get_attachments (message)->len, ==, 0);
  g_assert_null (td_mime_message_get_part_by_cid (message, "x@y", NULL));
  g_assert_cmpstr (td_mime_message_get_headers (message)->subject, ==, "deep");
  exercise_everything (bytes);
  report_elapsed (G_STRFUNC, start);
}

static void
test_hostile_shallow_multipart (void)
{
  /* a nesting a real message may have is followed to the end */
  g_autoptr(GBytes) bytes = deep_multipart (20);
  g_autoptr(TdMimeMessage) message = td_mime_message_new (bytes, NULL);

  g_assert_cmpstr (td_mime_message_get_text (message), ==, "hello from the bottom");
}

static void
test_hostile_deep_rfc822 (void)
{
  g_autoptr(GBytes) bytes = deep_rfc822 (10000);
  gint64 start = g_get_monotonic_time ();
  g_autoptr(TdMimeMessage) message = td_mime_message_new (bytes, NULL);
  const char *text;

  g_assert_nonnull (message);
  text = td_mime_message_get_text (message);
  g_assert_nonnull (strstr (text, "Subject: level 0\n"));
  g_assert_nonnull (strstr (text, "Subject: level 20\n"));
  g_assert_null (strstr (text, "Subject: level 100\n"));
  g_assert_null (strstr (text, "hello from the bottom"));
  exercise_everything (bytes);
  report_elapsed (G_STRFUNC, start);
}

static void
test_hostile_many_parts (void)
{
  GString *s = g_string_new ("Subject: many\nContent-Type: multipart/mixed; boundary=p\n\n");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TdMimeMessage) message = NULL;
  gint64 start;
  GPtrArray *attachments;

  for (guint i = 0; i < 30000; i++)
    g_string_append_printf (s, "--p\nContent-Type: %s\n\npart %u\n",
                            i % 2 == 0 ? "text/plain" : "application/octet-stream", i);
  g_string_append (s, "--p--\n");
  bytes = g_string_free_to_bytes (s);

  start = g_get_monotonic_time ();
  message = td_mime_message_new (bytes, NULL);
  g_assert_true (g_str_has_prefix (td_mime_message_get_text (message), "part 0\n\npart 2\n\n"));
  attachments = td_mime_message_get_attachments (message);
  /* bounded: not every one of 30,000 parts is visited */
  g_assert_cmpuint (attachments->len, >, 1000);
  g_assert_cmpuint (attachments->len, <, 15000);
  report_elapsed (G_STRFUNC, start);
}

static void
test_hostile_huge_headers (void)
{
  GString *s = g_string_new ("From: huge@example.com\nSubject:");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TdMimeHeaders) headers = NULL;
  gint64 start;

  /* an 8 MB folded subject, then 100,000 more header lines */
  while (s->len < 8 * 1024 * 1024)
    g_string_append (s, " =?utf-8?Q?caf=C3=A9?= word\n");
  for (guint i = 0; i < 100000; i++)
    g_string_append_printf (s, "X-Header-%u: value %u\n", i, i);
  g_string_append (s, "To: last@example.com\n\nbody\n");
  bytes = g_string_free_to_bytes (s);

  start = g_get_monotonic_time ();
  headers = td_mime_headers_parse (bytes);
  g_assert_true (g_str_has_prefix (headers->subject, "café word café word"));
  g_assert_cmpuint (strlen (headers->subject), <=, 512 * 1024);
  g_assert_cmpstr (headers->from_address, ==, "huge@example.com");
  g_assert_cmpstr (headers->to, ==, "last@example.com");
  exercise_everything (bytes);
  report_elapsed (G_STRFUNC, start);
}

static void
test_hostile_long_header_line (void)
{
  gsize size = 10 * 1024 * 1024;
  GString *s = g_string_sized_new (size + 64);
  g_autoptr(GBytes) bytes = NULL;
  gint64 start;

  g_string_append (s, "Subject: ");
  while (s->len < size)
    g_string_append (s, "=?utf-8?B?w6k=?=");
  g_string_append (s, "\n\nbody\n");
  bytes = g_string_free_to_bytes (s);

  start = g_get_monotonic_time ();
  exercise_everything (bytes);
  report_elapsed (G_STRFUNC, start);
}

static void
test_hostile_junk (void)
{
  gsize size = 10 * 1024 * 1024;
  g_autofree guchar *junk = g_malloc (size);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) text_junk = NULL;
  gint64 start;

  for (gsize i = 0; i < size; i++)
    junk[i] = (guchar) g_test_rand_int_range (0, 256);
  bytes = g_bytes_new (junk, size);

  start = g_get_monotonic_time ();
  exercise_everything (bytes);
  report_elapsed (G_STRFUNC, start);

  /* junk that looks like headers and MIME */
  for (gsize i = 0; i < size; i++)
    {
      static const char alphabet[] = "Content-Type: multipart/mixed; boundary=\"=?\n\r-:;<>&\"\0";

      junk[i] = alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)];
    }
  text_junk = g_bytes_new (junk, size);
  start = g_get_monotonic_time ();
  exercise_everything (text_junk);
  report_elapsed (G_STRFUNC, start);
}

static void
test_hostile_nul (void)
{
  static const char raw[] =
    "Subject: a\0b\nFrom: \0<x@y>\nContent-Type: text/html; charset=\0utf-8\n\n"
    "<p>a\0b</p>\0\0<img src=\"\0https://x\">";
  g_autoptr(GBytes) bytes = g_bytes_new (raw, sizeof raw - 1);

  exercise_everything (bytes);
}

/* Every corpus file, cut and with bytes changed at random. */
static void
test_hostile_mutations (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      g_autofree char *relative = g_build_filename ("mime", corpus[i].file, NULL);
      g_autoptr(GBytes) original = td_test_load_data (relative);
      gsize len = 0;
      const guchar *data = g_bytes_get_data (original, &len);

      for (guint round = 0; round < 40; round++)
        {
          g_autofree guchar *copy = g_memdup2 (data, len);
          gsize cut = round % 4 == 0 ? (gsize) g_test_rand_int_range (0, (gint32) len) : len;
          guint flips = g_test_rand_int_range (1, 24);
          g_autoptr(GBytes) mutated = NULL;

          for (guint f = 0; f < flips && cut > 0; f++)
            {
              static const char interesting[] = "\0\n\r-=?<>&;:\"\\\x80\xff";
              gsize at = g_test_rand_int_range (0, (gint32) cut);

              copy[at] = g_test_rand_bit () ? (guchar) g_test_rand_int_range (0, 256)
                         : (guchar) interesting[g_test_rand_int_range (0, sizeof interesting - 1)];
            }
          mutated = g_bytes_new (copy, cut);
          exercise_everything (mutated);
        }
    }
}

/* The store parses on its own thread; several at once must not disturb each other. */
static gpointer
parse_corpus_thread (gpointer data)
{
  for (guint round = 0; round < 5; round++)
    for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
      {
        g_autoptr(TdMimeMessage) message = load_message (corpus[i].file);

        if (g_strcmp0 (td_mime_message_get_text (message), corpus[i].text) != 0 ||
            g_strcmp0 (td_mime_message_get_headers (message)->subject, corpus[i].subject) != 0)
          return GINT_TO_POINTER (FALSE);
      }
  return GINT_TO_POINTER (TRUE);
}

static void
test_threads (void)
{
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("mime", parse_corpus_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (threads[i])));
}

int
main (int    argc,
      char **argv)
{
  td_test_init (&argc, &argv);

  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      g_autofree char *name = g_strndup (corpus[i].file, strlen (corpus[i].file) - 4);
      g_autofree char *path = g_strconcat ("/mime/corpus/", name, NULL);

      g_test_add_data_func (path, &corpus[i], test_corpus);
    }
  g_test_add_func ("/mime/headers/block-only", test_headers_block_only);
  g_test_add_func ("/mime/headers/empty", test_headers_empty);
  g_test_add_func ("/mime/headers/raw-8bit", test_headers_raw_8bit);
  g_test_add_func ("/mime/headers/encoded-words", test_headers_encoded_words);
  g_test_add_func ("/mime/headers/addresses", test_headers_addresses);
  g_test_add_func ("/mime/headers/references-bounded", test_headers_references_bounded);
  g_test_add_func ("/mime/headers/dates", test_headers_dates);
  g_test_add_func ("/mime/charset/labels", test_charset_labels);
  g_test_add_func ("/mime/charset/utf-16", test_charset_utf16);
  g_test_add_func ("/mime/charset/html-meta", test_charset_html_meta);
  g_test_add_func ("/mime/charset/line-endings", test_charset_line_endings);
  g_test_add_func ("/mime/flowed", test_flowed);
  g_test_add_func ("/mime/message/empty", test_message_empty);
  g_test_add_func ("/mime/message/no-headers", test_message_no_headers);
  g_test_add_func ("/mime/message/alternative-empty-plain", test_message_alternative_empty_plain);
  g_test_add_func ("/mime/message/related-start", test_message_related_start);
  g_test_add_func ("/mime/message/attachment-data", test_message_attachment_data);
  g_test_add_func ("/mime/message/attached-rfc822", test_message_attached_rfc822);
  g_test_add_func ("/mime/message/filenames", test_message_filenames);
  g_test_add_func ("/mime/message/encrypted", test_message_encrypted);
  g_test_add_func ("/mime/message/bounce", test_message_bounce);
  g_test_add_func ("/mime/message/lazy-is-stable", test_message_lazy_is_stable);
  g_test_add_func ("/mime/html/entities", test_html_entities);
  g_test_add_func ("/mime/html/blocks", test_html_blocks);
  g_test_add_func ("/mime/html/lists-quotes-pre", test_html_lists_quotes_pre);
  g_test_add_func ("/mime/html/dropped", test_html_dropped);
  g_test_add_func ("/mime/html/links", test_html_links);
  g_test_add_func ("/mime/html/hostile", test_html_hostile);
  g_test_add_func ("/mime/remote-content", test_remote_content);
  g_test_add_func ("/mime/preview", test_preview);
  g_test_add_func ("/mime/preview/long", test_preview_long);
  g_test_add_func ("/mime/hostile/deep-multipart", test_hostile_deep_multipart);
  g_test_add_func ("/mime/hostile/shallow-multipart", test_hostile_shallow_multipart);
  g_test_add_func ("/mime/hostile/deep-rfc822", test_hostile_deep_rfc822);
  g_test_add_func ("/mime/hostile/many-parts", test_hostile_many_parts);
  g_test_add_func ("/mime/hostile/huge-headers", test_hostile_huge_headers);
  g_test_add_func ("/mime/hostile/long-header-line", test_hostile_long_header_line);
  g_test_add_func ("/mime/hostile/junk", test_hostile_junk);
  g_test_add_func ("/mime/hostile/nul", test_hostile_nul);
  g_test_add_func ("/mime/hostile/mutations", test_hostile_mutations);
  g_test_add_func ("/mime/threads", test_threads);

  return g_test_run ();
}
