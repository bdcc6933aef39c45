/* td-test-network-monitor.c: a GNetworkMonitor that a test drives
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-network-monitor.h"

struct _TdTestNetworkMonitor
{
  GObject  parent_instance;
  gboolean available;
};

enum {
  PROP_0,
  PROP_NETWORK_AVAILABLE,
  PROP_NETWORK_METERED,
  PROP_CONNECTIVITY,
};

static void initable_iface_init (GInitableIface *iface);
static void monitor_iface_init  (GNetworkMonitorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TdTestNetworkMonitor, td_test_network_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR,
                                                      monitor_iface_init))

static gboolean
initable_init (GInitable     *initable,
               GCancellable  *cancellable,
               GError       **error)
{
  return TRUE;
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = initable_init;
}

static gboolean
can_reach (GNetworkMonitor     *monitor,
           GSocketConnectable  *connectable,
           GCancellable        *cancellable,
           GError             **error)
{
  return TRUE;
}

static void
monitor_iface_init (GNetworkMonitorInterface *iface)
{
  iface->can_reach = can_reach;
}

static void
td_test_network_monitor_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  TdTestNetworkMonitor *self = TD_TEST_NETWORK_MONITOR (object);

  switch (prop_id)
    {
    case PROP_NETWORK_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case PROP_NETWORK_METERED:
      g_value_set_boolean (value, FALSE);
      break;
    case PROP_CONNECTIVITY:
      g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL
                                               : G_NETWORK_CONNECTIVITY_LOCAL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_test_network_monitor_class_init (TdTestNetworkMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = td_test_network_monitor_get_property;
  g_object_class_override_property (object_class, PROP_NETWORK_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, PROP_NETWORK_METERED, "network-metered");
  g_object_class_override_property (object_class, PROP_CONNECTIVITY, "connectivity");
}

static void
td_test_network_monitor_init (TdTestNetworkMonitor *self)
{
}

TdTestNetworkMonitor *
td_test_network_monitor_new (gboolean available)
{
  TdTestNetworkMonitor *self = g_object_new (TD_TEST_TYPE_NETWORK_MONITOR, NULL);

  self->available = available;
  return self;
}

void
td_test_network_monitor_set_available (TdTestNetworkMonitor *self,
                                       gboolean              available)
{
  g_return_if_fail (TD_TEST_IS_NETWORK_MONITOR (self));

  if (self->available != available)
    {
      self->available = available;
      g_object_notify (G_OBJECT (self), "network-available");
      g_object_notify (G_OBJECT (self), "connectivity");
    }
  g_signal_emit_by_name (self, "network-changed", available);
}

void
td_test_network_monitor_changed (TdTestNetworkMonitor *self)
{
  g_return_if_fail (TD_TEST_IS_NETWORK_MONITOR (self));
  g_signal_emit_by_name (self, "network-changed", self->available);
}
