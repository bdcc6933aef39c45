/* td-pop3-session-retr.c: fetching messages over POP3
 *
 * TOP, RETR, and RETR of many messages, pipelined; every message is streamed to the caller as
 * it arrives.
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
/* TOP */

static void
top_done (TdPop3Session     *self,
          Command           *cmd,
          const TdPop3Event *status)
{
  g_autofree char *what = g_strdup_printf (_("send the start of message %u"), cmd->number);

  _td_pop3_session_boolean_done (cmd, status, what);
}

void
_td_pop3_session_handle_top (TdPop3Session *self,
                             EventData     *data)
{
  Op *op = _td_pop3_session_task_op (data->task);
  g_autofree char *line = g_strdup_printf ("TOP %u %u", op->number, op->lines);
  Command *cmd = _td_pop3_session_queue_line (self, CMD_TOP, TD_POP3_EXPECT_DATA, top_done,
                                              data->task, line);

  cmd->number = op->number;
}

/* ------------------------------------------------------------------------------------------ */
/* RETR */

static void retr_done (TdPop3Session     *self,
                       Command           *cmd,
                       const TdPop3Event *status);

static void
retr_message_done (Op           *op,
                   guint32       number,
                   const GError *error)
{
  if (op->message_func != NULL)
    op->message_func (number, error, op->func_data);
}

static void
retr_batch_done (GTask *task)
{
  _td_pop3_session_task_return_boolean (task, TRUE);
}

static const Batch retr_batch = {
  .kind = CMD_RETR,
  .verb = "RETR",
  .expect = TD_POP3_EXPECT_DATA,
  .done = retr_done,
  .message_done = retr_message_done,
  .batch_done = retr_batch_done,
};

/* RETR and RETR many: each message ends here. */
static void
retr_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autofree char *what = g_strdup_printf (_("send message %u"), cmd->number);

  _td_pop3_session_batch_answer (&retr_batch, cmd, status, what);
}

void
_td_pop3_session_handle_retr (TdPop3Session *self,
                              EventData     *data)
{
  _td_pop3_session_queue_batch (self, &retr_batch, data->task);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

/* The task of TOP or RETR of one message, streamed to @func. */
static GTask *
stream_task_new (TdPop3Session       *self,
                 gpointer             source_tag,
                 guint32              number,
                 TdPop3ChunkFunc      func,
                 gpointer             func_data,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = _td_pop3_session_op_task_new (self, source_tag, cancellable, callback, user_data);
  Op *op = _td_pop3_session_task_op (task);

  op->number = number;
  op->chunk_func = func;
  op->func_data = func_data;
  return task;
}

void
td_pop3_session_top_async (TdPop3Session       *self,
                           guint32              number,
                           guint                lines,
                           TdPop3ChunkFunc      func,
                           gpointer             func_data,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (number > 0);

  task = stream_task_new (self, td_pop3_session_top_async, number, func, func_data, cancellable,
                          callback, user_data);
  _td_pop3_session_task_op (task)->lines = lines;
  _td_pop3_session_run_operation (self, EV_TOP, task);
}

gboolean
td_pop3_session_top_finish (TdPop3Session  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_retr_async (TdPop3Session       *self,
                            guint32              number,
                            TdPop3ChunkFunc      func,
                            gpointer             func_data,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (number > 0);

  task = stream_task_new (self, td_pop3_session_retr_async, number, func, func_data, cancellable,
                          callback, user_data);
  _td_pop3_session_run_operation (self, EV_RETR, task);
}

gboolean
td_pop3_session_retr_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_retr_many_async (TdPop3Session       *self,
                                 const guint32       *numbers,
                                 guint                n_numbers,
                                 TdPop3ChunkFunc      chunk_func,
                                 TdPop3MessageFunc    message_func,
                                 gpointer             func_data,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Op *op;

  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (numbers != NULL || n_numbers == 0);
  g_return_if_fail (_td_pop3_session_numbers_valid (numbers, n_numbers));

  task = _td_pop3_session_batch_task_new (self, td_pop3_session_retr_many_async, numbers,
                                          n_numbers, cancellable, callback, user_data);
  op = _td_pop3_session_task_op (task);
  op->chunk_func = chunk_func;
  op->message_func = message_func;
  op->func_data = func_data;
  _td_pop3_session_run_operation (self, EV_RETR, task);
}

gboolean
td_pop3_session_retr_many_finish (TdPop3Session  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
