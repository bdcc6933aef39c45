/* td-mime-compose.h: building a message to send, with GMime
 *
 * A small builder for the composer and tidings-cli: From, To/Cc/Bcc, a subject (RFC 2047 when
 * it is not ASCII), a UTF-8 plain-text body sent as text/plain; format=flowed (RFC 3676,
 * quoted-printable when it is not ASCII, so the message is 7-bit), attachments (base64, file
 * names in RFC 2231), Message-ID and Date; for a reply In-Reply-To, References, "Re: " and the
 * original quoted under an attribution line; for a forward "Fwd: " and the original attached
 * as message/rfc822. Bcc recipients are in the envelope only, never in the header.
 *
 * Callers must have called td_engine_init().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  TD_MIME_TO,
  TD_MIME_CC,
  TD_MIME_BCC,
} TdMimeRecipientKind;

/* Lines of a flowed body are wrapped before this many characters (RFC 3676 4.2). */
#define TD_MIME_FLOWED_WIDTH 72

typedef struct _TdMimeCompose TdMimeCompose;

TdMimeCompose *td_mime_compose_new              (void);
void           td_mime_compose_free             (TdMimeCompose       *self);

/* The sender; @name may be NULL. FALSE and TD_ERROR_INVALID when @address is not one. */
gboolean       td_mime_compose_set_from         (TdMimeCompose       *self,
                                                 const char          *name,
                                                 const char          *address,
                                                 GError             **error);
/* Adds each address of @list ("Ann <a@example.org>, b@example.org"); TD_ERROR_INVALID (and
 * nothing added) when one is not an address. */
gboolean       td_mime_compose_add_recipients   (TdMimeCompose       *self,
                                                 TdMimeRecipientKind  kind,
                                                 const char          *list,
                                                 GError             **error);
void           td_mime_compose_set_subject      (TdMimeCompose       *self,
                                                 const char          *subject);
/* The text the user wrote (UTF-8, any line ends). Invalid UTF-8 is repaired. */
void           td_mime_compose_set_body         (TdMimeCompose       *self,
                                                 const char          *text);
/* @content_type NULL: guessed from the name and the data. @filename: the base name shown. */
void           td_mime_compose_add_attachment   (TdMimeCompose       *self,
                                                 const char          *filename,
                                                 const char          *content_type,
                                                 GBytes              *data);
/* Makes this a reply to @original (a whole message): In-Reply-To, References, "Re: " before
 * its subject unless a subject was set, and its text quoted under "On DATE, NAME wrote:"
 * above what the user wrote. With no recipient set, To is its Reply-To or From. FALSE and
 * TD_ERROR_PARSE when @original is not a message. */
gboolean       td_mime_compose_set_reply_to     (TdMimeCompose       *self,
                                                 GBytes              *original,
                                                 GError             **error);
/* Makes this a forward of @original: "Fwd: " before its subject unless one was set, and the
 * original attached as message/rfc822. */
gboolean       td_mime_compose_set_forward_of   (TdMimeCompose       *self,
                                                 GBytes              *original,
                                                 GError             **error);
/* For tests: the Date header (default: now) and the Message-ID (default: generated under the
 * From address's domain). */
void           td_mime_compose_set_date         (TdMimeCompose       *self,
                                                 GDateTime           *date);
void           td_mime_compose_set_message_id   (TdMimeCompose       *self,
                                                 const char          *message_id);

/* The RFC 5322 bytes (CRLF line ends). TD_ERROR_INVALID without From or recipients. The
 * Message-ID is fixed by the first build. */
GBytes        *td_mime_compose_build            (TdMimeCompose       *self,
                                                 GError             **error);
/* After a build: the Message-ID (without < >), the envelope sender and the envelope
 * recipients (To, Cc and Bcc, each once). */
const char    *td_mime_compose_get_message_id   (TdMimeCompose       *self);
const char    *td_mime_compose_get_from_address (TdMimeCompose       *self);
GStrv          td_mime_compose_get_recipients   (TdMimeCompose       *self);
const char    *td_mime_compose_get_subject      (TdMimeCompose       *self);

/* @text as a format=flowed body (RFC 3676): long lines wrapped at spaces with a trailing
 * space, trailing spaces of hard breaks removed (but "-- "), lines starting with " ", ">" or
 * "From " space-stuffed; LF line ends. */
char          *td_mime_flowed_encode            (const char          *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdMimeCompose, td_mime_compose_free)

G_END_DECLS
