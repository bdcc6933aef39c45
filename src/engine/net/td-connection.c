/* td-connection.c: one TCP connection to a mail server, TLS verified
 *
 * The TCP connection comes from a GSocketClient whose timeout becomes the GSocket timeout,
 * so it bounds the connect and every later read or write (an async read then fails with
 * G_IO_ERROR_TIMED_OUT). TLS is always set up by wrapping the plain stream in a
 * GTlsClientConnection, for implicit TLS right after the connect and for STARTTLS when the
 * protocol asks. A certificate that does not verify reaches "accept-certificate", which
 * accepts it only when its SHA-256 fingerprint is the pinned one.
 *
 * Connect and handshake also run under a watchdog of the same timeout, which covers what the
 * socket timeout does not (name resolution, a handshake stuck in the TLS backend).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-net"

#include "config.h"

#include "td-connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

#define DEFAULT_TIMEOUT_SECONDS 30
#define CLOSE_TIMEOUT_SECONDS   5
#define FINGERPRINT_BYTES       32

struct _TdConnection
{
  GObject             parent_instance;

  char               *host;
  guint16             port;
  TdSecurity          security;
  char               *pinned_fingerprint;  /* normalized, or NULL */
  guint               timeout;             /* seconds, 0 = none */

  GSocketConnection  *socket_connection;   /* the TCP connection */
  GIOStream          *stream;              /* socket_connection or the TLS connection over it */
  gboolean            tls;
  TdCertificateInfo  *certificate_info;

  GCancellable       *operation_cancellable; /* of the running connect or handshake */
};

G_DEFINE_FINAL_TYPE (TdConnection, td_connection, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (TdCertificateInfo, td_certificate_info,
                     td_certificate_info_copy, td_certificate_info_free)

/* --- Certificates --- */

static char *
format_fingerprint (const guint8 *digest,
                    gsize         len)
{
  GString *out = g_string_sized_new (len * 3);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, i == 0 ? "%02X" : ":%02X", digest[i]);
  return g_string_free (out, FALSE);
}

char *
td_fingerprint_normalize (const char *fingerprint)
{
  guint8 digest[FINGERPRINT_BYTES];
  gsize n_digits = 0;

  if (fingerprint == NULL)
    return NULL;

  for (const char *p = fingerprint; *p != '\0'; p++)
    {
      int value;

      if (*p == ':' || g_ascii_isspace (*p))
        continue;
      value = g_ascii_xdigit_value (*p);
      if (value < 0 || n_digits >= FINGERPRINT_BYTES * 2)
        return NULL;
      if (n_digits % 2 == 0)
        digest[n_digits / 2] = (guint8) (value << 4);
      else
        digest[n_digits / 2] |= (guint8) value;
      n_digits++;
    }

  if (n_digits != FINGERPRINT_BYTES * 2)
    return NULL;
  return format_fingerprint (digest, FINGERPRINT_BYTES);
}

static char *
certificate_fingerprint (GTlsCertificate *cert)
{
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(GChecksum) checksum = NULL;
  guint8 digest[FINGERPRINT_BYTES];
  gsize digest_len = sizeof digest;

  g_object_get (cert, "certificate", &der, NULL);
  if (der == NULL || der->len == 0)
    return NULL;

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (checksum, der->data, der->len);
  g_checksum_get_digest (checksum, digest, &digest_len);
  g_assert (digest_len == FINGERPRINT_BYTES);
  return format_fingerprint (digest, digest_len);
}

TdCertificateInfo *
td_certificate_info_new_from_certificate (GTlsCertificate      *cert,
                                          GTlsCertificateFlags  errors)
{
  TdCertificateInfo *info;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (cert), NULL);

  info = g_new0 (TdCertificateInfo, 1);
  info->subject = g_tls_certificate_get_subject_name (cert);
  info->issuer = g_tls_certificate_get_issuer_name (cert);
  info->not_before = g_tls_certificate_get_not_valid_before (cert);
  info->not_after = g_tls_certificate_get_not_valid_after (cert);
  info->fingerprint = certificate_fingerprint (cert);
  info->errors = errors;
  return info;
}

TdCertificateInfo *
td_certificate_info_copy (const TdCertificateInfo *info)
{
  TdCertificateInfo *copy;

  g_return_val_if_fail (info != NULL, NULL);

  copy = g_new0 (TdCertificateInfo, 1);
  copy->subject = g_strdup (info->subject);
  copy->issuer = g_strdup (info->issuer);
  copy->not_before = info->not_before != NULL ? g_date_time_ref (info->not_before) : NULL;
  copy->not_after = info->not_after != NULL ? g_date_time_ref (info->not_after) : NULL;
  copy->fingerprint = g_strdup (info->fingerprint);
  copy->errors = info->errors;
  return copy;
}

void
td_certificate_info_free (TdCertificateInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->subject);
  g_free (info->issuer);
  g_clear_pointer (&info->not_before, g_date_time_unref);
  g_clear_pointer (&info->not_after, g_date_time_unref);
  g_free (info->fingerprint);
  g_free (info);
}

/* "it is self-signed, it has expired": why the certificate did not verify, for people.
 * @pin_mismatch: a fingerprint was pinned and this is not it. */
static char *
describe_problems (const TdCertificateInfo *info,
                   gboolean                 pin_mismatch)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new ();
  GString *out = g_string_new (NULL);

  if (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA)
    {
      if (info->subject != NULL && g_strcmp0 (info->subject, info->issuer) == 0)
        g_ptr_array_add (problems, _("it is self-signed"));
      else
        g_ptr_array_add (problems, _("it is signed by an unknown authority"));
    }
  if (info->errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_ptr_array_add (problems, _("it is for another host"));
  if (info->errors & G_TLS_CERTIFICATE_EXPIRED)
    g_ptr_array_add (problems, _("it has expired"));
  if (info->errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    g_ptr_array_add (problems, _("it is not valid yet"));
  if (info->errors & G_TLS_CERTIFICATE_REVOKED)
    g_ptr_array_add (problems, _("it has been revoked"));
  if (info->errors & G_TLS_CERTIFICATE_INSECURE)
    g_ptr_array_add (problems, _("it uses an insecure algorithm"));
  if ((info->errors & G_TLS_CERTIFICATE_GENERIC_ERROR) || problems->len == 0)
    g_ptr_array_add (problems, _("it is invalid"));
  if (pin_mismatch)
    g_ptr_array_add (problems, _("it is not the certificate pinned for this account"));

  for (guint i = 0; i < problems->len; i++)
    {
      if (i > 0)
        /* Translators: separates the reasons why a certificate was refused */
        g_string_append (out, _(", "));
      g_string_append (out, g_ptr_array_index (problems, i));
    }
  return g_string_free (out, FALSE);
}

static char *
format_date (GDateTime *date)
{
  g_autoptr(GDateTime) utc = NULL;

  if (date == NULL)
    return g_strdup (_("unknown"));
  utc = g_date_time_to_utc (date);
  return g_date_time_format (utc, "%Y-%m-%d %H:%M:%S UTC");
}

char *
td_certificate_info_to_string (const TdCertificateInfo *info)
{
  g_autofree char *not_before = NULL;
  g_autofree char *not_after = NULL;
  g_autofree char *problems = NULL;
  GString *out;

  g_return_val_if_fail (info != NULL, NULL);

  not_before = format_date (info->not_before);
  not_after = format_date (info->not_after);
  out = g_string_new (NULL);
  g_string_append_printf (out, _("Subject: %s\n"), info->subject != NULL ? info->subject : "");
  g_string_append_printf (out, _("Issuer: %s\n"), info->issuer != NULL ? info->issuer : "");
  g_string_append_printf (out, _("Valid from: %s\n"), not_before);
  g_string_append_printf (out, _("Valid until: %s\n"), not_after);
  g_string_append_printf (out, _("SHA-256 fingerprint: %s\n"),
                          info->fingerprint != NULL ? info->fingerprint : _("unknown"));
  if (info->errors != 0)
    {
      problems = describe_problems (info, FALSE);
      g_string_append_printf (out, _("Problems: %s\n"), problems);
    }
  return g_string_free (out, FALSE);
}

/* --- Running operations (connect, handshake) --- */

typedef struct
{
  GCancellable      *cancellable;        /* cancelled by the caller's, the watchdog or close */
  GCancellable      *caller_cancellable;
  gulong             caller_handler;
  GSource           *watchdog;
  gboolean           timed_out;
  char              *pinned_fingerprint; /* copied: "accept-certificate" may run in a thread */
  gboolean           refused;
  TdCertificateInfo *refused_info;
  GTlsConnection    *tls;
} Operation;

static void
operation_free (gpointer data)
{
  Operation *op = data;

  if (op->caller_handler != 0)
    g_cancellable_disconnect (op->caller_cancellable, op->caller_handler);
  g_clear_object (&op->caller_cancellable);
  if (op->watchdog != NULL)
    {
      g_source_destroy (op->watchdog);
      g_source_unref (op->watchdog);
    }
  g_clear_object (&op->cancellable);
  g_free (op->pinned_fingerprint);
  td_certificate_info_free (op->refused_info);
  g_clear_object (&op->tls);
  g_free (op);
}

static void
caller_cancelled_cb (GCancellable *caller,
                     gpointer      data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

static gboolean
watchdog_cb (gpointer data)
{
  Operation *op = data;

  op->timed_out = TRUE;
  g_clear_pointer (&op->watchdog, g_source_unref);
  g_cancellable_cancel (op->cancellable);
  return G_SOURCE_REMOVE;
}

/* (Re)starts the watchdog for the next step of @task. */
static void
operation_arm (TdConnection *self,
               GTask        *task)
{
  Operation *op = g_task_get_task_data (task);

  if (op->watchdog != NULL)
    {
      g_source_destroy (op->watchdog);
      g_clear_pointer (&op->watchdog, g_source_unref);
    }
  if (self->timeout == 0)
    return;

  op->watchdog = g_timeout_source_new (self->timeout * 1000);
  g_source_set_callback (op->watchdog, watchdog_cb, op, NULL);
  g_source_set_name (op->watchdog, "[tidings] connection watchdog");
  g_source_attach (op->watchdog, g_task_get_context (task));
}

static GTask *
operation_new (TdConnection        *self,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data,
               gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Operation *op = g_new0 (Operation, 1);

  g_task_set_source_tag (task, source_tag);
  op->cancellable = g_cancellable_new ();
  op->pinned_fingerprint = g_strdup (self->pinned_fingerprint);
  if (cancellable != NULL)
    {
      op->caller_cancellable = g_object_ref (cancellable);
      op->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                                                  op->cancellable, NULL);
    }
  g_task_set_task_data (task, op, operation_free);
  return task;
}

static gboolean
operation_is_running (TdConnection *self)
{
  return self->operation_cancellable != NULL;
}

static void
operation_start (TdConnection *self,
                 GTask        *task)
{
  Operation *op = g_task_get_task_data (task);

  g_set_object (&self->operation_cancellable, op->cancellable);
  operation_arm (self, task);
}

/* Ends @task with @error (taken; NULL = success). Whatever happened, the operation is over. */
static void
operation_return (TdConnection *self,
                  GTask        *task,
                  GError       *error)
{
  Operation *op = g_task_get_task_data (task);

  if (op->watchdog != NULL)
    {
      g_source_destroy (op->watchdog);
      g_clear_pointer (&op->watchdog, g_source_unref);
    }
  if (self->operation_cancellable == op->cancellable)
    g_clear_object (&self->operation_cancellable);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static GError *
timeout_error (TdConnection *self)
{
  return g_error_new (TD_ERROR, TD_ERROR_TIMEOUT,
                      g_dngettext (GETTEXT_PACKAGE,
                                   "The server %s:%u did not answer within %u second",
                                   "The server %s:%u did not answer within %u seconds",
                                   self->timeout),
                      self->host, self->port, self->timeout);
}

/* Maps an error of the running operation: the caller's cancel stays a cancel, the watchdog's
 * or a socket timeout becomes TD_ERROR_TIMEOUT, the rest TD_ERROR_CONNECTION with @what. */
static GError *
operation_map_error (TdConnection *self,
                     GTask        *task,
                     GError       *error,
                     const char   *what)
{
  Operation *op = g_task_get_task_data (task);
  GError *mapped;

  if (op->caller_cancellable != NULL && g_cancellable_is_cancelled (op->caller_cancellable))
    {
      g_clear_error (&error);
      return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Operation was cancelled"));
    }

  if (op->timed_out || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    mapped = timeout_error (self);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    mapped = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                          _("The connection to %s:%u was closed"), self->host, self->port);
  else
    mapped = g_error_new (TD_ERROR, TD_ERROR_CONNECTION, "%s: %s", what, error->message);

  g_clear_error (&error);
  return mapped;
}

/* --- Closing --- */

typedef struct
{
  GIOStream    *stream;
  GCancellable *cancellable;
  GSource      *timeout;
} CloseData;

static gboolean
close_timeout_cb (gpointer data)
{
  CloseData *close_data = data;

  g_cancellable_cancel (close_data->cancellable);
  return G_SOURCE_REMOVE;
}

static void
close_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  CloseData *close_data = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (source), result, &error))
    g_debug ("Closing a connection: %s", error->message);

  g_source_destroy (close_data->timeout);
  g_source_unref (close_data->timeout);
  g_object_unref (close_data->cancellable);
  g_object_unref (close_data->stream);
  g_free (close_data);
}

/* Closes @stream in the background, holding it until the close is done. */
static void
close_stream_async (GIOStream *stream)
{
  CloseData *close_data;

  if (stream == NULL || g_io_stream_is_closed (stream))
    return;

  close_data = g_new0 (CloseData, 1);
  close_data->stream = g_object_ref (stream);
  close_data->cancellable = g_cancellable_new ();
  /* A TLS close writes a close_notify; a peer that reads nothing must not keep it forever. */
  close_data->timeout = g_timeout_source_new_seconds (CLOSE_TIMEOUT_SECONDS);
  g_source_set_callback (close_data->timeout, close_timeout_cb, close_data, NULL);
  g_source_set_name (close_data->timeout, "[tidings] connection close timeout");
  g_source_attach (close_data->timeout, g_main_context_get_thread_default ());
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, close_data->cancellable,
                           close_cb, close_data);
}

static void
drop_streams (TdConnection *self)
{
  g_autoptr(GIOStream) stream = g_steal_pointer (&self->stream);
  g_autoptr(GSocketConnection) socket_connection = g_steal_pointer (&self->socket_connection);

  self->tls = FALSE;
  /* A TLS connection closes its base stream (after its close_notify). */
  close_stream_async (stream != NULL ? stream : G_IO_STREAM (socket_connection));
}

void
td_connection_close (TdConnection *self)
{
  g_return_if_fail (TD_IS_CONNECTION (self));

  if (self->operation_cancellable != NULL)
    g_cancellable_cancel (self->operation_cancellable);
  drop_streams (self);
}

/* --- TLS --- */

static gboolean
accept_certificate_cb (GTlsConnection       *tls,
                       GTlsCertificate      *peer_cert,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  Operation *op = user_data;
  g_autoptr(TdCertificateInfo) info = td_certificate_info_new_from_certificate (peer_cert, errors);

  /* Only called when the certificate did not verify: the pinned fingerprint is the one
   * exception, and it must match exactly. */
  if (info != NULL && info->fingerprint != NULL && op->pinned_fingerprint != NULL &&
      strcmp (info->fingerprint, op->pinned_fingerprint) == 0)
    return TRUE;

  op->refused = TRUE;
  td_certificate_info_free (op->refused_info);
  op->refused_info = g_steal_pointer (&info);
  return FALSE;
}

static GError *
certificate_error (TdConnection            *self,
                   const TdCertificateInfo *info,
                   gboolean                 pin_mismatch)
{
  g_autofree char *problems = describe_problems (info, pin_mismatch);

  return g_error_new (TD_ERROR, TD_ERROR_CERTIFICATE,
                      _("The certificate of %s could not be verified (%s). "
                        "Its SHA-256 fingerprint is %s. "
                        "If you trust this certificate, pin its fingerprint for this account."),
                      self->host, problems,
                      info->fingerprint != NULL ? info->fingerprint : _("unknown"));
}

static void
handshake_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TdConnection *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);
  GTlsConnection *tls = G_TLS_CONNECTION (source);
  g_autoptr(GError) error = NULL;
  GTlsCertificate *peer;

  g_signal_handlers_disconnect_by_func (tls, accept_certificate_cb, op);

  if (!g_tls_connection_handshake_finish (tls, result, &error))
    {
      GError *mapped;
      g_autofree char *what = NULL;

      g_clear_pointer (&self->certificate_info, td_certificate_info_free);
      if (op->refused && op->refused_info != NULL)
        {
          self->certificate_info = td_certificate_info_copy (op->refused_info);
          if (op->caller_cancellable != NULL && g_cancellable_is_cancelled (op->caller_cancellable))
            mapped = operation_map_error (self, task, g_steal_pointer (&error), NULL);
          else
            mapped = certificate_error (self, op->refused_info, op->pinned_fingerprint != NULL);
        }
      else
        {
          what = g_strdup_printf (_("Could not set up a secure connection with %s:%u"),
                                  self->host, self->port);
          mapped = operation_map_error (self, task, g_steal_pointer (&error), what);
        }

      g_debug ("TLS handshake with %s:%u failed: %s", self->host, self->port, mapped->message);
      /* No plaintext fallback, ever: a failed handshake ends the connection. */
      drop_streams (self);
      operation_return (self, task, mapped);
      return;
    }

  peer = g_tls_connection_get_peer_certificate (tls);
  g_clear_pointer (&self->certificate_info, td_certificate_info_free);
  if (peer != NULL)
    self->certificate_info =
      td_certificate_info_new_from_certificate (peer,
                                                g_tls_connection_get_peer_certificate_errors (tls));

  g_set_object (&self->stream, G_IO_STREAM (tls));
  self->tls = TRUE;
  g_debug ("TLS with %s:%u is up", self->host, self->port);
  operation_return (self, task, NULL);
}

/* Wraps the current plain stream in TLS and handshakes, finishing @task. */
static void
start_handshake (TdConnection *self,
                 GTask        *task)
{
  Operation *op = g_task_get_task_data (task);
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (self->socket_connection != NULL);

  identity = g_network_address_new (self->host, self->port);
  tls = g_tls_client_connection_new (G_IO_STREAM (self->socket_connection), identity, &error);
  if (tls == NULL)
    {
      GError *mapped = g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                                    _("Could not set up a secure connection with %s:%u: %s"),
                                    self->host, self->port, error->message);

      drop_streams (self);
      operation_return (self, task, mapped);
      return;
    }

  /* Mail protocols end their own sessions (LOGOUT, QUIT); many servers then just close the
   * TCP connection, which must read as the end of the stream, not as an attack. */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_certificate_cb), op);
  op->tls = G_TLS_CONNECTION (g_object_ref (tls));

  operation_arm (self, task);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, op->cancellable,
                                    handshake_cb, g_object_ref (task));
}

/* --- Connecting --- */

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TdConnection *self = g_task_get_source_object (task);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (connection == NULL)
    {
      g_autofree char *what = g_strdup_printf (_("Could not connect to %s:%u"),
                                               self->host, self->port);
      GError *mapped;

      /* GIO's own message repeats "Could not connect to HOST"; say it once. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        {
          g_free (error->message);
          error->message = g_strdup (_("the server refused the connection"));
        }
      else if (g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
        {
          g_free (error->message);
          error->message = g_strdup_printf (_("there is no host called “%s”"), self->host);
        }
      mapped = operation_map_error (self, task, g_steal_pointer (&error), what);

      g_debug ("%s", mapped->message);
      operation_return (self, task, mapped);
      return;
    }

  g_socket_set_keepalive (g_socket_connection_get_socket (connection), TRUE);
  /* Pipelined commands are small writes; do not let Nagle hold them back for an ACK. */
  g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY, 1,
                       NULL);
  self->socket_connection = g_object_ref (connection);
  self->stream = G_IO_STREAM (g_object_ref (connection));
  g_debug ("Connected to %s:%u", self->host, self->port);

  if (self->security == TD_SECURITY_STARTTLS)
    {
      operation_return (self, task, NULL);
      return;
    }

  start_handshake (self, task);
}

void
td_connection_connect_async (TdConnection        *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  Operation *op;

  g_return_if_fail (TD_IS_CONNECTION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = operation_new (self, cancellable, callback, user_data, td_connection_connect_async);

  if (operation_is_running (self) || self->stream != NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               _("The connection to %s:%u is already open"),
                               self->host, self->port);
      return;
    }

  g_clear_pointer (&self->certificate_info, td_certificate_info_free);
  operation_start (self, task);
  op = g_task_get_task_data (task);

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, self->timeout);
  address = g_network_address_new (self->host, self->port);
  g_socket_client_connect_async (client, address, op->cancellable, connect_cb,
                                 g_steal_pointer (&task));
}

gboolean
td_connection_connect_finish (TdConnection  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_connection_start_tls_async (TdConnection        *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_CONNECTION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = operation_new (self, cancellable, callback, user_data, td_connection_start_tls_async);

  if (operation_is_running (self) || self->socket_connection == NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               _("There is no open connection to %s:%u to secure"),
                               self->host, self->port);
      return;
    }
  if (self->tls)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               _("The connection to %s:%u is already secure"),
                               self->host, self->port);
      return;
    }

  g_clear_pointer (&self->certificate_info, td_certificate_info_free);
  operation_start (self, task);
  start_handshake (self, task);
}

gboolean
td_connection_start_tls_finish (TdConnection  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

GError *
td_connection_translate_error (TdConnection *self,
                               GError       *error)
{
  GError *mapped;

  g_return_val_if_fail (TD_IS_CONNECTION (self), error);
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain == TD_ERROR || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return error;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    mapped = timeout_error (self);
  else
    mapped = g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                          _("The connection to %s:%u failed: %s"),
                          self->host, self->port, error->message);
  g_error_free (error);
  return mapped;
}

/* --- The object --- */

static void
td_connection_dispose (GObject *object)
{
  TdConnection *self = TD_CONNECTION (object);

  td_connection_close (self);
  g_clear_object (&self->operation_cancellable);

  G_OBJECT_CLASS (td_connection_parent_class)->dispose (object);
}

static void
td_connection_finalize (GObject *object)
{
  TdConnection *self = TD_CONNECTION (object);

  g_free (self->host);
  g_free (self->pinned_fingerprint);
  td_certificate_info_free (self->certificate_info);

  G_OBJECT_CLASS (td_connection_parent_class)->finalize (object);
}

static void
td_connection_class_init (TdConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_connection_dispose;
  object_class->finalize = td_connection_finalize;
}

static void
td_connection_init (TdConnection *self)
{
  self->timeout = DEFAULT_TIMEOUT_SECONDS;
}

TdConnection *
td_connection_new (const char *host,
                   guint16     port,
                   TdSecurity  security)
{
  TdConnection *self;

  g_return_val_if_fail (host != NULL && *host != '\0', NULL);
  g_return_val_if_fail (security == TD_SECURITY_TLS || security == TD_SECURITY_STARTTLS, NULL);

  self = g_object_new (TD_TYPE_CONNECTION, NULL);
  self->host = g_strdup (host);
  self->port = port;
  self->security = security;
  return self;
}

const char *
td_connection_get_host (TdConnection *self)
{
  g_return_val_if_fail (TD_IS_CONNECTION (self), NULL);
  return self->host;
}

guint16
td_connection_get_port (TdConnection *self)
{
  g_return_val_if_fail (TD_IS_CONNECTION (self), 0);
  return self->port;
}

TdSecurity
td_connection_get_security (TdConnection *self)
{
  g_return_val_if_fail (TD_IS_CONNECTION (self), TD_SECURITY_TLS);
  return self->security;
}

void
td_connection_set_pinned_fingerprint (TdConnection *self,
                                      const char   *fingerprint)
{
  g_return_if_fail (TD_IS_CONNECTION (self));

  g_clear_pointer (&self->pinned_fingerprint, g_free);
  if (fingerprint == NULL || *fingerprint == '\0')
    return;

  self->pinned_fingerprint = td_fingerprint_normalize (fingerprint);
  if (self->pinned_fingerprint == NULL)
    /* Nothing is pinned then: a malformed pin must not accept anything. */
    g_debug ("Ignoring a malformed pinned fingerprint for %s", self->host);
}

void
td_connection_set_timeout (TdConnection *self,
                           guint         seconds)
{
  g_return_if_fail (TD_IS_CONNECTION (self));

  self->timeout = seconds;
  if (self->socket_connection != NULL)
    g_socket_set_timeout (g_socket_connection_get_socket (self->socket_connection), seconds);
}

guint
td_connection_get_timeout (TdConnection *self)
{
  g_return_val_if_fail (TD_IS_CONNECTION (self), 0);
  return self->timeout;
}

GIOStream *
td_connection_get_stream (TdConnection *self)
{
  g_return_val_if_fail (TD_IS_CONNECTION (self), NULL);
  return self->stream;
}

GInputStream *
td_connection_get_input_stream (TdConnection *self)
{
  g_return_val_if_fail (TD_IS_CONNECTION (self), NULL);
  return self->stream != NULL ? g_io_stream_get_input_stream (self->stream) : NULL;
}

GOutputStream *
td_connection_get_output_stream (TdConnection *self)
{
  g_return_val_if_fail (TD_IS_CONNECTION (self), NULL);
  return self->stream != NULL ? g_io_stream_get_output_stream (self->stream) : NULL;
}

gboolean
td_connection_is_tls (TdConnection *self)
{
  g_return_val_if_fail (TD_IS_CONNECTION (self), FALSE);
  return self->tls;
}

const TdCertificateInfo *
td_connection_get_certificate_info (TdConnection *self)
{
  g_return_val_if_fail (TD_IS_CONNECTION (self), NULL);
  return self->certificate_info;
}
