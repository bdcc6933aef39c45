/* td-sidebar.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-sidebar.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

struct _TdSidebar
{
  GtkWidget         parent_instance;

  TdAccountManager *manager;
  TdStore          *store;
  GHashTable       *folder_rows;     /* folder id -> TdFolderRow (owned by the list box) */
  GHashTable       *account_labels;  /* account id -> GtkLabel */
  GHashTable       *account_rows;    /* account id -> GtkListBoxRow (owned by the list box) */
  GHashTable       *offline;         /* account ids said to be offline */
  GtkWidget        *menu_popover;    /* the context menu of folders and accounts */
  gint64            selected_id;     /* 0: none */
  guint             rebuild_id;
  gboolean          rebuilding;
  gboolean          selected_once;

  GtkListBox       *list_box;
};

G_DEFINE_FINAL_TYPE (TdSidebar, td_sidebar, GTK_TYPE_WIDGET)

enum {
  SIGNAL_FOLDER_SELECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
clear_rows (TdSidebar *self)
{
  GtkWidget *child;

  g_hash_table_remove_all (self->folder_rows);
  g_hash_table_remove_all (self->account_labels);
  g_hash_table_remove_all (self->account_rows);
  if (self->menu_popover != NULL)
    gtk_popover_popdown (GTK_POPOVER (self->menu_popover));
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list_box))) != NULL)
    gtk_list_box_remove (self->list_box, child);
}

/* --- Account rows: name, offline, quota --- */

#define QUOTA_WARNING 0.9

static void
update_account_row (TdSidebar     *self,
                    GtkListBoxRow *row,
                    TdAccount     *account)
{
  GtkWidget *offline_icon = g_object_get_data (G_OBJECT (row), "td-offline-icon");
  GtkWidget *quota_box = g_object_get_data (G_OBJECT (row), "td-quota-box");
  GtkLevelBar *quota_bar = g_object_get_data (G_OBJECT (row), "td-quota-bar");
  GtkLabel *quota_label = g_object_get_data (G_OBJECT (row), "td-quota-label");
  gint64 id = td_account_get_id (account);
  gint64 usage = td_account_get_quota_usage (account);
  gint64 limit = td_account_get_quota_limit (account);
  g_autofree char *used = NULL;
  g_autofree char *total = NULL;
  g_autofree char *text = NULL;
  double fraction;

  gtk_widget_set_visible (offline_icon, g_hash_table_contains (self->offline, &id));

  /* In KiB; 0 or -1 when the server does not say. */
  if (usage < 0 || limit <= 0)
    {
      gtk_widget_set_visible (quota_box, FALSE);
      return;
    }

  fraction = CLAMP ((double) usage / (double) limit, 0.0, 1.0);
  used = g_format_size ((guint64) usage * 1024);
  total = g_format_size ((guint64) limit * 1024);
  /* Translators: storage on the mail server, e.g. "1.2 GB of 2.0 GB used" */
  text = g_strdup_printf (_("%s of %s used"), used, total);
  gtk_label_set_text (quota_label, text);
  gtk_level_bar_set_value (quota_bar, fraction);
  if (fraction > QUOTA_WARNING)
    {
      gtk_widget_add_css_class (quota_box, "warning");
      gtk_widget_set_tooltip_text (quota_box, _("Almost full — delete or archive mail to free "
                                                "space on the server"));
    }
  else
    {
      gtk_widget_remove_css_class (quota_box, "warning");
      gtk_widget_set_tooltip_text (quota_box, _("Space used on the server"));
    }
  gtk_widget_set_visible (quota_box, TRUE);
}

static GtkWidget *
account_row_new (TdSidebar *self,
                 TdAccount *account,
                 gboolean   first)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *title = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (td_account_get_name (account));
  GtkWidget *offline_icon = gtk_image_new_from_icon_name ("network-offline-symbolic");
  GtkWidget *quota_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *quota_bar = gtk_level_bar_new ();
  GtkWidget *quota_label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_tooltip_text (label, td_account_get_address (account));
  gtk_box_append (GTK_BOX (title), label);

  gtk_widget_set_tooltip_text (offline_icon, _("Offline — changes will be sent when the "
                                               "connection is back"));
  gtk_widget_add_css_class (offline_icon, "dim-label");
  gtk_widget_set_visible (offline_icon, FALSE);
  gtk_box_append (GTK_BOX (title), offline_icon);
  gtk_box_append (GTK_BOX (box), title);

  /* The default offsets colour a nearly empty bar as a warning: only "almost full" is one. */
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (quota_bar), GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (quota_bar), GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (quota_bar), GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_level_bar_add_offset_value (GTK_LEVEL_BAR (quota_bar), "quota-normal", QUOTA_WARNING);
  gtk_level_bar_add_offset_value (GTK_LEVEL_BAR (quota_bar), "quota-full", 1.0);
  gtk_accessible_update_property (GTK_ACCESSIBLE (quota_bar), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Space used on the server"), -1);
  gtk_box_append (GTK_BOX (quota_box), quota_bar);
  gtk_label_set_xalign (GTK_LABEL (quota_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (quota_label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (quota_label, "caption");
  gtk_widget_add_css_class (quota_label, "dim-label");
  gtk_box_append (GTK_BOX (quota_box), quota_label);
  gtk_widget_add_css_class (quota_box, "quota");
  gtk_widget_set_visible (quota_box, FALSE);
  gtk_box_append (GTK_BOX (box), quota_box);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_focusable (row, FALSE);
  gtk_widget_add_css_class (row, "account-row");
  if (!first)
    gtk_widget_add_css_class (row, "account-row-spaced");

  g_object_set_data (G_OBJECT (row), "td-label", label);
  g_object_set_data (G_OBJECT (row), "td-offline-icon", offline_icon);
  g_object_set_data (G_OBJECT (row), "td-quota-box", quota_box);
  g_object_set_data (G_OBJECT (row), "td-quota-bar", quota_bar);
  g_object_set_data (G_OBJECT (row), "td-quota-label", quota_label);
  g_object_set_data_full (G_OBJECT (row), "td-account", g_object_ref (account), g_object_unref);
  update_account_row (self, GTK_LIST_BOX_ROW (row), account);
  return row;
}

static void
rebuild (TdSidebar *self)
{
  GListModel *accounts;
  TdFolderRow *selected_row = NULL;
  TdFolderRow *first_inbox = NULL;
  guint n;

  g_clear_handle_id (&self->rebuild_id, g_source_remove);

  self->rebuilding = TRUE;
  clear_rows (self);

  if (self->manager == NULL)
    {
      self->rebuilding = FALSE;
      return;
    }

  accounts = td_account_manager_get_accounts (self->manager);
  n = g_list_model_get_n_items (accounts);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TdAccount) account = g_list_model_get_item (accounts, i);
      g_autoptr(GPtrArray) folders = NULL;
      g_autoptr(GError) error = NULL;
      GtkWidget *row = account_row_new (self, account, i == 0);
      gint64 *key = g_new (gint64, 1);
      gint64 *row_key = g_new (gint64, 1);

      *key = td_account_get_id (account);
      *row_key = *key;
      g_hash_table_insert (self->account_labels, key, g_object_get_data (G_OBJECT (row),
                                                                         "td-label"));
      g_hash_table_insert (self->account_rows, row_key, row);
      gtk_list_box_append (self->list_box, row);

      folders = td_store_list_folders (self->store, td_account_get_id (account), &error);
      if (folders == NULL)
        {
          g_warning ("Could not list the folders of %s: %s",
                     td_account_get_address (account), error->message);
          continue;
        }

      if (folders->len == 0)
        {
          GtkWidget *placeholder = gtk_label_new (_("No folders yet: they appear after a sync"));
          GtkWidget *placeholder_row = gtk_list_box_row_new ();

          gtk_label_set_xalign (GTK_LABEL (placeholder), 0);
          gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
          gtk_widget_add_css_class (placeholder, "dim-label");
          gtk_widget_add_css_class (placeholder, "caption");
          gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (placeholder_row), placeholder);
          gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (placeholder_row), FALSE);
          gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (placeholder_row), FALSE);
          gtk_widget_set_focusable (placeholder_row, FALSE);
          gtk_widget_add_css_class (placeholder_row, "placeholder-row");
          gtk_list_box_append (self->list_box, placeholder_row);
        }

      for (guint j = 0; j < folders->len; j++)
        {
          TdFolder *folder = g_ptr_array_index (folders, j);
          GtkWidget *folder_row = td_folder_row_new (folder);
          gint64 *fkey = g_new (gint64, 1);

          *fkey = td_folder_get_id (folder);
          g_hash_table_insert (self->folder_rows, fkey, folder_row);
          gtk_list_box_append (self->list_box, folder_row);

          if (td_folder_get_id (folder) == self->selected_id)
            selected_row = TD_FOLDER_ROW (folder_row);
          if (first_inbox == NULL && td_folder_get_role (folder) == TD_FOLDER_ROLE_INBOX &&
              td_folder_get_selectable (folder))
            first_inbox = TD_FOLDER_ROW (folder_row);
        }
    }

  /* On the first fill, open the first inbox, as mail apps do. */
  if (selected_row == NULL && self->selected_id == 0 && !self->selected_once)
    selected_row = first_inbox;

  if (selected_row != NULL)
    gtk_list_box_select_row (self->list_box, GTK_LIST_BOX_ROW (selected_row));
  self->rebuilding = FALSE;

  if (selected_row == NULL && self->selected_id != 0)
    {
      /* The selected folder is gone. */
      self->selected_id = 0;
      g_signal_emit (self, signals[SIGNAL_FOLDER_SELECTED], 0, NULL);
    }
  else if (selected_row != NULL &&
           td_folder_get_id (td_folder_row_get_folder (selected_row)) != self->selected_id)
    {
      self->selected_id = td_folder_get_id (td_folder_row_get_folder (selected_row));
      self->selected_once = TRUE;
      g_signal_emit (self, signals[SIGNAL_FOLDER_SELECTED], 0,
                     td_folder_row_get_folder (selected_row));
    }
}

static gboolean
rebuild_idle_cb (gpointer user_data)
{
  TdSidebar *self = user_data;

  self->rebuild_id = 0;
  rebuild (self);
  return G_SOURCE_REMOVE;
}

static void
queue_rebuild (TdSidebar *self)
{
  if (self->rebuild_id == 0)
    self->rebuild_id = g_idle_add_full (G_PRIORITY_DEFAULT, rebuild_idle_cb, self, NULL);
}

static void
accounts_items_changed_cb (TdSidebar  *self,
                           guint       position,
                           guint       removed,
                           guint       added,
                           GListModel *model)
{
  queue_rebuild (self);
}

static void
store_accounts_changed_cb (TdSidebar *self,
                           TdStore   *store)
{
  queue_rebuild (self);
}

static void
store_folders_changed_cb (TdSidebar *self,
                          gint64     account_id,
                          TdStore   *store)
{
  queue_rebuild (self);
}

static void
store_folder_changed_cb (TdSidebar *self,
                         gint64     folder_id,
                         TdStore   *store)
{
  TdFolderRow *row = g_hash_table_lookup (self->folder_rows, &folder_id);
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(GError) error = NULL;

  if (row == NULL)
    return;

  folder = td_store_get_folder (self->store, folder_id, &error);
  if (folder == NULL)
    {
      if (!g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
        g_warning ("Could not read folder %" G_GINT64_FORMAT ": %s", folder_id, error->message);
      queue_rebuild (self);
      return;
    }
  td_folder_row_set_folder (row, folder);
}

static void
row_selected_cb (TdSidebar     *self,
                 GtkListBoxRow *row,
                 GtkListBox    *list_box)
{
  TdFolder *folder;

  if (self->rebuilding || !TD_IS_FOLDER_ROW (row))
    return;

  folder = td_folder_row_get_folder (TD_FOLDER_ROW (row));
  if (td_folder_get_id (folder) == self->selected_id)
    return;

  self->selected_id = td_folder_get_id (folder);
  self->selected_once = TRUE;
  g_signal_emit (self, signals[SIGNAL_FOLDER_SELECTED], 0, folder);
}

/* --- Context menus of folders and accounts --- */

static void
append_item (GMenu      *menu,
             const char *label,
             const char *action,
             GVariant   *target)
{
  g_autoptr(GMenuItem) item = g_menu_item_new (label, NULL);

  g_menu_item_set_action_and_target_value (item, action, target);
  g_menu_append_item (menu, item);
}

/* Folders with a role keep their name: the server, other clients and Tidings find them by it. */
static GMenu *
folder_menu_new (TdFolder *folder)
{
  GMenu *menu = g_menu_new ();
  g_autoptr(GMenu) create = g_menu_new ();
  g_autoptr(GMenu) change = g_menu_new ();
  g_autoptr(GMenu) subscription = g_menu_new ();
  g_autoptr(GMenu) empty = g_menu_new ();
  gint64 id = td_folder_get_id (folder);
  TdFolderRole role = td_folder_get_role (folder);

  append_item (create, _("_New Folder…"), "win.new-folder",
               g_variant_new ("(xx)", td_folder_get_account_id (folder), id));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (create));

  if (role == TD_FOLDER_ROLE_NONE)
    {
      append_item (change, _("_Rename…"), "win.rename-folder", g_variant_new_int64 (id));
      append_item (change, _("_Delete…"), "win.delete-folder", g_variant_new_int64 (id));
      g_menu_append_section (menu, NULL, G_MENU_MODEL (change));
    }

  if (role != TD_FOLDER_ROLE_INBOX)
    {
      if (td_folder_get_subscribed (folder))
        append_item (subscription, _("_Unsubscribe"), "win.unsubscribe-folder",
                     g_variant_new_int64 (id));
      else
        append_item (subscription, _("_Subscribe"), "win.subscribe-folder",
                     g_variant_new_int64 (id));
      g_menu_append_section (menu, NULL, G_MENU_MODEL (subscription));
    }

  if (role == TD_FOLDER_ROLE_TRASH)
    append_item (empty, _("_Empty Trash…"), "win.empty-folder", g_variant_new_int64 (id));
  else if (role == TD_FOLDER_ROLE_JUNK)
    append_item (empty, _("_Empty Junk…"), "win.empty-folder", g_variant_new_int64 (id));
  if (g_menu_model_get_n_items (G_MENU_MODEL (empty)) > 0)
    g_menu_append_section (menu, NULL, G_MENU_MODEL (empty));

  return menu;
}

static GMenu *
account_menu_new (TdAccount *account)
{
  GMenu *menu = g_menu_new ();

  append_item (menu, _("_New Folder…"), "win.new-folder",
               g_variant_new ("(xx)", td_account_get_id (account), (gint64) 0));
  return menu;
}

/* The menu of @row (a folder or an account), pointing at @x, @y of @widget. */
static gboolean
popup_row_menu (TdSidebar     *self,
                GtkListBoxRow *row,
                GtkWidget     *widget,
                double         x,
                double         y)
{
  g_autoptr(GMenu) menu = NULL;
  TdAccount *account;
  graphene_point_t point;

  if (TD_IS_FOLDER_ROW (row))
    menu = folder_menu_new (td_folder_row_get_folder (TD_FOLDER_ROW (row)));
  else if ((account = g_object_get_data (G_OBJECT (row), "td-account")) != NULL)
    menu = account_menu_new (account);
  else
    return FALSE;

  if (!gtk_widget_compute_point (widget, GTK_WIDGET (self), &GRAPHENE_POINT_INIT (x, y),
                                 &point))
    return FALSE;
  gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->menu_popover), G_MENU_MODEL (menu));
  gtk_popover_set_pointing_to (GTK_POPOVER (self->menu_popover),
                               &(GdkRectangle) { (int) point.x, (int) point.y, 1, 1 });
  gtk_popover_popup (GTK_POPOVER (self->menu_popover));
  return TRUE;
}

static void
list_click_pressed_cb (GtkGestureClick *gesture,
                       int              n_press,
                       double           x,
                       double           y,
                       TdSidebar       *self)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_y (self->list_box, (int) y);

  if (row != NULL &&
      popup_row_menu (self, row, GTK_WIDGET (self->list_box), x, y))
    gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
list_long_press_cb (GtkGestureLongPress *gesture,
                    double               x,
                    double               y,
                    TdSidebar           *self)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_y (self->list_box, (int) y);

  if (row != NULL &&
      popup_row_menu (self, row, GTK_WIDGET (self->list_box), x, y))
    gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

/* Menu or Shift+F10: the menu of the folder that has the focus. */
static gboolean
popup_focused_menu_cb (GtkWidget *widget,
                       GVariant  *args,
                       gpointer   user_data)
{
  TdSidebar *self = TD_SIDEBAR (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  GtkWidget *row = focus != NULL ? gtk_widget_get_ancestor (focus, GTK_TYPE_LIST_BOX_ROW) : NULL;

  if (row == NULL || !gtk_widget_is_ancestor (row, widget))
    return FALSE;
  return popup_row_menu (self, GTK_LIST_BOX_ROW (row), row, gtk_widget_get_width (row) / 2.0,
                         gtk_widget_get_height (row) / 2.0);
}

static void
sync_finished_cb (TdSidebar        *self,
                  TdAccount        *account,
                  const GError     *error,
                  TdAccountManager *manager)
{
  gint64 id = td_account_get_id (account);
  GtkListBoxRow *row = g_hash_table_lookup (self->account_rows, &id);

  /* The sync read the quota again. */
  if (row != NULL)
    update_account_row (self, row, account);
}

static void
disconnect_manager (TdSidebar *self)
{
  if (self->manager != NULL)
    {
      g_signal_handlers_disconnect_by_data (td_account_manager_get_accounts (self->manager), self);
      g_signal_handlers_disconnect_by_data (self->manager, self);
    }
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_clear_object (&self->manager);
  g_clear_object (&self->store);
}

static void
td_sidebar_dispose (GObject *object)
{
  TdSidebar *self = TD_SIDEBAR (object);
  GtkWidget *child;

  g_clear_handle_id (&self->rebuild_id, g_source_remove);
  disconnect_manager (self);
  g_clear_pointer (&self->menu_popover, gtk_widget_unparent);
  gtk_widget_dispose_template (GTK_WIDGET (self), TD_TYPE_SIDEBAR);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (td_sidebar_parent_class)->dispose (object);
}

static void
td_sidebar_finalize (GObject *object)
{
  TdSidebar *self = TD_SIDEBAR (object);

  g_hash_table_unref (self->folder_rows);
  g_hash_table_unref (self->account_labels);
  g_hash_table_unref (self->account_rows);
  g_hash_table_unref (self->offline);

  G_OBJECT_CLASS (td_sidebar_parent_class)->finalize (object);
}

static void
td_sidebar_class_init (TdSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = td_sidebar_dispose;
  object_class->finalize = td_sidebar_finalize;

  signals[SIGNAL_FOLDER_SELECTED] =
    g_signal_new ("folder-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, TD_TYPE_FOLDER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tidings/Tidings/td-sidebar.ui");
  gtk_widget_class_bind_template_child (widget_class, TdSidebar, list_box);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "sidebar");
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Menu, 0, popup_focused_menu_cb, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, popup_focused_menu_cb,
                                NULL);
}

static void
td_sidebar_init (TdSidebar *self)
{
  GtkGesture *click;
  GtkGesture *long_press;

  self->folder_rows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->account_labels = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->account_rows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->offline = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->list_box, "row-selected", G_CALLBACK (row_selected_cb), self,
                           G_CONNECT_SWAPPED);

  /* The sidebar, not the list box, holds the popover: its layout manager places it. */
  self->menu_popover = gtk_popover_menu_new_from_model (NULL);
  gtk_popover_set_has_arrow (GTK_POPOVER (self->menu_popover), FALSE);
  gtk_widget_set_halign (self->menu_popover, GTK_ALIGN_START);
  gtk_widget_set_parent (self->menu_popover, GTK_WIDGET (self));

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (list_click_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->list_box), GTK_EVENT_CONTROLLER (click));
  long_press = gtk_gesture_long_press_new ();
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (long_press), TRUE);
  g_signal_connect (long_press, "pressed", G_CALLBACK (list_long_press_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->list_box), GTK_EVENT_CONTROLLER (long_press));
}

GtkWidget *
td_sidebar_new (void)
{
  return g_object_new (TD_TYPE_SIDEBAR, NULL);
}

void
td_sidebar_set_manager (TdSidebar        *self,
                        TdAccountManager *manager)
{
  g_return_if_fail (TD_IS_SIDEBAR (self));
  g_return_if_fail (manager == NULL || TD_IS_ACCOUNT_MANAGER (manager));

  if (self->manager == manager)
    return;

  disconnect_manager (self);

  if (manager != NULL)
    {
      self->manager = g_object_ref (manager);
      self->store = g_object_ref (td_account_manager_get_store (manager));
      g_signal_connect_object (td_account_manager_get_accounts (manager), "items-changed",
                               G_CALLBACK (accounts_items_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->store, "accounts-changed",
                               G_CALLBACK (store_accounts_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->store, "folders-changed",
                               G_CALLBACK (store_folders_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->store, "folder-changed",
                               G_CALLBACK (store_folder_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (manager, "sync-finished", G_CALLBACK (sync_finished_cb), self,
                               G_CONNECT_SWAPPED);
    }

  rebuild (self);
}

TdFolder *
td_sidebar_get_selected_folder (TdSidebar *self)
{
  TdFolderRow *row;

  g_return_val_if_fail (TD_IS_SIDEBAR (self), NULL);

  row = g_hash_table_lookup (self->folder_rows, &self->selected_id);
  return row != NULL ? td_folder_row_get_folder (row) : NULL;
}

gboolean
td_sidebar_select_folder (TdSidebar *self,
                          gint64     folder_id)
{
  TdFolderRow *row;

  g_return_val_if_fail (TD_IS_SIDEBAR (self), FALSE);

  if (self->rebuild_id != 0)
    rebuild (self);

  row = g_hash_table_lookup (self->folder_rows, &folder_id);
  if (row == NULL || !gtk_list_box_row_get_selectable (GTK_LIST_BOX_ROW (row)))
    return FALSE;

  gtk_list_box_select_row (self->list_box, GTK_LIST_BOX_ROW (row));
  return TRUE;
}

TdFolderRow *
td_sidebar_get_folder_row (TdSidebar *self,
                           gint64     folder_id)
{
  g_return_val_if_fail (TD_IS_SIDEBAR (self), NULL);

  if (self->rebuild_id != 0)
    rebuild (self);
  return g_hash_table_lookup (self->folder_rows, &folder_id);
}

const char *
td_sidebar_get_account_title (TdSidebar *self,
                              gint64     account_id)
{
  GtkLabel *label;

  g_return_val_if_fail (TD_IS_SIDEBAR (self), NULL);

  if (self->rebuild_id != 0)
    rebuild (self);
  label = g_hash_table_lookup (self->account_labels, &account_id);
  return label != NULL ? gtk_label_get_text (label) : NULL;
}

void
td_sidebar_set_account_offline (TdSidebar *self,
                                gint64     account_id,
                                gboolean   offline)
{
  GtkListBoxRow *row;

  g_return_if_fail (TD_IS_SIDEBAR (self));

  if (offline)
    {
      gint64 *key = g_new (gint64, 1);

      *key = account_id;
      g_hash_table_add (self->offline, key);
    }
  else
    g_hash_table_remove (self->offline, &account_id);

  row = g_hash_table_lookup (self->account_rows, &account_id);
  if (row != NULL)
    update_account_row (self, row, g_object_get_data (G_OBJECT (row), "td-account"));
}

static GtkListBoxRow *
account_row (TdSidebar *self,
             gint64     account_id)
{
  if (self->rebuild_id != 0)
    rebuild (self);
  return g_hash_table_lookup (self->account_rows, &account_id);
}

gboolean
td_sidebar_get_account_offline (TdSidebar *self,
                                gint64     account_id)
{
  GtkListBoxRow *row;

  g_return_val_if_fail (TD_IS_SIDEBAR (self), FALSE);

  row = account_row (self, account_id);
  return row != NULL &&
         gtk_widget_get_visible (g_object_get_data (G_OBJECT (row), "td-offline-icon"));
}

const char *
td_sidebar_get_quota_text (TdSidebar *self,
                           gint64     account_id,
                           gboolean  *warning)
{
  GtkListBoxRow *row;
  GtkWidget *box;

  g_return_val_if_fail (TD_IS_SIDEBAR (self), NULL);

  row = account_row (self, account_id);
  if (warning != NULL)
    *warning = FALSE;
  if (row == NULL)
    return NULL;
  box = g_object_get_data (G_OBJECT (row), "td-quota-box");
  if (!gtk_widget_get_visible (box))
    return NULL;
  if (warning != NULL)
    *warning = gtk_widget_has_css_class (box, "warning");
  return gtk_label_get_text (g_object_get_data (G_OBJECT (row), "td-quota-label"));
}

gboolean
td_sidebar_popup_folder_menu (TdSidebar *self,
                              gint64     folder_id)
{
  GtkWidget *row;

  g_return_val_if_fail (TD_IS_SIDEBAR (self), FALSE);

  row = GTK_WIDGET (td_sidebar_get_folder_row (self, folder_id));
  if (row == NULL)
    return FALSE;
  return popup_row_menu (self, GTK_LIST_BOX_ROW (row), row, gtk_widget_get_width (row) / 2.0,
                         gtk_widget_get_height (row) / 2.0);
}

GtkPopover *
td_sidebar_get_menu_popover (TdSidebar *self)
{
  g_return_val_if_fail (TD_IS_SIDEBAR (self), NULL);
  return GTK_POPOVER (self->menu_popover);
}
