/* td-imap-session-private.h: what the files of TdImapSession share (not for other layers)
 *
 * TdImapSession spans td-imap-session.c (the object, the state table, commands and their tags,
 * reading, writing, routing responses, shutdown) and one file for each area of the protocol:
 * td-imap-session-connect.c (greeting, CAPABILITY, STARTTLS, LOGIN/AUTHENTICATE, ENABLE,
 * LOGOUT), td-imap-session-mailbox.c (LIST, SELECT/EXAMINE with CONDSTORE or QRESYNC,
 * CREATE/DELETE/RENAME/SUBSCRIBE, GETQUOTAROOT), td-imap-session-fetch.c (UID FETCH),
 * td-imap-session-search.c (UID SEARCH, uid sets both ways), td-imap-session-messages.c
 * (UID STORE, COPY/MOVE, EXPUNGE) and td-imap-session-idle.c (IDLE, NOOP). Each of these gives
 * the table in td-imap-session.c its _td_imap_session_handle_*() functions, and the routing of
 * untagged responses (handle_untagged) its _td_imap_session_*_untagged() ones.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-imap-session.h"

G_BEGIN_DECLS

/* uids one SEARCH/ESEARCH answer may expand to (a hostile "1:4294967295" stops here) */
#define TD_IMAP_MAX_SEARCH_RESULTS  (16 * 1024 * 1024)

/* Internal states; each maps to one public TdImapState (see public_state() in
 * td-imap-session.c). */
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
  EV_APPEND,
  EV_EXPUNGE,
  EV_MAILBOX,
  EV_NOOP,
  EV_IDLE,
  EV_NOTIFY,
  EV_QUOTA,
  EV_LOGOUT,
  EV_CLOSE,
  /* server responses */
  EV_UNTAGGED,
  EV_TAGGED,
  EV_CONTINUATION,
  N_EVENTS
} Event;

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
  CMD_APPEND,
  CMD_EXPUNGE,
  CMD_MAILBOX,
  CMD_NOOP,
  CMD_IDLE,
  CMD_NOTIFY,
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
  GHashTable     *seen;          /* raw path -> its TdImapListEntry (in entries) */
  gboolean        list_status;   /* RETURN (STATUS ...) asked for: STATUS responses are ours */
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
  gboolean        notify;        /* NOTIFY SET accepted: STATUS and LIST may come unasked */
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

/* What an event brings to its handler in the table. */
typedef struct
{
  GTask                *task;      /* operations */
  const TdImapResponse *response;  /* server events */
} EventData;

typedef void (*EventHandler) (TdImapSession *self,
                              EventData     *data);

/* One read, write, connect or TLS handshake under way; see _td_imap_session_io_op_get_session(). */
typedef struct
{
  GWeakRef  session;
  guint     generation;
  guint8   *data;           /* read buffer, or the bytes being written */
  gsize     len;
  gboolean  secret;
} IoOp;

/* The arguments of ENABLE, STORE, COPY/MOVE, APPEND, EXPUNGE, the mailbox operations, NOOP,
 * IDLE and GETQUOTAROOT, one shape for all. */
typedef struct
{
  char            *text;       /* capability, uid set, raw path */
  char            *text2;      /* flags, target, new path */
  gboolean         flag;       /* add / move */
  guint64          number;     /* unchanged_since */
  TdImapMailboxOp  op;
  TdImapFetchFunc  func;
  gpointer         func_data;
  GBytes          *data;       /* APPEND: the message */
} OpArgs;

/* td-imap-session.c: helpers */
void           _td_imap_session_secure_clear           (gpointer              data,
                                                        gsize                 len);
void           _td_imap_session_source_destroy         (GSource              *source);
/* @upper_cap is upper-case already */
gboolean       _td_imap_session_has_cap                (TdImapSession        *self,
                                                        const char           *upper_cap);
const char    *_td_imap_session_response_text          (const TdImapResponse *response);
gboolean       _td_imap_session_response_is            (const TdImapResponse *response,
                                                        const char           *name);
GError        *_td_imap_session_refused_error          (const TdImapResponse *tagged,
                                                        const char           *what);
GError        *_td_imap_session_map_io_error           (TdImapSession        *self,
                                                        const GError         *error);

/* td-imap-session.c: commands. A command is built with command_new(), _append*() and
 * _break() (a part that waits for the server's "+"), closed with _end() and handed to
 * _queue(); its CommandDone gets the tagged answer. */
Command       *_td_imap_session_command_new            (TdImapSession        *self,
                                                        CommandKind           kind,
                                                        CommandDone           done,
                                                        GTask                *task);
void           _td_imap_session_command_free           (Command              *cmd);
GTask         *_td_imap_session_command_steal_task     (Command              *cmd);
void           _td_imap_session_command_append         (Command              *cmd,
                                                        const char           *text);
void           _td_imap_session_command_append_astring (TdImapSession        *self,
                                                        Command              *cmd,
                                                        const char           *str);
void           _td_imap_session_command_break          (Command              *cmd);
void           _td_imap_session_command_end            (Command              *cmd);
void           _td_imap_session_queue                  (TdImapSession        *self,
                                                        Command              *cmd);
/* Text a caller gave for a command: no control characters; an atom. */
gboolean       _td_imap_session_is_command_text        (const char           *text);
gboolean       _td_imap_session_is_atom_text           (const char           *text);
GTask         *_td_imap_session_command_accepted       (Command              *cmd,
                                                        const TdImapResponse *tagged,
                                                        const char           *what);
void           _td_imap_session_boolean_done           (TdImapSession        *self,
                                                        Command              *cmd,
                                                        const TdImapResponse *tagged,
                                                        const char           *what);

/* td-imap-session.c: the connection */
void           _td_imap_session_shutdown               (TdImapSession        *self,
                                                        const GError         *closed_error,
                                                        const GError         *task_error);
void           _td_imap_session_fail                   (TdImapSession        *self,
                                                        GError               *error);
void           _td_imap_session_finish_logout          (TdImapSession        *self);
IoOp          *_td_imap_session_io_op_new              (TdImapSession        *self);
void           _td_imap_session_io_op_free             (IoOp                 *op);
TdImapSession *_td_imap_session_io_op_get_session      (IoOp                 *op);
void           _td_imap_session_write_next             (TdImapSession        *self);
void           _td_imap_session_start_reading          (TdImapSession        *self);

/* td-imap-session.c: operations. run_operation() dispatches @event with @task unless it is
 * cancelled already; op_task_new() makes the task of an operation that takes OpArgs. */
void           _td_imap_session_run_operation          (TdImapSession        *self,
                                                        Event                 event,
                                                        GTask                *task);
GTask         *_td_imap_session_op_task_new            (TdImapSession        *self,
                                                        gpointer              source_tag,
                                                        OpArgs               *args,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
void           _td_imap_session_handle_close           (TdImapSession        *self,
                                                        EventData            *data);

/* td-imap-session-connect.c */
void           _td_imap_session_take_capabilities      (TdImapSession        *self,
                                                        const TdImapResponse *response);
void           _td_imap_session_maybe_start_tls        (TdImapSession        *self);
void           _td_imap_session_handle_connect         (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_greeting        (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_login           (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_enable_untagged        (TdImapSession        *self,
                                                        const TdImapResponse *response);
void           _td_imap_session_handle_enable          (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_logout          (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_logout_closed   (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_logout_abort    (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_logout_again    (TdImapSession        *self,
                                                        EventData            *data);

/* td-imap-session-mailbox.c */
void           _td_imap_session_list_untagged          (Command              *cmd,
                                                        const TdImapResponse *response);
void           _td_imap_session_handle_list            (TdImapSession        *self,
                                                        EventData            *data);
gboolean       _td_imap_session_select_wants           (const TdImapResponse *response);
void           _td_imap_session_select_untagged        (Command              *cmd,
                                                        const TdImapResponse *response);
void           _td_imap_session_handle_select          (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_mailbox         (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_quota_untagged         (Command              *cmd,
                                                        const TdImapResponse *response);
void           _td_imap_session_handle_quota           (TdImapSession        *self,
                                                        EventData            *data);

/* td-imap-session-fetch.c */
void           _td_imap_session_fetch_untagged         (TdImapSession        *self,
                                                        Command              *cmd,
                                                        const TdImapResponse *response);
void           _td_imap_session_handle_fetch           (TdImapSession        *self,
                                                        EventData            *data);

/* td-imap-session-search.c */
GArray        *_td_imap_session_expand_set             (TdImapSession        *self,
                                                        const char           *set);
char          *_td_imap_session_esearch_dup_tag        (const TdImapResponse *response);
void           _td_imap_session_search_untagged        (Command              *cmd,
                                                        const TdImapResponse *response);
void           _td_imap_session_handle_search          (TdImapSession        *self,
                                                        EventData            *data);

/* td-imap-session-messages.c */
void           _td_imap_session_handle_store           (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_copy_untagged          (Command              *cmd,
                                                        const TdImapResponse *response);
void           _td_imap_session_handle_copy            (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_expunge         (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_append          (TdImapSession        *self,
                                                        EventData            *data);

/* td-imap-session-idle.c */
void           _td_imap_session_handle_noop            (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_idle            (TdImapSession        *self,
                                                        EventData            *data);
void           _td_imap_session_handle_notify          (TdImapSession        *self,
                                                        EventData            *data);

G_END_DECLS
