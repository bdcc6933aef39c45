/* td-imap-session-messages.c: changing messages in an IMAP session
 *
 * UID STORE of flags (with UNCHANGEDSINCE under CONDSTORE), UID COPY and UID MOVE (with the
 * COPYUID of RFC 4315), and EXPUNGE or UID EXPUNGE.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-imap"

#include "config.h"

#include "td-imap-session.h"
#include "td-imap-session-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

/* ------------------------------------------------------------------------------------------ */
/* STORE */

static void
store_done (TdImapSession        *self,
            Command              *cmd,
            const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_accepted (cmd, tagged, _("change the flags"));
  g_autofree char *set = NULL;
  GArray *modified;

  if (task == NULL)
    return;
  /* RFC 7162 3.1.3: [MODIFIED set] names what was changed meanwhile and left alone */
  if (tagged->code != NULL && strcmp (tagged->code, "MODIFIED") == 0 &&
      tagged->code_args != NULL && tagged->code_args->len > 0 &&
      (set = td_imap_value_dup_string (g_ptr_array_index (tagged->code_args, 0))) != NULL)
    {
      modified = _td_imap_session_expand_set (self, set);
      if (modified == NULL)
        {
          g_task_return_new_error (task, TD_ERROR, TD_ERROR_PARSE,
                                   _("The server sent a list of changed messages that could "
                                     "not be understood."));
          return;
        }
    }
  else
    modified = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_task_return_pointer (task, modified, (GDestroyNotify) g_array_unref);
}

/* Flags as the caller gave them: flag names and atoms, nothing that could end the list. */
static gboolean
is_flag_list (const char *flags)
{
  g_auto(GStrv) names = NULL;

  if (flags == NULL || *flags == '\0')
    return FALSE;
  names = g_strsplit (flags, " ", -1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *name = names[i][0] == '\\' ? names[i] + 1 : names[i];

      if (!_td_imap_session_is_atom_text (name))
        return FALSE;
    }
  return TRUE;
}

void
_td_imap_session_handle_store (TdImapSession *self,
                               EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (!_td_imap_session_is_command_text (args->text) || !is_flag_list (args->text2))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID,
                               "Not a uid set and a flag list: %s (%s)", args->text,
                               args->text2);
      return;
    }
  cmd = _td_imap_session_command_new (self, CMD_STORE, store_done, data->task);
  cmd->func = args->func;
  cmd->func_data = args->func_data;
  g_string_append_printf (cmd->line, "UID STORE %s ", args->text);
  if (args->number > 0)
    g_string_append_printf (cmd->line, "(UNCHANGEDSINCE %" G_GUINT64_FORMAT ") ",
                            args->number);
  g_string_append_printf (cmd->line, "%sFLAGS.SILENT (%s)", args->flag ? "+" : "-",
                          args->text2);
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* COPY and MOVE */

void
td_imap_copy_uid_clear (TdImapCopyUid *copy_uid)
{
  if (copy_uid == NULL)
    return;
  g_clear_pointer (&copy_uid->src_uids, g_array_unref);
  g_clear_pointer (&copy_uid->dst_uids, g_array_unref);
  copy_uid->uidvalidity = 0;
}

static void
copy_uid_free (TdImapCopyUid *copy_uid)
{
  td_imap_copy_uid_clear (copy_uid);
  g_free (copy_uid);
}

/* [COPYUID uidvalidity src-set dst-set] (RFC 4315), untagged with MOVE or tagged with COPY */
static void
copy_take_code (TdImapSession        *self,
                Command              *cmd,
                const TdImapResponse *response)
{
  g_autofree char *src = NULL;
  g_autofree char *dst = NULL;
  guint32 uidvalidity = 0;
  GArray *src_uids, *dst_uids;

  if (response->code == NULL || strcmp (response->code, "COPYUID") != 0 ||
      response->code_args == NULL || response->code_args->len < 3 ||
      !td_imap_value_get_uint32 (g_ptr_array_index (response->code_args, 0), &uidvalidity) ||
      (src = td_imap_value_dup_string (g_ptr_array_index (response->code_args, 1))) == NULL ||
      (dst = td_imap_value_dup_string (g_ptr_array_index (response->code_args, 2))) == NULL)
    return;
  src_uids = _td_imap_session_expand_set (self, src);
  dst_uids = _td_imap_session_expand_set (self, dst);
  if (src_uids == NULL || dst_uids == NULL || src_uids->len != dst_uids->len)
    {
      /* unusable: as if the server had not said (the next sync finds the copies) */
      g_clear_pointer (&src_uids, g_array_unref);
      g_clear_pointer (&dst_uids, g_array_unref);
      return;
    }
  td_imap_copy_uid_clear (&cmd->copy_uid);
  cmd->copy_uid.uidvalidity = uidvalidity;
  cmd->copy_uid.src_uids = src_uids;
  cmd->copy_uid.dst_uids = dst_uids;
}

void
_td_imap_session_copy_untagged (Command              *cmd,
                                const TdImapResponse *response)
{
  copy_take_code (cmd->session, cmd, response);
}

static void
copy_done (TdImapSession        *self,
           Command              *cmd,
           const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_accepted (cmd, tagged,
                                                              _("copy or move the messages"));
  TdImapCopyUid *out;

  if (task == NULL)
    return;
  copy_take_code (self, cmd, tagged);
  out = g_new0 (TdImapCopyUid, 1);
  *out = cmd->copy_uid;
  memset (&cmd->copy_uid, 0, sizeof cmd->copy_uid);
  g_task_return_pointer (task, out, (GDestroyNotify) copy_uid_free);
}

void
_td_imap_session_handle_copy (TdImapSession *self,
                              EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (args->flag && !_td_imap_session_has_cap (self, "MOVE"))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The server cannot move messages; they are copied and "
                                 "deleted instead."));
      return;
    }
  if (!_td_imap_session_is_command_text (args->text))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID, "Not a uid set: %s",
                               args->text);
      return;
    }
  cmd = _td_imap_session_command_new (self, CMD_COPY, copy_done, data->task);
  g_string_append_printf (cmd->line, "UID %s %s ", args->flag ? "MOVE" : "COPY", args->text);
  _td_imap_session_command_append_astring (self, cmd, args->text2);
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* APPEND */

static void
append_done (TdImapSession        *self,
             Command              *cmd,
             const TdImapResponse *tagged)
{
  _td_imap_session_boolean_done (self, cmd, tagged, _("save the message in the folder"));
}

void
_td_imap_session_handle_append (TdImapSession *self,
                                EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  gsize len;
  const char *bytes = g_bytes_get_data (args->data, &len);
  Command *cmd;

  if (args->text2 != NULL && !_td_imap_session_is_command_text (args->text2))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID, "Not a flag list: %s",
                               args->text2);
      return;
    }
  if (len == 0 || memchr (bytes, '\0', len) != NULL)
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID,
                               _("The message is empty or has NUL bytes; it cannot be saved "
                                 "on the server."));
      return;
    }
  cmd = _td_imap_session_command_new (self, CMD_APPEND, append_done, data->task);
  _td_imap_session_command_append (cmd, "APPEND ");
  _td_imap_session_command_append_astring (self, cmd, args->text);
  if (args->text2 != NULL && *args->text2 != '\0')
    g_string_append_printf (cmd->line, " (%s)", args->text2);
  /* the message is a literal: non-synchronising with LITERAL+, else after the server's "+" */
  if (_td_imap_session_has_cap (self, "LITERAL+"))
    g_string_append_printf (cmd->line, " {%" G_GSIZE_FORMAT "+}\r\n", len);
  else
    {
      g_string_append_printf (cmd->line, " {%" G_GSIZE_FORMAT "}", len);
      _td_imap_session_command_break (cmd);
    }
  g_string_append_len (cmd->line, bytes, len);
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* EXPUNGE */

static void
expunge_done (TdImapSession        *self,
              Command              *cmd,
              const TdImapResponse *tagged)
{
  _td_imap_session_boolean_done (self, cmd, tagged, _("remove the deleted messages"));
}

void
_td_imap_session_handle_expunge (TdImapSession *self,
                                 EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (args->text != NULL && !_td_imap_session_is_command_text (args->text))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID, "Not a uid set: %s",
                               args->text);
      return;
    }
  cmd = _td_imap_session_command_new (self, CMD_EXPUNGE, expunge_done, data->task);
  if (args->text != NULL && _td_imap_session_has_cap (self, "UIDPLUS"))
    g_string_append_printf (cmd->line, "UID EXPUNGE %s", args->text);
  else
    _td_imap_session_command_append (cmd, "EXPUNGE");
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

void
td_imap_session_uid_store_async (TdImapSession       *self,
                                 const char          *uid_set,
                                 gboolean             add,
                                 const char          *flags,
                                 guint64              unchanged_since,
                                 TdImapFetchFunc      fetch_func,
                                 gpointer             func_data,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (uid_set != NULL && flags != NULL);

  args = g_new0 (OpArgs, 1);
  args->text = g_strdup (uid_set);
  args->text2 = g_strdup (flags);
  args->flag = add;
  args->number = unchanged_since;
  args->func = fetch_func;
  args->func_data = func_data;
  task = _td_imap_session_op_task_new (self, td_imap_session_uid_store_async, args, cancellable,
                                       callback, user_data);
  _td_imap_session_run_operation (self, EV_STORE, task);
}

GArray *
td_imap_session_uid_store_finish (TdImapSession  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_imap_session_uid_copy_async (TdImapSession       *self,
                                const char          *uid_set,
                                const char          *raw_target,
                                gboolean             move,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (uid_set != NULL && raw_target != NULL);

  args = g_new0 (OpArgs, 1);
  args->text = g_strdup (uid_set);
  args->text2 = g_strdup (raw_target);
  args->flag = move;
  task = _td_imap_session_op_task_new (self, td_imap_session_uid_copy_async, args, cancellable,
                                       callback, user_data);
  _td_imap_session_run_operation (self, EV_COPY, task);
}

gboolean
td_imap_session_uid_copy_finish (TdImapSession  *self,
                                 GAsyncResult   *result,
                                 TdImapCopyUid  *out,
                                 GError        **error)
{
  TdImapCopyUid *copy_uid;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  copy_uid = g_task_propagate_pointer (G_TASK (result), error);
  if (copy_uid == NULL)
    return FALSE;
  if (out != NULL)
    {
      td_imap_copy_uid_clear (out);
      *out = *copy_uid;
      memset (copy_uid, 0, sizeof *copy_uid);
    }
  copy_uid_free (copy_uid);
  return TRUE;
}

void
td_imap_session_append_async (TdImapSession       *self,
                              const char          *raw_mailbox,
                              const char          *flags,
                              GBytes              *message,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (raw_mailbox != NULL && message != NULL);

  args = g_new0 (OpArgs, 1);
  args->text = g_strdup (raw_mailbox);
  args->text2 = g_strdup (flags);
  args->data = g_bytes_ref (message);
  task = _td_imap_session_op_task_new (self, td_imap_session_append_async, args, cancellable,
                                       callback, user_data);
  _td_imap_session_run_operation (self, EV_APPEND, task);
}

gboolean
td_imap_session_append_finish (TdImapSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_imap_session_expunge_async (TdImapSession       *self,
                               const char          *uid_set,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  args = g_new0 (OpArgs, 1);
  args->text = g_strdup (uid_set);
  task = _td_imap_session_op_task_new (self, td_imap_session_expunge_async, args, cancellable,
                                       callback, user_data);
  _td_imap_session_run_operation (self, EV_EXPUNGE, task);
}

gboolean
td_imap_session_expunge_finish (TdImapSession  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
