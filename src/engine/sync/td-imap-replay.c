/* td-imap-replay.c: sends the journal of local actions to an IMAP server
 *
 * One entry group at a time: resolve (placeholders that got a server uid since), select the
 * folder read-write (one gone from the server may have been renamed there: found again by its
 * UIDVALIDITY), check UIDVALIDITY (remap by Message-ID), send, settle conflicts, then
 * remove the entries from the journal and go on with the next group.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-sync"

#include "config.h"

#include "td-imap-replay.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

/* Entries sent in one command: a uid set of this many stays far below any server's line
 * limit (10 digits and a comma each). */
#define MAX_GROUP        500
#define UID_SET_MAX_LEN  8192

/* Folders new on the server opened to find one renamed there, at most */
#define MAX_RENAME_CANDIDATES 20

/* Keyword flags: a folder stores them only when PERMANENTFLAGS says so. */
#define KEYWORD_FLAGS    (TD_FLAG_FORWARDED | TD_FLAG_JUNK)

typedef void (*Step) (TdImapReplay *self);

struct _TdImapReplay
{
  GObject         parent_instance;

  TdStore        *store;
  TdAccount      *account;
  TdImapSession  *session;

  GTask          *task;
  GCancellable   *cancellable;

  GPtrArray      *entries;       /* TdJournalEntry*, in journal order */
  guint           pos;           /* first entry not yet settled */
  guint           group_end;     /* entries [pos, group_end) are the current group */
  GPtrArray      *group;         /* TdJournalEntry* (borrowed) to send, sorted by uid */
  GArray         *drop_ids;      /* gint64: entries of this group settled without sending */
  GPtrArray      *drop_moves;    /* TdJournalEntry*: moves/copies dropped (placeholder goes) */
  guint           remap_pos;
  gboolean        remap_bare;    /* the Message-ID searched without its angle brackets */
  char           *uid_set;
  char           *others_set;    /* without UIDPLUS: others' \Deleted, unmarked for EXPUNGE */
  GHashTable     *modified;      /* uid -> TdJournalEntry*: changed on the server meanwhile */
  GHashTable     *server_flags;  /* uid -> TdFlags, fetched for the modified ones */
  TdImapCopyUid   copy_uid;
  guint           writes;        /* store writes of this group still running */
  gboolean        step_add;      /* the flag STORE in flight adds (else removes) */
  gboolean        keywords_refused; /* a STORE with keywords was refused: sent again without */

  char           *selected;      /* UTF-8 path selected read-write, or NULL */
  TdImapMailbox   mailbox;
  GPtrArray      *listing;       /* TdImapListEntry*: the server's folders, once asked */
  guint           candidate;     /* in listing: the next to try for a folder renamed there */
  guint           candidates_tried;

  guint           replayed;
  guint           dropped;
};

G_DEFINE_FINAL_TYPE (TdImapReplay, td_imap_replay, G_TYPE_OBJECT)

enum {
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void next_group (TdImapReplay *self);
static void settle     (TdImapReplay *self);

static void
clear_group (TdImapReplay *self)
{
  g_clear_pointer (&self->group, g_ptr_array_unref);
  g_clear_pointer (&self->drop_ids, g_array_unref);
  g_clear_pointer (&self->drop_moves, g_ptr_array_unref);
  g_clear_pointer (&self->uid_set, g_free);
  g_clear_pointer (&self->others_set, g_free);
  g_clear_pointer (&self->modified, g_hash_table_unref);
  g_clear_pointer (&self->server_flags, g_hash_table_unref);
  td_imap_copy_uid_clear (&self->copy_uid);
  self->remap_pos = 0;
  self->remap_bare = FALSE;
  self->writes = 0;
  self->keywords_refused = FALSE;
}

static void
td_imap_replay_dispose (GObject *object)
{
  TdImapReplay *self = (TdImapReplay *) object;

  clear_group (self);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->listing, g_ptr_array_unref);
  g_clear_object (&self->task);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->session);
  g_clear_object (&self->account);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (td_imap_replay_parent_class)->dispose (object);
}

static void
td_imap_replay_finalize (GObject *object)
{
  TdImapReplay *self = (TdImapReplay *) object;

  g_free (self->selected);

  G_OBJECT_CLASS (td_imap_replay_parent_class)->finalize (object);
}

static void
td_imap_replay_class_init (TdImapReplayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = td_imap_replay_dispose;
  object_class->finalize = td_imap_replay_finalize;

  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
}

static void
td_imap_replay_init (TdImapReplay *self)
{
}

TdImapReplay *
td_imap_replay_new (TdStore       *store,
                    TdAccount     *account,
                    TdImapSession *session)
{
  TdImapReplay *self;

  g_return_val_if_fail (TD_IS_STORE (store), NULL);
  g_return_val_if_fail (TD_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (TD_IS_IMAP_SESSION (session), NULL);

  self = g_object_new (TD_TYPE_IMAP_REPLAY, NULL);
  self->store = g_object_ref (store);
  self->account = g_object_ref (account);
  self->session = g_object_ref (session);
  return self;
}

guint
td_imap_replay_get_replayed (TdImapReplay *self)
{
  g_return_val_if_fail (TD_IS_IMAP_REPLAY (self), 0);
  return self->replayed;
}

guint
td_imap_replay_get_dropped (TdImapReplay *self)
{
  g_return_val_if_fail (TD_IS_IMAP_REPLAY (self), 0);
  return self->dropped;
}

/* --- Ending --- */

static void
fail (TdImapReplay *self,
      GError       *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (task == NULL)
    {
      g_error_free (error);
      return;
    }
  g_task_return_error (task, error);
}

/* TRUE when the replay still runs and @error is unset; otherwise ends it. */
static gboolean
check (TdImapReplay *self,
       GError       *error)
{
  if (self->task == NULL)
    {
      g_clear_error (&error);
      return FALSE;
    }
  if (error != NULL)
    {
      fail (self, error);
      return FALSE;
    }
  return TRUE;
}

/* A NO or BAD for this action: it will never succeed, so it is dropped. Anything else (a cut
 * connection, a time-out, a cancel) ends the replay and keeps the entries. */
static gboolean
is_refusal (const GError *error)
{
  return g_error_matches (error, TD_ERROR, TD_ERROR_PROTOCOL) ||
         g_error_matches (error, TD_ERROR, TD_ERROR_UNSUPPORTED);
}

/* A refusal while the replay runs for a caller: logged as what was refused ("expunge") and
 * cleared; TRUE then. Anything else stays in *@error. */
static gboolean
take_refusal (TdImapReplay  *self,
              GError       **error,
              const char    *what)
{
  if (*error == NULL || !is_refusal (*error) || self->task == NULL)
    return FALSE;
  g_message ("The server refused to %s: %s", what, (*error)->message);
  g_clear_error (error);
  return TRUE;
}

static gboolean
is_folder_kind (TdJournalKind kind)
{
  return kind == TD_JOURNAL_CREATE || kind == TD_JOURNAL_RENAME || kind == TD_JOURNAL_DELETE ||
         kind == TD_JOURNAL_SUBSCRIBE || kind == TD_JOURNAL_UNSUBSCRIBE;
}

static gboolean
is_move_kind (TdJournalKind kind)
{
  return kind == TD_JOURNAL_MOVE || kind == TD_JOURNAL_COPY;
}

/* The whole group is settled without being sent (its folder is gone, the server refused). */
static void
drop_group (TdImapReplay *self,
            const char   *why)
{
  g_debug ("Dropping %u journal entries: %s", self->group->len, why);
  for (guint i = 0; i < self->group->len; i++)
    {
      TdJournalEntry *entry = g_ptr_array_index (self->group, i);

      if (is_move_kind (entry->kind))
        g_ptr_array_add (self->drop_moves, entry);
      else
        g_array_append_val (self->drop_ids, entry->id);
    }
  g_ptr_array_set_size (self->group, 0);
  settle (self);
}

/* --- Settling a group: the journal forgets what the server has --- */

static void
settled_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  GError *error = NULL;

  if (g_task_get_source_tag (G_TASK (result)) == td_store_journal_moved_async)
    td_store_journal_moved_finish (self->store, result, &error);
  else
    td_store_journal_done_finish (self->store, result, &error);

  g_assert (self->writes > 0);
  self->writes--;
  if (!check (self, error) || self->writes > 0)
    return;

  self->pos = self->group_end;
  clear_group (self);
  next_group (self);
}

static guint32
copy_uid_lookup (const TdImapCopyUid *copy_uid,
                 guint32              src)
{
  if (copy_uid->src_uids == NULL || copy_uid->dst_uids == NULL)
    return 0;
  for (guint i = 0; i < copy_uid->src_uids->len && i < copy_uid->dst_uids->len; i++)
    if (g_array_index (copy_uid->src_uids, guint32, i) == src)
      return g_array_index (copy_uid->dst_uids, guint32, i);
  return 0;
}

/* Sent entries of the group (self->group) and dropped ones leave the journal; a move or copy
 * gives its placeholder the server's new uid (or removes it). */
static void
settle (TdImapReplay *self)
{
  g_autoptr(GArray) done = g_array_copy (self->drop_ids);

  self->dropped += self->drop_ids->len + self->drop_moves->len;
  self->replayed += self->group->len;

  for (guint i = 0; i < self->group->len; i++)
    {
      TdJournalEntry *entry = g_ptr_array_index (self->group, i);

      if (is_move_kind (entry->kind))
        {
          self->writes++;
          td_store_journal_moved_async (self->store, entry->id,
                                        copy_uid_lookup (&self->copy_uid, entry->uid),
                                        NULL, settled_cb, g_object_ref (self));
        }
      else
        g_array_append_val (done, entry->id);
    }
  for (guint i = 0; i < self->drop_moves->len; i++)
    {
      TdJournalEntry *entry = g_ptr_array_index (self->drop_moves, i);

      self->writes++;
      td_store_journal_moved_async (self->store, entry->id, 0, NULL, settled_cb,
                                    g_object_ref (self));
    }

  /* Settling is not cancelled: what the server has must leave the journal. */
  self->writes++;
  td_store_journal_done_async (self->store, done, NULL, settled_cb, g_object_ref (self));
}

/* --- Flags --- */

/* The flags the selected folder can store. A folder that sent no PERMANENTFLAGS stores all
 * (RFC 3501 7.1). */
static gboolean
is_restricted (TdImapReplay *self)
{
  return self->mailbox.permanent_flags != 0 || self->mailbox.keywords_allowed;
}

static TdFlags
storable_flags (TdImapReplay *self)
{
  TdFlags allowed = TD_FLAGS_STORED;

  if (is_restricted (self))
    {
      allowed = self->mailbox.permanent_flags;
      if (self->mailbox.keywords_allowed)
        allowed |= KEYWORD_FLAGS;
    }
  return allowed & TD_FLAGS_STORED;
}

/* What the selected folder keeps only here: the flags it cannot store, and the other
 * keywords as a whole (TD_FLAG_KEYWORDS) when it cannot store keywords. */
static TdFlags
local_only_flags (TdImapReplay *self)
{
  TdFlags local = TD_FLAGS_STORED & ~storable_flags (self);

  if (is_restricted (self) && !self->mailbox.keywords_allowed)
    local |= TD_FLAG_KEYWORDS;
  return local;
}

static void
local_flags_saved_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  g_autoptr(GError) error = NULL;

  /* not fatal: at worst the next flag sync takes the flag back to the server's state */
  if (!td_store_set_folder_local_flags_finish (self->store, result, &error))
    g_warning ("Could not keep flags of a folder locally: %s", error->message);
}

/* The folder of @entry cannot keep @flags on the server: the store keeps them here, so that
 * the server's flags (which never have them) do not take them back at the next sync. Writes
 * are done in order on the store thread, before any later flag update. */
static void
keep_local_flags (TdImapReplay   *self,
                  TdJournalEntry *entry,
                  TdFlags         flags)
{
  g_autoptr(TdFolder) folder = NULL;

  folder = td_store_find_folder (self->store, td_account_get_id (self->account),
                                 entry->folder_path, NULL);
  if (folder == NULL)
    return;
  g_debug ("%s keeps flags %#x only here", entry->folder_path, flags);
  td_store_set_folder_local_flags_async (self->store, td_folder_get_id (folder), flags, NULL,
                                         local_flags_saved_cb, g_object_ref (self));
}

/* The flags of @flags (and @keywords) this folder can store, as an IMAP flag list; NULL
 * when none. */
static char *
flag_list (TdImapReplay *self,
           TdFlags       flags,
           const char   *keywords)
{
  gboolean restricted = is_restricted (self);
  g_autofree char *names = NULL;
  GString *list;

  flags &= storable_flags (self) & ~TD_FLAG_RECENT;

  names = td_imap_flags_to_string (flags);
  list = g_string_new (names);
  if (keywords != NULL && *keywords != '\0' && (!restricted || self->mailbox.keywords_allowed))
    {
      if (list->len > 0)
        g_string_append_c (list, ' ');
      g_string_append (list, keywords);
    }
  if (list->len == 0)
    {
      g_string_free (list, TRUE);
      return NULL;
    }
  return g_string_free (list, FALSE);
}

/* The MODSEQ the group's STORE is conditional on: the lowest its entries were written on.
 * A message changed elsewhere since its own MODSEQ then always has a higher one and is left
 * alone ([MODIFIED]); one whose MODSEQ is above the lowest but unchanged since is reported
 * too, and the merge gives it our change as it was. (The highest would let a change made
 * elsewhere below it through, unseen.) */
static guint64
group_unchanged_since (TdImapReplay *self)
{
  guint64 min = G_MAXUINT64;

  if (!td_imap_session_has_capability (self->session, "CONDSTORE") ||
      self->mailbox.highestmodseq == 0)
    return 0;
  for (guint i = 0; i < self->group->len; i++)
    {
      TdJournalEntry *entry = g_ptr_array_index (self->group, i);

      if (entry->modseq == 0)
        return 0;                       /* unknown for one of them: no condition */
      min = MIN (min, entry->modseq);
    }
  return min;
}

static TdJournalEntry *
group_find_uid (TdImapReplay *self,
                guint32       uid)
{
  for (guint i = 0; i < self->group->len; i++)
    {
      TdJournalEntry *entry = g_ptr_array_index (self->group, i);

      if (entry->uid == uid)
        return entry;
    }
  return NULL;
}

static void
conflict_stored_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  g_autoptr(GArray) modified = NULL;
  GError *error = NULL;

  modified = td_imap_session_uid_store_finish (self->session, result, &error);
  if (error != NULL && is_refusal (error))
    g_clear_error (&error);
  g_assert (self->writes > 0);
  self->writes--;
  if (!check (self, error) || self->writes > 0)
    return;
  settle (self);
}

static void
conflict_fetch_item (TdImapFetch *fetch,
                     gpointer     user_data)
{
  TdImapReplay *self = user_data;

  if ((fetch->fields & TD_IMAP_FETCH_HAS_FLAGS) == 0)
    return;
  g_hash_table_insert (self->server_flags, GUINT_TO_POINTER (fetch->uid),
                       GUINT_TO_POINTER (fetch->flags & TD_FLAGS_STORED));
}

static int
compare_uid (gconstpointer a,
             gconstpointer b)
{
  guint32 x = *(const guint32 *) a;
  guint32 y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

/* The uids of self->modified, ascending */
static GArray *
modified_uids (TdImapReplay *self)
{
  GArray *uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->modified);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      guint32 uid = GPOINTER_TO_UINT (key);

      g_array_append_val (uids, uid);
    }
  g_array_sort (uids, compare_uid);
  return uids;
}

/* Messages that get the same merged change: one STORE for them all */
typedef struct
{
  TdFlags  add;
  TdFlags  remove;
  GArray  *uids;     /* ascending */
} Merge;

static void
merge_free (gpointer data)
{
  Merge *merge = data;

  g_array_unref (merge->uids);
  g_free (merge);
}

static void
conflict_store (TdImapReplay *self,
                GArray       *uids,
                gboolean      add,
                TdFlags       flags,
                const char   *keywords)
{
  g_autofree char *set = NULL;
  g_autofree char *list = flag_list (self, flags, keywords);
  guint consumed = 0;

  if (list == NULL)
    return;
  /* no more than the group's own uid set */
  set = td_imap_uid_set_build ((guint32 *) (gpointer) uids->data, uids->len, UID_SET_MAX_LEN,
                               &consumed);
  g_assert (consumed == uids->len);
  self->writes++;
  td_imap_session_uid_store_async (self->session, set, add, list, 0, NULL, NULL,
                                   self->cancellable, conflict_stored_cb, g_object_ref (self));
}

/* The messages changed on the server since we last saw them (the conditional STORE left
 * them alone): for each flag, the server's value wins when the server changed that flag,
 * ours otherwise. Keywords have no base in the journal: ours are sent again as they are
 * (adding one that is there, or removing one that is not, does nothing). Messages with the
 * same merged change share one STORE, in the order of their lowest uid. */
static void
conflicts_fetched_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  g_autoptr(GArray) uids = NULL;
  g_autoptr(GPtrArray) merges = NULL;
  TdJournalEntry *first;
  GError *error = NULL;

  td_imap_session_uid_fetch_finish (self->session, result, &error);
  if (!check (self, error))
    return;

  uids = modified_uids (self);
  merges = g_ptr_array_new_with_free_func (merge_free);
  for (guint i = 0; i < uids->len; i++)
    {
      guint32 uid = g_array_index (uids, guint32, i);
      TdJournalEntry *entry = g_hash_table_lookup (self->modified, GUINT_TO_POINTER (uid));
      Merge *merge = NULL;
      gpointer found;
      TdFlags server, changed_there, add, remove;

      if (!g_hash_table_lookup_extended (self->server_flags, GUINT_TO_POINTER (uid), NULL,
                                         &found))
        continue;                       /* expunged meanwhile: nothing to do */
      server = GPOINTER_TO_UINT (found);
      changed_there = server ^ (entry->flags_base & TD_FLAGS_STORED);
      add = entry->flags_add & ~changed_there & ~server;
      remove = entry->flags_remove & ~changed_there & server;
      g_debug ("uid %u changed on the server meanwhile: keeping the server's %#x, sending "
               "+%#x -%#x", uid, changed_there, add, remove);
      for (guint j = 0; j < merges->len && merge == NULL; j++)
        {
          Merge *other = g_ptr_array_index (merges, j);

          if (other->add == add && other->remove == remove)
            merge = other;
        }
      if (merge == NULL)
        {
          merge = g_new0 (Merge, 1);
          merge->add = add;
          merge->remove = remove;
          merge->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
          g_ptr_array_add (merges, merge);
        }
      g_array_append_val (merge->uids, uid);
    }

  /* one action for the whole group: the same keywords for all */
  first = g_ptr_array_index (self->group, 0);
  for (guint i = 0; i < merges->len; i++)
    {
      Merge *merge = g_ptr_array_index (merges, i);

      conflict_store (self, merge->uids, TRUE, merge->add, first->keywords_add);
      conflict_store (self, merge->uids, FALSE, merge->remove, first->keywords_remove);
    }
  if (self->writes == 0)
    settle (self);
}

static void
flags_done (TdImapReplay *self)
{
  g_autoptr(GArray) uids = NULL;
  g_autofree char *set = NULL;
  guint consumed = 0;

  if (self->modified == NULL || g_hash_table_size (self->modified) == 0)
    {
      settle (self);
      return;
    }

  uids = modified_uids (self);
  set = td_imap_uid_set_build ((guint32 *) (gpointer) uids->data, uids->len, UID_SET_MAX_LEN,
                               &consumed);
  self->server_flags = g_hash_table_new (NULL, NULL);
  td_imap_session_uid_fetch_async (self->session, set, "UID FLAGS", 0, conflict_fetch_item, self,
                                   self->cancellable, conflicts_fetched_cb,
                                   g_object_ref (self));
}

static void flags_step (TdImapReplay *self,
                        gboolean      add);

static void
flags_stored_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  g_autoptr(GArray) modified = NULL;
  gboolean was_add = self->step_add;
  GError *error = NULL;

  modified = td_imap_session_uid_store_finish (self->session, result, &error);
  if (error != NULL && is_refusal (error) && self->task != NULL)
    {
      TdJournalEntry *first = g_ptr_array_index (self->group, 0);
      TdFlags wanted = was_add ? first->flags_add : first->flags_remove;

      g_message ("The server refused a flag change: %s", error->message);
      g_clear_error (&error);
      if ((wanted & KEYWORD_FLAGS & storable_flags (self)) != 0 && !self->keywords_refused)
        {
          /* Servers that do not say (or say wrongly) that they cannot keep keywords refuse
           * the STORE: keep them here and send the rest once more without them. The folder
           * stays selected, so later groups leave them out at once. */
          self->keywords_refused = TRUE;
          self->mailbox.permanent_flags = storable_flags (self) & ~KEYWORD_FLAGS;
          self->mailbox.keywords_allowed = FALSE;
          keep_local_flags (self, first, local_only_flags (self) | TD_FLAG_KEYWORDS);
          flags_step (self, was_add);
          return;
        }
      drop_group (self, "refused");
      return;
    }
  if (!check (self, error))
    return;

  for (guint i = 0; modified != NULL && i < modified->len; i++)
    {
      guint32 uid = g_array_index (modified, guint32, i);
      TdJournalEntry *entry = group_find_uid (self, uid);

      if (entry == NULL)
        continue;
      if (self->modified == NULL)
        self->modified = g_hash_table_new (NULL, NULL);
      g_hash_table_insert (self->modified, GUINT_TO_POINTER (uid), entry);
    }

  if (was_add)
    flags_step (self, FALSE);
  else
    flags_done (self);
}

static void
flags_step (TdImapReplay *self,
            gboolean      add)
{
  TdJournalEntry *first = g_ptr_array_index (self->group, 0);
  g_autofree char *list = NULL;

  if (((add ? first->flags_add : first->flags_remove) & ~storable_flags (self) &
       TD_FLAGS_STORED) != 0 ||
      ((local_only_flags (self) & TD_FLAG_KEYWORDS) != 0 &&
       (add ? first->keywords_add : first->keywords_remove) != NULL))
    keep_local_flags (self, first, local_only_flags (self));
  list = add ? flag_list (self, first->flags_add, first->keywords_add)
             : flag_list (self, first->flags_remove, first->keywords_remove);
  if (list == NULL)
    {
      /* nothing this folder can store (e.g. a keyword it refuses): kept here only */
      if (add)
        flags_step (self, FALSE);
      else
        flags_done (self);
      return;
    }

  self->step_add = add;
  td_imap_session_uid_store_async (self->session, self->uid_set, add, list,
                                   group_unchanged_since (self), NULL, NULL,
                                   self->cancellable, flags_stored_cb, g_object_ref (self));
}

/* --- Moves, copies, expunges --- */

static void
remarked_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  g_autoptr(GArray) modified = NULL;
  GError *error = NULL;

  modified = td_imap_session_uid_store_finish (self->session, result, &error);
  g_clear_pointer (&self->others_set, g_free);
  take_refusal (self, &error, "mark messages deleted again");
  if (!check (self, error))
    return;
  settle (self);
}

static void
expunged_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  GError *error = NULL;

  td_imap_session_expunge_finish (self->session, result, &error);
  /* refused: the messages stay marked \Deleted on the server; nothing is lost */
  take_refusal (self, &error, "expunge");
  if (!check (self, error))
    return;
  if (self->others_set != NULL)
    {
      /* what another client had marked is marked again, as it was */
      td_imap_session_uid_store_async (self->session, self->others_set, TRUE, "\\Deleted", 0,
                                       NULL, NULL, self->cancellable, remarked_cb,
                                       g_object_ref (self));
      return;
    }
  settle (self);
}

static void
others_unmarked_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  g_autoptr(GArray) modified = NULL;
  GError *error = NULL;

  modified = td_imap_session_uid_store_finish (self->session, result, &error);
  if (take_refusal (self, &error, "unmark messages"))
    {
      /* an EXPUNGE now would take the others' messages too: leave ours marked instead */
      g_clear_pointer (&self->others_set, g_free);
      settle (self);
      return;
    }
  if (!check (self, error))
    return;
  td_imap_session_expunge_async (self->session, NULL, self->cancellable, expunged_cb,
                                 g_object_ref (self));
}

static void
others_found_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  g_autoptr(GArray) others = NULL;
  GError *error = NULL;
  guint consumed = 0;

  others = td_imap_session_uid_search_finish (self->session, result, &error);
  if (take_refusal (self, &error, "search"))
    {
      /* not knowing what else is marked, expunging could remove it: ours stay marked */
      settle (self);
      return;
    }
  if (!check (self, error))
    return;
  if (others->len == 0)
    {
      td_imap_session_expunge_async (self->session, NULL, self->cancellable, expunged_cb,
                                     g_object_ref (self));
      return;
    }

  g_clear_pointer (&self->others_set, g_free);
  self->others_set = td_imap_uid_set_build ((const guint32 *) (gpointer) others->data, others->len,
                                            G_MAXINT, &consumed);
  td_imap_session_uid_store_async (self->session, self->others_set, FALSE, "\\Deleted", 0,
                                   NULL, NULL, self->cancellable, others_unmarked_cb,
                                   g_object_ref (self));
}

/* With UIDPLUS, UID EXPUNGE removes exactly our messages. A plain EXPUNGE removes every
 * message marked \Deleted in the folder, also those another client marked and did not mean
 * to remove yet: those are unmarked for the EXPUNGE and marked again after it. (Cut in
 * between, they lose the mark, never the message.) */
static void
expunge (TdImapReplay *self)
{
  g_autofree char *criteria = NULL;

  if (td_imap_session_has_capability (self->session, "UIDPLUS"))
    {
      td_imap_session_expunge_async (self->session, self->uid_set, self->cancellable,
                                     expunged_cb, g_object_ref (self));
      return;
    }
  criteria = g_strdup_printf ("DELETED NOT UID %s", self->uid_set);
  td_imap_session_uid_search_async (self->session, criteria, self->cancellable, others_found_cb,
                                    g_object_ref (self));
}

static void
deleted_flag_stored_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  g_autoptr(GArray) modified = NULL;
  GError *error = NULL;

  modified = td_imap_session_uid_store_finish (self->session, result, &error);
  if (take_refusal (self, &error, "delete messages"))
    {
      /* a move already copied them: the copies are settled, the originals stay */
      settle (self);
      return;
    }
  if (!check (self, error))
    return;
  expunge (self);
}

static void
mark_deleted_and_expunge (TdImapReplay *self)
{
  td_imap_session_uid_store_async (self->session, self->uid_set, TRUE, "\\Deleted", 0, NULL, NULL,
                                   self->cancellable, deleted_flag_stored_cb,
                                   g_object_ref (self));
}

static void
copied_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  TdJournalEntry *first;
  GError *error = NULL;

  td_imap_copy_uid_clear (&self->copy_uid);
  td_imap_session_uid_copy_finish (self->session, result, &self->copy_uid, &error);
  if (take_refusal (self, &error, "move or copy messages"))
    {
      /* e.g. [TRYCREATE]: the target is gone; the message stays where it was on the server,
       * and the next sync shows it there again */
      drop_group (self, "refused");
      return;
    }
  if (!check (self, error))
    return;

  first = g_ptr_array_index (self->group, 0);
  if (first->kind == TD_JOURNAL_MOVE && !td_imap_session_has_capability (self->session, "MOVE"))
    mark_deleted_and_expunge (self);
  else
    settle (self);
}

static void
copy_or_move (TdImapReplay *self)
{
  TdJournalEntry *first = g_ptr_array_index (self->group, 0);
  g_autofree char *raw_target = td_imap_utf7_encode (first->target_path);
  gboolean move = first->kind == TD_JOURNAL_MOVE &&
                  td_imap_session_has_capability (self->session, "MOVE");

  td_imap_session_uid_copy_async (self->session, self->uid_set, raw_target, move,
                                  self->cancellable, copied_cb, g_object_ref (self));
}

/* --- A group: select, check UIDVALIDITY, send --- */

static int
compare_entry_uid (gconstpointer a,
                   gconstpointer b)
{
  const TdJournalEntry *x = *(TdJournalEntry * const *) a;
  const TdJournalEntry *y = *(TdJournalEntry * const *) b;

  return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static void
send_group (TdImapReplay *self)
{
  g_autoptr(GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  TdJournalEntry *first;
  guint consumed = 0;

  if (self->group->len == 0)
    {
      settle (self);
      return;
    }

  g_ptr_array_sort (self->group, compare_entry_uid);
  for (guint i = 0; i < self->group->len; i++)
    {
      TdJournalEntry *entry = g_ptr_array_index (self->group, i);

      /* two entries for one uid (flagged twice): the uid set holds it once */
      if (uids->len == 0 || g_array_index (uids, guint32, uids->len - 1) != entry->uid)
        g_array_append_val (uids, entry->uid);
    }
  self->uid_set = td_imap_uid_set_build ((guint32 *) (gpointer) uids->data, uids->len,
                                         UID_SET_MAX_LEN, &consumed);
  g_assert (consumed == uids->len);

  first = g_ptr_array_index (self->group, 0);
  switch (first->kind)
    {
    case TD_JOURNAL_FLAGS:
      flags_step (self, TRUE);
      break;
    case TD_JOURNAL_MOVE:
    case TD_JOURNAL_COPY:
      copy_or_move (self);
      break;
    case TD_JOURNAL_EXPUNGE:
      mark_deleted_and_expunge (self);
      break;
    case TD_JOURNAL_CREATE:
    case TD_JOURNAL_RENAME:
    case TD_JOURNAL_DELETE:
    case TD_JOURNAL_SUBSCRIBE:
    case TD_JOURNAL_UNSUBSCRIBE:
    default:
      g_assert_not_reached ();
    }
}

static void remap_next (TdImapReplay *self);

static void
remap_searched_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  g_autoptr(GArray) uids = NULL;
  TdJournalEntry *entry;
  GError *error = NULL;

  uids = td_imap_session_uid_search_finish (self->session, result, &error);
  if (error != NULL && is_refusal (error) && self->task != NULL)
    g_clear_error (&error);
  if (!check (self, error))
    return;

  entry = g_ptr_array_index (self->group, self->remap_pos);
  if ((uids == NULL || uids->len == 0) && !self->remap_bare)
    {
      /* a header without the brackets: once more, as the store keeps it */
      self->remap_bare = TRUE;
      remap_next (self);
      return;
    }
  self->remap_bare = FALSE;
  if (uids != NULL && uids->len == 1)
    {
      entry->uid = g_array_index (uids, guint32, 0);
      self->remap_pos++;
    }
  else
    {
      /* not there any more, or not one message: nothing to apply it to */
      g_ptr_array_remove_index (self->group, self->remap_pos);
      if (is_move_kind (entry->kind))
        g_ptr_array_add (self->drop_moves, entry);
      else
        g_array_append_val (self->drop_ids, entry->id);
    }
  remap_next (self);
}

/* The folder's UIDVALIDITY changed since these entries were written: their uids mean nothing
 * now. Each message is looked up by its Message-ID: with its angle brackets, as a header
 * has it, since SEARCH HEADER matches any part of the header ("1@example.org" is in
 * "<11@example.org>" too); without them only when that found nothing. */
static void
remap_next (TdImapReplay *self)
{
  while (self->remap_pos < self->group->len)
    {
      TdJournalEntry *entry = g_ptr_array_index (self->group, self->remap_pos);
      g_autofree char *quoted = NULL;
      g_autofree char *criteria = NULL;

      if (entry->message_id_header != NULL && *entry->message_id_header != '\0')
        {
          g_autofree char *bracketed = NULL;

          if (!self->remap_bare && entry->message_id_header[0] != '<')
            bracketed = g_strdup_printf ("<%s>", entry->message_id_header);
          else
            self->remap_bare = TRUE;    /* nothing else to try */
          quoted = td_imap_quote (bracketed != NULL ? bracketed : entry->message_id_header);
        }
      if (quoted == NULL)
        {
          self->remap_bare = FALSE;
          g_ptr_array_remove_index (self->group, self->remap_pos);
          if (is_move_kind (entry->kind))
            g_ptr_array_add (self->drop_moves, entry);
          else
            g_array_append_val (self->drop_ids, entry->id);
          continue;
        }
      criteria = g_strdup_printf ("HEADER Message-ID %s", quoted);
      td_imap_session_uid_search_async (self->session, criteria, self->cancellable,
                                        remap_searched_cb, g_object_ref (self));
      return;
    }
  send_group (self);
}

static void
group_selected (TdImapReplay *self)
{
  TdJournalEntry *first = g_ptr_array_index (self->group, 0);

  if (first->uidvalidity != 0 && first->uidvalidity != self->mailbox.uidvalidity)
    {
      g_message ("UIDVALIDITY of %s changed: finding %u changed messages by Message-ID",
                 first->folder_path, self->group->len);
      for (guint i = 0; i < self->group->len; i++)
        ((TdJournalEntry *) g_ptr_array_index (self->group, i))->uidvalidity =
          self->mailbox.uidvalidity;
      self->remap_pos = 0;
      remap_next (self);
      return;
    }
  send_group (self);
}

/* --- A folder renamed on the server: found by its UIDVALIDITY among the new ones --- */

static void try_candidate (TdImapReplay *self);

/* The folder @old_path is @new_path on the server: so for every entry still to send. */
static void
retarget (TdImapReplay *self,
          const char   *old_path,
          const char   *new_path)
{
  g_autofree char *old = g_strdup (old_path);

  for (guint i = self->pos; i < self->entries->len; i++)
    {
      TdJournalEntry *entry = g_ptr_array_index (self->entries, i);

      if (g_strcmp0 (entry->folder_path, old) != 0)
        continue;
      g_free (entry->folder_path);
      entry->folder_path = g_strdup (new_path);
    }
}

static void
candidate_selected_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  TdJournalEntry *first;
  TdImapListEntry *candidate;
  const TdImapMailbox *mailbox;
  GError *error = NULL;

  mailbox = td_imap_session_select_finish (self->session, result, &error);
  if (error != NULL && is_refusal (error) && self->task != NULL)
    {
      g_clear_error (&error);
      g_clear_pointer (&self->selected, g_free);
      try_candidate (self);
      return;
    }
  if (!check (self, error))
    return;

  first = g_ptr_array_index (self->group, 0);
  candidate = g_ptr_array_index (self->listing, self->candidate - 1);
  self->mailbox = *mailbox;
  g_free (self->selected);
  self->selected = g_strdup (candidate->path);
  if (mailbox->uidvalidity != first->uidvalidity)
    {
      try_candidate (self);
      return;
    }

  g_message ("%s was renamed to %s on the server: sending its changes there",
             first->folder_path, candidate->path);
  retarget (self, first->folder_path, candidate->path);
  /* The same UIDVALIDITY says the same uids, but another folder may have it too: each
   * message is found by its Message-ID, as after a change of UIDVALIDITY. */
  self->remap_pos = 0;
  remap_next (self);
}

/* The next folder listed on the server that the store does not know (and LIST-STATUS, if
 * it came, does not rule out): opened read-write to compare its UIDVALIDITY. */
static void
try_candidate (TdImapReplay *self)
{
  TdJournalEntry *first = g_ptr_array_index (self->group, 0);

  while (self->candidate < self->listing->len &&
         self->candidates_tried < MAX_RENAME_CANDIDATES)
    {
      TdImapListEntry *entry = g_ptr_array_index (self->listing, self->candidate++);
      g_autoptr(TdFolder) known = NULL;

      if (entry->noselect ||
          (entry->has_status && entry->status_uidvalidity != first->uidvalidity))
        continue;
      known = td_store_find_folder (self->store, td_account_get_id (self->account),
                                    entry->path, NULL);
      if (known != NULL)
        continue;
      self->candidates_tried++;
      td_imap_session_select_async (self->session, entry->raw_path, FALSE, self->cancellable,
                                    candidate_selected_cb, g_object_ref (self));
      return;
    }
  /* deleted there, not renamed: so are its messages */
  drop_group (self, "folder gone");
}

static void
renamed_listed_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  GPtrArray *listing;
  GError *error = NULL;

  listing = td_imap_session_list_finish (self->session, result, &error);
  if (error != NULL && is_refusal (error) && self->task != NULL)
    {
      g_clear_error (&error);
      listing = g_ptr_array_new_with_free_func ((GDestroyNotify) td_imap_list_entry_free);
    }
  if (!check (self, error))
    {
      g_clear_pointer (&listing, g_ptr_array_unref);
      return;
    }
  g_clear_pointer (&self->listing, g_ptr_array_unref);
  self->listing = listing;
  self->candidate = 0;
  try_candidate (self);
}

/* The group's folder is not on the server. Another client may have renamed it: its
 * UIDVALIDITY (RFC 3501 keeps it with the mailbox) is looked for among the folders that are
 * new there. */
static void
find_renamed (TdImapReplay *self)
{
  TdJournalEntry *first = g_ptr_array_index (self->group, 0);

  if (first->uidvalidity == 0)
    {
      drop_group (self, "folder gone");   /* nothing to know it again by */
      return;
    }
  self->candidates_tried = 0;
  if (self->listing == NULL)
    {
      td_imap_session_list_async (self->session, self->cancellable, renamed_listed_cb,
                                  g_object_ref (self));
      return;
    }
  self->candidate = 0;
  try_candidate (self);
}

static void
selected_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  TdJournalEntry *first;
  const TdImapMailbox *mailbox;
  GError *error = NULL;

  mailbox = td_imap_session_select_finish (self->session, result, &error);
  if (error != NULL && is_refusal (error) && self->task != NULL)
    {
      g_message ("Could not open a folder to send changes: %s", error->message);
      g_clear_error (&error);
      g_clear_pointer (&self->selected, g_free);
      find_renamed (self);
      return;
    }
  if (!check (self, error))
    return;

  first = g_ptr_array_index (self->group, 0);
  self->mailbox = *mailbox;
  g_free (self->selected);
  self->selected = g_strdup (first->folder_path);
  group_selected (self);
}

static void
select_group_folder (TdImapReplay *self)
{
  TdJournalEntry *first = g_ptr_array_index (self->group, 0);
  g_autofree char *raw = NULL;

  if (self->selected != NULL && strcmp (self->selected, first->folder_path) == 0 &&
      td_imap_session_get_state (self->session) == TD_IMAP_STATE_SELECTED)
    {
      group_selected (self);
      return;
    }
  raw = td_imap_utf7_encode (first->folder_path);
  td_imap_session_select_async (self->session, raw, FALSE, self->cancellable, selected_cb,
                                g_object_ref (self));
}

/* --- Folder operations --- */

static void
folder_op_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  GError *error = NULL;

  td_imap_session_mailbox_op_finish (self->session, result, &error);
  if (error != NULL && is_refusal (error) && self->task != NULL)
    {
      /* the next sync lists the folders as the server has them */
      g_message ("The server refused a folder change: %s", error->message);
      g_clear_error (&error);
      drop_group (self, "refused");
      return;
    }
  if (!check (self, error))
    return;
  settle (self);
}

static void
send_folder_op (TdImapReplay   *self,
                TdJournalEntry *entry)
{
  static const TdImapMailboxOp ops[] = {
    [TD_JOURNAL_CREATE] = TD_IMAP_MAILBOX_CREATE,
    [TD_JOURNAL_RENAME] = TD_IMAP_MAILBOX_RENAME,
    [TD_JOURNAL_DELETE] = TD_IMAP_MAILBOX_DELETE,
    [TD_JOURNAL_SUBSCRIBE] = TD_IMAP_MAILBOX_SUBSCRIBE,
    [TD_JOURNAL_UNSUBSCRIBE] = TD_IMAP_MAILBOX_UNSUBSCRIBE,
  };
  g_autofree char *raw = td_imap_utf7_encode (entry->folder_path);
  g_autofree char *raw_new = NULL;

  g_ptr_array_add (self->group, entry);
  self->group_end = self->pos + 1;

  if (entry->kind == TD_JOURNAL_RENAME)
    {
      if (entry->target_path == NULL)
        {
          drop_group (self, "rename without a new name");
          return;
        }
      raw_new = td_imap_utf7_encode (entry->target_path);
    }
  /* A renamed or deleted folder cannot stay selected under its old name. */
  if (self->selected != NULL && (entry->kind == TD_JOURNAL_RENAME ||
                                 entry->kind == TD_JOURNAL_DELETE))
    g_clear_pointer (&self->selected, g_free);

  td_imap_session_mailbox_op_async (self->session, ops[entry->kind], raw, raw_new,
                                    self->cancellable, folder_op_cb, g_object_ref (self));
}

/* --- Forming groups --- */

static gboolean
same_action (const TdJournalEntry *a,
             const TdJournalEntry *b)
{
  return a->kind == b->kind &&
         a->uidvalidity == b->uidvalidity &&
         a->flags_add == b->flags_add &&
         a->flags_remove == b->flags_remove &&
         g_strcmp0 (a->folder_path, b->folder_path) == 0 &&
         g_strcmp0 (a->keywords_add, b->keywords_add) == 0 &&
         g_strcmp0 (a->keywords_remove, b->keywords_remove) == 0 &&
         g_strcmp0 (a->target_path, b->target_path) == 0;
}

/* An entry written while its message had no server uid yet (a flag change on a message moved
 * here offline): the move before it in the journal has been replayed by now, so the row may
 * have its real uid. FALSE when it has none: the entry cannot be sent. */
static gboolean
resolve (TdImapReplay   *self,
         TdJournalEntry *entry)
{
  g_autoptr(TdMessage) message = NULL;
  g_autoptr(TdFolder) folder = NULL;

  if (entry->uid != 0)
    return entry->folder_path != NULL;
  if (entry->message_id <= 0)
    return FALSE;
  message = td_store_get_message (self->store, entry->message_id, NULL);
  if (message == NULL || td_message_get_uid (message) == 0)
    return FALSE;
  folder = td_store_get_folder (self->store, td_message_get_folder_id (message), NULL);
  if (folder == NULL)
    return FALSE;
  entry->uid = td_message_get_uid (message);
  g_free (entry->folder_path);
  entry->folder_path = g_strdup (td_folder_get_path (folder));
  entry->uidvalidity = 0;             /* learned from the server in this replay */
  return TRUE;
}

static void
next_group (TdImapReplay *self)
{
  TdJournalEntry *first = NULL;
  guint i;

  if (self->task == NULL)
    return;

  clear_group (self);
  if (self->pos >= self->entries->len)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->task);

      g_task_return_boolean (task, TRUE);
      return;
    }

  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, self->pos, self->entries->len);
  self->group = g_ptr_array_new ();
  self->drop_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->drop_moves = g_ptr_array_new ();

  first = g_ptr_array_index (self->entries, self->pos);
  if (is_folder_kind (first->kind))
    {
      send_folder_op (self, first);
      return;
    }

  first = NULL;
  for (i = self->pos; i < self->entries->len && self->group->len < MAX_GROUP; i++)
    {
      TdJournalEntry *entry = g_ptr_array_index (self->entries, i);

      if (is_folder_kind (entry->kind))
        break;
      if (first != NULL && !same_action (first, entry))
        break;
      if (!resolve (self, entry))
        {
          if (is_move_kind (entry->kind))
            g_ptr_array_add (self->drop_moves, entry);
          else
            g_array_append_val (self->drop_ids, entry->id);
          continue;
        }
      if (first == NULL)
        first = entry;
      g_ptr_array_add (self->group, entry);
    }
  self->group_end = i;

  if (self->group->len == 0)
    settle (self);
  else
    select_group_folder (self);
}

/* --- Running --- */

static void
listed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(TdImapReplay) self = user_data;
  GError *error = NULL;

  g_clear_pointer (&self->entries, g_ptr_array_unref);
  self->entries = td_store_list_journal_finish (self->store, result, &error);
  if (!check (self, error))
    return;
  if (self->entries->len > 0)
    g_debug ("Replaying %u journal entries of %s", self->entries->len,
             td_account_get_address (self->account));
  next_group (self);
}

void
td_imap_replay_run_async (TdImapReplay        *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TD_IS_IMAP_REPLAY (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_imap_replay_run_async);

  if (self->task != NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_WRONG_STATE,
                               "A replay of this account is already running");
      return;
    }

  self->task = g_steal_pointer (&task);
  g_set_object (&self->cancellable, cancellable);
  self->pos = 0;
  self->replayed = 0;
  self->dropped = 0;
  g_clear_pointer (&self->selected, g_free);
  g_clear_pointer (&self->listing, g_ptr_array_unref);
  td_store_list_journal_async (self->store, td_account_get_id (self->account), cancellable,
                               listed_cb, g_object_ref (self));
}

gboolean
td_imap_replay_run_finish (TdImapReplay  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
