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
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-imap"

#include "config.h"

#include "td-imap-session.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-trace.h"

#define READ_CHUNK          (64 * 1024)
/* uids one SEARCH/ESEARCH answer may expand to (a hostile "1:4294967295" stops here) */
#define MAX_SEARCH_RESULTS  (16 * 1024 * 1024)
/* RFC 7888: LITERAL- allows non-synchronising literals up to this size */
#define LITERAL_MINUS_MAX   4096

/* Internal states; each maps to one public TdImapState (see public_state()). */
typedef enum
{
  ST_NEW,                 /* never connected */
  ST_CONNECTING,          /* TdConnection connecting (TCP, implicit TLS) */
  ST_GREETING,            /* waiting for the greeting */
  ST_NEGOTIATING,         /* CAPABILITY / STARTTLS before connect completes */
  ST_STARTTLS,            /* TLS handshake: nothing is read or written */
  ST_NOT_AUTHENTICATED,
  ST_AUTHENTICATING,      /* LOGIN / AUTHENTICATE in flight */
  ST_AUTHENTICATED,
  ST_SELECTING,           /* SELECT / EXAMINE in flight (the previous mailbox is closed) */
  ST_SELECTED,
  ST_IDLE,                /* IDLE sent (RFC 2177): nothing else until it ends */
  ST_LOGOUT,              /* LOGOUT sent */
  ST_CLOSED,              /* the connection ended; a session is not reused */
  N_STATES
} State;

typedef enum
{
  /* operations */
  EV_CONNECT,
  EV_LOGIN,
  EV_LIST,
  EV_SELECT,
  EV_FETCH,
  EV_SEARCH,
  EV_ENABLE,
  EV_STORE,
  EV_COPY,
  EV_EXPUNGE,
  EV_MAILBOX,
  EV_NOOP,
  EV_IDLE,
  EV_QUOTA,
  EV_LOGOUT,
  EV_CLOSE,
  /* server responses */
  EV_UNTAGGED,
  EV_TAGGED,
  EV_CONTINUATION,
  N_EVENTS
} Event;

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
  [EV_EXPUNGE] = N_("remove deleted messages"),
  [EV_MAILBOX] = N_("change a folder"),
  [EV_NOOP] = N_("check for news"),
  [EV_IDLE] = N_("wait for news"),
  [EV_QUOTA] = N_("ask for the quota"),
  [EV_LOGOUT] = N_("log out"),
  [EV_CLOSE] = N_("close"),
  [EV_UNTAGGED] = "untagged response",
  [EV_TAGGED] = "tagged response",
  [EV_CONTINUATION] = "continuation request",
};

typedef enum
{
  CMD_CAPABILITY,
  CMD_STARTTLS,
  CMD_LOGIN,              /* LOGIN or AUTHENTICATE */
  CMD_LIST,
  CMD_SELECT,
  CMD_FETCH,
  CMD_SEARCH,
  CMD_ENABLE,
  CMD_STORE,
  CMD_COPY,
  CMD_EXPUNGE,
  CMD_MAILBOX,
  CMD_NOOP,
  CMD_IDLE,
  CMD_QUOTA,
  CMD_LOGOUT,
} CommandKind;

typedef struct _Command Command;

/* Called with the tagged response once the command is out of the queues. */
typedef void (*CommandDone) (TdImapSession        *self,
                             Command              *cmd,
                             const TdImapResponse *tagged);

struct _Command
{
  TdImapSession  *session;       /* not a reference: a command lives in the session's queues */
  CommandKind     kind;
  CommandDone     done;
  char            tag[16];       /* given when the first part is written */
  GPtrArray      *parts;         /* GBytes*, the text after "TAG "; every part but the last
                                  * ends in a synchronising literal "{n}\r\n" */
  GString        *line;          /* while building */
  guint           next_part;
  gboolean        continued;     /* the "+" for the part after next_part - 1 arrived */
  gboolean        secret;        /* carries credentials: parts zeroed, traced redacted */
  GTask          *task;          /* NULL for internal commands and once cancelled */
  GSource        *cancel_source;

  /* LIST */
  GPtrArray      *entries;
  GHashTable     *seen;
  /* SELECT */
  TdImapMailbox   mailbox;
  gboolean        examine;
  /* FETCH */
  TdImapFetchFunc func;
  gpointer        func_data;
  /* SEARCH */
  GArray         *uids;
  GError         *error;         /* first problem with the command's own data */
  /* LOGIN, CAPABILITY */
  guint           caps_serial;
  /* SELECT with QRESYNC: VANISHED (EARLIER) and FETCH go to vanished_func and func */
  gboolean        qresync;
  TdImapVanishedFunc vanished_func;
  guint64         vanished_total; /* uids passed on so far, bounded like search results */
  /* COPY, MOVE */
  TdImapCopyUid   copy_uid;
  /* MAILBOX */
  TdImapMailboxOp op;
  /* ENABLE */
  char           *capability;
  /* QUOTA */
  gboolean        quota_found;
  guint64         quota_usage;
  guint64         quota_limit;
  /* IDLE */
  gboolean        idle_started;   /* the server's "+" came */
  gboolean        idle_done;      /* DONE asked for */
};

struct _TdImapSession
{
  GObject         parent_instance;

  TdConnection   *connection;    /* NULL for a session over a given stream */
  GIOStream      *stream;        /* the given stream, or NULL */
  GInputStream   *input;
  GOutputStream  *output;
  GCancellable   *io_cancellable;
  guint           generation;    /* bumped at every shutdown; late I/O of an older one is ignored */

  State           state;
  TdImapParser   *parser;
  gboolean        reading;
  gboolean        writing;

  GHashTable     *caps;          /* upper-case atoms; NULL while not known */
  guint           caps_serial;   /* bumped whenever the set is replaced */

  gboolean        preauth;
  gboolean        starttls_sent; /* STARTTLS in flight: input is fed line by line */
  gboolean        tls_pending;   /* STARTTLS OK seen; handshake once the last write is done */
  gboolean        tls_done;

  GTask          *connect_task;
  GSource        *connect_cancel_source;

  GQueue          outgoing;      /* Command*, not completely written; the head may be half-sent */
  GQueue          inflight;      /* Command*, written at least in part, in sending order */
  guint           next_tag;

  TdImapMailbox   mailbox;
  GHashTable     *enabled;       /* upper-case capabilities the server ENABLEd */
};

G_DEFINE_FINAL_TYPE (TdImapSession, td_imap_session, G_TYPE_OBJECT)

enum {
  CLOSED,
  MAILBOX_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  GTask                *task;      /* operations */
  const TdImapResponse *response;  /* server events */
} EventData;

typedef void (*EventHandler) (TdImapSession *self,
                              EventData     *data);

static void dispatch        (TdImapSession *self,
                             Event          event,
                             EventData     *data);
static void write_next      (TdImapSession *self);
static void start_reading   (TdImapSession *self);
static void connect_continue (TdImapSession *self);

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
secure_free (gpointer data)
{
  if (data != NULL)
    secure_clear (data, strlen (data));
  g_free (data);
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

static gboolean
session_has_cap (TdImapSession *self,
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

static const char *
response_text (const TdImapResponse *response)
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

static const TdImapValue *
code_arg (const TdImapResponse *response,
          guint                 i)
{
  if (response->code_args == NULL || i >= response->code_args->len)
    return NULL;
  return g_ptr_array_index (response->code_args, i);
}

static gboolean
response_is (const TdImapResponse *response,
             const char           *name)
{
  return response->name != NULL && strcmp (response->name, name) == 0;
}

/* An error for a command the server refused. */
static GError *
refused_error (const TdImapResponse *tagged,
               const char           *what)
{
  return g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                      _("The server refused to %s: %s"), what, response_text (tagged));
}

/* A read, write or connect error as the user should read it. */
static GError *
map_io_error (TdImapSession *self,
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

static Command *
command_new (TdImapSession *self,
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

static void
command_free (Command *cmd)
{
  g_clear_pointer (&cmd->cancel_source, source_destroy);
  g_clear_object (&cmd->task);
  g_ptr_array_unref (cmd->parts);
  if (cmd->line != NULL)
    {
      secure_clear (cmd->line->str, cmd->line->len);
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
static GTask *
command_steal_task (Command *cmd)
{
  g_clear_pointer (&cmd->cancel_source, source_destroy);
  cmd->func = NULL;
  cmd->func_data = NULL;
  return g_steal_pointer (&cmd->task);
}

static void
command_append (Command    *cmd,
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
static void
command_break (Command *cmd)
{
  g_string_append (cmd->line, "\r\n");
  command_push_part (cmd);
}

static void
command_end (Command *cmd)
{
  command_break (cmd);
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
static void
command_append_astring (TdImapSession *self,
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
  else if (session_has_cap (self, "LITERAL+") ||
           (session_has_cap (self, "LITERAL-") && len <= LITERAL_MINUS_MAX))
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

static gboolean
on_command_cancelled (GCancellable *cancellable,
                      gpointer      user_data)
{
  Command *cmd = user_data;
  TdImapSession *self = cmd->session;
  g_autoptr(GTask) task = command_steal_task (cmd);

  if (cmd->next_part == 0)
    {
      /* never written: it simply leaves the queue */
      g_queue_remove (&self->outgoing, cmd);
      if (cmd->kind == CMD_LOGIN && self->state == ST_AUTHENTICATING)
        self->state = ST_NOT_AUTHENTICATED;
      else if (cmd->kind == CMD_SELECT && self->state == ST_SELECTING)
        self->state = ST_AUTHENTICATED;
      command_free (cmd);
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

  g_clear_pointer (&cmd->cancel_source, source_destroy);
  if (cmd->task == NULL || (cancellable = g_task_get_cancellable (cmd->task)) == NULL)
    return;
  cmd->cancel_source = g_cancellable_source_new (cancellable);
  g_source_set_callback (cmd->cancel_source, G_SOURCE_FUNC (on_command_cancelled), cmd, NULL);
  g_source_attach (cmd->cancel_source, g_task_get_context (cmd->task));
}

static void
session_queue (TdImapSession *self,
               Command       *cmd)
{
  g_assert (cmd->line == NULL);
  command_watch_cancellable (cmd);
  g_queue_push_tail (&self->outgoing, cmd);
  write_next (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Capabilities */

static void
session_set_caps_from_values (TdImapSession *self,
                              GPtrArray     *values)
{
  g_autoptr(GHashTable) caps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; values != NULL && i < values->len; i++)
    {
      const TdImapValue *value = g_ptr_array_index (values, i);

      if (value->type == TD_IMAP_VALUE_ATOM && value->atom != NULL)
        g_hash_table_add (caps, g_ascii_strup (value->atom, -1));
    }
  g_clear_pointer (&self->caps, g_hash_table_unref);
  self->caps = g_steal_pointer (&caps);
  self->caps_serial++;
}

/* "* CAPABILITY ..." or any status response with a [CAPABILITY ...] code. */
static void
session_take_capabilities (TdImapSession        *self,
                           const TdImapResponse *response)
{
  if (response->status == TD_IMAP_STATUS_NONE && response_is (response, "CAPABILITY"))
    session_set_caps_from_values (self, response->values);
  else if (response->status != TD_IMAP_STATUS_NONE && response->code != NULL &&
           strcmp (response->code, "CAPABILITY") == 0)
    session_set_caps_from_values (self, response->code_args);
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
static void
session_shutdown (TdImapSession *self,
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
  g_clear_pointer (&self->connect_cancel_source, source_destroy);

  while ((cmd = g_queue_pop_head (&commands)) != NULL)
    {
      g_autoptr(GTask) task = command_steal_task (cmd);

      command_free (cmd);
      if (task != NULL)
        g_task_return_error (task, g_error_copy (task_error));
    }
  if (connect_task != NULL)
    g_task_return_error (connect_task, g_error_copy (task_error));

  if (was_open)
    g_signal_emit (self, signals[CLOSED], 0, closed_error);
}

static void
session_fail (TdImapSession *self,
              GError        *error)   /* (transfer full) */
{
  session_shutdown (self, error, error);
  g_error_free (error);
}

static void
session_fail_protocol (TdImapSession *self,
                       const char    *what)
{
  session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                                   _("The server broke the IMAP protocol (%s). The connection "
                                     "was closed; try again later."), what));
}

/* The LOGOUT completed (OK, BYE then EOF, or EOF): a clean end. */
static void
session_finish_logout (TdImapSession *self)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                                 _("The connection was closed by logging out"));

  /* the LOGOUT's task (its command is freed with the others) */
  for (GList *l = self->outgoing.head; l != NULL && task == NULL; l = l->next)
    if (((Command *) l->data)->kind == CMD_LOGOUT)
      task = command_steal_task (l->data);
  for (GList *l = self->inflight.head; l != NULL && task == NULL; l = l->next)
    if (((Command *) l->data)->kind == CMD_LOGOUT)
      task = command_steal_task (l->data);
  session_shutdown (self, NULL, error);
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing */

static void
on_write_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data);

typedef struct
{
  GWeakRef  session;
  guint     generation;
  guint8   *data;           /* read buffer, or the bytes being written */
  gsize     len;
  gboolean  secret;
} IoOp;

static IoOp *
io_op_new (TdImapSession *self)
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
static TdImapSession *
io_op_get_session (IoOp *op)
{
  TdImapSession *self = g_weak_ref_get (&op->session);

  if (self != NULL && self->generation != op->generation)
    g_clear_object (&self);
  return self;
}

static void
write_next (TdImapSession *self)
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

  op = io_op_new (self);
  op->secret = secret;
  op->len = buffer->len;
  op->data = g_byte_array_free (g_steal_pointer (&buffer), FALSE);
  self->writing = TRUE;
  g_output_stream_write_all_async (self->output, op->data, op->len, G_PRIORITY_DEFAULT,
                                   self->io_cancellable, on_write_done, op);
}

static void
on_tls_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdImapSession) self = io_op_get_session (op);
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

  g_assert (self->state == ST_STARTTLS);
  g_set_object (&self->input, td_connection_get_input_stream (self->connection));
  g_set_object (&self->output, td_connection_get_output_stream (self->connection));
  self->tls_done = TRUE;
  self->starttls_sent = FALSE;
  /* RFC 3501 6.2.1: forget what was learnt in plaintext and ask again */
  g_clear_pointer (&self->caps, g_hash_table_unref);
  self->caps_serial++;
  self->state = ST_NEGOTIATING;
  start_reading (self);
  connect_continue (self);
}

static void
maybe_start_tls (TdImapSession *self)
{
  if (self->state != ST_STARTTLS || !self->tls_pending || self->writing)
    return;
  self->tls_pending = FALSE;
  td_connection_start_tls_async (self->connection,
                                 self->connect_task != NULL ?
                                   g_task_get_cancellable (self->connect_task) : NULL,
                                 on_tls_done, io_op_new (self));
}

static void
on_write_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdImapSession) self = io_op_get_session (op);
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

static void
start_reading (TdImapSession *self)
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
        session_fail (self, g_error_new (TD_ERROR, TD_ERROR_LIMIT,
                                         _("The server sent more data than is safe to accept "
                                           "(%s). The connection was closed."), error->message));
      else
        session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PARSE,
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
  g_autoptr(TdImapSession) self = io_op_get_session (op);
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
      if (self->state == ST_LOGOUT)
        session_finish_logout (self);
      else
        session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                                 _("The server closed the connection. Check "
                                                   "your network connection and try "
                                                   "again.")));
      return;
    }

  generation = self->generation;
  process_input (self, op->data, (gsize) n);

  if (self->generation != generation || self->state == ST_STARTTLS || self->input == NULL)
    {
      if (self->generation == generation)
        self->reading = FALSE;
      io_op_free (op);
      return;
    }
  read_next (self, op);
}

/* ------------------------------------------------------------------------------------------ */
/* Connect */

static void
connect_complete (TdImapSession *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->connect_task);

  g_clear_pointer (&self->connect_cancel_source, source_destroy);
  self->state = self->preauth ? ST_AUTHENTICATED : ST_NOT_AUTHENTICATED;
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static void
connect_capability_done (TdImapSession        *self,
                         Command              *cmd,
                         const TdImapResponse *tagged)
{
  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      session_fail (self, refused_error (tagged, _("tell its capabilities")));
      return;
    }
  if (self->caps == NULL)               /* answered without any: an empty set, no loop */
    session_set_caps_from_values (self, NULL);
  connect_continue (self);
}

static void
starttls_done (TdImapSession        *self,
               Command              *cmd,
               const TdImapResponse *tagged)
{
  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      session_fail (self, g_error_new (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                       _("The server refused to start encryption (%s). The "
                                         "password was not sent."), response_text (tagged)));
      return;
    }
  /* The handshake starts once the input is known to hold nothing more (process_input) and
   * the last write is done (maybe_start_tls). */
  self->state = ST_STARTTLS;
  self->tls_pending = TRUE;
}

static void
connect_continue (TdImapSession *self)
{
  gboolean want_tls = self->connection != NULL &&
                      td_connection_get_security (self->connection) == TD_SECURITY_STARTTLS &&
                      !self->tls_done;
  Command *cmd;

  g_assert (self->state == ST_NEGOTIATING);

  if (want_tls && self->preauth)
    {
      session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                               _("The server logged in before the connection "
                                                 "was encrypted, so STARTTLS is impossible. "
                                                 "Use TLS on the server’s secure port "
                                                 "instead.")));
      return;
    }

  if (self->caps == NULL)
    {
      cmd = command_new (self, CMD_CAPABILITY, connect_capability_done, NULL);
      command_append (cmd, "CAPABILITY");
      command_end (cmd);
      session_queue (self, cmd);
      return;
    }

  if (want_tls)
    {
      if (!session_has_cap (self, "STARTTLS"))
        {
          session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                                   _("The server does not offer STARTTLS, so "
                                                     "the connection cannot be encrypted and "
                                                     "the password was not sent. Choose TLS "
                                                     "(usually port 993) or check the server "
                                                     "settings.")));
          return;
        }
      cmd = command_new (self, CMD_STARTTLS, starttls_done, NULL);
      command_append (cmd, "STARTTLS");
      command_end (cmd);
      self->starttls_sent = TRUE;
      session_queue (self, cmd);
      return;
    }

  connect_complete (self);
}

static gboolean
on_connect_cancelled (GCancellable *cancellable,
                      gpointer      user_data)
{
  TdImapSession *self = user_data;
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 _("The operation was cancelled"));

  g_clear_pointer (&self->connect_cancel_source, source_destroy);
  session_shutdown (self, error, error);
  return G_SOURCE_REMOVE;
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  IoOp *op = user_data;
  g_autoptr(TdImapSession) self = io_op_get_session (op);
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

/* ------------------------------------------------------------------------------------------ */
/* Operation handlers */

static void
handle_connect (TdImapSession *self,
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
  g_clear_pointer (&self->parser, td_imap_parser_free);
  self->parser = td_imap_parser_new ();

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

typedef struct
{
  char *username;
  char *password;
} LoginArgs;

static void
login_args_free (LoginArgs *args)
{
  secure_free (args->username);
  secure_free (args->password);
  g_free (args);
}

static void
login_capability_done (TdImapSession        *self,
                       Command              *cmd,
                       const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = command_steal_task (cmd);

  if (tagged->status == TD_IMAP_STATUS_OK && self->caps_serial == cmd->caps_serial)
    session_set_caps_from_values (self, NULL);   /* answered without any */
  if (task == NULL)
    return;
  if (tagged->status != TD_IMAP_STATUS_OK)
    g_task_return_error (task, refused_error (tagged, _("tell its capabilities")));
  else
    g_task_return_boolean (task, TRUE);
}

static void
login_done (TdImapSession        *self,
            Command              *cmd,
            const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = command_steal_task (cmd);
  Command *caps;

  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      if (self->state == ST_AUTHENTICATING)
        self->state = ST_NOT_AUTHENTICATED;
      if (task == NULL)
        return;
      if (tagged->status == TD_IMAP_STATUS_NO)
        g_task_return_new_error (task, TD_ERROR, TD_ERROR_AUTH,
                                 _("The server refused the user name or password: %s"),
                                 response_text (tagged));
      else
        g_task_return_error (task, refused_error (tagged, _("log in")));
      return;
    }

  self->state = ST_AUTHENTICATED;
  /* capabilities change after login: take them from the OK (already done), an untagged
   * CAPABILITY meanwhile, or ask */
  if (self->caps_serial != cmd->caps_serial)
    {
      if (task != NULL)
        g_task_return_boolean (task, TRUE);
      return;
    }
  caps = command_new (self, CMD_CAPABILITY, login_capability_done, task);
  caps->caps_serial = self->caps_serial;
  command_append (caps, "CAPABILITY");
  command_end (caps);
  session_queue (self, caps);
}

static void
handle_login (TdImapSession *self,
              EventData     *data)
{
  LoginArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (self->connection != NULL && !td_connection_is_tls (self->connection))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_TLS_REQUIRED,
                               _("The connection is not encrypted, so the password was not "
                                 "sent. Check the security settings of the account."));
      return;
    }

  cmd = command_new (self, CMD_LOGIN, login_done, data->task);
  cmd->secret = TRUE;
  cmd->caps_serial = self->caps_serial;

  if (session_has_cap (self, "AUTH=PLAIN"))
    {
      gsize ulen = strlen (args->username);
      gsize plen = strlen (args->password);
      gsize len = ulen + plen + 2;
      g_autofree guint8 *raw = g_malloc (len);
      char *b64;

      raw[0] = '\0';
      memcpy (raw + 1, args->username, ulen);
      raw[1 + ulen] = '\0';
      memcpy (raw + 2 + ulen, args->password, plen);
      b64 = g_base64_encode (raw, len);
      secure_clear (raw, len);

      command_append (cmd, "AUTHENTICATE PLAIN");
      if (session_has_cap (self, "SASL-IR"))
        command_append (cmd, " ");
      else
        command_break (cmd);
      command_append (cmd, b64);
      command_end (cmd);
      secure_free (b64);
    }
  else if (session_has_cap (self, "LOGINDISABLED"))
    {
      command_free (cmd);
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_AUTH,
                               _("The server does not allow logging in with a password on "
                                 "this connection (LOGINDISABLED). Check that the account "
                                 "uses an encrypted connection."));
      return;
    }
  else
    {
      command_append (cmd, "LOGIN ");
      command_append_astring (self, cmd, args->username);
      command_append (cmd, " ");
      command_append_astring (self, cmd, args->password);
      command_end (cmd);
    }

  self->state = ST_AUTHENTICATING;
  session_queue (self, cmd);
}

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

static void
list_untagged (Command              *cmd,
               const TdImapResponse *response)
{
  g_autoptr(GError) error = NULL;
  TdImapListEntry *entry;

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
  g_hash_table_add (cmd->seen, g_strdup (entry->raw_path));
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
  g_autoptr(GTask) task = command_steal_task (cmd);

  if (task == NULL)
    return;
  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      g_task_return_error (task, refused_error (tagged, _("list the folders")));
      return;
    }
  list_assign_roles (cmd->entries);
  g_task_return_pointer (task, g_steal_pointer (&cmd->entries),
                         (GDestroyNotify) g_ptr_array_unref);
}

static void
handle_list (TdImapSession *self,
             EventData     *data)
{
  Command *cmd = command_new (self, CMD_LIST, list_done, data->task);

  cmd->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) td_imap_list_entry_free);
  cmd->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  command_append (cmd, "LIST \"\" \"*\"");
  /* RFC 6154: the RETURN option needs LIST-EXTENDED; without it a SPECIAL-USE server puts the
   * attributes into the plain LIST */
  if (session_has_cap (self, "SPECIAL-USE") && session_has_cap (self, "LIST-EXTENDED"))
    command_append (cmd, " RETURN (SPECIAL-USE)");
  command_end (cmd);
  session_queue (self, cmd);
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

static gboolean
select_wants (const TdImapResponse *response)
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
         ((response->has_number && (response_is (response, "EXISTS") ||
                                    response_is (response, "RECENT"))) ||
          response_is (response, "FLAGS"));
}

static void vanished_untagged (TdImapSession        *self,
                               Command              *cmd,
                               const TdImapResponse *response);
static void fetch_untagged    (TdImapSession        *self,
                               Command              *cmd,
                               const TdImapResponse *response);
static void copy_untagged     (Command              *cmd,
                               const TdImapResponse *response);
static void enable_untagged   (TdImapSession        *self,
                               const TdImapResponse *response);
static void quota_untagged    (Command              *cmd,
                               const TdImapResponse *response);

static void
select_untagged (Command              *cmd,
                 const TdImapResponse *response)
{
  if (cmd->qresync && response->status == TD_IMAP_STATUS_NONE &&
      response_is (response, "VANISHED"))
    vanished_untagged (cmd->session, cmd, response);
  else if (cmd->qresync && response->status == TD_IMAP_STATUS_NONE &&
           response_is (response, "FETCH"))
    fetch_untagged (cmd->session, cmd, response);
  else if (response->status == TD_IMAP_STATUS_NONE && response->has_number &&
           response_is (response, "EXISTS"))
    cmd->mailbox.exists = response->number;
  else if (response->status == TD_IMAP_STATUS_OK)
    select_apply_code (&cmd->mailbox, response);
}

static void
select_done (TdImapSession        *self,
             Command              *cmd,
             const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = command_steal_task (cmd);

  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      /* RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected */
      if (self->state == ST_SELECTING)
        self->state = ST_AUTHENTICATED;
      if (task != NULL)
        g_task_return_error (task, refused_error (tagged, _("open the folder")));
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

static void
handle_select (TdImapSession *self,
               EventData     *data)
{
  SelectArgs *args = g_task_get_task_data (data->task);
  Command *cmd = command_new (self, CMD_SELECT, select_done, data->task);

  cmd->examine = args->read_only;
  command_append (cmd, args->read_only ? "EXAMINE " : "SELECT ");
  command_append_astring (self, cmd, args->raw_path);
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
  else if (session_has_cap (self, "CONDSTORE"))
    command_append (cmd, " (CONDSTORE)");
  command_end (cmd);

  /* RFC 3501 6.3.1: the current mailbox is deselected as the command starts */
  memset (&self->mailbox, 0, sizeof self->mailbox);
  self->state = ST_SELECTING;
  session_queue (self, cmd);
}

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

static void
fetch_untagged (TdImapSession        *self,
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
      session_fail (self, g_error_new (TD_ERROR, TD_ERROR_PARSE,
                                       _("The server sent a message that could not be read "
                                         "(%s). The connection was closed."),
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
  g_autoptr(GTask) task = command_steal_task (cmd);

  if (task == NULL)
    return;
  if (tagged->status != TD_IMAP_STATUS_OK)
    g_task_return_error (task, refused_error (tagged, _("send the messages")));
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
is_command_text (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

static void
handle_fetch (TdImapSession *self,
              EventData     *data)
{
  FetchArgs *args = g_task_get_task_data (data->task);
  Command *cmd = command_new (self, CMD_FETCH, fetch_done, data->task);

  cmd->func = args->func;
  cmd->func_data = args->func_data;
  g_string_append_printf (cmd->line, "UID FETCH %s (%s)", args->uid_set, args->items);
  if (args->changed_since > 0)
    g_string_append_printf (cmd->line, " (CHANGEDSINCE %" G_GUINT64_FORMAT ")",
                            args->changed_since);
  command_end (cmd);
  session_queue (self, cmd);
}

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
  if ((guint64) cmd->uids->len + more > MAX_SEARCH_RESULTS)
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

/* The (TAG "A3") correlator of an ESEARCH response, or NULL. */
static char *
esearch_dup_tag (const TdImapResponse *response)
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

static void
search_untagged (Command              *cmd,
                 const TdImapResponse *response)
{
  GPtrArray *values = response->values;
  guint i = 0;

  if (values == NULL)
    return;

  if (response_is (response, "SEARCH"))
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
  g_autoptr(GTask) task = command_steal_task (cmd);
  GArray *uids = cmd->uids;
  guint n = 0;

  if (task == NULL)
    return;
  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      g_task_return_error (task, refused_error (tagged, _("search the folder")));
      return;
    }
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

static void
handle_search (TdImapSession *self,
               EventData     *data)
{
  const char *criteria = g_task_get_task_data (data->task);
  Command *cmd = command_new (self, CMD_SEARCH, search_done, data->task);

  cmd->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_string_append_printf (cmd->line, "UID SEARCH %s", criteria);
  command_end (cmd);
  session_queue (self, cmd);
}

static void
logout_done (TdImapSession        *self,
             Command              *cmd,
             const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = command_steal_task (cmd);
  g_autoptr(GError) error = g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                                 _("The connection was closed by logging out"));

  session_shutdown (self, NULL, error);
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static void
handle_logout (TdImapSession *self,
               EventData     *data)
{
  Command *cmd = command_new (self, CMD_LOGOUT, logout_done, data->task);

  command_append (cmd, "LOGOUT");
  command_end (cmd);
  self->state = ST_LOGOUT;
  session_queue (self, cmd);
}

/* Not connected (yet or any more): there is nothing to log out of. */
static void
handle_logout_closed (TdImapSession *self,
                      EventData     *data)
{
  g_task_return_boolean (data->task, TRUE);
}

/* Still setting up: nothing to say to the server, just drop the connection. */
static void
handle_logout_abort (TdImapSession *self,
                     EventData     *data)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 _("The connection was closed"));

  session_shutdown (self, NULL, error);
  g_task_return_boolean (data->task, TRUE);
}

/* A second LOGOUT while one is under way: stop waiting for the server. Both complete. */
static void
handle_logout_again (TdImapSession *self,
                     EventData     *data)
{
  session_finish_logout (self);
  g_task_return_boolean (data->task, TRUE);
}

static void
handle_close (TdImapSession *self,
              EventData     *data)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 _("The connection was closed"));

  session_shutdown (self, NULL, error);
}

static void
handle_close_idle (TdImapSession *self,
                   EventData     *data)
{
  /* explicitly nothing: not connected */
}

/* ------------------------------------------------------------------------------------------ */
/* Server event handlers */

static void
handle_greeting (TdImapSession *self,
                 EventData     *data)
{
  const TdImapResponse *response = data->response;

  switch (response->status)
    {
    case TD_IMAP_STATUS_OK:
      self->preauth = FALSE;
      break;
    case TD_IMAP_STATUS_PREAUTH:
      self->preauth = TRUE;
      break;
    case TD_IMAP_STATUS_BYE:
      session_fail (self, g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                                       _("The server refused the connection: %s"),
                                       response_text (response)));
      return;
    case TD_IMAP_STATUS_NO:
    case TD_IMAP_STATUS_BAD:
    case TD_IMAP_STATUS_NONE:
    default:
      session_fail (self, g_error_new_literal (TD_ERROR, TD_ERROR_PROTOCOL,
                                               _("The server did not greet like an IMAP "
                                                 "server. Check the host name and port.")));
      return;
    }

  session_take_capabilities (self, response);
  self->state = ST_NEGOTIATING;
  connect_continue (self);
}

static gboolean
command_wants (Command              *cmd,
               const TdImapResponse *response)
{
  switch (cmd->kind)
    {
    case CMD_FETCH:
      return response->status == TD_IMAP_STATUS_NONE && response_is (response, "FETCH");
    case CMD_LIST:
      return response->status == TD_IMAP_STATUS_NONE && response_is (response, "LIST");
    case CMD_SEARCH:
      if (response->status != TD_IMAP_STATUS_NONE)
        return FALSE;
      if (response_is (response, "SEARCH"))
        return TRUE;
      if (response_is (response, "ESEARCH"))
        {
          g_autofree char *tag = esearch_dup_tag (response);

          return tag == NULL || strcmp (tag, cmd->tag) == 0;
        }
      return FALSE;
    case CMD_SELECT:
      return select_wants (response) ||
             (cmd->qresync && response->status == TD_IMAP_STATUS_NONE &&
              (response_is (response, "VANISHED") || response_is (response, "FETCH")));
    case CMD_STORE:
      return response->status == TD_IMAP_STATUS_NONE && response_is (response, "FETCH");
    case CMD_COPY:
      return response->status == TD_IMAP_STATUS_OK && response->code != NULL &&
             strcmp (response->code, "COPYUID") == 0;
    case CMD_ENABLE:
      return response->status == TD_IMAP_STATUS_NONE && response_is (response, "ENABLED");
    case CMD_QUOTA:
      return response->status == TD_IMAP_STATUS_NONE &&
             (response_is (response, "QUOTA") || response_is (response, "QUOTAROOT"));
    case CMD_EXPUNGE:
    case CMD_MAILBOX:
    case CMD_NOOP:
    case CMD_IDLE:
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

  session_take_capabilities (self, response);

  if (response->status == TD_IMAP_STATUS_BYE)
    {
      if (self->state == ST_LOGOUT)
        return;                         /* expected; the OK or EOF follows */
      session_fail (self, g_error_new (TD_ERROR, TD_ERROR_CONNECTION,
                                       _("The server closed the connection: %s"),
                                       response_text (response)));
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
          fetch_untagged (self, cmd, response);
          break;
        case CMD_LIST:
          list_untagged (cmd, response);
          break;
        case CMD_SEARCH:
          search_untagged (cmd, response);
          break;
        case CMD_SELECT:
          select_untagged (cmd, response);
          break;
        case CMD_STORE:
          fetch_untagged (self, cmd, response);
          break;
        case CMD_COPY:
          copy_untagged (cmd, response);
          break;
        case CMD_ENABLE:
          enable_untagged (self, response);
          break;
        case CMD_QUOTA:
          quota_untagged (cmd, response);
          break;
        case CMD_EXPUNGE:
        case CMD_MAILBOX:
        case CMD_NOOP:
        case CMD_IDLE:
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

      if (response->has_number && response_is (response, "EXISTS"))
        {
          changed = response->number != self->mailbox.exists;
          self->mailbox.exists = response->number;
        }
      else if (response->has_number && response_is (response, "EXPUNGE"))
        {
          if (self->mailbox.exists > 0)
            self->mailbox.exists--;
          changed = TRUE;
        }
      else if (response_is (response, "FETCH") || response_is (response, "VANISHED"))
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
    session_take_capabilities (self, response);

  cmd->done (self, cmd, response);
  command_free (cmd);
  write_next (self);
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
          write_next (self);
        }
      return;
    }

  if (cmd == NULL || cmd->next_part == 0 || cmd->continued)
    {
      session_fail_protocol (self, "a continuation request nobody asked for");
      return;
    }
  cmd->continued = TRUE;
  write_next (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Changing: ENABLE, STORE, COPY/MOVE, EXPUNGE, mailboxes, NOOP, IDLE, GETQUOTAROOT */

/* The arguments of these operations, one shape for all. */
typedef struct
{
  char            *text;       /* capability, uid set, raw path */
  char            *text2;      /* flags, target, new path */
  gboolean         flag;       /* add / move */
  guint64          number;     /* unchanged_since */
  TdImapMailboxOp  op;
  TdImapFetchFunc  func;
  gpointer         func_data;
} OpArgs;

static void
op_args_free (OpArgs *args)
{
  g_free (args->text);
  g_free (args->text2);
  g_free (args);
}

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

/* Expands a uid set of the server into a new array (bounded like search results); NULL when
 * it is malformed or too large. */
static GArray *
expand_set (TdImapSession *self,
            const char    *set)
{
  Command *scratch = command_new (self, CMD_SEARCH, NULL, NULL);
  GArray *uids;

  scratch->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  search_add_set (scratch, set);
  uids = scratch->error == NULL ? g_steal_pointer (&scratch->uids) : NULL;
  command_free (scratch);
  return uids;
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
      (uids = expand_set (self, text)) == NULL)
    {
      if (cmd->error == NULL)
        cmd->error = g_error_new_literal (TD_ERROR, TD_ERROR_PARSE,
                                          _("The server sent a list of removed messages that "
                                            "could not be understood."));
      return;
    }
  /* each answer is bounded by expand_set(); so are all of them together */
  cmd->vanished_total += uids->len;
  if (cmd->vanished_total > MAX_SEARCH_RESULTS)
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

static void
enable_untagged (TdImapSession        *self,
                 const TdImapResponse *response)
{
  for (guint i = 0; i < response->values->len; i++)
    {
      const TdImapValue *v = g_ptr_array_index (response->values, i);

      if (v->type == TD_IMAP_VALUE_ATOM && v->atom != NULL)
        g_hash_table_add (self->enabled, g_ascii_strup (v->atom, -1));
    }
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
  src_uids = expand_set (self, src);
  dst_uids = expand_set (self, dst);
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

static void
copy_untagged (Command              *cmd,
               const TdImapResponse *response)
{
  copy_take_code (cmd->session, cmd, response);
}

/* "* QUOTA root (STORAGE 120 10240 MESSAGE 4 1000)"; a STORAGE without two numbers the store
 * can keep (KiB as a signed 64-bit count) is an error, not a quota. */
static void
quota_untagged (Command              *cmd,
                const TdImapResponse *response)
{
  const TdImapValue *list;

  if (!response_is (response, "QUOTA") || cmd->quota_found || cmd->error != NULL ||
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

/* The generic end of a command that returns TRUE or the refusal. */
static void
boolean_done (TdImapSession        *self,
              Command              *cmd,
              const TdImapResponse *tagged,
              const char           *what)
{
  g_autoptr(GTask) task = command_steal_task (cmd);

  if (task == NULL)
    return;
  if (tagged->status != TD_IMAP_STATUS_OK)
    g_task_return_error (task, refused_error (tagged, what));
  else
    g_task_return_boolean (task, TRUE);
}

static void
enable_done (TdImapSession        *self,
             Command              *cmd,
             const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = command_steal_task (cmd);
  g_autofree char *upper = g_ascii_strup (cmd->capability, -1);

  if (task == NULL)
    return;
  if (tagged->status != TD_IMAP_STATUS_OK)
    g_task_return_error (task, refused_error (tagged, _("turn on a server extension")));
  else
    g_task_return_boolean (task, g_hash_table_contains (self->enabled, upper));
}

static gboolean
is_atom_text (const char *text)
{
  static const char specials[] = "(){ %*\"]";

  if (text == NULL || *text == '\0')
    return FALSE;
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p <= 0x20 || *p >= 0x7f || strchr (specials, *p) != NULL)
      return FALSE;
  return TRUE;
}

static void
handle_enable (TdImapSession *self,
               EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (!is_atom_text (args->text))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID,
                               "Not a capability name: %s", args->text);
      return;
    }
  cmd = command_new (self, CMD_ENABLE, enable_done, data->task);
  cmd->capability = g_strdup (args->text);
  g_string_append_printf (cmd->line, "ENABLE %s", args->text);
  command_end (cmd);
  session_queue (self, cmd);
}

static void
store_done (TdImapSession        *self,
            Command              *cmd,
            const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = command_steal_task (cmd);
  g_autofree char *set = NULL;
  GArray *modified;

  if (task == NULL)
    return;
  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      g_task_return_error (task, refused_error (tagged, _("change the flags")));
      return;
    }
  /* RFC 7162 3.1.3: [MODIFIED set] names what was changed meanwhile and left alone */
  if (tagged->code != NULL && strcmp (tagged->code, "MODIFIED") == 0 &&
      tagged->code_args != NULL && tagged->code_args->len > 0 &&
      (set = td_imap_value_dup_string (g_ptr_array_index (tagged->code_args, 0))) != NULL)
    {
      modified = expand_set (self, set);
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

      if (!is_atom_text (name))
        return FALSE;
    }
  return TRUE;
}

static void
handle_store (TdImapSession *self,
              EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (!is_command_text (args->text) || !is_flag_list (args->text2))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID,
                               "Not a uid set and a flag list: %s (%s)", args->text,
                               args->text2);
      return;
    }
  cmd = command_new (self, CMD_STORE, store_done, data->task);
  cmd->func = args->func;
  cmd->func_data = args->func_data;
  g_string_append_printf (cmd->line, "UID STORE %s ", args->text);
  if (args->number > 0)
    g_string_append_printf (cmd->line, "(UNCHANGEDSINCE %" G_GUINT64_FORMAT ") ",
                            args->number);
  g_string_append_printf (cmd->line, "%sFLAGS.SILENT (%s)", args->flag ? "+" : "-",
                          args->text2);
  command_end (cmd);
  session_queue (self, cmd);
}

static void
copy_done (TdImapSession        *self,
           Command              *cmd,
           const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = command_steal_task (cmd);
  TdImapCopyUid *out;

  if (task == NULL)
    return;
  if (tagged->status != TD_IMAP_STATUS_OK)
    {
      g_task_return_error (task, refused_error (tagged, _("copy or move the messages")));
      return;
    }
  copy_take_code (self, cmd, tagged);
  out = g_new0 (TdImapCopyUid, 1);
  *out = cmd->copy_uid;
  memset (&cmd->copy_uid, 0, sizeof cmd->copy_uid);
  g_task_return_pointer (task, out, (GDestroyNotify) copy_uid_free);
}

static void
handle_copy (TdImapSession *self,
             EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (args->flag && !session_has_cap (self, "MOVE"))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The server cannot move messages; they are copied and "
                                 "deleted instead."));
      return;
    }
  if (!is_command_text (args->text))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID, "Not a uid set: %s",
                               args->text);
      return;
    }
  cmd = command_new (self, CMD_COPY, copy_done, data->task);
  g_string_append_printf (cmd->line, "UID %s %s ", args->flag ? "MOVE" : "COPY", args->text);
  command_append_astring (self, cmd, args->text2);
  command_end (cmd);
  session_queue (self, cmd);
}

static void
expunge_done (TdImapSession        *self,
              Command              *cmd,
              const TdImapResponse *tagged)
{
  boolean_done (self, cmd, tagged, _("remove the deleted messages"));
}

static void
handle_expunge (TdImapSession *self,
                EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (args->text != NULL && !is_command_text (args->text))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_INVALID, "Not a uid set: %s",
                               args->text);
      return;
    }
  cmd = command_new (self, CMD_EXPUNGE, expunge_done, data->task);
  if (args->text != NULL && session_has_cap (self, "UIDPLUS"))
    g_string_append_printf (cmd->line, "UID EXPUNGE %s", args->text);
  else
    command_append (cmd, "EXPUNGE");
  command_end (cmd);
  session_queue (self, cmd);
}

static void
mailbox_done (TdImapSession        *self,
              Command              *cmd,
              const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = command_steal_task (cmd);

  if (task == NULL)
    return;
  /* RFC 5530: sending the same change twice (a replay) is no failure */
  if (tagged->status == TD_IMAP_STATUS_OK ||
      (tagged->status == TD_IMAP_STATUS_NO && tagged->code != NULL &&
       ((cmd->op == TD_IMAP_MAILBOX_CREATE && strcmp (tagged->code, "ALREADYEXISTS") == 0) ||
        (cmd->op == TD_IMAP_MAILBOX_DELETE && strcmp (tagged->code, "NONEXISTENT") == 0))))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, refused_error (tagged, _("change the folder")));
}

static void
handle_mailbox (TdImapSession *self,
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
  cmd = command_new (self, CMD_MAILBOX, mailbox_done, data->task);
  cmd->op = args->op;
  command_append (cmd, verbs[args->op]);
  command_append_astring (self, cmd, args->text);
  if (args->op == TD_IMAP_MAILBOX_RENAME)
    {
      command_append (cmd, " ");
      command_append_astring (self, cmd, args->text2);
    }
  command_end (cmd);
  session_queue (self, cmd);
}

static void
noop_done (TdImapSession        *self,
           Command              *cmd,
           const TdImapResponse *tagged)
{
  boolean_done (self, cmd, tagged, _("check for news"));
}

static void
handle_noop (TdImapSession *self,
             EventData     *data)
{
  Command *cmd = command_new (self, CMD_NOOP, noop_done, data->task);

  command_append (cmd, "NOOP");
  command_end (cmd);
  session_queue (self, cmd);
}

static void
idle_done (TdImapSession        *self,
           Command              *cmd,
           const TdImapResponse *tagged)
{
  if (self->state == ST_IDLE)
    self->state = ST_SELECTED;
  boolean_done (self, cmd, tagged, _("wait for news"));
}

static void
handle_idle (TdImapSession *self,
             EventData     *data)
{
  Command *cmd;

  if (!session_has_cap (self, "IDLE"))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The server cannot tell about new mail by itself; Tidings "
                                 "checks at intervals instead."));
      return;
    }
  /* two parts: "IDLE", then, after the "+" and td_imap_session_idle_done(), "DONE" */
  cmd = command_new (self, CMD_IDLE, idle_done, data->task);
  command_append (cmd, "IDLE");
  command_break (cmd);
  command_append (cmd, "DONE");
  command_end (cmd);
  self->state = ST_IDLE;
  session_queue (self, cmd);
}

static void
quota_done (TdImapSession        *self,
            Command              *cmd,
            const TdImapResponse *tagged)
{
  g_autoptr(GTask) task = command_steal_task (cmd);
  guint64 *result;

  if (task == NULL)
    return;
  if (tagged->status != TD_IMAP_STATUS_OK)
    g_task_return_error (task, refused_error (tagged, _("tell the quota")));
  else if (cmd->error != NULL)
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

static void
handle_quota (TdImapSession *self,
              EventData     *data)
{
  OpArgs *args = g_task_get_task_data (data->task);
  Command *cmd;

  if (!session_has_cap (self, "QUOTA"))
    {
      g_task_return_new_error (data->task, TD_ERROR, TD_ERROR_UNSUPPORTED,
                               _("The server does not tell how much space is used."));
      return;
    }
  cmd = command_new (self, CMD_QUOTA, quota_done, data->task);
  command_append (cmd, "GETQUOTAROOT ");
  command_append_astring (self, cmd, args->text);
  command_end (cmd);
  session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* The table */

#define SERVER_EVENTS \
  [EV_UNTAGGED] = handle_untagged, \
  [EV_TAGGED] = handle_tagged, \
  [EV_CONTINUATION] = handle_continuation

static const EventHandler handlers[N_STATES][N_EVENTS] = {
  [ST_NEW] = {
    [EV_CONNECT] = handle_connect,
    [EV_LOGOUT] = handle_logout_closed,
    [EV_CLOSE] = handle_close_idle,
  },
  [ST_CONNECTING] = {
    [EV_LOGOUT] = handle_logout_abort,
    [EV_CLOSE] = handle_close,
  },
  [ST_GREETING] = {
    [EV_LOGOUT] = handle_logout_abort,
    [EV_CLOSE] = handle_close,
    [EV_UNTAGGED] = handle_greeting,
  },
  [ST_NEGOTIATING] = {
    [EV_LOGOUT] = handle_logout_abort,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_STARTTLS] = {
    [EV_LOGOUT] = handle_logout_abort,
    [EV_CLOSE] = handle_close,
  },
  [ST_NOT_AUTHENTICATED] = {
    [EV_LOGIN] = handle_login,
    [EV_LOGOUT] = handle_logout,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_AUTHENTICATING] = {
    [EV_LOGOUT] = handle_logout,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_AUTHENTICATED] = {
    [EV_LIST] = handle_list,
    [EV_SELECT] = handle_select,
    [EV_ENABLE] = handle_enable,
    [EV_MAILBOX] = handle_mailbox,
    [EV_NOOP] = handle_noop,
    [EV_QUOTA] = handle_quota,
    [EV_LOGOUT] = handle_logout,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_SELECTING] = {
    [EV_LIST] = handle_list,
    [EV_LOGOUT] = handle_logout,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_SELECTED] = {
    [EV_LIST] = handle_list,
    [EV_SELECT] = handle_select,
    [EV_FETCH] = handle_fetch,
    [EV_SEARCH] = handle_search,
    [EV_ENABLE] = handle_enable,
    [EV_STORE] = handle_store,
    [EV_COPY] = handle_copy,
    [EV_EXPUNGE] = handle_expunge,
    [EV_MAILBOX] = handle_mailbox,
    [EV_NOOP] = handle_noop,
    [EV_IDLE] = handle_idle,
    [EV_QUOTA] = handle_quota,
    [EV_LOGOUT] = handle_logout,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_IDLE] = {
    [EV_LOGOUT] = handle_logout,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_LOGOUT] = {
    [EV_LOGOUT] = handle_logout_again,
    [EV_CLOSE] = handle_close,
    SERVER_EVENTS,
  },
  [ST_CLOSED] = {
    [EV_LOGOUT] = handle_logout_closed,
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
  g_clear_pointer (&self->connect_cancel_source, source_destroy);

  G_OBJECT_CLASS (td_imap_session_parent_class)->dispose (object);
}

static void
td_imap_session_finalize (GObject *object)
{
  TdImapSession *self = (TdImapSession *) object;
  Command *cmd;

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
  return session_has_cap (self, upper);
}

const TdImapMailbox *
td_imap_session_get_mailbox (TdImapSession *self)
{
  g_return_val_if_fail (TD_IS_IMAP_SESSION (self), NULL);

  return self->state == ST_SELECTED ? &self->mailbox : NULL;
}

static void
run_operation (TdImapSession *self,
               Event          event,
               GTask         *task)
{
  EventData data = { .task = task };

  if (g_task_return_error_if_cancelled (task))
    return;
  dispatch (self, event, &data);
}

void
td_imap_session_connect_async (TdImapSession       *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_connect_async);
  run_operation (self, EV_CONNECT, task);
}

gboolean
td_imap_session_connect_finish (TdImapSession  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_imap_session_login_async (TdImapSession       *self,
                             const char          *username,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoginArgs *args;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_login_async);
  args = g_new0 (LoginArgs, 1);
  args->username = g_strdup (username);
  args->password = g_strdup (password);
  g_task_set_task_data (task, args, (GDestroyNotify) login_args_free);
  run_operation (self, EV_LOGIN, task);
}

gboolean
td_imap_session_login_finish (TdImapSession  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

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
  run_operation (self, EV_LIST, task);
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
  run_operation (self, EV_SELECT, task);
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
  if (!is_command_text (uid_set) || !is_command_text (items))
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
  run_operation (self, EV_FETCH, task);
}

gboolean
td_imap_session_uid_fetch_finish (TdImapSession  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

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
  if (!is_command_text (criteria))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "Search criteria contain control characters");
      return;
    }
  g_task_set_task_data (task, g_strdup (criteria), g_free);
  run_operation (self, EV_SEARCH, task);
}

GArray *
td_imap_session_uid_search_finish (TdImapSession  *self,
                                   GAsyncResult   *result,
                                   GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
td_imap_session_logout_async (TdImapSession       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_session_logout_async);
  run_operation (self, EV_LOGOUT, task);
}

gboolean
td_imap_session_logout_finish (TdImapSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_imap_session_close (TdImapSession *self)
{
  EventData data = { 0, };

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  dispatch (self, EV_CLOSE, &data);
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

/* --- Changing --- */

static GTask *
op_task_new (TdImapSession       *self,
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
td_imap_session_enable_async (TdImapSession       *self,
                              const char          *capability,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  OpArgs *args;
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));
  g_return_if_fail (capability != NULL);

  args = g_new0 (OpArgs, 1);
  args->text = g_strdup (capability);
  task = op_task_new (self, td_imap_session_enable_async, args, cancellable, callback,
                      user_data);
  run_operation (self, EV_ENABLE, task);
}

gboolean
td_imap_session_enable_finish (TdImapSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
td_imap_session_is_enabled (TdImapSession *self,
                            const char    *capability)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TD_IS_IMAP_SESSION (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  upper = g_ascii_strup (capability, -1);
  return g_hash_table_contains (self->enabled, upper);
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
  run_operation (self, EV_SELECT, task);
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
  task = op_task_new (self, td_imap_session_uid_store_async, args, cancellable, callback,
                      user_data);
  run_operation (self, EV_STORE, task);
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
  task = op_task_new (self, td_imap_session_uid_copy_async, args, cancellable, callback,
                      user_data);
  run_operation (self, EV_COPY, task);
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
  task = op_task_new (self, td_imap_session_expunge_async, args, cancellable, callback,
                      user_data);
  run_operation (self, EV_EXPUNGE, task);
}

gboolean
td_imap_session_expunge_finish (TdImapSession  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
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
  task = op_task_new (self, td_imap_session_mailbox_op_async, args, cancellable, callback,
                      user_data);
  run_operation (self, EV_MAILBOX, task);
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
td_imap_session_noop_async (TdImapSession       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_SESSION (self));

  task = op_task_new (self, td_imap_session_noop_async, g_new0 (OpArgs, 1), cancellable,
                      callback, user_data);
  run_operation (self, EV_NOOP, task);
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

  task = op_task_new (self, td_imap_session_idle_async, g_new0 (OpArgs, 1), cancellable,
                      callback, user_data);
  run_operation (self, EV_IDLE, task);
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
      write_next (self);
    }
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
  task = op_task_new (self, td_imap_session_get_quota_async, args, cancellable, callback,
                      user_data);
  run_operation (self, EV_QUOTA, task);
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
