/* td-pop3-session-private.h: what the files of TdPop3Session share (not for other layers)
 *
 * TdPop3Session spans td-pop3-session.c (the object, the state table, the tasks of the
 * operations, refusals as errors, shutdown), td-pop3-session-queue.c (commands, the outgoing
 * and in-flight queues and the pipeline window, reading, writing, each answer to the oldest
 * command in flight) and one file for each area of the protocol: td-pop3-session-connect.c
 * (greeting, CAPA, STLS, NOOP, QUIT), td-pop3-session-auth.c (USER/PASS, APOP, AUTH PLAIN),
 * td-pop3-session-list.c (STAT, LIST, UIDL), td-pop3-session-retr.c (TOP, RETR, RETR of many)
 * and td-pop3-session-dele.c (DELE, DELE of many, RSET). Each of these gives the table in
 * td-pop3-session.c its _td_pop3_session_handle_*() functions, and the routing of listing
 * lines (handle_line) its _td_pop3_session_*_line() ones.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-pop3-session.h"

#include "td-error.h"
#include "td-pop3-parser.h"

G_BEGIN_DECLS

/* Internal states; each maps to one public TdPop3State (see public_state() in
 * td-pop3-session.c). */
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
  TdPop3Code     refusal_code;     /* of the last "-ERR" */
  gsize          max_line;         /* the parser's bounds; 0: its defaults */
  gsize          max_multiline;
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

/* An operation that sends one command a message, for one message or for many (RETR, DELE);
 * see _td_pop3_session_queue_batch(). */
typedef struct
{
  CommandKind    kind;
  const char    *verb;                     /* "RETR" */
  TdPop3Expect   expect;
  CommandDone    done;                     /* calls _td_pop3_session_batch_answer() */
  void         (*message_done) (Op           *op,
                                guint32       number,
                                const GError *error);  /* a batch: one message is over */
  void         (*batch_done)   (GTask        *task);   /* a batch: all are (or there were none) */
} Batch;

/* One read, write, connect or TLS handshake under way; see _td_pop3_session_io_op_get_session(). */
typedef struct
{
  GWeakRef  session;
  guint     generation;
  guint8   *data;
  gsize     len;
  gboolean  secret;
} IoOp;

/* td-pop3-session.c: helpers */
void           _td_pop3_session_secure_clear        (gpointer             data,
                                                     gsize                len);
void           _td_pop3_session_secure_free         (char                *str);
void           _td_pop3_session_source_destroy      (GSource             *source);
/* @upper is upper-case already */
gboolean       _td_pop3_session_has_cap             (TdPop3Session       *self,
                                                     const char          *upper);
const char    *_td_pop3_session_server_text         (const TdPop3Event   *status);
GError        *_td_pop3_session_refused_error       (const TdPop3Event   *status,
                                                     TdError              fallback,
                                                     const char          *what);
GError        *_td_pop3_session_map_io_error        (TdPop3Session       *self,
                                                     const GError        *error);
GError        *_td_pop3_session_wrong_state_error   (TdPop3Session       *self,
                                                     const char          *what);
GError        *_td_pop3_session_cancelled_error     (void);
GSource       *_td_pop3_session_watch_cancel        (GTask               *task,
                                                     GCancellableSourceFunc func,
                                                     gpointer             data);

/* td-pop3-session.c: operations. op_task_new() makes the task of an operation, with an Op;
 * run_operation() dispatches @event with @task unless it is cancelled already. Every result
 * goes through the task_return_*() functions: a task is settled once. */
Op            *_td_pop3_session_task_op             (GTask               *task);
void           _td_pop3_session_task_return_error   (GTask               *task,
                                                     GError              *error);
void           _td_pop3_session_task_return_boolean (GTask               *task,
                                                     gboolean             value);
void           _td_pop3_session_task_return_pointer (GTask               *task,
                                                     gpointer             result,
                                                     GDestroyNotify       result_destroy);
GTask         *_td_pop3_session_op_task_new         (TdPop3Session       *self,
                                                     gpointer             source_tag,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
void           _td_pop3_session_run_operation       (TdPop3Session       *self,
                                                     Event                event,
                                                     GTask               *task);
/* An operation without arguments; one with a message number. */
void           _td_pop3_session_simple_operation    (TdPop3Session       *self,
                                                     Event                event,
                                                     gpointer             source_tag,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
void           _td_pop3_session_number_operation    (TdPop3Session       *self,
                                                     Event                event,
                                                     gpointer             source_tag,
                                                     guint32              number,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
/* A batch operation (RETR, DELE of many): the task, with a copy of @numbers (none 0). */
GTask         *_td_pop3_session_batch_task_new      (TdPop3Session       *self,
                                                     gpointer             source_tag,
                                                     const guint32       *numbers,
                                                     guint                n_numbers,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
gboolean       _td_pop3_session_numbers_valid       (const guint32       *numbers,
                                                     guint                n_numbers);
void           _td_pop3_session_dispatch            (TdPop3Session       *self,
                                                     Event                event,
                                                     EventData           *data);

/* td-pop3-session.c: the connection */
void           _td_pop3_session_shutdown            (TdPop3Session       *self,
                                                     const GError        *closed_error,
                                                     const GError        *task_error);
void           _td_pop3_session_fail                (TdPop3Session       *self,
                                                     GError              *error);
void           _td_pop3_session_fail_protocol       (TdPop3Session       *self,
                                                     const char          *what);
void           _td_pop3_session_finish_quit         (TdPop3Session       *self,
                                                     GTask               *task,
                                                     gboolean             update,
                                                     const TdPop3Event   *status);
void           _td_pop3_session_handle_eof          (TdPop3Session       *self);
void           _td_pop3_session_handle_close        (TdPop3Session       *self,
                                                     EventData           *data);

/* td-pop3-session-queue.c: commands. A command is made with command_new() (which puts it in
 * the list of its operation), given its lines with command_add_line() and handed to queue();
 * its CommandDone gets the answer. */
Command       *_td_pop3_session_command_new         (CommandKind          kind,
                                                     TdPop3Expect         expect,
                                                     CommandDone          done,
                                                     GTask               *task);
GTask         *_td_pop3_session_command_detach      (Command             *cmd);
void           _td_pop3_session_command_free        (Command             *cmd);
void           _td_pop3_session_command_add_line    (Command             *cmd,
                                                     const char          *line);
void           _td_pop3_session_queue               (TdPop3Session       *self,
                                                     Command             *cmd);
Command       *_td_pop3_session_queue_line          (TdPop3Session       *self,
                                                     CommandKind          kind,
                                                     TdPop3Expect         expect,
                                                     CommandDone          done,
                                                     GTask               *task,
                                                     const char          *line);
GTask         *_td_pop3_session_command_accepted    (Command             *cmd,
                                                     const TdPop3Event   *status,
                                                     const char          *what);
void           _td_pop3_session_boolean_done        (Command             *cmd,
                                                     const TdPop3Event   *status,
                                                     const char          *what);

/* td-pop3-session-queue.c: batches. queue_batch() sends @batch's command for the message of
 * @task (op->number) or for each of its batch (op->numbers), all queued at once: the writer
 * keeps at most the window of them in flight. The @batch's CommandDone calls batch_answer():
 * a single message completes the task with TRUE or the refusal; in a batch, each message goes
 * to message_done() (its refusal or NULL, and the batch goes on), and after the last one
 * batch_done() completes the task. */
void           _td_pop3_session_queue_batch         (TdPop3Session       *self,
                                                     const Batch         *batch,
                                                     GTask               *task);
void           _td_pop3_session_batch_answer        (const Batch         *batch,
                                                     Command             *cmd,
                                                     const TdPop3Event   *status,
                                                     const char          *what);

/* td-pop3-session-queue.c: reading and writing */
IoOp          *_td_pop3_session_io_op_new           (TdPop3Session       *self);
void           _td_pop3_session_io_op_free          (IoOp                *op);
TdPop3Session *_td_pop3_session_io_op_get_session   (IoOp                *op);
void           _td_pop3_session_write_next          (TdPop3Session       *self);
void           _td_pop3_session_start_reading       (TdPop3Session       *self);

/* td-pop3-session-queue.c: the server events of the table */
void           _td_pop3_session_handle_status       (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_continuation (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_line         (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_data         (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_end          (TdPop3Session       *self,
                                                     EventData           *data);

/* td-pop3-session-connect.c */
void           _td_pop3_session_capa_line           (Command             *cmd,
                                                     const char          *line);
void           _td_pop3_session_take_capabilities   (TdPop3Session       *self,
                                                     Command             *cmd,
                                                     const TdPop3Event   *status);
Command       *_td_pop3_session_capa_command_new    (CommandDone          done,
                                                     GTask               *task);
void           _td_pop3_session_maybe_start_tls     (TdPop3Session       *self);
void           _td_pop3_session_handle_connect      (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_greeting     (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_capa         (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_noop         (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_quit         (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_quit_closed  (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_quit_abort   (TdPop3Session       *self,
                                                     EventData           *data);

/* td-pop3-session-auth.c */
void           _td_pop3_session_handle_login        (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_apop         (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_auth         (TdPop3Session       *self,
                                                     EventData           *data);

/* td-pop3-session-list.c */
void           _td_pop3_session_list_line           (Command             *cmd,
                                                     const char          *line);
void           _td_pop3_session_uidl_line           (Command             *cmd,
                                                     const char          *line);
void           _td_pop3_session_handle_stat         (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_list         (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_uidl         (TdPop3Session       *self,
                                                     EventData           *data);

/* td-pop3-session-retr.c */
void           _td_pop3_session_handle_top          (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_retr         (TdPop3Session       *self,
                                                     EventData           *data);

/* td-pop3-session-dele.c */
void           _td_pop3_session_handle_dele         (TdPop3Session       *self,
                                                     EventData           *data);
void           _td_pop3_session_handle_rset         (TdPop3Session       *self,
                                                     EventData           *data);

G_END_DECLS
