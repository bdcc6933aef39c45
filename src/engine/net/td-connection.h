/* td-connection.h: one TCP connection to a mail server, TLS verified
 *
 * Implicit TLS or STARTTLS through GIO's TLS backend (GnuTLS). The peer certificate must
 * verify against the system trust store for the host name, unless its SHA-256 fingerprint
 * equals the account's pinned one. A refused certificate fails with TD_ERROR_CERTIFICATE
 * and td_connection_get_certificate_info() then describes it, so the user can be shown it.
 * There is no plaintext mode: a STARTTLS connection that cannot upgrade is an error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-types.h"

G_BEGIN_DECLS

typedef struct
{
  char               *subject;
  char               *issuer;
  GDateTime          *not_before;
  GDateTime          *not_after;
  char               *fingerprint;   /* SHA-256, upper-case hex pairs joined by ':' */
  GTlsCertificateFlags errors;       /* why it did not verify; 0 when it did */
} TdCertificateInfo;

#define TD_TYPE_CERTIFICATE_INFO (td_certificate_info_get_type ())
GType              td_certificate_info_get_type (void) G_GNUC_CONST;
TdCertificateInfo *td_certificate_info_new_from_certificate (GTlsCertificate     *cert,
                                                             GTlsCertificateFlags errors);
TdCertificateInfo *td_certificate_info_copy     (const TdCertificateInfo *info);
void               td_certificate_info_free     (TdCertificateInfo       *info);
/* Translated, multi-line, for people: subject, issuer, validity, fingerprint, problems. */
char              *td_certificate_info_to_string (const TdCertificateInfo *info);
/* "ab:cd..." / "ABCD..." / "AB CD" -> "AB:CD:..."; NULL when not 32 hex bytes. */
char              *td_fingerprint_normalize     (const char              *fingerprint);

#define TD_TYPE_CONNECTION (td_connection_get_type ())

G_DECLARE_FINAL_TYPE (TdConnection, td_connection, TD, CONNECTION, GObject)

TdConnection      *td_connection_new                    (const char    *host,
                                                         guint16        port,
                                                         TdSecurity     security);
const char        *td_connection_get_host               (TdConnection  *self);
guint16            td_connection_get_port               (TdConnection  *self);
TdSecurity         td_connection_get_security           (TdConnection  *self);
void               td_connection_set_pinned_fingerprint (TdConnection  *self,
                                                         const char    *fingerprint);
/* Seconds for connecting, the TLS handshake and each read or write (default 30);
 * 0 = none. Can be changed while connected (e.g. longer while idling): a read already
 * waiting keeps the timeout it started with, so change it before the command whose answer
 * is to wait longer. */
void               td_connection_set_timeout            (TdConnection  *self,
                                                         guint          seconds);
guint              td_connection_get_timeout            (TdConnection  *self);
/* TLS: connects and handshakes. STARTTLS: connects in plain; the protocol then sends its
 * STARTTLS command and calls td_connection_start_tls_async(). */
void               td_connection_connect_async          (TdConnection        *self,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean           td_connection_connect_finish         (TdConnection        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
void               td_connection_start_tls_async        (TdConnection        *self,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean           td_connection_start_tls_finish       (TdConnection        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
/* The current stream (TLS once it is up). NULL before connecting. */
GIOStream         *td_connection_get_stream             (TdConnection  *self);
GInputStream      *td_connection_get_input_stream       (TdConnection  *self);
GOutputStream     *td_connection_get_output_stream      (TdConnection  *self);
gboolean           td_connection_is_tls                 (TdConnection  *self);
/* The peer certificate (after a TLS handshake, or the refused one after a failure). */
const TdCertificateInfo *td_connection_get_certificate_info (TdConnection *self);
/* For the protocols reading and writing the stream: turns a GIO or TLS error into the
 * engine's, naming the server. G_IO_ERROR_TIMED_OUT (the timeout passed on a read or write)
 * becomes TD_ERROR_TIMEOUT, other errors TD_ERROR_CONNECTION; G_IO_ERROR_CANCELLED and
 * TD_ERROR errors are returned as they are. Takes @error, returns the error to use. */
GError            *td_connection_translate_error        (TdConnection  *self,
                                                         GError        *error);
/* Closes without blocking (async close in the background). Idempotent. Cancels a connect or
 * handshake that is running. connect_async() may be called again afterwards. */
void               td_connection_close                  (TdConnection  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdCertificateInfo, td_certificate_info_free)

G_END_DECLS
