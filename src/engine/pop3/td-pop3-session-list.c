/* td-pop3-session-list.c: what a POP3 maildrop holds
 *
 * STAT, LIST and UIDL, of every message (a listing, bounded by TD_POP3_MAX_LISTING) or of one.
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
#include "td-pop3-parser.h"

/* ------------------------------------------------------------------------------------------ */
/* LIST and UIDL alike */

/* LIST or UIDL (@verb): of every message, a listing; of op->number, one status line. */
static Command *
listing_command_new (GTask        *task,
                     CommandKind   kind,
                     const char   *verb,
                     CommandDone   done)
{
  Op *op = _td_pop3_session_task_op (task);
  Command *cmd;

  if (op->number == 0)
    {
      cmd = _td_pop3_session_command_new (kind, TD_POP3_EXPECT_LINES, done, task);
      _td_pop3_session_command_add_line (cmd, verb);
    }
  else
    {
      g_autofree char *line = g_strdup_printf ("%s %u", verb, op->number);

      cmd = _td_pop3_session_command_new (kind, TD_POP3_EXPECT_STATUS, done, task);
      cmd->number = op->number;
      _td_pop3_session_command_add_line (cmd, line);
    }
  return cmd;
}

/* The answer about one message was about another. */
static GError *
other_message_error (guint32 number,
                     guint32 asked)
{
  return g_error_new (TD_ERROR, TD_ERROR_PARSE,
                      _("The server answered for message %u when asked about message %u."),
                      number, asked);
}

/* A number listed twice would pair a message with another's size or unique-id (and a later
 * DELE with a message that was never downloaded): the whole listing is refused. @numbers
 * gives the number of each of @n entries. */
static GError *
check_numbers_once (guint     n,
                    guint32 (*number_of) (gconstpointer listing, guint i),
                    gconstpointer listing)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);

  for (guint i = 0; i < n; i++)
    {
      guint32 number = number_of (listing, i);

      if (!g_hash_table_add (seen, GUINT_TO_POINTER (number)))
        return g_error_new (TD_ERROR, TD_ERROR_PARSE,
                            _("The server listed message %u twice; its list of messages "
                              "cannot be trusted. Try again later, or ask your mail provider."),
                            number);
    }
  return NULL;
}

static guint32
list_number (gconstpointer listing,
             guint         i)
{
  return g_array_index ((GArray *) listing, TdPop3ListEntry, i).number;
}

static guint32
uidl_number (gconstpointer listing,
             guint         i)
{
  return ((TdPop3UidlEntry *) g_ptr_array_index ((GPtrArray *) listing, i))->number;
}

/* ------------------------------------------------------------------------------------------ */
/* STAT */

static void
stat_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = _td_pop3_session_command_accepted (cmd, status,
                                                             _("tell the size of the mailbox"));
  GError *error = NULL;
  Op *op;

  if (task == NULL)
    return;
  op = _td_pop3_session_task_op (task);
  if (!td_pop3_parse_stat (status->text, &op->count, &op->size, &error))
    _td_pop3_session_task_return_error (task, error);
  else
    _td_pop3_session_task_return_boolean (task, TRUE);
}

void
_td_pop3_session_handle_stat (TdPop3Session *self,
                              EventData     *data)
{
  _td_pop3_session_queue_line (self, CMD_STAT, TD_POP3_EXPECT_STATUS, stat_done, data->task,
                               "STAT");
}

/* ------------------------------------------------------------------------------------------ */
/* LIST */

/* A line of the LIST answer: "n size". */
void
_td_pop3_session_list_line (Command    *cmd,
                            const char *line)
{
  TdPop3ListEntry entry;

  if (cmd->list->len >= TD_POP3_MAX_LISTING)
    g_set_error (&cmd->error, TD_ERROR, TD_ERROR_LIMIT,
                 _("The server listed more messages than is safe to accept."));
  else if (td_pop3_parse_scan_listing (line, &entry.number, &entry.size, &cmd->error))
    g_array_append_val (cmd->list, entry);
}

static void
list_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = NULL;
  Op *op;
  GError *error = NULL;

  if (cmd->number == 0)
    {
      task = _td_pop3_session_command_accepted (cmd, status, _("list the messages"));
      if (task == NULL)
        return;
      if ((error = check_numbers_once (cmd->list->len, list_number, cmd->list)) != NULL)
        _td_pop3_session_task_return_error (task, error);
      else
        _td_pop3_session_task_return_pointer (task, g_steal_pointer (&cmd->list),
                                              (GDestroyNotify) g_array_unref);
      return;
    }

  {
    g_autofree char *what = g_strdup_printf (_("tell the size of message %u"), cmd->number);
    guint32 number = 0;

    task = _td_pop3_session_command_accepted (cmd, status, what);
    if (task == NULL)
      return;
    op = _td_pop3_session_task_op (task);
    if (!td_pop3_parse_scan_listing (status->text, &number, &op->size, &error))
      _td_pop3_session_task_return_error (task, error);
    else if (number != cmd->number)
      _td_pop3_session_task_return_error (task, other_message_error (number, cmd->number));
    else
      _td_pop3_session_task_return_boolean (task, TRUE);
  }
}

void
_td_pop3_session_handle_list (TdPop3Session *self,
                              EventData     *data)
{
  Command *cmd = listing_command_new (data->task, CMD_LIST, "LIST", list_done);

  if (cmd->number == 0)
    cmd->list = g_array_new (FALSE, FALSE, sizeof (TdPop3ListEntry));
  _td_pop3_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* UIDL */

/* A line of the UIDL answer: "n unique-id". */
void
_td_pop3_session_uidl_line (Command    *cmd,
                            const char *line)
{
  TdPop3UidlEntry *entry = g_new0 (TdPop3UidlEntry, 1);

  if (cmd->uidl->len >= TD_POP3_MAX_LISTING)
    g_set_error (&cmd->error, TD_ERROR, TD_ERROR_LIMIT,
                 _("The server listed more messages than is safe to accept."));
  else if (td_pop3_parse_uid_listing (line, &entry->number, &entry->uid, &cmd->error))
    {
      g_ptr_array_add (cmd->uidl, g_steal_pointer (&entry));
      return;
    }
  td_pop3_uidl_entry_free (entry);
}

static void
uidl_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  if (cmd->number == 0)
    {
      task = _td_pop3_session_command_accepted (cmd, status, _("list the messages"));
      if (task == NULL)
        return;
      if ((error = check_numbers_once (cmd->uidl->len, uidl_number, cmd->uidl)) != NULL)
        _td_pop3_session_task_return_error (task, error);
      else
        _td_pop3_session_task_return_pointer (task, g_steal_pointer (&cmd->uidl),
                                              (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  {
    g_autofree char *what = g_strdup_printf (_("tell the unique-id of message %u"), cmd->number);
    guint32 number = 0;
    char *uid = NULL;

    task = _td_pop3_session_command_accepted (cmd, status, what);
    if (task == NULL)
      return;
    if (!td_pop3_parse_uid_listing (status->text, &number, &uid, &error))
      _td_pop3_session_task_return_error (task, error);
    else if (number != cmd->number)
      {
        g_free (uid);
        _td_pop3_session_task_return_error (task, other_message_error (number, cmd->number));
      }
    else
      _td_pop3_session_task_return_pointer (task, uid, g_free);
  }
}

void
_td_pop3_session_handle_uidl (TdPop3Session *self,
                              EventData     *data)
{
  Command *cmd = listing_command_new (data->task, CMD_UIDL, "UIDL", uidl_done);

  if (cmd->number == 0)
    cmd->uidl = g_ptr_array_new_with_free_func ((GDestroyNotify) td_pop3_uidl_entry_free);
  _td_pop3_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

void
td_pop3_uidl_entry_free (TdPop3UidlEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->uid);
  g_free (entry);
}

void
td_pop3_session_stat_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  _td_pop3_session_simple_operation (self, EV_STAT, td_pop3_session_stat_async, cancellable,
                                     callback, user_data);
}

gboolean
td_pop3_session_stat_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             guint32        *count,
                             guint64        *size,
                             GError        **error)
{
  Op *op;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  op = _td_pop3_session_task_op (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (count != NULL)
    *count = op->count;
  if (size != NULL)
    *size = op->size;
  return TRUE;
}

void
td_pop3_session_list_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  _td_pop3_session_simple_operation (self, EV_LIST, td_pop3_session_list_async, cancellable,
                                     callback, user_data);
}

GArray *
td_pop3_session_list_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_pop3_session_list_one_async (TdPop3Session       *self,
                                guint32              number,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (number > 0);

  _td_pop3_session_number_operation (self, EV_LIST, td_pop3_session_list_one_async, number,
                                     cancellable, callback, user_data);
}

gboolean
td_pop3_session_list_one_finish (TdPop3Session  *self,
                                 GAsyncResult   *result,
                                 guint64        *size,
                                 GError        **error)
{
  Op *op;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  op = _td_pop3_session_task_op (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (size != NULL)
    *size = op->size;
  return TRUE;
}

void
td_pop3_session_uidl_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  _td_pop3_session_simple_operation (self, EV_UIDL, td_pop3_session_uidl_async, cancellable,
                                     callback, user_data);
}

GPtrArray *
td_pop3_session_uidl_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_pop3_session_uidl_one_async (TdPop3Session       *self,
                                guint32              number,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (number > 0);

  _td_pop3_session_number_operation (self, EV_UIDL, td_pop3_session_uidl_one_async, number,
                                     cancellable, callback, user_data);
}

char *
td_pop3_session_uidl_one_finish (TdPop3Session  *self,
                                 GAsyncResult   *result,
                                 GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
