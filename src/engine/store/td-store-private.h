/* td-store-private.h: what the files of TdStore share (not for other layers)
 *
 * TdStore spans td-store.c (the object, the store thread, the job queue, opening and
 * closing), td-store-accounts.c, td-store-folders.c, td-store-messages.c (message rows and
 * flags), td-store-bodies.c, td-store-parse.c (the parse thread), td-store-search.c (the
 * full-text index), td-store-journal.c (local actions and their journal) and
 * td-store-pop3.c (the UIDL table of POP3 accounts and their downloads) and td-store-outbox.c
 * (messages waiting to be sent). A job runs on the
 * store thread in one transaction; its result comes back on the caller's context.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-db.h"
#include "td-store.h"

G_BEGIN_DECLS

/* Bounds on what one header field may put into a row: a short one (also a folder path). */
#define MAX_SHORT_FIELD   (4 * 1024)

struct _TdStore
{
  GObject       parent_instance;

  char         *path;
  GMainContext *context;        /* of the thread that opened the store */
  GThread      *thread;
  GAsyncQueue  *queue;          /* Job* */
  TdDb         *wdb;            /* store thread only */
  GMutex        read_mutex;
  TdDb         *rdb;            /* read-only, opener's thread, under read_mutex */
  guint         schema_version;
  gboolean      closed;
  GThreadPool  *parse_pool;     /* one thread that parses bodies ahead of the store thread */
};


typedef enum
{
  JOB_WRITE,   /* BEGIN IMMEDIATE ... COMMIT */
  JOB_READ,    /* BEGIN ... COMMIT: one consistent snapshot */
  JOB_PLAIN,   /* no transaction (integrity check) */
  JOB_OPEN,    /* opens the write connection */
  JOB_QUIT,
} JobKind;

typedef struct _Job Job;

/* On the store thread. */
typedef gboolean (*JobFunc) (TdStore  *self,
                             Job      *job,
                             GError  **error);
/* In the caller's context, after success, before the task returns. */
typedef gboolean (*JobDone) (TdStore  *self,
                             Job      *job,
                             GError  **error);

typedef struct
{
  gboolean  accounts;
  GArray   *account_ids;   /* gint64: folders-changed */
  GArray   *folder_ids;    /* gint64: folder-changed */
} Changes;

struct _Job
{
  JobKind         kind;
  GTask          *task;
  JobFunc         func;
  JobDone         done;
  gpointer        data;
  GDestroyNotify  data_free;
  gpointer        result;
  GDestroyNotify  result_free;   /* non-NULL: the task returns a pointer */
  GError         *error;
  Changes        *changes;
};

typedef gpointer (*ParseFunc) (gpointer item);
typedef struct _ParseState ParseState;

/* What a job that writes messages, bodies or flags carries. */
typedef struct
{
  gint64      folder_id;
  GPtrArray  *items;    /* TdMessageSpec*, TdBodySpec* (copies) */
  GArray     *array;    /* TdUidFlags or guint32 (copies) */
  ParseState *parse;    /* add_messages and set_bodies only */
} MessagesData;

/* What a job that reads messages, bodies or search results carries. */
typedef struct
{
  gint64   id;
  gboolean flag;
  gint64   since;
  char    *query;
  guint    limit;
} ReadData;

/* The columns _td_store_message_from_row() reads, of a message row m. */
#define MESSAGE_COLUMNS \
  "m.id, m.folder_id, m.uid, m.message_id, m.date, m.from_name, m.from_address, m.to_list," \
  " m.cc_list, m.subject, m.size, m.flags, m.preview, m.has_attachment, m.has_body," \
  " m.keywords"

/* What the store keeps of a message's header fields, cleaned and bounded. */
typedef struct
{
  char   *subject;
  char   *from_name;
  char   *from_address;
  char   *to;
  char   *cc;
  char   *message_id;
  char   *in_reply_to;
  char   *refs;
  gint64  date;          /* from the Date header, 0 when missing */
} ParsedHeader;

/* What the store keeps of a parsed body. */
typedef struct
{
  char     *text;        /* for the full-text index, or NULL when it did not parse */
  char     *preview;
  gboolean  attachment;
} ParsedBody;

/* td-store.c */
Job      *_td_store_job_new                (TdStore             *self,
                                            JobKind              kind,
                                            JobFunc              func,
                                            gpointer             data,
                                            GDestroyNotify       data_free,
                                            gpointer             source_tag,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
void      _td_store_queue_job              (TdStore             *self,
                                            Job                 *job);
/* For a job that is not queued after all (its task returned early). */
void      _td_store_job_free               (Job                 *job);
void      _td_store_int64_array_add_unique (GArray              *array,
                                            gint64               value);
/* Valid UTF-8 of at most @max bytes, cut at a character boundary; NULL stays NULL. */
char     *_td_store_clean_text             (const char          *text,
                                            gsize                max);
void      _td_store_append_nonempty        (GString             *str,
                                            const char          *text);
/* Whether the account or folder with that id exists (NOT_FOUND when not), on @db. */
gboolean  _td_store_check_account          (TdDb                *db,
                                            gint64               id,
                                            GError             **error);
gboolean  _td_store_check_folder           (TdDb                *db,
                                            gint64               id,
                                            GError             **error);
/* The read connection of the opener's thread, locked; NULL with @error when closed. */
TdDb     *_td_store_read_begin             (TdStore             *self,
                                            GError             **error);
void      _td_store_read_end               (TdStore             *self);

/* td-store-messages.c */
void      _td_store_messages_data_free     (gpointer             data);
void      _td_store_read_data_free         (gpointer             data);
TdMessage *_td_store_message_from_row      (TdDbStmt            *stmt);
/* For td-store-pop3.c (store thread, inside a write job): inserts the message row of @spec
 * (its header parsed from @spec->header) and stores @raw as its body, with its preview and
 * full-text entry. */
gboolean  _td_store_insert_whole_message   (TdStore             *self,
                                            gint64               folder_id,
                                            TdMessageSpec       *spec,
                                            GBytes              *raw,
                                            GError             **error);

/* td-store-bodies.c: stores the body of @spec as that of its message row in @folder_id, with
 * its preview and full-text entry; an unknown uid is ignored (store thread). */
gboolean  _td_store_store_body             (TdStore             *self,
                                            gint64               folder_id,
                                            TdBodySpec          *spec,
                                            ParsedBody          *parsed,
                                            gboolean            *stored,
                                            GError             **error);

/* td-store-parse.c: a batch of items (TdMessageSpec* for _td_store_parse_header(),
 * TdBodySpec* for _td_store_parse_body()) goes to the parse thread when its job is queued;
 * the job waits for the parsed ones on the store thread. */
ParseState *_td_store_start_parse          (TdStore             *self,
                                            GPtrArray           *items,
                                            ParseFunc            parse,
                                            GDestroyNotify       parsed_free);
GPtrArray *_td_store_wait_parse            (ParseState          *state);
void      _td_store_parse_state_unref      (ParseState          *state);
gpointer  _td_store_parse_header           (gpointer             item);
gpointer  _td_store_parse_body             (gpointer             item);
void      _td_store_parsed_header_free     (ParsedHeader        *parsed);
void      _td_store_parsed_body_free       (ParsedBody          *parsed);

/* td-store-search.c: the full-text entry of message row @id (store thread); @replace drops
 * the one it had. */
gboolean  _td_store_fts_index              (TdStore             *self,
                                            gint64               id,
                                            const char          *subject,
                                            const char          *addresses,
                                            const char          *body,
                                            gboolean             replace,
                                            GError             **error);
/* The addresses of a message as one text, for the index. */
char     *_td_store_join_addresses         (const char          *from_name,
                                            const char          *from_address,
                                            const char          *to,
                                            const char          *cc);

/* td-store-pop3.c, for td-store-accounts.c: the local folders of a new POP3 account (store
 * thread). */
gboolean  _td_store_pop3_create_local_folders (TdStore          *self,
                                               gint64            account_id,
                                               Changes          *changes,
                                               GError          **error);
/* td-store-pop3.c, for td-store-journal.c and td-store-outbox.c: the next free uid of a local
 * folder (POP3 accounts number their rows themselves); 0 with @error. */
gint64    _td_store_next_local_uid         (TdStore             *self,
                                            gint64               folder_id,
                                            GError             **error);
/* Records @copy as one more local row of the server message that @id is (nothing when @id is
 * not a POP3 download or a copy of one), store thread. */
gboolean  _td_store_pop3_add_copy          (TdStore             *self,
                                            gint64               id,
                                            gint64               copy,
                                            GError             **error);

G_END_DECLS
