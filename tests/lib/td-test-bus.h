/* td-test-bus.h: a private D-Bus message bus for one test
 *
 * A dbus-daemon of its own (a session-type bus that lets anyone own any name), listening on
 * a socket in a temporary directory, so a test can play a system service (logind, say) to the
 * code under test without touching the real buses. Stopped by its own PID in
 * td_test_bus_free(), and by the kernel when this process dies first.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TdTestBus TdTestBus;

/* NULL with @error when dbus-daemon is missing or does not start (tests must fail, not skip). */
TdTestBus       *td_test_bus_start       (GError    **error);
const char      *td_test_bus_get_address (TdTestBus  *self);
/* A new connection to the bus, registered (it has a unique name). */
GDBusConnection *td_test_bus_connect     (TdTestBus  *self,
                                          GError    **error);
/* Sends SIGTERM to the daemon and waits for it to exit. */
void             td_test_bus_free        (TdTestBus  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdTestBus, td_test_bus_free)

G_END_DECLS
