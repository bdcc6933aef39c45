/* td-imap-session-search.c: UID SEARCH and uid sets in an IMAP session
 *
 * SEARCH and ESEARCH results, and the uid sets servers send elsewhere (VANISHED, COPYUID,
 * MODIFIED), all expanded under one bound; td_imap_uid_set_build() writes the sets we send.
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
/* Uid sets of the server */

static void
search_set_error (Command *cmd)
{
  if (cmd->error == NULL)
    cmd->error = g_error_new_literal (TD_ERROR, TD_ERROR_PARSE,
                                      _("The server sent search results that could not be "
                                        "understood."));
}

/* FALSE (and the command's error set) when there are too many */
static gboolean
search_reserve (Command *cmd,
                guint64  more)
{
  if ((guint64) cmd->uids->len + more > TD_IMAP_MAX_SEARCH_RESULTS)
    {
      if (cmd->error == NULL)
        cmd->error = g_error_new_literal (TD_ERROR, TD_ERROR_LIMIT,
                                          _("The server sent more search results than is "
                                            "safe to accept."));
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_uint32 (const char  *text,
              const char **end,
              guint32     *out)
{
  guint64 value = 0;
  const char *p = text;

  while (g_ascii_isdigit (*p))
    {
      value = value * 10 + (guint64) (*p - '0');
      if (value > G_MAXUINT32)
        return FALSE;
      p++;
    }
  if (p == text)
    return FALSE;
  *end = p;
  *out = (guint32) value;
  return TRUE;
}

/* "1:3,5,9:7"; a problem sets the command's error */
static void
search_add_set (Command    *cmd,
                const char *set)
{
  const char *p = set;

  while (*p != '\0')
    {
      guint32 first, last;

      if (!parse_uint32 (p, &p, &first))
        {
          search_set_error (cmd);
          return;
        }
      last = first;
      if (*p == ':' && !parse_uint32 (p + 1, &p, &last))
        {
          search_set_error (cmd);
          return;
        }
      /* uids and sequence numbers start at 1 (RFC 3501 9, nz-number) */
      if (first == 0 || last == 0)
        {
          search_set_error (cmd);
          return;
        }
      if (first > last)
        {
          guint32 tmp = first;

          first = last;
          last = tmp;
        }
      if (!search_reserve (cmd, (guint64) last - first + 1))
        return;
      for (guint64 uid = first; uid <= last; uid++)
        {
          guint32 value = (guint32) uid;

          g_array_append_val (cmd->uids, value);
        }
      if (*p == ',' && p[1] != '\0')
        p++;
      else if (*p != '\0')
        {
          search_set_error (cmd);
          return;
        }
    }
}

/* Expands a uid set of the server into a new array (bounded like search results); NULL when
 * it is malformed or too large. */
GArray *
_td_imap_session_expand_set (TdImapSession *self,
                             const char    *set)
{
  Command *scratch = _td_imap_session_command_new (self, CMD_SEARCH, NULL, NULL);
  GArray *uids;

  scratch->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  search_add_set (scratch, set);
  uids = scratch->error == NULL ? g_steal_pointer (&scratch->uids) : NULL;
  _td_imap_session_command_free (scratch);
  return uids;
}

/* ------------------------------------------------------------------------------------------ */
/* UID SEARCH */

/* The (TAG "A3") correlator of an ESEARCH response, or NULL. */
char *
_td_imap_session_esearch_dup_tag (const TdImapResponse *response)
{
  const TdImapValue *first;

  if (response->values == NULL || response->values->len == 0)
    return NULL;
  first = g_ptr_array_index (response->values, 0);
  if (first->type != TD_IMAP_VALUE_LIST || first->list->len != 2 ||
      !td_imap_value_is_atom (g_ptr_array_index (first->list, 0), "TAG"))
    return NULL;
  return td_imap_value_dup_string (g_ptr_array_index (first->list, 1));
}

void
_td_imap_session_search_untagged (Command              *cmd,
                                  const TdImapResponse *response)
{
  GPtrArray *values = response->values;
  guint i = 0;

  if (values == NULL)
    return;

  if (_td_imap_session_response_is (response, "SEARCH"))
    {
      for (; i < values->len; i++)
        {
          const TdImapValue *value = g_ptr_array_index (values, i);
          guint32 uid;

          if (value->type == TD_IMAP_VALUE_LIST)
            continue;                   /* (MODSEQ n) with CONDSTORE */
          if (!td_imap_value_get_uint32 (value, &uid))
            {
              search_set_error (cmd);
              return;
            }
          if (!search_reserve (cmd, 1))
            return;
          if (uid > 0)
            g_array_append_val (cmd->uids, uid);
        }
      return;
    }

  /* ESEARCH [(TAG "x")] [UID] *(name value) */
  if (i < values->len && ((const TdImapValue *) g_ptr_array_index (values, i))->type ==
                         TD_IMAP_VALUE_LIST)
    i++;
  if (i < values->len && td_imap_value_is_atom (g_ptr_array_index (values, i), "UID"))
    i++;
  for (; i + 1 < values->len; i += 2)
    {
      const TdImapValue *name = g_ptr_array_index (values, i);
      const TdImapValue *value = g_ptr_array_index (values, i + 1);

      if (td_imap_value_is_atom (name, "ALL"))
        {
          g_autofree char *set = td_imap_value_dup_string (value);

          if (set == NULL)
            {
              search_set_error (cmd);
              return;
            }
          search_add_set (cmd, set);
        }
    }
}

static int
compare_uint32 (gconstpointer a,
                gconstpointer b)
{
  guint32 x = *(const guint32 *) a;
  guint32 y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

static void
search_done (TdImapSession        *self,
             Command              *cmd,
             const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = _td_imap_session_command_accepted (cmd, tagged, _("search the folder"));
  GArray *uids = cmd->uids;
  guint n = 0;

  if (task == NULL)
    return;
  if (cmd->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&cmd->error));
      return;
    }

  g_array_sort (uids, compare_uint32);
  for (guint i = 0; i < uids->len; i++)
    if (n == 0 || g_array_index (uids, guint32, i) != g_array_index (uids, guint32, n - 1))
      g_array_index (uids, guint32, n++) = g_array_index (uids, guint32, i);
  g_array_set_size (uids, n);
  g_task_return_pointer (task, g_steal_pointer (&cmd->uids), (GDestroyNotify) g_array_unref);
}

void
_td_imap_session_handle_search (TdImapSession *self,
                                EventData     *data)
{
  const char *criteria = g_task_get_task_data (data->task);
  Command *cmd = _td_imap_session_command_new (self, CMD_SEARCH, search_done, data->task);

  cmd->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_string_append_printf (cmd->line, "UID SEARCH %s", criteria);
  _td_imap_session_command_end (cmd);
  _td_imap_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

void
td_imap_session_uid_search_async (TdImapSession       *self,
                                  const char          *criteria,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (criteria != NULL && criteria[0] != '\0');

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_uid_search_async);
  if (!_td_imap_session_is_command_text (criteria))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "Search criteria contain control characters");
      return;
    }
  g_task_set_task_data (task, g_strdup (criteria), g_free);
  _td_imap_session_run_operation (self, EV_SEARCH, task);
}

GArray *
td_imap_session_uid_search_finish (TdImapSession  *self,
                                   GAsyncResult   *result,
                                   GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
td_imap_uid_set_build (const guint32 *uids,
                       guint          n_uids,
                       gsize          max_len,
                       guint         *consumed)
{
  GString *set = g_string_new (NULL);
  char piece[32];
  guint i = 0;

  g_return_val_if_fail (uids != NULL || n_uids == 0, NULL);

  while (i < n_uids)
    {
      guint32 first = uids[i];
      guint32 last = first;
      guint j = i + 1;
      int len;

      if (first == 0)                   /* not a UID */
        {
          i++;
          continue;
        }
      /* a run of consecutive (or repeated) uids */
      while (j < n_uids && (uids[j] == last || (last < G_MAXUINT32 && uids[j] == last + 1)))
        last = uids[j++];

      if (first == last)
        len = g_snprintf (piece, sizeof piece, "%s%u", set->len > 0 ? "," : "", first);
      else
        len = g_snprintf (piece, sizeof piece, "%s%u:%u", set->len > 0 ? "," : "", first, last);
      if (set->len + (gsize) len > max_len)
        break;
      g_string_append_len (set, piece, len);
      i = j;
    }

  if (consumed != NULL)
    *consumed = i;
  return g_string_free (set, FALSE);
}
