/* td-test-script-server.c: a scripted in-process server for protocol session unit tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-script-server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "td-test-util.h"

#define BYTE_PAUSE_MS 2

typedef enum
{
  LINE_SEND,          /* S: */
  LINE_SEND_RAW,      /* S+ */
  LINE_SEND_BYTES,    /* S1 */
  LINE_CLOSE,         /* S! close */
  LINE_PAUSE,         /* S! pause N */
  LINE_EXPECT,        /* C: */
  LINE_EXPECT_GLOB,   /* C~ */
  LINE_EXPECT_CLOSE,  /* C! close */
} LineKind;

typedef struct
{
  LineKind  kind;
  guint     number;     /* in the script, from 1 */
  char     *text;       /* what to send (with CRLF for S:) or to expect */
  gsize     len;
  guint     pause_ms;
} Line;

struct _TdTestScriptServer
{
  gint               ref_count;
  gboolean           dead;           /* freed by the test; late callbacks just unref */

  GSocketListener   *listener;
  guint16            port;
  GCancellable      *cancellable;
  GSocketConnection *connection;
  GIOStream         *stream;         /* the connection, or the TLS connection over it */
  GTlsCertificate   *certificate;    /* implicit TLS with this, or NULL */

  GPtrArray         *lines;          /* Line* */
  guint              pos;
  gboolean           busy;           /* a write or a pause is under way */
  gsize              byte_pos;       /* S1: the next byte */
  guint              timeout_id;

  GByteArray        *inbuf;          /* received, not matched yet */
  GByteArray        *received;       /* everything received, NUL-terminated */
  gboolean           reading;
  gboolean           client_eof;
  gboolean           closed;
  gboolean           finished;
  char              *error;

  guint8             readbuf[16 * 1024];
};

static void step (TdTestScriptServer *self);

static void
line_free (gpointer data)
{
  Line *line = data;

  g_free (line->text);
  g_free (line);
}

static TdTestScriptServer *
server_ref (TdTestScriptServer *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void
server_unref (TdTestScriptServer *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_clear_object (&self->stream);
  g_clear_object (&self->connection);
  g_clear_object (&self->certificate);
  g_clear_object (&self->listener);
  g_clear_object (&self->cancellable);
  g_ptr_array_unref (self->lines);
  g_byte_array_unref (self->inbuf);
  g_byte_array_unref (self->received);
  g_free (self->error);
  g_free (self);
}

/* ------------------------------------------------------------------------------------------ */

static GPtrArray *
parse_script (const char *script)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (line_free);
  g_auto(GStrv) rows = g_strsplit (script, "\n", -1);

  for (guint i = 0; rows[i] != NULL; i++)
    {
      char *row = rows[i];
      gsize len = strlen (row);
      const char *arg;
      Line *line;

      if (len > 0 && row[len - 1] == '\r')
        row[--len] = '\0';
      if (len == 0 || row[0] == '#')
        continue;
      if (len < 2 || (len > 2 && row[2] != ' '))
        g_error ("script line %u: cannot read \"%s\"", i + 1, row);
      arg = len > 2 ? row + 3 : "";

      line = g_new0 (Line, 1);
      line->number = i + 1;
      if (strncmp (row, "S:", 2) == 0)
        {
          line->kind = LINE_SEND;
          line->text = g_strconcat (arg, "\r\n", NULL);
        }
      else if (strncmp (row, "S+", 2) == 0)
        {
          line->kind = LINE_SEND_RAW;
          line->text = g_strcompress (arg);
        }
      else if (strncmp (row, "S1", 2) == 0)
        {
          line->kind = LINE_SEND_BYTES;
          line->text = g_strcompress (arg);
        }
      else if (strcmp (row, "S! close") == 0)
        line->kind = LINE_CLOSE;
      else if (strncmp (row, "S! pause ", 9) == 0)
        {
          line->kind = LINE_PAUSE;
          line->pause_ms = (guint) g_ascii_strtoull (row + 9, NULL, 10);
        }
      else if (strncmp (row, "C:", 2) == 0)
        {
          line->kind = LINE_EXPECT;
          line->text = g_strdup (arg);
        }
      else if (strncmp (row, "C~", 2) == 0)
        {
          line->kind = LINE_EXPECT_GLOB;
          line->text = g_strdup (arg);
        }
      else if (strcmp (row, "C! close") == 0)
        line->kind = LINE_EXPECT_CLOSE;
      else
        g_error ("script line %u: unknown directive \"%s\"", i + 1, row);

      line->len = line->text != NULL ? strlen (line->text) : 0;
      g_ptr_array_add (lines, line);
    }
  return lines;
}

/* ------------------------------------------------------------------------------------------ */

static void
close_connection (TdTestScriptServer *self)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  g_cancellable_cancel (self->cancellable);
  if (self->stream != NULL)
    g_io_stream_close (self->stream, NULL, NULL);
  if (self->connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  if (self->listener != NULL)
    g_socket_listener_close (self->listener);
}

static void
fail (TdTestScriptServer *self,
      const Line         *line,
      const char         *format,
      ...) G_GNUC_PRINTF (3, 4);

static void
fail (TdTestScriptServer *self,
      const Line         *line,
      const char         *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  if (self->error != NULL)
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (line != NULL)
    self->error = g_strdup_printf ("script server, line %u: %s", line->number, message);
  else
    self->error = g_strdup_printf ("script server: %s", message);
  g_test_message ("%s", self->error);
  g_printerr ("%s\n", self->error);
  g_test_fail ();
  self->finished = TRUE;
  close_connection (self);
}

/* The next complete line the client sent (without its line end), or NULL. */
static char *
take_line (TdTestScriptServer *self)
{
  guint8 *lf;
  gsize n, len;
  char *line;

  if (self->inbuf->len == 0)
    return NULL;
  lf = memchr (self->inbuf->data, '\n', self->inbuf->len);
  if (lf == NULL)
    return NULL;
  n = (gsize) (lf - self->inbuf->data) + 1;
  len = n - 1;
  if (len > 0 && self->inbuf->data[len - 1] == '\r')
    len--;
  line = g_strndup ((const char *) self->inbuf->data, len);
  g_byte_array_remove_range (self->inbuf, 0, (guint) n);
  return line;
}

static void
on_write_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  TdTestScriptServer *self = user_data;
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);
  if (!self->dead && !self->closed)
    {
      Line *line = g_ptr_array_index (self->lines, self->pos);

      if (error != NULL)
        fail (self, line, "could not send: %s", error->message);
      else if (line->kind == LINE_SEND_BYTES && ++self->byte_pos < line->len)
        {
          /* step() sends the next byte after a pause */
        }
      else
        {
          self->pos++;
          self->byte_pos = 0;
        }
      self->busy = FALSE;
      step (self);
    }
  server_unref (self);
}

static gboolean
on_pause_done (gpointer user_data)
{
  TdTestScriptServer *self = user_data;

  self->timeout_id = 0;
  self->busy = FALSE;
  self->pos++;
  step (self);
  return G_SOURCE_REMOVE;
}

static void
send_bytes (TdTestScriptServer *self,
            const char         *data,
            gsize               len)
{
  GOutputStream *output = g_io_stream_get_output_stream (self->stream);

  self->busy = TRUE;
  g_output_stream_write_all_async (output, data, len, G_PRIORITY_DEFAULT, self->cancellable,
                                   on_write_done, server_ref (self));
}

static gboolean
on_byte_pause_done (gpointer user_data)
{
  TdTestScriptServer *self = user_data;
  Line *line = g_ptr_array_index (self->lines, self->pos);

  self->timeout_id = 0;
  send_bytes (self, line->text + self->byte_pos, 1);
  return G_SOURCE_REMOVE;
}

static void start_reading (TdTestScriptServer *self);

static void
step (TdTestScriptServer *self)
{
  while (!self->busy && !self->finished)
    {
      Line *line;

      if (self->pos >= self->lines->len)
        {
          self->finished = TRUE;
          break;
        }
      line = g_ptr_array_index (self->lines, self->pos);

      switch (line->kind)
        {
        case LINE_SEND:
        case LINE_SEND_RAW:
          if (self->closed)
            {
              fail (self, line, "cannot send after the connection was closed");
              return;
            }
          send_bytes (self, line->text, line->len);
          return;

        case LINE_SEND_BYTES:
          if (self->closed)
            {
              fail (self, line, "cannot send after the connection was closed");
              return;
            }
          if (line->len == 0)
            {
              self->pos++;
              break;
            }
          if (self->byte_pos == 0)
            send_bytes (self, line->text, 1);
          else
            {
              self->busy = TRUE;
              self->timeout_id = g_timeout_add (BYTE_PAUSE_MS, on_byte_pause_done, self);
            }
          return;

        case LINE_CLOSE:
          close_connection (self);
          self->pos++;
          break;

        case LINE_PAUSE:
          self->busy = TRUE;
          self->timeout_id = g_timeout_add (line->pause_ms, on_pause_done, self);
          return;

        case LINE_EXPECT:
        case LINE_EXPECT_GLOB:
          {
            g_autofree char *got = take_line (self);

            if (got == NULL)
              {
                if (self->client_eof || self->closed)
                  fail (self, line, "expected \"%s\", but the client closed the connection",
                        line->text);
                return;                 /* more input will call step() */
              }
            if (line->kind == LINE_EXPECT ? strcmp (got, line->text) != 0
                                          : !g_pattern_match_simple (line->text, got))
              {
                fail (self, line, "expected \"%s\", got \"%s\"", line->text, got);
                return;
              }
            self->pos++;
          }
          break;

        case LINE_EXPECT_CLOSE:
          {
            g_autofree char *got = take_line (self);

            if (got != NULL)
              {
                fail (self, line, "expected the client to close, got \"%s\"", got);
                return;
              }
            if (!self->client_eof)
              return;
            self->pos++;
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }

  /* after the end: the client must not send more lines */
  if (self->finished && self->error == NULL && !self->closed)
    {
      g_autofree char *got = take_line (self);

      if (got != NULL)
        fail (self, NULL, "the script is over, but the client sent \"%s\"", got);
    }
}

static void
on_read_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  TdTestScriptServer *self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (self->dead)
    {
      server_unref (self);
      return;
    }
  self->reading = FALSE;

  if (n > 0)
    {
      g_byte_array_append (self->inbuf, self->readbuf, (guint) n);
      /* keep @received NUL-terminated */
      g_byte_array_set_size (self->received, self->received->len - 1);
      g_byte_array_append (self->received, self->readbuf, (guint) n);
      g_byte_array_append (self->received, (const guint8 *) "", 1);
      step (self);
      start_reading (self);
    }
  else if (!self->closed)
    {
      /* EOF, or the client reset the connection: both are the client closing */
      self->client_eof = TRUE;
      step (self);
    }
  server_unref (self);
}

static void
start_reading (TdTestScriptServer *self)
{
  GInputStream *input;

  if (self->reading || self->closed || self->client_eof || self->stream == NULL)
    return;
  input = g_io_stream_get_input_stream (self->stream);
  self->reading = TRUE;
  g_input_stream_read_async (input, self->readbuf, sizeof self->readbuf, G_PRIORITY_DEFAULT,
                             self->cancellable, on_read_done, server_ref (self));
}

static void
on_handshake_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  TdTestScriptServer *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error))
    {
      /* a client that refuses the certificate: its own test checks why */
      if (!self->dead && !self->closed)
        {
          self->client_eof = TRUE;
          step (self);
        }
    }
  else if (!self->dead && !self->closed)
    {
      start_reading (self);
      step (self);
    }
  server_unref (self);
}

static void
on_accepted (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  TdTestScriptServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection =
    g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result, NULL, &error);

  if (!self->dead && !self->closed)
    {
      if (connection == NULL)
        fail (self, NULL, "accepting the connection failed: %s", error->message);
      else
        {
          self->connection = g_steal_pointer (&connection);
          /* each script line goes out at once, not after the client's delayed ACK */
          g_socket_set_option (g_socket_connection_get_socket (self->connection), IPPROTO_TCP,
                               TCP_NODELAY, 1, NULL);
          /* one connection only */
          g_socket_listener_close (self->listener);
          if (self->certificate != NULL)
            {
              GIOStream *tls = g_tls_server_connection_new (G_IO_STREAM (self->connection),
                                                            self->certificate, &error);

              g_assert_no_error (error);
              self->stream = tls;
              g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                                self->cancellable, on_handshake_done,
                                                server_ref (self));
            }
          else
            {
              self->stream = g_object_ref (G_IO_STREAM (self->connection));
              start_reading (self);
              step (self);
            }
        }
    }
  server_unref (self);
}

/* ------------------------------------------------------------------------------------------ */

static TdTestScriptServer *
server_new (const char      *script,
            GTlsCertificate *certificate)
{
  TdTestScriptServer *self = g_new0 (TdTestScriptServer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (script);

  self->ref_count = 1;
  self->lines = parse_script (script);
  self->inbuf = g_byte_array_new ();
  self->received = g_byte_array_new ();
  g_byte_array_append (self->received, (const guint8 *) "", 1);
  self->cancellable = g_cancellable_new ();
  self->listener = g_socket_listener_new ();
  if (certificate != NULL)
    self->certificate = g_object_ref (certificate);

  g_socket_listener_add_address (self->listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));

  g_socket_listener_accept_async (self->listener, self->cancellable, on_accepted,
                                  server_ref (self));
  return self;
}

TdTestScriptServer *
td_test_script_server_new (const char *script)
{
  return server_new (script, NULL);
}

TdTestScriptServer *
td_test_script_server_new_tls (const char *script)
{
  g_autofree char *cert_path = td_test_data_path ("tls/localhost-cert.pem");
  g_autofree char *key_path = td_test_data_path ("tls/localhost-key.pem");
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate =
    g_tls_certificate_new_from_files (cert_path, key_path, &error);

  g_assert_no_error (error);
  return server_new (script, certificate);
}

TdTestScriptServer *
td_test_script_server_new_from_data (const char *relative)
{
  g_autoptr(GBytes) bytes = td_test_load_data (relative);
  g_autofree char *script = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  return td_test_script_server_new (script);
}

void
td_test_script_server_free (TdTestScriptServer *self)
{
  if (self == NULL)
    return;
  self->dead = TRUE;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  close_connection (self);
  server_unref (self);
}

guint16
td_test_script_server_get_port (TdTestScriptServer *self)
{
  return self->port;
}

GIOStream *
td_test_script_server_connect (TdTestScriptServer *self)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  g_socket_client_connect_to_host_async (client, "127.0.0.1",
                                         td_test_script_server_get_port (self), NULL,
                                         td_test_store_result, &result);
  connection = g_socket_client_connect_to_host_finish (client,
                                                       td_test_wait_result (&result, 20000),
                                                       &error);
  g_assert_no_error (error);
  return G_IO_STREAM (connection);
}

gboolean
td_test_script_server_is_finished (TdTestScriptServer *self)
{
  return self->finished;
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
td_test_script_server_wait_finished (TdTestScriptServer *self,
                                     guint               timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, on_wait_timeout, &timed_out);

  while (!self->finished && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    {
      const Line *line = self->pos < self->lines->len ? g_ptr_array_index (self->lines, self->pos)
                                                      : NULL;

      g_error ("script server: not finished after %u ms, waiting at script line %u", timeout_ms,
               line != NULL ? line->number : 0);
    }
  g_source_remove (id);
}

const char *
td_test_script_server_get_error (TdTestScriptServer *self)
{
  return self->error;
}

void
td_test_script_server_assert_finished (TdTestScriptServer *self)
{
  g_assert_cmpstr (self->error, ==, NULL);
  if (!self->finished)
    {
      const Line *line = g_ptr_array_index (self->lines, self->pos);

      g_error ("script server: the script stopped at line %u", line->number);
    }
}

const char *
td_test_script_server_get_received (TdTestScriptServer *self,
                                    gsize              *len)
{
  if (len != NULL)
    *len = self->received->len - 1;
  return (const char *) self->received->data;
}

gboolean
td_test_script_server_client_closed (TdTestScriptServer *self)
{
  return self->client_eof;
}
