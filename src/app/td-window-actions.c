/* td-window-actions.c: what a user does to the selected message
 *
 * win.mark-read, win.mark-unread, win.toggle-read, win.flag, win.unflag, win.toggle-flag,
 * win.mark-junk, win.mark-not-junk, win.move-to(x), win.copy-to(x), win.delete, win.archive,
 * win.show-move-menu and win.undo. Each action is applied to the store and journaled by the
 * engine (so it shows at once and works offline), then the journal is sent to the server.
 * A move (Delete and Archive are moves to Trash and Archive) can be undone from its toast by
 * moving the message back, as long as the toast is up.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-window-private.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

typedef enum
{
  ACTION_FLAGS,
  ACTION_MOVE,
  ACTION_COPY,
  ACTION_DELETE,
  ACTION_ARCHIVE,
} ActionKind;

typedef struct
{
  TdWindow   *self;
  ActionKind  kind;
  GArray     *ids;              /* gint64 message ids */
  gint64      source_id;        /* the folder they were in */
  gint64      target_id;        /* move and copy */
  TdAccount  *account;
} ActionData;

static void
action_data_free (ActionData *data)
{
  g_clear_object (&data->self);
  g_clear_pointer (&data->ids, g_array_unref);
  g_clear_object (&data->account);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ActionData, action_data_free)

static TdMessage *
selected_message (TdWindow *self)
{
  return gtk_single_selection_get_selected_item (self->selection);
}

/* The action's data for the selected message, or NULL when there is nothing to act on. */
static ActionData *
action_data_new (TdWindow   *self,
                 ActionKind  kind)
{
  TdMessage *message = selected_message (self);
  ActionData *data;
  gint64 id;

  if (message == NULL || self->manager == NULL || self->folder == NULL)
    return NULL;

  data = g_new0 (ActionData, 1);
  data->self = g_object_ref (self);
  data->kind = kind;
  data->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  id = td_message_get_id (message);
  g_array_append_val (data->ids, id);
  data->source_id = td_message_get_folder_id (message);
  data->account = _td_window_find_account (self, td_folder_get_account_id (self->folder));
  if (data->account != NULL)
    g_object_ref (data->account);
  return data;
}

/* "Projects › Tidings": a folder as menus and toasts name it. */
static char *
folder_display_path (TdFolder *folder)
{
  g_auto(GStrv) parts = NULL;
  char delimiter[2] = { td_folder_get_delimiter (folder), '\0' };

  if (td_folder_get_depth (folder) == 0 || delimiter[0] == '\0')
    return g_strdup (td_folder_get_name (folder));

  parts = g_strsplit (td_folder_get_path (folder), delimiter, -1);
  if (g_ascii_strcasecmp (parts[0], "INBOX") == 0)
    {
      g_free (parts[0]);
      parts[0] = g_strdup (_("Inbox"));
    }
  return g_strjoinv (" › ", parts);
}

static char *
folder_display_path_by_id (TdWindow *self,
                           gint64    folder_id)
{
  g_autoptr(TdFolder) folder = td_store_get_folder (self->store, folder_id, NULL);

  return folder != NULL ? folder_display_path (folder) : g_strdup ("");
}

/* --- Undo --- */

static void
clear_undo (TdWindow *self)
{
  g_clear_pointer (&self->undo_ids, g_array_unref);
  self->undo_folder_id = 0;
  g_clear_weak_pointer (&self->undo_toast);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", FALSE);
}

static void
undo_toast_dismissed_cb (AdwToast *toast,
                         TdWindow *self)
{
  if (self->undo_toast == toast)
    clear_undo (self);
}

static void
show_action_toast (TdWindow   *self,
                   const char *text,
                   GArray     *undo_ids,
                   gint64      undo_folder_id)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);
  AdwToast *toast = adw_toast_new (escaped);

  /* One action's toast at a time: queued behind the last one, it would come late, and that
   * one's Undo would undo this. */
  _td_window_dismiss_toast (self->undo_toast);
  _td_window_dismiss_toast (self->action_toast);
  clear_undo (self);
  g_set_weak_pointer (&self->action_toast, toast);
  if (undo_ids != NULL && undo_ids->len > 0)
    {
      self->undo_ids = g_array_ref (undo_ids);
      self->undo_folder_id = undo_folder_id;
      g_set_weak_pointer (&self->undo_toast, toast);
      /* Longer than the default: time to see what happened and change one's mind. */
      adw_toast_set_timeout (toast, 10);
      adw_toast_set_button_label (toast, _("_Undo"));
      adw_toast_set_action_name (toast, "win.undo");
      g_signal_connect_object (toast, "dismissed", G_CALLBACK (undo_toast_dismissed_cb), self,
                               0);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", TRUE);
    }
  _td_window_add_toast (self, toast, text);
}

/* The journal says where the moved messages are now (their placeholder rows): Undo moves
 * those back. Without them (expunged for good) there is nothing to undo. */
static void
journal_listed_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(ActionData) data = user_data;
  TdWindow *self = data->self;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GArray) moved = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GError) error = NULL;
  g_autofree char *target_name = g_strdup ("");
  g_autofree char *text = NULL;
  gint64 target_folder = data->target_id;
  guint n = data->ids->len;

  entries = td_store_list_journal_finish (TD_STORE (source), result, &error);
  if (entries == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      TdJournalEntry *entry = g_ptr_array_index (entries, i);

      if (entry->kind != TD_JOURNAL_MOVE || entry->target_message_id == 0)
        continue;
      for (guint j = 0; j < data->ids->len; j++)
        if (g_array_index (data->ids, gint64, j) == entry->message_id)
          {
            g_array_append_val (moved, entry->target_message_id);
            if (target_folder == 0)
              {
                g_autoptr(TdMessage) placeholder =
                  td_store_get_message (self->store, entry->target_message_id, NULL);

                if (placeholder != NULL)
                  target_folder = td_message_get_folder_id (placeholder);
              }
          }
    }

  if (data->kind == ACTION_DELETE && moved->len == 0)
    {
      if (n == 1)
        text = g_strdup (_("Message deleted"));
      else
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u message deleted",
                                             "%u messages deleted", n), n);
      show_action_toast (self, text, NULL, 0);
      return;
    }

  if (target_folder != 0)
    {
      g_free (target_name);
      target_name = folder_display_path_by_id (self, target_folder);
    }
  if (data->kind == ACTION_COPY && n == 1)
    /* Translators: the argument is a folder */
    text = g_strdup_printf (_("Message copied to %s"), target_name);
  else if (data->kind == ACTION_COPY)
    /* Translators: the arguments are a number of messages and a folder */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u message copied to %s",
                                         "%u messages copied to %s", n), n, target_name);
  else if (n == 1)
    /* Translators: the argument is a folder, e.g. "Message moved to Trash" */
    text = g_strdup_printf (_("Message moved to %s"), target_name);
  else
    /* Translators: the arguments are a number of messages and a folder */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u message moved to %s",
                                         "%u messages moved to %s", n), n, target_name);
  show_action_toast (self, text, data->kind == ACTION_COPY ? NULL : moved, data->source_id);
}

/* --- Running an action --- */

static void
action_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(ActionData) data = user_data;
  TdWindow *self = data->self;
  g_autoptr(GError) error = NULL;

  if (!td_account_manager_action_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _td_window_show_toast (self, error->message);
      return;
    }

  if (data->kind != ACTION_FLAGS && data->account != NULL && self->store != NULL)
    {
      ActionData *later = g_steal_pointer (&data);

      /* Queued on the store thread before the send below can take the journal. */
      td_store_list_journal_async (self->store, td_account_get_id (later->account),
                                   self->cancellable, journal_listed_cb, later);
      _td_window_send_changes (self, later->account);
      return;
    }
  _td_window_send_changes (self, data->account);
}

static void
run_flags (TdWindow   *self,
           TdFlags     add,
           TdFlags     remove,
           const char *keyword_add,
           const char *keyword_remove)
{
  ActionData *data = action_data_new (self, ACTION_FLAGS);

  if (data == NULL)
    return;
  td_account_manager_flag_messages_async (self->manager, data->ids, add, remove, keyword_add,
                                          keyword_remove, self->cancellable, action_done_cb,
                                          data);
}

static void
run_move (TdWindow   *self,
          ActionKind  kind,
          gint64      target_id)
{
  ActionData *data = action_data_new (self, kind);

  if (data == NULL)
    return;
  data->target_id = target_id;
  switch (kind)
    {
    case ACTION_MOVE:
    case ACTION_COPY:
      td_account_manager_move_messages_async (self->manager, data->ids, target_id,
                                              kind == ACTION_COPY, self->cancellable,
                                              action_done_cb, data);
      break;
    case ACTION_DELETE:
      td_account_manager_delete_messages_async (self->manager, data->ids, self->cancellable,
                                                action_done_cb, data);
      break;
    case ACTION_ARCHIVE:
      td_account_manager_archive_messages_async (self->manager, data->ids, self->cancellable,
                                                 action_done_cb, data);
      break;
    case ACTION_FLAGS:
    default:
      g_assert_not_reached ();
    }
}

void
_td_window_message_opened (TdWindow  *self,
                           TdMessage *message)
{
  if ((td_message_get_flags (message) & TD_FLAG_SEEN) != 0)
    return;
  if (self->settings != NULL && !g_settings_get_boolean (self->settings, "mark-read-on-open"))
    return;
  run_flags (self, TD_FLAG_SEEN, 0, NULL, NULL);
}

/* --- Actions --- */

static TdFlags
selected_flags (TdWindow *self)
{
  TdMessage *message = selected_message (self);

  return message != NULL ? td_message_get_flags (message) : 0;
}

static void
mark_read_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  run_flags (TD_WINDOW (widget), TD_FLAG_SEEN, 0, NULL, NULL);
}

static void
mark_unread_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  run_flags (TD_WINDOW (widget), 0, TD_FLAG_SEEN, NULL, NULL);
}

static void
toggle_read_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);

  if ((selected_flags (self) & TD_FLAG_SEEN) != 0)
    run_flags (self, 0, TD_FLAG_SEEN, NULL, NULL);
  else
    run_flags (self, TD_FLAG_SEEN, 0, NULL, NULL);
}

static void
flag_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  run_flags (TD_WINDOW (widget), TD_FLAG_FLAGGED, 0, NULL, NULL);
}

static void
unflag_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  run_flags (TD_WINDOW (widget), 0, TD_FLAG_FLAGGED, NULL, NULL);
}

static void
toggle_flag_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);

  if ((selected_flags (self) & TD_FLAG_FLAGGED) != 0)
    run_flags (self, 0, TD_FLAG_FLAGGED, NULL, NULL);
  else
    run_flags (self, TD_FLAG_FLAGGED, 0, NULL, NULL);
}

/* $Junk and $NotJunk (RFC 5788) say what the user thinks; the server's filter learns. */
static void
mark_junk_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  run_flags (TD_WINDOW (widget), TD_FLAG_JUNK, 0, NULL, "$NotJunk");
}

static void
mark_not_junk_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  run_flags (TD_WINDOW (widget), 0, TD_FLAG_JUNK, "$NotJunk", NULL);
}

static void
move_to_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  run_move (TD_WINDOW (widget), ACTION_MOVE, g_variant_get_int64 (parameter));
}

static void
copy_to_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  run_move (TD_WINDOW (widget), ACTION_COPY, g_variant_get_int64 (parameter));
}

static void
delete_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    TdWindow         *self)
{
  if (g_strcmp0 (response, "delete") == 0)
    run_move (self, ACTION_DELETE, 0);
}

/* From Trash, or where there is no Trash, a delete is for good: ask first. */
static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);
  GtkWidget *dialog;

  if (selected_message (self) == NULL || self->folder == NULL)
    return;
  if (self->trash_id != 0 && self->trash_id != td_folder_get_id (self->folder))
    {
      run_move (self, ACTION_DELETE, 0);
      return;
    }

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Delete Message Permanently?"),
                                   _("The message will be deleted here and on the server. "
                                     "This cannot be undone."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
archive_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  run_move (TD_WINDOW (widget), ACTION_ARCHIVE, 0);
}

static void
show_move_menu_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);

  if (gtk_widget_is_sensitive (GTK_WIDGET (self->move_button)))
    gtk_menu_button_popup (self->move_button);
}

static void
undo_moved_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ActionData) data = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_account_manager_action_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _td_window_show_toast (data->self, error->message);
      return;
    }
  _td_window_send_changes (data->self, data->account);
}

static void
undo_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);
  g_autoptr(TdFolder) folder = NULL;
  ActionData *data;

  if (self->undo_ids == NULL || self->manager == NULL)
    return;
  folder = td_store_get_folder (self->store, self->undo_folder_id, NULL);
  if (folder == NULL)
    {
      clear_undo (self);
      return;
    }

  data = g_new0 (ActionData, 1);
  data->self = g_object_ref (self);
  data->kind = ACTION_MOVE;
  data->ids = g_array_ref (self->undo_ids);
  data->target_id = self->undo_folder_id;
  data->account = _td_window_find_account (self, td_folder_get_account_id (folder));
  if (data->account != NULL)
    g_object_ref (data->account);
  _td_window_dismiss_toast (self->undo_toast);
  clear_undo (self);
  td_account_manager_move_messages_async (self->manager, data->ids, data->target_id, FALSE,
                                          self->cancellable, undo_moved_cb, data);
}

/* --- Which actions apply --- */

void
_td_window_actions_update (TdWindow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  TdMessage *message = selected_message (self);
  gboolean has = message != NULL && self->manager != NULL && self->folder != NULL;
  gboolean folders = has && g_menu_model_get_n_items (G_MENU_MODEL (self->move_menu)) > 0;
  gboolean in_trash = self->folder != NULL && self->trash_id == td_folder_get_id (self->folder);
  TdFlags flags = has ? td_message_get_flags (message) : 0;
  gboolean seen = (flags & TD_FLAG_SEEN) != 0;
  gboolean flagged = (flags & TD_FLAG_FLAGGED) != 0;
  gboolean junk = (flags & TD_FLAG_JUNK) != 0;

  gtk_widget_action_set_enabled (widget, "win.mark-read", has && !seen);
  gtk_widget_action_set_enabled (widget, "win.mark-unread", has && seen);
  gtk_widget_action_set_enabled (widget, "win.toggle-read", has);
  gtk_widget_action_set_enabled (widget, "win.flag", has && !flagged);
  gtk_widget_action_set_enabled (widget, "win.unflag", has && flagged);
  gtk_widget_action_set_enabled (widget, "win.toggle-flag", has);
  gtk_widget_action_set_enabled (widget, "win.mark-junk", has && !junk);
  gtk_widget_action_set_enabled (widget, "win.mark-not-junk", has && junk);
  gtk_widget_action_set_enabled (widget, "win.move-to", folders);
  gtk_widget_action_set_enabled (widget, "win.copy-to", folders);
  gtk_widget_action_set_enabled (widget, "win.show-move-menu", folders);
  gtk_widget_action_set_enabled (widget, "win.delete", has);
  gtk_widget_action_set_enabled (widget, "win.archive",
                                 has && self->archive_id != 0 &&
                                 self->archive_id != td_folder_get_id (self->folder));
  gtk_widget_set_sensitive (GTK_WIDGET (self->move_button), folders);

  gtk_button_set_icon_name (self->read_button, seen ? "mail-unread-symbolic"
                                                    : "tidings-mail-open-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->read_button),
                               seen ? _("Mark as Unread (Ctrl+U)") : _("Mark as Read (Ctrl+I)"));
  gtk_button_set_icon_name (self->flag_button, flagged ? "starred-symbolic"
                                                       : "tidings-star-outline-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->flag_button),
                               flagged ? _("Unstar (Ctrl+D)") : _("Star (Ctrl+D)"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->delete_button),
                               in_trash || self->trash_id == 0
                               ? _("Delete Permanently (Delete)")
                               : _("Move to Trash (Delete)"));
}

/* The Move and Copy menus: every other folder of the account that can hold messages. */
void
_td_window_actions_folders_changed (TdWindow *self)
{
  g_autoptr(GPtrArray) folders = NULL;
  gint64 current = self->folder != NULL ? td_folder_get_id (self->folder) : 0;

  g_menu_remove_all (self->move_menu);
  g_menu_remove_all (self->copy_menu);
  self->archive_id = 0;
  self->trash_id = 0;

  if (self->folder != NULL && self->store != NULL)
    folders = td_store_list_folders (self->store, td_folder_get_account_id (self->folder), NULL);

  for (guint i = 0; folders != NULL && i < folders->len; i++)
    {
      TdFolder *folder = g_ptr_array_index (folders, i);
      g_autofree char *path = NULL;
      g_auto(GStrv) parts = NULL;
      g_autofree char *label = NULL;
      gint64 id = td_folder_get_id (folder);

      if (!td_folder_get_selectable (folder))
        continue;
      if (td_folder_get_role (folder) == TD_FOLDER_ROLE_ARCHIVE && self->archive_id == 0)
        self->archive_id = id;
      if (td_folder_get_role (folder) == TD_FOLDER_ROLE_TRASH && self->trash_id == 0)
        self->trash_id = id;
      if (id == current)
        continue;

      /* Menu labels take "_" as a mnemonic: a folder's own ones are doubled. */
      path = folder_display_path (folder);
      parts = g_strsplit (path, "_", -1);
      label = g_strjoinv ("__", parts);
      {
        g_autoptr(GMenuItem) move = g_menu_item_new (label, NULL);
        g_autoptr(GMenuItem) copy = g_menu_item_new (label, NULL);

        g_menu_item_set_action_and_target_value (move, "win.move-to", g_variant_new_int64 (id));
        g_menu_item_set_action_and_target_value (copy, "win.copy-to", g_variant_new_int64 (id));
        g_menu_append_item (self->move_menu, move);
        g_menu_append_item (self->copy_menu, copy);
      }
    }
}

/* --- The context menu of message rows --- */

static void
popup_row_menu (TdWindow    *self,
                GtkListItem *item,
                GtkWidget   *widget,
                double       x,
                double       y)
{
  guint position = gtk_list_item_get_position (item);
  graphene_point_t point;

  if (position == GTK_INVALID_LIST_POSITION || gtk_list_item_get_item (item) == NULL)
    return;

  /* Right click acts on the row clicked, so it becomes the selection, as in Files. */
  gtk_single_selection_set_selected (self->selection, position);
  if (!gtk_widget_compute_point (widget, self->list_pane,
                                 &GRAPHENE_POINT_INIT (x, y), &point))
    return;
  gtk_popover_set_pointing_to (GTK_POPOVER (self->row_popover),
                               &(GdkRectangle) { (int) point.x, (int) point.y, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->row_popover));
}

static void
row_click_pressed_cb (GtkGestureClick *gesture,
                      int              n_press,
                      double           x,
                      double           y,
                      GtkListItem     *item)
{
  GtkWidget *widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));
  GtkWidget *window = gtk_widget_get_ancestor (widget, TD_TYPE_WINDOW);

  if (window == NULL)
    return;
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  popup_row_menu (TD_WINDOW (window), item, widget, x, y);
}

static void
row_long_press_cb (GtkGestureLongPress *gesture,
                   double               x,
                   double               y,
                   GtkListItem         *item)
{
  GtkWidget *widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));
  GtkWidget *window = gtk_widget_get_ancestor (widget, TD_TYPE_WINDOW);

  if (window == NULL)
    return;
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  popup_row_menu (TD_WINDOW (window), item, widget, x, y);
}

void
_td_window_actions_setup_row (TdWindow    *self,
                              GtkListItem *item)
{
  GtkWidget *row = gtk_list_item_get_child (item);
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *long_press = gtk_gesture_long_press_new ();

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (row_click_pressed_cb), item);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (click));

  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (long_press), TRUE);
  g_signal_connect (long_press, "pressed", G_CALLBACK (row_long_press_cb), item);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (long_press));
}

/* --- Setup --- */

void
_td_window_actions_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.mark-read", NULL, mark_read_action);
  gtk_widget_class_install_action (widget_class, "win.mark-unread", NULL, mark_unread_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-read", NULL, toggle_read_action);
  gtk_widget_class_install_action (widget_class, "win.flag", NULL, flag_action);
  gtk_widget_class_install_action (widget_class, "win.unflag", NULL, unflag_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-flag", NULL, toggle_flag_action);
  gtk_widget_class_install_action (widget_class, "win.mark-junk", NULL, mark_junk_action);
  gtk_widget_class_install_action (widget_class, "win.mark-not-junk", NULL,
                                   mark_not_junk_action);
  gtk_widget_class_install_action (widget_class, "win.move-to", "x", move_to_action);
  gtk_widget_class_install_action (widget_class, "win.copy-to", "x", copy_to_action);
  gtk_widget_class_install_action (widget_class, "win.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "win.archive", NULL, archive_action);
  gtk_widget_class_install_action (widget_class, "win.show-move-menu", NULL,
                                   show_move_menu_action);
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, undo_action);

  /* Plain keys are bindings, not application accelerators: those would take the key from a
   * text entry that has the focus. The others are application accelerators
   * (td-application.c), so that they also work while a message has the focus. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "win.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Delete, 0, "win.delete", NULL);
}

void
_td_window_actions_init (TdWindow *self)
{
  self->move_menu = g_menu_new ();
  self->copy_menu = g_menu_new ();
  g_menu_prepend_submenu (self->message_menu_folders, _("_Copy To"),
                          G_MENU_MODEL (self->copy_menu));
  g_menu_prepend_submenu (self->message_menu_folders, _("_Move To"),
                          G_MENU_MODEL (self->move_menu));
  g_menu_append_submenu (self->more_menu_folders, _("_Copy To"), G_MENU_MODEL (self->copy_menu));
  gtk_menu_button_set_menu_model (self->move_button, G_MENU_MODEL (self->move_menu));

  self->row_popover = gtk_popover_menu_new_from_model (G_MENU_MODEL (self->message_menu));
  gtk_popover_set_has_arrow (GTK_POPOVER (self->row_popover), FALSE);
  gtk_widget_set_halign (self->row_popover, GTK_ALIGN_START);
  /* The pane, not the list view: a layout manager places the popovers of its widget. */
  gtk_widget_set_parent (self->row_popover, self->list_pane);

  clear_undo (self);
  _td_window_actions_update (self);
}

void
_td_window_actions_dispose (TdWindow *self)
{
  if (self->row_popover != NULL)
    {
      gtk_widget_unparent (self->row_popover);
      self->row_popover = NULL;
    }
  g_clear_pointer (&self->undo_ids, g_array_unref);
  g_clear_weak_pointer (&self->undo_toast);
  g_clear_weak_pointer (&self->action_toast);
  g_clear_object (&self->move_menu);
  g_clear_object (&self->copy_menu);
}
