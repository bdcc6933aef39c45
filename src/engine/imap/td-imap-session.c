/* td-imap-session.c: one IMAP connection, driven by one explicit state table
 *
 * Every public operation and every server response is an event; handlers[state][event] names
 * what to do, and an event without an entry is refused (TD_ERROR_WRONG_STATE for an operation,
 * a protocol error for a response).
 *
 * Reading: one large read at a time, fed to the push parser; each complete response is
 * dispatched (untagged, tagged, continuation). Writing: a queue of commands; one write at a time
 * (g_output_stream_write_all_async), consecutive commands coalesced into one buffer. A command
 * with a synchronising literal (or an AUTHENTICATE without SASL-IR) is split into parts and
 * holds the queue until the server's "+".
 *
 * Reads and writes keep only a weak reference and the connection generation: a session that is
 * closed or dropped while I/O is under way ignores the late completions.
 *
 * This file holds the object, the table, commands and their tags, reading, writing, the routing
 * of responses to the commands that wait for them, and the shutdown. The operations live by
 * area in td-imap-session-connect.c, -mailbox.c, -fetch.c, -search.c, -messages.c and -idle.c;
 * td-imap-session-private.h is what they share.
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
#include "td-trace.h"

#define READ_CHUNK          (64 * 1024)
/* RFC 7888: LITERAL- allows non-synchronising literals up to this size */
#define LITERAL_MINUS_MAX   4096

static const char * const state_names[N_STATES] = {
  [ST_NEW] = N_("not connected"),
  [ST_CONNECTING] = N_("connecting"),
  [ST_GREETING] = N_("waiting for the server’s greeting"),
  [ST_NEGOTIATING] = N_("setting up the connection"),
  [ST_STARTTLS] = N_("starting encryption"),
  [ST_NOT_AUTHENTICATED] = N_("not logged in"),
  [ST_AUTHENTICATING] = N_("logging in"),
  [ST_AUTHENTICATED] = N_("logged in without an open folder"),
  [ST_SELECTING] = N_("opening a folder"),
  [ST_SELECTED] = N_("logged in with an open folder"),
  [ST_IDLE] = N_("waiting for news from the server"),
  [ST_LOGOUT] = N_("logging out"),
  [ST_CLOSED] = N_("closed"),
};

static const char * const event_names[N_EVENTS] = {
  [EV_CONNECT] = N_("connect"),
  [EV_LOGIN] = N_("log in"),
  [EV_LIST] = N_("list the folders"),
  [EV_SELECT] = N_("open a folder"),
  [EV_FETCH] = N_("fetch messages"),
  [EV_SEARCH] = N_("search messages"),
  [EV_ENABLE] = N_("turn on a server extension"),
  [EV_STORE] = N_("change flags"),
  [EV_COPY] = N_("copy or move messages"),
  [EV_APPEND] = N_("save a message"),
  [EV_EXPUNGE] = N_("remove deleted messages"),
  [EV_MAILBOX] = N_("change a folder"),
  [EV_NOOP] = N_("check for news"),
  [EV_IDLE] = N_("wait for news"),
  [EV_NOTIFY] = N_("ask to be told of changes in every folder"),
  [EV_QUOTA] = N_("ask for the quota"),
  [EV_LOGOUT] = N_("log out"),
  [EV_CLOSE] = N_("close"),
  [EV_UNTAGGED] = "untagged response",
  [EV_TAGGED] = "tagged response",
  [EV_CONTINUATION] = "continuation request",
};

G_DEFINE_FINAL_TYPE (TdImapSession, td_imap_session, G_TYPE_OBJECT)

enum {
  CLOSED,
  MAILBOX_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void dispatch (TdImapSession *self,
                      Event          event,
                      EventData     *data);

/* ------------------------------------------------------------------------------------------ */
/* Small helpers */

void
_td_imap_session_secure_clear (gpointer data,
                               gsize    len)
{
  volatile guint8 *p = data;

  while (len-- > 0)
    *p++ = 0;
}

typedef struct
{
  gpointer data;
  gsize    len;
} SecretBuffer;

static void
secret_buffer_free (gpointer user_data)
{
  SecretBuffer *buffer = user_data;

  _td_imap_session_secure_clear (buffer->data, buffer->len);
  g_free (buffer->data);
  g_free (buffer);
}

void
_td_imap_session_source_destroy (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static TdImapState
public_state (State state)
{
  switch (state)
    {
    case ST_NOT_AUTHENTICATED:
    case ST_AUTHENTICATING:
      return TD_IMAP_STATE_NOT_AUTHENTICATED;
    case ST_AUTHENTICATED:
    case ST_SELECTING:
      return TD_IMAP_STATE_AUTHENTICATED;
    case ST_SELECTED:
    case ST_IDLE:
      return TD_IMAP_STATE_SELECTED;
    case ST_LOGOUT:
      return TD_IMAP_STATE_LOGOUT;
    case ST_NEW:
    case ST_CONNECTING:
    case ST_GREETING:
    case ST_NEGOTIATING:
    case ST_STARTTLS:
    case ST_CLOSED:
    case N_STATES:
    default:
      return TD_IMAP_STATE_NOT_CONNECTED;
    }
}

gboolean
_td_imap_session_has_cap (TdImapSession *self,
                          const char    *upper_cap)
{
  return self->caps != NULL && g_hash_table_contains (self->caps, upper_cap);
}

static gboolean
trace_enabled (void)
{
  return !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
}

/* Traces @data line by line. The first line is traced as is (td_trace redacts LOGIN and
 * AUTHENTICATE); with @secret every later line is a credential and fully redacted. */
static void
trace_lines (gboolean      outgoing,
             const guint8 *data,
             gsize         len,
             gboolean      first_is_command,
             gboolean      secret)
{
  gboolean first = TRUE;

  while (len > 0)
    {
      const guint8 *lf = memchr (data, '\n', len);
      gsize n = lf != NULL ? (gsize) (lf - data) + 1 : len;
      gsize shown = n;

      while (shown > 0 && (data[shown - 1] == '\n' || data[shown - 1] == '\r'))
        shown--;
      td_trace_line (G_LOG_DOMAIN, TD_TRACE_IMAP, outgoing,
                     secret && !(first && first_is_command),
                     (const char *) data, shown);
      first = FALSE;
      data += n;
      len -= n;
    }
}

const char *
_td_imap_session_response_text (const TdImapResponse *response)
{
  if (response->text != NULL && response->text[0] != '\0')
    return response->text;
  switch (response->status)
    {
    case TD_IMAP_STATUS_NO: return "NO";
    case TD_IMAP_STATUS_BAD: return "BAD";
    case TD_IMAP_STATUS_BYE: return "BYE";
    case TD_IMAP_STATUS_OK:
    case TD_IMAP_STATUS_PREAUTH:
    case TD_IMAP_STATUS_NONE:
    default:
      return "";
    }
}

gboolean
_td_imap_session_response_is (const TdImapResponse *response,
                              const char           *name)
{
  return response->name != NULL && strcmp (response->name, name) == 0;
}

/* An error for a command the server refused. */
GError *
_td_imap_session_refused_error (const TdImapResponse *tagged,
                                const char           *what)
{
  return g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                      _("The server refused to %s: %s"), what,
                      _td_imap_session_response_text (tagged));
}

/* A read, write or connect error as the user should read it. */
GError *
_td_imap_session_map_io_error (TdImapSession *self,
                               const GError  *error)
{
  if (self->connection != NULL)
    return td_connection_translate_error (self->connection, g_error_copy (error));
  if (error->domain == TD_ERROR || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new_literal (TD_ERROR, TD_ERROR_TIMEOUT,
                                _("The server did not answer in time. Check your network "
                                  "connection and try again."));
  return g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                      _("The connection to the server was lost: %s"), error->message);
}

/* ------------------------------------------------------------------------------------------ */
/* Commands */

Command *
_td_imap_session_command_new (TdImapSession *self,
                              CommandKind    kind,
                              CommandDone    done,
                              GTask         *task)
{
  Command *cmd = g_new0 (Command, 1);

  cmd->session = self;
  cmd->kind = kind;
  cmd->done = done;
  cmd->task = task != NULL ? g_object_ref (task) : NULL;
  cmd->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  cmd->line = g_string_new (NULL);
  return cmd;
}

void
_td_imap_session_command_free (Command *cmd)
{
  g_clear_pointer (&cmd->cancel_source, _td_imap_session_source_destroy);
  g_clear_object (&cmd->task);
  g_ptr_array_unref (cmd->parts);
  if (cmd->line != NULL)
    {
      _td_imap_session_secure_clear (cmd->line->str, cmd->line->len);
      g_string_free (cmd->line, TRUE);
    }
  g_clear_pointer (&cmd->entries, g_ptr_array_unref);
  g_clear_pointer (&cmd->seen, g_hash_table_unref);
  g_clear_pointer (&cmd->uids, g_array_unref);
  g_clear_error (&cmd->error);
  td_imap_copy_uid_clear (&cmd->copy_uid);
  g_free (cmd->capability);
  g_free (cmd);
}

/* Takes the caller's task out of the command, so that nothing else completes it. */
GTask *
_td_imap_session_command_steal_task (Command *cmd)
{
  g_clear_pointer (&cmd->cancel_source, _td_imap_session_source_destroy);
  cmd->func = NULL;
  cmd->func_data = NULL;
  return g_steal_pointer (&cmd->task);
}

void
_td_imap_session_command_append (Command    *cmd,
                                 const char *text)
{
  g_string_append (cmd->line, text);
}

static void
command_push_part (Command *cmd)
{
  GBytes *bytes;
  gsize len = cmd->line->len;
  gpointer data = g_string_free (g_steal_pointer (&cmd->line), FALSE);

  if (cmd->secret)
    {
      SecretBuffer *buffer = g_new (SecretBuffer, 1);

      buffer->data = data;
      buffer->len = len;
      bytes = g_bytes_new_with_free_func (data, len, secret_buffer_free, buffer);
    }
  else
    bytes = g_bytes_new_take (data, len);
  g_ptr_array_add (cmd->parts, bytes);
  cmd->line = g_string_new (NULL);
}

/* Ends a part that the server must accept with "+" before the rest is sent. */
void
_td_imap_session_command_break (Command *cmd)
{
  g_string_append (cmd->line, "\r\n");
  command_push_part (cmd);
}

void
_td_imap_session_command_end (Command *cmd)
{
  _td_imap_session_command_break (cmd);
  g_string_free (g_steal_pointer (&cmd->line), TRUE);
}

static gboolean
needs_literal (const char *str)
{
  for (const guchar *p = (const guchar *) str; *p != '\0'; p++)
    if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
      return TRUE;
  return FALSE;
}

/* Appends @str as a quoted string, or as a literal when it needs one (8-bit, controls, quotes,
 * backslashes): non-synchronising with LITERAL+ (or LITERAL- when small), else a synchronising
 * one that waits for the server's "+". */
void
_td_imap_session_command_append_astring (TdImapSession *self,
                                         Command       *cmd,
                                         const char    *str)
{
  gsize len = strlen (str);

  if (!needs_literal (str))
    {
      g_string_append_c (cmd->line, '"');
      g_string_append_len (cmd->line, str, len);
      g_string_append_c (cmd->line, '"');
    }
  else if (_td_imap_session_has_cap (self, "LITERAL+") ||
           (_td_imap_session_has_cap (self, "LITERAL-") && len <= LITERAL_MINUS_MAX))
    {
      g_string_append_printf (cmd->line, "{%" G_GSIZE_FORMAT "+}\r\n", len);
      g_string_append_len (cmd->line, str, len);
    }
  else
    {
      g_string_append_printf (cmd->line, "{%" G_GSIZE_FORMAT "}\r\n", len);
      command_push_part (cmd);
      g_string_append_len (cmd->line, str, len);
    }
}

gboolean
_td_imap_session_is_command_text (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

gboolean
_td_imap_session_is_atom_text (const char *text)
{
  static const char specials[] = "(){ %*\"]";

  if (text == NULL || *text == '\0')
    return FALSE;
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p <= 0x20 || *p >= 0x7f || strchr (specials, *p) != NULL)
      return FALSE;
  return TRUE;
}

static gboolean
on_command_cancelled (GCancellable *cancellable,
                      gpointer      user_data)
{
  Command *cmd = user_data;
  TdImapSession *self = cmd->session;
  g_autoptr(GTask) task = _td_imap_session_command_steal_task (cmd);

  if (cmd->next_part == 0)
    {
      /* never written: it simply leaves the queue */
      g_queue_remove (&self->outgoing, cmd);
      if (cmd->kind == CMD_LOGIN && self->state == ST_AUTHENTICATING)
        self->state = ST_NOT_AUTHENTICATED;
      else if (cmd->kind == CMD_SELECT && self->state == ST_SELECTING)
        self->state = ST_AUTHENTICATED;
      _td_imap_session_command_free (cmd);
    }
  /* else: written; the tagged answer will still arrive and is then dropped quietly, but the
   * state changes it brings still apply */

  if (task != NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("The operation was cancelled"));
  return G_SOURCE_REMOVE;
}

static void
command_watch_cancellable (Command *cmd)
{
  GCancellable *cancellable;

  g_clear_pointer (&cmd->cancel_source, _td_imap_session_source_destroy);
  if (cmd->task == NULL || (cancellable = g_task_get_cancellable (cmd->task)) == NULL)
    return;
  cmd->cancel_source = g_cancellable_source_new (cancellable);
  g_source_set_callback (cmd->cancel_source, G_SOURCE_FUNC (on_command_cancelled), cmd, NULL);
  g_source_attach (cmd->cancel_source, g_task_get_context (cmd->task));
}

void
_td_imap_session_queue (TdImapSession *self,
                        Command       *cmd)
{
  g_assert (cmd->line == NULL);
  command_watch_cancellable (cmd);
  g_queue_push_tail (&self->outgoing, cmd);
  _td_imap_session_write_next (self);
}

/* The start of every CommandDone that fails on a NO or BAD: takes the caller's task out of
 * the command and, when the server refused, returns that refusal through it ("The server
 * refused to @what: ..."). NULL then, and when nobody waits any more (cancelled, or an
 * internal command); else the task, for the caller to complete. */
GTask *
_td_imap_session_command_accepted (Command              *cmd,
                                   const TdImapResponse *tagged,
                                   const char           *what)
{
  g_autoptr(GTask) task = _td_imap_session_command_steal_task (cmd);

  if (task != NULL && tagged->status != TD_IMAP_STATUS_OK)
    {
      g_task_return_error (task, _td_imap_session_refused_error (tagged, what));
      return NULL;
    }
  return g_steal_pointer (&task);
}

/* The generic end of a command that returns TRUE or the refusal. */
void
_td_imap_session_boolean_done (TdImapSession        *self,
                               Command              *cmd,
                               const TdImapResponse *tagged,
                               const char           *what)
{
  g_autoptr(GTask) task = _td_imap_session_command_accepted (cmd, tagged, what);

  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

/* ------------------------------------------------------------------------------------------ */
/* Shutdown */

static void
close_transport (TdImapSession *self)
{
  g_cancellable_cancel (self->io_cancellable);
  g_clear_object (&self->io_cancellable);
  self->io_cancellable = g_cancellable_new ();
  g_clear_object (&self->input);
  g_clear_object (&self->output);

  if (self->connection != NULL)
    td_connection_close (self->connection);
  else if (self->stream != NULL && !g_io_stream_is_closed (self->stream))
    {
      /* A socket closes at once even with a read pending (it was cancelled above). */
      if (G_IS_SOCKET_CONNECTION (self->stream))
        g_socket_close (g_socket_connection_get_socket (G_SOCKET_CONNECTION (self->stream)), NULL);
      g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
    }
}

/* Ends the connection: every pending command fails with @task_error, "closed" is emitted with
 * @closed_error (NULL for a clean end). Reentrant: callbacks may call into the session. */
void
_td_imap_session_shutdown (TdImapSession *self,
                           const GError  *closed_error,
                           const GError  *task_error)
{
  G_GNUC_UNUSED g_autoptr(TdImapSession) hold = g_object_ref (self);  /* alive to the end */
  g_autoptr(GTask) connect_task = NULL;
  GQueue commands = G_QUEUE_INIT;
  gboolean was_open = self->state != ST_NEW && self->state != ST_CLOSED;
  Command *cmd;

  g_assert (task_error != NULL);

  self->generation++;
  self->state = ST_CLOSED;
  self->reading = FALSE;
  self->writing = FALSE;
  self->starttls_sent = FALSE;
  self->tls_pending = FALSE;
  memset (&self->mailbox, 0, sizeof self->mailbox);
  close_transport (self);

  while ((cmd = g_queue_pop_head (&self->inflight)) != NULL)
    g_queue_push_tail (&commands, cmd);
  while ((cmd = g_queue_pop_head (&self->outgoing)) != NULL)
    if (cmd->next_part == 0)            /* a half-sent one is in inflight too */
      g_queue_push_tail (&commands, cmd);

  connect_task = g_steal_pointer (&self->connect_task);
  g_clear_pointer (&self->connect_cancel_source, _td_imap_session_source_destroy);

  while ((cmd = g_queue_pop_head (&commands)) != NULL)
    {
      g_autoptr(GTask) task = _td_imap_session_command_steal_task (cmd);

      _td_imap_session_command_free (cmd);
      if (task != NULL)
        g_task_return_error (task, g_error_copy (task_error));
    }
  if (connect_task != NULL)
    g_task_return_error (connect_task, g_error_copy (task_error));

  if (was_open)
    g_signal_emit (self, signals[CLOSED], 0, closed_error);
}

void
_td_imap_session_fail (TdImapSession *self,
                       GError        *error)   /* (transfer full) */
{
  _td_imap_session_shutdown (self, error, error);
  g_error_free (error);
}

static void
session_fail_protocol (TdImapSession *self,
                       const char    *what)
{
  _td_imap_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                                            _("The server broke the IMAP protocol (%s). The "
                                              "connection was closed; try again later."), what));
}

/* The LOGOUT completed (OK, BYE then EOF, or EOF): a clean end. */
void
_td_imap_session_finish_logout (TdImapSession *self)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                                 _("The connection was closed by logging out"));

  /* the LOGOUT's task (its command is freed with the others) */
  for (GList *l = self->outgoing.head; l != NULL && task == NULL; l = l->next)
    if (((Command *) l->data)->kind == CMD_LOGOUT)
      task = _td_imap_session_command_steal_task (l->data);
  for (GList *l = self->inflight.head; l != NULL && task == NULL; l = l->next)
    if (((Command *) l->data)->kind == CMD_LOGOUT)
      task = _td_imap_session_command_steal_task (l->data);
  _td_imap_session_shutdown (self, NULL, error);
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing */

static void
on_write_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data);

IoOp *
_td_imap_session_io_op_new (TdImapSession *self)
{
  IoOp *op = g_new0 (IoOp, 1);

  g_weak_ref_init (&op->session, self);
  op->generation = self->generation;
  return op;
}

void
_td_imap_session_io_op_free (IoOp *op)
{
  if (op->secret && op->data != NULL)
    _td_imap_session_secure_clear (op->data, op->len);
  g_free (op->data);
  g_weak_ref_clear (&op->session);
  g_free (op);
}

/* A new reference to the session, or NULL when it is gone or the op is from an older
 * connection. */
TdImapSession *
_td_imap_session_io_op_get_session (IoOp *op)
{
  TdImapSession *self = g_weak_ref_get (&op->session);

  if (self != NULL && self->generation != op->generation)
    g_clear_object (&self);
  return self;
}

void
_td_imap_session_write_next (TdImapSession *self)
{
  g_autoptr(GByteArray) buffer = NULL;
  gboolean secret = FALSE;
  Command *cmd;
  IoOp *op;

  if (self->writing || self->output == NULL || self->state == ST_STARTTLS || self->tls_pending)
    return;

  while ((cmd = g_queue_peek_head (&self->outgoing)) != NULL)
    {
      GBytes *part;
      gsize start;

      if (cmd->next_part > 0 && !cmd->continued)
        break;                          /* waits for the server's "+" */

      if (buffer == NULL)
        buffer = g_byte_array_new ();
      start = buffer->len;

      if (cmd->next_part == 0)
        {
          g_snprintf (cmd->tag, sizeof cmd->tag, "A%u", ++self->next_tag);
          g_byte_array_append (buffer, (const guint8 *) cmd->tag, strlen (cmd->tag));
          g_byte_array_append (buffer, (const guint8 *) " ", 1);
          g_queue_push_tail (&self->inflight, cmd);
        }
      part = g_ptr_array_index (cmd->parts, cmd->next_part);
      g_byte_array_append (buffer, g_bytes_get_data (part, NULL), g_bytes_get_size (part));
      if (trace_enabled ())
        trace_lines (TRUE, buffer->data + start, buffer->len - start, cmd->next_part == 0,
                     cmd->secret);
      secret |= cmd->secret;
      cmd->next_part++;
      cmd->continued = FALSE;

      if (cmd->next_part < cmd->parts->len)
        break;                          /* the rest after the "+" */
      g_queue_pop_head (&self->outgoing);
      if (cmd->kind == CMD_STARTTLS || cmd->kind == CMD_LOGOUT)
        break;                          /* nothing may follow these in the same write */
    }

  if (buffer == NULL || buffer->len == 0)
    return;

  op = _td_imap_session_io_op_new (self);
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
  g_autoptr(TdImapSession) self = _td_imap_session_io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);

  _td_imap_session_io_op_free (op);
  if (self == NULL)
    return;

  self->writing = FALSE;
  if (!ok)
    {
      _td_imap_session_fail (self, _td_imap_session_map_io_error (self, error));
      return;
    }
  _td_imap_session_maybe_start_tls (self);
  _td_imap_session_write_next (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading */

static void
on_read_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data);

static void
read_next (TdImapSession *self,
           IoOp          *op)
{
  g_input_stream_read_async (self->input, op->data, op->len, G_PRIORITY_DEFAULT,
                             self->io_cancellable, on_read_done, op);
}

void
_td_imap_session_start_reading (TdImapSession *self)
{
  IoOp *op;

  if (self->reading || self->input == NULL)
    return;
  op = _td_imap_session_io_op_new (self);
  op->len = READ_CHUNK;
  op->data = g_malloc (op->len);
  self->reading = TRUE;
  read_next (self, op);
}

static void
dispatch_response (TdImapSession        *self,
                   const TdImapResponse *response)
{
  EventData data = { .response = response };

  switch (response->kind)
    {
    case TD_IMAP_RESPONSE_UNTAGGED:
      dispatch (self, EV_UNTAGGED, &data);
      break;
    case TD_IMAP_RESPONSE_TAGGED:
      dispatch (self, EV_TAGGED, &data);
      break;
    case TD_IMAP_RESPONSE_CONTINUATION:
      dispatch (self, EV_CONTINUATION, &data);
      break;
    default:
      session_fail_protocol (self, "unknown response kind");
      break;
    }
}

/* Feeds @data and dispatches what it completes. FALSE when the connection ended meanwhile. */
static gboolean
feed_and_dispatch (TdImapSession *self,
                   const guint8  *data,
                   gsize          len)
{
  g_autoptr(GPtrArray) responses =
    g_ptr_array_new_with_free_func ((GDestroyNotify) td_imap_response_free);
  g_autoptr(GError) error = NULL;
  guint generation = self->generation;
  gboolean ok = td_imap_parser_feed (self->parser, data, len, responses, &error);

  for (guint i = 0; i < responses->len; i++)
    {
      dispatch_response (self, g_ptr_array_index (responses, i));
      if (self->generation != generation)
        return FALSE;
    }

  if (!ok)
    {
      if (g_error_matches (error, TD_ERROR, TD_ERROR_LIMIT))
        _td_imap_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_LIMIT,
                                                  _("The server sent more data than is safe to "
                                                    "accept (%s). The connection was closed."),
                                                  error->message));
      else
        _td_imap_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PARSE,
                                                  _("The server sent a response that could not be "
                                                    "understood (%s). The connection was closed."),
                                                  error->message));
      return FALSE;
    }
  return TRUE;
}

static void
process_input (TdImapSession *self,
               const guint8  *data,
               gsize          len)
{
  if (trace_enabled ())
    trace_lines (FALSE, data, len, FALSE, FALSE);

  if (!self->starttls_sent)
    {
      feed_and_dispatch (self, data, len);
      return;
    }

  /* A STARTTLS is in flight: feed line by line, so that nothing the server sent after its OK
   * in plaintext can reach the parser (RFC 3501 11.1: such data is an attack). */
  while (len > 0)
    {
      const guint8 *lf = memchr (data, '\n', len);
      gsize n = lf != NULL ? (gsize) (lf - data) + 1 : len;

      if (!feed_and_dispatch (self, data, n))
        return;
      data += n;
      len -= n;

      if (self->state == ST_STARTTLS)
        {
          if (len > 0 || td_imap_parser_get_pending (self->parser) > 0)
            {
              _td_imap_session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                                _("The server sent unencrypted "
                                                                  "data after agreeing to start "
                                                                  "encryption. The connection was "
                                                                  "closed for your safety.")));
              return;
            }
          _td_imap_session_maybe_start_tls (self);
          return;
        }
    }
}

static gboolean
session_is_idle (TdImapSession *self)
{
  return g_queue_is_empty (&self->inflight) && g_queue_is_empty (&self->outgoing) &&
         (self->state == ST_NOT_AUTHENTICATED || self->state == ST_AUTHENTICATED ||
          self->state == ST_SELECTED);
}

static void
on_read_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdImapSession) self = _td_imap_session_io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  guint generation;

  if (self == NULL)
    {
      _td_imap_session_io_op_free (op);
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
      _td_imap_session_io_op_free (op);
      self->reading = FALSE;
      _td_imap_session_fail (self, _td_imap_session_map_io_error (self, error));
      return;
    }

  if (n == 0)
    {
      _td_imap_session_io_op_free (op);
      self->reading = FALSE;
      if (self->state == ST_LOGOUT)
        _td_imap_session_finish_logout (self);
      else
        _td_imap_session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                                          _("The server closed the connection. "
                                                            "Check your network connection and try "
                                                            "again.")));
      return;
    }

  generation = self->generation;
  process_input (self, op->data, (gsize) n);

  if (self->generation != generation || self->state == ST_STARTTLS || self->input == NULL)
    {
      if (self->generation == generation)
        self->reading = FALSE;
      _td_imap_session_io_op_free (op);
      return;
    }
  read_next (self, op);
}

/* ------------------------------------------------------------------------------------------ */
/* Server event handlers */

static gboolean
command_wants (Command              *cmd,
               const TdImapResponse *response)
{
  switch (cmd->kind)
    {
    case CMD_FETCH:
      return response->status == TD_IMAP_STATUS_NONE &&
             _td_imap_session_response_is (response, "FETCH");
    case CMD_LIST:
      return response->status == TD_IMAP_STATUS_NONE &&
             (_td_imap_session_response_is (response, "LIST") ||
              (cmd->list_status && _td_imap_session_response_is (response, "STATUS")));
    case CMD_SEARCH:
      if (response->status != TD_IMAP_STATUS_NONE)
        return FALSE;
      if (_td_imap_session_response_is (response, "SEARCH"))
        return TRUE;
      if (_td_imap_session_response_is (response, "ESEARCH"))
        {
          g_autofree char *tag = _td_imap_session_esearch_dup_tag (response);

          return tag == NULL || strcmp (tag, cmd->tag) == 0;
        }
      return FALSE;
    case CMD_SELECT:
      return _td_imap_session_select_wants (response) ||
             (cmd->qresync && response->status == TD_IMAP_STATUS_NONE &&
              (_td_imap_session_response_is (response, "VANISHED") ||
               _td_imap_session_response_is (response, "FETCH")));
    case CMD_STORE:
      return response->status == TD_IMAP_STATUS_NONE &&
             _td_imap_session_response_is (response, "FETCH");
    case CMD_COPY:
      return response->status == TD_IMAP_STATUS_OK && response->code != NULL &&
             strcmp (response->code, "COPYUID") == 0;
    case CMD_ENABLE:
      return response->status == TD_IMAP_STATUS_NONE &&
             _td_imap_session_response_is (response, "ENABLED");
    case CMD_QUOTA:
      return response->status == TD_IMAP_STATUS_NONE &&
             (_td_imap_session_response_is (response, "QUOTA") ||
              _td_imap_session_response_is (response, "QUOTAROOT"));
    case CMD_EXPUNGE:
    case CMD_MAILBOX:
    case CMD_NOOP:
    case CMD_IDLE:
    case CMD_NOTIFY:
    case CMD_CAPABILITY:
    case CMD_STARTTLS:
    case CMD_LOGIN:
    case CMD_LOGOUT:
    default:
      return FALSE;
    }
}

static void
handle_untagged (TdImapSession *self,
                 EventData     *data)
{
  const TdImapResponse *response = data->response;

  _td_imap_session_take_capabilities (self, response);

  if (response->status == TD_IMAP_STATUS_BYE)
    {
      if (self->state == ST_LOGOUT)
        return;                         /* expected; the OK or EOF follows */
      _td_imap_session_fail (self, g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                                                _("The server closed the connection: %s"),
                                                _td_imap_session_response_text (response)));
      return;
    }

  for (GList *l = self->inflight.head; l != NULL; l = l->next)
    {
      Command *cmd = l->data;

      if (!command_wants (cmd, response))
        continue;
      switch (cmd->kind)
        {
        case CMD_FETCH:
          _td_imap_session_fetch_untagged (self, cmd, response);
          break;
        case CMD_LIST:
          _td_imap_session_list_untagged (cmd, response);
          break;
        case CMD_SEARCH:
          _td_imap_session_search_untagged (cmd, response);
          break;
        case CMD_SELECT:
          _td_imap_session_select_untagged (cmd, response);
          break;
        case CMD_STORE:
          _td_imap_session_fetch_untagged (self, cmd, response);
          break;
        case CMD_COPY:
          _td_imap_session_copy_untagged (cmd, response);
          break;
        case CMD_ENABLE:
          _td_imap_session_enable_untagged (self, response);
          break;
        case CMD_QUOTA:
          _td_imap_session_quota_untagged (cmd, response);
          break;
        case CMD_EXPUNGE:
        case CMD_MAILBOX:
        case CMD_NOOP:
        case CMD_IDLE:
        case CMD_NOTIFY:
        case CMD_CAPABILITY:
        case CMD_STARTTLS:
        case CMD_LOGIN:
        case CMD_LOGOUT:
        default:
          break;
        }
      return;
    }

  /* unsolicited */
  if ((self->state == ST_SELECTED || self->state == ST_IDLE) &&
      response->status == TD_IMAP_STATUS_NONE)
    {
      gboolean changed = FALSE;

      if (response->has_number && _td_imap_session_response_is (response, "EXISTS"))
        {
          changed = response->number != self->mailbox.exists;
          self->mailbox.exists = response->number;
        }
      else if (response->has_number && _td_imap_session_response_is (response, "EXPUNGE"))
        {
          if (self->mailbox.exists > 0)
            self->mailbox.exists--;
          changed = TRUE;
        }
      else if (_td_imap_session_response_is (response, "FETCH") ||
               _td_imap_session_response_is (response, "VANISHED"))
        changed = TRUE;
      /* RFC 5465: another folder changed (STATUS), or one was made, renamed or removed */
      else if (self->notify && (_td_imap_session_response_is (response, "STATUS") ||
                                _td_imap_session_response_is (response, "LIST")))
        changed = TRUE;
      /* last: a handler may close the session */
      if (changed)
        g_signal_emit (self, signals[MAILBOX_CHANGED], 0);
    }
}

static void
handle_tagged (TdImapSession *self,
               EventData     *data)
{
  const TdImapResponse *response = data->response;
  GList *link = NULL;
  Command *cmd;

  for (GList *l = self->inflight.head; l != NULL && response->tag != NULL; l = l->next)
    if (strcmp (((Command *) l->data)->tag, response->tag) == 0)
      {
        link = l;
        break;
      }
  if (link == NULL)
    {
      session_fail_protocol (self, "an answer to a command that was not sent");
      return;
    }
  if (response->status != TD_IMAP_STATUS_OK && response->status != TD_IMAP_STATUS_NO &&
      response->status != TD_IMAP_STATUS_BAD)
    {
      session_fail_protocol (self, "a tagged answer that is neither OK, NO nor BAD");
      return;
    }

  cmd = link->data;
  g_queue_delete_link (&self->inflight, link);
  /* refused before all of it was sent (e.g. a NO instead of "+" for a literal) */
  if (cmd->next_part < cmd->parts->len)
    g_queue_remove (&self->outgoing, cmd);
  if (response->status == TD_IMAP_STATUS_OK)
    _td_imap_session_take_capabilities (self, response);

  cmd->done (self, cmd, response);
  _td_imap_session_command_free (cmd);
  _td_imap_session_write_next (self);
}

static void
handle_continuation (TdImapSession *self,
                     EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->outgoing);

  if (cmd != NULL && cmd->kind == CMD_IDLE && cmd->next_part == 1 && !cmd->idle_started)
    {
      /* idling: DONE goes out when asked for (or at once if it already was) */
      cmd->idle_started = TRUE;
      if (cmd->idle_done)
        {
          cmd->continued = TRUE;
          _td_imap_session_write_next (self);
        }
      return;
    }

  if (cmd == NULL || cmd->next_part == 0 || cmd->continued)
    {
      session_fail_protocol (self, "a continuation request nobody asked for");
      return;
    }
  cmd->continued = TRUE;
  _td_imap_session_write_next (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Closing */

void
_td_imap_session_handle_close (TdImapSession *self,
                               EventData     *data)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 _("The connection was closed"));

  _td_imap_session_shutdown (self, NULL, error);
}

static void
handle_close_idle (TdImapSession *self,
                   EventData     *data)
{
  /* explicitly nothing: not connected */
}

/* ------------------------------------------------------------------------------------------ */
/* The table */

#define SERVER_EVENTS \
  [EV_UNTAGGED] = handle_untagged, \
  [EV_TAGGED] = handle_tagged, \
  [EV_CONTINUATION] = handle_continuation

static const EventHandler handlers[N_STATES][N_EVENTS] = {
  [ST_NEW] = {
    [EV_CONNECT] = _td_imap_session_handle_connect,
    [EV_LOGOUT] = _td_imap_session_handle_logout_closed,
    [EV_CLOSE] = handle_close_idle,
  },
  [ST_CONNECTING] = {
    [EV_LOGOUT] = _td_imap_session_handle_logout_abort,
    [EV_CLOSE] = _td_imap_session_handle_close,
  },
  [ST_GREETING] = {
    [EV_LOGOUT] = _td_imap_session_handle_logout_abort,
    [EV_CLOSE] = _td_imap_session_handle_close,
    [EV_UNTAGGED] = _td_imap_session_handle_greeting,
  },
  [ST_NEGOTIATING] = {
    [EV_LOGOUT] = _td_imap_session_handle_logout_abort,
    [EV_CLOSE] = _td_imap_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_STARTTLS] = {
    [EV_LOGOUT] = _td_imap_session_handle_logout_abort,
    [EV_CLOSE] = _td_imap_session_handle_close,
  },
  [ST_NOT_AUTHENTICATED] = {
    [EV_LOGIN] = _td_imap_session_handle_login,
    [EV_LOGOUT] = _td_imap_session_handle_logout,
    [EV_CLOSE] = _td_imap_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_AUTHENTICATING] = {
    [EV_LOGOUT] = _td_imap_session_handle_logout,
    [EV_CLOSE] = _td_imap_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_AUTHENTICATED] = {
    [EV_LIST] = _td_imap_session_handle_list,
    [EV_SELECT] = _td_imap_session_handle_select,
    [EV_ENABLE] = _td_imap_session_handle_enable,
    [EV_MAILBOX] = _td_imap_session_handle_mailbox,
    [EV_APPEND] = _td_imap_session_handle_append,
    [EV_NOOP] = _td_imap_session_handle_noop,
    [EV_QUOTA] = _td_imap_session_handle_quota,
    [EV_LOGOUT] = _td_imap_session_handle_logout,
    [EV_CLOSE] = _td_imap_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_SELECTING] = {
    [EV_LIST] = _td_imap_session_handle_list,
    [EV_LOGOUT] = _td_imap_session_handle_logout,
    [EV_CLOSE] = _td_imap_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_SELECTED] = {
    [EV_LIST] = _td_imap_session_handle_list,
    [EV_SELECT] = _td_imap_session_handle_select,
    [EV_FETCH] = _td_imap_session_handle_fetch,
    [EV_SEARCH] = _td_imap_session_handle_search,
    [EV_ENABLE] = _td_imap_session_handle_enable,
    [EV_STORE] = _td_imap_session_handle_store,
    [EV_COPY] = _td_imap_session_handle_copy,
    [EV_APPEND] = _td_imap_session_handle_append,
    [EV_EXPUNGE] = _td_imap_session_handle_expunge,
    [EV_MAILBOX] = _td_imap_session_handle_mailbox,
    [EV_NOOP] = _td_imap_session_handle_noop,
    [EV_IDLE] = _td_imap_session_handle_idle,
    [EV_NOTIFY] = _td_imap_session_handle_notify,
    [EV_QUOTA] = _td_imap_session_handle_quota,
    [EV_LOGOUT] = _td_imap_session_handle_logout,
    [EV_CLOSE] = _td_imap_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_IDLE] = {
    [EV_LOGOUT] = _td_imap_session_handle_logout,
    [EV_CLOSE] = _td_imap_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_LOGOUT] = {
    [EV_LOGOUT] = _td_imap_session_handle_logout_again,
    [EV_CLOSE] = _td_imap_session_handle_close,
    SERVER_EVENTS,
  },
  [ST_CLOSED] = {
    [EV_LOGOUT] = _td_imap_session_handle_logout_closed,
    [EV_CLOSE] = handle_close_idle,
  },
};

static void
dispatch (TdImapSession *self,
          Event          event,
          EventData     *data)
{
  EventHandler handler;

  g_assert (self->state < N_STATES && event < N_EVENTS);

  handler = handlers[self->state][event];
  if (handler != NULL)
    {
      handler (self, data);
      return;
    }

  if (data->task != NULL)
    g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_WRONG_STATE,
                             _("Cannot %s now: the connection is %s."),
                             _(event_names[event]), _(state_names[self->state]));
  else
    {
      g_autofree char *what = g_strdup_printf ("a %s while %s", event_names[event],
                                               state_names[self->state]);

      session_fail_protocol (self, what);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* GObject */

static void
td_imap_session_dispose (GObject *object)
{
  TdImapSession *self = (TdImapSession *) object;

  if (self->state != ST_NEW && self->state != ST_CLOSED)
    {
      self->generation++;
      self->state = ST_CLOSED;
      close_transport (self);
    }
  g_clear_pointer (&self->connect_cancel_source, _td_imap_session_source_destroy);

  G_OBJECT_CLASS (td_imap_session_parent_class)->dispose (object);
}

static void
td_imap_session_finalize (GObject *object)
{
  TdImapSession *self = (TdImapSession *) object;
  Command *cmd;

  while ((cmd = g_queue_pop_head (&self->outgoing)) != NULL)
    if (cmd->next_part == 0)            /* a half-sent one is in inflight too */
      _td_imap_session_command_free (cmd);
  while ((cmd = g_queue_pop_head (&self->inflight)) != NULL)
    _td_imap_session_command_free (cmd);
  g_clear_object (&self->connect_task);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->io_cancellable);
  g_clear_object (&self->stream);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->parser, td_imap_parser_free);
  g_clear_pointer (&self->caps, g_hash_table_unref);
  g_clear_pointer (&self->enabled, g_hash_table_unref);

  G_OBJECT_CLASS (td_imap_session_parent_class)->finalize (object);
}

static void
td_imap_session_class_init (TdImapSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_imap_session_dispose;
  object_class->finalize = td_imap_session_finalize;

  /**
   * TdImapSession::closed:
   * @error: (nullable): why the connection ended, or %NULL for a clean end
   */
  signals[CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  /**
   * TdImapSession::mailbox-changed:
   *
   * The server said, unasked, that the selected folder changed (EXISTS, EXPUNGE, FETCH,
   * VANISHED), e.g. during IDLE.
   */
  signals[MAILBOX_CHANGED] = g_signal_new ("mailbox-changed", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 0);
}

static void
td_imap_session_init (TdImapSession *self)
{
  self->state = ST_NEW;
  self->io_cancellable = g_cancellable_new ();
  g_queue_init (&self->outgoing);
  g_queue_init (&self->inflight);
  self->enabled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

TdImapSession *
td_imap_session_new (TdConnection *connection)
{
  TdImapSession *self;

  g_return_val_if_fail (TD_IS_CONNECTION (connection), NULL);

  self = g_object_new (TD_TYPE_IMAP_SESSION, NULL);
  self->connection = g_object_ref (connection);
  return self;
}

TdImapSession *
td_imap_session_new_for_stream (GIOStream *stream)
{
  TdImapSession *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (TD_TYPE_IMAP_SESSION, NULL);
  self->stream = g_object_ref (stream);
  return self;
}

TdImapState
td_imap_session_get_state (TdImapSession *self)
{
  g_return_val_if_fail (TD_IS_IMAP_SESSION (self), TD_IMAP_STATE_NOT_CONNECTED);

  return public_state (self->state);
}

gboolean
td_imap_session_has_capability (TdImapSession *self,
                                const char    *capability)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TD_IS_IMAP_SESSION (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  upper = g_ascii_strup (capability, -1);
  return _td_imap_session_has_cap (self, upper);
}

const TdImapMailbox *
td_imap_session_get_mailbox (TdImapSession *self)
{
  g_return_val_if_fail (TD_IS_IMAP_SESSION (self), NULL);

  return self->state == ST_SELECTED ? &self->mailbox : NULL;
}

void
_td_imap_session_run_operation (TdImapSession *self,
                                Event          event,
                                GTask         *task)
{
  EventData data = { .task = task };

  if (g_task_return_error_if_cancelled (task))
    return;
  dispatch (self, event, &data);
}

static void
op_args_free (OpArgs *args)
{
  g_free (args->text);
  g_free (args->text2);
  g_clear_pointer (&args->data, g_bytes_unref);
  g_free (args);
}

GTask *
_td_imap_session_op_task_new (TdImapSession       *self,
                              gpointer             source_tag,
                              OpArgs              *args,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, args, (GDestroyNotify) op_args_free);
  return task;
}

void
td_imap_session_close (TdImapSession *self)
{
  EventData data = { 0, };

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  dispatch (self, EV_CLOSE, &data);
}
