/* td-imap-session-fetch.c: UID FETCH in an IMAP session
 *
 * Headers, bodies and flags of a uid set, with (CHANGEDSINCE n) under CONDSTORE; each FETCH
 * answer goes to the caller's function as it arrives.
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
/* UID FETCH */

typedef struct
{
  char            *uid_set;
  char            *items;
  guint64          changed_since;
  TdImapFetchFunc  func;
  gpointer         func_data;
} FetchArgs;

static void
fetch_args_free (FetchArgs *args)
{
  g_free (args->uid_set);
  g_free (args->items);
  g_free (args);
}

void
_td_imap_session_fetch_untagged (TdImapSession        *self,
                                 Command              *cmd,
                                 const TdImapResponse *response)
{
  g_autoptr(TdImapFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  TdImapFetchFunc func = cmd->func;

  if (func == NULL)
    return;                             /* cancelled: dropped */
  fetch = td_imap_fetch_parse (response, &error);
  if (fetch == NULL)
    {
      _td_imap_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PARSE,
                                                _("The server sent a message that could not be "
                                                  "read (%s). The connection was closed."),
                                                error != NULL ? error->message : "FETCH"));
      return;
    }
  /* a UID FETCH answer carries the UID; one without is unsolicited (RFC 3501 6.4.8) */
  if (!(fetch->fields & TD_IMAP_FETCH_HAS_UID))
    return;
  /* last: the callback may close the session, which frees @cmd */
  func (fetch, cmd->func_data);
}

static void
fetch_done (TdImapSession        *self,
            Command              *cmd,
            const TdImapResponse *tagged)
{
  _td_imap_session_boolean_done (self, cmd, tagged, _("send the messages"));
}

void
_td_imap_session_handle_fetch (TdImapSession *self,
                               EventData     *data)
{
  FetchArgs *args = g_task_get_task_data (data->task);
  Command *cmd = _td_imap_session_command_new (self, CMD_FETCH, fetch_done, data->task);

  cmd->func = args->func;
  cmd->func_data = args->func_data;
  g_string_append_printf (cmd->line, "UID FETCH %s (%s)", args->uid_set, args->items);
  if (args->changed_since > 0)
    g_string_append_printf (cmd->line, " (CHANGEDSINCE %" G_GUINT64_FORMAT ")",
                            args->changed_since);
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

void
td_imap_session_uid_fetch_async (TdImapSession       *self,
                                 const char          *uid_set,
                                 const char          *items,
                                 guint64              changed_since,
                                 TdImapFetchFunc      func,
                                 gpointer             func_data,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  FetchArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (uid_set != NULL && uid_set[0] != '\0');
  g_return_if_fail (items != NULL && items[0] != '\0');

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_uid_fetch_async);
  if (!_td_imap_session_is_command_text (uid_set) || !_td_imap_session_is_command_text (items))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "UID set or fetch items contain control characters");
      return;
    }
  args = g_new0 (FetchArgs, 1);
  args->uid_set = g_strdup (uid_set);
  args->items = g_strdup (items);
  args->changed_since = changed_since;
  args->func = func;
  args->func_data = func_data;
  g_task_set_task_data (task, args, (GDestroyNotify) fetch_args_free);
  _td_imap_session_run_operation (self, EV_FETCH, task);
}

gboolean
td_imap_session_uid_fetch_finish (TdImapSession  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
