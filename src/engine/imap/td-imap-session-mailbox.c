/* td-imap-session-mailbox.c: the folders of an IMAP session
 *
 * LIST (roles from SPECIAL-USE or guessed by name), SELECT and EXAMINE (with CONDSTORE, or with
 * QRESYNC and its VANISHED (EARLIER) and FETCH answers), CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE, and GETQUOTAROOT.
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
/* LIST */

static gboolean
list_is_nonexistent (const TdImapResponse *response)
{
  const TdImapValue *attrs;

  if (response->values == NULL || response->values->len == 0)
    return FALSE;
  attrs = g_ptr_array_index (response->values, 0);
  if (attrs->type != TD_IMAP_VALUE_LIST)
    return FALSE;
  for (guint i = 0; i < attrs->list->len; i++)
    if (td_imap_value_is_atom (g_ptr_array_index (attrs->list, i), "\\NonExistent"))
      return TRUE;
  return FALSE;
}

void
_td_imap_session_list_untagged (Command              *cmd,
                                const TdImapResponse *response)
{
  g_autoptr(GError) error = NULL;
  TdImapListEntry *entry;

  if (_td_imap_session_response_is (response, "STATUS"))
    {
      /* RFC 5819: the STATUS of a folder follows its LIST */
      g_autofree char *raw_path = NULL;
      TdImapListEntry status = { 0, };

      if (!td_imap_status_parse (response, &raw_path, &status))
        {
          g_debug ("Ignoring a malformed STATUS in a LIST");
          return;
        }
      entry = g_hash_table_lookup (cmd->seen, raw_path);
      if (entry != NULL)
        {
          entry->has_status = status.has_status;
          entry->status_messages = status.status_messages;
          entry->status_uidnext = status.status_uidnext;
          entry->status_uidvalidity = status.status_uidvalidity;
          entry->status_highestmodseq = status.status_highestmodseq;
        }
      return;
    }
  if (list_is_nonexistent (response))
    return;
  entry = td_imap_list_entry_parse (response, &error);
  if (entry == NULL)
    {
      g_debug ("Ignoring a malformed LIST entry: %s", error != NULL ? error->message : "?");
      return;
    }
  if (g_ascii_strcasecmp (entry->raw_path, "INBOX") == 0)
    {
      g_free (entry->raw_path);
      entry->raw_path = g_strdup ("INBOX");
      g_free (entry->path);
      entry->path = g_strdup ("INBOX");
    }
  if (g_hash_table_contains (cmd->seen, entry->raw_path))
    {
      td_imap_list_entry_free (entry);
      return;
    }
  g_hash_table_insert (cmd->seen, g_strdup (entry->raw_path), entry);
  g_ptr_array_add (cmd->entries, entry);
}

/* Roles from attributes stay; INBOX is INBOX; the others are guessed by name, each role once
 * (not over one the server named) and never for a folder that cannot hold mail. */
static void
list_assign_roles (GPtrArray *entries)
{
  gboolean taken[TD_FOLDER_ROLE_FLAGGED + 1] = { FALSE, };

  for (guint i = 0; i < entries->len; i++)
    {
      TdImapListEntry *entry = g_ptr_array_index (entries, i);

      if (strcmp (entry->raw_path, "INBOX") == 0)
        entry->role = TD_FOLDER_ROLE_INBOX;
      else if (entry->role == TD_FOLDER_ROLE_INBOX)
        entry->role = TD_FOLDER_ROLE_NONE;
      if ((guint) entry->role < G_N_ELEMENTS (taken))
        taken[entry->role] = TRUE;
    }

  for (guint i = 0; i < entries->len; i++)
    {
      TdImapListEntry *entry = g_ptr_array_index (entries, i);
      TdFolderRole role;

      if (entry->role != TD_FOLDER_ROLE_NONE || entry->noselect)
        continue;
      role = td_imap_guess_role (entry->path, entry->delimiter);
      if (role == TD_FOLDER_ROLE_NONE || role == TD_FOLDER_ROLE_INBOX ||
          (guint) role >= G_N_ELEMENTS (taken) || taken[role])
        continue;
      entry->role = role;
      taken[role] = TRUE;
    }
}

static void
list_done (TdImapSession        *self,
           Command              *cmd,
           const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_accepted (cmd, tagged, _("list the folders"));

  if (task == NULL)
    return;
  list_assign_roles (cmd->entries);
  g_task_return_pointer (task, g_steal_pointer (&cmd->entries),
                         (GDestroyNotify) g_ptr_array_unref);
}

void
_td_imap_session_handle_list (TdImapSession *self,
                              EventData     *data)
{
  Command *cmd = _td_imap_session_command_new (self, CMD_LIST, list_done, data->task);

  cmd->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) td_imap_list_entry_free);
  cmd->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  _td_imap_session_command_append (cmd, "LIST \"\" \"*\"");
  /* RFC 6154: the RETURN option needs LIST-EXTENDED; without it a SPECIAL-USE server puts the
   * attributes into the plain LIST */
  if (_td_imap_session_has_cap (self, "LIST-EXTENDED"))
    {
      gboolean special_use = _td_imap_session_has_cap (self, "SPECIAL-USE");
      g_autofree char *status = NULL;
      g_autofree char *options = NULL;

      /* RFC 5819: every folder's STATUS with the list, so a resync can skip the folders that
       * did not change (HIGHESTMODSEQ needs CONDSTORE) */
      cmd->list_status = _td_imap_session_has_cap (self, "LIST-STATUS");
      if (cmd->list_status)
        status = g_strdup_printf ("STATUS (MESSAGES UIDNEXT UIDVALIDITY%s)",
                                  _td_imap_session_has_cap (self, "CONDSTORE")
                                  ? " HIGHESTMODSEQ" : "");
      if (special_use || status != NULL)
        {
          options = g_strdup_printf (" RETURN (%s%s%s)", special_use ? "SPECIAL-USE" : "",
                                     special_use && status != NULL ? " " : "",
                                     status != NULL ? status : "");
          _td_imap_session_command_append (cmd, options);
        }
    }
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* SELECT and EXAMINE */

static const TdImapValue *
code_arg (const TdImapResponse *response,
          guint                 i)
{
  if (response->code_args == NULL || i >= response->code_args->len)
    return NULL;
  return g_ptr_array_index (response->code_args, i);
}

static void
select_apply_code (TdImapMailbox        *mailbox,
                   const TdImapResponse *response)
{
  const TdImapValue *arg = code_arg (response, 0);
  const char *code = response->code;

  if (code == NULL)
    return;
  if (strcmp (code, "UIDVALIDITY") == 0 && arg != NULL)
    td_imap_value_get_uint32 (arg, &mailbox->uidvalidity);
  else if (strcmp (code, "UIDNEXT") == 0 && arg != NULL)
    td_imap_value_get_uint32 (arg, &mailbox->uidnext);
  else if (strcmp (code, "HIGHESTMODSEQ") == 0 && arg != NULL)
    td_imap_value_get_uint64 (arg, &mailbox->highestmodseq);
  else if (strcmp (code, "NOMODSEQ") == 0)
    mailbox->highestmodseq = 0;
  else if (strcmp (code, "PERMANENTFLAGS") == 0 && arg != NULL && arg->type == TD_IMAP_VALUE_LIST)
    {
      g_autoptr(GPtrArray) keywords = g_ptr_array_new_with_free_func (g_free);

      mailbox->permanent_flags = td_imap_flags_parse (arg, keywords) & TD_FLAGS_STORED;
      mailbox->keywords_allowed = FALSE;
      for (guint i = 0; i < keywords->len; i++)
        if (strcmp (g_ptr_array_index (keywords, i), "\\*") == 0)
          mailbox->keywords_allowed = TRUE;
      /* "\*" alone: keywords, and so $Forwarded and $Junk, can be set */
      if (mailbox->keywords_allowed)
        mailbox->permanent_flags |= TD_FLAG_FORWARDED | TD_FLAG_JUNK;
    }
  else if (strcmp (code, "READ-ONLY") == 0)
    mailbox->read_only = TRUE;
  else if (strcmp (code, "READ-WRITE") == 0)
    mailbox->read_only = FALSE;
}

gboolean
_td_imap_session_select_wants (const TdImapResponse *response)
{
  static const char * const codes[] = {
    "UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ", "NOMODSEQ", "READ-ONLY", "READ-WRITE",
    "PERMANENTFLAGS", "UNSEEN",
  };

  if (response->status == TD_IMAP_STATUS_OK && response->code != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
        if (strcmp (response->code, codes[i]) == 0)
          return TRUE;
      return FALSE;
    }
  return response->status == TD_IMAP_STATUS_NONE &&
         ((response->has_number && (_td_imap_session_response_is (response, "EXISTS") ||
                                    _td_imap_session_response_is (response, "RECENT"))) ||
          _td_imap_session_response_is (response, "FLAGS"));
}

/* "* VANISHED (EARLIER) 1:5,9" while a SELECT (QRESYNC) runs */
static void
vanished_untagged (TdImapSession        *self,
                   Command              *cmd,
                   const TdImapResponse *response)
{
  const TdImapValue *set = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GArray) uids = NULL;

  for (guint i = 0; i < response->values->len; i++)
    {
      const TdImapValue *v = g_ptr_array_index (response->values, i);

      if (v->type == TD_IMAP_VALUE_ATOM)
        set = v;
    }
  if (set == NULL || (text = td_imap_value_dup_string (set)) == NULL ||
      (uids = _td_imap_session_expand_set (self, text)) == NULL)
    {
      if (cmd->error == NULL)
        cmd->error = g_error_new_literal (TD_ERROR, TD_ERROR_PARSE,
                                          _("The server sent a list of removed messages that "
                                            "could not be understood."));
      return;
    }
  /* each answer is bounded by _td_imap_session_expand_set(); so are all of them together */
  cmd->vanished_total += uids->len;
  if (cmd->vanished_total > TD_IMAP_MAX_SEARCH_RESULTS)
    {
      if (cmd->error == NULL)
        cmd->error = g_error_new_literal (TD_ERROR, TD_ERROR_LIMIT,
                                          _("The server sent a list of removed messages "
                                            "longer than is safe to accept."));
      return;
    }
  if (cmd->error != NULL)
    return;                             /* the SELECT fails: nothing more is passed on */
  if (cmd->vanished_func != NULL && uids->len > 0)
    cmd->vanished_func ((const guint32 *) (gpointer) uids->data, uids->len, cmd->func_data);
}

void
_td_imap_session_select_untagged (Command              *cmd,
                                  const TdImapResponse *response)
{
  if (cmd->qresync && response->status == TD_IMAP_STATUS_NONE &&
      _td_imap_session_response_is (response, "VANISHED"))
    vanished_untagged (cmd->session, cmd, response);
  else if (cmd->qresync && response->status == TD_IMAP_STATUS_NONE &&
           _td_imap_session_response_is (response, "FETCH"))
    _td_imap_session_fetch_untagged (cmd->session, cmd, response);
  else if (response->status == TD_IMAP_STATUS_NONE && response->has_number &&
           _td_imap_session_response_is (response, "EXISTS"))
    cmd->mailbox.exists = response->number;
  else if (response->status == TD_IMAP_STATUS_OK)
    select_apply_code (&cmd->mailbox, response);
}

static void
select_done (TdImapSession        *self,
             Command              *cmd,
             const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_steal_task (cmd);

  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      /* RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected */
      if (self->state == ST_SELECTING)
        self->state = ST_AUTHENTICATED;
      if (task != NULL)
        g_task_return_error (task, _td_imap_session_refused_error (tagged, _("open the folder")));
      return;
    }
  if (cmd->error != NULL)
    {
      /* e.g. a VANISHED beyond every bound: what it said cannot be trusted */
      if (self->state == ST_SELECTING)
        self->state = ST_AUTHENTICATED;
      if (task != NULL)
        g_task_return_error (task, g_steal_pointer (&cmd->error));
      return;
    }

  select_apply_code (&cmd->mailbox, tagged);
  if (cmd->examine)
    cmd->mailbox.read_only = TRUE;
  if (self->state == ST_SELECTING)
    {
      self->mailbox = cmd->mailbox;
      self->state = ST_SELECTED;
    }
  if (task != NULL)
    g_task_return_pointer (task, &self->mailbox, NULL);
}

typedef struct
{
  char               *raw_path;
  gboolean            read_only;
  gboolean            qresync;
  guint32             uidvalidity;
  guint64             modseq;
  TdImapVanishedFunc  vanished_func;
  TdImapFetchFunc     fetch_func;
  gpointer            func_data;
} SelectArgs;

static void
select_args_free (SelectArgs *args)
{
  g_free (args->raw_path);
  g_free (args);
}

void
_td_imap_session_handle_select (TdImapSession *self,
                                EventData     *data)
{
  SelectArgs *args = g_task_get_task_data (data->task);
  Command *cmd = _td_imap_session_command_new (self, CMD_SELECT, select_done, data->task);

  cmd->examine = args->read_only;
  _td_imap_session_command_append (cmd, args->read_only ? "EXAMINE " : "SELECT ");
  _td_imap_session_command_append_astring (self, cmd, args->raw_path);
  if (args->qresync)
    {
      /* RFC 7162 3.2.5 */
      g_string_append_printf (cmd->line, " (QRESYNC (%u %" G_GUINT64_FORMAT "))",
                              args->uidvalidity, args->modseq);
      cmd->qresync = TRUE;
      cmd->vanished_func = args->vanished_func;
      cmd->func = args->fetch_func;
      cmd->func_data = args->func_data;
      cmd->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
    }
  else if (_td_imap_session_has_cap (self, "CONDSTORE"))
    _td_imap_session_command_append (cmd, " (CONDSTORE)");
  _td_imap_session_command_end (cmd);

  /* RFC 3501 6.3.1: the current mailbox is deselected as the command starts */
  memset (&self->mailbox, 0, sizeof self->mailbox);
  self->state = ST_SELECTING;
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE */

static void
mailbox_done (TdImapSession        *self,
              Command              *cmd,
              const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_steal_task (cmd);

  if (task == NULL)
    return;
  /* RFC 5530: sending the same change twice (a replay) is no failure */
  if (tagged->status == TD_IMAP_STATUS_OK ||
      (tagged->status == TD_IMAP_STATUS_NO && tagged->code != NULL &&
       ((cmd->op == TD_IMAP_MAILBOX_CREATE && strcmp (tagged->code, "ALREADYEXISTS") == 0) ||
        (cmd->op == TD_IMAP_MAILBOX_DELETE && strcmp (tagged->code, "NONEXISTENT") == 0))))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, _td_imap_session_refused_error (tagged, _("change the folder")));
}

void
_td_imap_session_handle_mailbox (TdImapSession *self,
                                 EventData     *data)
{
  static const char * const verbs[] = {
    [TD_IMAP_MAILBOX_CREATE] = "CREATE ",
    [TD_IMAP_MAILBOX_DELETE] = "DELETE ",
    [TD_IMAP_MAILBOX_RENAME] = "RENAME ",
    [TD_IMAP_MAILBOX_SUBSCRIBE] = "SUBSCRIBE ",
    [TD_IMAP_MAILBOX_UNSUBSCRIBE] = "UNSUBSCRIBE ",
  };
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (args->op > TD_IMAP_MAILBOX_UNSUBSCRIBE ||
      (args->op == TD_IMAP_MAILBOX_RENAME && args->text2 == NULL))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID, "Bad folder operation");
      return;
    }
  cmd = _td_imap_session_command_new (self, CMD_MAILBOX, mailbox_done, data->task);
  cmd->op = args->op;
  _td_imap_session_command_append (cmd, verbs[args->op]);
  _td_imap_session_command_append_astring (self, cmd, args->text);
  if (args->op == TD_IMAP_MAILBOX_RENAME)
    {
      _td_imap_session_command_append (cmd, " ");
      _td_imap_session_command_append_astring (self, cmd, args->text2);
    }
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* GETQUOTAROOT */

/* "* QUOTA root (STORAGE 120 10240 MESSAGE 4 1000)"; a STORAGE without two numbers the store
 * can keep (KiB as a signed 64-bit count) is an error, not a quota. */
void
_td_imap_session_quota_untagged (Command              *cmd,
                                 const TdImapResponse *response)
{
  const TdImapValue *list;

  if (!_td_imap_session_response_is (response, "QUOTA") || cmd->quota_found || cmd->error != NULL ||
      response->values->len < 2)
    return;
  list = g_ptr_array_index (response->values, 1);
  if (list->type != TD_IMAP_VALUE_LIST)
    return;
  for (guint i = 0; i < list->list->len; i += 3)
    {
      guint64 usage = 0, limit = 0;

      if (!td_imap_value_is_atom (g_ptr_array_index (list->list, i), "STORAGE"))
        continue;
      if (i + 2 >= list->list->len ||
          !td_imap_value_get_uint64 (g_ptr_array_index (list->list, i + 1), &usage) ||
          !td_imap_value_get_uint64 (g_ptr_array_index (list->list, i + 2), &limit) ||
          usage > G_MAXINT64 || limit > G_MAXINT64)
        {
          cmd->error = g_error_new_literal (TD_ERROR, TD_ERROR_PARSE,
                                            _("The server sent a storage quota that could not "
                                              "be understood, so none is shown."));
          return;
        }
      cmd->quota_usage = usage;
      cmd->quota_limit = limit;
      cmd->quota_found = TRUE;
      return;
    }
}

static void
quota_done (TdImapSession        *self,
            Command              *cmd,
            const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_accepted (cmd, tagged, _("tell the quota"));
  guint64 *result;

  if (task == NULL)
    return;
  if (cmd->error != NULL)
    g_task_return_error (task, g_steal_pointer (&cmd->error));
  else if (!cmd->quota_found)
    g_task_return_new_error (task, TD_ERROR, TD_ERROR_NOT_FOUND,
                             _("The server keeps no storage limit for this account."));
  else
    {
      result = g_new (guint64, 2);
      result[0] = cmd->quota_usage;
      result[1] = cmd->quota_limit;
      g_task_return_pointer (task, result, g_free);
    }
}

void
_td_imap_session_handle_quota (TdImapSession *self,
                               EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (!_td_imap_session_has_cap (self, "QUOTA"))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The server does not tell how much space is used."));
      return;
    }
  cmd = _td_imap_session_command_new (self, CMD_QUOTA, quota_done, data->task);
  _td_imap_session_command_append (cmd, "GETQUOTAROOT ");
  _td_imap_session_command_append_astring (self, cmd, args->text);
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

void
td_imap_session_list_async (TdImapSession       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_list_async);
  _td_imap_session_run_operation (self, EV_LIST, task);
}

GPtrArray *
td_imap_session_list_finish (TdImapSession  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_imap_session_select_async (TdImapSession       *self,
                              const char          *raw_path,
                              gboolean             read_only,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SelectArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (raw_path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_select_async);
  args = g_new0 (SelectArgs, 1);
  args->raw_path = g_strdup (raw_path);
  args->read_only = read_only;
  g_task_set_task_data (task, args, (GDestroyNotify) select_args_free);
  _td_imap_session_run_operation (self, EV_SELECT, task);
}

const TdImapMailbox *
td_imap_session_select_finish (TdImapSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_imap_session_select_qresync_async (TdImapSession       *self,
                                      const char          *raw_path,
                                      gboolean             read_only,
                                      guint32              uidvalidity,
                                      guint64              modseq,
                                      TdImapVanishedFunc   vanished_func,
                                      TdImapFetchFunc      fetch_func,
                                      gpointer             func_data,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SelectArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (raw_path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_select_qresync_async);
  if (!td_imap_session_is_enabled (self, "QRESYNC") || uidvalidity == 0 || modseq == 0)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               "QRESYNC needs ENABLE QRESYNC and a known UIDVALIDITY and "
                               "HIGHESTMODSEQ");
      return;
    }
  args = g_new0 (SelectArgs, 1);
  args->raw_path = g_strdup (raw_path);
  args->read_only = read_only;
  args->qresync = TRUE;
  args->uidvalidity = uidvalidity;
  args->modseq = modseq;
  args->vanished_func = vanished_func;
  args->fetch_func = fetch_func;
  args->func_data = func_data;
  g_task_set_task_data (task, args, (GDestroyNotify) select_args_free);
  _td_imap_session_run_operation (self, EV_SELECT, task);
}

const TdImapMailbox *
td_imap_session_select_qresync_finish (TdImapSession  *self,
                                       GAsyncResult   *result,
                                       GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_imap_session_mailbox_op_async (TdImapSession       *self,
                                  TdImapMailboxOp      op,
                                  const char          *raw_path,
                                  const char          *raw_new_path,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (raw_path != NULL);

  args = g_new0 (OpArgs, 1);
  args->op = op;
  args->text = g_strdup (raw_path);
  args->text2 = g_strdup (raw_new_path);
  task = _td_imap_session_op_task_new (self, td_imap_session_mailbox_op_async, args, cancellable,
                                       callback, user_data);
  _td_imap_session_run_operation (self, EV_MAILBOX, task);
}

gboolean
td_imap_session_mailbox_op_finish (TdImapSession  *self,
                                   GAsyncResult   *result,
                                   GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_imap_session_get_quota_async (TdImapSession       *self,
                                 const char          *raw_path,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (raw_path != NULL);

  args = g_new0 (OpArgs, 1);
  args->text = g_strdup (raw_path);
  task = _td_imap_session_op_task_new (self, td_imap_session_get_quota_async, args, cancellable,
                                       callback, user_data);
  _td_imap_session_run_operation (self, EV_QUOTA, task);
}

gboolean
td_imap_session_get_quota_finish (TdImapSession  *self,
                                  GAsyncResult   *result,
                                  guint64        *usage_kib,
                                  guint64        *limit_kib,
                                  GError        **error)
{
  g_autofree guint64 *values = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  values = g_task_propagate_pointer (G_TASK (result), error);
  if (values == NULL)
    return FALSE;
  if (usage_kib != NULL)
    *usage_kib = values[0];
  if (limit_kib != NULL)
    *limit_kib = values[1];
  return TRUE;
}
