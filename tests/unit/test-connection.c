/* test-connection.c: TdConnection against an in-process server on 127.0.0.1
 *
 * The server runs on the test's own main loop: a GSocketListener on port 0 and, for TLS, a
 * GTlsServerConnection with one of the certificates in tests/data/tls/. It greets with a
 * line and answers every line it reads with "echo LINE", so data is seen to flow both ways.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-connection.h"
#include "td-error.h"
#include "td-test-util.h"

/* `openssl x509 -noout -fingerprint -sha256` of the files in tests/data/tls/ */
#define LOCALHOST_FINGERPRINT \
  "CA:4A:8A:04:93:AF:9A:3C:FF:7C:E0:0B:5D:A6:2F:DB:FD:A7:86:4E:B7:41:4B:7B:C8:46:D6:0B:A5:A2:D1:F6"
#define SECOND_FINGERPRINT \
  "45:63:E3:7E:AB:E0:65:30:64:08:47:13:23:39:67:1C:AA:88:D3:8A:7C:1B:4B:E9:06:99:CD:3C:46:7F:55:CF"
#define OTHERHOST_FINGERPRINT \
  "4D:CE:41:BF:83:AA:3F:C4:15:17:F7:0B:7F:89:C3:86:F1:B0:C5:A2:6C:E2:84:92:23:FE:8E:FC:CA:CB:75:20"
#define EXPIRED_FINGERPRINT \
  "6C:D4:08:5F:39:0E:0A:79:27:39:13:7A:BE:8B:F7:90:45:1C:6E:3C:A1:54:57:58:AC:F2:78:67:10:8E:1F:37"

#define WAIT_MS 20000

/* --- The server --- */

typedef enum
{
  SERVER_TLS,          /* handshake at once, then greet and echo */
  SERVER_STARTTLS,     /* greet in plain; on "STARTTLS" answer "OK begin" and handshake */
  SERVER_SILENT,       /* accept and say nothing, ever */
  SERVER_TLS_SILENT,   /* handshake, then say nothing */
  SERVER_PLAIN,        /* greet in plain and echo; no TLS at all */
} ServerMode;

typedef struct
{
  GSocketListener *listener;
  guint16          port;
  ServerMode       mode;
  GTlsCertificate *certificate;
  GPtrArray       *streams;          /* every stream accepted, kept open */
  GCancellable    *cancellable;
  guint            n_accepted;
  guint            n_handshakes;
  guint            n_lines;          /* lines read from clients */
  char            *last_line;
} TestServer;

typedef struct
{
  TestServer *server;
  GIOStream  *stream;
  gboolean    tls;
  GString    *line;
  guint8      byte;
} ServerClient;

static void server_client_read (ServerClient *client);
static void server_client_start_tls (ServerClient *client);

static void
server_client_free (ServerClient *client)
{
  g_clear_object (&client->stream);
  g_string_free (client->line, TRUE);
  g_free (client);
}

static void
server_write_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GBytes) bytes = user_data;

  /* A client that went away is fine for the server. */
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
}

static void
server_client_write (ServerClient *client,
                     const char   *text)
{
  GBytes *bytes = g_bytes_new (text, strlen (text));

  g_output_stream_write_all_async (g_io_stream_get_output_stream (client->stream),
                                   g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   G_PRIORITY_DEFAULT, client->server->cancellable,
                                   server_write_cb, bytes);
}

static void
server_client_line (ServerClient *client,
                    const char   *line)
{
  TestServer *server = client->server;
  g_autofree char *reply = NULL;

  server->n_lines++;
  g_free (server->last_line);
  server->last_line = g_strdup (line);

  if (server->mode == SERVER_STARTTLS && !client->tls && strcmp (line, "STARTTLS") == 0)
    {
      server_client_write (client, "OK begin\r\n");
      server_client_start_tls (client);
      return;
    }

  reply = g_strdup_printf ("echo %s\r\n", line);
  server_client_write (client, reply);
  server_client_read (client);
}

static void
server_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  ServerClient *client = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (n <= 0)
    {
      server_client_free (client);
      return;
    }

  if (client->byte == '\n')
    {
      if (client->line->len > 0 && client->line->str[client->line->len - 1] == '\r')
        g_string_truncate (client->line, client->line->len - 1);
      server_client_line (client, client->line->str);
      g_string_truncate (client->line, 0);
      return;
    }
  g_string_append_c (client->line, (char) client->byte);
  server_client_read (client);
}

/* One byte at a time, so that nothing is read ahead of a STARTTLS. */
static void
server_client_read (ServerClient *client)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (client->stream), &client->byte, 1,
                             G_PRIORITY_DEFAULT, client->server->cancellable,
                             server_read_cb, client);
}

static void
server_handshake_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  ServerClient *client = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error))
    {
      g_test_message ("server: handshake failed: %s", error->message);
      server_client_free (client);
      return;
    }

  client->server->n_handshakes++;
  if (client->server->mode == SERVER_TLS_SILENT)
    {
      server_client_read (client);
      return;
    }
  server_client_write (client, "* OK hello over TLS\r\n");
  server_client_read (client);
}

static void
server_client_start_tls (ServerClient *client)
{
  g_autoptr(GError) error = NULL;
  GIOStream *tls;

  tls = g_tls_server_connection_new (client->stream, client->server->certificate, &error);
  g_assert_no_error (error);
  g_ptr_array_add (client->server->streams, g_object_ref (tls));
  g_set_object (&client->stream, tls);
  g_object_unref (tls);
  client->tls = TRUE;
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    client->server->cancellable, server_handshake_cb, client);
}

static void
server_accept_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  TestServer *server = user_data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  ServerClient *client;

  connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result, NULL, &error);
  if (connection == NULL)
    return;   /* the listener was closed */

  server->n_accepted++;
  g_ptr_array_add (server->streams, g_object_ref (connection));

  client = g_new0 (ServerClient, 1);
  client->server = server;
  client->stream = G_IO_STREAM (g_object_ref (connection));
  client->line = g_string_new (NULL);

  switch (server->mode)
    {
    case SERVER_TLS:
    case SERVER_TLS_SILENT:
      server_client_start_tls (client);
      break;
    case SERVER_STARTTLS:
      server_client_write (client, "* OK plain hello\r\n");
      server_client_read (client);
      break;
    case SERVER_PLAIN:
      server_client_write (client, "* OK plain hello\r\n");
      server_client_read (client);
      break;
    case SERVER_SILENT:
    default:
      server_client_free (client);
      break;
    }

  g_socket_listener_accept_async (server->listener, server->cancellable, server_accept_cb, server);
}

static GTlsCertificate *
load_certificate (const char *name)
{
  g_autofree char *cert_name = g_strdup_printf ("tls/%s-cert.pem", name);
  g_autofree char *key_name = g_strdup_printf ("tls/%s-key.pem", name);
  g_autofree char *cert_path = td_test_data_path (cert_name);
  g_autofree char *key_path = td_test_data_path (key_name);
  g_autoptr(GError) error = NULL;
  GTlsCertificate *cert = g_tls_certificate_new_from_files (cert_path, key_path, &error);

  g_assert_no_error (error);
  return cert;
}

static TestServer *
test_server_new (ServerMode  mode,
                 const char *cert_name)
{
  TestServer *server = g_new0 (TestServer, 1);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  server->mode = mode;
  server->streams = g_ptr_array_new_with_free_func (g_object_unref);
  server->cancellable = g_cancellable_new ();
  if (cert_name != NULL)
    server->certificate = load_certificate (cert_name);

  server->listener = g_socket_listener_new ();
  g_socket_listener_add_address (server->listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_assert_cmpuint (server->port, >, 0);

  g_socket_listener_accept_async (server->listener, server->cancellable, server_accept_cb, server);
  return server;
}

static void
test_server_free (TestServer *server)
{
  g_cancellable_cancel (server->cancellable);
  g_socket_listener_close (server->listener);
  for (guint i = 0; i < server->streams->len; i++)
    g_io_stream_close (g_ptr_array_index (server->streams, i), NULL, NULL);

  /* Let the cancelled callbacks run before the server goes. */
  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_ptr_array_unref (server->streams);
  g_clear_object (&server->listener);
  g_clear_object (&server->certificate);
  g_clear_object (&server->cancellable);
  g_free (server->last_line);
  g_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestServer, test_server_free)

/* --- Client helpers --- */

static gboolean
connect_connection (TdConnection  *connection,
                    GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_connection_connect_async (connection, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  return td_connection_connect_finish (connection, result, error);
}

static gboolean
start_tls (TdConnection  *connection,
           GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_connection_start_tls_async (connection, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  return td_connection_start_tls_finish (connection, result, error);
}

/* Reads one line (byte by byte) from the connection's input, without its line end. */
static char *
read_line (TdConnection  *connection,
           GError       **error)
{
  GString *line = g_string_new (NULL);

  for (;;)
    {
      g_autoptr(GAsyncResult) result = NULL;
      guint8 byte = 0;
      gssize n;

      g_input_stream_read_async (td_connection_get_input_stream (connection), &byte, 1,
                                 G_PRIORITY_DEFAULT, NULL, td_test_store_result, &result);
      td_test_wait_result (&result, WAIT_MS);
      n = g_input_stream_read_finish (td_connection_get_input_stream (connection), result, error);
      if (n < 0)
        {
          g_string_free (line, TRUE);
          return NULL;
        }
      if (n == 0 || byte == '\n')
        break;
      g_string_append_c (line, (char) byte);
    }

  if (line->len > 0 && line->str[line->len - 1] == '\r')
    g_string_truncate (line, line->len - 1);
  return g_string_free (line, FALSE);
}

static void
write_line (TdConnection *connection,
            const char   *line)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("%s\r\n", line);

  g_output_stream_write_all_async (td_connection_get_output_stream (connection),
                                   text, strlen (text), G_PRIORITY_DEFAULT, NULL,
                                   td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  g_output_stream_write_all_finish (td_connection_get_output_stream (connection), result,
                                    NULL, &error);
  g_assert_no_error (error);
}

/* Sends a line and checks that the server echoes it. */
static void
assert_echo (TdConnection *connection,
             const char   *line)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("echo %s", line);
  g_autofree char *reply = NULL;

  write_line (connection, line);
  reply = read_line (connection, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply, ==, expected);
}

/* The SHA-256 of the DER inside a PEM file, computed here without the TLS backend. */
static char *
fingerprint_of_pem (const char *name)
{
  g_autofree char *relative = g_strdup_printf ("tls/%s-cert.pem", name);
  g_autoptr(GBytes) pem = td_test_load_data (relative);
  g_autofree char *text = g_strndup (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem));
  const char *begin = strstr (text, "-----BEGIN CERTIFICATE-----");
  const char *end = strstr (text, "-----END CERTIFICATE-----");
  g_autofree char *body = NULL;
  g_autofree guchar *der = NULL;
  gsize der_len = 0;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *hex = NULL;
  GString *out = g_string_new (NULL);

  g_assert_nonnull (begin);
  g_assert_nonnull (end);
  begin += strlen ("-----BEGIN CERTIFICATE-----");
  body = g_strndup (begin, (gsize) (end - begin));
  der = g_base64_decode (body, &der_len);
  g_assert_cmpuint (der_len, >, 100);

  g_checksum_update (checksum, der, der_len);
  hex = g_ascii_strup (g_checksum_get_string (checksum), -1);
  for (gsize i = 0; hex[i] != '\0'; i += 2)
    g_string_append_printf (out, "%s%c%c", i == 0 ? "" : ":", hex[i], hex[i + 1]);
  return g_string_free (out, FALSE);
}

/* --- Tests --- */

static void
test_fingerprint_normalize (void)
{
  static const struct
  {
    const char *input;
    const char *expected;
  } cases[] = {
    { LOCALHOST_FINGERPRINT, LOCALHOST_FINGERPRINT },
    { "ca:4a:8a:04:93:af:9a:3c:ff:7c:e0:0b:5d:a6:2f:db:"
      "fd:a7:86:4e:b7:41:4b:7b:c8:46:d6:0b:a5:a2:d1:f6", LOCALHOST_FINGERPRINT },
    { "CA4A8A0493AF9A3CFF7CE00B5DA62FDBFDA7864EB7414B7BC846D60BA5A2D1F6", LOCALHOST_FINGERPRINT },
    { "ca4a 8a04 93af 9a3c ff7c e00b 5da6 2fdb fda7 864e b741 4b7b c846 d60b a5a2 d1f6",
      LOCALHOST_FINGERPRINT },
    { "  CA 4A 8A 04 93 AF 9A 3C FF 7C E0 0B 5D A6 2F DB FD A7 86 4E B7 41 4B 7B C8 46 D6 0B A5 "
      "A2 D1 F6\n", LOCALHOST_FINGERPRINT },
    { "", NULL },
    { "CA:4A", NULL },                                          /* too short */
    { LOCALHOST_FINGERPRINT ":00", NULL },                      /* too long */
    { "CA4A8A0493AF9A3CFF7CE00B5DA62FDBFDA7864EB7414B7BC846D60BA5A2D1F", NULL },  /* odd */
    { "ZZ4A8A0493AF9A3CFF7CE00B5DA62FDBFDA7864EB7414B7BC846D60BA5A2D1F6", NULL },  /* not hex */
    { "SHA256:CA4A8A0493AF9A3CFF7CE00B5DA62FDBFDA7864EB7414B7BC846D60BA5A2D1F6", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *normalized = td_fingerprint_normalize (cases[i].input);

      g_assert_cmpstr (normalized, ==, cases[i].expected);
    }
  g_assert_null (td_fingerprint_normalize (NULL));
}

static void
test_fingerprint_of_pem (void)
{
  /* The helper the tests trust agrees with openssl. */
  g_autofree char *localhost = fingerprint_of_pem ("localhost");
  g_autofree char *second = fingerprint_of_pem ("second");

  g_assert_cmpstr (localhost, ==, LOCALHOST_FINGERPRINT);
  g_assert_cmpstr (second, ==, SECOND_FINGERPRINT);
}

static void
test_certificate_info (void)
{
  g_autoptr(GTlsCertificate) cert = load_certificate ("expired");
  g_autoptr(TdCertificateInfo) info = NULL;
  g_autoptr(TdCertificateInfo) copy = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = fingerprint_of_pem ("expired");

  info = td_certificate_info_new_from_certificate (cert, G_TLS_CERTIFICATE_UNKNOWN_CA |
                                                         G_TLS_CERTIFICATE_EXPIRED);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->fingerprint, ==, expected);
  g_assert_cmpstr (info->fingerprint, ==, EXPIRED_FINGERPRINT);
  g_assert_nonnull (strstr (info->subject, "localhost"));
  g_assert_nonnull (strstr (info->issuer, "localhost"));
  g_assert_nonnull (info->not_before);
  g_assert_nonnull (info->not_after);
  g_assert_cmpint (g_date_time_get_year (info->not_before), ==, 2000);
  g_assert_cmpint (g_date_time_get_year (info->not_after), ==, 2001);

  copy = td_certificate_info_copy (info);
  g_assert_cmpstr (copy->fingerprint, ==, info->fingerprint);
  g_assert_cmpstr (copy->subject, ==, info->subject);
  g_assert_true (g_date_time_equal (copy->not_after, info->not_after));
  g_assert_cmpuint (copy->errors, ==, info->errors);

  text = td_certificate_info_to_string (info);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, EXPIRED_FINGERPRINT));
  g_assert_nonnull (strstr (text, "localhost"));
  g_assert_nonnull (strstr (text, "2000-01-01"));
  g_assert_nonnull (strstr (text, "2001-01-01"));
  g_assert_nonnull (strstr (text, "self-signed"));
  g_assert_nonnull (strstr (text, "expired"));
  g_assert_cmpuint (td_certificate_info_get_type (), !=, G_TYPE_INVALID);
}

static void
test_self_signed_refused (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_TLS, "localhost");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = fingerprint_of_pem ("localhost");
  const TdCertificateInfo *info;

  g_assert_false (connect_connection (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CERTIFICATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "localhost"));
  g_assert_nonnull (strstr (error->message, LOCALHOST_FINGERPRINT));
  g_assert_nonnull (strstr (error->message, "self-signed"));

  info = td_connection_get_certificate_info (connection);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->fingerprint, ==, expected);
  g_assert_nonnull (strstr (info->subject, "localhost"));
  g_assert_true (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_assert_false (info->errors & G_TLS_CERTIFICATE_BAD_IDENTITY);
  g_assert_nonnull (info->not_before);
  g_assert_nonnull (info->not_after);
  g_assert_cmpint (g_date_time_compare (info->not_before, info->not_after), <, 0);

  /* Nothing is left open, and nothing was said in plain text. */
  g_assert_false (td_connection_is_tls (connection));
  g_assert_null (td_connection_get_stream (connection));
  g_assert_null (td_connection_get_input_stream (connection));
  g_assert_cmpuint (server->n_handshakes, ==, 0);
  g_assert_cmpuint (server->n_lines, ==, 0);
}

static void
test_pinned_accepted (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_TLS, "localhost");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *greeting = NULL;
  const TdCertificateInfo *info;

  g_assert_cmpstr (td_connection_get_host (connection), ==, "localhost");
  g_assert_cmpuint (td_connection_get_port (connection), ==, server->port);
  g_assert_cmpint (td_connection_get_security (connection), ==, TD_SECURITY_TLS);
  g_assert_null (td_connection_get_stream (connection));

  /* Any spelling of the fingerprint pins it. */
  td_connection_set_pinned_fingerprint (connection,
    "ca4a8a0493af9a3cff7ce00b5da62fdbfda7864eb7414b7bc846d60ba5a2d1f6");
  g_assert_true (connect_connection (connection, &error));
  g_assert_no_error (error);
  g_assert_true (td_connection_is_tls (connection));
  g_assert_true (G_IS_TLS_CONNECTION (td_connection_get_stream (connection)));

  info = td_connection_get_certificate_info (connection);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->fingerprint, ==, LOCALHOST_FINGERPRINT);
  g_assert_true (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA);

  greeting = read_line (connection, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (greeting, ==, "* OK hello over TLS");
  assert_echo (connection, "a1 NOOP");
  assert_echo (connection, "a2 something longer than the first line");
  g_assert_cmpuint (server->n_handshakes, ==, 1);
  g_assert_cmpuint (server->n_lines, ==, 2);
  g_assert_cmpstr (server->last_line, ==, "a2 something longer than the first line");

  /* Connecting twice is a state error; the connection stays usable. */
  {
    g_autoptr(GError) again = NULL;

    g_assert_false (connect_connection (connection, &again));
    g_assert_error (again, TD_ERROR, TD_ERROR_WRONG_STATE);
    assert_echo (connection, "a3 still here");
  }

  td_connection_close (connection);
  td_connection_close (connection);
  g_assert_null (td_connection_get_stream (connection));
  g_assert_false (td_connection_is_tls (connection));
}

static void
test_wrong_pin_refused (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_TLS, "localhost");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;
  const TdCertificateInfo *info;

  /* The other certificate has the same names but another key. */
  td_connection_set_pinned_fingerprint (connection, SECOND_FINGERPRINT);
  g_assert_false (connect_connection (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CERTIFICATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, LOCALHOST_FINGERPRINT));
  g_assert_null (strstr (error->message, SECOND_FINGERPRINT));
  g_assert_nonnull (strstr (error->message, "pinned"));

  info = td_connection_get_certificate_info (connection);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->fingerprint, ==, LOCALHOST_FINGERPRINT);
  g_assert_null (td_connection_get_stream (connection));
  g_assert_cmpuint (server->n_handshakes, ==, 0);
}

static void
test_malformed_pin_pins_nothing (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_TLS, "localhost");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;

  /* A prefix of the right fingerprint must not match anything. */
  td_connection_set_pinned_fingerprint (connection, "CA:4A:8A:04");
  g_assert_false (connect_connection (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CERTIFICATE);
}

static void
test_hostname_mismatch (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_TLS, "otherhost");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;
  const TdCertificateInfo *info;

  g_assert_false (connect_connection (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CERTIFICATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "another host"));

  info = td_connection_get_certificate_info (connection);
  g_assert_nonnull (info);
  g_assert_true (info->errors & G_TLS_CERTIFICATE_BAD_IDENTITY);
  g_assert_cmpstr (info->fingerprint, ==, OTHERHOST_FINGERPRINT);
  g_assert_nonnull (strstr (info->subject, "mail.example.org"));

  /* Pinned, the user has accepted exactly this certificate for this account. */
  {
    g_autoptr(TdConnection) pinned = td_connection_new ("localhost", server->port,
                                                        TD_SECURITY_TLS);
    g_autoptr(GError) pinned_error = NULL;
    g_autofree char *greeting = NULL;

    td_connection_set_pinned_fingerprint (pinned, OTHERHOST_FINGERPRINT);
    g_assert_true (connect_connection (pinned, &pinned_error));
    g_assert_no_error (pinned_error);
    greeting = read_line (pinned, &pinned_error);
    g_assert_no_error (pinned_error);
    g_assert_cmpstr (greeting, ==, "* OK hello over TLS");
  }
}

static void
test_expired (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_TLS, "expired");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;
  const TdCertificateInfo *info;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  g_assert_false (connect_connection (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CERTIFICATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "expired"));
  g_assert_nonnull (strstr (error->message, EXPIRED_FINGERPRINT));

  info = td_connection_get_certificate_info (connection);
  g_assert_nonnull (info);
  g_assert_true (info->errors & G_TLS_CERTIFICATE_EXPIRED);
  g_assert_cmpint (g_date_time_compare (info->not_after, now), <, 0);
}

static void
test_starttls (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_STARTTLS, "localhost");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *tls_greeting = NULL;

  td_connection_set_pinned_fingerprint (connection, LOCALHOST_FINGERPRINT);
  g_assert_true (connect_connection (connection, &error));
  g_assert_no_error (error);
  g_assert_false (td_connection_is_tls (connection));
  g_assert_true (G_IS_SOCKET_CONNECTION (td_connection_get_stream (connection)));
  g_assert_null (td_connection_get_certificate_info (connection));

  greeting = read_line (connection, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (greeting, ==, "* OK plain hello");
  assert_echo (connection, "a1 CAPABILITY");

  write_line (connection, "STARTTLS");
  answer = read_line (connection, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (answer, ==, "OK begin");

  g_assert_true (start_tls (connection, &error));
  g_assert_no_error (error);
  g_assert_true (td_connection_is_tls (connection));
  g_assert_true (G_IS_TLS_CONNECTION (td_connection_get_stream (connection)));
  g_assert_nonnull (td_connection_get_certificate_info (connection));
  g_assert_cmpstr (td_connection_get_certificate_info (connection)->fingerprint, ==,
                   LOCALHOST_FINGERPRINT);

  tls_greeting = read_line (connection, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tls_greeting, ==, "* OK hello over TLS");
  assert_echo (connection, "a2 LOGIN over TLS now");
  g_assert_cmpuint (server->n_handshakes, ==, 1);

  /* Once is enough. */
  g_assert_false (start_tls (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  assert_echo (connection, "a3 still TLS");
}

static void
test_starttls_refused (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_STARTTLS, "localhost");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *answer = NULL;

  g_assert_true (connect_connection (connection, &error));
  greeting = read_line (connection, &error);
  g_assert_no_error (error);
  write_line (connection, "STARTTLS");
  answer = read_line (connection, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (answer, ==, "OK begin");

  g_assert_false (start_tls (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CERTIFICATE);
  g_assert_nonnull (td_connection_get_certificate_info (connection));
  g_assert_cmpstr (td_connection_get_certificate_info (connection)->fingerprint, ==,
                   LOCALHOST_FINGERPRINT);

  /* No plaintext fallback: the connection is gone. */
  g_assert_false (td_connection_is_tls (connection));
  g_assert_null (td_connection_get_stream (connection));
  g_assert_null (td_connection_get_output_stream (connection));
  g_clear_error (&error);
  g_assert_false (start_tls (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
}

static void
test_start_tls_before_connect (void)
{
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", 1, TD_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;

  g_assert_false (start_tls (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
}

static void
test_not_a_tls_server (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_PLAIN, NULL);
  g_autoptr(TdConnection) connection = td_connection_new ("127.0.0.1", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;

  td_connection_set_timeout (connection, 5);
  g_assert_false (connect_connection (connection, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_null (td_connection_get_certificate_info (connection));
  g_assert_null (td_connection_get_stream (connection));
}

static guint16
unused_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_socket_listener_close (listener);
  return port;
}

static void
test_connection_refused (void)
{
  guint16 port = unused_port ();
  g_autoptr(TdConnection) connection = td_connection_new ("127.0.0.1", port, TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *where = g_strdup_printf ("Could not connect to 127.0.0.1:%u", port);

  g_assert_false (connect_connection (connection, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_true (g_str_has_prefix (error->message, where));
  g_assert_null (td_connection_get_stream (connection));

  /* A failed connection can be tried again. */
  g_clear_error (&error);
  g_assert_false (connect_connection (connection, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
}

static void
test_unknown_host (void)
{
  g_autoptr(TdConnection) connection = td_connection_new ("no-such-host.invalid", 993,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;

  g_assert_false (connect_connection (connection, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_true (g_str_has_prefix (error->message,
                                   "Could not connect to no-such-host.invalid:993"));
}

static void
test_handshake_timeout (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_SILENT, NULL);
  g_autoptr(TdConnection) connection = td_connection_new ("127.0.0.1", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;

  td_connection_set_timeout (connection, 1);
  start = g_get_monotonic_time ();
  g_assert_false (connect_connection (connection, &error));
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("%s after %" G_GINT64_FORMAT " ms", error->message, elapsed / 1000);
  g_assert_error (error, TD_ERROR, TD_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed, >=, 900 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (elapsed, <, 30 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (server->n_accepted, ==, 1);
  g_assert_null (td_connection_get_stream (connection));
}

/* An async read on a connection that hears nothing fails with G_IO_ERROR_TIMED_OUT after
 * the timeout, which the protocols translate into TD_ERROR_TIMEOUT. */
static void
assert_read_times_out (TdConnection *connection)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GError *translated;
  guint8 buffer[16];
  gint64 start, elapsed;

  start = g_get_monotonic_time ();
  g_input_stream_read_async (td_connection_get_input_stream (connection), buffer,
                             sizeof buffer, G_PRIORITY_DEFAULT, NULL, td_test_store_result,
                             &result);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_cmpint (g_input_stream_read_finish (td_connection_get_input_stream (connection),
                                               result, &error), ==, -1);
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("%s after %" G_GINT64_FORMAT " ms", error->message, elapsed / 1000);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (elapsed, >=, 900 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (elapsed, <, 30 * G_TIME_SPAN_SECOND);

  translated = td_connection_translate_error (connection, g_steal_pointer (&error));
  g_assert_error (translated, TD_ERROR, TD_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (translated->message, td_connection_get_host (connection)));
  g_error_free (translated);
}

static void
test_read_timeout_plain (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_SILENT, NULL);
  g_autoptr(TdConnection) connection = td_connection_new ("127.0.0.1", server->port,
                                                          TD_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;

  td_connection_set_timeout (connection, 1);
  g_assert_true (connect_connection (connection, &error));
  g_assert_no_error (error);
  assert_read_times_out (connection);
}

static void
test_read_timeout_tls (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_TLS_SILENT, "localhost");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;

  td_connection_set_pinned_fingerprint (connection, LOCALHOST_FINGERPRINT);
  g_assert_true (connect_connection (connection, &error));
  g_assert_no_error (error);
  /* Changed while connected, as a session does around IDLE. */
  td_connection_set_timeout (connection, 1);
  assert_read_times_out (connection);
}

static void
test_translate_error (void)
{
  g_autoptr(TdConnection) connection = td_connection_new ("mail.example.org", 993,
                                                          TD_SECURITY_TLS);
  GError *error;

  error = td_connection_translate_error (connection,
                                         g_error_new_literal (G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                                                              "Broken pipe"));
  g_assert_error (error, TD_ERROR, TD_ERROR_CONNECTION);
  g_assert_nonnull (strstr (error->message, "mail.example.org:993"));
  g_assert_nonnull (strstr (error->message, "Broken pipe"));
  g_error_free (error);

  error = td_connection_translate_error (connection,
                                         g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                              "Cancelled"));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_error_free (error);

  error = td_connection_translate_error (connection,
                                         g_error_new_literal (TD_ERROR, TD_ERROR_PARSE, "bad"));
  g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  g_error_free (error);
}

static void
test_close_with_pending_read (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_TLS_SILENT, "localhost");
  g_autoptr(TdConnection) connection = td_connection_new ("localhost", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GInputStream) input = NULL;
  guint8 buffer[16];
  gint64 start;

  td_connection_set_pinned_fingerprint (connection, LOCALHOST_FINGERPRINT);
  g_assert_true (connect_connection (connection, &error));
  input = g_object_ref (td_connection_get_input_stream (connection));
  g_input_stream_read_async (input, buffer, sizeof buffer, G_PRIORITY_DEFAULT, NULL,
                             td_test_store_result, &result);

  /* Returns at once; the pending read ends instead of hanging until the timeout. */
  start = g_get_monotonic_time ();
  td_connection_close (connection);
  g_assert_null (td_connection_get_stream (connection));
  td_test_wait_result (&result, WAIT_MS);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_TIME_SPAN_SECOND);
  g_assert_cmpint (g_input_stream_read_finish (input, result, &error), <=, 0);
  if (error != NULL)
    g_test_message ("pending read: %s", error->message);
}

static void
test_close_while_connecting (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_SILENT, NULL);
  g_autoptr(TdConnection) connection = td_connection_new ("127.0.0.1", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_connection_connect_async (connection, NULL, td_test_store_result, &result);
  /* Let it get into the handshake, then give up on it. */
  while (server->n_accepted == 0)
    g_main_context_iteration (NULL, TRUE);
  td_connection_close (connection);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_false (td_connection_connect_finish (connection, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (td_connection_get_stream (connection));
}

static void
test_cancel (void)
{
  g_autoptr(TestServer) server = test_server_new (SERVER_SILENT, NULL);
  g_autoptr(TdConnection) connection = td_connection_new ("127.0.0.1", server->port,
                                                          TD_SECURITY_TLS);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_connection_connect_async (connection, cancellable, td_test_store_result, &result);
  while (server->n_accepted == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_false (td_connection_connect_finish (connection, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (td_connection_get_stream (connection));
}

int
main (int   argc,
      char *argv[])
{
  /* The isolated XDG_DATA_DIRS of a test hold no GSettings schemas, which GIO's GNOME proxy
   * resolver needs; a test has no proxy anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  td_test_init (&argc, &argv);

  g_test_add_func ("/net/fingerprint/normalize", test_fingerprint_normalize);
  g_test_add_func ("/net/fingerprint/of-pem", test_fingerprint_of_pem);
  g_test_add_func ("/net/certificate/info", test_certificate_info);
  g_test_add_func ("/net/connection/self-signed-refused", test_self_signed_refused);
  g_test_add_func ("/net/connection/pinned-accepted", test_pinned_accepted);
  g_test_add_func ("/net/connection/wrong-pin-refused", test_wrong_pin_refused);
  g_test_add_func ("/net/connection/malformed-pin", test_malformed_pin_pins_nothing);
  g_test_add_func ("/net/connection/hostname-mismatch", test_hostname_mismatch);
  g_test_add_func ("/net/connection/expired", test_expired);
  g_test_add_func ("/net/connection/starttls", test_starttls);
  g_test_add_func ("/net/connection/starttls-refused", test_starttls_refused);
  g_test_add_func ("/net/connection/start-tls-before-connect", test_start_tls_before_connect);
  g_test_add_func ("/net/connection/not-a-tls-server", test_not_a_tls_server);
  g_test_add_func ("/net/connection/refused", test_connection_refused);
  g_test_add_func ("/net/connection/unknown-host", test_unknown_host);
  g_test_add_func ("/net/connection/handshake-timeout", test_handshake_timeout);
  g_test_add_func ("/net/connection/read-timeout-plain", test_read_timeout_plain);
  g_test_add_func ("/net/connection/read-timeout-tls", test_read_timeout_tls);
  g_test_add_func ("/net/connection/translate-error", test_translate_error);
  g_test_add_func ("/net/connection/close-pending-read", test_close_with_pending_read);
  g_test_add_func ("/net/connection/close-while-connecting", test_close_while_connecting);
  g_test_add_func ("/net/connection/cancel", test_cancel);

  return g_test_run ();
}
