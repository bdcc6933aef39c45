/* td-test-network-monitor.h: a GNetworkMonitor that a test drives
 *
 * Reports the network as the test says and emits "network-changed" when told to, for code
 * that follows a monitor (td_imap_watch_set_network_monitor()). can_reach() always succeeds.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TD_TEST_TYPE_NETWORK_MONITOR (td_test_network_monitor_get_type ())

G_DECLARE_FINAL_TYPE (TdTestNetworkMonitor, td_test_network_monitor, TD_TEST, NETWORK_MONITOR,
                      GObject)

TdTestNetworkMonitor *td_test_network_monitor_new           (gboolean              available);
/* Sets "network-available" and emits "network-changed" (@available), as a monitor does when
 * the network goes away or comes back. */
void                  td_test_network_monitor_set_available (TdTestNetworkMonitor *self,
                                                             gboolean              available);
/* Emits "network-changed" without changing availability, as a monitor does when the
 * computer moves to another network (another Wi-Fi, a VPN, a cable plugged in). */
void                  td_test_network_monitor_changed       (TdTestNetworkMonitor *self);

G_END_DECLS
