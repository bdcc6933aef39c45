/* td-test-proxy.c: a loopback TCP proxy in the test process, to cut connections on purpose
 *
 * Each accepted connection gets a connection to 127.0.0.1:target (or to the next port pushed
 * with td_test_proxy_push_target(), and the connections are counted) and two pumps (client to
 * server, server to client) of async read + write_all on the thread-default main context of
 * whoever created the proxy. Bytes from the server are counted over all connections; once the
 * count reaches cut_after (when not 0), the proxy forwards nothing more from the server and
 * closes both sides of the connection that reached it (and of any later one, at its first
 * server byte, until cut_after is raised or set to 0).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-dovecot.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#define PUMP_BUFFER_SIZE (16 * 1024)

typedef struct _Pair Pair;

struct _TdTestProxy
{
  GSocketService *service;
  GSocketClient  *client;
  GPtrArray      *pairs;        /* of Pair, alive connections */
  guint16         port;
  guint16         target_port;
  guint64         cut_after;
  guint64         forwarded;
  guint           accepted;     /* connections, ever */
  gboolean        down;         /* td_test_proxy_set_down(): new connections are closed */
  GQueue          targets;      /* GUINT_TO_POINTER (port): for the next connections */
};

struct _Pair
{
  gatomicrefcount  ref_count;
  TdTestProxy     *proxy;       /* NULL once the proxy is gone */
  GSocketConnection *downstream; /* the client of the proxy */
  GSocketConnection *upstream;   /* the server */
  GCancellable    *cancellable;
  gboolean         closed;
};

typedef struct
{
  Pair          *pair;
  gboolean       from_server;
  GInputStream  *in;
  GOutputStream *out;
  guint8         buffer[PUMP_BUFFER_SIZE];
} Pump;

static Pair *
pair_ref (Pair *pair)
{
  g_atomic_ref_count_inc (&pair->ref_count);
  return pair;
}

static void
pair_unref (Pair *pair)
{
  if (g_atomic_ref_count_dec (&pair->ref_count))
    {
      g_clear_object (&pair->downstream);
      g_clear_object (&pair->upstream);
      g_clear_object (&pair->cancellable);
      g_free (pair);
    }
}

static void
pair_close (Pair *pair)
{
  if (pair->closed)
    return;
  pair->closed = TRUE;

  g_cancellable_cancel (pair->cancellable);
  if (pair->downstream != NULL)
    g_io_stream_close (G_IO_STREAM (pair->downstream), NULL, NULL);
  if (pair->upstream != NULL)
    g_io_stream_close (G_IO_STREAM (pair->upstream), NULL, NULL);

  if (pair->proxy != NULL)
    {
      TdTestProxy *proxy = pair->proxy;

      pair->proxy = NULL;
      if (g_ptr_array_remove (proxy->pairs, pair))
        pair_unref (pair);
    }
}

static void
pump_free (Pump *pump)
{
  pair_unref (pump->pair);
  g_free (pump);
}

static void pump_read (Pump *pump);

static void
pump_write_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Pump *pump = user_data;
  Pair *pair = pump->pair;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL) ||
      pair->closed || pair->proxy == NULL)
    {
      pair_close (pair);
      pump_free (pump);
      return;
    }

  if (pump->from_server)
    {
      TdTestProxy *proxy = pair->proxy;

      if (proxy->cut_after != 0 && proxy->forwarded >= proxy->cut_after)
        {
          pair_close (pair);
          pump_free (pump);
          return;
        }
    }

  pump_read (pump);
}

static void
pump_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Pump *pump = user_data;
  Pair *pair = pump->pair;
  gssize n;
  gsize to_write;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  if (n <= 0 || pair->closed || pair->proxy == NULL)
    {
      pair_close (pair);
      pump_free (pump);
      return;
    }

  to_write = (gsize) n;
  if (pump->from_server && pair->proxy->cut_after != 0)
    {
      TdTestProxy *proxy = pair->proxy;
      guint64 room = proxy->cut_after > proxy->forwarded ? proxy->cut_after - proxy->forwarded : 0;

      if (room == 0)
        {
          pair_close (pair);
          pump_free (pump);
          return;
        }
      to_write = MIN (to_write, room);
    }
  if (pump->from_server)
    pair->proxy->forwarded += to_write;

  g_output_stream_write_all_async (pump->out, pump->buffer, to_write, G_PRIORITY_DEFAULT,
                                   pair->cancellable, pump_write_cb, pump);
}

static void
pump_read (Pump *pump)
{
  g_input_stream_read_async (pump->in, pump->buffer, sizeof pump->buffer, G_PRIORITY_DEFAULT,
                             pump->pair->cancellable, pump_read_cb, pump);
}

static void
pump_start (Pair     *pair,
            gboolean  from_server)
{
  Pump *pump = g_new0 (Pump, 1);
  GIOStream *source = G_IO_STREAM (from_server ? pair->upstream : pair->downstream);
  GIOStream *sink = G_IO_STREAM (from_server ? pair->downstream : pair->upstream);

  pump->pair = pair_ref (pair);
  pump->from_server = from_server;
  pump->in = g_io_stream_get_input_stream (source);
  pump->out = g_io_stream_get_output_stream (sink);
  pump_read (pump);
}

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Pair *pair = user_data;
  g_autoptr(GError) error = NULL;
  GSocketConnection *upstream;

  upstream = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (upstream == NULL || pair->closed || pair->proxy == NULL)
    {
      if (upstream != NULL)
        {
          g_io_stream_close (G_IO_STREAM (upstream), NULL, NULL);
          g_object_unref (upstream);
        }
      pair_close (pair);
      pair_unref (pair);
      return;
    }

  pair->upstream = upstream;
  g_socket_set_option (g_socket_connection_get_socket (upstream), IPPROTO_TCP, TCP_NODELAY, 1,
                       NULL);
  pump_start (pair, FALSE);
  pump_start (pair, TRUE);
  pair_unref (pair);
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  TdTestProxy *self = user_data;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) target = NULL;
  guint16 port = self->target_port;
  Pair *pair;

  if (self->down)
    {
      /* like a network that is gone: the client sees its connection end at once */
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  pair = g_new0 (Pair, 1);
  if (!g_queue_is_empty (&self->targets))
    port = (guint16) GPOINTER_TO_UINT (g_queue_pop_head (&self->targets));
  target = g_inet_socket_address_new (loopback, port);
  self->accepted++;

  g_atomic_ref_count_init (&pair->ref_count);
  pair->proxy = self;
  pair->downstream = g_object_ref (connection);
  pair->cancellable = g_cancellable_new ();
  g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY, 1,
                       NULL);
  g_ptr_array_add (self->pairs, pair);  /* owns the first reference */

  g_socket_client_connect_async (self->client, G_SOCKET_CONNECTABLE (target), pair->cancellable,
                                 connect_cb, pair_ref (pair));
  return TRUE;
}

TdTestProxy *
td_test_proxy_new (guint16 target_port,
                   guint64 cut_after)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;
  TdTestProxy *self;

  g_return_val_if_fail (target_port != 0, NULL);

  self = g_new0 (TdTestProxy, 1);
  self->target_port = target_port;
  self->cut_after = cut_after;
  self->pairs = g_ptr_array_new ();
  self->client = g_socket_client_new ();
  g_socket_client_set_enable_proxy (self->client, FALSE);
  self->service = g_socket_service_new ();

  g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &effective, &error);
  g_assert_no_error (error);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));

  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_socket_service_start (self->service);
  return self;
}

guint16
td_test_proxy_get_port (TdTestProxy *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->port;
}

guint64
td_test_proxy_get_forwarded (TdTestProxy *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->forwarded;
}

guint
td_test_proxy_get_accepted (TdTestProxy *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->accepted;
}

guint
td_test_proxy_get_alive (TdTestProxy *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->pairs->len;
}

void
td_test_proxy_push_target (TdTestProxy *self,
                           guint16      target_port)
{
  g_return_if_fail (self != NULL && target_port != 0);
  g_queue_push_tail (&self->targets, GUINT_TO_POINTER (target_port));
}

void
td_test_proxy_set_cut_after (TdTestProxy *self,
                             guint64      cut_after)
{
  g_return_if_fail (self != NULL);
  self->cut_after = cut_after;
}

void
td_test_proxy_set_down (TdTestProxy *self,
                        gboolean     down)
{
  g_return_if_fail (self != NULL);
  self->down = down;
  while (down && self->pairs->len > 0)
    pair_close (g_ptr_array_index (self->pairs, self->pairs->len - 1));
}

void
td_test_proxy_free (TdTestProxy *self)
{
  if (self == NULL)
    return;

  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  g_signal_handlers_disconnect_by_data (self->service, self);

  /* Pending reads and writes still hold their pair; they see it closed and free it. */
  while (self->pairs->len > 0)
    pair_close (g_ptr_array_index (self->pairs, self->pairs->len - 1));

  g_ptr_array_unref (self->pairs);
  g_queue_clear (&self->targets);
  g_object_unref (self->client);
  g_object_unref (self->service);
  g_free (self);
}
