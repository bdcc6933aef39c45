/* td-pop3-session.c: one POP3 connection, driven by one explicit state table
 *
 * Every public operation and every parsed server event is an event of the table;
 * handlers[state][event] names what to do, and an event without an entry is refused
 * (TD_ERROR_WRONG_STATE for an operation, a protocol error for server input).
 *
 * Commands: an operation queues one or more commands (a batch one per message; a login USER
 * and then PASS). The writer takes commands from the outgoing queue while fewer than the
 * window are in flight (1 without PIPELINING), coalesces them into one write, and tells the
 * parser, in the same order, what each answer will be. Answers come in order: each status
 * line, or the END of a multi-line answer, completes the oldest command in flight. An AUTH
 * whose response must wait for the server's "+" holds the queue until it comes.
 *
 * Operations keep their state (arguments, the commands not finished, results) in an Op, the
 * data of their GTask. Cancelling drops the commands not yet written; the answers to the
 * written ones still arrive and are dropped quietly (what they do to the state still applies).
 *
 * Reads and writes keep only a weak reference and the connection generation: a session that is
 * closed or dropped while I/O is under way ignores the late completions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-pop3"

#include "config.h"

#include "td-pop3-session.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-pop3-parser.h"
#include "td-trace.h"

#define READ_CHUNK        (64 * 1024)
/* RFC 2449 4: a command line is at most 255 octets, its CRLF included */
#define COMMAND_LINE_MAX  255
/* capabilities one CAPA answer may give (a hostile listing stops here) */
#define MAX_CAPABILITIES  256

typedef enum
{
  ST_NEW,                 /* never connected */
  ST_CONNECTING,          /* TdConnection connecting (TCP, implicit TLS) */
  ST_GREETING,            /* waiting for the greeting */
  ST_NEGOTIATING,         /* CAPA / STLS before connect completes */
  ST_STLS,                /* TLS handshake: nothing is read or written */
  ST_AUTHORIZATION,
  ST_AUTHENTICATING,      /* USER/PASS, APOP or AUTH in flight */
  ST_TRANSACTION,
  ST_UPDATE,              /* QUIT sent */
  ST_CLOSED,              /* the connection ended; a session is not reused */
  N_STATES
} State;

typedef enum
{
  /* operations */
  EV_CONNECT,
  EV_CAPA,
  EV_LOGIN,
  EV_APOP,
  EV_AUTH,
  EV_STAT,
  EV_LIST,
  EV_UIDL,
  EV_TOP,
  EV_RETR,
  EV_DELE,
  EV_RSET,
  EV_NOOP,
  EV_QUIT,
  EV_CLOSE,
  /* server events */
  EV_STATUS,
  EV_CONTINUATION,
  EV_LINE,
  EV_DATA,
  EV_END,
  N_EVENTS
} Event;

static const char * const state_names[N_STATES] = {
  [ST_NEW] = N_("not connected"),
  [ST_CONNECTING] = N_("connecting"),
  [ST_GREETING] = N_("waiting for the server’s greeting"),
  [ST_NEGOTIATING] = N_("setting up the connection"),
  [ST_STLS] = N_("starting encryption"),
  [ST_AUTHORIZATION] = N_("not logged in"),
  [ST_AUTHENTICATING] = N_("logging in"),
  [ST_TRANSACTION] = N_("logged in"),
  [ST_UPDATE] = N_("quitting"),
  [ST_CLOSED] = N_("closed"),
};

static const char * const event_names[N_EVENTS] = {
  [EV_CONNECT] = N_("connect"),
  [EV_CAPA] = N_("ask for the server’s capabilities"),
  [EV_LOGIN] = N_("log in"),
  [EV_APOP] = N_("log in"),
  [EV_AUTH] = N_("log in"),
  [EV_STAT] = N_("ask for the size of the mailbox"),
  [EV_LIST] = N_("list the messages"),
  [EV_UIDL] = N_("list the messages"),
  [EV_TOP] = N_("fetch the start of a message"),
  [EV_RETR] = N_("fetch messages"),
  [EV_DELE] = N_("delete messages"),
  [EV_RSET] = N_("undo deletions"),
  [EV_NOOP] = N_("check the connection"),
  [EV_QUIT] = N_("quit"),
  [EV_CLOSE] = N_("close"),
  [EV_STATUS] = "status line",
  [EV_CONTINUATION] = "continuation",
  [EV_LINE] = "listing line",
  [EV_DATA] = "message data",
  [EV_END] = "end of a multi-line answer",
};

typedef enum
{
  CMD_CAPA,
  CMD_STLS,
  CMD_USER,
  CMD_PASS,
  CMD_APOP,
  CMD_AUTH,
  CMD_STAT,
  CMD_LIST,
  CMD_UIDL,
  CMD_TOP,
  CMD_RETR,
  CMD_DELE,
  CMD_RSET,
  CMD_NOOP,
  CMD_QUIT,
} CommandKind;

typedef struct _Command Command;

/* Called with the answer (the status line; for a multi-line answer its "+OK", at its END)
 * once the command is out of the queues. */
typedef void (*CommandDone) (TdPop3Session     *self,
                             Command           *cmd,
                             const TdPop3Event *status);

struct _Command
{
  CommandKind   kind;
  CommandDone   done;
  TdPop3Expect  expect;
  GPtrArray    *parts;       /* GBytes*, each a line with its CRLF; an AUTH's second part goes
                              * after the server's "+" */
  guint         next_part;
  gboolean      continued;   /* the "+" for the next part arrived */
  gboolean      secret;      /* carries credentials: parts zeroed, traced redacted */
  gboolean      update;      /* QUIT sent from TRANSACTION */
  guint32       number;      /* the message, 0 when none */
  GTask        *task;        /* the operation's; NULL for internal commands and once cancelled */

  TdPop3Event  *status;      /* the "+OK" of a multi-line answer, until its END */
  GHashTable   *caps;        /* CAPA */
  GArray       *list;        /* LIST: TdPop3ListEntry */
  GPtrArray    *uidl;        /* UIDL: TdPop3UidlEntry* */
  GError       *error;       /* the first problem with a listing */
};

/* The data of an operation's task. */
typedef struct
{
  char              *username;
  char              *password;
  guint32            number;
  guint              lines;
  GArray            *numbers;      /* guint32 */
  TdPop3ChunkFunc    chunk_func;
  TdPop3MessageFunc  message_func;
  gpointer           func_data;
  gboolean           watch_cancel;

  GQueue             commands;     /* Command*, borrowed: those not finished */
  GSource           *cancel_source;
  gboolean           returned;

  guint32            count;        /* STAT */
  guint64            size;         /* STAT, LIST n */
  GArray            *refused;      /* DELE many: guint32 */
} Op;

struct _TdPop3Session
{
  GObject        parent_instance;

  TdConnection  *connection;       /* NULL for a session over a given stream */
  GIOStream     *stream;           /* the given stream, or NULL */
  GInputStream  *input;
  GOutputStream *output;
  GCancellable  *io_cancellable;
  guint          generation;       /* bumped at every shutdown; late I/O of an older one is
                                    * ignored */

  State          state;
  TdPop3Parser  *parser;
  gboolean       reading;
  gboolean       writing;

  GHashTable    *caps;             /* upper-case keyword -> arguments; NULL while not asked */
  gboolean       capa_supported;
  char          *timestamp;        /* APOP, from the greeting */
  guint          window;

  gboolean       stls_sent;        /* STLS in flight: input is fed line by line */
  gboolean       tls_pending;      /* STLS +OK seen; handshake once the last write is done */
  gboolean       tls_done;

  GTask         *connect_task;
  GSource       *connect_cancel_source;

  GQueue         outgoing;         /* Command*, not completely written */
  GQueue         inflight;         /* Command*, written at least in part, in sending order */
};

/* What an event brings to its handler in the table. */
typedef struct
{
  GTask             *task;         /* operations */
  const TdPop3Event *event;        /* server events */
} EventData;

typedef void (*EventHandler) (TdPop3Session *self,
                              EventData     *data);

/* One read, write, connect or TLS handshake under way. */
typedef struct
{
  GWeakRef  session;
  guint     generation;
  guint8   *data;
  gsize     len;
  gboolean  secret;
} IoOp;

G_DEFINE_FINAL_TYPE (TdPop3Session, td_pop3_session, G_TYPE_OBJECT)

enum {
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void dispatch         (TdPop3Session *self,
                              Event          event,
                              EventData     *data);
static void write_next       (TdPop3Session *self);
static void start_reading    (TdPop3Session *self);
static void connect_continue (TdPop3Session *self);

/* ------------------------------------------------------------------------------------------ */
/* Small helpers */

static void
secure_clear (gpointer data,
              gsize    len)
{
  volatile guint8 *p = data;

  while (len-- > 0)
    *p++ = 0;
}

static void
secure_free (char *str)
{
  if (str != NULL)
    secure_clear (str, strlen (str));
  g_free (str);
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

  secure_clear (buffer->data, buffer->len);
  g_free (buffer->data);
  g_free (buffer);
}

static void
source_destroy (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static TdPop3State
public_state (State state)
{
  switch (state)
    {
    case ST_AUTHORIZATION:
    case ST_AUTHENTICATING:
      return TD_POP3_STATE_AUTHORIZATION;
    case ST_TRANSACTION:
      return TD_POP3_STATE_TRANSACTION;
    case ST_UPDATE:
      return TD_POP3_STATE_UPDATE;
    case ST_NEW:
    case ST_CONNECTING:
    case ST_GREETING:
    case ST_NEGOTIATING:
    case ST_STLS:
    case ST_CLOSED:
    case N_STATES:
    default:
      return TD_POP3_STATE_NOT_CONNECTED;
    }
}

static gboolean
has_cap (TdPop3Session *self,
         const char    *upper)
{
  return self->caps != NULL && g_hash_table_contains (self->caps, upper);
}

static gboolean
trace_enabled (void)
{
  return !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
}

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

/* The server's words for a refusal, for messages. */
static const char *
server_text (const TdPop3Event *status)
{
  return status->text != NULL && status->text[0] != '\0' ? status->text
                                                          : (status->ok ? "+OK" : "-ERR");
}

static GError *
auth_error (const char *text)
{
  return g_error_new (TD_ERROR, TD_ERROR_AUTH,
                      _("The server refused the user name or password (%s). Check them in "
                        "the account settings."), text);
}

/* The error for a "-ERR": by its response code, else @fallback (TD_ERROR_AUTH for the
 * credentials, TD_ERROR_CONNECTION for the greeting, TD_ERROR_PROTOCOL for the rest). @what
 * says what was refused ("retrieve message 3"). */
static GError *
refused_error (const TdPop3Event *status,
               TdError            fallback,
               const char        *what)
{
  const char *text = server_text (status);

  switch (status->code)
    {
    case TD_POP3_CODE_IN_USE:
      return g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                          _("The mailbox is in use by another connection, perhaps another mail "
                            "program (%s). Close it, or wait a few minutes and try again."),
                          text);
    case TD_POP3_CODE_LOGIN_DELAY:
      return g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                          _("The server allows logging in only every few minutes (%s). Try "
                            "again later, or check for new mail less often."), text);
    case TD_POP3_CODE_SYS_TEMP:
      return g_error_new (TD_ERROR, TD_ERROR_TRY_LATER,
                          _("The server has a temporary problem (%s). Try again later."), text);
    case TD_POP3_CODE_SYS_PERM:
      return g_error_new (TD_ERROR, TD_ERROR_PERMANENT,
                          _("The server refused to %s, and trying again will not help (%s). "
                            "Ask your mail provider about the account."), what, text);
    case TD_POP3_CODE_AUTH:
      return auth_error (text);
    case TD_POP3_CODE_NONE:
    case TD_POP3_CODE_OTHER:
    default:
      break;
    }

  switch (fallback)
    {
    case TD_ERROR_AUTH:
      return auth_error (text);
    case TD_ERROR_CONNECTION:
      return g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                          _("The server refused the connection (%s). Try again later."), text);
    default:
      return g_error_new (TD_ERROR, TD_ERROR_PROTOCOL, _("The server refused to %s: %s"),
                          what, text);
    }
}

/* A read, write or connect error as the user should read it. */
static GError *
map_io_error (TdPop3Session *self,
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

/* ------------------------------------------------------------------------------------------ */
/* Operations: their tasks */

static void
op_free (Op *op)
{
  secure_free (op->username);
  secure_free (op->password);
  g_clear_pointer (&op->numbers, g_array_unref);
  g_clear_pointer (&op->cancel_source, source_destroy);
  g_clear_pointer (&op->refused, g_array_unref);
  g_queue_clear (&op->commands);
  g_free (op);
}

static Op *
task_op (GTask *task)
{
  return g_task_get_task_data (task);
}

/* Every result of an operation goes through one of these: the task is settled once, and a
 * cancellation after that does nothing. */
static gboolean
task_settle (GTask *task)
{
  Op *op = task_op (task);   /* NULL for the connect task */

  if (op == NULL)
    return TRUE;
  if (op->returned)
    return FALSE;
  op->returned = TRUE;
  g_clear_pointer (&op->cancel_source, source_destroy);
  return TRUE;
}

static void
task_return_error (GTask  *task,
                   GError *error)      /* (transfer full) */
{
  if (task_settle (task))
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

static void
task_return_boolean (GTask    *task,
                     gboolean  value)
{
  if (task_settle (task))
    g_task_return_boolean (task, value);
}

static void
task_return_pointer (GTask          *task,
                     gpointer        result,
                     GDestroyNotify  result_destroy)
{
  if (task_settle (task))
    g_task_return_pointer (task, result, result_destroy);
  else if (result_destroy != NULL)
    result_destroy (result);
}

static GTask *
op_task_new (TdPop3Session       *self,
             gpointer             source_tag,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);
  g_queue_init (&op->commands);
  op->watch_cancel = TRUE;
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  return task;
}

/* ------------------------------------------------------------------------------------------ */
/* Commands */

static Command *
command_new (CommandKind   kind,
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
      g_queue_push_tail (&task_op (task)->commands, cmd);
    }
  return cmd;
}

/* Takes the operation's task out of the command, so that nothing else completes it through
 * this command. */
static GTask *
command_detach (Command *cmd)
{
  if (cmd->task != NULL)
    g_queue_remove (&task_op (cmd->task)->commands, cmd);
  return g_steal_pointer (&cmd->task);
}

static void
command_free (Command *cmd)
{
  if (cmd->task != NULL)
    g_object_unref (command_detach (cmd));
  g_ptr_array_unref (cmd->parts);
  g_clear_pointer (&cmd->status, td_pop3_event_free);
  g_clear_pointer (&cmd->caps, g_hash_table_unref);
  g_clear_pointer (&cmd->list, g_array_unref);
  g_clear_pointer (&cmd->uidl, g_ptr_array_unref);
  g_clear_error (&cmd->error);
  g_free (cmd);
}

/* Adds a line (CRLF added) to be sent as the command's next part. */
static void
command_add_line (Command    *cmd,
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

static void
queue_command (TdPop3Session *self,
               Command       *cmd)
{
  g_assert (cmd->parts->len > 0);
  g_queue_push_tail (&self->outgoing, cmd);
  write_next (self);
}

static Command *
queue_line (TdPop3Session *self,
            CommandKind    kind,
            TdPop3Expect   expect,
            CommandDone    done,
            GTask         *task,
            const char    *line)
{
  Command *cmd = command_new (kind, expect, done, task);

  command_add_line (cmd, line);
  queue_command (self, cmd);
  return cmd;
}

static gboolean
auth_pending (TdPop3Session *self)
{
  GQueue *queues[] = { &self->outgoing, &self->inflight };

  for (guint i = 0; i < G_N_ELEMENTS (queues); i++)
    for (GList *l = queues[i]->head; l != NULL; l = l->next)
      {
        CommandKind kind = ((Command *) l->data)->kind;

        if (kind == CMD_USER || kind == CMD_PASS || kind == CMD_APOP || kind == CMD_AUTH)
          return TRUE;
      }
  return FALSE;
}

static gboolean
on_op_cancelled (GCancellable *cancellable,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = g_object_ref (user_data);
  TdPop3Session *self = g_task_get_source_object (task);
  Op *op = task_op (task);
  Command *cmd;

  g_clear_pointer (&op->cancel_source, source_destroy);
  while ((cmd = g_queue_pop_head (&op->commands)) != NULL)
    {
      g_clear_object (&cmd->task);
      if (cmd->next_part == 0)
        {
          /* never written: it simply leaves the queue */
          g_queue_remove (&self->outgoing, cmd);
          command_free (cmd);
        }
      /* else: written; its answer will still come and is then dropped quietly */
    }
  if (self->state == ST_AUTHENTICATING && !auth_pending (self))
    self->state = ST_AUTHORIZATION;

  task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                _("The operation was cancelled")));
  return G_SOURCE_REMOVE;
}

static void
run_operation (TdPop3Session *self,
               Event          event,
               GTask         *task)
{
  EventData data = { .task = task };
  GCancellable *cancellable = g_task_get_cancellable (task);
  Op *op = task_op (task);

  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                    _("The operation was cancelled")));
      return;
    }
  if (op != NULL && op->watch_cancel && cancellable != NULL)
    {
      op->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (op->cancel_source, G_SOURCE_FUNC (on_op_cancelled), task, NULL);
      g_source_attach (op->cancel_source, g_task_get_context (task));
    }
  dispatch (self, event, &data);
}

/* ------------------------------------------------------------------------------------------ */
/* Shutdown */

static void
close_transport (TdPop3Session *self)
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

/* Ends the connection: every pending operation fails with @task_error, "closed" is emitted with
 * @closed_error (NULL for a clean end). Reentrant: callbacks may call into the session. */
static void
shutdown_session (TdPop3Session *self,
                  const GError  *closed_error,
                  const GError  *task_error)
{
  G_GNUC_UNUSED g_autoptr(TdPop3Session) hold = g_object_ref (self);  /* alive to the end */
  g_autoptr(GTask) connect_task = NULL;
  GQueue commands = G_QUEUE_INIT;
  gboolean was_open = self->state != ST_NEW && self->state != ST_CLOSED;
  Command *cmd;

  g_assert (task_error != NULL);

  self->generation++;
  self->state = ST_CLOSED;
  self->reading = FALSE;
  self->writing = FALSE;
  self->stls_sent = FALSE;
  self->tls_pending = FALSE;
  close_transport (self);

  while ((cmd = g_queue_pop_head (&self->inflight)) != NULL)
    g_queue_push_tail (&commands, cmd);
  while ((cmd = g_queue_pop_head (&self->outgoing)) != NULL)
    if (cmd->next_part == 0)            /* a half-sent one is in inflight too */
      g_queue_push_tail (&commands, cmd);

  connect_task = g_steal_pointer (&self->connect_task);
  g_clear_pointer (&self->connect_cancel_source, source_destroy);

  while ((cmd = g_queue_pop_head (&commands)) != NULL)
    {
      g_autoptr(GTask) task = command_detach (cmd);

      command_free (cmd);
      /* an operation of several commands fails once, with its last */
      if (task != NULL && g_queue_is_empty (&task_op (task)->commands))
        task_return_error (task, g_error_copy (task_error));
    }
  if (connect_task != NULL)
    g_task_return_error (connect_task, g_error_copy (task_error));

  if (was_open)
    g_signal_emit (self, signals[CLOSED], 0, closed_error);
}

static void
session_fail (TdPop3Session *self,
              GError        *error)     /* (transfer full) */
{
  shutdown_session (self, error, error);
  g_error_free (error);
}

static void
session_fail_protocol (TdPop3Session *self,
                       const char    *what)
{
  session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                                   _("The server broke the POP3 protocol (%s). The connection "
                                     "was closed; try again later."), what));
}

static GError *
server_closed_error (TdPop3Session *self)
{
  if (self->parser != NULL && td_pop3_parser_in_multiline (self->parser))
    return g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                _("The server closed the connection in the middle of an "
                                  "answer, so a message or a list is incomplete. Check your "
                                  "network connection and try again."));
  return g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                              _("The server closed the connection. Check your network "
                                "connection and try again."));
}

/* The QUIT is over: its answer came (@status), or the connection ended first (NULL). */
static void
finish_quit (TdPop3Session     *self,
             GTask             *task,
             gboolean           update,
             const TdPop3Event *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) pending_error = server_closed_error (self);

  if (update && status == NULL)
    error = g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                 _("The server closed the connection before it confirmed "
                                   "removing the messages marked for deletion; they may still "
                                   "be on the server."));
  else if (update && !status->ok)
    error = refused_error (status, TD_ERROR_PROTOCOL,
                           _("remove the messages marked for deletion"));

  shutdown_session (self, status == NULL ? error : NULL, pending_error);
  if (task == NULL)
    return;
  if (error != NULL)
    task_return_error (task, g_steal_pointer (&error));
  else
    task_return_boolean (task, TRUE);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing */

static IoOp *
io_op_new (TdPop3Session *self)
{
  IoOp *op = g_new0 (IoOp, 1);

  g_weak_ref_init (&op->session, self);
  op->generation = self->generation;
  return op;
}

static void
io_op_free (IoOp *op)
{
  if (op->secret && op->data != NULL)
    secure_clear (op->data, op->len);
  g_free (op->data);
  g_weak_ref_clear (&op->session);
  g_free (op);
}

/* A new reference to the session, or NULL when it is gone or the op is from an older
 * connection. */
static TdPop3Session *
io_op_get_session (IoOp *op)
{
  TdPop3Session *self = g_weak_ref_get (&op->session);

  if (self != NULL && self->generation != op->generation)
    g_clear_object (&self);
  return self;
}

static guint
window (TdPop3Session *self)
{
  return has_cap (self, "PIPELINING") ? self->window : 1;
}

static void on_write_done (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data);

static void
write_next (TdPop3Session *self)
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

  op = io_op_new (self);
  op->secret = secret;
  op->len = buffer->len;
  op->data = g_byte_array_free (g_steal_pointer (&buffer), FALSE);
  self->writing = TRUE;
  g_output_stream_write_all_async (self->output, op->data, op->len, G_PRIORITY_DEFAULT,
                                   self->io_cancellable, on_write_done, op);
}

static void maybe_start_tls (TdPop3Session *self);

static void
on_write_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdPop3Session) self = io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);

  io_op_free (op);
  if (self == NULL)
    return;

  self->writing = FALSE;
  if (!ok)
    {
      session_fail (self, map_io_error (self, error));
      return;
    }
  maybe_start_tls (self);
  write_next (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading */

static void on_read_done (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data);

static void
read_next (TdPop3Session *self,
           IoOp          *op)
{
  g_input_stream_read_async (self->input, op->data, op->len, G_PRIORITY_DEFAULT,
                             self->io_cancellable, on_read_done, op);
}

static void
start_reading (TdPop3Session *self)
{
  IoOp *op;

  if (self->reading || self->input == NULL)
    return;
  op = io_op_new (self);
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
  dispatch (self, events[event->kind], &data);
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
        session_fail (self, g_error_new (TD_ERROR, TD_ERROR_LIMIT,
                                         _("The server sent more data than is safe to accept "
                                           "(%s). The connection was closed."),
                                         error->message));
      else
        session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PARSE,
                                         _("The server sent an answer that could not be "
                                           "understood (%s). The connection was closed."),
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
              session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                       _("The server sent unencrypted data "
                                                         "after agreeing to start encryption. "
                                                         "The connection was closed for your "
                                                         "safety.")));
              return;
            }
          maybe_start_tls (self);
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
handle_eof (TdPop3Session *self)
{
  if (self->state == ST_UPDATE)
    {
      Command *quit = NULL;
      g_autoptr(GTask) task = NULL;

      for (GList *l = self->inflight.head; l != NULL && quit == NULL; l = l->next)
        if (((Command *) l->data)->kind == CMD_QUIT)
          quit = l->data;
      for (GList *l = self->outgoing.head; l != NULL && quit == NULL; l = l->next)
        if (((Command *) l->data)->kind == CMD_QUIT)
          quit = l->data;
      if (quit != NULL)
        {
          gboolean update = quit->update;

          task = command_detach (quit);
          finish_quit (self, task, update, NULL);
          return;
        }
    }
  session_fail (self, server_closed_error (self));
}

static void
on_read_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdPop3Session) self = io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  guint generation;

  if (self == NULL)
    {
      io_op_free (op);
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
      io_op_free (op);
      self->reading = FALSE;
      session_fail (self, map_io_error (self, error));
      return;
    }

  if (n == 0)
    {
      io_op_free (op);
      self->reading = FALSE;
      handle_eof (self);
      return;
    }

  generation = self->generation;
  process_input (self, op->data, (gsize) n);

  if (self->generation != generation || self->state == ST_STLS || self->input == NULL)
    {
      if (self->generation == generation)
        self->reading = FALSE;
      io_op_free (op);
      return;
    }
  read_next (self, op);
}

/* ------------------------------------------------------------------------------------------ */
/* Server events */

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
  command_free (cmd);
  write_next (self);
}

static void
handle_status (TdPop3Session *self,
               EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);
  const TdPop3Event *event = data->event;

  if (cmd == NULL)
    {
      session_fail_protocol (self, "an answer to a command that was not sent");
      return;
    }
  if (event->ok && (cmd->expect == TD_POP3_EXPECT_LINES || cmd->expect == TD_POP3_EXPECT_DATA))
    {
      cmd->status = status_copy (event);   /* the rest follows; END completes it */
      return;
    }
  complete_head (self, event);
}

static void
handle_continuation (TdPop3Session *self,
                     EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);

  if (cmd == NULL || cmd->kind != CMD_AUTH || cmd->next_part >= cmd->parts->len ||
      cmd->continued)
    {
      session_fail_protocol (self, "a continuation nobody asked for");
      return;
    }
  cmd->continued = TRUE;
  write_next (self);
}

static void
capa_line (Command    *cmd,
           const char *line)
{
  const char *p = line;
  const char *space;
  g_autofree char *keyword = NULL;
  g_autofree char *args = NULL;

  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0')
    return;
  if (g_hash_table_size (cmd->caps) >= MAX_CAPABILITIES)
    {
      g_set_error (&cmd->error, TD_ERROR, TD_ERROR_LIMIT,
                   _("The server sent more capabilities than is safe to accept."));
      return;
    }
  space = p + strcspn (p, " \t");
  keyword = g_ascii_strup (p, space - p);
  args = g_utf8_make_valid (space, -1);
  g_hash_table_replace (cmd->caps, g_utf8_make_valid (keyword, -1), g_strdup (g_strstrip (args)));
}

static void
handle_line (TdPop3Session *self,
             EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);
  const char *line = data->event->text;

  if (cmd == NULL || cmd->status == NULL || cmd->expect != TD_POP3_EXPECT_LINES)
    {
      session_fail_protocol (self, "a listing nobody asked for");
      return;
    }
  if (cmd->error != NULL)
    return;                             /* the rest of a bad listing is read and dropped */

  switch (cmd->kind)
    {
    case CMD_CAPA:
      capa_line (cmd, line);
      break;
    case CMD_LIST:
      {
        TdPop3ListEntry entry;

        if (cmd->list->len >= TD_POP3_MAX_LISTING)
          g_set_error (&cmd->error, TD_ERROR, TD_ERROR_LIMIT,
                       _("The server listed more messages than is safe to accept."));
        else if (td_pop3_parse_scan_listing (line, &entry.number, &entry.size, &cmd->error))
          g_array_append_val (cmd->list, entry);
      }
      break;
    case CMD_UIDL:
      {
        TdPop3UidlEntry *entry = g_new0 (TdPop3UidlEntry, 1);

        if (cmd->uidl->len >= TD_POP3_MAX_LISTING)
          g_set_error (&cmd->error, TD_ERROR, TD_ERROR_LIMIT,
                       _("The server listed more messages than is safe to accept."));
        else if (td_pop3_parse_uid_listing (line, &entry->number, &entry->uid, &cmd->error))
          {
            g_ptr_array_add (cmd->uidl, g_steal_pointer (&entry));
            break;
          }
        td_pop3_uidl_entry_free (entry);
      }
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

static void
handle_data (TdPop3Session *self,
             EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);
  Op *op;

  if (cmd == NULL || cmd->status == NULL || cmd->expect != TD_POP3_EXPECT_DATA)
    {
      session_fail_protocol (self, "message data nobody asked for");
      return;
    }
  op = cmd->task != NULL ? task_op (cmd->task) : NULL;
  /* last: the callback may close the session, which frees @cmd */
  if (op != NULL && op->chunk_func != NULL)
    op->chunk_func (cmd->number, data->event->data, op->func_data);
}

static void
handle_end (TdPop3Session *self,
            EventData     *data)
{
  Command *cmd = g_queue_peek_head (&self->inflight);

  if (cmd == NULL || cmd->status == NULL)
    {
      session_fail_protocol (self, "the end of an answer that was not begun");
      return;
    }
  complete_head (self, cmd->status);
}

/* ------------------------------------------------------------------------------------------ */
/* Connecting: greeting, CAPA, STLS */

static void
take_capabilities (TdPop3Session     *self,
                   Command           *cmd,
                   const TdPop3Event *status)
{
  g_clear_pointer (&self->caps, g_hash_table_unref);
  if (status->ok && cmd->error == NULL)
    {
      self->caps = g_steal_pointer (&cmd->caps);
      self->capa_supported = TRUE;
    }
  else
    {
      /* no CAPA (RFC 1939 only), or a broken listing: nothing is known */
      self->caps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      self->capa_supported = FALSE;
    }
}

static Command *
capa_command_new (CommandDone  done,
                  GTask       *task)
{
  Command *cmd = command_new (CMD_CAPA, TD_POP3_EXPECT_LINES, done, task);

  cmd->caps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  command_add_line (cmd, "CAPA");
  return cmd;
}

static void
connect_complete (TdPop3Session *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->connect_task);

  g_clear_pointer (&self->connect_cancel_source, source_destroy);
  self->state = ST_AUTHORIZATION;
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static void
connect_capa_done (TdPop3Session     *self,
                   Command           *cmd,
                   const TdPop3Event *status)
{
  if (status->ok && cmd->error != NULL)
    {
      session_fail (self, g_error_copy (cmd->error));
      return;
    }
  take_capabilities (self, cmd, status);
  connect_continue (self);
}

static void
on_tls_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdPop3Session) self = io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gboolean ok = td_connection_start_tls_finish (TD_CONNECTION (source), result, &error);

  io_op_free (op);
  if (self == NULL)
    return;
  if (!ok)
    {
      session_fail (self, map_io_error (self, error));
      return;
    }

  g_assert (self->state == ST_STLS);
  g_set_object (&self->input, td_connection_get_input_stream (self->connection));
  g_set_object (&self->output, td_connection_get_output_stream (self->connection));
  self->tls_done = TRUE;
  self->stls_sent = FALSE;
  /* RFC 2595 4: forget what was learnt in plaintext and ask again */
  g_clear_pointer (&self->caps, g_hash_table_unref);
  self->capa_supported = FALSE;
  self->state = ST_NEGOTIATING;
  start_reading (self);
  connect_continue (self);
}

static void
maybe_start_tls (TdPop3Session *self)
{
  if (self->state != ST_STLS || !self->tls_pending || self->writing)
    return;
  self->tls_pending = FALSE;
  td_connection_start_tls_async (self->connection,
                                 self->connect_task != NULL ?
                                   g_task_get_cancellable (self->connect_task) : NULL,
                                 on_tls_done, io_op_new (self));
}

static void
stls_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  if (!status->ok)
    {
      session_fail (self, g_error_new (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                       _("The server refused to start encryption (%s). The "
                                         "password was not sent."), server_text (status)));
      return;
    }
  /* The handshake starts once the input is known to hold nothing more (process_input) and
   * the last write is done (maybe_start_tls). */
  self->state = ST_STLS;
  self->tls_pending = TRUE;
}

static void
connect_continue (TdPop3Session *self)
{
  gboolean want_tls = self->connection != NULL &&
                      td_connection_get_security (self->connection) == TD_SECURITY_STARTTLS &&
                      !self->tls_done;

  g_assert (self->state == ST_NEGOTIATING);

  if (self->caps == NULL)
    {
      queue_command (self, capa_command_new (connect_capa_done, NULL));
      return;
    }

  if (want_tls)
    {
      /* without CAPA nothing is known: STLS is tried, and a refusal is final */
      if (self->capa_supported && !has_cap (self, "STLS"))
        {
          session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                   _("The server does not offer STLS, so the "
                                                     "connection cannot be encrypted and the "
                                                     "password was not sent. Choose TLS "
                                                     "(usually port 995) or check the server "
                                                     "settings.")));
          return;
        }
      self->stls_sent = TRUE;
      queue_line (self, CMD_STLS, TD_POP3_EXPECT_STATUS, stls_done, NULL, "STLS");
      return;
    }

  connect_complete (self);
}

static gboolean
on_connect_cancelled (GCancellable *cancellable,
                      gpointer      user_data)
{
  TdPop3Session *self = user_data;
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 _("The operation was cancelled"));

  g_clear_pointer (&self->connect_cancel_source, source_destroy);
  shutdown_session (self, error, error);
  return G_SOURCE_REMOVE;
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdPop3Session) self = io_op_get_session (op);
  g_autoptr(GError) error = NULL;
  gboolean ok = td_connection_connect_finish (TD_CONNECTION (source), result, &error);

  io_op_free (op);
  if (self == NULL)
    return;
  if (!ok)
    {
      session_fail (self, map_io_error (self, error));
      return;
    }
  g_set_object (&self->input, td_connection_get_input_stream (self->connection));
  g_set_object (&self->output, td_connection_get_output_stream (self->connection));
  if (self->input == NULL || self->output == NULL)
    {
      session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                               _("The connection to the server could not be "
                                                 "opened.")));
      return;
    }
  self->state = ST_GREETING;
  start_reading (self);
}

static void
handle_connect (TdPop3Session *self,
                EventData     *data)
{
  GCancellable *cancellable = g_task_get_cancellable (data->task);

  self->connect_task = g_object_ref (data->task);
  if (cancellable != NULL)
    {
      self->connect_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->connect_cancel_source, G_SOURCE_FUNC (on_connect_cancelled),
                             self, NULL);
      g_source_attach (self->connect_cancel_source, g_task_get_context (data->task));
    }
  g_clear_pointer (&self->parser, td_pop3_parser_free);
  self->parser = td_pop3_parser_new ();
  td_pop3_parser_expect (self->parser, TD_POP3_EXPECT_STATUS);   /* the greeting */

  if (self->connection != NULL)
    {
      self->state = ST_CONNECTING;
      td_connection_connect_async (self->connection, cancellable, on_connected,
                                   io_op_new (self));
      return;
    }

  self->input = g_object_ref (g_io_stream_get_input_stream (self->stream));
  self->output = g_object_ref (g_io_stream_get_output_stream (self->stream));
  self->state = ST_GREETING;
  start_reading (self);
}

static void
handle_greeting (TdPop3Session *self,
                 EventData     *data)
{
  const TdPop3Event *event = data->event;

  if (!event->ok)
    {
      session_fail (self, refused_error (event, TD_ERROR_CONNECTION, _("connect")));
      return;
    }
  g_free (self->timestamp);
  self->timestamp = td_pop3_greeting_timestamp (event->text);
  self->state = ST_NEGOTIATING;
  connect_continue (self);
}

/* ------------------------------------------------------------------------------------------ */
/* CAPA */

static void
capa_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = command_detach (cmd);

  if (status->ok && cmd->error != NULL)
    {
      /* a broken listing: what was known stays */
      if (task != NULL)
        task_return_error (task, g_error_copy (cmd->error));
      return;
    }
  take_capabilities (self, cmd, status);
  if (task == NULL)
    return;
  if (!status->ok)
    task_return_error (task, g_error_new (TD_ERROR, TD_ERROR_UNSUPPORTED,
                                          _("The server does not tell its capabilities (%s)."),
                                          server_text (status)));
  else
    task_return_boolean (task, TRUE);
}

static void
handle_capa (TdPop3Session *self,
             EventData     *data)
{
  queue_command (self, capa_command_new (capa_done, data->task));
}

/* ------------------------------------------------------------------------------------------ */
/* Logging in */

static void
login_capa_done (TdPop3Session     *self,
                 Command           *cmd,
                 const TdPop3Event *status)
{
  g_autoptr(GTask) task = command_detach (cmd);

  /* the capabilities of the TRANSACTION state; without a good answer the old ones stay */
  if (status->ok && cmd->error == NULL)
    take_capabilities (self, cmd, status);
  if (task != NULL)
    task_return_boolean (task, TRUE);
}

/* The answer to PASS, APOP or AUTH. */
static void
login_answer (TdPop3Session     *self,
              Command           *cmd,
              const TdPop3Event *status)
{
  g_autoptr(GTask) task = command_detach (cmd);

  if (!status->ok)
    {
      if (self->state == ST_AUTHENTICATING)
        self->state = ST_AUTHORIZATION;
      if (task != NULL)
        task_return_error (task, refused_error (status, TD_ERROR_AUTH, _("log in")));
      return;
    }

  if (self->state == ST_AUTHENTICATING)
    self->state = ST_TRANSACTION;
  if (task == NULL)
    return;
  /* RFC 2449 3: the capabilities may change once logged in */
  if (self->capa_supported && self->state == ST_TRANSACTION)
    queue_command (self, capa_command_new (login_capa_done, task));
  else
    task_return_boolean (task, TRUE);
}

static void
user_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = command_detach (cmd);
  g_autofree char *line = NULL;
  Command *pass;
  Op *op;

  if (!status->ok || task == NULL || self->state != ST_AUTHENTICATING)
    {
      if (self->state == ST_AUTHENTICATING)
        self->state = ST_AUTHORIZATION;
      if (task == NULL)
        return;
      if (!status->ok)
        task_return_error (task, refused_error (status, TD_ERROR_AUTH, _("log in")));
      else
        task_return_error (task, g_error_new (TD_ERROR, TD_ERROR_WRONG_STATE,
                                              _("Cannot %s now: the connection is %s."),
                                              _("log in"), _(state_names[self->state])));
      return;
    }

  op = task_op (task);
  pass = command_new (CMD_PASS, TD_POP3_EXPECT_STATUS, login_answer, task);
  pass->secret = TRUE;
  line = g_strconcat ("PASS ", op->password, NULL);
  command_add_line (pass, line);
  secure_clear (line, strlen (line));
  queue_command (self, pass);
}

/* Refuses (through the task) what cannot be sent: credentials over plaintext, line breaks. */
static gboolean
check_credentials (TdPop3Session *self,
                   GTask         *task,
                   gboolean       no_spaces)
{
  Op *op = task_op (task);

  if (self->connection != NULL && !td_connection_is_tls (self->connection))
    {
      task_return_error (task, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                    _("The connection is not encrypted, so the "
                                                      "password was not sent. Check the "
                                                      "security settings of the account.")));
      return FALSE;
    }
  if (strpbrk (op->username, "\r\n") != NULL || strpbrk (op->password, "\r\n") != NULL ||
      (no_spaces && strpbrk (op->username, " \t") != NULL))
    {
      task_return_error (task, g_error_new_literal (TD_ERROR, TD_ERROR_INVALID,
                                                    _("The user name or password contains a "
                                                      "character that POP3 cannot send here. "
                                                      "Check them in the account settings.")));
      return FALSE;
    }
  return TRUE;
}

static void
handle_login (TdPop3Session *self,
              EventData     *data)
{
  Op *op = task_op (data->task);
  g_autofree char *line = NULL;

  if (!check_credentials (self, data->task, FALSE))
    return;
  line = g_strconcat ("USER ", op->username, NULL);
  self->state = ST_AUTHENTICATING;
  queue_line (self, CMD_USER, TD_POP3_EXPECT_STATUS, user_done, data->task, line);
}

char *
td_pop3_apop_digest (const char *timestamp,
                     const char *secret)
{
  g_autoptr(GChecksum) md5 = NULL;

  g_return_val_if_fail (timestamp != NULL, NULL);
  g_return_val_if_fail (secret != NULL, NULL);

  md5 = g_checksum_new (G_CHECKSUM_MD5);
  g_checksum_update (md5, (const guchar *) timestamp, -1);
  g_checksum_update (md5, (const guchar *) secret, -1);
  return g_strdup (g_checksum_get_string (md5));
}

static void
handle_apop (TdPop3Session *self,
             EventData     *data)
{
  Op *op = task_op (data->task);
  g_autofree char *digest = NULL;
  g_autofree char *line = NULL;
  Command *cmd;

  if (self->timestamp == NULL)
    {
      task_return_error (data->task, g_error_new_literal (TD_ERROR, TD_ERROR_UNSUPPORTED,
                                                          _("The server does not offer APOP "
                                                            "(its greeting has no timestamp). "
                                                            "Log in with a password "
                                                            "instead.")));
      return;
    }
  if (!check_credentials (self, data->task, TRUE))
    return;

  digest = td_pop3_apop_digest (self->timestamp, op->password);
  line = g_strdup_printf ("APOP %s %s", op->username, digest);
  cmd = command_new (CMD_APOP, TD_POP3_EXPECT_STATUS, login_answer, data->task);
  cmd->secret = TRUE;
  command_add_line (cmd, line);
  secure_clear (digest, strlen (digest));
  secure_clear (line, strlen (line));
  self->state = ST_AUTHENTICATING;
  queue_command (self, cmd);
}

static gboolean
has_word (const char *list,
          const char *word)
{
  g_auto(GStrv) words = g_strsplit_set (list, " \t", -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (g_ascii_strcasecmp (words[i], word) == 0)
      return TRUE;
  return FALSE;
}

static void
handle_auth (TdPop3Session *self,
             EventData     *data)
{
  Op *op = task_op (data->task);
  const char *mechanisms = self->caps != NULL ? g_hash_table_lookup (self->caps, "SASL") : NULL;
  gsize ulen, plen, len;
  g_autofree guint8 *raw = NULL;
  char *b64;
  g_autofree char *line = NULL;
  Command *cmd;

  if (self->capa_supported && (mechanisms == NULL || !has_word (mechanisms, "PLAIN")))
    {
      task_return_error (data->task, g_error_new_literal (TD_ERROR, TD_ERROR_UNSUPPORTED,
                                                          _("The server does not offer AUTH "
                                                            "PLAIN. Log in with USER and PASS "
                                                            "instead.")));
      return;
    }
  if (!check_credentials (self, data->task, FALSE))
    return;

  /* RFC 4616: authzid NUL authcid NUL passwd, the authzid empty */
  ulen = strlen (op->username);
  plen = strlen (op->password);
  len = ulen + plen + 2;
  raw = g_malloc (len);
  raw[0] = '\0';
  memcpy (raw + 1, op->username, ulen);
  raw[1 + ulen] = '\0';
  memcpy (raw + 2 + ulen, op->password, plen);
  b64 = g_base64_encode (raw, len);
  secure_clear (raw, len);

  cmd = command_new (CMD_AUTH, TD_POP3_EXPECT_SASL, login_answer, data->task);
  cmd->secret = TRUE;
  line = g_strconcat ("AUTH PLAIN ", b64, NULL);
  if (strlen (line) + 2 <= COMMAND_LINE_MAX)
    command_add_line (cmd, line);       /* RFC 5034 4: the initial response on the line */
  else
    {
      command_add_line (cmd, "AUTH PLAIN");
      command_add_line (cmd, b64);
    }
  secure_clear (line, strlen (line));
  secure_free (b64);
  self->state = ST_AUTHENTICATING;
  queue_command (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* TRANSACTION */

/* The start of every CommandDone of a TRANSACTION command: takes the task out of the command
 * and, when the server refused, returns that refusal through it. NULL then, and when nobody
 * waits any more; else the task, for the caller to complete. */
static GTask *
command_accepted (Command           *cmd,
                  const TdPop3Event *status,
                  const char        *what)
{
  g_autoptr(GTask) task = command_detach (cmd);

  if (task != NULL && !status->ok)
    {
      task_return_error (task, refused_error (status, TD_ERROR_PROTOCOL, what));
      return NULL;
    }
  if (task != NULL && cmd->error != NULL)
    {
      task_return_error (task, g_error_copy (cmd->error));
      return NULL;
    }
  return g_steal_pointer (&task);
}

static void
stat_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = command_accepted (cmd, status, _("tell the size of the mailbox"));
  GError *error = NULL;
  Op *op;

  if (task == NULL)
    return;
  op = task_op (task);
  if (!td_pop3_parse_stat (status->text, &op->count, &op->size, &error))
    task_return_error (task, error);
  else
    task_return_boolean (task, TRUE);
}

static void
handle_stat (TdPop3Session *self,
             EventData     *data)
{
  queue_line (self, CMD_STAT, TD_POP3_EXPECT_STATUS, stat_done, data->task, "STAT");
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
      task = command_accepted (cmd, status, _("list the messages"));
      if (task != NULL)
        task_return_pointer (task, g_steal_pointer (&cmd->list), (GDestroyNotify) g_array_unref);
      return;
    }

  {
    g_autofree char *what = g_strdup_printf (_("tell the size of message %u"), cmd->number);
    guint32 number = 0;

    task = command_accepted (cmd, status, what);
    if (task == NULL)
      return;
    op = task_op (task);
    if (!td_pop3_parse_scan_listing (status->text, &number, &op->size, &error))
      task_return_error (task, error);
    else if (number != cmd->number)
      task_return_error (task, g_error_new (TD_ERROR, TD_ERROR_PARSE,
                                            _("The server answered for message %u when asked "
                                              "about message %u."), number, cmd->number));
    else
      task_return_boolean (task, TRUE);
  }
}

static void
handle_list (TdPop3Session *self,
             EventData     *data)
{
  Op *op = task_op (data->task);
  Command *cmd;

  if (op->number == 0)
    {
      cmd = command_new (CMD_LIST, TD_POP3_EXPECT_LINES, list_done, data->task);
      cmd->list = g_array_new (FALSE, FALSE, sizeof (TdPop3ListEntry));
      command_add_line (cmd, "LIST");
    }
  else
    {
      g_autofree char *line = g_strdup_printf ("LIST %u", op->number);

      cmd = command_new (CMD_LIST, TD_POP3_EXPECT_STATUS, list_done, data->task);
      cmd->number = op->number;
      command_add_line (cmd, line);
    }
  queue_command (self, cmd);
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
      task = command_accepted (cmd, status, _("list the messages"));
      if (task != NULL)
        task_return_pointer (task, g_steal_pointer (&cmd->uidl),
                             (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  {
    g_autofree char *what = g_strdup_printf (_("tell the unique-id of message %u"), cmd->number);
    guint32 number = 0;
    char *uid = NULL;

    task = command_accepted (cmd, status, what);
    if (task == NULL)
      return;
    if (!td_pop3_parse_uid_listing (status->text, &number, &uid, &error))
      task_return_error (task, error);
    else if (number != cmd->number)
      {
        g_free (uid);
        task_return_error (task, g_error_new (TD_ERROR, TD_ERROR_PARSE,
                                              _("The server answered for message %u when "
                                                "asked about message %u."), number,
                                              cmd->number));
      }
    else
      task_return_pointer (task, uid, g_free);
  }
}

static void
handle_uidl (TdPop3Session *self,
             EventData     *data)
{
  Op *op = task_op (data->task);
  Command *cmd;

  if (op->number == 0)
    {
      cmd = command_new (CMD_UIDL, TD_POP3_EXPECT_LINES, uidl_done, data->task);
      cmd->uidl = g_ptr_array_new_with_free_func ((GDestroyNotify) td_pop3_uidl_entry_free);
      command_add_line (cmd, "UIDL");
    }
  else
    {
      g_autofree char *line = g_strdup_printf ("UIDL %u", op->number);

      cmd = command_new (CMD_UIDL, TD_POP3_EXPECT_STATUS, uidl_done, data->task);
      cmd->number = op->number;
      command_add_line (cmd, line);
    }
  queue_command (self, cmd);
}

static void
top_done (TdPop3Session     *self,
          Command           *cmd,
          const TdPop3Event *status)
{
  g_autofree char *what = g_strdup_printf (_("send the start of message %u"), cmd->number);
  g_autoptr(GTask) task = command_accepted (cmd, status, what);

  if (task != NULL)
    task_return_boolean (task, TRUE);
}

static void
handle_top (TdPop3Session *self,
            EventData     *data)
{
  Op *op = task_op (data->task);
  g_autofree char *line = g_strdup_printf ("TOP %u %u", op->number, op->lines);
  Command *cmd = queue_line (self, CMD_TOP, TD_POP3_EXPECT_DATA, top_done, data->task, line);

  cmd->number = op->number;
}

/* RETR and RETR many: each message ends here. */
static void
retr_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autofree char *what = g_strdup_printf (_("send message %u"), cmd->number);
  g_autoptr(GTask) task = command_detach (cmd);
  g_autoptr(GError) error = NULL;
  Op *op;

  if (task == NULL)
    return;
  op = task_op (task);
  if (!status->ok)
    error = refused_error (status, TD_ERROR_PROTOCOL, what);

  if (op->numbers == NULL)
    {
      if (error != NULL)
        task_return_error (task, g_steal_pointer (&error));
      else
        task_return_boolean (task, TRUE);
      return;
    }

  /* a batch: the callback may close the session, which then fails the rest of the batch */
  if (op->message_func != NULL)
    op->message_func (cmd->number, error, op->func_data);
  if (g_queue_is_empty (&op->commands))
    task_return_boolean (task, TRUE);
}

static void
handle_retr (TdPop3Session *self,
             EventData     *data)
{
  Op *op = task_op (data->task);
  guint n = op->numbers != NULL ? op->numbers->len : 1;

  if (n == 0)
    {
      task_return_boolean (data->task, TRUE);
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      guint32 number = op->numbers != NULL ? g_array_index (op->numbers, guint32, i)
                                           : op->number;
      g_autofree char *line = g_strdup_printf ("RETR %u", number);
      Command *cmd = command_new (CMD_RETR, TD_POP3_EXPECT_DATA, retr_done, data->task);

      cmd->number = number;
      command_add_line (cmd, line);
      g_queue_push_tail (&self->outgoing, cmd);
    }
  write_next (self);
}

static void
dele_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autofree char *what = g_strdup_printf (_("mark message %u as deleted"), cmd->number);
  g_autoptr(GTask) task = command_detach (cmd);
  Op *op;

  if (task == NULL)
    return;
  op = task_op (task);
  if (op->numbers == NULL)
    {
      if (!status->ok)
        task_return_error (task, refused_error (status, TD_ERROR_PROTOCOL, what));
      else
        task_return_boolean (task, TRUE);
      return;
    }

  if (!status->ok)
    g_array_append_val (op->refused, cmd->number);
  if (g_queue_is_empty (&op->commands))
    task_return_pointer (task, g_steal_pointer (&op->refused), (GDestroyNotify) g_array_unref);
}

static void
handle_dele (TdPop3Session *self,
             EventData     *data)
{
  Op *op = task_op (data->task);
  guint n = op->numbers != NULL ? op->numbers->len : 1;

  if (n == 0)
    {
      task_return_pointer (data->task, g_steal_pointer (&op->refused),
                           (GDestroyNotify) g_array_unref);
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      guint32 number = op->numbers != NULL ? g_array_index (op->numbers, guint32, i)
                                           : op->number;
      g_autofree char *line = g_strdup_printf ("DELE %u", number);
      Command *cmd = command_new (CMD_DELE, TD_POP3_EXPECT_STATUS, dele_done, data->task);

      cmd->number = number;
      command_add_line (cmd, line);
      g_queue_push_tail (&self->outgoing, cmd);
    }
  write_next (self);
}

static void
rset_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = command_accepted (cmd, status, _("undo the deletions"));

  if (task != NULL)
    task_return_boolean (task, TRUE);
}

static void
handle_rset (TdPop3Session *self,
             EventData     *data)
{
  queue_line (self, CMD_RSET, TD_POP3_EXPECT_STATUS, rset_done, data->task, "RSET");
}

static void
noop_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = command_accepted (cmd, status, _("check the connection"));

  if (task != NULL)
    task_return_boolean (task, TRUE);
}

static void
handle_noop (TdPop3Session *self,
             EventData     *data)
{
  queue_line (self, CMD_NOOP, TD_POP3_EXPECT_STATUS, noop_done, data->task, "NOOP");
}

/* ------------------------------------------------------------------------------------------ */
/* QUIT, close */

static void
quit_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  gboolean update = cmd->update;
  g_autoptr(GTask) task = command_detach (cmd);

  /* the command is out of the queues already: this ends the connection */
  finish_quit (self, task, update, status);
}

static void
handle_quit (TdPop3Session *self,
             EventData     *data)
{
  Command *cmd = command_new (CMD_QUIT, TD_POP3_EXPECT_STATUS, quit_done, data->task);

  cmd->update = self->state == ST_TRANSACTION;
  command_add_line (cmd, "QUIT");
  self->state = ST_UPDATE;
  queue_command (self, cmd);
}

/* Not connected (yet or any more): there is nothing to quit. */
static void
handle_quit_closed (TdPop3Session *self,
                    EventData     *data)
{
  task_return_boolean (data->task, TRUE);
}

static void
handle_close (TdPop3Session *self,
              EventData     *data)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 _("The connection was closed"));

  shutdown_session (self, NULL, error);
}

/* Still setting up: nothing to say to the server, just drop the connection. */
static void
handle_quit_abort (TdPop3Session *self,
                   EventData     *data)
{
  handle_close (self, data);
  task_return_boolean (data->task, TRUE);
}

static void
handle_close_idle (TdPop3Session *self,
                   EventData     *data)
{
  /* explicitly nothing: not connected */
}

/* ------------------------------------------------------------------------------------------ */
/* The table */

#define SERVER_EVENTS \
  [EV_STATUS] = handle_status, \
  [EV_CONTINUATION] = handle_continuation, \
  [EV_LINE] = handle_line, \
  [EV_DATA] = handle_data, \
  [EV_END] = handle_end

static const EventHandler handlers[N_STATES][N_EVENTS] = {
  [ST_NEW] = {
    [EV_CONNECT] = handle_connect,
    [EV_QUIT] = handle_quit_closed,
    [EV_CLOSE] = handle_close_idle,
  },
  [ST_CONNECTING] = {
    [EV_QUIT] = handle_quit_abort,
    [EV_CLOSE] = handle_close,
  },
  [ST_GREETING] = {
    [EV_QUIT] = handle_quit_abort,
    [EV_CLOSE] = handle_close,
    [EV_STATUS] = handle_greeting,
  },
  [ST_NEGOTIATING] = {
    [EV_QUIT] = handle_quit_abort,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_STLS] = {
    [EV_QUIT] = handle_quit_abort,
    [EV_CLOSE] = handle_close,
  },
  [ST_AUTHORIZATION] = {
    [EV_CAPA] = handle_capa,
    [EV_LOGIN] = handle_login,
    [EV_APOP] = handle_apop,
    [EV_AUTH] = handle_auth,
    [EV_QUIT] = handle_quit,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_AUTHENTICATING] = {
    [EV_QUIT] = handle_quit,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_TRANSACTION] = {
    [EV_CAPA] = handle_capa,
    [EV_STAT] = handle_stat,
    [EV_LIST] = handle_list,
    [EV_UIDL] = handle_uidl,
    [EV_TOP] = handle_top,
    [EV_RETR] = handle_retr,
    [EV_DELE] = handle_dele,
    [EV_RSET] = handle_rset,
    [EV_NOOP] = handle_noop,
    [EV_QUIT] = handle_quit,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_UPDATE] = {
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_CLOSED] = {
    [EV_QUIT] = handle_quit_closed,
    [EV_CLOSE] = handle_close_idle,
  },
};

static void
dispatch (TdPop3Session *self,
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
    task_return_error (data->task, g_error_new (TD_ERROR, TD_ERROR_WRONG_STATE,
                                                _("Cannot %s now: the connection is %s."),
                                                _(event_names[event]),
                                                _(state_names[self->state])));
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
td_pop3_session_dispose (GObject *object)
{
  TdPop3Session *self = (TdPop3Session *) object;

  if (self->state != ST_NEW && self->state != ST_CLOSED)
    {
      self->generation++;
      self->state = ST_CLOSED;
      close_transport (self);
    }
  g_clear_pointer (&self->connect_cancel_source, source_destroy);

  G_OBJECT_CLASS (td_pop3_session_parent_class)->dispose (object);
}

static void
td_pop3_session_finalize (GObject *object)
{
  TdPop3Session *self = (TdPop3Session *) object;
  Command *cmd;

  /* pending operations hold a reference on the session: nothing is waiting any more */
  while ((cmd = g_queue_pop_head (&self->outgoing)) != NULL)
    if (cmd->next_part == 0)            /* a half-sent one is in inflight too */
      command_free (cmd);
  while ((cmd = g_queue_pop_head (&self->inflight)) != NULL)
    command_free (cmd);
  g_clear_object (&self->connect_task);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->io_cancellable);
  g_clear_object (&self->stream);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->parser, td_pop3_parser_free);
  g_clear_pointer (&self->caps, g_hash_table_unref);
  g_free (self->timestamp);

  G_OBJECT_CLASS (td_pop3_session_parent_class)->finalize (object);
}

static void
td_pop3_session_class_init (TdPop3SessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_pop3_session_dispose;
  object_class->finalize = td_pop3_session_finalize;

  /**
   * TdPop3Session::closed:
   * @error: (nullable): why the connection ended, or %NULL for a clean end
   */
  signals[CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
td_pop3_session_init (TdPop3Session *self)
{
  self->state = ST_NEW;
  self->io_cancellable = g_cancellable_new ();
  self->window = TD_POP3_PIPELINE_WINDOW_DEFAULT;
  g_queue_init (&self->outgoing);
  g_queue_init (&self->inflight);
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

TdPop3Session *
td_pop3_session_new (TdConnection *connection)
{
  TdPop3Session *self;

  g_return_val_if_fail (TD_IS_CONNECTION (connection), NULL);

  self = g_object_new (TD_TYPE_POP3_SESSION, NULL);
  self->connection = g_object_ref (connection);
  return self;
}

TdPop3Session *
td_pop3_session_new_for_stream (GIOStream *stream)
{
  TdPop3Session *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (TD_TYPE_POP3_SESSION, NULL);
  self->stream = g_object_ref (stream);
  return self;
}

TdPop3State
td_pop3_session_get_state (TdPop3Session *self)
{
  g_return_val_if_fail (TD_IS_POP3_SESSION (self), TD_POP3_STATE_NOT_CONNECTED);

  return public_state (self->state);
}

const char *
td_pop3_session_get_capability (TdPop3Session *self,
                                const char    *capability)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TD_IS_POP3_SESSION (self), NULL);
  g_return_val_if_fail (capability != NULL, NULL);

  if (self->caps == NULL)
    return NULL;
  upper = g_ascii_strup (capability, -1);
  return g_hash_table_lookup (self->caps, upper);
}

gboolean
td_pop3_session_has_capability (TdPop3Session *self,
                                const char    *capability)
{
  g_return_val_if_fail (TD_IS_POP3_SESSION (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  return td_pop3_session_get_capability (self, capability) != NULL;
}

gboolean
td_pop3_session_get_capa_supported (TdPop3Session *self)
{
  g_return_val_if_fail (TD_IS_POP3_SESSION (self), FALSE);

  return self->capa_supported;
}

const char *
td_pop3_session_get_apop_timestamp (TdPop3Session *self)
{
  g_return_val_if_fail (TD_IS_POP3_SESSION (self), NULL);

  return self->timestamp;
}

void
td_pop3_session_set_pipeline_window (TdPop3Session *self,
                                     guint          window)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (window >= 1);

  self->window = window;
  write_next (self);
}

void
td_pop3_session_connect_async (TdPop3Session       *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* the connect task watches its cancellable itself (the whole connection goes) */
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_pop3_session_connect_async);
  run_operation (self, EV_CONNECT, task);
}

gboolean
td_pop3_session_connect_finish (TdPop3Session  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
simple_operation (TdPop3Session       *self,
                  Event                event,
                  gpointer             source_tag,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  g_autoptr(GTask) task = op_task_new (self, source_tag, cancellable, callback, user_data);

  run_operation (self, event, task);
}

void
td_pop3_session_capa_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  simple_operation (self, EV_CAPA, td_pop3_session_capa_async, cancellable, callback,
                    user_data);
}

gboolean
td_pop3_session_capa_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
login_operation (TdPop3Session       *self,
                 Event                event,
                 gpointer             source_tag,
                 const char          *username,
                 const char          *password,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(GTask) task = op_task_new (self, source_tag, cancellable, callback, user_data);
  Op *op = task_op (task);

  op->username = g_strdup (username);
  op->password = g_strdup (password);
  run_operation (self, event, task);
}

void
td_pop3_session_login_async (TdPop3Session       *self,
                             const char          *username,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  login_operation (self, EV_LOGIN, td_pop3_session_login_async, username, password,
                   cancellable, callback, user_data);
}

gboolean
td_pop3_session_login_finish (TdPop3Session  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_apop_async (TdPop3Session       *self,
                            const char          *username,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  login_operation (self, EV_APOP, td_pop3_session_apop_async, username, password,
                   cancellable, callback, user_data);
}

gboolean
td_pop3_session_apop_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_auth_plain_async (TdPop3Session       *self,
                                  const char          *username,
                                  const char          *password,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  login_operation (self, EV_AUTH, td_pop3_session_auth_plain_async, username, password,
                   cancellable, callback, user_data);
}

gboolean
td_pop3_session_auth_plain_finish (TdPop3Session  *self,
                                   GAsyncResult   *result,
                                   GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_stat_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  simple_operation (self, EV_STAT, td_pop3_session_stat_async, cancellable, callback,
                    user_data);
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

  op = task_op (G_TASK (result));
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

  simple_operation (self, EV_LIST, td_pop3_session_list_async, cancellable, callback,
                    user_data);
}

GArray *
td_pop3_session_list_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
number_operation (TdPop3Session       *self,
                  Event                event,
                  gpointer             source_tag,
                  guint32              number,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  g_autoptr(GTask) task = op_task_new (self, source_tag, cancellable, callback, user_data);

  task_op (task)->number = number;
  run_operation (self, event, task);
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

  number_operation (self, EV_LIST, td_pop3_session_list_one_async, number, cancellable,
                    callback, user_data);
}

gboolean
td_pop3_session_list_one_finish (TdPop3Session  *self,
                                 GAsyncResult   *result,
                                 guint64        *size,
                                 GError        **error)
{
  Op *op;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  op = task_op (G_TASK (result));
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

  simple_operation (self, EV_UIDL, td_pop3_session_uidl_async, cancellable, callback,
                    user_data);
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

  number_operation (self, EV_UIDL, td_pop3_session_uidl_one_async, number, cancellable,
                    callback, user_data);
}

char *
td_pop3_session_uidl_one_finish (TdPop3Session  *self,
                                 GAsyncResult   *result,
                                 GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
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
  Op *op;

  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (number > 0);

  task = op_task_new (self, td_pop3_session_top_async, cancellable, callback, user_data);
  op = task_op (task);
  op->number = number;
  op->lines = lines;
  op->chunk_func = func;
  op->func_data = func_data;
  run_operation (self, EV_TOP, task);
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
  Op *op;

  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (number > 0);

  task = op_task_new (self, td_pop3_session_retr_async, cancellable, callback, user_data);
  op = task_op (task);
  op->number = number;
  op->chunk_func = func;
  op->func_data = func_data;
  run_operation (self, EV_RETR, task);
}

gboolean
td_pop3_session_retr_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static GArray *
numbers_copy (const guint32 *numbers,
              guint          n_numbers)
{
  GArray *array = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n_numbers);

  if (n_numbers > 0)
    g_array_append_vals (array, numbers, n_numbers);
  return array;
}

static gboolean
numbers_valid (const guint32 *numbers,
               guint          n_numbers)
{
  for (guint i = 0; i < n_numbers; i++)
    if (numbers[i] == 0)
      return FALSE;
  return TRUE;
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
  g_return_if_fail (numbers_valid (numbers, n_numbers));

  task = op_task_new (self, td_pop3_session_retr_many_async, cancellable, callback, user_data);
  op = task_op (task);
  op->numbers = numbers_copy (numbers, n_numbers);
  op->chunk_func = chunk_func;
  op->message_func = message_func;
  op->func_data = func_data;
  run_operation (self, EV_RETR, task);
}

gboolean
td_pop3_session_retr_many_finish (TdPop3Session  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_dele_async (TdPop3Session       *self,
                            guint32              number,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (number > 0);

  number_operation (self, EV_DELE, td_pop3_session_dele_async, number, cancellable, callback,
                    user_data);
}

gboolean
td_pop3_session_dele_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_dele_many_async (TdPop3Session       *self,
                                 const guint32       *numbers,
                                 guint                n_numbers,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Op *op;

  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (numbers != NULL || n_numbers == 0);
  g_return_if_fail (numbers_valid (numbers, n_numbers));

  task = op_task_new (self, td_pop3_session_dele_many_async, cancellable, callback, user_data);
  op = task_op (task);
  op->numbers = numbers_copy (numbers, n_numbers);
  op->refused = g_array_new (FALSE, FALSE, sizeof (guint32));
  run_operation (self, EV_DELE, task);
}

GArray *
td_pop3_session_dele_many_finish (TdPop3Session  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_pop3_session_rset_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  simple_operation (self, EV_RSET, td_pop3_session_rset_async, cancellable, callback,
                    user_data);
}

gboolean
td_pop3_session_rset_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_noop_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));

  simple_operation (self, EV_NOOP, td_pop3_session_noop_async, cancellable, callback,
                    user_data);
}

gboolean
td_pop3_session_noop_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_quit_async (TdPop3Session       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_POP3_SESSION (self));

  task = op_task_new (self, td_pop3_session_quit_async, cancellable, callback, user_data);
  task_op (task)->watch_cancel = FALSE;   /* once sent, its answer decides */
  run_operation (self, EV_QUIT, task);
}

gboolean
td_pop3_session_quit_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_close (TdPop3Session *self)
{
  EventData data = { 0, };

  g_return_if_fail (TD_IS_POP3_SESSION (self));

  dispatch (self, EV_CLOSE, &data);
}
