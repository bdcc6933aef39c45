/* td-message-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-message-view.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>

#include "td-error.h"
#include "td-format.h"
#include "td-mime.h"
#include "td-web-view.h"

/* Links are found in at most this much of a plain text body. */
#define MAX_LINKIFY_BYTES (1024 * 1024)
#define MAX_LINKS 2000

struct _TdMessageView
{
  GtkWidget      parent_instance;

  TdStore       *store;
  TdAccountManager *manager;
  TdMessage     *message;
  TdMimeMessage *mime;
  GCancellable  *cancellable;
  guint          serial;          /* bumped on every new load; stale callbacks are ignored */
  const char    *body_state;
  gboolean       remote_blocked;
  gboolean       retry_download;  /* the download failed offline: again when online */
  GtkWidget     *web_view;        /* TdWebView in web_box, or NULL */
  GtkTextTag    *link_tag;
  GtkNativeDialog *file_chooser;

  GtkStack      *stack;
  GtkLabel      *subject_label;
  GtkLabel      *from_label;
  GtkWidget     *to_title;
  GtkLabel      *to_label;
  GtkWidget     *cc_title;
  GtkLabel      *cc_label;
  GtkLabel      *date_label;
  GtkRevealer   *remote_revealer;
  GtkStack      *body_stack;
  GtkSpinner    *spinner;
  GtkSpinner    *download_spinner;
  AdwStatusPage *missing_page;
  AdwStatusPage *error_page;
  GtkTextView   *text_view;
  GtkBox        *web_box;
  GtkRevealer   *attachments_revealer;
  GtkLabel      *attachments_title;
  GtkListBox    *attachment_list;
};

G_DEFINE_FINAL_TYPE (TdMessageView, td_message_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_MESSAGE,
  PROP_BODY_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  TdMessageView *self;
  guint          serial;
} LoadData;

static LoadData *
load_data_new (TdMessageView *self)
{
  LoadData *data = g_new0 (LoadData, 1);

  data->self = g_object_ref (self);
  data->serial = self->serial;
  return data;
}

static void
load_data_free (LoadData *data)
{
  g_object_unref (data->self);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

static void
set_body_state (TdMessageView *self,
                const char    *state)
{
  if (g_strcmp0 (state, "none") != 0)
    gtk_stack_set_visible_child_name (self->body_stack, state);
  gtk_spinner_set_spinning (self->spinner, g_strcmp0 (state, "loading") == 0);
  gtk_spinner_set_spinning (self->download_spinner, g_strcmp0 (state, "downloading") == 0);

  if (g_strcmp0 (self->body_state, state) == 0)
    return;
  self->body_state = g_intern_string (state);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BODY_STATE]);
}

static void
set_remote_blocked (TdMessageView *self,
                    gboolean       blocked)
{
  self->remote_blocked = blocked;
  gtk_revealer_set_reveal_child (self->remote_revealer, blocked);
  gtk_widget_set_visible (GTK_WIDGET (self->remote_revealer), blocked);
}

static void
clear_attachments (TdMessageView *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->attachment_list))) != NULL)
    gtk_list_box_remove (self->attachment_list, child);
  gtk_revealer_set_reveal_child (self->attachments_revealer, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->attachments_revealer), FALSE);
}

static void
drop_web_view (TdMessageView *self)
{
  if (self->web_view != NULL)
    {
      webkit_web_view_stop_loading (WEBKIT_WEB_VIEW (self->web_view));
      gtk_box_remove (self->web_box, self->web_view);
      self->web_view = NULL;
    }
}

static TdWebView *
ensure_web_view (TdMessageView *self,
                 gboolean       allow_remote)
{
  if (self->web_view != NULL &&
      td_web_view_get_allow_remote (TD_WEB_VIEW (self->web_view)) == allow_remote)
    return TD_WEB_VIEW (self->web_view);

  /* The policy is fixed when a view is made: a view that may load remote images is never
   * reused for another message. */
  drop_web_view (self);
  self->web_view = td_web_view_new (allow_remote);
  gtk_box_append (self->web_box, self->web_view);
  return TD_WEB_VIEW (self->web_view);
}

static void
update_headers (TdMessageView *self)
{
  TdMessage *message = self->message;
  g_autofree char *from = NULL;
  g_autofree char *date = NULL;
  const char *subject = td_message_get_subject (message);
  const char *to = td_message_get_to (message);
  const char *cc = td_message_get_cc (message);

  from = td_format_address (td_message_get_from (message), td_message_get_from_address (message));
  date = td_format_full_date (td_message_get_date (message));

  gtk_label_set_text (self->subject_label,
                      subject != NULL && *subject != '\0' ? subject : _("(No Subject)"));
  gtk_label_set_text (self->from_label, *from != '\0' ? from : _("Unknown Sender"));
  gtk_label_set_text (self->to_label, to != NULL ? to : "");
  gtk_widget_set_visible (self->to_title, to != NULL && *to != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->to_label), to != NULL && *to != '\0');
  gtk_label_set_text (self->cc_label, cc != NULL ? cc : "");
  gtk_widget_set_visible (self->cc_title, cc != NULL && *cc != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->cc_label), cc != NULL && *cc != '\0');
  gtk_label_set_text (self->date_label, date);
}

/* --- Plain text with clickable links --- */

static void
linkify (TdMessageView *self,
         GtkTextBuffer *buffer,
         const char    *text)
{
  static GRegex *regex;
  g_autoptr(GMatchInfo) match = NULL;
  gsize len = strlen (text);
  guint count = 0;

  if (regex == NULL)
    regex = g_regex_new ("(?:https?://|mailto:)[^\\s<>\"]*[^\\s<>\".,;:!?)\\]'}]",
                         G_REGEX_OPTIMIZE | G_REGEX_CASELESS, 0, NULL);

  g_regex_match_full (regex, text, MIN (len, MAX_LINKIFY_BYTES), 0, 0, &match, NULL);
  while (g_match_info_matches (match) && count++ < MAX_LINKS)
    {
      int start = 0;
      int end = 0;
      GtkTextIter start_iter;
      GtkTextIter end_iter;

      g_match_info_fetch_pos (match, 0, &start, &end);
      gtk_text_buffer_get_iter_at_offset (buffer, &start_iter,
                                          (int) g_utf8_pointer_to_offset (text, text + start));
      gtk_text_buffer_get_iter_at_offset (buffer, &end_iter,
                                          (int) g_utf8_pointer_to_offset (text, text + end));
      gtk_text_buffer_apply_tag (buffer, self->link_tag, &start_iter, &end_iter);
      g_match_info_next (match, NULL);
    }
}

static char *
link_at (TdMessageView *self,
         double         x,
         double         y)
{
  GtkTextIter iter;
  GtkTextIter start;
  GtkTextIter end;
  int bx = 0;
  int by = 0;

  gtk_text_view_window_to_buffer_coords (self->text_view, GTK_TEXT_WINDOW_WIDGET,
                                         (int) x, (int) y, &bx, &by);
  if (!gtk_text_view_get_iter_at_location (self->text_view, &iter, bx, by) ||
      !gtk_text_iter_has_tag (&iter, self->link_tag))
    return NULL;

  start = end = iter;
  if (!gtk_text_iter_starts_tag (&start, self->link_tag))
    gtk_text_iter_backward_to_tag_toggle (&start, self->link_tag);
  gtk_text_iter_forward_to_tag_toggle (&end, self->link_tag);
  return gtk_text_iter_get_text (&start, &end);
}

static void
text_click_released_cb (GtkGestureClick *gesture,
                        int              n_press,
                        double           x,
                        double           y,
                        TdMessageView   *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  g_autofree char *uri = NULL;
  GtkRoot *root;

  if (gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture)) != GDK_BUTTON_PRIMARY ||
      gtk_text_buffer_get_has_selection (buffer))
    return;

  uri = link_at (self, x, y);
  if (uri == NULL)
    return;

  root = gtk_widget_get_root (GTK_WIDGET (self));
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

static void
text_motion_cb (GtkEventControllerMotion *motion,
                double                    x,
                double                    y,
                TdMessageView            *self)
{
  g_autofree char *uri = link_at (self, x, y);

  gtk_widget_set_cursor_from_name (GTK_WIDGET (self->text_view), uri != NULL ? "pointer" : "text");
}

/* --- Attachments --- */

static char *
safe_file_name (const char *name)
{
  g_autofree char *base = NULL;

  if (name == NULL || *name == '\0')
    return g_strdup (_("attachment"));

  /* Never let a name from a mail choose the directory. */
  base = g_path_get_basename (name);
  g_strdelimit (base, "/\\", '_');
  if (*base == '\0' || *base == '.' || g_strcmp0 (base, G_DIR_SEPARATOR_S) == 0)
    {
      g_autofree char *stripped = g_strdup (base);

      g_strdelimit (stripped, ".", '_');
      return *stripped != '\0' ? g_steal_pointer (&stripped) : g_strdup (_("attachment"));
    }
  return g_steal_pointer (&base);
}

static gboolean
attachment_is_listed (TdMimeMessage      *mime,
                      const TdAttachment *attachment)
{
  /* Inline parts with a Content-ID are the HTML's own images. */
  return !(attachment->inline_part && attachment->content_id != NULL &&
           td_mime_message_get_html (mime) != NULL);
}

static GtkWidget *
attachment_row_new (const TdAttachment *attachment)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon;
  GtkWidget *button;
  g_autofree char *content_type = g_content_type_from_mime_type (attachment->content_type != NULL
                                                                 ? attachment->content_type
                                                                 : "application/octet-stream");
  g_autoptr(GIcon) gicon = NULL;
  g_autofree char *description = NULL;
  g_autofree char *size = g_format_size (attachment->size);
  g_autofree char *subtitle = NULL;
  g_autofree char *tooltip = NULL;

  if (content_type == NULL)
    content_type = g_strdup ("application/octet-stream");
  gicon = g_content_type_get_symbolic_icon (content_type);
  description = g_content_type_get_description (content_type);
  /* Translators: attachment details: "PNG image · 12.3 kB" */
  subtitle = g_strdup_printf (_("%s · %s"), description, size);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), attachment->filename);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  icon = gtk_image_new_from_gicon (gicon);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

  button = gtk_button_new_from_icon_name ("document-save-symbolic");
  /* Translators: tooltip of the Save button of an attachment */
  tooltip = g_strdup_printf (_("Save “%s”…"), attachment->filename);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "message.save-attachment");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button),
                                          g_variant_new_uint32 (attachment->index));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
  return row;
}

static void
fill_attachments (TdMessageView *self)
{
  GPtrArray *attachments = td_mime_message_get_attachments (self->mime);
  guint listed = 0;
  g_autofree char *title = NULL;

  clear_attachments (self);
  for (guint i = 0; attachments != NULL && i < attachments->len; i++)
    {
      const TdAttachment *attachment = g_ptr_array_index (attachments, i);

      if (!attachment_is_listed (self->mime, attachment))
        continue;
      gtk_list_box_append (self->attachment_list, attachment_row_new (attachment));
      listed++;
    }

  if (listed == 0)
    return;

  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u Attachment", "%u Attachments",
                                        listed), listed);
  gtk_label_set_text (self->attachments_title, title);
  gtk_widget_set_visible (GTK_WIDGET (self->attachments_revealer), TRUE);
  gtk_revealer_set_reveal_child (self->attachments_revealer, TRUE);
}

static const TdAttachment *
find_attachment (TdMimeMessage *mime,
                 guint          index)
{
  GPtrArray *attachments = td_mime_message_get_attachments (mime);

  for (guint i = 0; attachments != NULL && i < attachments->len; i++)
    {
      const TdAttachment *attachment = g_ptr_array_index (attachments, i);

      if (attachment->index == index)
        return attachment;
    }
  return NULL;
}

static void
add_toast (TdMessageView *self,
           const char    *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (escaped));
  else
    g_message ("%s", text);
}

static void
replace_contents_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
td_message_view_save_attachment_async (TdMessageView       *self,
                                       guint                index,
                                       GFile               *file,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) data = NULL;

  g_return_if_fail (TD_IS_MESSAGE_VIEW (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, td_message_view_save_attachment_async);

  if (self->mime == NULL || find_attachment (self->mime, index) == NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_NOT_FOUND,
                               _("The message has no such attachment"));
      return;
    }

  data = td_mime_message_get_attachment_data (self->mime, index);
  if (data == NULL)
    {
      g_task_return_new_error (task, TD_ERROR, TD_ERROR_NOT_FOUND,
                               _("The attachment could not be decoded"));
      return;
    }

  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_file_replace_contents_bytes_async (file, data, NULL, FALSE,
                                       G_FILE_CREATE_REPLACE_DESTINATION, cancellable,
                                       replace_contents_cb, g_steal_pointer (&task));
}

gboolean
td_message_view_save_attachment_finish (TdMessageView  *self,
                                        GAsyncResult   *result,
                                        GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
save_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  TdMessageView *self = TD_MESSAGE_VIEW (source);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!td_message_view_save_attachment_finish (self, result, &error))
    /* Translators: a toast, the argument is an error message */
    text = g_strdup_printf (_("Could not save the attachment: %s"), error->message);
  else
    text = g_strdup (_("Attachment saved"));
  add_toast (self, text);
}

static void
file_chooser_response_cb (GtkNativeDialog *dialog,
                          int              response,
                          TdMessageView   *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "td-index"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        td_message_view_save_attachment_async (self, index, file, NULL, save_done_cb, NULL);
    }

  gtk_native_dialog_destroy (dialog);
  if (self->file_chooser == dialog)
    g_clear_object (&self->file_chooser);
}

static void
save_attachment_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  TdMessageView *self = TD_MESSAGE_VIEW (widget);
  guint index = g_variant_get_uint32 (parameter);
  const TdAttachment *attachment;
  GtkFileChooserNative *native;
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *name = NULL;
  const char *downloads;

  if (self->mime == NULL || (attachment = find_attachment (self->mime, index)) == NULL)
    return;

  if (self->file_chooser != NULL)
    {
      gtk_native_dialog_destroy (self->file_chooser);
      g_clear_object (&self->file_chooser);
    }

  native = gtk_file_chooser_native_new (_("Save Attachment"),
                                        GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        GTK_FILE_CHOOSER_ACTION_SAVE,
                                        _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  name = safe_file_name (attachment->filename);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), name);
  downloads = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  if (downloads != NULL)
    {
      g_autoptr(GFile) folder = g_file_new_for_path (downloads);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), folder, NULL);
    }
  g_object_set_data (G_OBJECT (native), "td-index", GUINT_TO_POINTER (index));
  g_signal_connect_object (native, "response", G_CALLBACK (file_chooser_response_cb), self, 0);
  self->file_chooser = GTK_NATIVE_DIALOG (native);
  gtk_native_dialog_show (self->file_chooser);
}

/* --- Loading the body --- */

static void
show_mime (TdMessageView *self)
{
  const char *html = td_mime_message_get_html (self->mime);

  if (html != NULL && *html != '\0')
    {
      TdWebView *view = ensure_web_view (self, FALSE);

      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), "", 0);
      td_web_view_load_message (view, self->mime);
      set_remote_blocked (self, td_mime_html_has_remote_content (html));
      set_body_state (self, "html");
    }
  else
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
      const char *text = td_mime_message_get_text (self->mime);

      drop_web_view (self);
      gtk_text_buffer_set_text (buffer, text != NULL ? text : "", -1);
      if (text != NULL)
        linkify (self, buffer, text);
      set_remote_blocked (self, FALSE);
      set_body_state (self, "text");
    }

  fill_attachments (self);
}

static void
show_missing (TdMessageView *self,
              const char    *text)
{
  adw_status_page_set_description (self->missing_page, text);
  set_body_state (self, "missing");
}

static void
show_error (TdMessageView *self,
            const GError  *error)
{
  adw_status_page_set_description (self->error_page, error->message);
  set_body_state (self, "error");
}

/* Parsing is CPU work proportional to the message: measured here, a 20 MB message with a
 * 15 MB attachment takes ~40 ms to parse and ~40 ms more to list its parts and text (several
 * frames), so both run in a worker thread. TdMimeMessage computes its text, HTML and parts
 * once, on first use: they are computed here, and the main thread only reads them after
 * the task returned (which is the hand-over). */
static void
parse_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GBytes *raw = task_data;
  GError *error = NULL;
  TdMimeMessage *mime = td_mime_message_new (raw, &error);

  if (mime == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  td_mime_message_get_html (mime);
  td_mime_message_get_text (mime);
  td_mime_message_get_attachments (mime);
  g_task_return_pointer (task, mime, g_object_unref);
}

static void
parse_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  TdMessageView *self = data->self;
  g_autoptr(GError) error = NULL;
  TdMimeMessage *mime;

  mime = g_task_propagate_pointer (G_TASK (result), &error);
  if (data->serial != self->serial || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_object (&mime);
      return;
    }

  if (mime == NULL)
    {
      show_error (self, error);
      return;
    }

  g_clear_object (&self->mime);
  self->mime = mime;
  show_mime (self);
}

static void
body_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  TdMessageView *self = data->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GTask) task = NULL;

  raw = td_store_get_body_finish (TD_STORE (source), result, &error);
  if (data->serial != self->serial || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (raw == NULL)
    {
      if (g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
        show_missing (self, _("This message has not been downloaded yet."));
      else
        show_error (self, error);
      return;
    }

  task = g_task_new (NULL, self->cancellable, parse_done_cb, g_steal_pointer (&data));
  g_task_set_source_tag (task, body_cb);
  g_task_set_task_data (task, g_bytes_ref (raw), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (task, parse_thread);
}

/* --- Downloading a body that is not in the store --- */

static void start_download (TdMessageView *self);

static void
fetch_body_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  TdMessageView *self = data->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(TdMessage) fresh = NULL;

  if (!td_account_manager_fetch_body_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    {
      if (data->serial != self->serial ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      if (g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND) ||
          g_error_matches (error, TD_ERROR, TD_ERROR_PARSE))
        {
          show_error (self, error);
          return;
        }
      g_debug ("Could not download message %" G_GINT64_FORMAT ": %s",
               td_message_get_id (self->message), error->message);
      self->retry_download = TRUE;
      show_missing (self, _("This message has not been downloaded yet. It will be downloaded "
                            "when Tidings is online."));
      return;
    }
  if (data->serial != self->serial || self->store == NULL)
    return;

  /* The snapshot with the body: a newer one from the list then changes nothing. */
  fresh = td_store_get_message (self->store, td_message_get_id (self->message), NULL);
  if (fresh == NULL || !td_message_get_has_body (fresh))
    {
      show_missing (self, _("This message has not been downloaded yet."));
      return;
    }
  g_set_object (&self->message, fresh);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
  set_body_state (self, "loading");
  td_store_get_body_async (self->store, td_message_get_id (self->message), self->cancellable,
                           body_cb, g_steal_pointer (&data));
}

static void
start_download (TdMessageView *self)
{
  self->retry_download = FALSE;
  set_body_state (self, "downloading");
  td_account_manager_fetch_body_async (self->manager, td_message_get_id (self->message),
                                       self->cancellable, fetch_body_cb, load_data_new (self));
}

/* Back online (or a sync worked): try again what could not be downloaded. */
static void
retry_download (TdMessageView *self)
{
  if (!self->retry_download || self->message == NULL || self->manager == NULL ||
      td_message_get_has_body (self->message) ||
      g_strcmp0 (self->body_state, "missing") != 0)
    return;
  start_download (self);
}

static void
online_changed_cb (TdMessageView    *self,
                   TdAccount        *account,
                   gboolean          online,
                   TdAccountManager *manager)
{
  if (online)
    retry_download (self);
}

static void
sync_finished_cb (TdMessageView    *self,
                  TdAccount        *account,
                  const GError     *error,
                  TdAccountManager *manager)
{
  if (error == NULL)
    retry_download (self);
}

static void
load_body (TdMessageView *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->mime);
  self->serial++;

  clear_attachments (self);
  set_remote_blocked (self, FALSE);

  if (self->message == NULL)
    {
      drop_web_view (self);
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), "", 0);
      set_body_state (self, "none");
      return;
    }

  self->retry_download = FALSE;
  if (self->store == NULL)
    {
      show_missing (self, _("This message has not been downloaded yet."));
      return;
    }

  self->cancellable = g_cancellable_new ();
  if (!td_message_get_has_body (self->message))
    {
      if (self->manager != NULL)
        start_download (self);
      else
        show_missing (self, _("This message has not been downloaded yet."));
      return;
    }

  set_body_state (self, "loading");
  td_store_get_body_async (self->store, td_message_get_id (self->message), self->cancellable,
                           body_cb, load_data_new (self));
}

void
td_message_view_show_remote_content (TdMessageView *self)
{
  const char *html;

  g_return_if_fail (TD_IS_MESSAGE_VIEW (self));

  if (self->mime == NULL || !self->remote_blocked)
    return;
  html = td_mime_message_get_html (self->mime);
  if (html == NULL || *html == '\0')
    return;

  td_web_view_load_message (ensure_web_view (self, TRUE), self->mime);
  set_remote_blocked (self, FALSE);
}

static void
show_remote_content_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  td_message_view_show_remote_content (TD_MESSAGE_VIEW (widget));
}

/* --- GObject --- */

static void
td_message_view_dispose (GObject *object)
{
  TdMessageView *self = TD_MESSAGE_VIEW (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->file_chooser != NULL)
    {
      gtk_native_dialog_destroy (self->file_chooser);
      g_clear_object (&self->file_chooser);
    }
  self->web_view = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), TD_TYPE_MESSAGE_VIEW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->message);
  g_clear_object (&self->mime);
  g_clear_object (&self->store);
  if (self->manager != NULL)
    g_signal_handlers_disconnect_by_data (self->manager, self);
  g_clear_object (&self->manager);

  G_OBJECT_CLASS (td_message_view_parent_class)->dispose (object);
}

static void
td_message_view_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TdMessageView *self = TD_MESSAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_MESSAGE:
      g_value_set_object (value, self->message);
      break;
    case PROP_BODY_STATE:
      g_value_set_string (value, self->body_state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_message_view_class_init (TdMessageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = td_message_view_dispose;
  object_class->get_property = td_message_view_get_property;

  properties[PROP_MESSAGE] =
    g_param_spec_object ("message", NULL, NULL, TD_TYPE_MESSAGE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BODY_STATE] =
    g_param_spec_string ("body-state", NULL, NULL, "none",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tidings/Tidings/td-message-view.ui");
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, stack);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, subject_label);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, from_label);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, to_title);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, to_label);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, cc_title);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, cc_label);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, date_label);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, remote_revealer);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, body_stack);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, spinner);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, download_spinner);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, missing_page);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, error_page);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, text_view);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, web_box);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, attachments_revealer);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, attachments_title);
  gtk_widget_class_bind_template_child (widget_class, TdMessageView, attachment_list);

  gtk_widget_class_install_action (widget_class, "message.show-remote-content", NULL,
                                   show_remote_content_action);
  gtk_widget_class_install_action (widget_class, "message.save-attachment", "u",
                                   save_attachment_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
td_message_view_init (TdMessageView *self)
{
  GtkGesture *click;
  GtkEventController *motion;

  self->body_state = g_intern_static_string ("none");
  gtk_widget_init_template (GTK_WIDGET (self));

  self->link_tag = gtk_text_buffer_create_tag (gtk_text_view_get_buffer (self->text_view), "link",
                                               "underline", PANGO_UNDERLINE_SINGLE, NULL);

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "released", G_CALLBACK (text_click_released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), GTK_EVENT_CONTROLLER (click));

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (text_motion_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), motion);

  set_remote_blocked (self, FALSE);
  clear_attachments (self);
}

GtkWidget *
td_message_view_new (void)
{
  return g_object_new (TD_TYPE_MESSAGE_VIEW, NULL);
}

void
td_message_view_set_store (TdMessageView *self,
                           TdStore       *store)
{
  g_return_if_fail (TD_IS_MESSAGE_VIEW (self));
  g_return_if_fail (store == NULL || TD_IS_STORE (store));

  if (g_set_object (&self->store, store))
    td_message_view_set_message (self, NULL);
}

void
td_message_view_set_manager (TdMessageView    *self,
                             TdAccountManager *manager)
{
  g_return_if_fail (TD_IS_MESSAGE_VIEW (self));
  g_return_if_fail (manager == NULL || TD_IS_ACCOUNT_MANAGER (manager));

  if (self->manager == manager)
    return;
  if (self->manager != NULL)
    g_signal_handlers_disconnect_by_data (self->manager, self);
  g_set_object (&self->manager, manager);
  if (manager != NULL)
    {
      g_signal_connect_object (manager, "online-changed", G_CALLBACK (online_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (manager, "sync-finished", G_CALLBACK (sync_finished_cb), self,
                               G_CONNECT_SWAPPED);
    }
  td_message_view_set_store (self, manager != NULL ? td_account_manager_get_store (manager)
                                                   : NULL);
}

void
td_message_view_set_message (TdMessageView *self,
                             TdMessage     *message)
{
  gboolean same;
  gboolean body_arrived;

  g_return_if_fail (TD_IS_MESSAGE_VIEW (self));
  g_return_if_fail (message == NULL || TD_IS_MESSAGE (message));

  if (message == self->message)
    return;

  same = message != NULL && self->message != NULL &&
         td_message_get_id (message) == td_message_get_id (self->message);
  body_arrived = same && td_message_get_has_body (message) &&
                 !td_message_get_has_body (self->message);

  g_set_object (&self->message, message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);

  if (message == NULL)
    {
      load_body (self);
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  update_headers (self);
  gtk_stack_set_visible_child_name (self->stack, "message");

  /* A newer snapshot of the same message (flags changed): keep the body as it is. */
  if (same && !body_arrived)
    return;

  load_body (self);
}

TdMessage *
td_message_view_get_message (TdMessageView *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_VIEW (self), NULL);
  return self->message;
}

const char *
td_message_view_get_body_state (TdMessageView *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_VIEW (self), NULL);
  return self->body_state;
}

gboolean
td_message_view_get_remote_blocked (TdMessageView *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_VIEW (self), FALSE);
  return self->remote_blocked;
}

GtkTextView *
td_message_view_get_text_view (TdMessageView *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_VIEW (self), NULL);
  return self->text_view;
}

WebKitWebView *
td_message_view_get_web_view (TdMessageView *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_VIEW (self), NULL);
  return self->web_view != NULL ? WEBKIT_WEB_VIEW (self->web_view) : NULL;
}

GtkWidget *
td_message_view_get_remote_banner (TdMessageView *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_VIEW (self), NULL);
  return GTK_WIDGET (self->remote_revealer);
}

GtkListBox *
td_message_view_get_attachment_list (TdMessageView *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_VIEW (self), NULL);
  return self->attachment_list;
}

const char *
td_message_view_get_subject_text (TdMessageView *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_VIEW (self), NULL);
  return gtk_label_get_text (self->subject_label);
}

const char *
td_message_view_get_missing_text (TdMessageView *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_VIEW (self), NULL);
  return adw_status_page_get_description (self->missing_page);
}
