/* td-pop3-session-queue.c: the command queue of a POP3 session
 *
 * An operation queues one or more commands (a batch one per message; a login USER and then
 * PASS). The writer takes commands from the outgoing queue while fewer than the window are in
 * flight (1 without PIPELINING), coalesces them into one write, and tells the parser, in the
 * same order, what each answer will be. Answers come in order: each status line, or the END
 * of a multi-line answer, completes the oldest command in flight. An AUTH whose response must
 * wait for the server's "+" holds the queue until it comes.
 *
 * Reads and writes keep only a weak reference and the connection generation: a session that is
 * closed or dropped while I/O is under way ignores the late completions.
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
#include "td-trace.h"

#define READ_CHUNK        (64 * 1024)

/* ------------------------------------------------------------------------------------------ */
/* Commands */

typedef struct
{
  gpointer data;
  gsize    len;
} SecretBuffer;

static void
secret_buffer_free (gpointer user_data)
{
  SecretBuffer *buffer = user_data;

  _td_pop3_session_secure_clear (buffer->data, buffer->len);
  g_free (buffer->data);
  g_free (buffer);
}

Command *
_td_pop3_session_command_new (CommandKind   kind,
                              TdPop3Expect  expect,
                              CommandDone   done,
                              GTask        *task)
{
  Command *cmd = g_new0 (Command, 1);

  cmd->kind = kind;
  cmd->expect = expect;
  cmd->done = done;
  cmd->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  if (task != NULL)
    {
      cmd->task = g_object_ref (task);
      g_queue_push_tail (&_td_pop3_session_task_op (task)->commands, cmd);
    }
  return cmd;
}

/* Takes the operation's task out of the command, so that nothing else completes it through
 * this command. */
GTask *
_td_pop3_session_command_detach (Command *cmd)
{
  if (cmd->task != NULL)
    g_queue_remove (&_td_pop3_session_task_op (cmd->task)->commands, cmd);
  return g_steal_pointer (&cmd->task);
}

void
_td_pop3_session_command_free (Command *cmd)
{
  if (cmd->task != NULL)
    g_object_unref (_td_pop3_session_command_detach (cmd));
  g_ptr_array_unref (cmd->parts);
  g_clear_pointer (&cmd->status, td_pop3_event_free);
  g_clear_pointer (&cmd->caps, g_hash_table_unref);
  g_clear_pointer (&cmd->list, g_array_unref);
  g_clear_pointer (&cmd->uidl, g_ptr_array_unref);
  g_clear_error (&cmd->error);
  g_free (cmd);
}

/* Adds a line (CRLF added) to be sent as the command's next part. */
void
_td_pop3_session_command_add_line (Command    *cmd,
                                   const char *line)
{
  gsize len = strlen (line);
  char *data = g_malloc (len + 2);
  GBytes *bytes;

  memcpy (data, line, len);
  data[len] = '\r';
  data[len + 1] = '\n';
  if (cmd->secret)
    {
      SecretBuffer *buffer = g_new (SecretBuffer, 1);

      buffer->data = data;
      buffer->len = len + 2;
      bytes = g_bytes_new_with_free_func (data, len + 2, secret_buffer_free, buffer);
    }
  else
    bytes = g_bytes_new_take (data, len + 2);
  g_ptr_array_add (cmd->parts, bytes);
}

void
_td_pop3_session_queue (TdPop3Session *self,
                        Command       *cmd)
{
  g_assert (cmd->parts->len > 0);
  g_queue_push_tail (&self->outgoing, cmd);
  _td_pop3_session_write_next (self);
}

Command *
_td_pop3_session_queue_line (TdPop3Session *self,
                             CommandKind    kind,
                             TdPop3Expect   expect,
                             CommandDone    done,
                             GTask         *task,
                             const char    *line)
{
  Command *cmd = _td_pop3_session_command_new (kind, expect, done, task);

  _td_pop3_session_command_add_line (cmd, line);
  _td_pop3_session_queue (self, cmd);
  return cmd;
}

/* The start of every CommandDone of a TRANSACTION command: takes the task out of the command
 * and, when the server refused, returns that refusal through it. NULL then, and when nobody
 * waits any more; else the task, for the caller to complete. */
GTask *
_td_pop3_session_command_accepted (Command           *cmd,
                                   const TdPop3Event *status,
                                   const char        *what)
{
  g_autoptr(GTask) task = _td_pop3_session_command_detach (cmd);

  if (task != NULL && !status->ok)
    {
      GError *error = _td_pop3_session_refused_error (status, TD_ERROR_PROTOCOL, what);

      _td_pop3_session_task_return_error (task, error);
      return NULL;
    }
  if (task != NULL && cmd->error != NULL)
    {
      _td_pop3_session_task_return_error (task, g_error_copy (cmd->error));
      return NULL;
    }
  return g_steal_pointer (&task);
}

/* The whole CommandDone of a command that gives TRUE or the refusal. */
void
_td_pop3_session_boolean_done (Command           *cmd,
                               const TdPop3Event *status,
                               const char        *what)
{
  g_autoptr(GTask) task = _td_pop3_session_command_accepted (cmd, status, what);

  if (task != NULL)
    _td_pop3_session_task_return_boolean (task, TRUE);
}

/* ------------------------------------------------------------------------------------------ */
/* Batches: one command a message, all queued at once; the writer keeps the window full */

void
_td_pop3_session_queue_batch (TdPop3Session *self,
                              const Batch   *batch,
                              GTask         *task)
{
  Op *op = _td_pop3_session_task_op (task);
  guint n = op->numbers != NULL ? op->numbers->len : 1;

  if (n == 0)
    {
      batch->batch_done (task);
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      guint32 number = op->numbers != NULL ? g_array_index (op->numbers, guint32, i)
                                           : op->number;
      g_autofree char *line = g_strdup_printf ("%s %u", batch->verb, number);
      Command *cmd = _td_pop3_session_command_new (batch->kind, batch->expect, batch->done, task);

      cmd->number = number;
      _td_pop3_session_command_add_line (cmd, line);
      g_queue_push_tail (&self->outgoing, cmd);
    }
  _td_pop3_session_write_next (self);
}

void
_td_pop3_session_batch_answer (const Batch       *batch,
                               Command           *cmd,
                               const TdPop3Event *status,
                               const char        *what)
{
  g_autoptr(GTask) task = _td_pop3_session_command_detach (cmd);
  g_autoptr(GError) error = NULL;
  Op *op;

  if (task == NULL)
    return;
  op = _td_pop3_session_task_op (task);
  if (!status->ok)
    error = _td_pop3_session_refused_error (status, TD_ERROR_PROTOCOL, what);

  if (op->numbers == NULL)
    {
      if (error != NULL)
        _td_pop3_session_task_return_error (task, g_steal_pointer (&error));
      else
        _td_pop3_session_task_return_boolean (task, TRUE);
      return;
    }

  /* a batch: the callback may close the session, which then fails the rest of the batch */
  batch->message_done (op, cmd->number, error);
  if (g_queue_is_empty (&op->commands))
    batch->batch_done (task);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing */

IoOp *
_td_pop3_session_io_op_new (TdPop3Session *self)
{
  IoOp *op = g_new0 (IoOp, 1);

  g_weak_ref_init (&op->session, self);
  op->generation = self->generation;
  return op;
}

void
_td_pop3_session_io_op_free (IoOp *op)
{
  if (op->secret && op->data != NULL)
    _td_pop3_session_secure_clear (op->data, op->len);
  g_free (op->data);
  g_weak_ref_clear (&op->session);
  g_free (op);
}

/* A new reference to the session, or NULL when it is gone or the op is from an older
 * connection. */
TdPop3Session *
_td_pop3_session_io_op_get_session (IoOp *op)
{
  TdPop3Session *self = g_weak_ref_get (&op->session);

  if (self != NULL && self->generation != op->generation)
    g_clear_object (&self);
  return self;
}

static gboolean
trace_enabled (void)
{
  return !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
}

static guint
window (TdPop3Session *self)
{
  return _td_pop3_session_has_cap (self, "PIPELINING") ? self->window : 1;
}

static void on_write_done (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data);

void
_td_pop3_session_write_next (TdPop3Session *self)
{
  g_autoptr(GByteArray) buffer = NULL;
  gboolean secret = FALSE;
  Command *cmd;
  IoOp *op;

  if (self->writing || self->output == NULL || self->state == ST_STLS || self->tls_pending)
    return;

  while ((cmd = g_queue_peek_head (&self->outgoing)) != NULL)
    {
      GBytes *part;
      gsize len;
      const guint8 *data;

      if (cmd->next_part > 0 && !cmd->continued)
        break;                          /* waits for the server's "+" */
      if (cmd->next_part == 0)
        {
          if (g_queue_get_length (&self->inflight) >= window (self))
            break;
          g_queue_push_tail (&self->inflight, cmd);
          td_pop3_parser_expect (self->parser, cmd->expect);
        }

      part = g_ptr_array_index (cmd->parts, cmd->next_part);
      data = g_bytes_get_data (part, &len);
      if (buffer == NULL)
        buffer = g_byte_array_new ();
      g_byte_array_append (buffer, data, (guint) len);
      if (trace_enabled ())
        td_trace_line (G_LOG_DOMAIN, TD_TRACE_POP3, TRUE, cmd->secret && cmd->next_part > 0,
                       (const char *) data, len - 2);
      secret |= cmd->secret;
      cmd->next_part++;
      cmd->continued = FALSE;

      if (cmd->next_part < cmd->parts->len)
        break;                          /* the rest after the "+" */
      g_queue_pop_head (&self->outgoing);
      if (cmd->kind == CMD_STLS || cmd->kind == CMD_QUIT)
        break;                          /* nothing may follow these */
    }

  if (buffer == NULL)
    return;

  op = _td_pop3_session_io_op_new (self);
  op->secret = secret;
  op->len = buffer->len;
  op->data = g_byte_array_free (g_steal_pointer (&buffer), FALSE);
  self->writing = TRUE;
  g_output_stream_write_all_async (self->output, op->data, op->len, G_PRIORITY_DEFAULT,
                                   self->io_cancellable, on_write_done, op);
}

static void
on_write_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdPop3Session) self = _td_pop3_session_io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);

  _td_pop3_session_io_op_free (op);
  if (self == NULL)
    return;

  self->writing = FALSE;
  if (!ok)
    {
      _td_pop3_session_fail (self, _td_pop3_session_map_io_error (self, error));
      return;
    }
  _td_pop3_session_maybe_start_tls (self);
  _td_pop3_session_write_next (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading */

static void on_read_done (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data);

static void
trace_input (const guint8 *data,
             gsize         len)
{
  while (len > 0)
    {
      const guint8 *lf = memchr (data, '\n', len);
      gsize n = lf != NULL ? (gsize) (lf - data) + 1 : len;
      gsize shown = n;

      while (shown > 0 && (data[shown - 1] == '\n' || data[shown - 1] == '\r'))
        shown--;
      td_trace_line (G_LOG_DOMAIN, TD_TRACE_POP3, FALSE, FALSE, (const char *) data, shown);
      data += n;
      len -= n;
    }
}

static void
read_next (TdPop3Session *self,
           IoOp          *op)
{
  g_input_stream_read_async (self->input, op->data, op->len, G_PRIORITY_DEFAULT,
                             self->io_cancellable, on_read_done, op);
}

void
_td_pop3_session_start_reading (TdPop3Session *self)
{
  IoOp *op;

  if (self->reading || self->input == NULL)
    return;
  op = _td_pop3_session_io_op_new (self);
  op->len = READ_CHUNK;
  op->data = g_malloc (op->len);
  self->reading = TRUE;
  read_next (self, op);
}

static void
dispatch_event (TdPop3Session     *self,
                const TdPop3Event *event)
{
  EventData data = { .event = event };
  static const Event events[] = {
    [TD_POP3_EVENT_STATUS] = EV_STATUS,
    [TD_POP3_EVENT_CONTINUATION] = EV_CONTINUATION,
    [TD_POP3_EVENT_LINE] = EV_LINE,
    [TD_POP3_EVENT_DATA] = EV_DATA,
    [TD_POP3_EVENT_END] = EV_END,
  };

  g_assert (event->kind < G_N_ELEMENTS (events));
  _td_pop3_session_dispatch (self, events[event->kind], &data);
}

/* Feeds @data and dispatches what it gives. FALSE when the connection ended meanwhile. */
static gboolean
feed_and_dispatch (TdPop3Session *self,
                   const guint8  *data,
                   gsize          len)
{
  g_autoptr(GPtrArray) events =
    g_ptr_array_new_with_free_func ((GDestroyNotify) td_pop3_event_free);
  g_autoptr(GError) error = NULL;
  guint generation = self->generation;
  gboolean ok = td_pop3_parser_feed (self->parser, data, len, events, &error);

  for (guint i = 0; i < events->len; i++)
    {
      dispatch_event (self, g_ptr_array_index (events, i));
      if (self->generation != generation)
        return FALSE;
    }

  if (!ok)
    {
      if (g_error_matches (error, TD_ERROR, TD_ERROR_LIMIT))
        _td_pop3_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_LIMIT,
                                                  _("The server sent more data than is safe "
                                                    "to accept (%s). The connection was "
                                                    "closed."),
                                                  error->message));
      else
        _td_pop3_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PARSE,
                                                  _("The server sent an answer that could not "
                                                    "be understood (%s). The connection was "
                                                    "closed."),
                                                  error->message));
      return FALSE;
    }
  return TRUE;
}

static void
process_input (TdPop3Session *self,
               const guint8  *data,
               gsize          len)
{
  if (trace_enabled ())
    trace_input (data, len);

  if (!self->stls_sent)
    {
      feed_and_dispatch (self, data, len);
      return;
    }

  /* An STLS is in flight: feed line by line, so that nothing the server sent after its +OK in
   * plaintext can reach the parser (RFC 2595 4: such data is an attack). */
  while (len > 0)
    {
      const guint8 *lf = memchr (data, '\n', len);
      gsize n = lf != NULL ? (gsize) (lf - data) + 1 : len;

      if (!feed_and_dispatch (self, data, n))
        return;
      data += n;
      len -= n;

      if (self->state == ST_STLS)
        {
          if (len > 0 || td_pop3_parser_get_pending (self->parser) > 0)
            {
              _td_pop3_session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                                _("The server sent unencrypted "
                                                                  "data after agreeing to start "
                                                                  "encryption. The connection "
                                                                  "was closed for your safety.")));
              return;
            }
          _td_pop3_session_maybe_start_tls (self);
          return;
        }
    }
}

static gboolean
session_is_idle (TdPop3Session *self)
{
  return g_queue_is_empty (&self->inflight) && g_queue_is_empty (&self->outgoing) &&
         (self->state == ST_AUTHORIZATION || self->state == ST_TRANSACTION);
}

static void
on_read_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdPop3Session) self = _td_pop3_session_io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  guint generation;

  if (self == NULL)
    {
      _td_pop3_session_io_op_free (op);
      return;
    }

  if (n < 0)
    {
      /* a socket timeout while nothing is asked of the server is no failure */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) && session_is_idle (self))
        {
          read_next (self, op);
          return;
        }
      _td_pop3_session_io_op_free (op);
      self->reading = FALSE;
      _td_pop3_session_fail (self, _td_pop3_session_map_io_error (self, error));
      return;
    }

  if (n == 0)
    {
      _td_pop3_session_io_op_free (op);
      self->reading = FALSE;
      _td_pop3_session_handle_eof (self);
      return;
    }

  generation = self->generation;
  process_input (self, op->data, (gsize) n);

  if (self->generation != generation || self->state == ST_STLS || self->input == NULL)
    {
      if (self->generation == generation)
        self->reading = FALSE;
      _td_pop3_session_io_op_free (op);
      return;
    }
  read_next (self, op);
}

/* ------------------------------------------------------------------------------------------ */
/* Answers: each completes the oldest command in flight */

static TdPop3Event *
status_copy (const TdPop3Event *event)
{
  TdPop3Event *copy = g_new0 (TdPop3Event, 1);

  copy->kind = event->kind;
  copy->ok = event->ok;
  copy->code = event->code;
  copy->code_text = g_strdup (event->code_text);
  copy->text = g_strdup (event->text);
  return copy;
}

/* The oldest command in flight completes with @status. */
static void
complete_head (TdPop3Session     *self,
               const TdPop3Event *status)
{
  Command *cmd = g_queue_pop_head (&self->inflight);

  /* refused before all of it was sent (a -ERR instead of the "+" of an AUTH) */
  if (cmd->next_part < cmd->parts->len)
    g_queue_remove (&self->outgoing, cmd);
  cmd->done (self, cmd, status);
  _td_pop3_session_command_free (cmd);
  _td_pop3_session_write_next (self);
}

void
_td_pop3_session_handle_status (TdPop3Session *self,
                                EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);
  const TdPop3Event *event = data->event;

  if (cmd == NULL)
    {
      _td_pop3_session_fail_protocol (self, "an answer to a command that was not sent");
      return;
    }
  if (!event->ok)
    self->refusal_code = event->code;
  if (event->ok && (cmd->expect == TD_POP3_EXPECT_LINES || cmd->expect == TD_POP3_EXPECT_DATA))
    {
      cmd->status = status_copy (event);   /* the rest follows; END completes it */
      return;
    }
  complete_head (self, event);
}

void
_td_pop3_session_handle_continuation (TdPop3Session *self,
                                      EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);

  if (cmd == NULL || cmd->kind != CMD_AUTH || cmd->next_part >= cmd->parts->len ||
      cmd->continued)
    {
      _td_pop3_session_fail_protocol (self, "a continuation nobody asked for");
      return;
    }
  cmd->continued = TRUE;
  _td_pop3_session_write_next (self);
}

void
_td_pop3_session_handle_line (TdPop3Session *self,
                              EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);
  const char *line = data->event->text;

  if (cmd == NULL || cmd->status == NULL || cmd->expect != TD_POP3_EXPECT_LINES)
    {
      _td_pop3_session_fail_protocol (self, "a listing nobody asked for");
      return;
    }
  if (cmd->error != NULL)
    return;                             /* the rest of a bad listing is read and dropped */

  switch (cmd->kind)
    {
    case CMD_CAPA:
      _td_pop3_session_capa_line (cmd, line);
      break;
    case CMD_LIST:
      _td_pop3_session_list_line (cmd, line);
      break;
    case CMD_UIDL:
      _td_pop3_session_uidl_line (cmd, line);
      break;
    case CMD_STLS:
    case CMD_USER:
    case CMD_PASS:
    case CMD_APOP:
    case CMD_AUTH:
    case CMD_STAT:
    case CMD_TOP:
    case CMD_RETR:
    case CMD_DELE:
    case CMD_RSET:
    case CMD_NOOP:
    case CMD_QUIT:
    default:
      g_assert_not_reached ();
    }
}

void
_td_pop3_session_handle_data (TdPop3Session *self,
                              EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);
  Op *op;

  if (cmd == NULL || cmd->status == NULL || cmd->expect != TD_POP3_EXPECT_DATA)
    {
      _td_pop3_session_fail_protocol (self, "message data nobody asked for");
      return;
    }
  op = cmd->task != NULL ? _td_pop3_session_task_op (cmd->task) : NULL;
  /* last: the callback may close the session, which frees @cmd */
  if (op != NULL && op->chunk_func != NULL)
    op->chunk_func (cmd->number, data->event->data, op->func_data);
}

void
_td_pop3_session_handle_end (TdPop3Session *self,
                             EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);

  if (cmd == NULL || cmd->status == NULL)
    {
      _td_pop3_session_fail_protocol (self, "the end of an answer that was not begun");
      return;
    }
  complete_head (self, cmd->status);
}
