/* td-pop3-session-dele.c: deleting messages over POP3
 *
 * DELE, DELE of many messages (pipelined), and RSET, which undoes them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-pop3"

#include "config.h"

#include "td-pop3-session.h"
#include "td-pop3-session-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

/* ------------------------------------------------------------------------------------------ */
/* DELE */

static void dele_done (TdPop3Session     *self,
                       Command           *cmd,
                       const TdPop3Event *status);

static void
dele_message_done (Op           *op,
                   guint32       number,
                   const GError *error)
{
  if (error != NULL)
    g_array_append_val (op->refused, number);
}

static void
dele_batch_done (GTask *task)
{
  _td_pop3_session_task_return_pointer (task,
                                        g_steal_pointer (&_td_pop3_session_task_op (task)->refused),
                                        (GDestroyNotify) g_array_unref);
}

static const Batch dele_batch = {
  .kind = CMD_DELE,
  .verb = "DELE",
  .expect = TD_POP3_EXPECT_STATUS,
  .done = dele_done,
  .message_done = dele_message_done,
  .batch_done = dele_batch_done,
};

/* DELE and DELE many: each message ends here. */
static void
dele_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autofree char *what = g_strdup_printf (_("mark message %u as deleted"), cmd->number);

  _td_pop3_session_batch_answer (&dele_batch, cmd, status, what);
}

void
_td_pop3_session_handle_dele (TdPop3Session *self,
                              EventData     *data)
{
  _td_pop3_session_queue_batch (self, &dele_batch, data->task);
}

/* ------------------------------------------------------------------------------------------ */
/* RSET */

static void
rset_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  _td_pop3_session_boolean_done (cmd, status, _("undo the deletions"));
}

void
_td_pop3_session_handle_rset (TdPop3Session *self,
                              EventData     *data)
{
  _td_pop3_session_queue_line (self, CMD_RSET, TD_POP3_EXPECT_STATUS, rset_done, data->task,
                               "RSET");
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

void
td_pop3_session_dele_async (TdPop3Session       *self,
                            guint32              number,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (number > 0);

  _td_pop3_session_number_operation (self, EV_DELE, td_pop3_session_dele_async, number, cancellable,
                                     callback, user_data);
}

gboolean
td_pop3_session_dele_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_dele_many_async (TdPop3Session       *self,
                                 const guint32       *numbers,
                                 guint                n_numbers,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Op *op;

  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (numbers != NULL || n_numbers == 0);
  g_return_if_fail (_td_pop3_session_numbers_valid (numbers, n_numbers));

  task = _td_pop3_session_batch_task_new (self, td_pop3_session_dele_many_async, numbers,
                                          n_numbers, cancellable, callback, user_data);
  op = _td_pop3_session_task_op (task);
  op->refused = g_array_new (FALSE, FALSE, sizeof (guint32));
  _td_pop3_session_run_operation (self, EV_DELE, task);
}

GArray *
td_pop3_session_dele_many_finish (TdPop3Session  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_pop3_session_rset_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  _td_pop3_session_simple_operation (self, EV_RSET, td_pop3_session_rset_async, cancellable,
                                     callback, user_data);
}

gboolean
td_pop3_session_rset_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
