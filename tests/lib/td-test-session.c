/* td-test-session.c: the harness of the protocol session units
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-session.h"

void
td_test_slot_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  TdTestSlot *slot = user_data;

  g_assert_null (slot->result);
  slot->result = g_object_ref (result);
  g_main_loop_quit (slot->loop);
}

GAsyncResult *
td_test_slot_wait (TdTestSlot *slot)
{
  while (slot->result == NULL)
    g_main_loop_run (slot->loop);
  return g_steal_pointer (&slot->result);
}

static gboolean
watchdog_cb (gpointer user_data)
{
  g_error ("test timed out after %u s", GPOINTER_TO_UINT (user_data));
  return G_SOURCE_REMOVE;
}

guint
td_test_watchdog_add (guint seconds)
{
  return g_timeout_add_seconds (seconds, watchdog_cb, GUINT_TO_POINTER (seconds));
}

void
td_test_closed_cb (GObject      *session,
                   const GError *error,
                   gpointer      user_data)
{
  TdTestClosed *closed = user_data;

  closed->count++;
  closed->with_error = error != NULL;
  g_clear_error (&closed->error);
  if (error != NULL)
    closed->error = g_error_copy (error);
}

void
td_test_closed_clear (TdTestClosed *closed)
{
  g_clear_error (&closed->error);
}

void
td_test_script_server_finish (TdTestScriptServer *server)
{
  td_test_script_server_wait_finished (server, 5000);
  td_test_script_server_assert_finished (server);
  td_test_script_server_free (server);
}
