/* td-mime-private.h: helpers shared by the files of the mime layer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gmime/gmime.h>

#include "td-mime.h"

G_BEGIN_DECLS

/* GMime 3.2 declares no autoptr cleanups of its own. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimePart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddressList, g_object_unref)

/* How deep we follow multiparts and message/rfc822 parts ourselves (GMime has its own,
 * larger limit while parsing). */
#define TD_MIME_MAX_DEPTH 50
/* How many MIME parts one walk over a message visits at most. */
#define TD_MIME_MAX_PARTS 10000
/* Raw header values longer than this are cut before decoding. */
#define TD_MIME_MAX_HEADER_VALUE (256 * 1024)

/* A stream over @data for GMime's parser (only the header block when @header_only), with
 * absurdly long top-level header fields cut. */
GMimeStream   *_td_mime_stream_new          (const char    *data,
                                            gsize          len,
                                            gboolean       header_only);
/* The shared parser options (fallback charsets, loose compliance). Never free them. */
GMimeParserOptions *_td_mime_parser_options (void);

/* Decodes @len bytes in the charset called @label (may be NULL) to clean UTF-8, with the
 * fallbacks browsers use. @is_html lets an undeclared HTML part name its charset in <meta>. */
char          *_td_mime_decode_charset     (const char    *data,
                                            gsize          len,
                                            const char    *label,
                                            gboolean       is_html);
/* The last safety net for every string we hand out: valid UTF-8, no NUL, CR LF -> LF,
 * C1 controls read as windows-1252, other control characters (but tab and newline) dropped. */
char          *_td_mime_clean_utf8         (const char    *data,
                                            gsize          len);
/* Decodes an unstructured header value (RFC 2047, lying labels, raw 8-bit) and folds its
 * white space to single spaces. */
char          *_td_mime_decode_header_text (const char    *raw);
/* Parses an address header value (raw, as in the message) into a list. Never NULL. */
InternetAddressList *_td_mime_parse_addresses (const char *raw);
/* "Name <addr>, addr" */
char          *_td_mime_format_addresses   (InternetAddressList *list);
/* The headers the store keeps, from the header list of @object. */
TdMimeHeaders *_td_mime_headers_from_object (GMimeObject  *object);
/* The first raw value of header @name of @object, or NULL. */
const char    *_td_mime_object_raw_header  (GMimeObject   *object,
                                            const char    *name);
/* RFC 3676: unwraps format=flowed text (already LF-only UTF-8). */
char          *_td_mime_unflow             (const char    *text,
                                            gboolean       delsp);
/* windows-1252 byte -> code point (U+FFFD for the five undefined bytes). */
gunichar       _td_mime_cp1252_to_unichar  (guchar         c);
/* Appends @text to @out with HTML special characters escaped. */
void           _td_mime_html_escape        (GString       *out,
                                            const char    *text);

G_END_DECLS
