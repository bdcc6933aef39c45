/* td-imap-session-idle.c: waiting for news in an IMAP session
 *
 * IDLE (RFC 2177): "IDLE", the server's "+", then "DONE" once td_imap_session_idle_done() asks
 * for it; what the server reports meanwhile reaches the session as unsolicited responses
 * ("mailbox-changed"). NOOP, which gives the server a chance to report too. NOTIFY (RFC 5465),
 * after which changes in the other folders are reported as well.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-imap"

#include "config.h"

#include "td-imap-session.h"
#include "td-imap-session-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

/* ------------------------------------------------------------------------------------------ */
/* NOOP */

static void
noop_done (TdImapSession        *self,
           Command              *cmd,
           const TdImapResponse *tagged)
{
  _td_imap_session_boolean_done (self, cmd, tagged, _("check for news"));
}

void
_td_imap_session_handle_noop (TdImapSession *self,
                              EventData     *data)
{
  Command *cmd = _td_imap_session_command_new (self, CMD_NOOP, noop_done, data->task);

  _td_imap_session_command_append (cmd, "NOOP");
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* IDLE */

static void
idle_done (TdImapSession        *self,
           Command              *cmd,
           const TdImapResponse *tagged)
{
  if (self->state == ST_IDLE)
    self->state = ST_SELECTED;
  _td_imap_session_boolean_done (self, cmd, tagged, _("wait for news"));
}

void
_td_imap_session_handle_idle (TdImapSession *self,
                              EventData     *data)
{
  Command *cmd;

  if (!_td_imap_session_has_cap (self, "IDLE"))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The server cannot tell about new mail by itself; Tidings "
                                 "checks at intervals instead."));
      return;
    }
  /* two parts: "IDLE", then, after the "+" and td_imap_session_idle_done(), "DONE" */
  cmd = _td_imap_session_command_new (self, CMD_IDLE, idle_done, data->task);
  _td_imap_session_command_append (cmd, "IDLE");
  _td_imap_session_command_break (cmd);
  _td_imap_session_command_append (cmd, "DONE");
  _td_imap_session_command_end (cmd);
  self->state = ST_IDLE;
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* NOTIFY */

static void
notify_done (TdImapSession        *self,
             Command              *cmd,
             const TdImapResponse *tagged)
{
  if (tagged->status == TD_IMAP_STATUS_OK)
    self->notify = TRUE;
  _td_imap_session_boolean_done (self, cmd, tagged,
                                 _("ask to be told of changes in every folder"));
}

void
_td_imap_session_handle_notify (TdImapSession *self,
                                EventData     *data)
{
  Command *cmd;

  if (!_td_imap_session_has_cap (self, "NOTIFY"))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The server cannot tell about changes in other folders"));
      return;
    }
  /* RFC 5465: the selected folder as during IDLE; every other folder of the user as STATUS
   * (new and expunged messages, changed flags), and made, renamed or removed folders as LIST */
  cmd = _td_imap_session_command_new (self, CMD_NOTIFY, notify_done, data->task);
  _td_imap_session_command_append (cmd, "NOTIFY SET"
                                   " (selected (MessageNew MessageExpunge FlagChange))"
                                   " (personal (MessageNew MessageExpunge FlagChange MailboxName))");
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

void
td_imap_session_noop_async (TdImapSession       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  task = _td_imap_session_op_task_new (self, td_imap_session_noop_async, g_new0 (OpArgs, 1),
                                       cancellable, callback, user_data);
  _td_imap_session_run_operation (self, EV_NOOP, task);
}

gboolean
td_imap_session_noop_finish (TdImapSession  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_imap_session_idle_async (TdImapSession       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  task = _td_imap_session_op_task_new (self, td_imap_session_idle_async, g_new0 (OpArgs, 1),
                                       cancellable, callback, user_data);
  _td_imap_session_run_operation (self, EV_IDLE, task);
}

gboolean
td_imap_session_idle_finish (TdImapSession  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_imap_session_notify_async (TdImapSession       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  task = _td_imap_session_op_task_new (self, td_imap_session_notify_async, g_new0 (OpArgs, 1),
                                       cancellable, callback, user_data);
  _td_imap_session_run_operation (self, EV_NOTIFY, task);
}

gboolean
td_imap_session_notify_finish (TdImapSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
td_imap_session_is_notifying (TdImapSession *self)
{
  g_return_val_if_fail (TD_IS_IMAP_SESSION (self), FALSE);
  return self->notify;
}

void
td_imap_session_idle_done (TdImapSession *self)
{
  Command *cmd;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  cmd = g_queue_peek_head (&self->outgoing);
  if (self->state != ST_IDLE || cmd == NULL || cmd->kind != CMD_IDLE || cmd->idle_done)
    return;
  cmd->idle_done = TRUE;
  if (cmd->idle_started)
    {
      cmd->continued = TRUE;
      _td_imap_session_write_next (self);
    }
}
