/* td-store-search.c: the full-text index (FTS5) and search over it
 *
 * A message is indexed by subject and addresses when its row is inserted, and again with its
 * body text when the body comes. A search turns what the user typed into an FTS5 expression
 * that cannot be a syntax error and runs on the store thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-store.h"
#include "td-store-private.h"

#include <string.h>

/* Search: how much of the user's text is looked at, and how many words. */
#define MAX_QUERY_BYTES   1024
#define MAX_QUERY_TERMS   16

gboolean
_td_store_fts_index (TdStore     *self,
                     gint64       id,
                     const char  *subject,
                     const char  *addresses,
                     const char  *body,
                     gboolean     replace,
                     GError     **error)
{
  TdDbStmt *stmt;

  if (replace)
    {
      stmt = td_db_prepare (self->wdb, "DELETE FROM message_fts WHERE rowid = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, id);
      if (!td_db_run (self->wdb, stmt, error))
        return FALSE;
    }

  stmt = td_db_prepare (self->wdb,
                        "INSERT INTO message_fts (rowid, subject, addresses, body)"
                        " VALUES (?1, ?2, ?3, ?4)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, subject != NULL ? subject : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, addresses != NULL ? addresses : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, body != NULL ? body : "", -1, SQLITE_STATIC);
  return td_db_run (self->wdb, stmt, error);
}

char *
_td_store_join_addresses (const char *from_name,
                          const char *from_address,
                          const char *to,
                          const char *cc)
{
  GString *str = g_string_new (NULL);

  _td_store_append_nonempty (str, from_name);
  _td_store_append_nonempty (str, from_address);
  _td_store_append_nonempty (str, to);
  _td_store_append_nonempty (str, cc);
  return g_string_free (str, FALSE);
}

static gboolean
is_word_char (gunichar c)
{
  /* What FTS5's unicode61 tokenizer keeps: letters, numbers, private use. */
  switch (g_unichar_type (c))
    {
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_DECIMAL_NUMBER:
    case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_OTHER_NUMBER:
    case G_UNICODE_PRIVATE_USE:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Whatever the user typed, as an FTS5 expression that cannot be a syntax error: every word
 * (a run of letters and digits, as the unicode61 tokenizer cuts them) a quoted string, all of
 * them required, the last one a prefix. The index keeps no positions, so there are no
 * phrases: "e-mail" looks for "e" and "mail". NULL when there is nothing to look for. */
static char *
build_match_expression (const char *query)
{
  g_autofree char *valid = NULL;
  g_autoptr(GString) expr = g_string_new (NULL);
  const char *p;
  guint terms = 0;

  if (query == NULL)
    return NULL;
  valid = g_utf8_make_valid (query, MIN (strlen (query), MAX_QUERY_BYTES));

  p = valid;
  while (*p != '\0' && terms < MAX_QUERY_TERMS)
    {
      const char *start;

      while (*p != '\0' && !is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      start = p;
      while (*p != '\0' && is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      if (p == start)
        continue;

      /* Word characters never include '"', so the token needs no escaping. */
      if (terms++ > 0)
        g_string_append_c (expr, ' ');
      g_string_append_c (expr, '"');
      g_string_append_len (expr, start, p - start);
      g_string_append_c (expr, '"');
    }

  if (terms == 0)
    return NULL;
  g_string_append_c (expr, '*');
  return g_string_free (g_steal_pointer (&expr), FALSE);
}

static gboolean
search_job (TdStore  *self,
            Job      *job,
            GError  **error)
{
  ReadData *d = job->data;
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  TdDbStmt *stmt;
  int rc;

  stmt = td_db_prepare (self->wdb,
                        "SELECT " MESSAGE_COLUMNS " FROM message_fts"
                        " JOIN message m ON m.id = message_fts.rowid"
                        " WHERE message_fts MATCH ?1"
                        " ORDER BY m.date DESC, m.id DESC LIMIT ?2", error);
  if (stmt == NULL)
    return FALSE;
  td_db_bind_text (stmt, 1, d->query);
  sqlite3_bind_int64 (stmt, 2, d->limit > 0 ? (sqlite3_int64) d->limit : -1);
  while ((rc = td_db_step (self->wdb, stmt, error)) == SQLITE_ROW)
    g_ptr_array_add (messages, _td_store_message_from_row (stmt));
  td_db_stmt_release (stmt);
  if (rc < 0)
    return FALSE;

  job->result = g_steal_pointer (&messages);
  job->result_free = (GDestroyNotify) g_ptr_array_unref;
  return TRUE;
}

void
td_store_search_async (TdStore             *self,
                       const char          *query,
                       guint                limit,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  ReadData *d;
  Job *job;

  g_return_if_fail (TD_IS_STORE (self));

  d = g_new0 (ReadData, 1);
  d->query = build_match_expression (query);
  d->limit = limit;
  job = _td_store_job_new (self, JOB_READ, search_job, d, _td_store_read_data_free,
                           td_store_search_async, cancellable, callback, user_data);

  if (d->query == NULL)
    {
      g_task_return_pointer (job->task, g_ptr_array_new_with_free_func (g_object_unref),
                             (GDestroyNotify) g_ptr_array_unref);
      _td_store_job_free (job);
      return;
    }

  _td_store_queue_job (self, job);
}

GPtrArray *
td_store_search_finish (TdStore       *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
