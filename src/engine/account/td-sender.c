/* td-sender.c: sends what waits in an account's outbox, and finishes what was sent
 *
 * One run is a chain of callbacks over a Run: requeue what a dead process left "sending",
 * list the outbox, send the due rows over one SMTP session, then do the after-send work of
 * every "sent" row (over one IMAP session when copies go to an IMAP Sent folder).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-sync"

#include "config.h"

#include "td-sender.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-imap-response.h"
#include "td-imap-session.h"
#include "td-smtp-session.h"
#include "td-store-outbox.h"

struct _TdSender
{
  GObject          parent_instance;

  TdStore         *store;
  TdCredentials   *credentials;
  gint64           now;   /* tests; 0: the clock */

  /* td_sender_start(): sending by itself */
  GListModel      *accounts;
  GNetworkMonitor *monitor;
  GCancellable    *cancellable;   /* of the rounds; cancelled by td_sender_stop() */
  guint            timer_id;
  gboolean         in_round;
  gboolean         again;         /* woken during a round: one more */
  guint            round_index;
};

enum { SIGNAL_PROGRESS, SIGNAL_MESSAGE_SENT, SIGNAL_MESSAGE_FAILED, SIGNAL_AFTER_SEND_FAILED,
       SIGNAL_ROUND_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TdSender, td_sender, G_TYPE_OBJECT)

typedef struct
{
  TdSender       *sender;
  TdAccount      *account;
  gboolean        force;
  GPtrArray      *items;       /* TdOutboxItem*, the whole outbox of the account */
  GPtrArray      *to_send;     /* borrowed from items */
  GPtrArray      *to_finish;   /* borrowed: sent rows */
  guint           index;
  guint           n_sent;
  guint           n_done;      /* rows finished (gone) */
  TdSmtpSession  *smtp;
  TdImapSession  *imap;
  gboolean        imap_failed; /* no copies to IMAP in this run */
  gboolean        listed;      /* the server's folders were listed to find Sent */
  char           *sent_path;   /* IMAP: the raw path of the Sent folder, NULL: none */
  gint64          sent_folder; /* POP3: the local Sent folder */
  char           *note;        /* of the message being sent */
} Run;

static void
run_free (gpointer data)
{
  Run *run = data;

  if (run->smtp != NULL)
    td_smtp_session_close (run->smtp);
  if (run->imap != NULL)
    td_imap_session_close (run->imap);
  g_clear_object (&run->smtp);
  g_clear_object (&run->imap);
  g_clear_pointer (&run->to_send, g_ptr_array_unref);
  g_clear_pointer (&run->to_finish, g_ptr_array_unref);
  g_clear_pointer (&run->items, g_ptr_array_unref);
  g_clear_object (&run->account);
  g_clear_object (&run->sender);
  g_free (run->sent_path);
  g_free (run->note);
  g_free (run);
}

static gint64
now (TdSender *self)
{
  return self->now != 0 ? self->now : g_get_real_time () / G_USEC_PER_SEC;
}

guint
td_sender_backoff_seconds (guint attempts)
{
  guint seconds = 60;

  for (guint i = 1; i < attempts && seconds < 3600; i++)
    seconds *= 2;
  return MIN (seconds, 3600);
}

static void
progress (Run        *run,
          const char *format,
          ...) G_GNUC_PRINTF (2, 3);

static void
progress (Run        *run,
          const char *format,
          ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_signal_emit (run->sender, signals[SIGNAL_PROGRESS], 0, text);
}

/* Whether a failure may pass by itself. */
static gboolean
may_pass (const GError *error)
{
  return g_error_matches (error, TD_ERROR, TD_ERROR_TRY_LATER) ||
         g_error_matches (error, TD_ERROR, TD_ERROR_CONNECTION) ||
         g_error_matches (error, TD_ERROR, TD_ERROR_TIMEOUT);
}

static void finish_next (GTask *task);
static void send_next (GTask *task);

static void
run_return (GTask *task)
{
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* --- After sending: the copy in Sent, the original's flag, the row's end --- */

static TdOutboxItem *
finishing (Run *run)
{
  return g_ptr_array_index (run->to_finish, run->index);
}

static void
after_send_failed (GTask        *task,
                   const GError *error)
{
  Run *run = g_task_get_task_data (task);

  g_signal_emit (run->sender, signals[SIGNAL_AFTER_SEND_FAILED], 0, finishing (run)->id, error);
  run->index++;
  finish_next (task);
}

static void
finish_row_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!td_store_outbox_op_finish (TD_STORE (source), result, &error))
    {
      after_send_failed (task, error);
      return;
    }
  run->n_done++;
  run->index++;
  finish_next (task);
}

static void
finish_row (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  gint64 folder = td_account_get_kind (run->account) == TD_ACCOUNT_KIND_POP3 ? run->sent_folder
                                                                             : 0;

  td_store_outbox_finish_sent_async (run->sender->store, finishing (run)->id, folder,
                                     g_task_get_cancellable (task), finish_row_cb, task);
}

static void
flag_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;

  /* the original may be gone (deleted meanwhile): nothing to flag then */
  if (!td_store_change_flags_finish (TD_STORE (source), result, &error) &&
      !g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
    {
      after_send_failed (task, error);
      return;
    }
  finish_row (task);
}

static void
flag_original (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  TdOutboxItem *item = finishing (run);
  g_autoptr(GArray) ids = NULL;
  TdFlags flag;

  if (item->original_id <= 0 || item->original_kind == TD_OUTBOX_ORIGINAL_NONE)
    {
      finish_row (task);
      return;
    }
  flag = item->original_kind == TD_OUTBOX_ORIGINAL_REPLY ? TD_FLAG_ANSWERED : TD_FLAG_FORWARDED;
  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_array_append_val (ids, item->original_id);
  td_store_change_flags_async (run->sender->store, ids, flag, 0, NULL, NULL,
                               g_task_get_cancellable (task), flag_cb, task);
}

static void
append_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_imap_session_append_finish (TD_IMAP_SESSION (source), result, &error))
    {
      after_send_failed (task, error);
      return;
    }
  flag_original (task);
}

static void
imap_failed (GTask  *task,
             GError *error)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) owned = error;
  g_autoptr(GError) wrapped = g_error_new (error->domain, error->code,
                                           _("The message was sent, but no copy could be "
                                             "saved in Sent yet: %s"), error->message);

  run->imap_failed = TRUE;
  g_clear_object (&run->imap);
  after_send_failed (task, wrapped);
}

static void
imap_login_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!td_imap_session_login_finish (TD_IMAP_SESSION (source), result, &error))
    {
      imap_failed (task, error);
      return;
    }
  finish_next (task);
}

static void
imap_password_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;
  char *password = td_credentials_lookup_finish (TD_CREDENTIALS (source), result, &error);

  if (password == NULL)
    {
      imap_failed (task, error);
      return;
    }
  td_imap_session_login_async (run->imap, td_account_get_username (run->account), password,
                               g_task_get_cancellable (task), imap_login_cb, task);
  td_credentials_free_password (password);
}

static void
imap_connect_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!td_imap_session_connect_finish (TD_IMAP_SESSION (source), result, &error))
    {
      imap_failed (task, error);
      return;
    }
  td_credentials_lookup_async (run->sender->credentials, run->account,
                               g_task_get_cancellable (task), imap_password_cb, task);
}

static void
imap_create_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!td_imap_session_mailbox_op_finish (TD_IMAP_SESSION (source), result, &error))
    {
      imap_failed (task, error);
      return;
    }
  finish_next (task);
}

static void
imap_list_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GPtrArray) entries = td_imap_session_list_finish (TD_IMAP_SESSION (source), result,
                                                              &error);

  if (entries == NULL)
    {
      imap_failed (task, error);
      return;
    }
  run->listed = TRUE;
  /* the Sent role from SPECIAL-USE, else guessed by name */
  for (guint pass = 0; pass < 2 && run->sent_path == NULL; pass++)
    for (guint i = 0; i < entries->len && run->sent_path == NULL; i++)
      {
        TdImapListEntry *entry = g_ptr_array_index (entries, i);
        TdFolderRole role = pass == 0 ? entry->role
                                      : td_imap_guess_role (entry->path, entry->delimiter);

        if (role == TD_FOLDER_ROLE_SENT && !entry->noselect)
          run->sent_path = g_strdup (entry->raw_path);
      }
  if (run->sent_path == NULL)
    {
      /* none yet (a new account): made, as every mail client does; the next sync finds it */
      run->sent_path = g_strdup ("Sent");
      td_imap_session_mailbox_op_async (run->imap, TD_IMAP_MAILBOX_CREATE, run->sent_path, NULL,
                                        g_task_get_cancellable (task), imap_create_cb, task);
      return;
    }
  finish_next (task);
}

/* The copy in the IMAP Sent folder: over one session, made on first need; the folder is
 * looked up on the server when the store does not know it yet (no sync so far). */
static void
save_imap_copy (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  if (run->sent_path == NULL && run->imap != NULL && !run->listed)
    {
      td_imap_session_list_async (run->imap, g_task_get_cancellable (task), imap_list_cb, task);
      return;
    }
  if (run->imap == NULL)
    {
      g_autoptr(TdConnection) connection =
        td_connection_new (td_account_get_host (run->account), td_account_get_port (run->account),
                           td_account_get_security (run->account));

      td_connection_set_pinned_fingerprint (connection,
                                            td_account_get_pinned_fingerprint (run->account));
      run->imap = td_imap_session_new (connection);
      progress (run, _("Saving a copy in Sent…"));
      td_imap_session_connect_async (run->imap, g_task_get_cancellable (task), imap_connect_cb,
                                     task);
      return;
    }
  td_imap_session_append_async (run->imap, run->sent_path, "\\Seen", finishing (run)->raw,
                                g_task_get_cancellable (task), append_cb, task);
}

static void
imap_logout_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  td_imap_session_logout_finish (TD_IMAP_SESSION (source), result, NULL);
  run_return (g_steal_pointer (&task));
}

static void
finish_next (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  if (run->index >= run->to_finish->len)
    {
      if (run->imap != NULL)
        {
          td_imap_session_logout_async (run->imap, NULL, imap_logout_cb, task);
          return;
        }
      run_return (task);
      return;
    }

  if (td_account_get_kind (run->account) == TD_ACCOUNT_KIND_IMAP &&
      !td_account_get_sent_saved_by_server (run->account))
    {
      if (run->imap_failed)
        {
          run->index++;   /* said once; the next run tries again */
          finish_next (task);
          return;
        }
      save_imap_copy (task);
      return;
    }
  flag_original (task);
}

static void
start_finishing (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&run->to_finish, g_ptr_array_unref);
  run->to_finish = g_ptr_array_new ();
  for (guint i = 0; i < run->items->len; i++)
    {
      TdOutboxItem *item = g_ptr_array_index (run->items, i);

      if (item->state == TD_OUTBOX_SENT)
        g_ptr_array_add (run->to_finish, item);
    }
  run->index = 0;
  if (run->to_finish->len == 0)
    {
      run_return (task);
      return;
    }

  folders = td_store_list_folders (run->sender->store, td_account_get_id (run->account), &error);
  for (guint i = 0; folders != NULL && i < folders->len; i++)
    {
      TdFolder *folder = g_ptr_array_index (folders, i);

      if (td_folder_get_role (folder) != TD_FOLDER_ROLE_SENT)
        continue;
      run->sent_folder = td_folder_get_id (folder);
      run->sent_path = td_imap_utf7_encode (td_folder_get_path (folder));
      break;
    }
  if (run->sent_path == NULL)
    g_debug ("no Sent folder of %s is known here yet",
             td_account_get_address (run->account));
  finish_next (task);
}

/* --- Sending --- */

static TdOutboxItem *
sending (Run *run)
{
  return g_ptr_array_index (run->to_send, run->index);
}

static void
quit_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);

  td_smtp_session_quit_finish (TD_SMTP_SESSION (source), result, NULL);
  g_clear_object (&run->smtp);
  start_finishing (task);
}

static void
end_sending (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  if (run->smtp != NULL && td_smtp_session_get_state (run->smtp) != TD_SMTP_STATE_CLOSED)
    {
      td_smtp_session_quit_async (run->smtp, NULL, quit_cb, task);
      return;
    }
  g_clear_object (&run->smtp);
  start_finishing (task);
}

static void
mark_failed_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!td_store_outbox_op_finish (TD_STORE (source), result, &error) &&
      !g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  run->index++;
  /* a session that ended (cut, refused the login) sends nothing more in this run */
  if (run->smtp == NULL || td_smtp_session_get_state (run->smtp) == TD_SMTP_STATE_CLOSED)
    {
      end_sending (task);
      return;
    }
  send_next (task);
}

/* Records @error as the outcome of one more attempt at @item: queued again for later when it
 * may pass and attempts are left, else failed. */
static void
mark_item_failed (Run                 *run,
                  TdOutboxItem        *item,
                  const GError        *error,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  gboolean passing = may_pass (error);
  gboolean retry = passing && item->attempts + 1 < TD_SENDER_MAX_ATTEMPTS;
  gint64 next = now (run->sender) + td_sender_backoff_seconds (item->attempts + 1);
  g_autofree char *reason = NULL;

  /* stopped (the app quits): not the message's fault, it goes with the next run */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      retry = TRUE;
      next = 0;
    }

  if (passing && !retry)
    reason = g_strdup_printf (_("Given up after %u attempts: %s"), item->attempts + 1,
                              error->message);
  g_signal_emit (run->sender, signals[SIGNAL_MESSAGE_FAILED], 0, item->id, error, retry);
  td_store_outbox_mark_failed_async (run->sender->store, item->id,
                                     reason != NULL ? reason : error->message, retry, next,
                                     NULL, callback, user_data);
}

static void
item_failed (GTask        *task,
             const GError *error)
{
  Run *run = g_task_get_task_data (task);

  mark_item_failed (run, sending (run), error, mark_failed_cb, task);
}

/* A failure before any message went out (connect, password, login): every due row. */
static void
all_failed (GTask  *task,
            GError *error)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) owned = error;

  /* one failed attempt for each, with the same reason; a closed session ends the loop, so
   * mark them one by one here */
  for (guint i = run->index; i < run->to_send->len; i++)
    mark_item_failed (run, g_ptr_array_index (run->to_send, i), error, NULL, NULL);
  run->index = run->to_send->len;
  g_clear_object (&run->smtp);
  end_sending (task);
}

static void
mark_sent_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  TdOutboxItem *item = sending (run);
  g_autoptr(GError) error = NULL;

  if (!td_store_outbox_op_finish (TD_STORE (source), result, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  item->state = TD_OUTBOX_SENT;
  run->n_sent++;
  g_signal_emit (run->sender, signals[SIGNAL_MESSAGE_SENT], 0, item->id, run->note);
  g_clear_pointer (&run->note, g_free);
  run->index++;
  send_next (task);
}

static char *
refusals_note (GPtrArray *refused)
{
  GString *note;

  if (refused == NULL || refused->len == 0)
    return NULL;
  note = g_string_new (_("Not delivered to: "));
  for (guint i = 0; i < refused->len; i++)
    {
      TdSmtpRefusal *r = g_ptr_array_index (refused, i);

      g_string_append_printf (note, "%s%s (%u %s)", i > 0 ? "; " : "", r->address, r->code,
                              r->text);
    }
  return g_string_free (note, FALSE);
}

static void
smtp_send_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GPtrArray) refused = NULL;
  g_autoptr(GError) error = NULL;

  if (!td_smtp_session_send_finish (TD_SMTP_SESSION (source), result, &refused, &error))
    {
      item_failed (task, error);
      return;
    }
  /* accepted: commit that first, before anything else can go wrong */
  g_free (run->note);
  run->note = refusals_note (refused);
  td_store_outbox_mark_sent_async (run->sender->store, sending (run)->id,
                                   now (run->sender), run->note, NULL, mark_sent_cb, task);
}

static void
mark_sending_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  TdOutboxItem *item = sending (run);
  g_autoptr(GError) error = NULL;

  if (!td_store_outbox_op_finish (TD_STORE (source), result, &error))
    {
      /* taken or removed meanwhile: not ours to send */
      run->index++;
      send_next (task);
      return;
    }
  item->state = TD_OUTBOX_SENDING;
  progress (run, _("Sending “%s”…"), item->subject != NULL ? item->subject : "");
  td_smtp_session_send_async (run->smtp, item->mail_from,
                              (const char * const *) item->recipients, item->raw,
                              g_task_get_cancellable (task), smtp_send_cb, task);
}

static void
send_next (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  if (run->index >= run->to_send->len)
    {
      end_sending (task);
      return;
    }
  td_store_outbox_mark_sending_async (run->sender->store, sending (run)->id, now (run->sender),
                                      NULL,
                                      mark_sending_cb, task);
}

static void
smtp_auth_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!td_smtp_session_authenticate_finish (TD_SMTP_SESSION (source), result, &error))
    {
      all_failed (task, error);
      return;
    }
  send_next (task);
}

static void
smtp_password_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;
  char *password = td_credentials_lookup_finish (TD_CREDENTIALS (source), result, &error);

  if (password == NULL)
    {
      all_failed (task, error);
      return;
    }
  td_smtp_session_authenticate_async (run->smtp, td_account_get_smtp_username (run->account),
                                      password, g_task_get_cancellable (task), smtp_auth_cb,
                                      task);
  td_credentials_free_password (password);
}

static void
smtp_connect_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!td_smtp_session_connect_finish (TD_SMTP_SESSION (source), result, &error))
    {
      all_failed (task, error);
      return;
    }
  td_credentials_lookup_for_async (run->sender->credentials, run->account, TD_CREDENTIALS_SMTP,
                                   g_task_get_cancellable (task), smtp_password_cb, task);
}

static void
start_sending (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  const char *host = td_account_get_smtp_host (run->account);
  g_autoptr(TdConnection) connection = NULL;

  run->index = 0;
  if (run->to_send->len == 0)
    {
      start_finishing (task);
      return;
    }
  if (host == NULL)
    {
      all_failed (task, g_error_new (TD_ERROR, TD_ERROR_INVALID,
                                     _("The account %s has no outgoing (SMTP) server. Add one "
                                       "in its settings."),
                                     td_account_get_address (run->account)));
      return;
    }

  connection = td_connection_new (host, td_account_get_smtp_port (run->account),
                                  td_account_get_smtp_security (run->account));
  /* the pinned certificate is the incoming server's: it applies when it is the same host */
  if (g_ascii_strcasecmp (host, td_account_get_host (run->account)) == 0)
    td_connection_set_pinned_fingerprint (connection,
                                          td_account_get_pinned_fingerprint (run->account));
  run->smtp = td_smtp_session_new (connection);
  progress (run, _("Connecting to %s…"), host);
  td_smtp_session_connect_async (run->smtp, g_task_get_cancellable (task), smtp_connect_cb,
                                 task);
}

static void
list_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;

  run->items = td_store_outbox_list_finish (TD_STORE (source), result, &error);
  if (run->items == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  run->to_send = g_ptr_array_new ();
  for (guint i = 0; i < run->items->len; i++)
    {
      TdOutboxItem *item = g_ptr_array_index (run->items, i);

      if (item->state == TD_OUTBOX_QUEUED &&
          (run->force || item->next_attempt <= now (run->sender)))
        g_ptr_array_add (run->to_send, item);
    }
  start_sending (task);
}

static void
requeue_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!td_store_outbox_op_finish (TD_STORE (source), result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  td_store_outbox_list_async (run->sender->store, td_account_get_id (run->account), TRUE, NULL,
                              list_cb, task);
}

void
td_sender_run_async (TdSender            *self,
                     TdAccount           *account,
                     gboolean             force,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task;
  Run *run;

  g_return_if_fail (TD_IS_SENDER (self));
  g_return_if_fail (TD_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_sender_run_async);
  run = g_new0 (Run, 1);
  run->sender = g_object_ref (self);
  run->account = g_object_ref (account);
  run->force = force;
  g_task_set_task_data (task, run, run_free);
  td_store_outbox_requeue_sending_async (self->store, td_account_get_id (account),
                                         now (self) - TD_SENDER_SENDING_STALE, NULL,
                                         requeue_cb, task);
}

gboolean
td_sender_run_finish (TdSender      *self,
                      GAsyncResult  *result,
                      guint         *n_sent,
                      guint         *n_left,
                      GError       **error)
{
  Run *run;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  run = g_task_get_task_data (G_TASK (result));
  if (n_sent != NULL)
    *n_sent = run->n_sent;
  if (n_left != NULL)
    *n_left = run->items->len - run->n_done;
  return TRUE;
}

/* --- Sending by itself --- */

static void round_next (TdSender *self);

static gboolean
timer_cb (gpointer user_data)
{
  TdSender *self = user_data;

  self->timer_id = 0;
  td_sender_wake (self);
  return G_SOURCE_REMOVE;
}

/* After a round: a timer for the earliest attempt that waits (none when nothing waits). */
static void
schedule_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdSender) self = user_data;
  g_autoptr(GPtrArray) items = td_store_outbox_list_finish (TD_STORE (source), result, NULL);
  gint64 earliest = 0;

  if (items == NULL || self->accounts == NULL || self->timer_id != 0 || self->in_round)
    return;
  for (guint i = 0; i < items->len; i++)
    {
      TdOutboxItem *item = g_ptr_array_index (items, i);

      if (item->state == TD_OUTBOX_QUEUED && (earliest == 0 || item->next_attempt < earliest))
        earliest = item->next_attempt;
    }
  if (earliest == 0)
    return;
  self->timer_id = g_timeout_add_seconds ((guint) CLAMP (earliest - now (self), 1, 3600),
                                          timer_cb, self);
}

static void
round_end (TdSender *self)
{
  self->in_round = FALSE;
  g_signal_emit (self, signals[SIGNAL_ROUND_FINISHED], 0);
  if (self->accounts == NULL)
    return;
  if (self->again)
    {
      td_sender_wake (self);
      return;
    }
  td_store_outbox_list_async (self->store, 0, FALSE, self->cancellable, schedule_cb,
                              g_object_ref (self));
}

static void
round_run_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TdSender) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_sender_run_finish (self, result, NULL, NULL, &error))
    g_warning ("Sending from the outbox failed: %s", error->message);
  self->round_index++;
  round_next (self);
}

static void
round_next (TdSender *self)
{
  g_autoptr(TdAccount) account = NULL;

  if (self->accounts == NULL || g_cancellable_is_cancelled (self->cancellable) ||
      self->round_index >= g_list_model_get_n_items (self->accounts))
    {
      round_end (self);
      return;
    }
  account = g_list_model_get_item (self->accounts, self->round_index);
  td_sender_run_async (self, account, FALSE, self->cancellable, round_run_cb,
                       g_object_ref (self));
}

void
td_sender_wake (TdSender *self)
{
  g_return_if_fail (TD_IS_SENDER (self));

  if (self->accounts == NULL)
    return;
  if (self->in_round)
    {
      self->again = TRUE;
      return;
    }
  if (!g_network_monitor_get_network_available (self->monitor))
    return;   /* "network-changed" wakes us */
  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->in_round = TRUE;
  self->again = FALSE;
  self->round_index = 0;
  round_next (self);
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    TdSender        *self)
{
  if (available)
    td_sender_wake (self);
}

void
td_sender_start (TdSender        *self,
                 GListModel      *accounts,
                 GNetworkMonitor *monitor)
{
  g_return_if_fail (TD_IS_SENDER (self));
  g_return_if_fail (G_IS_LIST_MODEL (accounts));
  g_return_if_fail (monitor == NULL || G_IS_NETWORK_MONITOR (monitor));

  td_sender_stop (self);
  self->accounts = g_object_ref (accounts);
  self->monitor = g_object_ref (monitor != NULL ? monitor : g_network_monitor_get_default ());
  self->cancellable = g_cancellable_new ();
  g_signal_connect (self->monitor, "network-changed", G_CALLBACK (network_changed_cb), self);
  td_sender_wake (self);
}

void
td_sender_stop (TdSender *self)
{
  g_return_if_fail (TD_IS_SENDER (self));

  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  g_clear_object (&self->accounts);
  self->again = FALSE;
}

/* --- GObject --- */

static void
td_sender_dispose (GObject *object)
{
  TdSender *self = TD_SENDER (object);

  td_sender_stop (self);

  g_clear_object (&self->store);
  g_clear_object (&self->credentials);
  G_OBJECT_CLASS (td_sender_parent_class)->dispose (object);
}

static void
td_sender_class_init (TdSenderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GType type = G_TYPE_FROM_CLASS (klass);

  object_class->dispose = td_sender_dispose;

  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_MESSAGE_SENT] = g_signal_new ("message-sent", type, G_SIGNAL_RUN_LAST, 0, NULL,
                                               NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64,
                                               G_TYPE_STRING);
  signals[SIGNAL_MESSAGE_FAILED] = g_signal_new ("message-failed", type, G_SIGNAL_RUN_LAST, 0,
                                                 NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_INT64,
                                                 G_TYPE_POINTER, G_TYPE_BOOLEAN);
  signals[SIGNAL_AFTER_SEND_FAILED] = g_signal_new ("after-send-failed", type,
                                                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                    G_TYPE_NONE, 2, G_TYPE_INT64,
                                                    G_TYPE_POINTER);
  signals[SIGNAL_ROUND_FINISHED] = g_signal_new ("round-finished", type, G_SIGNAL_RUN_LAST, 0,
                                                 NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
td_sender_init (TdSender *self)
{
}

TdSender *
td_sender_new (TdStore       *store,
               TdCredentials *credentials)
{
  TdSender *self;

  g_return_val_if_fail (TD_IS_STORE (store), NULL);
  g_return_val_if_fail (TD_IS_CREDENTIALS (credentials), NULL);

  self = g_object_new (TD_TYPE_SENDER, NULL);
  self->store = g_object_ref (store);
  self->credentials = g_object_ref (credentials);
  return self;
}

void
td_sender_set_now (TdSender *self,
                   gint64    now_seconds)
{
  g_return_if_fail (TD_IS_SENDER (self));
  self->now = now_seconds;
}
