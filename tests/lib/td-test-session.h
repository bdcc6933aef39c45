/* td-test-session.h: the harness of the protocol session units
 *
 * What tests/unit/test-imap-session*.c and test-pop3-session.c share around a session that
 * talks to a TdTestScriptServer: a slot that one pending operation fills, a watchdog for a
 * test that hangs, what the session's "closed" signal said, and the end of the script.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-test-script-server.h"

G_BEGIN_DECLS

/* One pending operation: td_test_slot_done() (its callback) stores the result and quits
 * @loop; td_test_slot_wait() runs @loop until then and returns the result (a ref). */
typedef struct
{
  GMainLoop    *loop;
  GAsyncResult *result;
} TdTestSlot;

void          td_test_slot_done         (GObject      *source,
                                         GAsyncResult *result,
                                         gpointer      slot);
GAsyncResult *td_test_slot_wait         (TdTestSlot   *slot);

/* A timeout that fails the test after @seconds; remove it with g_source_remove(). */
guint         td_test_watchdog_add      (guint         seconds);

/* What a session's "closed" signal (session, const GError *error) reported: how often, and
 * the error of the last one (NULL for a clean close). */
typedef struct
{
  guint     count;
  gboolean  with_error;
  GError   *error;
} TdTestClosed;

/* The "closed" handler: connect it with a TdTestClosed as its data. */
void          td_test_closed_cb         (GObject      *session,
                                         const GError *error,
                                         gpointer      closed);
void          td_test_closed_clear      (TdTestClosed *closed);

/* Waits until every line of @server's script was played, asserts that nothing else was sent,
 * and frees @server. */
void          td_test_script_server_finish (TdTestScriptServer *server);

G_END_DECLS
